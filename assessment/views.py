"""Assessment pages. A period is seen by everyone of its district; results are limited by
`visible_standings`: a community or street sees its own until the ranking is published."""

import dataclasses
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from members.views import XLSX
from tongzhan import spreadsheets as xlsx
from tongzhan.audit import audit_record
from tongzhan.masking import name_seen_by
from tongzhan.mixins import action_write, confirm_page, form_write
from tongzhan.models import Area, AuditEvent

from . import grids, meetings, services
from .forms import (
    AdmissionDecisionForm,
    CopyIndicatorsForm,
    GridForm,
    GridUploadForm,
    IndicatorForm,
    PeriodForm,
    RoundForm,
    ScoreForm,
    SheetForm,
    SourceForm,
    TemplateCopyForm,
    TemplateEditor,
    VetoForm,
)
from .models import (
    Admission,
    Evaluation,
    EvaluationItem,
    EvaluationRound,
    EvaluationTemplate,
    Indicator,
    JointMeeting,
    ManualScore,
    Period,
    Result,
)
from .standings import round_results, standings


@dataclasses.dataclass(frozen=True)
class ResultSection:
    """A part of a period's or a community's assessment page another app renders (what the
    results led to): its template and that template's context (as `section`)."""

    template: str
    context: dict


# What apps above this one show on a final period's page and a community's page of it, each a
# function `(user, period, community)` (community None on the period's page) returning a
# `ResultSection`, or None. Registered from the app's AppConfig.ready (layers).
RESULT_SECTIONS: list = []


def result_section_register(section) -> None:
    """Called from an app's `AppConfig.ready`; registering twice changes nothing."""
    if section not in RESULT_SECTIONS:
        RESULT_SECTIONS.append(section)


def _result_sections(user, period: Period, community=None) -> list[ResultSection]:
    if period.state != Period.State.FINAL:
        return []
    return [shown for section in RESULT_SECTIONS if (shown := section(user, period, community))]


def sees_whole_ranking(user, period: Period) -> bool:
    """District staff and administrators always; everyone else once it is published."""
    return period.published or services.manages_district(user, period.district)


def visible_standings(user, period: Period, rows=None) -> list:
    rows = standings(period) if rows is None else rows
    if sees_whole_ranking(user, period):
        return rows
    area = user.area
    return [row for row in rows if area is not None and row.community.is_within(area)]


def _period(request, pk) -> Period:
    return get_object_or_404(
        Period.objects.visible_to(request.user).select_related("district"), pk=pk
    )


def _may_manage(user, period: Period) -> bool:
    return user.has_perm("assessment.change_period") and services.manages_district(
        user, period.district
    )


@login_required
@permission_required("assessment.view_period", raise_exception=True)
def period_list(request):
    periods = Period.objects.visible_to(request.user).select_related("district")
    return render(request, "assessment/period_list.html", {"periods": periods})


@login_required
@permission_required("assessment.add_period", raise_exception=True)
def period_create(request):
    user = request.user
    districts = Area.objects.visible_to(user).filter(level=Area.Level.DISTRICT)
    if user.area is not None and user.area.level != Area.Level.DISTRICT:
        raise PermissionDenied
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        district = user.area or districts.filter(code=request.POST.get("district")).first()
        period = form_write(
            request,
            form,
            lambda: services.period_create(
                actor=user, data={**form.cleaned_data, "district": district}, request=request
            ),
            done=_("The period was created: now choose its indicators."),
        )
        if period:
            return redirect("assessment:detail", pk=period.pk)
    return render(
        request,
        "assessment/period_form.html",
        {"form": form, "districts": districts if user.area is None else []},
    )


@login_required
@permission_required("assessment.view_period", raise_exception=True)
def period_detail(request, pk):
    period = _period(request, pk)
    user = request.user
    manage = _may_manage(user, period)
    indicator_form = IndicatorForm(request.POST or None, prefix="indicator")
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        if indicator_form.is_valid() and form_write(
            request,
            indicator_form,
            lambda: services.indicator_add(
                actor=user, period=period, data=indicator_form.service_data(), request=request
            ),
            done=_("The indicator was added."),
        ):
            return redirect("assessment:detail", pk=period.pk)
    rows = visible_standings(user, period) if period.state != Period.State.DRAFT else []
    setting_up = manage and period.state == Period.State.DRAFT
    context = {
        "period": period,
        "indicators": period.indicators.select_related("activity_type"),
        "rows": rows,
        "whole_ranking": sees_whole_ranking(user, period),
        "manage": manage,
        "indicator_form": indicator_form if setting_up else None,
        "sections": _result_sections(user, period),
    }
    if setting_up:
        total = services.period_weight_total(period)
        copy_form = CopyIndicatorsForm(period=period, user=user)
        context.update(
            weight_total=total,
            missing=services.FULL_MARKS - total,
            excess=total - services.FULL_MARKS,
            copy_form=copy_form if copy_form.fields["source"].queryset.exists() else None,
        )
    return render(request, "assessment/period_detail.html", context)


def _act(request, pk, write, done: str):
    period = _period(request, pk)
    action_write(request, lambda: write(period), done=done)
    return redirect("assessment:detail", pk=period.pk)


@dataclasses.dataclass(frozen=True)
class PeriodStep:
    """A step of a period's life: the service that takes it, what its confirmation page
    says will happen, and what the user is told once it is taken."""

    write: Callable
    title: str
    happens: str
    button: str
    done: str
    # Opening is setting up; the later steps decide the results.
    permission: str = "assessment.finalize_period"


PERIOD_STEPS = {
    "open": PeriodStep(
        services.period_open,
        gettext_lazy("Open the period"),
        gettext_lazy(
            "Each community's targets are set from its registered members now and do not "
            "change later; the indicators can no longer be changed."
        ),
        gettext_lazy("Confirm: open the period"),
        gettext_lazy("The period is open: every community's targets are set."),
        permission="assessment.change_period",
    ),
    "finalize": PeriodStep(
        services.period_finalize,
        gettext_lazy("Finalize"),
        gettext_lazy(
            "Every community's score, rank, grade and outcome are computed and stored, and "
            "the period is locked: scores can no longer be entered. Until the ranking is "
            "published the district can reopen the period."
        ),
        gettext_lazy("Confirm: finalize"),
        gettext_lazy("The period is finalized and locked."),
    ),
    "publish": PeriodStep(
        services.period_publish,
        gettext_lazy("Publish the ranking"),
        gettext_lazy(
            "Every community and street of the district sees the whole ranking. After "
            "publication the period can no longer be reopened."
        ),
        gettext_lazy("Confirm: publish the ranking"),
        gettext_lazy("The ranking is published to every community of the district."),
    ),
    "reopen": PeriodStep(
        services.period_reopen,
        gettext_lazy("Reopen the period"),
        gettext_lazy(
            "The stored results are discarded and the period is open again: scores can be "
            "corrected, and the results are computed anew when it is finalized again."
        ),
        gettext_lazy("Confirm: reopen the period"),
        gettext_lazy("The period is open again: its results were discarded."),
    ),
}


def _may_take(user, period: Period, step: PeriodStep) -> bool:
    return _may_manage(user, period) and user.has_perm(step.permission)


@require_http_methods(["GET", "POST"])
@login_required
def period_step(request, pk, step):
    """A step's confirmation page: what it needs, each condition met or not, and what will
    happen; the step is taken when confirmed (POST), and the service checks again."""
    taking = PERIOD_STEPS[step]
    period = _period(request, pk)
    if not _may_take(request.user, period, taking):
        raise PermissionDenied
    if request.method == "POST":
        taken = action_write(
            request,
            lambda: taking.write(actor=request.user, period=period, request=request),
            done=str(taking.done),
        )
        if taken is not None:
            return redirect("assessment:detail", pk=period.pk)
        return redirect(request.path)
    checks = services.period_checks(period, step)
    context = {"period": period, "step": step, "taking": taking, "checks": checks}
    context["ready"] = all(check.met for check in checks)
    if step == "open":
        context["total"] = services.period_weight_total(period)
        context["communities"] = (
            Area.objects.current().communities().within(period.district).count()
        )
    elif step == "finalize" and period.state == Period.State.OPEN:
        counted = Counter(row.grade for row in standings(period))
        context["grades"] = [(label, counted[grade]) for grade, label in Result.Grade.choices]
    return render(request, "assessment/period_step.html", context)


def _draft_indicator(request, pk, indicator_pk) -> tuple[Period, Indicator]:
    """An indicator of a period being set up, for the staff who set it up."""
    period = _period(request, pk)
    indicator = get_object_or_404(period.indicators, pk=indicator_pk)
    if not _may_manage(request.user, period):
        raise PermissionDenied
    return period, indicator


@require_http_methods(["GET", "POST"])
@login_required
def indicator_update(request, pk, indicator_pk):
    period, indicator = _draft_indicator(request, pk, indicator_pk)
    if period.state != Period.State.DRAFT:
        messages.error(request, _("Indicators are chosen before the period opens."))
        return redirect("assessment:detail", pk=period.pk)
    form = IndicatorForm(request.POST or None, instance=indicator, prefix="indicator")
    if (
        request.method == "POST"
        and form.is_valid()
        and form_write(
            request,
            form,
            lambda: services.indicator_update(
                actor=request.user,
                indicator=Indicator.objects.get(pk=indicator.pk),
                data=form.service_data(),
                request=request,
            ),
            done=_("The indicator was saved."),
        )
    ):
        return redirect("assessment:detail", pk=period.pk)
    return render(
        request,
        "assessment/indicator_form.html",
        {"period": period, "indicator": indicator, "form": form},
    )


@require_POST
@login_required
def indicator_remove(request, pk, indicator_pk):
    period, indicator = _draft_indicator(request, pk, indicator_pk)
    return _act(
        request,
        pk,
        lambda _period: services.indicator_remove(
            actor=request.user, indicator=indicator, request=request
        ),
        _("The indicator was removed."),
    )


@require_POST
@login_required
def period_copy_indicators(request, pk):
    """Copy the indicators of an earlier period of the district (one the user sees)."""
    period = _period(request, pk)
    if not _may_manage(request.user, period):
        raise PermissionDenied
    form = CopyIndicatorsForm(request.POST, period=period, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("assessment:detail", pk=period.pk)
    copied = action_write(
        request,
        lambda: services.period_copy_indicators(
            actor=request.user, period=period, source=form.cleaned_data["source"], request=request
        ),
    )
    if copied is not None:
        source = form.cleaned_data["source"]
        messages.success(
            request,
            _("%(count)s indicators were copied from %(period)s: check their points.")
            % {"count": len(copied), "period": source.name},
        )
        names = {copy.name for copy in copied}
        kept = [name for name in source.indicators.values_list("name", flat=True)
                if name not in names]  # fmt: skip
        if kept:
            messages.info(
                request,
                _("Already in this period, not copied again: %(names)s.")
                % {"names": "、".join(kept)},
            )
    return redirect("assessment:detail", pk=period.pk)


@login_required
@permission_required("assessment.view_period", raise_exception=True)
def community_detail(request, pk, code):
    """One community's targets, progress and scores; hand scores entered here."""
    period = _period(request, pk)
    user = request.user
    community = get_object_or_404(Area.objects.communities().within(period.district), code=code)
    if period.state == Period.State.DRAFT:
        raise Http404
    rows = visible_standings(user, period)
    standing = next((row for row in rows if row.community.pk == community.pk), None)
    if standing is None:
        raise Http404
    scorable = {
        indicator.pk
        for indicator in period.indicators.all()
        if period.state == Period.State.OPEN and services.may_score(user, indicator, community)
    }
    form, scoring = ScoreForm(request.POST or None, request.FILES or None), None
    if request.method == "POST":
        scoring = get_object_or_404(Indicator, pk=request.POST.get("indicator"), period=period)
        if scoring.pk not in scorable:
            raise PermissionDenied
        if form.is_valid() and form_write(
            request,
            form,
            lambda: services.score_set(
                actor=user,
                indicator=scoring,
                community=community,
                points=form.cleaned_data["points"],
                evidence=form.cleaned_data["evidence"],
                upload=form.cleaned_data["evidence_file"],
                request=request,
            ),
            done=_("The score was saved."),
        ):
            return redirect("assessment:community", pk=period.pk, code=community.code)
    return render(
        request,
        "assessment/community_detail.html",
        {
            "period": period,
            "community": community,
            "standing": standing,
            "whole_ranking": sees_whole_ranking(user, period),
            "scorable": scorable,
            "form": form,
            "scoring": scoring,
            "sections": _result_sections(user, period, community),
        },
    )


@login_required
@permission_required("assessment.view_period", raise_exception=True)
def score_evidence(request, pk, code, score_pk):
    """A hand score's evidence file, to whoever may see that community's standing."""
    period = _period(request, pk)
    if period.state == Period.State.DRAFT:
        raise Http404
    community = get_object_or_404(Area.objects.communities().within(period.district), code=code)
    if not any(row.community.pk == community.pk for row in visible_standings(request.user, period)):
        raise Http404
    score = get_object_or_404(
        ManualScore, pk=score_pk, community=community, indicator__period=period
    )
    if not score.evidence_file:
        raise Http404
    response = FileResponse(
        score.evidence_file.open("rb"),
        content_type=score.evidence_type,
        as_attachment=not score.evidence_type.startswith("image/"),
        filename=score.evidence_name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@permission_required("assessment.view_period", raise_exception=True)
def period_export(request, pk):
    """The results the user may see, with every indicator's target, actual and score."""
    period = _period(request, pk)
    if period.state == Period.State.DRAFT:
        raise Http404
    rows = visible_standings(request.user, period)
    whole = sees_whole_ranking(request.user, period)
    indicators = list(period.indicators.all())
    # Outside the f-string, where makemessages finds it.
    results = _("Assessment results")
    title = f"{period.district.name}{period.name}{results}"
    heading = [_("Community"), _("Street"), _("Total score")]
    if whole:
        heading += [_("Rank in the district"), _("Rank in the street")]
    heading += [_("Grade"), _("Outcome")]
    for indicator in indicators:
        names = {"indicator": indicator.name}
        heading += [
            _("%(indicator)s: target") % names,
            _("%(indicator)s: actual") % names,
            _("%(indicator)s: score") % names,
        ]
    book = xlsx.Book()
    widths = {1: 16, 2: 14} | dict.fromkeys(range(3, len(heading) + 1), 11)
    # The title above, the header repeated on every printed page.
    sheet = book.sheet(_("Results"), widths=widths, freeze="C3", title_rows=(2, 2))
    sheet.append([xlsx.text(title, xlsx.Style(bold=True, size=14))])
    bold = xlsx.Style(bold=True, wrap=True, vertical="center")
    sheet.append([xlsx.text(label, bold) for label in heading])
    for row in rows:
        line = [
            row.community.name,
            row.street.name if row.street else "",
            xlsx.number(float(row.total)),
        ]
        if whole:
            line += [xlsx.number(row.rank_in_district), xlsx.number(row.rank_in_street)]
        line += [row.get_grade_display(), row.get_outcome_display()]
        for item in row.lines:
            line += [_amount(item.target), _amount(item.actual), xlsx.number(float(item.score))]
        sheet.append(line)
    content = book.bytes()
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        obj=period,
        detail={"report": "assessment", "rows": len(rows)},
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{period.district.name}{period.name}考核结果.xlsx"
    )
    return response


def _amount(value):
    return None if value is None else xlsx.number(float(value))


# -- Evaluation of representatives -----------------------------------------------------------


def _round(request, pk) -> EvaluationRound:
    return get_object_or_404(
        EvaluationRound.objects.visible_to(request.user).select_related("area", "template"),
        pk=pk,
    )


@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_list(request):
    rounds = EvaluationRound.objects.visible_to(request.user).select_related("area", "template")
    form = None
    if request.user.has_perm("assessment.add_evaluationround"):
        form = RoundForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            created = form_write(
                request,
                form,
                lambda: services.round_create(
                    actor=request.user, data=form.cleaned_data, request=request
                ),
                done=_("The evaluation round was created."),
            )
            if created:
                return redirect("assessment:round", pk=created.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "assessment/round_list.html", {"rounds": rounds, "form": form})


@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_detail(request, pk):
    evaluation_round = _round(request, pk)
    user = request.user
    outcome = services.round_outcome_preview(evaluation_round)
    _with_outside_scores(evaluation_round, outcome.rows)
    _names_seen(user, outcome.rows)
    return render(
        request,
        "assessment/round_detail.html",
        {
            "round": evaluation_round,
            **_round_surroundings(user, evaluation_round),
            "rows": services.round_rows_seen(user, evaluation_round, outcome.rows),
            "missing": services.round_rows_seen(user, evaluation_round, outcome.missing)
            if evaluation_round.state == "open"
            else [],
            "may_confirm": services.may_confirm(user, evaluation_round),
            "may_reopen": services.may_reopen(user, evaluation_round),
            "reopen_until": services.round_reopen_until(evaluation_round),
            **_admissions(user, evaluation_round, outcome),
        },
    )


# Where a nominee stands in her admission evaluation, as the round's list of nominees says it.
ADMISSION_RESULTS = {
    "passed": gettext_lazy("Passed"),
    "failed": pgettext_lazy("admission evaluation", "Failed"),
    # Until every weighted source has scored her, a pass would rest on scores never given.
    "unscored": gettext_lazy("Not scored yet"),
    "incomplete": gettext_lazy("Scores incomplete"),
}


def _admission_result(row, lacking: set) -> str:
    """A key of `ADMISSION_RESULTS`, or "" for one who left the round (her row says why)."""
    if row.left:
        return ""
    if row.fails:
        return "failed"  # a veto fails her whatever her scores
    if row.evaluation.pk in lacking:
        return "incomplete" if row.by_source else "unscored"
    return "passed"


def _admissions(user, evaluation_round: EvaluationRound, outcome) -> dict:
    """An admission round's nominees the user sees: passed, failed or not fully scored yet,
    and the decision taken or, once the round is confirmed, the form to take it."""
    if evaluation_round.template.kind != EvaluationTemplate.Kind.ADMISSION:
        return {"admission": False}
    lacking = {entry.row.evaluation.pk for entry in outcome.missing}
    by_evaluation = {
        admission.evaluation_id: admission
        for admission in Admission.objects.filter(
            evaluation__round=evaluation_round
        ).select_related("decided_by", "nomination")
    }
    may_decide = (
        evaluation_round.state == EvaluationRound.State.CONFIRMED
        and services.may_decide_admission(user, evaluation_round)
    )
    nominees = []
    for row in services.round_rows_seen(user, evaluation_round, outcome.rows):
        result = _admission_result(row, lacking)
        nominees.append({
            "row": row,
            "admission": by_evaluation.get(row.evaluation.pk),
            "passes": result == "passed",
            "result": ADMISSION_RESULTS[result] if result else row.get_left_display(),
        })  # fmt: skip
    return {
        "admission": True,
        "nominees": nominees,
        "may_decide": may_decide,
        "decision_form": AdmissionDecisionForm() if may_decide else None,
    }


@require_POST
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def admission_decide(request, pk, admission_pk):
    """The district's decision on a nominee: shown once more, then recorded (同意入选 makes
    her a representative, which the registry's register of entries keeps)."""
    evaluation_round = _round(request, pk)
    admission = get_object_or_404(
        Admission.objects.filter(evaluation__round=evaluation_round).select_related(
            "evaluation__member__community", "nomination"
        ),
        pk=admission_pk,
    )
    evaluation = admission.evaluation
    evaluation.round = evaluation_round
    if not services.may_decide_admission(request.user, evaluation_round):
        raise PermissionDenied
    if not services._sees(request.user, evaluation.member.community):
        raise Http404
    back = reverse("assessment:round", args=[evaluation_round.pk])
    form = AdmissionDecisionForm(request.POST)
    if request.POST.get("confirmed") and form.is_valid():
        action_write(
            request,
            lambda: services.admission_decide(
                actor=request.user,
                admission=admission,
                decision=form.cleaned_data["decision"],
                decided_on=form.cleaned_data["decided_on"],
                note=form.cleaned_data["note"],
                request=request,
            ),
            done=_("The decision on %(name)s is recorded.") % {"name": evaluation.member.name},
        )
        return redirect(back + "#nominees")
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect(back + "#nominees")
    admitted = form.cleaned_data["decision"] == Admission.Decision.ADMIT
    return confirm_page(
        request,
        heading=_("Decide on %(name)s") % {"name": evaluation.member.name},
        rows=[
            (
                pgettext("representative", "Nominee"),
                f"{evaluation.member.name}（{evaluation.member.community.name}）",
            ),
            (_("Evaluation round"), f"{evaluation_round.area.name} {evaluation_round.name}"),
            (_("Decision"), Admission.Decision(form.cleaned_data["decision"]).label),
            (_("Date of the decision"), form.cleaned_data["decided_on"].isoformat()),
            (_("Note"), form.cleaned_data["note"]),
        ],
        happens=[
            _(
                "She becomes a representative, with this decision as the reason in her "
                "history, and the register of entries and exits records her entry."
            )
            if admitted
            else _("Her nomination is closed as not admitted; her record stays as it is."),
            _(
                "The decision cannot be changed afterwards, and the round can no longer be "
                "reopened."
            ),
        ],
        button=_("Record the decision"),
        back_url=back,
        hidden=[(name, request.POST.get(name, "")) for name in ("decision", "decided_on", "note")],
    )


def _names_seen(user, rows) -> None:
    """Each row's member named as `user` may read her (`row.name`): one who has moved out of
    the user's area since is named as the lists of members name her to those outside it
    (masked), and not linked (`row.linked`), as the register of entries and exits does."""
    for row in rows:
        member = row.evaluation.member
        row.name = name_seen_by(user, member.name, member.community_id)
        row.linked = row.name == member.name


def _with_outside_scores(evaluation_round: EvaluationRound, rows) -> None:
    """Each row's outside evaluators' totals (`row.outside`), where its public score comes
    from when the round lists them."""
    by_evaluation = meetings.public_by_evaluator(evaluation_round)
    for row in rows:
        row.outside = by_evaluation.get(row.evaluation.pk, [])


def _round_surroundings(user, evaluation_round: EvaluationRound) -> dict:
    """The round page's joint meeting and outside evaluators (issue 18)."""
    return {
        "meeting": JointMeeting.objects.filter(round=evaluation_round).first(),
        "evaluators": meetings.evaluators_of(evaluation_round),
        "may_run": meetings.may_run(user, evaluation_round),
    }


def _round_to_decide(request, pk) -> EvaluationRound:
    """A round the user may confirm or reopen: in scope (404 otherwise) and hers to decide
    (403 otherwise)."""
    evaluation_round = _round(request, pk)
    if not services.may_confirm(request.user, evaluation_round):
        raise PermissionDenied
    return evaluation_round


@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_confirm(request, pk):
    """GET: what confirming would do, from the service; POST: confirm it."""
    evaluation_round = _round_to_decide(request, pk)
    admission = evaluation_round.template.kind == EvaluationTemplate.Kind.ADMISSION
    if request.method == "POST":
        removed = action_write(
            request,
            lambda: services.round_confirm(
                actor=request.user,
                evaluation_round=evaluation_round,
                expected=request.POST.getlist("loses"),
                request=request,
            ),
        )
        if removed is None:
            return redirect("assessment:round_confirm", pk=evaluation_round.pk)
        if admission:
            done = _("The outcome is confirmed: the district now decides on each nominee.")
        else:
            done = _("The outcome is confirmed: %(count)s left the representatives.") % {
                "count": len(removed)
            }
        messages.success(request, done)
        return redirect("assessment:round", pk=evaluation_round.pk)
    outcome = services.round_outcome_preview(evaluation_round)
    _with_outside_scores(evaluation_round, outcome.rows)
    _names_seen(request.user, outcome.rows)
    talks = meetings.talks_needed(evaluation_round, outcome)
    return render(
        request,
        "assessment/round_confirm.html",
        {
            "round": evaluation_round,
            "outcome": outcome,
            "talks": talks,
            "talks_lacking": [entry for entry in talks if entry.talk is None],
            "reopen_days": settings.EVALUATION_REOPEN_DAYS,
            "admission": admission,
        },
    )


@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_reopen(request, pk):
    """GET: who gets the representative flag back; POST: reopen the round."""
    evaluation_round = _round_to_decide(request, pk)
    if request.method == "POST":
        restored = action_write(
            request,
            lambda: services.round_reopen(
                actor=request.user, evaluation_round=evaluation_round, request=request
            ),
        )
        if restored is not None:
            messages.success(
                request,
                _("The round is open again: %(count)s are representatives again.")
                % {"count": len(restored)},
            )
        return redirect("assessment:round", pk=evaluation_round.pk)
    restored, kept_out = services.round_reopen_preview(evaluation_round)
    user = request.user
    return render(
        request,
        "assessment/round_reopen.html",
        {
            "round": evaluation_round,
            "admission": evaluation_round.template.kind == EvaluationTemplate.Kind.ADMISSION,
            # Named as the user may read them: one who moved out of her area since, masked.
            "restored": [
                (name_seen_by(user, e.member.name, e.member.community_id), e) for e in restored
            ],
            "kept_out": [
                name_seen_by(user, e.member.name, e.member.community_id) for e in kept_out
            ],
            "may_reopen": services.may_reopen(request.user, evaluation_round),
            "reopen_until": services.round_reopen_until(evaluation_round),
        },
    )


@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def evaluation_detail(request, pk, evaluation_pk):
    """One representative: each source's sheet (to the roles that enter it) and veto marks."""
    evaluation_round = _round(request, pk)
    evaluation = get_object_or_404(
        evaluation_round.evaluations.select_related("member__community"), pk=evaluation_pk
    )
    user = request.user
    if not services._sees(user, evaluation.member.community):
        raise Http404
    items = list(
        EvaluationItem.objects.filter(
            category__template=evaluation_round.template, is_veto=False
        ).select_related("category")
    )
    stored = {}
    for source, item, score in evaluation.scores.values_list("source", "item_id", "score"):
        stored.setdefault(source, {})[item] = score
    open_round = evaluation_round.state == EvaluationRound.State.OPEN
    sheets = []
    posted = request.POST.get("source") if request.method == "POST" else None
    evaluators = meetings.evaluators_of(evaluation_round)
    for source, label in Evaluation.Source.choices:
        if not (open_round and services.may_enter(user, evaluation, source)):
            continue
        if source == Evaluation.Source.PUBLIC and evaluators:
            continue  # the mean of the outside evaluators' sheets
        form = SheetForm(
            request.POST if posted == source else None,
            items=items,
            scores=stored.get(source),
            prefix=source,
        )
        if (
            posted == source
            and form.is_valid()
            and form_write(
                request,
                form,
                lambda form=form, source=source: services.evaluation_score(
                    actor=user,
                    evaluation=evaluation,
                    source=source,
                    scores=form.scores(),
                    request=request,
                ),
                done=_("The scores were saved."),
            )
        ):
            return redirect("assessment:evaluation", pk=pk, evaluation_pk=evaluation.pk)
        sheets.append({"source": source, "label": label, "form": form})
    veto_form = None
    if open_round and services.may_enter(user, evaluation, Evaluation.Source.SUPERIOR):
        veto_form = VetoForm(
            request.POST if posted == "veto" else None, template=evaluation_round.template
        )
        if (
            posted == "veto"
            and veto_form.is_valid()
            and form_write(
                request,
                veto_form,
                lambda: services.veto_mark(
                    actor=user,
                    evaluation=evaluation,
                    item=veto_form.cleaned_data["item"],
                    note=veto_form.cleaned_data["note"],
                    request=request,
                ),
                done=_("The veto item was marked."),
            )
        ):
            return redirect("assessment:evaluation", pk=pk, evaluation_pk=evaluation.pk)
    if posted and not any(sheet["source"] == posted for sheet in sheets) and posted != "veto":
        raise PermissionDenied
    if posted == "veto" and veto_form is None:
        raise PermissionDenied
    row = next(r for r in round_results(evaluation_round) if r.evaluation.pk == evaluation.pk)
    return render(
        request,
        "assessment/evaluation_detail.html",
        {
            "round": evaluation_round,
            "evaluation": evaluation,
            "row": row,
            "sheets": sheets,
            "veto_form": veto_form,
            "vetoes": evaluation.vetoes.select_related("item"),
            "evaluators": evaluators,
            "outside": meetings.public_by_evaluator(evaluation_round).get(evaluation.pk, []),
        },
    )


# -- Evaluation templates (administrators) ---------------------------------------------------


@login_required
@permission_required("assessment.view_evaluationtemplate", raise_exception=True)
def template_list(request):
    """The templates, global like their categories: each with its size and how many rounds
    (in any area) score against it, which is what fixes its categories and items."""
    templates = EvaluationTemplate.objects.annotate(
        category_count=Count("categories", distinct=True),
        item_count=Count("categories__items", distinct=True),
    )
    rounds = Counter(EvaluationRound.objects.values_list("template", flat=True))
    for template in templates:
        template.round_count = rounds.get(template.pk, 0)
    return render(request, "assessment/template_list.html", {"templates": templates})


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.add_evaluationtemplate", raise_exception=True)
def template_create(request):
    editor = TemplateEditor(request.POST or None)
    if request.method == "POST" and editor.is_valid():
        template = form_write(
            request,
            editor.form,
            lambda: services.template_create(
                actor=request.user,
                data=editor.form.cleaned_data,
                categories=editor.structure(),
                request=request,
            ),
            done=_("The template was added."),
        )
        if template:
            return redirect("assessment:template_update", pk=template.pk)
    return render(request, "assessment/template_form.html", {"editor": editor})


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.change_evaluationtemplate", raise_exception=True)
def template_update(request, pk):
    """The editor; a template some round uses shows its categories and items read-only."""
    template = get_object_or_404(EvaluationTemplate, pk=pk)
    structure = services.template_structure(template)
    rounds = services.template_rounds(template)
    editor = TemplateEditor(
        request.POST or None, template=template, structure=structure, fixed=bool(rounds)
    )
    if request.method == "POST" and editor.is_valid():
        saved = form_write(
            request,
            editor.form,
            lambda: services.template_update(
                actor=request.user,
                template=EvaluationTemplate.objects.get(pk=template.pk),
                data=editor.form.cleaned_data,
                categories=structure if editor.fixed else editor.structure(),
                request=request,
            ),
            done=_("The template was saved."),
        )
        if saved:
            return redirect("assessment:template_update", pk=template.pk)
    return render(
        request,
        "assessment/template_form.html",
        {"editor": editor, "template": template, "structure": structure, "rounds": rounds},
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.add_evaluationtemplate", raise_exception=True)
def template_copy(request, pk):
    """复制为新模板: the copy is then edited freely (no round uses it yet)."""
    template = get_object_or_404(EvaluationTemplate, pk=pk)
    default = _("%(name)s (copy)") % {"name": template.name}
    form = TemplateCopyForm(request.POST or None, initial={"name": default[:100]})
    if request.method == "POST" and form.is_valid():
        copy = form_write(
            request,
            form,
            lambda: services.template_copy(
                actor=request.user,
                template=template,
                name=form.cleaned_data["name"],
                request=request,
            ),
            done=_("The copy was made: change it here."),
        )
        if copy:
            return redirect("assessment:template_update", pk=copy.pk)
    return render(request, "assessment/template_copy.html", {"form": form, "template": template})


# -- Scores as a grid, on the page and as .xlsx (issue 13) -------------------------------------


def _saved(request, count: int) -> None:
    messages.success(
        request,
        ngettext("%(count)s score was saved.", "%(count)s scores were saved.", count)
        % {"count": count},
    )


def _grid_page(request, grid, form, write, context: dict):
    """The grid's page: a POST saves its changed cells through `write(changes, evidence)`."""
    if request.method == "POST":
        if not any(row.editable for row in grid.rows):
            raise PermissionDenied
        if form.is_valid():
            if not form.changes:
                messages.info(request, _("Nothing was changed."))
                return redirect(request.get_full_path())
            saved = form_write(
                request,
                form,
                lambda: write(form.changes, form.cleaned_data.get("evidence", ""), ""),
            )
            if saved is not None:
                _saved(request, saved)
                return redirect(request.get_full_path())
    editable = any(row.editable for row in grid.rows)
    return render(
        request,
        "assessment/score_grid.html",
        {"grid": grid, "form": form, "editable": editable, **context},
    )


def _grid_download(request, grid, obj, filename: str):
    content = grids.write_xlsx(grid)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        obj=obj,
        detail={"report": "score_grid", "rows": len(grid.rows)},
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


def _grid_upload(request, grid, *, key: str, write, evidence: bool, context: dict):
    """Upload a filled-in copy of the grid: refused whole with every problem listed, or its
    changes kept in the session (one grid's cells at most) and shown before → after until
    they are confirmed (saved through `write`, as the page saves) or cancelled."""
    kept = request.session.get(key)
    upload_form = GridUploadForm(grid=grid)
    confirm_form = GridForm(grid=grid, cells=False, evidence=evidence)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "cancel":
        request.session.pop(key, None)
        messages.info(request, _("The uploaded sheet was discarded."))
        return redirect(request.get_full_path())
    if action == "confirm":
        if not kept:
            messages.error(request, _("Nothing to confirm: upload the sheet again."))
            return redirect(request.get_full_path())
        confirm_form = GridForm(request.POST, grid=grid, cells=False, evidence=evidence)
        changes = grids.load(grid, kept["changes"])
        if confirm_form.is_valid():
            saved = form_write(
                request,
                confirm_form,
                lambda: write(changes, confirm_form.cleaned_data.get("evidence", ""), kept["file"]),
            )
            if saved is not None:
                request.session.pop(key, None)
                _saved(request, saved)
                return redirect(context["back"])
    elif request.method == "POST":
        upload_form = GridUploadForm(request.POST, request.FILES, grid=grid)
        if upload_form.is_valid():
            if not upload_form.changes:
                request.session.pop(key, None)
                messages.info(request, _("The sheet changes no score."))
            else:
                request.session[key] = {
                    "file": upload_form.cleaned_data["file"].name[:200],
                    "changes": grids.dump(upload_form.changes),
                }
            return redirect(request.get_full_path())
    changes = grids.load(grid, kept["changes"]) if kept else []
    return render(
        request,
        "assessment/grid_upload.html",
        {
            "grid": grid,
            "upload_form": upload_form,
            "confirm_form": confirm_form,
            "changes": changes,
            "file": kept["file"] if kept else "",
            **context,
        },
    )


def _scoring_period(request, pk) -> Period:
    """A period whose hand scores the user enters: in scope (404), opened (404 while it is
    being set up), and hers to score (403)."""
    period = _period(request, pk)
    if period.state == Period.State.DRAFT:
        raise Http404
    if not request.user.has_perm("assessment.score_indicator"):
        raise PermissionDenied
    return period


def _period_grid_write(request, period: Period):
    def write(changes, evidence, origin):
        return services.score_grid_set(
            actor=request.user,
            period=period,
            changes=[(c.row.obj, c.column.obj, c.after) for c in changes],
            evidence=evidence,
            origin=origin,
            seen=grids.seen_scores(changes),
            request=request,
        )

    return write


def _period_grid_context(period: Period) -> dict:
    return {
        "heading": f"{period.district.name} {period.name}",
        "back": reverse("assessment:scores", args=[period.pk]),
        "up": reverse("assessment:detail", args=[period.pk]),
        "download": reverse("assessment:scores_download", args=[period.pk]),
        "upload": reverse("assessment:scores_upload", args=[period.pk]),
        "evidence": True,
        "closed": period.state != Period.State.OPEN,
    }


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_period", raise_exception=True)
def period_scores(request, pk):
    """Communities × hand-scored items, every cell the user may score open for input."""
    period = _scoring_period(request, pk)
    grid = grids.period_grid(request.user, period)
    form = GridForm(request.POST if request.method == "POST" else None, grid=grid)
    return _grid_page(
        request, grid, form, _period_grid_write(request, period), _period_grid_context(period)
    )


@login_required
@permission_required("assessment.view_period", raise_exception=True)
def period_scores_download(request, pk):
    period = _scoring_period(request, pk)
    grid = grids.period_grid(request.user, period)
    return _grid_download(request, grid, period, f"{grid.title}.xlsx")


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_period", raise_exception=True)
def period_scores_upload(request, pk):
    period = _scoring_period(request, pk)
    return _grid_upload(
        request,
        grids.period_grid(request.user, period),
        key=f"score-grid-period-{period.pk}",
        write=_period_grid_write(request, period),
        evidence=True,
        context=_period_grid_context(period),
    )


def _round_grid(request, pk):
    """A round, the sources the user enters in it, the one asked for (`?source=`, else the
    first of hers) and its grid."""
    evaluation_round = _round(request, pk)
    if not request.user.has_perm("assessment.score_evaluation"):
        raise PermissionDenied
    sources = grids.round_sources(request.user, evaluation_round)
    form = SourceForm(request.GET)
    asked = form.cleaned_data["source"] if form.is_valid() else ""
    source = asked if asked in sources else (sources[0] if sources else Evaluation.Source.SELF)
    grid = grids.evaluation_grid(request.user, evaluation_round, source)
    query = f"?{urlencode({'source': source})}"
    context = {
        "heading": f"{evaluation_round.area.name} {evaluation_round.name}",
        "round": evaluation_round,
        "source": source,
        "sources": [(s, Evaluation.Source(s).label) for s in sources],
        "back": reverse("assessment:round_scores", args=[evaluation_round.pk]) + query,
        "up": reverse("assessment:round", args=[evaluation_round.pk]),
        "download": reverse("assessment:round_scores_download", args=[evaluation_round.pk]) + query,
        "upload": reverse("assessment:round_scores_upload", args=[evaluation_round.pk]) + query,
        "evidence": False,
        "closed": evaluation_round.state != EvaluationRound.State.OPEN,
        # A round listing outside evaluators takes its public scores from their sheets.
        "evaluators": meetings.evaluators_of(evaluation_round)
        if source == Evaluation.Source.PUBLIC
        else [],
    }

    def write(changes, _evidence, origin):
        return services.evaluation_grid_score(
            actor=request.user,
            evaluation_round=evaluation_round,
            source=source,
            changes=[(c.row.obj, c.column.obj, c.after) for c in changes],
            origin=origin,
            seen=grids.seen_scores(changes),
            request=request,
        )

    return evaluation_round, source, grid, write, context


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_scores(request, pk):
    """Representatives × the template's items, for one source."""
    _evaluation_round, _source, grid, write, context = _round_grid(request, pk)
    form = GridForm(request.POST if request.method == "POST" else None, grid=grid, evidence=False)
    return _grid_page(request, grid, form, write, context)


@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_scores_download(request, pk):
    evaluation_round, _source, grid, _write, _context = _round_grid(request, pk)
    return _grid_download(request, grid, evaluation_round, f"{grid.title}.xlsx")


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_scores_upload(request, pk):
    evaluation_round, source, grid, write, context = _round_grid(request, pk)
    return _grid_upload(
        request,
        grid,
        key=f"score-grid-round-{evaluation_round.pk}-{source}",
        write=write,
        evidence=False,
        context=context,
    )
