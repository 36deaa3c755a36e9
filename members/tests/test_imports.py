"""Importing rosters: what is created, updated, left alone and refused, and what is written."""

import datetime
import gc
import io
import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from openpyxl import Workbook

from members.exports import roster_queryset, write_roster
from members.imports import _Batch, roster_import
from members.models import Member, MemberChange, MemberTally
from members.roster import COLUMNS
from members.services import member_set_status, member_update, tally_refresh
from tongzhan.models import AuditEvent

from .factories import MemberFactory, id_number_for

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "samples" / "roster_sample.xlsx"
SAMPLE_AREAS = Path(__file__).resolve().parents[3] / "shared" / "samples" / "areas.csv"
TITLES = [column.title for column in COLUMNS]


def roster(
    *rows, titles=("姓名", "性别", "民族", "公民身份号码", "政治面貌", "所属社区", "统战对象类别")
):
    """An .xlsx roster as bytes: a title row, then the header, then the rows.

    Without notice columns among `titles`, each row gets the notice the factories record
    (告知书当面送达, today), as every new person's row must give one.
    """
    book = Workbook()
    sheet = book.active
    sheet.append(["某街道统战对象花名册"])
    notice = []
    if not {"告知方式", "告知日期", "未告知原因"} & set(titles):
        notice = ["告知书当面送达", datetime.date.today().isoformat()]
        titles = [*titles, "告知方式", "告知日期"]
    sheet.append(list(titles))
    width = len(titles) - len(notice)
    for row in rows:
        row = list(row)
        if notice:
            row = [*row, *[""] * (width - len(row)), *notice]
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def person(
    name="陈一", community="桥东一社区", number=None, status="群众", category="党外知识分子"
):
    return (name, "男", "汉族", number or id_number_for(), status, community, category)


def run(data, actor=None, **options):
    return roster_import(actor=actor, data=data, filename="花名册.xlsx", **options)


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared/samples is beside the repository")
def test_the_shared_sample(areas):
    call_command("load_areas", str(SAMPLE_AREAS), stdout=io.StringIO())
    report = run(SAMPLE.read_bytes(), dry_run=True)
    refused = {(error.row, error.column) for error in report.refused}
    # The rows the sample's README names: two IDs typed as numbers, a wrong check
    # character, a category that does not exist.
    assert {
        (7, "身份证号码"),
        (21, "身份证号码"),
        (12, "身份证号码"),
        (16, "统战对象类别"),
    } <= refused
    assert report.created + len({row for row, _column in refused}) == 60
    # It has no column of the notice: its new people are registered as not told yet.
    assert report.created > 40 and report.not_informed == report.created
    assert not report.written and not Member.objects.exists()


def test_new_people_are_created_with_history_naming_the_file(areas):
    report = run(roster(person("陈一"), person("陈二", community="140106001002")))
    assert (report.created, report.updated, report.unchanged, report.refused) == (2, 0, 0, [])
    member = Member.objects.get(name="陈二")
    assert member.community.code == "140106001002"
    change = member.changes.get()
    assert (change.action, change.source) == ("create", "导入：花名册.xlsx")
    assert AuditEvent.objects.get(action="import").detail["created"] == 2


def test_reimporting_the_same_file_changes_nothing(areas):
    data = roster(person("陈一"), person("陈二"))
    run(data)
    report = run(data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert MemberChange.objects.count() == 2


def test_known_people_are_updated_only_in_what_changed(areas):
    number = id_number_for()
    run(roster(person("陈一", number=number)))
    report = run(roster(person("陈一", number=number, status="民盟")))
    assert (report.created, report.updated) == (0, 1)
    member = Member.objects.get()
    assert member.political_status.code == "05"
    assert {c.slug for c in member.categories.all()} == {"intellectual", "democratic_party"}
    change = member.changes.get(action="update")
    assert {row["field"] for row in change.changes} == {"political_status", "categories"}
    assert report.changes == [{"row": 3, "name": "陈一", "changes": change.changes}]


def test_empty_cells_do_not_clear_stored_values(areas):
    member = MemberFactory(community=areas["140106001001"], workplace="太原理工大学")
    titles = ("姓名", "民族", "公民身份号码", "政治面貌", "统战对象类别", "工作单位及职务")
    data = roster(
        (member.name, "汉族", member.id_number, "群众", "党外知识分子", ""), titles=titles
    )
    report = run(data, community=areas["140106001001"])
    assert report.refused == []
    member.refresh_from_db()
    assert member.workplace == "太原理工大学"


def test_an_update_keeps_the_phone_and_grid_the_file_does_not_give(areas):
    grid = areas["140106001001001"]
    member = MemberFactory(community=areas["140106001001"], phone="13812345678")
    Member.objects.filter(pk=member.pk).update(grid=grid)
    titles = ("姓名", "民族", "公民身份号码", "政治面貌", "统战对象类别", "工作单位及职务")
    data = roster(
        (member.name, "汉族", member.id_number, "群众", "党外知识分子", "太原理工大学"),
        titles=titles,
    )
    report = run(data, community=areas["140106001001"])
    assert (report.updated, report.refused) == (1, [])
    member = Member.objects.get(pk=member.pk)
    assert member.workplace == "太原理工大学"
    assert (member.phone, member.phone_masked, member.grid) == ("13812345678", "138****5678", grid)
    change = member.changes.get(action="update")
    assert [row["field"] for row in change.changes] == ["workplace"]


def test_an_edit_saved_while_an_import_runs_is_not_undone_by_it(
    areas, district_user, community_user, member, monkeypatch
):
    """The import reads the people a chunk changes, then saves them: a change committed in
    between (an edit here) stays, and the version moves past it."""
    write = _Batch._write

    def edit_meanwhile(self, creates, updates):
        member_update(
            actor=community_user,
            member=Member.objects.get(pk=member.pk),
            data={"workplace": "山西大学"},
        )
        return write(self, creates, updates)

    monkeypatch.setattr(_Batch, "_write", edit_meanwhile)
    version = member.version
    report = run(roster(person(name="张三丰", number=member.id_number)), actor=district_user)
    assert report.updated == 1
    member.refresh_from_db()
    assert (member.name, member.workplace) == ("张三丰", "山西大学")
    assert member.version == version + 2  # the edit's, then the import's


def test_a_person_of_another_community_is_reported_not_moved(areas, neighbour_member):
    data = roster(person("李四", number=neighbour_member.id_number))
    report = run(data)
    [error] = report.refused
    assert (error.row, error.column) == (3, "公民身份号码")
    assert "五一二社区" in error.message
    neighbour_member.refresh_from_db()
    assert neighbour_member.community.code == "140106001002"


def test_the_same_person_twice_in_a_file_is_reported(areas):
    number = id_number_for()
    report = run(roster(person("陈一", number=number), person("陈一", number=number.lower())))
    [error] = report.refused
    assert error.row == 4 and "3" in error.message
    assert Member.objects.count() == 1


def test_a_value_repeated_down_the_file_is_judged_row_by_row(areas):
    # Each distinct value of a column is parsed and validated once per file: every row with
    # it still gets the verdict, and a row changing its categories changes no other row's.
    titles = ("姓名", "性别", "民族", "公民身份号码", "政治面貌", "所属社区", "统战对象类别")
    far_too_long = "某" * 201
    data = roster(
        ("陈一", "男", "火星族", id_number_for(), "群众", "桥东一社区", "党外知识分子"),
        ("陈二", "男", "火星族", id_number_for(), "群众", "桥东一社区", "党外知识分子"),
        ("陈三", "男", "汉族", id_number_for(), "民盟盟员", "桥东一社区", "党外知识分子"),
        ("陈四", "男", "汉族", id_number_for(), "群众", "桥东一社区", "党外知识分子"),
        ("陈五", "男", "汉族", id_number_for(), "群众", "桥东一社区", "党外知识分子", far_too_long),
        ("陈六", "男", "汉族", id_number_for(), "群众", "桥东一社区", "党外知识分子", far_too_long),
        titles=(*titles, "工作单位及职务"),
    )
    report = run(data)
    refused = sorted((error.row, error.column) for error in report.refused)
    assert refused == [(3, "民族"), (4, "民族"), (7, "工作单位及职务"), (8, "工作单位及职务")]
    assert report.refused[0].message == report.refused[1].message
    assert report.created == 2
    slugs = {
        member.name: sorted(member.categories.values_list("slug", flat=True))
        for member in Member.objects.all()
    }
    assert slugs == {"陈三": ["democratic_party", "intellectual"], "陈四": ["intellectual"]}


def test_strict_mode_writes_nothing_if_a_row_is_refused(areas):
    report = run(roster(person("陈一"), person("陈二", category="热心群众")), strict=True)
    assert report.created == 1 and len(report.refused) == 1
    assert not report.written and not Member.objects.exists()


def test_strict_mode_undoes_chunks_written_before_the_refused_row(areas, monkeypatch):
    from members import imports

    monkeypatch.setattr(imports, "CHUNK", 1)
    report = run(
        roster(person("陈一"), person("陈二"), person("陈三", category="热心群众")), strict=True
    )
    assert report.created == 2 and [error.row for error in report.refused] == [5]
    assert not report.written
    assert not Member.objects.exists() and not MemberChange.objects.exists()


def test_a_crash_half_way_writes_nothing(areas, monkeypatch):
    from members import imports

    insert = imports.insert_rows
    written = []

    def crash_at_the_second_history(model, columns, rows):
        # By then the first row's member, categories and history are written.
        if model is MemberChange and MemberChange in written:
            raise RuntimeError("disk full")
        insert(model, columns, rows)
        written.append(model)

    monkeypatch.setattr(imports, "CHUNK", 1)
    monkeypatch.setattr(imports, "insert_rows", crash_at_the_second_history)
    with pytest.raises(RuntimeError):
        run(roster(person("陈一"), person("陈二")))
    assert MemberChange in written
    assert not Member.objects.exists()
    assert not AuditEvent.objects.filter(action="import").exists()


def test_an_import_leaves_the_garbage_collector_as_it_found_it(areas, monkeypatch):
    # It runs the collector less often while it works (a process-wide setting), and puts
    # the setting back when it ends, also when it fails half-way.
    from members import imports

    before = gc.get_threshold()
    seen = []

    def crash(model, columns, rows):
        seen.append(gc.get_threshold())
        raise RuntimeError("disk full")

    run(roster(person("陈一")))
    assert gc.get_threshold() == before
    monkeypatch.setattr(imports, "insert_rows", crash)
    with pytest.raises(RuntimeError):
        run(roster(person("陈二")))
    assert seen[0][0] >= 50_000
    assert gc.get_threshold() == before


def test_an_officer_cannot_import_into_another_area(areas, other_district_user):
    report = run(roster(person("陈一", community="府东一社区")), actor=other_district_user)
    [error] = report.refused
    assert error.column == "所属社区"
    assert not Member.objects.exists()


def test_a_community_worker_may_not_import(areas, community_user):
    with pytest.raises(PermissionDenied):
        run(roster(person()), actor=community_user)


def test_unknown_and_missing_columns_stop_the_import(areas):
    from members.roster_reader import RosterFileError

    data = roster(("陈一", "汉族", "x"), titles=("姓名", "民族", "入党时间"))
    with pytest.raises(RosterFileError) as error:
        run(data)
    assert "入党时间" in error.value.message and "证件号码" in error.value.message


def test_an_export_reimports_unchanged(areas, district_user):
    for index in range(5):
        MemberFactory(community=areas["140106001001" if index % 2 else "140106002001"])
    out = io.BytesIO()
    write_roster(roster_queryset(Member.objects.all(), full=True), out, full=True)
    report = roster_import(actor=district_user, data=out.getvalue(), filename="export.xlsx")
    assert (report.created, report.updated, report.unchanged, report.refused) == (0, 0, 5, [])


def test_command_prints_json_last(areas, tmp_path):
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(roster(person("陈一"), person("陈二", category="热心群众")))
    out = io.StringIO()
    call_command("import_members", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["created"] == 1 and result["updated"] == 0 and result["unchanged"] == 0
    assert result["refused"][0]["row"] == 4
    assert result["refused"][0]["column"] == "统战对象类别"
    assert Member.objects.count() == 1


@pytest.mark.parametrize("count", [3, 12])
def test_queries_do_not_grow_with_the_rows(areas, count, django_assert_max_num_queries):
    rows = [person(f"陈{index}") for index in range(count)]
    data = roster(*rows)
    tallies = 6  # the dashboards' tallies updated once, whatever the rows
    with django_assert_max_num_queries(20 + tallies):
        run(data)  # create
    with django_assert_max_num_queries(20 + tallies):
        run(data)  # all unchanged
    changed = roster(*[(*row[:4], "民盟", *row[5:]) for row in rows])
    with django_assert_max_num_queries(20 + tallies + 4 * count):  # an update saves each
        run(changed)


# As the command and the workers run it: no transaction of the caller's around the import,
# so these see what is really committed.
outside_a_transaction = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@outside_a_transaction
def test_outside_a_transaction_the_writes_commit_together(areas, monkeypatch):
    from members import imports

    monkeypatch.setattr(imports, "CHUNK", 1)
    report = run(roster(person("陈一"), person("陈二"), person("陈三")))
    assert report.written and report.created == 3
    assert Member.objects.count() == 3 and MemberChange.objects.count() == 3
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).count() == 1


@outside_a_transaction
def test_outside_a_transaction_a_crash_half_way_writes_nothing(areas, monkeypatch):
    from members import imports

    insert = imports.insert_rows
    written = []

    def crash_at_the_second_history(model, columns, rows):
        if model is MemberChange and MemberChange in written:
            raise RuntimeError("disk full")
        insert(model, columns, rows)
        written.append(model)

    monkeypatch.setattr(imports, "CHUNK", 1)
    monkeypatch.setattr(imports, "insert_rows", crash_at_the_second_history)
    with pytest.raises(RuntimeError, match="disk full"):
        run(roster(*(person(f"陈{index}") for index in range(6))))
    assert MemberChange in written
    assert not Member.objects.exists() and not MemberChange.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


@outside_a_transaction
def test_outside_a_transaction_strict_mode_undoes_the_chunks_written(areas, monkeypatch):
    from members import imports

    monkeypatch.setattr(imports, "CHUNK", 1)
    report = run(
        roster(person("陈一"), person("陈二"), person("陈三", category="热心群众")), strict=True
    )
    assert not report.written and [error.row for error in report.refused] == [5]
    assert not Member.objects.exists() and not MemberChange.objects.exists()


def test_an_empty_ethnic_group_or_political_status_is_refused_not_a_crash(areas):
    # Found by the property test: an empty 民族 cell raised KeyError instead of refusing.
    no_group = ("陈二", "男", None, id_number_for(), "群众", "桥东一社区", "党外知识分子")
    no_status = ("陈三", "男", "汉族", id_number_for(), None, "桥东一社区", "党外知识分子")
    report = run(roster(no_group, no_status))
    assert report.created == 0
    assert {(error.row, error.column) for error in report.refused} == {(3, "民族"), (4, "政治面貌")}
    assert all("不能为空" in error.message for error in report.refused)


def test_an_arabic_indic_digit_does_not_import_a_person_twice(areas, member):
    lookalike = "\u0661" + member.id_number[1:]
    report = run(roster(person(member.name, number=lookalike)))
    assert report.created == 0
    [error] = report.refused
    assert (error.row, error.column) == (3, "公民身份号码")
    assert "第 1 个字符" in error.message
    assert Member.objects.count() == 1


@outside_a_transaction
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_a_status_change_during_an_import_waits_for_it_and_keeps_both(
    areas, district_user, member, monkeypatch
):
    """A status change saved from another connection while the import is between reading a
    person and writing them waits for the import, then applies on what it wrote: both
    changes stay and the dashboards' tallies still equal a recount."""
    write = _Batch._write
    others, waited = [], []

    def set_status():
        try:
            member_set_status(
                actor=district_user,
                member=Member.objects.get(pk=member.pk),
                status=Member.Status.MOVED_OUT,
                date=datetime.date(2026, 3, 1),
                reason="迁居外地",
            )
        finally:
            connection.close()

    def status_change_meanwhile(self, creates, updates):
        others.append(threading.Thread(target=set_status))
        others[0].start()
        others[0].join(timeout=1)
        waited.append(others[0].is_alive())  # blocked on the import's lock
        write(self, creates, updates)

    monkeypatch.setattr(_Batch, "_write", status_change_meanwhile)
    version = member.version
    report = run(roster(person(name="张三丰", number=member.id_number)), actor=district_user)
    others[0].join(timeout=10)
    assert report.updated == 1 and waited == [True]
    member.refresh_from_db()
    assert (member.name, member.status) == ("张三丰", Member.Status.MOVED_OUT)
    assert member.version == version + 2
    counted = Counter(
        {
            (row.community_id, row.dimension, row.value): row.count
            for row in MemberTally.objects.all()
        }
    )
    tally_refresh(communities=[member.community_id])
    assert counted == Counter(
        {
            (row.community_id, row.dimension, row.value): row.count
            for row in MemberTally.objects.all()
        }
    )
