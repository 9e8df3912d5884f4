"""The systemd template unit is valid (systemd-analyze verify), where systemd is installed."""
import os
import shutil
import subprocess

import pytest

from conftest import ROOT

UNIT = os.path.join(ROOT, "conf", "systemd", "drudge-worker@.service")


def test_systemd_unit_has_the_stop_and_restart_semantics_workers_need():
    text = open(UNIT).read()
    for line in ("KillSignal=SIGTERM", "Restart=always", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "PrivateTmp=yes", "ExecStart=/usr/local/bin/drudge-%i"):
        assert line in text
    # longer than the default drain_timeout (25 s), so a draining worker is not killed
    stop = int(text.split("TimeoutStopSec=")[1].split()[0])
    assert stop > 25


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # verify needs the ExecStart binary to exist: point a copy at a real one
    unit = tmp_path / "drudge-worker@.service"
    unit.write_text(open(UNIT).read().replace("/usr/local/bin/drudge-%i", "/bin/true"))
    instance = tmp_path / "drudge-worker@noop.service"
    os.symlink(unit, instance)
    res = subprocess.run(["systemd-analyze", "verify", str(instance)], capture_output=True, text=True)
    bad = [l for l in res.stderr.splitlines() if "drudge-worker" in l and "User" not in l]
    assert res.returncode == 0 or not bad, res.stderr
