# -- Notices (通知公告) ----------------------------------------------------------------------
from django.contrib import messages  # noqa: E402
from django.contrib.auth.decorators import login_required, permission_required  # noqa: E402
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin  # noqa: E402
from django.core.exceptions import PermissionDenied  # noqa: E402
from django.db.models import Count, Exists, OuterRef, Q  # noqa: E402
from django.http import FileResponse  # noqa: E402
from django.shortcuts import get_object_or_404, redirect, render  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.functional import cached_property  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.utils.translation import gettext_lazy  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402
from django.views.generic import CreateView, DetailView, ListView  # noqa: E402

from tongzhan.mixins import ServiceFormMixin, action_write  # noqa: E402
from tongzhan.models import User  # noqa: E402
from tongzhan.scoping import visible_area_ids  # noqa: E402

from . import services  # noqa: E402
from .forms import NoticeForm, NoticeListFilter, NoticeReplyForm  # noqa: E402
from .models import Notice, NoticeCopy, NoticeFile  # noqa: E402


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
                notices = notices.filter(
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
            copies = copies.unread()
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


@require_GET
@login_required
@permission_required("liaison.view_notice", raise_exception=True)
def notice_file(request, pk, file_pk):
    """A file of a notice the user may see; never served from a public URL."""
    notice = get_object_or_404(Notice.objects.visible_to(request.user), pk=pk)
    attached = get_object_or_404(notice.files, pk=file_pk)
    response = FileResponse(
        attached.file.open("rb"),
        content_type=attached.content_type,
        as_attachment=attached.kind != NoticeFile.Kind.IMAGE,
        filename=attached.name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------

# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------

# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# -- end of library and training --


# -- What waits on me, and the way in ------------------------------------------------------
from . import todo  # noqa: E402


@login_required
@require_GET
def todo_list(request):
    """我的待办: what waits on the user's own area, overdue first (liaison.todo)."""
    return render(
        request,
        "liaison/todo.html",
        {
            "groups": todo.waiting_for(request.user, timezone.localdate()),
            "takes_part": todo.takes_part(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def index(request):
    """The way into notices, tasks, reports, the study library and training: the parts the
    user's role has, each with what waits in it."""
    return render(request, "liaison/index.html", {"counts": todo.waiting_counts(request.user)})
