"""Writes on areas and accounts. Views, admin and commands call these, nothing else."""

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from .audit import audit_record, client_ip
from .downloads import PRODUCERS, download_run
from .models import (
    Area,
    AuditEvent,
    Download,
    User,
    area_tree_errors,
    common_name,
    community_name_key,
    implied_level,
    implied_parent_code,
    official_code,
    short_code,
)
from .roles import ROLE_GROUPS
from .scoping import area_prefix, code_within, within_area

AREA_COLUMNS = {
    "code": ("code", "区划代码", "代码", "统计用区划代码"),
    "name": ("name", "名称", "区划名称"),
    "parent_code": ("parent_code", "上级代码", "上级区划代码"),
    "level": ("level", "层级", "级别"),
    "urban_rural_code": ("urban_rural_code", "城乡分类代码", "城乡划分代码"),
    "change": ("change", "变更", "变更类型"),
}
# A file needs codes and names; the official code list has no parent or level, which the
# code implies, and only a file of changes has the 变更 column.
AREA_REQUIRED_COLUMNS = ("code", "name")
LEVEL_WORDS = {
    Area.Level.DISTRICT: ("district", "区", "县", "区县", "区(县)", "区（县）"),
    Area.Level.STREET: ("street", "街道", "镇", "乡", "街道(镇)", "街道（镇）"),
    Area.Level.COMMUNITY: ("community", "社区", "村", "社区(村)", "社区（村）"),
    Area.Level.GRID: ("grid", "网格"),
}
_LEVEL_BY_WORD = {word: level for level, words in LEVEL_WORDS.items() for word in words}
# The 变更 column: 更名 (the name column is the new name), 撤销, 撤并入:<code of the target>.
CHANGE_RENAME = ("更名", "rename")
CHANGE_RETIRE = ("撤销", "retire")
CHANGE_MERGE = ("撤并入", "并入", "merge into", "merge")
CHANGE_SPLIT = ("拆分自", "split from")
CHANGE_GRID_TO = ("划入", "划归", "goes to")
# A grid's code is its community's 12 digits and this many more when the loader makes one.
GRID_SUFFIX_DIGITS = 3


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
    merged: int = 0
    retired: int = 0
    split: int = 0
    # Areas whose name stayed and whose official name or urban-rural code the file filled in.
    updated: int = 0


class AreaRows(list):
    """The rows of a file of areas; `titles` are its column titles as the file spells them,
    by column key, for the messages."""

    titles: dict[str, str] = {}


def _cell_text(cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell)


def read_area_rows(path: Path) -> AreaRows:
    """(row number as a spreadsheet shows it, values by column) for each non-empty row."""
    if path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        # Read with calamine, as every spreadsheet is read; a code typed as a number comes
        # back as a float (140106000000.0) and is written back as the digits typed.
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        table = [[_cell_text(cell) for cell in row] for row in sheet.to_python()]
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
    missing = [AREA_COLUMNS[key][1] for key in AREA_REQUIRED_COLUMNS if key not in positions]
    if missing:
        raise AreaFileError(
            [_("Row 1: missing columns: %(columns)s.") % {"columns": "、".join(missing)}]
        )
    rows = AreaRows()
    rows.titles = {key: header[index] for key, index in positions.items()}
    for number, cells in enumerate(table[1:], start=2):
        values = dict.fromkeys(AREA_COLUMNS, "")
        values.update(
            {
                key: (cells[index].strip() if index < len(cells) else "")
                for key, index in positions.items()
            }
        )
        if any(values.values()):
            rows.append((number, values))
    return rows


def _parse_change(text: str) -> tuple[str, str] | None:
    """("rename" | "retire" | "merge" | "split" | "grid_to", the rest: a code, or for a split
    the code and its address words) of a 变更 cell; ("", "") when empty, None when it says
    nothing the loader knows."""
    text = text.strip()
    if not text:
        return "", ""
    word, _sep, rest = text.replace("：", ":").partition(":")
    word, rest = word.strip().lower(), rest.strip()
    if word in CHANGE_RENAME and not rest:
        return "rename", ""
    if word in CHANGE_RETIRE and not rest:
        return "retire", ""
    if word in CHANGE_MERGE and rest:
        return "merge", rest
    if word in CHANGE_SPLIT and rest:
        return "split", rest
    if word in CHANGE_GRID_TO and rest:
        return "grid_to", rest
    return None


@transaction.atomic
def areas_load(*, rows: list[tuple[int, dict]], actor=None) -> AreaLoadResult:
    """Add new areas, rename known ones and carry out the changes of the 变更 column
    (`area_merge`, `area_retire`); refuse the whole file if any row is wrong.

    Codes may be the short form (6, 9, 12 digits, a grid's longer) or the statistics
    bureau's 12 digits, which are stored short (`short_code`); where the code implies the
    parent and the level the file may leave them out. A grid row without a code gets the next
    free suffix under its community. An official name (…社区居委会) is kept as `official_name`,
    the name people use (…社区) as `name`."""
    titles = {key: AREA_COLUMNS[key][1] for key in AREA_COLUMNS}
    titles.update(getattr(rows, "titles", {}))
    existing = {area.code: area for area in Area.objects.select_related("parent")}
    planned: dict[str, dict] = {}  # short code -> what the row says
    changes: list[tuple[int, str, str, str]] = []  # (row, code, change, target code)
    errors: list[tuple[int, str, str]] = []  # (row number, column key, reason)
    made: dict[str, int] = {}  # community code -> last grid suffix given in this file
    splits: dict[str, tuple[int, str, list[str]]] = {}  # new code -> (row, source, words)
    grid_moves: dict[str, tuple[int, str]] = {}  # grid code -> (row, new community's code)
    seen = {}
    for number, values in rows:
        raw, name = values["code"], values["name"]
        given_level = _LEVEL_BY_WORD.get(values["level"].lower(), values["level"])
        raw_parent = values["parent_code"]

        def refuse(column, message, number=number):
            errors.append((number, column, message))

        if given_level and given_level not in Area.Level.values:
            refuse("level", _("unknown level “%(level)s”.") % {"level": values["level"]})
            continue
        if raw_parent and not raw_parent.isdigit():
            refuse(
                "parent_code", _("the code “%(code)s” is not all digits.") % {"code": raw_parent}
            )
            continue
        parent_code = short_code(raw_parent) if raw_parent else None
        if not raw and given_level == Area.Level.GRID and parent_code:
            # A grid the file names without a code: the next free suffix under its community.
            code = _next_grid_code(parent_code, existing, planned, made)
        elif not raw.isdigit():
            refuse("code", _("the code “%(code)s” is not all digits.") % {"code": raw})
            continue
        elif given_level == Area.Level.COMMUNITY:
            code = raw
        else:
            code = short_code(raw)
        level = given_level or implied_level(code)
        if level is None:
            refuse(
                "code",
                _("the code %(code)s has %(n)s digits: a division code has 12 (the official "
                  "form) or 6, 9, 12 (district, street, community); a grid's extends its "
                  "community's 12.") % {"code": raw, "n": len(raw)},
            )  # fmt: skip
            continue
        if level == Area.Level.COMMUNITY and len(code) == 12 and code.endswith("000"):
            refuse(
                "code",
                _("the code %(code)s ends in 000, which is a street's code; a community's "
                  "number is 001 or more.") % {"code": raw},
            )  # fmt: skip
            continue
        if parent_code is None:
            parent_code = implied_parent_code(code)
        if code in seen:
            refuse(
                "code",
                _("code %(code)s already appears in row %(other)s.")
                % {"code": official_code(code), "other": seen[code]},
            )
            continue
        seen[code] = number
        if not name:
            refuse("name", _("the name is empty."))
            continue
        if code in existing and existing[code].level != level:
            refuse(
                "code",
                _("code %(code)s is already a %(level)s.")
                % {"code": official_code(code), "level": existing[code].get_level_display()},
            )
            continue
        change = _parse_change(values["change"])
        if change is None:
            refuse(
                "change",
                _("“%(change)s” is not a change: write 更名, 撤销, 撤并入:<code of the area "
                  "it joins>, 拆分自:<code of the community split>[:<address words>] or, on a "
                  "grid's row, 划入:<code of the new community>.")
                % {"change": values["change"]},
            )  # fmt: skip
            continue
        kind, target = change
        retired = existing.get(code)
        if (
            retired is not None
            and retired.is_retired
            and (kind or community_name_key(retired.name) != community_name_key(name))
        ):
            refuse(
                "code",
                _("area %(code)s (%(name)s) is retired; it no longer changes.")
                % {"code": official_code(code), "name": retired.name},
            )
            continue
        if kind in ("merge", "retire") and code not in existing:
            refuse("change", _("area %(code)s is not loaded, so it cannot be retired or merged.")
                   % {"code": official_code(code)})  # fmt: skip
            continue
        if kind == "split":
            # 拆分自:<code>[:<address words>] on the new community's row.
            target, _sep, words = target.replace("：", ":").partition(":")
            target = short_code(target.strip()) if target.strip().isdigit() else target.strip()
            source = existing.get(target)
            if level != Area.Level.COMMUNITY or code in existing:
                refuse("change", _("拆分自 is written on the row of the new community."))
                continue
            if source is None or source.level != Area.Level.COMMUNITY or source.is_retired:
                refuse(
                    "change",
                    _("the community %(code)s it is split from is not a current loaded "
                      "community.") % {"code": target},
                )  # fmt: skip
                continue
            splits[code] = (number, target, split_words(words))
        if kind == "grid_to":
            target = short_code(target) if target.isdigit() else target
            grid = existing.get(code)
            if grid is None or grid.level != Area.Level.GRID or grid.is_retired:
                refuse("change", _("划入 is written on the row of a current loaded grid."))
                continue
            grid_moves[code] = (number, target)
            # A grid goes along with a split: the split's row creates its new place.
            kind = ""
        if kind == "merge":
            target = short_code(target) if target.isdigit() else target
            if target not in existing and target not in planned:
                refuse(
                    "change",
                    _("the area %(code)s it should join is neither in the file nor loaded.")
                    % {"code": target},
                )
                continue
        if kind:
            changes.append((number, code, kind, target))
        urban_rural = values["urban_rural_code"]
        if urban_rural and not (len(urban_rural) == 3 and urban_rural.isdigit()):
            refuse("urban_rural_code", _("an urban-rural code is 3 digits."))
            continue
        planned[code] = {
            "level": level,
            "name": common_name(name),
            "official_name": name if common_name(name) != name else "",
            "urban_rural_code": urban_rural,
            "parent_code": parent_code,
            "number": number,
        }
    for code, plan in planned.items():
        level, parent_code, number = plan["level"], plan["parent_code"], plan["number"]
        parent_level = None
        if parent_code:
            if parent_code in planned:
                parent_level = planned[parent_code]["level"]
            elif parent_code in existing:
                parent_level = existing[parent_code].level
            else:
                errors.append(
                    (
                        number,
                        "parent_code" if "parent_code" in getattr(rows, "titles", {}) else "code",
                        _("the parent code %(code)s is neither in the file nor loaded.")
                        % {"code": official_code(parent_code)},
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
                "parent": official_code(existing[code].parent.code)
            }
        if code not in existing and parent_code in existing and existing[parent_code].is_retired:
            problems["parent"] = _("its parent area %(parent)s is retired.") % {
                "parent": existing[parent_code].name
            }
        columns = {"code": "code", "level": "level", "parent": "parent_code"}
        errors.extend(
            (number, columns.get(field, "code"), message) for field, message in problems.items()
        )
    for grid_code, (number, target) in grid_moves.items():
        split = splits.get(target)
        if split is None or existing[grid_code].parent.code != split[1]:
            errors.append(
                (
                    number,
                    "change",
                    _("划入 names the new community split off this grid's own (a row "
                      "with 拆分自:%(code)s in the same file).")
                    % {"code": official_code(existing[grid_code].parent.code)},
                )
            )  # fmt: skip
    if errors:
        raise AreaFileError(
            [
                _("Row %(row)s, column %(column)s: %(message)s")
                % {"row": number, "column": titles[column], "message": message}
                for number, column, message in sorted(errors, key=lambda error: error[0])
            ]
        )

    created = renamed = updated = unchanged = 0
    # Parents first: a code is always longer than its parent's.
    for code in sorted(planned, key=len):
        plan = planned[code]
        area = existing.get(code)
        if area is not None and area.is_retired:
            unchanged += 1  # a retired area named as it was: old files load again
            continue
        if code in splits:
            continue  # made by its split, below
        if area is None:
            area = Area(
                code=code,
                name=plan["name"],
                official_name=plan["official_name"],
                urban_rural_code=plan["urban_rural_code"],
                level=plan["level"],
                parent=existing.get(plan["parent_code"]),
            )
            area.full_clean()
            area.save()
            existing[code] = area
            created += 1
            continue
        wanted = {"name": plan["name"]}
        wanted.update(
            {field: plan[field] for field in ("official_name", "urban_rural_code") if plan[field]}
        )
        if community_name_key(area.name) == community_name_key(plan["name"]):
            # One community spelled two ways (桥东一 and 桥东一社区居委会): keep the name
            # people use, and the official one beside it.
            wanted.pop("name")
        if all(getattr(area, field) == value for field, value in wanted.items()):
            unchanged += 1
            continue
        if wanted.get("name", area.name) != area.name:
            renamed += 1
        else:
            updated += 1
        area_rename(actor=actor, area=area, **wanted)
    merged = retired = split = 0
    for number, code, kind, target in changes:
        area = Area.objects.filter(code=code).first()
        try:
            if kind == "split":
                _row, source, words = splits[code]
                plan = planned[code]
                new = area_split(
                    actor=actor,
                    source=Area.objects.get(code=source),
                    code=code,
                    name=plan["name"],
                    grids=Area.objects.filter(
                        code__in=[grid for grid, move in grid_moves.items() if move[1] == code]
                    ).order_by("code"),
                    words=words,
                )
                area_rename(
                    actor=actor,
                    area=new,
                    official_name=plan["official_name"],
                    urban_rural_code=plan["urban_rural_code"],
                )
                split += 1
            elif kind == "merge":
                area_merge(actor=actor, source=area, target=Area.objects.get(code=target))
                merged += 1
            elif kind == "retire":
                area_retire(actor=actor, area=area)
                retired += 1
        except ValidationError as error:
            # The change's own rules (what may merge into what, what a retired area may
            # still hold): the file is refused whole, the row and column named.
            raise AreaFileError(
                [
                    _("Row %(row)s, column %(column)s: %(message)s")
                    % {"row": number, "column": titles["change"], "message": message}
                    for message in error.messages
                ]
            ) from error
    return AreaLoadResult(
        created=created,
        renamed=renamed,
        updated=updated,
        unchanged=unchanged,
        merged=merged,
        retired=retired,
        split=split,
    )


def _next_grid_code(community: str, existing: dict, planned: dict, made: dict) -> str:
    """The code of a new grid under `community`: its code and the next free suffix."""
    width = len(community) + GRID_SUFFIX_DIGITS
    taken = [
        int(code[len(community) :])
        for code in [*existing, *planned]
        if len(code) == width and code_within(code, community)
    ]
    number = max([made.get(community, 0), *taken]) + 1
    made[community] = number
    return f"{community}{number:0{GRID_SUFFIX_DIGITS}d}"


# -- Areas in the admin ------------------------------------------------------------------------
#
# What lies below an area is found by its code (a prefix), so an area's code, level and parent
# are its place in the tree and in everyone's scope. An administrator limited to an area
# manages the areas strictly below its own; an area that anything hangs on (areas below it,
# members, accounts, activities, ...) keeps its place: its code would no longer prefix its
# children's, and its records would move to another scope without their history saying so.

AREA_FIELDS = ("code", "name", "official_name", "level", "parent")
AREA_PLACE = ("code", "level", "parent")


def _area_dependents(area: Area) -> list[str]:
    """The kinds of records that point at `area` (areas below it first), by their names."""
    kinds = []
    for relation in Area._meta.get_fields(include_hidden=True):
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue
        related = relation.related_model
        if related._meta.auto_created:  # a many-to-many link table: counted by its owner
            continue
        if getattr(related, "area_derived", False):  # tallies: recounted from their records
            continue
        if related._base_manager.filter(**{relation.field.name: area}).exists():
            kinds.append(
                _("areas below it")
                if relation.field.name == "parent" and related is Area
                else str(related._meta.verbose_name_plural)
            )
    return sorted(set(kinds), key=lambda kind: (kind != _("areas below it"), kind))


def area_errors(*, actor, area, code, level, parent) -> dict[str, list[str]]:
    """Why `actor` may not give `area` (None: a new area) this code, level and parent area; by
    field name ("__all__" for the area), empty if allowed. The tree's own rules (code lengths,
    a code extending its parent's) are `area_tree_errors`, which `Area.clean` applies. `actor`
    None is a command or the seed, which the operator runs."""
    errors: dict[str, list[str]] = {}

    def refuse(field, message):
        errors.setdefault(field, []).append(message)

    stored = Area.objects.select_related("parent").get(pk=area.pk) if area and area.pk else None
    if actor is not None:
        prefix = area_prefix(actor)
        if prefix is None or not actor.has_perm(
            "tongzhan.change_area" if stored else "tongzhan.add_area"
        ):
            refuse("__all__", _("You may not administer areas."))
            return errors
        if prefix and stored is not None and not _within(stored, prefix):
            refuse("__all__", _("This area is outside your area."))
            return errors
        moved = stored is None or (code, level, parent) != (
            stored.code,
            stored.level,
            stored.parent,
        )
        if prefix and moved:
            if stored is not None and stored.code == prefix:
                refuse("__all__", _own_area_fixed())
            elif not _within(parent, prefix):
                refuse(
                    "parent",
                    _("Choose a parent area within yours (%(area)s): an administrator limited "
                      "to an area manages the areas below it only.") % {"area": actor.area.name},
                )  # fmt: skip
    if stored is not None:
        changed = [
            field
            for field, value in (("code", code), ("level", level), ("parent", parent))
            if value != getattr(stored, field)
        ]
        dependents = _area_dependents(stored) if changed else []
        if dependents:
            refuse(changed[0], _dependents_hold(stored, dependents))
    return errors


def _own_area_fixed() -> str:
    return _("An administrator limited to an area does not change the code, level or parent "
             "area of its own area; ask an administrator above it.")  # fmt: skip


def _dependents_hold(area: Area, dependents: list[str]) -> str:
    return _("%(area)s keeps its code, level and parent area: %(what)s point at it, and what "
             "lies below an area is found by its code. Move them first, or add a new area "
             "beside it.") % {"area": area.name, "what": "、".join(dependents)}  # fmt: skip


def area_place_fixed(*, actor, area: Area) -> str:
    """Why `actor` may change only the name of `area` (its code, level and parent area stay,
    as `area_errors` would say), or "" when the place may change too. For forms, which then
    show those fields read-only."""
    if actor is not None and area_prefix(actor) == area.code:
        return _own_area_fixed()
    dependents = _area_dependents(area)
    return _dependents_hold(area, dependents) if dependents else ""


def _audit_area(actor, action, area: Area, changed: dict, request=None) -> None:
    """The one audit line of an area write: its place as it is now, and what changed. A
    command (actor None) writes none."""
    if actor is not None:
        audit_record(
            actor=actor,
            action=action,
            obj=area,
            request=request,
            detail={
                "code": area.code,
                "level": area.level,
                "parent": area.parent.code if area.parent_id else None,
                **({"changed": changed} if changed else {}),
            },
        )


@transaction.atomic
def area_create(*, actor, data: dict, request=None) -> Area:
    """Add an area: `data` holds code, name, level and parent. One audit line."""
    unknown = set(data) - set(AREA_FIELDS)
    if unknown:
        raise ValueError(f"not area fields: {sorted(unknown)}")
    area = Area(**data)
    _refuse(
        area_errors(actor=actor, area=None, code=area.code, level=area.level, parent=area.parent)
    )
    area.full_clean()
    area.save()
    _audit_area(actor, AuditEvent.Action.CREATE, area, {}, request)
    return area


@transaction.atomic
def area_update(*, actor, area: Area, data: dict, request=None) -> Area:
    """Change an area's name, or the code, level and parent area of one nothing points at
    (`area_errors`). One audit line with what changed."""
    unknown = set(data) - set(AREA_FIELDS)
    if unknown:
        raise ValueError(f"not area fields: {sorted(unknown)}")
    # Locked: nothing is added below it between the check and the save.
    stored = Area.objects.select_for_update(of=("self",)).select_related("parent").get(pk=area.pk)
    values = {field: data.get(field, getattr(stored, field)) for field in AREA_FIELDS}
    _refuse(
        area_errors(
            actor=actor,
            area=stored,
            code=values["code"],
            level=values["level"],
            parent=values["parent"],
        )
    )
    changed = {}
    for field, value in values.items():
        if getattr(stored, field) != value:
            changed[field] = value.code if field == "parent" and value else value
        setattr(area, field, value)
    area.former_names = _names_before(stored, area.name)
    area.full_clean()
    area.save()
    _audit_area(actor, AuditEvent.Action.UPDATE, area, changed, request)
    return area


def _names_before(stored: Area, name: str) -> list[str]:
    """`stored`'s former names, with its name now if `name` replaces it."""
    former = [old for old in stored.former_names if old != name]
    if stored.name != name and stored.name not in former:
        former.append(stored.name)
    return former


# -- Areas that change: renamed, merged (撤并), retired (撤销) --------------------------------
#
# What hangs on an area belongs to the app that owns it, and the kernel imports none of them
# (layers): each app registers an `AreaMover` in its AppConfig.ready, which counts what an
# area holds (for the confirmation page) and moves it when the area is merged away. The
# kernel moves what it owns itself: accounts, and the grids of a merged community (retired
# with it). A retired area keeps its row, so old records (assessment results, decided
# transfers, imports) still name it; nothing live points at it.


@dataclass(frozen=True)
class AreaMover:
    """What one app moves when an area is merged into another.

    `label` names the records (plural, lazy); `count(area)` is how many point at `area` and
    would move; `move(*, actor, source, target, request)` moves them to `target` in the
    caller's transaction, each with its history as its app writes it (`change`: "merge", or
    "split" where a grid goes to a community split off its own). `live`: records that
    keep an area from being retired outright (members, needs); an open assessment period's
    targets are not (the retired community just leaves its standings).
    """

    label: object
    count: Callable[[Area], int]
    move: Callable[..., None]
    live: bool = True
    # Where a split takes records by address (members): `count_by_address(area, words,
    # grids)` (not counting those of `grids`, which go along with their grid) and
    # `move_by_address(*, actor, source, target, words, request)`.
    count_by_address: Callable[..., int] | None = None
    move_by_address: Callable[..., None] | None = None
    # What an app settles once a community is split, `split(*, actor, source, target,
    # request)`: the assessment divides the targets of its open periods.
    split: Callable[..., None] | None = None


AREA_MOVERS: list[AreaMover] = []


def area_mover_register(mover: AreaMover) -> None:
    """Add an app's mover (from its AppConfig.ready); registering twice changes nothing."""
    if mover not in AREA_MOVERS:
        AREA_MOVERS.append(mover)


def area_records_repoint(
    *,
    actor,
    source: Area,
    target: Area,
    records: dict[str, type],
    request=None,
    change: str = "merge",
    distinct_names: bool = False,
) -> dict[str, int]:
    """The body of most `AreaMover.move`s: point the records of `source` (their `area`) at
    `target`, in the caller's transaction, with the audit line of `area_move_audit`.
    `records` maps the word the audit line counts them by to the model ("places": Place).
    Returns how many of each moved.

    `distinct_names`, for records named once per area (one model a call): one whose name
    `target` already has gets the old area's name in brackets (桥东一社区 merged into
    五一二社区: 老年协会（桥东一社区）); the audit line lists their ids under "renamed"."""
    renamed = []
    if distinct_names:
        for model in records.values():
            renamed += _names_made_distinct(model, source=source, target=target)
    moved = {
        key: model.objects.filter(area=source).update(area=target) for key, model in records.items()
    }
    area_move_audit(
        actor=actor, source=source, target=target, request=request, change=change, **moved,
        **({"renamed": renamed} if distinct_names else {}),
    )  # fmt: skip
    return moved


def _names_made_distinct(model, *, source: Area, target: Area) -> list[int]:
    """Rename the records of `source` whose name `target` already has (cut to fit the
    field); the ids renamed."""
    taken = model.objects.filter(area=target).values_list("name", flat=True)
    suffix = f"（{source.name}）"
    room = model._meta.get_field("name").max_length - len(suffix)
    renamed = []
    for record in model.objects.filter(area=source, name__in=taken):
        record.name = record.name[:room] + suffix
        record.save(update_fields=["name"])
        renamed.append(record.pk)
    return renamed


def area_move_audit(*, actor, source: Area, target: Area, request=None, change="merge", **moved):
    """The one audit line of an app's records moved with a merged (or split) area, on
    `source`: what moved, how many (`moved`, as the mover counts them), and where to; none
    when nothing did. For movers that do more than `area_records_repoint` does."""
    if any(moved.values()):
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=source,
            request=request,
            detail={"change": change, **moved, "to": target.code},
        )


def area_holdings(area: Area, *, live_only: bool = False) -> list[tuple[str, int]]:
    """(what, how many) of the records that point at `area` and move when it is merged:
    accounts and grids first, then each app's; for the confirmation pages. `live_only`: what
    keeps it from being retired outright."""
    held = [
        (_("accounts"), User.objects.filter(area=area, is_active=True).count()),
        (
            _("areas below it"),
            Area.objects.current().filter(parent=area).count(),
        ),
    ]
    held += [
        (str(mover.label), mover.count(area))
        for mover in AREA_MOVERS
        if mover.live or not live_only
    ]
    return held


def _check_area_admin(actor, *areas: Area) -> None:
    """Only who may change areas, within their own area (not their own area itself)."""
    if actor is None:
        return
    prefix = area_prefix(actor)
    if prefix is None or not actor.has_perm("tongzhan.change_area"):
        raise PermissionDenied
    for area in areas:
        if prefix and (not code_within(area.code, prefix) or area.code == prefix):
            raise PermissionDenied


def _audit_change(actor, area: Area, change: str, request=None, **detail) -> None:
    """The audit line of an area's change; a command's (actor None) is written too, named."""
    audit_record(
        actor=actor,
        username="" if actor is not None else "load_areas",
        action=AuditEvent.Action.UPDATE,
        obj=area,
        request=request,
        detail={"change": change, "code": area.official_code, **detail},
    )


@transaction.atomic
def area_rename(
    *, actor, area: Area, name=None, official_name=None, urban_rural_code=None, request=None
) -> Area:
    """Rename an area (更名): its code, place and records stay; None keeps a value. One audit
    line with the names before and after."""
    _check_area_admin(actor, area)
    stored = Area.objects.select_for_update(of=("self",)).get(pk=area.pk)
    if stored.is_retired:
        raise ValidationError(_("%(area)s is retired.") % {"area": stored.name})
    before = {"name": stored.name, "official_name": stored.official_name}
    if name is not None:
        stored.former_names = _names_before(stored, name.strip())
        stored.name = name.strip()
    if official_name is not None:
        stored.official_name = official_name.strip()
    if urban_rural_code is not None:
        stored.urban_rural_code = urban_rural_code
    stored.full_clean()
    stored.save(update_fields=["name", "official_name", "urban_rural_code", "former_names"])
    after = {"name": stored.name, "official_name": stored.official_name}
    if before != after:
        _audit_change(actor, stored, "rename", request, before=before, after=after)
    area.name, area.official_name = stored.name, stored.official_name
    area.urban_rural_code, area.former_names = stored.urban_rural_code, stored.former_names
    return stored


def area_merge_targets(area: Area, actor=None):
    """The areas `area` may be merged into: current areas of its level under the same
    district (a grid: any grid of a current community), not itself, within `actor`'s area."""
    targets = Area.objects.current().filter(level=area.level).exclude(pk=area.pk)
    district = area.code[:6]
    targets = targets.filter(within_area(district))
    if actor is not None:
        targets = targets.visible_to(actor)
        prefix = area_prefix(actor)
        if prefix:
            targets = targets.exclude(code=prefix)
    return targets.select_related("parent").order_by("code")


@transaction.atomic
def area_merge(*, actor, source: Area, target: Area, request=None) -> Area:
    """Merge `source` into `target` (撤并入): its members, accounts, activities, visits and
    needs move to `target` (each app's `AreaMover`), its grids and itself are retired and
    name `target` as where they went. A community or grid only: a street's communities
    would need new codes. Assessment results and decided transfers stay as recorded."""
    _check_area_admin(actor, source, target)
    locked = {
        area.pk: area
        for area in Area.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.level not in (Area.Level.COMMUNITY, Area.Level.GRID):
        raise ValidationError(
            _("Only a community or a grid is merged into another; a street's communities "
              "would need new codes. Add the new street and load its communities instead.")
        )  # fmt: skip
    if source.pk == target.pk:
        raise ValidationError({"target": _("Choose another area to merge into.")})
    if source.is_retired or target.is_retired:
        raise ValidationError(_("A retired area is neither merged nor merged into."))
    if target.level != source.level or target.code[:6] != source.code[:6]:
        raise ValidationError(
            {"target": _("Merge into a %(level)s of the same district.")
             % {"level": source.get_level_display()}}
        )  # fmt: skip
    _area_records_move(actor=actor, source=source, target=target, request=request)
    return source


def _area_records_move(*, actor, source: Area, target: Area, change="merge", request=None):
    """Move what points at `source` to `target` (accounts, then each app's records) and
    retire `source` and its grids naming `target`; one audit line on `source`."""
    held = dict(area_holdings(source))
    moved_accounts = list(User.objects.filter(area=source))
    for account in moved_accounts:
        account.area = target
        account.save(update_fields=["area"])
        _audit_account(actor, AuditEvent.Action.UPDATE, account, {"area": target.code}, request)
    for mover in AREA_MOVERS:
        mover.move(actor=actor, source=source, target=target, request=request, change=change)
    now = timezone.now()
    grids = list(Area.objects.current().filter(parent=source))
    for area in [*grids, source]:
        area.retired_at, area.merged_into = now, target
        area.save(update_fields=["retired_at", "merged_into"])
    _audit_change(
        actor,
        source,
        change,
        request,
        into=target.official_code,
        moved={what: n for what, n in held.items() if n},
        grids=[grid.code for grid in grids],
    )


def split_words(text: str) -> list[str]:
    """The address words of a split, as typed: separated by 、 ， , ; or new lines."""
    return [word for word in re.split(r"[、，,;；\s]+", text or "") if word]


def area_split_holdings(source: Area, grids, words) -> list[tuple[str, int]]:
    """(what, how many) would go to the community split off `source` with `grids` and the
    members whose address holds one of `words`: for the confirmation page."""
    held: dict[str, int] = {}
    for grid in grids:
        for what, n in area_holdings(grid):
            if n:
                held[what] = held.get(what, 0) + n
    for mover in AREA_MOVERS:
        if mover.count_by_address and words:
            # Those of the grids going along are counted with their grid, not twice.
            what = str(_("%(records)s by address") % {"records": mover.label})
            held[what] = mover.count_by_address(source, words, grids)
    return list(held.items())


@transaction.atomic
def area_split(
    *, actor, source: Area, code: str, name: str, grids=(), words=(), request=None
) -> Area:
    """Split a new community off `source` (拆分): `code` and `name` are the new one's, under
    the same street. Each of `grids` (current grids of `source`) goes with it as a grid of the
    same suffix and name, taking its members and accounts (the old grid is retired
    naming the new); then the members of `source` whose address holds one of `words` (小区,
    楼栋, 路名) move to it, each member with a history line. What `source` did stays its own:
    its activities, visits, assessment targets and results. Returns the new community."""
    _check_area_admin(actor, source)
    source = Area.objects.select_for_update(of=("self",)).get(pk=source.pk)
    if source.level != Area.Level.COMMUNITY or source.is_retired:
        raise ValidationError(_("Only a current community is split."))
    # The grids as they are now, locked: a split or merge that ran since the form was filled
    # may have taken one already, and it is not taken twice.
    chosen = [grid.pk for grid in grids]
    grids = list(
        Area.objects.select_for_update(of=("self",)).filter(pk__in=chosen).order_by("code")
    )
    words = [word.strip() for word in words if word.strip()]
    if len(grids) != len(set(chosen)) or any(
        grid.parent_id != source.pk or grid.is_retired for grid in grids
    ):
        raise ValidationError(
            {"grids": _("Choose current grids of %(area)s.") % {"area": source.name}}
        )
    if not grids and not words:
        raise ValidationError(
            _("Choose the grids, or give the addresses, that go to the new community; a "
              "community that takes nothing is simply added.")
        )  # fmt: skip
    siblings = Area.objects.current().filter(parent=source.parent_id, level=Area.Level.COMMUNITY)
    if any(community_name_key(area.name) == community_name_key(name) for area in siblings):
        # Rosters name communities: two of one name in a street could not be told apart.
        raise ValidationError(
            {"name": _("%(street)s already has a community called %(name)s.")
             % {"street": source.parent.name, "name": name}}
        )  # fmt: skip
    new = area_create(
        actor=actor,
        data={
            "code": code,
            "name": name,
            "level": Area.Level.COMMUNITY,
            "parent": source.parent,
        },
        request=request,
    )
    for grid in grids:
        new_grid = area_create(
            actor=actor,
            data={
                "code": new.code + grid.code[len(source.code) :],
                "name": grid.name,
                "level": Area.Level.GRID,
                "parent": new,
            },
            request=request,
        )
        _area_records_move(
            actor=actor, source=grid, target=new_grid, change="split", request=request
        )
    moved_by_address = {}
    for mover in AREA_MOVERS:
        if mover.move_by_address and words:
            moved_by_address[str(mover.label)] = mover.count_by_address(source, words)
            mover.move_by_address(
                actor=actor, source=source, target=new, words=words, request=request
            )
    for mover in AREA_MOVERS:
        if mover.split:
            mover.split(actor=actor, source=source, target=new, request=request)
    _audit_change(
        actor,
        source,
        "split",
        request,
        into=new.official_code,
        grids=[grid.code for grid in grids],
        words=words,
        moved=moved_by_address,
    )
    return new


@transaction.atomic
def area_retire(*, actor, area: Area, request=None) -> Area:
    """Retire an area (撤销) that nothing live points at any more: it keeps its row, marked,
    and leaves the pickers. One that still holds members, accounts, ... is merged instead
    (`area_merge`), so nothing is left pointing at a retired area."""
    _check_area_admin(actor, area)
    stored = Area.objects.select_for_update(of=("self",)).get(pk=area.pk)
    if stored.is_retired:
        raise ValidationError(_("%(area)s is already retired.") % {"area": stored.name})
    held = [f"{n} {what}" for what, n in area_holdings(stored, live_only=True) if n]
    if held:
        raise ValidationError(
            _("%(area)s still holds %(what)s: merge it into another area, which takes them "
              "along, or move them first.") % {"area": stored.name, "what": "、".join(held)}
        )  # fmt: skip
    stored.retired_at = timezone.now()
    stored.save(update_fields=["retired_at"])
    _audit_change(actor, stored, "retire", request)
    area.retired_at = stored.retired_at
    return stored


# -- Accounts --------------------------------------------------------------------------------
#
# Three duties apart (三员分立): the system administrator runs accounts, the auditor reads the
# log of it, and nobody holds both. An administrator limited to an area administers accounts
# within that area only, and nobody widens their own rights. The admin, the commands and the
# seed all go through these functions; `account_errors` is the one statement of the rules,
# which the admin's forms also ask to show the messages beside the fields.

ACCOUNT_FIELDS = {"username", "first_name", "last_name", "email", "is_active"}
AUDITOR_GROUP = ROLE_GROUPS["auditor"][0]
ROLE_GROUP_NAMES = frozenset(name for name, _perms in ROLE_GROUPS.values())


def _within(area, prefix: str) -> bool:
    return area is not None and code_within(area.code, prefix)


def account_errors(
    *, actor, user, role, area, groups=None, permissions=None, fields=()
) -> dict[str, list[str]]:
    """Why `actor` may not give `user` (None: a new account) this role, area, extra groups and
    permissions, or set these `fields`; by field name ("__all__" for the account), empty if
    allowed. `actor` None is a command or the seed, which the operator runs."""
    errors: dict[str, list[str]] = {}

    def refuse(field, message):
        errors.setdefault(field, []).append(message)

    if actor is None:
        return errors
    prefix = area_prefix(actor)
    stored = User.objects.select_related("area").get(pk=user.pk) if user and user.pk else None
    if prefix is None or not actor.has_perm(
        "tongzhan.change_user" if stored else "tongzhan.add_user"
    ):
        refuse("__all__", _("You may not administer accounts."))
        return errors
    if {"is_superuser", "is_staff"} & set(fields):
        refuse("__all__", _("Superuser and staff flags are not set here: the role decides them."))
    if stored is not None:
        if prefix and not _within(stored.area, prefix):
            refuse("__all__", _("This account is outside your area."))
        if stored.is_superuser and not actor.is_superuser:
            refuse("__all__", _("Only a superuser administers a superuser's account."))
        if stored.duties()[1] and not actor.is_superuser:
            refuse("__all__", _("An auditor's account is administered from the command line."))
        if stored.pk != actor.pk and not actor.is_superuser:
            # Whoever sets an account's password holds its rights: an account given rights
            # beyond its role (extra groups, permissions) that the actor lacks is not theirs.
            beyond = _rights_beyond(stored, actor)
            if beyond:
                refuse(
                    "__all__",
                    _("This account holds rights you do not hold (%(perms)s): an administrator "
                      "holding them administers it.") % {"perms": "、".join(beyond)},
                )  # fmt: skip
    was = stored.role if stored is not None else None
    if User.Role.AUDITOR in (role, was) and role != was:
        refuse(
            "role",
            _(
                "The auditor role is granted and revoked only by a superuser, on the server "
                "(manage.py grant_auditor)."
            ),
        )
    if prefix and not _within(area, prefix):
        refuse(
            "area",
            _("Choose an area within yours (%(area)s): an administrator limited to an area "
              "cannot give an account another area, or none.") % {"area": actor.area.name},
        )  # fmt: skip
    own = stored is not None and stored.pk == actor.pk
    if own and (role != stored.role or area != stored.area):
        refuse("role", _("Nobody changes their own role or area; ask another administrator."))
    given_groups = set(groups or [])
    given_permissions = set(permissions or [])
    if stored is not None:
        extra = set(stored.groups.exclude(name__in=ROLE_GROUP_NAMES))
        direct = set(stored.user_permissions.all())
    else:
        extra, direct = set(), set()
    widened = (groups is not None and given_groups != extra) or (
        permissions is not None and given_permissions != direct
    )
    if widened:
        if own:
            refuse("groups", _("Nobody changes their own groups or permissions."))
        if prefix:
            refuse(
                "groups",
                _("An administrator limited to an area gives no rights beyond the role."),
            )
        if any(group.name in ROLE_GROUP_NAMES for group in given_groups):
            refuse("groups", _("A role's group follows the role; choose the role instead."))
        if not actor.is_superuser:
            held = actor.get_all_permissions()
            beyond = sorted(
                f"{p.content_type.app_label}.{p.codename}"
                for p in given_permissions - direct
                if f"{p.content_type.app_label}.{p.codename}" not in held
            )
            beyond += sorted(
                f"{group.name}: {p.content_type.app_label}.{p.codename}"
                for group in given_groups - extra
                for p in group.permissions.select_related("content_type")
                if f"{p.content_type.app_label}.{p.codename}" not in held
            )
            if beyond:
                refuse(
                    "user_permissions",
                    _("You cannot give permissions you do not hold: %(perms)s.")
                    % {"perms": "、".join(beyond)},
                )
    return errors


def _rights_beyond(user: User, actor: User) -> list[str]:
    """The permissions `user` holds beyond their role (through extra groups or given
    directly) that `actor` does not hold."""
    from django.contrib.auth.models import Permission

    extra_groups = user.groups.exclude(name__in=ROLE_GROUP_NAMES)
    names = {
        f"{app}.{code}"
        for permissions in (
            Permission.objects.filter(group__in=extra_groups),
            user.user_permissions.all(),
        )
        for app, code in permissions.values_list("content_type__app_label", "codename")
    }
    return sorted(names - actor.get_all_permissions())


def _refuse(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def user_create(
    *,
    actor,
    username,
    password,
    role,
    area=None,
    must_change_password=False,
    request=None,
    **fields,
) -> User:
    """Create an account; its group follows the role. `actor` None is a command or seed.

    An initial password given by someone else should be changed at first login
    (`must_change_password`), as the admin's new accounts are. One audit line.
    """
    _refuse(account_errors(actor=actor, user=None, role=role, area=area, fields=fields))
    user = User(username=username, must_change_password=must_change_password, **fields)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    _apply_role(user, role, area)
    _audit_account(actor, AuditEvent.Action.CREATE, user, {}, request)
    return user


@transaction.atomic
def user_update(
    *, actor, user, role, area, fields=None, groups=None, permissions=None, request=None
) -> User:
    """Change an account: its role and area (its group follows), `fields` (names, e-mail,
    active), and with `groups`/`permissions` its extra groups and permissions. One audit line
    with what changed."""
    fields = dict(fields or {})
    unknown = set(fields) - ACCOUNT_FIELDS
    errors = account_errors(
        actor=actor, user=user, role=role, area=area, groups=groups, permissions=permissions,
        fields=unknown,
    )  # fmt: skip
    if unknown - {"is_superuser", "is_staff"}:
        errors.setdefault("__all__", []).append(
            _("These fields are not changed here: %(fields)s.")
            % {"fields": "、".join(sorted(unknown))}
        )
    _refuse(errors)
    stored = User.objects.select_for_update(of=("self",)).select_related("area").get(pk=user.pk)
    rights_before = _account_rights(stored)
    changed = {}
    for name, value in fields.items():
        if getattr(stored, name) != value:
            changed[name] = value if name == "is_active" else True
            setattr(user, name, value)
    if (role, area) != (stored.role, stored.area):
        changed.update(role=role, area=area.code if area else None)
    _apply_role(user, role, area)
    if groups is not None:
        extra = [group for group in groups if group.name not in ROLE_GROUP_NAMES]
        user.groups.remove(*user.groups.exclude(name__in=ROLE_GROUP_NAMES))
        user.groups.add(*extra)
        changed["groups"] = sorted(group.name for group in extra)
    if permissions is not None:
        user.user_permissions.set(permissions)
        changed["permissions"] = _permission_names(user.user_permissions.all())
    if _account_rights(User.objects.get(pk=user.pk)) != rights_before:
        # A file holds what its owner could see when it was made; moved, given other rights
        # or disabled, they are no longer who it was made for.
        downloads_withdraw(owners=[user])
    _audit_account(actor, AuditEvent.Action.UPDATE, user, changed, request)
    return user


def _account_rights(user) -> tuple:
    """What decides what an account sees: its area and its permissions (none when disabled)."""
    return user.area_id, frozenset(user.get_all_permissions())


@transaction.atomic
def user_set_role(*, actor, user, role, area, request=None) -> User:
    """Give an account a role and an area; its group follows the role."""
    return user_update(actor=actor, user=user, role=role, area=area, request=request)


@transaction.atomic
def user_set_password(*, actor, user, password, must_change: bool, request=None) -> User:
    """Set a password: the owner's own change (`must_change` False) or an administrator's reset,
    which the owner changes at the next login. Validated by AUTH_PASSWORD_VALIDATORS."""
    if actor is not None and actor.pk != user.pk:
        _refuse(account_errors(actor=actor, user=user, role=user.role, area=user.area))
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.must_change_password = must_change
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    _audit_account(actor, AuditEvent.Action.UPDATE, user, {"password": True}, request)
    return user


@transaction.atomic
def user_set_active(*, actor, user, active: bool, request=None) -> User:
    """Disable an account or enable it again (accounts are never deleted: the audit log names
    them). Nobody disables their own account. A disabled account's sessions end with it: the
    authentication backend no longer gives a session the account (ModelBackend's
    `user_can_authenticate`), and the login page tells its owner it is disabled. One audit
    line, through `user_update`, if the state changes."""
    if actor is not None and actor.pk == user.pk and not active:
        raise ValidationError(_("Nobody disables their own account; ask another administrator."))
    stored = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    if stored.is_active == active:  # pressed twice, or by two administrators: nothing to do
        _refuse(account_errors(actor=actor, user=user, role=user.role, area=user.area))
        return stored
    return user_update(
        actor=actor,
        user=user,
        role=user.role,
        area=user.area,
        fields={"is_active": active},
        request=request,
    )


@transaction.atomic
def user_remove_authenticator(*, actor, user, request=None) -> int:
    """Remove an account's authenticator (a lost or replaced phone): its owner sets up a new
    one at the next login. Returns how many were removed; one audit line if any was."""
    _refuse(account_errors(actor=actor, user=user, role=user.role, area=user.area))
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
    if removed:
        _audit_account(actor, AuditEvent.Action.UPDATE, user, {"second_factor": "removed"},
                       request)  # fmt: skip
    return removed


def user_locked_out(user) -> bool:
    """Whether django-axes refuses the account's logins now: AXES_FAILURE_LIMIT failures with
    its username within AXES_COOLOFF_TIME (a lock on an address is the address's, not the
    account's)."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models import Sum

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(
        username=user.username, attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return (failures or 0) >= settings.AXES_FAILURE_LIMIT


@transaction.atomic
def user_unlock(*, actor, user, request=None) -> int:
    """End a lockout of the account's username before its time (django-axes `reset`): its
    owner may try again at once. Returns how many login records were cleared; one audit
    line."""
    _refuse(account_errors(actor=actor, user=user, role=user.role, area=user.area))
    from axes.utils import reset

    cleared = reset(username=user.username)
    _audit_account(actor, AuditEvent.Action.UPDATE, user, {"unlocked": cleared}, request)
    return cleared


def _apply_role(user: User, role, area) -> None:
    """Role, area, staff flag and the role's group: saved."""
    user.role = role
    user.area = area
    user.is_staff = role == User.Role.ADMIN
    user.full_clean()
    user.save()
    user.groups.remove(*user.groups.filter(name__in=ROLE_GROUP_NAMES))
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role][0]))


@transaction.atomic
def user_grant_auditor(*, actor, user) -> User:
    """Make an account an auditor (the role, its group, no area, nothing else). Only a
    superuser, from the command line; never a system administrator (三员分立)."""
    _auditor_change_allowed(actor, user)
    if user.duties()[0]:
        raise ValidationError(
            _("%(user)s is a system administrator; an administrator never also audits "
              "(三员分立). Use another account.") % {"user": user.username}
        )  # fmt: skip
    previous = user.role
    user.user_permissions.clear()
    user.groups.clear()
    _apply_role(user, User.Role.AUDITOR, None)
    _audit_account(actor, AuditEvent.Action.UPDATE, user,
                   {"auditor": "granted", "previous_role": previous})  # fmt: skip
    return user


@transaction.atomic
def user_revoke_auditor(*, actor, user) -> User:
    """End an account's auditor role. An auditor's account has no other duty: it is disabled
    (an administrator cannot hand it back: the role is changed here only)."""
    _auditor_change_allowed(actor, user, own_allowed=True)  # giving up a right is allowed
    if not user.duties()[1]:
        raise ValidationError(_("%(user)s is not an auditor.") % {"user": user.username})
    user.groups.remove(*user.groups.filter(name=AUDITOR_GROUP))
    if user.role == User.Role.AUDITOR:
        user.is_active = False
        user.save(update_fields=["is_active"])
    _audit_account(actor, AuditEvent.Action.UPDATE, user, {"auditor": "revoked"})
    return user


def _auditor_change_allowed(actor, user, own_allowed=False) -> None:
    if actor is None or not actor.is_superuser or not actor.is_active:
        raise ValidationError(_("Only a superuser grants or revokes the auditor role."))
    if actor.pk == user.pk and not own_allowed:
        raise ValidationError(
            _("Nobody changes their own role or area; ask another administrator.")
        )


def _permission_names(permissions) -> list[str]:
    return sorted(
        f"{app}.{code}"
        for app, code in permissions.values_list("content_type__app_label", "codename")
    )


def _audit_account(actor, action, user: User, changed: dict, request=None) -> None:
    """The one audit line of an account write: role and area as they are now, and what
    changed. A command or the seed (actor None) writes none, as before."""
    if actor is not None:
        audit_record(
            actor=actor,
            action=action,
            obj=user,
            request=request,
            detail={
                "role": user.role,
                "area": user.area.code if user.area_id else None,
                **({"changed": changed} if changed else {}),
            },
        )


# -- Role groups ------------------------------------------------------------------------------


def group_errors(*, actor, group, permissions) -> list[str]:
    """Why `actor` may not give `group` these permissions: a role's group changes what every
    account of the role may do, in every area."""
    errors = []
    if actor.is_superuser:
        pass
    elif not actor.sees_everything:
        errors.append(_("An administrator limited to an area does not change groups."))
    else:
        if group.pk and actor.groups.filter(pk=group.pk).exists():
            errors.append(_("Nobody changes the permissions of a group they belong to."))
        held = actor.get_all_permissions()
        current = set(group.permissions.all()) if group.pk else set()
        beyond = sorted(
            f"{p.content_type.app_label}.{p.codename}"
            for p in set(permissions) - current
            if f"{p.content_type.app_label}.{p.codename}" not in held
        )
        if beyond:
            errors.append(
                _("You cannot give permissions you do not hold: %(perms)s.")
                % {"perms": "、".join(beyond)}
            )
    stored_name = Group.objects.get(pk=group.pk).name if group.pk else group.name
    if AUDITOR_GROUP in (group.name, stored_name):
        errors.append(_("The auditor's group is fixed: it reads the audit log and nothing else."))
    elif stored_name in ROLE_GROUP_NAMES and group.name != stored_name:
        errors.append(_("A role's group keeps its name."))
    return errors


@transaction.atomic
def group_save(*, actor, group, permissions, request=None) -> Group:
    """Create or change a group and its permissions; one audit line with the permissions."""
    errors = group_errors(actor=actor, group=group, permissions=permissions)
    if errors:
        raise ValidationError(errors)
    created = group.pk is None
    before = set() if created else set(group.permissions.values_list("pk", flat=True))
    group.full_clean()
    group.save()
    group.permissions.set(permissions)
    if not created and {p.pk for p in permissions} != before:
        downloads_withdraw(owners=group.user_set.all())  # as `user_update`
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        obj=group,
        request=request,
        detail={"permissions": _permission_names(group.permissions.all())},
    )
    return group


@transaction.atomic
def group_delete(*, actor, group, request=None) -> None:
    """Delete a group that is not a role's (a superuser's act); one audit line."""
    if group.name in ROLE_GROUP_NAMES or not actor.is_superuser:
        raise ValidationError(_("A role's group is not deleted."))
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, obj=group, request=request)
    group.delete()


# -- Files made in the background (tongzhan.downloads) ----------------------------------------

# A running download whose worker has not written its progress for this long died with its
# worker (nothing of it was kept: the file and its audit lines are written together).
DOWNLOAD_STALE_AFTER = datetime.timedelta(minutes=15)
BUSY = (Download.State.QUEUED, Download.State.RUNNING)


def download_request(*, actor, kind: str, title: str, params: dict, request=None) -> Download:
    """Queue the file `kind` for `actor`; `params` say what goes in it (JSON).

    The caller has checked that the actor may ask for it; the producer checks again, as the
    owner is when it runs. Returns the queued download, whose page shows its progress, or
    the same file already being made for the actor. ValidationError when the actor has
    `DOWNLOAD_BUSY_MAX` others being made (the workers are shared by everyone).
    """
    if kind not in PRODUCERS:
        raise ValueError(f"no producer registered for {kind!r}")
    with transaction.atomic():
        # One owner's requests one at a time, so two at once cannot both find room.
        User.objects.select_for_update().values("pk").get(pk=actor.pk)
        busy = Download.objects.filter(owner=actor, state__in=BUSY)
        # An export is a link: opened again (or by a page that opens it over and over), it is
        # the file already being made, not one more for the workers.
        same = busy.filter(kind=kind, params=params).first()
        if same is not None:
            return same
        if busy.count() >= settings.DOWNLOAD_BUSY_MAX:
            raise ValidationError(
                _(
                    "%(count)s of your files are being prepared: ask for another once one of "
                    "them is ready."
                )
                % {"count": settings.DOWNLOAD_BUSY_MAX}
            )
        download = Download.objects.create(
            owner=actor,
            kind=kind,
            title=title[:200],
            params=params,
            requested_ip=client_ip(request),
            requested_request_id=getattr(request, "id", ""),
        )
        # Queued with it: with the database backend a worker takes it once committed, and a
        # file that could not be queued is not left waiting for ever.
        download_run.enqueue(download.pk)
    download.refresh_from_db()
    return download


def download_delete(*, actor, download: Download, request=None) -> None:
    """Its owner drops a file before it expires (or stops one being made)."""
    if download.owner_id != actor.pk:
        raise PermissionDenied
    Download.objects.filter(pk=download.pk).delete()


def download_fetched(*, actor, download: Download, request=None) -> None:
    """The owner takes the file: personal data leaves the server, so the audit log says so
    (the export itself was logged when the file was made, with its filters and rows)."""
    if not Download.objects.visible_to(actor).kept().filter(pk=download.pk).exists():
        raise PermissionDenied
    producer = PRODUCERS.get(download.kind)
    if producer is None or (producer.permission and not actor.has_perm(producer.permission)):
        raise PermissionDenied
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        obj=download,
        request=request,
        detail={"download": download.kind, "rows": download.rows, "size": download.size},
    )


def downloads_withdraw(*, owners) -> int:
    """Delete now the made files of `owners`, whose area or rights changed (`user_update`,
    `group_save`); return how many. The files being made are made as their owner is when
    they run."""
    return Download.objects.filter(owner__in=owners, state=Download.State.DONE).update(
        state=Download.State.EXPIRED, data=None, params={}
    )


def downloads_expire() -> int:
    """Delete the files kept long enough (`DOWNLOAD_KEEP_DAYS`) and what they were asked for
    with (a failed one's too, as long after), and mark as failed the ones whose worker died
    while making them. Idempotent; for the scheduled runner. Returns how many files were
    deleted."""
    now = timezone.now()
    # What a file was asked for with goes with it: a list searched by ID number or phone
    # keeps the number in `params` (the audit line keeps it masked).
    expired = Download.objects.filter(state=Download.State.DONE, expires_at__lte=now).update(
        state=Download.State.EXPIRED, data=None, params={}
    )
    Download.objects.filter(
        state=Download.State.FAILED,
        finished_at__lte=now - datetime.timedelta(days=settings.DOWNLOAD_KEEP_DAYS),
    ).exclude(params={}).update(params={})
    Download.objects.filter(
        state=Download.State.RUNNING, heartbeat__lt=now - DOWNLOAD_STALE_AFTER
    ).update(
        state=Download.State.FAILED,
        finished_at=now,
        heartbeat=None,
        error=_("The work stopped before the file was made; nothing was kept. Ask for it again."),
    )
    return expired
