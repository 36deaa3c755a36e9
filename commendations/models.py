"""Commendations (表彰): a campaign the district names (先进个人, 最美居民 or another), the
nominations communities send for it, the street's review, the district's decision and the
published results.

A campaign covers an area (the district, or one of its streets): the areas within it
nominate, and everyone in it sees the campaign. Nominations belong to their community through
the one scoping mechanism (`tongzhan.scoping`): a community sees its own, a street its
communities', the district all. What the district decided stays with the district until it
publishes the results.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
from tongzhan.attachments import Attachment
from tongzhan.crypto import EncryptedCharField
from tongzhan.masking import mask_name
from tongzhan.models import Area
from tongzhan.scoping import ScopedQuerySet, enclosing_area_ids, visible_area_ids


class CampaignQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "commendations.change_campaign"

    def visible_to(self, user):
        """Campaigns of the user's area and below, and those covering it from above (a
        community sees its district's)."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        if not ids:
            return self.none()
        return self.filter(area_id__in=[*ids, *enclosing_area_ids(user)])

    def editable_by(self, user):
        """Those of the user's area and below: a street does not run its district's."""
        if not user.is_authenticated or not user.has_perm(self.change_permission):
            return self.none()
        return super().visible_to(user)

    def published(self):
        return self.filter(state=Campaign.State.PUBLISHED)


class Campaign(models.Model):
    """A commendation campaign (表彰活动) of a year: nominations are gathered until the
    deadline (征集中), reviewed (评审中), and the results published (已公布)."""

    class Kind(models.TextChoices):
        ADVANCED = "advanced", _("Advanced individual")
        RESIDENT = "resident", _("Most beautiful resident")
        OTHER = "other", pgettext_lazy("commendation", "Other")

    class State(models.TextChoices):
        NOMINATING = "nominating", _("Nominating")
        REVIEW = "review", _("Under review")
        PUBLISHED = "published", _("Published")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    kind_name = models.CharField(
        _("name of the commendation"),
        max_length=50,
        blank=True,
        help_text=_("For another kind: what the commendation is called."),
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1949), MaxValueValidator(2100)]
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(pgettext_lazy("of a campaign", "description"), blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("area covered"), on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField(_("nomination deadline"))
    quota = models.PositiveIntegerField(
        _("quota"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("The most people commended; leave empty for no limit."),
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.NOMINATING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("commendation campaign")
        verbose_name_plural = _("commendation campaigns")
        ordering = ["-year", "-created_at", "-id"]
        indexes = [models.Index(fields=["area", "year"], name="campaign_area_year_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="other") | ~Q(kind_name=""),
                name="campaign_other_kind_named",
                violation_error_message=_("Name the commendation of another kind."),
            ),
            models.CheckConstraint(
                condition=~Q(state="published") | Q(published_at__isnull=False),
                name="campaign_published_has_time",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def kind_label(self) -> str:
        return self.kind_name if self.kind == self.Kind.OTHER else str(self.get_kind_display())

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class NominationQuerySet(ScopedQuerySet):
    area_field = "community"
    change_permission = "commendations.add_nomination"

    def standing(self):
        """Those not withdrawn: the nominations counted, reviewed, decided and published."""
        return self.exclude(state=Nomination.State.WITHDRAWN)

    def commended(self):
        """Commended in a published campaign: the results everyone sees."""
        return self.filter(
            state=Nomination.State.COMMENDED, campaign__state=Campaign.State.PUBLISHED
        )


class Nomination(models.Model):
    """A person a community nominates (推荐) for a campaign: one of its members, or a resident
    who is not one (name, and optionally a contact), with their deeds (事迹); then the street's
    review and the district's decision, each with its opinion. The community may withdraw it
    (撤回) while it awaits the street's review: it stays, with its history, and counts no more."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting the street's review")
        RECOMMENDED = "recommended", _("Recommended by the street")
        NOT_RECOMMENDED = "not_recommended", _("Not recommended by the street")
        COMMENDED = "commended", _("Commended")
        NOT_COMMENDED = "not_commended", _("Not commended")
        WITHDRAWN = "withdrawn", pgettext_lazy("taken back", "Withdrawn")

    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("commendation campaign"),
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A resident who is not a member: her name (a member's is read from her record).
    resident_name = models.CharField(_("name"), max_length=50, blank=True)
    contact = EncryptedCharField(_("contact"), blank=True)
    contact_masked = models.CharField(_("contact (masked)"), max_length=50, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    deeds = models.TextField(_("deeds"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.SUBMITTED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("nominated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("nominated at"), auto_now_add=True)
    street_opinion = models.TextField(_("street's opinion"), blank=True)
    street_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    district_opinion = models.TextField(_("district's opinion"), blank=True)
    district_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = NominationQuerySet.as_manager()

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["campaign", "community__code", "submitted_at", "id"]
        permissions = [
            ("review_nomination", _("Can review a community's nomination")),
            ("decide_nomination", _("Can decide whether a nominee is commended")),
        ]
        indexes = [
            models.Index(fields=["campaign", "community"], name="nomination_campaign_idx"),
            models.Index(fields=["member"], name="nomination_member_idx"),
        ]
        # A withdrawn nomination is kept, and the same person may be nominated again.
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member"],
                condition=Q(member__isnull=False) & ~Q(state="withdrawn"),
                name="nomination_member_once",
                violation_error_message=_("This member is already nominated in this campaign."),
            ),
            models.UniqueConstraint(
                fields=["campaign", "community", "resident_name"],
                condition=Q(member__isnull=True) & ~Q(state="withdrawn"),
                name="nomination_resident_once",
                violation_error_message=_(
                    "A resident of this name is already nominated by this community in this "
                    "campaign."
                ),
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False, resident_name="")
                | Q(member__isnull=True) & ~Q(resident_name=""),
                name="nomination_member_or_resident",
                violation_error_message=_("Choose a member, or enter the resident's name."),
            ),
        ]

    def __str__(self):
        return f"{self.nominee_name} · {self.campaign}"

    def audit_label(self) -> str:
        return f"{mask_name(self.nominee_name)} · {self.campaign}"

    @property
    def nominee_name(self) -> str:
        return self.member.name if self.member_id else self.resident_name


class NominationFile(Attachment):
    """A photo or PDF of a nominee's deeds. Served only through a view that checks scope."""

    upload_folder = "commendations"
    owner_field = "nomination"

    nomination = models.ForeignKey(
        Nomination, verbose_name=_("nomination"), on_delete=models.CASCADE, related_name="files"
    )

    class Meta(Attachment.Meta):
        verbose_name = _("nomination file")
        verbose_name_plural = _("nomination files")


class NominationEvent(models.Model):
    """One step of a nomination: who nominated, edited, withdrew, reviewed or decided it (or
    changed the review or the decision), and what they said."""

    ACTIONS = {
        "nominate": _("Nominated"),
        "edit": _("Edited by the community"),
        "withdraw": _("Withdrawn by the community"),
        "review": _("Reviewed by the street"),
        "review_change": _("Review changed by the street"),
        "decide": _("Decided by the district"),
        "decide_change": _("Decision changed by the district"),
        "publish": _("Results published"),
    }
    # The district's steps, which only the district reads until it publishes the results.
    DISTRICT_ACTIONS = ("decide", "decide_change")

    nomination = models.ForeignKey(
        Nomination, verbose_name=_("nomination"), on_delete=models.CASCADE, related_name="events"
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
    to_state = models.CharField(_("to"), max_length=16)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("nomination event")
        verbose_name_plural = _("nomination events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["nomination", "at"], name="nominationevent_idx")]

    def __str__(self):
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"

    @property
    def action_label(self):
        return self.ACTIONS.get(self.action, self.action)

    @property
    def to_label(self):
        return Nomination.State(self.to_state).label
