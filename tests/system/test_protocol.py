"""The wire protocol as a producer that knows nothing of drudge sees it.

A producer only RPUSHes JSON onto a list named after the class; a drudge
worker takes the job, and the status hash <Class>:status:<id> (id = the
payload's "id" or the SHA-256 of its bytes) tells the producer what happened.
"""
import functools
import json
import shutil
import subprocess
import threading
import time

import pytest

import conftest
from conftest import sha256_id, wait_for, worker_logs

CLS = "NoopJob"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
TIMEOUT = 30
LOG_TAIL = 4000  # characters of each worker log in a failure message

logs = functools.partial(worker_logs, tail=LOG_TAIL)
wait_state = functools.partial(conftest.wait_state, cls=CLS, timeout=TIMEOUT, tail=LOG_TAIL)


def test_redis_cli_rpush_runs_the_job_and_writes_the_status_hash(redis_server, r, workers):
    procs = workers.start("drudge-noop")
    payload = '{"n":1}'
    subprocess.run([REDIS_CLI, "-p", str(redis_server.port), "RPUSH", CLS, payload],
                   check=True, capture_output=True, timeout=30)
    st = wait_state(r, sha256_id(payload), "done", procs)
    assert st["attempts"] == "1"
    assert int(st["started_at"]) > 0
    assert int(st["finished_at"]) >= int(st["started_at"])
    assert st["worker"], st
    assert str(procs[0].pid) in st["worker"]
    assert "error" not in st
    assert r.llen(CLS) == 0
    assert procs[0].poll() is None


def test_redis_py_rpush_runs_the_job_and_the_id_is_the_sha256_of_the_bytes(r, workers):
    procs = workers.start("drudge-noop")
    payload = b'{"n": 2, "name": "caf\xc3\xa9"}'
    r.rpush(CLS, payload)
    st = wait_state(r, sha256_id(payload), "done", procs)
    assert st["attempts"] == "1"
    assert st["started_at"] and st["finished_at"] and st["worker"]


def test_payload_id_field_is_used_as_the_job_id(r, workers):
    procs = workers.start("drudge-noop")
    payload = json.dumps({"id": "order-17", "n": 3})
    r.rpush(CLS, payload)
    st = wait_state(r, "order-17", "done", procs)
    assert st["attempts"] == "1"
    assert not r.exists(f"{CLS}:status:{sha256_id(payload)}")


def collect_messages(r, channel, stop_pred, timeout=TIMEOUT):
    """Subscribe to channel now; a thread then collects the JSON messages
    until stop_pred(messages) is true. Returns (thread, messages)."""
    ps = r.pubsub(ignore_subscribe_messages=True)
    ps.subscribe(channel)
    # wait for the subscription to be confirmed
    wait_for(lambda: r.pubsub_numsub(channel)[0][1] >= 1, 10, what="subscription")
    msgs = []

    def run():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = ps.get_message(timeout=0.2)
            if m and m["type"] == "message":
                msgs.append(json.loads(m["data"]))
                if stop_pred(msgs):
                    break
        ps.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, msgs


def test_status_changes_are_published_as_json_on_the_status_channel(r, workers):
    procs = workers.start("drudge-noop")
    # long enough that the running mark (made once a job has run a moment)
    # is certain to come before the end
    payload = '{"n":4,"sleep_ms":1500}'
    job_id = sha256_id(payload)
    t, msgs = collect_messages(r, f"{CLS}:status:{job_id}",
                               lambda ms: any(m.get("state") == "done" for m in ms))
    r.rpush(CLS, payload)
    t.join(TIMEOUT + 5)
    states = [m.get("state") for m in msgs]
    assert "running" in states, (msgs, logs(procs))
    assert "done" in states, (msgs, logs(procs))
    assert states.index("running") < states.index("done")
    done = [m for m in msgs if m.get("state") == "done"][0]
    assert done["attempts"] == "1"
    assert done["worker"] and done["finished_at"]


def test_fast_jobs_acked_in_a_batch_publish_done_to_their_watchers(r, workers):
    # no-op jobs end long before any running mark: the ack writes attempt,
    # start, worker and outcome at once, and publishes only watched statuses
    payloads = ['{"fast":%d}' % i for i in range(200)]
    watched = [sha256_id(payloads[i]) for i in (0, 77, 199)]
    collectors = [collect_messages(r, f"{CLS}:status:{j}", lambda ms: any(
        m.get("state") == "done" for m in ms)) for j in watched]
    r.rpush(CLS, *payloads)
    procs = workers.start("drudge-noop")
    for t, msgs in collectors:
        t.join(TIMEOUT + 5)
        done = [m for m in msgs if m.get("state") == "done"]
        assert len(done) == 1, (msgs, logs(procs))
        st = done[0]
        assert st["attempts"] == "1" and st["progress"] == "100" and st["worker"]
        assert int(st["started_at"]) <= int(st["finished_at"])
    wait_for(lambda: r.hget(f"{CLS}:stats", "processed") == "200", TIMEOUT, what="200 done")
    for p in payloads:
        st = r.hgetall(f"{CLS}:status:{sha256_id(p)}")
        assert st["state"] == "done" and st["attempts"] == "1", st
        assert 0 < r.ttl(f"{CLS}:status:{sha256_id(p)}") <= 86400


@pytest.mark.parametrize("isolation", ["inprocess", "fork"])
def test_progress_steps_write_progress_and_message_while_running(r, workers, isolation):
    procs = workers.start("drudge-noop", "--isolation", isolation)
    payload = json.dumps({"n": 5, "sleep_ms": 1200, "progress_steps": 4})
    job_id = sha256_id(payload)
    t, msgs = collect_messages(r, f"{CLS}:status:{job_id}",
                               lambda ms: any(m.get("state") == "done" for m in ms))
    r.rpush(CLS, payload)
    t.join(TIMEOUT + 5)
    running = [m for m in msgs if m.get("state") == "running"]
    midway = [m for m in running if 0 < int(m.get("progress", "0")) < 100]
    assert midway, (msgs, logs(procs))
    assert all(m.get("message", "").startswith("step ") for m in midway), msgs
    st = wait_state(r, job_id, "done", procs)
    assert st["progress"] == "100"
    assert st["message"] == "step 4/4"


def test_result_is_echoed_in_the_result_field(r, workers):
    procs = workers.start("drudge-noop")
    result = {"output": "thumbs/a.webp", "width": 256, "height": 171}
    payload = json.dumps({"n": 6, "result": result})
    r.rpush(CLS, payload)
    st = wait_state(r, sha256_id(payload), "done", procs)
    assert json.loads(st["result"]) == result


def test_stats_hash_counts_processed_jobs(r, workers):
    procs = workers.start("drudge-noop")
    ids = []
    for i in range(25):
        payload = json.dumps({"n": i})
        ids.append(sha256_id(payload))
        r.rpush(CLS, payload)
    for i in ids:
        wait_state(r, i, "done", procs)
    wait_for(lambda: r.hget(f"{CLS}:stats", "processed") == "25", TIMEOUT,
             what="stats processed == 25")
    stats = r.hgetall(f"{CLS}:stats")
    assert stats["processed"] == "25"
    assert int(stats.get("failed", "0")) == 0
    assert int(stats.get("run_ms", "0")) >= 0


# ---- the worker example of docs/workers.md, built and run as written ----

def test_the_documented_worker_example_builds_and_works(r, workers, tmp_path):
    import os
    import re
    doc = open(os.path.join(conftest.ROOT, "docs", "workers.md")).read()
    section = doc[doc.index("## Your own worker, in C"):]
    source = re.search(r"```c\n(.*?)```", section, re.S).group(1)
    (tmp_path / "greeter.c").write_text(source)
    libs = subprocess.run(["pkg-config", "--libs", "hiredis", "jansson", "yaml-0.1"],
                          capture_output=True, text=True, check=True).stdout.split()
    sanitize = ["-fsanitize=address,undefined"] if "asan" in conftest.BUILD else []
    cc = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", *sanitize,
                         "-I", os.path.join(conftest.ROOT, "include"),
                         "-I/usr/include/hiredis", str(tmp_path / "greeter.c"),
                         os.path.join(conftest.BUILD, "libdrudge.a"), *libs, "-lpthread",
                         "-o", str(tmp_path / "greeter")], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    procs = workers.start(str(tmp_path / "greeter"))
    r.rpush("GreetJob", '{"id":"g1","name":"ann"}', '{"id":"g2"}')
    st = wait_state(r, "g1", "done", procs, cls="GreetJob")
    assert json.loads(st["result"]) == {"greeting": "hello, ann"}
    st = wait_state(r, "g2", "failed", procs, cls="GreetJob")
    assert st["error"] == '"name" must be a string'


def test_noop_refuses_bad_fields_with_a_clear_error(r, workers):
    procs = workers.start("drudge-noop")
    cases = {"b1": ({"sleep_ms": -1}, "sleep_ms must be an integer from 0 to 3600000"),
             "b2": ({"poll_cancel": "yes"}, "poll_cancel must be true or false"),
             "b3": ({"outcome": 7}, "outcome must be a string")}
    for job_id, (fields, _) in cases.items():
        r.rpush(CLS, json.dumps(dict(fields, id=job_id)))
    for job_id, (_, error) in cases.items():
        st = wait_state(r, job_id, "failed", procs)
        assert st["error"] == error, st
