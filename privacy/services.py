"""Retention (PIPL art. 19 and 47): which records are past their period, their approval by the
district, and the daily run that anonymises the approved ones (`privacy.anonymise`).

A member who left the registry (moved out, died, withdrew) is kept `RETENTION_YEARS[status]`
years from the day she left: her `status_date`, or where a record has none, the day of the
last status change in her history. Then she is due. The district approves the records due in
its area (all, or those chosen); the daily job anonymises each approved record in its own
transaction, checking first that she is still due (a member registered again is left as she
is). Every step is audited; nothing is undone.
"""

import datetime
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
from tongzhan.models import Area, AuditEvent

from .anonymise import member_anonymise
from .models import Anonymisation, Approval

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
