import datetime
from decimal import Decimal
from html import escape as html_escape

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import (
    CreateView,
    DetailView,
    ListView,
    TemplateView,
    UpdateView,
)

from activities.models import Activity, Need, Visit
from members.views import XLSX
from tongzhan import spreadsheets as xlsx
from tongzhan.attachments import attachment_response
from tongzhan.audit import audit_record
from tongzhan.dates import local_midnight
from tongzhan.mixins import ServiceFormMixin, action_write, confirm_page, form_write
from tongzhan.models import Area, AuditEvent, User
from tongzhan.scoping import enclosing_area_ids, visible_area_ids, within_area

from . import services, todo
from . import services as report_services
from .forms import (
    AttendanceForm,
    MaterialForm,
    MaterialSearchForm,
    NoticeForm,
    NoticeListFilter,
    NoticeReplyForm,
    ReportDecisionForm,
    ReportFilterForm,
    ReportForm,
    ReportPeriodForm,
    TaskCopyFilterForm,
    TaskForm,
    TaskReportForm,
    TaskReturnForm,
    TrainingForm,
    WithdrawForm,
)
from .models import (
    Attendance,
    Material,
    MaterialRead,
    Notice,
    NoticeCopy,
    Report,
    Task,
    TaskCopy,
    TaskCopyQuerySet,
    Training,
)

# -- Notices (通知公告) ----------------------------------------------------------------------


class NoticeListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """收到的通知: the copies of notices sent to the user's area (a street: to its
    communities) from above; 发出的通知: what the user's area and those below it sent, with
    how many communities have read and replied."""

    permission_required = "liaison.view_notice"
    template_name = "liaison/notice_list.html"
    context_object_name = "rows"
    paginate_by = 25

    @cached_property
    def can_send(self) -> bool:
        return services.notice_can_send(self.request.user) or self.request.user.sees_everything

    @cached_property
    def can_receive(self) -> bool:
        user = self.request.user
        return user.area_id is not None and user.role in (User.Role.COMMUNITY, User.Role.STREET)

    @cached_property
    def box(self) -> str:
        asked = self.request.GET.get("box")
        if asked == "sent" and self.can_send:
            return "sent"
        if asked == "received" and self.can_receive:
            return "received"
        # A street opens on what it sent: the district's notices to its communities are
        # theirs to read, the street only looks on.
        return "sent" if self.can_send else "received"

    @cached_property
    def filters(self):
        return NoticeListFilter(self.request.GET or None)

    @property
    def unread_only(self) -> bool:
        return self.filters.is_valid() and self.filters.cleaned_data["unread"]

    def get_queryset(self):
        user = self.request.user
        if self.box == "sent":
            notices = Notice.objects.sent_within(user)
            if self.unread_only:
                # Nobody owes reading a notice withdrawn.
                notices = notices.filter(withdrawn_at__isnull=True).filter(
                    Exists(NoticeCopy.objects.unread().filter(notice=OuterRef("pk")))
                )
            return (
                notices.select_related("area")
                .order_by("-sent_at", "-id")
                .annotate(
                    copy_count=Count("copies"),
                    read_count=Count("copies", filter=Q(copies__read_at__isnull=False)),
                    replied_count=Count("copies", filter=Q(copies__replied_at__isnull=False)),
                )
            )
        copies = NoticeCopy.objects.visible_to(user)
        ids = visible_area_ids(user)
        if ids is not None:
            # What the user's own area (or one below it) sent is in the other box.
            copies = copies.exclude(notice__area_id__in=ids)
        if self.unread_only:
            copies = copies.unread().filter(notice__withdrawn_at__isnull=True)
        return copies.select_related("notice", "notice__area", "area").order_by(
            "-notice_id", "area__code"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            box=self.box,
            can_send=services.notice_can_send(self.request.user),
            show_tabs=self.can_send and self.can_receive,
            filters=self.filters,
            query_without_page=query.urlencode(),
            today=timezone.localdate(),
        )
        return context


class NoticeCreateView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Notice
    form_class = NoticeForm
    template_name = "liaison/notice_form.html"
    permission_required = "liaison.add_notice"
    success_message = gettext_lazy("The notice was sent.")
    success_url_name = "liaison:notice_status"

    def has_permission(self):
        # Sent from one's own area: district and street staff, not an administrator.
        return super().has_permission() and services.notice_can_send(self.request.user)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def write(self, form):
        return services.notice_send(
            actor=self.request.user,
            data=form.service_data(),
            area=form.cleaned_data["area"],
            communities=form.cleaned_data["communities"],
            uploads=form.cleaned_data["files"],
            request=self.request,
        )


def _own_copy(user, notice: Notice) -> NoticeCopy | None:
    """The copy of the user's own area, the one the user reads and answers."""
    if user.area_id is None:
        return None
    return notice.copies.filter(area_id=user.area_id).select_related("read_by").first()


class NoticeDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """A notice; opening it as a user of a receiving community records that it was read."""

    permission_required = "liaison.view_notice"
    template_name = "liaison/notice_detail.html"
    context_object_name = "notice"

    def get_queryset(self):
        return Notice.objects.visible_to(self.request.user).select_related("area", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        notice, user = self.object, self.request.user
        copy = _own_copy(user, notice)
        if copy is not None:
            services.notice_read(actor=user, copy=copy)
        context.update(
            copy=copy,
            files=notice.files.all(),
            reply_form=NoticeReplyForm()
            if copy is not None and copy.reply_owed and user.has_perm("liaison.change_noticecopy")
            else None,
            can_follow=user.has_perm("liaison.add_notice"),
            may_withdraw=services.notice_may_withdraw(user, notice),
            today=timezone.localdate(),
        )
        return context


@require_POST
@login_required
@permission_required("liaison.change_noticecopy", raise_exception=True)
def notice_reply(request, pk):
    notice = get_object_or_404(Notice.objects.visible_to(request.user), pk=pk)
    copy = _own_copy(request.user, notice)
    if copy is None:
        raise PermissionDenied
    form = NoticeReplyForm(request.POST)
    if form.is_valid():
        action_write(
            request,
            lambda: services.notice_reply(
                actor=request.user, copy=copy, text=form.cleaned_data["reply"], request=request
            ),
            done=_("Your reply was sent."),
        )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("liaison:notice_detail", pk=notice.pk)


class NoticeStatusView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """Who of the receiving communities (those in the user's area) has read and replied."""

    permission_required = "liaison.add_notice"
    template_name = "liaison/notice_status.html"
    context_object_name = "notice"

    def get_queryset(self):
        return Notice.objects.visible_to(self.request.user).select_related("area", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        notice, user = self.object, self.request.user
        copies = list(
            NoticeCopy.objects.visible_to(user)
            .filter(notice=notice)
            .select_related("area", "area__parent", "read_by", "replied_by")
            .order_by("area__code")
        )
        for copy in copies:
            copy.notice = notice
        today = timezone.localdate()
        # A district's notice reaches many streets: each street's tally first.
        by_street = {}
        for copy in copies:
            street = copy.area.parent
            tally = by_street.setdefault(
                street.pk, {"street": street, "all": 0, "read": 0, "replied": 0}
            )
            tally["all"] += 1
            tally["read"] += copy.read_at is not None
            tally["replied"] += copy.replied_at is not None
        context.update(
            copies=copies,
            by_street=list(by_street.values()) if len(by_street) > 1 else [],
            counts={
                "all": len(copies),
                "read": sum(1 for copy in copies if copy.read_at),
                "replied": sum(1 for copy in copies if copy.replied_at),
                "overdue": sum(1 for copy in copies if copy.is_overdue(today)),
            },
            can_remind=services.notice_can_remind(user, notice),
            today=today,
        )
        return context


@require_POST
@login_required
@permission_required("liaison.add_notice", raise_exception=True)
def notice_remind(request, pk):
    notice = get_object_or_404(
        Notice.objects.visible_to(request.user).select_related("area"), pk=pk
    )
    reminded = action_write(
        request, lambda: services.notice_remind(actor=request.user, notice=notice, request=request)
    )
    if reminded:
        messages.success(
            request,
            _("%(count)s communities that have not read it were reminded.") % {"count": reminded},
        )
    return redirect("liaison:notice_status", pk=notice.pk)


_FINAL = gettext_lazy("This cannot be undone.")


def _count(number: int) -> str:
    """A number of areas, with its measure word (3 个)."""
    return ngettext("%(count)s area", "%(count)s areas", number) % {"count": number}


def _withdrawal(request, *, form, write, done, back_url, **page):
    """GET: what withdrawing does, and the reason to give; POST: withdraw."""
    if (
        request.method == "POST"
        and form.is_valid()
        and form_write(request, form, lambda: write(form.cleaned_data["reason"]), done=done)
    ):
        return redirect(back_url)
    return confirm_page(request, form=form, back_url=back_url, **page)


@login_required
@permission_required("liaison.add_notice", raise_exception=True)
def notice_withdraw(request, pk):
    """Take back (撤回) a notice the user's area sent."""
    notice = get_object_or_404(
        Notice.objects.visible_to(request.user).select_related("area"), pk=pk
    )
    if not services.notice_may_withdraw(request.user, notice):
        raise PermissionDenied
    back_url = reverse("liaison:notice_detail", args=[notice.pk])
    if notice.is_withdrawn:
        messages.info(request, _("The notice was already withdrawn."))
        return redirect(back_url)
    copies = notice.copies.count()
    return _withdrawal(
        request,
        form=WithdrawForm(request.POST or None),
        write=lambda reason: services.notice_withdraw(
            actor=request.user, notice=notice, reason=reason, request=request
        ),
        done=_("The notice was withdrawn."),
        back_url=back_url,
        heading=_("Withdraw the notice"),
        rows=[
            (_("Title"), notice.title),
            (_("Sent at"), f"{timezone.localtime(notice.sent_at):%Y-%m-%d %H:%M}"),
            (_("Receiving communities"), _count(copies)),
        ],
        happens=[
            ngettext(
                "%(count)s receiving community no longer owes reading or a reply.",
                "%(count)s receiving communities no longer owe reading or a reply.",
                copies,
            )
            % {"count": copies},
            _("They still see the notice, marked withdrawn, with your reason."),
            _FINAL,
            _("If it is needed again, send a new notice."),
        ],
        button=_("Withdraw the notice"),
    )


@require_GET
@login_required
@permission_required("liaison.view_notice", raise_exception=True)
def notice_file(request, pk, file_pk):
    """A file of a notice the user may see; never served from a public URL."""
    notice = get_object_or_404(Notice.objects.visible_to(request.user), pk=pk)
    attached = get_object_or_404(notice.files, pk=file_pk)
    return attachment_response(attached)


# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------
# Every query starts from `visible_to`: out of scope is 404; the right missing, 403.
# Rows a page of the supervision list across tasks shows.
TASK_SUPERVISION_PAGE = 50


_OPEN = TaskCopyQuerySet.OPEN
_STATE_ORDER = Case(
    *(When(state=state, then=Value(rank)) for state, rank in TaskCopy.ORDER.items()),
    output_field=IntegerField(),
)
# ?sort= on the supervision tables: the column, "-" in front for the other way round.
_TASK_SORTS = {
    "area": [F("area__code").asc(), "id"],
    "state": [_STATE_ORDER.asc(), "area__code"],
    # Open copies by their deadline (fewest days left first), then the finished ones.
    "days": [
        Case(When(state__in=_OPEN, then=Value(0)), default=Value(1)).asc(),
        F("task__deadline").asc(),
        "area__code",
    ],  # fmt: skip
    "holder": [
        F("holder__last_name").asc(nulls_last=True),
        F("holder__first_name").asc(nulls_last=True),
        F("holder__username").asc(nulls_last=True),
        "area__code",
    ],  # fmt: skip
    "reported": [F("reported_at").asc(nulls_last=True), "area__code"],
    "task": [F("task__created_at").desc(), "area__code"],
}


def _descending(order):
    if isinstance(order, str):
        return f"-{order}" if order != "id" else "-id"
    return order.copy().reverse_ordering() if hasattr(order, "reverse_ordering") else order


def _task_sorted(copies, sort: str):
    key = sort.lstrip("-")
    if key not in _TASK_SORTS:
        key, sort = "area", "area"
    orders = _TASK_SORTS[key]
    if sort.startswith("-"):
        orders = [_descending(order) for order in orders]
    return copies.order_by(*orders), sort


_IN_PROGRESS_NOT_RETURNED = Q(state=TaskCopy.State.IN_PROGRESS, returned_reason="")


def _task_filtered(copies, state: str, today):
    if state == "returned":
        return copies.filter(state=TaskCopy.State.IN_PROGRESS).exclude(returned_reason="")
    if state == TaskCopy.State.IN_PROGRESS:
        return copies.filter(_IN_PROGRESS_NOT_RETURNED)
    if state == "overdue":
        return copies.overdue(today)
    if state in TaskCopy.State.values:
        return copies.filter(state=state)
    return copies


def _task_counts(copies, today) -> dict:
    """How many copies in each state, returned and overdue: one query."""
    return copies.aggregate(
        total=Count("id"),
        # 已退回 is a card of its own: 办理中 counts those not sent back, so the cards add up.
        **{
            state: Count(
                "id",
                filter=_IN_PROGRESS_NOT_RETURNED
                if state == TaskCopy.State.IN_PROGRESS
                else Q(state=state),
            )
            for state in TaskCopy.State.values
        },
        returned=Count("id", filter=Q(state=TaskCopy.State.IN_PROGRESS) & ~Q(returned_reason="")),
        overdue=Count("id", filter=TaskCopyQuerySet.is_overdue(today)),
    )


def _task_filters(request) -> tuple[TaskCopyFilterForm, dict]:
    form = TaskCopyFilterForm(request.GET)
    form.is_valid()
    return form, {name: form.cleaned_data.get(name) or "" for name in ("state", "area", "sort")}


def _with_days(copy, today):
    """`days` left (negative past the deadline, None once done) and `days_overdue`."""
    copy.days = copy.days_left(today)
    copy.days_overdue = -copy.days if copy.days is not None and copy.days < 0 else 0
    copy.overdue = bool(copy.days_overdue)
    return copy


def _task_rows(copies, today) -> list[TaskCopy]:
    return [_with_days(copy, today) for copy in copies]


def _task_query(params: dict, **changes) -> str:
    from urllib.parse import urlencode

    merged = {**params, **changes}
    return urlencode({name: value for name, value in merged.items() if value})


class TaskListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """The tasks an area received (its copies) or sent (with how far their copies are)."""

    permission_required = "liaison.view_task"
    template_name = "liaison/task_list.html"
    context_object_name = "rows"
    paginate_by = 25

    @property
    def box(self) -> str:
        box = self.request.GET.get("box")
        if box in ("received", "sent"):
            return box
        return "sent" if services.task_may_send(self.request.user) else "received"

    def get_queryset(self):
        user, today = self.request.user, timezone.localdate()
        if self.box == "received":
            if user.area_id is None:
                return TaskCopy.objects.none()
            return (
                TaskCopy.objects.filter(area_id=user.area_id)
                .with_overdue(today)
                .select_related("task", "task__area", "holder")
                .order_by(Case(When(state__in=_OPEN, task__withdrawn_at__isnull=True,
                                    then=Value(0)), default=Value(1)),
                          "task__deadline", "-id")
            )  # fmt: skip
        counts = {
            "copy_count": Count("copies"),
            "finished_count": Count("copies", filter=Q(copies__state__in=["done", "approved"])),
            "approved_count": Count("copies", filter=Q(copies__state="approved")),
            "overdue_count": Count(
                "copies",
                filter=Q(copies__state__in=_OPEN, deadline__lt=today, withdrawn_at__isnull=True),
            ),
        }
        return (
            Task.objects.sent_within(user)
            .select_related("area")
            .annotate(**counts)
            .order_by("-created_at", "-id")
        )

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "box": self.box,
            "today": timezone.localdate(),
            "may_send": services.task_may_send(self.request.user),
            "query_without_page": f"box={self.box}",
        }


class TaskCreateView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Task
    form_class = TaskForm
    template_name = "liaison/task_form.html"
    permission_required = "liaison.add_task"
    success_message = gettext_lazy("The task was sent.")
    success_url_name = "liaison:task_detail"

    def has_permission(self):
        # A district's or street's worker: the task goes out from their area.
        return services.task_may_send(self.request.user)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def write(self, form):
        data = {name: form.cleaned_data[name] for name in ("title", "body", "deadline")}
        return services.task_send(
            actor=self.request.user,
            data=data,
            recipients=form.cleaned_data["recipients"],
            uploads=form.cleaned_data["files"],
            request=self.request,
        )


def _task_supervision(request, task):
    """The task's copies the user sees, filtered and sorted as asked, and their counts."""
    today = timezone.localdate()
    form, params = _task_filters(request)
    copies = TaskCopy.objects.filter(task=task)
    ids = visible_area_ids(request.user)
    if ids is not None and task.area_id not in ids:
        # A task sent from above the user's area: the copies of their areas. One sent from
        # within it shows every copy (`TaskCopyQuerySet.visible_to`), without its ~240 area
        # ids twice in each query for a district.
        copies = copies.filter(area_id__in=ids)
    counts = _task_counts(copies, today)
    shown, sort = _task_sorted(
        _task_filtered(copies, params["state"], today).select_related(
            "area", "merged_from", "holder"
        ),
        params["sort"],
    )
    rows = list(shown)
    for copy in rows:
        copy.task = task  # one task: not looked up again per row
    return form, {**params, "sort": sort}, counts, _task_rows(rows, today)


class TaskDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """The task and its supervision table (督办表): a row per receiving area."""

    permission_required = "liaison.view_task"
    template_name = "liaison/task_detail.html"
    context_object_name = "task"

    def get_queryset(self):
        return Task.objects.visible_to(self.request.user).select_related("area", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form, params, counts, rows = _task_supervision(self.request, self.object)
        columns = [
            ("area", _("Area")),
            ("state", _("State")),
            ("days", _("Days left")),
            ("holder", _("Held by")),
            ("reported", _("Reported")),
        ]
        context.update(
            filters=form,
            params=params,
            counts=counts,
            rows=rows,
            files=self.object.files.filter(copy=None),
            columns=[
                {
                    "key": key,
                    "label": label,
                    "query": _task_query(params, sort=f"-{key}" if params["sort"] == key else key),
                    "current": params["sort"].lstrip("-") == key,
                    "descending": params["sort"].startswith("-"),
                }
                for key, label in columns
            ],
            export_query=_task_query(params),
            rows_html=_supervision_html(rows, with_task=False),
            may_withdraw=services.task_may_withdraw(self.request.user, self.object),
        )
        return context


_HEADING = xlsx.Style(bold=True, border=True, horizontal="center", vertical="center")
_CELL = xlsx.Style(border=True, vertical="center", wrap=True)


def _days_text(copy) -> str:
    """Days left or overdue for an open copy; how a finished one kept the deadline."""
    if copy.days is None:
        if copy.completed_on and copy.completed_on > copy.task.deadline:
            return _("Done %(days)s days late") % {
                "days": (copy.completed_on - copy.task.deadline).days
            }
        return _("Done on time") if copy.completed_on else ""
    if copy.days < 0:
        return ngettext("%(days)s day overdue", "%(days)s days overdue", -copy.days) % {
            "days": -copy.days
        }
    if copy.days == 0:
        return _("due today")
    return ngettext("%(days)s day left", "%(days)s days left", copy.days) % {"days": copy.days}


def _holder_name(copy) -> str:
    return (copy.holder.get_full_name() or copy.holder.username) if copy.holder else ""


def _supervision_html(rows, *, with_task: bool) -> str:
    """The supervision table's rows, written here rather than by the template engine: a
    district's task goes to 200 communities, and 200 rows of template includes took longer
    than the page may (issue 16 asks for 150 ms at the 95th percentile). Plain strings, each
    text escaped once and one address reversed for all rows: `format_html` per cell took
    about 25 ms of CPU for 200 rows (benchmarks/liaison_pages.py)."""
    labels = {
        "area": _("Area"), "state": _("State"), "days": _("Days left"),
        "holder": _("Held by"), "reported": _("Reported"), "overdue": _("overdue"),
    }  # fmt: skip
    labels = {key: html_escape(label) for key, label in labels.items()}
    returned = html_escape(_("Returned"))
    states = {value: html_escape(label) for value, label in TaskCopy.State.choices}
    badge = f' <span class="badge overdue">{labels["overdue"]}</span>'
    # The copies' addresses differ only in the copy's id.
    url_head, _zero, url_tail = reverse("liaison:task_copy", args=[0]).rpartition("/0/")
    html = []
    for copy in rows:
        url = html_escape(f"{url_head}/{copy.pk}/{url_tail}")
        area = copy.area.name
        if copy.merged_from_id:
            area = _("%(area)s (formerly %(old)s)") % {"area": area, "old": copy.merged_from.name}
        if with_task:
            first = (
                f'<td class="title"><a href="{url}">{html_escape(copy.task.title)}</a></td>'
                f'<td data-label="{labels["area"]}">{html_escape(area)}</td>'
            )
        else:
            first = f'<td class="title"><a href="{url}">{html_escape(area)}</a></td>'
        state = "returned" if copy.is_returned else copy.state
        reported = (
            timezone.localtime(copy.reported_at).strftime("%Y-%m-%d") if copy.reported_at else "—"
        )  # noqa: E501
        html.append(
            f'<tr class="{"overdue" if copy.overdue else ""}">{first}'
            f'<td data-label="{labels["state"]}"><span class="status task-{html_escape(state)}">'
            f"{returned if copy.is_returned else states[copy.state]}</span>"
            f"{badge if copy.overdue else ''}</td>"
            f'<td data-label="{labels["days"]}">{html_escape(_days_text(copy) or "—")}</td>'
            f'<td data-label="{labels["holder"]}">{html_escape(_holder_name(copy) or "—")}</td>'
            f'<td data-label="{labels["reported"]}">{reported}</td></tr>'
        )
    return mark_safe("\n".join(html))  # noqa: S308 (every text above is escaped)


@login_required
@permission_required("liaison.view_task", raise_exception=True)
def task_export(request, pk):
    """The supervision table as shown (filter and order), as an .xlsx of text cells."""
    task = get_object_or_404(Task.objects.visible_to(request.user).select_related("area"), pk=pk)
    _form, params, _counts, rows = _task_supervision(request, task)
    book = xlsx.Book()
    sheet = book.sheet(
        _("Supervision"), widths={1: 24, 2: 12, 3: 16, 4: 14, 5: 18, 6: 40}, freeze="A4",
        title_rows=(3, 3),
    )  # fmt: skip
    sheet.merge(1, 1, 1, 6)
    sheet.write(1, 1, _("Supervision table: %(task)s") % {"task": task.title},
                xlsx.Style(bold=True, size=14, horizontal="center"))  # fmt: skip
    sheet.merge(2, 1, 2, 6)
    sheet.write(2, 1, _("Sent by %(area)s · deadline %(deadline)s · as of %(today)s") % {
        "area": task.area.name, "deadline": task.deadline.isoformat(),
        "today": timezone.localdate().isoformat(),
    })  # fmt: skip
    headings = [_("Area"), _("State"), _("Days left"), _("Held by"), _("Reported"), _("Report")]
    for column, heading in enumerate(headings, 1):
        sheet.write(3, column, heading, _HEADING)
    for copy in rows:
        area = copy.area.name
        if copy.merged_from_id:
            area = _("%(area)s (formerly %(old)s)") % {"area": area, "old": copy.merged_from.name}
        holder = _holder_name(copy)
        reported = (
            timezone.localtime(copy.reported_at).strftime("%Y-%m-%d") if copy.reported_at else ""
        )  # noqa: E501
        sheet.append([
            xlsx.text(area, _CELL), xlsx.text(str(copy.state_label), _CELL),
            xlsx.text(_days_text(copy), _CELL), xlsx.text(holder, _CELL),
            xlsx.text(reported, _CELL), xlsx.text(copy.report, _CELL),
        ])  # fmt: skip
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=task,
        request=request,
        detail={"report": "task_supervision", "state": params["state"], "rows": len(rows)},
    )
    response = HttpResponse(book.bytes(), content_type=XLSX)
    name = f"督办表_{task.title}_{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


class TaskSupervisionView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Every copy the user sees, across tasks: the supervision of one area (?area=code, a
    street takes in its communities) or of all, filtered by state and sortable."""

    permission_required = "liaison.view_taskcopy"
    template_name = "liaison/task_supervision.html"
    context_object_name = "rows"
    paginate_by = TASK_SUPERVISION_PAGE

    def get_queryset(self):
        user, today = self.request.user, timezone.localdate()
        self.filters, self.params = _task_filters(self.request)
        # A withdrawn task is supervised no more; its own table still shows its copies.
        copies = TaskCopy.objects.visible_to(user).filter(task__withdrawn_at__isnull=True)
        self.area = None
        if self.params["area"]:
            self.area = Area.objects.visible_to(user).filter(code=self.params["area"]).first()
            if self.area is None:
                raise Http404
            copies = copies.filter(within_area(self.area, "area"))
        self.counts = _task_counts(copies, today)
        copies, self.params["sort"] = _task_sorted(
            _task_filtered(copies, self.params["state"], today).select_related(
                "task", "task__area", "area", "merged_from", "holder"
            ),
            self.params["sort"] or "days",
        )
        return copies

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        for copy in context["rows"]:
            _with_days(copy, today)
        params = self.params
        columns = [
            ("task", _("Task")),
            ("area", _("Area")),
            ("state", _("State")),
            ("days", _("Days left")),
            ("holder", _("Held by")),
            ("reported", _("Reported")),
        ]
        context.update(
            filters=self.filters,
            params=params,
            counts=self.counts,
            area=self.area,
            columns=[
                {
                    "key": key,
                    "label": label,
                    "query": _task_query(params, sort=f"-{key}" if params["sort"] == key else key),
                    "current": params["sort"].lstrip("-") == key,
                    "descending": params["sort"].startswith("-"),
                }
                for key, label in columns
            ],
            query_without_page=_task_query(params),
            rows_html=_supervision_html(context["rows"], with_task=True),
        )
        return context


def _taskcopy_get(request, pk) -> TaskCopy:
    return get_object_or_404(
        TaskCopy.objects.visible_to(request.user).select_related(
            "task", "task__area", "task__created_by", "area", "merged_from", "holder",
            "reviewed_by",
        ),
        pk=pk,
    )  # fmt: skip


def _linked(user, copy) -> dict:
    """The records linked to the copy that the viewer sees, and how many others."""
    linked = {}
    for name, model in (("activities", Activity), ("visits", Visit), ("needs", Need)):
        ids = list(getattr(copy, name).values_list("pk", flat=True))
        shown = list(model.objects.visible_to(user).filter(pk__in=ids)) if ids else []
        linked[name] = shown
        linked[f"{name}_elsewhere"] = len(ids) - len(shown)
    return linked


def _taskcopy_page(request, copy, *, return_form=None, status=200):
    user = request.user
    may_answer = services.taskcopy_may_answer(user, copy)
    may_review = services.taskcopy_may_review(user, copy)
    files = list(copy.task.files.all())
    context = {
        "copy": _with_days(copy, timezone.localdate()),
        "days_text": _days_text(copy),
        "task": copy.task,
        "task_files": [f for f in files if f.copy_id is None],
        "copy_files": [f for f in files if f.copy_id == copy.pk],
        "events": copy.events.select_related("actor"),
        "may_answer": may_answer,
        "may_review": may_review,
        "return_form": return_form
        or (
            TaskReturnForm()
            if may_review and copy.state == TaskCopy.State.DONE and not copy.task.is_withdrawn
            else None
        ),
        **_linked(user, copy),
    }
    return render(request, "liaison/task_copy_detail.html", context, status=status)


@login_required
@permission_required("liaison.view_taskcopy", raise_exception=True)
def task_copy_detail(request, pk):
    """One area's copy: the task, its state, report and links, the actions, its history."""
    return _taskcopy_page(request, _taskcopy_get(request, pk))


def _taskcopy_action(request, pk, *, allowed, write, done):
    copy = _taskcopy_get(request, pk)
    if not allowed(request.user, copy):
        raise PermissionDenied
    action_write(request, lambda: write(actor=request.user, copy=copy, request=request), done=done)
    return redirect("liaison:task_copy", pk=copy.pk)


@require_POST
@login_required
@permission_required("liaison.change_taskcopy", raise_exception=True)
def task_copy_receive(request, pk):
    return _taskcopy_action(
        request, pk, allowed=services.taskcopy_may_answer,
        write=services.taskcopy_receive, done=_("The task was received."),
    )  # fmt: skip


@require_POST
@login_required
@permission_required("liaison.change_taskcopy", raise_exception=True)
def task_copy_start(request, pk):
    return _taskcopy_action(
        request, pk, allowed=services.taskcopy_may_answer,
        write=services.taskcopy_start, done=_("The task is in progress."),
    )  # fmt: skip


@require_POST
@login_required
@permission_required("liaison.review_taskcopy", raise_exception=True)
def task_copy_approve(request, pk):
    """审核 is final: the button first shows what approving does, then approves."""
    if request.POST.get("confirmed"):
        return _taskcopy_action(
            request, pk, allowed=services.taskcopy_may_review,
            write=services.taskcopy_approve, done=_("The report was approved."),
        )  # fmt: skip
    copy = _taskcopy_get(request, pk)
    if not services.taskcopy_may_review(request.user, copy):
        raise PermissionDenied
    if copy.state != TaskCopy.State.DONE or copy.task.is_withdrawn:
        messages.error(request, _("Only a task reported done is approved."))
        return redirect("liaison:task_copy", pk=copy.pk)
    reported = timezone.localtime(copy.reported_at)
    on_time = reported.date() <= copy.task.deadline
    return confirm_page(
        request,
        heading=_("Approve the report"),
        rows=[
            (_("Task"), copy.task.title),
            (_("Receiving area"), copy.area.name),
            (_("Deadline"), f"{copy.task.deadline:%Y-%m-%d}"),
            (_("Reported"), f"{reported:%Y-%m-%d %H:%M}"),
            (_("Report"), copy.report),
        ],
        happens=[
            _("The copy is approved (已审核): %(area)s's work on this task is closed.")
            % {"area": copy.area.name},
            _("In the assessment it counts as done on time.")
            if on_time
            else _("In the assessment it counts as done late: it was reported after the deadline."),
            _("Once a copy is approved, the task can no longer be withdrawn."),
            _FINAL,
            _("If the work is not right, go back and send it back with the reason instead."),
        ],
        button=_("Approve"),
        back_url=reverse("liaison:task_copy", args=[copy.pk]),
    )


@require_POST
@login_required
@permission_required("liaison.review_taskcopy", raise_exception=True)
def task_copy_return(request, pk):
    """退回: without its reason the copy's page shows the form again."""
    copy = _taskcopy_get(request, pk)
    if not services.taskcopy_may_review(request.user, copy):
        raise PermissionDenied
    form = TaskReturnForm(request.POST)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: services.taskcopy_return(
            actor=request.user, copy=copy, reason=form.cleaned_data["reason"], request=request
        ),
        done=_("The task was sent back."),
    ):
        return redirect("liaison:task_copy", pk=copy.pk)
    return _taskcopy_page(request, _taskcopy_get(request, pk), return_form=form)


@login_required
@permission_required("liaison.add_task", raise_exception=True)
def task_withdraw(request, pk):
    """Take back (撤回) a task the user's area sent, while no copy is approved."""
    task = get_object_or_404(Task.objects.visible_to(request.user).select_related("area"), pk=pk)
    if not services.task_may_withdraw(request.user, task):
        raise PermissionDenied
    back_url = reverse("liaison:task_detail", args=[task.pk])
    if task.is_withdrawn:
        messages.info(request, _("The task was already withdrawn."))
        return redirect(back_url)
    counts = _task_counts(TaskCopy.objects.filter(task=task), timezone.localdate())
    if counts[TaskCopy.State.APPROVED]:
        messages.error(
            request,
            ngettext(
                "The work of %(count)s area was approved already: a task with approved work "
                "is not withdrawn.",
                "The work of %(count)s areas was approved already: a task with approved work "
                "is not withdrawn.",
                counts[TaskCopy.State.APPROVED],
            )
            % {"count": counts[TaskCopy.State.APPROVED]},
        )
        return redirect(back_url)
    return _withdrawal(
        request,
        form=WithdrawForm(request.POST or None),
        write=lambda reason: services.task_withdraw(
            actor=request.user, task=task, reason=reason, request=request
        ),
        done=_("The task was withdrawn."),
        back_url=back_url,
        heading=_("Withdraw the task"),
        rows=[
            (_("Title"), task.title),
            (_("Deadline"), f"{task.deadline:%Y-%m-%d}"),
            (_("Receiving areas"), _count(counts["total"])),
            (pgettext_lazy("of a task", "Done"), _count(counts[TaskCopy.State.DONE])),
        ],
        happens=[
            ngettext(
                "%(count)s receiving area owes nothing more on it; its work and history are "
                "kept, marked withdrawn, with your reason.",
                "%(count)s receiving areas owe nothing more on it; their work and history are "
                "kept, marked withdrawn, with your reason.",
                counts["total"],
            )
            % {"count": counts["total"]},
            _("It is no longer overdue anywhere, and the assessment leaves it out."),
            _FINAL,
            _("If it is needed again, send a new task."),
        ],
        button=_("Withdraw the task"),
    )


@login_required
@permission_required("liaison.change_taskcopy", raise_exception=True)
def task_copy_report(request, pk):
    """The receiving area reports its copy done: text, links, files."""
    copy = _taskcopy_get(request, pk)
    if not services.taskcopy_may_answer(request.user, copy):
        raise PermissionDenied
    if copy.task.is_withdrawn:
        messages.error(request, _("The task was withdrawn: nothing more is done on it."))
        return redirect("liaison:task_copy", pk=copy.pk)
    if copy.state != TaskCopy.State.IN_PROGRESS:
        messages.error(request, _("Only a task in progress is reported."))
        return redirect("liaison:task_copy", pk=copy.pk)
    form = TaskReportForm(request.POST or None, request.FILES or None, user=request.user, copy=copy)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if form_write(
            request,
            form,
            lambda: services.taskcopy_report(
                actor=request.user,
                copy=copy,
                report=data["report"],
                activities=data["activities"],
                visits=data["visits"],
                needs=data["needs"],
                uploads=data["files"],
                completed_on=data["completed_on"],
                request=request,
            ),  # fmt: skip
            done=_("The task was reported done."),
        ):
            return redirect("liaison:task_copy", pk=copy.pk)
    return render(request, "liaison/task_report_form.html", {"form": form, "copy": copy})


@login_required
@permission_required("liaison.view_task", raise_exception=True)
def task_file(request, pk, file_pk):
    """A file of the task itself, to whoever sees the task; never from a public URL."""
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    return attachment_response(get_object_or_404(task.files, pk=file_pk, copy=None))


@login_required
@permission_required("liaison.view_taskcopy", raise_exception=True)
def task_copy_file(request, pk, file_pk):
    """A file of one area's report, to whoever sees that copy."""
    copy = _taskcopy_get(request, pk)
    return attachment_response(get_object_or_404(copy.files, pk=file_pk))


# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------


def _report_period(form: ReportPeriodForm):
    start, end = form.period()
    return local_midnight(start), local_midnight(end)


class ReportListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Reports received by the user's area (those awaiting a decision first), sent by it, or
    all the user sees; by kind, decision and a year or quarter of sending."""

    permission_required = "liaison.view_report"
    template_name = "liaison/report_list.html"
    context_object_name = "reports"
    paginate_by = 25
    BOXES = ("received", "sent", "all")

    @cached_property
    def box(self) -> str:
        user = self.request.user
        box = self.request.GET.get("box", "")
        if box in self.BOXES and (box == "all" or user.area_id):
            return box
        if user.area_id is None:
            return "all"
        return "received" if user.has_perm("liaison.decide_report") else "sent"

    @cached_property
    def filters(self) -> ReportFilterForm:
        form = ReportFilterForm(self.request.GET)
        form.is_valid()
        return form

    def get_queryset(self):
        user = self.request.user
        reports = Report.objects.visible_to(user).select_related("area", "to_area")
        if self.box == "received":
            reports = reports.filter(to_area_id=user.area_id)
        elif self.box == "sent":
            reports = reports.filter(area_id=user.area_id)
        if self.filters.errors:
            return reports.none()
        chosen = self.filters.cleaned_data
        if chosen.get("kind"):
            reports = reports.filter(kind=chosen["kind"])
        if chosen.get("decision") == Report.Decision.PENDING:
            reports = reports.pending()  # a withdrawn report awaits no decision
        elif chosen.get("decision"):
            reports = reports.filter(decision=chosen["decision"])
        if chosen.get("year"):
            start, end = _report_period(self.filters)
            reports = reports.filter(submitted_at__gte=start, submitted_at__lt=end)
        pending_first = Case(
            When(decision=Report.Decision.PENDING, withdrawn_at__isnull=True, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return reports.order_by(pending_first, "-submitted_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        query = self.request.GET.copy()
        query.pop("page", None)
        others = query.copy()
        others.pop("box", None)
        context.update(
            box=self.box,
            filters=self.filters,
            waiting=Report.objects.waiting_for(user).count(),
            may_send=user.has_perm("liaison.add_report") and _sends_reports(user),
            query_without_page=query.urlencode(),
            query_without_box=others.urlencode(),
        )
        return context


def _sends_reports(user) -> bool:
    return (
        user.is_authenticated
        and user.area_id is not None
        and user.area.level in (Area.Level.COMMUNITY, Area.Level.STREET)
    )


class ReportCreateView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, CreateView):
    """Send a report up from the user's community or street."""

    permission_required = "liaison.add_report"
    model = Report
    form_class = ReportForm
    template_name = "liaison/report_form.html"
    success_message = gettext_lazy("The report was sent.")
    success_url_name = "liaison:report_detail"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        # Reports go up from a community or a street; nobody else has an area to send from.
        if user.has_perm(self.permission_required) and not _sends_reports(user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        destinations = report_services.report_destinations(self.request.user.area)
        return {**super().get_form_kwargs(), "destinations": destinations}

    def write(self, form):
        data = {name: form.cleaned_data[name] for name in report_services.REPORT_FIELDS}
        return report_services.report_submit(
            actor=self.request.user,
            data=data,
            to_area=form.cleaned_data["to_area"],
            uploads=form.cleaned_data["files"],
            request=self.request,
        )


def _may_decide(user, report: Report) -> bool:
    return (
        user.has_perm("liaison.decide_report")
        and user.area_id is not None
        and user.area_id == report.to_area_id
    )


class ReportDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """A report, its files and its decision; the receiving area decides it here."""

    permission_required = "liaison.view_report"
    template_name = "liaison/report_detail.html"
    context_object_name = "report"

    def get_queryset(self):
        return Report.objects.visible_to(self.request.user).select_related(
            "area", "to_area", "submitted_by", "decided_by"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.object
        pending = report.decision == Report.Decision.PENDING and not report.is_withdrawn
        decidable = pending and _may_decide(self.request.user, report)
        context.update(
            files=report.files.all(),
            may_withdraw=pending and services.report_may_withdraw(self.request.user, report),
            decision_form=kwargs.get("decision_form")
            or (ReportDecisionForm() if decidable else None),
        )
        return context


def _report_decide_confirm(request, report, decision, comment):
    """The decision once more before it is saved: it is final, and the assessment counts it."""
    adopted = decision == Report.Decision.ADOPTED
    return confirm_page(
        request,
        heading=_("Adopt the report") if adopted else _("Do not adopt the report"),
        rows=[
            (_("Title"), report.title),
            (_("Sent from"), report.area.name),
            (_("Decision"), Report.Decision(decision).label),
            (_("Comment"), comment),
        ],
        happens=[
            _("%(area)s sees the decision and your comment.") % {"area": report.area.name},
            _("It counts for %(area)s in the assessment's reports adopted.")
            % {"area": report.area.name}
            if adopted
            else _("It does not count in the assessment's reports adopted."),
            _("A decision is final: it cannot be changed afterwards."),
        ],
        button=_("Adopt") if adopted else _("Do not adopt"),
        back_url=reverse("liaison:report_detail", args=[report.pk]),
        hidden=[("decision", decision), ("comment", comment)],
        # 返回修改 posts them back, so the choice and the comment are kept.
        back_posts=True,
    )


@login_required
@permission_required("liaison.add_report", raise_exception=True)
def report_withdraw(request, pk):
    """Take back (撤回) a report the user's area sent, before it is decided."""
    report = get_object_or_404(
        Report.objects.visible_to(request.user).select_related("area", "to_area"), pk=pk
    )
    if not services.report_may_withdraw(request.user, report):
        raise PermissionDenied
    back_url = reverse("liaison:report_detail", args=[report.pk])
    if report.is_withdrawn or report.decision != Report.Decision.PENDING:
        messages.error(request, _("Only a report not decided yet is withdrawn."))
        return redirect(back_url)
    return _withdrawal(
        request,
        form=WithdrawForm(request.POST or None),
        write=lambda reason: services.report_withdraw(
            actor=request.user, report=report, reason=reason, request=request
        ),
        done=_("The report was withdrawn."),
        back_url=back_url,
        heading=_("Withdraw the report"),
        rows=[
            (_("Title"), report.title),
            (_("Sent to"), report.to_area.name),
            (
                pgettext_lazy("report", "Sent at"),
                f"{timezone.localtime(report.submitted_at):%Y-%m-%d %H:%M}",
            ),
        ],  # fmt: skip
        happens=[
            _("%(area)s sees it marked withdrawn, with your reason, and decides nothing on it.")
            % {"area": report.to_area.name},
            _("It is counted nowhere, nor in the assessment."),
            _FINAL,
            _("If it is needed again, send it again."),
        ],
        button=_("Withdraw the report"),
    )


@login_required
@require_POST
def report_decide(request, pk):
    """Adopt a report sent to the user's area, or not, with a comment."""
    if not request.user.has_perm("liaison.decide_report"):
        raise PermissionDenied
    report = get_object_or_404(Report.objects.visible_to(request.user), pk=pk)
    if not _may_decide(request.user, report):
        raise PermissionDenied
    if report.is_withdrawn or report.decision != Report.Decision.PENDING:
        # Withdrawn or decided since the page was opened: said on the report's page.
        messages.error(
            request,
            _("The report was withdrawn by its sender.")
            if report.is_withdrawn
            else _("The report was already decided: %(decision)s.")
            % {"decision": report.get_decision_display()},
        )
        return redirect("liaison:report_detail", pk=report.pk)
    form = ReportDecisionForm(request.POST)
    if request.POST.get("back"):
        # Back from the confirmation page: the choice and the comment as they were typed.
        form = ReportDecisionForm(
            initial={name: request.POST.get(name, "") for name in ("decision", "comment")}
        )
    elif form.is_valid() and not request.POST.get("confirmed"):
        decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"].strip()
        if decision != Report.Decision.DECLINED or comment:
            return _report_decide_confirm(request, report, decision, comment)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: report_services.report_decide(
            actor=request.user, report=report, request=request, **form.cleaned_data
        ),
        done=_("The decision was saved."),
    ):
        return redirect("liaison:report_detail", pk=report.pk)
    if (
        request.POST.get("confirmed")
        and not Report.objects.filter(
            pk=report.pk, decision=Report.Decision.PENDING, withdrawn_at__isnull=True
        ).exists()
    ):
        # Withdrawn or decided while the confirmation page was open: nothing left to decide.
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("liaison:report_detail", pk=report.pk)
    view = ReportDetailView(request=request, kwargs={"pk": pk}, args=())
    view.object = view.get_object()
    return render(request, view.template_name, view.get_context_data(decision_form=form))


@login_required
@permission_required("liaison.view_report", raise_exception=True)
def report_file(request, pk, file_pk):
    """A file of a report the user sees; never served from a public URL."""
    report = get_object_or_404(Report.objects.visible_to(request.user), pk=pk)
    attached = get_object_or_404(report.files, pk=file_pk)
    return attachment_response(attached)


class ReportCountsView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """Per area below the user's and per kind: reports sent in a year or quarter, and those
    adopted in it (by the day of the decision, as the assessment counts them)."""

    permission_required = "liaison.decide_report"
    template_name = "liaison/report_counts.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = ReportPeriodForm(self.request.GET)
        start, end = _report_period(form)
        below = Area.objects.visible_to(user).exclude(level=Area.Level.GRID)
        if user.area_id is not None:
            below = below.exclude(pk=user.area_id)
        areas = list(below.filter(level__in=["community", "street"]).order_by("code"))
        sent = Q(submitted_at__gte=start, submitted_at__lt=end)
        adopted = Q(decision=Report.Decision.ADOPTED, decided_at__gte=start, decided_at__lt=end)
        counted = (
            Report.objects.visible_to(user)
            .filter(area_id__in=[area.pk for area in areas], withdrawn_at__isnull=True)
            .filter(sent | adopted)
            .values("area_id", "kind")
            .annotate(sent=Count("id", filter=sent), adopted=Count("id", filter=adopted))
        )
        numbers = {(row["area_id"], row["kind"]): row for row in counted}
        kinds = Report.Kind.choices
        empty = {"sent": 0, "adopted": 0}
        rows = [
            {
                "area": area,
                "cells": [numbers.get((area.pk, kind), empty) for kind, _label in kinds],
            }
            for area in areas
        ]
        totals = [
            {
                "sent": sum(row["cells"][i]["sent"] for row in rows),
                "adopted": sum(row["cells"][i]["adopted"] for row in rows),
            }
            for i in range(len(kinds))
        ]
        context.update(
            form=form,
            kinds=kinds,
            rows=rows,
            totals=totals,
            start=start.date(),
            last=(end - datetime.timedelta(days=1)).date(),
        )
        return context


# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------


def _editable_or_denied(model, user, pk):
    """A record the user may see (else 404) and edit (else 403)."""
    obj = get_object_or_404(model.objects.visible_to(user), pk=pk)
    if not model.objects.editable_by(user).filter(pk=obj.pk).exists():
        raise PermissionDenied
    return obj


class _EditableMixin:
    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_object(self, queryset=None):
        return _editable_or_denied(self.model, self.request.user, self.kwargs["pk"])


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class MaterialListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """The study materials the user may read, searched by words of their title or text."""

    permission_required = "liaison.view_material"
    template_name = "liaison/library_list.html"
    context_object_name = "materials"
    paginate_by = 25

    @cached_property
    def search_form(self):
        return MaterialSearchForm(self.request.GET or None)

    def get_queryset(self):
        user = self.request.user
        materials = Material.objects.visible_to(user)
        if self.search_form.is_valid():
            data = self.search_form.cleaned_data
            materials = materials.search(data["q"])
            if data["kind"]:
                materials = materials.filter(kind=data["kind"])
            if data["to_read"]:
                materials = materials.waiting_for(user)
        return materials.select_related("area").annotate(
            read=Exists(MaterialRead.objects.filter(material=OuterRef("pk"), user=user))
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            search_form=self.search_form,
            query_without_page=_query_without_page(self.request),
            waiting=Material.objects.waiting_for(self.request.user).count(),
            # The publishers that ask this user for a receipt: the areas above theirs.
            asking=enclosing_area_ids(self.request.user),
            **kwargs,
        )


class MaterialFormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    model = Material
    form_class = MaterialForm
    template_name = "liaison/library_form.html"
    success_url_name = "liaison:library_detail"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class MaterialCreateView(MaterialFormMixin, CreateView):
    permission_required = "liaison.add_material"
    success_message = gettext_lazy("The study material was published.")

    def write(self, form):
        return services.material_publish(
            actor=self.request.user, data=form.service_data(),
            uploads=form.cleaned_data["files"], request=self.request,
        )  # fmt: skip


class MaterialUpdateView(_EditableMixin, MaterialFormMixin, UpdateView):
    permission_required = "liaison.change_material"
    success_message = gettext_lazy("The changes were saved.")

    def write(self, form):
        return services.material_update(
            actor=self.request.user, material=form.instance, data=form.service_data(),
            uploads=form.cleaned_data["files"], request=self.request,
        )  # fmt: skip


class MaterialDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """A material; opening it confirms having read it where its publisher asked."""

    permission_required = "liaison.view_material"
    template_name = "liaison/library_detail.html"
    context_object_name = "material"

    def get_queryset(self):
        return Material.objects.visible_to(self.request.user).select_related("area", "published_by")

    def get_context_data(self, **kwargs):
        material, user = self.object, self.request.user
        receipt = services.material_read(actor=user, material=material)
        return super().get_context_data(
            receipt=receipt,
            files=material.files.all(),
            editable=Material.objects.editable_by(user).filter(pk=material.pk).exists(),
            trainings=Training.objects.visible_to(user).filter(materials=material),
            **kwargs,
        )


@require_GET
@login_required
@permission_required("liaison.view_material", raise_exception=True)
def material_file(request, pk, file_pk):
    """A file of a material the user may read; never served from a public URL."""
    material = get_object_or_404(Material.objects.visible_to(request.user), pk=pk)
    attached = get_object_or_404(material.files, pk=file_pk)
    return attachment_response(attached)


@require_POST
@login_required
@permission_required("liaison.change_material", raise_exception=True)
def material_file_remove(request, pk, file_pk):
    material = _editable_or_denied(Material, request.user, pk)
    attached = get_object_or_404(material.files, pk=file_pk)
    services.material_file_remove(actor=request.user, attached=attached, request=request)
    messages.success(request, _("%(name)s was removed.") % {"name": attached.name})
    return redirect("liaison:library_detail", pk=material.pk)


@require_GET
@login_required
@permission_required("liaison.view_materialread", raise_exception=True)
def material_receipts(request, pk):
    """Who of the areas below the publisher has read a material, area by area."""
    material = _editable_or_denied(Material, request.user, pk)
    rows = services.material_receipts(material, request.user)
    return render(
        request,
        "liaison/library_receipts.html",
        {
            "material": material,
            "rows": rows,
            "read": sum(len(row["read"]) for row in rows),
            "unread": sum(len(row["unread"]) for row in rows),
        },
    )


def _year(request) -> int:
    """The year asked for (?year=), this year by default; within what a date holds."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


def _years(selected: int) -> list[int]:
    this_year = timezone.localdate().year
    return sorted({*range(this_year - 4, this_year + 1), selected}, reverse=True)


class TrainingListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    permission_required = "liaison.view_training"
    template_name = "liaison/training_list.html"
    context_object_name = "trainings"
    paginate_by = 25

    def get_queryset(self):
        return (
            Training.objects.visible_to(self.request.user)
            .select_related("area")
            .annotate(attendees=Count("attendances"))
            .order_by("-date", "-id")  # a grouped query drops Meta.ordering
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            query_without_page=_query_without_page(self.request), **kwargs
        )


class TrainingFormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    model = Training
    form_class = TrainingForm
    template_name = "liaison/training_form.html"
    success_url_name = "liaison:training_detail"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class TrainingCreateView(TrainingFormMixin, CreateView):
    permission_required = "liaison.add_training"
    success_message = gettext_lazy("The training session was recorded.")

    def write(self, form):
        return services.training_create(
            actor=self.request.user, data=form.service_data(),
            materials=form.cleaned_data["materials"], request=self.request,
        )  # fmt: skip

    def get_success_url(self):
        # Next: who attended.
        from django.urls import reverse

        return reverse("liaison:training_attendance", args=[self.written.pk])


class TrainingUpdateView(_EditableMixin, TrainingFormMixin, UpdateView):
    permission_required = "liaison.change_training"
    success_message = gettext_lazy("The changes were saved.")

    def write(self, form):
        return services.training_update(
            actor=self.request.user, training=form.instance, data=form.service_data(),
            materials=form.cleaned_data["materials"], request=self.request,
        )  # fmt: skip


class TrainingDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "liaison.view_training"
    template_name = "liaison/training_detail.html"
    context_object_name = "training"

    def get_queryset(self):
        return Training.objects.visible_to(self.request.user).select_related("area", "created_by")

    def get_context_data(self, **kwargs):
        training, user = self.object, self.request.user
        # Attendees from areas the viewer does not see are counted, not named.
        attendances = training.attendances.select_related("user__area").order_by(
            "user__area__code", "user__last_name", "user__first_name", "user__username"
        )
        ids = visible_area_ids(user)
        shown = list(attendances if ids is None else attendances.filter(user__area__in=ids))
        return super().get_context_data(
            attendances=shown,
            attendees_elsewhere=training.attendances.count() - len(shown),
            materials=Material.objects.visible_to(user).filter(trainings=training),
            editable=Training.objects.editable_by(user).filter(pk=training.pk).exists(),
            **kwargs,
        )


def _grouped(choices, form) -> list[dict]:
    """The attendance checkboxes under their area's name, in the order of `choices`."""
    boxes = {str(box.data["value"]): box for box in form["users"]}
    groups: list[dict] = []
    for account in choices:
        if not groups or groups[-1]["area"] != account.area:
            groups.append({"area": account.area, "boxes": []})
        groups[-1]["boxes"].append((account, boxes[str(account.pk)]))
    return groups


@login_required
@permission_required("liaison.change_training", raise_exception=True)
def training_attendance(request, pk):
    """Tick who attended a session, from the staff of its organising area and below."""
    training = _editable_or_denied(Training, request.user, pk)
    choices = services.attendee_choices(training)
    hours = dict(training.attendances.values_list("user", "hours"))
    initial = {"users": list(hours)}
    data = request.POST if request.method == "POST" else None  # none ticked is a list too
    form = AttendanceForm(data, initial=initial, choices=choices)
    if request.method == "POST" and form.is_valid():
        done = form_write(
            request, form,
            lambda: services.training_attendance_set(
                actor=request.user, training=training, users=form.cleaned_data["users"],
                hours=form.cleaned_data["hours"], request=request,
            ),
            done=_("The attendance was saved."),
        )  # fmt: skip
        if done:
            return redirect("liaison:training_detail", pk=training.pk)
    listed = list(choices)
    for account in listed:  # what the form shows in each account's hours
        account.hours_shown = (
            request.POST.get(f"hours_{account.pk}", "") if form.is_bound
            else hours.get(account.pk, "")
        )  # fmt: skip
    return render(
        request,
        "liaison/training_attendance.html",
        {"training": training, "form": form, "groups": _grouped(listed, form)},
    )


class TrainingHoursView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """The user's own training in a year, with its hours."""

    permission_required = "liaison.view_training"
    template_name = "liaison/training_hours.html"

    def get_context_data(self, **kwargs):
        year = _year(self.request)
        attendances = list(
            Attendance.objects.filter(user=self.request.user)
            .in_year(year)
            .select_related("training__area")
            .order_by("training__date", "training__id")
        )
        return super().get_context_data(
            year=year,
            years=_years(year),
            attendances=attendances,
            total=sum((attendance.hours for attendance in attendances), Decimal(0)),
            **kwargs,
        )


def _street_hours(request) -> dict:
    """The street asked for (?street=, one of the user's; the first by default; 404 for
    another), the year, and its staff's hours in that year."""
    streets = list(
        Area.objects.visible_to(request.user).filter(level=Area.Level.STREET).order_by("code")
    )
    street = None
    wanted = request.GET.get("street", "")
    if wanted:
        street = next((item for item in streets if str(item.pk) == wanted), None)
        if street is None:
            raise Http404
    elif streets:
        street = streets[0]
    year = _year(request)
    rows = services.workers_hours(street, year) if street else []
    return {
        "year": year,
        "years": _years(year),
        "streets": streets,
        "street": street,
        "rows": rows,
        "total": sum((row["hours"] for row in rows), Decimal(0)),
    }


class StreetHoursView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """A street's staff and its communities' with their training hours in a year."""

    permission_required = "liaison.view_attendance"
    template_name = "liaison/training_street_hours.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**_street_hours(self.request), **kwargs)


@require_GET
@login_required
@permission_required("liaison.view_attendance", raise_exception=True)
def street_hours_export(request):
    """The street's table of training hours as a spreadsheet, ready to print."""
    table = _street_hours(request)
    if table["street"] is None:
        raise Http404
    title = _("Training hours of %(street)s in %(year)s") % {
        "street": table["street"].name,
        "year": table["year"],
    }
    book = xlsx.Book()
    sheet = book.sheet(_("Training hours"), widths={1: 20, 2: 20, 3: 10}, title_rows=(2, 2))
    sheet.append([xlsx.text(title)])
    sheet.append([_("Account"), _("Area"), _("Hours")])
    for row in table["rows"]:
        sheet.append([
            xlsx.text(row["user"].get_full_name() or row["user"].username),
            xlsx.text(row["area"].name),
            xlsx.number(row["hours"]),
        ])  # fmt: skip
    sheet.append([_("Total"), "", xlsx.number(table["total"])])
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"report": "training_hours", "area": table["street"].code,
                "year": table["year"], "rows": len(table["rows"])},
    )  # fmt: skip
    response = HttpResponse(book.bytes(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{title}.xlsx"
    )
    return response


# -- end of library and training --


# -- What waits on me, and the way in ------------------------------------------------------


@login_required
@require_GET
def todo_list(request):
    """我的待办: what waits on the user's own area, overdue first (liaison.todo)."""
    groups = todo.waiting_for(request.user, timezone.localdate())
    return render(
        request,
        "liaison/todo.html",
        {
            "groups": groups,
            "takes_part": todo.takes_part(request.user),
            "today": timezone.localdate(),
            # The header's count is the groups' (not counted a second time for this page).
            "waiting_count": sum(group.count for group in groups),
        },
    )


@login_required
@require_GET
def index(request):
    """The way into notices, tasks, reports, the study library and training: the parts the
    user's role has, each with what waits in it."""
    return render(request, "liaison/index.html", {"counts": todo.waiting_counts(request.user)})
