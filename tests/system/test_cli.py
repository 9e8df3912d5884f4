"""System tests of the `drudge` CLI against a real redis-server.

Each test runs the built binary (build/release/drudge, or $DRUDGE_BUILD) with
the test's Redis in DRUDGE_REDIS_URL and checks what a user sees: stdout,
the exit status, a one-line message on stderr, and the keys in Redis.
"""
import json
import os
import subprocess
import time

import pytest

from conftest import binary, free_port, sha256_id, wait_for

NOOP = "NoopJob"


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr}"
    return proc


def push(cli, payload, *opts, cls=NOOP):
    return ok(cli("push", *opts, cls, payload)).stdout.strip()


def state(r, job_id, cls=NOOP):
    return r.hget(f"{cls}:status:{job_id}", "state")


# ---- push ----------------------------------------------------------------

def test_push_from_argv_prints_sha256_id_and_queues_the_bytes(cli, r):
    payload = '{"sleep_ms": 1,  "x": "a"}'
    job_id = push(cli, payload)
    assert job_id == sha256_id(payload)
    assert r.lrange(NOOP, 0, -1) == [payload]
    st = r.hgetall(f"{NOOP}:status:{job_id}")
    assert st["state"] == "queued" and st["attempts"] == "0"
    assert NOOP in r.smembers("drudge:classes")


def test_push_from_stdin_is_the_same_job_as_from_argv(cli, r):
    payload = '{"from":"stdin"}'
    p = ok(cli("push", NOOP, "-", input=payload + "\n"))
    assert p.stdout.strip() == sha256_id(payload)
    assert r.lrange(NOOP, 0, -1) == [payload]


def test_push_id_sets_the_payload_id_and_keeps_the_rest(cli, r):
    job_id = push(cli, '{"a":1,"id":"old","b":[2]}', "--id", "order-42")
    assert job_id == "order-42"
    stored = r.lrange(NOOP, 0, -1)
    assert len(stored) == 1
    assert json.loads(stored[0]) == {"a": 1, "id": "order-42", "b": [2]}
    assert state(r, "order-42") == "queued"


def test_push_id_inserts_an_id_when_the_payload_has_none(cli, r):
    assert push(cli, '{"a":1}', "--id", "x-1") == "x-1"
    assert json.loads(r.lindex(NOOP, 0)) == {"a": 1, "id": "x-1"}


def test_push_delay_puts_the_job_in_the_delayed_set(cli, r):
    before = time.time() * 1000
    job_id = push(cli, '{"later":true}', "--delay", "60")
    assert r.llen(NOOP) == 0
    members = r.zrange(f"{NOOP}:delayed", 0, -1, withscores=True)
    assert [m for m, _ in members] == ['{"later":true}']
    due = members[0][1]
    assert before + 59000 <= due <= time.time() * 1000 + 61000
    assert state(r, job_id) == "queued"


def test_push_at_a_future_time_is_delayed_until_then(cli, r):
    at = int(time.time()) + 3600
    push(cli, '{"at":1}', "--at", str(at))
    assert r.zscore(f"{NOOP}:delayed", '{"at":1}') == pytest.approx(at * 1000, abs=1)


def test_push_unique_refuses_a_live_duplicate_with_exit_3(cli, r):
    payload = '{"unique":1}'
    first = push(cli, payload, "--unique")
    p = cli("push", "--unique", NOOP, payload)
    assert p.returncode == 3
    assert p.stdout.strip() == first
    assert len(p.stderr.strip().splitlines()) == 1 and "already" in p.stderr
    assert r.llen(NOOP) == 1


def test_concurrent_unique_pushes_of_one_payload_create_exactly_one_job(redis_server, r):
    payload = '{"report":"daily","day":"2024-05-01"}'
    env = dict(os.environ, DRUDGE_REDIS_URL=redis_server.url)
    env.pop("DRUDGE_CONFIG", None)
    procs = [subprocess.Popen([binary("drudge"), "push", "--unique", NOOP, payload], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(100)]
    codes = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        codes.append(p.returncode)
        assert out.strip() == sha256_id(payload)
    assert codes.count(0) == 1 and codes.count(3) == 99
    assert r.lrange(NOOP, 0, -1) == [payload]


def test_push_of_an_invalid_payload_exits_1(cli, r):
    for bad in ('[1,2]', '{"a":', 'nope'):
        p = cli("push", NOOP, bad)
        assert p.returncode == 1, bad
        assert p.stderr.startswith("drudge push: ") and len(p.stderr.splitlines()) == 1
    assert r.llen(NOOP) == 0


# ---- push --lines (drudge_push_many) ---------------------------------------

def test_push_lines_pushes_every_line_in_order_with_its_status(cli, r):
    lines = ['{"n":%d}' % i for i in range(1203)]   # three script calls of 500
    lines[7] = '{"id":"order-7","n":7}'
    text = "\n".join(lines[:5]) + "\r\n" + "\n".join(lines[5:]) + "\n"
    ids = ok(cli("push", "--lines", NOOP, input=text)).stdout.split()
    expected = [sha256_id(p) for p in lines]
    expected[7] = "order-7"
    assert ids == expected
    assert r.lrange(NOOP, 0, -1) == lines
    assert r.keys("drudge:push:*") == []   # the bulk push's progress key is gone
    pipe = r.pipeline(transaction=False)
    for i in ids:
        pipe.hgetall(f"{NOOP}:status:{i}")
    for st in pipe.execute():
        assert st["state"] == "queued" and st["attempts"] == "0" and st["progress"] == "0"
        assert int(st["queued_at"]) > 1.7e12
    assert NOOP in r.smembers("drudge:classes")


def test_push_lines_from_a_file(cli, r, tmp_path):
    f = tmp_path / "jobs.jsonl"
    f.write_text('{"a":1}\n{"a":2}')
    ids = ok(cli("push", "--lines", NOOP, str(f))).stdout.split()
    assert ids == [sha256_id('{"a":1}'), sha256_id('{"a":2}')]
    assert r.llen(NOOP) == 2
    assert r.keys("drudge:push:*") == []   # one script call needs no progress key


def test_push_lines_with_one_bad_line_pushes_nothing(cli, r):
    for bad in ("[1,2]", "", '{"id":"bad id"}', "{nope"):
        text = '{"a":1}\n' + bad + '\n{"a":3}\n'
        p = cli("push", "--lines", NOOP, input=text)
        assert p.returncode == 1, (bad, p.stderr)
        assert "job 2:" in p.stderr and p.stdout == ""
        assert r.llen(NOOP) == 0 and r.keys(f"{NOOP}:status:*") == []


def test_push_lines_starts_a_finished_jobs_status_afresh(cli, r):
    payload = '{"again":true}'
    job_id = sha256_id(payload)
    key = f"{NOOP}:status:{job_id}"
    r.hset(key, mapping={"state": "done", "attempts": "1", "progress": "100",
                         "result": '{"x":1}', "finished_at": "1", "worker": "w"})
    r.expire(key, 600)
    fresh = sha256_id('{"new":1}')
    assert ok(cli("push", "--lines", NOOP, input=payload + '\n{"new":1}\n')).stdout.split() == [
        job_id, fresh]
    st = r.hgetall(key)
    assert set(st) == {"state", "queued_at", "attempts", "progress"}
    assert st["state"] == "queued" and st["attempts"] == "0"
    assert r.ttl(key) == -1
    assert r.hgetall(f"{NOOP}:status:{fresh}")["state"] == "queued"


def test_push_lines_publishes_queued_to_a_watcher(cli, r):
    watched = '{"watch":1}'
    p = r.pubsub()
    p.subscribe(f"{NOOP}:status:{sha256_id(watched)}")
    assert p.get_message(timeout=2)["type"] == "subscribe"
    ok(cli("push", "--lines", NOOP, input='{"other":1}\n' + watched + "\n"))
    msg = p.get_message(timeout=2)
    assert msg is not None and msg["type"] == "message"
    assert json.loads(msg["data"])["state"] == "queued"
    assert p.get_message(timeout=0.2) is None   # the other job's status is not sent
    p.close()


def test_push_lines_stopped_midway_by_redis_says_which_went_in(cli, r):
    # Redis refuses writes (maxmemory) after a few of the 500-job script
    # calls: the ids of the jobs that went in are printed, the error says
    # how many, and no status is left without its job
    lines = ['{"n":%d,"pad":"%s"}' % (i, "x" * 200) for i in range(20000)]
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", int(r.info("memory")["used_memory"]) + 1_500_000)
    try:
        p = cli("push", "--lines", NOOP, input="\n".join(lines) + "\n")
    finally:
        r.config_set("maxmemory", 0)
    assert p.returncode == 1, p.stderr
    ids = p.stdout.split()
    assert 0 < len(ids) < len(lines) and len(ids) % 500 == 0, len(ids)
    assert f"only the first {len(ids)} jobs were pushed" in p.stderr and "OOM" in p.stderr
    assert ids == [sha256_id(x) for x in lines[:len(ids)]]
    assert r.lrange(NOOP, 0, -1) == lines[:len(ids)]
    assert len(r.keys(f"{NOOP}:status:*")) == len(ids)


def test_push_lines_misuse_exits_2(cli, r):
    for args in (["--lines", "--delay", "3", NOOP], ["--lines", "--unique", NOOP],
                 ["--lines", "bad class!"], ["--lines"], ["--lines", NOOP, "a", "b"]):
        p = cli("push", *args, input="{}\n")
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.startswith("drudge push: ")
    p = cli("push", "--lines", NOOP, "/nonexistent/jobs.jsonl")
    assert p.returncode == 1 and "cannot open /nonexistent/jobs.jsonl" in p.stderr
    p = cli("push", "--lines", NOOP, input="")
    assert p.returncode == 1 and "no jobs" in p.stderr
    assert r.llen(NOOP) == 0


# ---- status --------------------------------------------------------------

def test_status_json_prints_the_status_hash(cli, r):
    job_id = push(cli, '{"s":1}')
    p = ok(cli("status", "--json", NOOP, job_id))
    assert json.loads(p.stdout) == r.hgetall(f"{NOOP}:status:{job_id}")


def test_status_shows_state_and_times_for_people(cli):
    job_id = push(cli, '{"s":2}')
    out = ok(cli("status", NOOP, job_id)).stdout
    assert "state" in out and "queued" in out and job_id in out


def test_status_of_an_unknown_job_exits_4(cli):
    p = cli("status", NOOP, "no-such-job")
    assert p.returncode == 4
    assert p.stderr == f'drudge status: unknown job "no-such-job" in {NOOP}\n'


def test_status_watch_without_a_terminal_prints_each_change_until_done(cli, r, workers):
    job_id = push(cli, '{"sleep_ms":1200,"progress_steps":4,"result":{"ok":1}}')
    workers.start("drudge-noop")
    p = cli("status", "--watch", NOOP, job_id, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[-1].startswith("state=done progress=100")
    assert r'result="{\"ok\":1}"' in lines[-1]  # logfmt quoting
    assert any("progress=50" in line and 'message="step 2/4"' in line for line in lines)
    assert len(lines) == len(set(lines)), "a line is printed only when something changed"


def test_status_watch_of_a_failed_job_exits_1(cli, r, workers):
    job_id = push(cli, '{"outcome":"fail"}')
    workers.start("drudge-noop")
    p = cli("status", "--watch", NOOP, job_id, timeout=30)
    assert p.returncode == 1
    assert p.stdout.strip().splitlines()[-1].startswith("state=failed")
    assert 'error="noop asked to fail"' in p.stdout


def test_status_watch_json_prints_one_object_per_line(cli, r, workers):
    job_id = push(cli, '{"sleep_ms":300}')
    workers.start("drudge-noop")
    p = ok(cli("status", "--watch", "--json", NOOP, job_id, timeout=30))
    states = [json.loads(line)["state"] for line in p.stdout.strip().splitlines()]
    assert states[-1] == "done"


# ---- stats and workers ---------------------------------------------------

def stats_of(cli, cls=NOOP):
    rows = json.loads(ok(cli("stats", "--json")).stdout)
    return {row["class"]: row for row in rows}[cls]


def test_stats_json_counts_queued_delayed_failed_and_done(cli, r, workers):
    done = [push(cli, json.dumps({"n": i})) for i in range(3)]
    push(cli, '{"outcome":"fail"}')
    workers.start("drudge-noop")
    wait_for(lambda: r.llen(f"{NOOP}:failed") == 1 and all(state(r, i) == "done" for i in done),
             what="jobs to finish")
    workers.stop_all()
    for i in range(2):
        push(cli, json.dumps({"q": i}))
    push(cli, '{"d":1}', "--delay", "600")
    s = stats_of(cli)
    assert (s["queued"], s["delayed"], s["failed"], s["running"]) == (2, 1, 1, 0)
    assert s["processed"] == 3 and s["failed_total"] == 1
    assert s["paused"] is None and s["workers"] == 0
    out = ok(cli("stats")).stdout.splitlines()
    assert out[0].split()[:5] == ["CLASS", "QUEUED", "RUNNING", "DELAYED", "FAILED"]
    assert out[1].split()[:5] == [NOOP, "2", "0", "1", "1"]


def test_stats_counts_live_workers_and_running_jobs(cli, r, workers):
    workers.start("drudge-noop", n=2)
    job_id = push(cli, '{"sleep_ms":3000}')
    wait_for(lambda: state(r, job_id) == "running", what="job to start")
    wait_for(lambda: stats_of(cli)["workers"] == 2, what="both workers registered")
    s = stats_of(cli)
    assert s["running"] == 1 and s["queued"] == 0


def test_workers_json_lists_live_workers(cli, r, workers):
    (proc,) = workers.start("drudge-noop")
    wait_for(lambda: r.zcard("drudge:workers") == 1, what="worker heartbeat")
    ws = json.loads(ok(cli("workers", "--json")).stdout)
    assert len(ws) == 1
    w = ws[0]
    assert w["class"] == NOOP and w["pid"] == proc.pid and w["dead"] is False
    assert w["program"] == "drudge-noop" and w["heartbeat_age_ms"] < 30000
    out = ok(cli("workers")).stdout
    assert w["id"] in out and "alive" in out


def test_workers_flags_a_worker_without_heartbeat_as_dead(cli, r):
    r.zadd("drudge:workers", {"ghost:1:abcd": int(time.time() * 1000) - 3600 * 1000})
    ws = json.loads(ok(cli("workers", "--json")).stdout)
    assert [(w["id"], w["dead"]) for w in ws] == [("ghost:1:abcd", True)]


# ---- failed list / retry / delete ----------------------------------------

def make_failed(cli, r, workers, n):
    ids = [push(cli, json.dumps({"outcome": "fail", "n": i})) for i in range(n)]
    workers.start("drudge-noop")
    wait_for(lambda: r.llen(f"{NOOP}:failed") == n, what="jobs to fail")
    workers.stop_all()
    return ids


def test_failed_list_shows_newest_first_with_error_and_attempts(cli, r, workers):
    ids = make_failed(cli, r, workers, 3)
    lst = json.loads(ok(cli("failed", "list", NOOP, "--json")).stdout)
    assert lst["total"] == 3
    assert [j["id"] for j in lst["jobs"]] == ids[::-1]
    job = lst["jobs"][0]
    assert job["error"] == "noop asked to fail" and job["attempts"] == 1
    assert job["finished_at"] > 0 and json.loads(job["payload"])["n"] == 2
    limited = json.loads(ok(cli("failed", "list", "--limit", "1", NOOP, "--json")).stdout)
    assert [j["id"] for j in limited["jobs"]] == [ids[2]]
    human = ok(cli("failed", "list", NOOP)).stdout
    assert "noop asked to fail" in human and ids[0] in human


def test_failed_retry_all_requeues_oldest_first_with_a_fresh_status(cli, r, workers):
    ids = make_failed(cli, r, workers, 3)
    p = ok(cli("failed", "retry", NOOP, "--all"))
    assert "3" in p.stdout
    assert r.llen(f"{NOOP}:failed") == 0
    assert [json.loads(x)["n"] for x in r.lrange(NOOP, 0, -1)] == [0, 1, 2]
    for i in ids:
        st = r.hgetall(f"{NOOP}:status:{i}")
        assert st["state"] == "queued" and st["attempts"] == "0"
        assert "error" not in st and "finished_at" not in st
        assert r.ttl(f"{NOOP}:status:{i}") == -1


def test_failed_retry_one_id_leaves_the_others(cli, r, workers):
    ids = make_failed(cli, r, workers, 2)
    ok(cli("failed", "retry", NOOP, ids[0]))
    assert [json.loads(x)["n"] for x in r.lrange(NOOP, 0, -1)] == [0]
    assert [json.loads(x)["n"] for x in r.lrange(f"{NOOP}:failed", 0, -1)] == [1]
    assert state(r, ids[0]) == "queued" and state(r, ids[1]) == "failed"
    p = cli("failed", "retry", NOOP, ids[0])
    assert p.returncode == 4 and "no failed job" in p.stderr


def test_failed_delete_removes_jobs_and_their_status(cli, r, workers):
    ids = make_failed(cli, r, workers, 3)
    ok(cli("failed", "delete", NOOP, ids[1]))
    assert not r.exists(f"{NOOP}:status:{ids[1]}")
    assert r.llen(f"{NOOP}:failed") == 2
    ok(cli("failed", "delete", NOOP, "--all"))
    assert r.llen(f"{NOOP}:failed") == 0
    assert not any(r.exists(f"{NOOP}:status:{i}") for i in ids)
    assert r.llen(NOOP) == 0
    assert cli("failed", "delete", NOOP, ids[0]).returncode == 4


# ---- pause / resume ------------------------------------------------------

def test_pause_holds_jobs_and_resume_releases_them(cli, r, workers):
    ok(cli("pause", NOOP, "--for", "60", "--reason", "deploying"))
    assert r.get(f"{NOOP}:paused") == "deploying"
    assert 55000 < r.pttl(f"{NOOP}:paused") <= 60000
    s = stats_of(cli)
    assert s["paused"]["reason"] == "deploying" and s["paused"]["ttl_ms"] > 55000
    assert "deploying" in ok(cli("stats")).stdout

    workers.start("drudge-noop")
    job_id = push(cli, '{"held":1}')
    time.sleep(1.5)
    assert state(r, job_id) == "queued" and r.llen(NOOP) == 1

    r.hset(f"{NOOP}:breaker", "cooldown_ms", 5000)
    ok(cli("resume", NOOP))
    assert not r.exists(f"{NOOP}:paused") and not r.exists(f"{NOOP}:breaker")
    wait_for(lambda: state(r, job_id) == "done", what="job to run after resume")
    assert stats_of(cli)["paused"] is None


def test_pause_without_for_lasts_until_resumed(cli, r):
    ok(cli("pause", NOOP))
    assert r.pttl(f"{NOOP}:paused") == -1
    assert NOOP in r.smembers("drudge:classes")


# ---- cancel --------------------------------------------------------------

def test_cancel_of_a_queued_job_removes_it(cli, r):
    keep = push(cli, '{"keep":1}')
    job_id = push(cli, '{"cancel":1}')
    p = ok(cli("cancel", NOOP, job_id))
    assert job_id in p.stdout
    assert r.lrange(NOOP, 0, -1) == ['{"keep":1}']
    st = r.hgetall(f"{NOOP}:status:{job_id}")
    assert st["state"] == "cancelled" and int(st["finished_at"]) > 0
    assert 0 < r.ttl(f"{NOOP}:status:{job_id}") <= 86400
    assert state(r, keep) == "queued"
    again = cli("cancel", NOOP, job_id)
    assert again.returncode == 1 and "cancelled" in again.stderr


def test_cancel_of_a_delayed_job_removes_it_from_the_delayed_set(cli, r):
    job_id = push(cli, '{"later":1}', "--delay", "600")
    ok(cli("cancel", NOOP, job_id))
    assert r.zcard(f"{NOOP}:delayed") == 0
    assert state(r, job_id) == "cancelled"


def test_cancel_finds_a_job_pushed_without_a_status(cli, r):
    payload = '{"raw":true}'
    r.rpush(NOOP, payload)
    ok(cli("cancel", NOOP, sha256_id(payload)))
    assert r.llen(NOOP) == 0
    assert state(r, sha256_id(payload)) == "cancelled"


def test_cancel_of_a_running_job_flags_it_for_its_worker(cli, r, workers):
    workers.start("drudge-noop")
    job_id = push(cli, '{"sleep_ms":1500,"outcome":"fail"}')
    wait_for(lambda: state(r, job_id) == "running", what="job to start")
    ok(cli("cancel", NOOP, job_id))
    assert r.hget(f"{NOOP}:status:{job_id}", "cancel") == "1"
    wait_for(lambda: state(r, job_id) == "cancelled", what="worker to record the cancel")
    assert r.llen(f"{NOOP}:failed") == 0


def test_cancel_of_a_job_a_worker_fetched_but_has_not_marked_flags_it(cli, r):
    # prefetched or just fetched: in a processing list, status still queued
    payload = '{"id":"held-1","sleep_ms":1}'
    r.zadd("drudge:workers", {"host:1:beef": int(time.time() * 1000)})
    r.rpush(f"{NOOP}:processing:host:1:beef", payload)
    r.hset(f"{NOOP}:status:held-1", mapping={"state": "queued", "attempts": 0})
    p = ok(cli("cancel", NOOP, "held-1"))
    assert "held-1" in p.stdout
    assert r.hget(f"{NOOP}:status:held-1", "cancel") == "1"
    assert r.lrange(f"{NOOP}:processing:host:1:beef", 0, -1) == [payload]


def test_cancel_of_an_unknown_job_exits_4(cli):
    p = cli("cancel", NOOP, "nobody")
    assert p.returncode == 4 and p.stderr.startswith("drudge cancel: unknown job")


# ---- cron ----------------------------------------------------------------

def test_cron_list_shows_last_and_next_fire(cli, r, config_file):
    cfg = config_file(
        "schedule:\n"
        "  - {name: nightly, cron: '0 2 * * *', class: ReportJob, payload: {kind: daily}}\n"
        "  - {name: often, cron: '*/5 * * * *', class: NoopJob}\n")
    r.hset("drudge:cron:nightly", "last_fire", 1700000000)
    entries = json.loads(ok(cli("cron", "list", "--json", config=cfg)).stdout)
    by_name = {e["name"]: e for e in entries}
    assert by_name["nightly"]["last_fire"] == 1700000000
    assert by_name["nightly"]["payload"] == {"kind": "daily"}
    assert by_name["often"]["last_fire"] is None
    now = time.time()
    assert now < by_name["often"]["next_fire"] <= now + 300
    assert by_name["often"]["next_fire"] % 300 == 0
    out = ok(cli("cron", "list", config=cfg)).stdout
    assert "nightly" in out and "never" in out


# ---- misuse, config and connection errors --------------------------------

MISUSE = [
    ([], "missing COMMAND"),
    (["bogus"], 'unknown command "bogus"'),
    (["--bogus"], 'unknown option "--bogus"'),
    (["push"], "missing CLASS"),
    (["push", NOOP], "missing JSON"),
    (["push", "bad class", "{}"], 'invalid class name "bad class"'),
    (["push", "--delay", "soon", NOOP, "{}"], 'invalid --delay "soon"'),
    (["push", "--delay", "-1", NOOP, "{}"], 'invalid --delay "-1"'),
    (["push", "--delay", "1", "--at", "2000000000", NOOP, "{}"], "not both"),
    (["push", "--id", "no spaces", NOOP, "{}"], 'invalid job id "no spaces"'),
    (["push", "--nope", NOOP, "{}"], 'unknown option "--nope"'),
    (["push", NOOP, "{}", "extra"], 'unexpected argument "extra"'),
    (["push", NOOP, "{}", "--delay"], 'option "--delay" needs a value'),
    (["status", NOOP], "missing ID"),
    (["status", NOOP, "bad/id"], 'invalid job id "bad/id"'),
    (["failed"], "missing COMMAND"),
    (["failed", "frob", NOOP], 'unknown command "frob"'),
    (["failed", "list"], "missing CLASS"),
    (["failed", "list", NOOP, "--limit", "0"], 'invalid --limit "0"'),
    (["failed", "retry", NOOP], "missing ID or --all"),
    (["failed", "retry", NOOP, "abc", "--all"], "not both"),
    (["pause", NOOP, "--for", "0"], 'invalid --for "0"'),
    (["pause", NOOP, "--for", "1x"], 'invalid --for "1x"'),
    (["cancel", NOOP], "missing ID"),
    (["stats", "extra"], 'unexpected argument "extra"'),
    (["help", "nothing"], 'unknown command "nothing"'),
    (["--redis", "http://example.com", "stats"], 'invalid --redis "http://example.com"'),
]


@pytest.mark.parametrize("args,reason", MISUSE, ids=[" ".join(a) or "(none)" for a, _ in MISUSE])
def test_misuse_exits_2_with_a_one_line_reason(cli, r, args, reason):
    p = cli(*args)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("drudge") and reason in lines[0]
    assert lines[0].endswith("--help)")
    assert r.dbsize() == 0, "misuse must not touch Redis"


def test_misuse_message_names_the_command_in_the_usual_voice(cli):
    p = cli("push")
    assert p.stderr == "drudge push: missing CLASS (try drudge push --help)\n"


def test_a_bad_config_file_exits_2_naming_the_key(cli, config_file):
    cfg = config_file("worker:\n  heartbeet: 5\n")
    p = cli("stats", config=cfg)
    assert p.returncode == 2
    assert len(p.stderr.splitlines()) == 1 and "heartbeet" in p.stderr


def test_unreachable_redis_exits_1_with_a_clear_message(cli):
    url = f"redis://127.0.0.1:{free_port()}/0"
    for args in (["stats"], ["push", NOOP, "{}"], ["status", NOOP, "x"], ["workers"]):
        p = cli("--redis", url, *args)
        assert p.returncode == 1, args
        assert p.stderr.startswith(f"drudge {args[0]}: ") and "refused" in p.stderr.lower()
        assert len(p.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [["push", "--help"], ["help", "push"]])
def test_help_of_a_command(cli, args):
    p = ok(cli(*args))
    assert p.stdout.startswith("usage: drudge push ")
    assert "--unique" in p.stdout


def test_help_lists_every_command(cli):
    out = ok(cli("--help")).stdout
    for name in ("push", "status", "stats", "workers", "failed list", "failed retry",
                 "failed delete", "pause", "resume", "cancel", "cron list"):
        assert f"  {name} " in out
    assert ok(cli("failed", "retry", "--help")).stdout.startswith("usage: drudge failed retry")
    assert ok(cli("help", "failed")).stdout.startswith("usage: drudge failed")
    assert ok(cli("--version")).stdout.startswith("drudge ")
