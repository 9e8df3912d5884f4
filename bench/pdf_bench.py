#!/usr/bin/python3
"""bench/pdf_bench.py - the PDF section of `make bench`: invoice PDFs per
minute through one drudge-pdf worker (jobs through Redis, end to end, the
browser kept across jobs), side by side with `chromium --headless
--print-to-pdf` spawned once per PDF - what a cron script or a PHP exec()
would do - and the memory each takes, the browser included.

    /usr/bin/python3 bench/pdf_bench.py [--jobs N] [--spawns N] [--reps N] [--quick] [--json]

Prints a markdown table (or JSON with --json). Standalone: it starts its own
redis-server and an HTTP server (python's http.server, its own process)
serving tests/system/fixtures/invoice/ on free loopback ports, and stops
them. bench/run.py calls measure() and table().

Two browsers on each side, when installed: Debian's headless shell
(chromium-headless-shell, what drudge-pdf's default `pdf.chromium: auto`
takes) and its full chromium. The issue's baseline is `chromium --headless
--print-to-pdf` per PDF; spawning the headless shell per PDF is the
cheapest way a script could do it, so it is measured too and each drudge-pdf
row shows its ratio to both.

Every side renders the same 2-page A4 invoice over HTTP (a stylesheet, an
image and a web font). Every repetition runs a block of jobs through each
drudge-pdf worker and then a block of spawns of each browser, so load from
elsewhere on a shared machine lands on all alike; rates are medians with
[min-max] over the repetitions. CPU seconds per PDF (every process of the
tree, user + system) are reported too: on a busy machine they move less
than wall time does.

Memory: the worker and all its descendants (reaper, Chromium and its
helpers), RSS and PSS (proportional set size: shared pages split between
the processes sharing them, so the sum is real memory), idle and the peak
sampled while rendering; for spawns, the peak over one browser's process
tree.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import cpu_seconds, free_port, serve_http, start_http, stop, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("DRUDGE_BUILD", "build/release"))
FIXTURE = os.path.join(ROOT, "tests", "system", "fixtures", "invoice")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHELL = os.environ.get("CHROMIUM_SHELL", "/usr/lib/chromium/chromium-headless-shell")
CLS = "PdfJob"
# What a careful script spawning Chromium per PDF passes on a server (the
# same restraint drudge-pdf's launch shows; without the background-network
# flags a closed network refuses Chromium's own connections).
SPAWN_FLAGS = ["--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--no-pdf-header-footer"]


# ---- the HTTP server (runs as `pdf_bench.py --serve`) ----

def serve():
    import functools
    from http.server import SimpleHTTPRequestHandler

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    serve_http(functools.partial(Handler, directory=FIXTURE))


# ---- helpers ----

def clean_env():
    """No secret-looking variables: drudge-pdf refuses to start with one."""
    return {k: v for k, v in os.environ.items()
            if not any(w in k.upper() for w in ("PASSWORD", "SECRET", "TOKEN", "KEY"))}


def tree(root):
    """PIDs of root and all its descendants (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(p for p, pp in parents.items() if pp == pid)
    return out


def memory(pids):
    """(rss KiB, pss KiB, processes) summed over pids."""
    rss = pss = n = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            n += 1
        except OSError:
            pass
    return rss, pss, n


def tree_cpu(root):
    """CPU seconds of root's process tree (each process with the children it
    reaped; processes gone meanwhile count as 0)."""
    return sum(cpu_seconds(pid) or 0 for pid in tree(root))


class Sampler:
    """Peak memory of a process tree, sampled every 100 ms in a thread."""

    def __init__(self, root_fn):
        self.root_fn = root_fn
        self.peak = (0, 0, 0)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.wait(0.1):
            root = self.root_fn()
            if root:
                m = memory(tree(root))
                if m[1] > self.peak[1]:
                    self.peak = m

    def stop(self):
        self.done.set()
        self.thread.join()
        return self.peak


def pages_of(path):
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return 0


# ---- the two ways ----

class Drudge:
    """A redis-server and a drudge-pdf worker on it; close() stops both (and
    a failed start stops what it started)."""

    def __init__(self, tmp, url, chromium):
        self.tmp = tmp
        self.url = url
        self.out = os.path.join(tmp, "out")
        self.redis = self.worker = self.log = None
        self.n = 0
        try:
            self.start(chromium)
        except BaseException:
            self.close()
            raise

    def start(self, chromium):
        import redis as redis_py
        os.makedirs(os.path.join(self.tmp, "redis"))
        self.port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", os.path.join(self.tmp, "redis")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(self.port):
            raise RuntimeError(f"redis-server does not listen on port {self.port}")
        self.r = redis_py.Redis(port=self.port, decode_responses=True)
        cfg = os.path.join(self.tmp, "drudge.yaml")
        with open(cfg, "w") as f:
            f.write(f"redis: {{url: \"redis://127.0.0.1:{self.port}/0\"}}\n"
                    f"pdf: {{output_dir: \"{self.out}\", allow_private_networks: true, "
                    f"chromium: \"{chromium}\"}}\n")
        self.log = open(os.path.join(self.tmp, "drudge-pdf.log"), "wb")
        self.worker = subprocess.Popen([os.path.join(BUILD, "drudge-pdf"), "--config", cfg],
                                       env=clean_env(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while b"event=worker_start" not in open(self.log.name, "rb").read():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("drudge-pdf did not start: "
                                   + open(self.log.name, errors="replace").read()[-2000:])
            time.sleep(0.05)

    def batch(self, jobs):
        """Render `jobs` invoices; (seconds, cpu seconds of the worker tree)."""
        ids = []
        pipe = self.r.pipeline(transaction=False)
        for _ in range(jobs):
            self.n += 1
            ids.append(f"b{self.n}")
            pipe.rpush(CLS, json.dumps({"id": ids[-1], "url": self.url,
                                        "output": f"{ids[-1]}.pdf"}))
        cpu0 = tree_cpu(self.worker.pid)
        t0 = time.monotonic()
        pipe.execute()
        last = f"{CLS}:status:{ids[-1]}"
        while self.r.hget(last, "state") not in ("done", "failed", "retrying"):
            time.sleep(0.01)
        elapsed = time.monotonic() - t0
        cpu = tree_cpu(self.worker.pid) - cpu0
        states = [self.r.hget(f"{CLS}:status:{i}", "state") for i in ids]
        if states.count("done") != jobs:
            raise RuntimeError(f"drudge-pdf: {jobs - states.count('done')} jobs not done: "
                               + open(self.log.name, errors="replace").read()[-2000:])
        return elapsed, cpu

    def close(self):
        stop(self.worker, timeout=30)  # it drains and ends its browser
        if self.log is not None:
            self.log.close()
        stop(self.redis)


def spawn_one(browser, url, out):
    """One `<browser> --headless --print-to-pdf` run; (seconds, cpu, peak memory)."""
    profile = tempfile.mkdtemp(prefix="pdf-bench-spawn-")
    args = [browser, *SPAWN_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}", url]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=clean_env())
    sampler = Sampler(lambda: proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = sampler.stop()
    shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"{browser} --print-to-pdf failed ({proc.returncode})")
    return elapsed, usage.ru_utime + usage.ru_stime, peak


# ---- the measurement ----

def browsers():
    """[(key, path)] of the browsers installed, the headless shell first."""
    return [(k, p) for k, p in (("shell", SHELL), ("chromium", CHROMIUM)) if os.access(p, os.X_OK)]


def measure(jobs=24, spawns=4, reps=3):
    if not os.path.exists(os.path.join(BUILD, "drudge-pdf")):
        return {"skipped": "drudge-pdf is not built"}
    found = browsers()
    if not any(k == "chromium" for k, _ in found):
        return {"skipped": f"no browser at {CHROMIUM}"}
    tmp = tempfile.mkdtemp(prefix="pdf-bench-")
    server, port = start_http(os.path.abspath(__file__))
    workers = {}
    try:
        url = f"http://127.0.0.1:{port}/invoice.html"
        res = {"jobs": jobs, "spawns": spawns, "reps": reps, "browsers": dict(found),
               "drudge": {}, "spawn": {}, "pages": {}}
        for key, path in found:
            workers[key] = Drudge(os.path.join(tmp, key), url, path)
            workers[key].batch(3)  # warm: first page, caches
            res["drudge"][key] = {"per_min": [], "cpu_s": [], "peak": (0, 0, 0),
                                  "idle": memory(tree(workers[key].worker.pid))}
            res["spawn"][key] = {"per_min": [], "cpu_s": [], "peak": (0, 0, 0)}
        for rep in range(reps):
            for key, w in workers.items():
                d = res["drudge"][key]
                sampler = Sampler(lambda w=w: w.worker.pid)
                elapsed, cpu = w.batch(jobs)
                d["peak"] = max(d["peak"], sampler.stop(), key=lambda m: m[1])
                d["per_min"].append(jobs / elapsed * 60)
                d["cpu_s"].append(cpu / jobs)
            for key, path in found:
                sp = res["spawn"][key]
                times, cpus = [], []
                for i in range(spawns):
                    out = os.path.join(tmp, f"spawn-{key}-{rep}-{i}.pdf")
                    elapsed, cpu, peak = spawn_one(path, url, out)
                    times.append(elapsed)
                    cpus.append(cpu)
                    sp["peak"] = max(sp["peak"], peak, key=lambda m: m[1])
                sp["per_min"].append(spawns / sum(times) * 60)
                sp["cpu_s"].append(sum(cpus) / spawns)
        for key, w in workers.items():
            res["pages"][f"drudge-{key}"] = pages_of(os.path.join(w.out, "b1.pdf"))
            res["pages"][f"spawn-{key}"] = pages_of(os.path.join(tmp, f"spawn-{key}-0-0.pdf"))
        if len(set(res["pages"].values())) != 1:
            raise RuntimeError(f"the PDFs differ in page count: {res['pages']}")
        return res
    finally:
        for w in workers.values():
            w.close()
        stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


def fmt(values, digits=0):
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def mib(kib):
    return f"{kib / 1024:.0f}"


NAMES = {"shell": "headless shell", "chromium": "chromium"}


def table(res):
    if "skipped" in res:
        return f"PDF: skipped ({res['skipped']})\n"
    med = statistics.median
    d, s = res["drudge"], res["spawn"]
    keys = list(d)
    pages = next(iter(res["pages"].values()))
    base = s["chromium"]  # the issue's baseline: `chromium --headless --print-to-pdf`
    cheap = s.get("shell")
    lines = [
        f"Invoice PDFs ({pages} A4 pages over HTTP: CSS, image, web font); "
        f"{res['reps']} repetition{'s' if res['reps'] != 1 else ''} of {res['jobs']} jobs "
        "through each drudge-pdf worker and "
        f"{res['spawns']} spawns of each browser, interleaved; medians [min-max]. "
        "drudge-pdf's default (`pdf.chromium: auto`) is the headless shell when installed.",
        "",
        "| | PDFs per minute | s per PDF | CPU s per PDF | vs `chromium` spawn: rate | CPU |"
        + (" vs headless-shell spawn: rate | CPU |" if cheap else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if cheap else ""),
    ]

    def row(label, m, bold):
        rate = med(m["per_min"]) / med(base["per_min"])
        cpu = med(base["cpu_s"]) / med(m["cpu_s"])
        cells = [label, fmt(m["per_min"]), f"{60 / med(m['per_min']):.2f}", fmt(m["cpu_s"], 2),
                 f"**{rate:.1f}x**" if bold else f"{rate:.1f}x", f"{cpu:.1f}x"]
        if cheap:
            cells += [f"{med(m['per_min']) / med(cheap['per_min']):.1f}x",
                      f"{med(cheap['cpu_s']) / med(m['cpu_s']):.1f}x"]
        return "| " + " | ".join(cells) + " |"

    for k in keys:
        label = f"drudge-pdf, 1 worker, persistent {NAMES[k]}" + (" (default)" if k == keys[0] else "")
        lines.append(row(label, d[k], True))
    for k in keys:
        lines.append(row(f"`{os.path.basename(res['browsers'][k])} --headless --print-to-pdf` "
                         "per PDF", s[k], False))
    lines += ["", "| memory | RSS MiB | PSS MiB | processes |", "|---|---:|---:|---:|"]
    for k in keys:
        lines.append(f"| drudge-pdf worker + {NAMES[k]}, idle | {mib(d[k]['idle'][0])} | "
                     f"{mib(d[k]['idle'][1])} | {d[k]['idle'][2]} |")
        lines.append(f"| drudge-pdf worker + {NAMES[k]}, peak while rendering | "
                     f"{mib(d[k]['peak'][0])} | {mib(d[k]['peak'][1])} | {d[k]['peak'][2]} |")
    for k in keys:
        lines.append(f"| one spawned {NAMES[k]}, peak | {mib(s[k]['peak'][0])} | "
                     f"{mib(s[k]['peak'][1])} | {s[k]['peak'][2]} |")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=24, help="drudge-pdf jobs per repetition")
    ap.add_argument("--spawns", type=int, default=4, help="spawns of each browser per repetition")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="8 jobs, 2 spawns, 2 repetitions")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    a = ap.parse_args()
    if a.quick:
        a.jobs, a.spawns, a.reps = 8, 2, 2
    res = measure(a.jobs, a.spawns, a.reps)
    print(json.dumps(res, indent=1) if a.json else table(res), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
