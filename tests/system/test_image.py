"""drudge-image end to end (issue 5): real Redis, real files made here, every
op on JPEG, PNG, GIF and WebP inputs with the output read back by
ImageMagick's `identify`, EXIF orientation, atomic output, the text_gif
demo, the whole hostile-input list, limits, and a drain on SIGTERM.

Files are made with /usr/bin/convert (not a `convert` earlier in PATH) and
checked with /usr/bin/identify. Every test gets its own redis-server, output
and temp directories; the inputs are made once per module.
"""
import functools
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
import zlib

import pytest

from conftest import binary, status, wait_state, worker_logs

CLS = "ImageJob"
TIMEOUT = 60
CONVERT = "/usr/bin/convert"
IDENTIFY = "/usr/bin/identify"
LOG_TAIL = 5000  # characters of each worker log in a failure message

pytestmark = pytest.mark.skipif(
    not (os.path.exists(binary("drudge-image")) and os.path.exists(CONVERT)
         and os.path.exists(IDENTIFY)),
    reason="drudge-image not built or imagemagick not installed")


# ---- helpers ----

def im(*args):
    subprocess.run([CONVERT, *args], check=True, capture_output=True, timeout=120)


def identify(path, fmt):
    return subprocess.run([IDENTIFY, "-format", fmt, path], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def dims(path):
    w, h = identify(path + "[0]", "%w %h").split()
    return int(w), int(h)


def frame_count(path):
    return len(identify(path, "%w\n").split())


def pixel(path, x, y):
    """(r, g, b) 0-255 of the pixel at x, y of the first frame."""
    out = subprocess.run([CONVERT, path + "[0]", "-colorspace", "sRGB", "-format",
                          f"%[pixel:p{{{x},{y}}}]", "info:"], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    nums = [float(v) for v in re.findall(r"[\d.]+%?", out.split("(", 1)[1]) if v]
    if "%" in out:
        nums = [v * 255 / 100 for v in nums]
    if len(nums) == 1:  # grey
        nums = nums * 3
    return tuple(nums[:3])


NAMED = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255),
         "yellow": (255, 255, 0), "white": (255, 255, 255), "black": (0, 0, 0)}


def color_of(rgb):
    """The nearest of the quadrant colours (lossy formats shift them)."""
    return min(NAMED, key=lambda n: sum((a - b) ** 2 for a, b in zip(NAMED[n], rgb)))


def quadrant(path, which):
    w, h = dims(path)
    x = w // 4 if which in ("tl", "bl") else 3 * w // 4
    y = h // 4 if which in ("tl", "tr") else 3 * h // 4
    return color_of(pixel(path, x, y))


logs = functools.partial(worker_logs, tail=LOG_TAIL)


# ---- inputs, made once ----

def png_bytes(width, height, rows=4):
    """A grey PNG declaring width x height with only a few rows of data."""
    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (rows * (width + 1)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_bytes(frames):
    """A GIF of `frames` 1x1 frames (the frame bomb: a few bytes each)."""
    out = bytearray(b"GIF89a" + struct.pack("<HH", 1, 1) + b"\x80\x00\x00" + b"\0\0\0\xff\xff\xff")
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x01\x00\x00\x00"
        out += b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00"
        out += b"\x02\x02\x4c\x01\x00"
    out += b"\x3b"
    return bytes(out)


def jpeg_with_size(data, width, height):
    """data (a JPEG) with its frame header claiming width x height."""
    i = 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        seglen = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return data[:i + 5] + struct.pack(">HH", height, width) + data[i + 9:]
        i += 2 + seglen
    raise AssertionError("no frame header")


def jpeg_with_orientation(data, orientation):
    """data (a JPEG) with an EXIF APP1 segment holding only Orientation."""
    tiff = (b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", 1)
            + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0))
    exif = b"Exif\0\0" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    return data[:2] + app1 + data[2:]


def quadrants(path, w, h, *extra):
    """An image: red top-left, green top-right, blue bottom-left, yellow bottom-right."""
    qw, qh = w // 2, h // 2
    im("(", "-size", f"{qw}x{qh}", "xc:red", "xc:lime", "+append", ")",
       "(", "-size", f"{qw}x{qh}", "xc:blue", "xc:yellow", "+append", ")",
       "-append", *extra, path)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("image")
    d = root / "in"
    d.mkdir()
    outside = root / "outside"
    outside.mkdir()
    for ext in ("jpg", "png", "gif", "webp"):
        quadrants(str(d / f"base.{ext}"), 400, 300)
    im("-size", "60x40", "xc:rgba(255,255,255,0.8)", str(d / "logo.png"))
    im("-size", "100x80", "xc:red", "xc:lime", "xc:blue", "-set", "delay", "10", "-loop", "0",
       str(d / "anim.gif"))
    # EXIF orientation 6: stored 400x200, shown rotated a quarter turn clockwise
    quadrants(str(root / "plain.jpg"), 400, 200)
    (d / "exif6.jpg").write_bytes(jpeg_with_orientation((root / "plain.jpg").read_bytes(), 6))
    quadrants(str(root / "plainbig.jpg"), 4000, 2000)
    (d / "exif6big.jpg").write_bytes(
        jpeg_with_orientation((root / "plainbig.jpg").read_bytes(), 6))
    im("-size", "4000x3000", "gradient:red-blue", "-quality", "90", str(d / "big.jpg"))
    im("-size", "2400x1800", "plasma:fractal", "-quality", "85", str(d / "large.jpg"))
    im("-size", "1200x900", "gradient:white-black", str(d / "atomic.png"))

    # the hostile list
    marker = root / "MARKER"
    mvg = ("push graphic-context\nviewbox 0 0 640 480\n"
           f"fill 'url(https://example.com/image.jpg\"|touch \"{marker})'\n"
           "pop graphic-context\n")
    (d / "evil.mvg").write_text(mvg)
    (d / "evil_mvg.jpg").write_text(mvg)
    svg = ('<?xml version="1.0" standalone="no"?>\n'
           '<svg width="640" height="480" xmlns="http://www.w3.org/2000/svg" '
           'xmlns:xlink="http://www.w3.org/1999/xlink">\n'
           '<image xlink:href="text:/etc/passwd" x="0" y="0" height="480" width="640"/>\n'
           '</svg>\n')
    (d / "evil.svg").write_text(svg)
    (d / "evil_svg.png").write_text(svg)
    (d / "evil_msl.jpg").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<image>\n'
                                    '<read filename="/etc/passwd"/>\n'
                                    f'<write filename="{marker}"/>\n</image>\n')
    (d / "evil_ps.png").write_text("%!PS-Adobe-3.0\n(hello) print\n")
    (d / "evil_text.jpg").write_text("text:/etc/passwd\n")
    (d / "flood.png").write_bytes(png_bytes(64000, 64000))
    (d / "area_flood.png").write_bytes(png_bytes(15000, 15000))
    im("-size", "64x64", "xc:gray", str(root / "small.jpg"))
    (d / "flood.jpg").write_bytes(jpeg_with_size((root / "small.jpg").read_bytes(), 64000, 64000))
    (d / "frames5000.gif").write_bytes(gif_bytes(5000))
    whole = (d / "large.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(whole[:len(whole) // 2])
    (d / "empty.jpg").write_bytes(b"")
    # a valid GIF header over a broken image stream: ImageMagick's own error
    (d / "bad_stream.gif").write_bytes(
        b"GIF89a" + struct.pack("<HH", 10, 10) + b"\x80\x00\x00" + b"\0\0\0\xff\xff\xff"
        + b"\x2c" + struct.pack("<HHHH", 0, 0, 10, 10) + b"\x00"
        + b"\x02\x05\xff\xff\xff\xff\xff\x00\x3b")
    (d / "padded.jpg").write_bytes((root / "small.jpg").read_bytes() + b"\0" * 2_000_000)
    shutil.copy(d / "base.png", d / "png_named.gif")
    quadrants(str(outside / "secret.jpg"), 40, 30)
    os.symlink("../outside/secret.jpg", d / "escape.jpg")
    os.symlink(str(outside), d / "linkdir")
    os.symlink("base.png", d / "inside_link.png")
    os.mkfifo(d / "fifo.jpg")
    return {"root": root, "in": d, "outside": outside, "marker": marker}


# ---- one test's worker set-up ----

class ImageWorld:
    def __init__(self, r, workers, config_file, tmp_path, inputs):
        self.r = r
        self.workers = workers
        self.config_file = config_file
        self.inputs = inputs
        self.out = tmp_path / "out"
        self.out.mkdir()
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        self.procs = []

    def config(self, limits="", extra="", image_extra=""):
        return self.config_file(
            f"worker:\n  drain_timeout: 60\n  progress_interval: 0\n{extra}"
            f"image:\n  input_dir: {self.inputs['in']}\n  output_dir: {self.out}\n"
            f"  temp_dir: {self.tmp}\n"
            f"  forbidden_env: [\"DRUDGE_TEST_FORBIDDEN_*\"]\n{image_extra}"
            + (f"  limits:\n{limits}" if limits else ""))

    def start(self, n=1, config=None, env=None):
        procs = self.workers.start("drudge-image", config=config or self.config(), n=n, env=env)
        self.procs += procs
        return procs

    def push(self, job_id, payload):
        payload = dict(payload, id=job_id)
        self.r.rpush(CLS, json.dumps(payload))
        return job_id

    def wait(self, job_id, states=("done", "failed"), timeout=TIMEOUT):
        return wait_state(self.r, job_id, states, self.procs, timeout, cls=CLS, tail=LOG_TAIL)

    def done(self, job_id, timeout=TIMEOUT):
        st = self.wait(job_id, timeout=timeout)
        assert st["state"] == "done", f"{job_id}: {st}\n{logs(self.procs)}"
        return json.loads(st["result"])

    def failed(self, job_id, *words):
        st = self.wait(job_id)
        assert st["state"] == "failed", f"{job_id}: {st}"
        for w in words:
            assert w in st["error"], f"{job_id}: {w!r} not in {st['error']!r}"
        return st["error"]

    def alive(self):
        return all(p.poll() is None for p in self.procs)


@pytest.fixture
def world(r, workers, config_file, tmp_path, inputs):
    return ImageWorld(r, workers, config_file, tmp_path, inputs)


# ---- every op on every input format ----

# (name, ops, output size of a 400x300 input, check(path) or None)
OPS = [
    ("resize_fit", [{"op": "resize", "width": 200, "height": 200}], (200, 150), None),
    ("resize_width", [{"op": "resize", "width": 100}], (100, 75), None),
    ("resize_fill", [{"op": "resize", "width": 200, "height": 200, "mode": "fill"}], (200, 200),
     None),
    ("resize_exact", [{"op": "resize", "width": 123, "height": 77, "mode": "exact"}], (123, 77),
     None),
    ("resize_up", [{"op": "resize", "width": 800}], (800, 600), None),
    ("thumbnail", [{"op": "thumbnail", "width": 256, "height": 256}], (256, 192), None),
    ("thumbnail_never_enlarges", [{"op": "thumbnail", "width": 1000, "height": 1000}], (400, 300),
     None),
    ("crop", [{"op": "crop", "width": 100, "height": 50, "x": 10, "y": 20}], (100, 50),
     lambda p: quadrant(p, "tl") == "red"),
    ("crop_gravity", [{"op": "crop", "width": 100, "height": 100, "gravity": "southeast"}],
     (100, 100), lambda p: quadrant(p, "br") == "yellow"),
    ("extent", [{"op": "extent", "width": 500, "height": 400, "background": "white"}], (500, 400),
     lambda p: color_of(pixel(p, 2, 2)) == "white" and quadrant(p, "tl") == "red"),
    ("rotate", [{"op": "rotate", "degrees": 90}], (300, 400),
     lambda p: quadrant(p, "tl") == "blue" and quadrant(p, "tr") == "red"),
    ("flip", [{"op": "flip"}], (400, 300), lambda p: quadrant(p, "tl") == "blue"),
    ("flop", [{"op": "flop"}], (400, 300), lambda p: quadrant(p, "tl") == "green"),
    ("auto_orient", [{"op": "auto_orient"}], (400, 300), lambda p: quadrant(p, "tl") == "red"),
    ("strip", [{"op": "strip"}], (400, 300), None),
    ("quality", [{"op": "quality", "value": 30}], (400, 300), None),
    ("blur", [{"op": "blur", "sigma": 3}], (400, 300), None),
    ("sharpen", [{"op": "sharpen", "sigma": 1}], (400, 300), None),
    ("grayscale", [{"op": "grayscale"}], (400, 300),
     lambda p: max(pixel(p, 100, 75)) - min(pixel(p, 100, 75)) < 8),
    ("watermark", [{"op": "watermark", "image": "logo.png", "gravity": "southeast",
                    "opacity": 0.5, "margin": 10}], (400, 300),
     lambda p: quadrant(p, "tl") == "red"),
    ("chain", [{"op": "auto_orient"}, {"op": "thumbnail", "width": 256, "height": 256},
               {"op": "strip"}, {"op": "quality", "value": 82}], (256, 192), None),
]


@pytest.mark.parametrize("ext", ["jpg", "png", "gif", "webp"])
def test_every_op_on_each_input_format(world, ext):
    world.start(n=2)
    for name, ops, _, _ in OPS:
        world.push(f"{name}-{ext}", {"input": f"base.{ext}", "output": f"{ext}/{name}.{ext}",
                                     "ops": ops})
    for name, _, size, check in OPS:
        res = world.done(f"{name}-{ext}")
        path = str(world.out / ext / f"{name}.{ext}")
        assert (res["width"], res["height"]) == size, f"{name}: result {res}"
        assert dims(path) == size, f"{name}: file is {dims(path)}"
        assert res["bytes"] == os.path.getsize(path)
        assert res["output"] == f"{ext}/{name}.{ext}"
        assert res["input_format"] == {"jpg": "jpeg"}.get(ext, ext)
        if check:
            assert check(path), f"{name} on {ext}: pixels are wrong"


@pytest.mark.parametrize("out_ext,magick", [("jpg", "JPEG"), ("png", "PNG"), ("gif", "GIF"),
                                            ("webp", "WEBP")])
def test_output_format_follows_the_extension(world, out_ext, magick):
    world.start()
    world.push("t", {"input": "base.png", "output": f"t.{out_ext}",
                     "ops": [{"op": "thumbnail", "width": 64, "height": 64}]})
    res = world.done("t")
    path = str(world.out / f"t.{out_ext}")
    assert identify(path + "[0]", "%m") == magick
    assert (res["width"], res["height"]) == dims(path) == (64, 48)


def test_format_op_names_the_format_and_must_agree_with_the_name(world):
    world.start()
    world.push("named", {"input": "base.jpg", "output": "blob.bin",
                         "ops": [{"op": "format", "value": "png"}]})
    world.push("clash", {"input": "base.jpg", "output": "a.jpg",
                         "ops": [{"op": "format", "value": "png"}]})
    world.push("unknown", {"input": "base.jpg", "output": "a.bin"})
    res = world.done("named")
    assert res["format"] == "png"
    assert identify(str(world.out / "blob.bin"), "%m") == "PNG"
    world.failed("clash", "the name says jpeg but the format op asks for png")
    world.failed("unknown", "cannot tell the format")


def test_animated_gif_keeps_its_frames_or_gives_its_first(world):
    world.start()
    world.push("anim", {"input": "anim.gif", "output": "anim.gif",
                        "ops": [{"op": "resize", "width": 50}]})
    world.push("still", {"input": "anim.gif", "output": "still.png",
                         "ops": [{"op": "resize", "width": 50}]})
    res = world.done("anim")
    assert res["frames"] == 3
    assert frame_count(str(world.out / "anim.gif")) == 3
    assert dims(str(world.out / "anim.gif")) == (50, 40)
    res = world.done("still")
    assert "frames" not in res
    assert frame_count(str(world.out / "still.png")) == 1


def test_unknown_op_and_bad_arguments_fail_naming_op_and_argument(world):
    world.start()
    world.push("op", {"input": "base.png", "output": "x.png", "ops": [{"op": "explode"}]})
    world.push("arg", {"input": "base.png", "output": "x.png",
                       "ops": [{"op": "strip"}, {"op": "resize", "width": -5}]})
    world.push("typo", {"input": "base.png", "output": "x.png",
                        "ops": [{"op": "resize", "widht": 5}]})
    world.push("mode", {"input": "base.png", "output": "x.png",
                        "ops": [{"op": "resize", "width": 5, "height": 5, "mode": "stretch"}]})
    world.push("color", {"input": "base.png", "output": "x.png",
                         "ops": [{"op": "extent", "width": 5, "height": 5,
                                  "background": "notacolour"}]})
    world.push("noinput", {"output": "x.png"})
    world.failed("op", 'unknown op "explode"', "thumbnail")
    world.failed("arg", "ops[1] (resize): width must be an integer from 1 to 16000, got -5")
    world.failed("typo", 'ops[0] (resize): unknown argument "widht"')
    world.failed("mode", "mode must be one of fit, fill, exact")
    world.failed("color", "notacolour")
    world.failed("noinput", "input is required")
    assert not (world.out / "x.png").exists()
    assert world.alive()


# ---- EXIF orientation ----

def test_exif_orientation_is_applied_by_auto_orient(world):
    world.start()
    world.push("o", {"input": "exif6.jpg", "output": "o.jpg", "ops": [{"op": "auto_orient"}]})
    world.push("t", {"input": "exif6.jpg", "output": "t.png",
                     "ops": [{"op": "auto_orient"}, {"op": "thumbnail", "width": 100,
                                                     "height": 100}]})
    # the shrink-on-load path: a big rotated JPEG to a thumbnail
    world.push("big", {"input": "exif6big.jpg", "output": "big.jpg",
                       "ops": [{"op": "auto_orient"}, {"op": "thumbnail", "width": 256,
                                                       "height": 256}]})
    world.push("raw", {"input": "exif6.jpg", "output": "raw.png"})
    res = world.done("o")
    path = str(world.out / "o.jpg")
    assert (res["width"], res["height"]) == dims(path) == (200, 400)
    # stored top-left (red) is shown top-right after a quarter turn clockwise
    assert quadrant(path, "tr") == "red"
    assert quadrant(path, "tl") == "blue"
    assert identify(path, "%[orientation]") in ("TopLeft", "Undefined")
    assert dims(str(world.out / "t.png")) == (50, 100)
    assert quadrant(str(world.out / "t.png"), "tr") == "red"
    res = world.done("big")
    assert (res["width"], res["height"]) == dims(str(world.out / "big.jpg")) == (128, 256)
    assert quadrant(str(world.out / "big.jpg"), "tr") == "red"
    # without auto_orient the pixels stay as stored
    assert dims(str(world.out / "raw.png")) == (400, 200)


def test_jpeg_thumbnail_shrinks_on_load_and_is_right(world):
    world.start()
    world.push("t", {"input": "big.jpg", "output": "t.jpg",
                     "ops": [{"op": "thumbnail", "width": 256, "height": 256}]})
    world.push("fill", {"input": "big.jpg", "output": "fill.jpg",
                        "ops": [{"op": "resize", "width": 300, "height": 100, "mode": "fill"}]})
    world.push("tall", {"input": "big.jpg", "output": "tall.jpg",
                        "ops": [{"op": "thumbnail", "width": 3999, "height": 10}]})
    world.done("t")
    assert dims(str(world.out / "t.jpg")) == (256, 192)
    world.done("fill")
    assert dims(str(world.out / "fill.jpg")) == (300, 100)
    res = world.done("tall")
    assert (res["width"], res["height"]) == (13, 10)
    # the gradient runs red (top) to blue (bottom) after shrinking too
    assert color_of(pixel(str(world.out / "t.jpg"), 128, 2)) == "red"
    assert color_of(pixel(str(world.out / "t.jpg"), 128, 189)) == "blue"


# ---- atomic output ----

def test_output_is_replaced_atomically_and_no_temp_file_is_left(world):
    world.start()
    target = world.out / "atomic.png"
    target.write_bytes(b"old contents")
    seen = {"partial": 0, "reads": 0}
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                seen["partial"] += 1
                continue
            seen["reads"] += 1
            if data != b"old contents" and not (data.startswith(b"\x89PNG")
                                                and data.endswith(b"IEND\xaeB`\x82")):
                seen["partial"] += 1

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(5):
            world.push(f"a{i}", {"input": "atomic.png", "output": "atomic.png",
                                 "ops": [{"op": "blur", "sigma": 1 + i}]})
        for i in range(5):
            world.done(f"a{i}")
    finally:
        stop.set()
        t.join()
    assert seen["reads"] > 0
    assert seen["partial"] == 0, "a reader saw a missing or half-written output"
    assert dims(str(target)) == (1200, 900)
    assert [p.name for p in world.out.iterdir()] == ["atomic.png"]


# ---- the text_gif demo ----

def test_text_gif_renders_a_20_frame_looping_gif(world, r):
    world.start()
    p = r.pubsub()
    p.subscribe(f"{CLS}:status:demo")
    world.push("demo", {"op_set": "text_gif", "text": "Hello", "output": "gifs/demo.gif"})
    res = world.done("demo")
    path = str(world.out / "gifs" / "demo.gif")
    assert res["format"] == "gif" and res["frames"] == 20
    assert frame_count(path) == 20
    assert identify(path + "[0]", "%m") == "GIF"
    info = subprocess.run([CONVERT, path + "[0]", "-verbose", "info:"], capture_output=True,
                          text=True, timeout=60).stdout
    assert re.search(r"Iterations: 0\b", info), "the GIF must loop forever"
    messages = []
    while True:
        m = p.get_message(timeout=0.2)
        if m is None:
            break
        if m["type"] == "message":
            messages.append(json.loads(m["data"]).get("message", ""))
    assert "frame 20/20" in messages, messages
    assert "frame 1/20" in messages, messages
    # the hues turn from frame to frame: one spot, twenty colours
    x, y = res["width"] // 2, res["height"] // 2
    spots = subprocess.run([CONVERT, path, "-coalesce", "-format", f"%[pixel:p{{{x},{y}}}]\n",
                            "info:"], capture_output=True, text=True, timeout=60).stdout.split()
    assert len(spots) == 20
    assert len(set(spots)) >= 10, spots


def test_text_gif_refuses_bad_requests(world):
    world.start()
    world.push("long", {"op_set": "text_gif", "text": "x" * 41, "output": "a.gif"})
    world.push("still", {"op_set": "text_gif", "text": "Hi", "output": "a.jpg"})
    world.push("at", {"op_set": "text_gif", "text": "@/etc/passwd", "output": "a.gif"})
    world.push("set", {"op_set": "explode", "output": "a.gif"})
    world.failed("long", "at most 40")
    world.failed("still", "must be an animation")
    world.failed("at", "must not start with")
    world.failed("set", "op_set must be")


# ---- the hostile list ----

HOSTILE = [
    # (job id, input, words the error must contain)
    ("mvg", "evil.mvg", ["mvg", "never reads"]),
    ("mvg_as_jpg", "evil_mvg.jpg", ["mvg", "never reads"]),
    ("svg", "evil.svg", ["svg", "never reads"]),
    ("svg_as_png", "evil_svg.png", ["svg", "never reads"]),
    ("msl_as_jpg", "evil_msl.jpg", ["xml", "never reads"]),
    ("ps_as_png", "evil_ps.png", ["postscript", "never reads"]),
    ("text_in_file", "evil_text.jpg", ["not an image format"]),
    ("text_name", "text:/etc/passwd", ["no such file"]),
    ("flood_png", "flood.png", ["64000x64000", "over the limit"]),
    ("flood_jpg", "flood.jpg", ["64000x64000", "over the limit"]),
    ("area_flood", "area_flood.png", ["megapixels", "image.limits.area"]),
    ("frames5000", "frames5000.gif", ["5000 frames", "image.limits.list_length"]),
    ("truncated", "truncated.jpg", ["corrupt or truncated"]),
    ("empty", "empty.jpg", ["empty"]),
    ("fifo", "fifo.jpg", ["not a regular file"]),
    ("traversal", "../outside/secret.jpg", ['".." is not allowed']),
    ("deep_traversal", "a/../../outside/secret.jpg", ['".." is not allowed']),
    ("absolute", "/etc/passwd", ["absolute paths are not allowed"]),
    ("symlink_escape", "escape.jpg", ["outside the directory"]),
    ("symlink_dir_escape", "linkdir/secret.jpg", ["outside the directory"]),
]


def test_hostile_inputs_fail_clearly_and_the_worker_keeps_serving(world, inputs):
    world.start()
    started = time.monotonic()
    for job_id, path, _ in HOSTILE:
        world.push(job_id, {"input": path, "output": f"{job_id}.png",
                            "ops": [{"op": "resize", "width": 10}]})
    for job_id, _, words in HOSTILE:
        world.failed(job_id, *words)
    # ImageMagick's own messages come through as sentences, not message tags
    # (its message texts are loaded before the sandbox closes the files)
    world.push("bad_stream", {"input": "bad_stream.gif", "output": "bad_stream.png"})
    err = world.failed("bad_stream", 'input "bad_stream.gif": ')
    assert " " in err.split('": ', 1)[1], err
    # a flood and a frame bomb are refused from their headers: fast
    assert time.monotonic() - started < 30
    assert not inputs["marker"].exists(), "an MVG/MSL payload ran"
    assert list(world.out.iterdir()) == []
    assert sorted(p.name for p in inputs["outside"].iterdir()) == ["secret.jpg"]
    # still serving, and the same process
    world.push("good", {"input": "base.png", "output": "good.png"})
    world.done("good")
    assert world.alive()
    # failed jobs left no ImageMagick temp files behind
    leftovers = [str(p) for p in world.tmp.rglob("*") if p.is_file()]
    assert leftovers == []


def test_png_named_gif_fails_with_a_clear_error(world):
    # the name never picks the decoder, and a name that contradicts the
    # bytes is a mislabelled or disguised upload: refused, nothing written
    world.start()
    world.push("p", {"input": "png_named.gif", "output": "p.png"})
    world.failed("p", "the file is png but its name says gif")
    assert not (world.out / "p.png").exists()


def test_symlink_inside_input_dir_is_followed(world):
    world.start()
    world.push("in", {"input": "inside_link.png", "output": "in.png"})
    assert world.done("in")["input_format"] == "png"


def test_outputs_stay_inside_output_dir(world, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), world.out / "link")
    world.start()
    (world.out / "adir.png").mkdir()
    cases = [("up", "../evil.png", '".." is not allowed'),
             ("abs", "/tmp/evil.png", "absolute paths are not allowed"),
             ("link", "link/evil.png", "outside the directory"),
             ("dir", "adir.png", "the output name is a directory")]
    for job_id, out, _ in cases:
        world.push(job_id, {"input": "base.png", "output": out})
    for job_id, _, words in cases:
        world.failed(job_id, words)
    assert list(elsewhere.iterdir()) == []
    assert not (tmp_path / "evil.png").exists()
    world.push("sub", {"input": "base.png", "output": "a/b/c/ok.png"})
    world.done("sub")
    assert (world.out / "a" / "b" / "c" / "ok.png").exists()


def test_formats_not_allowed_by_config_are_refused(world):
    world.start(config=world.config(image_extra="  allowed_formats: [jpeg]\n"))
    world.push("png", {"input": "base.png", "output": "x.png"})
    world.push("jpg", {"input": "base.jpg", "output": "x.jpg"})
    world.failed("png", "the file is png, which image.allowed_formats does not allow",
                 "allowed: jpeg")
    world.done("jpg")


# ---- limits ----

def test_time_limit_stops_a_job_with_a_clear_error(world):
    world.start(config=world.config(limits="    time: 0.5\n"))
    world.push("slow", {"input": "big.jpg", "output": "slow.jpg",
                        "ops": [{"op": "blur", "sigma": 5}]})
    err = world.failed("slow", "over the time limit of 0.5 s")
    assert "image.limits.time" in err
    assert not (world.out / "slow.jpg").exists()
    world.push("ok", {"input": "base.png", "output": "ok.png"})
    world.done("ok")
    assert [p for p in world.tmp.rglob("*") if p.is_file()] == []


def test_size_limits_from_config_apply(world):
    world.start(config=world.config(limits="    width: 300\n    input: 1\n"))
    world.push("wide", {"input": "base.png", "output": "w.png"})
    world.push("heavy", {"input": "padded.jpg", "output": "h.png"})
    world.failed("wide", "400x300", "over the limit of 300x16000")
    world.failed("heavy", "over the limit of 1 MiB", "image.limits.input")


def test_file_size_limit_fails_the_write_cleanly(world):
    # in fork isolation RLIMIT_FSIZE = image.limits.disk: the write fails
    # with EFBIG (not a SIGXFSZ death), the temp file goes, nothing is left
    world.start(config=world.config(limits="    disk: 1\n"))
    world.push("big", {"input": "large.jpg", "output": "big.png"})
    world.failed("big", "cannot write the output", "too large")
    assert list(world.out.iterdir()) == []
    world.push("small", {"input": "base.png", "output": "small.png"})
    world.done("small")
    assert world.alive()


# ---- start-up and shutdown ----

def test_worker_refuses_to_start_with_secrets_in_its_environment(world):
    procs = world.start(env={"DRUDGE_TEST_FORBIDDEN_SECRET": "x"})
    assert procs[0].wait(30) == 1
    text = open(procs[0].logpath).read()
    assert "DRUDGE_TEST_FORBIDDEN_SECRET" in text and "image.forbidden_env" in text
    # and with the default patterns (no forbidden_env in the config)
    cfg = world.config_file(f"image:\n  input_dir: {world.inputs['in']}\n"
                            f"  output_dir: {world.out}\n  temp_dir: {world.tmp}\n")
    procs = world.start(config=cfg, env={"MY_API_TOKEN": "x"})
    assert procs[0].wait(30) == 1
    assert "MY_API_TOKEN" in open(procs[0].logpath).read()


def test_version_names_formats_and_sandbox():
    out = subprocess.run([binary("drudge-image"), "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    assert "ImageMagick 6." in out
    assert re.search(r"write .*jpeg.*png.*gif.*webp", out)
    assert "sandbox (fork isolation): no_new_privs" in out


def test_startup_logs_the_sandbox_that_is_applied(world, r):
    procs = world.start()
    world.push("x", {"input": "base.png", "output": "x.png"})
    world.done("x")
    text = open(procs[0].logpath).read()
    m = re.search(r"event=image_start .*sandbox=\"([^\"]+)\"", text)
    assert m, text
    assert "no_new_privs" in m.group(1) and "rlimits(" in m.group(1)
    assert "isolation=fork" in text


@pytest.mark.parametrize("isolation", ["fork", "inprocess"])
def test_sigterm_while_a_large_image_processes_drains(world, r, isolation):
    # in-process, the handler sees drudge_ctx_cancelled() stay 0 through the
    # drain: a restart must not cut a job short (nor fail it)
    procs = world.start(config=world.config(
        extra=f"classes:\n  {CLS}:\n    isolation: {isolation}\n"))
    world.push("large", {"input": "large.jpg", "output": "large.jpg",
                         "ops": [{"op": "blur", "sigma": 5}]})
    world.wait("large", "running")
    time.sleep(0.3)
    procs[0].send_signal(signal.SIGTERM)
    assert procs[0].wait(90) == 0
    st = status(r, CLS, "large")
    assert st["state"] == "done", st
    assert dims(str(world.out / "large.jpg")) == (2400, 1800)
    # the worker's temp directory went with it
    assert [p for p in world.tmp.rglob("*")] == []
