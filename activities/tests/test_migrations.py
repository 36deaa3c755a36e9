"""Needs recorded before they kept their raising day get one, and the open ones a handler and
due date, as a need raised now does (migration 0004)."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """The schema back at the latest migrations afterwards: later tests use its columns
    (`Need.held_by` came after 0004)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


BEFORE = [("activities", "0003_activitytally")]
AFTER = [("activities", "0004_need_raised_on_and_notes")]


def test_older_needs_get_their_raising_day_handler_and_due_date(community_user, member):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Visit, Need = old.get_model("activities", "Visit"), old.get_model("activities", "Need")
    visit = Visit.objects.create(
        community_id=member.community_id,
        date=datetime.date(2026, 3, 2),
        staff="李强",
        created_by_id=community_user.pk,
    )
    common = {"member_id": member.pk, "community_id": member.community_id, "kind": "other",
              "description": "x", "created_by_id": community_user.pk}  # fmt: skip
    on_visit = Need.objects.create(visit=visit, **common)
    alone = Need.objects.create(**common)
    closed = Need.objects.create(
        status="resolved", resolution="已办", closed_on=datetime.date(2026, 3, 9), **common
    )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("activities", "Need")
    on_visit, alone, closed = (new.objects.get(pk=need.pk) for need in (on_visit, alone, closed))
    assert (on_visit.raised_on, on_visit.handler) == (datetime.date(2026, 3, 2), "李强")
    assert on_visit.due_date == datetime.date(2026, 4, 1)
    assert alone.handler == "王丽" and alone.due_date == alone.raised_on + datetime.timedelta(30)
    # A closed need keeps what it had: whether it was on time does not change.
    assert (closed.handler, closed.due_date) == ("", None)
