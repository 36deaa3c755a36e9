"""The yearly assessment of communities (考核) with targets that scale with their members.

A district opens a period with indicators; each indicator's target for a community follows
from the community's registered members when the period opens (a tier table, or base +
rate × members). Measured indicators are counted from what was logged in the period,
hand-scored ones are entered with evidence. Finalizing computes every community's score,
ranking, grade and outcome and locks the period.
"""

import decimal
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.models import ActivityType
from tongzhan.models import Area, User
from tongzhan.scoping import ScopedQuerySet, enclosing_area_ids


class PeriodQuerySet(ScopedQuerySet):
    """Periods belong to a district; everyone in it sees the period (its results are
    limited further by `Period.results_visible_to`)."""

    area_field = "district"
    change_permission = "assessment.change_period"

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.sees_everything:
            return self.all()
        if user.area_id is None:
            return self.none()
        return self.filter(district__code=user.area.code[:6])


class Period(models.Model):
    """A period of assessment (考核周期): a year or a half, of one district."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Being set up")
        OPEN = "open", pgettext_lazy("assessment period", "Open")
        FINAL = "final", _("Finalized")

    district = models.ForeignKey(
        Area,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Area.Level.DISTRICT},
    )
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=60)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    # Grades by total score (等次): at least this for 优秀, 良好, 合格; below is 不合格.
    excellent_from = models.DecimalField(
        _("excellent from"), max_digits=6, decimal_places=2, default=decimal.Decimal(90)
    )
    good_from = models.DecimalField(
        _("good from"), max_digits=6, decimal_places=2, default=decimal.Decimal(80)
    )
    pass_from = models.DecimalField(
        _("pass from"), max_digits=6, decimal_places=2, default=decimal.Decimal(60)
    )
    # 示范社区: the best this many of the district, if they are graded 优秀.
    model_communities = models.PositiveSmallIntegerField(_("model communities"), default=3)
    published = models.BooleanField(_("ranking published"), default=False)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment period")
        verbose_name_plural = _("assessment periods")
        ordering = ["-starts_on", "district"]
        permissions = [
            ("score_indicator", _("Can score hand-scored indicators")),
            ("finalize_period", _("Can finalize and publish assessment periods")),
            # The district's own staff run its periods and score its items; the street's
            # staff score theirs. An administrator of every area does both by scope.
            ("manage_period", _("Can run the assessment periods of its own district")),
            ("score_district_item", _("Can score the items the district scores")),
            ("score_street_item", _("Can score the items the street scores")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(excellent_from__gte=models.F("good_from"))
                & models.Q(good_from__gte=models.F("pass_from")),
                name="period_grades_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.district.name} {self.name}"

    def clean(self):
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The period ends before it starts.")
        if not (self.excellent_from >= self.good_from >= self.pass_from):
            errors["good_from"] = _("The grade thresholds must go down from excellent to pass.")
        if errors:
            raise ValidationError(errors)


class Indicator(models.Model):
    """What a period measures or scores (考核指标), with its weight and target rule."""

    class Kind(models.TextChoices):
        MEASURED = "measured", _("Measured from the data")
        SCORED = "scored", _("Scored by hand")
        BONUS = "bonus", _("Bonus item")
        DEDUCTION = "deduction", _("Deduction item")

    class Metric(models.TextChoices):
        ACTIVITIES = "activities", _("Activities held")
        PEOPLE_SERVED = "people_served", _("People served")
        VISITED_SHARE = "visited_share", _("Share of members visited (%)")
        NEEDS_RESOLVED = "needs_resolved", _("Needs resolved")
        NEEDS_ON_TIME = "needs_on_time", _("Needs resolved on time")
        COMPLETENESS = "completeness", _("Complete records (%)")
        TASKS_ON_TIME = "tasks_on_time", _("Tasks done on time (%)")
        REPORTS_ADOPTED = "reports_adopted", _("Reports adopted")
        TRAINING_HOURS = "training_hours", _("Workers' training hours")
        NEEDS_MATCHED = "needs_matched", _("Needs met through matched resources")

    class Rule(models.TextChoices):
        TIERS = "tiers", _("Tier table by members")
        LINEAR = "linear", _("Base + rate × members")
        FIXED = "fixed", _("The same for every community")

    class ScoredBy(models.TextChoices):
        DISTRICT = "district", _("District staff")
        STREET = "street", _("Street staff")

    period = models.ForeignKey(
        Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="indicators"
    )
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    metric = models.CharField(_("measure"), max_length=20, choices=Metric.choices, blank=True)
    activity_type = models.ForeignKey(
        ActivityType,
        verbose_name=_("only activities of type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Points: the score at full marks, or the most a bonus adds or a deduction takes away.
    weight = models.DecimalField(
        _("points"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    rule = models.CharField(_("target rule"), max_length=10, choices=Rule.choices, blank=True)
    # Tiers: [[from members, target], ...]; linear: base + rate × members, rounded.
    tiers = models.JSONField(_("tiers"), default=list, blank=True)
    base = models.DecimalField(_("base"), max_digits=10, decimal_places=2, default=0)
    rate = models.DecimalField(_("rate per member"), max_digits=10, decimal_places=4, default=0)
    # Actual ÷ target counts up to this (1.00: no credit beyond the target); empty: uncapped.
    cap = models.DecimalField(
        _("cap on actual ÷ target"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        default=decimal.Decimal(1),
    )
    scored_by = models.CharField(
        _("scored by"), max_length=10, choices=ScoredBy.choices, blank=True
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["period", "sort_order", "id"]

    def __str__(self):
        return self.name

    @property
    def is_measured(self) -> bool:
        return self.kind == self.Kind.MEASURED

    def clean(self):
        from .rules import TargetRuleError, check_tiers

        errors = {}
        if self.is_measured:
            if not self.metric:
                errors["metric"] = _("Choose what is measured.")
            if not self.rule:
                errors["rule"] = _("Choose how the target follows from the members.")
            if self.rule == self.Rule.TIERS:
                try:
                    check_tiers(self.tiers)
                except TargetRuleError as error:
                    errors["tiers"] = error.message
        elif not self.scored_by:
            errors["scored_by"] = _("Say who scores this item.")
        if self.activity_type_id and self.metric not in (
            self.Metric.ACTIVITIES,
            self.Metric.PEOPLE_SERVED,
        ):
            errors["activity_type"] = _("A type of activity applies to activity measures only.")
        if errors:
            raise ValidationError(errors)


class Target(models.Model):
    """What one community must reach on one measured indicator (考核目标), fixed when the
    period opens from the community's registered members at that moment."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="targets"
    )
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    members = models.PositiveIntegerField(_("registered members at the start"))
    value = models.DecimalField(_("target"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["indicator", "community__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "community"], name="target_unique_indicator_community"
            )
        ]

    def __str__(self):
        return f"{self.indicator} · {self.community}: {self.value}"


def _evidence_path(instance, filename: str) -> str:
    # A random name: the uploaded one may say more than it should, and is kept in `evidence_name`.
    return f"assessment/{instance.indicator.period_id}/{uuid.uuid4().hex}{instance.extension}"


class ManualScore(models.Model):
    """A hand-scored item, bonus or deduction for one community, with its evidence: notes
    and, if given, a photo or PDF (checked as activity files are, served within scope)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="scores"
    )
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    points = models.DecimalField(
        _("points"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    evidence = models.TextField(_("evidence and notes"))
    evidence_file = models.FileField(
        _("evidence file"), upload_to=_evidence_path, max_length=200, blank=True
    )
    evidence_name = models.CharField(_("file name"), max_length=200, blank=True)
    evidence_type = models.CharField(max_length=50, blank=True)
    scored_by = models.ForeignKey(
        User, verbose_name=_("scored by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    scored_at = models.DateTimeField(_("scored at"), auto_now=True)

    class Meta:
        verbose_name = _("hand score")
        verbose_name_plural = _("hand scores")
        ordering = ["indicator", "community__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "community"], name="manualscore_unique_indicator_community"
            )
        ]

    def __str__(self):
        return f"{self.indicator} · {self.community}: {self.points}"

    @property
    def extension(self) -> str:
        return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(
            self.evidence_type, ".pdf"
        )


class Result(models.Model):
    """A community's outcome of a finalized period: the scores as they were locked."""

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", _("Excellent")
        GOOD = "good", _("Good")
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")

    class Outcome(models.TextChoices):
        MODEL = "model", _("Model community")
        RECTIFY = "rectify", _("Rectify within a deadline")

    period = models.ForeignKey(
        Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="results"
    )
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    total = models.DecimalField(_("total score"), max_digits=8, decimal_places=2)
    rank_in_street = models.PositiveIntegerField(_("rank in the street"))
    rank_in_district = models.PositiveIntegerField(_("rank in the district"))
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    # Per indicator: {"indicator": id, "target": "6", "actual": "7", "score": "20.00"}.
    breakdown = models.JSONField(_("breakdown"), default=list)

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["period", "rank_in_district", "community__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "community"], name="result_unique_period_community"
            )
        ]

    def __str__(self):
        return f"{self.period} · {self.community}: {self.total}"


# -- Evaluation of representatives (综合评价, 三评) ------------------------------------------------


class EvaluationTemplate(models.Model):
    """Categories and items with their maximum scores; administrators keep the templates."""

    class Kind(models.TextChoices):
        """综合评价 of those who are representatives; 入选评价 of nominees (凡进必评)."""

        YEARLY = "yearly", _("Yearly evaluation")
        ADMISSION = "admission", _("Admission evaluation")

    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.YEARLY)
    is_example = models.BooleanField(_("example"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("evaluation template")
        verbose_name_plural = _("evaluation templates")
        ordering = ["name"]

    def __str__(self):
        return self.name


class EvaluationCategory(models.Model):
    """A category of a template (政治素质, 能力素质 ...)."""

    template = models.ForeignKey(
        EvaluationTemplate,
        verbose_name=_("template"),
        on_delete=models.CASCADE,
        related_name="categories",
    )
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=60)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("evaluation category")
        verbose_name_plural = _("evaluation categories")
        ordering = ["template", "sort_order", "id"]

    def __str__(self):
        return self.name


class EvaluationItem(models.Model):
    """An item scored up to `max_score`, or a veto item (一票否决): one mark fails."""

    category = models.ForeignKey(
        EvaluationCategory,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=200)
    max_score = models.DecimalField(
        _("maximum score"), max_digits=6, decimal_places=2, default=0,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    is_veto = models.BooleanField(_("veto item"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("evaluation item")
        verbose_name_plural = _("evaluation items")
        ordering = ["category", "sort_order", "id"]

    def __str__(self):
        return self.name


class RoundQuerySet(ScopedQuerySet):
    """Rounds of the user's area and below (the staff who run them), and the rounds of the
    areas above it: a street enters 自我评价 and 社会评价 of its own representatives in a
    district's round (`services.may_enter`), and sees only them there
    (`services.round_rows_seen`)."""

    area_field = "area"
    change_permission = "assessment.score_evaluation"

    def visible_to(self, user):
        rounds = super().visible_to(user)
        above = enclosing_area_ids(user)
        return rounds | self.filter(area_id__in=above) if above else rounds


class EvaluationRound(models.Model):
    """An evaluation of the representatives of an area, from three sources with weights."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("assessment period", "Open")
        CONFIRMED = "confirmed", _("Outcome confirmed")

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=100)
    template = models.ForeignKey(
        EvaluationTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    # Weights of 上级评议, 自我评价 and 社会评价 in per cent; they add up to 100.
    superior_weight = models.PositiveSmallIntegerField(
        _("weight of the superiors' review"), default=50
    )
    self_weight = models.PositiveSmallIntegerField(_("weight of the self-assessment"), default=20)
    public_weight = models.PositiveSmallIntegerField(
        _("weight of the public assessment"), default=30
    )
    # 末位淘汰: this share (per cent) of the lowest ranked are flagged.
    cut_share = models.PositiveSmallIntegerField(_("lowest share flagged (%)"), default=10)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        ordering = ["-id"]
        permissions = [
            ("score_evaluation", _("Can enter evaluation scores")),
            ("review_evaluation", _("Can enter the superiors' review and mark veto items")),
            ("confirm_evaluationround", _("Can confirm the outcome of an evaluation round")),
        ]

    def __str__(self):
        return f"{self.area.name} {self.name}"

    def clean(self):
        if self.superior_weight + self.self_weight + self.public_weight != 100:
            raise ValidationError({"superior_weight": _("The three weights must add up to 100.")})
        if self.cut_share > 50:
            raise ValidationError({"cut_share": _("Flag at most half of the representatives.")})


class Evaluation(models.Model):
    """One representative's evaluation in a round."""

    class Source(models.TextChoices):
        SUPERIOR = "superior", _("Superiors' review")
        SELF = "self", _("Self-assessment")
        PUBLIC = "public", _("Public assessment")

    round = models.ForeignKey(
        EvaluationRound, verbose_name=_("round"), on_delete=models.CASCADE,
        related_name="evaluations",
    )  # fmt: skip
    member = models.ForeignKey(
        "members.Member", verbose_name=_("representative"), on_delete=models.PROTECT,
        related_name="evaluations",
    )  # fmt: skip

    class Left(models.TextChoices):
        """Why a representative is no longer evaluated in the round."""

        MOVED_OUT = "moved_out", pgettext_lazy("a representative", "Moved out")
        DECEASED = "deceased", pgettext_lazy("a representative", "Deceased")
        WITHDRAWN = "withdrawn", pgettext_lazy("a representative", "Withdrawn")

    # Set when the round's outcome is confirmed.
    removed = models.BooleanField(_("removed from the representatives"), default=False)
    # Stored when the round's outcome is confirmed; while it is open, `departure()` reads it
    # from the member's record now.
    left = models.CharField(_("left the round"), max_length=10, choices=Left.choices, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["round", "member__name"]
        constraints = [
            models.UniqueConstraint(fields=["round", "member"], name="evaluation_unique_member")
        ]

    def __str__(self):
        return f"{self.round} · {self.member}"

    def audit_label(self) -> str:
        return f"{self.round} · {self.member.audit_label()}"

    def departure(self) -> str:
        """Why the representative left the round ("" if she has not): she is no longer
        registered (迁出/去世/退出), or was transferred out of the round's area. Such an
        evaluation is kept and marked, not ranked or cut, and her record is not touched."""
        if self.round.state == EvaluationRound.State.CONFIRMED:
            return self.left
        return self.departure_now()

    def departure_now(self) -> str:
        """Why the representative is out of the round's area today, whatever the round's state
        (a reopened round gives the representative flag back only to those still in it)."""
        member = self.member
        if member.status != member.Status.ACTIVE:
            return member.status
        if not member.community.is_within(self.round.area):
            return self.Left.MOVED_OUT
        return ""


class EvaluationScore(models.Model):
    """What one source gave one item of one evaluation."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="scores"
    )
    source = models.CharField(_("source"), max_length=10, choices=Evaluation.Source.choices)
    item = models.ForeignKey(
        EvaluationItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("evaluation score")
        verbose_name_plural = _("evaluation scores")
        ordering = ["evaluation", "source", "item"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "source", "item"], name="evaluationscore_unique"
            )
        ]

    def __str__(self):
        return f"{self.evaluation} {self.source} {self.item}: {self.score}"


class VetoMark(models.Model):
    """A veto item (一票否决) marked against a representative: the evaluation fails."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="vetoes"
    )
    item = models.ForeignKey(
        EvaluationItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("evidence and notes"))
    marked_by = models.ForeignKey(
        User, verbose_name=_("marked by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(_("marked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("veto mark")
        verbose_name_plural = _("veto marks")
        ordering = ["evaluation", "item"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "item"], name="vetomark_unique")
        ]

    def __str__(self):
        return f"{self.evaluation} ✗ {self.item}"


# -- Around a round: the joint meeting, outside evaluators, talks (issue 18) -------------------


def _minutes_path(instance, filename: str) -> str:
    # A random name, as for evidence: the uploaded one is kept in `minutes_name`.
    return f"assessment/rounds/{instance.round_id}/{uuid.uuid4().hex}.pdf"


class JointMeeting(models.Model):
    """A round held as a joint meeting (联席评价) with the people's congress, the CPPCC and
    others: when, who took part, the minutes (text and, if given, the signed PDF)."""

    class Body(models.TextChoices):
        NPC = "npc", _("People's congress")
        CPPCC = "cppcc", _("CPPCC")
        UNITED_FRONT = "united_front", _("United front work department")
        ORGANISATION = "organisation", _("Organisation department")
        FEDERATION = "federation", _("Federation of industry and commerce")

    round = models.OneToOneField(
        EvaluationRound, verbose_name=_("round"), on_delete=models.CASCADE,
        related_name="joint_meeting",
    )  # fmt: skip
    held_on = models.DateField(_("held on"))
    bodies = models.JSONField(_("participating bodies"), default=list, blank=True)
    other_bodies = models.CharField(_("other participating bodies"), max_length=200, blank=True)
    minutes = models.TextField(_("minutes"))
    minutes_file = models.FileField(
        _("minutes (PDF)"), upload_to=_minutes_path, max_length=200, blank=True
    )
    minutes_name = models.CharField(_("file name"), max_length=200, blank=True)
    # [{"name": "张三", "unit": "区人大常委会"}, ...], in the order given.
    attendees = models.JSONField(_("attendees"), default=list, blank=True)
    updated_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("joint meeting")
        verbose_name_plural = _("joint meetings")
        ordering = ["-held_on", "id"]

    def __str__(self):
        return f"{self.round} · {self.held_on}"

    def body_labels(self) -> list[str]:
        labels = dict(self.Body.choices)
        names = [str(labels[code]) for code in self.bodies if code in labels]
        if self.other_bodies:
            names.append(self.other_bodies)
        return names


class OutsideEvaluator(models.Model):
    """A named outside evaluator of a round's public assessment (社会评价): a person and their
    unit, not an account. Once a round lists any, its public score of an item is the mean of
    theirs (`assessment.meetings`)."""

    round = models.ForeignKey(
        EvaluationRound, verbose_name=_("round"), on_delete=models.CASCADE,
        related_name="outside_evaluators",
    )  # fmt: skip
    name = models.CharField(pgettext_lazy("of a person", "name"), max_length=50)
    unit = models.CharField(_("unit"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("outside evaluator")
        verbose_name_plural = _("outside evaluators")
        ordering = ["round", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "name", "unit"],
                name="outsideevaluator_unique_in_round",
                violation_error_message=_("This evaluator of this unit is already listed."),
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.unit}）"


class OutsideScore(models.Model):
    """What one outside evaluator gave one item of one representative's evaluation."""

    evaluator = models.ForeignKey(
        OutsideEvaluator, verbose_name=_("outside evaluator"), on_delete=models.CASCADE,
        related_name="scores",
    )  # fmt: skip
    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE,
        related_name="outside_scores",
    )  # fmt: skip
    item = models.ForeignKey(
        EvaluationItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("outside evaluator's score")
        verbose_name_plural = _("outside evaluators' scores")
        ordering = ["evaluator", "evaluation", "item"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluator", "evaluation", "item"], name="outsidescore_unique"
            )
        ]

    def __str__(self):
        return f"{self.evaluator} · {self.evaluation} {self.item}: {self.score}"


class TalkRecord(models.Model):
    """The talk (约谈 / 警示谈话) held with a representative the round flagged, or why none was
    held (已迁出 ...). A round is confirmed only when each flagged person has one."""

    class Kind(models.TextChoices):
        TALK = "talk", _("Admonitory talk")
        WARNING = "warning", _("Warning talk")
        NONE = "none", _("No talk held")

    evaluation = models.OneToOneField(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE,
        related_name="talk",
    )  # fmt: skip
    kind = models.CharField(_("kind of talk"), max_length=10, choices=Kind.choices)
    held_on = models.DateField(_("held on"), null=True, blank=True)
    held_by = models.CharField(_("talk held by"), max_length=100, blank=True)
    content = models.TextField(_("what was said"), blank=True)
    outcome = models.TextField(_("outcome of the talk"), blank=True)
    reason = models.TextField(_("why no talk was held"), blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("talk record")
        verbose_name_plural = _("talk records")
        ordering = ["evaluation"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="none") & ~models.Q(reason=""))
                | (
                    ~models.Q(kind="none")
                    & models.Q(held_on__isnull=False)
                    & ~models.Q(held_by="")
                    & ~models.Q(content="")
                ),
                name="talkrecord_held_or_reason",
            )
        ]

    def __str__(self):
        return f"{self.evaluation} · {self.get_kind_display()}"

    def clean(self):
        errors = {}
        if self.kind == self.Kind.NONE:
            if not self.reason.strip():
                errors["reason"] = _("Say why no talk was held.")
        else:
            if self.held_on is None:
                errors["held_on"] = _("Give the day of the talk.")
            if not self.held_by.strip():
                errors["held_by"] = _("Say who held the talk.")
            if not self.content.strip():
                errors["content"] = _("Say what was said.")
        if errors:
            raise ValidationError(errors)


class ArrangementCancellation(models.Model):
    """A political arrangement a round's confirmation cancelled (取消推荐资格), so that
    reopening the round gives back exactly those (`meetings.arrangements_restore`)."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE,
        related_name="cancelled_arrangements",
    )  # fmt: skip
    arrangement = models.ForeignKey(
        "members.PoliticalArrangement", verbose_name=_("political arrangement"),
        on_delete=models.CASCADE, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("arrangement cancelled by a round")
        verbose_name_plural = _("arrangements cancelled by a round")
        ordering = ["evaluation", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "arrangement"], name="arrangementcancellation_unique"
            )
        ]

    def __str__(self):
        return f"{self.evaluation} ✗ {self.arrangement_id}"


# -- Admission evaluation (凡进必评, issue 18) ---------------------------------------------------


class Admission(models.Model):
    """A nominee evaluated in an admission round (`EvaluationTemplate.Kind.ADMISSION`) and the
    district's decision on her once the round is confirmed: 同意入选 admits her (the members'
    service sets the flag and writes the register), 不予入选 closes the nomination."""

    class Decision(models.TextChoices):
        ADMIT = "admit", _("Admitted")
        REJECT = "reject", _("Not admitted")

    evaluation = models.OneToOneField(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE,
        related_name="admission",
    )  # fmt: skip
    nomination = models.ForeignKey(
        "members.Nomination", verbose_name=pgettext_lazy("representative", "nomination"),
        on_delete=models.PROTECT, related_name="admissions",
    )  # fmt: skip
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    note = models.TextField(_("decision note"), blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("admission")
        verbose_name_plural = _("admissions")
        ordering = ["evaluation"]
        permissions = [("decide_admission", _("Can decide on nominees after their evaluation"))]

    def __str__(self):
        return f"{self.evaluation} · {self.get_decision_display() or '—'}"
