"""Files we write, opened by LibreOffice as an office would: headless, converted to CSV.

LibreOffice shows what a cell holds after loading it, formulas evaluated, so its CSV tells
whether a text cell stayed text. Each run gets its own profile directory: soffice refuses to
start beside another instance that uses the same one.
"""

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

needs_libreoffice = pytest.mark.skipif(
    not shutil.which("soffice") and not os.environ.get("CI"),
    reason="LibreOffice is not installed (.ci/run installs it)",
)

# UTF-8 (76), comma-separated, fields with a comma or quote in double quotes.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76"


def convert(content: bytes, directory: Path, *, to: str, name: str = "file.xlsx") -> Path:
    """Convert `content` (a file called `name`) with LibreOffice; return the converted file."""
    path = directory / name
    path.write_bytes(content)
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{directory}/profile",
         "--convert-to", to, "--outdir", str(directory), str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    extension = to.split(":")[0]
    return path.with_suffix(f".{extension}")


def csv_rows(content: bytes, directory: Path) -> list[list[str]]:
    """The first sheet of the .xlsx `content` as LibreOffice shows it, row by row."""
    converted = convert(content, directory, to=CSV_FILTER)
    with open(converted, encoding="utf-8", newline="") as opened:
        return list(csv.reader(opened))
