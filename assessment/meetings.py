"""What surrounds an evaluation round (issue 18): the joint meeting it is held as (联席评价),
named outside evaluators of its public assessment (社会评价), the talks held with those it
flags (约谈 / 警示谈话), and the political arrangements its confirmation cancels (取消推荐资格).

Writes as in `services`: keyword-only, checked, in one transaction with their audit line.
`services.round_confirm` and `services.round_reopen` call `talks_lacking`,
`arrangements_cancel_for` and `arrangements_restore_for`.
"""

import dataclasses
import decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.models import MemberChange
from members.services import arrangements_cancel, arrangements_restore, member_history_line
from tongzhan.models import AuditEvent
from tongzhan.text import plain_name
from tongzhan.uploads import UploadRefused, check_upload, upload_name

from . import services
from .models import (
    ArrangementCancellation,
    Evaluation,
    EvaluationItem,
    EvaluationRound,
    EvaluationScore,
    EvaluationTemplate,
    JointMeeting,
    OutsideEvaluator,
    OutsideScore,
    TalkRecord,
)

CENT = decimal.Decimal("0.01")
MAX_ATTENDEES = 200
MAX_EVALUATORS = 100


def may_run(actor, evaluation_round: EvaluationRound) -> bool:
    """The staff running the round (of its area or above, who may change rounds) record its
    joint meeting and list its outside evaluators."""
    return actor.has_perm("assessment.change_evaluationround") and services._sees(
        actor, evaluation_round.area
    )


def _check_runs(actor, evaluation_round: EvaluationRound) -> None:
    if not may_run(actor, evaluation_round):
        raise PermissionDenied
    services._check_round_open(evaluation_round)


def _locked_open(evaluation_round: EvaluationRound) -> EvaluationRound:
    """The round locked (score saves and the confirmation follow one another), still open."""
    locked = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
    services._check_round_open(locked)
    return locked


def _check_not_future(field: str, day) -> None:
    """A meeting or a talk is recorded once it was held: its day is not to come."""
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: _("The day is in the future.")})


# -- The joint meeting (联席评价) -----------------------------------------------------------


def parse_attendees(text: str) -> list[dict]:
    """Attendees as typed, one a line: the name, then the unit after a space or a comma
    (张三 区人大常委会). Refused naming the line when a name or a unit is missing."""
    attendees = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = plain_name(line)
        if not line:
            continue
        for separator in ("，", ",", "、", "\t", "　", " "):
            if separator in line:
                name, unit = (plain_name(part) for part in line.split(separator, 1))
                break
        else:
            name, unit = line, ""
        if not name or not unit:
            raise ValidationError(
                {
                    "attendees": _(
                        "Line %(line)s: write the name, then the unit after a space or a comma "
                        "(张三 区人大常委会)."
                    )
                    % {"line": number}
                }
            )
        if len(name) > 50 or len(unit) > 100:
            raise ValidationError(
                {
                    "attendees": _("Line %(line)s: a name takes at most 50 characters, a unit 100.")
                    % {"line": number}
                }
            )
        attendees.append({"name": name, "unit": unit})
    if len(attendees) > MAX_ATTENDEES:
        raise ValidationError(
            {"attendees": _("At most %(most)s attendees.") % {"most": MAX_ATTENDEES}}
        )
    return attendees


def attendees_text(attendees: list[dict]) -> str:
    """The attendees as the form shows them again, one a line."""
    return "\n".join(f"{entry['name']} {entry['unit']}" for entry in attendees)


def joint_meeting_set(
    *, actor, evaluation_round: EvaluationRound, data: dict, upload=None, request=None
) -> JointMeeting:
    """Record (or correct) the joint meeting the round is held as: `data` has held_on, bodies
    (`JointMeeting.Body` codes), other_bodies, minutes and attendees (text, one a line). The
    minutes' PDF (`upload`), if given, replaces an earlier one. While the round is open."""
    _check_runs(actor, evaluation_round)
    bodies = list(dict.fromkeys(data.get("bodies") or []))
    unknown = [code for code in bodies if code not in JointMeeting.Body.values]
    if unknown:
        raise ValidationError({"bodies": _("Choose the participating bodies from the list.")})
    other_bodies = plain_name(data.get("other_bodies"))
    if not bodies and not other_bodies:
        raise ValidationError({"bodies": _("Name the bodies that took part in the meeting.")})
    attendees = parse_attendees(data.get("attendees") or "")
    if not attendees:
        raise ValidationError({"attendees": _("List who attended, one a line.")})
    minutes = plain_name(data.get("minutes"))
    if not minutes:
        raise ValidationError({"minutes": _("Write the minutes of the meeting.")})
    _check_not_future("held_on", data.get("held_on"))
    if upload is not None:
        try:
            file_type = check_upload(upload)
        except UploadRefused as refused:
            raise ValidationError({"minutes_file": refused.message}) from None
        if file_type.content_type != "application/pdf":
            raise ValidationError(
                {"minutes_file": _("%(name)s is not a PDF document.") % {"name": upload.name}}
            )
    with transaction.atomic():
        evaluation_round = _locked_open(evaluation_round)
        meeting = JointMeeting.objects.filter(round=evaluation_round).first()
        created = meeting is None
        meeting = meeting or JointMeeting(round=evaluation_round)
        before = _meeting_values(meeting)
        meeting.held_on = data.get("held_on")
        meeting.bodies, meeting.other_bodies = bodies, other_bodies
        meeting.minutes, meeting.attendees = minutes, attendees
        meeting.updated_by = actor
        meeting.full_clean(exclude=["minutes_file"])
        meeting.save()
        replaced = ""
        if upload is not None:
            replaced = meeting.minutes_file.name
            storage = meeting.minutes_file.storage
            meeting.minutes_name = upload_name(upload, default="minutes.pdf")
            meeting.minutes_file.save("minutes.pdf", upload, save=False)
            meeting.save(update_fields=["minutes_file", "minutes_name"])
            if replaced:
                transaction.on_commit(lambda: storage.delete(replaced))
        services._audit(
            actor,
            evaluation_round,
            AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            {
                "joint_meeting": meeting.held_on.isoformat(),
                "bodies": meeting.body_labels(),
                "attendees": len(attendees),
                **({"file": meeting.minutes_name} if upload is not None else {}),
                # A correction keeps what it replaced: the record is overwritten.
                **(
                    {}
                    if created
                    else {
                        "before": {
                            name: value
                            for name, value in before.items()
                            if value != _meeting_values(meeting)[name]
                        }
                    }
                ),
            },
            request,
        )
    return meeting


def _meeting_values(meeting: JointMeeting) -> dict:
    return {
        "held_on": meeting.held_on.isoformat() if meeting.held_on else "",
        "bodies": list(meeting.bodies or []),
        "other_bodies": meeting.other_bodies,
        "minutes": meeting.minutes,
        "attendees": attendees_text(meeting.attendees or []),
    }


# -- Named outside evaluators of the public assessment (社会评价) -----------------------------


def evaluators_of(evaluation_round: EvaluationRound) -> list[OutsideEvaluator]:
    return list(evaluation_round.outside_evaluators.all())


def evaluator_add_refusal(evaluation_round: EvaluationRound) -> str:
    """Why no outside evaluator can be added to the round now, "" if one can: the evaluators'
    page offers its form only then, and `evaluator_add` refuses in these words."""
    if evaluation_round.state != EvaluationRound.State.OPEN:
        return _("The outcome of this round is confirmed: it cannot change.")
    if not evaluation_round.public_weight:
        return _("This round gives the public assessment no weight.")
    listed = evaluation_round.outside_evaluators.count()
    # A round whose public assessment was entered one sheet per representative keeps that way.
    if (
        not listed
        and EvaluationScore.objects.filter(
            evaluation__round=evaluation_round, source=Evaluation.Source.PUBLIC
        ).exists()
    ):
        return _(
            "The public assessment of this round was already entered one sheet per "
            "representative: it cannot be entered per evaluator as well."
        )
    if listed >= MAX_EVALUATORS:
        return _("At most %(most)s outside evaluators in a round.") % {"most": MAX_EVALUATORS}
    return ""


def evaluator_add(
    *, actor, evaluation_round: EvaluationRound, name: str, unit: str, request=None
) -> OutsideEvaluator:
    """List an outside evaluator (a person and their unit, not an account), unless
    `evaluator_add_refusal` says why not."""
    _check_runs(actor, evaluation_round)
    # One that differs from another only by characters that show nothing is the same person,
    # which the constraint of one name and unit per round then refuses (tongzhan.text).
    name, unit = plain_name(name), plain_name(unit)
    with transaction.atomic():
        evaluation_round = _locked_open(evaluation_round)
        refusal = evaluator_add_refusal(evaluation_round)
        if refusal:
            raise ValidationError(refusal)
        evaluators = evaluation_round.outside_evaluators
        last = evaluators.order_by("-sort_order").values_list("sort_order", flat=True).first()
        evaluator = OutsideEvaluator(
            round=evaluation_round, name=name, unit=unit, sort_order=(last or 0) + 1
        )
        evaluator.full_clean()
        evaluator.save()
        # A new evaluator has scored nothing: no item's mean is complete until they have.
        _recompute_public(evaluation_round, None)
        services._audit(
            actor,
            evaluation_round,
            AuditEvent.Action.UPDATE,
            {"outside_evaluator": str(evaluator), "added": True},
            request,
        )
    return evaluator


def evaluator_remove(*, actor, evaluator: OutsideEvaluator, request=None) -> None:
    """Take an evaluator off the round with their scores; the means are those of the others
    (without any evaluator left, the round's public assessment is entered per sheet again)."""
    evaluation_round = evaluator.round
    _check_runs(actor, evaluation_round)
    with transaction.atomic():
        evaluation_round = _locked_open(evaluation_round)
        scores = evaluator.scores.count()
        name = str(evaluator)
        evaluator.delete()
        _recompute_public(evaluation_round, None)
        services._audit(
            actor,
            evaluation_round,
            AuditEvent.Action.UPDATE,
            {"outside_evaluator": name, "removed": True, "scores": scores},
            request,
        )


def _recompute_public(evaluation_round: EvaluationRound, evaluation_ids) -> None:
    """The public scores of the round (or of `evaluation_ids`) as the mean of its evaluators'
    per item, to the cent: an item has its public score once every evaluator has scored it, so
    an evaluator's missing sheet keeps the round from being confirmed as a missing sheet does
    (`round_outcome_preview`)."""
    evaluators = evaluation_round.outside_evaluators.count()
    public = EvaluationScore.objects.filter(
        evaluation__round=evaluation_round, source=Evaluation.Source.PUBLIC
    )
    given = OutsideScore.objects.filter(evaluator__round=evaluation_round)
    if evaluation_ids is not None:
        public = public.filter(evaluation_id__in=evaluation_ids)
        given = given.filter(evaluation_id__in=evaluation_ids)
    if not evaluators:
        public.delete()
        return
    by_cell: dict = {}
    for evaluation, item, score in given.values_list("evaluation_id", "item_id", "score"):
        by_cell.setdefault((evaluation, item), []).append(score)
    means = {
        cell: (sum(scores) / len(scores)).quantize(CENT, rounding=decimal.ROUND_HALF_UP)
        for cell, scores in by_cell.items()
        if len(scores) == evaluators
    }
    stored = {(s.evaluation_id, s.item_id): s for s in public}
    public.exclude(pk__in=[s.pk for c, s in stored.items() if c in means]).delete()
    changed, added = [], []
    for (evaluation, item), mean in means.items():
        row = stored.get((evaluation, item))
        if row is None:
            added.append(
                EvaluationScore(
                    evaluation_id=evaluation,
                    item_id=item,
                    source=Evaluation.Source.PUBLIC,
                    score=mean,
                )
            )
        elif row.score != mean:
            row.score = mean
            changed.append(row)
    EvaluationScore.objects.bulk_create(added)
    EvaluationScore.objects.bulk_update(changed, ["score"])


def evaluator_scores_set(
    *, actor, evaluator: OutsideEvaluator, changes: list, origin: str = "", seen=None,
    request=None,
) -> int:  # fmt: skip
    """Save an outside evaluator's scores ([(evaluation, item, score)], as a score grid gives
    them) all together or not at all, every refused cell named; each representative's public
    score of an item is then the evaluators' mean. `seen` as for `evaluation_grid_score`.
    Returns how many scores were saved."""
    evaluation_round = evaluator.round
    services._check_round_open(evaluation_round)
    items = {
        item.pk: item
        for item in EvaluationItem.objects.filter(
            category__template=evaluation_round.template_id, is_veto=False
        )
    }
    errors, saved, touched = {}, 0, set()
    with transaction.atomic():
        evaluation_round = _locked_open(evaluation_round)
        stored = {
            (evaluation, item): score
            for evaluation, item, score in evaluator.scores.values_list(
                "evaluation_id", "item_id", "score"
            )
        }
        for evaluation, item, score in changes:
            cell = services.grid_cell(evaluation.pk, getattr(item, "pk", item))
            if evaluation.round_id != evaluation_round.pk:
                raise ValidationError(_("A representative who is not in this round."))
            item = items.get(getattr(item, "pk", item))
            if item is None:
                raise ValidationError(_("An item that is not in this round's template."))
            key = (evaluation.pk, item.pk)
            if stored.get(key) == score:
                continue
            name = evaluation.member.name
            if not services.may_enter(actor, evaluation, Evaluation.Source.PUBLIC):
                errors[cell] = services._cell_refusal(name, item.name, PermissionDenied())
                continue
            if seen is not None and key in seen and seen[key] != stored.get(key):
                errors[cell] = services._changed_meanwhile(name, item.name, stored.get(key))
                continue
            if score is None or score < 0 or score > item.max_score:
                errors[cell] = services._cell_refusal(
                    name,
                    item.name,
                    ValidationError(
                        _("Give between 0 and %(most)s points.") % {"most": item.max_score}
                    ),
                )
                continue
            OutsideScore.objects.update_or_create(
                evaluator=evaluator, evaluation=evaluation, item=item, defaults={"score": score}
            )
            touched.add(evaluation.pk)
            saved += 1
        if errors:
            raise ValidationError(errors)
        if saved:
            _recompute_public(evaluation_round, touched)
            services._audit(
                actor,
                evaluation_round,
                AuditEvent.Action.UPDATE,
                {
                    "evaluation": evaluation_round.name,
                    "source": Evaluation.Source.PUBLIC,
                    "outside_evaluator": str(evaluator),
                    "score_grid": saved,
                    **({"file": origin} if origin else {}),
                },
                request,
            )
    return saved


@dataclasses.dataclass
class EvaluatorTotal:
    evaluator: OutsideEvaluator
    total: decimal.Decimal | None  # the sum of their scores of the representative, if any
    complete: bool  # every item scored


def public_by_evaluator(evaluation_round: EvaluationRound) -> dict[int, list[EvaluatorTotal]]:
    """Per evaluation of the round: each outside evaluator's total (empty without evaluators),
    as the round's page and the confirmation show where the public score comes from."""
    evaluators = evaluators_of(evaluation_round)
    if not evaluators:
        return {}
    items = EvaluationItem.objects.filter(
        category__template=evaluation_round.template_id, is_veto=False
    ).count()
    sums: dict = {}
    for evaluation, evaluator, score in OutsideScore.objects.filter(
        evaluator__round=evaluation_round, item__is_veto=False
    ).values_list("evaluation_id", "evaluator_id", "score"):
        total, count = sums.get((evaluation, evaluator), (decimal.Decimal(0), 0))
        sums[(evaluation, evaluator)] = (total + score, count + 1)
    result = {}
    for evaluation in evaluation_round.evaluations.values_list("pk", flat=True):
        result[evaluation] = [
            EvaluatorTotal(
                evaluator,
                sums[(evaluation, evaluator.pk)][0] if (evaluation, evaluator.pk) in sums else None,
                sums.get((evaluation, evaluator.pk), (0, 0))[1] >= items,
            )
            for evaluator in evaluators
        ]
    return result


# -- Talks with those the round flags (约谈 / 警示谈话) -----------------------------------------


@dataclasses.dataclass
class TalkNeeded:
    row: object  # the flagged `EvaluationRow`
    talk: TalkRecord | None


def talks_needed(evaluation_round: EvaluationRound, outcome=None) -> list[TalkNeeded]:
    """Each representative the round flags (vetoed or among the lowest share, as
    `round_outcome_preview` finds them) with their talk record, if any. An admission round's
    nominees are not representatives yet: one who fails is not admitted, not talked to."""
    if evaluation_round.template.kind == EvaluationTemplate.Kind.ADMISSION:
        return []
    outcome = outcome or services.round_outcome_preview(evaluation_round)
    talks = {
        talk.evaluation_id: talk
        for talk in TalkRecord.objects.filter(
            evaluation__in=[row.evaluation.pk for row in outcome.flagged]
        )
    }
    return [TalkNeeded(row, talks.get(row.evaluation.pk)) for row in outcome.flagged]


def talks_lacking(evaluation_round: EvaluationRound, outcome=None) -> list:
    """The flagged rows without a talk record (nor a reason why none was held)."""
    return [entry.row for entry in talks_needed(evaluation_round, outcome) if entry.talk is None]


def talks_lacking_message(rows: list) -> str:
    return _(
        "The outcome cannot be confirmed yet: %(count)s flagged representatives have no talk "
        "record nor a reason why none was held (%(who)s). Record them first."
    ) % {"count": len(rows), "who": "、".join(row.evaluation.member.name for row in rows)}


TALK_FIELDS = ("kind", "held_on", "held_by", "content", "outcome", "reason")


def talk_record_set(*, actor, evaluation: Evaluation, data: dict, request=None) -> TalkRecord:
    """Record the talk held with a representative the round flags, or why none was held (the
    fields the kind does not use are emptied). By whoever may confirm the round; a record is
    kept, and may be corrected, after the round is confirmed."""
    evaluation_round = evaluation.round
    if not services.may_confirm(actor, evaluation_round):
        raise PermissionDenied
    unknown = set(data) - set(TALK_FIELDS)
    if unknown:
        raise ValueError(f"not talk record fields: {sorted(unknown)}")
    with transaction.atomic():
        talk = TalkRecord.objects.select_for_update().filter(evaluation=evaluation).first()
        if talk is None:
            flagged = {entry.row.evaluation.pk for entry in talks_needed(evaluation_round)}
            if evaluation.pk not in flagged and not evaluation.removed:
                raise ValidationError(
                    _("%(name)s is not flagged in this round: no talk record is needed.")
                    % {"name": evaluation.member.name}
                )
        created = talk is None
        talk = talk or TalkRecord(evaluation=evaluation)
        before = _talk_values(talk)
        talk.kind, talk.held_on = data.get("kind") or "", data.get("held_on")
        for name in ("held_by", "content", "outcome", "reason"):
            setattr(talk, name, plain_name(data.get(name)))
        if talk.kind == TalkRecord.Kind.NONE:
            talk.held_on, talk.held_by, talk.content, talk.outcome = None, "", "", ""
        else:
            talk.reason = ""
        _check_not_future("held_on", talk.held_on)
        talk.recorded_by = actor
        talk.full_clean()
        # A correction keeps what it replaced in its audit line: the record is overwritten.
        replaced = {
            name: value for name, value in before.items() if value != _talk_values(talk)[name]
        }
        if not created and not replaced:
            return talk
        talk.save()
        # In her history too, where her page shows it.
        with translation.override(settings.LANGUAGE_CODE):
            member_history_line(
                actor=actor,
                member=evaluation.member,
                action=MemberChange.Action.TALK,
                field="talk",
                old="" if created else _talk_summary(before),
                new=_talk_summary(_talk_values(talk)),
                source=str(evaluation_round),
            )
        services._audit(
            actor,
            evaluation.member,
            AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            {
                "evaluation": evaluation_round.name,
                "talk": talk.kind,
                **({"held_on": talk.held_on.isoformat()} if talk.held_on else {}),
                **({} if created else {"before": replaced}),
            },
            request,
        )
    return talk


def _talk_summary(values: dict) -> str:
    """A talk record as the member's history shows it: 警示谈话 · 2026-11-30 · 区委统战部 ·
    outcome, or 未谈话 · why."""
    kind = str(TalkRecord.Kind(values["kind"]).label) if values["kind"] else ""
    if values["kind"] == TalkRecord.Kind.NONE:
        return " · ".join(part for part in (kind, values["reason"]) if part)
    return " · ".join(
        part for part in (kind, values["held_on"], values["held_by"], values["outcome"]) if part
    )


def _talk_values(talk: TalkRecord) -> dict:
    return {
        name: talk.held_on.isoformat()
        if name == "held_on" and talk.held_on
        else getattr(talk, name) or ""
        for name in TALK_FIELDS
    }


# -- Recommendation eligibility withdrawn (取消推荐资格) --------------------------------------


def arrangements_cancel_for(*, actor, evaluation: Evaluation, reason: str, request=None) -> list:
    """The political arrangements in office of a representative the confirmation removes are
    cancelled, with the round as the reason; kept so that reopening gives them back."""
    cancelled = arrangements_cancel(
        actor=actor,
        member=evaluation.member,
        on=timezone.localdate(),
        reason=reason,
        source=reason[:200],
        request=request,
    )
    ArrangementCancellation.objects.bulk_create(
        [
            ArrangementCancellation(evaluation=evaluation, arrangement=arrangement)
            for arrangement in cancelled
        ]
    )
    return cancelled


def arrangements_restore_for(
    *, actor, evaluation_round: EvaluationRound, evaluations, reason: str, request=None
) -> list:
    """Reopening: the arrangements the confirmation cancelled for `evaluations` are in office
    again (those changed since stay as they are); the round forgets what it cancelled."""
    cancellations = ArrangementCancellation.objects.filter(
        evaluation__round=evaluation_round
    ).select_related("arrangement__member")
    mine = [c.arrangement for c in cancellations if c.evaluation_id in {e.pk for e in evaluations}]
    restored, _kept = arrangements_restore(
        actor=actor, arrangements=mine, source=reason[:200], request=request
    )
    cancellations.delete()
    return restored
