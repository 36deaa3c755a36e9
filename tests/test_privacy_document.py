"""docs/privacy.md describes every field of every model of the project (PIPL art. 55-56: the
impact assessment is reviewed when a field is added), and nothing that is gone."""

import re

import pytest
from django.core.management import CommandError, call_command

from privacy import document
from privacy.document import CLASSES, UNDECIDED, check, document_path, inventory, parse


@pytest.fixture(scope="module")
def text():
    return document_path().read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def code():
    return inventory()


def without_row(text, label, field):
    """The document with one field's row under one model's heading removed."""
    start = text.index(f"### {label} (")
    end = text.find("\n#", start + 1)
    end = len(text) if end == -1 else end
    section = text[start:end]
    shorter = re.sub(rf"^\| `{field}` \|.*\n", "", section, count=1, flags=re.MULTILINE)
    assert shorter != section, f"{label}.{field} has no row to remove"
    return text[:start] + shorter + text[end:]


def without_section(text, label):
    start = text.index(f"### {label} (")
    end = text.find("\n#", start + 1)
    return text[:start] + text[end + 1 :]


def test_every_field_of_every_model_is_in_the_document(text, code):
    result = check(text, code)
    assert not result.missing_models, (
        "Models not in docs/privacy.md (run `manage.py privacy_document --skeleton`): "
        + ", ".join(result.missing_models)
    )
    assert not result.missing_fields, (
        "Fields not in docs/privacy.md (run `manage.py privacy_document --skeleton`): "
        + ", ".join(f"{label}.{name}" for label, name in result.missing_fields)
    )


def test_the_document_names_no_model_or_field_that_no_longer_exists(text, code):
    result = check(text, code)
    assert not result.unknown_models, "Models in docs/privacy.md but not in the code: " + ", ".join(
        result.unknown_models
    )
    assert not result.unknown_fields, "Fields in docs/privacy.md but not in the code: " + ", ".join(
        f"{label}.{name}" for label, name in result.unknown_fields
    )


def test_every_row_has_a_meaning_and_one_of_the_classes_once(text, code):
    result = check(text, code)
    assert not result.unclassed, f"Rows whose class is not one of {CLASSES}: " + ", ".join(
        f"{label}.{name} ({klass})" for label, name, klass in result.unclassed
    )
    assert not result.unexplained, "Rows without a meaning: " + ", ".join(
        f"{label}.{name}" for label, name in result.unexplained
    )
    assert not result.repeated, "Given twice: " + ", ".join(
        f"{what} (line {line})" for line, what in result.repeated
    )


def test_the_inventory_holds_the_project_models_and_not_djangos(code):
    assert "members.Member" in code and "privacy.Anonymisation" in code
    assert {"religion", "id_number", "categories"} <= set(code["members.Member"])
    assert "id" not in code["members.Member"]
    assert not [label for label in code if label.split(".")[0] in {"auth", "sessions", "axes"}]
    # The through models of many-to-many fields that name one are models of their own.
    assert "members.MemberCategory" in code and "activities.Participation" in code


def test_a_row_removed_from_the_document_is_reported(text, code):
    result = check(without_row(text, "members.Member", "religion"), code)

    assert result.missing_fields == [("members.Member", "religion")]
    assert not result.missing_models


def test_a_model_removed_from_the_document_is_reported_with_its_fields(text, code):
    result = check(without_section(text, "liaison.MaterialRead"), code)

    assert result.missing_models == ["liaison.MaterialRead"]
    assert result.missing_fields == [
        ("liaison.MaterialRead", name) for name in ("material", "user", "read_at")
    ]


def test_a_field_or_model_gone_from_the_code_is_reported(text, code):
    shrunk = {label: list(names) for label, names in code.items() if label != "liaison.Attendance"}
    shrunk["members.Member"].remove("religious_venue")

    result = check(text, shrunk)

    assert result.unknown_fields == [("members.Member", "religious_venue")]
    assert result.unknown_models == ["liaison.Attendance"]


def test_a_class_not_decided_is_refused(text, code):
    row = "| `religion` | 宗教 | 敏感个人信息 |"
    assert row in text
    result = check(text.replace(row, f"| `religion` | 宗教 | {UNDECIDED} |"), code)

    assert result.unclassed == [("members.Member", "religion", UNDECIDED)]


def test_prose_and_other_tables_between_the_rows_do_not_count():
    parsed = parse(
        "# 标题\n\n| 类别 | 含义 |\n|---|---|\n| `name` | not a model's row |\n\n"
        "### members.Member (统战对象)\n\nSome prose first.\n\n"
        "| 字段 | 含义 | 类别 | 说明 |\n|---|---|---|---|\n"
        "| `name` | 姓名 | 个人信息 | |\n\nA note between two rows.\n\n"
        "| `sex` | 性别 | 个人信息 | 男、女 |\n\n"
        "### 复核记录\n\n| `religion` | under another heading | 个人信息 | |\n"
    )

    assert list(parsed.models) == ["members.Member"]
    assert list(parsed.models["members.Member"]) == ["name", "sex"]
    assert parsed.models["members.Member"]["sex"].note == "男、女"


def test_the_skeleton_gives_rows_the_check_reads(text, code):
    result = check(without_section(text, "liaison.MaterialRead"), code)

    pasted = without_section(text, "liaison.MaterialRead") + "\n" + document.skeleton(result)
    after = check(pasted, code)

    assert not after.missing_fields
    # Until someone decides each class.
    assert [name for _label, name, _klass in after.unclassed] == ["material", "user", "read_at"]


def test_the_command_is_clean_on_the_document(capsys):
    call_command("privacy_document")

    assert "docs/privacy.md" in capsys.readouterr().out


def test_the_command_fails_naming_the_field_missing(tmp_path, monkeypatch, text, capsys):
    short = tmp_path / "privacy.md"
    short.write_text(without_row(text, "members.Relative", "contact"), encoding="utf-8")
    monkeypatch.setattr(document, "document_path", lambda: short)

    with pytest.raises(CommandError):
        call_command("privacy_document")
    assert "members.Relative.contact" in capsys.readouterr().out

    with pytest.raises(CommandError):
        call_command("privacy_document", "--skeleton")
    assert f"| `contact` | 联系方式 | {UNDECIDED} | |" in capsys.readouterr().out
