"""Writes of notices, tasks, reports, the study library and training: each a keyword-only
function that checks the actor's area and rights, writes in one transaction and audits."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import Activity, Need, Visit
from tongzhan.attachments import attachment_store, files_kept_only_if_committed, uploads_checked
from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent, User
from tongzhan.scoping import (
    area_prefix,
    code_within,
    enclosing_area_ids,
    visible_area_ids,
    within_area,
)
from tongzhan.services import area_move_audit, area_records_repoint

from .models import (
    PUBLISHING_LEVELS,
    STAFF_ROLES,
    Attendance,
    Material,
    MaterialFile,
    MaterialRead,
    Notice,
    NoticeCopy,
    NoticeFile,
    Report,
    ReportFile,
    Task,
    TaskCopy,
    TaskCopyEvent,
    TaskFile,
    Training,
)

# (label, count(area) -> int, move(source, target) -> None) for each kind of record that
# belongs to an area, registered with tongzhan's area merges by apps.LiaisonConfig.ready.
AREA_MOVERS: list = []

# -- Notices (通知公告) ----------------------------------------------------------------------


NOTICE_SENDER_ROLES = (User.Role.DISTRICT, User.Role.STREET)


def notice_can_send(user) -> bool:
    """District and street staff with the right to send send from their own area."""
    return (
        user.is_authenticated
        and user.role in NOTICE_SENDER_ROLES
        and user.area_id is not None
        and user.has_perm("liaison.add_notice")
    )


def notice_can_remind(user, notice: Notice) -> bool:
    """The sending area and those above it follow a notice up; a street does not remind the
    communities of the district's notices."""
    prefix = area_prefix(user)
    if prefix is None or not user.has_perm("liaison.add_notice"):
        return False
    return code_within(notice.area.code, prefix)


def notice_recipients(*, sender_area: Area, area: Area | None = None, communities=()) -> list:
    """The current communities a notice from `sender_area` goes to: those chosen, or else
    every community below `area`; each must lie inside `sender_area`."""
    if communities:
        chosen = list(communities)
        outside = [
            community.name
            for community in chosen
            if community.level != Area.Level.COMMUNITY
            or community.is_retired
            or not community.is_within(sender_area)
        ]
        if outside:
            raise ValidationError(
                {
                    "communities": _(
                        "%(areas)s: a notice from %(sender)s goes only to the communities "
                        "in use within it."
                    )
                    % {"areas": "、".join(outside), "sender": sender_area.name}
                }
            )
        return sorted(set(chosen), key=lambda community: community.code)
    if area is None:
        raise ValidationError(
            {"area": _("Choose the area whose communities receive it, or the communities.")}
        )
    if area.is_retired or not area.is_within(sender_area):
        raise ValidationError(
            {
                "area": _("%(area)s does not lie within %(sender)s, which sends the notice.")
                % {"area": area.name, "sender": sender_area.name}
            }
        )
    recipients = list(Area.objects.current().communities().within(area).order_by("code"))
    if not recipients:
        raise ValidationError({"area": _("%(area)s has no community.") % {"area": area.name}})
    return recipients


def notice_send(
    *, actor, data: dict, area: Area | None = None, communities=(), uploads=(), request=None
) -> Notice:
    """Send a notice from the actor's own area to every community below `area`, or to the
    `communities` chosen, with its photos and PDFs; one copy per community.

    `data`: title, body, reply_by. A refused file or recipient refuses the whole notice.
    """
    if not notice_can_send(actor):
        raise PermissionDenied
    checked = uploads_checked(uploads)
    sender_area = actor.area
    recipients = notice_recipients(sender_area=sender_area, area=area, communities=communities)
    reply_by = data.get("reply_by")
    if reply_by is not None and reply_by < timezone.localdate():
        raise ValidationError({"reply_by": _("The reply date has passed: choose a later day.")})
    with files_kept_only_if_committed() as stored, transaction.atomic():
        notice = Notice(area=sender_area, created_by=actor, **data)
        notice.full_clean()
        notice.save()
        names = [
            attachment_store(NoticeFile, *pair, actor=actor, stored=stored, notice=notice).name
            for pair in checked
        ]
        NoticeCopy.objects.bulk_create(
            [NoticeCopy(notice=notice, area=community) for community in recipients]
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=notice,
            request=request,
            detail={
                "recipients": [community.code for community in recipients],
                "files": names,
                "reply_by": reply_by.isoformat() if reply_by else None,
            },
        )
    return notice


def notice_read(*, actor, copy: NoticeCopy) -> bool:
    """Record that a user of the receiving community opened its copy; only the first opening
    counts. Whether this opening was the first."""
    if not actor.is_authenticated or actor.area_id != copy.area_id or copy.read_at:
        return False
    now = timezone.now()
    marked = NoticeCopy.objects.filter(pk=copy.pk, read_at__isnull=True).update(
        read_at=now, read_by=actor
    )
    if marked:
        copy.read_at, copy.read_by = now, actor
    return bool(marked)


def notice_reply(*, actor, copy: NoticeCopy, text: str, request=None) -> NoticeCopy:
    """The receiving community's reply to a notice that asks for one, given once."""
    if actor.area_id != copy.area_id or not actor.has_perm("liaison.change_noticecopy"):
        raise PermissionDenied
    text = (text or "").strip()
    with transaction.atomic():
        copy = (
            NoticeCopy.objects.select_for_update(of=("self",))
            .select_related("notice", "area")
            .get(pk=copy.pk)
        )
        if copy.notice.is_withdrawn:
            raise ValidationError(_("The notice was withdrawn: no reply is owed."))
        if copy.notice.reply_by is None:
            raise ValidationError(_("This notice asks for no reply."))
        if copy.replied_at is not None:
            raise ValidationError(_("%(area)s has already replied.") % {"area": copy.area.name})
        if not text:
            raise ValidationError({"reply": _("Write the reply.")})
        now = timezone.now()
        copy.reply, copy.replied_at, copy.replied_by = text, now, actor
        if copy.read_at is None:
            copy.read_at, copy.read_by = now, actor
        copy.save(update_fields=["reply", "replied_at", "replied_by", "read_at", "read_by"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=copy,
            request=request,
            detail={"fields": ["reply"], "area": copy.area.code},
        )
    return copy


def notice_remind(*, actor, notice: Notice, request=None) -> int:
    """Remind (催办) the receiving communities that have not read the notice yet: their copies
    are marked with the time, which they see. How many were reminded."""
    if not notice_can_remind(actor, notice):
        raise PermissionDenied
    if notice.is_withdrawn:
        raise ValidationError(_("The notice was withdrawn: nobody is reminded of it."))
    with transaction.atomic():
        unread = list(
            NoticeCopy.objects.select_for_update(of=("self",))
            .filter(notice=notice)
            .unread()
            .select_related("area")
            .order_by("area__code")
        )
        if not unread:
            raise ValidationError(_("Every receiving community has read it: nobody to remind."))
        NoticeCopy.objects.filter(pk__in=[copy.pk for copy in unread]).update(
            reminded_at=timezone.now()
        )
        codes = [copy.area.code for copy in unread]
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=notice,
            request=request,
            detail={"fields": ["reminded_at"], "reminded": codes},
        )
    return len(codes)


def _withdrawal_reason(reason: str, refusal: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": refusal})
    return reason


def notice_may_withdraw(user, notice: Notice) -> bool:
    """The sending area's own senders take back (撤回) what it sent; those above it follow
    the notice up but do not speak for its sender."""
    return notice_can_send(user) and user.area_id == notice.area_id


def notice_withdraw(*, actor, notice: Notice, reason: str, request=None) -> Notice:
    """Take a notice back (撤回), saying why: its communities still see it, marked withdrawn
    with the reason, but owe no reading or reply, and it is not reminded any more."""
    if not notice_may_withdraw(actor, notice):
        raise PermissionDenied
    reason = _withdrawal_reason(reason, _("Say why the notice is withdrawn."))
    with transaction.atomic():
        stored = Notice.objects.select_for_update().get(pk=notice.pk)
        if stored.is_withdrawn:
            raise ValidationError(_("The notice was already withdrawn."))
        stored.withdrawn_at, stored.withdrawn_by = timezone.now(), actor
        stored.withdrawn_reason = reason
        stored.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STATUS,
            obj=stored,
            request=request,
            detail={"action": "withdraw", "copies": stored.copies.count()},
        )
    for name in ("withdrawn_at", "withdrawn_by_id", "withdrawn_reason"):
        setattr(notice, name, getattr(stored, name))
    return notice


# -- Areas merged (撤并): what a merged community received, and what a merged area sent.


def area_notices_count(area: Area) -> int:
    return NoticeCopy.objects.filter(area=area).count() + Notice.objects.filter(area=area).count()


def area_notices_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """The merged area's copies become the target's. Where both received one notice, the
    target's copy is kept, taking the merged one's read receipt and reply where it has none:
    the community they now are has read (or answered) what either of them had."""
    Notice.objects.filter(area=source).update(area=target)
    shared = {
        copy.notice_id: copy
        for copy in NoticeCopy.objects.select_for_update().filter(
            area=target, notice__in=NoticeCopy.objects.filter(area=source).values("notice")
        )
    }
    for merged in NoticeCopy.objects.select_for_update().filter(
        area=source, notice_id__in=list(shared)
    ):
        kept = shared[merged.notice_id]
        if kept.read_at is None and merged.read_at is not None:
            kept.read_at, kept.read_by_id = merged.read_at, merged.read_by_id
        if kept.replied_at is None and merged.replied_at is not None:
            kept.reply, kept.replied_at = merged.reply, merged.replied_at
            kept.replied_by_id = merged.replied_by_id
        if kept.reminded_at is None:
            kept.reminded_at = merged.reminded_at
        kept.save()
        merged.delete()
    NoticeCopy.objects.filter(area=source).update(area=target)


AREA_MOVERS.append((gettext_lazy("notices"), area_notices_count, area_notices_move))

# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------


State = TaskCopy.State


def task_recipient_choices(area: Area):
    """The areas a task of `area` may go to: current streets and communities below it."""
    return (
        Area.objects.current()
        .filter(within_area(area), level__in=[Area.Level.STREET, Area.Level.COMMUNITY])
        .exclude(pk=area.pk)
        .order_by("code")
    )


def task_may_send(user) -> bool:
    """A district's or street's worker with the right to send."""
    return (
        user.is_authenticated
        and user.has_perm("liaison.add_task")
        and user.area_id is not None
        and user.area.level in (Area.Level.DISTRICT, Area.Level.STREET)
    )


def task_send(*, actor, data: dict, recipients, uploads=(), request=None) -> Task:
    """Send a task from the actor's area (a district or street) to `recipients`, current
    streets or communities within it: one copy each, 下发."""
    if not task_may_send(actor):
        raise PermissionDenied
    recipients = list(recipients)
    if not recipients:
        raise ValidationError({"recipients": _("Choose the areas the task goes to.")})
    allowed = set(task_recipient_choices(actor.area).values_list("pk", flat=True))
    outside = [area.name for area in recipients if area.pk not in allowed]
    if outside:
        raise ValidationError(
            {"recipients": _("%(areas)s: a task goes only to current streets or communities "
                             "within %(area)s.")
             % {"areas": "、".join(outside), "area": actor.area.name}}
        )  # fmt: skip
    deadline = data.get("deadline")
    if deadline is not None and deadline < timezone.localdate():
        raise ValidationError({"deadline": _("The deadline has passed already.")})
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        task = Task(area=actor.area, created_by=actor, **data)
        task.full_clean()
        task.save()
        copies = TaskCopy.objects.bulk_create(
            [TaskCopy(task=task, area=area) for area in {a.pk: a for a in recipients}.values()]
        )
        TaskCopyEvent.objects.bulk_create(
            [TaskCopyEvent(copy=copy, actor=actor, action="send", to_state=State.ISSUED)
             for copy in copies]
        )  # fmt: skip
        names = [
            attachment_store(TaskFile, *pair, actor=actor, stored=stored, task=task).name
            for pair in checked
        ]
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=task,
            request=request,
            detail={
                "deadline": task.deadline.isoformat(),
                "to": [copy.area.code for copy in copies],
                "files": names,
            },
        )
    return task


def taskcopy_may_answer(user, copy: TaskCopy) -> bool:
    """The receiving area's workers answer its copy."""
    return (
        user.is_authenticated
        and user.area_id == copy.area_id
        and user.has_perm("liaison.change_taskcopy")
    )


def taskcopy_may_review(user, copy: TaskCopy) -> bool:
    """The sending area's workers approve or return a copy."""
    return (
        user.is_authenticated
        and user.area_id is not None
        and user.area_id == copy.task.area_id
        and user.has_perm("liaison.review_taskcopy")
    )


def _taskcopy_locked(copy: TaskCopy) -> TaskCopy:
    """The copy, locked; refused once its task is withdrawn. `task_withdraw` locks every
    copy before it looks at them, so a move and a withdrawal never both pass."""
    locked = TaskCopy.objects.select_for_update(of=("self",)).select_related("task").get(pk=copy.pk)
    # Read again after the lock: a withdrawal committed while this waited is seen.
    if Task.objects.filter(pk=locked.task_id, withdrawn_at__isnull=False).exists():
        raise ValidationError(_("The task was withdrawn: nothing more is done on it."))
    return locked


def _taskcopy_check_state(copy: TaskCopy, allowed: tuple, refusal: str) -> None:
    if copy.state not in allowed:
        raise ValidationError(
            _("%(refusal)s: the copy is %(state)s.")
            % {"refusal": refusal, "state": copy.state_label}
        )


def _taskcopy_move(*, actor, copy, action, to_state, note="", request=None, detail=None):
    event = TaskCopyEvent.objects.create(
        copy=copy, actor=actor, action=action, from_state=copy.state, to_state=to_state, note=note
    )
    copy.state = to_state
    copy.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.STATUS,
        obj=copy,
        request=request,
        detail={"action": action, "from": event.from_state, "to": to_state, **(detail or {})},
    )
    return copy


def taskcopy_receive(*, actor, copy: TaskCopy, request=None) -> TaskCopy:
    """已接收: the receiving area has the task."""
    if not taskcopy_may_answer(actor, copy):
        raise PermissionDenied
    with transaction.atomic():
        copy = _taskcopy_locked(copy)
        _taskcopy_check_state(copy, (State.ISSUED,), _("Only an issued task is received"))
        copy.holder = actor
        return _taskcopy_move(
            actor=actor, copy=copy, action="receive", to_state=State.RECEIVED, request=request
        )


def taskcopy_start(*, actor, copy: TaskCopy, request=None) -> TaskCopy:
    """办理中: someone of the receiving area takes it up."""
    if not taskcopy_may_answer(actor, copy):
        raise PermissionDenied
    with transaction.atomic():
        copy = _taskcopy_locked(copy)
        _taskcopy_check_state(copy, (State.RECEIVED,), _("Only a received task is started"))
        copy.holder = actor
        return _taskcopy_move(
            actor=actor, copy=copy, action="start", to_state=State.IN_PROGRESS, request=request
        )


def _taskcopy_links(actor, copy: TaskCopy, model, records, field: str, key: str) -> list:
    """The records linked to a report: each visible to the actor and within the copy's
    area (`field` leads to the record's area); others are refused by name."""
    records = list(records)
    if not records:
        return []
    allowed = set(
        model.objects.visible_to(actor)
        .filter(within_area(copy.area, field), pk__in=[record.pk for record in records])
        .values_list("pk", flat=True)
    )
    refused = [str(record) for record in records if record.pk not in allowed]
    if refused:
        raise ValidationError(
            {key: _(
                "%(records)s: link only records of %(area)s that you may see."
            ) % {"records": "、".join(refused), "area": copy.area.name}}
        )  # fmt: skip
    return records


def taskcopy_report(
    *,
    actor,
    copy: TaskCopy,
    report: str,
    activities=(),
    visits=(),
    needs=(),
    uploads=(),
    completed_on=None,
    request=None,
) -> TaskCopy:
    """已完成: the receiving area reports what it did, with the activities, visits or needs
    that did it and its photos or PDFs."""
    if not taskcopy_may_answer(actor, copy):
        raise PermissionDenied
    report = (report or "").strip()
    if not report:
        raise ValidationError({"report": _("Say what was done.")})
    today = timezone.localdate()
    completed_on = completed_on or today
    if completed_on > today:
        raise ValidationError({"completed_on": _("The day it was done cannot lie ahead.")})
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        copy = _taskcopy_locked(copy)
        _taskcopy_check_state(copy, (State.IN_PROGRESS,), _("Only a task in progress is reported"))
        sent_on = timezone.localdate(copy.task.created_at)
        if completed_on < sent_on:
            raise ValidationError(
                {"completed_on": _("The day it was done cannot lie before the task was sent "
                                   "(%(day)s).") % {"day": sent_on.isoformat()}}
            )  # fmt: skip
        linked = {
            "activities": _taskcopy_links(actor, copy, Activity, activities, "area", "activities"),
            "visits": _taskcopy_links(actor, copy, Visit, visits, "community", "visits"),
            "needs": _taskcopy_links(actor, copy, Need, needs, "community", "needs"),
        }
        # The links are those of this report; a record linked before that the reporter can
        # no longer see (its member moved away) is not on the form, so it stays.
        for name, model in (("activities", Activity), ("visits", Visit), ("needs", Need)):
            hidden = getattr(copy, name).exclude(
                pk__in=model.objects.visible_to(actor).values("pk")
            )
            getattr(copy, name).set([*linked[name], *hidden])
        names = [
            attachment_store(
                TaskFile, *pair, actor=actor, stored=stored, task=copy.task, copy=copy
            ).name
            for pair in checked
        ]
        copy.report = report
        copy.reported_at = timezone.now()
        copy.completed_on = completed_on
        copy.returned_reason = ""
        copy.holder = actor
        return _taskcopy_move(
            actor=actor,
            copy=copy,
            action="report",
            to_state=State.DONE,
            note=report,
            request=request,
            detail={
                "activities": [record.pk for record in linked["activities"]],
                "visits": [record.pk for record in linked["visits"]],
                "needs": [record.pk for record in linked["needs"]],
                "files": names,
            },
        )


def taskcopy_approve(*, actor, copy: TaskCopy, request=None) -> TaskCopy:
    """已审核: the sending area accepts the report."""
    if not taskcopy_may_review(actor, copy):
        raise PermissionDenied
    with transaction.atomic():
        copy = _taskcopy_locked(copy)
        _taskcopy_check_state(copy, (State.DONE,), _("Only a task reported done is approved"))
        copy.reviewed_at, copy.reviewed_by = timezone.now(), actor
        return _taskcopy_move(
            actor=actor, copy=copy, action="approve", to_state=State.APPROVED, request=request
        )


def taskcopy_return(*, actor, copy: TaskCopy, reason: str, request=None) -> TaskCopy:
    """退回: the sending area sends a done copy back to 办理中, saying why."""
    if not taskcopy_may_review(actor, copy):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the task goes back.")})
    with transaction.atomic():
        copy = _taskcopy_locked(copy)
        _taskcopy_check_state(copy, (State.DONE,), _("Only a task reported done is returned"))
        copy.returned_reason = reason
        copy.reviewed_at, copy.reviewed_by = timezone.now(), actor
        return _taskcopy_move(
            actor=actor,
            copy=copy,
            action="return",
            to_state=State.IN_PROGRESS,
            note=reason,
            request=request,
        )


def task_may_withdraw(user, task: Task) -> bool:
    """The sending area's own senders take back (撤回) the task it sent."""
    return task_may_send(user) and user.area_id == task.area_id


def task_withdraw(*, actor, task: Task, reason: str, request=None) -> Task:
    """Take a task back (撤回), saying why, while none of its copies is approved: its copies
    keep their work and history, marked withdrawn; nobody owes anything on them, they are not
    overdue, and the assessment leaves them out. Approved work stands, so does its task."""
    if not task_may_withdraw(actor, task):
        raise PermissionDenied
    reason = _withdrawal_reason(reason, _("Say why the task is withdrawn."))
    with transaction.atomic():
        # FOR NO KEY UPDATE: a copy's report storing its files (rows pointing at the task)
        # while it holds its copy goes on, and this waits for the copy; FOR UPDATE made the
        # two wait for each other, and PostgreSQL ended one of them with a deadlock.
        stored = Task.objects.select_for_update(no_key=True).get(pk=task.pk)
        if stored.is_withdrawn:
            raise ValidationError(_("The task was already withdrawn."))
        copies = list(
            TaskCopy.objects.select_for_update(of=("self",))
            .filter(task=stored)
            .select_related("area")
            .order_by("area__code", "pk")
        )
        approved = [copy.area.name for copy in copies if copy.state == State.APPROVED]
        if approved:
            raise ValidationError(
                _("The work of %(areas)s was approved already: a task with approved work "
                  "is not withdrawn.") % {"areas": "、".join(approved)}
            )  # fmt: skip
        stored.withdrawn_at, stored.withdrawn_by = timezone.now(), actor
        stored.withdrawn_reason = reason
        stored.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        TaskCopyEvent.objects.bulk_create(
            [TaskCopyEvent(copy=copy, actor=actor, action="withdraw", from_state=copy.state,
                           to_state=copy.state, note=reason)
             for copy in copies]
        )  # fmt: skip
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STATUS,
            obj=stored,
            request=request,
            detail={"action": "withdraw", "copies": [copy.area.code for copy in copies]},
        )
    for name in ("withdrawn_at", "withdrawn_by_id", "withdrawn_reason"):
        setattr(task, name, getattr(stored, name))
    return task


# Areas merged (撤并): a copy follows its area. Where the target already has a copy of the
# same task both are kept, each with its own work and history; the one brought along names
# the area that received it (`merged_from`), so the supervision table shows both rows.


def area_tasks_count(area: Area) -> int:
    return TaskCopy.objects.filter(area=area).count() + Task.objects.filter(area=area).count()


def area_tasks_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    moved = list(TaskCopy.objects.filter(area=source))
    for copy in moved:
        copy.merged_from_id = copy.merged_from_id or source.pk
        copy.area = target
        copy.save(update_fields=["area", "merged_from"])
    TaskCopyEvent.objects.bulk_create(
        [TaskCopyEvent(copy=copy, actor=actor, action="merge", from_state=copy.state,
                       to_state=copy.state, note=f"{source.name} → {target.name}")
         for copy in moved]
    )  # fmt: skip
    sent = Task.objects.filter(area=source).update(area=target)
    area_move_audit(
        actor=actor, source=source, target=target, request=request, change=change,
        **{"task copies": len(moved), "tasks": sent},
    )  # fmt: skip


AREA_MOVERS.append((gettext_lazy("tasks and task copies"), area_tasks_count, area_tasks_move))


# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------
#
# A community or street sends a report up to an area enclosing it (its street, or the
# district); the users of that area who hold `liaison.decide_report` adopt it (采用) or not
# (不采用) with a comment. A decision is final: the assessment counts adoptions by the day of
# the decision, so a later change would move a counted number after the fact. A mistaken
# decision is told in a new report.


REPORT_FIELDS = ("kind", "title", "body")
REPORT_FILES_MOST = 10


def report_destinations(area: Area) -> list[Area]:
    """The areas a report from `area` may go to: those enclosing it, nearest first."""
    above, current = [], area
    while current.parent_id is not None:
        current = current.parent
        if current.retired_at is None:
            above.append(current)
    return above


def _report_uploads(uploads) -> list:
    checked = uploads_checked(uploads)
    if len(checked) > REPORT_FILES_MOST:
        raise ValidationError(
            {"files": _("Send at most %(most)s files with a report.") % {"most": REPORT_FILES_MOST}}
        )
    return checked


def report_submit(
    *, actor, data: dict, to_area: Area | None = None, uploads=(), request=None
) -> Report:
    """Send a report up from the actor's own area (a community or street) to an area above
    it (its parent when none is given), with photos or PDFs checked by their bytes."""
    unknown = set(data) - set(REPORT_FIELDS)
    if unknown:
        raise ValueError(f"not report fields: {sorted(unknown)}")
    if not actor.has_perm("liaison.add_report"):
        raise PermissionDenied
    area = actor.area
    if area is None or area.level not in (Area.Level.COMMUNITY, Area.Level.STREET):
        raise ValidationError(_("Reports are sent by a community or a street."))
    destinations = report_destinations(area)
    if to_area is None and destinations:
        to_area = destinations[0]
    if to_area is None or to_area.pk not in {above.pk for above in destinations}:
        raise ValidationError(
            {"to_area": _("Send the report to an area above %(area)s.") % {"area": area}}
        )
    checked = _report_uploads(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        report = Report(area=area, to_area=to_area, submitted_by=actor, **data)
        report.full_clean()
        report.save()
        for pair in checked:
            attachment_store(ReportFile, *pair, actor=actor, stored=stored, report=report)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=report,
            request=request,
            detail={
                "kind": report.kind,
                "to": to_area.code,
                "files": [attached.name for attached in report.files.all()],
            },
        )
    return report


def report_decide(*, actor, report: Report, decision: str, comment: str = "", request=None):
    """Adopt (采用) or decline (不采用) a report sent to the actor's own area, once; a
    decline says why."""
    if not actor.has_perm("liaison.decide_report") or actor.area_id != report.to_area_id:
        raise PermissionDenied
    if decision not in (Report.Decision.ADOPTED, Report.Decision.DECLINED):
        raise ValidationError({"decision": _("Choose adopted or not adopted.")})
    comment = (comment or "").strip()
    if decision == Report.Decision.DECLINED and not comment:
        raise ValidationError({"comment": _("Say why the report is not adopted.")})
    with transaction.atomic():
        stored = Report.objects.select_for_update().get(pk=report.pk)
        if stored.is_withdrawn:
            raise ValidationError(_("The report was withdrawn by its sender."))
        if stored.decision != Report.Decision.PENDING:
            raise ValidationError(
                _("The report was already decided: %(decision)s.")
                % {"decision": stored.get_decision_display()}
            )
        stored.decision, stored.comment = decision, comment
        stored.decided_by, stored.decided_at = actor, timezone.now()
        stored.save(update_fields=["decision", "comment", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STATUS,
            obj=stored,
            request=request,
            detail={"decision": decision},
        )
    for name in ("decision", "comment", "decided_by_id", "decided_at"):
        setattr(report, name, getattr(stored, name))
    return report


def report_may_withdraw(user, report: Report) -> bool:
    """The sending area's workers take back (撤回) a report of theirs."""
    return (
        user.is_authenticated
        and user.area_id is not None
        and user.area_id == report.area_id
        and user.has_perm("liaison.add_report")
    )


def report_withdraw(*, actor, report: Report, reason: str, request=None) -> Report:
    """Take a report back (撤回) before it is decided, saying why: the receiving level sees it
    marked withdrawn and decides nothing on it; it counts nowhere."""
    if not report_may_withdraw(actor, report):
        raise PermissionDenied
    reason = _withdrawal_reason(reason, _("Say why the report is withdrawn."))
    with transaction.atomic():
        stored = Report.objects.select_for_update().get(pk=report.pk)
        if stored.is_withdrawn:
            raise ValidationError(_("The report was already withdrawn."))
        if stored.decision != Report.Decision.PENDING:
            raise ValidationError(
                _("The report was decided already (%(decision)s): it is not withdrawn.")
                % {"decision": stored.get_decision_display()}
            )
        stored.withdrawn_at, stored.withdrawn_by = timezone.now(), actor
        stored.withdrawn_reason = reason
        stored.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STATUS,
            obj=stored,
            request=request,
            detail={"action": "withdraw"},
        )
    for name in ("withdrawn_at", "withdrawn_by_id", "withdrawn_reason"):
        setattr(report, name, getattr(stored, name))
    return report


def area_reports_count(area: Area) -> int:
    return Report.objects.filter(Q(area=area) | Q(to_area=area)).count()


def area_reports_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """Reports sent by or to an area merged away count for the area that took it over."""
    sent = Report.objects.filter(area=source).update(area=target)
    received = Report.objects.filter(to_area=source).update(to_area=target)
    area_move_audit(
        actor=actor, source=source, target=target, request=request, change=change,
        reports=sent + received,
    )  # fmt: skip


AREA_MOVERS.append((gettext_lazy("reports"), area_reports_count, area_reports_move))


# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------


def _check_publisher(actor, area: Area) -> None:
    """The district or a street, within the actor's area, still in use."""
    if area.level not in PUBLISHING_LEVELS:
        raise ValidationError({"area": _("Choose the district or a street.")})
    ids = visible_area_ids(actor)
    if (ids is not None and area.pk not in ids) or area.is_retired:
        raise ValidationError({"area": _("Choose an area of yours that is still in use.")})


def _audit(actor, obj, action, fields, request, **detail) -> None:
    audit_record(
        actor=actor, action=action, obj=obj, request=request,
        detail={"fields": sorted(fields), **detail},
    )  # fmt: skip


def _changed(obj, data: dict) -> list[str]:
    changed = [name for name, value in data.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, data[name])
    return changed


def material_publish(*, actor, data: dict, uploads=(), request=None) -> Material:
    """Publish a study material from the district or a street to every area below it, with
    its photos and PDFs (checked by their bytes); a refused file refuses the whole."""
    if not actor.has_perm("liaison.add_material"):
        raise PermissionDenied
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        material = Material(published_by=actor, **data)
        _check_publisher(actor, material.area)
        material.full_clean()
        material.save()
        names = [
            attachment_store(
                MaterialFile, *pair, actor=actor, stored=stored, material=material
            ).name
            for pair in checked
        ]
        _audit(actor, material, AuditEvent.Action.CREATE, data, request, file=names)
    return material


def material_update(*, actor, material: Material, data: dict, uploads=(), request=None):
    """Change a material the actor's area published (or one below it published), adding
    files. Readers who already confirmed keep their receipts."""
    if not Material.objects.editable_by(actor).filter(pk=material.pk).exists():
        raise PermissionDenied
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        # As stored: a form may have changed the instance it was given.
        material = Material.objects.select_for_update().get(pk=material.pk)
        changed = _changed(material, data)
        if "area" in changed:
            _check_publisher(actor, material.area)
        material.full_clean()
        material.save()
        names = [
            attachment_store(
                MaterialFile, *pair, actor=actor, stored=stored, material=material
            ).name
            for pair in checked
        ]
        if changed or names:
            _audit(actor, material, AuditEvent.Action.UPDATE, changed, request, file=names)
    return material


def material_file_remove(*, actor, attached: MaterialFile, request=None) -> None:
    """Take a file off a material the actor may edit; the stored file goes once committed."""
    material = attached.material
    if not Material.objects.editable_by(actor).filter(pk=material.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        stored, storage = attached.file.name, attached.file.storage
        attached.delete()
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, obj=material, request=request,
            detail={"removed": attached.name},
        )  # fmt: skip
        transaction.on_commit(lambda: storage.delete(stored))


def material_read(*, actor, material: Material) -> MaterialRead | None:
    """Record that `actor` opened `material`, where its publisher asked for a receipt from
    the areas below it; None otherwise. Opening it again changes nothing.

    Not audited: the receipt is itself the record of who read what, when."""
    # Asked of the areas below the publisher: not of itself, nor of the district above a
    # street that published (it sees the street's materials, but nobody asked it).
    if not material.receipt_asked or material.area_id not in enclosing_area_ids(actor):
        return None
    existing = MaterialRead.objects.filter(material=material, user=actor).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return MaterialRead.objects.create(material=material, user=actor)
    except IntegrityError:  # opened twice at once: the other request recorded it
        return MaterialRead.objects.get(material=material, user=actor)


def material_receipts(material: Material, viewer) -> list[dict]:
    """Who of the areas below the publisher has read `material` and who has not, per area
    the viewer sees: [{"area", "read": [(user, read_at)], "unread": [user]}], by area code."""
    accounts = (
        User.objects.filter(
            within_area(material.area, "area"), is_active=True, role__in=STAFF_ROLES
        )
        .exclude(area=material.area)
        .select_related("area")
        .order_by("area__code", "last_name", "first_name", "username")
    )
    ids = visible_area_ids(viewer)
    if ids is not None:
        accounts = accounts.filter(area_id__in=ids)
    read_at = dict(material.reads.values_list("user", "read_at"))
    rows: dict[int, dict] = {}
    for account in accounts:
        row = rows.setdefault(account.area_id, {"area": account.area, "read": [], "unread": []})
        if account.pk in read_at:
            row["read"].append((account, read_at[account.pk]))
        else:
            row["unread"].append(account)
    return list(rows.values())


def _check_materials(actor, materials) -> list[Material]:
    materials = list(materials)
    visible = set(
        Material.objects.visible_to(actor)
        .filter(pk__in=[material.pk for material in materials])
        .values_list("pk", flat=True)
    )
    if any(material.pk not in visible for material in materials):
        raise ValidationError({"materials": _("Choose study materials you can see.")})
    return materials


def training_create(*, actor, data: dict, materials=(), request=None) -> Training:
    """Record a training session the district or a street organises, with its materials."""
    if not actor.has_perm("liaison.add_training"):
        raise PermissionDenied
    with transaction.atomic():
        training = Training(created_by=actor, **data)
        _check_publisher(actor, training.area)
        chosen = _check_materials(actor, materials)
        training.full_clean()
        training.save()
        training.materials.set(chosen)
        _audit(actor, training, AuditEvent.Action.CREATE, data, request)
    return training


def training_update(*, actor, training: Training, data: dict, materials=None, request=None):
    """Change a session. Attendees who were counted the session's hours are counted its new
    hours; those given fewer (they left early) keep theirs, up to the new hours."""
    if not Training.objects.editable_by(actor).filter(pk=training.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        training = Training.objects.select_for_update().get(pk=training.pk)
        old_hours = training.hours
        changed = _changed(training, data)
        if "area" in changed:
            _check_publisher(actor, training.area)
            outside = training.attendances.exclude(within_area(training.area, "user__area"))
            if outside.exists():
                raise ValidationError(
                    {"area": _("Some attendees work outside that area: take them off the "
                               "attendance first.")}
                )  # fmt: skip
        training.full_clean()
        training.save()
        if materials is not None:
            chosen = _check_materials(actor, materials)
            if set(chosen) != set(training.materials.all()):
                training.materials.set(chosen)
                changed.append("materials")
        if "hours" in changed:
            training.attendances.filter(hours=old_hours).update(hours=training.hours)
            training.attendances.filter(hours__gt=training.hours).update(hours=training.hours)
        if changed:
            _audit(actor, training, AuditEvent.Action.UPDATE, changed, request)
    return training


def attendee_choices(training: Training):
    """The accounts that may attend `training`: active staff of its organising area and
    below, by area."""
    return (
        User.objects.filter(
            within_area(training.area, "area"), is_active=True, role__in=STAFF_ROLES
        )
        .select_related("area")
        .order_by("area__code", "last_name", "first_name", "username")
    )


def training_attendance_set(
    *, actor, training: Training, users, hours: dict | None = None, request=None
) -> None:
    """Make `users` the session's attendees. `hours` ({user id: hours}) gives one's hours
    (fewer than the session's, when they left early); without, a new attendee is counted
    the session's hours and one already recorded keeps theirs."""
    if not Training.objects.editable_by(actor).filter(pk=training.pk).exists():
        raise PermissionDenied
    hours = {pk: Decimal(str(value)) for pk, value in (hours or {}).items()}
    users = list(users)
    current = dict(training.attendances.values_list("user", "hours"))
    # Who may be ticked now. An attendee no longer among them (an account disabled since)
    # is not offered, so not sent either: kept, with the hours they count.
    choosable = set(attendee_choices(training).values_list("pk", flat=True))
    outside = [str(user) for user in users if user.pk not in choosable | set(current)]
    if outside:
        raise ValidationError(
            {"users": _("%(names)s may not attend: only the staff of %(area)s and the areas "
                        "below it attend its training.")
             % {"names": "、".join(outside), "area": training.area.name}}
        )  # fmt: skip
    for value in hours.values():
        # NaN and infinities are Decimals too: a NaN cannot even be compared.
        if (
            not value.is_finite()
            or not (Decimal(0) < value <= training.hours)
            or value.as_tuple().exponent < -1
        ):
            raise ValidationError(
                {"hours": _("Hours attended lie between 0 and the session's %(hours)s.")
                 % {"hours": training.hours}}
            )  # fmt: skip
    with transaction.atomic():
        wanted = {user.pk for user in users} | (set(current) - choosable)
        removed = set(current) - wanted
        training.attendances.filter(user__in=removed).delete()
        Attendance.objects.bulk_create(
            [
                Attendance(training=training, user_id=pk, hours=hours.get(pk, training.hours))
                for pk in wanted - set(current)
            ]
        )
        for pk in wanted & set(current):
            if pk in hours and hours[pk] != current[pk]:
                training.attendances.filter(user=pk).update(hours=hours[pk])
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, obj=training, request=request,
            detail={"attendees": len(wanted), "created": len(wanted - set(current)),
                    "removed": len(removed)},
        )  # fmt: skip


def workers_hours(street: Area, year: int) -> list[dict]:
    """The street's and its communities' staff with their training hours in `year`:
    [{"user", "area", "hours"}] by area code, then name; none left out for having none, and
    an account disabled since kept for the hours it had."""
    totals = Attendance.objects.filter(user__area__in=Area.objects.within(street)).hours_by_user(
        year
    )
    accounts = (
        User.objects.filter(within_area(street, "area"), role__in=STAFF_ROLES)
        .filter(Q(is_active=True) | Q(pk__in=list(totals)))
        .select_related("area")
        .order_by("area__code", "last_name", "first_name", "username")
    )
    return [
        {"user": account, "area": account.area, "hours": totals.get(account.pk, Decimal(0))}
        for account in accounts
    ]


# Study materials and training published by a street move with it should a street ever be
# merged (the kernel merges communities and grids only today: their count is then 0).
def area_materials_count(area: Area) -> int:
    return Material.objects.filter(area=area).count()


def area_materials_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    area_records_repoint(
        actor=actor, source=source, target=target, records={"materials": Material},
        request=request, change=change,
    )  # fmt: skip


def area_trainings_count(area: Area) -> int:
    return Training.objects.filter(area=area).count()


def area_trainings_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    area_records_repoint(
        actor=actor, source=source, target=target, records={"trainings": Training},
        request=request, change=change,
    )  # fmt: skip


AREA_MOVERS += [
    (gettext_lazy("study materials"), area_materials_count, area_materials_move),
    (gettext_lazy("training sessions"), area_trainings_count, area_trainings_move),
]

# -- end of library and training --
