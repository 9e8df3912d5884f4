#!/usr/bin/python3
"""bench/image_bench.py - how fast drudge-image makes thumbnails, next to
the tools a PHP shop would otherwise spawn.

    /usr/bin/python3 bench/image_bench.py [--images N] [--reps R] [--quick] [--json FILE]

One 4000x3000 JPEG (photo-like: blurred plasma, quality 90) is made to a
256x256-box thumbnail N times by each system, one image at a time on one
core, in this one run:

  drudge-image    jobs pushed to Redis (RPUSH), one worker process taking
                  them, decoding with the jpeg:size hint, writing the file,
                  the status hash read back: end to end. Fork isolation (the
                  default: a sandboxed child per job) and inprocess.
  convert         /usr/bin/convert in.jpg -thumbnail 256x256 out.jpg,
                  spawned per image (MAGICK_THREAD_LIMIT=1)
  convert+hint    the same with -define jpeg:size=256x256 (what drudge does)
  vipsthumbnail   spawned per image (VIPS_CONCURRENCY=1), the speed reference;
                  skipped when libvips-tools is not installed

Reported per system: ms per image (wall), thumbnails per second on one core,
and thumbnails per CPU-second (the worker's CPU and its children's, or the
spawned tools'; Redis's own CPU is not counted). Also the worker's RSS: idle
after start-up, and peak (the parent in fork isolation; a whole job's peak in
inprocess, where the one process does the work). Prints a markdown table;
--json writes the numbers for bench/run.py. Starts its own redis-server on a
free port and stops everything it started, by PID.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import cpu_seconds, free_port, proc_status

try:
    import redis as redis_py
except ImportError:
    sys.exit("image_bench: python3-redis is missing (make deps)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("DRUDGE_BUILD", "build/release"))
WORKER = os.path.join(BUILD, "drudge-image")
CONVERT = "/usr/bin/convert"
VIPSTHUMBNAIL = shutil.which("vipsthumbnail")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SIZE = 256


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Redis:
    def __init__(self, workdir):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, "--logfile", os.path.join(workdir, "redis.log")])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis_py.Redis(host="127.0.0.1", port=self.port, decode_responses=True)

        def up():
            try:
                return self.client.ping()
            except redis_py.ConnectionError:
                return False
        wait_for(up, 10, "redis-server")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def make_input(path):
    # a photo's entropy, not a flat gradient's: decode time depends on it
    subprocess.run([CONVERT, "-size", "4000x3000", "-seed", "7", "plasma:fractal", "-blur", "0x2",
                    "-quality", "90", "-sampling-factor", "2x2", path], check=True, timeout=300)


def bench_drudge(workdir, redis, n, isolation):
    """Push n thumbnail jobs, one worker, wait for all: wall, CPU, RSS."""
    indir, outdir = os.path.join(workdir, "in"), os.path.join(workdir, f"out-{isolation}")
    os.makedirs(outdir, exist_ok=True)
    config = os.path.join(workdir, f"drudge-{isolation}.yaml")
    with open(config, "w") as f:
        f.write(f"worker:\n  progress_interval: 0.25\n"
                f"classes:\n  ImageJob:\n    isolation: {isolation}\n"
                f"image:\n  input_dir: {indir}\n  output_dir: {outdir}\n"
                f"  temp_dir: {workdir}\n  forbidden_env: []\n")
    env = dict(os.environ, DRUDGE_REDIS_URL=redis.url)
    env.pop("DRUDGE_CONFIG", None)
    log = open(os.path.join(workdir, f"worker-{isolation}.log"), "ab")
    worker = subprocess.Popen([WORKER, "--config", config], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    log.close()
    r = redis.client
    r.flushall()
    try:
        def registered():
            return any(f":{worker.pid}:" in w for w in r.zrange("drudge:workers", 0, -1))
        wait_for(registered, 30, "drudge-image to register")
        time.sleep(0.3)
        idle_rss = proc_status(worker.pid, "VmRSS")

        def run(prefix, count):
            ids = []
            pipe = r.pipeline(transaction=False)
            for i in range(count):
                job_id = f"{prefix}-{i}"
                ids.append(job_id)
                pipe.rpush("ImageJob", json.dumps({
                    "id": job_id, "input": "photo.jpg", "output": f"{prefix}/{i}.jpg",
                    "ops": [{"op": "thumbnail", "width": SIZE, "height": SIZE}]}))
            pipe.execute()

            def all_done():
                p = r.pipeline(transaction=False)
                for job_id in ids:
                    p.hget(f"ImageJob:status:{job_id}", "state")
                states = p.execute()
                bad = [s for s in states if s == "failed"]
                if bad:
                    raise RuntimeError(f"drudge-image jobs failed: see {workdir}")
                return all(s == "done" for s in states)
            wait_for(all_done, 600, "thumbnail jobs")

        run("warm", 3)
        cpu0, t0 = cpu_seconds(worker.pid), time.monotonic()
        run("run", n)
        wall, cpu = time.monotonic() - t0, cpu_seconds(worker.pid) - cpu0
        peak = proc_status(worker.pid, "VmHWM")
        out = os.path.join(outdir, "run", "0.jpg")
        size = subprocess.run(["/usr/bin/identify", "-format", "%wx%h", out], capture_output=True,
                              text=True).stdout
        return {"wall": wall, "cpu": cpu, "idle_rss_kb": idle_rss, "peak_rss_kb": peak,
                "output": size}
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def bench_spawn(workdir, n, argv_for, env_extra):
    outdir = tempfile.mkdtemp(dir=workdir)
    env = dict(os.environ, **env_extra)
    for i in range(2):  # warm the page cache and the binary
        subprocess.run(argv_for(os.path.join(outdir, f"w{i}.jpg")), check=True, env=env,
                       capture_output=True)
    cpu0, t0 = children_cpu(), time.monotonic()
    for i in range(n):
        subprocess.run(argv_for(os.path.join(outdir, f"{i}.jpg")), check=True, env=env,
                       capture_output=True)
    wall, cpu = time.monotonic() - t0, children_cpu() - cpu0
    size = subprocess.run(["/usr/bin/identify", "-format", "%wx%h", os.path.join(outdir, "0.jpg")],
                          capture_output=True, text=True).stdout
    return {"wall": wall, "cpu": cpu, "output": size}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=40, help="thumbnails per system and repetition")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    ap.add_argument("--quick", action="store_true", help="10 images, 1 repetition")
    ap.add_argument("--json", help="write the numbers here too")
    args = ap.parse_args()
    if args.quick:
        args.images, args.reps = 10, 1
    for path, what in ((WORKER, "drudge-image (make)"), (CONVERT, "imagemagick"),
                       (REDIS_SERVER, "redis-server")):
        if not os.path.exists(path):
            sys.exit(f"image_bench: {path} is missing: install {what}")

    workdir = tempfile.mkdtemp(prefix="drudge-image-bench.")
    redis = None
    try:
        os.makedirs(os.path.join(workdir, "in"))
        photo = os.path.join(workdir, "in", "photo.jpg")
        make_input(photo)
        redis = Redis(workdir)
        n = args.images
        single = {"MAGICK_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1"}
        systems = {
            "drudge-image, fork (through Redis)": lambda: bench_drudge(workdir, redis, n, "fork"),
            "drudge-image, inprocess (through Redis)":
                lambda: bench_drudge(workdir, redis, n, "inprocess"),
            "convert -thumbnail, spawned per image": lambda: bench_spawn(
                workdir, n, lambda out: [CONVERT, photo, "-thumbnail", f"{SIZE}x{SIZE}", out],
                single),
            "convert -define jpeg:size -thumbnail, spawned": lambda: bench_spawn(
                workdir, n, lambda out: [CONVERT, "-define", f"jpeg:size={SIZE}x{SIZE}", photo,
                                         "-thumbnail", f"{SIZE}x{SIZE}", out], single),
        }
        skipped = []
        if VIPSTHUMBNAIL:
            systems["vipsthumbnail, spawned per image"] = lambda: bench_spawn(
                workdir, n, lambda out: [VIPSTHUMBNAIL, photo, "-s", f"{SIZE}x{SIZE}", "-o", out],
                {"VIPS_CONCURRENCY": "1"})
        else:
            skipped.append("vipsthumbnail (libvips-tools not installed)")
        samples = {name: [] for name in systems}
        for rep in range(args.reps):
            names = list(systems)
            names = names[rep % len(names):] + names[:rep % len(names)]  # rotate the order
            for name in names:
                samples[name].append(systems[name]())
    finally:
        if redis:
            redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    rows = {}
    for name, runs in samples.items():
        ms = statistics.median(s["wall"] for s in runs) * 1000 / n
        cpu_ms = statistics.median(s["cpu"] for s in runs) * 1000 / n
        rows[name] = {"ms_per_image": ms, "per_second": 1000 / ms,
                      "per_cpu_second": 1000 / cpu_ms if cpu_ms > 0 else None,
                      "cpu_ms_per_image": cpu_ms, "output": runs[0]["output"],
                      "idle_rss_kb": runs[0].get("idle_rss_kb"),
                      "peak_rss_kb": max((s.get("peak_rss_kb") or 0) for s in runs) or None}
    base = rows["convert -thumbnail, spawned per image"]["ms_per_image"]
    vips = rows.get("vipsthumbnail, spawned per image", {}).get("ms_per_image")

    print(f"## Image thumbnails: 4000x3000 JPEG to a {SIZE}x{SIZE} box, one core\n")
    print(f"{n} images per system, median of {args.reps} repetition(s); "
          "ImageMagick and libvips limited to one thread.\n")
    print("| system | ms / image | thumbnails/s (one core) | per CPU-second | vs convert "
          "| vs vipsthumbnail | output |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, row in rows.items():
        vs_vips = f"{vips / row['ms_per_image']:.2f}x" if vips else "-"
        pcs = f"{row['per_cpu_second']:.1f}" if row["per_cpu_second"] else "-"
        print(f"| {name} | {row['ms_per_image']:.1f} | {row['per_second']:.1f} | {pcs} "
              f"| {base / row['ms_per_image']:.2f}x | {vs_vips} | {row['output']} |")
    print("\n| drudge-image worker | idle RSS | peak RSS |")
    print("|---|---:|---:|")
    for name, row in rows.items():
        if row["idle_rss_kb"]:
            what = ("parent (jobs run in children)" if "fork" in name
                    else "one process doing the jobs")
            print(f"| {name.split(' (')[0]}: {what} | {row['idle_rss_kb'] / 1024:.1f} MiB "
                  f"| {row['peak_rss_kb'] / 1024:.1f} MiB |")
    for s in skipped:
        print(f"\nskipped: {s}")
    targets = []
    fork = rows["drudge-image, fork (through Redis)"]["ms_per_image"]
    targets.append(f"at least 2x convert -thumbnail: {base / fork:.2f}x "
                   f"({'met' if base / fork >= 2 else 'MISSED'})")
    if vips:
        targets.append(f"faster than vipsthumbnail: {vips / fork:.2f}x "
                       f"({'met' if fork < vips else 'MISSED'})")
    print("\nTargets (drudge-image, fork): " + "; ".join(targets))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"images": n, "reps": args.reps, "rows": rows, "skipped": skipped}, f,
                      indent=2)


if __name__ == "__main__":
    main()
