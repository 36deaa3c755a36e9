"""Pages around an evaluation round (issue 18): its joint meeting, its outside evaluators and
their sheets, the talks with those it flags. The services are in `assessment.meetings`."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tongzhan.mixins import action_write, confirm_page, form_write

from . import grids, meetings, services
from .forms import GridForm, JointMeetingForm, OutsideEvaluatorForm, TalkRecordForm
from .models import EvaluationRound, JointMeeting, OutsideEvaluator, TalkRecord
from .views import _grid_page, _round


def _round_run(request, pk) -> EvaluationRound:
    """A round in scope (404) whose meeting and evaluators the user records (403)."""
    evaluation_round = _round(request, pk)
    if not meetings.may_run(request.user, evaluation_round):
        raise PermissionDenied
    return evaluation_round


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_meeting(request, pk):
    """Record or correct the joint meeting (联席评价) the round is held as, while it is open."""
    evaluation_round = _round_run(request, pk)
    meeting = JointMeeting.objects.filter(round=evaluation_round).first()
    initial = {}
    if meeting:
        initial = {
            "held_on": meeting.held_on,
            "bodies": meeting.bodies,
            "other_bodies": meeting.other_bodies,
            "attendees": meetings.attendees_text(meeting.attendees),
            "minutes": meeting.minutes,
        }
    form = JointMeetingForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.cleaned_data}
        upload = data.pop("minutes_file", None)
        if form_write(
            request,
            form,
            lambda: meetings.joint_meeting_set(
                actor=request.user,
                evaluation_round=evaluation_round,
                data=data,
                upload=upload,
                request=request,
            ),
            done=_("The joint meeting was recorded."),
        ):
            return redirect("assessment:round", pk=evaluation_round.pk)
    return render(
        request,
        "assessment/round_meeting.html",
        {"round": evaluation_round, "meeting": meeting, "form": form},
    )


@require_GET
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_meeting_file(request, pk):
    """The joint meeting's minutes as uploaded, to whoever sees the round's whole page."""
    evaluation_round = _round(request, pk)
    if not services._sees(request.user, evaluation_round.area):
        raise Http404
    meeting = get_object_or_404(JointMeeting, round=evaluation_round)
    if not meeting.minutes_file:
        raise Http404
    response = FileResponse(
        meeting.minutes_file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=meeting.minutes_name or "minutes.pdf",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def round_evaluators(request, pk):
    """The round's outside evaluators of its public assessment: listed, added."""
    evaluation_round = _round_run(request, pk)
    form = OutsideEvaluatorForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and form_write(
            request,
            form,
            lambda: meetings.evaluator_add(
                actor=request.user,
                evaluation_round=evaluation_round,
                name=form.cleaned_data["name"],
                unit=form.cleaned_data["unit"],
                request=request,
            ),
            done=_("The outside evaluator was added."),
        )
    ):
        return redirect("assessment:round_evaluators", pk=evaluation_round.pk)
    return render(
        request,
        "assessment/round_evaluators.html",
        {
            "round": evaluation_round,
            "evaluators": meetings.evaluators_of(evaluation_round),
            "form": form,
            "open": evaluation_round.state == EvaluationRound.State.OPEN,
            "refusal": meetings.evaluator_add_refusal(evaluation_round),
        },
    )


def _evaluator(request, pk, evaluator_pk) -> OutsideEvaluator:
    evaluation_round = _round(request, pk)
    evaluator = get_object_or_404(evaluation_round.outside_evaluators, pk=evaluator_pk)
    evaluator.round = evaluation_round
    return evaluator


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def evaluator_remove(request, pk, evaluator_pk):
    """GET: what removing the evaluator takes away; POST (confirmed): remove them."""
    evaluator = _evaluator(request, pk, evaluator_pk)
    evaluation_round = evaluator.round
    if not meetings.may_run(request.user, evaluation_round):
        raise PermissionDenied
    back = reverse("assessment:round_evaluators", args=[evaluation_round.pk])
    if request.method == "POST" and request.POST.get("confirmed"):
        action_write(
            request,
            lambda: meetings.evaluator_remove(
                actor=request.user, evaluator=evaluator, request=request
            ),
            done=_("The outside evaluator was removed."),
        )
        return redirect(back)
    scores = evaluator.scores.count()
    return confirm_page(
        request,
        heading=_("Remove an outside evaluator"),
        rows=[
            (_("Round"), str(evaluation_round)),
            (_("Outside evaluator"), str(evaluator)),
            (_("Scores entered"), scores),
        ],
        happens=[
            _("The evaluator and the %(count)s scores they gave are removed.") % {"count": scores},
            _("Each public score is the mean of the other evaluators' scores."),
            _("This cannot be undone."),
        ],
        button=_("Remove the evaluator"),
        back_url=back,
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def evaluator_scores(request, pk, evaluator_pk):
    """An outside evaluator's sheet: the representatives the user enters the public assessment
    for, by the template's items."""
    evaluator = _evaluator(request, pk, evaluator_pk)
    evaluation_round = evaluator.round
    if not request.user.has_perm("assessment.score_evaluation"):
        raise PermissionDenied
    grid = grids.evaluator_grid(request.user, evaluator)
    form = GridForm(request.POST if request.method == "POST" else None, grid=grid, evidence=False)

    def write(changes, _evidence, origin):
        return meetings.evaluator_scores_set(
            actor=request.user,
            evaluator=evaluator,
            changes=[(c.row.obj, c.column.obj, c.after) for c in changes],
            origin=origin,
            seen=grids.seen_scores(changes),
            request=request,
        )

    here = reverse("assessment:evaluator_scores", args=[evaluation_round.pk, evaluator.pk])
    return _grid_page(
        request,
        grid,
        form,
        write,
        {
            "heading": f"{evaluation_round.area.name} {evaluation_round.name} · {evaluator}",
            "back": here,
            "up": reverse("assessment:round", args=[evaluation_round.pk]),
            "evidence": False,
            "closed": evaluation_round.state != EvaluationRound.State.OPEN,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("assessment.view_evaluationround", raise_exception=True)
def talk_record(request, pk, evaluation_pk):
    """The talk with a flagged representative (约谈 / 警示谈话), or why none was held; by
    whoever may confirm the round."""
    evaluation_round = _round(request, pk)
    if not services._sees(request.user, evaluation_round.area):
        raise Http404
    evaluation = get_object_or_404(
        evaluation_round.evaluations.select_related("member__community"), pk=evaluation_pk
    )
    evaluation.round = evaluation_round
    if not services.may_confirm(request.user, evaluation_round):
        raise PermissionDenied
    talk = TalkRecord.objects.filter(evaluation=evaluation).first()
    form = TalkRecordForm(request.POST or None, instance=talk)
    if (
        request.method == "POST"
        and form.is_valid()
        and form_write(
            request,
            form,
            lambda: meetings.talk_record_set(
                actor=request.user,
                evaluation=evaluation,
                data=form.cleaned_data,
                request=request,
            ),
            done=_("The talk record was saved."),
        )
    ):
        if evaluation_round.state == EvaluationRound.State.OPEN:
            return redirect("assessment:round_confirm", pk=evaluation_round.pk)
        return redirect("assessment:round", pk=evaluation_round.pk)
    row = next(
        (r for r in services.round_outcome_preview(evaluation_round).flagged
         if r.evaluation.pk == evaluation.pk),
        None,
    )  # fmt: skip
    return render(
        request,
        "assessment/talk_record.html",
        {"round": evaluation_round, "evaluation": evaluation, "row": row, "form": form},
    )
