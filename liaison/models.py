"""Work that flows between the district, its streets and communities (上传下达, 督办, 报送).

Notices and tasks go down from a district or street to the areas below it, one copy per
receiving area; reports go up; the study library and training serve every level. Each record
belongs to an area through the one scoping mechanism (`tongzhan.scoping`): a community sees
what was sent to it, a street its own and its communities' copies, the district everything.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import Exists, F, Func, OuterRef, Q, Sum, Value
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.models import Activity, Need, Visit
from tongzhan.attachments import Attachment, attachment_path
from tongzhan.models import Area, User
from tongzhan.scoping import (
    ScopedQuerySet,
    enclosing_area_ids,
    visible_area_ids,
    within_area,
)

# -- Notices (通知公告) ----------------------------------------------------------------------
NOTICE_FILES_FOLDER = "notices"  # under MEDIA_ROOT, one folder per notice

# The names the migrations give the files' upload paths.
_notice_file_path = _task_file_path = _report_file_path = _material_file_path = attachment_path


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
    # 撤回: the sender took it back, saying why; nothing of it is deleted, and nobody owes
    # anything on it any more.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        User,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["area", "-sent_at"], name="notice_area_sent_idx")]

    def __str__(self):
        return self.title

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def asks_reply(self) -> bool:
        return self.reply_by is not None


class NoticeFile(Attachment):
    """A photo or PDF sent with a notice. Served only through a view that checks scope."""

    upload_folder = NOTICE_FILES_FOLDER
    owner_field = "notice"

    notice = models.ForeignKey(
        Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="files"
    )

    class Meta(Attachment.Meta):
        verbose_name = _("notice file")
        verbose_name_plural = _("notice files")


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
        return self.filter(area_id=user.area_id, notice__withdrawn_at__isnull=True).filter(
            Q(read_at__isnull=True) | Q(notice__reply_by__isnull=False, replied_at__isnull=True)
        )

    def overdue(self, today):
        """Copies whose reply was asked for before `today` and is not given (nothing is owed
        on a notice withdrawn)."""
        return self.filter(
            notice__reply_by__lt=today, replied_at__isnull=True, notice__withdrawn_at__isnull=True
        )


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
        return (
            self.notice.reply_by is not None
            and self.replied_at is None
            and not self.notice.is_withdrawn
        )

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.reply_owed and self.notice.reply_by < today


# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------
# A task (年度信息核查, 中秋走访) goes down from a district or street to chosen areas below it,
# one copy (TaskCopy) per area, each moving 下发 → 已接收 → 办理中 → 已完成 → 已审核; the
# sender may send a done copy back (退回) to 办理中 with a reason. Issue 16.
# The states a copy is still worked on in: past the deadline, it is overdue.
TASK_OPEN_STATES = ("issued", "received", "in_progress")


class TaskQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Tasks sent by an area within the user's, or with a copy the user sees."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        if not ids:
            return self.none()
        copies = TaskCopy.objects.filter(area_id__in=ids).values("task_id")
        return self.filter(Q(area_id__in=ids) | Q(pk__in=copies))

    def sent_within(self, user):
        """Tasks sent by the user's area or an area below it (the 'sent' box)."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        return self.filter(area_id__in=ids)


class Task(models.Model):
    """A task sent down by a district or street to areas below it, with a deadline."""

    area = models.ForeignKey(
        "tongzhan.Area",
        verbose_name=_("sending area"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("what to do"))
    deadline = models.DateField(_("deadline"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    # 撤回: the sender took it back, saying why; nothing of it is deleted, and nobody owes
    # anything on it any more.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area", "-created_at"], name="task_area_created_idx")]

    def __str__(self):
        return self.title

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class TaskCopyQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "liaison.change_taskcopy"

    OPEN = TASK_OPEN_STATES

    def visible_to(self, user):
        """The copies of the user's area and below, and every copy of a task sent from there
        (a copy taken along by a merge into another street stays on its sender's table)."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        if not ids:
            return self.none()
        return self.filter(Q(area_id__in=ids) | Q(task__area_id__in=ids))

    @staticmethod
    def is_overdue(today: datetime.date) -> Q:
        """Still worked on past the deadline, of a task not withdrawn."""
        return Q(
            state__in=TaskCopyQuerySet.OPEN,
            task__deadline__lt=today,
            task__withdrawn_at__isnull=True,
        )

    def overdue(self, today: datetime.date):
        return self.filter(self.is_overdue(today))

    def with_overdue(self, today: datetime.date):
        return self.annotate(
            overdue=models.Case(
                models.When(self.is_overdue(today), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def waiting_for(self, user):
        """The copies waiting on the user (the to-do page): those of the user's own area still
        to be received, started or reported, and the done copies of tasks the user's area
        sent, when the user may review them."""
        if not user.is_authenticated or user.area_id is None:
            return self.none()
        waiting = Q()  # of tasks not withdrawn, below
        if user.has_perm("liaison.change_taskcopy"):
            waiting |= Q(area_id=user.area_id, state__in=self.OPEN)
        if user.has_perm("liaison.review_taskcopy"):
            waiting |= Q(task__area_id=user.area_id, state=TaskCopy.State.DONE)
        if not waiting:
            return self.none()
        return self.filter(waiting, task__withdrawn_at__isnull=True)


class TaskCopy(models.Model):
    """One receiving area's copy of a task, and how far it is."""

    class State(models.TextChoices):
        ISSUED = "issued", _("Issued")
        RECEIVED = "received", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", pgettext_lazy("of a task", "Done")
        APPROVED = "approved", _("Approved")

    # The order the states come in, for sorting the supervision table.
    ORDER = {State.ISSUED: 1, State.RECEIVED: 2, State.IN_PROGRESS: 3, State.DONE: 4,
             State.APPROVED: 5}  # fmt: skip

    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="copies"
    )
    area = models.ForeignKey(
        "tongzhan.Area",
        verbose_name=_("receiving area"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set on a copy an area merge (撤并) brought along: the area that received it. Both copies
    # are kept, each with its own work and history.
    merged_from = models.ForeignKey(
        "tongzhan.Area",
        verbose_name=_("received by (before a merge)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ISSUED)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    report = models.TextField(_("report"), blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    # Why the sender sent it back; cleared when the copy is reported again (kept in history).
    returned_reason = models.TextField(_("reason for return"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    activities = models.ManyToManyField(
        Activity, verbose_name=_("activities"), blank=True, related_name="+"
    )
    visits = models.ManyToManyField(Visit, verbose_name=_("visits"), blank=True, related_name="+")
    needs = models.ManyToManyField(Need, verbose_name=_("needs"), blank=True, related_name="+")

    objects = TaskCopyQuerySet.as_manager()

    class Meta:
        verbose_name = _("task copy")
        verbose_name_plural = _("task copies")
        ordering = ["task", "area__code", "id"]
        permissions = [("review_taskcopy", _("Can approve or return a task copy"))]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "area"],
                condition=Q(merged_from__isnull=True),
                name="taskcopy_one_per_area",
            ),
            models.UniqueConstraint(
                fields=["task", "area", "merged_from"], name="taskcopy_one_per_merged_area"
            ),
        ]
        indexes = [
            models.Index(fields=["area", "state"], name="taskcopy_area_state_idx"),
        ]

    def __str__(self):
        return f"{self.task} · {self.area}"

    @property
    def is_open(self) -> bool:
        """Still worked on: received, started or reported, and its task not withdrawn."""
        return self.state in TaskCopyQuerySet.OPEN and not self.task.is_withdrawn

    @property
    def is_returned(self) -> bool:
        """Sent back and not reported again yet: shown as 已退回."""
        return self.state == self.State.IN_PROGRESS and bool(self.returned_reason)

    @property
    def state_label(self):
        return _("Returned") if self.is_returned else self.get_state_display()

    def days_left(self, today: datetime.date) -> int | None:
        """Days to the deadline (negative: overdue) while open; None once done."""
        if not self.is_open:
            return None
        return (self.task.deadline - today).days


class TaskCopyEvent(models.Model):
    """One change of a copy: who moved it from which state to which, and why."""

    copy = models.ForeignKey(
        TaskCopy, verbose_name=_("task copy"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20)
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("task copy event")
        verbose_name_plural = _("task copy events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["copy", "at"], name="taskcopyevent_copy_idx")]

    def __str__(self):
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"

    ACTIONS = {
        "send": _("Issued"),
        "receive": _("Received"),
        "start": _("Started"),
        "report": _("Reported done"),
        "approve": _("Approved"),
        "return": _("Returned"),
        "merge": _("Moved by an area merge"),
        "withdraw": _("Task withdrawn"),
    }

    @property
    def action_label(self):
        return self.ACTIONS.get(self.action, self.action)

    @property
    def from_label(self):
        return TaskCopy.State(self.from_state).label if self.from_state else ""

    @property
    def to_label(self):
        return TaskCopy.State(self.to_state).label


class TaskFile(Attachment):
    """A photo or PDF of a task (copy empty) or of one area's report on it (copy set).
    Served only through views that check scope."""

    upload_folder = "liaison/tasks"
    owner_field = "task"  # a report's files too are kept in their task's folder

    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="files"
    )
    copy = models.ForeignKey(
        TaskCopy,
        verbose_name=_("task copy"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="files",
    )

    class Meta(Attachment.Meta):
        verbose_name = _("task file")
        verbose_name_plural = _("task files")


# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------


class ReportQuerySet(models.QuerySet):
    """Reports a user sees: those sent from their area or below, and those sent to it or to
    an area below it (a district sees what its communities sent their streets)."""

    def visible_to(self, user):
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        if not ids:
            return self.none()
        return self.filter(Q(area_id__in=ids) | Q(to_area_id__in=ids))

    def pending(self):
        """Awaiting a decision: neither decided nor withdrawn."""
        return self.filter(decision=Report.Decision.PENDING, withdrawn_at__isnull=True)

    def waiting_for(self, user):
        """For the to-do page: reports sent to the user's own area that wait for its
        decision, when the user may decide them."""
        if (
            not user.is_authenticated
            or user.area_id is None
            or not user.has_perm("liaison.decide_report")
        ):
            return self.none()
        return self.filter(to_area_id=user.area_id).pending()

    def adopted(self):
        return self.filter(decision=Report.Decision.ADOPTED)

    def adopted_in(self, area, start, end):
        """Reports sent from `area` (or below it) adopted (采用) from `start` to `end` (moments,
        end excluded): what the assessment counts, by the day of the decision."""
        return self.adopted().filter(
            within_area(area, "area"), decided_at__gte=start, decided_at__lt=end
        )


class Report(models.Model):
    """A piece of information (信息报送) a community or street sends up to its street or the
    district: 社情民意, 工作动态 or 经验做法. The receiving level adopts it (采用) or not, with a
    comment; adoptions per area and period count in the assessment."""

    class Kind(models.TextChoices):
        PUBLIC_OPINION = "public_opinion", _("Public opinion")
        WORK_NEWS = "work_news", _("Work news")
        GOOD_PRACTICE = "good_practice", _("Good practice")

    class Decision(models.TextChoices):
        PENDING = "pending", _("Awaiting decision")
        ADOPTED = "adopted", _("Adopted")
        DECLINED = "declined", _("Not adopted")

    area = models.ForeignKey(
        Area, verbose_name=_("sent by area"), on_delete=models.PROTECT, related_name="+"
    )
    to_area = models.ForeignKey(
        Area, verbose_name=_("sent to"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("content"))
    submitted_by = models.ForeignKey(
        User,
        verbose_name=pgettext_lazy("report", "sent by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(pgettext_lazy("report", "sent at"), default=timezone.now)
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # 撤回: the sending area took it back before it was decided, saying why.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        User,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("report", "report")
        verbose_name_plural = _("reports")
        ordering = ["-submitted_at", "-id"]
        permissions = [("decide_report", "Can decide whether a report is adopted")]
        indexes = [
            models.Index(fields=["area", "-submitted_at"], name="report_area_idx"),
            models.Index(fields=["to_area", "decision"], name="report_to_area_idx"),
            models.Index(fields=["decision", "decided_at"], name="report_decided_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="pending") | Q(decided_at__isnull=False),
                name="report_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(area=models.F("to_area")), name="report_sent_elsewhere"
            ),
            # Only a report not decided yet is withdrawn.
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(decision="pending"),
                name="report_withdrawn_undecided",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class ReportFile(Attachment):
    """A photo or PDF sent with a report. Served only through a view that checks scope."""

    upload_folder = "reports"
    owner_field = "report"

    report = models.ForeignKey(
        Report,
        verbose_name=pgettext_lazy("report", "report"),
        on_delete=models.CASCADE,
        related_name="files",
    )

    class Meta(Attachment.Meta):
        verbose_name = _("report file")
        verbose_name_plural = _("report files")


# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# The levels that publish to the library and organise training: the district and streets.
PUBLISHING_LEVELS = ("district", "street")
# The accounts that read, take part in training and count its hours: the areas' staff.
STAFF_ROLES = ("community", "street", "district")


def publisher_ids(user) -> list[int] | None:
    """The areas whose study materials and training the user sees: the areas above theirs
    (a street sees its district's, a community its street's and district's) and theirs and
    below (the district sees its streets'); None for every area."""
    ids = visible_area_ids(user)
    if not ids:
        return ids
    return [*ids, *enclosing_area_ids(user)]


class PublishedQuerySet(ScopedQuerySet):
    """Records published by an area for the areas below it: visible above and below,
    editable by the publishing area and those above it."""

    area_field = "area"

    def visible_to(self, user):
        ids = publisher_ids(user)
        if ids is None:
            return self.all()
        return self.filter(area_id__in=ids)

    def editable_by(self, user):
        """Those of the user's area and below: a street does not edit its district's."""
        if not user.is_authenticated or not user.has_perm(self.change_permission):
            return self.none()
        return super().visible_to(user)


class MaterialQuerySet(PublishedQuerySet):
    change_permission = "liaison.change_material"

    def search(self, text: str):
        """Materials whose title or text contains `text`, as typed (case aside): Chinese
        has no spaces between words, so a word is a substring, and two-character words are
        common.

        On PostgreSQL through the trigram index of migration 0001 (pg_trgm makes trigrams
        of Chinese characters under the database's C.UTF-8 ctype). Measured on PostgreSQL
        15, 5,000 materials of 2,300 characters, the list's count and first page: a plain
        scan 0.37-0.55 s (20,000 materials: 1.6 s); a word of 3+ characters through the
        index 0.003 s (in none) to 0.03 s (in 12) and 0.22 s (in 1,523, each read again).
        A two-character word has no trigram: the table is read, 0.56 s. SQLite: a scan.
        """
        text = text.strip()
        if not text:
            return self
        if connections[self.db].vendor == "postgresql":
            haystack = Func(
                F("title"), F("body"), function="liaison_material_haystack",
                output_field=models.TextField(),
            )  # fmt: skip
            return self.alias(haystack=haystack).filter(haystack__contains=Upper(Value(text)))
        return self.filter(Q(title__icontains=text) | Q(body__icontains=text))

    def waiting_for(self, user):
        """The materials an area above the user's asked them to confirm reading, not yet
        read: for the to-do list. The publisher's own area is not asked.

        The areas above are the user's street and district, named in the query itself (the
        parent, and the parent's parent as a subquery): the header counts this on every
        page, where looking them up first would cost queries of its own.
        """
        area = user.area if user.is_authenticated else None
        if area is None or area.parent_id is None:
            return self.none()
        grandparent = Area.objects.filter(pk=area.parent_id, parent__isnull=False).values(
            "parent_id"
        )
        above = Q(area_id=area.parent_id) | Q(area_id__in=grandparent)
        return self.filter(above, receipt_asked=True).exclude(reads__user=user)


class Material(models.Model):
    """A study material (学习资料) a district or street publishes to every area below it:
    a regulation, a policy, a case, training material; full text searchable."""

    class Kind(models.TextChoices):
        REGULATION = "regulation", _("Regulation")
        POLICY = "policy", _("Policy")
        CASE = "case", _("Case")
        TRAINING = "training", _("Training material")

    area = models.ForeignKey(
        Area, verbose_name=_("published by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    receipt_asked = models.BooleanField(
        _("ask for a read receipt"),
        default=False,
        help_text=_("Each account below the publisher is asked to confirm having read it."),
    )
    published_by = models.ForeignKey(
        User, verbose_name=_("published by"), on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MaterialQuerySet.as_manager()

    class Meta:
        verbose_name = _("study material")
        verbose_name_plural = _("study materials")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["area", "-published_at"], name="material_area_published_idx"),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.area_id and self.area.level not in PUBLISHING_LEVELS:
            raise ValidationError({"area": _("Choose the district or a street.")})


class MaterialFile(Attachment):
    """A photo or PDF of a study material. Served only through a view that checks scope."""

    upload_folder = "library"
    owner_field = "material"

    material = models.ForeignKey(
        Material, verbose_name=_("study material"), on_delete=models.CASCADE, related_name="files"
    )

    class Meta(Attachment.Meta):
        verbose_name = _("study material file")
        verbose_name_plural = _("study material files")


class MaterialRead(models.Model):
    """A read receipt: an account opened a material whose publisher asked for one."""

    material = models.ForeignKey(
        Material, verbose_name=_("study material"), on_delete=models.CASCADE, related_name="reads"
    )
    user = models.ForeignKey(
        User, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(_("read at"), auto_now_add=True)

    class Meta:
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        ordering = ["read_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["material", "user"], name="material_read_once"),
        ]

    def __str__(self):
        return f"{self.user} · {self.material}"


class TrainingQuerySet(PublishedQuerySet):
    change_permission = "liaison.change_training"


class Training(models.Model):
    """A training session for the areas' united front staff (统战委员培训), organised by the
    district or a street: when, how many hours, where, with which study materials."""

    area = models.ForeignKey(
        Area, verbose_name=_("organising area"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(24)],
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    materials = models.ManyToManyField(
        Material, verbose_name=_("study materials"), related_name="trainings", blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = TrainingQuerySet.as_manager()

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["area", "-date"], name="training_area_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=24),
                name="training_hours_in_a_day",
                violation_error_message=_("A session lasts more than 0 and at most 24 hours."),
            )
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.area_id and self.area.level not in PUBLISHING_LEVELS:
            raise ValidationError({"area": _("Choose the district or a street.")})


class AttendanceQuerySet(models.QuerySet):
    def in_year(self, year: int):
        return self.filter(training__date__year=year)

    def hours_by_area(self, year: int) -> dict[int, Decimal]:
        """{area id: training hours of its staff accounts in `year`}, by the area each
        account works in now: for the assessment's "workers' training hours" of a community.
        Areas without any hour are left out."""
        return dict(
            self.in_year(year)
            .filter(user__area__isnull=False)
            .values_list("user__area")
            .annotate(total=Sum("hours"))
            .order_by()
        )

    def hours_by_user(self, year: int) -> dict[int, Decimal]:
        """{account id: training hours in `year`}."""
        return dict(self.in_year(year).values_list("user").annotate(total=Sum("hours")).order_by())


class Attendance(models.Model):
    """An account's attendance at a training session, with the hours it counts (the
    session's unless it left early)."""

    training = models.ForeignKey(
        Training, verbose_name=_("training session"), on_delete=models.CASCADE,
        related_name="attendances",
    )  # fmt: skip
    user = models.ForeignKey(
        User, verbose_name=_("account"), on_delete=models.PROTECT, related_name="attendances"
    )
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(24)],
    )

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["training", "user"]
        constraints = [
            models.UniqueConstraint(fields=["training", "user"], name="attendance_once"),
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=24),
                name="attendance_hours_in_a_day",
                violation_error_message=_("A session lasts more than 0 and at most 24 hours."),
            ),
        ]
        indexes = [models.Index(fields=["user", "training"], name="attendance_user_idx")]

    def __str__(self):
        return f"{self.user} · {self.training}"


# -- end of library and training --
