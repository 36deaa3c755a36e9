"""Time the member list page (/members/) on PostgreSQL with a district's worth of members.

Run from the repository root:

    .venv/bin/python benchmarks/member_list.py [--members 200000] [--requests 200] [--no-reuse]

It migrates the database named by DATABASE_URL (default: the local `tongzhan_bench`), seeds it
with `seed_demo` up to N members unless it already holds that many, runs VACUUM ANALYZE, then
requests the list through Django's test client as a district user and as a community user,
with the filters people use. See benchmarks/README.md.
"""

import sys

import common  # noqa: E402  (benchmarks/ is the script's folder)

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
    ("page {page}, unfiltered", "page={page}"),
]
DEEP_PAGE = 50  # "page {page}": this one, or the last at a smaller --members
USERS = ["quwei", "shequ"]  # the district officer (迎泽区) and a community worker (桥东一社区)


def cases() -> list[tuple[str, str, str]]:
    from django.conf import settings

    from members.models import Member
    from tongzhan.models import User

    result = []
    for username in USERS:
        registered = Member.objects.visible_to(User.objects.get(username=username)).filter(
            status=Member.Status.ACTIVE
        )
        page = common.deep_page(registered.count(), settings.MEMBER_LIST_PAGE_SIZES[0], DEEP_PAGE)
        result += [
            (username, name.format(page=page), f"/members/?{query.format(page=page)}")
            for name, query in SCENARIOS
        ]
    return result


if __name__ == "__main__":
    sys.exit(
        common.page_benchmark(
            description=__doc__.split("\n\n")[0],
            database_url=DEFAULT_DATABASE_URL,
            users=USERS,
            make_cases=cases,
            goal_ms=GOAL_P95_MS,
        )
    )
