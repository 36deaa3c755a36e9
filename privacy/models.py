"""A person's own requests (PIPL arts. 44-46), and the retention of the records of people
who left the registry (PIPL art. 19 and 47).

A person asks to see, copy or correct what the registry holds about her (`PersonRequest`);
staff record the request, answer it (or refuse it, with reasons) within the deadline, and each
copy of her record handed to her is kept as its SHA-256 (`RequestCopy`), the file itself not.

A member who moved out, died or withdrew is kept `RETENTION_YEARS[status]` years from the day
she left; then her record is due for anonymisation. District staff approve the records due
(`Approval`, one `Anonymisation` per record), and the daily job anonymises the approved ones
(`privacy.anonymise`), each in its own transaction. Nothing here is ever undone.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Member
from tongzhan.models import Area, User
from tongzhan.scoping import ScopedQuerySet


class ApprovalQuerySet(ScopedQuerySet):
    """Approvals belong to the area of the user who gave them."""

    area_field = "area"
    change_permission = "privacy.approve_anonymisation"

    def visible_to(self, user):
        if not user.is_authenticated or not user.has_perm("privacy.view_anonymisation"):
            return self.none()
        rows = super().visible_to(user)
        # An administrator of every area approves with no area: seen by those who see all.
        return rows if user.sees_everything else rows.filter(area__isnull=False)


class Approval(models.Model):
    """A district's approval of the anonymisation of records past their retention period:
    who approved, when, and which records (its `Anonymisation` rows)."""

    # The approver's area (None for an administrator of every area): who else sees it.
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    approved_by = models.ForeignKey(
        User, verbose_name=_("approved by"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), auto_now_add=True)
    # Whether every record due in the approver's area was approved, or those chosen.
    all_due = models.BooleanField(_("every record due"), default=False)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval of anonymisation")
        verbose_name_plural = _("approvals of anonymisation")
        ordering = ["-approved_at", "-id"]

    def __str__(self):
        return str(self.pk)


class AnonymisationQuerySet(ScopedQuerySet):
    """Records approved for anonymisation, seen where the member is kept."""

    area_field = "member__community"
    change_permission = "privacy.approve_anonymisation"

    def visible_to(self, user):
        if not user.is_authenticated or not user.has_perm("privacy.view_anonymisation"):
            return self.none()
        return super().visible_to(user)

    def pending(self):
        return self.filter(state=Anonymisation.State.APPROVED)


class Anonymisation(models.Model):
    """One record approved for anonymisation, and what became of it."""

    class State(models.TextChoices):
        APPROVED = "approved", _("Approved, waiting for the daily run")
        DONE = "done", _("Anonymised")
        # At the run she was no longer due: registered again, or the period changed.
        SKIPPED = "skipped", _("No longer due: left as it was")

    approval = models.ForeignKey(
        Approval, verbose_name=_("approval"), on_delete=models.PROTECT, related_name="items"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="anonymisations"
    )
    # What made her due when it was approved: her status and the day she left.
    status = models.CharField(_("status"), max_length=10, choices=Member.Status.choices)
    left_on = models.DateField(_("left on"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.APPROVED
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    objects = AnonymisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("anonymisation")
        verbose_name_plural = _("anonymisations")
        ordering = ["approval", "id"]
        permissions = [
            ("approve_anonymisation", _("Can approve the anonymisation of records past retention")),
        ]
        constraints = [
            # A record approved (or anonymised) once leaves the list of those due; one skipped
            # at the run (registered again) may become due again later.
            models.UniqueConstraint(
                fields=["member"],
                condition=~models.Q(state="skipped"),
                name="anonymisation_once_per_member",
            )
        ]
        indexes = [models.Index(fields=["state", "id"], name="anonymisation_state_idx")]

    def __str__(self):
        return f"{self.member_id} · {self.get_state_display()}"


class PersonRequestQuerySet(ScopedQuerySet):
    """A person's requests are seen by whoever sees her record, and kept (recorded,
    answered) by whoever may change it: the scope of `Member.objects`."""

    area_field = "member__community"
    change_permission = "members.change_member"

    def visible_to(self, user):
        if not user.is_authenticated or not user.has_perm("members.view_member"):
            return self.none()
        # A record merged into another is that other one now (its requests moved with it).
        return super().visible_to(user).filter(member__merged_into__isnull=True)

    def editable_by(self, user):
        return super().editable_by(user).filter(member__anonymised_at__isnull=True)

    def open(self):
        return self.filter(state=PersonRequest.State.OPEN)

    def overdue(self, today):
        return self.open().filter(due_on__lt=today)


class PersonRequest(models.Model):
    """A person's request to see, copy or correct what the registry holds about her (PIPL
    arts. 44-46), from the day it was received until it is answered or refused with reasons.
    Its deadline (`due_on`) is `settings.PERSON_REQUEST_WORKING_DAYS` working days after
    the day it was received."""

    class Kind(models.TextChoices):
        SEE = "see", _("See what is held")
        COPY = "copy", _("Copy what is held")
        CORRECT = "correct", _("Correct what is held")

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        WRITING = "writing", _("In writing")
        PHONE = "phone", _("By phone")
        OTHER = "other", _("Other")

    class AskedBy(models.TextChoices):
        SELF = "self", _("The person herself")
        AGENT = "agent", _("An agent")

    class State(models.TextChoices):
        OPEN = "open", _("Waiting to be handled")
        ANSWERED = "answered", _("Answered")
        REFUSED = "refused", _("Refused with reasons")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT,
        related_name="person_requests",
    )  # fmt: skip
    kind = models.CharField(_("request"), max_length=10, choices=Kind.choices)
    received_on = models.DateField(_("received on"))
    channel = models.CharField(
        _("received how"), max_length=10, choices=Channel.choices, default=Channel.IN_PERSON
    )
    asked_by = models.CharField(
        _("asked by"), max_length=10, choices=AskedBy.choices, default=AskedBy.SELF
    )
    agent_name = models.CharField(_("agent's name"), max_length=50, blank=True)
    agent_relation = models.CharField(_("agent's relation to her"), max_length=50, blank=True)
    asks = models.TextField(_("what she asks"))
    due_on = models.DateField(_("answer due by"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    # The answer given, or for a refusal its reasons (PIPL art. 50: a refusal gives reasons).
    answer = models.TextField(_("answer"), blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    answered_by = models.ForeignKey(
        User, verbose_name=_("answered by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip

    objects = PersonRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("person's request")
        verbose_name_plural = _("persons' requests")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(asked_by="agent") | ~models.Q(agent_name=""),
                name="personrequest_agent_named",
                violation_error_message=_("Name the agent who asked for her."),
            ),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("received_on")),
                name="personrequest_due_after_received",
            ),
            models.CheckConstraint(
                condition=models.Q(state="open", answered_on__isnull=True)
                | (~models.Q(state="open") & models.Q(answered_on__isnull=False)),
                name="personrequest_answered_dated",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="refused") | ~models.Q(answer=""),
                name="personrequest_refusal_reasoned",
                violation_error_message=_("A refusal must give its reasons."),
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"], name="personrequest_state_due_idx")]

    def __str__(self):
        return _("Request No. %(number)s (%(kind)s)") % {
            "number": self.pk,
            "kind": self.get_kind_display(),
        }

    def days_late(self, today) -> int:
        """Days past the deadline of an open request (0 when not late)."""
        if self.state != self.State.OPEN or today <= self.due_on:
            return 0
        return (today - self.due_on).days


class RequestCopy(models.Model):
    """One copy of a person's record produced for her request: its format, when and by whom,
    and the SHA-256 and size of the file handed over. The file itself is not kept: it holds
    her full numbers, and the hash proves which file it was."""

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Spreadsheet (.xlsx)")
        PDF = "pdf", _("Printed form (PDF)")

    request = models.ForeignKey(
        PersonRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="copies"
    )
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    produced_at = models.DateTimeField(_("produced at"), auto_now_add=True)
    produced_by = models.ForeignKey(
        User, verbose_name=_("produced by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        verbose_name = _("copy for a request")
        verbose_name_plural = _("copies for requests")
        ordering = ["-produced_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="requestcopy_sha256_hex"
            )
        ]

    def __str__(self):
        return f"{self.request_id} · {self.get_format_display()} · {self.sha256[:12]}"
