"""Reliability of the worker runtime: nothing is lost, nothing runs twice
without cause, bad jobs never take a worker down, and workers stop cleanly.

Every test starts real drudge-noop processes against its own redis-server;
the fixtures stop whatever a test started.
"""
import functools
import json
import signal
import time

import pytest
import redis as redis_py

import conftest
from conftest import (all_done, assert_alive, push_many, sha256_id, status, status_fields,
                      wait_for, wait_registered, wait_until, worker_logs)

# Under AddressSanitizer (make test SANITIZE=1) a SIGSEGV would be caught and
# turned into exit 1; the crash tests need the real signal.
CRASH_ENV = {"ASAN_OPTIONS": "handle_segv=0:handle_abort=0"}

CLS = "NoopJob"
TIMEOUT = 60


# ---- helpers ----

wait_state = functools.partial(conftest.wait_state, cls=CLS, timeout=TIMEOUT)


def worker_ids(r):
    return r.zrange("drudge:workers", 0, -1)


def processing_lists(r):
    return {k: r.llen(k) for k in r.scan_iter(f"{CLS}:processing:*", count=1000)}


def push(r, obj):
    payload = json.dumps(obj) if not isinstance(obj, (str, bytes)) else obj
    r.rpush(CLS, payload)
    return payload, sha256_id(payload)


def wait_exit(proc, timeout=TIMEOUT):
    try:
        return proc.wait(timeout)
    except Exception:
        raise AssertionError(f"worker pid {proc.pid} did not exit within {timeout}s\n"
                             f"{worker_logs([proc])}") from None


# ---- volume ----

def test_ten_thousand_jobs_on_four_workers_each_run_exactly_once(r, workers):
    n = 10_000
    payloads = [json.dumps({"n": i}) for i in range(n)]
    ids = [sha256_id(p) for p in payloads]
    push_many(r, CLS, payloads)
    procs = workers.start("drudge-noop", n=4)

    def finished():
        return r.hget(f"{CLS}:stats", "processed") == str(n) and r.llen(CLS) == 0
    wait_until(finished, 600, "10,000 jobs processed", procs,
               lambda: f"stats={r.hgetall(f'{CLS}:stats')} queue={r.llen(CLS)}", interval=0.5)

    rows = status_fields(r, CLS, ids, "state", "attempts")
    bad = [(ids[k], row) for k, row in enumerate(rows) if row != ["done", "1"]]
    assert not bad, f"{len(bad)} jobs not done with attempts=1, e.g. {bad[:5]}"
    assert r.llen(CLS) == 0
    assert all(v == 0 for v in processing_lists(r).values()), processing_lists(r)
    stats = r.hgetall(f"{CLS}:stats")
    assert stats["processed"] == str(n)
    assert int(stats.get("failed", "0")) == 0
    assert int(stats.get("retried", "0")) == 0
    assert_alive(procs)


# ---- signals and draining ----

@pytest.mark.parametrize("isolation", ["inprocess", "fork"])
def test_sigterm_to_a_busy_worker_finishes_the_job_and_exits_0(r, workers, isolation):
    (proc,) = workers.start("drudge-noop", "--isolation", isolation)
    _, job_id = push(r, {"n": 1, "sleep_ms": 2000})
    wait_state(r, job_id, "running", [proc])
    proc.send_signal(signal.SIGTERM)
    rc = wait_exit(proc)
    assert rc == 0, worker_logs([proc])
    st = status(r, CLS, job_id)
    assert st["state"] == "done", (st, worker_logs([proc]))
    assert st["attempts"] == "1"
    assert r.llen(CLS) == 0
    assert not any(processing_lists(r).values())


def test_sigterm_to_an_idle_worker_exits_0_within_a_second(r, workers):
    (proc,) = workers.start("drudge-noop")
    wait_registered(r, [proc])
    time.sleep(0.3)  # let it settle into its blocking fetch
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = wait_exit(proc, 30)
    elapsed = time.monotonic() - t0
    assert rc == 0, worker_logs([proc])
    assert elapsed < 1.0, f"idle worker took {elapsed:.2f}s to exit\n{worker_logs([proc])}"
    # a clean exit unregisters the worker
    assert not any(f":{proc.pid}:" in w for w in worker_ids(r))


@pytest.mark.parametrize("isolation,poll_cancel", [
    ("inprocess", False), ("fork", False),
    # a handler that stops when drudge_ctx_cancelled() says so and returns
    # an error: the job still goes back, uncharged (a fork child is killed
    # at the deadline instead: it never sees the drain)
    ("inprocess", True)])
def test_job_still_running_at_drain_deadline_goes_back_to_head_uncharged(
        r, workers, config_file, isolation, poll_cancel):
    cfg = config_file("worker: {drain_timeout: 1}\n")
    (proc,) = workers.start("drudge-noop", "--isolation", isolation, config=cfg)
    long_payload, long_id = push(r, {"n": 1, "sleep_ms": 10000, "poll_cancel": poll_cancel})
    wait_state(r, long_id, "running", [proc])
    # a second job waits behind it in the queue
    other_payload, other_id = push(r, {"n": 2})
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = wait_exit(proc, 30)
    elapsed = time.monotonic() - t0
    assert rc == 0, worker_logs([proc])
    assert elapsed < 2.0, f"exit took {elapsed:.2f}s with drain_timeout 1\n{worker_logs([proc])}"
    assert elapsed >= 0.9, f"job stopped {elapsed:.2f}s after SIGTERM, before the drain deadline"
    assert r.lrange(CLS, 0, -1) == [long_payload, other_payload], worker_logs([proc])
    st = status(r, CLS, long_id)
    assert st["state"] == "queued", (st, worker_logs([proc]))
    assert st["attempts"] == "0", st
    assert not any(processing_lists(r).values()), processing_lists(r)


@pytest.mark.parametrize("isolation,poll_cancel", [
    ("inprocess", False), ("fork", False), ("inprocess", True)])
def test_a_cancel_during_a_drain_is_not_lost_when_the_job_is_given_back(
        r, workers, config_file, cli, isolation, poll_cancel):
    # the user cancels a job that a draining worker holds; at the drain's end
    # the job is given back - and must end cancelled, not run again elsewhere
    cfg = config_file("worker: {drain_timeout: 1.5}\n")
    (proc,) = workers.start("drudge-noop", "--isolation", isolation, config=cfg)
    payload, job_id = push(r, {"n": 1, "sleep_ms": 10000, "poll_cancel": poll_cancel})
    wait_state(r, job_id, "running", [proc])
    proc.send_signal(signal.SIGTERM)
    p = cli("cancel", CLS, job_id)
    assert p.returncode == 0, p.stderr
    assert wait_exit(proc, 30) == 0, worker_logs([proc])
    st = status(r, CLS, job_id)
    assert st["state"] == "cancelled", (st, worker_logs([proc]))
    assert "cancel" not in st
    assert r.llen(CLS) == 0 and not any(processing_lists(r).values())


def test_a_dead_workers_job_that_was_being_cancelled_ends_cancelled(
        r, workers, config_file, cli):
    cfg = config_file("worker: {heartbeat: 0.5, dead_after: 2}\n")
    (a,) = workers.start("drudge-noop", config=cfg)
    _, job_id = push(r, {"n": 1, "sleep_ms": 5000})
    wait_state(r, job_id, "running", [a])
    assert cli("cancel", CLS, job_id).returncode == 0
    a.send_signal(signal.SIGKILL)
    a.wait(30)
    (b,) = workers.start("drudge-noop", config=cfg)
    st = wait_state(r, job_id, "cancelled", [a, b])
    assert "cancel" not in st
    assert r.llen(CLS) == 0 and not any(processing_lists(r).values())


@pytest.mark.parametrize("isolation,poll_cancel", [
    ("inprocess", False), ("fork", False), ("inprocess", True)])
def test_second_sigint_requeues_the_running_job_at_once(r, workers, isolation, poll_cancel):
    # default drain_timeout (25 s): only the second SIGINT can make it quick
    (proc,) = workers.start("drudge-noop", "--isolation", isolation)
    long_payload, long_id = push(r, {"n": 1, "sleep_ms": 20000, "poll_cancel": poll_cancel})
    wait_state(r, long_id, "running", [proc])
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None, "worker exited on the first SIGINT while busy"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rc = wait_exit(proc, 30)
    elapsed = time.monotonic() - t0
    assert rc == 0, worker_logs([proc])
    assert elapsed < 5, \
        f"second SIGINT took {elapsed:.2f}s to stop the worker\n{worker_logs([proc])}"
    assert r.lrange(CLS, 0, -1) == [long_payload], worker_logs([proc])
    st = status(r, CLS, long_id)
    assert st["state"] == "queued", (st, worker_logs([proc]))
    assert st["attempts"] == "0", st
    assert not any(processing_lists(r).values())


# ---- dead workers ----

def test_job_of_a_worker_killed_with_sigkill_is_done_by_another_worker(
        r, workers, config_file):
    cfg = config_file("worker: {heartbeat: 0.5, dead_after: 2}\n")
    (a,) = workers.start("drudge-noop", config=cfg)
    _, job_id = push(r, {"n": 1, "sleep_ms": 3000})
    st = wait_state(r, job_id, "running", [a])
    assert f":{a.pid}:" in st["worker"]
    a.send_signal(signal.SIGKILL)
    a.wait(30)
    (b,) = workers.start("drudge-noop", config=cfg)
    st = wait_state(r, job_id, "done", [a, b])
    assert st["attempts"] == "2", st
    assert f":{b.pid}:" in st["worker"], st
    assert r.llen(CLS) == 0
    assert not any(processing_lists(r).values()), processing_lists(r)
    assert_alive([b])


def test_crashing_job_in_fork_isolation_fails_after_max_attempts_and_worker_survives(
        r, workers, config_file):
    cfg = config_file(
        "classes:\n"
        "  NoopJob: {isolation: fork, max_attempts: 3, backoff: {base: 0.1, cap: 0.2}}\n")
    (proc,) = workers.start("drudge-noop", config=cfg, env=CRASH_ENV)
    crash_payload, crash_id = push(r, {"n": 1, "outcome": "crash"})
    st = wait_state(r, crash_id, "failed", [proc])
    assert st["attempts"] == "3", st
    assert crash_payload in r.lrange(f"{CLS}:failed", 0, -1)
    assert_alive([proc])
    # the same worker goes on serving
    ids = [push(r, {"n": 100 + i})[1] for i in range(5)]
    for i in ids:
        st = wait_state(r, i, "done", [proc])
        assert f":{proc.pid}:" in st["worker"]
    assert_alive([proc])
    # the error names the signal the way a user knows it
    st = status(r, CLS, crash_id)
    assert "SIGSEGV" in st.get("error", ""), (st, worker_logs([proc]))


def test_poison_pill_that_kills_inprocess_workers_ends_in_failed(r, workers, config_file):
    cfg = config_file(
        "worker: {heartbeat: 0.5, dead_after: 2}\n"
        "classes:\n"
        "  NoopJob: {isolation: inprocess, max_attempts: 2}\n")
    live = list(workers.start("drudge-noop", config=cfg, env=CRASH_ENV))
    crash_payload, crash_id = push(r, {"n": 1, "outcome": "crash"})
    exits = []

    def supervise():
        # what supervisord does: restart any worker that exited
        for p in list(live):
            if p.poll() is not None:
                exits.append(p.returncode)
                live.remove(p)
                live.extend(workers.start("drudge-noop", config=cfg, env=CRASH_ENV))
        return status(r, CLS, crash_id).get("state") == "failed"

    wait_until(supervise, 120, "poison pill to end in failed", workers.procs,
               lambda: f"status={status(r, CLS, crash_id)} exits={exits}", interval=0.1)
    st = status(r, CLS, crash_id)
    assert st["error"] == "worker died while running this job", st
    assert st["attempts"] == "2", st
    assert r.lrange(f"{CLS}:failed", 0, -1) == [crash_payload]
    assert r.llen(CLS) == 0
    assert exits == [-signal.SIGSEGV, -signal.SIGSEGV], exits
    # the class keeps working
    _, ok_id = push(r, {"n": 2})
    wait_state(r, ok_id, "done", workers.procs)


# ---- Redis going away ----

def test_redis_restart_while_workers_are_busy_loses_no_job(redis_server, r, workers):
    n = 2000
    payloads = [json.dumps({"n": i, "sleep_ms": 1}) for i in range(n)]
    ids = [sha256_id(p) for p in payloads]
    push_many(r, CLS, payloads)
    procs = workers.start("drudge-noop", n=2)
    wait_for(lambda: int(r.hget(f"{CLS}:stats", "processed") or 0) >= 100, TIMEOUT,
             interval=0.01, what="workers to get going")
    redis_server.restart()
    r.connection_pool.disconnect()

    def finished():
        try:
            return all_done(r, CLS, ids)
        except Exception:
            return False

    def summary():
        states = status_fields(r, CLS, ids, "state")
        counts = {s: states.count(s) for s in set(states)}
        return f"states={counts} queue={r.llen(CLS)} processing={processing_lists(r)}"
    wait_until(finished, 180, "all 2,000 jobs done after the restart", procs, summary,
               interval=0.5)
    assert_alive(procs)
    assert r.llen(CLS) == 0
    assert not any(processing_lists(r).values()), processing_lists(r)


# ---- bad input ----

BAD_INPUTS = {
    "not_json": (b"this is not json {", ("JSON",)),
    "json_array": (b'[1, 2, 3]', ("object",)),
    "two_mib_payload": (json.dumps({"blob": "x" * (2 * 1024 * 1024)}).encode(),
                        ("bytes", "limit", "large")),
    "invalid_utf8": (b'{"name": "caf\xff\xfe"}', ("UTF-8", "utf-8", "decode", "Unicode")),
    "ten_thousand_deep": (b'{"deep": ' + b"[" * 10000 + b"]" * 10000 + b"}",
                          ("deep", "depth", "nest")),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_payload_fails_with_a_clear_error_and_the_worker_carries_on(
        redis_server, r, workers, kind):
    raw, words = BAD_INPUTS[kind]
    (proc,) = workers.start("drudge-noop")
    r.rpush(CLS, raw)
    job_id = sha256_id(raw)
    st = wait_state(r, job_id, "failed", [proc])
    err = st.get("error", "")
    assert err, st
    assert any(w in err for w in words), f"error {err!r} does not say what is wrong ({words})"
    assert "\n" not in err
    assert st["attempts"] == "1", st
    raw_client = redis_py.Redis(host="127.0.0.1", port=redis_server.port)
    try:
        assert raw_client.lrange(f"{CLS}:failed", 0, -1) == [raw]
    finally:
        raw_client.close()
    assert_alive([proc])
    _, ok_id = push(r, {"n": 1})
    st = wait_state(r, ok_id, "done", [proc])
    assert f":{proc.pid}:" in st["worker"]
    assert_alive([proc])


# ---- timeouts and recycling ----

def test_hanging_job_in_fork_isolation_times_out_and_fails(r, workers, config_file):
    cfg = config_file(
        "classes:\n"
        "  NoopJob: {timeout: 1, isolation: fork, max_attempts: 2, backoff: {base: 0.1, cap: 0.2}}\n")
    (proc,) = workers.start("drudge-noop", config=cfg)
    hang_payload, hang_id = push(r, {"n": 1, "outcome": "hang"})
    st = wait_state(r, hang_id, ("retrying", "failed"), [proc])
    assert st["error"] == "timed out after 1 s", st
    st = wait_state(r, hang_id, "failed", [proc])
    assert st["error"] == "timed out after 1 s", st
    assert st["attempts"] == "2", st
    assert r.lrange(f"{CLS}:failed", 0, -1) == [hang_payload]
    assert_alive([proc])
    _, ok_id = push(r, {"n": 2})
    wait_state(r, ok_id, "done", [proc])


def test_worker_recycles_with_exit_0_after_max_jobs(r, workers, config_file):
    cfg = config_file("worker: {max_jobs: 50}\n")
    payloads = [json.dumps({"n": i}) for i in range(120)]
    push_many(r, CLS, payloads)
    (proc,) = workers.start("drudge-noop", config=cfg)
    rc = wait_exit(proc)
    assert rc == 0, worker_logs([proc])
    assert r.hget(f"{CLS}:stats", "processed") == "50", worker_logs([proc])
    assert r.llen(CLS) == 70
    states = status_fields(r, CLS, [sha256_id(p) for p in payloads], "state")
    assert states.count("done") == 50, {s: states.count(s) for s in set(states)}
    assert not any(processing_lists(r).values()), processing_lists(r)
    # the 70 left over are untouched and still at the queue in order
    assert r.lrange(CLS, 0, -1) == payloads[50:]
