"""Transfers between communities: asked for by the community keeping a member, accepted or
declined by the receiving one; until then she stays where she was, in its lists and counts."""

import io
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from dashboards.stats import Dashboard
from dashboards.tests.test_tallies import tallies
from members import services
from members.imports import roster_import
from members.models import Member, MemberChange, Transfer
from members.tests.factories import MemberFactory
from members.tests.test_imports import person, roster
from tongzhan.models import Area, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def wuyier(areas):
    return areas["140106001002"]


def ask(actor, member, to, reason="搬家", **kwargs) -> Transfer:
    return services.transfer_request(
        actor=actor, member=member, to_community=to, reason=reason, **kwargs
    )


def history(member) -> list[tuple[str, str]]:
    return [
        (change.action, change.source) for change in member.changes.order_by("id")
        if change.action != MemberChange.Action.CREATE
    ]  # fmt: skip


def test_a_request_leaves_the_member_where_she_is(community_user, member, wuyier):
    transfer = ask(community_user, member, wuyier)
    member.refresh_from_db()
    assert transfer.state == Transfer.State.PENDING and member.community.code == "140106001001"
    assert member.version == 1  # no field changed: an open edit form still saves
    assert history(member) == [("transfer_request", "迁往五一二社区：搬家")]
    audit = AuditEvent.objects.get(action=AuditEvent.Action.TRANSFER)
    assert audit.detail["step"] == "request" and audit.object_id == str(member.pk)


def test_the_history_reads_in_the_registry_s_language_whatever_the_user_s(
    community_user, neighbour_user, member, wuyier
):
    with translation.override("en"):
        transfer = ask(community_user, member, wuyier)
        services.transfer_decline(actor=neighbour_user, transfer=transfer, note="不接收")
        ask(community_user, member, wuyier, reason="再次申请")
        services.member_set_status(
            actor=community_user, member=member, status=Member.Status.DECEASED,
            date=member.created_at.date(), reason="病故",
        )  # fmt: skip
    assert history(member) == [
        ("transfer_request", "迁往五一二社区：搬家"),
        ("transfer_decline", "迁往五一二社区：不接收"),
        ("transfer_request", "迁往五一二社区：再次申请"),
        ("status", ""),
        ("transfer_withdraw", "迁往五一二社区：统战对象状态变为“去世”。"),
    ]


def test_the_receiving_community_accepts_and_the_member_moves_with_her_tallies(
    areas, community_user, neighbour_user, member, wuyier
):
    transfer = ask(community_user, member, wuyier)
    grid = Area.objects.create(
        code="140106001002001", name="五一二第一网格", level="grid", parent=wuyier
    )
    services.transfer_accept(actor=neighbour_user, transfer=transfer, grid=grid)
    member.refresh_from_db()
    transfer.refresh_from_db()
    assert (member.community, member.grid, member.version) == (wuyier, grid, 2)
    assert (transfer.state, transfer.decided_by, transfer.to_grid) == (
        "accepted",
        neighbour_user,
        grid,
    )
    accepted = member.changes.get(action=MemberChange.Action.TRANSFER)
    assert accepted.actor == neighbour_user and accepted.source == "王丽申请：搬家"
    assert {row["field"]: row["new"] for row in accepted.changes} == {
        "community": "五一二社区", "grid": "五一二第一网格"
    }  # fmt: skip
    kept = tallies()
    call_command("tally_rebuild", stdout=io.StringIO())
    assert kept == tallies()


def test_the_dashboards_count_her_in_the_old_community_until_acceptance(
    community_user, neighbour_user, member, wuyier
):
    def totals():
        return Dashboard(community_user).tally("total"), Dashboard(neighbour_user).tally("total")

    assert totals() == (1, 0)
    transfer = ask(community_user, member, wuyier)
    assert totals() == (1, 0)
    assert Member.objects.visible_to(neighbour_user).count() == 0
    services.transfer_accept(actor=neighbour_user, transfer=transfer)
    assert totals() == (0, 1)
    assert list(Member.objects.visible_to(neighbour_user)) == [member]
    assert Member.objects.visible_to(community_user).count() == 0


def test_only_the_receiving_side_accepts_or_declines(
    community_user, neighbour_user, street_user, other_district_user, member, wuyier
):
    transfer = ask(community_user, member, wuyier)
    for user in (community_user, street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.transfer_accept(actor=user, transfer=transfer)
        with pytest.raises(PermissionDenied):
            services.transfer_decline(actor=user, transfer=transfer, note="不接收")
    for user in (neighbour_user, street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.transfer_withdraw(actor=user, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.is_pending


def test_a_decline_needs_a_reason_and_keeps_the_member(
    community_user, neighbour_user, member, wuyier
):
    transfer = ask(community_user, member, wuyier)
    with pytest.raises(ValidationError) as refused:
        services.transfer_decline(actor=neighbour_user, transfer=transfer, note=" ")
    assert "note" in refused.value.error_dict
    services.transfer_decline(actor=neighbour_user, transfer=transfer, note="查无此人")
    member.refresh_from_db()
    transfer.refresh_from_db()
    assert member.community.code == "140106001001"
    assert (transfer.state, transfer.decision_note) == ("declined", "查无此人")
    assert history(member)[-1] == ("transfer_decline", "迁往五一二社区：查无此人")
    # Declined, she may be asked for again, elsewhere.
    assert ask(community_user, member, wuyier).is_pending


def test_the_sender_withdraws(community_user, member, wuyier):
    transfer = ask(community_user, member, wuyier)
    services.transfer_withdraw(actor=community_user, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.state == "withdrawn"
    assert history(member)[-1] == ("transfer_withdraw", "迁往五一二社区")


def test_a_decided_transfer_is_refused_a_second_decision(
    community_user, neighbour_user, district_user, member, wuyier
):
    transfer = ask(community_user, member, wuyier)
    services.transfer_accept(actor=neighbour_user, transfer=transfer)
    for write in (
        lambda: services.transfer_accept(actor=district_user, transfer=transfer),
        lambda: services.transfer_decline(actor=district_user, transfer=transfer, note="重复"),
        lambda: services.transfer_withdraw(actor=district_user, transfer=transfer),
    ):
        with pytest.raises(ValidationError, match="已处理（已接收）"):
            write()
    assert member.changes.filter(action=MemberChange.Action.TRANSFER).count() == 1


def test_one_pending_transfer_per_member(community_user, member, areas, wuyier):
    ask(community_user, member, wuyier)
    with pytest.raises(ValidationError, match="正在等待接收"):
        ask(community_user, member, areas["140106002001"])
    assert Transfer.objects.filter(member=member).count() == 1


def test_the_request_checks_what_a_direct_move_checked(
    community_user, street_user, member, neighbour_member, areas, wuyier
):
    with pytest.raises(PermissionDenied):  # a street officer reads, may not transfer
        ask(street_user, member, wuyier)
    with pytest.raises(PermissionDenied):  # not her community's member
        ask(community_user, neighbour_member, areas["140106002001"])
    for to, reason, field in (
        (areas["140106001"], "搬家", "to_community"),
        (areas["140106001001"], "搬家", "to_community"),
        (wuyier, " ", "reason"),
    ):
        with pytest.raises(ValidationError) as refused:
            ask(community_user, member, to, reason)
        assert field in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:  # a grid of another community
        ask(community_user, member, wuyier, to_grid=areas["140106001001001"])
    assert "grid" in refused.value.error_dict


def test_who_may_act_for_both_communities_has_it_accepted_at_once(
    district_user, admin_user, member, wuyier, areas
):
    transfer = ask(district_user, member, wuyier)
    member.refresh_from_db()
    assert transfer.state == "accepted" and transfer.decided_by == district_user
    assert member.community == wuyier
    assert [action for action, _source in history(member)] == ["transfer_request", "transfer"]
    assert ask(admin_user, member, areas["140106002001"]).state == "accepted"


def test_nobody_else_skips_the_receiving_community(community_user, member, areas):
    # 府东一社区 lies in another street: neither the worker nor her street may accept there.
    transfer = ask(community_user, member, areas["140106002001"])
    assert transfer.is_pending


def test_leaving_the_registry_withdraws_a_pending_transfer(
    community_user, neighbour_user, member, wuyier
):
    transfer = ask(community_user, member, wuyier)
    services.member_set_status(
        actor=community_user, member=member, status=Member.Status.DECEASED,
        date=member.created_at.date(), reason="病故",
    )  # fmt: skip
    transfer.refresh_from_db()
    assert transfer.state == "withdrawn"
    assert history(member)[-1] == ("transfer_withdraw", "迁往五一二社区：统战对象状态变为“去世”。")
    with pytest.raises(ValidationError):
        services.transfer_accept(actor=neighbour_user, transfer=transfer)
    with pytest.raises(ValidationError, match="只有在册"):
        ask(community_user, member, wuyier)


def test_a_roster_naming_the_receiving_community_does_not_move_her(
    community_user, district_user, member, wuyier
):
    """The import never moves a member between communities: a row naming another community
    for a registered person is refused, so it cannot skip the receiving side's acceptance."""
    transfer = ask(community_user, member, wuyier)
    report = roster_import(
        actor=district_user,
        data=roster(person("张三", community="五一二社区", number=member.id_number)),
        filename="花名册.xlsx",
    )
    member.refresh_from_db()
    transfer.refresh_from_db()
    assert len(report.refused) == 1 and "已在桥东一社区登记" in report.refused[0].message
    assert member.community.code == "140106001001" and transfer.is_pending


# Committed for real (the threads have their own connections); the reference data the
# migrations load is put back afterwards for the tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_accepts_at_once_move_her_once(areas, community_user, neighbour_user, district_user):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks")
    member = MemberFactory(community=areas["140106001001"])
    transfer = ask(community_user, member, areas["140106001002"])
    barrier, outcomes = threading.Barrier(2), []

    def accept(user):
        try:
            barrier.wait()
            services.transfer_accept(actor=user, transfer=Transfer.objects.get(pk=transfer.pk))
            outcomes.append("accepted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(u,)) for u in (neighbour_user, district_user)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "refused"]
    assert member.changes.filter(action=MemberChange.Action.TRANSFER).count() == 1
    kept = tallies()
    call_command("tally_rebuild", stdout=io.StringIO())
    assert kept == tallies()


def test_no_transfer_is_asked_into_a_community_merged_away(areas, member, community_user):
    """The transfer form offered the community before it was merged into another: the request
    that arrives after is refused, not left waiting where nobody can accept it."""
    from tongzhan.services import area_merge

    gone = areas["140106001002"]
    area_merge(actor=None, source=gone, target=areas["140106002001"])

    with pytest.raises(ValidationError) as refused:
        services.transfer_request(actor=None, member=member, to_community=gone, reason="搬家")

    assert refused.value.message_dict["to_community"] == [f"“{gone.name}”已撤销。"]
    assert not member.transfers.exists()
