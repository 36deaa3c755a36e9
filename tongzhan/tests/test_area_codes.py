"""Area codes as the statistics bureau publishes them: 12 digits for every level, no parent or
level column, official names (…社区居委会). Stored short, so scoping by prefix keeps working;
shown to people in the 12-digit form."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from members.models import Member
from members.tests.factories import MemberFactory
from tongzhan.models import (
    Area,
    community_name_key,
    official_code,
    short_code,
    street_name_key,
)
from tongzhan.scoping import within_area

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "areas_official.csv"
# The example of issue 14: 小店区, 坞城街道, 南内环一社区 as the district received them.
ISSUE_ROWS = """统计用区划代码,城乡分类代码,名称
140105000000,,小店区
140105001000,,坞城街道
140105001001,111,南内环一社区居民委员会
"""


def write(tmp_path, text, name="areas.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(path):
    call_command("load_areas", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115


def refusal(path) -> str:
    with pytest.raises(CommandError) as error:
        load(path)
    return str(error.value)


def test_official_codes_become_short_ones_by_their_trailing_zeros():
    assert short_code("140105000000") == "140105"
    assert short_code("140105001000") == "140105001"
    assert short_code("140105001001") == "140105001001"
    assert short_code("140105001001002") == "140105001001002"  # a grid's, as it is
    assert [official_code(code) for code in ("140105", "140105001", "140105001001")] == [
        "140105000000",
        "140105001000",
        "140105001001",
    ]


@pytest.mark.django_db
def test_the_issues_12_digit_list_loads_with_parents_and_levels_from_the_codes(tmp_path):
    load(write(tmp_path, ISSUE_ROWS))
    rows = list(Area.objects.values_list("code", "level", "parent__code", "name"))
    assert rows == [
        ("140105", "district", None, "小店区"),
        ("140105001", "street", "140105", "坞城街道"),
        ("140105001001", "community", "140105001", "南内环一社区"),
    ]
    community = Area.objects.get(code="140105001001")
    assert community.official_code == "140105001001"
    assert community.official_name == "南内环一社区居民委员会"
    assert community.urban_rural_code == "111"
    assert Area.objects.get(code="140105").official_code == "140105000000"


@pytest.mark.django_db
@pytest.mark.skipif(not OFFICIAL.exists(), reason="shared/samples is beside the repository")
def test_the_official_sample_loads_and_the_short_sample_then_changes_nothing(tmp_path):
    load(OFFICIAL)
    assert Area.objects.count() == 9
    qiaodong = Area.objects.get(code="140106001001")
    assert (qiaodong.name, qiaodong.official_name, qiaodong.parent.code) == (
        "桥东一社区",
        "桥东一社区居委会",
        "140106001",
    )
    # The short-form file of the same district names the same areas: nothing new, nothing
    # renamed, the official name kept.
    load(OFFICIAL.with_name("areas.csv"))
    assert Area.objects.count() == 9
    qiaodong.refresh_from_db()
    assert (qiaodong.name, qiaodong.official_name) == ("桥东一社区", "桥东一社区居委会")


@pytest.mark.django_db
def test_an_official_list_keeps_the_name_people_use(areas, tmp_path):
    """An area loaded as 桥东一 keeps that name when the bureau's list calls it
    桥东一社区居委会: the same community, spelled two ways."""
    area = areas["140106001002"]
    area.name = "五一二"
    area.save()
    load(write(tmp_path, "统计用区划代码,名称\n140106001002,五一二社区居委会\n"))
    area.refresh_from_db()
    assert (area.name, area.official_name) == ("五一二", "五一二社区居委会")


@pytest.mark.django_db
def test_short_and_official_codes_and_grids_mix_in_one_file(tmp_path):
    text = (
        "code,name,parent_code,level\n"
        "140106000000,迎泽区,,\n"  # official, level from the code
        "140106001,柳巷街道,140106,street\n"  # short, everything given
        "140106001001,桥东一社区居委会,140106001000,\n"  # parent in the official form
        "140106002000,文庙街道,,街道\n"
        "140106002001,府东一社区,,\n"
        "140106001001001,桥东一第一网格,,\n"  # a grid's code given, parent implied
        ",桥东一第二网格,140106001001,grid\n"  # a grid without a code: one is made
        ",桥东一第三网格,140106001001,网格\n"
    )
    load(write(tmp_path, text))
    grids = list(
        Area.objects.filter(level="grid").order_by("code").values_list("code", "name", "parent")
    )
    community = Area.objects.get(code="140106001001")
    assert grids == [
        ("140106001001001", "桥东一第一网格", community.pk),
        ("140106001001002", "桥东一第二网格", community.pk),
        ("140106001001003", "桥东一第三网格", community.pk),
    ]
    assert Area.objects.get(code="140106002001").parent.code == "140106002"
    # One prefix still finds everything below the street, whatever form the file used.
    below = Area.objects.filter(within_area("140106001")).count()
    assert below == 1 + 1 + 3


@pytest.mark.django_db
def test_a_made_grid_code_follows_the_grids_already_loaded(areas, tmp_path):
    load(write(tmp_path, "code,name,parent_code,level\n,新网格,140106001001,grid\n"))
    assert Area.objects.get(name="新网格").code == "140106001001002"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("1401050010,位数不对", ["第 3 行", "“统计用区划代码”列", "10 位", "12 位"]),
        ("14010500100A,坏代码", ["第 3 行", "“统计用区划代码”列", "非数字"]),
        ("140105002001,孤儿社区", ["第 3 行", "140105002000", "既不在本文件中"]),
        ("140105001002,", ["第 3 行", "“名称”列", "名称为空"]),
    ],
)
def test_refusals_name_the_row_the_column_and_why_in_chinese(tmp_path, row, says):
    text = "统计用区划代码,名称\n140105000000,小店区\n" + row + "\n"
    message = refusal(write(tmp_path, text))
    for words in says:
        assert words in message, message
    assert Area.objects.count() == 0


@pytest.mark.django_db
def test_a_community_code_ending_in_000_is_refused_as_a_street_code(tmp_path):
    text = (
        "code,name,parent_code,level\n"
        "140105,小店区,,district\n"
        "140105001000,某社区,140105,community\n"
    )
    message = refusal(write(tmp_path, text))
    assert "第 3 行" in message and "以 000 结尾" in message


def test_a_community_is_the_same_however_a_file_spells_it():
    spellings = ["桥东一社区", "桥东一社区居委会", "桥东一社区居民委员会", "桥东一居委会"]
    for spelling in spellings:
        assert community_name_key(spelling) == community_name_key("桥东一社区"), spelling
    assert community_name_key("桥东一社区") != community_name_key("桥东二社区")
    for spelling in ("张庄村村民委员会", "张庄村委会", "张庄村民委员会", " 张庄村 "):
        assert community_name_key(spelling) == community_name_key("张庄村"), spelling
    assert street_name_key("柳巷街道办事处") == street_name_key("柳巷街道")
    assert street_name_key("东山镇人民政府") == street_name_key("东山镇")
    assert street_name_key("东山镇") != street_name_key("东山乡")


@pytest.mark.django_db
def test_people_see_the_12_digit_code_and_may_search_by_it(client, admin_user, areas):
    client.force_login(admin_user)
    page = client.get(reverse("area_list"), {"q": "140106001000"})
    codes = [area.code for area in page.context["areas"]]
    assert codes[0] == "140106001" and all(code.startswith("140106001") for code in codes)
    html = page.content.decode()
    assert "140106001000" in html and "140106000000" not in html
    edit = client.get(reverse("area_update", args=[areas["140106001"].pk])).content.decode()
    assert "140106001000" in edit


@pytest.mark.django_db
def test_scoping_reads_the_short_code_stored_whatever_the_file_gave(tmp_path, client):
    """A street officer of a street loaded from the official list sees its members."""
    from conftest import _user

    load(write(tmp_path, ISSUE_ROWS))
    street = Area.objects.get(code="140105001")
    officer = _user("wucheng", "street", street)
    MemberFactory(community=Area.objects.get(code="140105001001"))
    assert Member.objects.visible_to(officer).count() == 1


@pytest.mark.django_db
def test_the_area_form_takes_a_streets_official_code(client, admin_user, areas):
    client.force_login(admin_user)
    response = client.post(
        reverse("area_create"),
        {"name": "新街道", "code": "140106003000", "level": "street", "parent": areas["140106"].pk},
    )
    assert response.status_code == 302
    assert Area.objects.get(name="新街道").code == "140106003"


@pytest.mark.django_db
def test_an_official_name_added_is_not_counted_as_a_rename(areas, tmp_path):
    """The bureau's list beside areas loaded short: the names people use stay, so the summary
    says the official names were added, not that communities were renamed."""
    import io

    out = io.StringIO()
    call_command(
        "load_areas",
        str(write(tmp_path, "统计用区划代码,名称\n140106001002,五一二社区居委会\n")),
        stdout=out,
    )
    assert "更名 0 个，补充规范名称或代码 1 个，" in out.getvalue()
    out = io.StringIO()
    call_command(
        "load_areas",
        str(write(tmp_path, "统计用区划代码,名称\n140106001002,五一二新社区\n")),
        stdout=out,
    )
    assert "更名 1 个，补充规范名称或代码 0 个，" in out.getvalue()
