"""Writes on areas and accounts. Views, admin and commands call these, nothing else."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_record
from .models import Area, AuditEvent, User, area_tree_errors
from .roles import ROLE_GROUPS

AREA_COLUMNS = {
    "code": ("code", "区划代码", "代码", "统计用区划代码"),
    "name": ("name", "名称", "区划名称"),
    "parent_code": ("parent_code", "上级代码", "上级区划代码"),
    "level": ("level", "层级", "级别"),
}
LEVEL_WORDS = {
    Area.Level.DISTRICT: ("district", "区", "县", "区县", "区(县)", "区（县）"),
    Area.Level.STREET: ("street", "街道", "镇", "乡", "街道(镇)", "街道（镇）"),
    Area.Level.COMMUNITY: ("community", "社区", "村", "社区(村)", "社区（村）"),
    Area.Level.GRID: ("grid", "网格"),
}
_LEVEL_BY_WORD = {word: level for level, words in LEVEL_WORDS.items() for word in words}


class AreaFileError(Exception):
    """A file of areas that cannot be loaded; `errors` are messages with row numbers."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class AreaLoadResult:
    created: int
    renamed: int
    unchanged: int


def read_area_rows(path: Path) -> list[tuple[int, dict]]:
    """(row number as a spreadsheet shows it, values by column) for each non-empty row."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        table = [
            ["" if cell is None else str(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        table = list(csv.reader(io.StringIO(text)))
    if not table:
        raise AreaFileError([_("The file is empty.")])
    header = [cell.strip() for cell in table[0]]
    positions = {}
    for key, aliases in AREA_COLUMNS.items():
        found = [index for index, title in enumerate(header) if title.lower() in aliases]
        if found:
            positions[key] = found[0]
    missing = [AREA_COLUMNS[key][1] for key in AREA_COLUMNS if key not in positions]
    if missing:
        raise AreaFileError(
            [_("Row 1: missing columns: %(columns)s.") % {"columns": "、".join(missing)}]
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {
            key: (cells[index].strip() if index < len(cells) else "")
            for key, index in positions.items()
        }
        if any(values.values()):
            rows.append((number, values))
    return rows


@transaction.atomic
def areas_load(*, rows: list[tuple[int, dict]]) -> AreaLoadResult:
    """Add new areas and rename known ones; refuse the whole file if any row is wrong."""
    existing = {area.code: area for area in Area.objects.select_related("parent")}
    planned: dict[str, tuple] = {}  # code -> (level, name, parent code, row number)
    errors: list[tuple[int, str]] = []  # (row number, reason)
    seen = {}
    for number, values in rows:
        code, name = values["code"], values["name"]
        level = _LEVEL_BY_WORD.get(values["level"].lower(), values["level"])
        parent_code = values["parent_code"] or None

        def refuse(message, number=number):
            errors.append((number, message))

        if not code.isdigit():
            refuse(_("the code “%(code)s” is not all digits.") % {"code": code})
            continue
        if code in seen:
            refuse(
                _("code %(code)s already appears in row %(other)s.")
                % {"code": code, "other": seen[code]}
            )
            continue
        seen[code] = number
        if not name:
            refuse(_("the name is empty."))
            continue
        if level not in Area.Level.values:
            refuse(_("unknown level “%(level)s”.") % {"level": values["level"]})
            continue
        if code in existing and existing[code].level != level:
            refuse(
                _("code %(code)s is already a %(level)s.")
                % {"code": code, "level": existing[code].get_level_display()}
            )
            continue
        planned[code] = (level, name, parent_code, number)
    for code, (level, _name, parent_code, number) in planned.items():
        parent_level = None
        if parent_code:
            if parent_code in planned:
                parent_level = planned[parent_code][0]
            elif parent_code in existing:
                parent_level = existing[parent_code].level
            else:
                errors.append(
                    (
                        number,
                        _("the parent code %(code)s is neither in the file nor loaded.")
                        % {"code": parent_code},
                    )
                )
                continue
        problems = area_tree_errors(
            code=code, level=level, parent_code=parent_code, parent_level=parent_level
        )
        if (
            code in existing
            and existing[code].parent_id
            and parent_code != existing[code].parent.code
        ):
            problems["parent"] = _("it is already under %(parent)s.") % {
                "parent": existing[code].parent.code
            }
        errors.extend((number, message) for message in problems.values())
    if errors:
        raise AreaFileError(
            [
                _("Row %(row)s: %(message)s") % {"row": number, "message": message}
                for number, message in sorted(errors, key=lambda error: error[0])
            ]
        )

    created = renamed = unchanged = 0
    # Parents first: a code is always longer than its parent's.
    for code in sorted(planned, key=len):
        level, name, parent_code, _number = planned[code]
        area = existing.get(code)
        if area is None:
            area = Area(code=code, name=name, level=level, parent=existing.get(parent_code))
            area.full_clean()
            area.save()
            existing[code] = area
            created += 1
        elif area.name != name:
            area.name = name
            area.full_clean()
            area.save(update_fields=["name"])
            renamed += 1
        else:
            unchanged += 1
    return AreaLoadResult(created=created, renamed=renamed, unchanged=unchanged)


@transaction.atomic
def user_create(
    *, actor, username, password, role, area=None, must_change_password=False, **fields
) -> User:
    """Create an account; its group follows the role. `actor` None is a command or seed.

    An initial password given by someone else should be changed at first login
    (`must_change_password`), as the admin's new accounts are.
    """
    user = User(username=username, must_change_password=must_change_password, **fields)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user_set_role(actor=None, user=user, role=role, area=area)
    _audit_role(actor, AuditEvent.Action.CREATE, user)
    return user


@transaction.atomic
def user_set_role(*, actor, user, role, area) -> User:
    """Give an account a role and an area; its group follows the role."""
    user.role = role
    user.area = area
    user.is_staff = role == User.Role.ADMIN
    user.full_clean()
    user.save()
    role_groups = Group.objects.filter(name__in=[name for name, _perms in ROLE_GROUPS.values()])
    user.groups.remove(*role_groups)
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role][0]))
    _audit_role(actor, AuditEvent.Action.UPDATE, user)
    return user


def _audit_role(actor, action, user: User) -> None:
    if actor is not None:
        audit_record(
            actor=actor,
            action=action,
            obj=user,
            detail={"role": user.role, "area": user.area.code if user.area_id else None},
        )
