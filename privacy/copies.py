"""A person's copy of her own record (PIPL art. 45): everything the registry holds about her,
as a spreadsheet (.xlsx, through the one writer `tongzhan.spreadsheets`) or as a printed form
(PDF, drawn by WeasyPrint as `members.printing` draws the 登记表, with its photo fetcher).

It is her own copy, so her full ID and phone numbers and her relatives' contacts are decrypted.
The staff who kept her record are named by their roles only (社区统战委员, 街道统战干部 ...):
their names are not hers to be handed, and a name of one of them written into a text (a
history line's source) is replaced by the role as well. A visit to her together with other
people gives its date and way only: what was learnt there is theirs too.

`copy_content` reads it once; `xlsx` and `pdf` write it, so the two formats say the same.
"""

import dataclasses
import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from activities.models import Need, Visit
from members.models import Member, change_labels
from tongzhan import spreadsheets
from tongzhan.models import User

from .models import PersonRequest

# Internal columns of her row that say nothing about her: hashes and masked forms of the
# numbers (the full ones are given), bookkeeping, the photo's file name.
HIDDEN_FIELDS = frozenset(
    {
        "id",
        "id_number_hash",
        "id_number_masked",
        "phone_hash",
        "phone_masked",
        "photo",
        "incomplete",
        "merged_into",
        "anonymised_at",
        "version",
        "updated_at",
    }
)


@dataclasses.dataclass
class Table:
    """One part of the copy: a title, column headings (none for label-value rows), rows."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclasses.dataclass
class Content:
    """The whole copy, as both formats write it."""

    title: str
    member: Member
    heading: list[tuple[str, str]]
    tables: list[Table]
    produced_at: datetime.datetime


def role_of(user) -> str:
    """A member of staff as her copy names them: by role, never by name."""
    if user is None:
        return _("The system")
    try:
        return str(User.Role(user.role).label)
    except ValueError:
        return _("Staff")


class Staff:
    """The staff named anywhere in her record, each replaced by their role in every text."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def role(self, user) -> str:
        role = role_of(user)
        if user is not None:
            for name in (user.get_full_name(), user.username):
                if len(name) >= 2:
                    self.names[name] = role
        return role

    def text(self, value) -> str:
        value = "" if value is None else str(value)
        for name in sorted(self.names, key=len, reverse=True):
            value = value.replace(name, self.names[name])
        return value


def _display(member: Member, field) -> str:
    value = getattr(member, field.name)
    display = getattr(member, f"get_{field.name}_display", None)
    if display is not None and field.choices:
        return str(display()) if value not in (None, "") else ""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _record(member: Member) -> Table:
    labels = change_labels()
    rows = []
    for field in Member._meta.concrete_fields:
        if field.name in HIDDEN_FIELDS:
            continue
        value = _display(member, field)
        if value:
            rows.append([str(labels.get(field.name, field.verbose_name)), value])
    categories = "、".join(category.name for category in member.categories.all())
    rows.insert(1, [str(labels["categories"]), categories])
    rows.append([_("Photo"), _("Kept") if member.photo else _("None")])
    return Table(title=_("What the registry holds"), headers=[], rows=rows)


def _relatives(member: Member) -> Table:
    return Table(
        title=_("Relatives"),
        headers=[_("Name"), _("Relation"), _("Where"), _("Contact"), _("Notes")],
        rows=[
            [
                relative.name,
                relative.relation_display,
                f"{relative.get_residence_display()} {relative.place}".strip(),
                relative.contact,
                relative.notes,
            ]
            for relative in member.relatives.order_by("id")
        ],
    )


def _representative(member: Member) -> list[Table]:
    arrangements = Table(
        title=_("Political arrangements"),
        headers=[_("Arrangement"), _("Session"), _("Term"), _("State"), _("Reason it ended")],
        rows=[
            [
                item.text,
                item.session,
                " — ".join(
                    day.isoformat() if day else "…" for day in (item.term_from, item.term_to)
                )
                if item.term_from or item.term_to
                else "",
                item.get_state_display(),
                item.end_reason,
            ]
            for item in member.arrangements.all()
        ],
    )
    duties = Table(
        title=_("Duty records"),
        headers=[_("Date"), _("Kind"), _("Title"), _("Description"), _("Outcome")],
        rows=[
            [
                duty.date.isoformat(),
                duty.get_kind_display(),
                duty.title,
                duty.description,
                duty.get_outcome_display() if duty.outcome else "",
            ]
            for duty in member.duties.order_by("date", "id")
        ],
    )
    return [table for table in (arrangements, duties) if table.rows]


def _history(member: Member, staff: Staff) -> Table:
    labels = change_labels()
    rows = []
    for change in member.changes.select_related("actor").order_by("at", "id"):
        what = "；".join(
            f"{labels.get(row.get('field'), row.get('field'))}："
            f"{row.get('old') or '—'} → {row.get('new') or '—'}"
            for row in change.changes
            if isinstance(row, dict)
        )
        rows.append(
            [
                f"{timezone.localtime(change.at):%Y-%m-%d %H:%M}",
                change.get_action_display(),
                staff.role(change.actor),
                change.source,
                what,
            ]
        )
    return Table(
        title=_("History of the record"),
        headers=[_("Time"), _("What happened"), _("By"), _("Source of the change"), _("Changes")],
        rows=rows,
    )


def _visits(member: Member, staff: Staff) -> Table:
    rows = []
    visits = (
        Visit.objects.filter(members=member)
        .select_related("created_by")
        .prefetch_related("members")
        .order_by("date", "id")
    )
    for visit in visits:
        alone = [person.pk for person in visit.members.all()] == [member.pk]
        rows.append(
            [
                visit.date.isoformat(),
                visit.get_way_display(),
                staff.role(visit.created_by),
                visit.situation if alone else _("A visit to several people"),
                visit.opinions if alone else "",
            ]
        )
    return Table(
        title=_("Visits to her"),
        headers=[_("Date"), _("Way"), _("Visited by"), _("Situation learnt"), _("Her opinions")],
        rows=rows,
        note=_(
            "A visit to her together with others gives its date and way only: what was "
            "learnt there concerns them too."
        )
        if rows
        else "",
    )


def _needs(member: Member, staff: Staff) -> Table:
    return Table(
        title=_("Needs she raised"),
        headers=[_("Raised on"), _("Kind"), _("Description"), _("Status"), _("Resolution")],
        rows=[
            [
                need.raised_on.isoformat() if need.raised_on else "",
                need.get_kind_display(),
                need.description,
                need.get_status_display(),
                need.resolution,
            ]
            for need in Need.objects.filter(member=member).order_by("raised_on", "id")
        ],
    )


def _requests(member: Member, staff: Staff) -> Table:
    rows = []
    for item in member.person_requests.select_related("recorded_by").order_by("received_on", "id"):
        asked = item.get_asked_by_display()
        if item.asked_by == PersonRequest.AskedBy.AGENT:
            asked = f"{asked}：{item.agent_name}（{item.agent_relation}）"
        rows.append(
            [
                str(item.pk),
                item.received_on.isoformat(),
                item.get_kind_display(),
                asked,
                item.asks,
                item.due_on.isoformat(),
                item.get_state_display(),
                item.answered_on.isoformat() if item.answered_on else "",
                item.answer,
                staff.role(item.recorded_by),
            ]
        )
    return Table(
        title=_("Her requests about her record"),
        headers=[
            _("No."),
            _("Received on"),
            _("Request"),
            _("Asked by"),
            _("What she asks"),
            _("Answer due by"),
            _("State"),
            _("Answered on"),
            _("Answer"),
            _("Recorded by"),
        ],  # fmt: skip
        rows=rows,
    )


def copy_content(person_request: PersonRequest) -> Content:
    """Everything held about the person of `person_request`, as her copy shows it, in the
    registry's language."""
    member = (
        Member.objects.select_related("community__parent", "grid", "ethnicity", "political_status")
        .prefetch_related("categories")
        .get(pk=person_request.member_id)
    )
    staff = Staff()
    with translation.override(settings.LANGUAGE_CODE):
        history = _history(member, staff)
        visits = _visits(member, staff)
        needs = _needs(member, staff)
        requests = _requests(member, staff)
        # Once every member of staff is known (each table names whoever it met by role), their
        # names go from every text, as one pass over the cells.
        for table in (history, visits, needs, requests):
            table.rows = [[staff.text(cell) for cell in row] for row in table.rows]
        tables = [
            _record(member),
            _relatives(member),
            *_representative(member),
            history,
            visits,
            needs,
            requests,
        ]
        produced_at = timezone.localtime()
        heading = [
            (_("Name"), member.name),
            (
                _("Community"),
                " ".join(area.name for area in (member.community.parent, member.community) if area),
            ),  # fmt: skip
            (_("For request"), f"{person_request.pk}（{person_request.get_kind_display()}）"),
            (_("Produced at"), f"{produced_at:%Y-%m-%d %H:%M}"),
        ]
        return Content(
            title=_("Copy of the personal information held"),
            member=member,
            heading=heading,
            tables=tables,
            produced_at=produced_at,
        )


# -- Writing it -----------------------------------------------------------------------------

TITLE = spreadsheets.Style(bold=True, size=14)
SECTION = spreadsheets.Style(bold=True, fill="E4E4E4", border=True)
HEADER = spreadsheets.Style(bold=True, fill="F2F2F2", border=True, wrap=True)
BODY = spreadsheets.Style(border=True, wrap=True, vertical="top")
NOTE = spreadsheets.Style(color="555555", wrap=True)
COLUMNS = 10  # the widest table (her requests)
WIDTHS = {1: 16, 2: 14, 3: 14, 4: 22, 5: 30, 6: 14, 7: 12, 8: 14, 9: 30, 10: 14}


def xlsx(content: Content) -> bytes:
    """The copy as one sheet, each part under its title; every value a text cell."""
    with translation.override(settings.LANGUAGE_CODE):
        book = spreadsheets.Book()
        sheet = book.sheet(_("Copy"), widths=WIDTHS)
        row = 1
        sheet.write(row, 1, spreadsheets.text(content.title, TITLE))
        row += 1
        for label, value in content.heading:
            sheet.write(row, 1, label)
            sheet.write(row, 2, value)
            row += 1
        sheet.merge(row, 1, row, COLUMNS)
        sheet.write(row, 1, spreadsheets.text(_("Staff are named by their roles."), NOTE))
        row += 2
        for table in content.tables:
            sheet.merge(row, 1, row, COLUMNS)
            sheet.write(row, 1, spreadsheets.text(table.title, SECTION))
            row += 1
            if table.note:
                sheet.merge(row, 1, row, COLUMNS)
                sheet.write(row, 1, spreadsheets.text(table.note, NOTE))
                row += 1
            if not table.rows:
                sheet.write(row, 1, _("None"))
                row += 2
                continue
            if table.headers:
                for column, header in enumerate(table.headers, 1):
                    sheet.write(row, column, spreadsheets.text(header, HEADER))
                row += 1
            for values in table.rows:
                if not table.headers:  # a label and its value, the value across the rest
                    sheet.merge(row, 2, row, 5)
                for column, value in enumerate(values, 1):
                    sheet.write(row, column, spreadsheets.text(value or "", BODY))
                row += 1
            row += 1
        return book.bytes()


def pdf(content: Content) -> bytes:
    """The copy as a printed form (A4, as many pages as it takes), with her photo."""
    import weasyprint  # only printing needs Pango and the fonts

    from members.printing import PHOTO_SCHEME, photo_fetcher

    member = content.member
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "privacy/print/copy.html",
            {
                "content": content,
                "photo": f"{PHOTO_SCHEME}{member.pk}" if member.photo else "",
            },
        )
    fetch = photo_fetcher({member.pk: member})
    return weasyprint.HTML(string=html, base_url="about:blank", url_fetcher=fetch).write_pdf()
