"""The privacy document (`docs/privacy.md`) against the code: which fields of which models the
project holds, and which of them the document describes (PIPL art. 55-56: the impact
assessment names what is processed; it is kept next to the code and reviewed when a field is
added, which `tests/test_privacy_document.py` and `manage.py privacy_document` enforce).

The document gives each model a sub-heading `### app.Model (名称)` followed by a table whose
first column names the field in code font and whose third gives its class (`CLASSES`):

    ### members.Member (统战对象)

    | 字段 | 含义 | 类别 | 说明 |
    |---|---|---|---|
    | `name` | 姓名 | 个人信息 | ... |

Prose, other headings and other tables may stand anywhere between; only the rows under a
model's sub-heading count, up to the next heading.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils import translation

# The classes a field is put in; the document's first section says what each means.
SENSITIVE = "敏感个人信息"
PERSONAL = "个人信息"
STAFF = "工作人员信息"
NOT_PERSONAL = "非个人信息"
SYSTEM = "系统"
CLASSES = (SENSITIVE, PERSONAL, STAFF, NOT_PERSONAL, SYSTEM)

# What the skeleton puts in the class column: not a class, so the check refuses a pasted
# row until someone decides.
UNDECIDED = "待定"


def document_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "privacy.md"


def model_fields(model) -> list[str]:
    """The fields the document must describe: every concrete field and many-to-many by name,
    but the automatic primary key `id` every table has (the document says so once)."""
    names = []
    for item in model._meta.get_fields():
        if item.auto_created:
            continue
        if item.concrete or item.many_to_many:
            names.append(item.name)
    return names


def project_models() -> list:
    """Every concrete model of the project's apps (no proxies, no abstract models, no
    automatic many-to-many tables), in the apps' order. The project's apps are those whose
    package is in this repository, so an app added later is checked without being named here;
    Django's and third-party apps' tables (sessions, auth, django-tasks, django-axes,
    django-otp) are described in prose."""
    base = Path(settings.BASE_DIR).resolve()
    models = []
    for config in apps.get_app_configs():
        if Path(config.path).resolve().parent != base:
            continue
        models += [
            model
            for model in config.get_models()
            if not model._meta.proxy and not model._meta.auto_created
        ]
    return models


def inventory() -> dict[str, list[str]]:
    """{"members.Member": ["name", "sex", ...], ...}: what the code holds."""
    return {model._meta.label: model_fields(model) for model in project_models()}


@dataclass(frozen=True)
class Row:
    field: str
    meaning: str
    klass: str
    note: str
    line: int


@dataclass
class Parsed:
    # {"members.Member": {"name": Row, ...}}, in the document's order.
    models: dict[str, dict[str, Row]] = field(default_factory=dict)
    # (line, what): a model or field given twice.
    repeated: list[tuple[int, str]] = field(default_factory=list)


MODEL_HEADING = re.compile(r"^###\s+`?([A-Za-z_][\w]*)\.([A-Za-z_]\w*)`?(?:\s|$)")
HEADING = re.compile(r"^#{1,6}\s")
FIELD_CELL = re.compile(r"^`([A-Za-z_]\w*)`$")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [cell.strip() for cell in inner.split("|")]


def parse(text: str) -> Parsed:
    """The fields the document describes, model by model. A row counts when its first cell
    is a field name in code font (`name`); the table's header and rule do not."""
    parsed = Parsed()
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        heading = MODEL_HEADING.match(line)
        if heading:
            current = f"{heading[1]}.{heading[2]}"
            if current in parsed.models:
                parsed.repeated.append((number, current))
            parsed.models.setdefault(current, {})
            continue
        if HEADING.match(line):
            current = None
            continue
        if current is None or not line.lstrip().startswith("|"):
            continue
        cells = _cells(line)
        name = FIELD_CELL.match(cells[0])
        if not name:
            continue
        cells += [""] * (4 - len(cells))
        row = Row(name[1], cells[1], cells[2], cells[3], number)
        if row.field in parsed.models[current]:
            parsed.repeated.append((number, f"{current}.{row.field}"))
        parsed.models[current][row.field] = row
    return parsed


@dataclass
class Check:
    """What the document lacks and what it describes that the code no longer has."""

    missing_models: list[str] = field(default_factory=list)
    missing_fields: list[tuple[str, str]] = field(default_factory=list)
    unknown_models: list[str] = field(default_factory=list)
    unknown_fields: list[tuple[str, str]] = field(default_factory=list)
    # (model, field, the class written): a class not among CLASSES (or the skeleton's 待定).
    unclassed: list[tuple[str, str, str]] = field(default_factory=list)
    # (model, field): a row with no meaning.
    unexplained: list[tuple[str, str]] = field(default_factory=list)
    repeated: list[tuple[int, str]] = field(default_factory=list)

    @property
    def other_problems(self) -> int:
        """How many problems there are besides the fields the document lacks."""
        return sum(
            len(problems)
            for problems in (
                self.unknown_models,
                self.unknown_fields,
                self.unclassed,
                self.unexplained,
                self.repeated,
            )
        )

    @property
    def clean(self) -> bool:
        return not self.missing_fields and not self.missing_models and not self.other_problems


def check(text: str, code: dict[str, list[str]] | None = None) -> Check:
    """Compare the document's text with the code's inventory (`inventory()` by default)."""
    code = inventory() if code is None else code
    parsed = parse(text)
    result = Check(repeated=parsed.repeated)
    for label, names in code.items():
        rows = parsed.models.get(label)
        if rows is None:
            result.missing_models.append(label)
            result.missing_fields += [(label, name) for name in names]
            continue
        result.missing_fields += [(label, name) for name in names if name not in rows]
    for label, rows in parsed.models.items():
        if label not in code:
            result.unknown_models.append(label)
            continue
        known = set(code[label])
        for name, row in rows.items():
            if name not in known:
                result.unknown_fields.append((label, name))
            elif row.klass not in CLASSES:
                result.unclassed.append((label, name, row.klass))
            elif not row.meaning:
                result.unexplained.append((label, name))
    return result


def check_document() -> Check:
    return check(document_path().read_text(encoding="utf-8"))


TABLE_HEAD = "| 字段 | 含义 | 类别 | 说明 |\n|---|---|---|---|"


def skeleton(result: Check) -> str:
    """Table rows for what the document lacks, to paste and complete: a model it lacks whole
    gets its sub-heading and table head; the meaning is the field's verbose name in the
    registry's language, the class `UNDECIDED` (which the check refuses until decided)."""
    by_model: dict[str, list[str]] = {}
    for label, name in result.missing_fields:
        by_model.setdefault(label, []).append(name)
    blocks = []
    with translation.override(settings.LANGUAGE_CODE):
        for label, names in by_model.items():
            model = apps.get_model(label)
            lines = []
            if label in result.missing_models:
                lines += [f"### {label} ({model._meta.verbose_name})", "", TABLE_HEAD]
            else:
                lines.append(f"<!-- {label} -->")
            for name in names:
                meaning = str(model._meta.get_field(name).verbose_name)
                lines.append(f"| `{name}` | {meaning} | {UNDECIDED} | |")
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
