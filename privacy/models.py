"""Retention of the records of people who left the registry (PIPL art. 19 and 47).

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
