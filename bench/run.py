#!/usr/bin/python3
"""bench/run.py - drudge's benchmark driver: throughput, latency and memory
side by side with the ceiling (redis-benchmark, a plain BLPOP loop) and the
peers (beanstalkd, Gearman, Sidekiq, RQ, BullMQ), all measured in this one
run and written to bench/RESULTS.md (raw samples in bench/results.json).

    /usr/bin/python3 bench/run.py [--quick] [--reps N] [--cases a,b,...] [--out FILE]

After those cases it runs the worker sections (email, http, image, pdf:
bench/email_bench.py, http_bench.py, image_bench.py, pdf_bench.py, each
against its own servers) and writes them under "Workers"; one whose worker
is not built or whose counterpart (aiosmtpd, curl, ImageMagick, chromium)
is missing is skipped with a note.

`make bench` builds what it needs and runs this; `make bench-peers` installs
the peers. A peer that is not installed is skipped and the skip is noted in
the results. Every case runs once per repetition, the repetitions
interleaved, so drift on a shared machine lands on every system alike; the
figures are medians with [min-max] over the repetitions. See bench/README.md
for what each case measures.
"""
import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import cpu_seconds, free_port, mib, proc_status, wait_port

try:
    import redis as redis_py
except ImportError:
    sys.exit("bench: python3-redis is missing (make deps)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("DRUDGE_BUILD", "build/release"))
BENCH_BIN = os.path.join(BUILD, "bench")
PEERS = os.path.join(ROOT, "bench", "peers")
NODE_MODULES = os.path.join(ROOT, "bench", "node_modules")
PYTHON = "/usr/bin/python3"
CASES = ["ceiling", "enqueue", "noop", "latency", "memory", "flat"]
# The worker sections: standalone scripts in bench/, each starting its own
# redis-server and counterpart (SMTP sink, HTTP server, convert, chromium),
# run after the cases above and written under "Workers".
WORKER_CASES = ["email", "http", "image", "pdf"]
ALL_CASES = CASES + WORKER_CASES
PROCS = (1, 2, 4)

# Job counts per size. drudge and the plain-BLPOP floor always drain the
# issue's 200k pre-filled queue; slower peers drain fewer jobs so that each
# run takes a few seconds (a rate from a list-backed queue does not depend
# on its length; RESULTS.md states the count used for every system).
SIZES = {
    "full": {"drudge": 200000, "floor": 200000, "beanstalkd": 60000, "gearman": 60000,
             "bullmq": 20000, "sidekiq": 20000, "rq-simple": 800, "rq-fork": 100,
             "push_one": 30000, "push_many": 200000, "push_cli": 300, "rb_c1": 30000,
             "rb_many": 150000, "lat_secs": 6, "lat_half_secs": 4, "flat_big": 1000000,
             "rss_busy_noop": 20000, "rss_busy_other": 300},
    "quick": {"drudge": 50000, "floor": 50000, "beanstalkd": 20000, "gearman": 20000,
              "bullmq": 5000, "sidekiq": 5000, "rq-simple": 300, "rq-fork": 100,
              "push_one": 5000, "push_many": 30000, "push_cli": 30, "rb_c1": 10000,
              "rb_many": 30000, "lat_secs": 2, "lat_half_secs": 2, "flat_big": 100000,
              "rss_busy_noop": 5000, "rss_busy_other": 100},
}

# The worker sections' sizes and repetitions (each script interleaves its own
# repetitions), and the seconds each is expected to take on the 2-core
# machine the results come from: about 4 min in all for a full run, 1 min
# with --quick. A section starts only while its estimate fits the time left.
WORKER_SIZES = {
    "full": {"email": {"emails": 1500, "curl_emails": 100, "reps": 3, "secs": 40},
             "http": {"jobs": 1000, "curl_n": 150, "reps": 3, "secs": 30},
             "image": {"images": 12, "reps": 3, "secs": 60},
             "pdf": {"jobs": 12, "spawns": 3, "reps": 3, "secs": 100}},
    "quick": {"email": {"emails": 300, "curl_emails": 30, "reps": 1, "secs": 10},
              "http": {"jobs": 300, "curl_n": 30, "reps": 1, "secs": 8},
              "image": {"images": 3, "reps": 1, "secs": 20},
              "pdf": {"jobs": 4, "spawns": 1, "reps": 1, "secs": 30}},
}


# ---------------------------------------------------------------------------
# small helpers

def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def resource_children():
    """CPU seconds used by waited-for children so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# How perf's symbols are grouped for the reading of a profile.
SYMBOL_CATEGORIES = (
    ("kernel: syscalls, sockets, scheduling", lambda d, k, s: k == "k"),
    ("printf-family number formatting (in redis-server: Lua numbers made strings for redis.call)",
     lambda d, k, s: any(x in s for x in ("printf_fp", "hack_digit", "mpn_", "vfprintf",
                                          "fpconv", "__printf_fphex"))),
    ("Lua interpreter and script calls",
     lambda d, k, s: re.match(r"(lua|luaV_|luaH_|luaD_|luaS_|luaC_|luaK_|luaM_|luaF_|luaL_|"
                              r"luaO_|luaE_|luaT_|luaX_|luaY_|index2adr|str_|luaB_|"
                              r"luaRedis|scriptCall|evalGeneric|evalGenericCommand|"
                              r"luaCallFunction|scriptingEnable)", s) is not None),
    ("keyspace hash tables (dict)", lambda d, k, s: re.match(r"(dict|siphash|lookupKey|"
                                                              r"dbFind|_dict)", s) is not None),
    ("list / hash encodings (listpack, quicklist)",
     lambda d, k, s: re.match(r"(lp|quicklist|listType|hashType|ziplist|__quicklist)", s)
     is not None),
    ("memory allocator", lambda d, k, s: "jemalloc" in d or re.match(
        r"(je_|malloc|free|zmalloc|zfree|zrealloc|_int_malloc|_int_free|cfree|realloc|calloc|"
        r"tcache|arena)", s) is not None),
    ("command latency tracking (latency-tracking yes)",
     lambda d, k, s: s.startswith("hdr_") or "Latency" in s),
    ("reply and protocol buffers", lambda d, k, s: re.match(
        r"(addReply|_addReply|processMultibulk|processInputBuffer|readQueryFromClient|"
        r"writeToClient|_writeToClient|sds|createObject|createString|decrRefCount|"
        r"prepareClientToWrite|lookupCommand|call$|processCommand)", s) is not None),
    ("JSON (jansson)", lambda d, k, s: "jansson" in d or s.startswith("json_")),
    ("hiredis", lambda d, k, s: "hiredis" in d or re.match(r"(redis|sds)", s) is not None),
    ("SHA-256 (job id)", lambda d, k, s: "sha256" in s.lower() or "crypto" in d),
    ("memcpy / strings (libc)", lambda d, k, s: re.match(r"(__)?(mem|str)", s) is not None),
)


def symbol_category(dso, kind, sym):
    for name, test in SYMBOL_CATEGORIES:
        if test(dso, kind, sym):
            return name
    if kind == "." and sym.startswith("0x"):
        return ("unresolved (static functions of a stripped binary: in redis-server its Lua VM "
                "and command internals)")
    return "other"


def run_json(cmd, env=None, timeout=300, cwd=None):
    """Run a helper that prints one JSON object on its last line."""
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} {cmd[1] if len(cmd) > 1 else ''}: "
                           f"exit {p.returncode}: {(p.stderr or p.stdout).strip()[-300:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def demote(md):
    """A section's markdown with its headings one level down (## -> ###),
    to sit under the "Workers" heading."""
    return re.sub(r"(?m)^(#+) ", r"#\1 ", md)


def median(xs):
    return statistics.median(xs) if xs else None


def pct(sorted_xs, q):
    """Nearest-rank percentile of a sorted list."""
    if not sorted_xs:
        return None
    k = max(0, min(len(sorted_xs) - 1, int(round(q / 100.0 * len(sorted_xs) + 0.5)) - 1))
    return sorted_xs[k]


def k_fmt(x):
    if x is None:
        return "-"
    if x >= 100000:
        return f"{x / 1000:.0f}k"
    if x >= 1000:
        return f"{x / 1000:.1f}k"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def spread(xs, fmt=k_fmt):
    """'median [min-max]' of a list of samples."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    if len(xs) == 1:
        return fmt(xs[0])
    return f"{fmt(median(xs))} [{fmt(min(xs))}-{fmt(max(xs))}]"


def ratio(a, b):
    return a / b if a is not None and b else None


def r_fmt(x):
    return "-" if x is None else f"{x:.2f}x"


# ---------------------------------------------------------------------------
# processes: everything started here is tracked and stopped by PID

class Procs:
    def __init__(self, logdir):
        self.logdir = logdir
        self.live = []
        self.n = 0

    def start(self, cmd, env=None, cwd=None, name=None):
        self.n += 1
        path = os.path.join(self.logdir, f"{self.n:04d}-{name or os.path.basename(cmd[0])}.log")
        with open(path, "ab") as f:
            p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        p.logpath = path
        self.live.append(p)
        return p

    def stop(self, procs, timeout=6.0):
        procs = [p for p in procs if p is not None]
        for p in procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p in self.live:
                self.live.remove(p)

    def stop_all(self):
        self.stop(list(self.live), timeout=3.0)

    @staticmethod
    def tail(p, n=3):
        try:
            with open(p.logpath, errors="replace") as f:
                return " | ".join(line.strip() for line in f.readlines()[-n:])
        except OSError:
            return ""


# ---------------------------------------------------------------------------
# servers

class RedisServer:
    def __init__(self, procs, tmp):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        d = os.path.join(tmp, "redis")
        os.makedirs(d, exist_ok=True)
        self.proc = procs.start(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                 "--dir", d, "--save", "", "--appendonly", "no",
                                 "--daemonize", "no", "--logfile", os.path.join(d, "redis.log")],
                                name="redis-server")
        if not wait_port(self.port):
            raise RuntimeError("redis-server did not start")
        self.r = redis_py.Redis(host="127.0.0.1", port=self.port)

    def flush(self):
        self.r.flushall()

    def fill(self, key, n, make):
        """RPUSH n payloads make(i) onto key, 1,000 per command, pipelined
        through one raw socket (the fastest way to pre-fill a queue)."""
        key = key.encode()
        cmds = []
        for start in range(0, n, 1000):
            items = [make(i) for i in range(start, min(n, start + 1000))]
            parts = [b"*%d\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n" % (len(items) + 2, len(key), key)]
            parts += [b"$%d\r\n%s\r\n" % (len(it), it) for it in items]
            cmds.append(b"".join(parts))
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"".join(cmds))
            buf, got = b"", 0
            while got < len(cmds):
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("redis closed the connection during a fill")
                buf += chunk
                lines = buf.split(b"\r\n")
                buf = lines.pop()
                for line in lines:
                    if not line.startswith(b":"):
                        raise RuntimeError(f"fill: {line[:200]!r}")
                    got += 1


def text_cmd(port, data, until, timeout=5.0):
    """Send a command over a text protocol and read until `until` appears."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        buf = b""
        while until not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace")


# ---------------------------------------------------------------------------
# the systems measured in the no-op throughput case

class System:
    name = label = ""
    status = crash_safe = ""
    boot = 0.0          # seconds the worker needs before it takes jobs

    def available(self):
        return True, ""

    def fill(self, n, tag):
        """Pre-fill n jobs; returns the producer's rate if it was measured."""
        raise NotImplementedError

    def start(self, k):
        raise NotImplementedError

    def remaining(self, n):
        raise NotImplementedError

    def verify(self, n):
        return ""


class Drudge(System):
    name, label = "drudge", "drudge-noop"
    status = "yes: status hash (state, attempts, started_at, finished_at, worker) + counters"
    crash_safe = "yes: BLMOVE/Lua into a per-worker processing list, heartbeats, recovery"

    def __init__(self, b):
        self.b = b

    def available(self):
        exe = os.path.join(BUILD, "drudge-noop")
        return (os.access(exe, os.X_OK), f"{exe} not built")

    def fill(self, n, tag):
        self.b.redis.fill("NoopJob", n, lambda i: b'{"i":%d,"r":"%s"}' % (i, tag.encode()))
        return None

    def start(self, k):
        return [self.b.start_drudge("drudge-noop") for _ in range(k)]

    def remaining(self, n):
        return n - int(self.b.redis.r.hget("NoopJob:stats", "processed") or 0)

    def verify(self, n):
        r = self.b.redis.r
        problems = []
        if r.llen("NoopJob"):
            problems.append(f"queue not empty ({r.llen('NoopJob')})")
        held = sum(r.llen(k) for k in r.scan_iter("NoopJob:processing:*"))
        if held:
            problems.append(f"{held} jobs left in processing lists")
        stats = {k.decode(): int(v) for k, v in r.hgetall("NoopJob:stats").items()}
        if stats.get("processed") != n or stats.get("failed", 0):
            problems.append(f"stats {stats}")
        return "; ".join(problems)


class Floor(System):
    name, label = "floor", "plain BLPOP loop (C, hiredis)"
    status = "no"
    crash_safe = "no: a popped job lives only in the process"


class Beanstalkd(System):
    name, label = "beanstalkd", "beanstalkd (C worker: reserve + delete)"
    status = "no: a deleted job leaves nothing"
    crash_safe = "yes: a reserved job returns after its TTR (in-memory server, no binlog)"

    def __init__(self, b):
        self.b = b
        self.port = None

    def available(self):
        if not shutil.which("beanstalkd"):
            return False, "beanstalkd not installed (make bench-peers)"
        if not os.access(os.path.join(BENCH_BIN, "beanstalk_bench"), os.X_OK):
            return False, "bench/beanstalk_bench not built (make bench)"
        return True, ""

    def server(self):
        if self.port is None:
            self.port = free_port()
            self.b.procs.start(["beanstalkd", "-l", "127.0.0.1", "-p", str(self.port)],
                               name="beanstalkd")
            if not wait_port(self.port):
                raise RuntimeError("beanstalkd did not start")
            self.pid = self.b.procs.live[-1].pid
        return self.port

    def fill(self, n, tag):
        return run_json([os.path.join(BENCH_BIN, "beanstalk_bench"), "fill", "127.0.0.1",
                         str(self.server()), str(n)])["rate"]

    def start(self, k):
        return [self.b.procs.start([os.path.join(BENCH_BIN, "beanstalk_bench"), "work",
                                    "127.0.0.1", str(self.server())], name="beanstalk-worker")
                for _ in range(k)]

    def remaining(self, n):
        out = text_cmd(self.port, b"stats\r\n", b"\n\r\n")
        get = lambda f: int(re.search(rf"^{f}: (\d+)", out, re.M).group(1))  # noqa: E731
        return (get("current-jobs-ready") + get("current-jobs-reserved")
                + get("current-jobs-delayed"))


class Gearman(System):
    name, label = "gearman", "Gearman (gearmand, C libgearman worker)"
    status = "no: a background job keeps none once done"
    crash_safe = "yes while gearmand lives: a lost worker's job goes to another (no persistent queue)"

    def __init__(self, b):
        self.b = b
        self.port = None

    def available(self):
        if not shutil.which("gearmand"):
            return False, "gearman-job-server not installed (make bench-peers)"
        if not os.access(os.path.join(BENCH_BIN, "gearman_bench"), os.X_OK):
            return False, "bench/gearman_bench not built (libgearman-dev missing? make bench-peers)"
        return True, ""

    def server(self):
        if self.port is None:
            self.port = free_port()
            self.b.procs.start(["gearmand", "-L", "127.0.0.1", "-p", str(self.port), "-l", "none",
                                "--verbose", "ERROR"], name="gearmand")
            if not wait_port(self.port):
                raise RuntimeError("gearmand did not start")
            self.pid = self.b.procs.live[-1].pid
        return self.port

    def fill(self, n, tag):
        return run_json([os.path.join(BENCH_BIN, "gearman_bench"), "fill", "127.0.0.1",
                         str(self.server()), str(n)])["rate"]

    def start(self, k):
        return [self.b.procs.start([os.path.join(BENCH_BIN, "gearman_bench"), "work",
                                    "127.0.0.1", str(self.server())], name="gearman-worker")
                for _ in range(k)]

    def remaining(self, n):
        out = text_cmd(self.port, b"status\n", b"\n.\n")
        for line in out.splitlines():
            f = line.split("\t")
            if f[0] == "noop" and len(f) >= 2:
                return int(f[1])
        return n


class Sidekiq(System):
    name, label = "sidekiq", "Sidekiq (basic fetch, -c 10)"
    status = "no per-job status"
    crash_safe = "no: BRPOP; a killed process loses its jobs (reliable fetch is Sidekiq Pro)"
    boot = 1.5

    def __init__(self, b):
        self.b = b

    def available(self):
        if not shutil.which("sidekiq") or not shutil.which("ruby"):
            return False, "ruby-sidekiq not installed (make bench-peers)"
        return True, ""

    def env(self):
        return dict(os.environ, REDIS_URL=self.b.redis.url)

    def fill(self, n, tag):
        return run_json(["ruby", os.path.join(PEERS, "sidekiq_push.rb"), str(n)], env=self.env())["rate"]

    def start(self, k):
        return [self.b.procs.start(["sidekiq", "-r", os.path.join(PEERS, "sidekiq_app.rb"),
                                    "-c", "10", "-q", "default", "-t", "1"], env=self.env(),
                                   cwd=PEERS, name="sidekiq") for _ in range(k)]

    def remaining(self, n):
        # Sidekiq writes its processed counter only every few seconds; the
        # queue's length is exact but for the <= 10 jobs per process in flight
        return self.b.redis.r.llen("queue:default")


class RQ(System):
    status = "yes: job hash with status and result (result_ttl 500 s)"
    crash_safe = "partly: a dead worker's job goes to the failed registry, not back to the queue"
    boot = 0.6

    def __init__(self, b, forking):
        self.b = b
        self.forking = forking
        self.name = "rq-fork" if forking else "rq-simple"
        self.label = "RQ (Worker: forks per job)" if forking else "RQ (SimpleWorker: no fork)"

    def available(self):
        if not shutil.which("rq"):
            return False, "python3-rq not installed (make bench-peers)"
        return True, ""

    def fill(self, n, tag):
        return run_json([PYTHON, os.path.join(PEERS, "rq_fill.py"), self.b.redis.url, str(n)])["rate"]

    def start(self, k):
        cmd = ["rq", "worker", "-u", self.b.redis.url, "-P", PEERS, "--logging_level", "WARNING"]
        if not self.forking:
            cmd += ["-w", "rq.worker.SimpleWorker"]
        return [self.b.procs.start(cmd + ["default"], name=self.name) for _ in range(k)]

    def remaining(self, n):
        return n - self.b.redis.r.zcard("rq:finished:default")


class BullMQ(System):
    name, label = "bullmq", "BullMQ (concurrency 10, completed jobs kept)"
    status = "yes: job hash, completed set"
    crash_safe = "yes: job locks + stalled-job check"
    boot = 0.8

    def __init__(self, b):
        self.b = b

    def available(self):
        if not shutil.which("node"):
            return False, "node not installed"
        for m in ("bullmq", "ioredis"):
            if not os.path.isdir(os.path.join(NODE_MODULES, m)):
                return False, f"bench/node_modules/{m} missing (make bench-peers)"
        return True, ""

    def env(self):
        return dict(os.environ, REDIS_URL=self.b.redis.url, CONCURRENCY="10")

    def fill(self, n, tag):
        return run_json(["node", os.path.join(PEERS, "bullmq_fill.js"), str(n)], env=self.env())["rate"]

    def start(self, k):
        return [self.b.procs.start(["node", os.path.join(PEERS, "bullmq_worker.js")],
                                   env=self.env(), name="bullmq") for _ in range(k)]

    def remaining(self, n):
        return n - self.b.redis.r.zcard("bull:bench:completed")


# ---------------------------------------------------------------------------
# the cases

# redis-benchmark clients (-c) and pipeline depth (-P): one client waiting
# for each reply (a producer pushing one job at a time, one worker), four
# such clients (four workers), one pipelining client (a bulk producer), and
# Redis' own best case.
RB_LABELS = ("c1 P1", "c4 P1", "c1 P16", "c50 P16")


def RB_CONFIGS(size):
    return (("c1 P1", 1, 1, size["rb_c1"]), ("c4 P1", 4, 1, 2 * size["rb_c1"]),
            ("c1 P16", 1, 16, size["rb_many"]), ("c50 P16", 50, 16, size["rb_many"]))


EVAL_SCRIPT = "redis.call('RPUSH', KEYS[1], ARGV[1]) return redis.call('LPOP', KEYS[1])"


class Bench:
    def __init__(self, args):
        self.args = args
        self.size = SIZES["quick" if args.quick else "full"]
        self.tmp = tempfile.mkdtemp(prefix="drudge-bench-")
        self.procs = Procs(self.tmp)
        self.redis = None
        self.samples = {}     # key -> one value per repetition
        self.notes = []
        self.skipped = {}     # system name -> reason
        self.budget_skips = []
        self.reps_done = 0
        self.systems = []
        self.profile_text = None
        self.worker_sections = []   # (case, markdown) in the order run
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        self.load0 = os.getloadavg()

    # -- bookkeeping

    def add(self, key, value):
        self.samples.setdefault(key, []).append(value)

    def get(self, key):
        return self.samples.get(key, [])

    def note(self, msg):
        log("note: " + msg)
        if msg not in self.notes:
            self.notes.append(msg)

    def elapsed(self):
        return time.monotonic() - self.t0

    def over_budget(self, what, needs=0.0):
        """True (and noted) when `what`, expected to take `needs` seconds,
        would end past the time limit less the reserve for the closing steps."""
        if self.elapsed() + needs > self.args.limit - self.args.reserve:
            log(f"time budget used up: skipping {what}")
            self.budget_skips.append(what)
            return True
        return False

    def start_drudge(self, program, *args):
        env = dict(os.environ, DRUDGE_REDIS_URL=self.redis.url)
        env.pop("DRUDGE_CONFIG", None)
        return self.procs.start([os.path.join(BUILD, program), "--log-level", "warn", *args],
                                env=env, name=program)

    def setup(self):
        self.redis = RedisServer(self.procs, self.tmp)
        candidates = [Drudge(self), Floor(), Beanstalkd(self), Gearman(self), BullMQ(self),
                      Sidekiq(self), RQ(self, False), RQ(self, True)]
        floor_exe = os.path.join(BENCH_BIN, "blpop_floor")
        for s in candidates:
            ok, why = (os.access(floor_exe, os.X_OK), "bench/blpop_floor not built") \
                if isinstance(s, Floor) else s.available()
            if self.args.no_peers and s.name not in ("drudge", "floor"):
                ok, why = False, "--no-peers"
            if ok:
                self.systems.append(s)
            else:
                self.skipped[s.name] = why
                self.note(f"skipped {s.name}: {why}")

    def system(self, name):
        return next((s for s in self.systems if s.name == name), None)

    # -- (8) the worker sections (bench/email_bench.py, http_bench.py,
    # image_bench.py, pdf_bench.py), each against its own servers

    WORKER_TITLES = {"email": "Email (drudge-email)", "http": "HTTP (drudge-http)",
                     "image": "Image thumbnails (drudge-image)", "pdf": "PDF (drudge-pdf)"}

    def worker_missing(self, case):
        """Why a worker section cannot run here, or None."""
        exe = os.path.join(BUILD, f"drudge-{case}")
        if not os.access(exe, os.X_OK):
            return f"{exe} not built (make)"
        need = {"email": [("aiosmtpd", "python3-aiosmtpd (the SMTP sink)")],
                "http": [("curl", "curl")],
                "image": [("/usr/bin/convert", "imagemagick"),
                          ("/usr/bin/identify", "imagemagick")],
                "pdf": [(os.environ.get("CHROMIUM", "/usr/bin/chromium"), "chromium"),
                        ("pdfinfo", "poppler-utils")]}[case]
        for what, pkg in need:
            if what == "aiosmtpd":
                import importlib.util
                found = importlib.util.find_spec("aiosmtpd") is not None
            elif what.startswith("/"):
                found = os.access(what, os.X_OK)
            else:
                found = shutil.which(what) is not None
            if not found:
                return f"{what} not found (install {pkg})"
        if case == "email" and not os.path.exists(os.path.join(ROOT, "tests", "system",
                                                               "smtp_server.py")):
            return "tests/system/smtp_server.py is missing"
        return None

    def worker_case(self, case):
        """Run one worker section; keeps its markdown and its raw figures."""
        title = self.WORKER_TITLES[case]
        why = self.worker_missing(case)
        if why:
            self.worker_sections.append((case, f"### {title}\n\nSkipped: {why}."))
            self.note(f"skipped the {case} worker section: {why}")
            return
        size = WORKER_SIZES["quick" if self.args.quick else "full"][case]
        reps = min(size["reps"], self.args.reps)
        bench_dir = os.path.join(ROOT, "bench")
        if bench_dir not in sys.path:
            sys.path.insert(0, bench_dir)
        if case == "email":
            import email_bench
            res = email_bench.run(BUILD, size["emails"], size["curl_emails"], reps)
            text = demote(email_bench.markdown(res))
            if res.get("curl_per_s") is None:
                self.note("email section: curl not found, so no per-email spawn row")
        elif case == "http":
            import http_bench
            http_bench.BUILD = BUILD
            res = http_bench.measure(size["jobs"], size["curl_n"], reps)
            text = (f"### {title}\n\nOne drudge-http worker doing {size['jobs']:,} GET jobs end to "
                    "end (pushed to Redis, the HTTP call, the result written to the status hash) "
                    f"against `curl` spawned per request ({size['curl_n']:,} requests) and one "
                    "`curl` process fetching every URL over one kept-alive connection, all against "
                    "the same local Python `http.server` (64-byte 200 answers; on most machines "
                    "the limit, which the keep-alive row shows). Medians [min-max] of "
                    f"{reps} repetition{'s' if reps > 1 else ''}, interleaved.\n\n"
                    + http_bench.table(res))
        elif case == "image":
            fd, js = tempfile.mkstemp(prefix="image-bench-", suffix=".json", dir=self.tmp)
            os.close(fd)
            p = subprocess.run([PYTHON, os.path.join(bench_dir, "image_bench.py"),
                                "--images", str(size["images"]), "--reps", str(reps), "--json", js],
                               env=dict(os.environ, DRUDGE_BUILD=BUILD), capture_output=True,
                               text=True, timeout=max(300, 4 * size["secs"]))
            if p.returncode != 0:
                raise RuntimeError(f"image_bench.py: exit {p.returncode}: "
                                   f"{(p.stderr or p.stdout).strip()[-300:]}")
            with open(js) as f:
                res = json.load(f)
            text = demote(p.stdout.strip())
        else:
            import pdf_bench
            pdf_bench.BUILD = BUILD
            res = pdf_bench.measure(size["jobs"], size["spawns"], reps)
            if "skipped" in res:
                text = f"### {title}\n\nSkipped: {res['skipped']}."
                self.note(f"skipped the pdf worker section: {res['skipped']}")
            else:
                text = f"### {title}\n\n" + pdf_bench.table(res).strip()
        self.add(("worker", case), res)
        self.worker_sections.append((case, text))

    # -- (6) the ceiling

    def ceiling(self, rep):
        rb = shutil.which("redis-benchmark")
        if not rb:
            self.note("skipped redis-benchmark: not installed (redis-tools)")
            return
        self.redis.flush()
        sha = self.redis.r.script_load(EVAL_SCRIPT)
        self.redis.r.rpush("rb:rot", *([b"x" * 40] * 100))
        extra = [("LMOVE", ["LMOVE", "rb:rot", "rb:rot", "LEFT", "RIGHT"]),
                 ("HSET", ["HSET", "rb:h", "state", "done", "finished_at", "1700000000000"]),
                 ("EVALSHA", ["EVALSHA", sha, "1", "rb:e", "x" * 40])]
        for label, c, P, n in RB_CONFIGS(self.size):
            base = [rb, "-h", "127.0.0.1", "-p", str(self.redis.port), "-c", str(c), "-P", str(P),
                    "-n", str(n), "-d", "40", "--csv"]
            runs = [("RPUSH+LPOP", base + ["-t", "rpush,lpop"])] + [(name, base + a) for name, a in extra]
            for name, cmd in runs:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                for line in p.stdout.splitlines():
                    f = [x.strip('"') for x in line.split('","')]
                    if len(f) < 2 or f[0] == "test":
                        continue
                    try:
                        rps = float(f[1])
                    except ValueError:
                        continue
                    test = f[0].split()[0].upper() if name == "RPUSH+LPOP" else name
                    self.add(("rb", test, label), rps)
        self.redis.flush()

    # -- (1) enqueue

    def enqueue(self, rep):
        """Each drudge producer runs right next to what it is compared with,
        and the ratio of each pair is kept per repetition: a shared machine's
        drift then cancels out of the ratio."""
        push = os.path.join(BENCH_BIN, "push_bench")
        url = self.redis.url
        if os.access(push, os.X_OK):
            n = self.size["push_one"]
            self.redis.flush()
            rb = self.rb_rpush(n)
            self.redis.flush()
            one = run_json([push, "--redis", url, "--one", str(n), "--tag", f"r{rep}"])["rate"]
            self.add(("enq", "c-one"), one)
            if rb:
                self.add(("enq", "rb-c1"), rb)
                self.add(("pair", "one/rpush"), one / rb)
            self.redis.flush()
            n = self.size["push_many"]
            many = run_json([push, "--redis", url, "--many", str(n), "--tag", f"r{rep}"])["rate"]
            self.add(("enq", "c-many"), many)
            self.redis.flush()
            hset = self.rb_hset_new(n)
            if hset:
                self.add(("enq", "rb-hset-new"), hset)
                self.add(("pair", "many/hset_new"), many / hset)
            sk = self.system("sidekiq")
            if sk:
                self.redis.flush()
                bulk = sk.fill(n, "")
                self.add(("enq", "sidekiq-bulk"), bulk)
                self.add(("pair", "many/push_bulk"), many / bulk)
        else:
            self.note("skipped the C API enqueue: bench/push_bench not built (make bench)")
        self.enqueue_cli(rep)
        self.redis.flush()

    def rb_rpush(self, n):
        """redis-benchmark RPUSH, one client, one command at a time."""
        rb = shutil.which("redis-benchmark")
        if not rb:
            return None
        p = subprocess.run([rb, "-h", "127.0.0.1", "-p", str(self.redis.port), "-c", "1", "-P", "1",
                            "-n", str(n), "-d", "40", "--csv", "-t", "rpush"],
                           capture_output=True, text=True, timeout=120)
        for line in p.stdout.splitlines():
            f = [x.strip('"') for x in line.split('","')]
            if len(f) >= 2 and f[0].upper().startswith("RPUSH"):
                return float(f[1])
        return None

    def rb_hset_new(self, n):
        """redis-benchmark HSET of a new hash shaped like a `queued` status
        (a status-like key, four fields) per request, pipelined 100 deep:
        what Redis itself takes to create one status hash per job, before
        any list push, script or validation."""
        rb = shutil.which("redis-benchmark")
        if not rb:
            return None
        key = "NoopJob:status:" + "0" * 52 + "__rand_int__"
        p = subprocess.run([rb, "-h", "127.0.0.1", "-p", str(self.redis.port), "-c", "1", "-P",
                            "100", "-n", str(n), "-r", "100000000", "--csv",
                            "HSET", key, "state", "queued", "queued_at", "1764000000000",
                            "attempts", "0", "progress", "0"],
                           capture_output=True, text=True, timeout=120)
        for line in p.stdout.splitlines():
            f = [x.strip('"') for x in line.split('","')]
            if len(f) >= 2 and f[0].upper().startswith("HSET"):
                return float(f[1])
        return None

    def enqueue_cli(self, rep):
        exe = os.path.join(BUILD, "drudge")
        if not os.access(exe, os.X_OK):
            self.note("skipped the CLI enqueue: build/release/drudge (the CLI) is not built yet")
            return
        env = dict(os.environ, DRUDGE_REDIS_URL=self.redis.url)
        env.pop("DRUDGE_CONFIG", None)
        probe = subprocess.run([exe, "push", "--help"], env=env, capture_output=True, text=True)
        if probe.returncode != 0:
            self.note(f"skipped the CLI enqueue: `drudge push --help` exited {probe.returncode}")
            return
        self.redis.flush()
        n = self.size["push_cli"]
        t0 = time.monotonic()
        for i in range(n):
            p = subprocess.run([exe, "push", "NoopJob", '{"i":%d,"cli":"r%d"}' % (i, rep)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                self.note(f"CLI enqueue failed: exit {p.returncode}: {p.stderr.strip()[:200]}")
                return
        cli = n / (time.monotonic() - t0)
        self.add(("enq", "cli"), cli)
        if self.redis.r.llen("NoopJob") != n:
            self.note(f"CLI enqueue: {self.redis.r.llen('NoopJob')} jobs in the queue, expected {n}")
        # for scale: the same number of `redis-cli RPUSH` processes
        rcli = shutil.which("redis-cli")
        if rcli:
            t0 = time.monotonic()
            for i in range(n):
                subprocess.run([rcli, "-p", str(self.redis.port), "RPUSH", "clijobs", '{"i":%d}' % i],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rc = n / (time.monotonic() - t0)
            self.add(("enq", "redis-cli"), rc)
            self.add(("pair", "cli/redis-cli"), cli / rc)

    # -- (2) no-op throughput

    def floor_run(self, k, rep):
        n = self.size["floor"]
        self.redis.flush()
        self.redis.fill("floor", n, lambda i: b'{"i":%d,"r":"%d"}' % (i, rep))
        cpu0 = cpu_seconds(self.redis.proc.pid)
        out = run_json([os.path.join(BENCH_BIN, "blpop_floor"), "127.0.0.1", str(self.redis.port),
                        "floor", str(k)])
        if out["jobs"] != n:
            self.note(f"floor with {k}: popped {out['jobs']} of {n}")
        self.add(("noop", "floor", k), out["rate"])
        self.add(("cpu_srv", "floor", k), (cpu_seconds(self.redis.proc.pid) - cpu0) * 1e6 / n)

    def throughput(self, s, k, rep):
        if isinstance(s, Floor):
            return self.floor_run(k, rep)
        n = self.size[s.name]
        self.redis.flush()
        fill_rate = s.fill(n, f"{rep}-{k}")
        if fill_rate:
            self.add(("fill", s.name), fill_rate)
        server_pid = getattr(s, "pid", self.redis.proc.pid)
        t_spawn = time.monotonic()
        workers = s.start(k)
        timeout = self.args.run_timeout + s.boot
        first = end = None
        rss_max, last_rss, cpu_first, rem, t = 0, 0.0, None, n, t_spawn
        died = None
        while True:
            rem = s.remaining(n)
            t = time.monotonic()
            if first is None and rem < n:
                first = (t, rem)
                cpu_first = (cpu_seconds(server_pid), sum(cpu_seconds(p.pid) or 0 for p in workers))
            if rem <= 0:
                end = t
                break
            if t - t_spawn > timeout:
                break
            dead = [p for p in workers if p.poll() is not None]
            if dead:
                died = f"{s.name} worker exited {dead[0].returncode}: {Procs.tail(dead[0])}"
                break
            if t - last_rss > 0.1:
                last_rss = t
                rss_max = max([rss_max] + [proc_status(p.pid, "VmRSS") or 0 for p in workers])
            time.sleep(0.005)
        cpu_end = (cpu_seconds(server_pid), sum(cpu_seconds(p.pid) or 0 for p in workers))
        self.procs.stop(workers)
        if died:
            self.note(died)
        if first is None:
            self.note(f"{s.name} with {k} processes processed nothing in {timeout:.0f} s")
            return
        t_first, rem_first = first
        if end is None:
            self.note(f"{s.name} with {k} processes: timed out after {timeout:.0f} s with {rem} "
                      f"of {n} left; its rate is from the partial progress")
            end, done = t, rem_first - rem
        else:
            done = rem_first
        if end <= t_first:
            return
        self.add(("noop", s.name, k), done / (end - t_first))
        if s.name == "drudge" and rem <= 0:
            self.add(("noop_spawn", s.name, k), n / (end - t_spawn))
        if cpu_first[0] is not None and cpu_end[0] is not None and done:
            self.add(("cpu_srv", s.name, k), (cpu_end[0] - cpu_first[0]) * 1e6 / done)
            self.add(("cpu_wrk", s.name, k), (cpu_end[1] - cpu_first[1]) * 1e6 / done)
        self.add(("rss_busy", s.name), rss_max)
        if rem <= 0:
            problem = s.verify(n)
            if problem:
                self.note(f"{s.name} with {k} processes: {problem}")

    # -- (3) latency

    def latency(self, rep):
        d = self.system("drudge")
        exe = os.path.join(BENCH_BIN, "latency_bench")
        if d is None or not os.access(exe, os.X_OK):
            self.note("skipped latency: drudge-noop or bench/latency_bench not built")
            return
        k = 2
        if not self.get(("noop", "drudge", k)):
            self.throughput(d, k, rep)
        capacity = median(self.get(("noop", "drudge", k)))
        if not capacity:
            return
        self.redis.flush()
        self.redis.r.config_set("notify-keyspace-events", "Kg")
        workers = [self.start_drudge("drudge-noop") for _ in range(k)]
        try:
            deadline = time.monotonic() + 5
            while self.redis.r.zcard("drudge:workers") < k and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.3)
            for label, rate, secs in (("1000/s", 1000.0, self.size["lat_secs"]),
                                      ("50% of capacity", capacity / 2, self.size["lat_half_secs"])):
                out = run_json([exe, "127.0.0.1", str(self.redis.port), "NoopJob", f"{rate:.0f}",
                                str(secs), f"lat{rep}{'a' if rate == 1000 else 'b'}"], timeout=secs + 60)
                self.add(("lat_rate", label), rate)
                for metric, scale in (("done_us", 1e-3), ("start_ms", 1.0), ("done_hash_ms", 1.0),
                                      ("rtt_us", 1e-3)):
                    xs = sorted(v * scale for v in out[metric])
                    if xs:
                        self.add(("lat", label, metric), (pct(xs, 50), pct(xs, 99), xs[-1]))
                if out["missing"]:
                    self.note(f"latency {label}: {out['missing']} of {out['jobs']} jobs not seen done")
                self.add(("lat_lag", label), out["lag_max_us"] / 1000.0)
        finally:
            self.procs.stop(workers)
            self.redis.r.config_set("notify-keyspace-events", "")

    # -- (4) memory

    def worker_binaries(self):
        out = []
        for name in sorted(os.listdir(BUILD)):
            path = os.path.join(BUILD, name)
            if name.startswith("drudge-") and os.path.isfile(path) and os.access(path, os.X_OK):
                out.append(name)
        return out

    def memory(self, rep):
        for prog in self.worker_binaries():
            try:
                self.memory_of(prog)
            except Exception as e:  # e.g. a binary being rebuilt right now
                self.note(f"memory of {prog}: {type(e).__name__}: {e}")
        self.libcurl_floor()
        if rep == 0:
            self.peer_idle_rss()

    def memory_of(self, prog):
        """Idle, busy and after-burst RSS of one worker binary."""
        self.redis.flush()
        p = self.start_drudge(prog, "--class", "BenchRss")
        time.sleep(1.0)
        if p.poll() is not None:
            self.note(f"{prog} exited at start ({p.returncode}): {Procs.tail(p)}")
            self.procs.stop([p])
            return
        idle = proc_status(p.pid, "VmRSS")
        anon, filed = proc_status(p.pid, "RssAnon"), proc_status(p.pid, "RssFile")
        noop = prog == "drudge-noop"
        m = self.size["rss_busy_noop" if noop else "rss_busy_other"]
        self.redis.fill("BenchRss", m, (lambda i: b'{"i":%d}' % i) if noop
                        else (lambda i: b'{"bench":%d}' % i))
        busy, deadline = idle or 0, time.monotonic() + 30
        while time.monotonic() < deadline:
            st = self.redis.r.hmget("BenchRss:stats", "processed", "failed")
            if sum(int(x or 0) for x in st) >= m:
                break
            busy = max(busy, proc_status(p.pid, "VmRSS") or 0)
            time.sleep(0.05)
        else:
            self.note(f"{prog}: {m} jobs not finished within 30 s for the busy RSS")
        time.sleep(0.3)
        after = proc_status(p.pid, "VmRSS")
        self.add(("rss", prog), {"idle": idle, "busy": max(busy, after or 0), "after": after,
                                 "anon": anon, "file": filed,
                                 "hwm": proc_status(p.pid, "VmHWM"), "jobs": m})
        self.procs.stop([p])

    def libcurl_floor(self):
        """RSS of a program that only links and initialises Debian's libcurl
        (bench/libcurl_floor.c): what drudge-email and drudge-http cannot go
        below while they use it."""
        path = os.path.join(BENCH_BIN, "libcurl_floor")
        if not os.access(path, os.X_OK):
            self.note("skipped the libcurl floor: bench/libcurl_floor not built (make bench)")
            return
        p = self.procs.start([path], name="libcurl_floor")
        time.sleep(1.0)
        if p.poll() is None:
            self.add(("rss_floor", "libcurl"),
                     {f: proc_status(p.pid, f) for f in ("VmRSS", "RssAnon", "RssFile")})
        else:
            self.note(f"libcurl_floor exited at start: {Procs.tail(p)}")
        self.procs.stop([p])

    def peer_idle_rss(self):
        for s in self.systems:
            if s.name in ("drudge", "floor"):
                continue
            try:
                self.redis.flush()
                if hasattr(s, "server"):
                    s.server()
                (p,) = s.start(1)
                time.sleep(s.boot + 1.5)
                if p.poll() is None:
                    self.add(("rss_idle_peer", s.name), proc_status(p.pid, "VmRSS"))
                else:
                    self.note(f"{s.name} worker exited at start: {Procs.tail(p)}")
                self.procs.stop([p])
            except Exception as e:  # one peer failing must not stop the run
                self.note(f"idle RSS of {s.name}: {e}")

    # -- (5) flat memory

    def flat(self):
        if self.system("drudge") is None:
            return
        big = self.size["flat_big"]
        checkpoints = [c for c in (10000, 100000, 250000, 500000, 1000000) if c < big] + [big]
        self.redis.flush()
        p = self.start_drudge("drudge-noop")
        pushed, series = 0, []
        deadline = time.monotonic() + self.args.run_timeout * 4
        try:
            for target in checkpoints:
                while True:
                    if p.poll() is not None:
                        self.note(f"flat memory: drudge-noop exited: {Procs.tail(p)}")
                        return
                    if time.monotonic() > deadline:
                        self.note(f"flat memory: stopped at {pushed} jobs (time limit)")
                        return
                    processed = int(self.redis.r.hget("NoopJob:stats", "processed") or 0)
                    if processed >= target:
                        break
                    if pushed < target and self.redis.r.llen("NoopJob") < 50000:
                        chunk = min(50000, target - pushed)
                        base = pushed
                        self.redis.fill("NoopJob", chunk, lambda i: b'{"i":%d,"f":1}' % (base + i))
                        pushed += chunk
                    time.sleep(0.02)
                time.sleep(0.3)
                series.append((target, proc_status(p.pid, "VmRSS"), proc_status(p.pid, "VmHWM")))
                log(f"flat memory: {target} jobs, VmRSS {series[-1][1]} kB")
        finally:
            self.procs.stop([p])
            self.flat_series = series
            self.redis_mem = self.redis.r.info("memory").get("used_memory_human")
            self.redis.flush()

    # -- profile

    def perf_start(self, pids, name):
        data = os.path.join(self.tmp, f"{name}.data")
        pr = self.procs.start([shutil.which("perf"), "record", "-F", "1999", "-g", "-e", "cpu-clock",
                               "-o", data, "-p", ",".join(str(p) for p in pids)], name="perf")
        time.sleep(0.3)  # perf attaches before the work starts
        return pr, data

    def perf_stop(self, pr):
        pr.send_signal(signal.SIGINT)
        try:
            pr.wait(60)
        except subprocess.TimeoutExpired:
            pr.kill()
            pr.wait()
        if pr in self.procs.live:
            self.procs.live.remove(pr)

    @staticmethod
    def perf_report(data, *args):
        return subprocess.run([shutil.which("perf"), "report", "-i", data, "--stdio",
                               "--no-children", "-g", "none", *args],
                              capture_output=True, text=True).stdout

    def perf_categories(self, data, comm):
        """Share of comm's samples per category of symbol, largest first."""
        out = self.perf_report(data, "--comms", comm, "--sort", "dso,sym", "--percent-limit", "0")
        cats, total = {}, 0.0
        for line in out.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(\S+)", line)
            if not m:
                continue
            share, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
            total += share
            cat = symbol_category(dso, kind, sym)
            cats[cat] = cats.get(cat, 0.0) + share
        if not total:
            return []
        return sorted(((v * 100 / total, c) for c, v in cats.items()), reverse=True)

    def profile(self):
        """perf profiles of the two paths that matter: the no-op worker cycle
        (2 drudge-noop + redis-server) and the pipelined push (redis-server)."""
        d = self.system("drudge")
        if not shutil.which("perf") or d is None:
            self.note("no profile: perf not installed (linux-perf)")
            return
        n, k = self.size["drudge"], 2
        self.redis.flush()
        d.fill(n, "prof")
        workers = d.start(k)
        pr, data = self.perf_start([x.pid for x in workers] + [self.redis.proc.pid], "noop")
        deadline = time.monotonic() + self.args.run_timeout
        while d.remaining(n) > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.perf_stop(pr)
        self.procs.stop(workers)
        if not os.path.exists(data):
            self.note(f"no profile: perf record failed: {Procs.tail(pr)}")
            return
        top = lambda text, m: [l for l in text.splitlines()  # noqa: E731,E741
                               if l.strip() and not l.startswith("#")][:m]
        by_comm = top(self.perf_report(data, "--sort", "comm,dso", "--percent-limit", "1"), 16)
        by_sym = top(self.perf_report(data, "--sort", "comm,sym", "--percent-limit", "0.6"), 40)
        cat_redis = self.perf_categories(data, "redis-server")
        cat_worker = self.perf_categories(data, "drudge-noop")

        # the pipelined push: redis-server's side of drudge_push_many
        push_cats, push_cpu = [], None
        push = os.path.join(BENCH_BIN, "push_bench")
        if os.access(push, os.X_OK):
            self.redis.flush()
            pr2, data2 = self.perf_start([self.redis.proc.pid], "push")
            c0 = cpu_seconds(self.redis.proc.pid)
            ru0 = resource_children()
            out = run_json([push, "--redis", self.redis.url, "--many", str(self.size["push_many"]),
                            "--tag", "prof"])
            push_cpu = ((cpu_seconds(self.redis.proc.pid) - c0) * 1e6 / out["jobs"],
                        (resource_children() - ru0) * 1e6 / out["jobs"])
            self.perf_stop(pr2)
            if os.path.exists(data2):
                push_cats = self.perf_categories(data2, "redis-server")

        def cat_table(rows):
            return "\n".join(f"| {c} | {v:.1f}% |" for v, c in rows if v >= 0.5)

        t = ["Taken after the measured runs (not counted in them): `perf record -F 1999 -g -e "
             f"cpu-clock` on {k} drudge-noop processes and redis-server while they drain {n:,} "
             "no-op jobs.\n", "By process and object (share of all samples):\n", "```",
             *by_comm, "```\n", "Top symbols:\n", "```", *by_sym, "```\n"]
        if cat_redis:
            t += ["redis-server's samples by kind of work (the worker cycle):\n",
                  "| kind | share of redis-server |\n|---|---|", cat_table(cat_redis), ""]
        if cat_worker:
            t += ["drudge-noop's samples by kind of work:\n",
                  "| kind | share of drudge-noop |\n|---|---|", cat_table(cat_worker), ""]
        if push_cats:
            t += [f"redis-server's samples during `drudge_push_many` of {self.size['push_many']:,} "
                  f"jobs (redis-server {push_cpu[0]:.1f} µs and the producer {push_cpu[1]:.1f} µs "
                  "of CPU per job):\n",
                  "| kind | share of redis-server |\n|---|---|", cat_table(push_cats), ""]
        self.profile_text = "\n".join(t) + "\n" + self.reading(cat_redis, push_cats, push_cpu)
        self.profile_cats = {"worker_redis": cat_redis, "worker": cat_worker, "push": push_cats,
                             "push_cpu": push_cpu}
        self.redis.flush()

    def reading(self, cat_redis, push_cats, push_cpu):
        """Where the time goes, in words, from this run's numbers."""
        out = ["**Reading.**"]
        srv, wrk = median(self.get(("cpu_srv", "drudge", 2))), median(self.get(("cpu_wrk", "drudge", 2)))
        if srv and wrk:
            out.append(f"With 2 workers a no-op job costs {srv:.1f} µs of redis-server CPU and "
                       f"{wrk:.1f} µs of worker CPU. redis-server executes commands and scripts "
                       f"on one thread, so it alone caps drudge near {1e6 / srv / 1000:.0f}k jobs/s "
                       "here, whatever the number of workers; the workers are "
                       f"{srv / wrk:.1f}x cheaper and are not what limits throughput.")
        fsrv = median(self.get(("cpu_srv", "floor", 2)))
        if fsrv:
            out.append(f"The plain BLPOP loop costs redis-server {fsrv:.1f} µs a job, nearly all of "
                       "it the socket read and write of one round trip per job; drudge's ack_fetch "
                       "script spreads one round trip over a batch of up to 32 jobs, so its "
                       "redis-server time goes to the per-job bookkeeping inside the script "
                       "instead (src/lib/scripts/ack_fetch.lua: the processing-list removal, the "
                       "status-hash reads and writes, its expiry, and the check whether anyone "
                       "listens for the status), each a redis.call with its own key lookup.")
        if cat_redis:
            out.append("In the profile, redis-server's time in the worker cycle goes to: "
                       + ", ".join(f"{c} {v:.0f}%" for v, c in cat_redis[:5]) + ".")
        if push_cats and push_cpu:
            out.append(f"A pipelined push costs redis-server {push_cpu[0]:.1f} µs and the producer "
                       f"{push_cpu[1]:.1f} µs a job (the producer validates each payload as JSON "
                       "and derives its id, then src/lib/scripts/push_many.lua writes each status "
                       "hash); redis-server's share: "
                       + ", ".join(f"{c} {v:.0f}%" for v, c in push_cats[:4]) + ". "
                       "Sidekiq's push_bulk is one LPUSH of 1,000 payloads and one SADD, and "
                       "writes no status.")
        return " ".join(out) + "\n"

    # -- the report

    def best(self, name):
        """(median rate, process count) of the best process count, or (None, None)."""
        meds = [(median(self.get(("noop", name, k))), k) for k in PROCS if self.get(("noop", name, k))]
        return max(meds) if meds else (None, None)

    def versions(self):
        def cmd(args, pat=None):
            try:
                p = subprocess.run(args, capture_output=True, text=True, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                return None
            text = (p.stdout + p.stderr).strip()
            if pat:
                m = re.search(pat, text)
                return m.group(1) if m else None
            return text.splitlines()[0] if text else None

        have = {s.name for s in self.systems}
        v = [("redis-server", cmd(["redis-server", "--version"], r"v=(\S+)")),
             ("redis-benchmark", cmd(["redis-benchmark", "--version"], r"redis-benchmark (\S+)"))]
        rev = cmd(["git", "-C", ROOT, "describe", "--always", "--dirty"])
        v.append(("drudge", f"{cmd([os.path.join(BUILD, 'drudge-noop'), '--version'])} (git {rev})"))
        v.append(("hiredis", cmd(["pkg-config", "--modversion", "hiredis"])))
        if "beanstalkd" in have:
            v.append(("beanstalkd", cmd(["beanstalkd", "-v"], r"beanstalkd (\S+)")))
        if "gearman" in have:
            v.append(("gearmand", cmd(["gearmand", "--version"], r"gearmand (\S+)")))
        if "sidekiq" in have:
            sk = cmd(["ruby", "-e", "require %q(sidekiq); print Sidekiq::VERSION"])
            ruby = cmd(["ruby", "-v"], r"ruby (\S+)")
            v.append(("sidekiq", f"{sk} (ruby {ruby})"))
        if "rq-simple" in have:
            v.append(("rq", f"{cmd([PYTHON, '-c', 'import rq; print(rq.__version__)'])} "
                            f"(python {platform.python_version()})"))
        if "bullmq" in have:
            def pkg(m):
                with open(os.path.join(NODE_MODULES, m, "package.json")) as f:
                    return json.load(f)["version"]
            v.append(("bullmq", f"{pkg('bullmq')} (ioredis {pkg('ioredis')}, node "
                                f"{cmd(['node', '--version'])})"))
        for name, why in self.skipped.items():
            v.append((name, f"not measured: {why}"))
        return v

    def machine(self):
        model, mem = "?", "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
        try:
            with open("/etc/debian_version") as f:
                deb = "Debian " + f.read().strip()
        except OSError:
            deb = platform.platform()
        return [("CPU", f"{model}, nproc {os.cpu_count()}"), ("memory", mem),
                ("kernel", f"{platform.system()} {platform.release()} ({deb})"),
                ("load average (1/5/15 min) at start",
                 " / ".join(f"{x:.2f}" for x in self.load0)),
                ("load average at end", " / ".join(f"{x:.2f}" for x in os.getloadavg()))]

    def targets(self):
        t = []
        d, dk = self.best("drudge")
        peers = [(self.best(s.name), s.label) for s in self.systems
                 if s.name not in ("drudge", "floor")]
        peers = [(v, k, label) for (v, k), label in peers if v is not None]
        if d is not None and peers:
            pv, pk, plabel = max(peers)
            rr = ratio(d, pv)
            t.append(("no-op processing, full guarantees, best of 1/2/4 processes >= 1.2x the best peer",
                      f"drudge {k_fmt(d)}/s ({dk} proc.) vs {plabel} {k_fmt(pv)}/s ({pk} proc.)",
                      rr, rr >= 1.2))
        f, fk = self.best("floor")
        if d is not None and f is not None:
            rr = ratio(d, f)
            t.append(("no-op processing >= 0.6x the plain-BLPOP floor",
                      f"drudge {k_fmt(d)}/s vs floor {k_fmt(f)}/s ({fk} proc.)", rr, rr >= 0.6))
        pairs = self.get(("pair", "one/rpush"))
        if pairs:
            rr = median(pairs)
            t.append(("enqueue one by one (status written) >= 0.8x redis-benchmark RPUSH -c 1 -P 1",
                      f"drudge_push {spread(self.get(('enq', 'c-one')))}/s vs RPUSH "
                      f"{spread(self.get(('enq', 'rb-c1')))}/s, run back to back; ratio per "
                      f"repetition {spread(pairs, r_fmt)}", rr, rr >= 0.8))
        pairs = self.get(("pair", "many/push_bulk"))
        if pairs:
            rr = median(pairs)
            t.append(("enqueue pipelined >= 3x Sidekiq's push_bulk",
                      f"drudge_push_many {spread(self.get(('enq', 'c-many')))}/s vs push_bulk "
                      f"{spread(self.get(('enq', 'sidekiq-bulk')))}/s, back to back; ratio per "
                      f"repetition {spread(pairs, r_fmt)}" + (
                          f"; Redis' own ceiling for creating one status hash per job "
                          f"(redis-benchmark HSET of new keys, -P 100) is "
                          f"{spread(self.get(('enq', 'rb-hset-new')))}/s = "
                          f"{r_fmt(median(self.get(('enq', 'rb-hset-new'))) / median(self.get(('enq', 'sidekiq-bulk'))))}"
                          f" push_bulk, and drudge_push_many reaches "
                          f"{spread(self.get(('pair', 'many/hset_new')), r_fmt)} of it"
                          if self.get(("enq", "rb-hset-new")) and self.get(("enq", "sidekiq-bulk"))
                          else ""), rr, rr >= 3))
        lat = self.get(("lat", "1000/s", "done_us"))
        if lat:
            p99 = median([x[1] for x in lat])
            t.append(("latency p99 enqueue->start < 2 ms at 1,000 jobs/s",
                      f"p99 {p99:.2f} ms (enqueue->done, an upper bound of enqueue->start)",
                      None, p99 < 2.0))
        floor = [x["VmRSS"] for x in self.get(("rss_floor", "libcurl")) if x["VmRSS"]]
        for prog, cap in (("drudge-noop", 3), ("drudge-email", 8), ("drudge-http", 8)):
            idle = [x["idle"] for x in self.get(("rss", prog)) if x["idle"]]
            if idle:
                m = median(idle)
                what = mib(m)
                if floor and prog != "drudge-noop":
                    what += (f" (a program that only links and initialises Debian's libcurl: "
                             f"{mib(median(floor))})")
                t.append((f"idle RSS {prog} <= {cap} MiB", what, None, m <= cap * 1024))
        series = getattr(self, "flat_series", [])
        if len(series) >= 2 and series[0][1] and series[-1][1]:
            diff = series[-1][1] - series[0][1]
            t.append((f"flat memory: drudge-noop RSS after {series[-1][0]:,} jobs within 1 MiB of "
                      f"after {series[0][0]:,}",
                      f"{mib(series[0][1])} -> {mib(series[-1][1])} ({diff:+d} kB)", None,
                      abs(diff) <= 1024))
        return t

    def write(self, targets):
        S, a = self.size, []
        reps = self.reps_done
        planned = "" if reps == self.args.reps else f" (of {self.args.reps} planned: the time limit)"
        a.append("# drudge benchmark results\n")
        a.append(f"Written by `make bench` (bench/run.py{' --quick' if self.args.quick else ''}) on "
                 f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(self.wall0))}: {reps} "
                 f"repetition{'s' if reps > 1 else ''}{planned}, every case once per repetition, "
                 "interleaved; "
                 f"the run took {self.elapsed() / 60:.1f} min. Figures are medians with [min-max] over "
                 "the repetitions. **Every ratio compares figures measured in this run** - never "
                 "compare with a number from an earlier run or another machine. The machine is shared "
                 "and noisy: see the load averages.\n")
        a.append("Guarantees are stated next to each figure: *status* = a per-job status that a web "
                 "app can poll is kept after the job; *crash-safe* = a job fetched by a worker that "
                 "is then killed is not lost. All servers run in memory (Redis without AOF or RDB, "
                 "beanstalkd without binlog, gearmand without a persistent queue), so none of the "
                 "figures includes durability against a server crash.\n")
        a.append("## Machine\n\n| | |\n|---|---|")
        a += [f"| {k} | {v} |" for k, v in self.machine()]
        a.append("\n## Versions\n\n| component | version |\n|---|---|")
        a += [f"| {k} | {v or '?'} |" for k, v in self.versions()]

        a.append("\n## Targets (issue 4)\n\n| target | measured (this run) | ratio | met? |\n"
                 "|---|---|---|---|")
        for name, measured, rr, met in targets:
            a.append(f"| {name} | {measured} | {r_fmt(rr)} | "
                     f"{'**met**' if met else '**not met**'} |")
        if not targets:
            a.append("| (no target could be evaluated: see the notes) | | | |")

        # (2) throughput
        d, _ = self.best("drudge")
        a.append("\n## No-op processing throughput (jobs/s)\n")
        a.append("A queue pre-filled with N small distinct jobs (pipelined RPUSH or the peer's own "
                 "bulk enqueue), then 1, 2 or 4 worker processes started; the rate runs from the first "
                 "job seen done to the last (so a Ruby or Node worker's boot does not count). drudge "
                 "is done when `NoopJob:stats processed` reaches N (its processing lists and queue "
                 "are checked empty afterwards); the peers when their own counters say so (Sidekiq: "
                 "when its queue is empty, with <= 10 jobs per process still in flight). "
                 "drudge-noop runs with `--log-level warn` and the default config (prefetch 32).\n")
        a.append("| system | N | 1 proc. | 2 proc. | 4 proc. | drudge best / its best | status | "
                 "crash-safe |\n|---|---|---|---|---|---|---|---|")
        for s in self.systems:
            cells = [spread(self.get(("noop", s.name, k))) for k in PROCS]
            b, _ = self.best(s.name)
            rr = "-" if s.name == "drudge" else r_fmt(ratio(d, b))
            a.append(f"| {s.label} | {S[s.name]:,} | {' | '.join(cells)} | {rr} | {s.status} | "
                     f"{s.crash_safe} |")
        cpu_rows = [(s, self.get(("cpu_srv", s.name, 2)), self.get(("cpu_wrk", s.name, 2)))
                    for s in self.systems]
        if any(x[1] for x in cpu_rows):
            a.append("\nCPU time per job with 2 worker processes (µs, from /proc/PID/stat; the "
                     "server is redis-server, beanstalkd or gearmand; on 2 cores the sum bounds "
                     "the rate):\n\n| system | server | workers | sum |\n|---|---|---|---|")
            for s, srv, wrk in cpu_rows:
                if srv:
                    ms, mw = median(srv), median(wrk) if wrk else None
                    a.append(f"| {s.label} | {ms:.1f} | {'-' if mw is None else f'{mw:.1f}'} | "
                             f"{'-' if mw is None else f'{ms + mw:.1f}'} |")
        spawn = [spread(self.get(("noop_spawn", "drudge", k))) for k in PROCS]
        if any(x != "-" for x in spawn):
            a.append(f"\ndrudge timed from the workers' spawn instead (start-up included): "
                     f"{' / '.join(spawn)} jobs/s with 1 / 2 / 4 processes.")
        fills = [(s, self.get(("fill", s.name))) for s in self.systems if self.get(("fill", s.name))]
        if fills:
            a.append("\nThe peers' bulk enqueue, timed while pre-filling (jobs/s; Sidekiq's figure "
                     "in the enqueue table below is the one the target uses): "
                     + "; ".join(f"{s.name} {spread(v)}" for s, v in fills) + ".")

        # (1) enqueue
        a.append("\n## Enqueue (jobs/s)\n")
        rb1 = median(self.get(("enq", "rb-c1"))) or median(self.get(("rb", "RPUSH", "c1 P1")))
        rbp = median(self.get(("rb", "RPUSH", "c1 P16")))
        rows = [("drudge_push (C API), one by one", "c-one", S["push_one"],
                 "status hash `queued` + list, one round trip (push script)", rb1, "RPUSH -c 1 -P 1"),
                ("drudge_push_many (C API), pipelined", "c-many", S["push_many"],
                 "status hash `queued` + list, batched script calls (src/lib/queue.c)",
                 rbp, "RPUSH -c 1 -P 16"),
                ("`drudge push` (CLI), one process per job", "cli", S["push_cli"],
                 "as drudge_push, plus a process start", rb1, "RPUSH -c 1 -P 1"),
                ("for scale: `redis-cli RPUSH`, one process per job", "redis-cli", S["push_cli"],
                 "list only", rb1, "RPUSH -c 1 -P 1"),
                ("Sidekiq::Client.push_bulk, 1,000 per call", "sidekiq-bulk", S["push_many"],
                 "list only, no status", rbp, "RPUSH -c 1 -P 16"),
                ("for scale: redis-benchmark HSET of a new status-like hash (4 fields) per "
                 "request, -c 1 -P 100", "rb-hset-new", S["push_many"],
                 "status hash only, no list, no script", None, None)]
        if any(self.get(("enq", r[1])) for r in rows):
            a.append("| producer | jobs | writes | jobs/s | vs redis-benchmark |\n|---|---|---|---|---|")
        for label, key, n, writes, ceil, ceil_label in rows:
            v = self.get(("enq", key))
            if not v:
                continue
            vs = f"{r_fmt(ratio(median(v), ceil))} of {ceil_label}" if ceil_label else "-"
            a.append(f"| {label} | {n:,} | {writes} | {spread(v)} | {vs} |")
        notes = [(label, self.get(("pair", key))) for label, key in (
            ("drudge_push / redis-benchmark RPUSH -c 1 -P 1", "one/rpush"),
            ("drudge_push_many / Sidekiq push_bulk", "many/push_bulk"),
            ("drudge_push_many / redis-benchmark HSET of new status-like hashes",
             "many/hset_new"),
            ("`drudge push` / `redis-cli RPUSH`", "cli/redis-cli"))]
        notes = [f"{label} {spread(v, r_fmt)}" for label, v in notes if v]
        if notes:
            a.append("\nEach drudge producer ran right after (or before) what it is compared with; "
                     "the ratios per repetition: " + "; ".join(notes) + ".")

        # (3) latency
        if self.get(("lat", "1000/s", "done_us")):
            a.append("\n## Latency (ms)\n")
            a.append("Two idle drudge-noop processes; `bench/latency_bench` sends jobs with plain "
                     "RPUSH at a steady rate (open loop: each at its scheduled time, never waiting "
                     "for the workers). *enqueue->done* is exact: from just before the RPUSH is "
                     "written to the moment the same process receives the keyspace event `expire` "
                     "that the worker's ack sets on the finished job's status hash (both on one "
                     "monotonic clock, so it includes the event's delivery, tens of µs). "
                     "*enqueue->start* comes from the status hash: `started_at` is whole "
                     "milliseconds of Redis' clock (truncated), minus the push time on this host's "
                     "clock, so it reads up to 1 ms low. A no-op job ends before the runtime marks "
                     "it running (50 ms), so drudge writes its `started_at` in the ack as "
                     "`finished_at - run_ms`: for this job start and done fall in the same "
                     "millisecond, and the exact enqueue->done is the honest upper bound for "
                     "enqueue->start that the target is judged on. The last row of each load is the "
                     "RPUSH's own round trip, timed by the same sender at the same moment: what "
                     "the machine and Redis add before any queue logic.\n")
            a.append("| load | jobs/s sent | metric | p50 | p99 | max |\n|---|---|---|---|---|---|")
            for label in ("1000/s", "50% of capacity"):
                rate = median(self.get(("lat_rate", label)))
                for metric, name in (("done_us", "enqueue->done (exact)"),
                                     ("start_ms", "enqueue->start (status hash, 1 ms steps)"),
                                     ("done_hash_ms", "enqueue->done (status hash, 1 ms steps)"),
                                     ("rtt_us", "for scale: the RPUSH's own round trip")):
                    v = self.get(("lat", label, metric))
                    if not v:
                        continue
                    f2 = lambda x: f"{x:.2f}"  # noqa: E731
                    cells = [spread([x[i] for x in v], f2) for i in range(3)]
                    a.append(f"| {label} | {k_fmt(rate)} | {name} | {' | '.join(cells)} |")
            lag = [x for k in ("1000/s", "50% of capacity") for x in self.get(("lat_lag", k))]
            if lag:
                a.append(f"\nThe sender's worst lag behind its schedule: {max(lag):.2f} ms.")
            for label in ("1000/s", "50% of capacity"):
                rtt = self.get(("lat", label, "rtt_us"))
                rate = median(self.get(("lat_rate", label)))
                if rtt and rate and max(x[2] for x in rtt) > 5:
                    stall = max(x[2] for x in rtt)
                    a.append(f"At {label} the RPUSH's own round trip took up to {stall:.0f} ms: the "
                             "machine itself stalled (the 2 cores are shared with other work). A "
                             f"stall of {stall:.0f} ms at {k_fmt(rate)} jobs/s leaves "
                             f"{rate * stall / 1000:,.0f} jobs to catch up with, and the jobs "
                             "queued behind them wait for that: the tail of enqueue->done above "
                             "moves with these stalls.")

        # (4) memory
        progs = sorted({k[1] for k in self.samples if k[0] == "rss"})
        if progs:
            a.append("\n## Memory (RSS, from /proc/PID/status VmRSS)\n")
            a.append("Each worker binary in build/release started alone (`--class BenchRss`): "
                     "*idle* after 1 s with an empty queue; *busy* the most seen while it works "
                     "through a burst of jobs; *after* once the burst is done. drudge-noop's burst "
                     "is no-op jobs; the other workers get `{\"bench\":n}` jobs that fail their "
                     "validation at once (their runtime, not their libraries' work: each worker's "
                     "own issue has the real figures).\n")
            a.append("| worker | idle | idle: anonymous | idle: file-backed (shared libraries) | "
                     "busy | after | burst |\n|---|---|---|---|---|---|---|")
            for prog in progs:
                v = self.get(("rss", prog))
                cells = [spread([x[f] for x in v if x[f]], mib)
                         for f in ("idle", "anon", "file", "busy", "after")]
                a.append(f"| {prog} | {' | '.join(cells)} | {v[0]['jobs']:,} jobs |")
            floor = self.get(("rss_floor", "libcurl"))
            if floor:
                cells = [spread([x[f] for x in floor if x[f]], mib)
                         for f in ("VmRSS", "RssAnon", "RssFile")]
                a.append(f"| for scale: bench/libcurl_floor (links Debian's libcurl, "
                         f"curl_global_init + one easy handle, nothing else) | {' | '.join(cells)} "
                         "| - | - | - |")
                a.append("\ndrudge-email and drudge-http link Debian's libcurl, which loads about "
                         "30 libraries (OpenSSL, GnuTLS through librtmp, Kerberos, LDAP, libssh2, "
                         "nghttp2, ...), all built with BIND_NOW: the libcurl floor row is what any "
                         "program using it costs before doing anything. drudge-http initialises "
                         "libcurl on its first job, so its idle figure is below that floor and its "
                         "busy one is not; drudge-email initialises it at start (its SMTP settings "
                         "are checked before the first job).")
            peer_rows = [(s, self.get(("rss_idle_peer", s.name)), self.get(("rss_busy", s.name)))
                         for s in self.systems if s.name != "floor"]
            if any(x[1] or x[2] for x in peer_rows):
                a.append("\nOne worker process of each system (idle: measured once, after its boot "
                         "with an empty queue; busy: the most seen in any process during the "
                         "throughput runs):\n\n| system | idle | busy |\n|---|---|---|")
                for s, idle, busy in peer_rows:
                    if s.name == "drudge":
                        idle = [x["idle"] for x in self.get(("rss", "drudge-noop")) if x["idle"]]
                    a.append(f"| {s.label} | {spread(idle, mib)} | {spread(busy, mib)} |")
        series = getattr(self, "flat_series", [])
        if series:
            a.append("\n### Flat memory\n")
            a.append("One drudge-noop process; jobs pushed in chunks of <= 50,000 (the queue "
                     "never holds more), RSS read when the worker has caught up with each "
                     f"checkpoint. Redis used {getattr(self, 'redis_mem', '?')} at the end "
                     "(status hashes kept for status_ttl).\n")
            a.append("| jobs done | VmRSS | VmHWM |\n|---|---|---|")
            a += [f"| {n:,} | {mib(r)} ({r} kB) | {mib(h)} |" for n, r, h in series]

        # (6) ceiling
        cmds = ["RPUSH", "LPOP", "LMOVE", "HSET", "EVALSHA"]
        if self.get(("rb", "RPUSH", "c1 P1")):
            a.append("\n## Ceiling: redis-benchmark (requests/s)\n")
            a.append("`redis-benchmark -c C -P P -d 40` against the same redis-server. LMOVE "
                     "rotates a 100-element list (the non-blocking form of drudge's BLMOVE); HSET "
                     "writes two status-like fields; EVALSHA runs a two-call script (RPUSH + LPOP). "
                     "`-c 1 -P 1` is one client waiting for each reply, as a worker or a producer "
                     "pushing one job at a time does.\n")
            labels = RB_LABELS
            a.append("| command | " + " | ".join("-c %s -P %s" % tuple(x[1:] for x in lb.split())
                                                  for lb in labels)
                     + " |\n|---|" + "---|" * len(labels))
            for c in cmds:
                a.append(f"| {c} | " + " | ".join(spread(self.get(("rb", c, x))) for x in labels) + " |")
            f, fk = self.best("floor")
            if f:
                a.append(f"\nPlain BLPOP loop (bench/blpop_floor.c, one round trip per job, no "
                         f"status, not crash-safe): best {k_fmt(f)} jobs/s with {fk} processes; "
                         "see the throughput table.")

        # (8) the worker sections
        if self.worker_sections:
            a.append("\n## Workers\n")
            a.append("Each shipped worker against what a script would otherwise spawn per job, "
                     "by bench/email_bench.py, http_bench.py, image_bench.py and pdf_bench.py "
                     "(`--cases email,http,image,pdf`). Each section starts its own redis-server "
                     "and counterpart (SMTP sink, HTTP server, ImageMagick, Chromium) after the "
                     "cases above, and each ratio in it compares figures from that section in "
                     "this run; its repetitions are its own, interleaved inside it.\n")
            for _, text in self.worker_sections:
                a.append(text.strip() + "\n")

        if self.profile_text:
            a.append("\n## Profile\n")
            a.append(self.profile_text)
        notes = list(self.notes)
        if self.budget_skips:
            notes.append(f"The time limit ({self.args.limit:.0f} s) was near (the machine was "
                         "slow): skipped " + "; ".join(self.budget_skips) + ". Those rows have "
                         "fewer samples.")
        if notes:
            a.append("\n## Notes from this run\n")
            a += [f"- {n}" for n in notes]
        a.append("")
        with open(self.args.out, "w") as fh:
            fh.write("\n".join(a))
        with open(os.path.splitext(self.args.out)[0].replace("RESULTS", "results") + ".json", "w") as fh:
            json.dump({"|".join(str(x) for x in k): v for k, v in self.samples.items()}, fh, indent=0)


def main():
    ap = argparse.ArgumentParser(description="drudge's benchmarks: writes bench/RESULTS.md")
    ap.add_argument("--quick", action="store_true",
                    help="1 repetition, smaller sizes (< 4 min with the worker sections)")
    ap.add_argument("--reps", type=int, help="repetitions (default 3, 1 with --quick)")
    ap.add_argument("--cases", default=",".join(ALL_CASES),
                    help=f"comma-separated: {','.join(ALL_CASES)} (default: all)")
    ap.add_argument("--no-peers", action="store_true", help="drudge and the ceiling only")
    ap.add_argument("--profile", choices=("auto", "yes", "no"), default="auto",
                    help="perf profile of drudge: auto = when a throughput target is missed "
                         "(not with --quick)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = ap.parse_args()
    args.reps = args.reps or (1 if args.quick else 3)
    # The run must end within the limit: a repetition starts only if a good
    # part of one more fits, a run inside it only while time is left,
    # and `reserve` is kept for flat memory, the profile and the report.
    args.limit = 165.0 if args.quick else 840.0
    args.reserve = 20.0 if args.quick else 75.0
    args.run_timeout = 20.0 if args.quick else 60.0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    bad = [c for c in cases if c not in ALL_CASES]
    if bad:
        ap.error(f"unknown case {bad[0]!r}: use {', '.join(ALL_CASES)}")
    # the worker sections get their own allowance on top of the limit
    worker_cases = [c for c in WORKER_CASES if c in cases]
    worker_secs = sum(WORKER_SIZES["quick" if args.quick else "full"][c]["secs"]
                      for c in worker_cases)

    b = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    def guarded(what, fn, *a):
        try:
            fn(*a)
        except Exception as e:  # a failing case is a note, not a lost run
            b.note(f"{what} failed: {type(e).__name__}: {e}")

    ok = False
    try:
        b.setup()
        rep_secs = 0.0
        for rep in range(args.reps):
            # a repetition that cannot finish still adds samples to its first
            # cases; the per-run checks below cut it short
            left = f"repetition {rep + 1}" + (f"-{args.reps}" if rep + 1 < args.reps else "")
            if rep > 0 and b.over_budget(left, 0.4 * rep_secs):
                break
            log(f"repetition {rep + 1} of {args.reps}")
            b.reps_done = rep + 1
            rep_start = b.elapsed()
            if "ceiling" in cases:
                guarded("redis-benchmark", b.ceiling, rep)
            if "enqueue" in cases:
                guarded("enqueue", b.enqueue, rep)
            if "noop" in cases:
                order = b.systems[rep % len(b.systems):] + b.systems[:rep % len(b.systems)]
                for k in PROCS:
                    for s in order:
                        if rep > 0 and b.over_budget(
                                f"{s.name} with {k} processes in repetition {rep + 1}"):
                            continue
                        log(f"no-op throughput: {s.name}, {k} process{'es' if k > 1 else ''}")
                        guarded(f"{s.name} with {k} processes", b.throughput, s, k, rep)
            if "latency" in cases:
                log("latency")
                guarded("latency", b.latency, rep)
            if "memory" in cases:
                log("memory")
                guarded("memory", b.memory, rep)
            rep_secs = max(rep_secs, b.elapsed() - rep_start)
        b.args.reserve = 0.0
        if "flat" in cases and not b.over_budget("the flat-memory case",
                                                 15.0 if args.quick else 50.0):
            log("flat memory")
            guarded("flat memory", b.flat)
        if worker_cases:
            b.args.limit += worker_secs
            for c in worker_cases:
                est = WORKER_SIZES["quick" if args.quick else "full"][c]["secs"]
                title = b.WORKER_TITLES[c]
                if b.over_budget(f"the {c} worker section", est):
                    b.worker_sections.append((c, f"### {title}\n\nSkipped: the time limit."))
                    continue
                log(f"worker section: {c}")
                n = len(b.worker_sections)
                guarded(f"the {c} worker section", b.worker_case, c)
                if len(b.worker_sections) == n:
                    b.worker_sections.append((c, f"### {title}\n\nFailed: see the notes."))
        targets = b.targets()
        missed_speed = any(not met and ("processing" in name or "enqueue" in name)
                           for name, _, _, met in targets)
        if args.profile == "yes" or (args.profile == "auto" and missed_speed and not args.quick):
            if args.profile == "yes" or not b.over_budget("the profile", 25.0):
                log("profile")
                guarded("profile", b.profile)
        b.write(targets)
        log(f"wrote {args.out} ({b.elapsed():.0f} s)")
        ok = True
    finally:
        b.procs.stop_all()
        if ok:
            shutil.rmtree(b.tmp, ignore_errors=True)
        else:
            print(f"bench: logs kept in {b.tmp}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
