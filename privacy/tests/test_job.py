"""The daily job: enqueued by the schedule as a background task, it anonymises what the district
approved, each record in its own transaction, and leaves the rest."""

import datetime

import pytest
from django.utils import timezone

from members.models import Member
from privacy import services
from privacy.models import Anonymisation
from tongzhan import schedule
from tongzhan.models import AuditEvent

from .conftest import leaver, years_ago

pytestmark = pytest.mark.django_db


def test_the_job_is_registered_daily():
    job = {job.name: job for job in schedule.periodic_jobs()}["privacy.anonymisations_run"]
    assert job.at == datetime.time(3, 40) and job.every is None
    assert job.job is services.anonymisations_run


def test_the_schedule_runs_it_as_a_task_and_it_anonymises_only_what_was_approved(
    leavers, district_user
):
    services.approval_create(
        actor=district_user, member_ids=[leavers["moved_out"].pk, leavers["deceased"].pk]
    )
    # Due at 03:40 after the first run of the schedule: the runner enqueues it then.
    schedule.schedule_run_due()
    tomorrow = timezone.now() + datetime.timedelta(days=1, hours=1)
    assert "privacy.anonymisations_run" in schedule.schedule_run_due(now=tomorrow)
    anonymised = set(
        Member.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True)
    )
    assert anonymised == {leavers["moved_out"].pk, leavers["deceased"].pk}
    # Due but not approved: left as it is.
    leavers["withdrawn"].refresh_from_db()
    assert leavers["withdrawn"].anonymised_at is None
    assert set(Anonymisation.objects.values_list("state", flat=True)) == {"done"}
    lines = AuditEvent.objects.filter(action="delete", object_type="members.member")
    assert sorted(int(line.object_id) for line in lines) == sorted(anonymised)
    assert all(line.actor is None and line.detail["anonymised"] for line in lines)


def test_one_record_failing_leaves_it_approved_and_the_others_done(
    leavers, district_user, monkeypatch
):
    services.approval_create(
        actor=district_user, member_ids=[leavers["moved_out"].pk, leavers["withdrawn"].pk]
    )
    real = services.member_anonymise

    def failing(member, **kwargs):
        if member.pk == leavers["moved_out"].pk:
            Member.objects.filter(pk=member.pk).update(name="半途")
            raise RuntimeError("disk full")
        return real(member, **kwargs)

    monkeypatch.setattr(services, "member_anonymise", failing)
    assert services.anonymisations_run() == 1
    states = dict(Anonymisation.objects.values_list("member_id", "state"))
    assert states == {leavers["moved_out"].pk: "approved", leavers["withdrawn"].pk: "done"}
    # Her transaction was rolled back whole: nothing half done.
    leavers["moved_out"].refresh_from_db()
    assert leavers["moved_out"].name != "半途" and leavers["moved_out"].anonymised_at is None
    # The next run takes her up.
    monkeypatch.setattr(services, "member_anonymise", real)
    assert services.anonymisations_run() == 1


def test_a_period_lengthened_after_the_approval_leaves_the_record(areas, district_user, settings):
    member = leaver(areas["140106001001"], left=years_ago(3, days=10))
    services.approval_create(actor=district_user, member_ids=[member.pk])
    settings.RETENTION_YEARS = {**settings.RETENTION_YEARS, "moved_out": 5}
    assert services.anonymisations_run() == 0
    assert Anonymisation.objects.get().state == "skipped"
    # No longer approved: due again once the longer period passes.
    member.refresh_from_db()
    assert member.anonymised_at is None
    assert services.members_due(district_user, today=years_ago(-3)).filter(pk=member.pk).exists()
