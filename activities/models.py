"""Activities (活动): the meetings, campaigns and services a community, street or district holds.

An activity belongs to the area that organised it; members take part through
`Participation`, indexed by member first so a member's page lists their activities from the
index alone.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
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


class ActivityQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "activities.change_activity"

    def visible_to(self, user):
        """Activities of the user's area and below, and the joint ones of the areas above it.

        A street's or district's joint activity concerns every community under it, so their
        workers see it (and pick their members as participants); editing stays with the
        organising area (`editable_by`).
        """
        ids = visible_area_ids(user)
        if ids is None or not ids:
            return super().visible_to(user)
        code = user.area.code
        above = list(
            Area.objects.filter(code__in=[code[:6], code[:9]])
            .exclude(code=code)
            .values_list("pk", flat=True)
        )
        return self.filter(area_id__in=[*ids, *above])

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


class ActivityChange(models.Model):
    """One entry of an activity's history, as `members.MemberChange` is for members."""

    class Action(models.TextChoices):
        CREATE = "create", _("Recorded")
        UPDATE = "update", _("Updated")

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="changes"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=list, blank=True)

    class Meta:
        verbose_name = _("activity change")
        verbose_name_plural = _("activity changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["activity", "-at"], name="activitychange_activity_idx")]

    def __str__(self):
        return f"{self.activity} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"
