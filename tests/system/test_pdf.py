"""drudge-pdf end to end (issue 7): real Redis, real Chromium, a local HTTP
server (python's http.server, in a thread) serving the invoice fixture in
fixtures/invoice/ (CSS, an image, a web font), and PDFs read back with
poppler-utils (pdfinfo, pdftotext, pdffonts, pdftoppm, pdfimages).

Covered: page size (A4, Letter, landscape), margins, page count, header and
footer with page numbers, background printed or not, ranges and scale, the
invoice's text and web font, html jobs, the waits (selector, window.status,
network idle), images jobs, the hostile list (file:, javascript:, chrome:,
the metadata address, private sub-resources, redirects, allowed_hosts),
HTTP errors, timeouts that reset the browser, a browser SIGKILLed mid-job,
SIGTERM draining a render, and no Chromium left behind.

Most rendering tests share one worker (module scope) on their own Redis;
tests that kill or stop things start their own.
"""
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import RedisServer, binary, status, wait_for

CLS = "PdfJob"
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "invoice")
# The browsers drudge-pdf runs: what pdf.chromium "auto" finds first (the
# headless shell, when chromium-headless-shell is installed) and Debian's
# full chromium. The rendering and hostile-input tests run on each.
SHELL = "/usr/lib/chromium/chromium-headless-shell"
CHROMIUM = "/usr/bin/chromium"
AUTO_NAMES = [SHELL, CHROMIUM]  # what "auto" tries, in order
BROWSERS = [pytest.param(b, id=name) for name, b in (("shell", SHELL), ("chromium", CHROMIUM))
            if os.path.exists(b)]
CONVERT = "/usr/bin/convert"
TIMEOUT = 90
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
A4 = (595.3, 841.9)
LETTER = (612.0, 792.0)

pytestmark = pytest.mark.skipif(
    not (os.path.exists(binary("drudge-pdf")) and BROWSERS
         and subprocess.run(["which", "pdfinfo"], capture_output=True).returncode == 0),
    reason="drudge-pdf not built, or chromium / poppler-utils not installed")


# ---- the fixture web server ----

LATE_SELECTOR = """<!DOCTYPE html><html><body><p>early text</p><script>
setTimeout(function () { var d = document.createElement('div'); d.id = 'ready';
d.textContent = 'LATE SELECTOR CONTENT'; document.body.appendChild(d); }, 600);
</script></body></html>"""

WINDOW_STATUS = """<!DOCTYPE html><html><body><script>
setTimeout(function () { document.body.insertAdjacentHTML('beforeend',
'<p>STATUS CONTENT</p>'); window.status = 'ready'; }, 600);
</script></body></html>"""

NETWORK_IDLE = """<!DOCTYPE html><html><body><p id="t">waiting</p><script>
window.addEventListener('load', function () { setTimeout(function () {
fetch('/data.json').then(function (r) { return r.json(); }).then(function (j) {
document.getElementById('t').textContent = j.text; }); }, 100); });
</script></body></html>"""


class Site:
    """The invoice fixture and a few made-up pages on 127.0.0.1."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=FIXTURE, **kw)

            def log_message(self, *a):
                pass

            def send_text(self, code, body, ctype="text/html; charset=utf-8"):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(url.query)
                with site.lock:
                    site.requests.append(self.path)
                if url.path == "/slow":
                    site.stop.wait(int(q.get("ms", ["2000"])[0]) / 1000)
                    self.path = "/invoice.html"
                    return super().do_GET()
                if url.path == "/hang":
                    site.stop.wait(120)
                    return None
                if url.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", q["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if url.path == "/status":
                    return self.send_text(int(q["code"][0]), "<p>status page</p>")
                if url.path == "/late-selector.html":
                    return self.send_text(200, LATE_SELECTOR)
                if url.path == "/window-status.html":
                    return self.send_text(200, WINDOW_STATUS)
                if url.path == "/networkidle.html":
                    return self.send_text(200, NETWORK_IDLE)
                if url.path == "/data.json":
                    site.stop.wait(0.3)
                    return self.send_text(200, json.dumps({"text": "FETCHED CONTENT"}),
                                          "application/json")
                if url.path == "/private-img.html":
                    return self.send_text(200, (
                        "<p>PAGE WITH PRIVATE IMAGES</p>"
                        f"<img src='http://127.0.0.1:{site.port}/logo.png?via=private-img'>"
                        "<img src='http://169.254.169.254/latest/meta-data/x.png'>"))
                return super().do_GET()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def seen(self, needle):
        with self.lock:
            return [p for p in self.requests if needle in p]

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


# ---- workers ----

def clean_env(extra=None):
    """The test's environment without anything that looks like a secret:
    drudge-pdf refuses to start with one."""
    env = {k: v for k, v in os.environ.items()
           if not any(w in k.upper() for w in SECRET_WORDS)}
    env.pop("DRUDGE_CONFIG", None)
    if extra:
        env.update(extra)
    return env


def config_text(tmp, pdf=None, classes=None, worker=None):
    pdf_keys = {"output_dir": str(tmp / "out"), "input_dir": str(tmp / "in"),
                "allow_private_networks": True}
    pdf_keys.update(pdf or {})
    cls = {"max_attempts": 1}
    cls.update(classes or {})
    work = {"drain_timeout": 25}
    work.update(worker or {})
    # YAML is a superset of JSON: every value below is written as JSON
    return (f"worker: {json.dumps(work)}\n"
            f"classes:\n  {CLS}: {json.dumps(cls)}\n"
            f"pdf: {json.dumps(pdf_keys)}\n")


class PdfWorker:
    def __init__(self, tmp, redis_url, text, env=None, wait_ready=True):
        (tmp / "out").mkdir(exist_ok=True)
        (tmp / "in").mkdir(exist_ok=True)
        self.tmp = tmp
        self.out = tmp / "out"
        self.input = tmp / "in"
        n = len(list(tmp.glob("drudge-pdf-*.yaml")))
        self.config = tmp / f"drudge-pdf-{n}.yaml"
        self.config.write_text(text)
        self.logpath = tmp / f"drudge-pdf-{n}.log"
        e = clean_env(env)
        e["DRUDGE_REDIS_URL"] = redis_url
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([binary("drudge-pdf"), "--config", str(self.config)],
                                         env=e, stdout=log, stderr=subprocess.STDOUT)
        if wait_ready:
            wait_for(lambda: "event=worker_start" in self.log() or self.proc.poll() is not None,
                     TIMEOUT, what="drudge-pdf to start")
            assert self.proc.poll() is None, self.log()

    def log(self):
        try:
            return self.logpath.read_text(errors="replace")
        except OSError:
            return ""

    def browsers(self):
        """[(pid, profile dir)] of every browser this worker started."""
        return [(int(p), d) for p, d in
                re.findall(r"event=browser_start pid=(\d+) .*?profile=(\S+)", self.log())]

    def stop(self, sig=signal.SIGTERM, timeout=40):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def browser_processes(profile):
    """PIDs whose command line names the profile directory."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if profile.encode() in f.read() and alive(int(entry)):
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


@pytest.fixture(scope="module", params=BROWSERS)
def shared(request, tmp_path_factory, site):
    """One Redis and one worker for the tests that only render, per browser."""
    tmp = tmp_path_factory.mktemp("pdf-shared")
    (tmp / "redis").mkdir()
    redis = RedisServer(tmp / "redis", appendonly=False)
    w = PdfWorker(tmp, redis.url, config_text(tmp, {"chromium": request.param}))
    assert f"path={request.param} " in w.log(), w.log()[-2000:]
    yield redis.client, w
    w.stop()
    redis.stop()


@pytest.fixture
def make_worker(redis_server, tmp_path):
    started = []

    def make(pdf=None, classes=None, worker=None, env=None, wait_ready=True):
        w = PdfWorker(tmp_path, redis_server.url, config_text(tmp_path, pdf, classes, worker),
                      env=env, wait_ready=wait_ready)
        started.append(w)
        return w
    yield make
    for w in started:
        w.stop()


# ---- jobs and PDFs ----

_ids = [0]


def run_job(r, w, payload, want=("done",), timeout=TIMEOUT):
    """Push payload (an "id" is added) and wait for one of the wanted states."""
    _ids[0] += 1
    job_id = payload.setdefault("id", f"t{os.getpid()}-{_ids[0]}")
    r.rpush(CLS, json.dumps(payload))

    def finished():
        s = status(r, CLS, job_id)
        return s if s.get("state") in ("done", "failed", "retrying", "cancelled") else None
    try:
        s = wait_for(finished, timeout, what=f"job {job_id}")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{w.log()[-4000:]}") from None
    assert s["state"] in want, f"{s}\n{w.log()[-3000:]}"
    return s


def pdfinfo(path):
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, timeout=30,
                         check=True).stdout.decode(errors="replace")
    info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    w, h = re.findall(r"([\d.]+) x ([\d.]+) pts", info["Page size"])[0]
    return {"pages": int(info["Pages"]), "size": (float(w), float(h))}


def text(path, page=None):
    args = ["pdftotext", "-layout"]
    if page:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run(args + [str(path), "-"], capture_output=True, timeout=30,
                          check=True).stdout.decode(errors="replace")


def words(path, page=1):
    """[(word, xmin, ymin, xmax, ymax)] in points, from pdftotext -bbox."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path),
                           "-"], capture_output=True, timeout=30, check=True).stdout.decode()
    return [(m[4], float(m[0]), float(m[1]), float(m[2]), float(m[3])) for m in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html)]


def pixels(path, dpi=20):
    """(width, height, rgb bytes) of page 1 rendered by pdftoppm."""
    ppm = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", str(path)],
                         capture_output=True, timeout=60, check=True).stdout
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    return int(m.group(1)), int(m.group(2)), ppm[m.end():]


def near(size, want, tol=2.0):
    return abs(size[0] - want[0]) <= tol and abs(size[1] - want[1]) <= tol


def band_pixels(path):
    """How many pixels of the top fifth of page 1 are the invoice band's blue."""
    w, h, rgb = pixels(path)
    count = 0
    for y in range(h // 5):
        for x in range(w):
            r, g, b = rgb[3 * (y * w + x):3 * (y * w + x) + 3]
            if abs(r - 0x1e) < 40 and abs(g - 0x3a) < 40 and abs(b - 0x8a) < 40:
                count += 1
    return count


# ---- rendering (one shared worker) ----

def test_version_names_the_browser(tmp_path):
    """pdf.chromium "auto" (the default) takes the headless shell when it is
    installed, else /usr/bin/chromium; a configured path is taken as it is."""
    out = subprocess.run([binary("drudge-pdf"), "--version"], capture_output=True, text=True,
                         timeout=60, env=clean_env())
    assert out.returncode == 0
    auto = next(b for b in AUTO_NAMES if os.access(b, os.X_OK))
    assert re.search(r"chromium: Chromium \d+[^\n]* \(" + re.escape(auto) + r"\)\n", out.stdout), \
        out.stdout
    for browser in [p.values[0] for p in BROWSERS] + ["/nonexistent/chromium"]:
        cfg = tmp_path / "v.yaml"
        cfg.write_text(f"pdf: {json.dumps({'chromium': browser})}\n")
        out = subprocess.run([binary("drudge-pdf"), "--config", str(cfg), "--version"],
                             capture_output=True, text=True, timeout=60, env=clean_env())
        assert out.returncode == 0
        if browser.startswith("/nonexistent"):
            assert f'chromium: not found at "{browser}"' in out.stdout, out.stdout
        else:
            assert re.search(r"chromium: Chromium \d+[^\n]* \(" + re.escape(browser) + r"\)\n",
                             out.stdout), out.stdout


def test_invoice_a4_two_pages_with_web_font(shared, site):
    r, w = shared
    before = len(site.seen("/fonts/invoice-face.ttf")), len(site.seen("/logo.png"))
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "invoices/a4.pdf"})
    result = json.loads(s["result"])
    path = w.out / "invoices" / "a4.pdf"
    info = pdfinfo(path)
    assert result == {"output": "invoices/a4.pdf", "pages": 2, "bytes": path.stat().st_size}
    assert info["pages"] == 2 and near(info["size"], A4), info
    body = text(path)
    for needle in ("INVOICE", "INV-2024-0042", "ACME Widgets Ltd", "Widget 45", "Total due 11245.00"):
        assert needle in body
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "Lato" in fonts, fonts  # the web font, not a fallback
    assert subprocess.run(["pdfimages", "-list", str(path)], capture_output=True,
                          text=True).stdout.count("\n") >= 3  # the logo
    assert len(site.seen("/fonts/invoice-face.ttf")) > before[0]
    assert len(site.seen("/logo.png")) > before[1]


def test_letter_and_landscape(shared, site):
    r, w = shared
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "letter.pdf", "paper": "Letter"})
    assert near(pdfinfo(w.out / "letter.pdf")["size"], LETTER)
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "land.pdf", "paper": "A4",
                   "landscape": True})
    info = pdfinfo(w.out / "land.pdf")
    assert near(info["size"], (A4[1], A4[0])), info
    assert info["pages"] >= 2


def test_margins_move_the_text(shared, site):
    r, w = shared
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "m-default.pdf"})
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "m-wide.pdf",
                   "margin_mm": {"left": 50, "top": 40, "right": 10, "bottom": 10}})
    def leftmost(path):
        return min(x0 for word, x0, y0, x1, y1 in words(path) if word.startswith("ACME"))
    def topmost(path):
        return min(y0 for word, x0, y0, x1, y1 in words(path))
    mm = 72 / 25.4
    assert 9 * mm <= leftmost(w.out / "m-default.pdf") <= 16 * mm
    assert 49 * mm <= leftmost(w.out / "m-wide.pdf") <= 56 * mm
    assert topmost(w.out / "m-wide.pdf") >= 39 * mm


def test_header_and_footer_with_page_numbers(shared, site):
    r, w = shared
    run_job(r, w, {
        "url": f"{site.base}/invoice.html", "output": "hf.pdf",
        "margin_mm": {"top": 20, "bottom": 20, "left": 10, "right": 10},
        "header_html": "<div style='font-size:10px;margin-left:10mm'>ACME HEADER</div>",
        "footer_html": "<div style='font-size:10px;width:100%;text-align:center'>"
                       "Page <span class='pageNumber'></span> of <span class='totalPages'></span></div>"})
    path = w.out / "hf.pdf"
    n = pdfinfo(path)["pages"]
    assert n >= 2
    for page in range(1, n + 1):
        t = text(path, page)
        assert "ACME HEADER" in t
        assert f"Page {page} of {n}" in t, t[-300:]


def test_background_only_when_asked(shared, site):
    r, w = shared
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "bg.pdf",
                   "print_background": True})
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "nobg.pdf"})
    with_bg, without = band_pixels(w.out / "bg.pdf"), band_pixels(w.out / "nobg.pdf")
    assert with_bg > 1000, with_bg
    assert without < 100, without


def test_page_ranges_and_scale(shared, site):
    r, w = shared
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "p2.pdf",
                       "page_ranges": "2"})
    assert json.loads(s["result"])["pages"] == 1
    assert "Total due" in text(w.out / "p2.pdf") and "INVOICE" not in text(w.out / "p2.pdf")
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "small.pdf", "scale": 0.5})
    assert json.loads(s["result"])["pages"] == 1
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "x.pdf",
                       "page_ranges": "7-9"}, want=("failed",))
    assert "page" in s["error"].lower()


def test_html_job(shared):
    r, w = shared
    html = ("<html><head><style>h1 { color: #0a0 }</style></head><body>"
            "<h1>Hello from an html job</h1><p>Ümlaut &amp; € sign</p>"
            "<img src='data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
            "AAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='></body></html>")
    s = run_job(r, w, {"html": html, "output": "html/hello.pdf", "paper": "A5"})
    result = json.loads(s["result"])
    assert result["pages"] == 1 and "refused" not in result
    body = text(w.out / "html" / "hello.pdf")
    assert "Hello from an html job" in body and "Ümlaut & € sign" in body
    assert near(pdfinfo(w.out / "html" / "hello.pdf")["size"], (419.5, 595.3))


def test_waits(shared, site):
    r, w = shared
    run_job(r, w, {"url": f"{site.base}/late-selector.html", "output": "sel.pdf",
                   "wait_for": "#ready"})
    assert "LATE SELECTOR CONTENT" in text(w.out / "sel.pdf")
    run_job(r, w, {"url": f"{site.base}/window-status.html", "output": "status.pdf",
                   "wait_for": "window.status"})
    assert "STATUS CONTENT" in text(w.out / "status.pdf")
    run_job(r, w, {"url": f"{site.base}/networkidle.html", "output": "idle.pdf",
                   "wait_for": "networkidle"})
    assert "FETCHED CONTENT" in text(w.out / "idle.pdf")
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "badsel.pdf",
                       "wait_for": "div[[["}, want=("failed",))
    assert "bad selector" in s["error"]


def test_http_errors(shared, site):
    r, w = shared
    s = run_job(r, w, {"url": f"{site.base}/missing.html", "output": "404.pdf"},
                want=("failed",))
    assert "answered HTTP 404" in s["error"]
    s = run_job(r, w, {"url": f"{site.base}/status?code=503", "output": "503.pdf"},
                want=("failed", "retrying"))
    assert "answered HTTP 503" in s["error"]
    assert not (w.out / "404.pdf").exists()


def test_bad_jobs_fail_with_the_key_named(shared):
    r, w = shared
    s = run_job(r, w, {"url": "http://x/", "output": "/etc/evil.pdf"}, want=("failed",))
    assert "absolute path" in s["error"]
    s = run_job(r, w, {"url": "http://x/", "output": "a.pdf", "landscpae": True},
                want=("failed",))
    assert "unknown key \"landscpae\"" in s["error"]


# ---- images jobs ----

def make_images(d):
    subprocess.run([CONVERT, "-size", "600x400", "gradient:red-blue", str(d / "wide.jpg")],
                   check=True)
    subprocess.run([CONVERT, "-size", "200x500", "xc:green", str(d / "tall.png")], check=True)
    subprocess.run([CONVERT, "-size", "50x50", "xc:yellow", str(d / "small.gif")], check=True)
    (d / "scans").mkdir(exist_ok=True)
    (d / "scans" / "renamed.jpg").write_bytes((d / "tall.png").read_bytes())  # PNG named .jpg
    (d / "evil.png").write_text("push graphic-context\nviewbox 0 0 640 480\n"
                                "image over 0,0 0,0 'https://127.0.0.1/x.php?x=`id`'\npop\n")
    (d / "svg.png").write_text("<svg xmlns='http://www.w3.org/2000/svg'><image "
                               "href='file:///etc/passwd'/></svg>")


@pytest.mark.skipif(not os.path.exists(CONVERT), reason="imagemagick's convert not installed")
def test_images_job(shared):
    r, w = shared
    make_images(w.input)
    s = run_job(r, w, {"images": ["wide.jpg", "tall.png", "small.gif", "scans/renamed.jpg"],
                       "output": "scans/doc.pdf", "paper": "A4"})
    result = json.loads(s["result"])
    path = w.out / "scans" / "doc.pdf"
    assert result["pages"] == 4 and result["bytes"] == path.stat().st_size
    info = pdfinfo(path)
    assert info["pages"] == 4 and near(info["size"], A4, tol=3), info
    listed = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True,
                            text=True).stdout.splitlines()[2:]
    assert len(listed) == 4
    # the wide image fills the width inside 10 mm margins, centred
    w0, h0, rgb = pixels(path, dpi=36)
    row = h0 // 2
    def is_white(x):
        p = rgb[3 * (row * w0 + x):3 * (row * w0 + x) + 3]
        return min(p) > 240
    assert is_white(2) and is_white(w0 - 3) and not is_white(w0 // 2)
    s = run_job(r, w, {"images": ["wide.jpg"], "output": "land.pdf", "paper": "Letter",
                       "landscape": True})
    assert near(pdfinfo(w.out / "land.pdf")["size"], (792, 612), tol=3)


@pytest.mark.skipif(not os.path.exists(CONVERT), reason="imagemagick's convert not installed")
def test_images_hostile_inputs(shared, tmp_path):
    r, w = shared
    make_images(w.input)
    outside = tmp_path / "outside.png"
    outside.write_bytes((w.input / "tall.png").read_bytes())
    link = w.input / "escape.png"
    if not link.exists():
        link.symlink_to(outside)
    cases = [("evil.png", "is not a JPEG, PNG, GIF or WebP"),
             ("svg.png", "is not a JPEG, PNG, GIF or WebP"),
             ("../outside.png", "\"..\""),
             ("/etc/passwd", "absolute path"),
             ("escape.png", "leads outside the directory"),
             ("missing.jpg", "does not exist")]
    for name, why in cases:
        s = run_job(r, w, {"images": [name], "output": "hostile.pdf"}, want=("failed",))
        assert why in s["error"], (name, s["error"])
    assert not (w.out / "hostile.pdf").exists()
    # a pixel flood: tiny file, 60000 x 60000 declared
    import struct, zlib
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(
            ">I", zlib.crc32(tag + data) & 0xffffffff)
    (w.input / "flood.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 60001 * 2)) + chunk(b"IEND", b""))
    t0 = time.monotonic()
    s = run_job(r, w, {"images": ["flood.png"], "output": "flood.pdf"}, want=("failed",))
    assert "too large" in s["error"] and time.monotonic() - t0 < 20


# ---- the hostile list ----

@pytest.mark.parametrize("browser", BROWSERS)
def test_hostile_urls_refused(make_worker, r, site, browser):
    w = make_worker(pdf={"allow_private_networks": False, "chromium": browser})
    cases = [("file:///etc/passwd", "scheme \"file:\" is not allowed"),
             ("javascript:alert(document.domain)", "scheme \"javascript:\" is not allowed"),
             ("chrome://settings", "scheme \"chrome:\" is not allowed"),
             ("http://169.254.169.254/latest/meta-data/", "loopback, private or link-local"),
             ("http://[::ffff:169.254.169.254]/", "loopback, private or link-local"),
             (f"{site.base}/invoice.html", "loopback, private or link-local"),
             (f"http://localhost:{site.port}/invoice.html", "resolves to")]
    before = len(site.seen("/invoice.html"))
    for url, why in cases:
        s = run_job(r, w, {"url": url, "output": "hostile.pdf"}, want=("failed",))
        assert why in s["error"], (url, s["error"])
        assert s["attempts"] == "1"
    # a page that sends itself to the metadata service
    s = run_job(r, w, {"html": "<p>hop</p><script>location.href = "
                               "'http://169.254.169.254/latest/meta-data/';</script>",
                       "output": "hostile.pdf"}, want=("failed",))
    assert "refused" in s["error"] and "169.254.169.254" in s["error"], s["error"]
    assert len(site.seen("/invoice.html")) == before
    assert not (w.out / "hostile.pdf").exists()


@pytest.mark.parametrize("browser", BROWSERS)
def test_private_subresources_refused_and_listed(make_worker, r, site, browser):
    w = make_worker(pdf={"allow_private_networks": False, "chromium": browser})
    seen = len(site.seen("via=html-job")), len(site.seen("via=iframe"))
    html = ("<p>HTML WITH PRIVATE RESOURCES</p>"
            f"<img src='http://127.0.0.1:{site.port}/logo.png?via=html-job'>"
            "<img src='http://169.254.169.254/latest/meta-data/iam.png'>"
            "<link rel='stylesheet' href='http://10.0.0.1/x.css'>"
            f"<iframe src='http://127.0.0.1:{site.port}/invoice.html?via=iframe'></iframe>"
            "<script>fetch('http://192.168.0.1/exfil').catch(function () {});</script>")
    s = run_job(r, w, {"html": html, "output": "sub.pdf"})
    result = json.loads(s["result"])
    refused = {item["url"]: item["reason"] for item in result["refused"]}
    for url in (f"http://127.0.0.1:{site.port}/logo.png?via=html-job",
                "http://169.254.169.254/latest/meta-data/iam.png", "http://10.0.0.1/x.css",
                f"http://127.0.0.1:{site.port}/invoice.html?via=iframe",
                "http://192.168.0.1/exfil"):
        assert url in refused, result
        assert "private" in refused[url]
    assert len(site.seen("via=html-job")) == seen[0] and len(site.seen("via=iframe")) == seen[1]
    assert "HTML WITH PRIVATE RESOURCES" in text(w.out / "sub.pdf")


@pytest.mark.parametrize("browser", BROWSERS)
def test_allowed_hosts_and_redirects(make_worker, r, site, browser):
    w = make_worker(pdf={"allowed_hosts": ["localhost"], "chromium": browser})
    seen = len(site.seen("via=private-img")), len(site.seen("via=redirect"))
    local = f"http://localhost:{site.port}"
    s = run_job(r, w, {"url": f"{local}/invoice.html", "output": "ok.pdf"})
    assert json.loads(s["result"])["pages"] == 2
    s = run_job(r, w, {"url": f"{local}/private-img.html", "output": "img.pdf"})
    refused = json.loads(s["result"])["refused"]
    assert any("127.0.0.1" in i["url"] and "pdf.allowed_hosts" in i["reason"] for i in refused)
    assert len(site.seen("via=private-img")) == seen[0]
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "no.pdf"}, want=("failed",))
    assert "not in pdf.allowed_hosts" in s["error"]
    target = urllib.parse.quote(f"{site.base}/invoice.html?via=redirect", safe="")
    s = run_job(r, w, {"url": f"{local}/redirect?to={target}", "output": "redir.pdf"},
                want=("failed",))
    assert "not in pdf.allowed_hosts" in s["error"]
    assert len(site.seen("via=redirect")) == seen[1]


@pytest.mark.parametrize("browser", BROWSERS)
def test_websockets_blocked_by_csp(make_worker, r, site, browser):
    """WebSockets never reach Fetch interception; the CSP stops them."""
    w = make_worker(pdf={"chromium": browser})
    seen = len(site.seen("/ws-probe"))
    html = (f"<p id='t'>ws</p><script>var ws = new WebSocket('ws://127.0.0.1:{site.port}/ws-probe');"
            "ws.onerror = function () { document.getElementById('t').textContent = 'WS BLOCKED'; };"
            "</script>")
    run_job(r, w, {"html": html, "output": "ws.pdf", "wait_for": "networkidle"})
    assert len(site.seen("/ws-probe")) == seen


# ---- start-up, timeouts, crashes, stops ----

def test_missing_browser_is_a_startup_error(make_worker):
    w = make_worker(pdf={"chromium": "/nonexistent/chromium"}, wait_ready=False)
    assert w.proc.wait(60) == 1
    assert "event=start_failed" in w.log()
    assert "/nonexistent/chromium" in w.log() and "cannot be run" in w.log()


def hide_browsers(paths, command):
    """command (argv) in a private mount namespace where each of paths is
    replaced by /dev/null (no x bit: it cannot be run); needs root."""
    mounts = " && ".join(f"mount --bind /dev/null {p}" for p in paths if os.path.exists(p))
    return ["unshare", "-m", "sh", "-c", f'{mounts or "true"} && exec "$@"', "sh", *command]


def can_hide():
    """Whether hide_browsers works here: root alone is not enough (a
    container without CAP_SYS_ADMIN refuses the mount namespace)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /dev/null /dev/null"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not can_hide() or not os.path.exists(CHROMIUM),
                    reason="needs a private mount namespace (root, CAP_SYS_ADMIN) and "
                           "/usr/bin/chromium")
def test_auto_falls_back_to_chromium_without_the_shell():
    out = subprocess.run(hide_browsers([SHELL], [binary("drudge-pdf"), "--version"]),
                         capture_output=True, text=True, timeout=60, env=clean_env())
    assert out.returncode == 0, out.stderr
    assert re.search(r"chromium: Chromium \d+[^\n]* \(/usr/bin/chromium\)\n", out.stdout), \
        out.stdout


@pytest.mark.skipif(not can_hide(),
                    reason="needs a private mount namespace (root, CAP_SYS_ADMIN)")
def test_auto_without_any_browser_is_a_startup_error(tmp_path, redis_server):
    cfg = tmp_path / "none.yaml"
    cfg.write_text(config_text(tmp_path))
    (tmp_path / "out").mkdir()
    env = clean_env({"DRUDGE_REDIS_URL": redis_server.url})
    out = subprocess.run(hide_browsers(AUTO_NAMES, [binary("drudge-pdf"), "--version"]),
                         capture_output=True, text=True, timeout=60, env=env)
    assert "chromium: none found" in out.stdout and SHELL in out.stdout, out.stdout
    out = subprocess.run(hide_browsers(AUTO_NAMES, [binary("drudge-pdf"), "--config", str(cfg)]),
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    log = out.stdout + out.stderr
    # logfmt quotes the error and escapes its quotes
    assert "event=start_failed" in log, log
    assert 'no browser found for pdf.chromium \\"auto\\"' in log, log
    assert "install chromium-headless-shell or chromium" in log, log


def test_refuses_to_start_with_secrets(make_worker):
    w = make_worker(env={"STRIPE_API_KEY": "sk_live_do_not_print"}, wait_ready=False)
    assert w.proc.wait(60) == 1
    assert "event=start_failed" in w.log()
    assert "STRIPE_API_KEY" in w.log() and "sk_live_do_not_print" not in w.log()


def test_timeout_fails_and_resets_the_browser(make_worker, r, site):
    w = make_worker()
    first = w.browsers()[-1]
    t0 = time.monotonic()
    s = run_job(r, w, {"url": f"{site.base}/hang", "output": "hang.pdf", "timeout_s": 3},
                want=("failed",))
    assert "timed out after 3 s" in s["error"]
    assert time.monotonic() - t0 < 30
    assert "reason=timeout" in w.log()
    wait_for(lambda: not browser_processes(first[1]), 15, what="the old browser to go")
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "after.pdf"})
    assert w.browsers()[-1][0] != first[0]


@pytest.mark.parametrize("browser", BROWSERS)
def test_browser_killed_mid_job(make_worker, r, site, browser):
    w = make_worker(pdf={"chromium": browser},
                    classes={"max_attempts": 3, "backoff": {"base": 0.2, "cap": 0.5}})
    pid, profile = w.browsers()[-1]
    job = {"id": f"killed-mid-job-{os.path.basename(browser)}",
           "url": f"{site.base}/slow?ms=4000", "output": "k.pdf"}
    before = len(site.seen("/slow"))
    r.rpush(CLS, json.dumps(job))
    wait_for(lambda: len(site.seen("/slow")) > before, 30, what="the slow page to be asked for")
    os.kill(pid, signal.SIGKILL)

    def retried():
        s = status(r, CLS, job["id"])
        return s if s.get("error") else None
    s = wait_for(retried, 30, what="the attempt to fail")
    assert "browser" in s["error"] or "page" in s["error"], s
    s = wait_for(lambda: status(r, CLS, job["id"]).get("state") == "done" and
                 status(r, CLS, job["id"]), 90, what="the retry to succeed")
    assert int(s["attempts"]) >= 2
    assert len(w.browsers()) >= 2 and w.browsers()[-1][0] != pid
    wait_for(lambda: not browser_processes(profile), 15, what="the dead browser's processes")
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "next.pdf"})


def test_sigterm_drains_a_render(make_worker, r, site):
    w = make_worker()
    pid, profile = w.browsers()[-1]
    job = {"id": "drain-me", "url": f"{site.base}/slow?ms=3000", "output": "drained.pdf"}
    r.rpush(CLS, json.dumps(job))
    wait_for(lambda: site.seen("/slow?ms=3000"), 30, what="the render to start")
    t0 = time.monotonic()
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(40) == 0
    assert time.monotonic() - t0 < 30
    s = status(r, CLS, job["id"])
    assert s["state"] == "done", (s, w.log()[-3000:])
    assert pdfinfo(w.out / "drained.pdf")["pages"] == 2
    assert not browser_processes(profile) and not os.path.exists(profile)


def test_cancel_stops_a_render_at_once(make_worker, r, site, cli):
    w = make_worker()
    pid, profile = w.browsers()[-1]
    job = {"id": "cancel-me", "url": f"{site.base}/slow?ms=20000", "output": "never.pdf"}
    r.rpush(CLS, json.dumps(job))
    wait_for(lambda: site.seen("/slow?ms=20000"), 30, what="the render to start")
    wait_for(lambda: status(r, CLS, job["id"]).get("state") == "running", 10, what="running")
    t0 = time.monotonic()
    p = cli("cancel", CLS, job["id"])
    assert p.returncode == 0, p.stderr
    wait_for(lambda: status(r, CLS, job["id"]).get("state") == "cancelled", 15,
             what="the job to be cancelled")
    assert time.monotonic() - t0 < 10          # not the page's 20 s
    assert not (w.out / "never.pdf").exists()
    # the browser that held the cancelled page is replaced; work goes on
    wait_for(lambda: not browser_processes(profile), 20, what="the old browser to go")
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "after-cancel.pdf"})


def test_sigterm_right_after_a_job_stops_an_idle_worker_quickly(make_worker, r, site):
    # between jobs the worker finishes opening the next page (the idle
    # hook): a stop signal must not wait for that
    w = make_worker()
    pid, profile = w.browsers()[-1]
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "last.pdf"})
    t0 = time.monotonic()
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(20) == 0
    assert time.monotonic() - t0 < 3, w.log()[-2000:]
    wait_for(lambda: not browser_processes(profile), 10, what="the browser to go")


@pytest.mark.parametrize("browser", BROWSERS)
def test_no_browser_outlives_a_killed_worker(make_worker, browser):
    w = make_worker(pdf={"chromium": browser})
    pid, profile = w.browsers()[-1]
    assert alive(pid)
    w.proc.send_signal(signal.SIGKILL)
    w.proc.wait(10)
    wait_for(lambda: not browser_processes(profile), 20, what="the browser to be killed")
    wait_for(lambda: not os.path.exists(profile), 20, what="the profile to be removed")


def test_browser_restarts_after_max_jobs(make_worker, r, site):
    w = make_worker(pdf={"browser_max_jobs": 2})
    for i in range(2):
        run_job(r, w, {"url": f"{site.base}/invoice.html", "output": f"m{i}.pdf"})
    # an idle worker replaces the spent browser before the next job comes
    wait_for(lambda: len(w.browsers()) == 2, 20, what="the browser replaced while idle")
    for i in range(2, 5):
        run_job(r, w, {"url": f"{site.base}/invoice.html", "output": f"m{i}.pdf"})
    assert len(w.browsers()) == 3, w.log()
    assert w.log().count("reason=max_jobs") == 2
    for pid, profile in w.browsers()[:-1]:
        assert not browser_processes(profile)


# ---- the page opened ahead for the next job ----

STORAGE_PROBE = """<!DOCTYPE html><html><body><p id="out">probe</p><script>
var before = 'cookie=[' + document.cookie + '] local=[' + localStorage.getItem('probe') +
             '] session=[' + sessionStorage.getItem('probe') + ']';
document.cookie = 'probe=%s; max-age=3600';
localStorage.setItem('probe', '%s');
sessionStorage.setItem('probe', '%s');
document.getElementById('out').textContent = 'BEFORE ' + before + ' AFTER cookie=[' +
    document.cookie + '] local=[' + localStorage.getItem('probe') + ']';
</script></body></html>"""


def test_next_jobs_page_shares_nothing_with_this_one(make_worker, r):
    """The page opened ahead (while a job prints) is in a context of its own:
    cookies and storage one job's page sets are gone for the next one."""
    w = make_worker()
    for i in range(3):  # back to back: each job takes the page opened during the last
        r.rpush(CLS, json.dumps({"id": f"probe-{i}", "html": STORAGE_PROBE % ((f"job{i}",) * 3),
                                 "output": f"probe-{i}.pdf"}))
    for i in range(3):
        s = wait_for(lambda: status(r, CLS, f"probe-{i}").get("state") in ("done", "failed"),
                     TIMEOUT, what=f"job probe-{i}") and status(r, CLS, f"probe-{i}")
        assert s["state"] == "done", (s, w.log()[-3000:])
        body = " ".join(text(w.out / f"probe-{i}.pdf").split())
        assert "BEFORE cookie=[] local=[null] session=[null]" in body, body
        assert f"AFTER cookie=[probe=job{i}] local=[job{i}]" in body, body
    assert len(w.browsers()) == 1, w.log()


def test_page_opened_ahead_in_a_dead_browser_is_replaced(make_worker, r, site):
    """A browser that dies while the worker waits for a job (its page for the
    next job with it) is noticed before the job: a new browser, a new page,
    and the job done on its first attempt."""
    w = make_worker()
    run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "before.pdf"})
    pid, profile = w.browsers()[-1]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not browser_processes(profile), 20, what="the browser's processes to go")
    # replaced while idle, before any job asks for it
    wait_for(lambda: len(w.browsers()) == 2, 20, what="a new browser without a job")
    assert w.browsers()[-1][0] != pid and "reason=crashed" in w.log()
    s = run_job(r, w, {"url": f"{site.base}/invoice.html", "output": "after.pdf"})
    assert s["attempts"] == "1", s
    assert pdfinfo(w.out / "after.pdf")["pages"] == 2
    assert len(w.browsers()) == 2
