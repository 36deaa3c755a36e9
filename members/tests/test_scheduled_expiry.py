"""Uploaded rosters and refused-rows files expire on the schedule, with nobody uploading."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks.signals import task_finished

from members.jobs import REFUSED_FILE_DAYS, UNCONFIRMED_DAYS
from members.models import ImportJob
from tongzhan import schedule

from .test_imports import person, roster

pytestmark = pytest.mark.django_db

State = ImportJob.State


class Clock:
    """The time everything reads (`django.utils.timezone.now`), moved forward by the test."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def forward(self, **delta):
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def expiries():
    """How many times the expiry job has run, as the task backend reports it."""
    runs = []

    def receiver(sender, task_result, **kwargs):
        if task_result.args == ["members.jobs_expire"]:
            runs.append(task_result.status)

    task_finished.connect(receiver)
    yield runs
    task_finished.disconnect(receiver)


def upload(client, name, *rows):
    file = io.BytesIO(roster(*rows))
    file.name = name
    client.post(reverse("members:import_create"), {"file": file})
    return ImportJob.objects.get(filename=name)


def test_the_schedule_deletes_old_uploads_and_refused_rows_and_keeps_fresh_ones(
    client, district_user, monkeypatch, expiries
):
    clock = Clock(monkeypatch)
    client.force_login(district_user)
    old = upload(client, "old.xlsx", person("陈一"))
    imported = upload(client, "imported.xlsx", person("陈二"), person("陈三", category="热心群众"))
    client.post(reverse("members:import_confirm", args=[imported.pk]))
    assert schedule.schedule_run_due() and expiries == ["SUCCESSFUL"]

    clock.forward(days=1)
    client.force_login(district_user)
    fresh = upload(client, "fresh.xlsx", person("陈四"))
    clock.forward(days=UNCONFIRMED_DAYS - 1, minutes=1)  # the old upload is a week old
    assert ImportJob.objects.get(pk=old.pk).data is not None  # until the schedule runs
    schedule.schedule_run_due()
    schedule.schedule_run_due()  # triggered twice (two machines): run once
    assert expiries == ["SUCCESSFUL"] * 2
    old.refresh_from_db()
    assert old.state == State.CANCELLED and old.data is None
    assert ImportJob.objects.get(pk=fresh.pk).state == State.CHECKED
    assert ImportJob.objects.get(pk=fresh.pk).data is not None  # six days old: kept
    assert ImportJob.objects.get(pk=imported.pk).refused_file is not None

    clock.forward(days=REFUSED_FILE_DAYS - UNCONFIRMED_DAYS)  # a month after the import
    schedule.schedule_run_due()
    assert expiries == ["SUCCESSFUL"] * 3
    assert ImportJob.objects.get(pk=imported.pk).refused_file is None
    client.force_login(district_user)
    response = client.get(reverse("members:import_refused", args=[imported.pk]))
    assert response.status_code == 404
