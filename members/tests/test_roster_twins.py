"""Two columns for one field (联系电话 and 手机): no column is left behind (issue 12).

Decided per row: a row takes the field from whichever column is filled; filled in both, the
values must agree once read, or the row is refused naming both columns. A whole file is not
refused for it, since offices often keep an old column half empty beside the new one.
"""

import pytest
from django.utils import translation

from members.imports import roster_import
from members.models import Member
from members.roster_reader import find_header, parse_row

from .factories import id_number_for
from .test_imports import roster

TITLES = (
    "姓名",
    "民族",
    "公民身份号码",
    "政治面貌",
    "所属社区",
    "统战对象类别",
    "联系电话",
    "手机",
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def parsed(phone, mobile):
    header = find_header([(1, ["姓名", "联系电话", "手机"])])
    return parse_row(2, ["张三", phone, mobile], header)


def test_the_filled_column_is_taken_when_the_other_is_empty():
    assert parsed("", 13812345678.0) == ({"name": "张三", "phone": "13812345678"}, [])
    assert parsed("13812345678", "") == ({"name": "张三", "phone": "13812345678"}, [])


def test_columns_that_agree_once_read_give_one_value():
    assert parsed("138 1234 5678", 13812345678.0) == ({"name": "张三", "phone": "13812345678"}, [])


def test_columns_that_disagree_refuse_the_row_naming_both():
    values, errors = parsed("13812345678", "13987654321")
    assert values["phone"] == ""
    [error] = errors
    assert (error.row, error.column) == (2, "联系电话")
    assert error.message == (
        "联系电话 and 手机 are the same field and disagree in this row: keep only the right one."
    )


@pytest.mark.django_db
def test_an_import_with_an_empty_phone_column_takes_the_mobile_column(areas):
    number = id_number_for()
    data = roster(
        ("陈一", "汉族", number, "群众", "桥东一社区", "党外知识分子", "", "13812345678"),
        titles=TITLES,
    )
    report = roster_import(actor=None, data=data, filename="花名册.xlsx")
    assert (report.created, report.refused) == (1, [])
    assert Member.objects.get().phone == "13812345678"


@pytest.mark.django_db
def test_an_import_refuses_a_row_whose_two_phone_columns_disagree(areas):
    data = roster(
        (
            "陈一",
            "汉族",
            id_number_for(),
            "群众",
            "桥东一社区",
            "党外知识分子",
            "13812345678",
            "13987654321",
        ),
        titles=TITLES,
    )
    report = roster_import(actor=None, data=data, filename="花名册.xlsx")
    assert report.created == 0
    assert [(error.row, error.column) for error in report.refused] == [(3, "联系电话")]
    assert "手机" in report.refused[0].message
