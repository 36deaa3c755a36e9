"""A person's open requests in 我的待办 (`liaison.todo`): those of the records the user may
change, by deadline, the overdue first (PIPL arts. 44-46: answered in time)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from liaison.todo import SHOWN_PER_KIND, Source, Waiting

from .models import PersonRequest


def waiting(user):
    return PersonRequest.objects.editable_by(user).open()


def items(requests, today) -> list[Waiting]:
    requests = requests.select_related("member__community").order_by("due_on", "id")
    return [
        Waiting(
            title=f"{item.member.name}：{item.get_kind_display()}",
            url=reverse("privacy:request", args=[item.pk]),
            what=str(item.get_state_display()),
            source=item.member.community.name,
            due=item.due_on,
            overdue=item.due_on < today,
            since=None,
        )
        for item in requests[:SHOWN_PER_KIND]
    ]


REQUESTS = Source(
    key="person_requests",
    label=_("Persons' requests about their records"),
    waiting=waiting,
    items=items,
    list_url=lambda: reverse("privacy:requests") + "?state=open",
)
