"""`load_areas`: the sample loads, re-runs update without duplicating, bad files load nothing."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from tongzhan.models import Area

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "areas.csv"
SAMPLE_ROWS = """code,name,parent_code,level
140106,迎泽区,,district
140106001,柳巷街道,140106,street
140106001001,桥东一社区,140106001,community
140106001002,五一二社区,140106001,community
140106002,文庙街道,140106,street
140106002001,府东一社区,140106002,community
"""


def write(tmp_path, text, name="areas.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def load(path):
    call_command("load_areas", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.django_db
@pytest.mark.skipif(not SAMPLE.exists(), reason="shared/samples is beside the repository")
def test_the_shared_sample_loads():
    load(SAMPLE)
    assert Area.objects.count() == 9
    community = Area.objects.get(code="140106001001")
    assert (community.name, community.level, community.parent.code) == (
        "桥东一社区",
        "community",
        "140106001",
    )


@pytest.mark.django_db
def test_rerunning_renames_and_adds_without_duplicating(tmp_path):
    load(write(tmp_path, SAMPLE_ROWS))
    changed = SAMPLE_ROWS.replace("五一二社区", "五一二东社区") + (
        "140106001003,新建三社区,140106001,community\n140106001003001,第一网格,140106001003,grid\n"
    )
    load(write(tmp_path, changed))
    assert Area.objects.count() == 8
    assert Area.objects.get(code="140106001002").name == "五一二东社区"
    assert Area.objects.get(code="140106001003001").parent.code == "140106001003"


@pytest.mark.django_db
def test_chinese_headers_gbk_encoding_and_chinese_level_words(tmp_path):
    text = (
        "区划代码,名称,上级代码,层级\n140106,迎泽区,,区\n"
        "140106001,柳巷街道,140106,街道\n140106001001,桥东一社区,140106001,社区\n"
    )
    load(write(tmp_path, text, encoding="gb18030"))
    assert list(Area.objects.values_list("level", flat=True)) == ["district", "street", "community"]


@pytest.mark.django_db
def test_xlsx_files_load(tmp_path):
    book = Workbook()
    sheet = book.active
    for row in SAMPLE_ROWS.strip().splitlines():
        sheet.append(row.split(","))
    path = tmp_path / "areas.xlsx"
    book.save(path)
    load(path)
    assert Area.objects.count() == 6


@pytest.mark.django_db
def test_an_official_list_with_codes_typed_as_numbers_loads(tmp_path):
    """Excel keeps a 12-digit code typed in a cell as a number; the digits are what load."""
    book = Workbook()
    sheet = book.active
    sheet.append(["统计用区划代码", "城乡分类代码", "名称"])
    sheet.append([140106000000, None, "迎泽区"])
    sheet.append([140106001000, None, "柳巷街道"])
    sheet.append([140106001001, 111, "桥东一社区居委会"])
    path = tmp_path / "official.xlsx"
    book.save(path)
    load(path)
    assert list(Area.objects.order_by("code").values_list("code", "level", "name")) == [
        ("140106", "district", "迎泽区"),
        ("140106001", "street", "柳巷街道"),
        ("140106001001", "community", "桥东一社区"),
    ]


@pytest.mark.django_db
def test_children_may_come_before_their_parents(tmp_path):
    lines = SAMPLE_ROWS.strip().splitlines()
    load(write(tmp_path, "\n".join([lines[0], *reversed(lines[1:])]) + "\n"))
    assert Area.objects.count() == 6


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        ("140106009001,孤儿社区,140106009,community", "140106009000"),
        ("140107001001,错位社区,140106001,community", "140107001001"),
        ("140106001004,未知层级社区,140106001,village", "village"),
        ("1401060010,位数不对,140106001,community", "12"),
        ("140106002001,重复社区,140106002,community", "7"),
    ],
)
def test_a_bad_row_is_refused_with_its_row_number_and_nothing_loads(tmp_path, bad_row, expected):
    path = write(tmp_path, SAMPLE_ROWS + bad_row + "\n")
    with pytest.raises(CommandError) as error:
        load(path)
    message = str(error.value)
    assert "第 8 行" in message
    assert expected in message
    assert Area.objects.count() == 0


@pytest.mark.django_db
def test_missing_columns_are_named(tmp_path):
    with pytest.raises(CommandError) as error:
        load(write(tmp_path, "code,level\n140106,district\n"))
    assert "名称" in str(error.value)


@pytest.mark.django_db
def test_a_known_code_cannot_change_level(tmp_path):
    load(write(tmp_path, SAMPLE_ROWS))
    with pytest.raises(CommandError) as error:
        load(
            write(tmp_path, "code,name,parent_code,level\n140106001001,桥东一社区,140106,street\n")
        )
    assert "第 2 行" in str(error.value)
    assert Area.objects.get(code="140106001001").level == "community"


@pytest.mark.django_db
def test_every_bad_row_is_reported_in_row_order(tmp_path):
    text = (
        "code,name,parent_code,level\n"
        "140106,迎泽区,,district\n"
        "140106009001,孤儿社区,140106009,community\n"  # row 3: unknown parent
        "14010600A,坏代码,140106,street\n"  # row 4: not digits
    )
    with pytest.raises(CommandError) as error:
        load(write(tmp_path, text))
    lines = str(error.value).splitlines()[1:]
    assert [line.split(" 行")[0] for line in lines] == ["第 3", "第 4"]
