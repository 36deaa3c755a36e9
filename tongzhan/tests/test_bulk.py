import pytest

from tongzhan.bulk import insert_objects, insert_rows
from tongzhan.models import Area, AuditEvent

pytestmark = pytest.mark.django_db


def test_inserted_objects_get_their_keys_and_values(areas):
    events = [AuditEvent(action="export", username=f"u{i}", detail={"n": i}) for i in range(3)]
    insert_objects(AuditEvent, events)
    assert all(event.pk for event in events)
    stored = {event.pk: event for event in AuditEvent.objects.all()}
    assert [stored[event.pk].detail for event in events] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(stored[event.pk].at is not None for event in events)
    # The sequence moved on: an ordinary insert afterwards does not collide.
    Area.objects.create(code="140106003", name="新街道", level="street", parent=areas["140106"])
    AuditEvent.objects.create(action="export", username="after")
    assert AuditEvent.objects.count() == 4


def test_plain_rows_are_inserted(member):
    from members.models import Category, MemberCategory

    religious = Category.objects.get(slug="religious")
    insert_rows(MemberCategory, ["member_id", "category_id"], [(member.pk, religious.pk)])
    assert religious in member.categories.all()
