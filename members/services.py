"""Writes on members. Views, admin, import and commands call these and nothing else.

Each write validates the member, saves it and records its history and audit entry in one
transaction (anchor: Zulip's `do_*` actions with their RealmAuditLog rows).
"""

import contextlib
import copy
import dataclasses
import datetime
import functools
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, F, Value
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tongzhan import documents
from tongzhan.audit import audit_record
from tongzhan.crypto import lookup_has_aliases, lookup_hashes
from tongzhan.masking import mask_id_number
from tongzhan.models import Area, AuditEvent
from tongzhan.scoping import code_within
from tongzhan.text import plain_name
from tongzhan.uploads import UploadRefused, check_photo

from .models import (
    DutyRecord,
    Member,
    MemberCategory,
    MemberChange,
    MemberMerge,
    MemberTally,
    Nomination,
    PoliticalArrangement,
    Relative,
    RepresentativeChange,
    Transfer,
    receiving_area_ids,
)
from .rules import apply_category_rules, categories_by_slug
from .validators import normalize_phone

# Fields whose history keeps the masked value, never the full one.
MASKED_FIELDS = {"id_number": "id_number_masked", "phone": "phone_masked"}
# What identifies a document: a change of any of them is checked against the registry.
DOCUMENT_FIELDS = frozenset({"document_type", "id_number"})
HISTORY_EXCLUDED = {
    "id",
    "id_number_hash",
    "id_number_masked",
    "phone_hash",
    "phone_masked",
    "created_at",
    "updated_at",
    # Kept by the services from other data, not changes anybody made to the record.
    "last_contact_on",
    "incomplete",
    "version",
    # Its random file name means nothing to a reader: the photo's services write its history.
    "photo",
    # The merge's own history line says it.
    "merged_into",
    # So does the anonymisation's (privacy app).
    "anonymised_at",
}


@functools.cache
def _history_plan(language: str) -> tuple:
    """How each history field is read, with its labels translated once per language."""
    with translation.override(language):
        yes_no = (str(_("yes")), str(_("no")))
        plan = []
        for name in history_fields():
            if name in MASKED_FIELDS:
                plan.append((name, "masked", MASKED_FIELDS[name]))
            elif name == "categories":
                plan.append((name, "categories", None))
            else:
                field = Member._meta.get_field(name)
                if field.flatchoices:
                    labels = {value: str(label) for value, label in field.flatchoices}
                    plan.append((name, "choice", labels))
                elif isinstance(field, models.BooleanField):
                    plan.append((name, "bool", yes_no))
                else:
                    plan.append((name, "value", None))
    return tuple(plan)


def _display(member: Member, name: str, kind: str, extra, categories) -> str:
    if kind == "masked":
        return getattr(member, extra)
    if kind == "categories":
        if categories is None:
            categories = member.categories.all()
        return "、".join(category.name for category in sorted(categories, key=_by_code))
    value = getattr(member, name)
    if value is None or value == "":
        return ""
    if kind == "choice":
        return extra.get(value, str(value))
    if kind == "bool":
        return extra[0] if value else extra[1]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@functools.cache
def history_fields() -> tuple[str, ...]:
    return tuple(
        field.name
        for field in Member._meta.get_fields()
        if field.concrete and not field.auto_created and field.name not in HISTORY_EXCLUDED
    )


def _by_code(category) -> str:
    return category.code


def snapshot(member: Member, categories=None) -> dict[str, str]:
    """What the history shows of a member: each field as a person reads it.

    Written in the registry's language whatever the editor's interface language, so the
    record reads the same for everyone. `categories`, when given, saves the query for them.
    """
    return {
        name: _display(member, name, kind, extra, categories)
        for name, kind, extra in _history_plan(settings.LANGUAGE_CODE)
    }


def registration_changes(member: Member, categories=None) -> list[dict]:
    """The history entry of a new registration: each field that has a value.

    What `changes_between({}, snapshot(member))` gives, without the intermediate snapshot
    (an import writes one per row).
    """
    changes = []
    values = member.__dict__
    for name, kind, extra, attname in _registration_plan(settings.LANGUAGE_CODE):
        if attname is None or attname not in values:
            value = _display(member, name, kind, extra, categories)
            if value != "":
                changes.append({"field": name, "old": "", "new": value})
            continue
        # A plain column read from the instance's dict, as `_display` reads it through the
        # attribute: an import writes one entry per row, 40-odd fields each.
        value = values[attname]
        if value is None or value == "":
            continue
        if kind == "choice":
            value = extra.get(value, str(value))
        elif kind == "bool":
            value = extra[0] if value else extra[1]
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        else:
            value = str(value)
        changes.append({"field": name, "old": "", "new": value})
    return changes


@functools.cache
def _registration_plan(language: str) -> tuple:
    """`_history_plan` with the attribute of each field that is a plain column (None for the
    masked ones, the categories and the foreign keys, which `_display` reads)."""
    plan = []
    for name, kind, extra in _history_plan(language):
        attname = None
        if kind in ("choice", "bool", "value"):
            field = Member._meta.get_field(name)
            if field.concrete and not field.is_relation:
                attname = field.attname
        plan.append((name, kind, extra, attname))
    return tuple(plan)


def changes_between(before: dict, after: dict) -> list[dict]:
    return [
        {"field": name, "old": before.get(name, ""), "new": after[name]}
        for name in after
        if before.get(name, "") != after[name]
    ]


# -- The member write contract ----------------------------------------------------------------
#
# Beyond the model's field rules (`Member.clean`): the category rules and that nobody is
# registered twice. The services enforce them on every write; the member form and the import
# call the same functions to show their messages before anything is written.


class MemberChanged(ValidationError):
    """A form saved over a change somebody made after it was opened: refused, with the
    fields they changed, their values and the form's; `version` is the member's current one."""

    def __init__(self, messages: list, *, version: int):
        super().__init__(messages, code="stale")
        self.version = version


def member_check(*, actor, data: dict, member: Member | None = None, request=None):
    """Check `data` about to be written against the contract, for a new member or `member`.

    Returns the categories after the rules (a party member joins 民主党派成员), or None when
    `data` leaves them alone; raises ValidationError by field. For an existing member only
    what `data` touches is checked, so a write of other fields never fails on old records.
    """
    errors = {}
    categories = None
    try:
        categories = _checked_categories(data, member)
    except ValidationError as error:
        errors.update(error.error_dict)
    if DOCUMENT_FIELDS & data.keys():
        try:
            _check_not_registered(actor=actor, data=data, member=member, request=request)
        except ValidationError as error:
            errors.update(error.error_dict)
    try:
        member_check_informing(data=data, member=member)
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    return categories


def member_check_informing(*, data: dict, member: Member | None = None) -> None:
    """The notice (告知, PIPL arts. 17 and 35): a registration records how and when the person
    was told what is kept and why, or why she has not been told yet; a notice recorded is
    not removed. `member` is the stored record of an update (None for a registration).

    Records kept before notices were recorded have neither and are not forced to on update.
    How, date and reason agreeing with each other is `Member.clean`'s rule.
    """
    how = data.get("informed_how", "" if member is None else member.informed_how)
    if member is None:
        reason = str(data.get("not_informed_reason") or "").strip()
        if not how and not reason:
            raise ValidationError(
                {
                    "informed_how": _(
                        "Record how and when the person was told what is kept about her and "
                        "why, or give the reason why she has not been told yet."
                    )
                },
                code="not_informed",
            )
    elif member.informed_how and not how:
        raise ValidationError(
            {
                "informed_how": _(
                    "The person was told on %(date)s (%(how)s): a notice recorded cannot be "
                    "removed. Correct how or when she was told instead."
                )
                % {
                    "date": member.informed_on.isoformat() if member.informed_on else "",
                    "how": member.get_informed_how_display(),
                }
            },
            code="notice_removed",
        )


def _checked_categories(data: dict, member: Member | None):
    categories = data.get("categories")
    if member is not None and not {"categories", "political_status", "ethnicity"} & data.keys():
        return None
    if categories is None:
        categories = list(member.categories.all()) if member is not None else []
    slugs = [category.slug for category in categories]
    checked = member_check_categories(
        slugs=slugs,
        political_status=_value_of(data, member, "political_status"),
        ethnicity=_value_of(data, member, "ethnicity"),
    )
    if checked != slugs:
        by_slug = categories_by_slug()
        return [by_slug[slug] for slug in checked]
    return categories if "categories" in data or member is None else None


def _value_of(data: dict, member: Member | None, name: str):
    if name in data:
        return data[name]
    if member is None or getattr(member, f"{name}_id") is None:
        return None
    return getattr(member, name)


def member_check_categories(*, slugs: list[str], political_status, ethnicity) -> list[str]:
    """The category slugs after the rules of `rules.apply_category_rules`, or ValidationError
    by field (民主党派成员 needs a party, 少数民族人士 a minority group, and a member at least
    one category)."""
    slugs, errors = apply_category_rules(
        slugs=slugs, political_status=political_status, ethnicity=ethnicity
    )
    if not slugs:
        errors.setdefault("categories", _("Give at least one member category."))
    if errors:
        raise ValidationError(errors)
    return slugs


def _document(data: dict, member: Member | None) -> tuple[str, str]:
    """The document type and raw number `data` would leave the member with."""
    document_type = data.get("document_type") or (
        member.document_type if member is not None else Member.DocumentType.ID_CARD
    )
    raw = data["id_number"] if "id_number" in data else getattr(member, "id_number", "")
    return document_type, raw


def _check_not_registered(*, actor, data: dict, member: Member | None, request) -> None:
    """Nobody is registered twice: the same document (type and number) is one person."""
    document_type, raw = _document(data, member)
    try:
        number = documents.parse(document_type, raw).number
    except ValidationError:
        return  # The model's own rules say what is wrong with the number.
    number_hashes = lookup_hashes(documents.lookup_key(document_type, number))
    if member is not None and member.id_number_hash in number_hashes:
        return  # The member's own number: nothing is looked up.
    existing = (
        Member.objects.filter(id_number_hash__in=number_hashes).select_related("community").first()
    )
    if existing is not None and existing.merged_into_id:
        # A merged record's number is the person of the record it went into.
        existing = Member.objects.select_related("community").get(pk=existing.merged_into_id)
    if existing is not None:
        raise ValidationError(
            {"id_number": registered_error(actor=actor, existing=existing, request=request)}
        )
    if actor is not None and probe_answers_left(actor) <= 0:
        # Past the limit a free number gets the same answer as one registered outside the
        # user's area, or the refusal itself would tell them apart.
        refusal = probe_refusal(actor=actor, masked=mask_id_number(number), request=request)
        raise ValidationError({"id_number": refusal})


def probe_answers_left(actor) -> int:
    """How many more answers about people registered outside the actor's area the actor gets
    this hour (MEMBER_PROBE_LIMIT_PER_HOUR, counted from the audit log)."""
    answered = AuditEvent.objects.filter(
        actor=actor,
        action=AuditEvent.Action.REVEAL,
        outcome=AuditEvent.Outcome.DONE,
        at__gte=timezone.now() - datetime.timedelta(hours=1),
        detail__has_key="probe",
    ).count()
    return settings.MEMBER_PROBE_LIMIT_PER_HOUR - answered


def probe_refusal(*, actor, masked: str, obj=None, request=None) -> ValidationError:
    """The answer past the limit, for any number not in the actor's area (audited)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REVEAL,
        obj=obj,
        request=request,
        detail={"probe": masked},
        outcome=AuditEvent.Outcome.REFUSED,
    )
    return ValidationError(
        _(
            "Too many people registered outside your area were looked up in the last hour "
            "(at most %(limit)s): try again later."
        ),
        code="probe_limit",
        params={"limit": settings.MEMBER_PROBE_LIMIT_PER_HOUR},
    )


def registered_error(*, actor, existing: Member, request=None, left=None) -> ValidationError:
    """Why a person cannot be registered again: they already are, as `existing`.

    Within the actor's area it says where. Outside it says only that the person is registered
    elsewhere (that stops a second record), yet even that answers whether somebody the actor
    may not see is in the registry: every such answer is audited (the number masked), and a
    user gets MEMBER_PROBE_LIMIT_PER_HOUR of them an hour (`left`, when the caller counts);
    beyond it the refusal is audited, and free numbers get it too (`_check_not_registered`,
    the import). The error's code says which: duplicate, duplicate_elsewhere, probe_limit.
    """
    if actor is None or Member.objects.visible_to(actor).filter(pk=existing.pk).exists():
        return ValidationError(
            _("This person is already registered in %(community)s."),
            code="duplicate",
            params={"community": existing.community.name, "member": existing.pk},
        )
    if (probe_answers_left(actor) if left is None else left) <= 0:
        return probe_refusal(
            actor=actor, masked=existing.id_number_masked, obj=existing, request=request
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REVEAL,
        obj=existing,
        request=request,
        detail={"probe": existing.id_number_masked},
    )
    return ValidationError(
        _(
            "This person is already registered in another area outside yours; ask the "
            "street or district office to transfer the record instead of creating a new one."
        ),
        code="duplicate_elsewhere",
    )


# -- Possible duplicates (可能重复) --------------------------------------------------------------
#
# Beyond the same document (which refuses): the same name and date of birth, the same phone,
# or the same name and workplace suggest one person registered twice (issue 14). Looked up
# across the registry; only a warning, since namesakes exist. What lies outside the user's
# area is told as a count and answered like the "already registered elsewhere" probe.

DUPLICATE_REASONS = {
    "name_birth": gettext_lazy("same name and date of birth"),
    "phone": gettext_lazy("same phone"),
    "name_workplace": gettext_lazy("same name and workplace"),
}
# The most candidates one check lists: enough to see a problem, bounded on any registry.
DUPLICATE_LIMIT = 20


def _duplicate_keys(data) -> dict:
    """The values a possible duplicate is matched on, from a member or a form's data."""
    get = (lambda name: getattr(data, name, None)) if isinstance(data, Member) else data.get
    name = (get("name") or "").strip()
    birth_date = get("birth_date")
    if not birth_date and get("id_number"):
        document_type = get("document_type") or Member.DocumentType.ID_CARD
        with contextlib.suppress(ValidationError):
            birth_date = documents.parse(document_type, get("id_number")).birth_date
    # Every hash the phone may be stored under: more than one while a key rotation is under
    # way (tongzhan.crypto), as `_check_not_registered` looks for the number.
    phone_hashes: tuple[str, ...] = ()
    if isinstance(data, Member) and data.phone_hash:
        phone_hashes = (data.phone_hash,)
        if lookup_has_aliases():
            phone_hashes = tuple(dict.fromkeys([data.phone_hash, *lookup_hashes(data.phone)]))
    else:
        with contextlib.suppress(ValidationError):
            phone = normalize_phone(get("phone"))
            phone_hashes = tuple(lookup_hashes(phone)) if phone else ()
    return {
        "name": name,
        "birth_date": birth_date,
        "phone_hashes": phone_hashes,
        "workplace": (get("workplace") or "").strip(),
    }


def _duplicate_reasons(keys: dict, member: Member) -> list[str]:
    reasons = []
    if keys["name"] and keys["name"] == member.name:
        if keys["birth_date"] and keys["birth_date"] == member.birth_date:
            reasons.append("name_birth")
        if keys["workplace"] and keys["workplace"] == member.workplace.strip():
            reasons.append("name_workplace")
    if member.phone_hash and member.phone_hash in keys["phone_hashes"]:
        reasons.append("phone")
    return reasons


def _duplicate_filter(many: list[dict]) -> models.Q | None:
    """Candidates for any of the `many` keys: a coarse filter by the index on name and date
    of birth and the phone's hash, one query for a whole chunk of roster rows; the reasons
    are then matched exactly."""
    names = {keys["name"] for keys in many if keys["name"]}
    births = {keys["birth_date"] for keys in many if keys["name"] and keys["birth_date"]}
    workplaces = {keys["workplace"] for keys in many if keys["name"] and keys["workplace"]}
    phones = {phone for keys in many for phone in keys["phone_hashes"]}
    wanted = models.Q()
    if names and (births or workplaces):
        wanted |= models.Q(name__in=names) & (
            models.Q(birth_date__in=births) | models.Q(workplace__in=workplaces)
        )
    if phones:
        wanted |= models.Q(phone_hash__in=phones)
    return wanted or None


def possible_duplicates_of_many(items: list, *, exclude=None) -> list[list[tuple[Member, list]]]:
    """`member_possible_duplicates` of each of `items` (members or dicts), in one query."""
    many = [_duplicate_keys(item) for item in items]
    wanted = _duplicate_filter(many)
    if wanted is None:
        return [[] for _item in items]
    candidates = (
        Member.objects.filter(wanted, merged_into__isnull=True)
        .select_related("community")
        .defer("id_number", "phone")
        .order_by("-pk")
    )
    excluded = {pk for pk in exclude or () if pk is not None}
    excluded |= {item.pk for item in items if isinstance(item, Member) and item.pk}
    if excluded:
        candidates = candidates.exclude(pk__in=excluded)
    # Each candidate under each of its keys, so a chunk of rows is matched without
    # comparing every row with every candidate.
    by_key: dict[tuple, list[Member]] = {}
    for member in candidates:
        by_key.setdefault(("name_birth", member.name, member.birth_date), []).append(member)
        by_key.setdefault(("phone", member.phone_hash), []).append(member)
        workplace = member.workplace.strip()
        by_key.setdefault(("name_workplace", member.name, workplace), []).append(member)
    found = []
    for keys in many:
        seen: dict[int, Member] = {}
        for key in (
            ("name_birth", keys["name"], keys["birth_date"]),
            *(("phone", phone) for phone in keys["phone_hashes"]),
            ("name_workplace", keys["name"], keys["workplace"]),
        ):
            for member in by_key.get(key, ()) if all(key[1:]) else ():
                seen.setdefault(member.pk, member)
        pairs = [
            (member, _duplicate_reasons(keys, member))
            for member in sorted(seen.values(), key=lambda member: -member.pk)
        ]
        found.append(pairs[:DUPLICATE_LIMIT])
    return found


def member_possible_duplicates(member_or_data, *, exclude=None) -> list[tuple[Member, list]]:
    """Registered people who may be the person `member_or_data` describes (a member, or the
    fields a form or a roster row gives), across the whole registry, with the reasons
    (keys of DUPLICATE_REASONS): (member, reasons), at most DUPLICATE_LIMIT, newest first.

    A member is never its own duplicate: a saved one, and `exclude` (pks), are left out.
    """
    return possible_duplicates_of_many([member_or_data], exclude=exclude)[0]


# What the district's list of possible duplicates groups members by, for each reason.
DUPLICATE_GROUPS = {
    "name_birth": (("name", "birth_date"), models.Q(birth_date__isnull=False)),
    "phone": (("phone_hash",), ~models.Q(phone_hash="")),
    "name_workplace": (("name", "workplace"), ~models.Q(workplace="")),
}


def possible_duplicate_pairs(members) -> list[tuple[int, int, list[str]]]:
    """Every two of `members` (a queryset: the user's area) that may be one person, as
    (older pk, newer pk, reasons), the latest registered pair first.

    Only members sharing a key are read, grouped by the database: the registry is not
    scanned row by row in Python.
    """
    reasons_of: dict[tuple[int, int], list[str]] = {}
    for reason, (fields, condition) in DUPLICATE_GROUPS.items():
        candidates = members.filter(condition)
        twins = candidates.filter(**{name: models.OuterRef(name) for name in fields}).exclude(
            pk=models.OuterRef("pk")
        )
        groups: dict[tuple, list[int]] = {}
        for *key, pk in (
            candidates.filter(models.Exists(twins)).order_by("pk").values_list(*fields, "pk")
        ):
            groups.setdefault(tuple(key), []).append(pk)
        for pks in groups.values():
            for index, older in enumerate(pks):
                for newer in pks[index + 1 :]:
                    reasons_of.setdefault((older, newer), []).append(reason)
    return sorted(
        ((older, newer, reasons) for (older, newer), reasons in reasons_of.items()),
        key=lambda pair: (-pair[1], -pair[0]),
    )


@dataclasses.dataclass
class DuplicateWarning:
    """What a user is told of possible duplicates: those in their area by name, those
    outside it as a count (`elsewhere`)."""

    inside: list = dataclasses.field(default_factory=list)  # (member, reasons)
    elsewhere: int = 0

    def __bool__(self) -> bool:
        return bool(self.inside or self.elsewhere)


def duplicate_reasons_text(reasons) -> str:
    return "、".join(str(DUPLICATE_REASONS[reason]) for reason in reasons)


def elsewhere_text(count: int) -> str:
    return ngettext(
        "%(count)s more record may be the same person: ask the district united front "
        "department to check it.",
        "%(count)s more records may be the same person: ask the district united front "
        "department to check them.",
        count,
    ) % {"count": count}


def member_duplicates_warning(
    *, actor, member_or_data, exclude=None, left=None, request=None
) -> DuplicateWarning:
    """The possible duplicates of `member_or_data` as `actor` may be told of them.

    Within the actor's area each record is named. Outside it only their number is said, and
    that answer is a probe like `registered_error`'s: audited (the members' ids, nothing
    shown), counted against MEMBER_PROBE_LIMIT_PER_HOUR (`left`, when the caller counts).
    Past the limit nothing of the outside is said, as if there were nothing (a note shown
    only then would answer the question), and the refusal is audited.
    """
    found = member_possible_duplicates(member_or_data, exclude=exclude)
    return duplicates_warnings(actor=actor, found=[found], left=left, request=request)[0]


def duplicates_warnings(*, actor, found: list, left=None, request=None, audit_origin=None):
    """`member_duplicates_warning` for each list of `possible_duplicates_of_many`; `left` is
    the probe answers left, counted down as each outside answer is given."""
    if actor is None:
        return [DuplicateWarning(inside=pairs) for pairs in found]
    visible = set(
        Member.objects.visible_to(actor)
        .filter(pk__in={member.pk for pairs in found for member, _reasons in pairs})
        .values_list("pk", flat=True)
    )
    if left is None:
        left = probe_answers_left(actor)
    warnings = []
    for pairs in found:
        warning = DuplicateWarning(inside=[pair for pair in pairs if pair[0].pk in visible])
        warnings.append(warning)
        outside = [member.pk for member, _reasons in pairs if member.pk not in visible]
        if not outside:
            continue
        answered = left > 0
        audit_record(
            actor=actor,
            action=AuditEvent.Action.REVEAL,
            request=request,
            **(audit_origin or {}),
            detail={"probe": "possible_duplicate", "members": outside},
            outcome=None if answered else AuditEvent.Outcome.REFUSED,
        )
        if answered:
            left -= 1
            warning.elsewhere = len(outside)
    return warnings


NO_VERSION_ACTIONS = (
    MemberChange.Action.TRANSFER_REQUEST,
    MemberChange.Action.TRANSFER_DECLINE,
    MemberChange.Action.TRANSFER_WITHDRAW,
)


def _changed_meanwhile(
    stored: Member, stored_categories: list, data: dict, version: int
) -> MemberChanged:
    """The refusal of a form opened at `version`: what the writes since then changed, with
    the stored value and the form's."""
    # Writes on one member are serialised by its row lock, so ids give their order.
    since = (
        MemberChange.objects.filter(member=stored)
        # The steps of a transfer that change no field raise no version.
        .exclude(action__in=NO_VERSION_ACTIONS)
        .select_related("actor")
        .order_by("-id")
    )
    since = list(since[: max(stored.version - version, 0)])
    changed = {row["field"] for change in since for row in change.changes}
    theirs = snapshot(stored, stored_categories)
    mine = copy.copy(stored)
    categories = _apply(mine, data)
    for name, setter in (("id_number", mine.set_id_number), ("phone", mine.set_phone)):
        if name in data:
            # An invalid value is reported when the form is saved again.
            with contextlib.suppress(ValidationError):
                setter(data[name])
    yours = snapshot(mine, categories if categories is not None else stored_categories)
    latest = since[0] if since else None
    messages = [
        _(
            "%(who)s saved this member at %(time)s, after you opened the form; nothing of "
            "yours was saved. Compare the values below, correct the form where needed and "
            "save again."
        )
        % {
            "who": (latest.actor.get_full_name() or latest.actor.username)
            if latest and latest.actor
            else _("Someone else"),
            "time": timezone.localtime(latest.at).strftime("%Y-%m-%d %H:%M") if latest else "-",
        }
    ]
    labels = _history_labels()
    empty = _("(empty)")
    for name in theirs:
        if name in changed and theirs[name] != yours[name]:
            messages.append(
                _("%(field)s: saved meanwhile “%(theirs)s”, in your form “%(yours)s”.")
                % {
                    "field": labels[name],
                    "theirs": theirs[name] or empty,
                    "yours": yours[name] or empty,
                }
            )
    return MemberChanged(messages, version=stored.version)


def member_check_version(*, member: Member, data: dict, version: int | None) -> None:
    """`member_update`'s refusal of a stale form, for a form that shows it while validating
    (the admin, which cannot show a refusal once it saves); the update checks again under
    the row lock."""
    stored = Member.objects.get(pk=member.pk)
    if version is not None and version != stored.version:
        raise _changed_meanwhile(stored, list(stored.categories.all()), data, version)


def _history_labels() -> dict:
    return {name: Member._meta.get_field(name).verbose_name for name in history_fields()}


def _check_editable(actor, member: Member) -> None:
    if actor is not None and not Member.objects.editable_by(actor).filter(pk=member.pk).exists():
        raise PermissionDenied


def _record(
    *, actor, member, action, changes, source, request=None, detail=None, audit_action=None
):
    """The member's history line and its audit line; `audit_action` when the audit names the
    event more exactly than the history's action (a relative added is a creation)."""
    MemberChange.objects.create(
        member=member, actor=actor, action=action, source=source, changes=changes
    )
    audit_record(
        actor=actor,
        action=audit_action
        or {
            MemberChange.Action.CREATE: AuditEvent.Action.CREATE,
            MemberChange.Action.UPDATE: AuditEvent.Action.UPDATE,
            MemberChange.Action.STATUS: AuditEvent.Action.STATUS,
            MemberChange.Action.TRANSFER: AuditEvent.Action.TRANSFER,
            MemberChange.Action.TRANSFER_REQUEST: AuditEvent.Action.TRANSFER,
            MemberChange.Action.TRANSFER_DECLINE: AuditEvent.Action.TRANSFER,
            MemberChange.Action.TRANSFER_WITHDRAW: AuditEvent.Action.TRANSFER,
            MemberChange.Action.MERGE: AuditEvent.Action.UPDATE,
            MemberChange.Action.MERGE_UNDO: AuditEvent.Action.UPDATE,
            MemberChange.Action.NOMINATION: AuditEvent.Action.UPDATE,
        }[action],
        obj=member,
        request=request,
        detail=detail or {"fields": [change["field"] for change in changes], "source": source},
    )


def _apply(member: Member, data: dict) -> list:
    categories = data.get("categories")
    for name, value in data.items():
        if name == "categories":
            continue
        if name == "id_number":
            member.id_number = value
        elif name == "name":
            # A name sprinkled with characters that show nothing is the same person's name.
            member.name = plain_name(value)
        elif name == "phone":
            member.phone = value
        else:
            setattr(member, name, value)
    return categories


def member_create(*, actor, data: dict, source: str = "", request=None) -> Member:
    """Register a person. `data` holds model field values and `categories`."""
    # A command loading records kept before the registry (actor None: the demo, fixtures) may
    # register a representative; a page or an import nominates (凡进必评).
    if data.get("is_representative") and actor is not None:
        raise ValidationError(
            {
                "is_representative": _(
                    "A new member is nominated first, not registered as a representative."
                )
            }
        )
    member = Member()
    _apply(member, data)
    if actor is not None and not _may_write_in(actor, member.community):
        raise PermissionDenied
    # Before the transaction: the audit line of an answer about a person outside the actor's
    # area stays when the registration is refused.
    _check_not_registered(actor=actor, data=data, member=None, request=request)
    with transaction.atomic():
        _check_current(community=member.community_id, grid=member.grid_id)
        categories = _checked_categories(data, None)
        member.incomplete = member.misses_category_fields([c.slug for c in categories])
        _full_clean(member, data=data, stored=None)
        member.save()
        member.categories.set(categories)
        _record(
            actor=actor,
            member=member,
            action=MemberChange.Action.CREATE,
            changes=registration_changes(member),
            source=source,
            request=request,
        )
        tally_apply(tally_keys(member, categories))
    return member


def _full_clean(member: Member, *, data: dict, stored: Member | None) -> None:
    """`Member.full_clean` and the notice's rule of the write, their messages together."""
    errors: dict = {}
    try:
        member_check_informing(data=data, member=stored)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        member.full_clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _check_current(**areas) -> None:
    """Refuse an area retired (撤并, 撤销) given for these fields (name: area id or None).
    Locked, in the order given (a community before its grids, as a community's merge or
    split locks them): a merge running meanwhile either waits for this write, and moves
    what it wrote, or ends first, and the write is refused."""
    for field, pk in areas.items():
        area = Area.objects.select_for_update().filter(pk=pk).first() if pk else None
        if area is not None and area.is_retired:
            raise ValidationError({field: _("%(area)s is retired.") % {"area": area.name}})


def _stored_tally_keys(member: Member, moving_to: Area | None = None) -> Counter:
    """The tallies the member counts in as stored, before a write changes them; the stored
    member and categories ride along as `.stored` and `.categories`. `moving_to`: the
    community the write moves her to."""
    # Her communities first, then her: the order in which a merge or split of a community
    # locks them (the area, then its members), so the two wait for each other instead of
    # deadlocking; in the order of their ids, as `tally_apply` takes them, so two moves in
    # opposite directions wait too. Locked until commit, so a concurrent write on the member
    # starts from this one's result.
    communities = Area.objects.filter(
        models.Q(pk__in=Member.objects.filter(pk=member.pk).values("community_id"))
        | models.Q(pk=moving_to.pk if moving_to else None)
    )
    list(communities.select_for_update().order_by("pk").values_list("pk", flat=True))
    stored = Member.objects.select_for_update().defer("id_number", "phone").get(pk=member.pk)
    categories = list(stored.categories.all())
    keys = tally_keys(stored, categories)
    keys.stored, keys.categories = stored, categories
    return keys


def _tally_keys_written(counted: Counter, **values) -> Counter:
    """The tallies of the row `_stored_tally_keys` locked, once `values` are written to it.

    From that row, not from the caller's instance: one read before another write (a visit's
    last contact, an import) would count what that write changed at its old value.
    """
    stored = counted.stored
    for name, value in values.items():
        setattr(stored, name, value)
    return tally_keys(stored, counted.categories)


def _tally_keys_now(member: Member) -> Counter:
    return tally_keys(member, list(member.categories.all()))


def member_update(
    *,
    actor,
    member: Member,
    data: dict,
    version: int | None = None,
    source: str = "",
    request=None,
) -> Member:
    """Change a member's fields; only what really changed enters the history.

    `version` is the member's version when the form was opened: a member written since is
    not overwritten (`MemberChanged`). Writes without a form (imports, commands) leave it out.
    The representative flag is not among them: `representative_set` alone writes it.
    """
    if "is_representative" in data:
        raise ValidationError(
            {
                "is_representative": _(
                    "A member becomes a representative through an admission evaluation and "
                    "the district's decision, not by editing the record."
                )
            }
        )
    return _member_write(
        actor=actor, member=member, data=data, version=version, source=source, request=request
    )


def _member_write(*, actor, member, data, version=None, source="", request=None) -> Member:
    _check_editable(actor, member)
    if DOCUMENT_FIELDS & data.keys():
        # Before the transaction, as in `member_create`.
        _check_not_registered(actor=actor, data=data, member=member, request=request)
    with transaction.atomic():
        counted = _stored_tally_keys(member)
        stored = counted.stored
        if version is not None and version != stored.version:
            raise _changed_meanwhile(stored, counted.categories, data, version)
        if "community" in data and data["community"] != stored.community:
            raise ValidationError({"community": _("Use a transfer to move a member.")})
        before = snapshot(stored, counted.categories)
        categories = _checked_categories(data, stored)
        # Only `data` is written: every other field comes from the row as locked, so an
        # instance read before another write (a status change, a visit's last contact, a
        # transfer) cannot undo it.
        fresh = Member.objects.get(pk=member.pk)
        for field in Member._meta.concrete_fields:
            if field.name not in data:
                setattr(member, field.attname, getattr(fresh, field.attname))
        _apply(member, data)
        kept = categories if categories is not None else counted.categories
        member.incomplete = member.misses_category_fields([c.slug for c in kept])
        _full_clean(member, data=data, stored=stored)
        changes = changes_between(before, snapshot(member, kept))
        member.version = stored.version + 1 if changes else stored.version
        member.save()
        if categories is not None:
            member.categories.set(categories)
        if changes:
            _record(
                actor=actor,
                member=member,
                action=MemberChange.Action.UPDATE,
                changes=changes,
                source=source,
                request=request,
            )
            tally_apply(tally_change(counted, _tally_keys_now(member)))
    return member


@transaction.atomic
def member_set_status(
    *, actor, member: Member, status: str, date: datetime.date, reason: str, request=None
) -> Member:
    """动态管理: record that a member moved out, died or withdrew, or is registered again."""
    _check_editable(actor, member)
    if status not in Member.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status != Member.Status.ACTIVE and not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the change.")})
    # The status, the flag and the register change together, or not at all.
    with transaction.atomic():
        before = snapshot(member)
        counted = _stored_tally_keys(member)
        member.status, member.status_date, member.status_reason = status, date, reason.strip()
        member.version = counted.stored.version + 1
        member.full_clean()
        member.save(
            update_fields=["status", "status_date", "status_reason", "version", "updated_at"]
        )
        _record(
            actor=actor,
            member=member,
            action=MemberChange.Action.STATUS,
            changes=changes_between(before, snapshot(member)),
            source="",
            request=request,
        )
        if status != Member.Status.ACTIVE and counted.stored.is_representative:
            # 有进有出: who leaves the registry leaves the representatives, in the register too.
            representative_set(
                actor=actor,
                member=member,
                value=False,
                date=date,
                reason=_history_text(
                    gettext_lazy("%(status)s: %(reason)s"),
                    status=Member.Status(status).label,
                    reason=reason.strip(),
                ),
                request=request,
            )
        if status != Member.Status.ACTIVE:
            # Nobody can receive a member who has left the registry (去世/迁出/退出).
            _withdraw_pending(
                actor=actor,
                member=member,
                reason=_history_text(
                    gettext_lazy("The member's status became %(status)s."),
                    status=Member.Status(member.status).label,
                ),
                request=request,
            )
        tally_apply(
            tally_change(
                counted,
                _tally_keys_written(counted, status=member.status, status_date=member.status_date),
            )
        )
    return member


# -- Transfers (迁出 / 转入) -------------------------------------------------------------------
#
# The community keeping a member asks for her transfer (`transfer_request`); she stays there,
# in its lists and counts, until the receiving community accepts (`transfer_accept`, which
# moves her), declines, or the sender withdraws. Each step locks the member, then the
# transfer, and refuses a transfer that is no longer pending: of two clicks, the second is told.


def _history_text(text, **params) -> str:
    """A history line's source, in the registry's language as `snapshot` writes it, whatever
    the language of the user's interface: `text` and `params` lazy, translated here."""
    with translation.override(settings.LANGUAGE_CODE):
        return (str(text) % params)[:200]


def _may_receive(actor, community: Area) -> bool:
    """Whether `actor` may accept members into `community` (None: a command, everywhere)."""
    if actor is None:
        return True
    ids = receiving_area_ids(actor)
    return ids is None or community.pk in ids


def _locked(transfer: Transfer) -> tuple[Member, Transfer]:
    """The transfer's member and the transfer, locked in that order (as every writer of a
    member locks it first), the transfer still pending or refused."""
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    locked = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_community", "to_community", "requested_by")
        .get(pk=transfer.pk)
    )
    if not locked.is_pending:
        raise ValidationError(
            _("This transfer was already %(state)s; nothing was changed.")
            % {"state": locked.get_state_display()},
            code="decided",
        )
    return member, locked


def _check_grid(grid: Area | None, community: Area) -> None:
    if grid is not None and (grid.level != Area.Level.GRID or grid.parent_id != community.pk):
        raise ValidationError(
            {
                "grid": _("The grid %(grid)s does not belong to %(community)s.")
                % {"grid": grid, "community": community}
            }
        )


def _check_incoming(actor, transfer: Transfer) -> None:
    """Only the receiving community (or who may act for it) accepts or declines."""
    if actor is None:
        return
    if not Transfer.objects.incoming_for(actor).filter(pk=transfer.pk).exists():
        raise PermissionDenied


def _check_outgoing(actor, transfer: Transfer) -> None:
    """Only who may transfer the member withdraws her transfer."""
    if actor is None:
        return
    if not Transfer.objects.outgoing_for(actor).filter(pk=transfer.pk).exists():
        raise PermissionDenied


def _detail(transfer: Transfer, step: str, **more) -> dict:
    # Not its reason: that is hers, kept on the transfer (which retention clears), not in the
    # audit log, which is kept whole.
    return {"step": step, "transfer": transfer.pk, "to": transfer.to_community.code, **more}


def transfer_request(
    *,
    actor,
    member: Member,
    to_community: Area,
    to_grid: Area | None = None,
    reason: str,
    request=None,
) -> Transfer:
    """Ask for a member's transfer to another community (迁出); she stays until it is
    accepted. A requester who may also accept into that community (a district officer, an
    administrator over both, a command) has it accepted at once, both steps in the history."""
    if actor is not None and not actor.has_perm("members.transfer_member"):
        raise PermissionDenied
    if to_community.level != Area.Level.COMMUNITY:
        raise ValidationError({"to_community": _("Choose a community.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the transfer.")})
    _check_grid(to_grid, to_community)
    with transaction.atomic():
        # Before the member, as a merge of her community locks it and then its members.
        _check_current(to_community=to_community.pk, to_grid=to_grid.pk if to_grid else None)
        stored = Member.objects.select_for_update().get(pk=member.pk)
        _check_editable(actor, stored)
        if to_community.pk == stored.community_id:
            raise ValidationError({"to_community": _("The member is already in this community.")})
        if stored.status != Member.Status.ACTIVE:
            raise ValidationError(
                _("Only a registered member can be transferred; this one is %(status)s.")
                % {"status": stored.get_status_display()}
            )
        pending = stored.transfers.filter(state=Transfer.State.PENDING).first()
        if pending is not None:
            raise ValidationError(
                _("A transfer of this member to %(community)s is already awaiting acceptance.")
                % {"community": pending.to_community.name},
                code="pending",
            )
        transfer = Transfer.objects.create(
            member=stored,
            from_community=stored.community,
            to_community=to_community,
            to_grid=to_grid,
            reason=reason.strip(),
            requested_by=actor if actor is not None and actor.pk else None,
        )
        _record(
            actor=actor,
            member=stored,
            action=MemberChange.Action.TRANSFER_REQUEST,
            changes=[],
            source=_history_text(
                gettext_lazy("To %(community)s: %(reason)s"),
                community=to_community.name,
                reason=transfer.reason,
            ),
            request=request,
            detail=_detail(transfer, "request"),
        )
        if _may_receive(actor, to_community):
            _move(actor=actor, member=stored, transfer=transfer, grid=to_grid, request=request)
    if transfer.state == Transfer.State.ACCEPTED:
        # The caller's instance follows the move, as it would have followed a direct one.
        member.refresh_from_db(fields=["community", "grid", "version", "updated_at"])
    return transfer


# What other apps keep of a member that must follow her to her new community when a transfer
# is accepted (a need referred up to her old street: activities; her resources: resources),
# each a function called with actor, member, from_community, to_community and request, in
# the same transaction.
TRANSFER_FOLLOWERS: list = []


def transfer_follower_register(follow) -> None:
    """Called from an app's `AppConfig.ready`."""
    if follow not in TRANSFER_FOLLOWERS:
        TRANSFER_FOLLOWERS.append(follow)


def _move(*, actor, member: Member, transfer: Transfer, grid: Area | None, request) -> None:
    """Accept `transfer`: the member (locked) moves to its community, her tallies with her."""
    before = snapshot(member)
    counted = _stored_tally_keys(member, moving_to=transfer.to_community)
    member.community, member.grid = transfer.to_community, grid
    member.version = counted.stored.version + 1
    member.full_clean()
    member.save(update_fields=["community", "grid", "version", "updated_at"])
    transfer.state, transfer.to_grid = Transfer.State.ACCEPTED, grid
    transfer.decided_by = actor if actor is not None and actor.pk else None
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["state", "to_grid", "decided_by", "decided_at"])
    requester = transfer.requested_by
    _record(
        actor=actor,
        member=member,
        action=MemberChange.Action.TRANSFER,
        changes=changes_between(before, snapshot(member)),
        source=_history_text(
            gettext_lazy("Requested by %(requester)s: %(reason)s"),
            requester=(requester.get_full_name() or requester.username) if requester else "—",
            reason=transfer.reason,
        ),
        request=request,
        detail=_detail(transfer, "accept"),
    )
    tally_apply(
        tally_change(counted, _tally_keys_written(counted, community_id=member.community_id))
    )
    for follow in TRANSFER_FOLLOWERS:
        follow(
            actor=actor,
            member=member,
            from_community=transfer.from_community,
            to_community=transfer.to_community,
            request=request,
        )


def transfer_accept(
    *, actor, transfer: Transfer, grid: Area | None = None, request=None
) -> Transfer:
    """The receiving community accepts (转入): the member moves there, into `grid`."""
    _check_incoming(actor, transfer)
    with transaction.atomic():
        # Both communities before the member, in id order: as a merge of either locks it and
        # then its members, and as the tallies take them.
        list(
            Area.objects.filter(pk__in=[transfer.from_community_id, transfer.to_community_id])
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        member, locked = _locked(transfer)
        _check_grid(grid, locked.to_community)
        _move(actor=actor, member=member, transfer=locked, grid=grid, request=request)
    return locked


def transfer_decline(*, actor, transfer: Transfer, note: str, request=None) -> Transfer:
    """The receiving community declines (退回): the member stays where she is."""
    _check_incoming(actor, transfer)
    if not note.strip():
        raise ValidationError({"note": _("Say why the transfer is declined.")})
    with transaction.atomic():
        member, locked = _locked(transfer)
        _close(
            actor=actor,
            member=member,
            transfer=locked,
            state=Transfer.State.DECLINED,
            note=note.strip(),
            request=request,
        )
    return locked


def transfer_withdraw(*, actor, transfer: Transfer, request=None) -> Transfer:
    """The sending community withdraws its request (撤回)."""
    _check_outgoing(actor, transfer)
    with transaction.atomic():
        member, locked = _locked(transfer)
        _close(
            actor=actor,
            member=member,
            transfer=locked,
            state=Transfer.State.WITHDRAWN,
            note="",
            request=request,
        )
    return locked


def _close(*, actor, member: Member, transfer: Transfer, state: str, note: str, request) -> None:
    """End a pending transfer without moving the member: declined or withdrawn."""
    transfer.state, transfer.decision_note = state, note
    transfer.decided_by = actor if actor is not None and actor.pk else None
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["state", "decision_note", "decided_by", "decided_at"])
    declined = state == Transfer.State.DECLINED
    text = (
        gettext_lazy("To %(community)s: %(reason)s") if note else gettext_lazy("To %(community)s")
    )
    _record(
        actor=actor,
        member=member,
        action=(
            MemberChange.Action.TRANSFER_DECLINE
            if declined
            else MemberChange.Action.TRANSFER_WITHDRAW
        ),
        changes=[],
        source=_history_text(text, community=transfer.to_community.name, reason=note),
        request=request,
        detail=_detail(transfer, "decline" if declined else "withdraw", note=note),
    )


def _withdraw_pending(*, actor, member: Member, reason: str, request) -> None:
    """Withdraw the member's pending transfer, if any: she has left the registry."""
    pending = member.transfers.filter(state=Transfer.State.PENDING).first()
    if pending is None:
        return
    _member, locked = _locked(pending)
    _close(
        actor=actor,
        member=member,
        transfer=locked,
        state=Transfer.State.WITHDRAWN,
        note=reason,
        request=request,
    )


def _may_write_in(actor, community: Area | None) -> bool:
    """Whether `actor` may add a member to `community`: it must lie in their area."""
    if community is None or not actor.has_perm("members.add_member"):
        return community is None and actor.has_perm("members.add_member")
    return Area.objects.visible_to(actor).filter(pk=community.pk).exists()


# -- Tallies for the dashboards -----------------------------------------------------------------
#
# Each member counts once under each (community, dimension, value) `tally_keys` names. A write
# applies the difference between the member's keys before and after it (`tally_apply`), so
# keeping the tallies costs a few rows per save whatever the size of the community;
# `tally_refresh` recounts communities from scratch (`manage.py tally_rebuild`).


def _month(value) -> str:
    if isinstance(value, datetime.datetime):
        # Every member an import creates has the same time: its month is worked out once.
        return _local_month(value, timezone.get_current_timezone_name())
    return f"{value:%Y-%m}" if value else ""


@functools.lru_cache(maxsize=256)
def _local_month(value: datetime.datetime, zone: str) -> str:
    return f"{timezone.localtime(value):%Y-%m}"


def _value(value) -> str:
    return "" if value is None else str(value)


def tally_keys(member: Member, categories) -> Counter:
    """The tallies one member counts in; `categories` are the member's Category objects."""
    D = MemberTally.Dimension
    if member.merged_into_id:
        return Counter()  # one person, counted as the record kept
    community = member.community_id
    keys = [(community, D.JOINED, _month(member.created_at))]
    if member.status != Member.Status.ACTIVE:
        if member.status_date:
            keys.append((community, D.LEFT, _month(member.status_date)))
        return Counter(keys)
    keys += [
        (community, D.TOTAL, ""),
        (community, D.POLITICAL_STATUS, _value(member.political_status_id)),
        (community, D.ETHNICITY, _value(member.ethnicity_id)),
        (community, D.SEX, member.sex),
        (community, D.BIRTH_YEAR, _value(member.birth_date and member.birth_date.year)),
        (community, D.LAST_CONTACT, _month(member.last_contact_on)),
    ]
    keys += [(community, D.CATEGORY, str(category.pk)) for category in categories]
    if member.is_representative:
        keys.append((community, D.REPRESENTATIVE, ""))
    if member.incomplete:
        keys.append((community, D.INCOMPLETE, ""))
    if not member.informed_how:
        keys.append((community, D.NOT_INFORMED, ""))
    return Counter(keys)


def tally_apply(delta: dict) -> None:
    """Add `delta` ({(community id, dimension, value): change}) to the stored tallies.

    The communities are locked first, so concurrent writes in one community add up one
    after the other; a tally that reaches zero is removed, as a recount would not have it.
    """
    delta = {key: change for key, change in delta.items() if change}
    if not delta:
        return
    communities = sorted({community for community, _dimension, _value in delta})
    with transaction.atomic():
        list(
            Area.objects.select_for_update()
            .filter(pk__in=communities)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        stored = MemberTally.objects.filter(community_id__in=communities)
        if len(delta) <= 40:
            wanted = models.Q()
            for community, dimension, value in delta:
                wanted |= models.Q(community_id=community, dimension=dimension, value=value)
            stored = stored.filter(wanted)
        rows = {(row.community_id, row.dimension, row.value): row for row in stored}
        changed, created, emptied = [], [], []
        for key, change in delta.items():
            row = rows.get(key)
            if row is None:
                created.append(MemberTally(community_id=key[0], dimension=key[1], value=key[2]))
                row = created[-1]
                row.count = 0
            elif row.count + change:
                changed.append(row)
            else:
                emptied.append(row.pk)
            row.count += change
        if any(row.count < 0 for row in [*changed, *created]):
            raise ValueError(f"Tallies out of step with the members: {delta}")
        _tally_update(changed)
        MemberTally.objects.bulk_create(created, batch_size=1000)
        MemberTally.objects.filter(pk__in=emptied).delete()


def _tally_update(rows: list[MemberTally]) -> None:
    """Store the new counts of `rows`: on PostgreSQL one UPDATE from two arrays, where
    `bulk_update` built a CASE of one branch per row (an import of a district changes
    thousands of tallies, and building that statement took most of a second)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MemberTally.objects.bulk_update(rows, ["count"], batch_size=1000)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE members_membertally AS tally SET count = new.count "
            "FROM unnest(%s::bigint[], %s::integer[]) AS new(id, count) WHERE tally.id = new.id",
            [[row.pk for row in rows], [row.count for row in rows]],
        )


def tally_change(before: Counter, after: Counter) -> dict:
    return {key: after[key] - before[key] for key in before.keys() | after.keys()}


def _tally_counts(dimension: str, ids: list[int]):
    """(community id, value, count) of one dimension over the given communities, counted."""
    D = MemberTally.Dimension
    everyone = Member.objects.filter(community_id__in=ids, merged_into__isnull=True)
    active = everyone.filter(status=Member.Status.ACTIVE)
    if dimension == D.CATEGORY:
        rows = (
            MemberCategory.objects.filter(
                member__community_id__in=ids,
                member__status=Member.Status.ACTIVE,
                member__merged_into__isnull=True,
            )
            .values_list("member__community_id", "category_id")
            .annotate(n=Count("*"))
            .order_by()
        )
        return [(community, str(category), n) for community, category, n in rows]
    grouped = {
        D.TOTAL: (active, Value("")),
        D.REPRESENTATIVE: (active.filter(is_representative=True), Value("")),
        D.INCOMPLETE: (active.filter(incomplete=True), Value("")),
        D.NOT_INFORMED: (active.filter(informed_how=""), Value("")),
        D.POLITICAL_STATUS: (active, F("political_status_id")),
        D.ETHNICITY: (active, F("ethnicity_id")),
        D.SEX: (active, F("sex")),
        D.BIRTH_YEAR: (active, ExtractYear("birth_date")),
        D.LAST_CONTACT: (active, TruncMonth("last_contact_on")),
        D.JOINED: (everyone, TruncMonth("created_at")),
        D.LEFT: (
            everyone.exclude(status=Member.Status.ACTIVE).filter(status_date__isnull=False),
            TruncMonth("status_date"),
        ),
    }
    members, value = grouped[dimension]
    rows = (
        members.annotate(tally_value=value)
        .values_list("community_id", "tally_value")
        .annotate(n=Count("*"))
        .order_by()
    )
    if dimension in (D.LAST_CONTACT, D.JOINED, D.LEFT):
        return [(community, _month(month), n) for community, month, n in rows]
    return [(community, _value(value), n) for community, value, n in rows]


def completeness_refresh() -> int:
    """Set every member's `incomplete` flag from `Member.incomplete_q()`; the number changed."""
    condition = Member.incomplete_q()
    with transaction.atomic():
        changed = Member.objects.filter(condition).exclude(incomplete=True).update(incomplete=True)
        return changed + Member.objects.exclude(condition).filter(incomplete=True).update(
            incomplete=False
        )


def tally_refresh(*, communities) -> None:
    """Recount the dashboards' tallies of these communities (ids) from the members."""
    ids = sorted({pk for pk in communities if pk is not None})
    if not ids:
        return
    with transaction.atomic():
        list(Area.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        MemberTally.objects.filter(community_id__in=ids).delete()
        MemberTally.objects.bulk_create(
            [
                MemberTally(community_id=community, dimension=dimension, value=value, count=n)
                for (community, dimension, value), n in tally_counted(communities=ids).items()
            ],
            batch_size=5000,
        )


def tally_counted(*, communities) -> Counter:
    """What the tallies of these communities (ids) should hold, counted from the members:
    {(community id, dimension, value): count}."""
    ids = sorted({pk for pk in communities if pk is not None})
    return Counter(
        {
            (community, dimension, value): n
            for dimension in MemberTally.Dimension.values
            for community, value, n in _tally_counts(dimension, ids)
        }
    )


def tally_stored(*, communities) -> Counter:
    """What the tallies of these communities (ids) hold: {(community id, dimension, value):
    count}, as `tally_counted` gives it."""
    return Counter(
        {
            (community, dimension, value): n
            for community, dimension, value, n in MemberTally.objects.filter(
                community_id__in=list(communities)
            ).values_list("community_id", "dimension", "value", "count")
        }
    )


# -- ID photo ---------------------------------------------------------------------------------

# The stored name's extension comes from the checked type, not from the uploader's name.
PHOTO_NAMES = {"image/jpeg": "photo.jpg", "image/png": "photo.png"}
PHOTO_ON_FILE = gettext_lazy("ID photo on file")


def member_photo_set(*, actor, member: Member, upload, source: str = "", request=None) -> Member:
    """Give a member an ID photo (证件照) for the printed form, replacing an earlier one.

    A JPEG or PNG recognised by its bytes (`tongzhan.uploads.check_photo`); the history
    names the uploaded file, never the stored random name.
    """
    _check_editable(actor, member)
    try:
        file_type = check_photo(upload)
    except UploadRefused as refused:
        raise ValidationError({"photo": refused.message}) from None
    stored = []
    try:
        with transaction.atomic():
            locked = Member.objects.select_for_update().get(pk=member.pk)
            replaced, storage = locked.photo.name, locked.photo.storage
            locked.photo.save(PHOTO_NAMES[file_type.content_type], upload, save=False)
            stored.append(locked.photo.name)
            locked.save(update_fields=["photo", "updated_at"])
            _record(
                actor=actor,
                member=locked,
                action=MemberChange.Action.UPDATE,
                changes=[
                    {
                        "field": "photo",
                        "old": _history_text(PHOTO_ON_FILE) if replaced else "",
                        "new": upload.name[:200],
                    }
                ],
                source=source,
                request=request,
            )
            if replaced:
                # Only once committed: a rollback keeps the row pointing at the old file.
                transaction.on_commit(lambda: storage.delete(replaced))
    except BaseException:
        for name in stored:  # no row points at the new file
            storage.delete(name)
        raise
    member.photo = locked.photo
    return member


def member_photo_remove(*, actor, member: Member, source: str = "", request=None) -> Member:
    """Take a member's ID photo off; the stored file goes once the removal is committed."""
    _check_editable(actor, member)
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if not locked.photo:
            raise ValidationError({"photo": _("There is no photo to remove.")})
        removed, storage = locked.photo.name, locked.photo.storage
        locked.photo = ""
        locked.save(update_fields=["photo", "updated_at"])
        _record(
            actor=actor,
            member=locked,
            action=MemberChange.Action.UPDATE,
            changes=[{"field": "photo", "old": _history_text(PHOTO_ON_FILE), "new": ""}],
            source=source,
            request=request,
        )
        transaction.on_commit(lambda: storage.delete(removed))
    member.photo = locked.photo
    return member


# -- Relatives (亲属, issue 14) ------------------------------------------------------------------
#
# A relative belongs to the member's record: who may change the member may change them. The
# history line on the member says who the relative is, the contact masked as the phone is.

RELATIVE_FIELDS = (
    "name",
    "relation",
    "relation_other",
    "residence",
    "place",
    "contact",
    "notes",
    "linked_member",
)


def relative_summary(relative: Relative) -> str:
    """The relative as the member's history shows them: name, relation, where, contact masked;
    never the linked record (the history is read by people who may not see it)."""
    with translation.override(settings.LANGUAGE_CODE):
        where = relative.get_residence_display()
        parts = [relative.name, relative.relation_display, f"{where} {relative.place}".strip()]
        if relative.contact_masked:
            parts.append(relative.contact_masked)
        return " · ".join(parts)[:200]


def _relative_values(relative: Relative) -> dict:
    return {
        name: getattr(relative, Relative._meta.get_field(name).attname) for name in RELATIVE_FIELDS
    }


def _check_linkable(actor, relative: Relative, stored_link_id) -> None:
    """A member record may be linked only by who can see it; a link someone else made to a
    record outside the actor's area stays as it is (the form does not show it)."""
    link_id = relative.linked_member_id
    if link_id is None or link_id == stored_link_id or actor is None:
        return
    if not Member.objects.visible_to(actor).filter(pk=link_id).exists():
        raise ValidationError({"linked_member": _("Choose a member record from your area.")})


def _relative_record(*, actor, relative, old: str, new: str, action, source, request, fields):
    _record(
        actor=actor,
        member=relative.member,
        action=MemberChange.Action.UPDATE,
        changes=[{"field": "relatives", "old": old, "new": new}],
        source=source,
        request=request,
        detail={"relative": relative.pk, "fields": fields, "source": source},
        audit_action=action,
    )


def _relative_fields_only(data: dict) -> None:
    # Not `member`: a relative changes member only by being removed and added again there.
    unknown = set(data) - set(RELATIVE_FIELDS)
    if unknown:
        raise ValueError(f"not relative fields: {sorted(unknown)}")


def relative_add(*, actor, member: Member, data: dict, source: str = "", request=None) -> Relative:
    """Record a relative of `member`. `data` holds the relative's fields (`RELATIVE_FIELDS`)."""
    _relative_fields_only(data)
    _check_editable(actor, member)
    relative = Relative(member=member)
    for name, value in data.items():
        setattr(relative, name, value)
    _check_linkable(actor, relative, None)
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()
        relative.full_clean()
        relative.save()
        _relative_record(
            actor=actor,
            relative=relative,
            old="",
            new=relative_summary(relative),
            action=AuditEvent.Action.CREATE,
            source=source,
            request=request,
            fields=[name for name in RELATIVE_FIELDS if getattr(relative, name) not in ("", None)],
        )
    return relative


def relative_update(
    *, actor, relative: Relative, data: dict, source: str = "", request=None
) -> Relative:
    """Change a relative; an unchanged form writes nothing."""
    _relative_fields_only(data)
    _check_editable(actor, relative.member)
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=relative.member_id).first()
        stored = Relative.objects.select_for_update().get(pk=relative.pk)
        before, values = relative_summary(stored), _relative_values(stored)
        for name, value in data.items():
            setattr(stored, name, value)
        _check_linkable(actor, stored, values["linked_member"])
        stored.full_clean()
        after = _relative_values(stored)
        fields = [name for name in RELATIVE_FIELDS if values[name] != after[name]]
        if fields:
            stored.save()
            _relative_record(
                actor=actor,
                relative=stored,
                old=before,
                new=relative_summary(stored),
                action=AuditEvent.Action.UPDATE,
                source=source,
                request=request,
                fields=fields,
            )
    return stored


def relative_remove(*, actor, relative: Relative, source: str = "", request=None) -> None:
    """Take a relative off the member's record; the history keeps who they were."""
    _check_editable(actor, relative.member)
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=relative.member_id).first()
        stored = Relative.objects.filter(pk=relative.pk).first()
        if stored is None:
            raise ValidationError(_("This relative was removed meanwhile."))
        summary = relative_summary(stored)
        stored.delete()
        stored.pk = relative.pk
        _relative_record(
            actor=actor,
            relative=stored,
            old=summary,
            new="",
            action=AuditEvent.Action.DELETE,
            source=source,
            request=request,
            fields=[],
        )


# -- The representative's file: political arrangements and duty records (issue 18) ----------
#
# Like relatives, they belong to the member's record: who may change the member may record
# them, each write leaves a line in the member's history (under "arrangements" or "duties",
# what it was and what it is) and in the audit log, in one transaction with the member's row
# locked, so two writes on one member's file follow each other.

ARRANGEMENT_FIELDS = (
    "body",
    "organisation",
    "level",
    "post",
    "session",
    "term_from",
    "term_to",
    "state",
    "ended_on",
    "end_reason",
)
DUTY_FIELDS = (
    "kind",
    "date",
    "date_to",
    "title",
    "organisation",
    "arrangement",
    "outcome",
    "amount",
    "description",
)
HISTORY_CHARS = 200


def _day(value) -> str:
    return value.isoformat() if value else ""


def arrangement_summary(arrangement: PoliticalArrangement) -> str:
    """The arrangement as the member's history shows it: 区政协委员 · 第十七届 · 2021-12-01至
    2026-11-30 · 在任, or how it ended (取消 2024-05-01：reason)."""
    with translation.override(settings.LANGUAGE_CODE):
        parts = [arrangement.text]
        if arrangement.session:
            parts.append(arrangement.session)
        if arrangement.term_from or arrangement.term_to:
            parts.append(
                _("%(start)s to %(end)s")
                % {"start": _day(arrangement.term_from), "end": _day(arrangement.term_to)}
            )
        state = arrangement.get_state_display()
        if arrangement.ended_on:
            state = f"{state} {arrangement.ended_on.isoformat()}"
        if arrangement.end_reason:
            state = f"{state}：{arrangement.end_reason}"
        parts.append(state)
        return " · ".join(parts)[:HISTORY_CHARS]


def parsed_arrangements_summary(items) -> str:
    """Arrangements read from a roster's text, as the history line of an import names them:
    区政协委员（在任）、区人大代表（届满）."""
    with translation.override(settings.LANGUAGE_CODE):
        states = dict(PoliticalArrangement.State.choices)
        return "、".join(f"{item.text}（{states[item.state]}）" for item in items)[:HISTORY_CHARS]


def duty_summary(duty: DutyRecord) -> str:
    """The duty record as the member's history shows it: 2026-03-02 · 提案 · title · 已立案."""
    with translation.override(settings.LANGUAGE_CODE):
        when = _day(duty.date)
        if duty.date_to:
            when = _("%(start)s to %(end)s") % {"start": when, "end": _day(duty.date_to)}
        parts = [when, duty.get_kind_display(), duty.title]
        if duty.outcome:
            parts.append(duty.get_outcome_display())
        if duty.amount is not None:
            parts.append(_("%(amount)s yuan") % {"amount": duty.amount_text})
        return " · ".join(parts)[:HISTORY_CHARS]


def _values_of(record, names) -> dict:
    return {name: getattr(record, record._meta.get_field(name).attname) for name in names}


def _fields_only(data: dict, names, what: str) -> None:
    # Not `member`: a record changes member only by being removed and added again there.
    unknown = set(data) - set(names)
    if unknown:
        raise ValueError(f"not {what} fields: {sorted(unknown)}")


def _file_record(*, actor, record, key: str, field: str, old, new, action, source, request, fields):
    """The member's history line and the audit line of a change to a record of her file."""
    _record(
        actor=actor,
        member=record.member,
        action=MemberChange.Action.UPDATE,
        changes=[{"field": field, "old": old, "new": new}],
        source=source,
        request=request,
        detail={key: record.pk, "fields": fields, "source": source},
        audit_action=action,
    )


def _lock_member(member_id: int) -> None:
    Member.objects.select_for_update().filter(pk=member_id).first()


def _file_add(*, actor, row, data: dict, fields, key: str, field: str, summary, source, request):
    """Add `row` (a new arrangement or duty record of its member) with `data` of `fields`: the
    member locked, the row checked and saved, the history and audit lines written."""
    _fields_only(data, fields, key)
    _check_editable(actor, row.member)
    for name, value in data.items():
        setattr(row, name, value)
    with transaction.atomic():
        _lock_member(row.member_id)
        row.full_clean()
        row.save()
        _file_record(
            actor=actor,
            record=row,
            key=key,
            field=field,
            old="",
            new=summary(row),
            action=AuditEvent.Action.CREATE,
            source=source,
            request=request,
            fields=[n for n in fields if getattr(row, n) not in ("", None)],
        )
    return row


def _stored(row, removed_meanwhile: str):
    """`row` as stored, locked with its member; refused if it was removed meanwhile."""
    _lock_member(row.member_id)
    stored = type(row).objects.select_for_update().filter(pk=row.pk).first()
    if stored is None:
        raise ValidationError(removed_meanwhile)
    return stored


def arrangement_add(
    *, actor, member: Member, data: dict, source: str = "", request=None
) -> PoliticalArrangement:
    """Record a political arrangement of `member` (`ARRANGEMENT_FIELDS`); in office unless
    `data` says otherwise (an earlier term, entered for the file)."""
    return _file_add(
        actor=actor, row=PoliticalArrangement(member=member), data=data,
        fields=ARRANGEMENT_FIELDS, key="arrangement", field="arrangements",
        summary=arrangement_summary, source=source, request=request,
    )  # fmt: skip


def _stored_arrangement(arrangement: PoliticalArrangement) -> PoliticalArrangement:
    return _stored(arrangement, _("This political arrangement was removed meanwhile."))


def _arrangement_write(*, actor, arrangement, data, source, request):
    """Write `data` (a dict, or a function of the stored arrangement giving one) over the
    arrangement as stored, locked."""
    _check_editable(actor, arrangement.member)
    with transaction.atomic():
        stored = _stored_arrangement(arrangement)
        before, values = arrangement_summary(stored), _values_of(stored, ARRANGEMENT_FIELDS)
        if callable(data):
            data = data(stored)
        for name, value in data.items():
            setattr(stored, name, value)
        stored.full_clean()
        after = _values_of(stored, ARRANGEMENT_FIELDS)
        fields = [name for name in ARRANGEMENT_FIELDS if values[name] != after[name]]
        if fields:
            stored.save()
            _file_record(
                actor=actor,
                record=stored,
                key="arrangement",
                field="arrangements",
                old=before,
                new=arrangement_summary(stored),
                action=AuditEvent.Action.UPDATE,
                source=source,
                request=request,
                fields=fields,
            )
    return stored


def arrangement_update(
    *, actor, arrangement: PoliticalArrangement, data: dict, source: str = "", request=None
) -> PoliticalArrangement:
    """Change an arrangement (a correction, or its state); an unchanged form writes nothing."""
    _fields_only(data, ARRANGEMENT_FIELDS, "arrangement")
    return _arrangement_write(
        actor=actor, arrangement=arrangement, data=data, source=source, request=request
    )


def arrangement_end(
    *,
    actor,
    arrangement: PoliticalArrangement,
    state: str,
    ended_on: datetime.date | None,
    reason: str = "",
    source: str = "",
    request=None,
) -> PoliticalArrangement:
    """End an arrangement in office: its term ran out (届满; on the term's last day unless
    `ended_on` says when), or it was cancelled (取消), which needs the day and the reason."""
    if state not in (PoliticalArrangement.State.ENDED, PoliticalArrangement.State.CANCELLED):
        raise ValidationError({"state": _("Choose how it ended.")})

    def ending(stored: PoliticalArrangement) -> dict:
        if not stored.in_office:
            raise ValidationError(_("This political arrangement has already ended."))
        day = ended_on
        term_over = stored.term_to and stored.term_to <= timezone.localdate()
        if day is None and state == PoliticalArrangement.State.ENDED and term_over:
            day = stored.term_to
        return {"state": state, "ended_on": day, "end_reason": reason.strip()}

    return _arrangement_write(
        actor=actor, arrangement=arrangement, data=ending, source=source, request=request
    )


def arrangement_remove(
    *, actor, arrangement: PoliticalArrangement, source: str = "", request=None
) -> None:
    """Take an arrangement recorded by mistake off the file; the history keeps what it was.
    One that ended is ended, not removed: it stays part of the member's file."""
    _check_editable(actor, arrangement.member)
    with transaction.atomic():
        stored = _stored_arrangement(arrangement)
        if stored.duties.exists():
            raise ValidationError(
                _(
                    "Duty records name this political arrangement: change them first, or end "
                    "the arrangement instead."
                )
            )
        summary = arrangement_summary(stored)
        stored.delete()
        stored.pk = arrangement.pk
        _file_record(
            actor=actor,
            record=stored,
            key="arrangement",
            field="arrangements",
            old=summary,
            new="",
            action=AuditEvent.Action.DELETE,
            source=source,
            request=request,
            fields=[],
        )


def duty_add(*, actor, member: Member, data: dict, source: str = "", request=None) -> DutyRecord:
    """Record an entry of `member`'s duty record (`DUTY_FIELDS`)."""
    return _file_add(
        actor=actor, row=DutyRecord(member=member), data=data, fields=DUTY_FIELDS,
        key="duty", field="duties", summary=duty_summary, source=source, request=request,
    )  # fmt: skip


def _stored_duty(duty: DutyRecord) -> DutyRecord:
    return _stored(duty, _("This duty record was removed meanwhile."))


def duty_update(
    *, actor, duty: DutyRecord, data: dict, source: str = "", request=None
) -> DutyRecord:
    """Change a duty record; an unchanged form writes nothing."""
    _fields_only(data, DUTY_FIELDS, "duty record")
    _check_editable(actor, duty.member)
    with transaction.atomic():
        stored = _stored_duty(duty)
        before, values = duty_summary(stored), _values_of(stored, DUTY_FIELDS)
        for name, value in data.items():
            setattr(stored, name, value)
        stored.full_clean()
        after = _values_of(stored, DUTY_FIELDS)
        fields = [name for name in DUTY_FIELDS if values[name] != after[name]]
        if fields:
            stored.save()
            _file_record(
                actor=actor,
                record=stored,
                key="duty",
                field="duties",
                old=before,
                new=duty_summary(stored),
                action=AuditEvent.Action.UPDATE,
                source=source,
                request=request,
                fields=fields,
            )
    return stored


def duty_remove(*, actor, duty: DutyRecord, source: str = "", request=None) -> None:
    """Take a duty record off the file; the history keeps what it was."""
    _check_editable(actor, duty.member)
    with transaction.atomic():
        stored = _stored_duty(duty)
        summary = duty_summary(stored)
        stored.delete()
        stored.pk = duty.pk
        _file_record(
            actor=actor,
            record=stored,
            key="duty",
            field="duties",
            old=summary,
            new="",
            action=AuditEvent.Action.DELETE,
            source=source,
            request=request,
            fields=[],
        )


def arrangements_text(arrangements, other: str = "") -> str:
    """The roster's 社会职务/政治安排 cell: the arrangements in office as rosters write them,
    then the other positions, apart by "、"; the import reads it back into the same rows."""
    texts = [a.text for a in arrangements if a.in_office]
    return "、".join(dict.fromkeys([*texts, *([other] if other else [])]))


# -- Areas merged (撤并) -------------------------------------------------------------------------


def area_members_count(area: Area) -> int:
    """The members who move when `area` (a community or a grid) is merged into another."""
    return Member.objects.filter(models.Q(community=area) | models.Q(grid=area)).count()


def _members_by_address(area: Area, words: list[str]):
    """The members kept in the community `area` whose address holds one of `words`."""
    held = models.Q()
    for word in words:
        held |= models.Q(address__contains=word)
    return Member.objects.filter(held, community=area) if words else Member.objects.none()


def area_members_by_address_count(area: Area, words: list[str], grids=()) -> int:
    """The members a split of `area` would take by their address, beside those of `grids`."""
    return _members_by_address(area, words).exclude(grid__in=list(grids)).count()


def area_members_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """Move the members of `source` into `target` (the area merged away, a community or a
    grid; or a grid going to a community split off its own), each with a history line;
    pending transfers from or to it follow; the dashboards' tallies of both communities are
    recounted. Called by `tongzhan.services.area_merge` / `area_split` in their transaction
    (registered as an `AreaMover`)."""
    if change == "split":
        text = _history_text(
            gettext_lazy("%(community)s split: %(grid)s went to %(target)s"),
            community=source.parent.name,
            grid=source.name,
            target=target.parent.name,
        )
    else:
        text = _history_text(
            gettext_lazy("%(source)s merged into %(target)s"),
            source=source.name,
            target=target.name,
        )
    members = Member.objects.filter(models.Q(community=source) | models.Q(grid=source))
    _members_move(actor, members, target, text, change, source, request)
    pending = Transfer.objects.filter(state=Transfer.State.PENDING)
    community = target if target.level == Area.Level.COMMUNITY else target.parent
    grid = target if target.level == Area.Level.GRID else None
    pending.filter(models.Q(to_community=source) | models.Q(to_grid=source)).update(
        to_community=community, to_grid=grid
    )


def area_members_by_address_move(*, actor, source: Area, target: Area, words, request=None):
    """Move the members of the community `source` whose address holds one of `words` to the
    community `target` split off it (no grid), each with a history line saying so."""
    text = _history_text(
        gettext_lazy("%(source)s split: went to %(target)s by address (%(words)s)"),
        source=source.name,
        target=target.name,
        words="、".join(words),
    )
    _members_move(actor, _members_by_address(source, words), target, text, "split", source, request)


def _members_move(actor, members, target: Area, text: str, step: str, source: Area, request):
    community = target if target.level == Area.Level.COMMUNITY else target.parent
    # A member of one of the source community's grids, which retire with it, keeps no grid.
    grid = target if target.level == Area.Level.GRID else None
    before_communities, moved = set(), []
    for member in members.select_for_update().order_by("pk"):
        before_communities.add(member.community_id)
        moved.append(member.pk)
        before = snapshot(member)
        member.community = community
        member.grid = grid
        member.version += 1
        member.save(update_fields=["community", "grid", "version", "updated_at"])
        _record(
            actor=actor,
            member=member,
            action=MemberChange.Action.TRANSFER,
            changes=changes_between(before, snapshot(member)),
            source=text,
            request=request,
            detail={"step": step, "from": source.code, "to": target.code},
        )
    # A pending transfer of a moved member now leaves from where she is kept.
    Transfer.objects.filter(state=Transfer.State.PENDING, member_id__in=moved).update(
        from_community=community
    )
    tally_refresh(communities=[*before_communities, community.pk])


# -- Two records of one person made one (合并重复记录, issue 14) ---------------------------------
#
# The district merges a possible duplicate into the record it keeps: the kept record's values
# win, its empty fields are filled from the other, the categories are united, the history of
# both is the kept record's, and what other apps hold of the merged record (activities, visits,
# needs, evaluations) is re-pointed by their `MemberMover`s, registered in their AppConfig.ready
# as members cannot import them. The merged record stays, marked `merged_into`, out of every
# list and count; the merge can be undone for MEMBER_MERGE_UNDO_DAYS.


@dataclasses.dataclass(frozen=True)
class MemberMover:
    """What one app re-points when two records of one person are merged.

    `key` names its part of `MemberMerge.moved`; `label` the records (plural, lazy);
    `count(member)` how many of `member`'s would move; `refusal(keep, merged)` why the two
    cannot be merged yet ("" if they can); `move(*, keep, merged)` re-points them to `keep` in
    the caller's transaction and returns (as JSON) what `undo(*, keep, merged, moved)` needs
    to put back what still points at `keep`.
    """

    key: str
    label: object
    count: Callable[[Member], int]
    move: Callable[..., object]
    undo: Callable[..., None]
    refusal: Callable[[Member, Member], str] | None = None


MEMBER_MOVERS: list[MemberMover] = []


def member_mover_register(mover: MemberMover) -> None:
    """Add an app's mover (from its AppConfig.ready); registering twice changes nothing."""
    if mover not in MEMBER_MOVERS:
        MEMBER_MOVERS.append(mover)


# The registry's own part of a merge: the merged record's relatives become the kept one's, and
# relatives elsewhere linked to the merged record link to the kept one (a link of the kept
# record's own relatives to the merged record, which would now link her to herself, is cut).


def member_relatives_count(member: Member) -> int:
    return member.relatives.count() + Relative.objects.filter(linked_member=member).count()


def member_relatives_move(*, keep: Member, merged: Member) -> dict:
    own = list(merged.relatives.values_list("pk", flat=True))
    Relative.objects.filter(pk__in=own).update(member=keep)
    cut = list(
        Relative.objects.filter(member=keep, linked_member=merged).values_list("pk", flat=True)
    )
    Relative.objects.filter(pk__in=cut).update(linked_member=None)
    linked = list(Relative.objects.filter(linked_member=merged).values_list("pk", flat=True))
    Relative.objects.filter(pk__in=linked).update(linked_member=keep)
    return {"own": own, "cut": cut, "linked": linked}


def member_relatives_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    Relative.objects.filter(pk__in=moved["own"], member=keep).update(member=merged)
    Relative.objects.filter(pk__in=moved["linked"], linked_member=keep).update(linked_member=merged)
    Relative.objects.filter(pk__in=moved["cut"], linked_member=None).update(linked_member=merged)


# The merged record's file (its political arrangements and duty records) becomes the kept
# record's; a seat both hold in office stays with the merged record (the kept one holds it
# already), and that record's duty records done in it name the kept record's seat.


def member_file_count(member: Member) -> int:
    return member.arrangements.count() + member.duties.count()


def member_file_move(*, keep: Member, merged: Member) -> dict:
    held = {a.key: a.pk for a in keep.arrangements.in_office()}
    stays = {a.pk: held[a.key] for a in merged.arrangements.in_office() if a.key in held}
    moved = list(merged.arrangements.exclude(pk__in=stays).values_list("pk", flat=True))
    PoliticalArrangement.objects.filter(pk__in=moved).update(member=keep)
    duties = list(merged.duties.values_list("pk", "arrangement_id"))
    DutyRecord.objects.filter(pk__in=[pk for pk, _a in duties]).update(member=keep)
    repointed = [[pk, arrangement] for pk, arrangement in duties if arrangement in stays]
    for pk, arrangement in repointed:
        DutyRecord.objects.filter(pk=pk).update(arrangement=stays[arrangement])
    return {"arrangements": moved, "duties": [pk for pk, _a in duties], "repointed": repointed}


def member_file_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    PoliticalArrangement.objects.filter(pk__in=moved["arrangements"], member=keep).update(
        member=merged
    )
    DutyRecord.objects.filter(pk__in=moved["duties"], member=keep).update(member=merged)
    for pk, arrangement in moved["repointed"]:
        DutyRecord.objects.filter(pk=pk, member=merged).update(arrangement=arrangement)
    # A duty record added to the kept record since, in a seat that now goes back, keeps its
    # entry without the seat rather than name another person's.
    DutyRecord.objects.filter(member=keep, arrangement__member=merged).update(arrangement=None)


def member_representative_count(member: Member) -> int:
    return member.nominations.count() + member.representative_changes.count()


def member_representative_refusal(keep: Member, merged: Member) -> str:
    """One person has at most one nomination awaiting its decision."""
    pending = Nomination.objects.filter(state=Nomination.State.PENDING)
    if pending.filter(member=keep).exists() and pending.filter(member=merged).exists():
        return _("Both records have a nomination awaiting its decision: decide one of them first.")
    return ""


def member_representative_move(*, keep: Member, merged: Member) -> dict:
    """A merged record's nominations and its rows of the register of entries and exits go
    to the kept record: they are the same person's."""
    nominations = list(merged.nominations.values_list("pk", flat=True))
    changes = list(merged.representative_changes.values_list("pk", flat=True))
    Nomination.objects.filter(pk__in=nominations).update(member=keep)
    RepresentativeChange.objects.filter(pk__in=changes).update(member=keep)
    return {"nominations": nominations, "changes": changes}


def member_representative_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    Nomination.objects.filter(pk__in=moved["nominations"], member=keep).update(member=merged)
    RepresentativeChange.objects.filter(pk__in=moved["changes"], member=keep).update(member=merged)


# Fields a merge never fills: who the person is and where the record is kept stay the kept
# record's; its life in the registry is its own.
MERGE_KEPT_FIELDS = frozenset(
    {
        "name",
        "document_type",
        "document_country",
        "id_number",
        "sex",
        "birth_date",
        "community",
        "grid",
        "categories",
        "status",
        "status_date",
        "status_reason",
    }
)


# Where a record is kept and what it is (united, or the kept record's by design): not values
# a merge leaves behind.
MERGE_PLACE_FIELDS = frozenset(
    {"community", "grid", "categories", "status", "status_date", "status_reason"}
)


def _empty(value) -> bool:
    return value in ("", None, False)


@dataclasses.dataclass
class MergePlan:
    """What merging `merged` into `keep` would do, for the confirmation page and the merge."""

    keep: Member
    merged: Member
    filled: list[str]  # fields of `keep` filled from `merged`
    # Fields both records hold with different values: `keep`'s stay, `merged`'s stay on it
    # (out of every list) and come back with an undo.
    dropped: list[str]
    categories_added: list  # Category objects
    history: int  # history entries of `merged` that move
    moves: list[tuple[str, int]]  # (label, count) of each app's records
    refusals: list[str]


def member_merge_plan(*, keep: Member, merged: Member) -> MergePlan:
    """What a merge of `merged` into `keep` fills, adds and moves, and why it cannot be done
    now (a pending transfer, an app's refusal)."""
    filled = [
        name
        for name in history_fields()
        if name not in MERGE_KEPT_FIELDS
        and _empty(getattr(keep, name))
        and not _empty(getattr(merged, name))
    ]
    dropped = [
        name
        for name in history_fields()
        if name not in MERGE_PLACE_FIELDS
        and not _empty(getattr(keep, name))
        and not _empty(getattr(merged, name))
        and getattr(keep, name) != getattr(merged, name)
    ]
    kept = set(keep.categories.values_list("pk", flat=True))
    added = [category for category in merged.categories.all() if category.pk not in kept]
    refusals = []
    for member in (keep, merged):
        if member.transfers.filter(state=Transfer.State.PENDING).exists():
            refusals.append(
                _("%(name)s has a transfer awaiting acceptance: settle it first.")
                % {"name": member.name}
            )
    refusals += [
        refusal
        for mover in MEMBER_MOVERS
        if mover.refusal is not None and (refusal := mover.refusal(keep, merged))
    ]
    return MergePlan(
        keep=keep,
        merged=merged,
        filled=filled,
        dropped=dropped,
        categories_added=added,
        history=merged.changes.count(),
        moves=[(str(mover.label), mover.count(merged)) for mover in MEMBER_MOVERS],
        refusals=refusals,
    )


def _check_mergeable(actor, members: list) -> None:
    if actor is None:
        return
    if not actor.has_perm("members.merge_member"):
        raise PermissionDenied
    editable = Member.objects.editable_by(actor).filter(pk__in=[m.pk for m in members]).count()
    if editable != len(members):
        raise PermissionDenied


def _locked_pair(keep: Member, merged: Member) -> tuple[Member, Member]:
    """Both records locked, in id order as every writer of several members locks them."""
    rows = {
        member.pk: member
        for member in Member.objects.select_for_update()
        .filter(pk__in=[keep.pk, merged.pk])
        .order_by("pk")
    }
    return rows[keep.pk], rows[merged.pk]


def _who(member: Member) -> dict:
    return {
        "name": member.name,
        "number": member.id_number_masked,
        "community": member.community.name,
    }


def member_merge(*, actor, keep: Member, merged: Member, request=None) -> MemberMerge:
    """Make `merged` part of `keep`: one person, one record (issue 14).

    `keep`'s values win; its empty fields are filled from `merged` (the history names each);
    the categories are united; `merged`'s history entries become `keep`'s and both get a
    merge entry; each app's records of `merged` are re-pointed (`MEMBER_MOVERS`); `merged`
    is marked `merged_into` and leaves every list and count; both communities' tallies are
    recounted. What moved is kept in a `MemberMerge`, to undo it (`member_merge_undo`).
    """
    if keep.pk == merged.pk:
        raise ValidationError(_("Choose two different records."))
    _check_mergeable(actor, [keep, merged])
    with transaction.atomic():
        keep, merged = _locked_pair(keep, merged)
        for member in (keep, merged):
            if member.merged_into_id:
                raise ValidationError(
                    _("%(name)s was merged into another record meanwhile; nothing was changed.")
                    % {"name": member.name}
                )
        plan = member_merge_plan(keep=keep, merged=merged)
        if plan.refusals:
            raise ValidationError(plan.refusals)
        categories = list(keep.categories.all())
        before = snapshot(keep, categories)
        for name in plan.filled:
            if name == "phone":
                keep.set_phone(merged.phone)
            else:
                setattr(keep, name, getattr(merged, name))
        united = categories + plan.categories_added
        slugs = member_check_categories(
            slugs=[category.slug for category in united],
            political_status=keep.political_status,
            ethnicity=keep.ethnicity,
        )
        united = [categories_by_slug()[slug] for slug in slugs]
        keep.incomplete = keep.misses_category_fields(slugs)
        keep.full_clean()
        keep.version += 1
        keep.save()
        keep.categories.set(united)
        changes_moved = list(merged.changes.values_list("pk", flat=True))
        MemberChange.objects.filter(pk__in=changes_moved).update(member=keep)
        moved = {mover.key: mover.move(keep=keep, merged=merged) for mover in MEMBER_MOVERS}
        merged.merged_into = keep
        merged.version += 1
        merged.save(update_fields=["merged_into", "version", "updated_at"])
        record = MemberMerge.objects.create(
            keep=keep,
            merged=merged,
            actor=actor if actor is not None and actor.pk else None,
            filled=plan.filled,
            categories_added=[category.pk for category in plan.categories_added],
            changes_moved=changes_moved,
            moved=moved,
            keep_version=keep.version,
            merged_version=merged.version,
        )
        detail = {"step": "merge", "merge": record.pk, "keep": keep.pk, "merged": merged.pk}
        _record(
            actor=actor,
            member=keep,
            action=MemberChange.Action.MERGE,
            changes=changes_between(before, snapshot(keep, united)),
            source=_history_text(
                gettext_lazy("%(name)s (%(number)s, %(community)s) merged into this record"),
                **_who(merged),
            ),
            request=request,
            detail={**detail, "filled": plan.filled},
        )
        _record(
            actor=actor,
            member=merged,
            action=MemberChange.Action.MERGE,
            changes=[],
            source=_history_text(
                gettext_lazy("Merged into %(name)s (%(number)s, %(community)s)"), **_who(keep)
            ),
            request=request,
            detail=detail,
        )
        tally_refresh(communities=[keep.community_id, merged.community_id])
    return record


def _empty_value(name: str):
    field = Member._meta.get_field(name)
    if field.null:
        return None
    return False if isinstance(field, models.BooleanField) else ""


def member_merge_undo(*, actor, merge: MemberMerge, request=None) -> MemberMerge:
    """Undo a merge: both records as they were, each with its own history and records.

    Refused after MEMBER_MERGE_UNDO_DAYS, and once either record was written since the merge
    (its version moved: an edit, a status change, a transfer), since the values to restore
    would overwrite that write. What was recorded on the kept record since the merge (a
    new activity, visit or need) stays with it: only what the merge moved goes back.
    """
    if actor is not None and not actor.has_perm("members.merge_member"):
        raise PermissionDenied
    with transaction.atomic():
        keep, merged = _locked_pair(merge.keep, merge.merged)
        _check_mergeable(actor, [keep])
        merge = MemberMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ValidationError(_("This merge was already undone; nothing was changed."))
        # The undo brings `merged` back too: it must lie in the actor's area as well (an
        # administrator may have merged another district's record into this one).
        if (
            actor is not None
            and not Member.objects.merged_away_visible_to(actor).filter(pk=merged.pk).exists()
        ):
            raise PermissionDenied
        days = settings.MEMBER_MERGE_UNDO_DAYS
        if timezone.now() - merge.at > datetime.timedelta(days=days):
            raise ValidationError(
                _("A merge can be undone within %(days)s days; this one is older.") % {"days": days}
            )
        changed = [
            m.name
            for m, version in ((keep, merge.keep_version), (merged, merge.merged_version))
            if m.version != version
        ]
        if changed:
            raise ValidationError(
                _(
                    "%(names)s changed since the merge, so undoing it would overwrite that "
                    "change: correct the record by hand instead."
                )
                % {"names": "、".join(changed)}
            )
        categories = list(keep.categories.all())
        before = snapshot(keep, categories)
        for name in merge.filled:
            if name == "phone":
                keep.set_phone("")
            else:
                setattr(keep, name, _empty_value(name))
        kept = [category for category in categories if category.pk not in merge.categories_added]
        keep.incomplete = keep.misses_category_fields([category.slug for category in kept])
        keep.version += 1
        keep.save()
        keep.categories.set(kept)
        MemberChange.objects.filter(pk__in=merge.changes_moved, member=keep).update(member=merged)
        # Registered again before the movers put its records back, as they were moved while it
        # was (the activities' contacts refresh counts registered records).
        merged.merged_into = None
        merged.version += 1
        merged.save(update_fields=["merged_into", "version", "updated_at"])
        tally_apply(_tally_keys_now(merged))
        for mover in MEMBER_MOVERS:
            if mover.key in merge.moved:
                mover.undo(keep=keep, merged=merged, moved=merge.moved[mover.key])
        merge.undone_at = timezone.now()
        merge.undone_by = actor if actor is not None and actor.pk else None
        merge.save(update_fields=["undone_at", "undone_by"])
        detail = {"step": "merge_undo", "merge": merge.pk, "keep": keep.pk, "merged": merged.pk}
        _record(
            actor=actor,
            member=keep,
            action=MemberChange.Action.MERGE_UNDO,
            changes=changes_between(before, snapshot(keep, kept)),
            source=_history_text(
                gettext_lazy("%(name)s (%(number)s, %(community)s) is a record of its own again"),
                **_who(merged),
            ),
            request=request,
            detail=detail,
        )
        _record(
            actor=actor,
            member=merged,
            action=MemberChange.Action.MERGE_UNDO,
            changes=[],
            source=_history_text(
                gettext_lazy("No longer merged into %(name)s (%(number)s, %(community)s)"),
                **_who(keep),
            ),
            request=request,
            detail=detail,
        )
        tally_refresh(communities=[keep.community_id, merged.community_id])
    return merge


# -- Recommendation eligibility withdrawn after an evaluation (取消推荐资格, issue 18) -----------
#
# The evaluation of representatives (`assessment`) calls these: it imports members, never the
# other way round, so the reason arrives as text and the rows to restore as the ones returned.


def arrangements_cancel(
    *, actor, member: Member, on: datetime.date, reason: str, source: str = "", request=None
) -> list[PoliticalArrangement]:
    """Cancel each arrangement `member` holds in office (取消) on `on` for `reason`, each with its
    line in her history; returns those cancelled."""
    return [
        arrangement_end(
            actor=actor,
            arrangement=arrangement,
            state=PoliticalArrangement.State.CANCELLED,
            ended_on=on,
            reason=reason[:200],
            source=source,
            request=request,
        )  # fmt: skip
        for arrangement in member.arrangements.in_office().order_by("pk")
    ]


def arrangements_restore(
    *, actor, arrangements, source: str = "", request=None
) -> tuple[list[PoliticalArrangement], list[PoliticalArrangement]]:
    """Put `arrangements` (cancelled by `arrangements_cancel`) back in office, each with its line
    in the history. Returns (restored, kept): one changed since (no longer cancelled), or whose
    seat the member holds again meanwhile, is kept as it is."""
    restored, kept = [], []
    for arrangement in arrangements:
        if arrangement.state != PoliticalArrangement.State.CANCELLED:
            kept.append(arrangement)
            continue
        try:
            with transaction.atomic():
                restored.append(
                    _arrangement_write(
                        actor=actor,
                        arrangement=arrangement,
                        data=_back_in_office,
                        source=source,
                        request=request,
                    )
                )
        except ValidationError:
            kept.append(arrangement)
    return restored, kept


def _back_in_office(stored: PoliticalArrangement) -> dict:
    if stored.state != PoliticalArrangement.State.CANCELLED:
        raise ValidationError(_("This political arrangement was changed meanwhile."))
    return {"state": PoliticalArrangement.State.IN_OFFICE, "ended_on": None, "end_reason": ""}


# -- Admission and exit of representatives (凡进必评, 有进有出, issue 18) -------------------------
#
# `representative_set` is the one writer of `Member.is_representative`: the district's
# admission decision (`assessment.services.admission_decide`), a round's confirmation and its
# reopening call it, and it writes the register's row with the flag, in one transaction.
# Nominations are made here (`nomination_create`, and by the roster import) and closed by the
# decision (`nomination_decide`) or withdrawn (`nomination_withdraw`).


def may_nominate(actor, member: Member) -> bool:
    """Staff of the member's community, street or district (and administrators) propose."""
    return (
        actor.has_perm("members.add_nomination")
        and Member.objects.visible_to(actor).filter(pk=member.pk).exists()
    )


def nomination_refusal(member: Member) -> str:
    """Why `member` cannot be nominated now ("" if she can)."""
    if member.merged_into_id or member.status != Member.Status.ACTIVE:
        return _("Only a registered member can be nominated.")
    if member.is_representative:
        return _("%(name)s is already a representative.") % {"name": member.name}
    if Nomination.objects.pending().filter(member=member).exists():
        return _("%(name)s is already nominated and awaits the decision.") % {"name": member.name}
    return ""


def _nomination_line(nomination: Nomination, old: str, new: str) -> list[dict]:
    return [{"field": "nomination", "old": old, "new": new}]


def nomination_create(
    *, actor, member: Member, reason: str, source: str = "", request=None
) -> Nomination:
    """Propose `member` as a representative (代表人士人选): she is evaluated in an admission
    round and admitted only by the district's decision."""
    if actor is not None and not may_nominate(actor, member):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why she is proposed.")})
    with transaction.atomic():
        stored = Member.objects.select_for_update().get(pk=member.pk)
        refusal = nomination_refusal(stored)
        if refusal:
            raise ValidationError(refusal)
        nomination = Nomination.objects.create(
            member=stored, reason=reason, source=source[:200], proposed_by=actor
        )
        _record(
            actor=actor,
            member=stored,
            action=MemberChange.Action.NOMINATION,
            changes=_nomination_line(
                nomination, "", _history_text(gettext_lazy("Proposed: %(why)s"), why=reason)
            ),
            source=source[:200],
            request=request,
        )
    return nomination


# Why a nomination awaiting its decision cannot be withdrawn now, as the apps above this one
# know it (assessment: she is in an admission round the district has not decided on yet):
# each `(nomination) -> str`, "" when it can. Registered from the app's AppConfig.ready, so
# the registry imports none of them (layers).
NOMINATION_WITHDRAW_CHECKS: list[Callable[[Nomination], str]] = []


def nomination_withdraw_check_register(check) -> None:
    """Called from an app's `AppConfig.ready`; registering twice changes nothing."""
    if check not in NOMINATION_WITHDRAW_CHECKS:
        NOMINATION_WITHDRAW_CHECKS.append(check)


def may_withdraw_nomination(actor, nomination: Nomination) -> bool:
    """Who may propose the member, at the level that proposed her or above: a community does
    not withdraw what its street or district proposed. A proposal of the roster import is its
    importer's; one whose proposer is gone or has no area, anyone's who may propose her."""
    if not may_nominate(actor, nomination.member):
        return False
    proposer = nomination.proposed_by
    if actor.sees_everything or proposer is None or proposer.area_id is None:
        return True
    return actor.area_id is not None and code_within(proposer.area.code, actor.area.code)


def nomination_withdraw_refusal(nomination: Nomination) -> str:
    """Why `nomination` cannot be withdrawn now ("" if it can)."""
    if nomination.state != Nomination.State.PENDING:
        return _("Only a nomination awaiting its decision can be withdrawn.")
    for check in NOMINATION_WITHDRAW_CHECKS:
        if refusal := check(nomination):
            return refusal
    return ""


def nomination_withdraw(*, actor, nomination: Nomination, reason: str, request=None) -> Nomination:
    """Withdraw a nomination awaiting its decision (撤回), with the reason: it is closed as
    withdrawn, in the member's history, and she may be proposed again. Refused while an
    admission round evaluates her (the district decides on her there)."""
    if not may_withdraw_nomination(actor, nomination):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the nomination is withdrawn.")})
    with transaction.atomic():
        # Locked as a round taking her in locks it (assessment.services.round_create): one of
        # the two waits for the other and then sees what it did.
        nomination = (
            Nomination.objects.select_for_update(of=("self",))
            .select_related("member")
            .get(pk=nomination.pk)
        )
        refusal = nomination_withdraw_refusal(nomination)
        if refusal:
            raise ValidationError(refusal)
        nomination.state = Nomination.State.WITHDRAWN
        nomination.decided_on = timezone.localdate()
        nomination.decision_note = reason
        nomination.save(update_fields=["state", "decided_on", "decision_note"])
        with translation.override(settings.LANGUAGE_CODE):
            old = str(Nomination.State.PENDING.label)
        _record(
            actor=actor,
            member=nomination.member,
            action=MemberChange.Action.NOMINATION,
            changes=_nomination_line(
                nomination, old, _history_text(gettext_lazy("Withdrawn: %(why)s"), why=reason)
            ),
            source="",
            request=request,
            detail={"fields": ["nomination"], "step": "withdraw"},
        )
    return nomination


def member_audit_lines(name: str) -> models.Q | None:
    """The audit lines about the members named exactly `name`, for the auditor's search: the
    lines name them masked."""
    name = name.strip()
    if not name:
        return None
    ids = [str(pk) for pk in Member.objects.filter(name=name).values_list("pk", flat=True)[:500]]
    return models.Q(object_type="members.member", object_id__in=ids) if ids else None


def member_history_line(*, actor, member: Member, action: str, field: str, old, new, source=""):
    """A line in the member's history that another app writes about her (the evaluation's
    talk records): her `field` from `old` to `new`. That app audits its own record."""
    return MemberChange.objects.create(
        member=member,
        actor=actor,
        action=action,
        source=str(source)[:200],
        changes=[
            {"field": field, "old": str(old)[:HISTORY_CHARS], "new": str(new)[:HISTORY_CHARS]}
        ],
    )


def nominations_from_import(*, actor, members: list[Member], source: str) -> int:
    """The roster import's proposals (代表人士 是 for a member who is not one): a nomination
    each, unless she is one or is nominated already. Written in the import's transaction;
    its audit line counts them. Returns how many were made."""
    ids = [member.pk for member in members if not member.is_representative]
    if not ids:
        return 0
    pending = set(
        Nomination.objects.pending().filter(member_id__in=ids).values_list("member_id", flat=True)
    )
    fresh = [pk for pk in dict.fromkeys(ids) if pk not in pending]
    now = timezone.now()
    reason = _history_text(gettext_lazy("The roster says 代表人士: 是."))
    Nomination.objects.bulk_create(
        [
            Nomination(
                member_id=pk, reason=reason, source=source[:200], proposed_by=actor, proposed_at=now
            )
            for pk in fresh
        ]
    )
    MemberChange.objects.bulk_create(
        [
            MemberChange(
                member_id=pk,
                actor=actor,
                action=MemberChange.Action.NOMINATION,
                source=source[:200],
                changes=[
                    {
                        "field": "nomination",
                        "old": "",
                        "new": _history_text(gettext_lazy("Proposed: %(why)s"), why=reason),
                    }
                ],
            )
            for pk in fresh
        ]
    )
    return len(fresh)


def representative_set(
    *,
    actor,
    member: Member,
    value: bool,
    date: datetime.date,
    reason: str,
    link: str = "",
    request=None,
) -> RepresentativeChange | None:
    """Set or clear the representative flag, with `reason` in the member's history and a row
    of the register of entries and exits (`link`: the page where it was decided). Returns the
    row, or None when the flag already was `value` (nothing is written)."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise ValidationError(_("Give the reason for the change."))
    _check_editable(actor, member)
    with transaction.atomic():
        stored = _stored_tally_keys(member).stored
        if stored.is_representative == value:
            return None
        _member_write(
            actor=actor,
            member=member,
            data={"is_representative": value},
            source=reason,
            request=request,
        )
        return RepresentativeChange.objects.create(
            member=member,
            community_id=stored.community_id,
            kind=RepresentativeChange.Kind.ENTRY if value else RepresentativeChange.Kind.EXIT,
            date=date,
            reason=reason,
            link=link[:200],
            actor=actor,
        )


def nomination_decide(
    *,
    actor,
    nomination: Nomination,
    admitted: bool,
    date: datetime.date,
    note: str,
    reason: str,
    link: str = "",
    request=None,
) -> Nomination:
    """Close a pending nomination with the district's decision; admitted, the member becomes a
    representative (`representative_set`, with `reason`). Whether the decider may decide is
    the caller's rule (the assessment's); the record must be the actor's to change."""
    _check_editable(actor, nomination.member)
    with transaction.atomic():
        nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
        if nomination.state != Nomination.State.PENDING:
            raise ValidationError(_("This nomination is decided already."))
        nomination.state = Nomination.State.ADMITTED if admitted else Nomination.State.NOT_ADMITTED
        nomination.decided_on = date
        nomination.decision_note = (note or "").strip()
        nomination.save(update_fields=["state", "decided_on", "decision_note"])
        with translation.override(settings.LANGUAGE_CODE):
            new = str(nomination.get_state_display())
            old = str(Nomination.State.PENDING.label)
        _record(
            actor=actor,
            member=nomination.member,
            action=MemberChange.Action.NOMINATION,
            changes=_nomination_line(nomination, old, new),
            source=reason[:200],
            request=request,
        )
        if admitted:
            representative_set(
                actor=actor,
                member=nomination.member,
                value=True,
                date=date,
                reason=reason,
                link=link,
                request=request,
            )
    return nomination


def register_years(queryset) -> list[dict]:
    """Entries and exits per year of a register queryset, newest year first."""
    rows = (
        queryset.annotate(year=ExtractYear("date"))
        .values("year")
        .annotate(
            entries=Count("pk", filter=models.Q(kind=RepresentativeChange.Kind.ENTRY)),
            exits=Count("pk", filter=models.Q(kind=RepresentativeChange.Kind.EXIT)),
        )
        .order_by("-year")
    )
    return list(rows)


def register_started() -> datetime.datetime | None:
    """When the register of entries and exits began: the migration that made it was applied
    (nothing before was back-filled: no history of the flag was kept). Found by the name's
    end, which stays when migrations are renumbered."""
    from django.db.migrations.recorder import MigrationRecorder

    return (
        MigrationRecorder.Migration.objects.filter(
            app="members", name__endswith="nominations_and_representative_register"
        )
        .values_list("applied", flat=True)
        .first()
    )
