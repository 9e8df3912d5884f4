"""Cron moved into the workers (issue 3): `schedule:` entries fire once per
due minute however many workers run, a bad expression is a clear config
error, and after all workers were down an entry fires at most once more
(catch_up).

Each fire is a job of the entry's class with the id "<name>-<YYYYmmddHHMM>"
(UTC) and `drudge:cron:<name>` records `last_fire` (unix s of the due
minute) and `fires` (docs/protocol.md). Times are read from the Redis
server's clock, the one the workers use.
"""
import functools
import time

import pytest

import conftest
from conftest import status, wait_for, wait_until, worker_logs

CLS = "NoopJob"


# ---- helpers ----

def redis_s(r):
    s, us = r.time()
    return s + us / 1e6


def minute_id(name, unix_s):
    return f"{name}-{time.strftime('%Y%m%d%H%M', time.gmtime(unix_s))}"


def fired_ids(r, name="tick"):
    prefix = f"{CLS}:status:"
    return sorted(k[len(prefix):] for k in r.scan_iter(f"{prefix}{name}-*"))


wait_registered = functools.partial(conftest.wait_registered, timeout=30)


def away_from_minute_boundary(r, margin):
    """Sleep past the next minute boundary if it is less than margin s away."""
    now = redis_s(r)
    left = 60 - now % 60
    if left < margin:
        time.sleep(left + 1)


def schedule_config(config_file, cron="* * * * *", extra=""):
    return config_file(f"""
worker:
  heartbeat: 1
schedule:
  - name: tick
    cron: "{cron}"
    class: {CLS}
    payload: {{k: 1}}
{extra}""")


def count_in_logs(procs, needle):
    n = 0
    for p in procs:
        with open(p.logpath, errors="replace") as f:
            n += sum(needle in line for line in f)
    return n


# ---- once per minute ----

def test_every_minute_entry_fires_exactly_once_per_minute_with_three_workers(
        r, workers, config_file):
    cfg = schedule_config(config_file)
    away_from_minute_boundary(r, 5)
    t0 = redis_s(r)
    procs = workers.start("drudge-noop", config=cfg, n=3)
    wait_registered(r, procs)
    t_reg = redis_s(r)
    first = int(t_reg // 60 + 1) * 60          # the first boundary all three saw coming
    wanted = [first, first + 60]
    deadline = time.monotonic() + 130 - (t_reg - t0)

    def fired_and_done():
        return all(status(r, CLS, minute_id("tick", b)).get("state") == "done" for b in wanted)
    wait_until(fired_and_done, max(deadline - time.monotonic(), 1),
               f"fires at {[minute_id('tick', b) for b in wanted]}", procs,
               lambda: f"fired={fired_ids(r)} cron={r.hgetall('drudge:cron:tick')}", interval=0.25)
    time.sleep(1.5)  # a second fire of the same minute would show now
    t_end = redis_s(r)
    workers.stop_all()

    # boundaries crossed while workers ran: each fired; one crossed while
    # they were starting may or may not have (a new entry starts from now)
    crossed = range(int(t0 // 60 + 1) * 60, int(t_end // 60) * 60 + 1, 60)
    must = [b for b in crossed if b > t_reg]
    ids = fired_ids(r)
    assert set(ids) <= {minute_id("tick", b) for b in crossed}, (ids, list(crossed))
    assert {minute_id("tick", b) for b in must} <= set(ids), (ids, must)
    assert 2 <= len(ids) <= 3

    cron = r.hgetall("drudge:cron:tick")
    assert int(cron["fires"]) == len(ids), cron
    assert int(cron["last_fire"]) == max(crossed), cron
    assert minute_id("tick", int(cron["last_fire"])) == ids[-1]
    for job_id in ids:
        st = status(r, CLS, job_id)
        assert st["state"] == "done" and st["attempts"] == "1", (job_id, st)
    assert int(r.hget(f"{CLS}:stats", "processed")) == len(ids)
    assert r.llen(CLS) == 0
    assert count_in_logs(procs, "cron_fired") == len(ids), worker_logs(procs)


# ---- invalid expressions ----

@pytest.mark.parametrize("expr,why", [
    ("61 * * * *", "minute"),
    ("* * * *", ""),
    ("*/0 * * * *", ""),
    ("* * 31 2 Foo", ""),
])
def test_invalid_cron_expression_makes_the_worker_exit_2_naming_file_line_and_key(
        workers, config_file, expr, why):
    cfg = schedule_config(config_file, cron=expr)
    line = 6  # the cron: line of schedule_config's text
    (p,) = workers.start("drudge-noop", config=cfg)
    try:
        rc = p.wait(15)
    except Exception:
        raise AssertionError(
            f"worker did not exit on a bad cron expression\n{worker_logs([p])}") from None
    with open(p.logpath, errors="replace") as f:
        out = f.read()
    assert rc == 2, out
    assert f"{cfg}:{line}:" in out, out
    assert "schedule[0].cron" in out, out
    assert why in out, out


# ---- catch-up after all workers were down ----

def due_minutes_ago(r, cron_kind, minutes):
    """The cron expression and a last_fire such that the last due time
    before now was `minutes` ago and missed (everyone down)."""
    now = int(redis_s(r))
    this_minute = now - now % 60
    missed = this_minute - minutes * 60
    if cron_kind == "every-minute":
        return "* * * * *", missed, missed
    minute = time.gmtime(missed).tm_min
    return f"{minute} * * * *", missed - 3600, missed   # hourly at that minute


@pytest.mark.parametrize("cron_kind", ["every-minute", "hourly"])
def test_catch_up_fires_once_at_start_up_after_all_workers_were_down(
        r, workers, config_file, cron_kind):
    away_from_minute_boundary(r, 15)
    cron, last_fire, missed = due_minutes_ago(r, cron_kind, 10)
    r.hset("drudge:cron:tick", mapping={"last_fire": last_fire, "fires": 5})
    cfg = schedule_config(config_file, cron=cron)
    start_minute = int(redis_s(r)) // 60 * 60
    procs = workers.start("drudge-noop", config=cfg)
    wait_registered(r, procs)
    wait_until(lambda: fired_ids(r), 5, "a catch-up fire", procs,
               lambda: f"cron={r.hgetall('drudge:cron:tick')}")
    time.sleep(2)  # a second fire would show now (the next due time is far)
    ids = fired_ids(r)
    assert len(ids) == 1, ids
    assert ids[0] in (minute_id("tick", start_minute), minute_id("tick", missed)), ids
    cron_state = r.hgetall("drudge:cron:tick")
    assert cron_state["fires"] == "6", cron_state
    assert int(cron_state["last_fire"]) > last_fire, cron_state
    wait_for(lambda: status(r, CLS, ids[0]).get("state") == "done", 10, what="the fire to run")


@pytest.mark.parametrize("cron_kind", ["every-minute", "hourly"])
def test_without_catch_up_missed_times_are_skipped(r, workers, config_file, cron_kind):
    away_from_minute_boundary(r, 15)
    cron, last_fire, _ = due_minutes_ago(r, cron_kind, 10)
    r.hset("drudge:cron:tick", mapping={"last_fire": last_fire, "fires": 5})
    cfg = schedule_config(config_file, cron=cron, extra="    catch_up: false\n")
    procs = workers.start("drudge-noop", config=cfg)
    wait_registered(r, procs)
    time.sleep(5)
    assert fired_ids(r) == [], \
        f"fired at start-up with catch_up: false: {fired_ids(r)}\n{worker_logs(procs)}"
    cron_state = r.hgetall("drudge:cron:tick")
    assert cron_state["fires"] == "5" and int(cron_state["last_fire"]) == last_fire, cron_state
    assert r.llen(CLS) == 0 and r.hget(f"{CLS}:stats", "processed") is None
    assert [p.poll() for p in procs] == [None]
