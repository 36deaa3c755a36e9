"""What waits on me (我的待办): what was sent to the user's own area or referred to it and is
not done yet, from every part of the work between the levels, overdue first.

Each kind is one `Source`: the queryset of what waits (the same method the kind's own list
uses, so the page and the header count agree with the lists), and how to show one of them.
The header's count on every page is one query (`waiting_count`): each source's queryset
counted in a subquery of it.
"""

import dataclasses
import datetime
from collections.abc import Callable

from django.conf import settings
from django.db.models import IntegerField, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.models import Need
from members.models import Transfer
from tongzhan.models import User

from .models import Material, NoticeCopy, Report, TaskCopy

SHOWN_PER_KIND = 50  # beyond it the kind's own list has the rest


@dataclasses.dataclass
class Waiting:
    """One thing waiting on the user."""

    title: str
    url: str
    what: str  # what is owed: 未读, 待回复, 待办理, 待审核 ...
    source: str = ""  # the area it came from
    due: datetime.date | None = None
    overdue: bool = False
    since: datetime.datetime | None = None
    late: int = 0  # days past the due date, when overdue


@dataclasses.dataclass
class Source:
    """One kind of thing that waits: its name, what waits (a queryset), how to show it."""

    key: str
    label: str
    waiting: Callable  # (user) -> QuerySet
    items: Callable  # (queryset, today) -> list[Waiting]
    list_url: Callable  # () -> str, the kind's own list


@dataclasses.dataclass
class Group:
    source: Source
    count: int
    items: list[Waiting]

    @property
    def more(self) -> int:
        return self.count - len(self.items)


# -- The sources ---------------------------------------------------------------------------


def _notices(copies, today):
    copies = copies.select_related("notice__area").order_by("notice__reply_by", "-notice__sent_at")
    items = []
    for copy in copies[:SHOWN_PER_KIND]:
        notice = copy.notice
        owed = copy.read_at is None
        items.append(
            Waiting(
                title=notice.title,
                url=reverse("liaison:notice_detail", args=[notice.pk]),
                what=str(_("Unread") if owed else _("Reply owed")),
                source=notice.area.name,
                due=notice.reply_by if copy.reply_owed else None,
                overdue=copy.is_overdue(today),
                since=notice.sent_at,
            )
        )
    return items


def _tasks(copies, today):
    copies = copies.select_related("task__area", "area").order_by("task__deadline", "-task_id")
    items = []
    for copy in copies[:SHOWN_PER_KIND]:
        task = copy.task
        to_review = copy.state == TaskCopy.State.DONE
        items.append(
            Waiting(
                title=task.title if not to_review else f"{task.title}（{copy.area.name}）",
                url=reverse("liaison:task_copy", args=[copy.pk]),
                what=str(
                    _("To review")
                    if to_review
                    # What the receiving area owes: 待接收 rather than the table's 下发.
                    else _("Awaiting acceptance")
                    if copy.state == TaskCopy.State.ISSUED
                    else copy.state_label
                ),
                source=task.area.name if not to_review else copy.area.name,
                due=None if to_review else task.deadline,
                overdue=not to_review and task.deadline < today,
                since=copy.reported_at if to_review else task.created_at,
            )
        )
    return items


def _reports(reports, today):
    reports = reports.select_related("area").order_by("submitted_at")
    return [
        Waiting(
            title=report.title,
            url=reverse("liaison:report_detail", args=[report.pk]),
            what=str(_("To decide")),
            source=report.area.name,
            since=report.submitted_at,
        )
        for report in reports[:SHOWN_PER_KIND]
    ]


def _needs(needs, today):
    needs = needs.select_related("member", "community").order_by("due_date", "raised_on")
    items = []
    for need in needs[:SHOWN_PER_KIND]:
        awaiting = need.referral == Need.Referral.REFERRED
        items.append(
            Waiting(
                title=f"{need.member.name}：{need.get_kind_display()}",
                url=reverse("activities:need_detail", args=[need.pk]),
                what=str(_("To accept") if awaiting else need.get_status_display()),
                source=need.community.name,
                due=need.due_date,
                overdue=bool(need.due_date and need.due_date < today),
            )
        )
    return items


def _materials(materials, today):
    materials = materials.select_related("area").order_by("-published_at")
    return [
        Waiting(
            title=material.title,
            url=reverse("liaison:library_detail", args=[material.pk]),
            what=str(_("To read")),
            source=material.area.name,
            since=material.published_at,
        )
        for material in materials[:SHOWN_PER_KIND]
    ]


def _transfers(transfers, today):
    transfers = transfers.select_related("member", "from_community").order_by("-requested_at")
    return [
        Waiting(
            title=transfer.member.name,
            url=reverse("members:transfer_detail", args=[transfer.pk]),
            what=str(_("Transfer to accept")),
            source=transfer.from_community.name,
            since=transfer.requested_at,
        )
        for transfer in transfers[:SHOWN_PER_KIND]
    ]


SOURCES = [
    Source(
        key="notices",
        label=_("Notices"),
        waiting=NoticeCopy.objects.waiting_for,
        items=_notices,
        list_url=lambda: reverse("liaison:notice_list") + "?box=received",
    ),
    Source(
        key="tasks",
        label=_("Tasks"),
        waiting=TaskCopy.objects.waiting_for,
        items=_tasks,
        list_url=lambda: reverse("liaison:task_list"),
    ),
    Source(
        key="reports",
        label=_("Reports to decide"),
        waiting=Report.objects.waiting_for,
        items=_reports,
        list_url=lambda: reverse("liaison:report_list") + "?box=received",
    ),
    Source(
        key="needs",
        label=_("Needs referred to us"),
        waiting=Need.objects.referred_to,
        items=_needs,
        list_url=lambda: reverse("activities:need_list") + "?held=here",
    ),
    Source(
        key="materials",
        label=_("Study materials to read"),
        waiting=Material.objects.waiting_for,
        items=_materials,
        list_url=lambda: reverse("liaison:library_list") + "?to_read=on",
    ),
    Source(
        key="transfers",
        label=_("Incoming transfers"),
        waiting=lambda user: Transfer.objects.incoming_for(user).pending(),
        items=_transfers,
        list_url=lambda: reverse("members:transfers"),
    ),
]


def source_register(source: Source) -> None:
    """Add another app's kind of thing that waits (from its AppConfig.ready, so this module
    imports no app above it); registering twice changes nothing."""
    if all(known.key != source.key for known in SOURCES):
        SOURCES.append(source)


# -- Reading them --------------------------------------------------------------------------


def takes_part(user) -> bool:
    """Whether anything can wait on the user: staff of an area (not auditors)."""
    return (
        user.is_authenticated
        and user.is_active
        and user.area_id is not None
        and user.role != User.Role.AUDITOR
    )


class _Count(Subquery):
    """The number of rows of a queryset, as a subquery of another."""

    template = "(SELECT count(*) FROM (%(subquery)s) _waiting)"
    output_field = IntegerField()


def waiting_counts(user) -> dict[str, int]:
    """{source key: how many wait}, in one query."""
    if not takes_part(user):
        return {}
    counts = {
        source.key: _Count(source.waiting(user).order_by().values("pk")) for source in SOURCES
    }
    # An empty queryset (a right the user lacks) compiles to NULL, not to a count.
    found = User.objects.filter(pk=user.pk).values(**counts).get()
    return {key: count or 0 for key, count in found.items()}


def waiting_count(user) -> int:
    return sum(waiting_counts(user).values())


def waiting_for(user, today: datetime.date | None = None) -> list[Group]:
    """The groups of what waits on the user, the kinds with overdue items first, then the
    others in their fixed order; in each, overdue first (most overdue first), then by due
    date, then the newest."""
    if not takes_part(user):
        return []
    today = today or timezone.localdate()
    counts = waiting_counts(user)
    groups = []
    for source in SOURCES:
        if not counts.get(source.key):
            continue
        items = source.items(source.waiting(user), today)
        for item in items:
            if item.overdue and item.due:
                item.late = (today - item.due).days
        items.sort(key=order)
        groups.append(Group(source=source, count=counts[source.key], items=items))
    groups.sort(key=lambda group: not any(item.overdue for item in group.items))
    return groups


def page_url() -> str:
    return settings.SITE_URL + reverse("liaison:todo")


def order(item: Waiting):
    """Overdue first (the most overdue first), then by due date, then the newest."""
    since = item.since or timezone.now()
    return (
        not item.overdue,
        -item.late,
        item.due or datetime.date.max,
        -since.timestamp(),
    )
