"""A community split (拆分): a new community under the same street takes the grids chosen
(with their members, accounts and activities) and the members whose address holds one of the
words given, each member with a history line; what the old community did stays its own; the
street and the district count the same before and after."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from activities.models import Activity, Visit
from dashboards.tests.conftest import build_world
from members.models import Member, MemberChange, MemberTally, Transfer
from members.services import tally_refresh, transfer_request
from tongzhan.models import Area, AuditEvent
from tongzhan.services import area_split, area_split_holdings

from .test_area_changes import FUDONG, QIAODONG, by_area, tallies

pytestmark = pytest.mark.django_db

NEW = "140106001009"
GRID = QIAODONG + "001"


@pytest.fixture
def split_world(areas, street_user, district_user, other_district_user):
    """桥东一社区 as build_world makes it, one member in its grid, one living in 康宁小区."""
    world = build_world(areas, street_user, district_user, other_district_user)
    grid = Area.objects.get(code=GRID)
    members = list(Member.objects.filter(community=areas[QIAODONG]).order_by("pk"))
    in_grid, by_address, staying = members[0], members[1], members[2]
    # Her address matches too: she goes with her grid and is counted once.
    Member.objects.filter(pk=in_grid.pk).update(grid=grid, address="康宁小区9号楼")
    Member.objects.filter(pk=by_address.pk).update(address="康宁小区3号楼2单元")
    Member.objects.filter(pk=staying.pk).update(address="桥东街5号")
    return {**world, "in_grid": in_grid, "by_address": by_address, "staying": staying}


def test_a_split_moves_the_grid_and_the_addresses_and_the_counts_agree(
    split_world, areas, street_user, district_user, community_user, admin_user
):
    source = areas[QIAODONG]
    in_grid, by_address, staying = (
        split_world["in_grid"], split_world["by_address"], split_world["staying"]
    )  # fmt: skip
    pending = transfer_request(
        actor=community_user, member=by_address, to_community=areas[FUDONG], reason="搬家"
    )
    visits_before = Visit.objects.count()
    streets_before = by_area(district_user)
    communities_before = by_area(street_user)
    grid = Area.objects.get(code=GRID)
    held = dict(area_split_holdings(source, [grid], ["康宁小区"]))
    assert held == {"统战对象": 1, "按地址划入的统战对象": 1}
    activities_before = Activity.objects.filter(area=source).count()

    new = area_split(
        actor=admin_user, source=source, code=NEW, name="桥东三社区", grids=[grid],
        words=["康宁小区"],
    )  # fmt: skip

    assert (new.level, new.parent, new.name) == ("community", source.parent, "桥东三社区")
    new_grid = Area.objects.get(code=NEW + "001")
    assert (new_grid.name, new_grid.parent) == ("桥东一社区第一网格", new)
    grid.refresh_from_db()
    assert grid.is_retired and grid.merged_into == new_grid
    for member in (in_grid, by_address, staying):
        member.refresh_from_db()
    assert (in_grid.community, in_grid.grid) == (new, new_grid)
    assert (by_address.community, by_address.grid) == (new, None)
    assert staying.community == source
    assert in_grid.changes.latest("at").source == "桥东一社区拆分：桥东一社区第一网格划入桥东三社区"
    line = by_address.changes.latest("at")
    assert line.action == MemberChange.Action.TRANSFER
    assert line.source == "桥东一社区拆分：按地址（康宁小区）划入桥东三社区"
    # What the community itself did stays its own (activities are organised by communities).
    assert Activity.objects.filter(area=source).count() == activities_before > 0
    assert Visit.objects.count() == visits_before
    # The street and the district count what they counted; the two communities share it.
    assert by_area(district_user) == streets_before
    after = by_area(street_user)
    assert after["桥东一社区"] + after["桥东三社区"] == communities_before["桥东一社区"]
    assert after["桥东三社区"] == 2
    stored = tallies()
    tally_refresh(communities=Area.objects.communities().values_list("pk", flat=True))
    assert tallies() == stored
    assert MemberTally.objects.filter(community=new).exists()
    # A pending transfer of a moved member now leaves from the new community.
    pending.refresh_from_db()
    assert pending.state == Transfer.State.PENDING and pending.from_community == new
    # One audit line of the split on the old community, naming the new one and what went.
    split = AuditEvent.objects.get(
        object_type="tongzhan.area", object_id=str(source.pk), detail__change="split"
    )
    assert split.detail["into"] == NEW and split.detail["grids"] == [GRID]
    assert split.detail["words"] == ["康宁小区"]


@pytest.mark.parametrize(
    ("source", "code", "grids", "words", "why"),
    [
        ("140106001", "140106001009", [], ["康宁"], "只有现有的社区(村)可以拆分"),
        (QIAODONG, NEW, [], [], "请选择划入新社区的网格"),
        (QIAODONG, "140106002009", [], ["康宁"], ""),  # under another street
        (QIAODONG, NEW, ["140106002001001"], [], "请选择桥东一社区现有的网格"),
        (QIAODONG, QIAODONG, [], ["康宁"], ""),  # a code already taken
        (QIAODONG, NEW, [], ["康宁"], "柳巷街道已有名为五一二社区居委会的社区"),  # a name taken
    ],
)
def test_splits_that_make_no_sense_are_refused(areas, admin_user, source, code, grids, words, why):
    if grids and not Area.objects.filter(code=grids[0]).exists():
        Area.objects.create(
            code=grids[0], name="别处网格", level="grid", parent=areas[grids[0][:12]]
        )
    before = Area.objects.count()
    with pytest.raises(ValidationError) as error:
        area_split(
            actor=admin_user, source=areas[source], code=code,
            name="五一二社区居委会" if "名为" in why else "新社区",
            grids=Area.objects.filter(code__in=grids), words=words,
        )  # fmt: skip
    assert why in " ".join(error.value.messages)
    assert Area.objects.count() == before


def test_only_an_administrator_within_the_area_splits(areas, street_user):
    from conftest import _user

    with pytest.raises(PermissionDenied):
        area_split(
            actor=street_user, source=areas[QIAODONG], code=NEW, name="桥东三社区", words=["康宁"]
        )
    other_admin = _user("kate", "admin", areas["140106002"])
    with pytest.raises(PermissionDenied):
        area_split(
            actor=other_admin, source=areas[QIAODONG], code=NEW, name="桥东三社区", words=["康宁"]
        )
    assert not Area.objects.filter(code=NEW).exists()


def test_a_file_splits_a_community_with_its_grid_and_addresses(
    split_world, areas, street_user, tmp_path
):
    before = by_area(street_user)
    path = tmp_path / "split.csv"
    path.write_text(
        "统计用区划代码,名称,变更\n"
        f"{NEW},桥东三社区居委会,拆分自:{QIAODONG}:康宁小区、丽华苑\n"
        f"{GRID},桥东一社区第一网格,划入:{NEW}\n",
        encoding="utf-8",
    )
    call_command("load_areas", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    new = Area.objects.get(code=NEW)
    assert (new.name, new.official_name) == ("桥东三社区", "桥东三社区居委会")
    assert Area.objects.get(code=GRID).merged_into.code == NEW + "001"
    after = by_area(street_user)
    assert after["桥东三社区"] == 2
    assert after["桥东一社区"] + after["桥东三社区"] == before["桥东一社区"]
    line = AuditEvent.objects.get(
        username="load_areas", detail__change="split", detail__has_key="words"
    )
    assert line.detail["words"] == ["康宁小区", "丽华苑"]


def test_a_split_file_that_makes_no_sense_is_refused_with_row_and_column(areas, tmp_path):
    path = tmp_path / "split.csv"
    path.write_text(
        "统计用区划代码,名称,变更\n"
        f"{NEW},桥东三社区,拆分自:140106001099\n"
        f"{GRID},桥东一社区第一网格,划入:140106002001\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as error:
        call_command("load_areas", str(path))
    message = str(error.value)
    assert "第 2 行“变更”列" in message and "140106001099" in message
    assert "第 3 行“变更”列" in message and "拆分自:140106001001" in message
    assert not Area.objects.filter(code=NEW).exists()


def test_the_page_counts_what_will_move_then_splits(split_world, areas, admin_user, client):
    client.force_login(admin_user)
    source = areas[QIAODONG]
    edit = client.get(reverse("area_update", args=[source.pk])).content.decode()
    assert reverse("area_split", args=[source.pk]) in edit
    url = reverse("area_split", args=[source.pk])
    page = client.get(url).content.decode()
    assert "桥东一社区第一网格" in page and 'value="140106001"' in page
    grid = Area.objects.get(code=GRID)
    data = {"code": NEW, "name": "桥东三社区", "grids": [grid.pk], "words": "康宁小区"}
    counted = client.post(url, data).content.decode()
    assert "统战对象：<strong>1</strong>" in counted
    assert "按地址划入的统战对象：<strong>1</strong>" in counted
    assert not Area.objects.filter(code=NEW).exists()  # counting splits nothing
    assert "拆分无法一键撤销" in counted  # said before the button that splits
    done = client.post(url, {**data, "confirm": "1"}, follow=True).content.decode()
    assert "已从桥东一社区拆分出桥东三社区。" in done
    assert Member.objects.filter(community__code=NEW).count() == 2
    # The grid left behind names the new grid by its code too: the two bear the same name.
    listed = client.get(reverse("area_list"), {"q": GRID}).content.decode()
    assert f'已并入桥东一社区第一网格 <span class="mono">{NEW}001</span>' in listed
    # A grid is not split; refusals land on the form.
    assert client.get(reverse("area_split", args=[grid.pk])).status_code == 404
    again = {"code": "140106002009", "name": "府东三社区", "words": "桥东街", "confirm": "1"}
    refused = client.post(url, again).content.decode()
    assert "区划代码 140106002009 应以上级区划代码 140106001 开头" in refused
    assert Member.objects.filter(community=areas[QIAODONG]).count() > 0


def test_two_splits_at_once_do_not_both_take_a_grid(split_world, areas, admin_user):
    """Two administrators split the same community at once, each taking its grid: the form
    of the second was filled before the first split retired the grid. The second is refused;
    the grid stays merged into the first new community's grid, and no empty copy is made."""
    source = areas[QIAODONG]
    seen_by_second = Area.objects.get(code=GRID)  # read before the first split commits
    first = area_split(
        actor=admin_user, source=source, code=NEW, name="桥东三社区",
        grids=[Area.objects.get(code=GRID)],
    )  # fmt: skip

    with pytest.raises(ValidationError) as error:
        area_split(
            actor=admin_user, source=source, code="140106001010", name="桥东四社区",
            grids=[seen_by_second],
        )  # fmt: skip

    assert "请选择桥东一社区现有的网格" in " ".join(error.value.messages)
    assert not Area.objects.filter(code__startswith="140106001010").exists()
    grid = Area.objects.get(code=GRID)
    assert grid.merged_into == Area.objects.get(code=NEW + "001", parent=first)
    assert Member.objects.get(pk=split_world["in_grid"].pk).community == first


@pytest.mark.parametrize("words", [["%"], ["_"], ["%康宁%"], ["康_小区"]])
def test_address_words_are_matched_as_written_not_as_wildcards(split_world, areas, words):
    """% and _ typed in the addresses are characters, not SQL wildcards: they take nobody."""
    held = dict(area_split_holdings(areas[QIAODONG], [], words))
    assert held["按地址划入的统战对象"] == 0


def test_blank_address_words_take_nothing(split_world, areas, admin_user):
    """Spaces (also the full-width one) are no address word: a split with nothing else is
    refused, not one that matches every address."""
    with pytest.raises(ValidationError):
        area_split(
            actor=admin_user, source=areas[QIAODONG], code=NEW, name="桥东三社区",
            words=[" ", "\u3000", "\n"],
        )  # fmt: skip
    assert not Area.objects.filter(code=NEW).exists()


def test_a_limited_administrator_splits_nothing_outside_her_area_by_the_page(
    split_world, areas, client
):
    """An administrator of another street does not find the page (404, asking or splitting);
    one of the community itself may not split her own area (403). Nothing is made."""
    from conftest import _user

    url = reverse("area_split", args=[areas[QIAODONG].pk])
    grid = Area.objects.get(code=GRID)
    data = {"code": NEW, "name": "桥东三社区", "grids": [grid.pk], "words": "号", "confirm": "1"}
    held = Member.objects.filter(community=areas[QIAODONG]).count()
    client.force_login(_user("kate", "admin", areas["140106002"]))
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    client.force_login(_user("lily", "admin", areas[QIAODONG]))
    assert client.post(url, data).status_code == 403
    assert not Area.objects.filter(code=NEW).exists()
    assert Member.objects.filter(community=areas[QIAODONG]).count() == held


def test_an_administrator_of_another_area_finds_no_split_page(split_world, areas, client):
    from conftest import _user

    url = reverse("area_split", args=[areas[QIAODONG].pk])
    data = {"code": NEW, "name": "桥东三社区", "words": "康宁小区", "confirm": "1"}
    for name, area in (("kate", "140106002"), ("leo", "140105")):
        client.force_login(_user(name, "admin", areas[area]))
        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404
    assert not Area.objects.filter(code=NEW).exists()
    client.force_login(_user("mia", "admin", areas["140106001"]))
    assert client.get(url).status_code == 200
