"""What the benchmark scripts share: Django set up as production runs it, and the page timer."""

import argparse
import math
import os
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 3  # requests per scenario before the timed ones


def setup_django(database_url: str) -> None:
    """Django with the local settings on `database_url` (unless DATABASE_URL says), DEBUG off.

    Production runs without DEBUG; with it every query is also kept in memory and logged,
    which would be measured. Without DEBUG, static files come from a manifest in STATIC_ROOT.
    """
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongzhan.settings.local"
    os.environ.setdefault("DATABASE_URL", database_url)
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("STATIC_ROOT", str(Path(tempfile.gettempdir()) / "tongzhan-bench-static"))
    import django

    django.setup()


def peak_mb() -> float:
    """This process's peak resident memory. Linux keeps `ru_maxrss` across exec, so a child
    would report its parent's peak if that was higher: VmHWM is the process's own."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def display_width(text: str) -> int:
    """Columns on a terminal, where a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    """Left-align for a terminal."""
    return text + " " * max(0, width - display_width(text))


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def deep_page(rows: int, per_page: int, wanted: int) -> int:
    """Page `wanted` of a list, or its last page when a small --members makes it shorter."""
    return max(1, min(wanted, math.ceil(rows / per_page)))


def seed_members(members: int, *, reuse: bool) -> None:
    """Migrate, collect static files and seed the demo with `members` members (keeping a
    database that holds as many already when `reuse`), then VACUUM ANALYZE: VACUUM sets the
    visibility map that index-only scans (the counts) rely on; a long-running database has
    it from autovacuum, a freshly seeded one does not."""
    from django.core.management import call_command
    from django.db import connection

    from members.models import Member

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    count = Member.objects.count()
    if reuse and count >= members:
        print(f"Reusing the database: {count} members (>= {members}).")
    else:
        missing = members - count if reuse else members
        print(f"Seeding {missing} members ({count} present)...")
        started = time.monotonic()
        call_command("seed_demo", members=missing)
        print(f"Seeded in {time.monotonic() - started:.1f} s.")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def logged_in_clients(usernames) -> dict:
    """A test client per user, logged in with force_login (no password hashing)."""
    from django.test import Client

    from tongzhan.models import User

    clients = {}
    for username in usernames:
        # The default test server name is not in ALLOWED_HOSTS.
        client = Client(SERVER_NAME="localhost")
        client.force_login(User.objects.get(username=username))
        clients[username] = client
    return clients


def time_cases(clients: dict, cases, requests: int, check=None) -> tuple[dict, dict, dict]:
    """Request each (username, scenario name, address) of `cases` WARMUP times, then
    `requests` times round-robin; every answer must be 200 (and pass `check(case, response)`
    when given). Returns per (user, name) the times in ms; the number of queries of one
    request, the slowest one's ms and its SQL; and the CPU ms of this process per request
    (what the Python side costs, whatever else the machine runs meanwhile)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: dict[tuple[str, str], list[float]] = {(user, name): [] for user, name, _url in cases}
    cpu: dict[tuple[str, str], list[float]] = {(user, name): [] for user, name, _url in cases}
    queries = {}
    for case in cases:
        user, name, url = case
        for _ in range(WARMUP):
            response = clients[user].get(url)
            assert response.status_code == 200, (user, url, response.status_code)
            if check is not None:
                check(case, response)
        with CaptureQueriesContext(connection) as captured:
            clients[user].get(url)
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
        queries[(user, name)] = (len(captured), float(slowest["time"]) * 1000, slowest["sql"])

    # Round-robin, so drift (autovacuum, caches) spreads over every scenario alike.
    for _round in range(requests):
        for user, name, url in cases:
            begin, cpu_begin = time.perf_counter(), time.process_time()
            response = clients[user].get(url)
            elapsed = (time.perf_counter() - begin) * 1000
            cpu[(user, name)].append((time.process_time() - cpu_begin) * 1000)
            assert response.status_code == 200, (user, url, response.status_code)
            timings[(user, name)].append(elapsed)
    return timings, queries, cpu


def page_benchmark(
    *, description: str, database_url: str, users, make_cases, goal_ms: float
) -> int:
    """Seed (if needed) and time pages through Django's test client; print the figures.

    `make_cases()` is called once Django is set up and the database seeded, and returns
    (username, scenario name, address) triples; every address must answer 200.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument(
        "--reuse",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep a database that already holds at least --members members (default)",
    )
    options = parser.parse_args()
    setup_django(database_url)

    from django.db import connection

    from members.models import Member

    if connection.vendor != "postgresql":
        print(f"DATABASE_URL must point at PostgreSQL, not {connection.vendor}.", file=sys.stderr)
        return 2

    started = time.monotonic()
    seed_members(options.members, reuse=options.reuse)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    total = Member.objects.count()
    print(f"PostgreSQL {version}; {total} members; setup took {time.monotonic() - started:.1f} s.")

    clients = logged_in_clients(users)
    cases = make_cases()
    width = max(24, *(display_width(name) + 2 for _user, name, _url in cases))
    timings, queries, _cpu = time_cases(clients, cases, options.requests)

    header = (
        f"{'user':<7} {'scenario':<{width}} {'requests':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'queries':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for (user, name), values in timings.items():
        count, _slow, _sql = queries[(user, name)]
        print(
            f"{user:<7} {pad(name, width)} {len(values):>8} {statistics.median(values):>10.1f} "
            f"{percentile(values, 0.95):>8.1f} {count:>8}"
        )
    everything = [value for values in timings.values() for value in values]
    p95 = percentile(everything, 0.95)
    print("-" * len(header))
    print(
        f"{'all':<7} {'':<{width}} {len(everything):>8} {statistics.median(everything):>10.1f} "
        f"{p95:>8.1f}"
    )
    print(f"\nGoal: p95 < {goal_ms} ms — {'met' if p95 < goal_ms else 'NOT met'}.")
    print("\nSlowest query of each scenario (one request):")
    for (user, name), (_count, slow_ms, sql) in queries.items():
        print(f"  {user:<7} {pad(name, width)} {slow_ms:7.1f} ms  {sql[:160]}")
    return 0
