"""Time the activity list and a member's timeline on PostgreSQL at district scale.

Run from the repository root:

    .venv/bin/python benchmarks/activity_pages.py [--members 200000] [--requests 200]

The same database and seeding as member_list.py (`tongzhan_bench`; `seed_demo` adds five
activity participations per member, so 1,000,000 for 200,000 members, with activities,
visits and needs in proportion), then the pages people open, through Django's test client,
as the district officer and a community worker. See benchmarks/README.md.
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

# Scenario name and address. Filter names are those of activities/filters.py; "timeline" is
# the member page of the member of 桥东一社区 with the most activities (found at setup).
SCENARIOS = [
    ("activities, unfiltered", "/activities/"),
    ("activities, type 义诊", "/activities/?type=free_clinic"),
    ("activities, one month", "/activities/?start=2026-03-01&end=2026-03-31"),
    ("activities, page 20", "/activities/?page=20"),
    ("activities, month view", "/activities/month/?month=2026-03"),
    ("needs, open", "/activities/needs/"),
    ("member timeline", "/members/{member}/"),
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

    from django.db.models import Count

    from activities.models import Participation

    busiest = (
        Participation.objects.filter(member__community__code="140106001001")
        .values("member")
        .annotate(count=Count("id"))
        .order_by("-count")
        .first()
    )
    print(f"Timeline of member {busiest['member']}: {busiest['count']} activities.")
    print(f"Participations: {Participation.objects.count()}.")
    cases = [
        (username, name, address.format(member=busiest["member"]))
        for username in USERS
        for name, address in SCENARIOS
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
        f"{'user':<7} {'scenario':<24} {'requests':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'queries':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for (user, name), values in timings.items():
        count, _slow, _sql = queries[(user, name)]
        print(
            f"{user:<7} {pad(name, 24)} {len(values):>8} {statistics.median(values):>10.1f} "
            f"{percentile(values, 0.95):>8.1f} {count:>8}"
        )
    everything = [value for values in timings.values() for value in values]
    p95 = percentile(everything, 0.95)
    print("-" * len(header))
    print(
        f"{'all':<7} {'':<24} {len(everything):>8} {statistics.median(everything):>10.1f} "
        f"{p95:>8.1f}"
    )
    print(f"\nGoal: p95 < {GOAL_P95_MS} ms — {'met' if p95 < GOAL_P95_MS else 'NOT met'}.")
    print("\nSlowest query of each scenario (one request):")
    for (user, name), (_count, slow_ms, sql) in queries.items():
        print(f"  {user:<7} {pad(name, 24)} {slow_ms:7.1f} ms  {sql[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
