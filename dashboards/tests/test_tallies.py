"""The tallies the services keep are what a full recount finds, after every kind of write."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityTally, ActivityType
from members import services as member_services
from members.imports import roster_import
from members.models import Category, Member, MemberTally
from members.tests.factories import MemberFactory
from members.tests.test_imports import person, roster

pytestmark = pytest.mark.django_db


def tallies() -> set[tuple]:
    members = MemberTally.objects.values_list("community_id", "dimension", "value", "count")
    activities = ActivityTally.objects.values_list(
        "area_id", "month", "type_id", "count", "people_served"
    )
    return set(members) | set(activities)


def last_contacts() -> dict[int, datetime.date | None]:
    return dict(Member.objects.values_list("pk", "last_contact_on"))


def assert_current():
    kept, contacts = tallies(), last_contacts()
    call_command("tally_rebuild", stdout=io.StringIO())
    assert kept == tallies()
    assert contacts == last_contacts()


def test_every_write_keeps_the_tallies_current(areas, street_user, district_user):
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    first, second = MemberFactory(community=qiaodong), MemberFactory(community=wuyier)
    assert_current()
    member_services.member_update(
        actor=None,
        member=first,
        data={"categories": list(Category.objects.filter(slug__in=["religious", "non_party"]))},
    )
    assert_current()
    member_services.member_set_status(
        actor=None, member=second, status="withdrawn", date=timezone.localdate(),
        reason="本人申请",
    )  # fmt: skip
    assert_current()
    member_services.transfer_request(actor=None, member=first, to_community=wuyier, reason="搬家")
    assert_current()
    report = roster_import(
        actor=district_user,
        data=roster(person("王五"), person("赵七", community="五一二社区")),
        filename="花名册.xlsx",
    )
    assert report.created == 2
    assert_current()
    activity = activity_services.activity_create(
        actor=street_user,
        data={"type": ActivityType.objects.get(code="training"), "title": "学习会",
              "starts_at": timezone.now() - datetime.timedelta(days=400), "area": qiaodong},
        participants=[first, second],
    )  # fmt: skip
    assert_current()
    assert ActivityTally.objects.get().count == 1
    activity_services.activity_update(
        actor=street_user,
        activity=activity,
        data={"starts_at": timezone.now(), "area": areas["140106001"], "people_served": 40},
        participants=[first],  # the other no longer took part
    )
    assert_current()
    moved = ActivityTally.objects.get()  # from 桥东一社区 a year ago to the street this month
    assert (moved.area, moved.people_served) == (areas["140106001"], 40)
    visit = activity_services.visit_create(
        actor=street_user,
        data={"community": wuyier, "date": timezone.localdate(), "staff": "王", "way": "home"},
        members=[second],
    )
    assert_current()
    activity_services.visit_update(
        actor=street_user, visit=visit, data={"date": datetime.date(2020, 1, 1)}
    )
    assert_current()
    second.refresh_from_db()
    assert second.last_contact_on == datetime.date(2020, 1, 1)


# Committed for real (the threads have their own connections); the reference data the
# migrations load is put back afterwards for the tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_writes_at_once_in_one_community_both_count(areas):
    """The second write waits for the first to commit and counts on from its result."""
    import threading
    import time

    from django.db import connection, transaction

    from members.services import tally_apply

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write at a time anyway")
    community = areas["140106001001"].pk
    key = (community, MemberTally.Dimension.TOTAL, "")
    MemberTally.objects.create(community_id=community, dimension=key[1], value="", count=5)
    applied, release, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                tally_apply({key: 1})
                applied.set()
                release.wait(10)  # still uncommitted while the second one starts
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    def second():
        try:
            applied.wait(10)
            tally_apply({key: 1})
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the second one is waiting by now
    release.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert MemberTally.objects.get(community_id=community, dimension=key[1]).count == 7
