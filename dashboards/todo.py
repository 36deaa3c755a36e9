"""What waits on the user, at the top of the home page (待办): needs due soon or overdue,
hand scores owed in open assessment periods and evaluation sheets owed in open rounds.

Each count is what its link's page lists: the needs through `NeedQuerySet` (the need list's
`show=due_soon` and `show=overdue`), the scores through `assessment.services.may_score` and
`period_unscored`, the sheets through `may_enter` and `round_outcome_preview`, the incoming
transfers through `Transfer.objects.incoming_for` (the transfer list's first part)."""

import dataclasses
import datetime
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from activities.models import DUE_SOON_DAYS, Need, NeedQuerySet
from assessment import services as assessment
from assessment.models import Evaluation
from liaison import todo as liaison_todo
from members.models import Transfer


@dataclasses.dataclass
class Owed:
    """One line of the card: what, how many, and the page that lists them."""

    label: str
    count: int
    url: str
    detail: str = ""
    sources: list[str] = dataclasses.field(default_factory=list)
    grid_url: str = ""  # the grid where all of them are entered at once


@dataclasses.dataclass
class Todo:
    transfers: int = 0
    transfers_url: str = ""
    due_soon: int = 0
    overdue: int = 0
    due_soon_url: str = ""
    overdue_url: str = ""
    due_soon_days: int = DUE_SOON_DAYS
    scores: list[Owed] = dataclasses.field(default_factory=list)
    sheets: list[Owed] = dataclasses.field(default_factory=list)
    # What was sent or referred to the user's area (我的待办), but the transfers counted above.
    sent: list[Owed] = dataclasses.field(default_factory=list)

    def __bool__(self):
        return bool(
            self.transfers
            or self.due_soon
            or self.overdue
            or self.scores
            or self.sheets
            or self.sent
        )


def _transfers(user, todo: Todo) -> None:
    todo.transfers = Transfer.objects.incoming_for(user).pending().count()
    todo.transfers_url = reverse("members:transfers")


def _needs(user, todo: Todo, today: datetime.date) -> None:
    counts = Need.objects.editable_by(user).aggregate(
        due_soon=Count("id", filter=NeedQuerySet.is_due_soon(today)),
        overdue=Count("id", filter=NeedQuerySet.is_overdue(today)),
    )
    todo.due_soon, todo.overdue = counts["due_soon"], counts["overdue"]
    needs = reverse("activities:need_list")
    todo.due_soon_url = f"{needs}?{urlencode({'show': 'due_soon'})}"
    todo.overdue_url = f"{needs}?{urlencode({'show': 'overdue'})}"


def _scores(user, todo: Todo) -> None:
    """Per community of an open period: the hand-scored items the user may score there and
    nobody has scored yet (`scores_owed`, a fixed number of queries)."""
    for period, community, count in assessment.scores_owed(user):
        todo.scores.append(
            Owed(
                label=community.name,
                count=count,
                url=reverse("assessment:community", args=[period.pk, community.code]),
                detail=period.name,
                grid_url=reverse("assessment:scores", args=[period.pk]),
            )
        )


def _sheets(user, todo: Todo) -> None:
    """Each representative of an open round whose sheet from a source the user enters is not
    full yet, linked to her evaluation page (`sheets_owed`, one query)."""
    for evaluation, sources in assessment.sheets_owed(user):
        todo.sheets.append(
            Owed(
                label=evaluation.member.name,
                count=len(sources),
                url=reverse("assessment:evaluation", args=[evaluation.round_id, evaluation.pk]),
                detail=evaluation.round.name,
                sources=[str(Evaluation.Source(source).label) for source in sources],
                grid_url=reverse("assessment:round_scores", args=[evaluation.round_id])
                + f"?{urlencode({'source': sources[0]})}",
            )
        )


def _sent(user, todo: Todo) -> None:
    """Notices, tasks, reports and needs waiting on the user's area, each kind linked to its
    part of 我的待办 (`liaison.todo`, one query)."""
    counts = liaison_todo.waiting_counts(user)
    page = reverse("liaison:todo")
    for source in liaison_todo.SOURCES:
        if source.key != "transfers" and counts.get(source.key):
            todo.sent.append(
                Owed(label=source.label, count=counts[source.key], url=f"{page}#todo-{source.key}")
            )


def todo_for(user, today: datetime.date) -> Todo:
    todo = Todo()
    _sent(user, todo)
    _transfers(user, todo)
    _needs(user, todo, today)
    _scores(user, todo)
    _sheets(user, todo)
    return todo
