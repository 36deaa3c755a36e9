"""Work that flows between the district, its streets and communities (上传下达, 督办, 报送).

Notices and tasks go down from a district or street to the areas below it, one copy per
receiving area; reports go up; the study library and training serve every level. Each record
belongs to an area through the one scoping mechanism (`tongzhan.scoping`): a community sees
what was sent to it, a street its own and its communities' copies, the district everything.
"""

from django.db import models  # noqa: F401
from django.utils.translation import gettext_lazy as _  # noqa: F401

# -- Notices (通知公告) ----------------------------------------------------------------------
NOTICE_FILES_FOLDER = "notices"  # under MEDIA_ROOT, one folder per notice

import uuid  # noqa: E402

from django.db.models import Exists, OuterRef, Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from tongzhan.models import Area, User  # noqa: E402
from tongzhan.scoping import ScopedQuerySet, visible_area_ids  # noqa: E402


class NoticeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Notices sent by an area at or below the user's, and those with a copy there: a
        community sees what was sent to it, a street what it sent and what its communities
        received, the district everything its areas sent or received."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        if not ids:
            return self.none()
        received = NoticeCopy.objects.filter(notice=OuterRef("pk"), area_id__in=ids)
        return self.filter(Q(area_id__in=ids) | Exists(received))

    def sent_within(self, user):
        """Notices sent by the user's area or an area below it (all, for superusers)."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        return self.filter(area_id__in=ids)


class Notice(models.Model):
    """A notice (通知公告) a district or street sends down, one copy per receiving community.

    `reply_by` set means a reply is asked for by that day.
    """

    area = models.ForeignKey(
        Area, verbose_name=_("sending area"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    reply_by = models.DateField(
        _("reply by"),
        null=True,
        blank=True,
        help_text=_("Leave empty when no reply is needed."),
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["area", "-sent_at"], name="notice_area_sent_idx")]

    def __str__(self):
        return self.title

    @property
    def asks_reply(self) -> bool:
        return self.reply_by is not None


def _notice_file_path(instance, filename: str) -> str:
    # A random name: the uploaded one may say more than it should, and is kept in `name`.
    return f"{NOTICE_FILES_FOLDER}/{instance.notice_id}/{uuid.uuid4().hex}{instance.extension}"


class NoticeFile(models.Model):
    """A photo or PDF sent with a notice. Served only through a view that checks scope."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        PDF = "pdf", _("PDF document")

    notice = models.ForeignKey(
        Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="files"
    )
    file = models.FileField(_("file"), upload_to=_notice_file_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice file")
        verbose_name_plural = _("notice files")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name

    @property
    def extension(self) -> str:
        return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(
            self.content_type, ".pdf"
        )


class NoticeCopyQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "liaison.change_noticecopy"

    def unread(self):
        return self.filter(read_at__isnull=True)

    def waiting_for(self, user):
        """Copies of the user's own area (not those below it) still to be read, or whose
        asked-for reply is still to be given: the user's to-do list."""
        if not user.is_authenticated or user.area_id is None:
            return self.none()
        return self.filter(area_id=user.area_id).filter(
            Q(read_at__isnull=True) | Q(notice__reply_by__isnull=False, replied_at__isnull=True)
        )

    def overdue(self, today):
        """Copies whose reply was asked for before `today` and is not given."""
        return self.filter(notice__reply_by__lt=today, replied_at__isnull=True)


class NoticeCopy(models.Model):
    """A notice as one receiving community has it: whether and when it was read (first
    opened by a user of that community), its reply, and the last reminder (催办)."""

    notice = models.ForeignKey(
        Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="copies"
    )
    area = models.ForeignKey(
        Area, verbose_name=_("receiving area"), on_delete=models.PROTECT, related_name="+"
    )
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    read_by = models.ForeignKey(
        User,
        verbose_name=_("read by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        User,
        verbose_name=_("replied by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    objects = NoticeCopyQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice copy")
        verbose_name_plural = _("notice copies")
        ordering = ["-notice_id", "area_id"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "area"], name="noticecopy_one_per_area")
        ]
        indexes = [
            # The unread copies of an area: its to-do list and its list's "unread only".
            models.Index(
                fields=["area"], condition=Q(read_at__isnull=True), name="noticecopy_unread_idx"
            ),
            models.Index(fields=["area", "-notice"], name="noticecopy_area_notice_idx"),
        ]

    def __str__(self):
        return f"{self.notice} · {self.area}"

    @property
    def reply_owed(self) -> bool:
        return self.notice.reply_by is not None and self.replied_at is None

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.reply_owed and self.notice.reply_by < today


# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------

# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------

# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# -- end of library and training --
