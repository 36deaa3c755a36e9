"""The nightly tally check: what was written around the services is found, logged and
recounted, and nothing else is touched."""

import datetime
import io
import logging

import pytest
from django.core.management import call_command
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityTally, ActivityType
from activities.services import contacts_stale
from dashboards.tallies import tallies_check
from members.models import Member, MemberTally
from members.tests.factories import MemberFactory
from tongzhan import schedule

pytestmark = pytest.mark.django_db

D = MemberTally.Dimension


def tallies() -> set[tuple]:
    members = MemberTally.objects.values_list("community_id", "dimension", "value", "count")
    activities = ActivityTally.objects.values_list(
        "area_id", "month", "type_id", "count", "people_served"
    )
    return set(members) | set(activities)


@pytest.fixture
def counted(areas, street_user):
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    first, second = MemberFactory(community=qiaodong), MemberFactory(community=wuyier)
    MemberFactory(community=wuyier)
    MemberFactory(community=areas["140106002001"])  # 府东一社区, which nothing will change
    activity_services.activity_create(
        actor=street_user,
        data={"type": ActivityType.objects.get(code="training"), "title": "学习会",
              "starts_at": timezone.now(), "area": qiaodong, "people_served": 12},
        participants=[first, second],
    )  # fmt: skip
    before = tallies()
    call_command("tally_rebuild", stdout=io.StringIO())
    assert tallies() == before  # the services kept them current
    return before


def test_nothing_differs_nothing_is_written(counted, django_assert_max_num_queries):
    # A count per dimension and kind (people not yet told: the twelfth dimension), three per
    # 20,000 members for last contacts: no write.
    with django_assert_max_num_queries(24):
        assert tallies_check() == []
    assert tallies() == counted


def test_tallies_changed_around_the_services_are_logged_and_recounted(counted, areas, caplog):
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    # Written around the services: a tally raised, one deleted, a member's flag and a month.
    MemberTally.objects.filter(community=wuyier, dimension=D.TOTAL).update(count=7)
    MemberTally.objects.filter(community=qiaodong, dimension=D.SEX).delete()
    flagged = Member.objects.get(community=qiaodong)
    Member.objects.filter(pk=flagged.pk).update(incomplete=not flagged.incomplete)
    ActivityTally.objects.update(people_served=99)
    contacted = Member.objects.get(community=wuyier, last_contact_on__isnull=False)
    Member.objects.filter(pk=contacted.pk).update(last_contact_on=datetime.date(2020, 5, 1))
    assert contacts_stale(chunk=1) == contacts_stale() == [contacted.pk]  # any id range
    untouched = MemberTally.objects.get(community=areas["140106002001"], dimension=D.TOTAL)

    with caplog.at_level(logging.WARNING, logger="dashboards.tallies"):
        differences = tallies_check()

    found = {(d.kind, d.key, d.stored, d.counted) for d in differences}
    assert ("member", (wuyier.pk, D.TOTAL, ""), 7, 2) in found
    assert any(
        kind == "member" and key[:2] == (qiaodong.pk, D.SEX) and stored == 0
        for kind, key, stored, _counted in found
    )
    assert ("completeness", (), 1, None) in found
    assert Member.objects.get(pk=flagged.pk).incomplete == flagged.incomplete
    assert ("last_contact", (contacted.pk,), 1, None) in found
    assert Member.objects.get(pk=contacted.pk).last_contact_on == contacted.last_contact_on
    month = timezone.localdate().replace(day=1)
    training = ActivityType.objects.get(code="training").pk
    assert ("activity", (qiaodong.pk, month, training), (1, 99), (1, 12)) in found
    assert len(caplog.records) == len(differences)
    assert "held 7, counted 2" in caplog.text
    assert tallies() == counted  # repaired
    # Only the communities that differed were recounted: another's rows were left in place.
    assert MemberTally.objects.get(pk=untouched.pk).count == 1
    assert tallies_check() == []


def test_the_check_runs_each_night(counted, areas, monkeypatch):
    wuyier = areas["140106001002"]
    MemberTally.objects.filter(community=wuyier, dimension=D.TOTAL).update(count=7)
    monkeypatch.setattr(
        schedule,
        "_periodic",
        {"dashboards.tallies_check": schedule._periodic["dashboards.tallies_check"]},
    )
    evening = timezone.make_aware(datetime.datetime(2026, 3, 2, 22))
    assert schedule.schedule_run_due(now=evening) == []
    assert MemberTally.objects.get(community=wuyier, dimension=D.TOTAL).count == 7
    night = timezone.make_aware(datetime.datetime(2026, 3, 3, 2, 31))
    assert schedule.schedule_run_due(now=night) == ["dashboards.tallies_check"]
    assert MemberTally.objects.get(community=wuyier, dimension=D.TOTAL).count == 2


def test_after_a_restore_the_log_names_the_first_differences_and_counts_the_rest(
    counted, caplog, monkeypatch
):
    from dashboards import tallies as check

    monkeypatch.setattr(check, "LOGGED", 1)
    MemberTally.objects.filter(dimension=D.TOTAL).update(count=9)  # both communities
    with caplog.at_level(logging.WARNING, logger="dashboards.tallies"):
        assert len(tallies_check()) == 3
    assert caplog.text.count("held 9") == 1
    assert "2 more tallies differed and were recounted" in caplog.text
    assert tallies() == counted
