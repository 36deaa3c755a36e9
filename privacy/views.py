"""The district's retention pages: the periods, the records due for anonymisation in its area,
their approval (on a confirmation page: it cannot be undone) and what became of an approval.

Every page starts from the user's area (`members_due`, `Approval.objects.visible_to`): an
approval out of it is 404; a user without the retention rights is refused (403)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from members.models import Member
from tongzhan.mixins import confirm_page

from . import services
from .forms import DueFilterForm
from .models import Anonymisation, Approval

DUE_PER_PAGE = 50
APPROVALS_PER_PAGE = 20
# The records a confirmation page names one by one; beyond them it counts.
NAMED_AT_MOST = 30


def _periods() -> list[dict]:
    return [
        {"status": Member.Status(status).label, "years": years}
        for status, years in services.retention_years().items()
    ]


@require_GET
@login_required
@permission_required("privacy.view_anonymisation", raise_exception=True)
def retention(request):
    """The retention periods, how many records of the user's area are due, and the
    approvals given, newest first."""
    due = services.members_due(request.user)
    approvals = (
        Approval.objects.visible_to(request.user)
        .select_related("approved_by", "area")
        .annotate(records=Count("items"))
        .order_by("-approved_at", "-id")
    )
    page = Paginator(approvals, APPROVALS_PER_PAGE).get_page(request.GET.get("page"))
    states = {
        (row["approval_id"], row["state"]): row["n"]
        for row in Anonymisation.objects.filter(approval__in=page.object_list)
        .values("approval_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    }
    rows = [
        {
            "approval": approval,
            "done": states.get((approval.pk, Anonymisation.State.DONE), 0),
            "waiting": states.get((approval.pk, Anonymisation.State.APPROVED), 0),
            "skipped": states.get((approval.pk, Anonymisation.State.SKIPPED), 0),
        }
        for approval in page.object_list
    ]
    context = {
        "periods": _periods(),
        "due_count": due.count(),
        "rows": rows,
        "page_obj": page,
        "paginator": page.paginator,
        "is_paginated": page.paginator.num_pages > 1,
        "query_without_page": "",
    }
    return render(request, "privacy/retention.html", context)


@require_GET
@login_required
@permission_required("privacy.view_anonymisation", raise_exception=True)
def due_list(request):
    """The records of the user's area whose retention period has passed, with how many in
    each community; the district approves all of them or those it ticks."""
    user = request.user
    due = services.members_due(user)
    form = DueFilterForm(request.GET or None, user=user)
    shown = due
    if form.is_bound and not form.is_valid():
        shown = due.none()
    elif form.is_bound and form.cleaned_data["community"] is not None:
        shown = due.filter(community=form.cleaned_data["community"])
    shown = shown.select_related("community__parent").order_by("community__code", "left_on", "pk")
    page = Paginator(shown.defer("id_number", "phone"), DUE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for member in page.object_list:
        member.due_on = services.due_on(member.status, member.left_on)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "by_community": services.due_by_community(due),
        "due_count": due.count(),
        "members": page.object_list,
        "page_obj": page,
        "paginator": page.paginator,
        "is_paginated": page.paginator.num_pages > 1,
        "query_without_page": query.urlencode(),
        "may_approve": user.has_perm("privacy.approve_anonymisation"),
        "periods": _periods(),
    }
    return render(request, "privacy/due_list.html", context)


def _chosen(request) -> tuple[bool, list[int], int | None]:
    """What the list posted: every record due (with how many it showed), or the ids ticked."""
    if request.POST.get("all") == "1":
        try:
            expected = int(request.POST.get("expected", ""))
        except ValueError:
            expected = None
        return True, [], expected
    ids = [int(value) for value in request.POST.getlist("member") if value.isdigit()]
    return False, ids[: 10 * DUE_PER_PAGE], None


@require_POST
@login_required
@permission_required("privacy.approve_anonymisation", raise_exception=True)
def approve(request):
    """Approve the anonymisation of the records chosen on the list, or of every record due:
    shown on a confirmation page first (nothing of it can be undone), then approved."""
    all_due, ids, expected = _chosen(request)
    back_url = reverse("privacy:due")
    due = services.members_due(request.user)
    chosen = due if all_due else due.filter(pk__in=ids)
    count = chosen.count()
    if request.POST.get("confirmed"):
        try:
            approval = services.approval_create(
                actor=request.user,
                member_ids=ids,
                all_due=all_due,
                expected=expected,
                request=request,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(back_url)
        messages.success(
            request,
            ngettext(
                "The anonymisation of %(n)s record was approved; the daily run does it.",
                "The anonymisation of %(n)s records was approved; the daily run does it.",
                approval.items.count(),
            )
            % {"n": approval.items.count()},
        )
        return redirect("privacy:approval", pk=approval.pk)
    if not count or (not all_due and count != len(set(ids))):
        messages.error(
            request,
            _("Choose records that are due in your area.")
            if not count
            else _("Some chosen records are no longer due or not in your area. Look again."),
        )
        return redirect(back_url)
    named = list(
        chosen.select_related("community").order_by("community__code", "pk")[:NAMED_AT_MOST]
    )
    names = "、".join(f"{member.name}（{member.community.name}）" for member in named)
    if count > len(named):
        names += _(" and %(n)s more") % {"n": count - len(named)}
    by_community = "；".join(
        f"{row['community'].name} {row['count']}" for row in services.due_by_community(chosen)
    )
    hidden = (
        [("all", "1"), ("expected", str(count))]
        if all_due
        else [("member", pk) for pk in sorted(set(ids))]
    )
    return confirm_page(
        request,
        heading=_("Approve anonymisation"),
        rows=[
            (_("Records"), str(count)),
            (_("By community"), by_community),
            (_("Who"), names),
        ],
        happens=[
            _(
                "The daily run removes from each record and from everything kept about her "
                "the name, document and phone numbers, address, workplace, relatives, photo, "
                "notes and the texts of her visits, needs, nominations and evaluations, and "
                "her personal values in the history and in roster imports; files prepared "
                "for download in her area are deleted."
            ),
            _(
                "What the dashboards and the assessment count stays: her community, "
                "categories, status and the day she left, sex, ethnic group, political "
                "status and year of birth. The record is named 已匿名 and its number."
            ),
            _("This cannot be undone, and the record can no longer be changed."),
        ],
        button=_("Approve the anonymisation"),
        back_url=back_url,
        hidden=hidden,
    )


@require_GET
@login_required
@permission_required("privacy.view_anonymisation", raise_exception=True)
def approval_detail(request, pk):
    """One approval: who gave it, when, and each record with what became of it."""
    approval = get_object_or_404(
        Approval.objects.visible_to(request.user).select_related("approved_by", "area"), pk=pk
    )
    items = approval.items.select_related("member__community__parent").order_by(
        "member__community__code", "pk"
    )
    return render(request, "privacy/approval_detail.html", {"approval": approval, "items": items})
