"""Fixtures for drudge's system tests: real servers on loopback, free ports.

Every test gets its own redis-server (in tmp_path, on a free port) and
starts workers through the `workers` factory; everything a test started is
stopped by PID afterwards.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis as redis_py

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("DRUDGE_BUILD", "build/release"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def binary(name):
    return os.path.join(BUILD, name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """Poll pred() until it returns a truthy value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sha256_id(payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return hashlib.sha256(payload).hexdigest()


class RedisServer:
    def __init__(self, directory, appendonly=True, extra=()):
        self.dir = str(directory)
        self.port = free_port()
        self.appendonly = appendonly
        self.extra = list(extra)
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()
        self.client = redis_py.Redis(host="127.0.0.1", port=self.port, decode_responses=True)

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--daemonize", "no",
                "--appendonly", "yes" if self.appendonly else "no",
                "--appendfsync", "everysec", "--logfile", os.path.join(self.dir, "redis.log")]
        self.proc = subprocess.Popen(args + self.extra)
        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False
        wait_for(up, 10, what="redis-server to listen")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: flushes the AOF
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def redis_server(tmp_path):
    d = tmp_path / "redis"
    d.mkdir()
    srv = RedisServer(d)
    yield srv
    srv.stop()


@pytest.fixture
def r(redis_server):
    """A redis-py client (str responses) on the test's Redis."""
    return redis_server.client


@pytest.fixture
def config_file(tmp_path):
    """config_file(yaml_text) -> path of a config file in tmp_path."""
    n = [0]
    def make(text):
        n[0] += 1
        p = tmp_path / f"drudge-{n[0]}.yaml"
        p.write_text(text)
        return str(p)
    return make


class Workers:
    def __init__(self, redis_server, tmp_path):
        self.redis = redis_server
        self.tmp = tmp_path
        self.procs = []

    def start(self, program="drudge-noop", *args, config=None, env=None, n=1, log=None):
        """Start n worker processes; returns the list of Popen objects."""
        started = []
        for _ in range(n):
            e = dict(os.environ)
            e["DRUDGE_REDIS_URL"] = self.redis.url
            e.pop("DRUDGE_CONFIG", None)
            if env:
                e.update(env)
            cmd = [binary(program)]
            if config:
                cmd += ["--config", config]
            cmd += list(args)
            logpath = log or str(self.tmp / f"{program}-{len(self.procs)}.log")
            f = open(logpath, "ab")
            p = subprocess.Popen(cmd, env=e, stdout=f, stderr=subprocess.STDOUT)
            p.logpath = logpath
            f.close()
            self.procs.append(p)
            started.append(p)
        return started

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def workers(redis_server, tmp_path):
    w = Workers(redis_server, tmp_path)
    yield w
    w.stop_all()


def run_cli(redis_server, *args, input=None, config=None, timeout=30, env=None):
    """Run the drudge CLI against the test Redis; returns CompletedProcess (text)."""
    e = dict(os.environ)
    e["DRUDGE_REDIS_URL"] = redis_server.url
    e.pop("DRUDGE_CONFIG", None)
    if env:
        e.update(env)
    cmd = [binary("drudge")]
    if config:
        cmd += ["--config", config]
    cmd += list(args)
    return subprocess.run(cmd, input=input, capture_output=True, text=True, env=e, timeout=timeout)


@pytest.fixture
def cli(redis_server):
    def call(*args, **kw):
        return run_cli(redis_server, *args, **kw)
    return call


def status(r, cls, job_id):
    return r.hgetall(f"{cls}:status:{job_id}")


def status_fields(r, cls, ids, *fields):
    """Fields of many jobs' status hashes in one round trip, one row per id:
    the value of the field when one is named, the list of values (HMGET)
    when several are."""
    pipe = r.pipeline(transaction=False)
    for i in ids:
        if len(fields) == 1:
            pipe.hget(f"{cls}:status:{i}", fields[0])
        else:
            pipe.hmget(f"{cls}:status:{i}", *fields)
    return pipe.execute()


def all_done(r, cls, ids):
    """Whether every one of the jobs is in state done."""
    return all(s == "done" for s in status_fields(r, cls, ids, "state"))


def push_many(r, cls, payloads):
    """RPUSH every payload onto the class's queue, in order, in one round trip."""
    pipe = r.pipeline(transaction=False)
    for p in payloads:
        pipe.rpush(cls, p)
    pipe.execute()


# ---- waiting on workers, with their logs in the failure ----

def worker_logs(procs, tail=6000):
    """The last `tail` characters of each worker's log (see Workers.start),
    headed by its path, pid and exit code: what a failed assertion shows."""
    out = []
    for p in procs:
        try:
            with open(p.logpath, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        out.append(f"--- {p.logpath} (pid={p.pid} rc={p.poll()})\n{text[-tail:]}")
    return "\n".join(out)


def wait_until(pred, timeout, what, procs=(), extra=lambda: "", interval=0.02, tail=6000):
    """wait_for(pred); on timeout the error also carries extra() and the
    logs of procs."""
    try:
        return wait_for(pred, timeout, interval=interval, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; {extra()}\n{worker_logs(procs, tail)}") from None


def wait_state(r, job_id, states, procs=(), timeout=60, *, cls, tail=6000):
    """Wait until the job's status state is `states` (a str) or one of them
    (a tuple); returns the status hash. Modules bind cls (and their timeout
    and log tail) with functools.partial."""
    if isinstance(states, str):
        states = (states,)
    wait_until(lambda: status(r, cls, job_id).get("state") in states, timeout,
               f"{cls}:status:{job_id} state in {states}", procs,
               lambda: f"status={status(r, cls, job_id)}", tail=tail)
    return status(r, cls, job_id)


def wait_registered(r, procs, timeout=60, tail=6000):
    """Wait until every process in procs has written its first heartbeat (it
    is connected and about to take jobs); returns their worker ids, in the
    order of procs."""
    def ids():
        registered = r.zrange("drudge:workers", 0, -1)
        found = [next((w for w in registered if f":{p.pid}:" in w), None) for p in procs]
        return (found,) if all(found) else None
    return wait_until(ids, timeout, "workers to register", procs, tail=tail)[0]


def assert_alive(procs, tail=6000):
    """Assert that none of procs has exited; the error shows the dead ones' logs."""
    dead = [p for p in procs if p.poll() is not None]
    assert not dead, (f"workers exited: {[(p.pid, p.returncode) for p in dead]}\n"
                      f"{worker_logs(dead, tail)}")
