"""A little of everything in two districts, for the dashboard and report tests."""

import datetime

import pytest
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType, Need
from members import services as member_services
from members.models import Category, Ethnicity, Member, PoliticalStatus
from members.tests.factories import MemberFactory, id_number_for


def register(community, *, born=1980, sex="M", categories=("intellectual",), **fields):
    return MemberFactory(
        community=community,
        id_number=id_number_for(datetime.date(born, 6, 1), sex=sex),
        categories=list(Category.objects.filter(slug__in=categories)),
        **fields,
    )


@pytest.fixture
def world(areas, street_user, district_user, other_district_user):
    return build_world(areas, street_user, district_user, other_district_user)


def build_world(areas, street_user, district_user, other_district_user):
    """A little of everything in 迎泽区, and some of it in the neighbouring 小店区."""
    today = timezone.localdate()
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    fudong, wucheng = areas["140106002001"], areas["140105001001"]
    hui = Ethnicity.objects.get(code="03")
    minmeng = PoliticalStatus.objects.get(code="05")
    members = [
        register(qiaodong, born=1950, sex="F", is_representative=True),
        register(qiaodong, born=1990, categories=("intellectual", "religious")),  # incomplete
        register(
            qiaodong,
            born=1970,
            ethnicity=hui,
            categories=("ethnic_minority", "democratic_party"),
            political_status=minmeng,
            party_joined_on=datetime.date(2001, 7, 1),
            party_post="支部委员",
        ),
        register(wuyier, born=1985, sex="F"),
        register(wuyier, born=1960, categories=("private_economy",)),  # incomplete
        register(fudong, born=2000),
        register(wucheng, born=1975, is_representative=True),  # another district
    ]
    leaving = register(qiaodong, born=1945)
    member_services.member_set_status(
        actor=None, member=leaving, status=Member.Status.MOVED_OUT, date=today, reason="迁往小店区"
    )
    moving = register(wuyier, born=1988)
    member_services.transfer_request(
        actor=None, member=moving, to_community=fudong, reason="搬家"
    )  # fmt: skip
    kind = ActivityType.objects.get(code="consultation")
    now = timezone.now()
    for actor, area, participants in (
        (street_user, qiaodong, members[:2]),
        (street_user, areas["140106001"], [members[0], members[3]]),  # joint, of the street
        (district_user, areas["140106"], [members[5]]),  # joint, of the district
        (other_district_user, wucheng, [members[6]]),
    ):
        activity_services.activity_create(
            actor=actor,
            data={"type": kind, "title": "座谈会", "starts_at": now, "area": area,
                  "people_served": 30},
            participants=participants,
        )  # fmt: skip
    visit = activity_services.visit_create(
        actor=street_user,
        data={"community": wuyier, "date": today, "staff": "王丽", "way": "home"},
        members=[members[3]],
    )
    # Raised a month ago, before the visit: overdue since three days.
    activity_services.need_create(
        actor=street_user, member=members[3],
        data={"kind": "employment", "description": "找工作",
              "raised_on": today - datetime.timedelta(days=33),
              "due_date": today - datetime.timedelta(days=3)},
    )  # fmt: skip
    resolved = activity_services.need_create(
        actor=street_user, member=members[4], data={"kind": "legal", "description": "合同纠纷"}
    )
    activity_services.need_set_status(
        actor=street_user,
        need=resolved,
        status=Need.Status.RESOLVED,
        resolution="已调解",
        closed_on=today,
    )
    activity_services.need_create(
        actor=other_district_user,
        member=members[6],
        data={"kind": "medical", "description": "就医"},
    )
    return {"members": members, "visit": visit}


def activities_of_every_type(actor, area):
    """Activities of each of the twelve types over the last months, more of the later types,
    one in this month: more types than a stacked chart has colours."""
    today = timezone.localdate()
    now = timezone.now()
    for number, kind in enumerate(ActivityType.objects.order_by("sort_order"), start=1):
        for repeat in range(number):
            # Spread over the three months before this one.
            starts_at = now - datetime.timedelta(days=today.day + 30 * (repeat % 3))
            activity_services.activity_create(
                actor=actor,
                data={"type": kind, "title": kind.name, "starts_at": starts_at, "area": area,
                      "people_served": number},
            )  # fmt: skip
    activity_services.activity_create(
        actor=actor,
        data={"type": ActivityType.objects.get(code="consultation"), "title": "本月座谈",
              "starts_at": now, "area": area},
    )  # fmt: skip
