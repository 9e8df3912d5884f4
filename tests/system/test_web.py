"""System tests of `drudge web`: the JSON API, Server-Sent Events, /metrics,
the pages, the safety list, and (through node) the browser tests.

Each test starts a real redis-server, real drudge-noop workers (and
drudge-image where it is built) and `drudge web --listen 127.0.0.1:<free
port>` with a token file, and talks plain HTTP to it over sockets, so every
header is the one the test wrote.
"""
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import zlib

import pytest

from conftest import ROOT, binary, free_port, sha256_id, wait_for

TOKEN = "test-token-0123456789abcdef"
BROWSER_DIR = os.path.join(ROOT, "tests", "system", "browser")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
PROMTOOL = "/usr/bin/promtool"


# ---- the server -------------------------------------------------------------

class Web:
    """A running `drudge web` and a small HTTP client for it."""

    def __init__(self, redis_server, tmp_path, *extra, timeout=5, config_text="", token_flag=True,
                 env=None):
        """extra: more flags; config_text: more YAML for the config file;
        token_flag: pass --token-file (with TOKEN); env: more environment."""
        self.tmp = tmp_path
        self.out_dir = tmp_path / "out"
        self.in_dir = tmp_path / "uploads"
        self.out_dir.mkdir(exist_ok=True)
        self.in_dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.config = tmp_path / f"web-{self.port}.yaml"
        self.config.write_text(
            f"image: {{input_dir: {self.in_dir}, output_dir: {self.out_dir}}}\n"
            "worker: {dead_after: 3, heartbeat: 1}\n" + config_text)
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        e = dict(os.environ, DRUDGE_REDIS_URL=redis_server.url)
        e.pop("DRUDGE_CONFIG", None)
        e.pop("DRUDGE_WEB_TOKEN", None)
        e.update(env or {})
        self.log = open(tmp_path / f"web-{self.port}.log", "wb")
        token_args = ["--token-file", str(token_file)] if token_flag else []
        self.proc = subprocess.Popen(
            [binary("drudge"), "--config", str(self.config), "web", "--listen", self.host,
             *token_args, "--timeout", str(timeout), *extra],
            env=e, stdout=self.log, stderr=subprocess.STDOUT)

        def up():
            assert self.proc.poll() is None, self.logtext()
            try:
                return self.get("/api/info")[0] == 200
            except OSError:
                return False
        wait_for(up, 10, what="drudge web to answer")

    def logtext(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode(errors="replace")

    def request(self, method, path, body=None, headers=None, token=None, timeout=10):
        h = {}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, token=TOKEN, **kw):
        return self.request("POST", path, body=body, token=token, **kw)

    def json(self, method, path, body=None, **kw):
        status, headers, data = self.request(method, path, body=body, **kw)
        assert headers.get("content-type", "").startswith("application/json"), (status, data)
        return status, json.loads(data)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("drudge web did not stop within 15 s of SIGTERM")
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def web(redis_server, tmp_path):
    w = Web(redis_server, tmp_path)
    yield w
    assert w.stop() == 0, w.logtext()


def stats_row(web, cls):
    status, data = web.json("GET", "/api/stats")
    assert status == 200
    rows = [c for c in data["classes"] if c["class"] == cls]
    return rows[0] if rows else None


def push(web, cls, payload, path_suffix="", **kw):
    status, data = web.json("POST", f"/api/jobs/{cls}{path_suffix}", body=payload, token=TOKEN, **kw)
    assert status == 201, data
    return data["id"]


class SSE:
    """An SSE client on a raw socket: events as (name, data dict)."""

    def __init__(self, web, cls, job_id, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", web.port), timeout=timeout)
        self.sock.sendall(f"GET /api/jobs/{cls}/{job_id}/events HTTP/1.1\r\nHost: {web.host}\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.headers = head.decode()
        self.chunked = b"transfer-encoding: chunked" in head.lower()
        self.raw = b""
        self.closed = False

    def _until(self, sep):
        while sep not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        out, self.buf = self.buf.split(sep, 1)
        return out

    def _body_bytes(self):
        if not self.chunked:
            data = self.buf or self.sock.recv(65536)
            self.buf = b""
            if not data:
                self.closed = True
            return data
        size = int(self._until(b"\r\n").split(b";")[0], 16)
        if size == 0:
            self.closed = True
            return b""
        while len(self.buf) < size + 2:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed inside a chunk")
            self.buf += data
        chunk, self.buf = self.buf[:size], self.buf[size + 2:]
        return chunk

    def next_event(self):
        """The next event (name, data), skipping comments; None at the end."""
        while True:
            while b"\n\n" not in self.raw:
                if self.closed:
                    return None
                self.raw += self._body_bytes()
            block, self.raw = self.raw.split(b"\n\n", 1)
            name, data = "message", []
            for line in block.decode().split("\n"):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
            if data:
                return name, json.loads("\n".join(data))

    def close(self):
        self.sock.close()


# ---- the JSON API -----------------------------------------------------------

def test_stats_api_shows_each_class_counts_and_pause(web, r):
    assert web.post("/api/classes/CountJob/pause", {"reason": "maintenance", "seconds": 600})[0] == 200
    for i in range(3):
        push(web, "CountJob", {"n": i})
    row = stats_row(web, "CountJob")
    assert row["queued"] == 3 and row["running"] == 0 and row["failed"] == 0
    assert row["paused"]["reason"] == "maintenance" and 0 < row["paused"]["ttl_ms"] <= 600000
    assert len(row["series"]["processed"]) == 60
    assert web.post("/api/classes/CountJob/resume")[0] == 200
    assert stats_row(web, "CountJob")["paused"] is None
    assert r.llen("CountJob") == 3


# ---- the per-minute plot, from the workers' counters in Redis ----------------

def redis_minute(r):
    sec, usec = r.time()
    return (sec * 1000 + usec // 1000) // 60000


def series_sums(row):
    return {f: sum(row["series"][f]) for f in ("processed", "failed", "retried")}


def test_per_minute_plot_is_whole_right_after_start(redis_server, workers, r, tmp_path):
    """Jobs done before `drudge web` started are in the plot and the per-minute
    figures of its first answer, and again after a restart."""
    workers.start("drudge-noop", "--class", "MinuteJob")
    for i in range(8):
        r.rpush("MinuteJob", json.dumps({"n": i}))
    for i in range(2):
        r.rpush("MinuteJob", json.dumps({"outcome": "fail", "n": i}))
    wait_for(lambda: r.hget("MinuteJob:stats", "processed") == "8"
             and r.hget("MinuteJob:stats", "failed") == "2", 15, what="ten jobs done")
    for attempt in range(2):  # the same numbers from a fresh server, twice
        w = Web(redis_server, tmp_path)
        try:
            before = redis_minute(r)
            row = stats_row(w, "MinuteJob")
            after = redis_minute(r)
            assert len(row["series"]["processed"]) == 60
            assert series_sums(row) == {"processed": 8, "failed": 2, "retried": 0}, row["series"]
            assert before <= row["series"]["start_minute"] + 59 <= after
            # the points are the workers' per-minute hashes, oldest first
            start = row["series"]["start_minute"]
            for i, (p, f) in enumerate(zip(row["series"]["processed"], row["series"]["failed"])):
                h = r.hgetall(f"MinuteJob:minute:{start + i}")
                assert (p, f) == (int(h.get("processed", 0)), int(h.get("failed", 0))), i
                if p or f:  # kept for 24 h
                    assert 80000 < r.ttl(f"MinuteJob:minute:{start + i}") <= 86400
            # done within the last minute or two: a rate above zero at once
            assert 0 < row["per_minute"]["processed"] <= 8
            assert 0 < row["per_minute"]["failed"] <= 2
            # the same counters through the API for tools, up to 24 h
            status, m = w.json("GET", "/api/classes/MinuteJob/minutes?minutes=1440")
            assert status == 200 and len(m["minutes"]) == 1440 and m["class"] == "MinuteJob"
            assert sum(x["processed"] for x in m["minutes"]) == 8
            assert sum(x["failed"] for x in m["minutes"]) == 2
            assert m["minutes"][-1]["minute"] == m["minute"] == m["now"] // 60000
            assert sum(x["run_ms"] for x in m["minutes"]) == int(r.hget("MinuteJob:stats", "run_ms") or 0)
            status, m = w.json("GET", "/api/classes/MinuteJob/minutes")
            assert status == 200 and len(m["minutes"]) == 60
            for bad in ["0", "1441", "x", "-5"]:
                assert w.get(f"/api/classes/MinuteJob/minutes?minutes={bad}")[0] == 400, bad
        finally:
            assert w.stop() == 0, w.logtext()


def test_plot_places_each_minute_where_it_belongs(web, r):
    """Per-minute hashes written as the workers write them land on their
    minute of the plot; older ones are outside the hour."""
    for _ in range(3):  # a minute boundary between writing and reading: again
        m = redis_minute(r)
        r.delete(*[f"PlotJob:minute:{m - k}" for k in range(0, 62)])
        r.sadd("drudge:classes", "PlotJob")
        r.hset(f"PlotJob:minute:{m - 60}", mapping={"processed": 1000})  # over an hour ago
        r.hset(f"PlotJob:minute:{m - 59}", mapping={"processed": 7})
        r.hset(f"PlotJob:minute:{m - 5}", mapping={"processed": 50, "failed": 5, "retried": 4, "run_ms": 900})
        r.hset(f"PlotJob:minute:{m - 1}", mapping={"processed": 30})
        row = stats_row(web, "PlotJob")
        if row["series"]["start_minute"] == m - 59:
            break
    else:
        pytest.fail("the minute kept changing")
    series = row["series"]
    assert series["processed"][0] == 7 and series["processed"][54] == 50 and series["processed"][58] == 30
    assert series["failed"][54] == 5 and series["retried"][54] == 4
    assert series_sums(row) == {"processed": 87, "failed": 5, "retried": 4}
    assert series["processed"][59] == 0  # nothing yet this minute
    # the last 60 s: what is left of the previous minute, pro rata
    assert 0 <= row["per_minute"]["processed"] <= 30 and row["per_minute"]["failed"] == 0


def test_job_api_returns_the_status_hash_or_404(web, r):
    job_id = push(web, "NoopJob", {"id": "order-1", "sleep_ms": 1})
    assert job_id == "order-1"
    status, st = web.json("GET", "/api/jobs/NoopJob/order-1")
    assert status == 200 and st["state"] == "queued" and st == r.hgetall("NoopJob:status:order-1")
    status, err = web.json("GET", "/api/jobs/NoopJob/no-such-job")
    assert status == 404 and "unknown job" in err["error"]


def test_push_api_validates_like_the_cli(web, r):
    payload = '{"b": 1,  "a": 2}'
    status, data = web.json("POST", "/api/jobs/NoopJob", body=payload, token=TOKEN,
                            headers={"Content-Type": "application/json"})
    assert status == 201 and data["id"] == sha256_id(payload)
    assert r.lrange("NoopJob", 0, -1) == [payload]  # byte for byte
    for bad, why in [("[1,2]", "object"), ("{nope", ""), ('{"id": "bad id!"}', "id"), ("", "missing")]:
        status, data = web.json("POST", "/api/jobs/NoopJob", body=bad, token=TOKEN,
                                headers={"Content-Type": "application/json"})
        assert status == 400, (bad, data)
        assert why in data["error"]
    status, data = web.json("POST", "/api/jobs/NoopJob?unique=1", body=payload, token=TOKEN,
                            headers={"Content-Type": "application/json"})
    assert status == 409 and data["duplicate"] is True
    assert r.llen("NoopJob") == 1


def test_failed_jobs_list_retry_and_delete(web, workers, r):
    workers.start("drudge-noop", "--class", "FailJob", config=str(web.config))
    ids = [push(web, "FailJob", {"outcome": "fail", "n": i}) for i in range(3)]
    wait_for(lambda: r.llen("FailJob:failed") == 3, 10, what="three failed jobs")
    status, data = web.json("GET", "/api/classes/FailJob/failed?limit=2")
    assert status == 200 and data["total"] == 3 and len(data["jobs"]) == 2
    assert data["jobs"][0]["error"] == "noop asked to fail" and data["jobs"][0]["attempts"] == 1
    status, data = web.json("POST", f"/api/classes/FailJob/failed/{ids[0]}/delete", token=TOKEN)
    assert status == 200 and data["deleted"] == 1
    status, data = web.json("POST", f"/api/classes/FailJob/failed/{ids[0]}/delete", token=TOKEN)
    assert status == 404
    assert web.post("/api/classes/FailJob/pause")[0] == 200
    status, data = web.json("POST", "/api/classes/FailJob/failed/retry", token=TOKEN)
    assert status == 200 and data["retried"] == 2
    assert r.llen("FailJob:failed") == 0 and r.llen("FailJob") == 2
    status, data = web.json("POST", "/api/classes/FailJob/failed/delete", token=TOKEN)
    assert status == 200 and data["deleted"] == 0



def test_delayed_jobs_are_listed_with_their_due_time(redis_server, workers, r, tmp_path):
    w = Web(redis_server, tmp_path, config_text="classes: {DelayJob: {backoff: {base: 600, cap: 600}}}\n")
    try:
        sec, usec = r.time()
        now = sec * 1000 + usec // 1000
        later1 = push(w, "DelayJob", {"id": "later-1", "n": 1}, path_suffix="?delay=600")
        later2 = push(w, "DelayJob", {"id": "later-2", "n": 2}, path_suffix="?delay=300")
        raw = '{"id":"raw-1","note":"<b>zadd by hand</b>"}'
        r.zadd("DelayJob:delayed", {raw: now + 100000})
        # a retry waits in the delayed set too, with its error
        r.rpush("DelayJob", json.dumps({"id": "retry-1", "outcome": "retry"}))
        workers.start("drudge-noop", "--class", "DelayJob", config=str(w.config))
        wait_for(lambda: r.hget("DelayJob:status:retry-1", "state") == "retrying", 10, what="a retry")
        assert (later1, later2) == ("later-1", "later-2")

        status, data = w.json("GET", "/api/classes/DelayJob/delayed")
        assert status == 200 and data["class"] == "DelayJob" and data["total"] == 4 and data["offset"] == 0
        jobs = data["jobs"]
        assert [j["id"] for j in jobs] == ["raw-1", "later-2", "later-1", "retry-1"]  # soonest first
        for j in jobs:
            assert j["due_at"] == int(r.zscore("DelayJob:delayed", j["payload"]))
        assert [j["due_at"] for j in jobs] == sorted(j["due_at"] for j in jobs)
        by_id = {j["id"]: j for j in jobs}
        assert by_id["raw-1"] == {"id": "raw-1", "due_at": now + 100000, "state": None, "attempts": None,
                                  "error": None, "payload": raw}
        j = by_id["later-2"]
        assert j["state"] == "queued" and j["attempts"] == 0 and j["error"] is None
        assert now + 299000 <= j["due_at"] <= now + 305000
        assert j["due_at"] == int(r.hget("DelayJob:status:later-2", "due_at"))
        assert json.loads(j["payload"]) == {"id": "later-2", "n": 2}
        j = by_id["retry-1"]
        assert j["state"] == "retrying" and j["attempts"] == 1 and j["error"] == "noop asked to retry"
        assert j["due_at"] == int(r.hget("DelayJob:status:retry-1", "next_retry_at"))

        # pages
        status, data = w.json("GET", "/api/classes/DelayJob/delayed?offset=1&limit=2")
        assert status == 200 and data["total"] == 4 and [j["id"] for j in data["jobs"]] == ["later-2", "later-1"]
        status, data = w.json("GET", "/api/classes/DelayJob/delayed?limit=0")
        assert status == 200 and data["total"] == 4 and data["jobs"] == []
        status, data = w.json("GET", "/api/classes/Nothing/delayed")
        assert status == 200 and data == {"class": "Nothing", "total": 0, "offset": 0, "jobs": []}
        for bad in ["limit=501", "limit=-1", "offset=-1", "offset=x"]:
            assert w.get(f"/api/classes/DelayJob/delayed?{bad}")[0] == 400, bad
        assert w.get("/api/classes/a%3Bb/delayed")[0] == 400
        assert w.post("/api/classes/DelayJob/delayed")[0] == 405
        # a cancelled one leaves the list
        assert w.post("/api/jobs/DelayJob/later-1/cancel")[0] == 200
        status, data = w.json("GET", "/api/classes/DelayJob/delayed")
        assert data["total"] == 3 and "later-1" not in [j["id"] for j in data["jobs"]]
    finally:
        assert w.stop() == 0, w.logtext()


def test_cancel_api(web, r):
    job_id = push(web, "NoopJob", {"sleep_ms": 1, "n": "cancel"})
    status, data = web.json("POST", f"/api/jobs/NoopJob/{job_id}/cancel", token=TOKEN)
    assert status == 200 and data["result"] == "cancelled"
    assert r.hget(f"NoopJob:status:{job_id}", "state") == "cancelled"
    status, data = web.json("POST", f"/api/jobs/NoopJob/{job_id}/cancel", token=TOKEN)
    assert status == 409


def test_workers_api_lists_live_workers(web, workers):
    workers.start("drudge-noop", config=str(web.config))
    def listed():
        status, data = web.json("GET", "/api/workers")
        return [w for w in data["workers"] if w.get("class") == "NoopJob" and w.get("rss_kb")]
    w = wait_for(listed, 10, what="the worker to register with its RSS")[0]
    assert w["dead"] is False and w["pid"] > 0 and w["rss_kb"] > 0 and w["host"]


# ---- Server-Sent Events ------------------------------------------------------

def test_sse_client_sees_queued_running_progress_done_in_order(web, workers, r):
    job_id = push(web, "NoopJob", {"id": "sse-1", "sleep_ms": 1500, "progress_steps": 3})
    sse = SSE(web, "NoopJob", job_id)
    assert sse.status == 200 and "text/event-stream" in sse.headers
    first = sse.next_event()
    assert first[0] == "status" and first[1]["state"] == "queued"
    workers.start("drudge-noop", config=str(web.config))
    events = [first]
    while True:
        ev = sse.next_event()
        if ev is None:
            break
        events.append(ev)
    sse.close()
    names = [e[0] for e in events]
    assert names[-1] == "end" and names.count("end") == 1
    states = [e[1]["state"] for e in events if e[0] == "status"]
    # the order a browser needs: queued, running (with progress), done
    collapsed = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
    assert collapsed == ["queued", "running", "done"], states
    progress = [int(e[1].get("progress", 0)) for e in events if e[0] == "status"]
    assert progress == sorted(progress) and progress[-1] == 100
    messages = [e[1].get("message") for e in events if e[0] == "status" and e[1]["state"] == "running"]
    assert "step 1/3" in messages and "step 2/3" in messages
    assert events[-1][1]["state"] == "done"


def test_sse_for_unknown_job_is_404_and_finished_job_ends_at_once(web, workers, r):
    status, _, body = web.get("/api/jobs/NoopJob/nope/events")
    assert status == 404 and b"unknown job" in body
    workers.start("drudge-noop", config=str(web.config))
    job_id = push(web, "NoopJob", {"n": "quick"})
    wait_for(lambda: r.hget(f"NoopJob:status:{job_id}", "state") == "done", 10)
    sse = SSE(web, "NoopJob", job_id)
    assert sse.next_event()[1]["state"] == "done"
    assert sse.next_event()[0] == "end"
    assert sse.next_event() is None
    sse.close()


# ---- /metrics -------------------------------------------------------------------

LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*"'
METRIC_LINE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>' + LABEL + r'(?:,' + LABEL +
                         r')*)?\})? (?P<value>\S+)$')


def parse_metrics(text):
    """A strict reader of the text format: returns {name: {labels: value}} and
    checks that every sample follows its family's TYPE line."""
    families, samples, current = {}, {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in families, f"family {name} twice"
            assert kind in ("gauge", "counter", "histogram")
            families[name] = kind
            current = name
            continue
        m = METRIC_LINE.match(line)
        assert m, f"bad line: {line!r}"
        name, labels, value = m.group("name"), m.group("labels") or "", m.group("value")
        base = re.sub(r"_(bucket|sum|count)$", "", name) if families.get(current) == "histogram" else name
        assert base == current, f"{name} outside its family"
        float(value)
        samples.setdefault(name, {})[labels] = float(value)
    return families, samples


def test_metrics_are_valid_prometheus_text(web, workers, r):
    workers.start("drudge-noop", config=str(web.config))
    for i in range(5):
        push(web, "NoopJob", {"sleep_ms": 20, "n": i})
    push(web, "NoopJob", {"outcome": "fail"})
    wait_for(lambda: r.hget("NoopJob:stats", "processed") == "5" and r.llen("NoopJob:failed") == 1, 15)
    status, headers, body = web.get("/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    if os.path.exists(PROMTOOL):
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    families, samples = parse_metrics(text)
    assert families["drudge_jobs_processed_total"] == "counter"
    assert families["drudge_job_duration_seconds"] == "histogram"
    assert samples["drudge_jobs_processed_total"]['class="NoopJob"'] == 5
    assert samples["drudge_jobs_failed_total"]['class="NoopJob"'] == 1
    assert samples["drudge_failed_list_jobs"]['class="NoopJob"'] == 1
    assert samples["drudge_class_workers"]['class="NoopJob"'] == 1
    count = samples["drudge_job_duration_seconds_count"]['class="NoopJob"']
    assert samples["drudge_job_duration_seconds_bucket"]['class="NoopJob",le="+Inf"'] == count == 6
    assert samples["drudge_job_duration_seconds_sum"]['class="NoopJob"'] >= 0.1
    assert samples["drudge_workers"]['state="live"'] == 1
    assert [v for v in samples["drudge_worker_rss_bytes"].values()][0] > 1024 * 1024



def metric_buckets(samples, cls):
    """[(le, value)] of a class's duration histogram, in le order (+Inf last)."""
    out = []
    for labels, v in samples["drudge_job_duration_seconds_bucket"].items():
        m = re.fullmatch(r'class="(.*)",le="(.*)"', labels)
        if m and m.group(1) == cls:
            out.append((float(m.group(2)), v))
    return sorted(out)


def test_duration_histogram_buckets_are_cumulative_and_match_the_jobs(web, workers, r):
    workers.start("drudge-noop", "--class", "HistJob", config=str(web.config))
    jobs = [{"n": i} for i in range(6)] + [{"outcome": "fail", "n": 6}]      # about 0 ms
    jobs += [{"sleep_ms": 30, "n": 10 + i} for i in range(3)]                 # 30 ms and a bit
    jobs += [{"sleep_ms": 150, "n": 20 + i} for i in range(2)]                # 150 ms and a bit
    for j in jobs:
        push(web, "HistJob", j)
    wait_for(lambda: r.hget("HistJob:stats", "processed") == "11" and r.hget("HistJob:stats", "failed") == "1",
             15, what="twelve jobs done")
    status, _, body = web.get("/metrics")
    text = body.decode()
    if os.path.exists(PROMTOOL):
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    families, samples = parse_metrics(text)
    buckets = metric_buckets(samples, "HistJob")
    bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, float("inf")]
    assert [b for b, _ in buckets] == bounds
    values = [v for _, v in buckets]
    assert values == sorted(values), "buckets must be cumulative"
    le = dict(buckets)
    total = samples["drudge_job_duration_seconds_count"]['class="HistJob"']
    # every attempt once: 11 done + 1 failed, nothing retried
    assert le[float("inf")] == total == 12
    assert le[0.025] == 7        # the quick ones; the 30 ms ones took longer
    assert 7 <= le[0.1] <= 10     # the 150 ms ones never fit under 0.1 s
    assert le[60] == 12
    # the same as the stats hash, summed from the bottom
    stats = r.hgetall("HistJob:stats")
    running = 0
    for bound, (b, v) in zip(["5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000",
                              "30000", "60000", "300000", "inf"], buckets):
        running += int(stats.get("le_" + bound, 0))
        assert v == running, bound
    assert samples["drudge_job_duration_seconds_sum"]['class="HistJob"'] == pytest.approx(
        int(stats["run_ms"]) / 1000, abs=0.001)
    assert samples["drudge_job_duration_seconds_sum"]['class="HistJob"'] >= (3 * 30 + 2 * 150) / 1000
    # /api/stats carries the same buckets, as stored (not cumulative)
    row = stats_row(web, "HistJob")
    assert [b["le_ms"] for b in row["duration_buckets"]] == [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
                                                              10000, 30000, 60000, 300000, None]
    assert sum(b["jobs"] for b in row["duration_buckets"]) == 12


# ---- pages -------------------------------------------------------------------------

def test_pages_and_embedded_assets_are_served(web):
    for path in ["/", "/workers", "/demo", "/classes/ImageJob", "/jobs/ImageJob/abc-1"]:
        status, headers, body = web.get(path)
        assert status == 200 and headers["content-type"].startswith("text/html"), path
        assert b'<script src="/static/app.js"' in body
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = web.get("/static/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    with open(os.path.join(ROOT, "web", "app.js"), "rb") as f:
        assert body == f.read()
    status, _, _ = web.get("/static/app.js", headers={"If-None-Match": headers["etag"]})
    assert status == 304
    assert web.get("/static/style.css")[0] == 200


def test_outputs_are_served_read_only_from_the_output_dir(web):
    (web.out_dir / "gifs").mkdir()
    (web.out_dir / "gifs" / "a.gif").write_bytes(b"GIF89a-test")
    status, headers, body = web.get("/outputs/gifs/a.gif")
    assert status == 200 and headers["content-type"] == "image/gif" and body == b"GIF89a-test"
    assert "sandbox" in headers["content-security-policy"]
    assert web.post("/outputs/gifs/a.gif")[0] == 405
    (web.out_dir / "notes.txt").write_text("not an image")
    assert web.get("/outputs/notes.txt")[0] == 404


# ---- the demo -----------------------------------------------------------------------

def test_demo_text_gif_is_queued_as_an_image_job_and_followed(web, workers, r):
    image = os.path.exists(binary("drudge-image"))
    if image:
        workers.start("drudge-image", config=str(web.config))
    else:
        workers.start("drudge-noop", "--class", "ImageJob", config=str(web.config))
    status, data = web.json("POST", "/api/demo/text-gif", body={"text": "Hello"}, token=TOKEN)
    assert status == 201 and data["class"] == "ImageJob" and data["id"].startswith("demo-")
    assert data["output"] == f"gifs/{data['id']}.gif" and data["url"] == "/outputs/" + data["output"]
    sse = SSE(web, "ImageJob", data["id"], timeout=60)
    events = []
    while (ev := sse.next_event()) is not None:
        events.append(ev)
    sse.close()
    assert events[-1][0] == "end" and events[-1][1]["state"] == "done", events[-1]
    payload = json.loads(r.hget(f"ImageJob:status:{data['id']}", "result") or "{}") if image else None
    if image:
        status, headers, body = web.get(data["url"])
        assert status == 200 and body[:6] == b"GIF89a", payload
    for bad in [{"text": ""}, {"text": "x" * 61}, {"text": "a\nb"}, {"txt": "x"}]:
        assert web.post("/api/demo/text-gif", bad)[0] == 400


def tiny_png():
    raw = b"\x00\xff\x00\x00"  # one red pixel, filter byte first
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_demo_upload_is_stored_by_its_magic_and_queued(web, r):
    png = tiny_png()
    status, data = web.json("POST", "/api/demo/upload", body=png, token=TOKEN,
                            headers={"Content-Type": "image/png"})
    assert status == 201 and data["output"] == f"thumbs/{data['id']}.png"
    stored = web.in_dir / f"{data['id']}.png"
    assert stored.read_bytes() == png
    job = json.loads(r.lrange("ImageJob", 0, -1)[0])
    assert job["input"] == stored.name and job["output"] == data["output"]
    assert [op["op"] for op in job["ops"]] == ["auto_orient", "thumbnail", "strip"]
    status, data = web.json("POST", "/api/demo/upload", body=b"<svg onload=alert(1)>", token=TOKEN,
                            headers={"Content-Type": "image/png"})
    assert status == 400 and len(list(web.in_dir.iterdir())) == 1


# ---- capacity --------------------------------------------------------------------------

def test_capacity_from_measured_rss_and_job_time(web, workers, r, cli):
    workers.start("drudge-noop", config=str(web.config), n=2)
    for i in range(4):
        push(web, "NoopJob", {"sleep_ms": 50, "n": i})
    wait_for(lambda: r.hget("NoopJob:stats", "processed") == "4", 15)
    wait_for(lambda: len([w for w in web.json("GET", "/api/workers")[1]["workers"]
                          if w.get("rss_kb")]) == 2, 10, what="both workers' RSS")
    status, cap = web.json("GET", "/api/capacity?memory=1G")
    assert status == 200 and cap["memory_bytes"] == 1 << 30
    row = [c for c in cap["classes"] if c["class"] == "NoopJob"][0]
    assert row["workers"] == 2 and 45 <= row["job_ms"] <= 500
    assert row["fit"] == (1 << 30) // int(row["rss_bytes"]) or abs(row["fit"] - (1 << 30) / row["rss_bytes"]) < 1
    assert row["jobs_per_month"] == pytest.approx(row["fit"] * 1000 / row["job_ms"] * 30 * 86400, rel=1e-6)
    p = cli("--config", str(web.config), "capacity", "--memory", "1G", "--json")
    assert p.returncode == 0, p.stderr
    assert [c for c in json.loads(p.stdout)["classes"] if c["class"] == "NoopJob"][0]["workers"] == 2
    p = cli("--config", str(web.config), "capacity", "--memory", "4G")
    assert p.returncode == 0 and "NoopJob" in p.stdout and "jobs/month" in p.stdout
    assert cli("capacity", "--memory", "lots").returncode == 2
    assert web.get("/api/capacity?memory=lots")[0] == 400


# ---- the safety list -------------------------------------------------------------------

def test_script_in_a_job_error_is_escaped_everywhere(web, workers, r):
    workers.start("drudge-noop", config=str(web.config))
    evil = "<script>alert(1)</script>"
    push(web, "NoopJob", {"outcome": evil})
    wait_for(lambda: r.llen("NoopJob:failed") == 1, 10)
    status, headers, body = web.get("/api/classes/NoopJob/failed")
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert evil in json.loads(body)["jobs"][0]["error"]  # data, not markup
    # the HTML error pages echo what they were given, escaped
    status, headers, body = web.get("/classes/%3Cscript%3Ealert(1)")
    assert status == 400 and headers["content-type"].startswith("text/html")
    assert b"<script>alert" not in body and b"&lt;script&gt;alert(1)" in body
    status, _, body = web.get("/nothing-here/%3Cscript%3E")
    assert status == 404 and b"<script>" not in body and b"&lt;script&gt;" in body


def test_cross_origin_posts_are_refused(web, r):
    same = {"Origin": web.url}
    assert web.post("/api/classes/X/pause", headers={"Origin": "http://evil.example"})[0] == 403
    assert web.post("/api/classes/X/pause", headers={"Origin": "null"})[0] == 403
    assert web.post("/api/classes/X/pause", headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
    # a "simple" form post never reaches the action, token or not
    assert web.post("/api/classes/X/pause", body="reason=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded", **same})[0] == 415
    assert r.get("X:paused") is None
    status, headers, _ = web.post("/api/classes/X/pause", headers=same)
    assert status == 200 and "access-control-allow-origin" not in headers
    assert r.get("X:paused") is not None
    assert web.request("OPTIONS", "/api/classes/X/pause", headers={"Origin": "http://evil.example"})[0] == 405


def test_mutations_need_the_bearer_token(web, r):
    status, headers, body = web.post("/api/classes/X/pause", token=None)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert web.post("/api/classes/X/pause", token="wrong-token-0123456789")[0] == 401
    assert web.post("/api/classes/X/pause", token=TOKEN + "x")[0] == 401
    assert web.post("/api/jobs/X", {"a": 1}, token=None)[0] == 401
    assert web.post("/api/demo/text-gif", {"text": "hi"}, token=None)[0] == 401
    assert r.get("X:paused") is None and r.llen("X") == 0
    # reads are open by default
    assert web.get("/api/stats")[0] == 200 and web.get("/metrics")[0] == 200


def test_reads_need_the_token_when_asked(redis_server, tmp_path):
    w = Web(redis_server, tmp_path, "--require-token-for-reads")
    try:
        for path in ["/api/stats", "/api/workers", "/metrics", "/api/jobs/A/b", "/outputs/a.gif"]:
            assert w.get(path)[0] == 401, path
            assert w.get(path, token=TOKEN)[0] in (200, 404), path
        assert w.get("/")[0] == 200 and w.get("/static/app.js")[0] == 200  # no data in the shell
    finally:
        assert w.stop() == 0



def test_config_web_keys_are_honoured_and_flags_override_them(redis_server, tmp_path, cli):
    cfg_token = "config-token-0123456789abcdef"
    (tmp_path / "cfg-token").write_text(cfg_token + "\n")
    web_cfg = f"web: {{token_file: {tmp_path / 'cfg-token'}, require_token_for_reads: true}}\n"
    # from the config alone: its token, and reads need it
    w = Web(redis_server, tmp_path, config_text=web_cfg, token_flag=False)
    try:
        assert w.json("GET", "/api/info")[1]["require_token_for_reads"] is True
        for path in ["/api/stats", "/metrics", "/api/classes/X/delayed", "/api/classes/X/minutes"]:
            assert w.get(path)[0] == 401, path
            assert w.get(path, token=TOKEN)[0] == 401, path
            assert w.get(path, token=cfg_token)[0] == 200, path
        assert w.post("/api/classes/X/pause", token=TOKEN)[0] == 401
        assert w.post("/api/classes/X/pause", token=cfg_token)[0] == 200
        assert "open http://" in w.logtext() and "#token=" not in w.logtext()
    finally:
        assert w.stop() == 0, w.logtext()
    # the flags win over the file
    w = Web(redis_server, tmp_path, "--require-token-for-reads=false", config_text=web_cfg)
    try:
        assert w.json("GET", "/api/info")[1]["require_token_for_reads"] is False
        assert w.get("/api/stats")[0] == 200 and w.get("/metrics")[0] == 200
        assert w.post("/api/classes/X/resume", token=cfg_token)[0] == 401
        assert w.post("/api/classes/X/resume", token=TOKEN)[0] == 200
    finally:
        assert w.stop() == 0, w.logtext()
    # $DRUDGE_WEB_TOKEN wins over web.token_file; a bare flag turns reads on
    env_token = "env-token-0123456789abcdef"
    w = Web(redis_server, tmp_path, "--require-token-for-reads", token_flag=False,
            config_text="web: {token_file: /nonexistent/token}\n", env={"DRUDGE_WEB_TOKEN": env_token})
    try:
        assert w.get("/api/stats")[0] == 401 and w.get("/api/stats", token=env_token)[0] == 200
        assert w.post("/api/classes/X/resume", token=env_token)[0] == 200
    finally:
        assert w.stop() == 0, w.logtext()
    # an unreadable or bad web.token_file stops `drudge web` with a reason
    bad = tmp_path / "bad.yaml"
    (tmp_path / "short-token").write_text("short\n")
    for token_file, why in [("/nonexistent/token", "cannot read web.token_file"),
                            (str(tmp_path / "short-token"), "token in web.token_file")]:
        bad.write_text(f"web: {{token_file: {token_file}}}\n")
        p = cli("--config", str(bad), "web", "--listen", f"127.0.0.1:{free_port()}", timeout=10)
        assert p.returncode == 2 and why in p.stderr, p.stderr
    bad.write_text("web: {require_token_for_reads: sometimes}\n")
    p = cli("--config", str(bad), "web", "--listen", f"127.0.0.1:{free_port()}", timeout=10)
    assert p.returncode == 2 and "web.require_token_for_reads" in p.stderr, p.stderr
    p = cli("web", "--require-token-for-reads=perhaps", timeout=10)
    assert p.returncode == 2 and "--require-token-for-reads" in p.stderr, p.stderr


def test_request_bodies_are_size_limited(web, r):
    # Content-Length over the limit: refused from the headers alone (the
    # server may answer and close before the body is sent, so send headers
    # only and read the answer)
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as s:
        s.sendall((f"POST /api/jobs/NoopJob HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n"
                   f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {1024 * 1024 + 10}\r\n\r\n").encode())
        s.sendall(b"{" * 4096)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.split(b"\r\n")[0].split()[1] == b"413", answer[:200]
    # the same without Content-Length (chunked): cut off while reading
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    conn.putrequest("POST", "/api/classes/X/pause")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for _ in range(20):
            piece = b" " * 8192
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        assert conn.getresponse().status == 413
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close as soon as it has answered
    conn.close()
    assert r.llen("NoopJob") == 0 and r.get("X:paused") is None
    # huge headers are refused by libmicrohttpd's memory limit
    status = web.get("/api/stats", headers={"X-Big": "y" * 100000})[0]
    assert status in (413, 431)


def test_unknown_routes_are_404(web):
    for path in ["/nope", "/api/nope", "/api", "/static/nope.js", "/api/jobs", "/classes/",
                 "/api/stats/extra", "/outputs/missing.gif"]:
        status, headers, body = web.get(path)
        assert status == 404, path
        if path.startswith("/api"):
            assert json.loads(body)["status"] == 404
    assert web.request("DELETE", "/api/stats")[0] == 405
    assert web.get("/api/classes/X/pause")[0] == 405


def test_path_traversal_on_static_routes_is_refused(web, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG TOPSECRET-CONTENT")
    (web.out_dir / "sub").mkdir()
    os.symlink(secret, web.out_dir / "link.png")
    os.symlink(tmp_path, web.out_dir / "up")
    for path in ["/static/../../etc/passwd", "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/static/.hidden",
                 "/outputs/../secret.png", "/outputs/%2e%2e/secret.png", "/outputs/sub/../../secret.png",
                 "/outputs//etc/passwd", "/outputs/link.png", "/outputs/up/secret.png",
                 "/static/..%2fweb.yaml", "/outputs/.%2e/secret.png"]:
        status, _, body = web.get(path)
        assert status in (400, 404), (path, status)
        assert b"TOPSECRET" not in body and b"root:" not in body


def test_malformed_class_or_id_is_400_json(web):
    for path in ["/api/jobs/Bad$Class/abc", "/api/jobs/Image%20Job/abc", "/api/jobs/ImageJob/bad%20id",
                 "/api/jobs/" + "C" * 129 + "/abc", "/api/classes/a%3Bb/failed"]:
        status, data = web.json("GET", path)
        assert status == 400, path
        assert "invalid class name" in data["error"] or "invalid job id" in data["error"]
    status, data = web.json("POST", "/api/classes/a$b/pause", token=TOKEN)
    assert status == 400


def test_only_loopback_host_names_on_a_loopback_listener(web):
    assert web.get("/api/stats", headers={"Host": "evil.example:80"})[0] == 421
    assert web.get("/api/stats", headers={"Host": f"localhost:{web.port}"})[0] == 200


def test_keeps_serving_under_200_sse_clients_and_a_slowloris(web, workers, r):
    job_id = push(web, "SlowJob", {"id": "watched", "sleep_ms": 300, "progress_steps": 2})
    clients = [SSE(web, "SlowJob", job_id) for _ in range(200)]
    assert all(c.next_event()[1]["state"] == "queued" for c in clients)
    # slow clients: one dribbles a header byte at a time, one sends nothing
    dribbler = socket.create_connection(("127.0.0.1", web.port))
    dribbler.sendall(b"GET /api/stats HTTP/1.1\r\nHost: x")
    silent = socket.create_connection(("127.0.0.1", web.port))
    started = time.monotonic()
    for _ in range(20):
        t = time.monotonic()
        assert web.get("/api/stats", timeout=5)[0] == 200
        assert time.monotonic() - t < 2
        dribbler.sendall(b"x")
        time.sleep(0.1)
    # the silent one is dropped after the idle timeout (5 s here)
    silent.settimeout(15)
    assert silent.recv(1) == b""
    assert time.monotonic() - started < 14
    # every stream follows the job to its end
    workers.start("drudge-noop", "--class", "SlowJob", config=str(web.config))
    ends = 0
    for c in clients:
        last = None
        while (ev := c.next_event()) is not None:
            last = ev
        ends += last is not None and last[0] == "end" and last[1]["state"] == "done"
        c.close()
    assert ends == 200
    dribbler.close()
    silent.close()
    assert web.get("/api/stats")[0] == 200


def test_sigterm_stops_the_server_with_streams_open(redis_server, tmp_path):
    w = Web(redis_server, tmp_path)
    push(w, "StopJob", {"id": "open-stream"})
    c = SSE(w, "StopJob", "open-stream")
    assert c.next_event()[1]["state"] == "queued"
    t = time.monotonic()
    assert w.stop() == 0
    assert time.monotonic() - t < 5
    c.close()


# ---- the browser tests ------------------------------------------------------------------

def browser_ready():
    return (shutil.which("node") and os.path.exists("/usr/bin/chromium")
            and os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")))


@pytest.mark.skipif(not browser_ready(), reason="needs node, /usr/bin/chromium and "
                    "playwright-core (make deps installs it into tests/system/browser)")
def test_browser_pages_in_headless_chromium(web, workers, r):
    image = os.path.exists(binary("drudge-image"))
    # counts on the overview: three queued jobs in a paused class
    assert web.post("/api/classes/CountJob/pause", {"reason": "held for the test"})[0] == 200
    for i in range(3):
        push(web, "CountJob", {"n": i})
    # a failed job to retry: written as a worker leaves one (the failed list
    # and its status hash), with markup in its error
    payload = '{"id":"flaky-1","sleep_ms":300,"progress_steps":2}'
    r.lpush("FlakyJob:failed", payload)
    r.hset("FlakyJob:status:flaky-1", mapping={
        "state": "failed", "attempts": "5", "error": '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">',
        "queued_at": str(int(time.time() * 1000) - 60000), "finished_at": str(int(time.time() * 1000))})
    r.sadd("drudge:classes", "FlakyJob", "PauseJob")
    workers.start("drudge-noop", "--class", "FlakyJob", config=str(web.config))
    workers.start("drudge-noop", "--class", "PauseJob", config=str(web.config))
    if image:
        workers.start("drudge-image", config=str(web.config))
    else:
        workers.start("drudge-noop", "--class", "ImageJob", config=str(web.config))
    wait_for(lambda: len(web.json("GET", "/api/workers")[1]["workers"]) == 3, 10, what="workers")
    os.makedirs(ARTIFACTS, exist_ok=True)
    env = dict(os.environ, DRUDGE_WEB_URL=web.url, DRUDGE_WEB_TOKEN=TOKEN, DRUDGE_ARTIFACTS=ARTIFACTS,
               DRUDGE_EXPECT_GIF="1" if image else "0")
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, "run.mjs")], env=env, capture_output=True,
                       text=True, timeout=240)
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert r.hget("FlakyJob:status:flaky-1", "state") == "done"
    for name in ["overview", "workers", "class", "job", "demo"]:
        assert os.path.getsize(os.path.join(ARTIFACTS, f"web-{name}.png")) > 1000


CLASS_PAGE_SCRIPT = r"""
const {chromium} = require(process.env.PLAYWRIGHT);
(async () => {
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking']});
  const out = {};
  try {
    const page = await browser.newPage({viewport: {width: 1360, height: 900}});
    page.setDefaultTimeout(20000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(process.env.DRUDGE_WEB_URL + '/classes/DelayJob');
    const due = page.locator('#delayed tr[data-job="later-1"] td[data-field="due_at"]');
    await due.waitFor();
    out.due = await due.innerText();
    out.due_attr = await due.getAttribute('data-due');
    out.rows = await page.locator('#delayed tbody tr[data-job]').evaluateAll((rows) => rows.map((r) => r.dataset.job));
    out.evil_error = await page.locator('#delayed tr[data-job="evil-1"] [data-field="error"]').innerText();
    out.evil_state = await page.locator('#delayed tr[data-job="evil-1"] td[data-field="state"]').innerText();
    out.injected = await page.locator('#delayed img, #delayed script').count();
    out.xss = await page.evaluate(() => window.__xss === undefined ? null : window.__xss);
    out.plot = await page.locator('.plot svg.spark').count();
    out.done_pm = await page.locator('[data-card="processed_pm"] .value').innerText();
    await page.waitForTimeout(300);
    await page.screenshot({path: process.env.DRUDGE_ARTIFACTS + '/web-class-delayed.png', fullPage: true});
    out.errors = errors;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.skipif(not browser_ready(), reason="needs node, /usr/bin/chromium and playwright-core")
def test_class_page_shows_delayed_jobs_with_due_time_in_chromium(web, r, tmp_path):
    sec, usec = r.time()
    now = sec * 1000 + usec // 1000
    push(web, "DelayJob", {"id": "later-1"}, path_suffix="?delay=300")
    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    r.zadd("DelayJob:delayed", {'{"id":"evil-1"}': now + 60000})
    r.hset("DelayJob:status:evil-1", mapping={"state": "retrying", "attempts": "2", "error": evil,
                                              "next_retry_at": str(now + 60000)})
    script = tmp_path / "class_page.cjs"
    script.write_text(CLASS_PAGE_SCRIPT)
    os.makedirs(ARTIFACTS, exist_ok=True)
    env = dict(os.environ, DRUDGE_WEB_URL=web.url, DRUDGE_ARTIFACTS=ARTIFACTS,
               PLAYWRIGHT=os.path.join(BROWSER_DIR, "node_modules", "playwright-core"))
    p = subprocess.run(["node", str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["rows"] == ["evil-1", "later-1"]  # soonest first
    assert re.search(r"in [45] min", out["due"]), out["due"]
    scores = {json.loads(m)["id"]: int(v) for m, v in r.zrange("DelayJob:delayed", 0, -1, withscores=True)}
    assert int(out["due_attr"]) == scores["later-1"]
    assert out["evil_error"] == evil and "retrying" in out["evil_state"]
    assert out["injected"] == 0 and out["xss"] is None
    assert out["plot"] == 1 and out["done_pm"] == "0.0"
    assert out["errors"] == []
    assert os.path.getsize(os.path.join(ARTIFACTS, "web-class-delayed.png")) > 1000
