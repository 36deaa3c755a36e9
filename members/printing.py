"""The registration form (统战对象信息登记表) on paper: members as one PDF, one A4 page each.

Drawn on the server by WeasyPrint with the machine's CJK fonts (fonts-noto-cjk). It fetches
nothing: the style is in the page, and the only resources it may load are the members' ID
photos, read from storage by `photo_fetcher`; any other address (http, file, ...) is refused.
"""

import dataclasses
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from tongzhan.downloads import AuditLine
from tongzhan.models import AuditEvent

from .forms import MemberForm
from .models import DutyRecord, Member, MemberChange, Relative, change_labels

# How a page refers to a member's photo; `photo_fetcher` answers only these.
PHOTO_SCHEME = "tongzhan-photo:"
CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
# The page holds the last changes and the notes at this size; longer ones are cut, so one
# person always fits one A4 page.
LAST_CHANGES = 5
CHANGED_FIELDS = 6
# Three sizes of the page: normal, compact (smaller type, tighter rows) and tight (long texts
# cut shorter too). A member in more category groups than ROOMY_SECTIONS starts compact; a
# form that still runs over its page is drawn again one size smaller (`render_forms`).
NORMAL, COMPACT, TIGHT = 0, 1, 2
TEXT_CHARS = {NORMAL: 80, COMPACT: 80, TIGHT: 40}
NOTES_CHARS = {NORMAL: 200, COMPACT: 200, TIGHT: 60}
ROOMY_SECTIONS = 2
# The relatives a page lists at each size; more are cut, the last line saying how many in all.
RELATIVES = {NORMAL: 5, COMPACT: 4, TIGHT: 2}
PLACE_CHARS = {NORMAL: 30, COMPACT: 30, TIGHT: 16}
# The representative's file: the political arrangements (in office first) and the latest duty
# records a page lists at each size, the others counted; duty titles cut to this length. A
# tight page says each in one line: the arrangements one after another, the duty records
# counted by kind.
ARRANGEMENTS = {NORMAL: 5, COMPACT: 4}
DUTIES = {NORMAL: 6, COMPACT: 4}
TITLE_CHARS = {NORMAL: 40, COMPACT: 30}
LINE_CHARS = 56
# The rows of another app's part (`PRINT_SECTIONS`) a page lists at each size, the others
# counted; a tight page says them in one line, and lists fewer of the last changes to make
# room for those lines.
EXTRA_ROWS = {NORMAL: 4, COMPACT: 3}
CHANGES_SHOWN = {NORMAL: LAST_CHANGES, COMPACT: LAST_CHANGES, TIGHT: 3}


# Puts the parts of a large PDF together (poppler-utils, as pdftotext for the tests).
PDFUNITE = shutil.which("pdfunite") or "pdfunite"


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most] + "…"


class FetchRefused(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class PrintedRows:
    """A part of the printed form another app fills: its title, and for each member (by pk)
    its rows as (label, text), in the order printed. A member without rows gets "None"."""

    title: str
    rows: dict


# What apps above this one print on a member's form (commendations: her commendations), each
# a function `(members, viewer)` returning `PrintedRows` for all of `members` at once (one
# query, however many forms), or None to print nothing (the viewer may not see such records).
# Registered from the app's AppConfig.ready, so the printer imports none of them (layers).
PRINT_SECTIONS: list = []


def print_section_register(section) -> None:
    """Called from an app's `AppConfig.ready`; registering twice changes nothing."""
    if section not in PRINT_SECTIONS:
        PRINT_SECTIONS.append(section)


def print_queryset(members, *, full: bool):
    """What the forms show, in a fixed number of queries. Masked pages leave the encrypted
    numbers undecrypted (deferred)."""
    changes = MemberChange.objects.select_related("actor").order_by("-at", "-id")
    members = members.select_related(
        "community__parent", "grid", "ethnicity", "political_status"
    ).prefetch_related(
        "categories",
        Prefetch("changes", queryset=changes[:LAST_CHANGES], to_attr="last_changes"),
        Prefetch(
            "relatives",
            queryset=Relative.objects.order_by("id") if full else Relative.objects.defer("contact"),
            to_attr="printed_relatives",
        ),
        Prefetch("arrangements", to_attr="printed_arrangements"),
        Prefetch(
            "duties", queryset=DutyRecord.objects.defer("description"), to_attr="printed_duties"
        ),
    )
    return members if full else members.defer("id_number", "phone")


def _field_display(member: Member, name: str) -> str:
    display = getattr(member, f"get_{name}_display", None)
    value = display() if display is not None else getattr(member, name)
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _labels() -> dict:
    return {name: str(label) for name, label in change_labels().items()}


def _relatives(member: Member, *, full: bool, size: int) -> dict:
    """The relatives as printed: name, relation, where, contact (masked unless `full`); never
    the linked record, which the reader of the paper may not be allowed to see."""
    relatives = member.printed_relatives
    shown = relatives if len(relatives) <= RELATIVES[size] else relatives[: RELATIVES[size] - 1]
    return {
        "rows": [
            {
                "name": relative.name,
                "relation": relative.relation_display,
                "where": _cut(
                    f"{relative.get_residence_display()} {relative.place}".strip(),
                    PLACE_CHARS[size],
                ),
                "contact": relative.contact if full else relative.contact_masked,
            }
            for relative in shown
        ],
        "more": _("… %(n)s in all") % {"n": len(relatives)} if len(shown) < len(relatives) else "",
    }


def _shown(rows: list, most: int) -> list:
    """The first rows that fit: all if they do, else one fewer, for the line saying how many."""
    return rows if len(rows) <= most else rows[: most - 1]


def _term(start, end) -> str:
    """A term as forms write it, by month (2021.12—2026.11), to fit its column."""
    if not start and not end:
        return ""
    return f"{f'{start:%Y.%m}' if start else '…'}—{f'{end:%Y.%m}' if end else '…'}"


def _arrangements(member: Member, *, size: int) -> dict:
    """The political arrangements as printed: in office first, then the earlier ones with how
    they ended."""
    arrangements = member.printed_arrangements
    if size == TIGHT:
        words = [f"{item.text}（{item.get_state_display()}）" for item in arrangements]
        return {"line": _cut("、".join(words), LINE_CHARS), "any": bool(arrangements)}
    shown = _shown(arrangements, ARRANGEMENTS[size])
    rows = []
    for arrangement in shown:
        state = arrangement.get_state_display()
        if arrangement.ended_on:
            state = f"{state} {arrangement.ended_on.isoformat()}"
        rows.append(
            {
                "text": arrangement.text,
                "session": arrangement.session,
                "term": _term(arrangement.term_from, arrangement.term_to),
                "state": state,
                "reason": _cut(arrangement.end_reason, PLACE_CHARS[size]),
            }
        )
    more = _("… %(n)s in all") % {"n": len(arrangements)} if len(shown) < len(arrangements) else ""
    return {"rows": rows, "more": more, "any": bool(arrangements)}


def _duties(member: Member, *, size: int) -> dict:
    """The latest duty records as printed, and when some are left out, how many of each kind
    the member has in all."""
    duties = member.printed_duties
    if size == TIGHT:
        return {"line": _cut(_duty_counts(duties), LINE_CHARS), "any": bool(duties)}
    shown = _shown(duties, DUTIES[size])
    rows = [
        {
            "date": duty.date.isoformat(),
            "kind": duty.get_kind_display(),
            "title": _cut(duty.title, TITLE_CHARS[size]),
            "outcome": " · ".join(
                part
                for part in (
                    duty.get_outcome_display() if duty.outcome else "",
                    _("%(amount)s yuan") % {"amount": duty.amount_text}
                    if duty.amount is not None
                    else "",
                )
                if part
            ),
        }
        for duty in shown
    ]
    more = _duty_counts(duties) if len(shown) < len(duties) else ""
    return {"rows": rows, "more": more, "any": bool(duties)}


def _duty_counts(duties: list) -> str:
    """How many duty records the member has, by kind: 共 30 条：参加会议 12、提案 5 …"""
    if not duties:
        return ""
    counts = Counter(duty.kind for duty in duties)
    labels = dict(DutyRecord.Kind.choices)
    return _("%(n)s in all: %(kinds)s") % {
        "n": len(duties),
        "kinds": "、".join(
            f"{labels[kind]} {counts[kind]}" for kind in DutyRecord.Kind.values if counts[kind]
        ),
    }


def _extra(section: PrintedRows, member: Member, *, size: int) -> dict:
    """Another app's part of the form: its rows (the first that fit, then how many in all),
    or on a tight page one line."""
    rows = section.rows.get(member.pk, [])
    if size == TIGHT:
        line = "、".join(f"{label} {text}" for label, text in rows)
        return {"title": section.title, "line": _cut(line, LINE_CHARS), "rows": []}
    shown = _shown(rows, EXTRA_ROWS[size])
    more = _("… %(n)s in all") % {"n": len(rows)} if len(shown) < len(rows) else ""
    return {"title": section.title, "rows": shown, "more": more, "line": ""}


def page_of(
    member: Member, *, full: bool, labels: dict, size: int | None = None, extras: tuple = ()
) -> dict:
    """One person's form: the values as printed, the numbers masked unless `full`; `extras`
    the other apps' parts (`PrintedRows`)."""
    if size is None:
        groups = MemberForm.category_sections_for({c.slug for c in member.categories.all()})
        size = COMPACT if len(groups) > ROOMY_SECTIONS else NORMAL
    text_chars = TEXT_CHARS[size]
    unit = " ".join(area.name for area in (member.community.parent, member.community) if area)
    categories = list(member.categories.all())
    slugs = {category.slug for category in categories}
    sections = []
    for section in MemberForm.category_sections_for(slugs):
        rows = [(labels[name], _field_display(member, name)) for name in section["names"]]
        # Two label-value pairs per line of the table.
        sections.append(
            {"title": section["title"], "lines": [rows[i : i + 2] for i in range(0, len(rows), 2)]}
        )
    changes = []
    for change in member.last_changes[: CHANGES_SHOWN[size]]:
        fields = [labels.get(row["field"], row["field"]) for row in change.changes]
        more = len(fields) - CHANGED_FIELDS
        changes.append(
            {
                "at": change.at,
                "action": change.get_action_display(),
                "actor": change.actor,
                "fields": "、".join(fields[:CHANGED_FIELDS])
                + (_("… and %(n)s more") % {"n": more} if more > 0 else ""),
            }
        )
    return {
        "member": member,
        "photo": f"{PHOTO_SCHEME}{member.pk}" if member.photo else "",
        "id_number": member.id_number if full else member.id_number_masked,
        "phone": member.phone if full else member.phone_masked,
        "categories": "、".join(category.name for category in categories),
        "sections": sections,
        "changes": changes,
        "relatives": _relatives(member, full=full, size=size),
        "arrangements": _arrangements(member, size=size),
        "duties": _duties(member, size=size),
        "extras": [_extra(section, member, size=size) for section in extras],
        "notes": _cut(member.notes, NOTES_CHARS[size]),
        "text": {
            name: _cut(getattr(member, name), text_chars)
            for name in ("workplace", "social_positions", "address", "specialty")
        },
        "size": size,
        "anchor": f"form-{member.pk}",
        "unit": unit,
        "letter": letter_of(member, unit=unit),
    }


def letter_of(member: Member, *, unit: str) -> dict:
    """The notice (告知书) printed after her form: what `members/notice_letter.html` says to
    her, in the office's wording (a deployment may override that template). The retention
    periods are the settings the privacy app applies (RETENTION_YEARS); members does not
    import it (layers)."""
    years = settings.RETENTION_YEARS
    return {
        "anchor": f"letter-{member.pk}",
        "categories": "、".join(category.name for category in member.categories.all()),
        "years_moved_out": years.get("moved_out"),
        "years_deceased": years.get("deceased"),
        "years_withdrawn": years.get("withdrawn"),
        "contact": settings.PRIVACY_CONTACT.strip(),
        "unit": unit,
    }


def photo_fetcher(members_by_pk: dict):
    """WeasyPrint's url_fetcher for these members' photos, refusing every other address."""

    def fetch(url, timeout=10, ssl_context=None):
        pk = url[len(PHOTO_SCHEME) :] if url.startswith(PHOTO_SCHEME) else ""
        if pk.isdigit():
            member = members_by_pk.get(int(pk))
            if member is not None and member.photo:
                name = member.photo.name
                with member.photo.storage.open(name, "rb") as photo:
                    data = photo.read()
                return {
                    "string": data,
                    "mime_type": CONTENT_TYPES.get(name[name.rfind(".") :].lower()),
                }
        raise FetchRefused(url)

    return fetch


def _overflowing(document) -> set[str]:
    """The anchors of the forms that run over their page: a form's anchor is on each page
    its box reaches, and a page without one continues the form before it. The notice letter
    after a form (`letter-…`) is a page of its own, not the form's continuation."""
    over, seen, current = set(), set(), None
    for page in document.pages:
        forms = [name for name in page.anchors if name.startswith("form-")]
        over.update(name for name in forms if name in seen)
        seen.update(forms)
        if forms:
            current = forms[-1]
        elif any(name.startswith("letter-") for name in page.anchors):
            current = None
        elif current is not None:
            over.add(current)
    return over


def render_forms(members, *, full: bool, viewer) -> bytes:
    """The forms of `members` (from `print_queryset`) as one PDF, one page each, with what
    the other apps print on them that `viewer` may see."""
    return render_document(members, full=full, viewer=viewer).write_pdf()


def render_forms_in_batches(members, *, full: bool, viewer, progress, batch: int = 50) -> bytes:
    """`render_forms` for many members (a community's forms, in the background): drawn
    `batch` at a time, each batch written to a PDF of its own and let go, with
    `progress(done, total)` after each; the parts are put together by poppler's `pdfunite`.

    WeasyPrint keeps every page's layout until it writes the PDF, about 2.7 MB a form: 200
    forms in one document took 880 MB; 50 at a time, any number take about 450 MB. Each part
    embeds its own subset of the CJK font (about 0.8 MB). The pages are numbered across the
    whole PDF.
    """
    members = list(members)
    total = len(members)
    progress(0, total)
    if total <= batch:
        pdf = render_forms(members, full=full, viewer=viewer)
        progress(total, total)
        return pdf
    printed_at = timezone.localtime()
    with tempfile.TemporaryDirectory() as folder:
        parts = []
        for start in range(0, total, batch):
            document = render_document(
                members[start : start + batch],
                full=full,
                viewer=viewer,
                offset=start,
                total=total,
                printed_at=printed_at,
            )
            parts.append(Path(folder) / f"{start:07d}.pdf")
            document.write_pdf(parts[-1])
            del document
            progress(min(start + batch, total), total)
        whole = Path(folder) / "whole.pdf"
        subprocess.run(  # noqa: S603 (our own files, no shell)
            [PDFUNITE, *parts, whole], check=True, capture_output=True, timeout=600
        )
        return whole.read_bytes()


def audit_lines(members, *, full: bool, detail: dict, obj=None) -> list[AuditLine]:
    """What printing `members` writes to the audit log: one export line (about `obj`), and
    for a role that may see full numbers, which the forms then print, a reveal line per
    person, as showing them on the page writes."""
    lines = [
        AuditLine(
            action=AuditEvent.Action.EXPORT,
            detail={"format": "pdf", "rows": len(members), "full": full, **detail},
            obj=obj,
        )
    ]
    if full:
        for member in members:
            fields = ["id_number", "phone"]
            if any(relative.contact for relative in member.printed_relatives):
                fields.append("relative_contact")  # printed in full as well
            lines.append(
                AuditLine(
                    action=AuditEvent.Action.REVEAL,
                    obj=member,
                    detail={"fields": fields, "page": "print"},
                )
            )
    return lines


def render_document(members, *, full: bool, viewer, offset=0, total=None, printed_at=None):
    """The forms of `members` as WeasyPrint's rendered document, one page each; `offset` and
    `total` number its pages within a larger PDF put together from several. The other apps'
    parts are those `viewer` may see."""
    # Imported here: WeasyPrint loads Pango and the fonts, which only printing needs.
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    members = list(members)
    labels = _labels()
    extras = tuple(
        shown for section in PRINT_SECTIONS if (shown := section(members, viewer)) is not None
    )
    pages = [page_of(member, full=full, labels=labels, extras=extras) for member in members]
    fetch = photo_fetcher({member.pk: member for member in members})
    fonts = FontConfiguration()
    context = {
        "printed_at": printed_at or timezone.localtime(),
        "offset": offset,
        "total": total or len(pages),
    }
    while True:
        html = render_to_string("members/print/forms.html", {"pages": pages, **context})
        document = weasyprint.HTML(string=html, base_url="about:blank", url_fetcher=fetch)
        rendered = document.render(font_config=fonts)
        over = _overflowing(rendered)
        smaller = [
            index
            for index, page in enumerate(pages)
            if page["anchor"] in over and page["size"] < TIGHT
        ]
        if not smaller:
            return rendered
        for index in smaller:
            pages[index] = page_of(
                members[index], full=full, labels=labels, size=pages[index]["size"] + 1,
                extras=extras,
            )  # fmt: skip
