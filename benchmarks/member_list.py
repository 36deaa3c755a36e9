"""Time the member list page (/members/) on PostgreSQL with a district's worth of members.

Run from the repository root:

    .venv/bin/python benchmarks/member_list.py [--members 200000] [--requests 200] [--no-reuse]

It migrates the database named by DATABASE_URL (default: the local `tongzhan_bench`), seeds it
with `seed_demo` up to N members unless it already holds that many, runs VACUUM ANALYZE, then
requests the list through Django's test client as a district user and as a community user,
with the filters people use. See benchmarks/README.md.
"""

import argparse
import math
import statistics
import sys
import time
import unicodedata
from pathlib import Path

import common  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_bench"
GOAL_P95_MS = 150

# Scenario name and query string. Parameter names are those of members/filters.py
# (MemberFilterSet); codes are the national-standard codes of members/reference.py.
SCENARIOS = [
    ("unfiltered", ""),
    ("category 06 非公经济", "category=06"),
    ("name search q=王", "q=王"),
    ("age 40-60", "age_min=40&age_max=60"),
    ("political status 05 民盟", "political_status=05"),
    ("page 50, unfiltered", "page=50"),
]
USERS = ["quwei", "shequ"]  # the district officer (迎泽区) and a community worker (桥东一社区)
WARMUP = 3


def setup_django() -> None:
    common.setup_django(DEFAULT_DATABASE_URL)


def pad(text: str, width: int) -> str:
    """Left-align for a terminal, where a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(0, width - shown)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument(
        "--reuse",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep a database that already holds at least --members members (default)",
    )
    options = parser.parse_args()
    setup_django()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from members.models import Member
    from tongzhan.models import User

    if connection.vendor != "postgresql":
        print(f"DATABASE_URL must point at PostgreSQL, not {connection.vendor}.", file=sys.stderr)
        return 2

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    count = Member.objects.count()
    if options.reuse and count >= options.members:
        print(f"Reusing the database: {count} members (>= {options.members}).")
    else:
        missing = options.members - count if options.reuse else options.members
        print(f"Seeding {missing} members ({count} present)...")
        seed_started = time.monotonic()
        call_command("seed_demo", members=missing)
        print(f"Seeded in {time.monotonic() - seed_started:.1f} s.")
    with connection.cursor() as cursor:
        # VACUUM too: it sets the visibility map that index-only scans (the counts) rely on;
        # a long-running database has it from autovacuum, a freshly seeded one does not.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    total = Member.objects.count()
    print(f"PostgreSQL {version}; {total} members; setup took {time.monotonic() - started:.1f} s.")

    # The default test server name is not in ALLOWED_HOSTS.
    clients = {}
    for username in USERS:
        client = Client(SERVER_NAME="localhost")
        client.force_login(User.objects.get(username=username))
        clients[username] = client

    cases = [
        (username, name, f"/members/?{query}") for username in USERS for name, query in SCENARIOS
    ]
    timings: dict[tuple[str, str], list[float]] = {(user, name): [] for user, name, _url in cases}
    queries = {}
    for user, name, url in cases:
        for _ in range(WARMUP):
            response = clients[user].get(url)
            assert response.status_code == 200, (user, url, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            clients[user].get(url)
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
        queries[(user, name)] = (len(captured), float(slowest["time"]) * 1000, slowest["sql"])

    # Round-robin, so drift (autovacuum, caches) spreads over every scenario alike.
    for _round in range(options.requests):
        for user, name, url in cases:
            begin = time.perf_counter()
            response = clients[user].get(url)
            elapsed = (time.perf_counter() - begin) * 1000
            assert response.status_code == 200, (user, url, response.status_code)
            timings[(user, name)].append(elapsed)

    header = (
        f"{'user':<7} {'scenario':<26} {'requests':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'queries':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for (user, name), values in timings.items():
        count, _slow, _sql = queries[(user, name)]
        print(
            f"{user:<7} {pad(name, 26)} {len(values):>8} {statistics.median(values):>10.1f} "
            f"{percentile(values, 0.95):>8.1f} {count:>8}"
        )
    everything = [value for values in timings.values() for value in values]
    p95 = percentile(everything, 0.95)
    print("-" * len(header))
    print(
        f"{'all':<7} {'':<26} {len(everything):>8} {statistics.median(everything):>10.1f} "
        f"{p95:>8.1f}"
    )
    print(f"\nGoal: p95 < {GOAL_P95_MS} ms — {'met' if p95 < GOAL_P95_MS else 'NOT met'}.")
    print("\nSlowest query of each scenario (one request):")
    for (user, name), (_count, slow_ms, sql) in queries.items():
        print(f"  {user:<7} {pad(name, 26)} {slow_ms:7.1f} ms  {sql[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
