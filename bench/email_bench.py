#!/usr/bin/python3
"""bench/email_bench.py - the email section of `make bench`.

Emails per second through one drudge-email worker, end to end (pipelined
RPUSH of EmailJob payloads into Redis -> worker -> SMTP), side by side with
`curl smtp://...` spawned once per email (the way a script or a PHP
`exec()` would send), both against the same aiosmtpd sink on loopback
(tests/system/smtp_server.py, in its own process). Plus the worker's memory:
VmRSS, PSS and private bytes, idle before the first email and after the run.

    /usr/bin/python3 bench/email_bench.py [--emails N] [--curl-emails M] [--reps R] [--json FILE]

Prints a markdown table; --json also writes the raw figures. bench/run.py can
import run() instead. The sink is single-threaded Python and is likely the
limit of the drudge figure (it reports how many connections it was sent:
drudge keeps one).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import free_port, memory_kb, mib, stop, wait_port

try:
    import redis as redis_py
except ImportError:
    sys.exit("email_bench: python3-redis is missing (make deps)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
SINK = os.path.join(ROOT, "tests", "system", "smtp_server.py")
CLS = "EmailJob"
SUBJECT = "Your invoice"
TEXT = "Hello,\n\nyour invoice for November is ready.\n\nThanks!\n"


class Servers:
    """redis-server and the SMTP sink, each in its own process."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.redis_port = free_port()
        self.redis = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port",
             str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", tmp, "--logfile", os.path.join(tmp, "redis.log")])
        self.smtp_port = free_port()
        self.count_file = os.path.join(tmp, "sink.count")
        self.sink = subprocess.Popen([PYTHON, SINK, "--port", str(self.smtp_port),
                                      "--count-file", self.count_file],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        # the sink says when it listens (probing its port would count as a
        # connection)
        ready = self.sink.stdout.readline().startswith("listening")
        if not ready or not wait_port(self.redis_port):
            self.close()
            raise RuntimeError("redis-server or the SMTP sink did not start")
        self.r = redis_py.Redis(port=self.redis_port, decode_responses=True)

    def sink_counts(self):
        """(messages, connections) the sink saw; stops it."""
        stop(self.sink)
        try:
            with open(self.count_file) as f:
                messages, connections = f.read().split()
            return int(messages), int(connections)
        except (OSError, ValueError):
            return None, None

    def close(self):
        stop(self.sink)
        stop(self.redis)


def bench_curl(servers, n, tmp):
    """n emails, one `curl` process each, one after the other."""
    curl = shutil.which("curl")
    if curl is None:
        return None
    msg = os.path.join(tmp, "message.eml")
    with open(msg, "wb") as f:
        f.write(("From: Bench <noreply@example.com>\r\nTo: ann@example.com\r\n"
                 f"Subject: {SUBJECT}\r\nMessage-ID: <bench@example.com>\r\n"
                 "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
                 TEXT.replace("\n", "\r\n")).encode())
    args = [curl, "-sS", f"smtp://127.0.0.1:{servers.smtp_port}", "--mail-from",
            "noreply@example.com", "--mail-rcpt", "ann@example.com", "-T", msg]
    t0 = time.monotonic()
    for _ in range(n):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return n / (time.monotonic() - t0)


def bench_drudge(servers, n, tmp, build):
    """One drudge-email worker; n jobs pushed pipelined while it waits idle;
    the clock runs from the first push to the last job done."""
    worker_bin = os.path.join(build, "drudge-email")
    config = os.path.join(tmp, "email.yaml")
    with open(config, "w") as f:
        f.write(f"email:\n  smtp_url: smtp://127.0.0.1:{servers.smtp_port}\n"
                f"  from: \"Bench <noreply@example.com>\"\n  attachments_dir: {tmp}\n"
                "worker:\n  log_level: warn\n")
    r = servers.r
    r.flushall()
    env = dict(os.environ, DRUDGE_REDIS_URL=f"redis://127.0.0.1:{servers.redis_port}/0")
    env.pop("DRUDGE_CONFIG", None)
    log = open(os.path.join(tmp, "drudge-email.log"), "ab")
    w = subprocess.Popen([worker_bin, "--config", config], env=env, stdout=log,
                         stderr=subprocess.STDOUT)
    log.close()
    try:
        deadline = time.monotonic() + 15
        while not any(f":{w.pid}:" in x for x in r.zrange("drudge:workers", 0, -1)):
            if time.monotonic() > deadline or w.poll() is not None:
                raise RuntimeError(f"drudge-email did not start (see {tmp}/drudge-email.log)")
            time.sleep(0.05)
        time.sleep(1.0)  # settled, idle
        idle = memory_kb(w.pid)
        payloads = [json.dumps({"id": f"bench-{i}", "to": ["Ann Example <ann@example.com>"],
                                "subject": SUBJECT, "text": TEXT}) for i in range(n)]
        t0 = time.monotonic()
        pipe = r.pipeline(transaction=False)
        for i, p in enumerate(payloads):
            pipe.rpush(CLS, p)
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()
        deadline = time.monotonic() + max(60, n / 50)
        while True:
            done = int(r.hget(f"{CLS}:stats", "processed") or 0)
            bad = int(r.hget(f"{CLS}:stats", "failed") or 0)
            if done + bad >= n:
                break
            if time.monotonic() > deadline or w.poll() is not None:
                raise RuntimeError(f"drudge-email stalled at {done}/{n} (see {tmp})")
            time.sleep(0.005)
        rate = n / (time.monotonic() - t0)
        if bad:
            raise RuntimeError(f"{bad} emails failed: {r.lrange(CLS + ':failed', 0, 0)}")
        time.sleep(0.5)
        after = memory_kb(w.pid)
        return rate, idle, after
    finally:
        stop(w)


def run(build=None, emails=3000, curl_emails=200, reps=3):
    """Figures for bench/run.py: medians over reps, plus every sample."""
    build = build or os.path.join(ROOT, os.environ.get("DRUDGE_BUILD", "build/release"))
    samples = {"curl": [], "drudge": [], "idle": [], "after": [], "connections": []}
    for _ in range(reps):
        tmp = tempfile.mkdtemp(prefix="drudge-email-bench.")
        servers = Servers(tmp)
        try:
            c = bench_curl(servers, curl_emails, tmp)
            if c is not None:
                samples["curl"].append(c)
            d, idle, after = bench_drudge(servers, emails, tmp, build)
            samples["drudge"].append(d)
            samples["idle"].append(idle)
            samples["after"].append(after)
            messages, connections = servers.sink_counts()
            expected = emails + (curl_emails if c is not None else 0)
            if messages is not None and messages != expected:
                raise RuntimeError(f"the sink saw {messages} messages, expected {expected}")
            if connections is not None:
                # curl opens one connection per email; the rest are drudge's
                samples["connections"].append(connections - (curl_emails if c is not None else 0))
        finally:
            servers.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def med(xs):
        return statistics.median(xs) if xs else None

    def med_mem(key, field):
        return med([m[field] for m in samples[key] if m.get(field) is not None])

    out = {
        "emails": emails, "curl_emails": curl_emails, "reps": reps,
        "curl_per_s": med(samples["curl"]), "drudge_per_s": med(samples["drudge"]),
        "drudge_connections": med(samples["connections"]),
        "idle": {f: med_mem("idle", f) for f in ("rss", "pss", "private")},
        "after": {f: med_mem("after", f) for f in ("rss", "pss", "private")},
        "samples": samples,
    }
    if out["curl_per_s"] and out["drudge_per_s"]:
        out["ratio"] = out["drudge_per_s"] / out["curl_per_s"]
    return out


def spread(xs, fmt="{:,.0f}"):
    if not xs:
        return "n/a"
    m = statistics.median(xs)
    if len(xs) == 1:
        return fmt.format(m)
    return f"{fmt.format(m)} [{fmt.format(min(xs))}-{fmt.format(max(xs))}]"


def markdown(res):
    s = res["samples"]
    ratio = res.get("ratio")
    lines = [
        "## Email (drudge-email)\n",
        f"One drudge-email worker sending {res['emails']:,} emails end to end (pipelined RPUSH "
        f"into Redis, then the worker over SMTP) against `curl smtp://...` spawned once per email "
        f"({res['curl_emails']:,} emails), both to the same aiosmtpd sink on loopback (a "
        "single-threaded Python process, likely the limit of the drudge figure). Medians "
        f"[min-max] of {res['reps']} repetitions.\n",
        "| sender | emails/s | connections |",
        "|---|---|---|",
        f"| `curl smtp://` spawned per email | {spread(s['curl'])} | one per email |",
        f"| drudge-email, 1 worker, via Redis | {spread(s['drudge'])} | "
        f"{spread(s['connections'])} |",
        f"| ratio (target >= 10x) | {'n/a' if ratio is None else f'{ratio:.1f}x'} | |",
        "",
        "| drudge-email memory | VmRSS | PSS | private |",
        "|---|---|---|---|",
        f"| idle, before the first email | {mib(res['idle']['rss'])} | {mib(res['idle']['pss'])} "
        f"| {mib(res['idle']['private'])} |",
        f"| after {res['emails']:,} emails | {mib(res['after']['rss'])} | "
        f"{mib(res['after']['pss'])} | {mib(res['after']['private'])} |",
        "",
        "VmRSS counts every library page the process touched, shared with other processes or "
        "not; libcurl as Debian builds it loads about 30 libraries (OpenSSL, GnuTLS through "
        "librtmp, Kerberos, LDAP, libssh2, nghttp2, ...), whose pages are shared by every worker "
        "on the machine. PSS divides shared pages among the processes mapping them; private is "
        "what one more worker process costs at most.",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emails", type=int, default=3000, help="emails through drudge-email")
    ap.add_argument("--curl-emails", type=int, default=200, help="emails by curl spawns")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build", help="build directory (default $DRUDGE_BUILD or build/release)")
    ap.add_argument("--json", help="also write the raw figures here")
    args = ap.parse_args()
    res = run(args.build, args.emails, args.curl_emails, args.reps)
    print(markdown(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
