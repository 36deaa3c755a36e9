"""A need referred up (上报): the community sends it to its street or the district, which
accepts and handles it or returns it; lists count it where it is held; the path is kept."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Need, NeedChange
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def need(community_user, member):
    return services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "schooling", "description": "子女入学", "raised_on": timezone.localdate()},
    )


@pytest.fixture
def overdue_need(community_user, member):
    raised = timezone.localdate() - datetime.timedelta(days=60)
    return services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "legal", "description": "房屋纠纷", "raised_on": raised,
              "due_date": raised + datetime.timedelta(days=10)},
    )  # fmt: skip


def refer(actor, need, to_area, note="社区无法协调"):
    return services.need_refer(actor=actor, need=need, to_area=to_area, note=note)


def test_refer_accept_resolve_the_whole_path(community_user, street_user, need, areas):
    street = areas["140106001"]
    refer(community_user, need, street)
    assert (need.held_by, need.referral) == (street, "referred")
    # Held above: the community no longer changes it, the street does once it accepts it.
    assert not Need.objects.editable_by(community_user).filter(pk=need.pk).exists()
    assert Need.objects.editable_by(street_user).filter(pk=need.pk).exists()
    assert list(Need.objects.referred_to(street_user)) == [need]
    with pytest.raises(ValidationError):  # not before it is accepted
        services.need_set_status(actor=street_user, need=need, status="in_progress")
    services.need_accept(actor=street_user, need=need)
    assert need.referral == "accepted"
    assert need.handler == "charlie"  # the street's officer handles it now
    services.need_set_status(
        actor=street_user, need=need, status="resolved", resolution="协调学位",
        closed_on=timezone.localdate(),
    )  # fmt: skip
    need.refresh_from_db()
    assert need.status == "resolved" and need.held_by == street
    # Resolved by the street: it still counts as its community's work (解决实事).
    assert need.community == areas["140106001001"]
    path = [
        (c.action, c.from_area and c.from_area.code, c.to_area and c.to_area.code, c.note)
        for c in need.changes.order_by("at", "id")
    ]
    assert path == [
        ("create", None, None, ""),
        ("refer", "140106001001", "140106001", "社区无法协调"),
        ("accept", "140106001", "140106001", ""),
        ("status", None, None, "协调学位"),
    ]
    assert list(Need.objects.referred_to(street_user)) == []
    audited = AuditEvent.objects.filter(object_id=str(need.pk), action="status")
    assert audited.count() == 3


def test_refer_return_then_the_community_handles_it(community_user, street_user, need, areas):
    refer(community_user, need, areas["140106001"])
    with pytest.raises(ValidationError):
        services.need_return(actor=street_user, need=need, reason=" ")
    services.need_return(actor=street_user, need=need, reason="属社区职责")
    assert (need.held_by, need.referral) == (None, "returned")
    assert Need.objects.editable_by(community_user).filter(pk=need.pk).exists()
    services.need_set_status(actor=community_user, need=need, status="in_progress")
    step = need.changes.get(action="return")
    assert (step.from_area.code, step.to_area.code, step.note) == (
        "140106001", "140106001001", "属社区职责",
    )  # fmt: skip


def test_a_street_refers_an_accepted_need_on_to_the_district_and_gets_it_back(
    community_user, street_user, district_user, need, areas
):
    refer(community_user, need, areas["140106001"])
    services.need_accept(actor=street_user, need=need)
    refer(street_user, need, areas["140106"], note="需区里协调")
    assert not Need.objects.editable_by(street_user).filter(pk=need.pk).exists()
    assert list(Need.objects.referred_to(district_user)) == [need]
    services.need_return(actor=district_user, need=need, reason="街道可办")
    # Back to the street that referred it, which holds it again.
    assert need.held_by == areas["140106001"]
    assert Need.objects.editable_by(street_user).filter(pk=need.pk).exists()
    assert not Need.objects.editable_by(community_user).filter(pk=need.pk).exists()


def test_refusals(community_user, neighbour_user, street_user, district_user, need, areas):
    with pytest.raises(ValidationError):  # a note is required
        refer(community_user, need, areas["140106001"], note="  ")
    with pytest.raises(ValidationError):  # only above the community
        refer(community_user, need, areas["140106001002"])
    with pytest.raises(ValidationError):  # another district is not above it
        refer(community_user, need, areas["140105"])
    with pytest.raises(PermissionDenied):  # the neighbour does not see it
        refer(neighbour_user, need, areas["140106001"])
    with pytest.raises(PermissionDenied):  # the street does not hold it
        refer(street_user, need, areas["140106"])
    refer(community_user, need, areas["140106001"])
    with pytest.raises(ValidationError):  # already waiting
        refer(community_user, need, areas["140106"])
    with pytest.raises(PermissionDenied):  # the district was not referred to
        services.need_accept(actor=district_user, need=need)
    with pytest.raises(PermissionDenied):
        services.need_return(actor=community_user, need=need, reason="x")
    with pytest.raises(PermissionDenied):  # held above: the community may not close it
        services.need_set_status(actor=community_user, need=need, status="in_progress")
    assert need.changes.filter(action="refer").count() == 1


def test_the_need_page_offers_each_level_its_step(client, community_user, street_user, need, areas):
    url = reverse("activities:need_detail", args=[need.pk])
    client.force_login(community_user)
    page = client.get(url)
    assert page.context["refer_form"] is not None and page.context["return_form"] is None
    response = client.post(
        reverse("activities:need_refer", args=[need.pk]),
        {"to_area": areas["140106001"].pk, "note": "社区无法协调"},
    )
    assert response.status_code == 302
    page = client.get(url)
    text = page.content.decode()
    assert page.context["refer_form"] is None and page.context["status_form"] is None
    assert "柳巷街道" in text and "社区无法协调" in text
    # Read-only while held above: the edit page and the status change are refused.
    assert client.get(reverse("activities:need_update", args=[need.pk])).status_code == 403
    assert client.post(url, {"status": "in_progress"}).status_code == 403
    assert client.post(reverse("activities:need_accept", args=[need.pk])).status_code == 403

    client.force_login(street_user)
    page = client.get(url)
    assert page.context["may_accept"] and page.context["return_form"] is not None
    assert client.post(reverse("activities:need_accept", args=[need.pk])).status_code == 302
    page = client.get(url)
    assert page.context["status_form"] is not None and not page.context["may_accept"]
    response = client.post(reverse("activities:need_return", args=[need.pk]), {"reason": ""})
    assert response.status_code == 200  # the page again, the reason marked
    assert response.context["return_form"].errors["reason"] == ["请填写退回原因。"]
    need.refresh_from_db()
    assert need.held_by == areas["140106001"]  # a return without its reason is refused
    client.post(reverse("activities:need_return", args=[need.pk]), {"reason": "属社区职责"})
    need.refresh_from_db()
    assert need.held_by is None and need.referral == "returned"


def test_referral_pages_out_of_scope_are_404(client, neighbour_user, other_district_user, need):
    for user in (neighbour_user, other_district_user):
        client.force_login(user)
        for name in ("need_refer", "need_accept", "need_return"):
            assert client.post(reverse(f"activities:{name}", args=[need.pk])).status_code == 404


def test_open_and_overdue_lists_count_a_need_where_it_is_held(
    client, community_user, street_user, district_user, overdue_need, need, areas
):
    refer(community_user, overdue_need, areas["140106001"])
    needs = reverse("activities:need_list")
    client.force_login(community_user)
    page = client.get(needs, {"show": "overdue"})
    assert page.context["counts"]["overdue"] == 0 and page.context["counts"]["open"] == 1
    # Still visible to the community, marked as held by the street.
    assert [n.pk for n in page.context["held_above"]] == [overdue_need.pk]
    assert "柳巷街道" in page.content.decode()
    client.force_login(street_user)
    page = client.get(needs, {"show": "overdue"})
    assert page.context["counts"]["overdue"] == 1 and not page.context["held_above"]
    here = client.get(needs, {"show": "open", "held": "here"})
    assert [n.pk for n in here.context["needs"]] == [overdue_need.pk]
    assert here.context["counts"]["open"] == 1
    everything = client.get(needs, {"show": "open"})
    assert everything.context["counts"]["open"] == 2
    client.force_login(district_user)
    assert client.get(needs, {"show": "open", "held": "here"}).context["counts"]["open"] == 0
    assert client.get(needs, {"show": "open"}).context["counts"]["open"] == 2


def test_the_home_page_todo_agrees_with_the_list_for_a_referred_need(
    client, community_user, street_user, overdue_need, areas
):
    from dashboards.todo import todo_for

    refer(community_user, overdue_need, areas["140106001"])
    for user in (community_user, street_user):
        todo = todo_for(user, timezone.localdate())
        client.force_login(user)
        listed = client.get(todo.overdue_url)
        assert listed.context["counts"]["overdue"] == todo.overdue


def test_the_need_list_asks_a_fixed_number_of_queries_with_referred_needs(
    client, community_user, street_user, member, areas, django_assert_max_num_queries
):
    for number in range(5):
        made = services.need_create(
            actor=community_user, member=member,
            data={"kind": "other", "description": f"事{number}"},
        )  # fmt: skip
        refer(community_user, made, areas["140106001"])
    client.force_login(community_user)
    with django_assert_max_num_queries(14):
        client.get(reverse("activities:need_list"))
    client.force_login(street_user)
    with django_assert_max_num_queries(14):
        client.get(reverse("activities:need_list"), {"held": "here"})


def test_a_street_merged_away_hands_its_referred_needs_on(community_user, admin_user, need, areas):
    refer(community_user, need, areas["140106001"])
    source, target = areas["140106001"], areas["140106002"]
    assert services.area_needs_count(source) == 1
    services.area_needs_move(actor=admin_user, source=source, target=target)
    need.refresh_from_db()
    assert need.held_by == target
    assert NeedChange.objects.filter(need=need, to_area=source).exists()  # the path stays


def test_the_need_page_shows_the_path_once_per_step(
    client, community_user, street_user, need, areas
):
    refer(community_user, need, areas["140106001"])
    services.need_accept(actor=street_user, need=need)
    client.force_login(street_user)
    page = client.get(reverse("activities:need_detail", args=[need.pk])).content.decode()
    assert "桥东一社区 → 柳巷街道" in page
    assert "柳巷街道 → 柳巷街道" not in page


def test_a_need_held_by_the_district_stays_there_when_its_member_moves_within_it(
    community_user, district_user, need, areas
):
    from members import services as member_services

    refer(community_user, need, areas["140106"])
    member_services.transfer_request(
        actor=district_user, member=need.member, to_community=areas["140106002001"], reason="搬家"
    )
    need.refresh_from_db()
    assert need.member.community == areas["140106002001"]
    assert (need.held_by, need.referral) == (areas["140106"], "referred")
    assert not need.changes.filter(action="return").exists()


def test_the_referring_area_takes_a_referral_back_until_it_is_accepted(
    client, community_user, street_user, district_user, need, areas
):
    street = areas["140106001"]
    refer(community_user, need, street)
    assert list(Need.objects.referred_to(street_user)) == [need]
    with pytest.raises(PermissionDenied):  # the street it went to does not take it back
        services.need_recall(actor=street_user, need=need)
    client.force_login(community_user)
    page = client.get(reverse("activities:need_detail", args=[need.pk])).content.decode()
    assert reverse("activities:need_recall", args=[need.pk]) in page
    client.post(reverse("activities:need_recall", args=[need.pk]))
    need.refresh_from_db()
    assert (need.held_by, need.referral) == (None, "")
    assert list(Need.objects.referred_to(street_user)) == []
    assert Need.objects.editable_by(community_user).filter(pk=need.pk).exists()
    last = need.changes.order_by("at", "id").last()
    assert (last.action, last.from_area, last.to_area) == ("recall", street, areas["140106001001"])
    assert AuditEvent.objects.filter(object_id=str(need.pk), detail__referral="recall").exists()

    # Referred again and accepted: no longer the community's to take back.
    refer(community_user, need, street)
    services.need_accept(actor=street_user, need=need)
    with pytest.raises(ValidationError):
        services.need_recall(actor=community_user, need=need)
    # Pressed on a page opened before the street accepted: told why, not refused as a right.
    late = client.post(reverse("activities:need_recall", args=[need.pk]), follow=True)
    assert "上报已被受理，不能再撤回" in late.content.decode()
    need.refresh_from_db()
    assert need.referral == "accepted"


def test_accepting_a_referral_taken_back_meanwhile_says_so(
    client, community_user, street_user, need, areas
):
    refer(community_user, need, areas["140106001"])
    services.need_recall(actor=community_user, need=need)
    client.force_login(street_user)
    late = client.post(reverse("activities:need_accept", args=[need.pk]), follow=True)
    assert late.status_code == 200
    assert "此诉求已不在待受理状态" in late.content.decode()
    need.refresh_from_db()
    assert need.held_by is None


def test_a_referral_without_its_reason_is_marked_on_the_form(client, community_user, need, areas):
    client.force_login(community_user)
    url = reverse("activities:need_refer", args=[need.pk])
    page = client.post(url, {"to_area": areas["140106001"].pk, "note": ""})
    assert page.status_code == 200
    assert page.context["refer_form"].errors["note"] == ["请说明上报原因。"]
    need.refresh_from_db()
    assert need.held_by is None


def test_a_street_takes_back_what_it_referred_to_the_district(
    community_user, street_user, district_user, need, areas
):
    street, district = areas["140106001"], areas["140106"]
    refer(community_user, need, street)
    services.need_accept(actor=street_user, need=need)
    refer(street_user, need, district, note="需区里协调")
    services.need_recall(actor=street_user, need=need, note="街道先行协调")
    need.refresh_from_db()
    # The street handles it again, as it did before it referred it.
    assert (need.held_by, need.referral) == (street, "accepted")
    assert Need.objects.editable_by(street_user).filter(pk=need.pk).exists()
    assert list(Need.objects.referred_to(district_user)) == []
