"""Which records are due for anonymisation, who sees them, and their approval."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from members.models import MemberChange
from privacy import services
from privacy.models import Anonymisation, Approval
from tongzhan.models import AuditEvent

from .conftest import leaver, years_ago

pytestmark = pytest.mark.django_db


def names(members):
    return {member.name for member in members}


def test_only_records_past_their_period_are_due_and_only_in_the_users_area(
    leavers, district_user, other_district_user, admin_user
):
    due = services.members_due(district_user)
    assert names(due) == {leavers[key].name for key in ("moved_out", "deceased", "withdrawn")}
    assert names(services.members_due(other_district_user)) == {leavers["far"].name}
    assert len(services.members_due(admin_user)) == 4
    # Counted from the day she left, whatever the day the change was written.
    assert {member.pk: member.left_on for member in due}[leavers["withdrawn"].pk] == years_ago(5)


def test_the_periods_come_from_the_settings(leavers, district_user, settings):
    settings.RETENTION_YEARS = {"moved_out": 5, "deceased": 1, "withdrawn": 6}
    assert names(services.members_due(district_user)) == {leavers["deceased"].name}


def test_without_a_status_date_the_day_of_the_status_change_counts(areas, district_user):
    member = leaver(areas["140106001001"], left=years_ago(0))
    member.__class__.objects.filter(pk=member.pk).update(status_date=None)
    MemberChange.objects.filter(member=member, action="status").update(
        at=member.created_at.replace(year=member.created_at.year - 4)
    )
    assert list(services.members_due(district_user)) == [member]


def test_the_list_counts_per_community_and_pages(client, leavers, district_user, areas):
    client.force_login(district_user)
    page = client.get(reverse("privacy:due"))
    assert page.status_code == 200
    counts = [(row["community"].name, row["count"]) for row in page.context["by_community"]]
    assert counts == [("桥东一社区", 2), ("五一二社区", 1)]
    assert names(page.context["members"]) == names(services.members_due(district_user))
    one = client.get(reverse("privacy:due"), {"community": "140106001002"})
    assert names(one.context["members"]) == {leavers["deceased"].name}
    # Another district's community is not a choice: a message by the field, no rows.
    other = client.get(reverse("privacy:due"), {"community": "140105001001"})
    assert list(other.context["members"]) == [] and other.context["form"].errors


def test_approving_the_chosen_records_shows_them_first_then_records_who_and_which(
    client, leavers, district_user
):
    client.force_login(district_user)
    chosen = [leavers["moved_out"].pk, leavers["deceased"].pk]
    page = client.post(reverse("privacy:approve"), {"member": chosen})
    assert page.status_code == 200 and "confirm.html" in [t.name for t in page.templates]
    assert leavers["moved_out"].name in page.content.decode()
    assert not Approval.objects.exists()  # nothing before the confirmation
    done = client.post(reverse("privacy:approve"), {"member": chosen, "confirmed": "1"})
    approval = Approval.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "privacy:approval", args=[approval.pk]
    )
    assert approval.approved_by == district_user and approval.area == district_user.area
    assert sorted(approval.items.values_list("member_id", flat=True)) == sorted(chosen)
    assert set(approval.items.values_list("state", flat=True)) == {"approved"}
    line = AuditEvent.objects.get(object_type="privacy.approval")
    assert line.username == "erin" and line.detail["members"] == sorted(chosen)
    # Approved records leave the list of those due; the other stays.
    assert names(services.members_due(district_user)) == {leavers["withdrawn"].name}
    detail = client.get(reverse("privacy:approval", args=[approval.pk]))
    assert leavers["deceased"].name in detail.content.decode()


def test_approving_every_record_due(client, leavers, district_user):
    client.force_login(district_user)
    page = client.post(reverse("privacy:approve"), {"all": "1", "expected": "3"})
    assert page.status_code == 200
    client.post(reverse("privacy:approve"), {"all": "1", "expected": "3", "confirmed": "1"})
    approval = Approval.objects.get()
    assert approval.all_due and approval.items.count() == 3
    assert not services.members_due(district_user).exists()


def test_a_list_changed_meanwhile_approves_nothing(leavers, district_user):
    with pytest.raises(ValidationError):
        services.approval_create(actor=district_user, all_due=True, expected=4)
    assert not Approval.objects.exists()


def test_records_not_due_or_of_another_area_are_refused(client, leavers, district_user):
    for key in ("recent", "active", "far"):
        with pytest.raises(ValidationError):
            services.approval_create(
                actor=district_user, member_ids=[leavers["moved_out"].pk, leavers[key].pk]
            )
    client.force_login(district_user)
    for confirmed in ({}, {"confirmed": "1"}):
        response = client.post(
            reverse("privacy:approve"), {"member": [leavers["far"].pk], **confirmed}
        )
        assert response.status_code == 302 and response["Location"] == reverse("privacy:due")
    assert not Anonymisation.objects.exists()


def test_a_record_is_approved_once(leavers, district_user):
    services.approval_create(actor=district_user, member_ids=[leavers["moved_out"].pk])
    with pytest.raises(ValidationError):
        services.approval_create(actor=district_user, member_ids=[leavers["moved_out"].pk])
    assert Anonymisation.objects.count() == 1


@pytest.mark.parametrize("who", ["community_user", "neighbour_user", "street_user"])
def test_only_the_district_sees_and_approves(client, leavers, who, request):
    user = request.getfixturevalue(who)
    client.force_login(user)
    for name in ("privacy:retention", "privacy:due"):
        assert client.get(reverse(name)).status_code == 403
    response = client.post(
        reverse("privacy:approve"), {"member": [leavers["moved_out"].pk], "confirmed": "1"}
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.approval_create(actor=user, member_ids=[leavers["moved_out"].pk])
    assert not Approval.objects.exists()


def test_another_districts_approval_is_not_found(client, leavers, district_user,
                                                 other_district_user):  # fmt: skip
    approval = services.approval_create(actor=district_user, member_ids=[leavers["moved_out"].pk])
    client.force_login(other_district_user)
    assert client.get(reverse("privacy:approval", args=[approval.pk])).status_code == 404
    assert client.get(reverse("privacy:retention")).context["rows"] == []


def test_the_retention_page_shows_the_periods(client, leavers, district_user, settings):
    settings.RETENTION_YEARS = {"moved_out": 3, "deceased": 2, "withdrawn": 4}
    client.force_login(district_user)
    page = client.get(reverse("privacy:retention"))
    assert [(row["status"], row["years"]) for row in page.context["periods"]] == [
        ("迁出", 3), ("去世", 2), ("退出", 4)
    ]  # fmt: skip
    assert page.context["due_count"] == 2


def test_the_list_reads_a_fixed_number_of_queries(
    client, areas, district_user, django_assert_max_num_queries
):
    client.force_login(district_user)
    for _index in range(3):
        leaver(areas["140106001001"])
    client.get(reverse("privacy:due"))  # the session and the user, loaded once
    with django_assert_max_num_queries(15) as captured:
        client.get(reverse("privacy:due"))
    few = len(captured)
    for _index in range(5):
        leaver(areas["140106001002"])
    with django_assert_max_num_queries(few):
        assert len(client.get(reverse("privacy:due")).context["members"]) == 8
