"""Small helpers every bench script uses: ports, processes, /proc readings.

Imported by run.py and by the worker sections (email_bench.py, http_bench.py,
image_bench.py, pdf_bench.py), which also run on their own from bench/.
"""
import os
import signal
import socket
import subprocess
import sys
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    """True once something accepts connections on 127.0.0.1:port, False
    after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def stop(proc, sig=signal.SIGTERM, timeout=10):
    """Signal a process we started and wait for it; SIGKILL after timeout s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM, RssAnon, ...) or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    """CPU seconds of a process and the children it reaped (utime + stime +
    cutime + cstime), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def memory_kb(pid):
    """VmRSS, PSS and private (clean + dirty) memory of a process, in kB."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Pss", "Private_Clean", "Private_Dirty"):
                out[key] = int(rest.split()[0])
    return {"rss": proc_status(pid, "VmRSS"), "pss": out.get("Pss"),
            "private": out.get("Private_Clean", 0) + out.get("Private_Dirty", 0)}


def mib(kb, none="-"):
    """kB as "12.3 MiB"."""
    return none if kb is None else f"{kb / 1024:.1f} MiB"


# ---- a bench script's own HTTP server, in a process of its own ----
# (a server thread inside the bench would share its GIL with the sampling)

def serve_http(handler):
    """The body of `<script> --serve`: serve handler (a request handler
    class) on a free loopback port, print the port, run until SIGTERM."""
    from http.server import ThreadingHTTPServer
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    srv.serve_forever()


def start_http(script):
    """Run `<script> --serve`; (process, port) once it listens."""
    proc = subprocess.Popen([sys.executable, script, "--serve"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    port = int(line) if line.strip().isdigit() else 0
    if not port or not wait_port(port):
        stop(proc)
        raise RuntimeError(f"{script} --serve did not start an HTTP server")
    return proc, port
