"""Importing a roster (花名册): every row checked with the member's rules, then written at once.

Rows are matched by ID number across the whole registry: new people are created, people
already in the same community are updated in the fields the file fills in (an empty cell
leaves the stored value alone), and everything else is refused with the row, the column and
the reason. Valid rows are written in one transaction, with a history entry whose source is
the file; with `strict`, nothing is written if any row is refused.
"""

import contextlib
import datetime
import functools
import gc
import threading
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongzhan import documents
from tongzhan.audit import audit_record
from tongzhan.bulk import insert_objects, insert_rows
from tongzhan.crypto import lookup_has_aliases
from tongzhan.masking import mask_id_number
from tongzhan.models import Area, AuditEvent, community_name_key, street_name_key

from .models import (
    Ethnicity,
    Member,
    MemberCategory,
    MemberChange,
    Nomination,
    PoliticalArrangement,
    PoliticalStatus,
)
from .positions import IN_OFFICE, ParsedArrangement, parse_positions
from .roster import COLUMNS
from .roster_reader import (
    RESIDENCE,
    RosterFileError,
    RowError,
    find_header,
    iter_rows,
    mapping_key,
    normalize_header,
    read_table,
)
from .rules import categories_by_slug
from .services import (
    changes_between,
    duplicate_reasons_text,
    duplicates_warnings,
    elsewhere_text,
    member_check_categories,
    member_check_informing,
    nominations_from_import,
    parsed_arrangements_summary,
    possible_duplicates_of_many,
    probe_answers_left,
    probe_refusal,
    registered_error,
    registration_changes,
    snapshot,
    tally_apply,
    tally_change,
    tally_keys,
)

SOURCE = "导入：%s"
# Importing registers people, so it needs what the registration form needs besides its own
# permission; a row that changes someone registered needs what the edit page needs
# (`Member.objects.editable_by`). One rule for form and import: a street officer, who reads
# only, cannot change members by import either.
IMPORT_PERMISSIONS = ("members.import_member", "members.add_member")
# Roster columns that map straight onto a Member field of the same name.
PLAIN_FIELDS = (
    "name",
    "sex",
    "education",
    "native_place",
    "workplace",
    "professional_title",
    "social_positions",
    "phone",
    "address",
    "specialty",
    "notes",
    "informed_how",
    "informed_on",
    "not_informed_reason",
)
# Rows checked and written at a time: memory stays flat, queries stay few.
CHUNK = 2000
# Refusals kept before the check stops: a file this wrong has the wrong columns or values
# throughout, and its reasons alone would take hundreds of MB (issue 12, hole 10).
MAX_REFUSALS = 100_000


class UnknownColumnsError(RosterFileError):
    """The header has columns no rule knows: the import stops before any row is checked,
    until each is said to fill a field or not to be imported (`columns` of `roster_import`).
    """

    def __init__(self, message: str, *, unknown: list[str], key: str):
        super().__init__(message)
        self.unknown = unknown
        self.key = key


class _StreetError(ValueError):
    """The street column names no street in reach."""


@dataclass
class ImportReport:
    filename: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[RowError] = field(default_factory=list)
    # For each updated person: row, name and the fields that change (for the preview).
    changes: list[dict] = field(default_factory=list)
    written: bool = False
    # People the roster proposes as representatives (代表人士 是) who are not: nominated.
    nominated: int = 0
    # New people of a roster without the notice's columns: registered as not told yet, with
    # `ROSTER_NOT_INFORMED` as the reason (the dashboards count them until someone records it).
    not_informed: int = 0

    def as_json(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "nominated": self.nominated,
            "not_informed": self.not_informed,
            "refused": [
                {"row": error.row, "column": error.column, "message": error.message}
                for error in sorted(self.refused, key=lambda error: error.row)
            ],
        }


@dataclass(slots=True)
class RowOutcome:
    """What the import does (or, checking, would do) with one row, for the pages that list
    the rows: `kind` is an `ImportRow.Kind`; numbers masked; `detail` the changes of an
    updated person or the reasons ({"column", "message"}) a row is refused."""

    row: int
    kind: str
    name: str = ""
    id_number_masked: str = ""
    community: str = ""
    member_id: int | None = None
    detail: list = field(default_factory=list)


@dataclass
class _Row:
    number: int
    member: Member
    slugs: list[str]
    existing: Member | None = None
    counted: Counter | None = None  # the tallies a known person counted in before the row
    fields: list[str] = field(default_factory=list)  # what the row changes of a known person
    # The political arrangements read from 社会职务/政治安排 (`positions.parse_positions`),
    # what of that cell was not read, and the arrangements the row adds to the person.
    arrangements: list[ParsedArrangement] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    new_arrangements: list[ParsedArrangement] = field(default_factory=list)
    # 代表人士 是: the row proposes the person (a nomination), it does not make her one.
    proposed: bool = False


class _Context:
    """What every row is checked against, loaded once."""

    def __init__(self, actor, default_community: Area | None):
        communities = Area.objects.current().communities()
        grids = Area.objects.current().filter(level=Area.Level.GRID)
        if actor is not None:
            communities = communities.visible_to(actor)
            grids = grids.visible_to(actor)
        self.actor = actor
        self.default_community = default_community
        self.communities_by_code = {area.code: area for area in communities}
        self.communities_by_name: dict[str, list[Area]] = {}
        for area in self.communities_by_code.values():
            self.communities_by_name.setdefault(community_name_key(area.name), []).append(area)
        # Names communities had before a rename (更名), for rows of a roster kept before it.
        self.renamed_by_name: dict[str, list[Area]] = {}
        for area in self.communities_by_code.values():
            for former in area.former_names:
                self.renamed_by_name.setdefault(community_name_key(former), []).append(area)
        # Communities merged away or abolished (撤并, 撤销): a roster kept before the change
        # still names them, and its rows are refused saying so, never "not in your area".
        retired = Area.objects.communities().filter(retired_at__isnull=False)
        if actor is not None:
            retired = retired.visible_to(actor)
        self.retired_by_code: dict[str, Area] = {}
        self.retired_by_name: dict[str, list[Area]] = {}
        for area in retired.select_related("merged_into"):
            self.retired_by_code[area.code] = area
            self.retired_by_name.setdefault(community_name_key(area.name), []).append(area)
        # The streets of those communities, to tell apart communities of the same name.
        self.streets = {
            street.pk: street
            for street in Area.objects.filter(
                pk__in={area.parent_id for area in self.communities_by_code.values()}
            )
        }
        self.streets_by_code = {street.code: street for street in self.streets.values()}
        self.streets_by_name: dict[str, list[Area]] = {}
        for street in self.streets.values():
            self.streets_by_name.setdefault(street_name_key(street.name), []).append(street)
        self.grids: dict[tuple[int, str], Area] = {}
        for grid in grids:
            self.grids[(grid.parent_id, grid.code)] = grid
            self.grids[(grid.parent_id, grid.name)] = grid
        self.grids_by_id = {grid.pk: grid for grid in grids}
        self.ethnicities = {item.code: item for item in Ethnicity.objects.all()}
        self.ethnicities_by_id = {item.pk: item for item in self.ethnicities.values()}
        self.statuses = {item.code: item for item in PoliticalStatus.objects.all()}
        self.statuses_by_id = {item.pk: item for item in self.statuses.values()}
        self.categories = categories_by_slug()
        self.categories_by_id = {item.pk: item for item in self.categories.values()}
        # Each field's outcome per distinct value, while this file is checked (`_validate`).
        self.validated: dict[str, dict] = {}

    def relate(self, member: Member, community: Area) -> None:
        """Attach the loaded area and reference rows to a member read from the database."""
        _relate(member, "community", community)
        for name, loaded in (
            ("grid", self.grids_by_id),
            ("ethnicity", self.ethnicities_by_id),
            ("political_status", self.statuses_by_id),
        ):
            # One not loaded (none, or out of reach) stays to be read when it is needed.
            obj = loaded.get(getattr(member, f"{name}_id"))
            if obj is not None:
                _relate(member, name, obj)

    def community(self, text: str, street_text: str = "") -> Area:
        """The row's community, by code or name; `street_text`, the row's street (街道), picks
        among communities of the same name and must hold the community found."""
        if not text:
            if self.default_community is None:
                raise ValueError(
                    _("The community is empty: fill it in, or choose one for the whole file.")
                )
            found = [self.default_community]
        elif text in self.communities_by_code:
            found = [self.communities_by_code[text]]
        else:
            found = self.communities_by_name.get(community_name_key(text), [])
        if not found:
            raise ValueError(self._retired(text) or self._renamed(text) or _(
                "%(name)s is not a community in your area: check the name or write its code."
            ) % {"name": text})  # fmt: skip
        if street_text:
            streets = self.street(street_text)
            within = [area for area in found if area.parent_id in streets]
            if not within:
                raise ValueError(
                    # 街道「%(street)s」没有%(name)s：它在%(streets)s。
                    _("%(street)s has no community %(name)s: it is in %(streets)s.")
                    % {
                        "street": street_text,
                        "name": text or found[0].name,
                        "streets": self._streets_of(found),
                    }
                )
            found = within
        if len(found) == 1:
            return found[0]
        raise ValueError(
            # 有多个社区叫%(name)s，分别在%(streets)s：请填写街道列，或改写社区的12位代码。
            _(
                "Several communities are called %(name)s, in %(streets)s: fill in the street "
                "column, or write the community's 12-digit code instead."
            )
            % {"name": text, "streets": self._streets_of(found)}
        )

    def _retired(self, text: str) -> str:
        """Why a community no longer takes members, when `text` names one merged away or
        abolished; "" otherwise."""
        if text in self.retired_by_code:
            found = [self.retired_by_code[text]]
        else:
            found = self.retired_by_name.get(community_name_key(text), [])
        if len(found) != 1:
            return ""
        into = found[0].merged_into
        while into is not None and into.is_retired and into.merged_into_id:
            into = into.merged_into  # merged again since: name where its members are now
        if into is not None and not into.is_retired:
            # “五一三社区”已撤并入桥东二社区：请改填“桥东二社区”。
            return _("%(name)s has been merged into %(into)s: write %(into)s instead.") % {
                "name": text,
                "into": into.name,
            }
        # “五一三社区”已撤销：请填写此人现在所属的社区。
        return _("%(name)s has been abolished: write the community the person belongs to now.") % {
            "name": text
        }

    def _renamed(self, text: str) -> str:
        """What a community is called now, when `text` is the name it had before a rename
        (and no current community's); "" otherwise."""
        found = self.renamed_by_name.get(community_name_key(text), [])
        if len(found) != 1:
            return ""
        # “新建三社区”已更名为“新建第三社区”：请改填“新建第三社区”。
        return _("%(name)s has been renamed %(now)s: write %(now)s instead.") % {
            "name": text,
            "now": found[0].name,
        }

    def street(self, text: str) -> set[int]:
        """The ids of the streets in reach that `text` names, by code or name."""
        if text in self.streets_by_code:
            return {self.streets_by_code[text].pk}
        found = self.streets_by_name.get(street_name_key(text), [])
        if not found:
            raise _StreetError(
                _("%(name)s is not a street in your area: check the name or write its code.")
                % {"name": text}
            )
        return {street.pk for street in found}

    def _streets_of(self, communities: list[Area]) -> str:
        streets = {self.streets[area.parent_id] for area in communities}
        return "、".join(street.name for street in sorted(streets, key=lambda area: area.code))

    def grid(self, community: Area, text: str) -> Area | None:
        if not text:
            return None
        grid = self.grids.get((community.pk, text))
        if grid is None:
            raise ValueError(
                _("%(grid)s is not a grid of %(community)s.")
                % {"grid": text, "community": community.name}
            )
        return grid


def roster_import(
    *,
    actor,
    data: bytes,
    filename: str,
    community: Area | None = None,
    strict: bool = False,
    dry_run: bool = False,
    progress=None,
    audit_object=None,
    audit_origin: dict | None = None,
    outcomes=None,
    columns: dict[str, str] | None = None,
) -> ImportReport:
    """Check every row of a roster file and, unless `dry_run`, write the valid ones.

    `actor` None is a command run by an administrator: every area. Raises RosterFileError
    for a file that cannot be imported at all (unreadable, missing or unknown columns).
    Rows are checked and written CHUNK at a time inside one transaction, so memory stays
    flat and a failure half-way writes nothing; `progress(done, total)` hears of each chunk.
    The audit line names `audit_object` (the upload's job) and carries `audit_origin` (the
    `ip` and `request_id` of the request that confirmed it) when the import runs later.
    `outcomes(list[RowOutcome])`, if given, hears what happens to each row, a chunk at a time,
    so a caller can keep every row without the report growing with the file.
    `columns` says what the header's unknown columns hold: header → a roster column key, or
    "" not to import it; an unknown column it does not name stops the import
    (UnknownColumnsError), as does an entry naming no unknown column of the file.
    """
    if actor is not None:
        check_import_allowed(actor, community)
    table = read_table(data, filename)
    header = find_header(table, columns)
    _check_columns(header, columns or {})
    titles = {column.key: header.titles[index] for index, column in header.columns.items()}
    # A 职务 column without a workplace one fills the workplace (工作单位及职务) alone.
    titles.setdefault("workplace", titles.get("position", ""))
    report = ImportReport(filename=filename)
    batch = _Batch(
        actor, _Context(actor, community), titles, report, write=not dry_run, outcomes=outcomes
    )
    total = max(len(table) - header.row, 0)
    if progress is not None:
        progress(0, total)
    first_row_of: dict[str, int] = {}
    rows: list[_Row] = []
    with _fewer_collections(), transaction.atomic():
        for number, values, errors in iter_rows(table, header):
            if len(report.refused) > MAX_REFUSALS:
                raise _too_many_refusals_error(report.refused)
            if len(batch.refused_rows) >= CHUNK:
                batch.tell()
            if errors:
                report.refused.extend(errors)
                batch.refusing(number, values)
                continue
            row, errors = _check_row(number, values, batch.context, titles)
            if errors:
                report.refused.extend(errors)
                batch.refusing(number, values)
                continue
            first = first_row_of.setdefault(row.member.id_number_hash, number)
            if first != number:
                batch.refusing(number, row.member)
                report.refused.append(
                    RowError(
                        number,
                        titles["id_number"],
                        _("The same person is already in row %(row)s of this file.")
                        % {"row": first},
                    )
                )
                continue
            rows.append(row)
            if len(rows) == CHUNK:
                batch.finish(rows, strict=strict)
                rows = []
                if progress is not None:
                    progress(number - header.row, total)
        batch.finish(rows, strict=strict)
        report.written = batch.write and not (strict and report.refused)
        if report.written:
            tally_apply(batch.tallies)
            batch.audit(audit_object, audit_origin or {})
        elif batch.write:
            # Strict, and a row was refused after earlier chunks were written.
            transaction.set_rollback(True)
    if progress is not None:
        progress(total, total)
    return report


@contextlib.contextmanager
def _fewer_collections():
    """Python's cycle collector less often while a file is imported.

    By default it runs every 700 new objects and now and then walks every object the process
    holds; an import makes some forty objects per row, few of them in cycles, and on a
    100,000-row roster those walks were a tenth of the time. Memory stays flat: each chunk's
    objects are freed by their reference counts when the next chunk starts. The threshold is
    the process's: imports running at once in threads share one change, undone by the last.
    """
    global _importing, _saved_threshold
    with _collections_lock:
        if _importing == 0:
            _saved_threshold = gc.get_threshold()
            gc.set_threshold(max(_saved_threshold[0], 50_000), *_saved_threshold[1:])
        _importing += 1
    try:
        yield
    finally:
        with _collections_lock:
            _importing -= 1
            if _importing == 0:
                gc.set_threshold(*_saved_threshold)


_collections_lock = threading.Lock()
_importing = 0
_saved_threshold = gc.get_threshold()


def check_import_allowed(actor, community: Area | None = None) -> None:
    """PermissionDenied unless `actor` may import, into `community` if one is chosen: the
    communities an import registers people in are those the form may register them in."""
    if not actor.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied
    if (
        community is not None
        and not Area.objects.visible_to(actor).filter(pk=community.pk).exists()
    ):
        raise PermissionDenied


def _too_many_refusals_error(refused: list[RowError]) -> RosterFileError:
    first = "；".join(
        _("Row %(row)s, %(column)s: %(message)s")
        % {"row": error.row, "column": error.column, "message": error.message}
        for error in refused[:3]
    )
    return RosterFileError(
        # 错误超过 %(limit)s 处，检查已停止，没有写入任何内容：请先按以下错误检查整列的内容
        # 和所选社区，修改后重新上传。最先发现的错误：%(first)s
        _(
            "More than %(limit)s errors: the check stopped and nothing was written. Check "
            "whole columns and the community chosen against the first errors found, then "
            "upload the file again. First errors: %(first)s"
        )
        % {"limit": f"{MAX_REFUSALS:,}", "first": first}
    )


def _check_columns(header, columns: dict[str, str]) -> None:
    """Missing required columns and unknown ones stop the import before any row is read.

    Unknown columns raise UnknownColumnsError, so that the mapping step can ask what they
    hold: a required column may be among them, under a name no rule knows.
    """
    strays = [text for text in columns if normalize_header(text) not in header.mapped]
    if strays:
        raise RosterFileError(
            # 文件中没有需要指定用途的列：%(columns)s。
            _("The file has no unknown column called %(columns)s.") % {"columns": "、".join(strays)}
        )
    problems = []
    if header.missing:
        problems.append(
            _("Required columns are missing: %(columns)s.")
            % {"columns": "、".join(column.title for column in header.missing)}
        )
    if header.unknown:
        problems.append(
            # 无法识别的列：%(columns)s。请说明每一列是信息库的哪一项，或选择不导入，以免有内容
            # 被悄悄丢下。
            _(
                "Unknown columns: %(columns)s. Say which field of the registry each one "
                "holds, or that it is not to be imported, so that no data is left behind "
                "unnoticed."
            )
            % {"columns": "、".join(header.unknown)}
        )
        raise UnknownColumnsError(
            " ".join(problems), unknown=list(header.unknown), key=mapping_key(header.written)
        )
    if problems:
        raise RosterFileError(" ".join(problems))


def _check_row(number: int, values: dict, context: _Context, titles: dict):
    """A Member built from the row and validated as the form validates it, or the errors."""
    errors: list[RowError] = []

    def refuse(key: str, message: str) -> None:
        # A column the file lacks (国家或地区 for a passport) is named by its template title.
        errors.append(RowError(number, titles.get(key) or STANDARD_TITLES.get(key, ""), message))

    member = _new_member()
    try:
        community = context.community(values.get("community", ""), values.get("street", ""))
    except _StreetError as error:
        refuse("street", str(error))
        return None, errors
    except ValueError as error:
        refuse("community", str(error))
        return None, errors
    _relate(member, "community", community)
    try:
        _relate(member, "grid", context.grid(community, values.get("grid", "")))
    except ValueError as error:
        refuse("grid", str(error))
    fields = member.__dict__
    for name in PLAIN_FIELDS:
        if name in values:
            fields[name] = values[name]
    # The arrangements the cell names become rows (issue 18); the rest stays text.
    positions = parse_positions(values.get("social_positions", ""))
    if "social_positions" in values:
        fields["social_positions"] = positions.rest
    if values.get("position"):
        fields["workplace"] = _with_position(values.get("workplace", ""), values["position"])
    _relate(member, "ethnicity", context.ethnicities.get(values.get("ethnicity", "")))
    _relate(member, "political_status", context.statuses.get(values.get("political_status", "")))
    fields["id_number"] = values.get("id_number", "")
    fields["document_type"] = _document_type(values.get("document_type"), fields["id_number"])
    fields["document_country"] = values.get("document_country", "")
    birth = values.get("birth_date")
    if birth is not None and birth[1] == "day":
        member.birth_date = birth[0]
    for key in ("ethnicity", "political_status"):
        if getattr(member, f"{key}_id") is None:
            refuse(key, Member._meta.get_field(key).error_messages["blank"])
    try:
        _validate(
            member,
            given={*values.keys(), "workplace"} if "position" in values else values,
            memo=context.validated,
        )
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            for message in messages:
                refuse(key, message)
    given = birth[0] if birth is not None else None
    if (
        not errors
        and birth is not None
        and birth[1] == "month"
        and (member.birth_date.year, member.birth_date.month) != (given.year, given.month)
    ):
        refuse(
            "birth_date",
            _("The date of birth does not match the ID number, which gives %(date)s.")
            % {"date": member.birth_date.isoformat()},
        )
    try:
        slugs = member_check_categories(
            slugs=values.get("categories", []),
            political_status=member.political_status if member.political_status_id else None,
            ethnicity=member.ethnicity if member.ethnicity_id else None,
        )
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            refuse("categories" if key == "political_status" else key, messages[0])
    if errors:
        return None, errors
    return _Row(
        number=number,
        member=member,
        slugs=slugs,
        arrangements=positions.arrangements,
        unread=positions.unread,
        new_arrangements=positions.arrangements,
        proposed=bool(values.get("is_representative", False)),
    ), []


STANDARD_TITLES = {column.key: column.title for column in COLUMNS}


def _document_type(value: str | None, number: str) -> str:
    """The row's document type: 居民身份证 when the file says none; for the common name of
    both residence permits, the one the number's prefix belongs to."""
    if not value:
        return Member.DocumentType.ID_CARD
    if value == RESIDENCE:
        taiwan = str(number).startswith(
            documents.RESIDENCE_PREFIXES[Member.DocumentType.TAIWAN_RESIDENCE]
        )
        return (
            Member.DocumentType.TAIWAN_RESIDENCE
            if taiwan
            else Member.DocumentType.HK_MACAO_RESIDENCE
        )
    return value


def _with_position(workplace: str, position: str) -> str:
    """工作单位 and 职务 as the registry keeps them, one 工作单位及职务: 桥东小学校长. A
    position the workplace already ends with is not written twice."""
    if workplace.endswith(position):
        return workplace
    return f"{workplace}{position}"


@functools.cache
def _blank_member() -> dict:
    """The attributes of `Member()`: every field at its default (none is mutable)."""
    return {name: value for name, value in Member().__dict__.items() if name != "_state"}


def _new_member() -> Member:
    """`Member()` for one row of many: the defaults copied rather than worked out per field.

    Model.__init__ looks up each of the 46 fields' defaults and sends the init signals (no
    receiver listens for Member's); for a large roster that was a tenth of the checking.
    """
    member = Member.__new__(Member)
    member.__dict__.update(_blank_member())
    member._state = ModelState()
    return member


def _relate(member: Member, name: str, obj) -> None:
    """Set a foreign key to an object already loaded, without the descriptor's checks."""
    field = Member._meta.get_field(name)
    member.__dict__[field.attname] = obj.pk if obj is not None else None
    field.set_cached_value(member, obj)


def _validate(member: Member, given=None, memo: dict | None = None) -> None:
    """The model's field rules and `Member.clean()`, as the form runs them.

    The foreign keys were resolved from loaded tables and uniqueness is checked for the
    whole file at once, so neither costs a query per row here. With `given`, the names of
    the fields the row filled in, the others keep their (valid) defaults and are skipped.
    With `memo` (a dict kept for one file), each field's rules run once per distinct value:
    what `full_clean` does, without checking 汉族 or 大学本科 100,000 times.
    """
    exclude = _not_validated(frozenset(given) if given is not None else None)
    if memo is None:
        member.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        return
    errors: dict = {}
    try:
        _clean_fields(member, exclude, memo)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        member.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


# Distinct values remembered per field: past it (names, numbers) a field is checked as met.
_MEMO_SIZE = 1000
_MEMO_TYPES = (str, int, bool, datetime.date)


def _clean_fields(member: Member, exclude: frozenset[str], memo: dict) -> None:
    """`Model.clean_fields(exclude)`, remembering each field's outcome for each value.

    A field's own rules (choices, length, validators) depend on its value alone; the rules
    across fields are `Member.clean()`'s, which runs for every row.
    """
    errors = {}
    for model_field in _cleaned_fields(exclude):
        raw = getattr(member, model_field.attname)
        if model_field.blank and raw in model_field.empty_values:
            continue
        if isinstance(raw, DatabaseDefault):
            continue  # as clean_fields: the database fills it in
        seen = memo.setdefault(model_field.name, {})
        key = (raw.__class__, raw)
        found = seen.get(key) if raw.__class__ in _MEMO_TYPES else None
        if found is None:
            try:
                found = (True, model_field.clean(raw, member))
            except ValidationError as error:
                found = (False, error.error_list)
            if raw.__class__ in _MEMO_TYPES and len(seen) < _MEMO_SIZE:
                seen[key] = found
        valid, result = found
        if valid:
            setattr(member, model_field.attname, result)
        else:
            errors[model_field.name] = result
    if errors:
        raise ValidationError(errors)


@functools.cache
def _cleaned_fields(exclude: frozenset[str]) -> tuple:
    return tuple(
        model_field
        for model_field in Member._meta.fields
        if model_field.name not in exclude and not model_field.generated
    )


@functools.cache
def _not_validated(given: frozenset[str] | None) -> frozenset[str]:
    excluded = {"categories", "community", "grid", "ethnicity", "political_status"}
    if given is not None:
        excluded.update(
            field.name for field in Member._meta.concrete_fields if field.name not in given
        )
    return frozenset(excluded)


class _Batch:
    """Matches checked rows against the registry and writes them, one chunk at a time."""

    def __init__(
        self, actor, context: _Context, titles: dict, report: ImportReport, write, outcomes=None
    ):
        self.actor = actor
        self.context = context
        self.titles = titles
        self.report = report
        self.write = write
        self.source = SOURCE % report.filename
        self.actor_id = actor.pk if actor is not None else None
        # The dashboards' tallies move by what the written rows change, applied at the end.
        self.tallies: Counter = Counter()
        # Each row's outcome, told to `outcomes` a chunk at a time: those of the rows matched
        # so far, and who the rows refused since the last telling are (name, ID, community).
        self.outcomes = outcomes
        self.told: list[RowOutcome] = []
        self.refused_rows: dict[int, tuple[str, str, str]] = {}
        self.refusals_told = 0

    def finish(self, rows: list[_Row], *, strict: bool) -> None:
        self.proposed: list[Member] = []
        creates, updates = self._match(rows)
        # Strict, once a row is refused nothing will be kept: check the rest, write no more.
        written = self.write and not (strict and self.report.refused)
        if written:
            self._write(creates, updates)
        self._nominate(written)
        if self.outcomes is not None:
            warnings = self._duplicates(creates) if not self.write else {}
            for row in creates:
                outcome = _outcome(row.member, row.number, "created", written)
                outcome.detail = warnings.get(row.number, [])
                self.told.append(outcome)
            for row, changes in updates:
                outcome = _outcome(row.existing, row.number, "updated", written)
                outcome.detail = changes
                self.told.append(outcome)
        self.tell()

    def _nominate(self, written: bool) -> None:
        """The rows' proposals (代表人士 是) become nominations, not the flag (凡进必评): written
        with the rows, or counted for the preview."""
        if written:
            self.report.nominated += nominations_from_import(
                actor=self.actor, members=self.proposed, source=self.source
            )
            return
        known = [member.pk for member in self.proposed if member.pk]
        pending = set(
            Nomination.objects.pending()
            .filter(member_id__in=known)
            .values_list("member_id", flat=True)
        )
        self.report.nominated += len(
            {
                member.pk or id(member)
                for member in self.proposed
                if not member.is_representative and member.pk not in pending
            }
        )

    def _duplicates(self, creates: list[_Row]) -> dict[int, list[dict]]:
        """The preview's warning of possible duplicates (可能重复) for the new people, by row:
        {"member", "message"} for a record in the uploader's area (the page links it), a
        count for those outside it, answered and audited as the member form answers."""
        found = possible_duplicates_of_many([row.member for row in creates])
        warnings = duplicates_warnings(actor=self.actor, found=found)
        told = {}
        for row, warning in zip(creates, warnings, strict=True):
            if not warning:
                continue
            told[row.number] = [
                {
                    "member": member.pk,
                    "message": _("%(name)s in %(community)s: %(reasons)s.")
                    % {
                        "name": member.name,
                        "community": member.community.name,
                        "reasons": duplicate_reasons_text(reasons),
                    },
                }
                for member, reasons in warning.inside
            ]
            if warning.elsewhere:
                told[row.number].append({"message": elsewhere_text(warning.elsewhere)})
        return told

    def refusing(self, number: int, values: dict | Member) -> None:
        """Note who the refused row `number` is, for the list of refused rows."""
        if self.outcomes is None:
            return
        if isinstance(values, Member):
            who = (values.name, values.id_number_masked, values.community.name)
        else:
            community = values.get("community") or self.context.default_community
            who = (
                str(values.get("name", ""))[:50],
                mask_id_number(str(values.get("id_number", ""))[:20]),
                str(getattr(community, "name", community or ""))[:100],
            )
        self.refused_rows[number] = who

    def tell(self) -> None:
        """Tell `outcomes` the rows done since it last heard."""
        if self.outcomes is None:
            return
        refused = self.report.refused[self.refusals_told :]
        self.refusals_told = len(self.report.refused)
        reasons: dict[int, list[dict]] = {}
        for error in refused:
            reasons.setdefault(error.row, []).append(
                {"column": error.column, "message": error.message}
            )
        told = self.told
        for number, detail in reasons.items():
            name, masked, community = self.refused_rows.pop(number, ("", "", ""))
            told.append(RowOutcome(number, "refused", name, masked, community, detail=detail))
        self.outcomes(told)
        self.told, self.refused_rows = [], {}

    def _match(self, rows: list[_Row]):
        """Split the chunk into people to create and known people to update.

        Known people are read without their encrypted columns (the history shows the
        masked ones) and related to the reference rows already loaded: a re-import of an
        unchanged file decrypts nothing and builds no object twice.
        """
        report, titles, context = self.report, self.titles, self.context
        ids = _known_ids(rows)
        known = Member.objects.filter(pk__in=ids).order_by("pk").defer("id_number", "phone")
        if self.write:
            # Locked until the import commits, as the member services lock the one they
            # write: a change to these people waits for the import and then starts from what
            # it wrote, and the import writes on what it read. In id order, as other writers
            # of several members lock them, so two such writes cannot wait for each other.
            known = known.select_for_update()
        known = {member.id_number_hash: member for member in known}
        aliases = lookup_has_aliases()
        # Whom the rows may change: the edit page's rule, for the people found (read once
        # they are locked, so a transfer cannot move one out of reach in between).
        editable = None
        if context.actor is not None:
            editable = set(
                Member.objects.editable_by(context.actor)
                .filter(pk__in=ids)
                .values_list("pk", flat=True)
            )
        held_of = _arrangements_held(ids)
        categories_of: dict[int, list] = {}
        for member_id, category_id in MemberCategory.objects.filter(member_id__in=ids).values_list(
            "member_id", "category_id"
        ):
            categories_of.setdefault(member_id, []).append(context.categories_by_id[category_id])
        creates, changed = [], []
        # Answers about people registered outside the actor's area left this hour: past them,
        # such a row and a row of a free number get the same refusal (as the form gives).
        left = probe_answers_left(context.actor) if context.actor is not None else None
        for row in rows:
            existing = known.get(row.member.id_number_hash)
            if existing is None and aliases:
                # A key rotation under way: the person may still be stored under an old hash.
                existing = next(
                    (known[h] for h in row.member.id_number_hashes() if h in known), None
                )
            if existing is None and left is not None and left <= 0:
                error = probe_refusal(actor=context.actor, masked=row.member.id_number_masked)
                report.refused.append(RowError(row.number, titles["id_number"], error.messages[0]))
                continue
            if existing is None:
                if not INFORMING_FIELDS & self.titles.keys():
                    # A roster kept before notices were recorded has none of their columns:
                    # its new people are registered as not told, saying why.
                    with translation.override(settings.LANGUAGE_CODE):
                        row.member.not_informed_reason = str(ROSTER_NOT_INFORMED)
                    report.not_informed += 1
                try:
                    # A registration records the notice, or why not yet, as the form's.
                    member_check_informing(data=_informing_of(row.member))
                except ValidationError as error:
                    report.refused.extend(
                        RowError(row.number, titles.get(key) or STANDARD_TITLES[key], messages[0])
                        for key, messages in error.message_dict.items()
                    )
                    self.refusing(row.number, row.member)
                    continue
                creates.append(row)
                report.created += 1
                if row.proposed:
                    self.proposed.append(row.member)
                continue
            if existing.merged_into_id:
                # One person, one record: the row is about the record this one went into.
                report.refused.append(
                    RowError(
                        row.number,
                        titles["id_number"],
                        _(
                            "This number is of a record merged into another one of the same "
                            "person: write the row with that record's number."
                        ),
                    )
                )
                self.refusing(row.number, row.member)
                continue
            if existing.community_id != row.member.community_id:
                error = registered_error(actor=context.actor, existing=existing, left=left)
                if error.code == "duplicate_elsewhere":
                    left -= 1
                report.refused.append(RowError(row.number, titles["id_number"], error.messages[0]))
                self.refusing(row.number, row.member)
                continue
            context.relate(existing, row.member.community)
            before = snapshot(existing, categories_of.get(existing.pk, []))
            row.counted = tally_keys(existing, categories_of.get(existing.pk, []))
            stored = dict(existing.__dict__)
            _arrangements_of_row(row, held_of.get(existing.pk, []))
            merged = _merge(existing, row)
            slugs, rule_errors = row.slugs, {}
            try:
                slugs = member_check_categories(
                    slugs=row.slugs,
                    political_status=merged.political_status,
                    ethnicity=merged.ethnicity,
                )
            except ValidationError as error:
                rule_errors = {key: messages[0] for key, messages in error.message_dict.items()}
            changes = changes_between(
                before, snapshot(merged, [context.categories[slug] for slug in slugs])
            )
            if row.new_arrangements:
                changes.append(_arrangements_change(row.new_arrangements))
            if not changes and not rule_errors:
                # The stored member was valid and the row was checked: nothing to do.
                report.unchanged += 1
                if row.proposed:
                    self.proposed.append(existing)
                if self.outcomes is not None:
                    self.told.append(_outcome(existing, row.number, "unchanged", False))
                continue
            if editable is not None and existing.pk not in editable:
                report.refused.append(
                    RowError(
                        row.number,
                        titles["id_number"],
                        _(
                            "This person is already registered and you may not change "
                            "registered members: ask the community that keeps the record."
                        ),
                    )
                )
                self.refusing(row.number, row.member)
                continue
            changed.append((row, merged, stored, slugs, changes, rule_errors))
        _load_phones([merged for _row, merged, *_rest in changed])
        updates = []
        for row, merged, stored, slugs, changes, rule_errors in changed:
            try:
                _validate(merged)
            except ValidationError as error:
                rule_errors.update(
                    {key: messages[0] for key, messages in error.message_dict.items()}
                )
            if rule_errors:
                report.refused.extend(
                    RowError(row.number, titles.get(key, ""), message)
                    for key, message in rule_errors.items()
                )
                self.refusing(row.number, row.member)
                continue
            row.slugs = slugs
            row.existing = merged
            row.fields = _changed_fields(stored, merged)
            updates.append((row, changes))
            if row.proposed:
                self.proposed.append(merged)
            report.updated += 1
            report.changes.append({"row": row.number, "name": merged.name, "changes": changes})
        return creates, updates

    def _write(self, creates: list[_Row], updates: list) -> None:
        categories = self.context.categories
        for row in creates:
            row.member.incomplete = row.member.misses_category_fields(row.slugs)
        insert_objects(Member, [row.member for row in creates])
        for row in creates:
            self.tallies.update(tally_keys(row.member, [categories[slug] for slug in row.slugs]))
        for row, _changes in updates:
            row.existing.incomplete = row.existing.misses_category_fields(row.slugs)
            after = tally_keys(row.existing, [categories[slug] for slug in row.slugs])
            self.tallies.update(tally_change(row.counted, after))
        links, history = [], []
        now = timezone.now()
        for row in creates:
            chosen = [categories[slug] for slug in row.slugs]
            links.extend((row.member.pk, category.pk) for category in chosen)
            changes = registration_changes(row.member, chosen)
            if row.new_arrangements:
                changes.append(_arrangements_change(row.new_arrangements))
            history.append((row.member.pk, MemberChange.Action.CREATE, changes))
        for row, changes in updates:
            member = row.existing
            # Only what the row changes, and the version past the stored one: one write, one
            # history entry, as in the services.
            member.version = F("version") + 1
            member.save(update_fields=[*row.fields, "incomplete", "version", "updated_at"])
            member.categories.set([categories[slug] for slug in row.slugs])
            history.append((member.pk, MemberChange.Action.UPDATE, changes))
        insert_rows(MemberCategory, ["member_id", "category_id"], links)
        insert_objects(
            PoliticalArrangement,
            [
                PoliticalArrangement(
                    member_id=member.pk,
                    body=item.body,
                    organisation=item.organisation,
                    level=item.level,
                    post=item.post,
                    session=item.session,
                    state=item.state,
                )
                for member, row in [
                    *((row.member, row) for row in creates),
                    *((row.existing, row) for row, _changes in updates),
                ]
                for item in row.new_arrangements
            ],
        )
        insert_rows(
            MemberChange,
            ["member_id", "at", "actor_id", "action", "source", "changes"],
            [
                (member_id, now, self.actor_id, action, self.source, changes)
                for member_id, action, changes in history
            ],
        )

    def audit(self, obj, origin: dict) -> None:
        report = self.report
        audit_record(
            actor=self.actor,
            action=AuditEvent.Action.IMPORT,
            obj=obj,
            username="" if self.actor is not None else "manage.py",
            **origin,
            detail={
                "step": "import",
                "file": report.filename,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "nominated": report.nominated,
                "not_informed": report.not_informed,
                "refused": len(report.refused),
            },
        )


def _informing_of(member: Member) -> dict:
    return {name: getattr(member, name) for name in INFORMING_FIELDS}


INFORMING_FIELDS = {"informed_how", "informed_on", "not_informed_reason"}
# The reason a new person of a roster without the notice's columns is registered with.
ROSTER_NOT_INFORMED = gettext_lazy("The roster registering her said nothing of a notice")


def _arrangements_held(ids: list[int]) -> dict[int, list[tuple]]:
    """(key, state, text) of the political arrangements of these people, by person."""
    held: dict[int, list[tuple]] = {}
    rows = PoliticalArrangement.objects.filter(member_id__in=ids).only(
        "member_id", "body", "level", "organisation", "post", "state"
    )
    for arrangement in rows.order_by():
        held.setdefault(arrangement.member_id, []).append(
            (arrangement.key, arrangement.state, arrangement.text)
        )
    return held


def _arrangements_of_row(row: _Row, held: list[tuple]) -> None:
    """What the row adds to a registered person's arrangements: a seat in office she does
    not hold in office yet, an earlier one (原…) not recorded as earlier. The cell's unread
    words that are one of her arrangements as written (an export of an arrangement the
    reader does not know, 区政府参事) are not other positions: they leave the text."""
    in_office = {key for key, state, _text in held if state == IN_OFFICE}
    in_office |= {text for _key, state, text in held if state == IN_OFFICE}
    earlier = {key for key, state, _text in held if state != IN_OFFICE}
    earlier |= {text for _key, state, text in held if state != IN_OFFICE}
    row.new_arrangements = [
        item
        for item in row.arrangements
        if not {item.key, item.source} & (in_office if item.state == IN_OFFICE else earlier)
    ]
    texts = {text for _key, _state, text in held}
    if texts & set(row.unread):
        unread = [word for word in row.unread if word not in texts]
        row.member.__dict__["social_positions"] = "、".join(unread)


def _arrangements_change(arrangements: list[ParsedArrangement]) -> dict:
    """The history's line of the arrangements an import adds."""
    return {"field": "arrangements", "old": "", "new": parsed_arrangements_summary(arrangements)}


def _outcome(member: Member, number: int, kind: str, written: bool) -> RowOutcome:
    """A created, updated or unchanged row; the member is linked once written."""
    return RowOutcome(
        number,
        kind,
        member.name,
        member.id_number_masked,
        member.community.name,
        member.pk if written else None,
    )


def _known_ids(rows: list[_Row]) -> list[int]:
    """Ids of the registered people among the rows, found by the hash of their ID number.

    On PostgreSQL one array parameter instead of an IN list of CHUNK parameters: for a first
    import, where nobody is known yet, binding those parameters was most of the lookup.
    """
    if lookup_has_aliases():
        hashes = [h for row in rows for h in row.member.id_number_hashes()]
    else:
        hashes = [row.member.id_number_hash for row in rows]
    if connection.vendor != "postgresql":
        return list(Member.objects.filter(id_number_hash__in=hashes).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM members_member WHERE id_number_hash = ANY(%s)", [hashes])
        return [pk for (pk,) in cursor.fetchall()]


def _merge(existing: Member, row: _Row) -> Member:
    """The stored member with what the row fills in; empty cells leave values alone."""
    new = row.member
    # Matched by the document's hash: the type is the same, the number as the row wrote it.
    existing.id_number = new.id_number
    if new.document_country:
        existing.document_country = new.document_country
    if not documents.carries_birth(new.document_type, new.id_number) and new.birth_date:
        # The number does not give them: the row's date of birth (its sex is a plain field).
        existing.birth_date = new.birth_date
    for name in PLAIN_FIELDS:
        value = getattr(new, name)
        if value not in ("", None):
            setattr(existing, name, value)
    for name in ("grid", "ethnicity", "political_status"):
        # Related objects, not ids, so the history reads the new values without a query.
        value = getattr(new, name)
        if value is not None:
            _relate(existing, name, value)
    if new.phone:
        existing.set_phone(new.phone)
    # A reason why not yet told is dropped for someone told, as on saving (`Member.clean`):
    # before the changes are read, so neither the preview nor her history claims one.
    existing.settle_informing()
    return existing


# The encrypted columns are not read for matching: one has changed when its hash has.
ENCRYPTED = {"id_number_hash": "id_number", "phone_hash": "phone"}


def _changed_fields(stored: dict, member: Member) -> list[str]:
    """The columns whose value `member` changes from `stored` (its `__dict__` as read)."""
    values = member.__dict__
    names = []
    for column in Member._meta.concrete_fields:
        name = column.attname
        if name in stored and values[name] != stored[name]:
            names.append(name)
            if name in ENCRYPTED:
                names.append(ENCRYPTED[name])
    return names


def _load_phones(members: list[Member]) -> None:
    """The stored phone of members about to be validated and saved, in one query."""
    missing = [member for member in members if "phone" not in member.__dict__]
    if not missing:
        return
    phones = dict(
        Member.objects.filter(pk__in=[member.pk for member in missing]).values_list("pk", "phone")
    )
    for member in missing:
        member.__dict__["phone"] = phones[member.pk]
