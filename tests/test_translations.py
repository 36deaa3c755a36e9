"""The Chinese catalogue is complete, and the compiled file matches it."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def entries():
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    return [block for block in text.split("\n\n") if re.search(r'^msgid "', block, re.M)][1:]


def test_every_message_is_translated_and_none_is_fuzzy():
    untranslated = []
    for block in entries():
        translation = "".join(re.findall(r'"(.*)"', block[block.index("\nmsgstr") :]))
        if "#, fuzzy" in block or not translation:
            untranslated.append(block)
    assert untranslated == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext")
def test_the_compiled_catalogue_is_up_to_date(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(CATALOGUE / "django.po")],
        check=True,
    )
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes(), (
        "run `make messages` and commit locale/"
    )
