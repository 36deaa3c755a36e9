"""A person's own requests to see, copy or correct her record (kept by whoever may change it,
seen by whoever sees it), and the district's retention pages: the periods, the records due
for anonymisation in its area, their approval (on a confirmation page: it cannot be undone)
and what became of an approval.

Every page starts from the user's area (`members_due`, `Approval.objects.visible_to`): an
approval out of it is 404; a user without the retention rights is refused (403)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from members.models import Member, change_labels
from members.views import EditReason, MemberSection
from tongzhan.filters import MAX_ID
from tongzhan.mixins import confirm_page, form_write

from . import services
from .forms import DueFilterForm, PersonRequestForm, RequestAnswerForm, RequestFilterForm
from .models import Anonymisation, Approval, PersonRequest, RequestCopy

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


# -- A person's own requests (PIPL arts. 44-46) ---------------------------------------------
# Seen by whoever sees her record, kept by whoever may change it: out of scope 404, in scope
# but read-only 403 (`PersonRequest.objects.visible_to` / `editable_by`).

REQUESTS_PER_PAGE = 50


def _visible_request(request, pk) -> PersonRequest:
    return get_object_or_404(
        PersonRequest.objects.visible_to(request.user).select_related(
            "member__community", "recorded_by", "answered_by"
        ),
        pk=pk,
    )


def _editable_request(request, pk) -> PersonRequest:
    person_request = _visible_request(request, pk)
    if not PersonRequest.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied
    return person_request


def _late(person_request: PersonRequest, today) -> PersonRequest:
    person_request.late = person_request.days_late(today)
    person_request.days_left = (
        (person_request.due_on - today).days
        if person_request.state == PersonRequest.State.OPEN
        else None
    )
    return person_request


@require_GET
@login_required
@permission_required("members.view_member", raise_exception=True)
def request_list(request):
    """The requests of the members the user sees: those waiting first, by deadline, the
    overdue marked with how many days late."""
    today = timezone.localdate()
    requests = PersonRequest.objects.visible_to(request.user)
    form = RequestFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        requests = requests.none()
    elif form.is_bound:
        show = form.cleaned_data["state"]
        if show == RequestFilterForm.Show.OVERDUE:
            requests = requests.overdue(today)
        elif show:
            requests = requests.filter(state=show)
    requests = requests.select_related("member__community").order_by(
        Case(When(state=PersonRequest.State.OPEN, then=0), default=1), "due_on", "-answered_on",
        "-id",
    )  # fmt: skip
    page = Paginator(requests, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    for item in page.object_list:
        _late(item, today)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "requests": page.object_list,
        "page_obj": page,
        "paginator": page.paginator,
        "is_paginated": page.paginator.num_pages > 1,
        "query_without_page": query.urlencode(),
        "overdue_count": PersonRequest.objects.visible_to(request.user).overdue(today).count(),
    }
    return render(request, "privacy/request_list.html", context)


@login_required
@permission_required("members.view_member", raise_exception=True)
def request_create(request, member_pk):
    """Record a request of the person of a record the user may change."""
    member = get_object_or_404(Member.objects.visible_to(request.user), pk=member_pk)
    if not Member.objects.editable_by(request.user).filter(pk=member.pk).exists():
        raise PermissionDenied
    form = PersonRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made = form_write(
            request,
            form,
            lambda: services.request_record(
                actor=request.user, member=member, data=form.cleaned_data, request=request
            ),
            done=_("The request was recorded."),
        )
        if made:
            return redirect("privacy:request", pk=made.pk)
    return render(
        request,
        "privacy/request_form.html",
        {"form": form, "member": member, "working_days": settings.PERSON_REQUEST_WORKING_DAYS},
    )


@require_GET
@login_required
@permission_required("members.view_member", raise_exception=True)
def request_detail(request, pk):
    """One request: what she asks, its deadline, the copies made for it, the changes made
    under it (a request to correct), and for whoever keeps it, what can be done next."""
    person_request = _late(_visible_request(request, pk), timezone.localdate())
    editable = PersonRequest.objects.editable_by(request.user).filter(pk=pk).exists()
    is_open = person_request.state == PersonRequest.State.OPEN
    context = {
        "item": person_request,
        "member": person_request.member,
        "copies": person_request.copies.select_related("produced_by"),
        "corrections": _corrections(person_request),
        "may_keep": editable,
        "may_answer": editable and is_open,
        "correct_url": (
            reverse("members:update", args=[person_request.member_id])
            + "?"
            + urlencode({"reason": f"{REASON_KEY}:{person_request.pk}"})
        )
        if editable and is_open and person_request.kind == PersonRequest.Kind.CORRECT
        else "",
        "formats": RequestCopy.Format.choices,
    }
    return render(request, "privacy/request_detail.html", context)


def _corrections(person_request: PersonRequest) -> list[dict]:
    """The changes made under a request to correct, each with the fields it changed."""
    labels = change_labels()
    return [
        {
            "change": change,
            "fields": "、".join(
                str(labels.get(row.get("field"), row.get("field")))
                for row in change.changes
                if isinstance(row, dict)
            ),
        }
        for change in services.request_corrections(person_request).select_related("actor")
    ]


def _close_view(request, pk, *, refusal: bool):
    person_request = _editable_request(request, pk)
    if person_request.state != PersonRequest.State.OPEN:
        messages.error(request, _("This request was already answered."))
        return redirect("privacy:request", pk=pk)
    form = RequestAnswerForm(request.POST or None, refusal=refusal)
    if request.method == "POST" and form.is_valid() and "back" not in request.POST:
        data = form.cleaned_data
        if "confirmed" not in request.POST:
            # Once answered, a request is closed: the answer is shown once more first.
            return _close_confirm(request, person_request, data, refusal=refusal)
        if refusal:
            write = lambda: services.request_refuse(  # noqa: E731
                actor=request.user, person_request=person_request, reasons=data["answer"],
                answered_on=data["answered_on"], request=request,
            )  # fmt: skip
        else:
            write = lambda: services.request_answer(  # noqa: E731
                actor=request.user, person_request=person_request, answer=data["answer"],
                answered_on=data["answered_on"], request=request,
            )  # fmt: skip
        done = _("The refusal was recorded.") if refusal else _("The answer was recorded.")
        if form_write(request, form, write, done=done):
            return redirect("privacy:request", pk=pk)
    return render(
        request,
        "privacy/request_answer.html",
        {
            "form": form,
            "item": person_request,
            "refusal": refusal,
            "corrections": _corrections(person_request),
        },
    )


def _close_confirm(request, person_request: PersonRequest, data: dict, *, refusal: bool):
    answered_on = data["answered_on"]
    rows = [
        (_("Request"), str(person_request)),
        (_("Member"), person_request.member.name),
        (_("What she asks"), person_request.asks),
        (_("Reasons for the refusal") if refusal else _("Answer"), data["answer"] or "—"),
        (_("Answered on"), answered_on.isoformat()),
    ]
    late = (answered_on - person_request.due_on).days
    happens = [
        _("The request is refused and closed: it can no longer be answered or refused.")
        if refusal
        else _("The request is answered and closed: it can no longer be answered or refused."),
        _("The answer is written to the audit log, with whether it came late."),
    ]
    if late > 0:
        happens.append(
            ngettext(
                "It is answered %(days)s day after its deadline.",
                "It is answered %(days)s days after its deadline.",
                late,
            )
            % {"days": late}
        )
    return confirm_page(
        request,
        heading=_("Refuse the request") if refusal else _("Answer the request"),
        rows=rows,
        happens=happens,
        button=_("Refuse the request") if refusal else _("Record the answer"),
        back_url=reverse("privacy:request", args=[person_request.pk]),
        hidden=[("answer", data["answer"]), ("answered_on", answered_on.isoformat())],
        back_posts=True,
    )


@login_required
@permission_required("members.view_member", raise_exception=True)
def request_answer(request, pk):
    """Answer a request; a request to correct lists the changes made under it."""
    return _close_view(request, pk, refusal=False)


@login_required
@permission_required("members.view_member", raise_exception=True)
def request_refuse(request, pk):
    """Refuse a request, with the reasons she is given."""
    return _close_view(request, pk, refusal=True)


@require_POST
@login_required
@permission_required("members.view_member", raise_exception=True)
def request_copy(request, pk):
    """Her record's full content as a file for her: produced, hashed, recorded, audited,
    and handed over; the file itself is not kept."""
    person_request = _editable_request(request, pk)
    file_format = request.POST.get("format", "")
    if file_format not in RequestCopy.Format.values:
        messages.error(request, _("Choose the copy's format."))
        return redirect("privacy:request", pk=pk)
    made, data = services.copy_produce(
        actor=request.user, person_request=person_request, file_format=file_format,
        request=request,
    )  # fmt: skip
    content_type = (
        "application/pdf"
        if file_format == RequestCopy.Format.PDF
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"个人信息副本_{person_request.member.name}_{person_request.pk}.{file_format}"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=file_format == RequestCopy.Format.XLSX, filename=name
    )
    response["Cache-Control"] = "private, no-store"
    return response


# -- On a member's page (members.views.member_section_register) and her edit page
# (members.views.edit_reason_register) --------------------------------------------------------

REASON_KEY = "person_request"


def member_requests(member: Member, user):
    """Her requests on her page, the open ones with their deadline; the button to record one
    for whoever may change her record. None when there is nothing to show."""
    if not user.has_perm("members.view_member"):
        return None
    today = timezone.localdate()
    requests = (
        PersonRequest.objects.visible_to(user).filter(member=member).order_by("-received_on", "-id")
    )
    requests = [_late(item, today) for item in requests]
    may_record = Member.objects.editable_by(user).filter(pk=member.pk).exists()
    if not requests and not may_record:
        return None
    return MemberSection(
        template="privacy/member_requests.html",
        context={"requests": requests, "member": member, "may_record": may_record},
    )


def correction_reason(user, member: Member, value: str):
    """The edit page opened from an open request to correct this member's record."""
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        return None
    person_request = (
        PersonRequest.objects.editable_by(user)
        .open()
        .filter(pk=int(value), member=member, kind=PersonRequest.Kind.CORRECT)
        .first()
    )
    if person_request is None:
        return None
    return EditReason(
        source=services.request_source(person_request),
        label=str(person_request),
        back_url=reverse("privacy:request", args=[person_request.pk]),
    )
