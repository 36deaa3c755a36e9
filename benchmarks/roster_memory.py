"""Peak memory of checking rosters made to take memory, each in a child process.

Run from the repository root:

    .venv/bin/python benchmarks/roster_memory.py [--rows 100000] [--keep]

Every file is within the upload limits (ROSTER_MAX_BYTES, ROSTER_MAX_UNCOMPRESSED). Each is
checked as an upload is (`roster_import(..., dry_run=True)`, the administrator's scope) in a
child process whose peak resident memory (`ru_maxrss`) is printed: it includes Django itself
and the file's bytes. `--rows` scales every file; 100,000 is the size of issue 12's files, 100
runs in seconds. The database is DATABASE_URL, or a SQLite file in $TMPDIR migrated once.
See benchmarks/README.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from members.tests.crafted import commas, far_cells, shared_text, widest, xls_far_cell  # noqa: E402

GOAL_MB = 500
SQLITE = Path(tempfile.gettempdir()) / "tongzhan-roster-memory.sqlite3"


def office_roster(path: Path, rows: int) -> bytes:
    import roster_import

    roster_import.write_roster(path, rows, 2026, ["桥东一社区", "五一二社区"])
    return path.read_bytes()


# -- The child --------------------------------------------------------------------------------


def child(path: Path, filename: str) -> dict:
    """What the check of an upload does (members/jobs.py): the dry run, then the file of
    refused rows."""
    from members.exports import refused_rows_bytes
    from members.imports import roster_import
    from members.roster_reader import RosterFileError

    data = path.read_bytes()
    begin = time.perf_counter()
    try:
        report = roster_import(actor=None, data=data, filename=filename, dry_run=True)
        refused_rows_bytes(data, filename, report.refused)
    except RosterFileError as error:
        outcome = "refused: " + error.message
    else:
        outcome = (
            f"checked: {report.created} new, {len(report.refused):,} errors in "
            f"{len({error.row for error in report.refused}):,} refused rows"
        )
    return {"seconds": time.perf_counter() - begin, "outcome": outcome, "peak_mb": common.peak_mb()}


def run_child(path: Path, filename: str) -> dict:
    completed = subprocess.run(  # noqa: S603 (this script, with arguments it chose)
        [sys.executable, __file__, "--child", str(path), filename],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"The child checking {filename} failed (exit {completed.returncode}).")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the files in $TMPDIR")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "NAME"), help=argparse.SUPPRESS)
    options = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", f"sqlite:///{SQLITE}")
    if options.child:
        common.setup_django(os.environ["DATABASE_URL"])
        print(json.dumps(child(Path(options.child[0]), options.child[1]), ensure_ascii=False))
        return 0

    common.setup_django(os.environ["DATABASE_URL"])
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rows = options.rows
    folder = Path(tempfile.mkdtemp(prefix="tongzhan-roster-memory-"))
    files = [
        (f"far cells ({rows * 5:,} rows × 26 columns)", "far.xlsx", lambda: far_cells(rows * 5)),
        (f"shared text ({rows // 5:,} cells × 10,000 characters)", "shared.xlsx",
         lambda: shared_text(rows // 5)),
        (f"widest ({rows:,} rows × 30 columns, each row refused once)", "widest.xlsx",
         lambda: widest(rows)),
        (f"office roster ({rows:,} rows × 14 columns)", "office.xlsx",
         lambda: office_roster(folder / "office.xlsx", rows)),
        (f"commas ({rows:,} rows × 41 cells, CSV)", "commas.csv", lambda: commas(rows)),
        (".xls with a cell at IV65536", "far.xls", xls_far_cell),
    ]  # fmt: skip
    print(f"Peak memory of checking each file in a child process; goal below {GOAL_MB} MB.")
    worst = 0.0
    for label, filename, build in files:
        path = folder / filename
        data = build()
        path.write_bytes(data)
        result = run_child(path, filename)
        worst = max(worst, result["peak_mb"])
        print(
            f"{label:<48} {len(data) / 1e6:>6.2f} MB file  {result['peak_mb']:>6.0f} MB peak  "
            f"{result['seconds']:>5.1f} s  {result['outcome'][:90]}",
            flush=True,
        )
        if not options.keep:
            path.unlink()
    if not options.keep:
        folder.rmdir()
    print(f"\nWorst peak {worst:.0f} MB: goal {'met' if worst < GOAL_MB else 'NOT met'}.")
    return 0 if worst < GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
