"""Time the district and a street dashboard on PostgreSQL at province scale.

Run from the repository root:

    .venv/bin/python benchmarks/dashboards.py [--members 1000000] [--requests 200]

Its own database (`tongzhan_dash`): `seed_demo --members 1000000` adds five activity
participations per member, with activities, visits and needs in proportion (5,000,000
participations), then recounts the dashboards' tallies. Times the home page of the district
officer (迎泽区, every member) and of a street officer (柳巷街道) through Django's test
client. See benchmarks/README.md.
"""

import sys

import common  # noqa: E402  (benchmarks/ is the script's folder)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_dash"
GOAL_P95_MS = 200
USERS = ["quwei", "jiedao"]  # the district officer (迎泽区) and a street officer (柳巷街道)


def cases() -> list[tuple[str, str, str]]:
    return [
        ("quwei", "district dashboard", "/"),
        ("jiedao", "street dashboard", "/"),
    ]


if __name__ == "__main__":
    if "--members" not in sys.argv:
        sys.argv[1:1] = ["--members", "1000000"]
    sys.exit(
        common.page_benchmark(
            description=__doc__.split("\n\n")[0],
            database_url=DEFAULT_DATABASE_URL,
            users=USERS,
            make_cases=cases,
            goal_ms=GOAL_P95_MS,
        )
    )
