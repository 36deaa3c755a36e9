"""Time a district's member export made in the background, and the worker's peak memory.

Run from the repository root:

    .venv/bin/python benchmarks/background_export.py [--members 200000] [--no-reuse]

It migrates the database named by DATABASE_URL (default: the local `tongzhan_bench`), seeds
it with `seed_demo` up to N members unless it already holds that many, then, as the district
officer `quwei`, asks /members/export/ for every registered member through Django's test
client: above MEMBER_EXPORT_INLINE_MAX the answer is the file's page, and a `db_worker`
process (`--batch`: it exits when the queue is empty) makes the file while this script reads
its progress as the page would. Printed: the request's time, the worker's wall time and peak
resident memory (from the kernel's accounting of the child process), the progress seen, the
file's size, the time to serve it, and its rows read back with calamine. See
benchmarks/README.md.
"""

import argparse
import io
import os
import subprocess
import sys
import threading
import time

import common  # noqa: E402  (benchmarks/ is the script's folder)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_bench"
USER = "quwei"  # the district officer of 迎泽区: every member the seed makes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument(
        "--reuse",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep a database that already holds at least --members members (default)",
    )
    options = parser.parse_args()
    common.setup_django(DEFAULT_DATABASE_URL)

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from python_calamine import CalamineWorkbook

    from members.models import Member
    from tongzhan.models import Download, User

    if connection.vendor != "postgresql":
        print(f"DATABASE_URL must point at PostgreSQL, not {connection.vendor}.", file=sys.stderr)
        return 2
    common.seed_members(options.members, reuse=options.reuse)

    user = User.objects.get(username=USER)
    registered = Member.objects.visible_to(user).filter(status=Member.Status.ACTIVE).count()
    # The background path at any size: a tiny run in CI takes it too.
    settings.MEMBER_EXPORT_INLINE_MAX = min(settings.MEMBER_EXPORT_INLINE_MAX, registered - 1)
    backend = settings.TASKS["default"]["BACKEND"]
    if "DatabaseBackend" not in backend:
        print(f"TASKS must use the database backend, not {backend}.", file=sys.stderr)
        return 2
    Download.objects.filter(owner=user).delete()

    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    started = time.monotonic()
    response = client.get("/members/export/")
    asked = time.monotonic() - started
    if response.status_code != 302 or "/downloads/" not in response["Location"]:
        print(f"Expected the file's page, got {response.status_code}.", file=sys.stderr)
        return 1
    download = Download.objects.get(owner=user)
    print(f"{registered} registered members; the request answered in {asked * 1000:.0f} ms.")

    # The worker, as production runs it, in a process of its own; its peak memory is the
    # kernel's count for the child (ru_maxrss, in KiB on Linux).
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongzhan.settings.local"}
    command = [sys.executable, str(common.ROOT / "manage.py"), "db_worker", "--batch",
               "--no-startup-delay", "--no-reload"]  # fmt: skip
    seen = []
    started = time.monotonic()
    worker = subprocess.Popen(command, env=env, cwd=common.ROOT, stdout=subprocess.DEVNULL)  # noqa: S603

    def watch():
        while worker.poll() is None:
            done, total, state = Download.objects.values_list("done", "total", "state").get(
                pk=download.pk
            )
            seen.append((time.monotonic() - started, state, done, total))
            time.sleep(1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    _pid, status, usage = os.wait4(worker.pid, 0)
    worker.returncode = os.waitstatus_to_exitcode(status)
    made = time.monotonic() - started
    watcher.join()
    download.refresh_from_db()
    if worker.returncode != 0 or download.state != Download.State.DONE:
        print(f"The worker ended {worker.returncode}; the file is {download.state}: "
              f"{download.error}", file=sys.stderr)  # fmt: skip
        return 1
    running = [row for row in seen if row[1] == "running" and row[3]]
    print(f"Worker: {made:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
          f"peak memory {usage.ru_maxrss / 1024:.0f} MB.")  # fmt: skip
    if running:
        every = max(1, len(running) // 6)
        steps = ", ".join(f"{at:.0f} s {done}/{total}" for at, _s, done, total in running[::every])
        print(f"Progress seen: {steps}.")

    started = time.monotonic()
    served = client.get(f"/downloads/{download.pk}/file/")
    content = served.content
    serve = time.monotonic() - started
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    read_back = len(rows.to_python()) - 1
    print(f"File: {len(content) / 1e6:.1f} MB, {download.rows} rows ({read_back} read back), "
          f"served in {serve * 1000:.0f} ms.")  # fmt: skip
    if read_back != registered or download.rows != registered:
        print("The file does not hold every registered member.", file=sys.stderr)
        return 1
    Download.objects.filter(pk=download.pk).delete()
    load = os.getloadavg()
    print(f"Load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
