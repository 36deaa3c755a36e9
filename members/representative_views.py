"""The pages of the representative's file (党外代表人士档案, issue 18): a member's political
arrangements and duty records, added, changed, ended and removed by who may change the
member; the member page shows them. A record of a member out of the user's
area is 404, of one they may only read 403, as for the member."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET
from django.views.generic import CreateView, FormView, UpdateView

from tongzhan import spreadsheets as xlsx
from tongzhan.audit import audit_record
from tongzhan.masking import name_seen_by
from tongzhan.mixins import ServiceFormMixin, confirm_page, form_write
from tongzhan.models import AuditEvent

from . import services
from .forms import (
    ArrangementEndForm,
    DutyRecordForm,
    NominationForm,
    NominationWithdrawForm,
    PoliticalArrangementForm,
    RegisterYearForm,
)
from .models import DutyRecord, Member, Nomination, PoliticalArrangement, RepresentativeChange
from .views import WEB_FORM, XLSX, EditableMemberMixin, MemberMixin, record_remove

ARRANGEMENTS_ANCHOR = "#arrangements"
DUTIES_ANCHOR = "#duties"


class FileFormMixin(ServiceFormMixin):
    anchor = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(member=self.member, **kwargs)

    def get_success_url(self):
        return reverse("members:detail", args=[self.member.pk]) + self.anchor


# -- Political arrangements --------------------------------------------------------------------


class ArrangementFormMixin(FileFormMixin):
    form_class = PoliticalArrangementForm
    template_name = "members/arrangement_form.html"
    anchor = ARRANGEMENTS_ANCHOR


class ArrangementCreateView(EditableMemberMixin, ArrangementFormMixin, CreateView):
    def get_object(self, queryset=None):
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": PoliticalArrangement(member=self.member)}

    def write(self, form):
        return services.arrangement_add(
            actor=self.request.user,
            member=self.member,
            data=form.service_data(),
            source=WEB_FORM,
            request=self.request,
        )

    def get_success_message(self):
        return _("%(arrangement)s was added to the political arrangements.") % {
            "arrangement": self.written.text
        }


class ArrangementMixin(EditableMemberMixin):
    """An arrangement of a member the user may see (else 404) and change (else 403)."""

    @cached_property
    def arrangement(self) -> PoliticalArrangement:
        return get_object_or_404(
            PoliticalArrangement.objects.visible_to(self.request.user).select_related("member"),
            pk=self.kwargs["pk"],
        )

    @cached_property
    def member(self) -> Member:
        return self.arrangement.member


class ArrangementUpdateView(ArrangementMixin, ArrangementFormMixin, UpdateView):
    success_message = gettext_lazy("The changes were saved.")

    def get_object(self, queryset=None):
        return self.arrangement

    def write(self, form):
        return services.arrangement_update(
            actor=self.request.user,
            arrangement=self.arrangement,
            data=form.service_data(),
            source=WEB_FORM,
            request=self.request,
        )


class ArrangementEndView(ArrangementMixin, FileFormMixin, FormView):
    """The term of an arrangement in office ran out (届满) or it was cancelled (取消)."""

    form_class = ArrangementEndForm
    template_name = "members/arrangement_end.html"
    anchor = ARRANGEMENTS_ANCHOR

    def get_context_data(self, **kwargs):
        return super().get_context_data(arrangement=self.arrangement, **kwargs)

    def write(self, form):
        return services.arrangement_end(
            actor=self.request.user,
            arrangement=self.arrangement,
            state=form.cleaned_data["state"],
            ended_on=form.cleaned_data["ended_on"],
            reason=form.cleaned_data["end_reason"],
            source=WEB_FORM,
            request=self.request,
        )

    def get_success_message(self):
        return _("%(arrangement)s: %(state)s.") % {
            "arrangement": self.written.text,
            "state": self.written.get_state_display(),
        }


@login_required
def arrangement_remove(request, pk):
    arrangement = get_object_or_404(
        PoliticalArrangement.objects.visible_to(request.user).select_related("member"), pk=pk
    )
    return record_remove(
        request,
        arrangement,
        heading=_("Remove a political arrangement"),
        rows=[(_("Political arrangement"), services.arrangement_summary(arrangement))],
        write=lambda: services.arrangement_remove(
            actor=request.user, arrangement=arrangement, source=WEB_FORM, request=request
        ),
        done=_("%(arrangement)s was removed from the political arrangements.")
        % {"arrangement": arrangement.text},
        anchor=ARRANGEMENTS_ANCHOR,
        instead=_(
            "If the arrangement was right and is over (its term ended, or it was withdrawn), go "
            "back and end it instead: it stays part of the file."
        ),
    )


# -- Duty records ------------------------------------------------------------------------------


class DutyFormMixin(FileFormMixin):
    form_class = DutyRecordForm
    template_name = "members/duty_form.html"
    anchor = DUTIES_ANCHOR


class DutyCreateView(EditableMemberMixin, DutyFormMixin, CreateView):
    def get_object(self, queryset=None):
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": DutyRecord(member=self.member)}

    def get_initial(self):
        # "Add a proposal" and the like on the member page choose the kind.
        kind = self.request.GET.get("kind", "")
        return {"kind": kind} if kind in DutyRecord.Kind.values else {}

    def write(self, form):
        return services.duty_add(
            actor=self.request.user,
            member=self.member,
            data=form.service_data(),
            source=WEB_FORM,
            request=self.request,
        )

    def get_success_message(self):
        return _("%(kind)s “%(title)s” was added to the duty record.") % {
            "kind": self.written.get_kind_display(),
            "title": self.written.title,
        }


class DutyMixin(EditableMemberMixin):
    """A duty record of a member the user may see (else 404) and change (else 403)."""

    @cached_property
    def duty(self) -> DutyRecord:
        return get_object_or_404(
            DutyRecord.objects.visible_to(self.request.user).select_related("member"),
            pk=self.kwargs["pk"],
        )

    @cached_property
    def member(self) -> Member:
        return self.duty.member


class DutyUpdateView(DutyMixin, DutyFormMixin, UpdateView):
    success_message = gettext_lazy("The changes were saved.")

    def get_object(self, queryset=None):
        return self.duty

    def write(self, form):
        return services.duty_update(
            actor=self.request.user,
            duty=self.duty,
            data=form.service_data(),
            source=WEB_FORM,
            request=self.request,
        )


@login_required
def duty_remove(request, pk):
    duty = get_object_or_404(
        DutyRecord.objects.visible_to(request.user).select_related("member"), pk=pk
    )
    return record_remove(
        request,
        duty,
        heading=_("Remove a duty record"),
        rows=[(_("Duty record"), services.duty_summary(duty))],
        write=lambda: services.duty_remove(
            actor=request.user, duty=duty, source=WEB_FORM, request=request
        ),
        done=_("“%(title)s” was removed from the duty record.") % {"title": duty.title},
        anchor=DUTIES_ANCHOR,
    )


# -- Admission and exit (凡进必评, 有进有出) ------------------------------------------------------


class NominationCreateView(MemberMixin, ServiceFormMixin, FormView):
    """Propose a member of the user's area as a representative: staff of her community,
    street or district. She becomes one only by the district's decision after an admission
    evaluation (assessment)."""

    form_class = NominationForm
    template_name = "members/nomination_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not services.may_nominate(request.user, self.member):
            if not request.user.has_perm("members.add_nomination"):
                raise PermissionDenied
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        # One already nominated or a representative gets no form: the page says why, with
        # the nomination awaiting its decision.
        return super().get_context_data(
            member=self.member,
            refusal=services.nomination_refusal(self.member),
            pending=self.member.nominations.pending().select_related("proposed_by").first(),
            **kwargs,
        )

    def write(self, form):
        return services.nomination_create(
            actor=self.request.user,
            member=self.member,
            reason=form.cleaned_data["reason"],
            request=self.request,
        )

    def get_success_message(self):
        return _("%(name)s is nominated: an admission evaluation and the district decide.") % {
            "name": self.member.name
        }

    def get_success_url(self):
        return reverse("members:detail", args=[self.member.pk]) + REPRESENTATIVE_ANCHOR


REPRESENTATIVE_ANCHOR = "#representative"


def nomination_rows(nomination: Nomination) -> list[tuple]:
    """A nomination as its withdrawal's confirmation page shows it (the day in local time)."""
    proposer = nomination.proposed_by
    by = (proposer.get_full_name() or proposer.username) if proposer else nomination.source
    day = f"{timezone.localtime(nomination.proposed_at):%Y-%m-%d}"
    return [
        (_("Member"), nomination.member.name),
        (_("Proposed"), f"{day} · {by}" if by else day),
        (_("Why she is proposed"), nomination.reason),
        (_("State"), nomination.get_state_display()),
    ]  # fmt: skip


@login_required
def nomination_withdraw(request, pk):
    """撤回 a nomination awaiting its decision: the confirmation page asks why, its answer
    withdraws it. Of a member out of the user's area 404; for who may not propose her, or
    not at the level that proposed her, 403."""
    nomination = get_object_or_404(
        Nomination.objects.visible_to(request.user).select_related("member", "proposed_by__area"),
        pk=pk,
    )
    if not services.may_withdraw_nomination(request.user, nomination):
        raise PermissionDenied
    back_url = reverse("members:detail", args=[nomination.member_id]) + REPRESENTATIVE_ANCHOR
    refusal = services.nomination_withdraw_refusal(nomination)
    if refusal:
        messages.error(request, refusal)
        return redirect(back_url)
    form = NominationWithdrawForm(request.POST if request.method == "POST" else None)
    if (
        request.method == "POST"
        and request.POST.get("confirmed")
        and form.is_valid()
        and form_write(
            request,
            form,
            lambda: services.nomination_withdraw(
                actor=request.user,
                nomination=nomination,
                reason=form.cleaned_data["reason"],
                request=request,
            ),
            done=_("The nomination of %(name)s was withdrawn.") % {"name": nomination.member.name},
        )
    ):
        return redirect(back_url)
    return confirm_page(
        request,
        heading=pgettext("representative", "Withdraw the nomination"),
        rows=nomination_rows(nomination),
        happens=[
            _("The nomination is closed as withdrawn: no admission round takes her in for it."),
            _("The member's history keeps who withdrew it, when and why."),
            _("It cannot be undone; she can be nominated again later."),
        ],
        button=pgettext("representative", "Withdraw the nomination"),
        back_url=back_url,
        form=form,
    )


def _register(request, year: int):
    """The year's rows of the user's area. A row stays in the community she was in; one who
    has moved out of the user's area since is named as the lists of members name her to
    those outside it (masked), and not linked."""
    rows = list(
        RepresentativeChange.objects.visible_to(request.user)
        .filter(date__year=year)
        .select_related("member", "community__parent", "actor")
        .order_by("date", "id")
    )
    for row in rows:
        row.name = name_seen_by(request.user, row.member.name, row.member.community_id)
        row.linked = row.name == row.member.name
    return rows


@require_GET
@login_required
@permission_required("members.view_representativechange", raise_exception=True)
def representative_register(request):
    """The register of entries and exits of the user's area (有进有出), a year at a time,
    with the nominations awaiting evaluation and decision."""
    form = RegisterYearForm(request.GET or None)
    year = form.year_or_this()
    started = services.register_started()
    return render(
        request,
        "members/representative_register.html",
        {
            "form": form,
            "year": year,
            "rows": list(_register(request, year)),
            "years": services.register_years(RepresentativeChange.objects.visible_to(request.user)),
            "started": started,
            "before_register": started is not None and year < started.year,
            "nominations": Nomination.objects.visible_to(request.user)
            .pending()
            .select_related("member__community", "proposed_by")
            .order_by("proposed_at"),
        },
    )


@require_GET
@login_required
@permission_required("members.view_representativechange", raise_exception=True)
def representative_register_export(request):
    """The year's register as a spreadsheet, through the one writer (text cells); a year that
    is not one is shown on the register's page, by its field."""
    form = RegisterYearForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return representative_register(request)
    year = form.year_or_this()
    rows = list(_register(request, year))
    title = _("Register of entries and exits of representatives, %(year)s") % {"year": year}
    book = xlsx.Book()
    sheet = book.sheet(
        _("Register"), widths={1: 12, 2: 10, 3: 12, 4: 18, 5: 8, 6: 50}, title_rows=(2, 2)
    )
    sheet.append([xlsx.text(title, xlsx.Style(bold=True, size=14))])
    bold = xlsx.Style(bold=True)
    sheet.append(
        [
            xlsx.text(label, bold)
            for label in (
                _("Date"),
                _("Name"),
                _("Street"),
                _("Community"),
                _("Entry or exit"),
                _("Reason"),
            )
        ]
    )
    for row in rows:
        sheet.append(
            [
                row.date.isoformat(),
                row.name,
                row.community.parent.name if row.community.parent_id else "",
                row.community.name,
                row.get_kind_display(),
                row.reason,
            ]
        )
    content = book.bytes()
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"report": "representative_register", "year": year, "rows": len(rows)},
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"代表人士进出登记{year}.xlsx"
    )
    return response
