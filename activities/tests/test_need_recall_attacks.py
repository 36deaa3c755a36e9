"""What an attacker (or an unlucky moment) tries against taking a referral back (撤回,
`need_recall`): someone other than the area that referred it, a GET or a forged POST, the
area above accepting it at the same moment, an edit of the need racing the recall, and the
referring community merged away meanwhile."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Need
from conftest import _user
from tongzhan.models import AuditEvent, User
from tongzhan.services import area_merge
from tongzhan.tests.races import race_or_skip

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER, LIUXIANG, FUDONG, YINGZE = (
    "140106001001", "140106001002", "140106001", "140106002001", "140106",
)  # fmt: skip


@pytest.fixture
def need(community_user, member):
    return services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "legal", "description": "房屋纠纷", "raised_on": timezone.localdate()},
    )


def refer(actor, need, to_area, note="社区无法协调"):
    return services.need_refer(actor=actor, need=need, to_area=to_area, note=note)


def held(need) -> tuple:
    need.refresh_from_db()
    return need.held_by_id, need.referral


# -- Who takes a referral back ---------------------------------------------------------------


def test_only_the_referring_area_takes_a_referral_back(
    client, areas, need, community_user, neighbour_user, street_user, other_street_user,
    district_user, other_district_user, admin_user,
):  # fmt: skip
    refer(community_user, need, areas[LIUXIANG])
    auditor = _user("ivan", User.Role.AUDITOR, None)
    url = reverse("activities:need_recall", args=[need.pk])
    for someone in (neighbour_user, street_user, other_street_user, district_user,
                    other_district_user, admin_user, auditor):  # fmt: skip
        assert not services.need_may_recall(someone, need)
        with pytest.raises(PermissionDenied):
            services.need_recall(actor=someone, need=need)
        client.force_login(someone)
        assert client.post(url).status_code in (403, 404), someone
    assert held(need) == (areas[LIUXIANG].pk, "referred")


def test_a_street_does_not_take_back_what_its_community_referred_past_it(
    areas, need, community_user, street_user, district_user
):
    """Referred straight to the district by the community: the street in between did not
    refer it, and does not take it back."""
    refer(community_user, need, areas[YINGZE])
    assert not services.need_may_recall(street_user, need)
    with pytest.raises(PermissionDenied):
        services.need_recall(actor=street_user, need=need)
    # Accepted by the street and referred on: the community no longer takes it back.
    services.need_return(actor=district_user, need=need, reason="先找街道")
    refer(community_user, need, areas[LIUXIANG])
    services.need_accept(actor=street_user, need=need)
    refer(street_user, need, areas[YINGZE], note="需区里协调")
    assert not services.need_may_recall(community_user, need)
    with pytest.raises(PermissionDenied):
        services.need_recall(actor=community_user, need=need)
    assert held(need) == (areas[YINGZE].pk, "referred")


def test_a_disabled_account_takes_nothing_back(client, areas, need, community_user):
    refer(community_user, need, areas[LIUXIANG])
    client.force_login(community_user)
    User.objects.filter(pk=community_user.pk).update(is_active=False)
    community_user.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.need_recall(actor=community_user, need=need)
    assert client.post(reverse("activities:need_recall", args=[need.pk])).status_code == 302
    assert held(need) == (areas[LIUXIANG].pk, "referred")


def test_a_recall_is_never_a_get_nor_a_forged_post(areas, need, community_user):
    refer(community_user, need, areas[LIUXIANG])
    url = reverse("activities:need_recall", args=[need.pk])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(community_user)
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403
    assert held(need) == (areas[LIUXIANG].pk, "referred")


def test_a_recall_leaves_one_audit_line_and_one_step_of_the_path(
    client, areas, need, community_user
):
    refer(community_user, need, areas[LIUXIANG])
    client.force_login(community_user)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    client.post(reverse("activities:need_recall", args=[need.pk]))
    assert [
        (event.action, event.object_id, event.detail["referral"])
        for event in AuditEvent.objects.filter(pk__gt=last)
    ] == [("status", str(need.pk), "recall")]
    assert need.changes.filter(action="recall").count() == 1
    # Taken back once: a second try is refused, and writes nothing.
    client.post(reverse("activities:need_recall", args=[need.pk]))
    assert need.changes.filter(action="recall").count() == 1


def test_taken_back_the_need_is_where_the_lists_expect_it(
    areas, need, community_user, street_user, district_user
):
    street, district = areas[LIUXIANG], areas[YINGZE]
    refer(community_user, need, street)
    services.need_recall(actor=community_user, need=need)
    assert held(need) == (None, "")
    assert list(Need.objects.referred_to(street_user)) == []
    assert list(Need.objects.held_by_own_area(community_user)) == [need]
    assert list(Need.objects.held_within(community_user)) == [need]
    assert list(Need.objects.held_above(community_user)) == []
    # A street's recall: it holds and handles the need again, the district has nothing.
    refer(community_user, need, street)
    services.need_accept(actor=street_user, need=need)
    refer(street_user, need, district, note="需区里协调")
    services.need_recall(actor=street_user, need=need)
    assert held(need) == (street.pk, "accepted")
    assert list(Need.objects.referred_to(street_user)) == [need]
    assert list(Need.objects.referred_to(district_user)) == []
    assert list(Need.objects.held_above(community_user)) == [need]
    services.need_set_status(actor=street_user, need=need, status="in_progress")


# -- After the referring community was merged away --------------------------------------------


def test_the_community_that_took_over_the_referring_one_takes_its_referral_back(
    areas, need, community_user, street_user
):
    """桥东一社区 referred the need, then was merged into 五一二社区 (its accounts and members
    with it): the community it is now takes the referral back, as it would have."""
    refer(community_user, need, areas[LIUXIANG])
    area_merge(actor=None, source=areas[QIAODONG], target=areas[WUYIER])
    alice = User.objects.get(pk=community_user.pk)  # works in 五一二社区 now
    assert alice.area_id == areas[WUYIER].pk
    assert services.need_may_recall(alice, need)
    services.need_recall(actor=alice, need=need)
    assert held(need) == (None, "")
    assert Need.objects.editable_by(alice).filter(pk=need.pk).exists()


def test_a_referral_left_with_a_street_that_no_longer_sees_the_need_is_taken_back(
    areas, need, community_user, street_user
):
    """Merged into a community of another street, the referring community's need stays
    referred to its old street, which no longer sees the member: nobody there can accept or
    return it. The community that took over takes it back."""
    refer(community_user, need, areas[LIUXIANG])
    area_merge(actor=None, source=areas[QIAODONG], target=areas[FUDONG])
    assert list(Need.objects.referred_to(street_user)) == []
    alice = User.objects.get(pk=community_user.pk)
    services.need_recall(actor=alice, need=need)
    assert held(need) == (None, "")


# -- At the same moment: two connections ------------------------------------------------------


@pytest.fixture
def race():
    return race_or_skip()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("accept_first", [True, False])
def test_a_referral_accepted_while_it_is_taken_back_never_both(
    race, monkeypatch, areas, need, community_user, street_user, accept_first
):
    refer(community_user, need, areas[LIUXIANG])
    race.pause_after(monkeypatch, services, "audit_record")

    def accept():
        return services.need_accept(actor=street_user, need=need)

    def recall():
        return services.need_recall(actor=community_user, need=need)

    outcome = race.run(*((accept, recall) if accept_first else (recall, accept)))
    assert isinstance(outcome["second"], ValidationError | PermissionDenied), outcome
    assert not isinstance(outcome["first"], Exception), outcome
    expected = (areas[LIUXIANG].pk, "accepted") if accept_first else (None, "")
    assert held(need) == expected
    assert need.changes.filter(action__in=["accept", "recall"]).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("edit_first", [True, False])
def test_an_edit_by_the_street_while_the_community_takes_the_referral_back_does_not_undo_it(
    race, monkeypatch, areas, need, community_user, street_user, edit_first
):
    """The street (which may edit a need referred to it) saves a new description while the
    community takes the referral back: the edit must not put the need back with the street,
    awaiting its acceptance, after the community was told it has it again."""
    refer(community_user, need, areas[LIUXIANG])
    # Each pauses inside its transaction: the edit once it has read the need and checked
    # its dates, the recall once it has written its audit line.
    race.pause_after(monkeypatch, services, "_check_need_dates")
    race.pause_after(monkeypatch, services, "audit_record")

    def edit():
        return services.need_update(
            actor=street_user, need=need, data={"description": "房屋纠纷（街道补充）"}
        )

    def recall():
        return services.need_recall(actor=community_user, need=need)

    outcome = race.run(*((edit, recall) if edit_first else (recall, edit)))
    assert not any(isinstance(result, Exception) for result in outcome.values()), outcome
    assert need.changes.filter(action="recall").count() == 1
    # Both done: the community holds the need again, with the street's description.
    assert held(need) == (None, "")
    assert need.description == "房屋纠纷（街道补充）"
