"""Property-based test (hypothesis) of the roster import on arbitrary cell values: it never
raises, and it never stores a row it reported as refused."""

import datetime
import string

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members.imports import roster_import
from members.models import Member
from members.tests.test_imports import roster
from tongzhan import idnumber
from tongzhan.crypto import lookup_hash

pytestmark = pytest.mark.django_db

# Cell text as people type it, control characters aside (a spreadsheet cannot hold them).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@st.composite
def valid_ids(draw) -> str:
    birth = draw(st.dates(datetime.date(1920, 1, 1), datetime.date(2005, 12, 31)))
    first17 = (
        "140106" + birth.strftime("%Y%m%d") + draw(st.text(string.digits, min_size=3, max_size=3))
    )
    return first17 + idnumber.check_character(first17)


@st.composite
def rows(draw) -> dict:
    """A row an office would accept, with any one cell (or none) replaced by anything."""
    number = draw(valid_ids())
    row = {
        "name": draw(st.sampled_from(["王伟", "李娜", "张敏", "赵强"])),
        "sex": "" if draw(st.booleans()) else ("男" if int(number[16]) % 2 else "女"),
        "ethnicity": "汉族",
        "id_number": number,
        "political_status": "群众",
        "community": draw(st.sampled_from(["桥东一社区", "五一二社区"])),
        "category": "党外知识分子",
    }
    spoiled = draw(st.sampled_from([None, *row]))
    if spoiled is not None:
        row[spoiled] = draw(st.one_of(TEXT, st.integers(-(10**18), 10**18), st.none()))
    return row


ROWS = st.lists(rows(), min_size=1, max_size=8)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=ROWS)
def test_any_cells_are_imported_or_refused_never_half(areas, rows):
    data = roster(*[tuple(row.values()) for row in rows])
    with transaction.atomic():
        report = roster_import(actor=None, data=data, filename="随机.xlsx")
        stored = set(Member.objects.values_list("id_number_hash", flat=True))
        assert len(stored) == report.created
        refused_rows = {error.row for error in report.refused}
        numbers = [idnumber.normalize(row["id_number"]) for row in rows]
        for position, row_number in enumerate(range(3, 3 + len(rows))):
            number = numbers[position]
            # A refused row is not stored, unless the same person is also in an accepted row.
            if row_number in refused_rows and numbers.count(number) == 1 and len(number) == 18:
                assert lookup_hash(number) not in stored, (row_number, rows[position])
        transaction.set_rollback(True)
