"""Areas that change: a community renamed, merged into another (撤并), retired (撤销).

Members, accounts, activities, visits and needs move with a merged community, each member
with a history line; the dashboards count the same before and after; nothing live is left
pointing at a retired area, which keeps its row so old records still name it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, Need, Visit
from dashboards.stats import Dashboard
from dashboards.tests.conftest import build_world
from dashboards.tests.test_dashboard import numbers_and_lists
from members.forms import MemberTransferForm
from members.models import Member, MemberChange, MemberTally, Transfer
from members.services import tally_refresh, transfer_request
from tongzhan.models import Area, AuditEvent, User
from tongzhan.services import area_holdings, area_merge, area_rename, area_retire

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER, FUDONG = "140106001001", "140106001002", "140106002001"


@pytest.fixture
def world(areas, street_user, district_user, other_district_user):
    return build_world(areas, street_user, district_user, other_district_user)


def by_area(user) -> dict[str, int]:
    return {row.label: row.count for row in Dashboard(user, timezone.localdate()).by_area}


def tallies() -> set:
    return set(MemberTally.objects.values_list("community_id", "dimension", "value", "count"))


def test_a_merge_moves_everything_live_and_the_counts_add_up(
    world, areas, community_user, neighbour_user, street_user, district_user, admin_user
):
    source, target = areas[QIAODONG], areas[WUYIER]
    # alice asks to transfer one of hers to 府东一, which has not accepted yet.
    leaving = Member.objects.filter(community=source, status=Member.Status.ACTIVE).first()
    pending = transfer_request(
        actor=community_user, member=leaving, to_community=areas[FUDONG], reason="搬家"
    )
    assert pending.state == Transfer.State.PENDING
    streets_before = by_area(district_user)
    communities_before = by_area(street_user)
    moved = set(Member.objects.filter(community=source).values_list("pk", flat=True))
    assert moved

    area_merge(actor=admin_user, source=source, target=target)

    # The street and the district count what they counted; the target holds the sum.
    assert by_area(district_user) == streets_before
    communities_after = by_area(street_user)
    assert "桥东一社区" not in communities_after
    assert communities_after["五一二社区"] == (
        communities_before["桥东一社区"] + communities_before["五一二社区"]
    )
    # The stored tallies are what a recount gives.
    stored = tallies()
    tally_refresh(communities=Area.objects.communities().values_list("pk", flat=True))
    assert tallies() == stored
    # Each moved member has a history line saying so.
    for member in Member.objects.filter(pk__in=moved):
        assert member.community == target and member.grid is None
        line = member.changes.latest("at")
        assert line.action == MemberChange.Action.TRANSFER
        assert line.source == "桥东一社区撤并入五一二社区"
    # Nothing live points at the retired community; it keeps its row, and its grid retires.
    source.refresh_from_db()
    assert source.is_retired and source.merged_into == target
    assert Area.objects.get(code=QIAODONG + "001").is_retired
    assert not Member.objects.filter(community=source).exists()
    assert not User.objects.filter(area=source).exists()
    assert not Activity.objects.filter(area=source).exists()
    assert not Visit.objects.filter(community=source).exists()
    assert not Need.objects.filter(community=source).exists()
    assert all(n == 0 for _what, n in area_holdings(source))
    # The pending transfer now leaves from the target; the receiver still decides.
    pending.refresh_from_db()
    assert pending.state == Transfer.State.PENDING and pending.from_community == target
    # One audit line of the merge, naming the target and what moved.
    line = AuditEvent.objects.filter(object_type="tongzhan.area", object_id=str(source.pk))
    merge = line.get(detail__change="merge", detail__has_key="into")
    assert merge.detail["into"] == "140106001002" and merge.detail["moved"]


def test_after_a_merge_the_sources_worker_works_in_the_target(
    world, areas, community_user, neighbour_user, admin_user, client
):
    """Decided: the source community's accounts move (they keep working with their people,
    now in the merged community), each with an audit line."""
    source, target = areas[QIAODONG], areas[WUYIER]
    theirs = set(Member.objects.filter(community=source).values_list("pk", flat=True))
    area_merge(actor=admin_user, source=source, target=target)
    community_user.refresh_from_db()
    assert community_user.area == target
    assert theirs <= set(Member.objects.visible_to(community_user).values_list("pk", flat=True))
    assert theirs <= set(Member.objects.visible_to(neighbour_user).values_list("pk", flat=True))
    client.force_login(community_user)
    member = Member.objects.get(pk=min(theirs))
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        object_type="tongzhan.user", object_id=str(community_user.pk), action="update"
    ).exists()


def test_every_dashboard_number_still_counts_its_list_after_a_merge(
    world, areas, street_user, admin_user, client, settings
):
    settings.MEMBER_LIST_TALLIED_COUNTS = False
    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])
    client.force_login(street_user)
    dashboard = client.get(reverse("home")).context["dashboard"]
    for what, number, url in numbers_and_lists(dashboard):
        assert client.get(url).context["paginator"].count == number, (what, url)


def test_a_retired_area_leaves_the_pickers(world, areas, admin_user):
    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])
    member = Member.objects.filter(community=areas[FUDONG]).first()
    offered = MemberTransferForm(member=member).fields["to_community"].queryset
    assert areas[QIAODONG] not in offered and areas[WUYIER] in offered


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        ("140106001", "140106002", "只有社区(村)或网格"),  # a street
        (QIAODONG, "140105001001", "同一区(县)"),  # another district
        (QIAODONG, "140106001", "同一区(县)内的社区"),  # another level
        (QIAODONG, QIAODONG, "另一个区划"),
    ],
)
def test_merges_that_make_no_sense_are_refused(areas, admin_user, source, target, why):
    with pytest.raises(ValidationError) as error:
        area_merge(actor=admin_user, source=areas[source], target=areas[target])
    assert why in " ".join(error.value.messages)
    assert not Area.objects.filter(retired_at__isnull=False).exists()


def test_only_an_administrator_within_both_areas_merges(areas, street_user, admin_user):
    from conftest import _user

    with pytest.raises(PermissionDenied):
        area_merge(actor=street_user, source=areas[QIAODONG], target=areas[WUYIER])
    street_admin = _user("kate", User.Role.ADMIN, areas["140106001"])
    with pytest.raises(PermissionDenied):
        area_merge(actor=street_admin, source=areas[WUYIER], target=areas[FUDONG])
    area_merge(actor=street_admin, source=areas[WUYIER], target=areas[QIAODONG])


def test_an_area_that_still_holds_something_is_not_retired(world, areas, admin_user):
    with pytest.raises(ValidationError) as error:
        area_retire(actor=admin_user, area=areas[WUYIER])
    message = " ".join(error.value.messages)
    assert "五一二社区" in message and "统战对象" in message and "撤并" in message
    assert not Area.objects.get(code=WUYIER).is_retired


def test_an_empty_area_is_retired_and_keeps_its_row(areas, admin_user):
    area = areas["140105001001"]
    area_retire(actor=admin_user, area=area)
    area.refresh_from_db()
    assert area.is_retired and Area.objects.current().filter(pk=area.pk).count() == 0
    with pytest.raises(ValidationError):
        area_retire(actor=admin_user, area=area)


def test_a_rename_keeps_code_records_and_audits_the_names(world, areas, admin_user):
    area = areas[QIAODONG]
    members = Member.objects.filter(community=area).count()
    area_rename(actor=admin_user, area=area, name="桥东社区", official_name="桥东社区居民委员会")
    area.refresh_from_db()
    assert (area.code, area.name) == (QIAODONG, "桥东社区")
    assert Member.objects.filter(community=area).count() == members
    line = AuditEvent.objects.get(detail__change="rename")
    assert line.detail["before"]["name"] == "桥东一社区"
    assert line.detail["after"]["name"] == "桥东社区"


def test_a_file_with_a_merge_and_a_rename(world, areas, street_user, tmp_path):
    before = by_area(street_user)
    path = tmp_path / "changes.csv"
    path.write_text(
        "统计用区划代码,名称,变更\n"
        "140106001001,桥东一社区居委会,撤并入:140106001002\n"
        "140106002001,府东新社区居委会,更名\n",
        encoding="utf-8",
    )
    call_command("load_areas", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    qiaodong, fudong = Area.objects.get(code=QIAODONG), Area.objects.get(code=FUDONG)
    assert qiaodong.is_retired and qiaodong.merged_into.code == WUYIER
    assert (fudong.name, fudong.official_name) == ("府东新社区", "府东新社区居委会")
    after = by_area(street_user)
    assert after["五一二社区"] == before["桥东一社区"] + before["五一二社区"]
    # A command's changes are audited too, named after it.
    assert set(
        AuditEvent.objects.filter(username="load_areas").values_list("detail__change", flat=True)
    ) == {"merge", "rename"}


def test_a_wrong_change_is_refused_with_its_row_and_column(areas, tmp_path):
    from django.core.management import CommandError

    path = tmp_path / "changes.csv"
    path.write_text(
        "统计用区划代码,名称,变更\n"
        "140106001001,桥东一社区,合并\n"
        "140106001002,五一二社区,撤并入:140106009001\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as error:
        call_command("load_areas", str(path))
    message = str(error.value)
    assert "第 2 行“变更”列" in message and "第 3 行“变更”列" in message
    assert "140106009001" in message
    assert not Area.objects.filter(retired_at__isnull=False).exists()


def test_the_pages_say_what_will_move_then_merge_or_retire(world, areas, admin_user, client):
    client.force_login(admin_user)
    source = areas[QIAODONG]
    edit = client.get(reverse("area_update", args=[source.pk])).content.decode()
    assert reverse("area_merge", args=[source.pk]) in edit
    assert reverse("area_retire", args=[source.pk]) in edit
    page = client.get(reverse("area_merge", args=[source.pk]))
    members = Member.objects.filter(community=source).count()
    assert f"统战对象：<strong>{members}</strong>" in page.content.decode()
    assert "140106001002 五一二社区" in page.content.decode()
    refused = client.get(reverse("area_retire", args=[source.pk])).content.decode()
    assert "仍有下列记录" in refused and "撤销</button>" not in refused
    # The page that refuses leads on to the merge it suggests.
    assert f'href="{reverse("area_merge", args=[source.pk])}"' in refused
    response = client.post(
        reverse("area_merge", args=[source.pk]), {"target": areas[WUYIER].pk}, follow=True
    )
    assert "“桥东一社区”已撤并入“五一二社区”。" in response.content.decode()
    listed = client.get(reverse("area_list"), {"q": "桥东一"}).content.decode()
    assert "已撤销" in listed and "已并入五一二社区" in listed
    # A retired area has no change pages any more.
    assert client.get(reverse("area_merge", args=[source.pk])).status_code == 404
    empty = Area.objects.create(
        code="140106002009", name="新建社区", level="community", parent=areas["140106002"]
    )
    response = client.post(reverse("area_retire", args=[empty.pk]), follow=True)
    assert "“新建社区”已撤销。" in response.content.decode()


def test_a_change_the_services_refuse_refuses_the_file_with_its_row(world, areas, tmp_path):
    from django.core.management import CommandError

    path = tmp_path / "changes.csv"
    path.write_text(
        "统计用区划代码,名称,变更\n"
        "140106002001,府东新社区,更名\n"
        "140106001000,柳巷街道,撤并入:140106002000\n"  # a street: its communities would move
        "140106001002,五一二社区,撤销\n",  # still holds members
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as error:
        call_command("load_areas", str(path))
    message = str(error.value)
    assert "第 3 行“变更”列" in message and "只有社区(村)或网格" in message
    # Nothing was loaded: the rename of row 2 is undone with the rest.
    assert Area.objects.get(code=FUDONG).name == "府东一社区"
    assert not Area.objects.filter(retired_at__isnull=False).exists()


def test_a_retired_area_in_an_old_file_loads_unchanged_and_does_not_change(
    world, areas, admin_user, tmp_path
):
    from django.core.management import CommandError

    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])
    old = tmp_path / "old.csv"
    old.write_text("统计用区划代码,名称\n140106001001,桥东一社区居委会\n", encoding="utf-8")
    call_command("load_areas", str(old), stdout=open("/dev/null", "w"))  # noqa: SIM115
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("统计用区划代码,名称\n140106001001,新名社区\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("load_areas", str(renamed))
    assert "已撤销" in str(error.value)
    assert Area.objects.get(code=QIAODONG).name == "桥东一社区"


def test_the_edit_page_renames_keeping_the_former_name_and_sets_the_official_one(
    areas, admin_user, client
):
    area = areas[FUDONG]
    client.force_login(admin_user)
    url = reverse("area_update", args=[area.pk])
    data = {"name": "府东新社区", "official_name": "府东新社区居民委员会", "code": area.code,
            "level": area.level, "parent": area.parent_id}  # fmt: skip
    assert client.post(url, data).status_code == 302
    area.refresh_from_db()
    assert (area.name, area.official_name) == ("府东新社区", "府东新社区居民委员会")
    assert area.former_names == ["府东一社区"]
    # Renamed back: the name is its own again, not a former one.
    area_rename(actor=admin_user, area=area, name="府东一社区")
    area.refresh_from_db()
    assert area.former_names == ["府东新社区"]


def merge_while(source: Area, target: Area, write) -> list[Exception]:
    """Merge `source` into `target` in one thread, holding `source` a second before the merge
    proper, while `write()` runs in another thread once it is held; what either raised."""
    import threading
    import time

    from django.db import connection, transaction

    held, errors = threading.Event(), []

    def run(body):
        try:
            body()
        except Exception as error:  # noqa: BLE001  (returned to the test)
            errors.append(error)
        finally:
            connection.close()

    def merge():
        with transaction.atomic():
            Area.objects.select_for_update().get(pk=source.pk)
            held.set()
            time.sleep(1)  # the write starts meanwhile
            area_merge(actor=None, source=source, target=target)

    def write_when_held():
        held.wait()
        write()

    threads = [threading.Thread(target=run, args=(body,)) for body in (merge, write_when_held)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def assert_tallies_recount():
    stored = tallies()
    tally_refresh(communities=Area.objects.communities().values_list("pk", flat=True))
    assert tallies() == stored


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_edit_during_a_merge_of_its_community_waits_and_lands_in_the_target(areas):
    """The merge holds the community when the edit comes: the edit waits (it locks the
    community before the member, as the merge does) instead of one of them failing with a
    deadlock, and then applies to the member where she is now."""
    from django.db import connection

    from members.services import representative_set
    from members.tests.factories import MemberFactory

    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks")
    source, target = areas[QIAODONG], areas[WUYIER]
    member = MemberFactory(community=source)

    def edit():
        representative_set(
            actor=None,
            member=Member.objects.get(pk=member.pk),
            value=True,  # counted in the tallies
            date=datetime.date(2026, 6, 1),
            reason="同意入选",
        )

    assert merge_while(source, target, edit) == []
    member.refresh_from_db()
    assert (member.community, member.is_representative) == (target, True)
    assert_tallies_recount()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_acceptance_during_a_merge_of_the_sending_community_waits(
    areas, community_user, neighbour_user
):
    """A transfer out of 桥东一社区 is accepted while 桥东一社区 is merged away: the acceptance
    waits for the merge (it locks both communities before the member) and moves her on."""
    from django.db import connection

    from members.services import transfer_accept
    from members.tests.factories import MemberFactory

    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks")
    source, target, receiving = areas[QIAODONG], areas[FUDONG], areas[WUYIER]
    member = MemberFactory(community=source)
    transfer = transfer_request(
        actor=community_user, member=member, to_community=receiving, reason="搬家"
    )

    def accept():
        transfer_accept(actor=neighbour_user, transfer=Transfer.objects.get(pk=transfer.pk))

    assert merge_while(source, target, accept) == []
    member.refresh_from_db()
    assert member.community == receiving
    assert_tallies_recount()
