"""Failures handled the way production needs them (issue 3): retries with
backoff, delayed jobs, dead letters, pause, the circuit breaker, rate
limits, unique pushes and cancel - as a user sees them in Redis and through
the `drudge` CLI.

Every test starts real drudge-noop processes against its own redis-server.
All times compared here are unix ms from the Redis server's clock, the one
drudge writes into status hashes (docs/protocol.md). Tests that need the CLI
skip while it is not built.
"""
import concurrent.futures
import json
import os
import time

import pytest

from conftest import (all_done, assert_alive, binary, push_many, sha256_id, status, status_fields,
                      wait_for, wait_registered, wait_until, worker_logs)

CLS = "NoopJob"
TIMEOUT = 60


# ---- helpers ----

def redis_ms(r):
    s, us = r.time()
    return s * 1000 + us // 1000


def stat(r, field):
    return int(r.hget(f"{CLS}:stats", field) or 0)


def need_cli():
    if not os.path.exists(binary("drudge")):
        pytest.skip(f"the drudge CLI is not built ({binary('drudge')} is missing)")


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- retry with backoff ----

def test_retry_job_is_tried_max_attempts_times_with_backoff_then_failed(r, workers, config_file):
    base_ms, cap_ms, max_attempts = 200, 1000, 3
    cfg = config_file(f"""
classes:
  {CLS}:
    max_attempts: {max_attempts}
    backoff: {{base: {base_ms / 1000}, cap: {cap_ms / 1000}}}
""")
    job_id = "retry-me"
    payload = json.dumps({"id": job_id, "outcome": "retry"})
    channel = f"{CLS}:status:{job_id}"

    sub = r.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(channel)
    wait_for(lambda: r.pubsub_numsub(channel)[0][1] == 1, 5, what="subscription")
    procs = workers.start("drudge-noop", config=cfg)
    r.rpush(CLS, payload)

    events = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        m = sub.get_message(timeout=0.5)
        if m and m["type"] == "message":
            events.append(json.loads(m["data"]))
            if events[-1].get("state") == "failed":
                break
    sub.close()
    assert events and events[-1].get("state") == "failed", \
        f"no 'failed' status published; saw {events}\n{worker_logs(procs)}"

    # The end of each attempt: retrying, retrying, failed (a 'running' mark
    # may come before each; a short job may also skip it).
    ends = [e for e in events if e.get("state") in ("retrying", "failed")]
    assert [e["state"] for e in ends] == ["retrying"] * (max_attempts - 1) + ["failed"], events
    assert [int(e["attempts"]) for e in ends] == list(range(1, max_attempts + 1)), events
    assert all(e["error"] == "noop asked to retry" for e in ends), ends

    for k, e in enumerate(ends[:-1], start=1):
        delay = int(e["next_retry_at"]) - int(e["finished_at"])
        envelope = min(cap_ms, base_ms * 2 ** (k - 1))
        assert base_ms <= delay <= envelope <= cap_ms, \
            f"attempt {k}: retry delay {delay} ms outside [{base_ms}, {envelope}]: {e}"
        nxt = ends[k]
        # started_at of a short job is finished_at - run_ms, rounded to the ms
        assert int(nxt["started_at"]) >= int(e["next_retry_at"]) - 1, \
            f"attempt {k + 1} started at {nxt['started_at']}, before next_retry_at " \
            f"{e['next_retry_at']} of attempt {k}"
    assert "next_retry_at" not in ends[-1]

    st = status(r, CLS, job_id)
    assert st["state"] == "failed" and st["attempts"] == str(max_attempts), st
    assert st["error"] == "noop asked to retry"
    assert r.lrange(f"{CLS}:failed", 0, -1) == [payload]
    assert r.zcard(f"{CLS}:delayed") == 0 and r.llen(CLS) == 0
    assert stat(r, "retried") == max_attempts - 1 and stat(r, "failed") == 1
    assert stat(r, "processed") == 0
    assert_alive(procs)


# ---- delayed jobs ----

def test_four_housekeeping_workers_promote_5000_delayed_jobs_each_exactly_once(r, workers):
    n = 5000
    procs = workers.start("drudge-noop", n=4)
    wait_registered(r, procs)
    payloads = [json.dumps({"n": i, "kind": "delayed"}) for i in range(n)]
    ids = [sha256_id(p) for p in payloads]
    now = redis_ms(r)
    pipe = r.pipeline(transaction=False)
    for i, p in enumerate(payloads):
        pipe.zadd(f"{CLS}:delayed", {p: now + 200 + (i * 2800) // n})
    pipe.execute()

    wait_until(lambda: stat(r, "processed") >= n and r.zcard(f"{CLS}:delayed") == 0
               and r.llen(CLS) == 0, 120, "5,000 delayed jobs processed", procs,
               lambda: f"stats={r.hgetall(f'{CLS}:stats')} delayed={r.zcard(f'{CLS}:delayed')} "
                       f"queue={r.llen(CLS)}")
    time.sleep(1.5)  # a job promoted twice would now show up in the counters
    assert stat(r, "processed") == n
    assert r.zcard(f"{CLS}:delayed") == 0 and r.llen(CLS) == 0
    rows = status_fields(r, CLS, ids, "state", "attempts")
    bad = [(ids[k], row) for k, row in enumerate(rows) if row != ["done", "1"]]
    assert not bad, f"{len(bad)} jobs not done exactly once, e.g. {bad[:5]}"
    held = {k: r.llen(k) for k in r.scan_iter(f"{CLS}:processing:*")}
    assert all(v == 0 for v in held.values()), held
    assert_alive(procs)


def test_delayed_job_starts_within_one_second_of_its_due_time(r, workers):
    procs = workers.start("drudge-noop")
    wait_registered(r, procs)
    payload = json.dumps({"id": "later", "result": {"ok": True}})
    due = redis_ms(r) + 1500
    r.zadd(f"{CLS}:delayed", {payload: due})
    st = wait_until(lambda: status(r, CLS, "later").get("state") == "done" and
                    status(r, CLS, "later"), 15, "the delayed job to be done", procs)
    started = int(st["started_at"])
    assert started >= due - 1, f"started at {started}, {due - started} ms before its due time {due}"
    assert started - due <= 1000, f"started {started - due} ms after its due time"
    assert st["attempts"] == "1" and st["result"] == '{"ok":true}'


def test_cli_push_delay_starts_within_one_second_of_its_due_time(r, workers, cli):
    need_cli()
    procs = workers.start("drudge-noop")
    wait_registered(r, procs)
    before = redis_ms(r)
    p = cli("push", "--delay", "1.5", CLS, '{"id":"cli-later"}')
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "cli-later"
    queued = status(r, CLS, "cli-later")
    assert queued["state"] == "queued", queued
    due = int(queued["due_at"])
    assert before + 1400 <= due <= redis_ms(r) + 1600, (before, due)
    assert r.zscore(f"{CLS}:delayed", '{"id":"cli-later"}') == due
    st = wait_until(lambda: status(r, CLS, "cli-later").get("state") == "done" and
                    status(r, CLS, "cli-later"), 15, "the delayed job to be done", procs)
    started = int(st["started_at"])
    assert due - 1 <= started <= due + 1000, f"started {started - due} ms from its due time"


# ---- dead letters ----

def test_failed_retry_all_brings_every_failed_job_back_and_they_complete(
        r, workers, config_file, cli):
    need_cli()
    n = 12
    # Phase 1: a timeout too short for the jobs; one attempt each -> failed.
    short = config_file(f"""
classes:
  {CLS}: {{isolation: fork, timeout: 1, max_attempts: 1}}
""")
    ids = [f"slow-{i}" for i in range(n)]
    for i in ids:
        r.rpush(CLS, json.dumps({"id": i, "sleep_ms": 1500}))
    procs = workers.start("drudge-noop", config=short, n=4)
    wait_until(lambda: r.llen(f"{CLS}:failed") == n, TIMEOUT, f"{n} failed jobs", procs,
               lambda: f"stats={r.hgetall(f'{CLS}:stats')}")
    workers.stop_all()
    for i in ids:
        st = status(r, CLS, i)
        assert st["state"] == "failed" and st["attempts"] == "1", st
        assert "timed out" in st["error"], st

    # Phase 2: the timeout raised; retry them all.
    fine = config_file(f"""
classes:
  {CLS}: {{isolation: fork, timeout: 10, max_attempts: 1}}
""")
    p = cli("failed", "retry", CLS, "--all")
    assert p.returncode == 0, p.stdout + p.stderr
    assert r.llen(f"{CLS}:failed") == 0
    assert r.llen(CLS) == n
    for i in ids:
        st = status(r, CLS, i)
        assert st["state"] == "queued" and st["attempts"] == "0", st
        assert "error" not in st
    procs = workers.start("drudge-noop", config=fine, n=4)
    wait_until(lambda: all_done(r, CLS, ids), TIMEOUT, "retried jobs to complete", procs)
    for i in ids:
        assert status(r, CLS, i)["attempts"] == "1"
    assert r.llen(f"{CLS}:failed") == 0 and r.llen(CLS) == 0
    assert stat(r, "processed") == n


# ---- pause / resume ----

def test_pause_stops_all_fetching_within_a_second_and_resume_loses_nothing(r, workers):
    n_before, n_after = 300, 30
    ids = [f"p-{i}" for i in range(n_before)]
    push_many(r, CLS, [json.dumps({"id": i, "sleep_ms": 50}) for i in ids])
    procs = workers.start("drudge-noop", n=3)
    wait_until(lambda: stat(r, "processed") >= 15, TIMEOUT, "some jobs processed", procs)

    r.set(f"{CLS}:paused", "maintenance")
    paused_at = redis_ms(r)
    later = [f"q-{i}" for i in range(n_after)]
    for i in later:
        r.rpush(CLS, json.dumps({"id": i, "sleep_ms": 50}))

    time.sleep(1.0)   # every worker notices within a second; in-flight jobs finish
    p1 = stat(r, "processed")
    time.sleep(2.0)
    p2 = stat(r, "processed")
    assert p2 == p1, f"{p2 - p1} jobs processed in the 2 s window while paused"
    assert p1 < n_before, "every job ran before the pause took effect: test too slow to tell"

    rows = status_fields(r, CLS, ids + later, "state", "started_at")
    late = [(i, row) for i, row in zip(ids + later, rows)
            if row[1] is not None and int(row[1]) > paused_at + 1000]
    assert not late, f"jobs started more than 1 s after the pause: {late[:5]}"
    assert not any(row[0] == "running" for row in rows), "a job is still running while paused"
    assert all(status(r, CLS, i) == {} for i in later), "a job pushed after the pause was taken"
    held = sum(r.llen(k) for k in r.scan_iter(f"{CLS}:processing:*"))
    assert held == 0, f"{held} jobs held by workers while paused"
    assert r.llen(CLS) == n_before + n_after - p1, "jobs lost while paused"

    r.delete(f"{CLS}:paused")
    wait_until(lambda: all_done(r, CLS, ids + later), TIMEOUT, "all jobs done after resume",
               procs, lambda: f"stats={r.hgetall(f'{CLS}:stats')} queue={r.llen(CLS)}")
    assert stat(r, "processed") == n_before + n_after
    assert set(status_fields(r, CLS, ids + later, "attempts")) == {"1"}
    assert_alive(procs)


# ---- circuit breaker ----

def test_unavailable_pauses_the_class_with_a_growing_cooldown_then_resumes(r, workers):
    job_id = "flaky-service"
    sick = json.dumps({"id": job_id, "outcome": "unavailable"})
    paused, breaker = f"{CLS}:paused", f"{CLS}:breaker"
    procs = workers.start("drudge-noop")
    wait_registered(r, procs)
    r.rpush(CLS, sick)

    # first failure: paused for 5 s, the attempt not charged
    wait_until(lambda: r.hget(breaker, "cooldown_ms") == "5000", 10, "first breaker trip", procs)
    reason, pttl = r.get(paused), r.pttl(paused)
    assert reason is not None and reason.startswith("circuit breaker:"), reason
    assert 0 < pttl <= 5000, pttl
    st = status(r, CLS, job_id)
    assert st["state"] == "queued" and int(st.get("attempts", "0")) == 0, st
    assert "unavailable" in st["error"]
    assert r.lrange(CLS, 0, -1) == [sick], "the job is not back at the head of its queue"

    # the probe after the cool-down fails too: the cool-down doubles
    wait_until(lambda: r.hget(breaker, "cooldown_ms") == "10000", 15, "second breaker trip",
               procs, lambda: f"breaker={r.hgetall(breaker)} pttl={r.pttl(paused)}")
    reason, pttl = r.get(paused), r.pttl(paused)
    assert reason is not None and reason.startswith("circuit breaker:"), reason
    assert 5000 < pttl <= 10000, pttl
    st = status(r, CLS, job_id)
    assert st["state"] == "queued" and int(st.get("attempts", "0")) == 0, st
    assert stat(r, "processed") == 0 and stat(r, "failed") == 0 and stat(r, "retried") == 0

    # the service recovers: the same job (same id) now succeeds
    well = json.dumps({"id": job_id, "outcome": "done", "result": "recovered"})
    pipe = r.pipeline(transaction=True)
    pipe.lrem(CLS, 0, sick)
    pipe.rpush(CLS, well)
    removed, _ = pipe.execute()
    assert removed == 1, "the job was not waiting in the queue during the pause"
    assert r.exists(paused) == 1, "the class resumed before its cool-down was over"

    st = wait_until(lambda: status(r, CLS, job_id).get("state") == "done" and
                    status(r, CLS, job_id), 20, "the job to complete after the cool-down", procs,
                    lambda: f"status={status(r, CLS, job_id)} breaker={r.hgetall(breaker)}")
    assert st["attempts"] == "1", st
    assert st["result"] == '"recovered"', st
    assert r.exists(paused) == 0 and r.exists(breaker) == 0
    assert stat(r, "processed") == 1
    assert_alive(procs)


# ---- rate limit ----

def test_rate_limit_50_per_second_is_shared_by_four_workers_that_sleep_while_waiting(
        r, workers, config_file):
    n, rate = 500, 50
    cfg = config_file(f"""
classes:
  {CLS}: {{rate: {rate}/s}}
""")
    ids = [f"r-{i}" for i in range(n)]
    push_many(r, CLS, [json.dumps({"id": i}) for i in ids])
    procs = workers.start("drudge-noop", config=cfg, n=4)
    cpu0 = {p.pid: cpu_seconds(p.pid) for p in procs}
    wall0 = time.monotonic()
    wait_until(lambda: stat(r, "processed") >= n, 60, "500 rate-limited jobs", procs,
               lambda: f"stats={r.hgetall(f'{CLS}:stats')}")
    wall = time.monotonic() - wall0
    cpu = sum(cpu_seconds(p.pid) - cpu0[p.pid] for p in procs)

    starts = sorted(int(s) for s in status_fields(r, CLS, ids, "started_at"))
    first = starts[0]
    windows = {}
    for s in starts:
        windows[(s - first) // 1000] = windows.get((s - first) // 1000, 0) + 1
    busiest = max(windows.values())
    assert busiest <= rate * 1.2, f"{busiest} jobs started in one second: {sorted(windows.items())}"
    # n tokens at `rate`/s, less a burst of a couple at the start: ~10 s
    span = starts[-1] - first
    assert span >= 9000, f"{n} jobs started within {span} ms: faster than {rate}/s"
    # sleeping workers: CPU time is a small fraction of the wall time
    assert cpu < 0.2 * wall, f"workers used {cpu:.2f} s CPU in {wall:.1f} s"
    assert_alive(procs)


# ---- unique pushes ----

def test_one_hundred_concurrent_unique_pushes_create_exactly_one_job(r, cli):
    need_cli()
    payload = '{"report":"monthly","month":"2024-05"}'

    def push(_):
        return cli("push", "--unique", CLS, payload)
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as ex:
        results = list(ex.map(push, range(100)))
    codes = sorted(p.returncode for p in results)
    assert codes.count(0) == 1 and codes.count(3) == 99, \
        f"exit codes {codes}; stderr e.g. {[p.stderr for p in results if p.returncode not in (0, 3)][:3]}"
    assert {p.stdout.strip() for p in results} == {sha256_id(payload)}
    assert r.llen(CLS) == 1
    assert r.lrange(CLS, 0, -1) == [payload]
    assert status(r, CLS, sha256_id(payload))["state"] == "queued"


# ---- cancel ----

def test_cancel_removes_a_queued_or_delayed_job_and_marks_it_cancelled(r, cli):
    need_cli()
    assert cli("push", CLS, '{"id":"c-queued"}').returncode == 0
    assert cli("push", "--delay", "60", CLS, '{"id":"c-delayed"}').returncode == 0
    assert r.llen(CLS) == 1 and r.zcard(f"{CLS}:delayed") == 1
    for job_id in ("c-queued", "c-delayed"):
        p = cli("cancel", CLS, job_id)
        assert p.returncode == 0, p.stdout + p.stderr
        assert status(r, CLS, job_id)["state"] == "cancelled"
    assert r.llen(CLS) == 0 and r.zcard(f"{CLS}:delayed") == 0
    # cancelling it again: already finished
    assert cli("cancel", CLS, "c-queued").returncode == 1
    assert cli("cancel", CLS, "no-such-job").returncode == 4


def test_cancel_of_a_running_job_is_flagged_and_a_done_outcome_wins(r, workers, cli):
    need_cli()
    procs = workers.start("drudge-noop")
    job_id = "c-running"
    p = cli("push", CLS, json.dumps({"id": job_id, "sleep_ms": 3000, "progress_steps": 30}))
    assert p.returncode == 0, p.stderr
    wait_until(lambda: status(r, CLS, job_id).get("state") == "running", 15,
               "the job to run", procs)
    p = cli("cancel", CLS, job_id)
    assert p.returncode == 0, p.stdout + p.stderr
    st = status(r, CLS, job_id)
    assert st["state"] == "running" and st.get("cancel") == "1", st
    # drudge-noop never looks at drudge_ctx_cancelled(): it finishes, and
    # a done outcome wins over a pending cancel (docs/protocol.md)
    st = wait_until(lambda: status(r, CLS, job_id).get("state") in ("done", "cancelled") and
                    status(r, CLS, job_id), 15, "the job to end", procs)
    assert st["state"] == "done", st
    assert "cancel" not in st
    assert st["attempts"] == "1"
