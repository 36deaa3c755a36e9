"""Activities (活动): the meetings, campaigns and services a community, street or district holds.

An activity belongs to the area that organised it; members take part through
`Participation`, indexed by member first so a member's page lists their activities from the
index alone.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
from organisations.models import Organisation, Place
from tongzhan.attachments import Attachment, attachment_path
from tongzhan.models import Area, User
from tongzhan.scoping import ScopedQuerySet, visible_area_ids


class ActivityType(models.Model):
    """A kind of activity (座谈会/协商议事, 走访慰问 ...); administrators keep the list."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=40, unique=True)
    # 社会服务 and its kinds serve people: their activities count 服务群众人次.
    serves_people = models.BooleanField(_("serves people"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("activity type")
        verbose_name_plural = _("activity types")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


def organiser_ids(user) -> list[int] | None:
    """The areas whose activities the user sees: theirs and below, and the areas above
    theirs (joint activities); None for every area."""
    ids = visible_area_ids(user)
    if not ids:
        return ids
    code = user.area.code
    above = list(
        Area.objects.filter(code__in=[code[:6], code[:9]])
        .exclude(code=code)
        .values_list("pk", flat=True)
    )
    return [*ids, *above]


class ActivityQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "activities.change_activity"

    def visible_to(self, user):
        """Activities of the user's area and below, and the joint ones of the areas above it.

        A street's or district's joint activity concerns every community under it, so their
        workers see it (and pick their members as participants); editing stays with the
        organising area (`editable_by`).
        """
        ids = organiser_ids(user)
        if ids is None or not ids:
            return super().visible_to(user)
        return self.filter(area_id__in=ids)

    def editable_by(self, user):
        if not user.is_authenticated or not user.has_perm(self.change_permission):
            return self.none()
        return super().visible_to(user)


class Activity(models.Model):
    """One activity: what, when, where, who organised it, who took part, what it achieved."""

    type = models.ForeignKey(
        ActivityType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    # A place of the list (阵地) when one fits; the free text stays for anywhere else.
    # PROTECT: a place that has held activities is put out of use, not deleted, so they keep
    # where they were held.
    venue = models.ForeignKey(
        Place,
        verbose_name=pgettext_lazy("united-front position", "place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,  # activity_venue_start_idx leads with it
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("organising area"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A community, or the street or district for a joint activity."),
    )
    organiser = models.CharField(_("organiser"), max_length=100, blank=True)
    participants = models.ManyToManyField(
        Member,
        verbose_name=_("participating members"),
        through="Participation",
        related_name="activities",
        blank=True,
    )
    partners = models.ManyToManyField(
        Organisation,
        verbose_name=_("partner organisations"),
        related_name="activities",
        blank=True,
    )
    other_attendees = models.PositiveIntegerField(_("other attendees"), default=0)
    people_served = models.PositiveIntegerField(
        _("people served"), default=0, help_text=_("How many people the activity reached.")
    )
    funds = models.DecimalField(
        _("funds spent (yuan)"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    funds_source = models.CharField(_("source of funds"), max_length=100, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["area", "-starts_at"], name="activity_area_start_idx"),
            models.Index(fields=["type", "-starts_at"], name="activity_type_start_idx"),
            models.Index(fields=["-starts_at"], name="activity_start_idx"),
            # A place's page: its activities, latest first.
            models.Index(fields=["venue", "-starts_at"], name="activity_venue_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gte=models.F("starts_at")),
                name="activity_ends_after_start",
                violation_error_message=_("The end lies before the start."),
            )
        ]

    def __str__(self):
        return self.title

    def clean(self):
        errors = {}
        if self.area_id and self.area.level == Area.Level.GRID:
            errors["area"] = _("Choose a community, street or district.")
        if self.ends_at and self.starts_at and self.ends_at < self.starts_at:
            errors["ends_at"] = _("The end lies before the start.")
        if errors:
            raise ValidationError(errors)


# The name the migrations give the files' upload path.
_file_path = attachment_path


class ActivityFile(Attachment):
    """A photo or document of an activity. Served only through a view that checks scope."""

    upload_folder = "activities"
    owner_field = "activity"

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="files"
    )

    class Meta(Attachment.Meta):
        verbose_name = _("activity file")
        verbose_name_plural = _("activity files")


class ActivityTally(models.Model):
    """Activities of one organising area in one month, by type, and the people they served.

    The dashboards add up these rows instead of counting every activity of a year on each
    view; `activities.services.activity_tally_refresh` recounts an area's month in the
    transaction of every activity write.
    """

    # Counts recounted from the activities: not a record of its own that holds an area.
    area_derived = True

    area = models.ForeignKey(
        Area, verbose_name=_("organising area"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("month"))  # its first day, in local time
    type = models.ForeignKey(
        ActivityType, verbose_name=_("type"), on_delete=models.CASCADE, related_name="+"
    )
    count = models.PositiveIntegerField(_("activities"))
    people_served = models.PositiveIntegerField(_("people served"))

    class Meta:
        verbose_name = _("activity tally")
        verbose_name_plural = _("activity tallies")
        ordering = ["area", "month", "type"]
        constraints = [
            models.UniqueConstraint(fields=["area", "month", "type"], name="activitytally_unique")
        ]
        indexes = [models.Index(fields=["month", "area"], name="activitytally_month_idx")]

    def __str__(self):
        return f"{self.area_id} {self.month:%Y-%m} {self.type_id}: {self.count}"


class Participation(models.Model):
    """That a member took part in an activity."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, db_index=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, db_index=False)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member"], name="participation_unique_activity_member"
            )
        ]
        # The member's page: their activities, newest first, from this index.
        indexes = [models.Index(fields=["member", "activity"], name="participation_member_idx")]

    def __str__(self):
        return f"{self.activity_id}·{self.member_id}"


class ChangeRecord(models.Model):
    """One entry of a record's history, as `members.MemberChange` is for members.

    Values are stored as people read them, so the history reads the same after reference
    data changes. Subclasses add the foreign key to their record.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Recorded")
        UPDATE = "update", _("Updated")
        STATUS = "status", _("Status changed")

    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class ActivityChange(ChangeRecord):
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="changes"
    )

    class Meta(ChangeRecord.Meta):
        verbose_name = _("activity change")
        verbose_name_plural = _("activity changes")
        indexes = [models.Index(fields=["activity", "-at"], name="activitychange_activity_idx")]


class VisitQuerySet(ScopedQuerySet):
    """Visits follow the people visited: a visit is seen where one of its members is kept
    now (the community that made it keeps only its count, `Visit.community`). It is changed
    by the staff of that community and above, while everyone on it is still theirs."""

    area_field = "community"
    change_permission = "activities.change_visit"

    def visible_to(self, user):
        ids = visible_area_ids(user)
        if ids is None or not ids:
            return super().visible_to(user)
        visited = Visit.members.through.objects.filter(member__community_id__in=ids)
        # A visit whose members were all deleted stays with the community that made it.
        nobody = ~models.Exists(Visit.members.through.objects.filter(visit=models.OuterRef("pk")))
        return self.filter(
            Q(pk__in=visited.values("visit_id")) | (nobody & Q(community_id__in=ids))
        )

    def editable_by(self, user):
        if not user.is_authenticated or not user.has_perm(self.change_permission):
            return self.none()
        ids = visible_area_ids(user)
        if ids is None or not ids:
            return super().visible_to(user)
        moved_away = Visit.members.through.objects.filter(visit=models.OuterRef("pk")).exclude(
            member__community_id__in=ids
        )
        return self.filter(community_id__in=ids).exclude(models.Exists(moved_away))


class Visit(models.Model):
    """A visit or talk (走访 / 谈心谈话) with one or more members of a community."""

    class Way(models.TextChoices):
        HOME = "home", _("Home visit")
        PHONE = "phone", _("Phone call")
        WECHAT = "wechat", _("WeChat")
        MEETING = "meeting", _("Talk at a meeting")

    # The community that made the visit; its counts stay there when a member moves away.
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    members = models.ManyToManyField(
        Member, verbose_name=_("members visited"), related_name="visits"
    )
    date = models.DateField(_("date"))
    staff = models.CharField(_("staff who went"), max_length=100)
    way = models.CharField(_("way"), max_length=10, choices=Way.choices, default=Way.HOME)
    situation = models.TextField(_("situation learnt"), blank=True)
    opinions = models.TextField(_("opinions and suggestions"), blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["community", "-date"], name="visit_community_date_idx")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_way_display()}"

    def clean(self):
        if self.community_id and self.community.level != Area.Level.COMMUNITY:
            raise ValidationError({"community": _("Choose a community.")})


class VisitChange(ChangeRecord):
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="changes"
    )

    class Meta(ChangeRecord.Meta):
        verbose_name = _("visit change")
        verbose_name_plural = _("visit changes")
        indexes = [models.Index(fields=["visit", "-at"], name="visitchange_visit_idx")]


# An open need due within this many days waits on the home page of those who follow it up.
DUE_SOON_DAYS = 7


class NeedQuerySet(ScopedQuerySet):
    """Needs. What counts as open, overdue, closed and resolved is said here once; the lists,
    dashboards, reports and assessment filter (`.open()`) or count (`Count("id",
    filter=NeedQuerySet.is_open())`) with the same conditions."""

    # A need follows its member: the community keeping her now sees and follows it up.
    area_field = "member__community"
    change_permission = "activities.change_need"

    @staticmethod
    def is_open() -> Q:
        """待办 or 办理中."""
        return Q(status__in=Need.OPEN)

    @staticmethod
    def is_overdue(today: datetime.date) -> Q:
        """Open after its due date."""
        return NeedQuerySet.is_open() & Q(due_date__lt=today)

    @staticmethod
    def is_due_soon(today: datetime.date) -> Q:
        """Open and due within `DUE_SOON_DAYS` days, or overdue (what the home page's 待办
        counts)."""
        return NeedQuerySet.is_open() & Q(
            due_date__lte=today + datetime.timedelta(days=DUE_SOON_DAYS)
        )

    @staticmethod
    def is_closed() -> Q:
        """已办结 or 无法办理."""
        return ~NeedQuerySet.is_open()

    @staticmethod
    def is_resolved(between: tuple[datetime.date, datetime.date]) -> Q:
        """Resolved (解决实事) on a day from `between[0]` to `between[1]`, both included."""
        since, until = between
        return Q(status=Need.Status.RESOLVED, closed_on__gte=since, closed_on__lte=until)

    @staticmethod
    def is_on_time() -> Q:
        """Closed by its due date, or without one."""
        return Q(due_date__isnull=True) | Q(closed_on__lte=models.F("due_date"))

    def open(self):
        return self.filter(self.is_open())

    # -- Where a need is held (a need referred up, 上报): see `Need.held_by` --------------

    @staticmethod
    def is_held_within(user) -> Q:
        """Held in the user's area or below it: by its communities (not referred up), or by
        an area within the user's it was referred to. A need referred above the user is
        followed up (and counted open or overdue) there, not here."""
        ids = visible_area_ids(user)
        if ids is None:
            return Q()
        return Q(held_by__isnull=True) | Q(held_by_id__in=ids)

    def held_within(self, user):
        return self.filter(self.is_held_within(user))

    def held_above(self, user):
        """The needs the user sees that an area above theirs holds now (read-only here)."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.none()
        return self.filter(held_by__isnull=False).exclude(held_by_id__in=ids)

    def held_by_own_area(self, user):
        """The needs the user's own area holds: a community's not referred up, a street's or
        district's referred to it."""
        if user.area_id is None:
            return self.none()
        if user.area.level == Area.Level.COMMUNITY:
            return self.filter(held_by__isnull=True)
        return self.filter(held_by_id=user.area_id)

    def referred_to(self, user):
        """For the to-do page: needs referred to the user's own area that await its
        acceptance or are open there."""
        if not user.is_authenticated or user.area_id is None:
            return self.none()
        return (
            self.visible_to(user)
            .filter(held_by_id=user.area_id)
            .filter(Q(referral=Need.Referral.REFERRED) | self.is_open())
        )

    def editable_by(self, user):
        """Changed where it is held: by its community (and the levels above, as before) while
        the community holds it, by the street or district it was referred to (and above)
        while they hold it; never by the community while it is held above."""
        return super().editable_by(user).held_within(user)

    def with_overdue(self, today: datetime.date):
        """Each need with `overdue`, True when `is_overdue` holds (lists mark and sort by it)."""
        return self.annotate(
            overdue=models.Case(
                models.When(self.is_overdue(today), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def overdue(self, today: datetime.date):
        return self.filter(self.is_overdue(today))

    def due_soon(self, today: datetime.date):
        return self.filter(self.is_due_soon(today))

    def closed(self):
        return self.filter(self.is_closed())

    def resolved(self, between: tuple[datetime.date, datetime.date]):
        return self.filter(self.is_resolved(between))

    def on_time(self):
        return self.filter(self.is_on_time())


class Need(models.Model):
    """A need (诉求 / 实事) a member raised, followed until it is resolved (解决实事)."""

    class Kind(models.TextChoices):
        EMPLOYMENT = "employment", _("Employment")
        SCHOOLING = "schooling", _("School place for a child")
        MEDICAL = "medical", _("Medical care")
        FINANCING = "financing", _("Financing")
        LEGAL = "legal", _("Legal matter")
        HARDSHIP = "hardship", _("Hardship in daily life")
        SUGGESTION = "suggestion", _("Opinion or suggestion")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        IMPOSSIBLE = "impossible", _("Cannot be resolved")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        FAIRLY = "fairly", _("Fairly satisfied")
        DISSATISFIED = "dissatisfied", _("Dissatisfied")

    class Referral(models.TextChoices):
        REFERRED = "referred", _("Referred, awaiting acceptance")
        ACCEPTED = "accepted", _("Accepted at the higher level")
        RETURNED = "returned", _("Returned")

    OPEN = (Status.OPEN, Status.IN_PROGRESS)
    # The statuses a need may move to from each status.
    NEXT = {
        Status.OPEN: (Status.IN_PROGRESS, Status.RESOLVED, Status.IMPOSSIBLE),
        Status.IN_PROGRESS: (Status.RESOLVED, Status.IMPOSSIBLE),
        Status.RESOLVED: (),
        Status.IMPOSSIBLE: (),
    }

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="needs"
    )
    # The community whose work the need counts as: the member's when it was raised, and the
    # one that closed it (`need_set_status`). Who may open it goes by the member's community
    # now (`NeedQuerySet`), so after a transfer the old community keeps only its count.
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("raised on the visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.TextField(_("description"))
    # 提出时间: the visit's day when raised on a visit (`need_create`), not the day of entry.
    raised_on = models.DateField(_("raised on"), default=timezone.localdate)
    handler = models.CharField(_("handled by"), max_length=100, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.TextField(_("how it was handled"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    satisfaction = models.CharField(
        _("member's satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    # Where the need is held now (上报): empty while its community holds it; the street or
    # district it was referred to (`need_refer`), which accepts or returns it.
    held_by = models.ForeignKey(
        Area,
        verbose_name=pgettext_lazy("need", "held by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    referral = models.CharField(
        _("referral"), max_length=10, choices=Referral.choices, blank=True, default=""
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = NeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-raised_on", "-id"]
        indexes = [
            models.Index(fields=["community", "status", "due_date"], name="need_community_idx"),
            models.Index(fields=["status", "closed_on"], name="need_status_closed_idx"),
            models.Index(
                fields=["held_by", "status"],
                name="need_held_by_idx",
                condition=Q(held_by__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.get_kind_display()}"

    def audit_label(self) -> str:
        return f"{self.member.audit_label()} · {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def awaits_acceptance(self) -> bool:
        return self.referral == self.Referral.REFERRED and self.held_by_id is not None

    def clean(self):
        errors = {}
        closed = self.status in (self.Status.RESOLVED, self.Status.IMPOSSIBLE)
        if closed and not self.resolution.strip():
            errors["resolution"] = (
                _("Say why it cannot be resolved.")
                if self.status == self.Status.IMPOSSIBLE
                else _("Say how it was resolved.")
            )
        if closed and not self.closed_on:
            errors["closed_on"] = _("Give the date it was closed.")
        if errors:
            raise ValidationError(errors)


class NeedChange(ChangeRecord):
    """One entry of a need's history, including its path between the levels: referred up
    (上报), accepted (受理), returned (退回), each with the areas it went from and to."""

    class Action(models.TextChoices):
        CREATE = "create", _("Recorded")
        UPDATE = "update", _("Updated")
        STATUS = "status", _("Status changed")
        REFER = "refer", _("Referred up")
        ACCEPT = "accept", _("Accepted at the higher level")
        RETURN = "return", _("Returned")
        RECALL = "recall", _("Referral taken back")

    need = models.ForeignKey(
        Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="changes"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    # 办理情况: what the worker said of each status change (`need_set_status`); the note of a
    # referral, or the reason of a return.
    note = models.TextField(_("how it was handled"), blank=True)
    from_area = models.ForeignKey(
        Area,
        verbose_name=pgettext_lazy("need path", "from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_area = models.ForeignKey(
        Area,
        verbose_name=pgettext_lazy("need path", "to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta(ChangeRecord.Meta):
        verbose_name = _("need change")
        verbose_name_plural = _("need changes")
        indexes = [models.Index(fields=["need", "-at"], name="needchange_need_idx")]
