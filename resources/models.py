"""What members and organisations offer (资源清单), what communities need (需求清单), and the
matches between them (对接), kept in the two-way service ledger (双向服务台账).

A resource belongs to its owner's area (the member's community, the organisation's area) and
serves areas of its own; it is seen in its owner's area and in the areas it serves. A match
belongs to the area of its need, whose staff record and settle it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.models import Need
from members.models import Member
from organisations.models import Organisation
from tongzhan.models import Area
from tongzhan.scoping import ScopedQuerySet, enclosing_area_ids, visible_area_ids


class Kind(models.TextChoices):
    """What is offered or needed: the resource list's kinds (issue 17)."""

    JOBS = "jobs", pgettext_lazy("resource", "Jobs")
    SERVICE = "service", pgettext_lazy("resource", "Professional service")
    FUNDS = "funds", pgettext_lazy("resource", "Funds or donation")
    VENUE = "venue", pgettext_lazy("resource", "Venue")
    GOODS = "goods", pgettext_lazy("resource", "Goods")
    PROJECT = "project", pgettext_lazy("resource", "Project")
    TALENT = "talent", pgettext_lazy("resource", "Talent")


class Service(models.TextChoices):
    """The fields of a professional service (the service group's specialist sub-groups)."""

    MEDICAL = "medical", pgettext_lazy("resource", "Medical")
    LEGAL = "legal", pgettext_lazy("resource", "Legal")
    EDUCATION = "education", pgettext_lazy("resource", "Education")
    TECHNOLOGY = "technology", pgettext_lazy("resource", "Technology")
    PSYCHOLOGY = "psychology", pgettext_lazy("resource", "Psychological")


def _service_rule() -> Q:
    """A professional service names its field; nothing else does."""
    return Q(kind=Kind.SERVICE) & ~Q(service="") | ~Q(kind=Kind.SERVICE) & Q(service="")


class Recorded(models.Model):
    """Who recorded a row and when, and when it last changed: what resources, community
    needs, matches and projects each keep."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class ResourceQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "resources.change_resource"

    def visible_to(self, user):
        """Those of the user's area, and those serving it: an area within the user's or one
        above it (a street's service group serves every community of the street)."""
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        if not ids:
            return self.none()
        serving = ResourceArea.objects.filter(
            resource_id=OuterRef("pk"), area_id__in=[*ids, *enclosing_area_ids(user)]
        )
        return self.filter(Q(area_id__in=ids) | Exists(serving))

    def editable_by(self, user):
        """Only those of the user's area: one serving it is kept where it is offered."""
        if not user.is_authenticated or not user.has_perm(self.change_permission):
            return self.none()
        return super().visible_to(user)

    def valid_on(self, day):
        return self.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))


class Resource(Recorded):
    """Something a member or an organisation offers (资源清单): jobs, a professional service,
    funds, a venue, goods, a project or talent, for the areas it serves."""

    Kind = Kind
    Service = Service

    member = models.ForeignKey(
        Member,
        verbose_name=pgettext_lazy("resource", "offered by (a member)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=pgettext_lazy("resource", "offered by (an organisation)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(pgettext_lazy("resource", "title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    service = models.CharField(
        pgettext_lazy("resource", "field of service"),
        max_length=12,
        choices=Service.choices,
        blank=True,
        help_text=_("For a professional service: its field."),
    )
    description = models.TextField(pgettext_lazy("resource", "description"), blank=True)
    capacity = models.PositiveIntegerField(
        pgettext_lazy("resource", "capacity"),
        null=True,
        blank=True,
        help_text=_("How many needs it can take; empty for no limit."),
    )
    served_areas = models.ManyToManyField(
        Area,
        verbose_name=_("areas served"),
        through="ResourceArea",
        related_name="+",
        blank=True,
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # The owner's area, for scoping: the member's community or the organisation's area.
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )

    objects = ResourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "service"], name="resources_kind_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, organisation__isnull=True)
                | Q(member__isnull=True, organisation__isnull=False),
                name="resources_resource_one_owner",
                violation_error_message=_("A resource is offered by a member or an organisation."),
            ),
            models.CheckConstraint(
                condition=_service_rule(),
                name="resources_resource_service_field",
                violation_error_message=_(
                    "A professional service names its field; nothing else does."
                ),
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="resources_resource_capacity_positive",
                violation_error_message=_("Capacity is at least 1, or empty for no limit."),
            ),
        ]

    def __str__(self):
        return self.title

    def kind_label(self) -> str:
        return self.get_service_display() if self.service else self.get_kind_display()

    def is_valid_on(self, day) -> bool:
        return self.valid_until is None or self.valid_until >= day


class ResourceArea(models.Model):
    """An area a resource serves."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("area served")
        verbose_name_plural = _("areas served")
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "area"], name="resources_resourcearea_unique"
            )
        ]
        indexes = [models.Index(fields=["area", "resource"], name="resources_served_idx")]

    def __str__(self):
        return f"{self.resource_id} · {self.area_id}"


class CommunityNeedQuerySet(ScopedQuerySet):
    area_field = "area"
    change_permission = "resources.change_communityneed"

    def open(self):
        return self.filter(status=CommunityNeed.Status.OPEN)

    def with_progress(self):
        """Annotated with `settled`, how much of the quantity the matches settled 已落实 have
        met (`CommunityNeed.settled_of`), for the "已落实 2 / 5" of the pages."""
        return self.annotate(settled=CommunityNeed.settled_of(OuterRef("pk")))


class CommunityNeed(Recorded):
    """What a community needs (需求清单): legal-advice volunteers, five jobs, a venue."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("community need", "Open")
        MET = "met", pgettext_lazy("community need", "Met")
        CLOSED = "closed", pgettext_lazy("community need", "Closed")

    area = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    service = models.CharField(
        pgettext_lazy("resource", "field of service"),
        max_length=12,
        choices=Service.choices,
        blank=True,
        help_text=_("For a professional service: its field."),
    )
    description = models.TextField(pgettext_lazy("community need", "description"))
    quantity = models.PositiveIntegerField(pgettext_lazy("community need", "quantity"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    objects = CommunityNeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("community need")
        verbose_name_plural = _("community needs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area", "status"], name="resources_cneed_area_idx")]
        constraints = [
            models.CheckConstraint(
                condition=_service_rule(),
                name="resources_communityneed_service_field",
                violation_error_message=_(
                    "A professional service names its field; nothing else does."
                ),
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="resources_communityneed_quantity_positive",
                violation_error_message=_("The quantity is at least 1."),
            ),
        ]

    def __str__(self):
        return f"{self.area.name} · {self.kind_label()}"

    def kind_label(self) -> str:
        return self.get_service_display() if self.service else self.get_kind_display()

    @staticmethod
    def settled_of(need) -> Coalesce:
        """How much of a need's quantity is met, as an expression: the people served by its
        matches settled 已落实, each counting at least one (five jobs are met by five people
        placed, in one match or several; a venue lent serves its one).

        `need` is the need's pk or an OuterRef to it."""
        return Coalesce(
            Subquery(
                Match.objects.filter(community_need=need, state=Match.State.FULFILLED)
                .order_by()
                .values("community_need")
                .annotate(n=Sum(Greatest("people_served", 1)))
                .values("n")
            ),
            0,
        )


class MatchQuerySet(ScopedQuerySet):
    # A match is its need's area's work: that area's staff record and settle it.
    area_field = "area"
    change_permission = "resources.change_match"

    @staticmethod
    def is_taking_capacity() -> Q:
        """已对接 or 已落实: what a resource's capacity is spent on."""
        return Q(state__in=Match.TAKING)


class Match(Recorded):
    """A resource matched to a need (对接), 已对接 until it is settled 已落实 or 未落实."""

    class State(models.TextChoices):
        MATCHED = "matched", pgettext_lazy("match", "Matched")
        FULFILLED = "fulfilled", pgettext_lazy("match", "Fulfilled")
        UNFULFILLED = "unfulfilled", pgettext_lazy("match", "Not fulfilled")

    TAKING = (State.MATCHED, State.FULFILLED)

    need = models.ForeignKey(
        Need,
        verbose_name=_("need"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community_need = models.ForeignKey(
        CommunityNeed,
        verbose_name=_("community need"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="matches",
    )
    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="matches"
    )
    # The need's community (a member need's when matched; a community need's own).
    area = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        pgettext_lazy("match", "state"), max_length=12, choices=State.choices,
        default=State.MATCHED,
    )  # fmt: skip
    people_served = models.PositiveIntegerField(_("people served"), default=0)
    value = models.DecimalField(
        pgettext_lazy("match", "value (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
    )
    note = models.TextField(_("note"), blank=True)
    matched_on = models.DateField(pgettext_lazy("match", "matched on"), default=timezone.localdate)
    settled_on = models.DateField(pgettext_lazy("match", "settled on"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("match", "settled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = MatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        ordering = ["-matched_on", "-id"]
        indexes = [
            models.Index(fields=["area", "matched_on"], name="resources_match_area_idx"),
            models.Index(fields=["resource", "state"], name="resources_match_resource_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(need__isnull=False, community_need__isnull=True)
                | Q(need__isnull=True, community_need__isnull=False),
                name="resources_match_one_need",
                violation_error_message=_("A match is of a member's need or a community need."),
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0),
                name="resources_match_value_not_negative",
                violation_error_message=_("The value is not negative."),
            ),
        ]

    def __str__(self):
        return f"{self.resource} · {self.get_state_display()}"

    @property
    def the_need(self):
        return self.need if self.need_id else self.community_need


# -- 引资引智: projects introduced through members or organisations ----------------------------


class ProjectStage(models.TextChoices):
    """意向 → 洽谈 → 签约 → 落地, one step at a time; 终止 from any open stage."""

    INTENT = "intent", pgettext_lazy("project", "Intent")
    NEGOTIATING = "negotiating", pgettext_lazy("project", "Negotiating")
    SIGNED = "signed", pgettext_lazy("project", "Signed")
    LANDED = "landed", pgettext_lazy("project", "Landed")
    DROPPED = "dropped", pgettext_lazy("project", "Dropped")


# The way forward; 落地 and 终止 end a project.
PROJECT_FLOW = (
    ProjectStage.INTENT,
    ProjectStage.NEGOTIATING,
    ProjectStage.SIGNED,
    ProjectStage.LANDED,
)


class ProjectQuerySet(ScopedQuerySet):
    # A project is the work of the area it lands in (a community, street or district).
    area_field = "area"
    change_permission = "resources.change_project"


class Project(Recorded):
    """A project of investment or talent (引资引智) introduced through a member or an
    organisation, landing in an area; amounts in 万元."""

    Stage = ProjectStage
    FLOW = PROJECT_FLOW

    name = models.CharField(pgettext_lazy("project", "name"), max_length=100)
    description = models.TextField(pgettext_lazy("project", "description"), blank=True)
    member = models.ForeignKey(
        Member,
        verbose_name=pgettext_lazy("project", "introduced by (a member)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=pgettext_lazy("project", "introduced by (an organisation)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    area = models.ForeignKey(
        Area,
        verbose_name=pgettext_lazy("project", "lands in"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    industry = models.CharField(pgettext_lazy("project", "industry"), max_length=50, blank=True)
    stage = models.CharField(
        pgettext_lazy("project", "stage"), max_length=12, choices=ProjectStage.choices,
        default=ProjectStage.INTENT,
    )  # fmt: skip
    amount_planned = models.DecimalField(
        pgettext_lazy("project", "planned investment (10,000 yuan)"),
        max_digits=12, decimal_places=2, null=True, blank=True,
    )  # fmt: skip
    amount_signed = models.DecimalField(
        pgettext_lazy("project", "amount signed (10,000 yuan)"),
        max_digits=12, decimal_places=2, null=True, blank=True,
    )  # fmt: skip
    amount_in_place = models.DecimalField(
        pgettext_lazy("project", "funds in place (10,000 yuan)"),
        max_digits=12, decimal_places=2, null=True, blank=True,
    )  # fmt: skip
    jobs = models.PositiveIntegerField(
        pgettext_lazy("project", "jobs created"), null=True, blank=True
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("project", "project")
        verbose_name_plural = pgettext_lazy("project", "projects")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area", "stage"], name="resources_project_area_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, organisation__isnull=True)
                | Q(member__isnull=True, organisation__isnull=False),
                name="resources_project_one_introducer",
                violation_error_message=_(
                    "A project is introduced by a member or an organisation."
                ),
            ),
            models.CheckConstraint(
                condition=(Q(amount_planned__isnull=True) | Q(amount_planned__gte=0))
                & (Q(amount_signed__isnull=True) | Q(amount_signed__gte=0))
                & (Q(amount_in_place__isnull=True) | Q(amount_in_place__gte=0)),
                name="resources_project_amounts_not_negative",
                violation_error_message=_("The amounts are not negative."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage not in (ProjectStage.LANDED, ProjectStage.DROPPED)

    def next_stage(self) -> str | None:
        """The one stage it may move on to (besides 终止), or None once it has ended."""
        if not self.is_open:
            return None
        return PROJECT_FLOW[PROJECT_FLOW.index(self.stage) + 1]


class ProjectStep(models.Model):
    """A stage a project reached, on which day, by whom: the project's history."""

    project = models.ForeignKey(
        Project, verbose_name=pgettext_lazy("project", "project"), on_delete=models.CASCADE,
        related_name="steps",
    )  # fmt: skip
    stage = models.CharField(
        pgettext_lazy("project", "stage"), max_length=12, choices=ProjectStage.choices
    )
    date = models.DateField(pgettext_lazy("project", "reached on"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("project", "project step")
        verbose_name_plural = pgettext_lazy("project", "project steps")
        ordering = ["date", "id"]
        constraints = [
            # Never back: a stage is reached once.
            models.UniqueConstraint(fields=["project", "stage"], name="resources_projectstep_once")
        ]
        indexes = [models.Index(fields=["date", "stage"], name="resources_projectstep_date_idx")]

    def __str__(self):
        return f"{self.project_id} · {self.get_stage_display()} · {self.date}"
