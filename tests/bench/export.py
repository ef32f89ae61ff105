"""Export benchmark: "Download my data" for a customer with 10,000 and with 100,000 orders,
built by the task code in one process and downloaded through the view in another, with the
wall time and peak resident memory of each process measured on its own.

    .venv/bin/python tests/bench/export.py [--orders 10000,100000] [--storage local|s3]

Builds a throw-away shop in a temporary folder (as tests/bench/rights.py: SHOP_ENV=local,
DEBUG=0, fresh keys, a fresh SQLite file migrated with `migrate`) and, for each size N, a
"rich user" with N orders made by tests/bench/rights.py's make_subject (bulk_create, the 9
encrypted personal fields filled, one line each, a payment for every 10th order). Then, each
in a fresh Python process started for it alone:

    idle    django.setup() and one query: the baseline every process pays before any work.
    build   privacy.tasks.export_build(job_id) run as the worker runs it: the archive written
            model by model into the private storage, sealed as it goes.
    serve   GET of the download URL through the Django test client (the whole middleware
            stack and the view), the streamed response read to its end and written to a file.

Peak memory is each child's own VmHWM (/proc/self/status: the kernel's high-water mark of
that process's resident memory: interpreter, Django, buffers, everything). Wall time is the
child's own, from just before the work to just after it (start-up excluded; it is the idle
row's). The downloaded archive is then checked: its CRCs, and that data.json holds N orders.

--storage s3 runs the same against moto's S3-compatible server on 127.0.0.1 (started here,
stopped at the end), configured by the same environment variables as production.

Targets (issue 14): at 100,000 orders, each process within 60 s and 200 MB, and memory flat
from 10,000 to 100,000 orders. Prints figures; asserts correctness only. Talks to no network
beyond 127.0.0.1; removes its temporary folder at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))
MAX_ORDERS = 200_000
TARGET_SECONDS, TARGET_MB = 60, 200


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the children -----------------------------------------------------------------------------
def child(role: str, job_id: int, out: str) -> None:
    import django

    django.setup()
    from django.db import connection

    from privacy.models import ExportJob

    job = ExportJob.objects.get(pk=job_id)
    result: dict = {}
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    if role == "idle":
        start = time.perf_counter()
        result["records"] = 0
    elif role == "build":
        from privacy.tasks import export_build

        start = time.perf_counter()
        export_build(job_id)  # the Celery task's body, as a worker runs it
        job.refresh_from_db()
        assert job.status == "ready", job.status
        result["stored_bytes"] = job.size
    else:
        from django.test import Client
        from django.urls import reverse

        from privacy.rights.export import download_token

        client = Client()
        client.force_login(job.user)
        start = time.perf_counter()
        response = client.get(reverse("privacy:export_download", args=[download_token(job)]))
        assert response.status_code == 200 and response.streaming, response.status_code
        size = chunks = biggest = 0
        with open(out, "wb") as sink:
            for chunk in response.streaming_content:
                sink.write(chunk)
                size, chunks, biggest = size + len(chunk), chunks + 1, max(biggest, len(chunk))
        response.close()
        result.update(bytes=size, chunks=chunks, biggest_chunk=biggest)
    result["seconds"] = time.perf_counter() - start
    connection.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu"] = usage.ru_utime + usage.ru_stime - cpu_before
    result["peak_mb"] = peak_rss_mb()
    print(json.dumps(result))


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM). Not ru_maxrss: Linux carries a forking
    parent's high-water mark into the child's ru_maxrss across exec, so every child would seem
    as large as the benchmark process that started it."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024  # kB


def run_child(role: str, job_id: int, out: Path) -> dict:
    """A fresh process for one role; it reports its own time and peak resident memory."""
    proc = subprocess.run([sys.executable, __file__, "--child", role, "--job", str(job_id), "--out", str(out)],
                          capture_output=True, cwd=BASE_DIR, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{role} failed:\n{proc.stderr.decode()[-3000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


# --- the shop -----------------------------------------------------------------------------------
def start_s3(var_dir: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=open(var_dir / "moto.log", "wb"))
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto's S3 server did not start")


def check_archive(path: Path, n: int) -> None:
    """CRCs of every member, and N order records in data.json (read line by line)."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names[0] == "data.json" and names[-1] == "README.txt", names
        with archive.open("data.json") as data:
            orders = sum(1 for line in data if line.startswith(b'          "shipping_line1": '))
    assert orders == n, f"data.json holds {orders} orders, not {n}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", default="10000,100000")
    parser.add_argument("--storage", choices=["local", "s3"], default="local")
    parser.add_argument("--child", choices=["idle", "build", "serve"])
    parser.add_argument("--job", type=int, default=0)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.job, args.out)
        return 0
    sizes = [int(s.replace("_", "")) for s in args.orders.split(",") if s.strip()]
    if not sizes or any(not 1 <= n <= MAX_ORDERS for n in sizes):
        parser.error(f"--orders: sizes between 1 and {MAX_ORDERS}")

    started = time.perf_counter()
    var_dir = Path(tempfile.mkdtemp(prefix="shop-bench-export-"))
    s3 = None
    try:
        from tests.bench.rights import configure_environment, make_subject

        configure_environment(var_dir)
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            os.environ.pop(name)
        if args.storage == "s3":
            s3, endpoint = start_s3(var_dir)
            bucket = f"shop-bench-{secrets.token_hex(4)}"
            os.environ.update({"AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_ENDPOINT_URL": endpoint,
                               "AWS_S3_REGION_NAME": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
                               "AWS_SECRET_ACCESS_KEY": "bench-secret"})
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from privacy.models import ExportJob

        if args.storage == "s3":
            import boto3

            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                         aws_secret_access_key="bench-secret").create_bucket(Bucket=bucket)
        log(f"migrating a fresh SQLite database in {var_dir} ...")
        call_command("migrate", verbosity=0, interactive=False)
        call_command("migrate", database="keys", verbosity=0, interactive=False)  # per-person keys
        jobs = {}
        for n in sizes:
            t = time.perf_counter()
            user = make_subject(n)
            jobs[n] = ExportJob.objects.create(user=user, token=secrets.token_hex(16)).pk
            log(f"{n:,} orders created in {time.perf_counter() - t:.1f} s")
        connection.close()  # the children have the database to themselves

        load_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
        idle = run_child("idle", jobs[sizes[0]], var_dir / "none")
        rows = []
        for n in sizes:
            log(f"{n:,} orders: building (worker process) ...")
            build = run_child("build", jobs[n], var_dir / "none")
            log(f"{n:,} orders: built in {build['seconds']:.1f} s; downloading (web process) ...")
            target = var_dir / f"download-{n}.zip"
            serve = run_child("serve", jobs[n], target)
            check_archive(target, n)
            rows.append((n, build, serve, target.stat().st_size))
            target.unlink()

        print()
        print(f"Export benchmark ({args.storage} storage, SQLite, Python {sys.version.split()[0]}, "
              f"Django {django.get_version()}, {os.cpu_count()} CPUs); each process measured alone")
        print(f"Baseline: a process that only starts Django and runs one query peaks at {idle['peak_mb']:.0f} MB")
        print(f"Load average at the start and the end: {load_start} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
              " (CPU s: the process's own user+system time, what wall time would be on an idle core)")
        print()
        head = ("orders", "build s", "build CPU s", "build peak MB", "serve s", "serve CPU s", "serve peak MB",
                "stored MB", "zip MB")
        body = [(f"{n:,}", f"{b['seconds']:.1f}", f"{b['cpu']:.1f}", f"{b['peak_mb']:.0f}", f"{s['seconds']:.1f}",
                 f"{s['cpu']:.1f}", f"{s['peak_mb']:.0f}", f"{b['stored_bytes'] / 2**20:.1f}", f"{size / 2**20:.1f}")
                for n, b, s, size in rows]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        for r in [head, *body]:
            print("  ".join(f"{c:>{w}}" for c, w in zip(r, widths, strict=True)))
        if len(rows) >= 2:
            (n1, b1, s1, z1), (n2, b2, s2, z2) = rows[0], rows[-1]
            print()
            print(f"Ratio {n2:,} / {n1:,} orders ({n2 / n1:.0f}x the data): build time {b2['seconds'] / b1['seconds']:.1f}x, "
                  f"build peak {b2['peak_mb'] / b1['peak_mb']:.2f}x; serve time {s2['seconds'] / s1['seconds']:.1f}x, "
                  f"serve peak {s2['peak_mb'] / s1['peak_mb']:.2f}x; archive {z2 / z1:.1f}x")
            print(f"Above the idle baseline: build {b1['peak_mb'] - idle['peak_mb']:.0f} -> "
                  f"{b2['peak_mb'] - idle['peak_mb']:.0f} MB, serve {s1['peak_mb'] - idle['peak_mb']:.0f} -> "
                  f"{s2['peak_mb'] - idle['peak_mb']:.0f} MB")
        n, b, s, _ = rows[-1]
        ok = max(b["seconds"], s["seconds"]) <= TARGET_SECONDS and max(b["peak_mb"], s["peak_mb"]) <= TARGET_MB
        cpu_ok = max(b["cpu"], s["cpu"]) <= TARGET_SECONDS and max(b["peak_mb"], s["peak_mb"]) <= TARGET_MB
        print(f"Target at {n:,} orders (each process <= {TARGET_SECONDS} s and <= {TARGET_MB} MB): "
              f"{'met' if ok else 'NOT met'} in wall time, {'met' if cpu_ok else 'NOT met'} in CPU time; "
              f"largest chunk sent {s['biggest_chunk']:,} bytes in {s['chunks']:,} chunks")
        print(f"Total run {time.perf_counter() - started:.1f} s")
        return 0
    finally:
        if s3 is not None:
            s3.terminate()
            s3.wait(timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
