"""Pages of what an assessment leads to: a published period's table of rectifications and
示范社区, one rectification with its steps, and the part shown on the assessment's pages.

Every page starts from the user's area: a rectification out of it is 404, in it but not the
user's step 403 (the services check again)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from assessment.models import Period, Result
from assessment.views import ResultSection
from tongzhan.attachments import attachment_response
from tongzhan.mixins import action_write, confirm_page, form_write

from . import services
from .forms import ModelCommunityForm, NoticeForm, ReasonForm, ReportForm, TableFilterForm
from .models import ModelCommunity, Rectification

State = Rectification.State

_STATE_ORDER = Case(
    *[When(state=state, then=Value(order)) for state, order in Rectification.ORDER.items()],
    output_field=IntegerField(),
)


def _posted(request):
    """The form's data on a POST, even an empty one (a form of optional fields is valid empty)."""
    return request.POST if request.method == "POST" else None


def _published_period(request, pk) -> Period:
    """A published period of the user's district: until then its results are not final for
    everyone, and nothing follows from them."""
    return get_object_or_404(
        Period.objects.visible_to(request.user).select_related("district"),
        pk=pk,
        state=Period.State.FINAL,
        published=True,
    )


def _rectifications(user, today):
    return (
        Rectification.objects.visible_to(user)
        .with_overdue(today)
        .select_related("community__parent", "result__period__district")
    )


def _rectification(request, pk) -> Rectification:
    return get_object_or_404(_rectifications(request.user, timezone.localdate()), pk=pk)


# -- The district's table ------------------------------------------------------------------------


@require_GET
@login_required
@permission_required("followup.view_rectification", raise_exception=True)
def period_table(request, pk):
    """Every rectification of a published period the user sees (overdue first, then by how
    far each is), filterable by state, and the period's 示范社区 with reward and activity."""
    period = _published_period(request, pk)
    user, today = request.user, timezone.localdate()
    form = TableFilterForm(request.GET or None)
    rows = _rectifications(user, today).filter(result__period=period)
    shown = form.cleaned_data["state"] if form.is_valid() else ""
    if shown == "overdue":
        rows = rows.filter(overdue=True)
    elif shown:
        rows = rows.filter(state=shown)
    rows = rows.order_by("-overdue", _STATE_ORDER, "deadline", "community__code")
    manage = services.manages(user, period)
    models = list(services.model_results(period))
    records = {
        record.result_id: record
        for record in ModelCommunity.objects.filter(result__in=models).select_related("activity")
    }
    context = {
        "period": period,
        "form": form,
        "rows": rows,
        "manage": manage,
        "due": list(services.rectifications_due(period)) if manage else [],
        "models": [(result, records.get(result.pk)) for result in models],
        "may_record_model": services.may_record_model(user, period),
    }
    return render(request, "followup/period_table.html", context)


@login_required
@permission_required("followup.manage_rectification", raise_exception=True)
def notify(request, pk):
    """发出整改通知 for every community of the period to rectify that has none yet: the
    confirmation page carries the notice and the deadline."""
    period = _published_period(request, pk)
    if not services.manages(request.user, period):
        raise PermissionDenied
    back_url = reverse("followup:period", args=[period.pk])
    due = list(services.rectifications_due(period))
    form = NoticeForm(
        _posted(request),
        initial={
            "notice": services.default_notice(period),
            "deadline": services.default_deadline(),
        },
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and form_write(
            request,
            form,
            lambda: services.rectifications_notify(
                actor=request.user,
                period=period,
                deadline=form.cleaned_data["deadline"],
                notice=form.cleaned_data["notice"],
                request=request,
            ),
            done=_("The rectification notices were sent."),
        )
    ):
        return redirect(back_url)
    return confirm_page(
        request,
        heading=_("Send rectification notices"),
        rows=[
            (_("Assessment period"), f"{period.district.name} {period.name}"),
            (
                _("Communities to rectify"),
                "、".join(result.community.name for result in due) or _("None left"),
            ),
        ],
        happens=[
            _("Each community listed gets the notice and the deadline on its page."),
            _(
                "It reports what it rectified, with evidence; its street checks the report and "
                "the district accepts it or returns it."
            ),
            _("The notice and the deadline can be changed later, one community at a time."),
        ],
        button=_("Send the notices"),
        back_url=back_url,
        form=form,
    )


# -- One rectification --------------------------------------------------------------------------


def _page(request, rectification, *, send_back_form=None, return_form=None, status=200):
    user = request.user
    may_check = services.may_check(user, rectification)
    may_accept = services.may_accept(user, rectification)
    checking = may_check and rectification.state == State.REPORTED
    accepting = may_accept and rectification.state == State.PASSED
    context = {
        "rectification": rectification,
        "period": rectification.result.period,
        "files": rectification.files.all(),
        "events": rectification.events.select_related("actor"),
        "may_report": services.may_report(user, rectification)
        and rectification.state == State.RECTIFYING,
        "may_edit": may_accept and rectification.state != State.ACCEPTED,
        "checking": checking,
        "accepting": accepting,
        "send_back_form": send_back_form or (ReasonForm() if checking else None),
        "return_form": return_form or (ReasonForm() if accepting else None),
    }
    return render(request, "followup/rectification_detail.html", context, status=status)


@require_GET
@login_required
@permission_required("followup.view_rectification", raise_exception=True)
def rectification_detail(request, pk):
    return _page(request, _rectification(request, pk))


def _rectification_form(request, rectification, form, write, *, done, **page):
    """A rectification's form page: on a valid POST, `write()` (the service), then back to the
    rectification; otherwise the form (again, with the service's refusal on it)."""
    if request.method == "POST" and form.is_valid() and form_write(request, form, write, done=done):
        return redirect("followup:detail", pk=rectification.pk)
    return render(
        request,
        "followup/rectification_form.html",
        {"rectification": rectification, "form": form, **page},
    )


@login_required
@permission_required("followup.manage_rectification", raise_exception=True)
def rectification_update(request, pk):
    """The district changes the notice or the deadline."""
    rectification = _rectification(request, pk)
    if not services.may_accept(request.user, rectification):
        raise PermissionDenied
    form = NoticeForm(
        _posted(request),
        initial={"notice": rectification.notice, "deadline": rectification.deadline},
    )
    return _rectification_form(
        request, rectification, form,
        lambda: services.rectification_update(
            actor=request.user, rectification=rectification,
            notice=form.cleaned_data["notice"], deadline=form.cleaned_data["deadline"],
            request=request,
        ),
        done=_("The notice was saved."),
        heading=_("Change the notice or the deadline"), button=_("Save"), multipart=False,
    )  # fmt: skip


@login_required
@permission_required("followup.report_rectification", raise_exception=True)
def rectification_report(request, pk):
    """The community reports what it rectified, with evidence."""
    rectification = _rectification(request, pk)
    if not services.may_report(request.user, rectification):
        raise PermissionDenied
    form = ReportForm(
        _posted(request),
        request.FILES if request.method == "POST" else None,
        initial={"report": rectification.report},
    )
    return _rectification_form(
        request, rectification, form,
        lambda: services.rectification_report(
            actor=request.user, rectification=rectification,
            report=form.cleaned_data["report"], uploads=form.cleaned_data["files"],
            request=request,
        ),
        done=_("The rectification was reported to the street."),
        heading=_("Report the rectification"), button=_("Report to the street"),
        multipart=True, files=rectification.files.all(),
    )  # fmt: skip


@login_required
@permission_required("followup.check_rectification", raise_exception=True)
def rectification_pass(request, pk):
    """审核通过 is one-way for the street: the report goes to the district and the community
    can no longer change it. The button first shows what passing on does, then passes it."""
    rectification = _rectification(request, pk)
    if not services.may_check(request.user, rectification):
        raise PermissionDenied
    back_url = reverse("followup:detail", args=[rectification.pk])
    if request.method == "POST" and request.POST.get("confirmed"):
        action_write(
            request,
            lambda: services.rectification_pass(
                actor=request.user, rectification=rectification, request=request
            ),
            done=_("The report was passed on to the district."),
        )
        return redirect(back_url)
    if rectification.state != State.REPORTED:
        messages.error(
            request,
            _("%(refusal)s: the rectification is %(state)s.")
            % {
                "refusal": _("Only a reported rectification is checked"),
                "state": rectification.state_label,
            },
        )
        return redirect(back_url)
    return confirm_page(
        request,
        heading=_("Pass the rectification on to the district"),
        rows=[
            (_("Community"), rectification.community.name),
            (
                _("Assessment period"),
                f"{rectification.result.period} · {rectification.result.get_grade_display()}",
            ),
            (_("Deadline"), f"{rectification.deadline:%Y-%m-%d}"),
            (_("Rectification notice"), rectification.notice),
            (_("What was rectified"), rectification.report),
            (_("Attachments"), "、".join(f.name for f in rectification.files.all())),
        ],
        happens=[
            _("The report goes to the district, which accepts it or returns it."),
            _("The community can no longer change its report, nor can the street send it back."),
        ],
        button=_("Checked: pass it on to the district"),
        back_url=back_url,
    )


def _reason_step(request, pk, *, allowed, write, done, form_name):
    rectification = _rectification(request, pk)
    if not allowed(request.user, rectification):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: write(
            actor=request.user,
            rectification=rectification,
            reason=form.cleaned_data["reason"],
            request=request,
        ),
        done=done,
    ):
        return redirect("followup:detail", pk=rectification.pk)
    return _page(request, _rectification(request, pk), **{form_name: form})


@require_POST
@login_required
@permission_required("followup.check_rectification", raise_exception=True)
def rectification_send_back(request, pk):
    """The street sends the report back to the community; without a reason the page shows
    the form again."""
    return _reason_step(
        request, pk, allowed=services.may_check, write=services.rectification_send_back,
        done=_("The report was sent back to the community."), form_name="send_back_form",
    )  # fmt: skip


@require_POST
@login_required
@permission_required("followup.manage_rectification", raise_exception=True)
def rectification_return(request, pk):
    """The district returns it to the community instead of accepting it."""
    return _reason_step(
        request, pk, allowed=services.may_accept, write=services.rectification_return,
        done=_("The rectification was returned to the community."), form_name="return_form",
    )  # fmt: skip


@login_required
@permission_required("followup.manage_rectification", raise_exception=True)
def rectification_accept(request, pk):
    """验收通过 is final: the button first shows what accepting does, then accepts."""
    rectification = _rectification(request, pk)
    if not services.may_accept(request.user, rectification):
        raise PermissionDenied
    back_url = reverse("followup:detail", args=[rectification.pk])
    if request.method == "POST" and request.POST.get("confirmed"):
        action_write(
            request,
            lambda: services.rectification_accept(
                actor=request.user, rectification=rectification, request=request
            ),
            done=_("The rectification was accepted."),
        )
        return redirect(back_url)
    if rectification.state != State.PASSED:
        messages.error(request, _("Only a rectification the street passed on is accepted."))
        return redirect(back_url)
    return confirm_page(
        request,
        heading=_("Accept the rectification"),
        rows=[
            (_("Community"), rectification.community.name),
            (_("Assessment period"), str(rectification.result.period)),
            (_("Deadline"), f"{rectification.deadline:%Y-%m-%d}"),
            (_("What was rectified"), rectification.report),
        ],
        happens=[
            _("The rectification is closed as accepted and counts as done."),
            _("This cannot be undone."),
        ],
        button=pgettext("a rectification", "Accept"),
        back_url=back_url,
    )


@require_GET
@login_required
@permission_required("followup.view_rectification", raise_exception=True)
def rectification_file(request, pk, file_pk):
    """A file of the community's report, to whoever sees the rectification."""
    rectification = _rectification(request, pk)
    return attachment_response(get_object_or_404(rectification.files, pk=file_pk))


# -- 示范社区 -------------------------------------------------------------------------------------


@login_required
@permission_required("followup.change_modelcommunity", raise_exception=True)
def model_community(request, pk):
    """The district records a 示范社区's reward and experience-sharing activity."""
    result = get_object_or_404(
        Result.objects.filter(
            period__in=Period.objects.visible_to(request.user),
            period__state=Period.State.FINAL,
            period__published=True,
            outcome=Result.Outcome.MODEL,
        ).select_related("period__district", "community"),
        pk=pk,
    )
    if not services.may_record_model(request.user, result.period):
        raise PermissionDenied
    record = ModelCommunity.objects.filter(result=result).first()
    form = ModelCommunityForm(
        _posted(request),
        user=request.user,
        community=result.community,
        initial={
            "reward": record.reward if record else None,
            "activity": record.activity_id if record else None,
        },
    )
    back_url = reverse("followup:period", args=[result.period_id])
    if (
        request.method == "POST"
        and form.is_valid()
        and form_write(
            request,
            form,
            lambda: services.model_community_set(
                actor=request.user,
                result=result,
                reward=form.cleaned_data["reward"],
                activity=form.cleaned_data["activity"],
                request=request,
            ),
            done=_("The model community's reward and activity were saved."),
        )
    ):
        return redirect(back_url)
    return render(
        request,
        "followup/model_form.html",
        {
            "result": result,
            "form": form,
            "back_url": back_url,
            "changes": record.changes.select_related("actor") if record else [],
        },
    )


# -- On the assessment's pages (assessment.views.result_section_register) ------------------------


def result_section(user, period: Period, community) -> ResultSection | None:
    """On a published period's page, the link to its table; on a community's page of it,
    the community's rectification or its 示范社区 reward and activity."""
    if not period.published or not user.has_perm("followup.view_rectification"):
        return None
    context = {"period": period, "community": community}
    if community is not None:
        today = timezone.localdate()
        context["rectification"] = (
            _rectifications(user, today).filter(result__period=period, community=community).first()
        )
        context["model"] = (
            ModelCommunity.objects.filter(result__period=period, community=community)
            .select_related("activity")
            .first()
        )
        context["activity_visible"] = context["model"] is not None and (
            context["model"].activity_id is not None
            and services.model_activity_choices(user, community)
            .filter(pk=context["model"].activity_id)
            .exists()
        )
    return ResultSection(template="followup/result_section.html", context=context)
