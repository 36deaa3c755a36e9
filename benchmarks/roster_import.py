"""Time the roster import (members/imports.py) of a district-sized file on PostgreSQL.

Run from the repository root:

    .venv/bin/python benchmarks/roster_import.py [--rows 100000] [--compare-rows N] [--reuse-file]

It creates the database named by DATABASE_URL if missing (default: the local
`tongzhan_import_bench`), migrates it, loads the demo areas (`seed_demo --members 0`), writes a
roster as offices keep it into $TMPDIR, and imports it in a child process (so the memory
figure is the import's alone) into emptied member tables, then again into the filled tables
(the re-import). For comparison it imports the same file with a plain django-import-export
ModelResource. See benchmarks/README.md.
"""

import argparse
import datetime
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import common  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_import_bench"
# Issue 15: the whole import within 5 times the floor (reading the file with calamine and
# COPYing its cells into PostgreSQL, measured in the same run), under 400 MB.
GOAL_RATIO = 5
GOAL_MB = 400

HEADERS = [
    "序号",
    "姓名",
    "性别",
    "民族",
    "出生年月",
    "身份证号码",
    "政治面貌",
    "文化程度",
    "工作单位及职务",
    "联系电话",
    "现居住地址",
    "所属社区",
    "统战对象类别",
    "备注",
]
# Political statuses as offices write them: the standard short forms and, for 15 %, the
# colloquial 党员 (our import knows it as an alias; it is no PoliticalStatus.short_name).
STATUSES = [("群众", 50), ("中共党员", 20), ("党员", 15), ("无党派人士", 15)]
EDUCATION = ["研究生", "大学本科", "大专", "高中"]
CATEGORIES = ["党外知识分子", "新阶层", "非公经济人士", "留学人员", "港胞", "台胞台属", "归侨侨眷"]
SURNAMES = "王李张刘赵杨郭陈孙高武贾阎郝"
GIVEN = "明华强伟芳丽军建国志红秀英玉兰海涛"
STREETS = ["迎泽大街", "并州路", "桥东街", "郝庄路", "双塔寺街", "五一路"]


def setup_django() -> None:
    common.setup_django(DEFAULT_DATABASE_URL)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- The database ------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """CREATE DATABASE if the one named by the URL does not exist."""
    import psycopg

    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return  # refused after setup, with the message
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}.")


def empty_member_tables() -> None:
    from django.db import connection

    # The audit lines of earlier runs stay: the log is append-only (migration 0004).
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE members_member, members_membercategory, members_memberchange "
            "RESTART IDENTITY CASCADE"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) members_member")


# -- The file ----------------------------------------------------------------------------------


def write_roster(
    path: Path, rows: int, seed: int, communities: list[str], title: bool = True
) -> None:
    """A roster as offices keep it: a merged title row, the header on row 2, 14 columns.

    Without `title`, the same rows with the header on row 1 (for tablib, see below).
    """
    from openpyxl import Workbook
    from openpyxl.worksheet.cell_range import CellRange

    from tongzhan.idnumber import check_character

    rng = random.Random(seed)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    if title:
        sheet.append(["迎泽区统战对象花名册"])
        sheet.merged_cells.add(CellRange(f"A1:{chr(ord('A') + len(HEADERS) - 1)}1"))
    sheet.append(HEADERS)
    statuses = [value for value, _weight in STATUSES]
    weights = [weight for _value, weight in STATUSES]
    seen = set()
    for index in range(rows):
        while True:
            birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(0, 28000))
            first17 = f"140106{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
            if first17 not in seen:
                seen.add(first17)
                break
        sex = "男" if int(first17[16]) % 2 else "女"
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))
        sheet.append(
            [
                index + 1,
                name,
                sex,
                "汉族",
                f"{birth:%Y.%m}",
                first17 + check_character(first17),
                rng.choices(statuses, weights)[0],
                rng.choice(EDUCATION),
                "某某有限公司 经理",
                f"13{rng.randrange(10**8, 10**9)}",
                f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
                rng.choice(communities),
                "、".join(rng.sample(CATEGORIES, rng.choice([1, 1, 2]))),
                "",
            ]
        )
    book.save(path)


# -- The children: one import each, measured alone ----------------------------------------------


def backend_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend of this process's connection has used so far, when
    the server runs on this machine (/proc), else None."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, fields 14 and 15 of stat(5), counted after the command's ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_figures(python_begin: float, backend_begin: float | None) -> dict:
    """CPU seconds of the child and of its database backend since the beginnings given: what
    the work costs whatever else the machine runs at the time (the wall time depends on it)."""
    backend = backend_cpu()
    return {
        "cpu": time.process_time() - python_begin,
        "pg_cpu": None if backend is None or backend_begin is None else backend - backend_begin,
    }


def child_ours(path: Path) -> dict:
    from members.imports import roster_import

    data = path.read_bytes()
    backend_begin, python_begin = backend_cpu(), time.process_time()
    begin = time.perf_counter()
    report = roster_import(actor=None, data=data, filename=path.name)
    seconds = time.perf_counter() - begin
    cpu = cpu_figures(python_begin, backend_begin)
    refused_rows = len({error.row for error in report.refused})
    return {
        **cpu,
        "seconds": seconds,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "refused": refused_rows,
        "first_refusal": str(report.refused[0]) if report.refused else "",
    }


def child_floor(path: Path) -> dict:
    """The floor: what reading the file and storing its cells costs, with nothing checked.

    calamine reads the first sheet, every row below the header goes as text cells into an
    unlogged table by COPY, committed. No import can do less and keep the file's contents.
    """
    import io

    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    data = path.read_bytes()
    backend_begin, python_begin = backend_cpu(), time.process_time()
    begin = time.perf_counter()
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheet = workbook.get_sheet_by_index(0)
    width = len(HEADERS)
    columns = ", ".join(f"c{index} text" for index in range(width))
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(f"CREATE UNLOGGED TABLE bench_floor ({columns})")
        names = ", ".join(f"c{index}" for index in range(width))
        with cursor.cursor.copy(f"COPY bench_floor ({names}) FROM STDIN") as copy:
            for number, cells in enumerate(sheet.iter_rows()):
                if number < 2:  # the title and the header
                    continue
                copy.write_row([str(cell) for cell in cells[:width]])
                rows += 1
    seconds = time.perf_counter() - begin
    cpu = cpu_figures(python_begin, backend_begin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_floor")
        stored = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_floor")
    workbook.close()
    return {**cpu, "seconds": seconds, "created": stored, "refused": 0, "first_refusal": ""}


WRITTEN = ["members_member", "members_membercategory", "members_memberchange"]


def child_write(_path: Path) -> dict:
    """What PostgreSQL alone spends storing the import's rows, with nothing read or checked.

    The rows the import just wrote (members, their categories, their history) are copied aside,
    the tables emptied, and the rows inserted again in one statement per table, their deferred
    foreign keys checked: the schema's share of the import, which no design of the Python side
    can go below. Then again with only the primary keys and the one-number-one-person unique
    index, to show what the other indexes and the foreign keys cost. Everything is rolled back.
    """
    from django.db import connection, transaction

    figures = {}
    with connection.cursor() as cursor, transaction.atomic():
        for table in WRITTEN:
            cursor.execute(f"CREATE TEMP TABLE keep_{table} AS SELECT * FROM {table}")  # noqa: S608 (our names)
        cursor.execute("SELECT count(*) FROM members_member")
        rows = cursor.fetchone()[0]

        def insert_all(label):
            cursor.execute(f"TRUNCATE {', '.join(WRITTEN)} CASCADE")
            begin = time.perf_counter()
            for table in WRITTEN:
                cursor.execute(f"INSERT INTO {table} SELECT * FROM keep_{table}")  # noqa: S608
            inserted = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            figures[label] = (inserted - begin, time.perf_counter() - inserted)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

        with transaction.atomic():
            insert_all("schema")
            transaction.set_rollback(True)
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [WRITTEN],
        )
        for table, name in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index i "
            "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary "
            "AND indexrelid::regclass::text <> 'member_unique_id_number' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [WRITTEN],
        )
        for (index,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{index}"')
        insert_all("bare")
        transaction.set_rollback(True)
    schema, bare = figures["schema"], figures["bare"]
    return {
        "seconds": sum(schema),
        "created": rows,
        "refused": 0,
        "first_refusal": "",
        "peak_mb": peak_mb(),
        "insert": schema[0],
        "foreign_keys": schema[1],
        "bare": sum(bare),
    }


def child_import_export(path: Path) -> dict:
    import tablib
    from import_export import fields, resources, widgets

    from members.models import Ethnicity, Member, PoliticalStatus
    from tongzhan.models import Area

    class ChoiceWidget(widgets.CharWidget):
        """The file's label to the stored code; an unknown label is kept (and fails later)."""

        def __init__(self, choices: dict):
            super().__init__()
            self.choices = choices

        def clean(self, value, row=None, **kwargs):
            value = super().clean(value, row, **kwargs)
            return self.choices.get(value, value)

    class MemberResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="姓名")
        sex = fields.Field(
            attribute="sex", column_name="性别", widget=ChoiceWidget({"男": "M", "女": "F"})
        )
        ethnicity = fields.Field(
            attribute="ethnicity",
            column_name="民族",
            widget=widgets.ForeignKeyWidget(Ethnicity, field="name"),
        )
        birth_date = fields.Field(
            attribute="birth_date", column_name="出生年月", widget=widgets.DateWidget("%Y.%m")
        )
        political_status = fields.Field(
            attribute="political_status",
            column_name="政治面貌",
            widget=widgets.ForeignKeyWidget(PoliticalStatus, field="short_name"),
        )
        education = fields.Field(
            attribute="education",
            column_name="文化程度",
            widget=ChoiceWidget({"研究生": "14", "大学本科": "21", "大专": "31", "高中": "61"}),
        )
        workplace = fields.Field(attribute="workplace", column_name="工作单位及职务")
        address = fields.Field(attribute="address", column_name="现居住地址")
        community = fields.Field(
            attribute="community",
            column_name="所属社区",
            widget=widgets.ForeignKeyWidget(Area, field="name"),
        )
        notes = fields.Field(attribute="notes", column_name="备注")

        class Meta:
            model = Member
            fields = (
                "name",
                "sex",
                "ethnicity",
                "birth_date",
                "political_status",
                "education",
                "workplace",
                "address",
                "community",
                "notes",
            )
            # The file has no id column and matching on the ID number would need its hash:
            # every row is a new instance, without a lookup (no `import_id_fields` matching).
            force_init_instance = True
            skip_unchanged = False
            use_bulk = True
            batch_size = 1000

        def import_instance(self, instance, row, **kwargs):
            super().import_instance(instance, row, **kwargs)
            # The encrypted columns and their hashes (the hash is unique) need the model's
            # setters; a plain field would leave id_number_hash empty for every row.
            instance.set_id_number(str(row["身份证号码"]))
            instance.set_phone(str(row["联系电话"] or ""))

    # tablib cannot load the office's file at all: the title row is one cell wide and tablib
    # raises InvalidDimensions. The parent writes the same rows without it for this run.
    dataset = tablib.Dataset().load(path.read_bytes(), format="xlsx")
    member_resource = MemberResource()
    begin = time.perf_counter()
    result = member_resource.import_data(dataset, dry_run=False, raise_errors=False)
    seconds = time.perf_counter() - begin
    first_error = ""
    if result.row_errors():
        first_error = repr(result.row_errors()[0][1][0].error)
    elif result.invalid_rows:
        first_error = str(result.invalid_rows[0].error_dict)
    return {
        "seconds": seconds,
        "created": result.totals.get("new", 0),
        "refused": result.totals.get("error", 0) + result.totals.get("invalid", 0),
        "members_in_table": Member.objects.count(),
        "first_refusal": first_error[:200],
    }


def run_child(kind: str, path: Path) -> dict:
    completed = subprocess.run(  # noqa: S603 (this script, with arguments it chose)
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"The {kind} child failed (exit {completed.returncode}).")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def cpu_text(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}"


# -- The parent --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--compare-rows",
        type=int,
        default=None,
        help="rows for the django-import-export run (default: --rows; fewer are extrapolated)",
    )
    parser.add_argument(
        "--reuse-file",
        action="store_true",
        help="use the roster in $TMPDIR if it was written before with the same rows and seed",
    )
    parser.add_argument("--no-compare", action="store_true", help="skip django-import-export")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        kind, file = options.child
        setup_django()
        children = {"ours": child_ours, "floor": child_floor, "write": child_write}
        outcome = children.get(kind, child_import_export)(Path(file))
        outcome["peak_mb"] = peak_mb()
        print(json.dumps(outcome, ensure_ascii=False))
        return 0

    ensure_database(os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL))
    setup_django()

    from django.core.management import call_command
    from django.db import connection

    from tongzhan.models import Area

    if connection.vendor != "postgresql":
        print(f"DATABASE_URL must point at PostgreSQL, not {connection.vendor}.", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    if not Area.objects.communities().exists():
        call_command("seed_demo", members=0, verbosity=0)
    communities = list(Area.objects.communities().values_list("name", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]

    def roster(rows: int, title: bool = True) -> Path:
        suffix = "" if title else "-no-title"
        name = f"tongzhan-roster-{rows}-seed{options.seed}{suffix}.xlsx"
        path = Path(tempfile.gettempdir()) / name
        if options.reuse_file and path.exists():
            print(f"Reusing {path}.")
        else:
            begin = time.monotonic()
            write_roster(path, rows, options.seed, communities, title)
            print(f"Wrote {path} ({rows} rows) in {time.monotonic() - begin:.1f} s.")
        return path

    path = roster(options.rows)
    print(
        f"PostgreSQL {version}; {len(communities)} communities; "
        f"{path.stat().st_size / 1e6:.1f} MB file."
    )

    results = []  # (implementation, run, rows, outcome, extrapolated)
    print("floor: calamine and COPY of the cells...", flush=True)
    results.append(("floor", "read+COPY", options.rows, run_child("floor", path), False))
    empty_member_tables()
    print("ours, import...", flush=True)
    results.append(("ours", "import", options.rows, run_child("ours", path), False))
    print("the write alone: the imported rows inserted again...", flush=True)
    written = run_child("write", path)
    print("ours, re-import...", flush=True)
    results.append(("ours", "re-import", options.rows, run_child("ours", path), False))
    if not options.no_compare and importlib.util.find_spec("import_export") is None:
        print("django-import-export is not installed (pip install -e .[bench]): not compared.")
    elif not options.no_compare:
        compare_rows = options.compare_rows or options.rows
        compare_path = roster(compare_rows, title=False)
        empty_member_tables()
        print("django-import-export, import...", flush=True)
        outcome = run_child("import-export", compare_path)
        results.append(("django-import-export", "import", compare_rows, outcome, False))
        if compare_rows != options.rows:
            factor = options.rows / compare_rows
            scaled = dict(
                outcome,
                seconds=outcome["seconds"] * factor,
                created=round(outcome["created"] * factor),
                refused=round(outcome["refused"] * factor),
                peak_mb=None,
            )
            results.append(("django-import-export", "import", options.rows, scaled, True))
        empty_member_tables()

    header = (
        f"{'implementation':<22} {'run':<10} {'rows':>8} {'seconds':>8} {'rows/s':>8} "
        f"{'peak MB':>8} {'created':>8} {'unchanged':>9} {'refused':>8} {'CPU s':>6} "
        f"{'PG CPU s':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for implementation, run, rows, outcome, extrapolated in results:
        peak = "—" if outcome["peak_mb"] is None else f"{outcome['peak_mb']:.0f}"
        label = run + (" *" if extrapolated else "")
        print(
            f"{implementation:<22} {label:<10} {rows:>8} {outcome['seconds']:>8.1f} "
            f"{rows / outcome['seconds']:>8.0f} {peak:>8} {outcome['created']:>8} "
            f"{outcome.get('unchanged', ''):>9} {outcome['refused']:>8} "
            f"{cpu_text(outcome.get('cpu')):>6} {cpu_text(outcome.get('pg_cpu')):>8}"
        )
    if any(extrapolated for *_rest, extrapolated in results):
        print(f"* extrapolated linearly from {options.compare_rows} rows; not measured.")
    for implementation, run, _rows, outcome, extrapolated in results:
        if outcome.get("first_refusal") and not extrapolated:
            print(f"First refusal ({implementation}, {run}): {outcome['first_refusal']}")
        if implementation == "django-import-export" and not extrapolated:
            print(
                f"Rows in members_member after the django-import-export run: "
                f"{outcome['members_in_table']} (import_data rolls back everything when any "
                f"row has an error)."
            )
    floor, ours, again = results[0][3], results[1][3], results[2][3]
    ratio = ours["seconds"] / floor["seconds"]
    if floor.get("pg_cpu") is not None and ours.get("pg_cpu") is not None:
        floor_cpu = max(floor["cpu"] + floor["pg_cpu"], 0.01)  # the clock ticks 1/100 s
        ours_cpu = ours["cpu"] + ours["pg_cpu"]
        print(
            f"\nCPU seconds (Python and PostgreSQL): floor {floor_cpu:.1f}, import "
            f"{ours_cpu:.1f} = {ours_cpu / floor_cpu:.1f} × the floor's."
        )
    print(
        f"\nThe write alone (the imported rows inserted again, nothing read or checked): "
        f"{written['seconds']:.1f} s = {written['seconds'] / floor['seconds']:.1f} × the floor "
        f"(inserting {written['insert']:.1f} s, foreign keys {written['foreign_keys']:.1f} s); "
        f"with only the primary keys and the ID number's unique index "
        f"{written['bare']:.1f} s = {written['bare'] / floor['seconds']:.1f} × the floor."
    )
    met = ratio <= GOAL_RATIO and ours["peak_mb"] < GOAL_MB
    print(
        f"\nFloor {floor['seconds']:.1f} s; import {ours['seconds']:.1f} s = {ratio:.1f} × the "
        f"floor, re-import {again['seconds'] / floor['seconds']:.1f} × the floor; "
        f"load average {os.getloadavg()[0]:.2f}."
    )
    print(
        f"Goal: import of {options.rows} rows within {GOAL_RATIO} × the floor and under "
        f"{GOAL_MB} MB peak — {ratio:.1f} ×, {ours['peak_mb']:.0f} MB: "
        f"{'met' if met else 'NOT met'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
