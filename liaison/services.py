"""Writes of notices, tasks, reports, the study library and training: each a keyword-only
function that checks the actor's area and rights, writes in one transaction and audits."""

# (label, count(area) -> int, move(source, target) -> None) for each kind of record that
# belongs to an area, registered with tongzhan's area merges by apps.LiaisonConfig.ready.
AREA_MOVERS: list = []

# -- Notices (通知公告) ----------------------------------------------------------------------
import contextlib  # noqa: E402

from django.core.exceptions import PermissionDenied, ValidationError  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.utils.translation import gettext_lazy  # noqa: E402

from tongzhan.audit import audit_record  # noqa: E402
from tongzhan.models import Area, AuditEvent, User  # noqa: E402
from tongzhan.scoping import area_prefix  # noqa: E402
from tongzhan.uploads import UploadRefused, check_upload  # noqa: E402

from .models import Notice, NoticeCopy, NoticeFile  # noqa: E402

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
    return notice.area.code.startswith(prefix)


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


def _notice_uploads_checked(uploads) -> list:
    """Each upload with its type by its bytes; the first refused one refuses them all."""
    checked = []
    for upload in uploads:
        try:
            checked.append((upload, check_upload(upload)))
        except UploadRefused as refused:
            raise ValidationError({"files": refused.message}) from None
    return checked


@contextlib.contextmanager
def _notice_files_kept_only_if_committed():
    """The stored files of a send, deleted again if its transaction rolls back."""
    stored = []
    try:
        yield stored
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise


def notice_send(
    *, actor, data: dict, area: Area | None = None, communities=(), uploads=(), request=None
) -> Notice:
    """Send a notice from the actor's own area to every community below `area`, or to the
    `communities` chosen, with its photos and PDFs; one copy per community.

    `data`: title, body, reply_by. A refused file or recipient refuses the whole notice.
    """
    if not notice_can_send(actor):
        raise PermissionDenied
    checked = _notice_uploads_checked(uploads)
    sender_area = actor.area
    recipients = notice_recipients(sender_area=sender_area, area=area, communities=communities)
    reply_by = data.get("reply_by")
    if reply_by is not None and reply_by < timezone.localdate():
        raise ValidationError({"reply_by": _("The reply date has passed: choose a later day.")})
    with _notice_files_kept_only_if_committed() as stored, transaction.atomic():
        notice = Notice(area=sender_area, created_by=actor, **data)
        notice.full_clean()
        notice.save()
        names = []
        for upload, file_type in checked:
            attached = NoticeFile(
                notice=notice,
                name=upload.name[:200],
                kind=file_type.kind,
                content_type=file_type.content_type,
                size=upload.size,
                uploaded_by=actor,
            )
            attached.file.save("upload", upload, save=False)
            stored.append((attached.file.storage, attached.file.name))
            attached.save()
            names.append(attached.name)
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

# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------

# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# -- end of library and training --
