"""What an assessment leads to (结果运用): a rectification ordered for each community graded
不合格 or given 限期整改, followed to the district's acceptance, and the reward and the
experience-sharing activity of each 示范社区.

Both hang on a published period's `assessment.Result` (PROTECT: a result something was built
on is never discarded; `period_reopen` refuses a published period anyway). Each record
belongs to its community through the one scoping mechanism (`tongzhan.scoping`).
"""

import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.models import Activity
from assessment.models import Result
from tongzhan.attachments import Attachment, attachment_path
from tongzhan.models import Area
from tongzhan.scoping import ScopedQuerySet

# The name the migration gives the files' upload path.
_rectification_file_path = attachment_path


class RectificationQuerySet(ScopedQuerySet):
    """Rectifications of the user's area and below: a community its own, a street its
    communities', the district all of them."""

    area_field = "community"
    change_permission = "followup.report_rectification"

    @staticmethod
    def is_overdue(today: datetime.date) -> Q:
        """The deadline has passed and the district has not accepted it."""
        return Q(deadline__lt=today) & ~Q(state=Rectification.State.ACCEPTED)

    def with_overdue(self, today: datetime.date):
        return self.annotate(
            overdue=models.Case(
                models.When(self.is_overdue(today), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def underway(self):
        return self.exclude(state=Rectification.State.ACCEPTED)

    def waiting_for(self, user):
        """The rectifications waiting on the user's area: its own to report (a community),
        its communities' reports to check (a street), those passed on to accept (a district)."""
        if not user.is_authenticated or user.area_id is None:
            return self.none()
        State = Rectification.State
        waiting = Q()
        if user.has_perm("followup.report_rectification"):
            waiting |= Q(community_id=user.area_id, state=State.RECTIFYING)
        if user.has_perm("followup.check_rectification"):
            waiting |= Q(community__parent_id=user.area_id, state=State.REPORTED)
        if user.has_perm("followup.manage_rectification"):
            waiting |= Q(result__period__district_id=user.area_id, state=State.PASSED)
        if not waiting:
            return self.none()
        return self.filter(waiting)


class Rectification(models.Model):
    """A rectification ordered (责令整改) after a published period: the district's notice
    with a deadline → the community's report with evidence → the street's check → the
    district's acceptance (验收通过). The street and the district may send it back to the
    community with a reason, which reports again."""

    class State(models.TextChoices):
        RECTIFYING = "rectifying", _("Being rectified")
        REPORTED = "reported", _("Reported, awaiting the street's check")
        PASSED = "passed", _("Checked by the street, awaiting acceptance")
        ACCEPTED = "accepted", _("Accepted")

    # The order the states come in, for the district's table.
    ORDER = {State.RECTIFYING: 1, State.REPORTED: 2, State.PASSED: 3, State.ACCEPTED: 4}

    result = models.OneToOneField(
        Result,
        verbose_name=_("result"),
        on_delete=models.PROTECT,
        related_name="rectification",
    )
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.RECTIFYING
    )
    notice = models.TextField(_("rectification notice"))
    deadline = models.DateField(_("deadline"))
    notified_at = models.DateTimeField(_("notified at"), auto_now_add=True)
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("notified by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    report = models.TextField(_("rectification report"), blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    # Why the street or the district sent it back; cleared when it is reported again (the
    # reason stays in the history).
    returned_reason = models.TextField(_("reason for return"), blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["deadline", "community__code"]
        permissions = [
            ("report_rectification", _("Can report a rectification of its own community")),
            ("check_rectification", _("Can check the rectifications of its street")),
            (
                "manage_rectification",
                _("Can order and accept the rectifications of its own district"),
            ),
        ]
        indexes = [
            models.Index(fields=["community", "state"], name="rectification_community_idx"),
        ]

    def __str__(self):
        return f"{self.result.period} · {self.community}"

    @property
    def period(self):
        return self.result.period

    @property
    def is_returned(self) -> bool:
        """Sent back and not reported again yet: shown as 已退回."""
        return self.state == self.State.RECTIFYING and bool(self.returned_reason)

    @property
    def state_label(self):
        return _("Returned") if self.is_returned else self.get_state_display()

    def is_overdue_on(self, today: datetime.date) -> bool:
        return self.state != self.State.ACCEPTED and self.deadline < today


class RectificationEvent(models.Model):
    """One step of a rectification: who moved it from which state to which, and why."""

    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        on_delete=models.CASCADE,
        related_name="events",
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

    ACTIONS = {
        "notify": _("Rectification ordered"),
        "edit": _("Notice or deadline changed"),
        "report": _("Rectification reported"),
        "pass": _("Passed on by the street"),
        "send_back": _("Sent back by the street"),
        "accept": _("Accepted by the district"),
        "return": _("Returned by the district"),
        "merge": _("Moved by an area merge"),
    }

    class Meta:
        verbose_name = _("rectification step")
        verbose_name_plural = _("rectification steps")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["rectification", "at"], name="rectificationevent_idx"),
        ]

    def __str__(self):
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"

    @property
    def action_label(self):
        return self.ACTIONS.get(self.action, self.action)

    @property
    def from_label(self):
        return Rectification.State(self.from_state).label if self.from_state else ""

    @property
    def to_label(self):
        return Rectification.State(self.to_state).label


class RectificationFile(Attachment):
    """A photo or PDF of a community's rectification report. Served only through a view that
    checks scope."""

    upload_folder = "followup/rectifications"
    owner_field = "rectification"

    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        on_delete=models.CASCADE,
        related_name="files",
    )

    class Meta(Attachment.Meta):
        verbose_name = _("rectification file")
        verbose_name_plural = _("rectification files")


class ModelCommunityQuerySet(ScopedQuerySet):
    area_field = "community"
    change_permission = "followup.change_modelcommunity"


class ModelCommunity(models.Model):
    """A 示范社区 of a published period: the reward the district gives it and the
    experience-sharing activity (经验交流活动) it holds, one of the community's activities."""

    result = models.OneToOneField(
        Result,
        verbose_name=_("result"),
        on_delete=models.PROTECT,
        related_name="model_community",
    )
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    reward = models.DecimalField(
        _("reward (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("experience-sharing activity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ModelCommunityQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("record", "model community")
        verbose_name_plural = pgettext_lazy("record", "model communities")
        ordering = ["result__rank_in_district", "community__code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reward__isnull=True) | Q(reward__gte=0),
                name="modelcommunity_reward_not_negative",
            )
        ]

    def __str__(self):
        return f"{self.result.period} · {self.community}"


class ModelCommunityChange(models.Model):
    """One change of a model community's reward or activity: who, when, what it became."""

    model_community = models.ForeignKey(
        ModelCommunity,
        verbose_name=pgettext_lazy("record", "model community"),
        on_delete=models.CASCADE,
        related_name="changes",
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # [{"field": label, "before": "...", "after": "..."}], as the page shows them.
    changes = models.JSONField(_("changes"), default=list)

    class Meta:
        verbose_name = _("model community change")
        verbose_name_plural = _("model community changes")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.model_community} {self.at:%Y-%m-%d %H:%M}"
