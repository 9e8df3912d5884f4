#!/usr/bin/python3
"""bench/http_bench.py - the http section of `make bench`: requests per
second through one drudge-http worker, end to end (push to Redis, worker
fetch, the HTTP call, result written to the status hash), against a local
HTTP server, side by side with `curl` spawned once per request - what a
cron script or a PHP exec() would do - and with one curl process fetching
every URL over one kept-alive connection (the HTTP client's ceiling here).

    /usr/bin/python3 bench/http_bench.py [--jobs N] [--curl N] [--reps N] [--quick] [--json]

Prints a markdown table (or JSON with --json). Standalone: it starts its
own redis-server and HTTP server on free loopback ports and stops them.
bench/run.py calls measure() and table().

The HTTP server is Python's http.server (HTTP/1.1, keep-alive) in its own
process; it answers a fixed 200 with a 64-byte body. It is the slowest
part on most machines, so the "curl, one process, keep-alive" row shows
what the server can take: drudge-http near that row is as fast as the
server lets anyone be.
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

from benchlib import free_port, proc_status, serve_http, start_http, stop, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("DRUDGE_BUILD", "build/release"))
BODY = b"x" * 64


# ---- the HTTP server (runs as `http_bench.py --serve`) ----

def serve():
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

    serve_http(Handler)


# ---- helpers ----

class Env:
    """redis-server + HTTP server, started on free ports, stopped by stop()."""

    def __init__(self):
        import redis as redis_py
        self.tmp = tempfile.mkdtemp(prefix="drudge-http-bench-")
        self.redis_port = free_port()
        self.redis = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.redis_port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(self.redis_port):
            raise RuntimeError(f"redis-server does not listen on port {self.redis_port}")
        self.r = redis_py.Redis(port=self.redis_port)
        self.http, self.http_port = start_http(os.path.abspath(__file__))
        self.url = f"http://127.0.0.1:{self.http_port}/ok"
        self.config = os.path.join(self.tmp, "drudge.yaml")
        with open(self.config, "w") as f:  # JSON is YAML
            json.dump({"http": {"allow_private_networks": True, "host_rate": 0},
                       "worker": {"log_level": "warn"}}, f)

    def stop(self):
        stop(self.http)
        stop(self.redis)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- the cases ----

def drudge_http(env, n):
    """n jobs through one worker: push all, time until every one is done."""
    env.r.flushall()
    e = dict(os.environ, DRUDGE_REDIS_URL=f"redis://127.0.0.1:{env.redis_port}/0")
    w = subprocess.Popen([os.path.join(BUILD, "drudge-http"), "--config", env.config],
                         env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not env.r.zcard("drudge:workers"):
            if w.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"drudge-http did not start: {w.stderr.read().decode()[-500:]}")
            time.sleep(0.02)
        time.sleep(0.5)
        idle = proc_status(w.pid, "VmRSS")
        pipe = env.r.pipeline(transaction=False)
        for i in range(n):
            pipe.rpush("HttpJob", json.dumps({"id": f"b{i}", "url": env.url}))
        t0 = time.monotonic()
        pipe.execute()
        deadline = t0 + 300
        while True:
            done, failed = (int(x or 0) for x in env.r.hmget("HttpJob:stats", "processed", "failed"))
            if done + failed >= n:
                break
            if time.monotonic() > deadline or w.poll() is not None:
                raise RuntimeError(f"only {done} of {n} done")
            time.sleep(0.005)
        elapsed = time.monotonic() - t0
        after = proc_status(w.pid, "VmRSS")
        if failed:
            raise RuntimeError(f"{failed} jobs failed")
        return {"n": n, "s": elapsed, "rss_idle_kb": idle, "rss_after_kb": after}
    finally:
        stop(w)


def curl_per_request(env, n):
    t0 = time.monotonic()
    for _ in range(n):
        subprocess.run(["curl", "-sS", "-o", "/dev/null", env.url], check=True)
    return {"n": n, "s": time.monotonic() - t0}


def curl_keepalive(env, n):
    """One curl process, n URLs (a glob), one connection."""
    t0 = time.monotonic()
    subprocess.run(["curl", "-sS", "-o", "/dev/null", f"{env.url}?[1-{n}]"], check=True)
    return {"n": n, "s": time.monotonic() - t0}


def measure(jobs=2000, curl_n=300, reps=3):
    """Run every case `reps` times, interleaved. Returns {case: [samples]}."""
    if not os.access(os.path.join(BUILD, "drudge-http"), os.X_OK):
        raise RuntimeError(f"{BUILD}/drudge-http is not built")
    if shutil.which("curl") is None:
        raise RuntimeError("curl is not installed")
    env = Env()
    out = {"drudge-http": [], "curl-per-request": [], "curl-keepalive": []}
    try:
        for _ in range(reps):
            out["drudge-http"].append(drudge_http(env, jobs))
            out["curl-per-request"].append(curl_per_request(env, curl_n))
            out["curl-keepalive"].append(curl_keepalive(env, jobs))
    finally:
        env.stop()
    return out


def rate(samples):
    return [s["n"] / s["s"] for s in samples if s["s"] > 0]


def table(results):
    def fmt(xs):
        m = statistics.median(xs)
        return f"{m:,.0f} [{min(xs):,.0f}-{max(xs):,.0f}]" if len(xs) > 1 else f"{m:,.0f}"

    base = statistics.median(rate(results["curl-per-request"]))
    rows = [
        ("drudge-http, 1 worker: push -> HTTP call -> status `done` (with result)",
         "drudge-http"),
        ("`curl` spawned per request (one process and connection each)", "curl-per-request"),
        ("`curl`, one process, all URLs over one kept-alive connection", "curl-keepalive"),
    ]
    lines = ["| client | requests | requests/s | vs curl per request |", "|---|---:|---:|---:|"]
    for label, key in rows:
        xs = rate(results[key])
        lines.append(f"| {label} | {results[key][0]['n']:,} | {fmt(xs)} | "
                     f"{statistics.median(xs) / base:.1f}x |")
    d = results["drudge-http"]
    idle = [s["rss_idle_kb"] for s in d if s["rss_idle_kb"]]
    after = [s["rss_after_kb"] for s in d if s["rss_after_kb"]]
    if idle and after:
        lines.append("")
        lines.append(f"drudge-http VmRSS: {statistics.median(idle) / 1024:.1f} MiB idle before its "
                     f"first job, {statistics.median(after) / 1024:.1f} MiB after "
                     f"{d[0]['n']:,} (libcurl and its TLS libraries load on start and "
                     "initialise on the first job).")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=2000, help="jobs through drudge-http per repetition")
    ap.add_argument("--curl", type=int, default=300, help="curl processes per repetition")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="500 jobs, 100 curls, 1 repetition")
    ap.add_argument("--json", action="store_true", help="print the samples as JSON")
    args = ap.parse_args()
    if args.serve:
        serve()
        return
    if args.quick:
        args.jobs, args.curl, args.reps = 500, 100, 1
    try:
        results = measure(args.jobs, args.curl, args.reps)
    except (RuntimeError, ImportError) as e:
        sys.exit(f"http_bench: {e}")
    print(json.dumps(results, indent=1) if args.json else table(results))


if __name__ == "__main__":
    main()
