"""Time the talent search and the match page on PostgreSQL, 50,000 resources in a district.

Run from the repository root:

    .venv/bin/python benchmarks/resources_pages.py [--members 1000000] [--requests 200]

Its own database (`tongzhan_resources`), seeded by `seed_demo` like the others (a member in
five has an expertise, professional title or industry to search). Then 50,000 resources are
added to 迎泽区, spread over the district, its streets and its communities, a third offered
by members of their area and the others by the demo's organisations, one in four also
serving another area; the match page's community need is recorded through the service.
The resources are bulk-created for volume, as seed_demo creates its members: through the
service each would write an audit line, a day of it for 50,000. Issue 17 asks for p95
under 150 ms at 1,000,000 members. See benchmarks/README.md.
"""

import datetime
import random
import sys
import time

import common  # noqa: E402  (benchmarks/ is the script's folder)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_resources"
GOAL_P95_MS = 150
USERS = ["quwei", "jiedao", "shequ"]  # district 迎泽区, street 柳巷街道, community 桥东一社区
DISTRICT_CODE = "140106"
RESOURCES = 50_000
SEED = 2026
# Typical words of the talent search: two-character ones (the usual), a longer one, two words.
WORDS = ["法律", "工程师", "心理咨询", "会计 师"]
MARKER = "基准资源"  # the bulk-created resources' titles start with it
SERVICES = ["medical", "legal", "education", "technology", "psychology"]
KINDS = ["jobs", "funds", "venue", "goods", "project", "talent"]


def _resources() -> int:
    """Add the resources once; how many were added now."""
    from members.models import Member
    from organisations.models import Organisation
    from resources.models import Resource, ResourceArea
    from tongzhan.models import Area, User

    if Resource.objects.filter(title__startswith=MARKER).exists():
        return 0
    rng = random.Random(SEED)
    quwei = User.objects.get(username="quwei")
    district = quwei.area
    areas = list(
        Area.objects.current()
        .within(district)
        .filter(level__in=["district", "street", "community"])
    )
    streets = [area for area in areas if area.level == "street"]
    organisations = list(Organisation.objects.values_list("pk", flat=True))
    if not organisations:
        raise SystemExit("The demo has no organisation to offer resources.")
    # Members of each community, a few hundred each, to offer resources there.
    offering = {}
    for area in areas:
        if area.level == "community":
            offering[area.pk] = list(
                Member.objects.filter(community=area).values_list("pk", flat=True)[:300]
            )
    today = datetime.date.today()
    until = [None, *(today + datetime.timedelta(days=days) for days in range(-60, 365, 5))]
    rows = []
    for number in range(RESOURCES):
        area = rng.choice(areas)
        kind = "service" if rng.random() < 0.5 else rng.choice(KINDS)
        members = offering.get(area.pk)
        member = rng.choice(members) if members and rng.random() < 0.33 else None
        rows.append(
            Resource(
                title=f"{MARKER}{number + 1}", kind=kind,
                service=rng.choice(SERVICES) if kind == "service" else "",
                member_id=member,
                organisation_id=None if member else rng.choice(organisations),
                description="", capacity=rng.choice([None, 1, 3, 5, 10, 20]),
                valid_until=rng.choice(until),
                area=area, recorded_by=quwei,
            )
        )  # fmt: skip
    Resource.objects.bulk_create(rows, batch_size=5000)
    served = [
        ResourceArea(resource=resource, area=rng.choice(streets))
        for resource in rows
        if rng.random() < 0.25 and resource.area.level == "community"
    ]
    ResourceArea.objects.bulk_create(served, batch_size=5000, ignore_conflicts=True)
    return len(rows)


def _needs():
    """A member's open need and a community need, both of 桥东一社区 (shequ's)."""
    from activities.models import Need
    from resources import services
    from resources.models import CommunityNeed
    from tongzhan.models import User

    shequ = User.objects.get(username="shequ")
    need = (
        Need.objects.visible_to(shequ).open().filter(kind="legal").first()
        or Need.objects.visible_to(shequ).open().first()
    )
    community_need = CommunityNeed.objects.filter(area=shequ.area, status="open").first()
    if community_need is None:
        community_need = services.community_need_create(
            actor=shequ,
            data={"area": shequ.area, "kind": "service", "service": "legal",
                  "description": "法律咨询志愿者", "quantity": 2, "due_date": None},
        )  # fmt: skip
    return need, community_need


def cases() -> list[tuple[str, str, str]]:
    from urllib.parse import urlencode

    from django.conf import settings
    from django.db import connection

    from members.models import Member
    from tongzhan.models import User

    started = time.monotonic()
    added = _resources()
    if added:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    need, community_need = _needs()
    print(f"{added} resources added now; prepared in {time.monotonic() - started:.1f} s.")
    # The floor: the same page with nothing asked (the page's frame, the user, the menu's
    # counts, no member read), to read the others against on a machine of varying speed.
    found = [(user, "talent page, nothing asked", "/resources/talent/") for user in USERS]
    for user, level in zip(USERS, ["district", "street", "community"], strict=True):
        for word in WORDS:
            found.append(
                (
                    user,
                    f"talent 「{word}」, {level}",
                    f"/resources/talent/?{urlencode({'q': word})}",
                )
            )
    found.append(("quwei", "talent 「法律」+ doctorate", "/resources/talent/?q=法律&education=11"))
    # The last page a search lists when it finds more than it ranks (the walk's deepest);
    # at a tiny size the word is ranked and has fewer pages.
    ranked = settings.TALENT_RANKED_AT_MOST
    matched = (
        Member.objects.visible_to(User.objects.get(username="quwei"))
        .filter(status=Member.Status.ACTIVE)
        .talent_search("工程师")
        .values("pk")[: ranked + 1]
        .count()
    )
    last = -(-min(matched, ranked) // 25)
    if last > 1:
        deepest = f"/resources/talent/?q=工程师&page={last}"
        found.append(("quwei", f"talent 「工程师」 page {last}", deepest))
    for user in USERS:
        if need is not None:
            found.append(
                (user, "match page, member's need", f"/resources/member-needs/{need.pk}/match/")
            )
        found.append(
            (user, "match page, community need", f"/resources/needs/{community_need.pk}/match/")
        )
    return found


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
