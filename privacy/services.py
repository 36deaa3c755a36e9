"""A person's own requests (PIPL arts. 44-46): recorded, answered or refused with reasons, and
her copies produced, by whoever may change her record. Then retention (PIPL art. 19 and 47):
which records are past their period, their approval by the district, and the daily run that
anonymises the approved ones (`privacy.anonymise`).

A member who left the registry (moved out, died, withdrew) is kept `RETENTION_YEARS[status]`
years from the day she left: her `status_date`, or where a record has none, the day of the
last status change in her history. Then she is due. The district approves the records due in
its area (all, or those chosen); the daily job anonymises each approved record in its own
transaction, checking first that she is still due (a member registered again is left as she
is). Every step is audited; nothing is undone.
"""

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, DateField, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from members.models import Member, MemberChange
from tongzhan.audit import audit_record
from tongzhan.dates import working_days_after
from tongzhan.models import Area, AuditEvent

from .anonymise import member_anonymise
from .models import Anonymisation, Approval, PersonRequest, RequestCopy

logger = logging.getLogger(__name__)

State = Anonymisation.State


def retention_years() -> dict[str, int]:
    """Status → years kept after leaving, for the statuses that have a period."""
    return {
        status: int(years)
        for status, years in settings.RETENTION_YEARS.items()
        if status in Member.Status.values and status != Member.Status.ACTIVE
    }


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` years earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def left_on():
    """The day a member left: her status date, else the day of her last status change."""
    last_change = (
        MemberChange.objects.filter(member=OuterRef("pk"), action=MemberChange.Action.STATUS)
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    return Coalesce("status_date", TruncDate(Subquery(last_change)), output_field=DateField())


def past_retention(members, today: datetime.date | None = None):
    """`members` who left and whose retention period has passed by `today`, not anonymised,
    with `left_on`."""
    today = today or timezone.localdate()
    passed = Q()
    for status, years in retention_years().items():
        passed |= Q(status=status, left_on__lte=years_before(today, years))
    if not passed:
        return members.none()
    return members.filter(anonymised_at__isnull=True).annotate(left_on=left_on()).filter(passed)


def members_due(user, today: datetime.date | None = None):
    """The records in `user`'s area due for anonymisation and not yet approved, with
    `left_on`: the district's list."""
    if not user.is_authenticated or not user.has_perm("privacy.view_anonymisation"):
        return Member.objects.none()
    approved = Anonymisation.objects.filter(member=OuterRef("pk")).exclude(state=State.SKIPPED)
    return past_retention(Member.objects.visible_to(user), today).exclude(Exists(approved))


def due_by_community(due) -> list[dict]:
    """How many are due in each community: [{"community": Area, "count": n}], by code."""
    counts = dict(
        due.order_by()
        .values_list("community_id")
        .annotate(n=Count("pk"))
        .values_list("community_id", "n")
    )
    areas = Area.objects.filter(pk__in=counts).select_related("parent").order_by("code")
    return [{"community": area, "count": counts[area.pk]} for area in areas]


def due_on(status: str, left: datetime.date | None) -> datetime.date | None:
    """The day the retention period of a member of `status` who left on `left` passes."""
    years = retention_years().get(status)
    if years is None or left is None:
        return None
    return years_before(left, -years)


def _check_approves(actor) -> None:
    if actor is None or not actor.has_perm("privacy.approve_anonymisation"):
        raise PermissionDenied


@transaction.atomic
def approval_create(
    *, actor, member_ids=(), all_due: bool = False, expected: int | None = None, request=None
) -> Approval:
    """Approve the anonymisation of the records due in `actor`'s area: all of them
    (`all_due`, when there are still `expected` of them), or those of `member_ids`, each of
    which must be due. Records approved leave the list of those due; the daily run does the
    rest."""
    _check_approves(actor)
    due = members_due(actor)
    if all_due:
        ids = list(due.values_list("pk", flat=True))
        if expected is not None and len(ids) != expected:
            raise ValidationError(
                _("The records due changed meanwhile: nothing was approved. Look again.")
            )
    else:
        ids = sorted({int(pk) for pk in member_ids})
        if not ids:
            raise ValidationError(_("Choose the records to approve."))
    if not ids:
        raise ValidationError(_("No record is due: nothing was approved."))
    # Her row locked, then looked at again: two approvals of one record, or one approved while
    # she is registered again, wait for each other and the second finds her no longer due.
    list(Member.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
    found = {member.pk: member for member in due.filter(pk__in=ids)}
    if len(found) != len(ids):
        raise ValidationError(
            ngettext(
                "%(n)s chosen record is no longer due or not in your area: nothing was "
                "approved. Look at the list again.",
                "%(n)s chosen records are no longer due or not in your area: nothing was "
                "approved. Look at the list again.",
                len(ids) - len(found),
            )
            % {"n": len(ids) - len(found)}
        )
    approval = Approval.objects.create(area=actor.area, approved_by=actor, all_due=all_due)
    Anonymisation.objects.bulk_create(
        [
            Anonymisation(approval=approval, member=member, status=member.status,
                          left_on=member.left_on)
            for member in found.values()
        ]
    )  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=approval,
        request=request,
        detail={"members": ids, "all_due": all_due, "rows": len(ids)},
    )
    return approval


def anonymisations_run() -> int:
    """The daily job: anonymise every approved record, each in its own transaction; return
    how many were anonymised. A record whose transaction fails stays approved for the next
    run; the others go on."""
    done = 0
    for pk in Anonymisation.objects.pending().order_by("pk").values_list("pk", flat=True):
        try:
            done += anonymisation_run(pk)
        except Exception:
            logger.exception("Anonymisation %s failed; it stays approved for the next run", pk)
    return done


def _source(item: Anonymisation) -> str:
    approval = item.approval
    with translation.override(settings.LANGUAGE_CODE):
        return str(
            gettext_lazy(
                "Retention period passed (%(status)s, %(years)s years from %(day)s); "
                "approved by %(who)s on %(when)s"
            )
            % {
                "status": Member.Status(item.status).label,
                "years": retention_years().get(item.status, ""),
                "day": item.left_on.isoformat(),
                "who": approval.approved_by.get_full_name() or approval.approved_by.username,
                "when": f"{timezone.localtime(approval.approved_at):%Y-%m-%d}",
            }
        )


def anonymisation_run(pk: int) -> int:
    """Anonymise one approved record in a transaction of its own; 1 if it was done, 0 if it
    was no longer waiting or no longer due (then marked skipped)."""
    with transaction.atomic():
        item = (
            Anonymisation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("approval__approved_by", "member")
            .filter(pk=pk, state=State.APPROVED)
            .first()
        )
        if item is None:  # done by another run meanwhile
            return 0
        # Her community first, then her: the order every write on a member locks them in.
        list(Area.objects.select_for_update().filter(pk=item.member.community_id).values("pk"))
        member = Member.objects.select_for_update().get(pk=item.member_id)
        still_due = past_retention(Member.objects.filter(pk=member.pk, merged_into__isnull=True))
        if not still_due.exists():
            item.state, item.done_at = State.SKIPPED, timezone.now()
            item.save(update_fields=["state", "done_at"])
            audit_record(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                obj=item.approval,
                detail={"skipped": member.pk},
            )
            return 0
        done = member_anonymise(member, source=_source(item))
        item.state, item.done_at = State.DONE, timezone.now()
        item.save(update_fields=["state", "done_at"])
        member.refresh_from_db()
        audit_record(
            actor=None,
            action=AuditEvent.Action.DELETE,
            obj=member,
            detail={
                "anonymised": True,
                "approval": item.approval_id,
                "status": item.status,
                "left_on": item.left_on.isoformat(),
                **done,
            },
        )
    return 1


# -- A person's own requests (PIPL arts. 44-46) ---------------------------------------------

Kind, RequestState = PersonRequest.Kind, PersonRequest.State


def request_due_on(received_on: datetime.date) -> datetime.date:
    """The deadline of a request received on `received_on`: working days after it."""
    return working_days_after(received_on, settings.PERSON_REQUEST_WORKING_DAYS)


def _editable_member(actor, member: Member) -> Member:
    """Her record, locked, if `actor` may change it (else PermissionDenied)."""
    if actor is None or not Member.objects.editable_by(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    return Member.objects.select_for_update().get(pk=member.pk)


def _editable_request(actor, person_request: PersonRequest) -> PersonRequest:
    if (
        actor is None
        or not PersonRequest.objects.editable_by(actor).filter(pk=person_request.pk).exists()
    ):
        raise PermissionDenied
    return PersonRequest.objects.select_for_update().get(pk=person_request.pk)


REQUEST_FIELDS = ("kind", "received_on", "channel", "asked_by", "agent_name", "agent_relation",
                  "asks")  # fmt: skip


@transaction.atomic
def request_record(*, actor, member: Member, data: dict, request=None) -> PersonRequest:
    """Record a person's request to see, copy or correct her record, with its deadline."""
    member = _editable_member(actor, member)
    made = PersonRequest(member=member, recorded_by=actor)
    for name in REQUEST_FIELDS:
        if name in data:
            setattr(made, name, data[name])
    if made.asked_by == PersonRequest.AskedBy.SELF:
        made.agent_name = made.agent_relation = ""
    elif not made.agent_name.strip():
        raise ValidationError({"agent_name": _("Name the agent who asked for her.")})
    if made.received_on and made.received_on > timezone.localdate():
        raise ValidationError({"received_on": _("A request cannot be received in the future.")})
    if made.received_on:
        made.due_on = request_due_on(made.received_on)
    made.full_clean()
    made.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=made,
        request=request,
        detail={"member": member.pk, "kind": made.kind, "due_on": made.due_on.isoformat()},
    )
    return made


def _close(*, actor, person_request, state, answer, answered_on, request, detail=None):
    person_request = _editable_request(actor, person_request)
    if person_request.state != RequestState.OPEN:
        raise ValidationError(_("This request was already answered."))
    answered_on = answered_on or timezone.localdate()
    if answered_on < person_request.received_on:
        raise ValidationError(
            {"answered_on": _("A request cannot be answered before it was received.")}
        )
    if answered_on > timezone.localdate():
        raise ValidationError({"answered_on": _("A request cannot be answered in the future.")})
    person_request.state = state
    person_request.answer = answer.strip()
    person_request.answered_on = answered_on
    person_request.answered_by = actor
    person_request.full_clean()
    person_request.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=person_request,
        request=request,
        detail={
            "member": person_request.member_id,
            "state": state,
            "answered_on": answered_on.isoformat(),
            "late_days": max((answered_on - person_request.due_on).days, 0),
            **(detail or {}),
        },
    )
    return person_request


@transaction.atomic
def request_answer(
    *, actor, person_request: PersonRequest, answer: str = "", answered_on=None, request=None
) -> PersonRequest:
    """Answer a request. A request to correct is answered with the changes made under it
    (`request_corrections`) named in the audit line."""
    corrections = [change.pk for change in request_corrections(person_request)]
    if person_request.kind == Kind.CORRECT and not corrections and not answer.strip():
        raise ValidationError(
            {"answer": _("No change was made under this request: say why in the answer.")}
        )
    return _close(
        actor=actor, person_request=person_request, state=RequestState.ANSWERED, answer=answer,
        answered_on=answered_on, request=request, detail={"changes": corrections},
    )  # fmt: skip


@transaction.atomic
def request_refuse(
    *, actor, person_request: PersonRequest, reasons: str, answered_on=None, request=None
) -> PersonRequest:
    """Refuse a request, with the reasons the person is given (PIPL art. 50)."""
    if not reasons.strip():
        raise ValidationError({"answer": _("A refusal must give its reasons.")})
    return _close(
        actor=actor, person_request=person_request, state=RequestState.REFUSED, answer=reasons,
        answered_on=answered_on, request=request,
    )  # fmt: skip


def request_source(person_request: PersonRequest) -> str:
    """The source line her history gives an edit made for a request to correct: the same
    words, in the registry's language, by which `request_corrections` finds those edits."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(
            gettext_lazy("Correction asked by the person, request No. %(number)s")
            % {"number": person_request.pk}
        )


def request_corrections(person_request: PersonRequest):
    """The history lines of the changes made under a request to correct (the member's edit
    opened from the request names it as the source)."""
    if person_request.kind != Kind.CORRECT:
        return MemberChange.objects.none()
    return MemberChange.objects.filter(
        member=person_request.member_id, source=request_source(person_request)
    ).order_by("at", "id")


@transaction.atomic
def copy_produce(*, actor, person_request: PersonRequest, file_format: str, request=None):
    """Her record's full content as a file for her (`privacy.copies`), recorded as a
    `RequestCopy` (its SHA-256 and size, not the file) and an audit line in the same
    transaction. Returns (copy, bytes)."""
    from . import copies  # WeasyPrint and openpyxl only when a copy is made

    person_request = _editable_request(actor, person_request)
    if file_format not in RequestCopy.Format.values:
        raise ValidationError(_("Unknown format."))
    content = copies.copy_content(person_request)
    data = copies.xlsx(content) if file_format == RequestCopy.Format.XLSX else copies.pdf(content)
    made = RequestCopy.objects.create(
        request=person_request, format=file_format, produced_by=actor,
        sha256=hashlib.sha256(data).hexdigest(), size=len(data),
    )  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        obj=person_request.member,
        request=request,
        detail={
            "copy_for_request": person_request.pk,
            "format": file_format,
            "sha256": made.sha256,
            "size": made.size,
            "full": True,
        },
    )
    return made, data


# A merged record's requests become the kept record's (members.services.MemberMover).


def member_requests_count(member: Member) -> int:
    return PersonRequest.objects.filter(member=member).count()


def member_requests_move(*, keep: Member, merged: Member) -> list[int]:
    ids = list(PersonRequest.objects.filter(member=merged).values_list("pk", flat=True))
    PersonRequest.objects.filter(pk__in=ids).update(member=keep)
    return ids


def member_requests_undo(*, keep: Member, merged: Member, moved) -> None:
    PersonRequest.objects.filter(pk__in=moved or [], member=keep).update(member=merged)
