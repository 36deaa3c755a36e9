"""Importing a roster (花名册): every row checked with the member's rules, then written at once.

Rows are matched by ID number across the whole registry: new people are created, people
already in the same community are updated in the fields the file fills in (an empty cell
leaves the stored value alone), and everything else is refused with the row, the column and
the reason. Valid rows are written in one transaction, with a history entry whose source is
the file; with `strict`, nothing is written if any row is refused.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tongzhan.audit import audit_record
from tongzhan.bulk import insert_objects, insert_rows
from tongzhan.models import Area, AuditEvent

from .models import Ethnicity, Member, MemberCategory, MemberChange, PoliticalStatus
from .roster_reader import RosterFileError, RowError, find_header, iter_rows, read_table
from .rules import apply_category_rules, categories_by_slug
from .services import changes_between, snapshot

SOURCE = "导入：%s"
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
)
BATCH = 1000


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

    def as_json(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": [
                {"row": error.row, "column": error.column, "message": error.message}
                for error in sorted(self.refused, key=lambda error: error.row)
            ],
        }


@dataclass
class _Row:
    number: int
    member: Member
    slugs: list[str]
    existing: Member | None = None


class _Context:
    """What every row is checked against, loaded once."""

    def __init__(self, actor, default_community: Area | None):
        communities = Area.objects.communities()
        grids = Area.objects.filter(level=Area.Level.GRID)
        if actor is not None:
            communities = communities.visible_to(actor)
            grids = grids.visible_to(actor)
        self.actor = actor
        self.default_community = default_community
        self.communities_by_code = {area.code: area for area in communities}
        self.communities_by_name: dict[str, list[Area]] = {}
        for area in self.communities_by_code.values():
            self.communities_by_name.setdefault(area.name, []).append(area)
        self.grids: dict[tuple[int, str], Area] = {}
        for grid in grids:
            self.grids[(grid.parent_id, grid.code)] = grid
            self.grids[(grid.parent_id, grid.name)] = grid
        self.ethnicities = {item.code: item for item in Ethnicity.objects.all()}
        self.statuses = {item.code: item for item in PoliticalStatus.objects.all()}
        self.categories = categories_by_slug()

    def community(self, text: str) -> Area:
        if not text:
            if self.default_community is None:
                raise ValueError(
                    _("The community is empty: fill it in, or choose one for the whole file.")
                )
            return self.default_community
        if text in self.communities_by_code:
            return self.communities_by_code[text]
        found = self.communities_by_name.get(text, [])
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(
                _("Several communities are called %(name)s: write its 12-digit code instead.")
                % {"name": text}
            )
        raise ValueError(
            _("%(name)s is not a community in your area: check the name or write its code.")
            % {"name": text}
        )

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
) -> ImportReport:
    """Check every row of a roster file and, unless `dry_run`, write the valid ones.

    `actor` None is a command run by an administrator: every area. Raises RosterFileError
    for a file that cannot be imported at all (unreadable, missing or unknown columns).
    """
    if actor is not None and not actor.has_perm("members.import_member"):
        raise PermissionDenied
    if (
        community is not None
        and actor is not None
        and not Area.objects.visible_to(actor).filter(pk=community.pk).exists()
    ):
        raise PermissionDenied
    table = read_table(data, filename)
    header = find_header(table)
    _check_columns(header)
    titles = {column.key: header.titles[index] for index, column in header.columns.items()}
    context = _Context(actor, community)
    report = ImportReport(filename=filename)

    rows: list[_Row] = []
    first_row_of: dict[str, int] = {}
    for number, values, errors in iter_rows(table, header):
        if errors:
            report.refused.extend(errors)
            continue
        row, errors = _check_row(number, values, context, titles)
        if errors:
            report.refused.extend(errors)
            continue
        first = first_row_of.setdefault(row.member.id_number_hash, number)
        if first != number:
            report.refused.append(
                RowError(
                    number,
                    titles["id_number"],
                    _("The same person is already in row %(row)s of this file.") % {"row": first},
                )
            )
            continue
        rows.append(row)

    creates, updates = _match_existing(rows, report, context, titles)
    if strict and report.refused:
        return report
    if not dry_run:
        _write(actor=actor, creates=creates, updates=updates, report=report, context=context)
        report.written = True
    return report


def _check_columns(header) -> None:
    """Missing required columns and unknown ones stop the import before any row is read."""
    problems = []
    if header.missing:
        problems.append(
            _("Required columns are missing: %(columns)s.")
            % {"columns": "、".join(column.title for column in header.missing)}
        )
    if header.unknown:
        problems.append(
            _(
                "Unknown columns: %(columns)s. Rename them to the template's headers or delete "
                "them, so that no data is left behind unnoticed."
            )
            % {"columns": "、".join(header.unknown)}
        )
    if problems:
        raise RosterFileError(" ".join(problems))


def _check_row(number: int, values: dict, context: _Context, titles: dict):
    """A Member built from the row and validated as the form validates it, or the errors."""
    errors: list[RowError] = []

    def refuse(key: str, message: str) -> None:
        errors.append(RowError(number, titles.get(key, ""), message))

    member = Member()
    try:
        member.community = context.community(values.get("community", ""))
    except ValueError as error:
        refuse("community", str(error))
        return None, errors
    try:
        member.grid = context.grid(member.community, values.get("grid", ""))
    except ValueError as error:
        refuse("grid", str(error))
    for name in PLAIN_FIELDS:
        if name in values:
            setattr(member, name, values[name])
    member.is_representative = values.get("is_representative", False)
    member.ethnicity = context.ethnicities.get(values.get("ethnicity", ""))
    member.political_status = context.statuses.get(values.get("political_status", ""))
    member.id_number = values.get("id_number", "")
    birth = values.get("birth_date")
    if birth is not None and birth[1] == "day":
        member.birth_date = birth[0]
    for key in ("ethnicity", "political_status"):
        if getattr(member, f"{key}_id") is None:
            refuse(key, Member._meta.get_field(key).error_messages["required"])
    try:
        _validate(member)
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
    slugs, rule_errors = apply_category_rules(
        slugs=values.get("categories", []),
        political_status=member.political_status if member.political_status_id else None,
        ethnicity=member.ethnicity if member.ethnicity_id else None,
    )
    for key, message in rule_errors.items():
        refuse("categories" if key == "political_status" else key, message)
    if not slugs:
        refuse("categories", _("Give at least one member category."))
    if errors:
        return None, errors
    return _Row(number=number, member=member, slugs=slugs), []


def _validate(member: Member) -> None:
    """The model's field rules and `Member.clean()`, as the form runs them.

    The foreign keys were resolved from loaded tables and uniqueness is checked for the
    whole file at once, so neither costs a query per row here.
    """
    member.full_clean(
        exclude=["categories", "community", "grid", "ethnicity", "political_status"],
        validate_unique=False,
        validate_constraints=False,
    )


def _match_existing(rows, report, context, titles):
    """Split the valid rows into people to create and known people to update."""
    known: dict[str, Member] = {}
    hashes = [row.member.id_number_hash for row in rows]
    for start in range(0, len(hashes), BATCH):
        chunk = hashes[start : start + BATCH]
        for member in (
            Member.objects.filter(id_number_hash__in=chunk)
            .select_related("community", "grid", "ethnicity", "political_status")
            .prefetch_related("categories")
        ):
            known[member.id_number_hash] = member
    visible = (
        set(Member.objects.visible_to(context.actor).filter(pk__in=[m.pk for m in known.values()]))
        if context.actor is not None
        else set(known.values())
    )
    creates, updates = [], []
    for row in rows:
        existing = known.get(row.member.id_number_hash)
        if existing is None:
            creates.append(row)
            report.created += 1
            continue
        if existing.community_id != row.member.community_id:
            if existing in visible:
                message = _(
                    "This person is already registered in %(community)s: transfer the record "
                    "there instead of importing it here."
                ) % {"community": existing.community.name}
            else:
                message = _(
                    "This person is already registered in another area outside yours; ask the "
                    "street or district office to transfer the record instead of creating a new "
                    "one."
                )
            report.refused.append(RowError(row.number, titles["id_number"], message))
            continue
        before = snapshot(existing, list(existing.categories.all()))
        merged = _merge(existing, row)
        slugs, rule_errors = apply_category_rules(
            slugs=row.slugs, political_status=merged.political_status, ethnicity=merged.ethnicity
        )
        try:
            _validate(merged)
        except ValidationError as error:
            rule_errors.update({key: messages[0] for key, messages in error.message_dict.items()})
        if rule_errors:
            report.refused.extend(
                RowError(row.number, titles.get(key, ""), message)
                for key, message in rule_errors.items()
            )
            continue
        row.slugs = slugs
        after = snapshot(merged, [context.categories[slug] for slug in row.slugs])
        changes = changes_between(before, after)
        if not changes:
            report.unchanged += 1
            continue
        row.existing = merged
        updates.append((row, changes))
        report.updated += 1
        report.changes.append(
            {"row": row.number, "name": merged.name, "fields": [c["field"] for c in changes]}
        )
    return creates, updates


def _merge(existing: Member, row: _Row) -> Member:
    """The stored member with what the row fills in; empty cells leave values alone."""
    new = row.member
    for name in PLAIN_FIELDS:
        value = getattr(new, name)
        if value not in ("", None):
            setattr(existing, name, value)
    for name in ("grid", "ethnicity", "political_status"):
        # Related objects, not ids, so the history reads the new values without a query.
        value = getattr(new, name)
        if value is not None:
            setattr(existing, name, value)
    if new.is_representative:
        existing.is_representative = True
    existing.set_phone(existing.phone)
    return existing


@transaction.atomic
def _write(*, actor, creates, updates, report: ImportReport, context: _Context) -> None:
    source = SOURCE % report.filename
    actor_or_none = actor if actor is not None and actor.pk else None
    members = [row.member for row in creates]
    insert_objects(Member, members)
    links, history = [], []
    for row in creates:
        categories = [context.categories[slug] for slug in row.slugs]
        links.extend((row.member.pk, category.pk) for category in categories)
        history.append(
            MemberChange(
                member=row.member,
                actor=actor_or_none,
                action=MemberChange.Action.CREATE,
                source=source,
                changes=changes_between({}, snapshot(row.member, categories)),
            )
        )
    for row, changes in updates:
        member = row.existing
        member.save()
        member.categories.set([context.categories[slug] for slug in row.slugs])
        history.append(
            MemberChange(
                member=member,
                actor=actor_or_none,
                action=MemberChange.Action.UPDATE,
                source=source,
                changes=changes,
            )
        )
    insert_rows(MemberCategory, ["member_id", "category_id"], links)
    insert_objects(MemberChange, history)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.IMPORT,
        username="" if actor is not None else "manage.py",
        detail={
            "file": report.filename,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "refused": len(report.refused),
        },
    )
