"""Time the activity list and a member's timeline on PostgreSQL at district scale.

Run from the repository root:

    .venv/bin/python benchmarks/activity_pages.py [--members 200000] [--requests 200]

The same database and seeding as member_list.py (`tongzhan_bench`; `seed_demo` adds five
activity participations per member, so 1,000,000 for 200,000 members, with activities,
visits and needs in proportion), then the pages people open, through Django's test client,
as the district officer and a community worker. See benchmarks/README.md.
"""

import sys

import common  # noqa: E402  (benchmarks/ is the script's folder)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_bench"
GOAL_P95_MS = 150

# Scenario name and address. Filter names are those of activities/filters.py; the member page
# and its timeline (which the page fetches) are those of the member of 桥东一社区 with the most
# activities (found at setup).
SCENARIOS = [
    ("activities, unfiltered", "/activities/"),
    ("activities, type 义诊", "/activities/?type=free_clinic"),
    ("activities, one month", "/activities/?start=2026-03-01&end=2026-03-31"),
    ("activities, page {page}", "/activities/?page={page}"),
    ("activities, month view", "/activities/month/?month=2026-03"),
    ("needs, open", "/activities/needs/"),
    ("member page", "/members/{member}/"),
    ("member timeline", "/activities/members/{member}/timeline/"),
]
DEEP_PAGE = 20  # "page {page}": this one, or the last at a smaller --members
USERS = ["quwei", "shequ"]  # the district officer (迎泽区) and a community worker (桥东一社区)


def cases() -> list[tuple[str, str, str]]:
    from django.db.models import Count

    from activities.models import Activity, Participation
    from activities.views import ActivityListView
    from tongzhan.models import User

    busiest = (
        Participation.objects.filter(member__community__code="140106001001")
        .values("member")
        .annotate(count=Count("id"))
        .order_by("-count")
        .first()
    )
    print(f"Timeline of member {busiest['member']}: {busiest['count']} activities.")
    print(f"Participations: {Participation.objects.count()}.")
    result = []
    for username in USERS:
        activities = Activity.objects.visible_to(User.objects.get(username=username)).count()
        values = {
            "member": busiest["member"],
            "page": common.deep_page(activities, ActivityListView.paginate_by, DEEP_PAGE),
        }
        result += [
            (username, name.format(**values), address.format(**values))
            for name, address in SCENARIOS
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
