"""Organisations (驻地单位, 非公企业, 商会, 社会组织, 统战社团, 服务团) and places (阵地).

Both belong to an area through the one scoping mechanism (`tongzhan.scoping`): a community
sees its own, a street its own and its communities', the district everything. Members belong
to organisations through memberships that keep their joined and left dates: ending one sets
its left date, it is never deleted.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
from members.validators import validate_credit_code
from tongzhan.crypto import EncryptedCharField
from tongzhan.models import Area
from tongzhan.scoping import ScopedQuerySet


class OrganisationQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "organisations.change_organisation"


class Organisation(models.Model):
    """A unit, enterprise, chamber, social organisation, united-front association or service
    group of an area; a service group's sub-groups name it as their parent."""

    class Kind(models.TextChoices):
        RESIDENT_UNIT = "resident_unit", _("Resident unit")
        PRIVATE_ENTERPRISE = "private_enterprise", _("Private enterprise")
        CHAMBER = "chamber", _("Chamber of commerce")
        SOCIAL = "social", _("Social organisation")
        ASSOCIATION = "association", _("United-front association")
        SERVICE_GROUP = "service_group", _("Service group")

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("belongs to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("For a sub-group: the service group it belongs to."),
    )
    # GB 32100-2015, checked as a member's enterprise code is.
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_member = models.ForeignKey(
        Member,
        verbose_name=_("contact person (a member)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = EncryptedCharField(_("contact phone"), blank=True)
    contact_phone_masked = models.CharField(
        _("contact phone (masked)"), max_length=20, blank=True, editable=False
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["area", "kind"], name="organisations_area_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="organisations_credit_code_unique",
                violation_error_message=_(
                    "An organisation with this unified social credit code is already registered."
                ),
            ),
            models.UniqueConstraint(
                fields=["area", "name"],
                name="organisations_name_unique_in_area",
                violation_error_message=_(
                    "An organisation of this name is already registered in this area."
                ),
            ),
        ]

    def __str__(self):
        return self.name


class MembershipQuerySet(ScopedQuerySet):
    area_field = "organisation__area"
    change_permission = "organisations.change_membership"

    def current(self):
        return self.filter(left_on__isnull=True)


class Membership(models.Model):
    """A member's place in an organisation (会长, 成员, ...), from joining to leaving."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(
        pgettext_lazy("membership", "role"),
        max_length=50,
        help_text=_("For example: president, member."),
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        # Current ones first, then the latest to leave.
        ordering = [models.F("left_on").desc(nulls_first=True), "joined_on", "id"]
        constraints = [
            # A member is in an organisation once at a time; earlier spells stay as history.
            models.UniqueConstraint(
                fields=["member", "organisation"],
                condition=Q(left_on__isnull=True),
                name="organisations_membership_one_open",
                violation_error_message=_("This member already belongs to the organisation."),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="organisations_membership_left_after_joined",
                violation_error_message=_("The day of leaving is before the day of joining."),
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.organisation} · {self.role}"

    def audit_label(self) -> str:
        return f"{self.member.audit_label()} · {self.organisation} · {self.role}"


class PlaceQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "organisations.change_place"


class Place(models.Model):
    """A place of united-front work (阵地): an activity room, a liaison station, a practice
    base, a 同心驿站 ..., with its opening hours and the person in charge."""

    class Kind(models.TextChoices):
        ACTIVITY_ROOM = "activity_room", _("United-front activity room")
        LIAISON_STATION = "liaison_station", _("United-front liaison station")
        PRACTICE_BASE = "practice_base", _("Practice base")
        TONGXIN_POST = "tongxin_post", _("Tongxin post")
        OTHER = "other", _("Other")

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=200,
        blank=True,
        help_text=_("For example: Monday to Friday 9:00–17:00."),
    )
    manager_name = models.CharField(_("person in charge"), max_length=50, blank=True)
    manager_phone = EncryptedCharField(_("phone of the person in charge"), blank=True)
    manager_phone_masked = models.CharField(
        _("phone of the person in charge (masked)"), max_length=20, blank=True, editable=False
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("united-front position", "place")
        verbose_name_plural = pgettext_lazy("united-front position", "places")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["area", "kind"], name="organisations_place_area_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "name"],
                name="organisations_place_name_unique_in_area",
                violation_error_message=_(
                    "A place of this name is already registered in this area."
                ),
            ),
        ]

    def __str__(self):
        return self.name
