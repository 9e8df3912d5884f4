"""drudge-http (issue 8) end to end: real drudge-http processes against a
real redis-server and a local HTTP server fixture.

The fixture (`ScriptedServer`) is Python's http.server in a thread on a
free loopback port, speaking HTTP/1.1 with keep-alive. Its answers are
scripted by path and query:

    /ok                          200 with a small body and a few headers
    /echo                        200, the request (method, headers, body) as JSON
    /status?code=N[&after=S|&after_date=S]
                                 status N, Retry-After as seconds or an HTTP-date
    /flaky?key=K&fail=N          500 for the first N requests of K, then 200
    /slow?ms=N                   200 after N ms
    /redirect?to=URL[&code=N]    a redirect (302 unless code says otherwise)
    /chain?n=N                   N redirects in a row, then 200
    /big?n=N                     200 with N bytes

and it records every request (time, method, path, headers, body, client
port), so tests check what reached the server - or that nothing did.

Destinations on loopback are private, so most tests run the worker with
http.allow_private_networks: true; the refusal tests run it with false. A
redirect *from* an allowed address *to* a private one needs a public address
that is still local: the `public_ip` fixture adds one to `lo` (root only,
else those tests skip).
"""
import collections
import email.utils
import json
import os
import random
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import free_port, status, wait_for

CLS = "HttpJob"
TIMEOUT = 30


# ---- the scripted HTTP server ----

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connection reuse is visible
    disable_nagle_algorithm = True  # headers and body are separate writes

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        srv = self.server
        with srv.lock:
            srv.counts[(url.path, q.get("key", ""))] += 1
            n = srv.counts[(url.path, q.get("key", ""))]
            srv.requests.append({
                "t": time.time(), "method": self.command, "path": url.path, "query": q,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body, "port": self.client_address[1],
            })
        route = getattr(self, "route_" + url.path.strip("/"), None)
        code, headers, payload = route(q, body, n) if route else (404, {}, b"no such route")
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    def route_ok(self, q, body, n):
        return 200, {"Content-Type": "text/plain", "X-Request-Id": "req-1",
                     "X-Internal": "not kept"}, b"hello from the fixture"

    def route_echo(self, q, body, n):
        out = {"method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("utf-8", "replace")}
        return 200, {"Content-Type": "application/json"}, json.dumps(out).encode()

    def route_status(self, q, body, n):
        headers = {"Content-Type": "text/plain"}
        if "after" in q:
            headers["Retry-After"] = q["after"]
        if "after_date" in q:
            headers["Retry-After"] = email.utils.formatdate(time.time() + float(q["after_date"]),
                                                            usegmt=True)
        return int(q["code"]), headers, f"status {q['code']}".encode()

    def route_flaky(self, q, body, n):
        if n <= int(q.get("fail", "1")):
            return 500, {}, b"not yet"
        return 200, {}, b"finally"

    def route_slow(self, q, body, n):
        time.sleep(int(q.get("ms", "1000")) / 1000)
        return 200, {}, b"slow but here"

    def route_redirect(self, q, body, n):
        return int(q.get("code", "302")), {"Location": q["to"]}, b""

    def route_chain(self, q, body, n):
        left = int(q.get("n", "0"))
        if left > 0:
            return 302, {"Location": f"/chain?n={left - 1}"}, b""
        return 200, {}, b"end of the chain"

    def route_big(self, q, body, n):
        return 200, {"Content-Type": "text/plain"}, b"x" * int(q["n"])


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host="127.0.0.1"):
        super().__init__((host, 0), Handler)
        self.host = host
        self.port = self.server_address[1]
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.requests = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://{self.host}:{self.port}{path}"

    def seen(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout tests) is not an error here

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def web():
    srv = ScriptedServer()
    yield srv
    srv.stop()


@pytest.fixture
def web2():
    """A second server: another origin on the same host."""
    srv = ScriptedServer()
    yield srv
    srv.stop()


@pytest.fixture
def public_ip():
    """A public (by drudge's policy) address that is local: added to lo."""
    addr = f"11.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
    add = subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", "lo"], capture_output=True)
    if add.returncode != 0:
        pytest.skip(f"cannot add a local public address: {add.stderr.decode().strip()}")
    yield addr
    subprocess.run(["ip", "addr", "del", f"{addr}/32", "dev", "lo"], capture_output=True)


# ---- helpers ----

def config(config_file, allow_private=True, prefetch=32, **http):
    """A config file: the http section plus fast retries for HttpJob.
    (JSON is YAML, so the file is written as JSON.)"""
    section = {"allow_private_networks": allow_private, "host_rate": 0}
    section.update(http)
    return config_file(json.dumps({
        "http": section,
        "worker": {"heartbeat": 1, "dead_after": 5, "prefetch": prefetch},
        "classes": {CLS: {"backoff": {"base": 0.2, "cap": 0.4}, "max_attempts": 5}},
    }))


def start(workers, cfg, n=1, env=None):
    procs = workers.start("drudge-http", config=cfg, n=n, env=env)
    time.sleep(0.05)
    for p in procs:
        assert p.poll() is None, open(p.logpath).read()
    return procs


_ids = iter(range(1, 1 << 30))


def push(r, **job):
    job.setdefault("id", f"job-{os.getpid()}-{next(_ids)}")
    r.rpush(CLS, json.dumps(job))
    return job["id"]


def logs(procs):
    return "\n".join(open(p.logpath, errors="replace").read()[-4000:] for p in procs)


def wait_state(r, job_id, states, procs=(), timeout=TIMEOUT):
    states = (states,) if isinstance(states, str) else states
    try:
        return wait_for(lambda: (lambda s: s if s.get("state") in states else None)(
            status(r, CLS, job_id)), timeout, what=f"{job_id} to be {'/'.join(states)}")
    except AssertionError as e:
        raise AssertionError(f"{e}: {status(r, CLS, job_id)}\n{logs(procs)}") from None


def result(st):
    return json.loads(st["result"])


# ---- outcomes ----

def test_get_done_with_status_selected_headers_body_and_ms(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/ok"))
    st = wait_state(r, jid, "done", procs)
    res = result(st)
    assert res["status"] == 200
    assert res["body"] == "hello from the fixture"
    assert res["headers"]["content-type"] == "text/plain"
    assert res["headers"]["x-request-id"] == "req-1"
    assert "x-internal" not in res["headers"] and "server" not in res["headers"]
    assert res["truncated"] is False
    assert isinstance(res["ms"], int) and 0 <= res["ms"] < 5000
    assert st["attempts"] == "1"
    req = web.seen("/ok")[0]
    assert req["method"] == "GET"
    assert req["headers"]["user-agent"].startswith("drudge-http/")


def test_named_host_resolved_and_pinned(r, workers, config_file, web):
    # localhost is resolved by the worker, checked, and handed to libcurl
    # as a pinned address (CURLOPT_RESOLVE): the call still works by name
    procs = start(workers, config(config_file))
    jid = push(r, url=f"http://LOCALHOST:{web.port}/ok")
    assert result(wait_state(r, jid, "done", procs))["status"] == 200
    assert web.seen("/ok")[0]["headers"]["host"].lower() == f"localhost:{web.port}"


def test_every_method_and_json_body_reach_the_server(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    ids = [push(r, method="POST", url=web.url("/echo"), body={"event": "paid", "n": 1},
                headers={"X-Trace": "t-1"}),
           push(r, method="PUT", url=web.url("/echo"), body="raw text",
                headers={"Content-Type": "text/plain"}),
           push(r, method="PATCH", url=web.url("/echo"), body=[1, 2]),
           push(r, method="DELETE", url=web.url("/echo")),
           push(r, method="HEAD", url=web.url("/echo"))]
    for jid in ids:
        wait_state(r, jid, "done", procs)
    seen = {q["method"]: q for q in web.seen("/echo")}
    assert set(seen) == {"POST", "PUT", "PATCH", "DELETE", "HEAD"}
    assert json.loads(seen["POST"]["body"]) == {"event": "paid", "n": 1}
    assert seen["POST"]["headers"]["content-type"] == "application/json"
    assert seen["POST"]["headers"]["x-trace"] == "t-1"
    assert seen["PUT"]["body"] == b"raw text"
    assert seen["PUT"]["headers"]["content-type"] == "text/plain"
    assert json.loads(seen["PATCH"]["body"]) == [1, 2]
    assert "expect" not in seen["POST"]["headers"]
    assert result(status(r, CLS, ids[4]))["body"] == ""  # HEAD has none


def test_bodyless_put_says_content_length_zero_without_a_type(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    put = push(r, method="PUT", url=web.url("/echo"))
    delete = push(r, method="DELETE", url=web.url("/echo"))
    for jid in (put, delete):
        wait_state(r, jid, "done", procs)
    seen = {q["method"]: q["headers"] for q in web.seen("/echo")}
    assert seen["PUT"].get("content-length") == "0" and "content-type" not in seen["PUT"]
    assert "content-length" not in seen["DELETE"] and "content-type" not in seen["DELETE"]


def test_404_fails_permanently(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/status?code=404"))
    st = wait_state(r, jid, "failed", procs)
    assert st["attempts"] == "1"
    assert "HTTP 404" in st["error"] and "status 404" in st["error"]
    assert r.lrange(f"{CLS}:failed", 0, -1) != []
    assert len(web.seen("/status")) == 1


def test_expect_list_makes_a_404_done(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/status?code=404"), expect=[200, 404])
    assert result(wait_state(r, jid, "done", procs))["status"] == 404


def test_500_retries_with_backoff_until_done(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/flaky?key=a&fail=2"))
    st = wait_state(r, jid, "done", procs)
    assert st["attempts"] == "3"
    assert result(st)["body"] == "finally"
    assert len(web.seen("/flaky")) == 3


def test_429_retry_after_seconds_sets_next_retry_at(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/status?code=429&after=30"))
    st = wait_state(r, jid, "retrying", procs)
    delay = int(st["next_retry_at"]) - int(st["finished_at"])
    assert 29000 <= delay <= 30100, st
    assert "HTTP 429" in st["error"] and "retry after 30000 ms" in st["error"]
    assert r.zscore(f"{CLS}:delayed", r.zrange(f"{CLS}:delayed", 0, 0)[0]) == int(st["next_retry_at"])


def test_429_retry_after_http_date_sets_next_retry_at(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/status?code=429&after_date=40"))
    st = wait_state(r, jid, "retrying", procs)
    delay = int(st["next_retry_at"]) - int(st["finished_at"])
    assert 38000 <= delay <= 41100, st


def test_503_retry_after_honoured_and_without_it_backoff(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    told = push(r, url=web.url("/status?code=503&after=20"))
    st = wait_state(r, told, "retrying", procs)
    assert 19000 <= int(st["next_retry_at"]) - int(st["finished_at"]) <= 20100
    untold = push(r, url=web.url("/status?code=503"))
    st = wait_state(r, untold, "retrying", procs)
    assert int(st["next_retry_at"]) - int(st["finished_at"]) <= 1000  # backoff cap 0.4 s


def test_timeout_retries(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/slow?ms=3000"), timeout_s=0.4)
    st = wait_state(r, jid, "retrying", procs)
    assert "timed out" in st["error"]
    assert int(st["finished_at"]) - int(st["started_at"]) < 2500


def test_cancel_aborts_a_request_in_flight(r, workers, config_file, web, cli):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/slow?ms=20000"), timeout_s=30)
    wait_state(r, jid, "running", procs)   # marked after 50 ms in flight
    t0 = time.monotonic()
    p = cli("cancel", CLS, jid)
    assert p.returncode == 0, p.stderr
    st = wait_state(r, jid, "cancelled", procs, timeout=10)
    # the transfer was aborted, not waited out (the server answers at 20 s)
    assert time.monotonic() - t0 < 8
    assert int(st["finished_at"]) - int(st["started_at"]) < 8000, st
    # and the worker is free for the next job at once
    nxt = push(r, url=web.url("/slow?ms=10"))
    wait_state(r, nxt, "done", procs, timeout=10)


def test_slow_response_within_the_timeout_is_done(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/slow?ms=600"))
    res = result(wait_state(r, jid, "done", procs))
    assert res["body"] == "slow but here" and res["ms"] >= 600


def test_response_truncated_at_max_response_bytes(r, workers, config_file, web):
    procs = start(workers, config(config_file, max_response_bytes=1000))
    jid = push(r, url=web.url("/big?n=200000"))
    res = result(wait_state(r, jid, "done", procs))
    assert res["truncated"] is True
    assert res["body"] == "x" * 1000
    small = push(r, url=web.url("/big?n=1000"))
    res = result(wait_state(r, small, "done", procs))
    assert res["truncated"] is False and len(res["body"]) == 1000


def test_connections_reused_across_jobs(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    ids = [push(r, url=web.url("/ok")) for _ in range(8)]
    for jid in ids:
        wait_state(r, jid, "done", procs)
    assert len({q["port"] for q in web.seen("/ok")}) == 1


# ---- input checks ----

def test_header_injection_refused_before_any_request(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    crlf = push(r, url=web.url("/echo"), headers={"X-Evil": "a\r\nX-Injected: 1"})
    host = push(r, url=web.url("/echo"), headers={"Host": "elsewhere.example"})
    inline = push(r, url=web.url("/echo"), headers={"Authorization": "Bearer inline"})
    st = wait_state(r, crlf, "failed", procs)
    assert "must not contain CR, LF" in st["error"]
    assert "Host may not be set" in wait_state(r, host, "failed", procs)["error"]
    assert "auth" in wait_state(r, inline, "failed", procs)["error"]
    assert web.seen() == []


def test_bad_jobs_fail_with_a_clear_error(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    cases = {
        push(r, url="ftp://127.0.0.1/x"): "must be http or https",
        push(r, url=f"http://user:pw@127.0.0.1:{web.port}/ok"): "must not carry a user or password",
        push(r, url=web.url("/ok"), method="TRACE"): "method must be",
        push(r, url=web.url("/ok"), auth="nobody"): "unknown credential",
        push(r, url=web.url("/ok"), bdoy="x"): "unknown key",
    }
    for jid, why in cases.items():
        assert why in wait_state(r, jid, "failed", procs)["error"]
    assert web.seen() == []


# ---- credentials ----

def test_auth_from_env_sent_to_its_origin_only(r, workers, config_file, web, web2):
    token = "s3cr3t-token-value"
    cfg = config(config_file, credentials={"hooks": {"type": "bearer", "token_env": "HOOK_TOKEN"},
                                           "basic": {"type": "basic", "user": "drudge",
                                                     "password_env": "HOOK_PASSWORD"}})
    procs = start(workers, cfg, env={"HOOK_TOKEN": token, "HOOK_PASSWORD": "pw"})
    direct = push(r, url=web.url("/echo"), auth="hooks", save_response=False)
    basic = push(r, url=web.url("/echo"), auth="basic", save_response=False)
    away = push(r, url=web.url("/redirect?to=" + urllib.parse.quote(web2.url("/echo"))),
                auth="hooks", save_response=False)
    for jid in (direct, basic, away):
        wait_state(r, jid, "done", procs)
    auths = [q["headers"].get("authorization") for q in web.seen("/echo")]
    assert f"Bearer {token}" in auths
    assert "Basic ZHJ1ZGdlOnB3" in auths  # drudge:pw
    assert [q["headers"].get("authorization") for q in web2.seen("/echo")] == [None]
    assert web.seen("/redirect")[0]["headers"]["authorization"] == f"Bearer {token}"
    assert token not in json.dumps([status(r, CLS, j) for j in (direct, basic, away)])
    assert token not in logs(procs)


def test_missing_secret_fails_the_job(r, workers, config_file, web):
    cfg = config(config_file, credentials={"x": {"type": "bearer", "token_env": "NOT_SET_ANYWHERE"}})
    procs = start(workers, cfg)
    jid = push(r, url=web.url("/ok"), auth="x")
    assert "NOT_SET_ANYWHERE is not set" in wait_state(r, jid, "failed", procs)["error"]
    assert "credential_unset" in logs(procs)  # said at start-up too
    assert web.seen() == []


# ---- redirects ----

def test_redirects_followed_and_limited(r, workers, config_file, web):
    procs = start(workers, config(config_file, max_redirects=3))
    ok = push(r, url=web.url("/chain?n=3"))
    res = result(wait_state(r, ok, "done", procs))
    assert res["redirects"] == 3 and res["body"] == "end of the chain"
    assert res["url"].endswith("/chain?n=0")
    too_many = push(r, url=web.url("/chain?n=4"))
    assert "more than 3 redirects" in wait_state(r, too_many, "failed", procs)["error"]
    post = push(r, method="POST", url=web.url("/redirect?code=303&to=/echo"), body={"a": 1})
    wait_state(r, post, "done", procs)
    assert web.seen("/echo")[-1]["method"] == "GET"  # 303: see other, with GET
    kept = push(r, method="POST", url=web.url("/redirect?code=307&to=/echo"), body={"a": 2})
    wait_state(r, kept, "done", procs)
    assert web.seen("/echo")[-1]["method"] == "POST"
    assert json.loads(web.seen("/echo")[-1]["body"]) == {"a": 2}
    noredir = push(r, url=web.url("/redirect?to=/ok"), follow_redirects=False, expect=302)
    assert result(wait_state(r, noredir, "done", procs))["headers"]["location"] == "/ok"


def test_redirect_to_another_scheme_refused(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    jid = push(r, url=web.url("/redirect?to=file:///etc/passwd"))
    assert "must be http or https" in wait_state(r, jid, "failed", procs)["error"]


# ---- the address policy ----

def test_private_destinations_refused_unless_allowed(r, workers, config_file, web):
    procs = start(workers, config(config_file, allow_private=False))
    cases = {
        push(r, url=web.url("/ok")): "loopback",
        push(r, url=f"http://localhost:{web.port}/ok"): "loopback",
        push(r, url=f"http://[::ffff:127.0.0.1]:{web.port}/ok"): "loopback",
        push(r, url=f"http://2130706433:{web.port}/ok"): "loopback",  # 127.0.0.1 as a number
        push(r, url="http://169.254.169.254/latest/meta-data/"): "link-local",
        push(r, url="http://10.0.0.1/"): "private",
    }
    for jid, why in cases.items():
        st = wait_state(r, jid, "failed", procs)
        assert why in st["error"] and "allow_private_networks" in st["error"], st
    assert web.seen() == []


def test_redirect_to_private_address_refused(r, workers, config_file, web, public_ip):
    public = ScriptedServer(public_ip)
    try:
        procs = start(workers, config(config_file, allow_private=False))
        fine = push(r, url=public.url("/ok"))
        assert result(wait_state(r, fine, "done", procs))["status"] == 200
        jid = push(r, url=public.url("/redirect?to=" + urllib.parse.quote(web.url("/ok"))))
        st = wait_state(r, jid, "failed", procs)
        assert "redirect to" in st["error"] and "loopback" in st["error"], st
        assert web.seen() == []  # the private server was never called
        assert len(public.seen("/redirect")) == 1
    finally:
        public.stop()


# ---- per-host politeness ----

def test_per_host_rate_limit_shared_by_three_workers(r, workers, config_file, web):
    rate, n = 4, 14
    # one job at a time per worker, so that the three really share the host
    procs = start(workers, config(config_file, prefetch=1, host_rate=0,
                                  hosts={"127.0.0.1": f"{rate}/s"}), n=3)
    wait_for(lambda: r.zcard("drudge:workers") == 3, 20, what="three workers")
    ids = [push(r, url=web.url("/ok")) for _ in range(n)]
    for jid in ids:
        wait_state(r, jid, "done", procs, timeout=60)
    times = sorted(q["t"] for q in web.seen("/ok"))
    assert len(times) == n
    # GCRA lets a burst of two through, then one every 1/rate seconds
    assert times[-1] - times[0] >= (n - 2) / rate - 0.3, times
    for i in range(len(times)):
        in_window = [t for t in times[i:] if t - times[i] < 1.0]
        assert len(in_window) <= rate + 2, (times[i], in_window)
    # the limit held across workers (not one worker doing it all), and
    # waiting for a token spent no extra attempt
    assert len({status(r, CLS, j)["worker"] for j in ids}) >= 2
    assert all(status(r, CLS, j)["attempts"] == "1" for j in ids)


def test_dead_host_breaker_defers_only_that_hosts_jobs(r, workers, config_file, web):
    other = ScriptedServer("127.0.0.2")  # same host as the dead service, another port
    try:
        procs = start(workers, config(config_file))
        dead_port = free_port()
        dead = push(r, url=f"http://127.0.0.2:{dead_port}/x")
        st = wait_state(r, dead, "queued", procs)
        wait_for(lambda: status(r, CLS, dead).get("due_at"), 10, what="the dead job to be deferred")
        st = status(r, CLS, dead)
        assert "Connection refused" in st["error"] or "Couldn't connect" in st["error"], st
        assert st.get("attempts", "0") == "0"  # deferral spends no attempt
        assert r.exists(f"{CLS}:breaker:127.0.0.2")
        # a job for the same host waits without a request
        same_host = push(r, url=other.url("/ok"))
        wait_for(lambda: "breaker is open" in status(r, CLS, same_host).get("error", ""), 10,
                 what="the same-host job to be deferred")
        assert other.seen() == []
        # other hosts go on, and the class is not paused
        live = [push(r, url=web.url("/ok")) for _ in range(5)]
        for jid in live:
            wait_state(r, jid, "done", procs)
        assert not r.exists(f"{CLS}:paused")
        assert r.zcard(f"{CLS}:delayed") == 2
    finally:
        other.stop()


def test_open_breaker_defers_then_success_closes_it(r, workers, config_file, web):
    procs = start(workers, config(config_file))
    now_ms = int(r.time()[0] * 1000)
    r.hset(f"{CLS}:breaker:127.0.0.1", mapping={"open_until": now_ms + 1500,
                                                  "cooldown_ms": 1500, "error": "test"})
    jid = push(r, url=web.url("/ok"))
    wait_for(lambda: "breaker is open" in status(r, CLS, jid).get("error", ""), 10,
             what="the job to be deferred")
    assert web.seen() == []
    st = wait_state(r, jid, "done", procs)
    assert st["attempts"] == "1"
    assert len(web.seen("/ok")) == 1
    wait_for(lambda: not r.exists(f"{CLS}:breaker:127.0.0.1"), 5, what="the breaker to close")


def test_dns_failure_defers_with_the_breaker(r, workers, config_file):
    t0 = time.monotonic()
    try:
        socket.getaddrinfo("drudge-test.invalid", 80)
    except socket.gaierror:
        pass
    if time.monotonic() - t0 > 2:
        pytest.skip("this machine's resolver is slow to fail")
    procs = start(workers, config(config_file))
    jid = push(r, url="http://drudge-test.invalid/x")
    wait_for(lambda: status(r, CLS, jid).get("due_at"), 10, what="the job to be deferred")
    st = status(r, CLS, jid)
    assert st["state"] == "queued" and "cannot resolve drudge-test.invalid" in st["error"]
    assert r.exists(f"{CLS}:breaker:drudge-test.invalid")
    assert not r.exists(f"{CLS}:paused")
