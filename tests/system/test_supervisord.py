"""drudge under a real supervisord, from supervisord/supervisord.conf.

Each test runs the self-contained local setup (bundled Redis on a unix socket
with the ACL of conf/redis-acl.conf, the dashboard, the workers) with its
state in a temporary var/ directory, and talks to it with supervisorctl.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis as redis_py

from conftest import ROOT, BUILD, free_port, wait_for, sha256_id

SUPERVISORD = shutil.which("supervisord") or "/usr/bin/supervisord"
SUPERVISORCTL = shutil.which("supervisorctl") or "/usr/bin/supervisorctl"
CONF = os.path.join(ROOT, "supervisord", "supervisord.conf")

pytestmark = pytest.mark.skipif(not os.path.exists(SUPERVISORD), reason="supervisord not installed")


class Supervisor:
    def __init__(self, tmp_path, config_text, noop_procs=4):
        self.var = tmp_path / "var"
        for d in ("run", "log", "redis", "uploads", "out"):
            (self.var / d).mkdir(parents=True, exist_ok=True)
        self.config = tmp_path / "drudge.yaml"
        self.config.write_text(config_text)
        self.env = dict(os.environ)
        self.env.update({
            "DRUDGE_HOME": ROOT,
            "DRUDGE_VAR": str(self.var),
            "DRUDGE_WEB_PORT": str(free_port()),
            "DRUDGE_CONFIG": str(self.config),
            "DRUDGE_NOOP_PROCS": str(noop_procs),
        })
        for k in ("DRUDGE_REDIS_URL", "DRUDGE_REDIS_USER", "DRUDGE_REDIS_PASSWORD"):
            self.env.pop(k, None)
        self.log = open(tmp_path / "supervisord.out", "wb")
        self.proc = subprocess.Popen([SUPERVISORD, "-n", "-c", CONF], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.sock = str(self.var / "run" / "redis.sock")

    def wait_ready(self):
        wait_for(lambda: os.path.exists(self.sock), 30, what="the bundled redis socket")
        # the test itself is the default user (no password) on the socket
        self.r = redis_py.Redis(unix_socket_path=self.sock, decode_responses=True)
        wait_for(self._ping, 20, what="redis to answer")

    def _ping(self):
        try:
            return self.r.ping()
        except redis_py.RedisError:
            return False

    def ctl(self, *args, check=False):
        return subprocess.run([SUPERVISORCTL, "-c", CONF, *args], env=self.env,
                              capture_output=True, text=True, timeout=120, check=check)

    def status(self):
        """{program name: (state, pid)} from supervisorctl status."""
        out = self.ctl("status").stdout
        result = {}
        for line in out.splitlines():
            m = re.match(r"(\S+)\s+(\S+)(?:\s+pid (\d+))?", line)
            if m:
                result[m.group(1)] = (m.group(2), int(m.group(3)) if m.group(3) else None)
        return result

    def noop_pids(self):
        return {name: pid for name, (state, pid) in self.status().items()
                if name.startswith("drudge:drudge-noop") and state == "RUNNING"}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def logs(self):
        text = ""
        for p in sorted((self.var / "log").glob("*.log")):
            text += p.read_text(errors="replace")
        return text


BASE_CONFIG = """
worker:
  heartbeat: 1
  dead_after: 4
  drain_timeout: 10
classes:
  NoopJob: {max_attempts: 5}
"""


@pytest.fixture
def supervisor(tmp_path):
    sups = []

    def start(config_text=BASE_CONFIG, noop_procs=4):
        s = Supervisor(tmp_path, config_text, noop_procs)
        sups.append(s)  # stopped at teardown even if it never gets ready
        s.wait_ready()
        return s
    yield start
    for s in sups:
        s.stop()


def push_noop(r, n, sleep_ms, tag):
    pipe = r.pipeline(transaction=False)
    payloads = [f'{{"t":"{tag}","n":{i},"sleep_ms":{sleep_ms}}}' for i in range(n)]
    for p in payloads:
        pipe.rpush("NoopJob", p)
    pipe.execute()
    return [sha256_id(p) for p in payloads]


def states(r, ids):
    pipe = r.pipeline(transaction=False)
    for i in ids:
        pipe.hmget(f"NoopJob:status:{i}", "state", "attempts")
    return pipe.execute()


def done_count(r, ids):
    return sum(1 for s, _ in states(r, ids) if s == "done")


def test_supervisord_starts_every_program_running(supervisor):
    sup = supervisor()

    def all_running():
        st = sup.status()
        return st and all(state == "RUNNING" for state, _ in st.values()) and st
    st = wait_for(all_running, 120, interval=0.5, what="every program RUNNING")
    names = set(st)
    assert "redis" in names and "web" in names
    assert sum(1 for n in names if n.startswith("drudge:drudge-noop")) == 4
    for kind in ("image", "pdf", "email", "http"):
        if os.path.exists(os.path.join(BUILD, f"drudge-{kind}")):
            assert any(n.startswith(f"drudge:drudge-{kind}") for n in names)


def test_stopping_the_group_mid_run_drains_and_start_resumes(supervisor):
    sup = supervisor()
    wait_for(lambda: len(sup.noop_pids()) == 4, 30, what="4 noop workers")
    ids = push_noop(sup.r, 1000, 20, "drain")
    wait_for(lambda: done_count(sup.r, ids) >= 200, 60, what="200 jobs done")
    res = sup.ctl("stop", "drudge:*")
    assert res.returncode == 0, res.stdout + res.stderr
    # everything taken is finished or given back: nothing held by anyone
    assert not [k for k in sup.r.keys("NoopJob:processing:*") if sup.r.llen(k)]
    sup.ctl("start", "drudge:*")
    wait_for(lambda: done_count(sup.r, ids) == 1000, 120, what="all 1000 done")
    # a job running at the stop was drained (finished), not killed: one attempt each
    assert all(a == "1" for _, a in states(sup.r, ids))
    assert "NOPERM" not in sup.logs()


def test_restart_loop_while_jobs_flow_loses_nothing(supervisor):
    sup = supervisor()
    wait_for(lambda: len(sup.noop_pids()) == 4, 30, what="4 noop workers")
    ids = push_noop(sup.r, 800, 10, "restart")
    for _ in range(5):
        time.sleep(0.5)
        res = sup.ctl("restart", "drudge:*")
        assert res.returncode == 0, res.stdout + res.stderr
    wait_for(lambda: done_count(sup.r, ids) == 800, 120, what="all 800 done")
    assert sup.r.llen("NoopJob") == 0
    assert sup.r.llen("NoopJob:failed") == 0


def test_kill_9_of_a_worker_is_restarted_and_its_job_recovered(supervisor):
    sup = supervisor(noop_procs=1)
    pids = wait_for(lambda: len(sup.noop_pids()) == 1 and sup.noop_pids(), 30, what="1 noop worker")
    (name, pid), = pids.items()
    payload = '{"t":"kill","sleep_ms":3000}'
    sup.r.rpush("NoopJob", payload)
    job = sha256_id(payload)
    wait_for(lambda: sup.r.hget(f"NoopJob:status:{job}", "state") == "running", 20,
             what="the job running")
    os.kill(pid, signal.SIGKILL)
    new = wait_for(lambda: sup.noop_pids().get(name) not in (None, pid) and sup.noop_pids()[name],
                   30, what="supervisord restarting the worker")
    assert new != pid
    wait_for(lambda: sup.r.hget(f"NoopJob:status:{job}", "state") == "done", 60,
             what="the job recovered and done")
    assert sup.r.hget(f"NoopJob:status:{job}", "attempts") == "2"


def test_recycling_after_max_jobs_restarts_with_new_pids(supervisor):
    sup = supervisor(BASE_CONFIG.replace("drain_timeout: 10", "drain_timeout: 10\n  max_jobs: 50"),
                     noop_procs=2)
    first = wait_for(lambda: len(sup.noop_pids()) == 2 and sup.noop_pids(), 30, what="2 workers")
    ids = push_noop(sup.r, 300, 1, "recycle")
    wait_for(lambda: done_count(sup.r, ids) == 300, 120, what="all 300 done")
    seen_new = wait_for(lambda: set(sup.noop_pids().values()) - set(first.values()), 30,
                        what="new worker pids after recycling")
    assert seen_new
    assert not any(state == "FATAL" for name, (state, _) in sup.status().items()
                   if name.startswith("drudge:drudge-noop"))
    assert "reason=max_jobs" in sup.logs()


def test_workers_run_as_the_acl_user_without_permission_errors(supervisor):
    sup = supervisor(noop_procs=2)
    wait_for(lambda: len(sup.noop_pids()) == 2, 30, what="2 workers")
    ids = push_noop(sup.r, 50, 1, "acl")
    sup.r.rpush("NoopJob", '{"outcome":"fail"}', '{"outcome":"retry"}')
    wait_for(lambda: done_count(sup.r, ids) == 50, 60, what="jobs done")
    wait_for(lambda: sup.r.llen("NoopJob:failed") >= 1, 30, what="the failed job")
    clients = sup.r.execute_command("CLIENT", "LIST")
    users = set(re.findall(r"user=(\S+)", clients if isinstance(clients, str) else str(clients)))
    assert "drudge-worker" in users
    logs = sup.logs()
    assert "NOPERM" not in logs and "no permissions" not in logs.lower()


def test_make_run_serves_the_dashboard_runs_a_job_and_stops_on_sigint(tmp_path):
    var = tmp_path / "var"
    env = dict(os.environ)
    env.update({"DRUDGE_VAR": str(var), "DRUDGE_WEB_PORT": str(free_port())})
    for k in ("DRUDGE_REDIS_URL", "DRUDGE_REDIS_USER", "DRUDGE_REDIS_PASSWORD", "DRUDGE_CONFIG"):
        env.pop(k, None)
    log = open(tmp_path / "make-run.out", "wb")
    proc = subprocess.Popen(["sh", os.path.join(ROOT, "tools", "run.sh")], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port = int(env["DRUDGE_WEB_PORT"])

        def dashboard_up():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False
        web_built = os.path.exists(os.path.join(BUILD, "drudge"))
        sock = str(var / "run" / "redis.sock")
        wait_for(lambda: os.path.exists(sock), 60, what="the bundled redis")
        r = redis_py.Redis(unix_socket_path=sock, decode_responses=True)
        wait_for(lambda: _safe_ping(r), 30, what="redis")
        if web_built:
            wait_for(dashboard_up, 60, what="the dashboard port")
        cli_env = dict(env, DRUDGE_REDIS_URL=f"unix://{sock}", DRUDGE_REDIS_USER="drudge-admin",
                       DRUDGE_REDIS_PASSWORD="drudge-admin-local")
        out = subprocess.run([os.path.join(BUILD, "drudge"), "push", "NoopJob", '{"hello":"make run"}'],
                             env=cli_env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        job = out.stdout.strip()
        wait_for(lambda: r.hget(f"NoopJob:status:{job}", "state") == "done", 60, what="the job done")
        text = (tmp_path / "make-run.out").read_text()
        assert f"http://127.0.0.1:{port}/" in text
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert children, "supervisord has no children"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(90)
        finally:
            log.close()
    # supervisord and everything it started are gone
    left = [p for p in children if os.path.exists(f"/proc/{p}")]
    assert not left, f"processes left running: {left}"


def _safe_ping(r):
    try:
        return r.ping()
    except redis_py.RedisError:
        return False
