"""Member pages. Every queryset starts from `visible_to`; out of scope is 404, read-only 403."""

import dataclasses
import datetime
import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, FormView, UpdateView
from django_filters.views import FilterView

from tongzhan.audit import audit_record
from tongzhan.mixins import ServiceFormMixin, action_write, confirm_page, form_write
from tongzhan.models import AuditEvent
from tongzhan.services import download_request

from . import downloads as member_downloads
from . import exports, services
from .filters import MemberFilterSet, list_filterset, masked_filters, tallied_count
from .forms import (
    MemberForm,
    MemberStatusForm,
    MemberTransferForm,
    RelativeForm,
    TransferAcceptForm,
    TransferDeclineForm,
)
from .models import Member, MemberMerge, Nomination, Relative, Transfer, change_labels

WEB_FORM = "网页表单"


def member_filterset(request, queryset) -> MemberFilterSet:
    """The list's filters on `queryset`, as the list and its export apply them."""
    return list_filterset(request.GET, queryset, request.user)


class TalliedPaginator(Paginator):
    """A paginator told the count (from the tallies) instead of counting the rows."""

    def __init__(self, *args, count=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_count = count

    @cached_property
    def count(self):
        return self.known_count if self.known_count is not None else super().count


class MemberListView(LoginRequiredMixin, PermissionRequiredMixin, FilterView):
    permission_required = "members.view_member"
    filterset_class = MemberFilterSet
    template_name = "members/member_list.html"
    context_object_name = "members"

    def get_queryset(self):
        pending = Transfer.objects.pending().filter(member=OuterRef("pk"))
        return (
            Member.objects.visible_to(self.request.user)
            .for_list()
            # A member whose transfer awaits acceptance is marked with where she is going.
            .annotate(transfer_to=Subquery(pending.values("to_community__name")[:1]))
        )

    def get_filterset(self, filterset_class):
        return member_filterset(self.request, self.get_queryset())

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kw):
        count = (
            tallied_count(self.filterset, self.request.user)
            if settings.MEMBER_LIST_TALLIED_COUNTS
            else None
        )
        return TalliedPaginator(queryset, per_page, orphans, allow_empty_first_page, count=count)

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("per_page", ""))
        except ValueError:
            size = 0
        sizes = settings.MEMBER_LIST_PAGE_SIZES
        return size if size in sizes else sizes[0]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        context["page_sizes"] = settings.MEMBER_LIST_PAGE_SIZES
        context["print_community"] = self.print_community()
        return context

    def print_community(self):
        """The community whose registration forms the list offers to print: the one it is
        filtered to, or the user's own."""
        form = self.filterset.form
        area = form.cleaned_data.get("area") if self.filterset.is_valid() else None
        area = area or self.request.user.area
        return area if area is not None and area.level == area.Level.COMMUNITY else None


class MemberMixin(LoginRequiredMixin):
    """A member the user may see (else 404), and whether they may change it."""

    def get_queryset(self):
        return Member.objects.visible_to(self.request.user)

    @cached_property
    def member(self) -> Member:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_object(self, queryset=None):
        return self.member

    def require_editable(self, permission="members.change_member"):
        require_editable(self.request.user, self.member.pk, permission)


def require_editable(user, member_id: int, permission="members.change_member") -> None:
    """403 unless `user` may change the member (her area's, and the role's permission)."""
    editable = Member.objects.editable_by(user).filter(pk=member_id).exists()
    if not editable or not user.has_perm(permission):
        raise PermissionDenied


class EditableMemberMixin(MemberMixin):
    """A member the user may see (else 404) and change (else 403)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_editable()
        return super().dispatch(request, *args, **kwargs)


@dataclasses.dataclass(frozen=True)
class MemberSection:
    """A part of a member's page another app renders: its template and that template's
    context (as `section`)."""

    template: str
    context: dict


# What apps above this one show on a member's page (organisations: her memberships), each a
# function `(member, user)` returning a `MemberSection`, or None to show nothing. Registered
# from the app's AppConfig.ready, so the registry imports none of them (layers).
MEMBER_SECTIONS: list = []


def member_section_register(section) -> None:
    """Called from an app's `AppConfig.ready`; registering twice changes nothing."""
    if section not in MEMBER_SECTIONS:
        MEMBER_SECTIONS.append(section)


@dataclasses.dataclass(frozen=True)
class EditReason:
    """Why an edit is made, when another app sends the user to the member's edit page (a
    person's request to correct her record): the history's source line, what the page says
    above the form, and where saving leads back to."""

    source: str
    label: str
    back_url: str


# Apps above this one that send users to the edit page with a reason (`?reason=key:value`),
# each a function `(user, member, value)` returning an `EditReason`, or None when the value
# names nothing of that member's the user may act on (then the page is 404). Registered from
# the app's AppConfig.ready, so the edit page imports none of them (layers).
EDIT_REASONS: dict = {}


def edit_reason_register(key: str, reason) -> None:
    """Called from an app's `AppConfig.ready`; registering twice changes nothing."""
    EDIT_REASONS[key] = reason


def edit_reason(request, member: Member) -> EditReason | None:
    """The reason the edit page was opened with (`?reason=key:value`), or None; a reason that
    names nothing the user may act on is 404."""
    given = request.GET.get("reason", "")
    if not given:
        return None
    key, _colon, value = given.partition(":")
    resolve = EDIT_REASONS.get(key)
    reason = resolve(request.user, member, value) if resolve is not None else None
    if reason is None:
        raise Http404
    return reason


class MemberDetailView(MemberMixin, DetailView):
    template_name = "members/member_detail.html"
    context_object_name = "member"
    revealed = False

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("community__parent", "grid", "ethnicity", "political_status")
        )

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # A record merged into another (合并) is that other one now: a bookmark or a link
            # in an old message leads there, saying so. Looked for only when nothing is found.
            kept = self._kept_record()
            if kept is None:
                raise
        messages.info(request, _("The record you opened was merged into this one."))
        return redirect("members:detail", pk=kept.pk)

    def _kept_record(self) -> Member | None:
        """The record the requested one (in the user's area, merged away) became, if the user
        sees it; None otherwise, and the page answers as for any record."""
        merged = (
            Member.objects.merged_away_visible_to(self.request.user)
            .filter(pk=self.kwargs["pk"])
            .values_list("merged_into", flat=True)
            .first()
        )
        seen = set()
        while merged is not None and merged not in seen:  # merged again since: follow on
            seen.add(merged)
            kept = Member.objects.visible_to(self.request.user).filter(pk=merged).first()
            if kept is not None:
                return kept
            merged = Member.objects.filter(pk=merged).values_list("merged_into", flat=True).first()
        return None

    def post(self, request, *args, **kwargs):
        """Reveal the full ID number and phone, once, and log that it was done."""
        self.object = self.get_object()
        if not request.user.has_perm("members.reveal_member"):
            raise PermissionDenied
        fields = ["id_number", "phone"]
        if self.object.relatives.exclude(contact_masked="").exists():
            fields.append("relative_contact")  # the relatives' contacts show in full too
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.REVEAL,
            obj=self.object,
            request=request,
            detail={"fields": fields, "page": "detail"},
        )
        self.revealed = True
        return self.render_to_response(self.get_context_data(object=self.object))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member, user = self.object, self.request.user
        categories = list(member.categories.all())
        slugs = {category.slug for category in categories}
        sections = []
        for form_section in MemberForm.category_sections_for(slugs):
            sections.append(
                {
                    "title": form_section["title"],
                    "rows": [
                        (Member._meta.get_field(name).verbose_name, _field_display(member, name))
                        for name in form_section["names"]
                    ],
                }
            )
        editable = Member.objects.editable_by(user).filter(pk=member.pk).exists()
        context.update(
            categories=categories,
            category_sections=sections,
            revealed=self.revealed,
            can_reveal=user.has_perm("members.reveal_member"),
            can_edit=editable,
            can_transfer=editable and user.has_perm("members.transfer_member"),
            pending_transfer=member.transfers.pending()
            .select_related("to_community", "requested_by")
            .first(),
            # Registration and changes; the activities app's timeline adds what else the
            # member took part in, loaded into the same list (activities:member_timeline).
            timeline=member_history(member),
            merges=undoable_merges(member, user),
        )
        relatives = relatives_shown(member, user, full=self.revealed)
        # The records (in the viewer's area) that name this member as their relative.
        relative_of = (
            Relative.objects.filter(
                linked_member=member, member__in=Member.objects.visible_to(user)
            )
            .select_related("member__community")
            .defer("contact", "member__id_number", "member__phone")
            .order_by("member__name", "pk")
        )
        context.update(
            relatives=relatives,
            relative_of=list(relative_of),
            relatives_hint=not relatives and bool(RELATIVE_CATEGORIES & slugs),
            sections=[shown for section in MEMBER_SECTIONS if (shown := section(member, user))],
            # The representative's file: every arrangement, in office first, and the duty
            # records, latest first, with the arrangement each was done in.
            arrangements=list(member.arrangements.all()),
            **self.duties_shown(member),
            # Admission and exit (凡进必评, 有进有出): the flag is read-only here; its history is
            # the nominations and the register's rows.
            nominations=nominations_shown(member, user),
            representative_changes=list(member.representative_changes.all()),
            can_nominate=services.may_nominate(user, member)
            and not services.nomination_refusal(member),
        )
        return context

    def duties_shown(self, member: Member) -> dict:
        """The latest duty records, or all of them on asking (?duties=all)."""
        duties = member.duties.select_related("arrangement")
        total = duties.count()
        if self.request.GET.get("duties") != "all":
            duties = duties[:DUTIES_SHOWN]
        duties = list(duties)
        return {"duties": duties, "duties_total": total, "duties_more": len(duties) < total}


def nominations_shown(member: Member, user) -> list:
    """The member's nominations, newest first; the one awaiting its decision says whether the
    user may withdraw it (`withdrawable`) or, to one who could, why not now (`kept`)."""
    nominations = list(member.nominations.select_related("proposed_by__area"))
    for nomination in nominations:
        nomination.withdrawable, nomination.kept = False, ""
        if nomination.state == Nomination.State.PENDING and services.may_withdraw_nomination(
            user, nomination
        ):
            nomination.kept = services.nomination_withdraw_refusal(nomination)
            nomination.withdrawable = not nomination.kept
    return nominations


# The duty records the member page shows at first (a long-serving representative has
# hundreds); the rest on asking.
DUTIES_SHOWN = 20


# Categories 11 (台湾同胞及其在大陆的亲属) and 12 (华侨、归侨及侨眷, with 侨眷) are about kin:
# their members' pages ask for the relatives when none are recorded.
RELATIVE_CATEGORIES = frozenset({"taiwan", "overseas_chinese"})


def relatives_shown(member: Member, user, *, full: bool = False) -> list[Relative]:
    """The member's relatives, contacts decrypted only if `full`; `linked` is the relative's
    own record only for a viewer who may see it (else None), so a link never shows a member
    outside the viewer's area."""
    relatives = member.relatives.all()
    relatives = list(relatives if full else relatives.defer("contact"))
    linked_ids = {relative.linked_member_id for relative in relatives} - {None}
    visible = {}
    if linked_ids:
        records = (
            Member.objects.visible_to(user)
            .filter(pk__in=linked_ids)
            .select_related("community")
            .only("id", "name", "community__name")
        )
        visible = {record.pk: record for record in records}
    for relative in relatives:
        relative.linked = visible.get(relative.linked_member_id)
    return relatives


def undoable_merges(member: Member, user) -> list[MemberMerge]:
    """The merges into `member` the user may still undo (services.member_merge_undo)."""
    if not user.has_perm("members.merge_member"):
        return []
    since = timezone.now() - datetime.timedelta(days=settings.MEMBER_MERGE_UNDO_DAYS)
    merges = MemberMerge.objects.filter(
        keep=member,
        undone_at__isnull=True,
        at__gte=since,
        # The record an undo brings back must be in the user's area too, as the service asks.
        merged__in=Member.objects.merged_away_visible_to(user),
    )
    merges = list(merges.select_related("merged__community", "actor"))
    for merge in merges:
        merge.undo_until = merge.at + datetime.timedelta(days=settings.MEMBER_MERGE_UNDO_DAYS)
    return merges


def _field_display(member: Member, name: str) -> str:
    value = getattr(member, name)
    display = getattr(member, f"get_{name}_display", None)
    if display is not None:
        return display()
    return "" if value is None else value


def member_history(member: Member) -> list[dict]:
    """Registration and every change of a member, newest first, as timeline entries."""
    labels = change_labels()
    entries = []
    for change in member.changes.select_related("actor"):
        entries.append(
            {
                "at": change.at,
                "kind": "change",
                "change": change,
                "rows": [
                    {
                        "label": labels.get(row["field"], row["field"]),
                        "old": row.get("old", ""),
                        "new": row.get("new", ""),
                    }
                    for row in change.changes
                ],
            }
        )
    return entries


class MemberCreateView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, CreateView):
    permission_required = "members.add_member"
    model = Member
    form_class = MemberForm
    template_name = "members/member_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "request": self.request}

    def write(self, form):
        return services.member_create(
            actor=self.request.user, data=form.service_data(), source=WEB_FORM, request=self.request
        )

    def get_success_message(self):
        return _("%(name)s was registered.") % {"name": self.written.name}

    def get_success_url(self):
        return reverse("members:detail", args=[self.written.pk])


class MemberUpdateView(EditableMemberMixin, ServiceFormMixin, UpdateView):
    model = Member
    form_class = MemberForm
    template_name = "members/member_form.html"

    def get(self, request, *args, **kwargs):
        _reason = self.reason  # an unknown reason is 404 before anything is shown or audited
        # The form shows the full ID number and phone to edit them: that is a reveal.
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.REVEAL,
            obj=self.member,
            request=request,
            detail={"fields": ["id_number", "phone"], "page": "edit"},
        )
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "request": self.request}

    @cached_property
    def reason(self) -> EditReason | None:
        return edit_reason(self.request, self.member)

    def get_context_data(self, **kwargs):
        return super().get_context_data(reason=self.reason, **kwargs)

    success_message = gettext_lazy("The changes were saved.")

    def write(self, form):
        return services.member_update(
            actor=self.request.user,
            member=form.instance,
            data=form.service_data(),
            version=form.cleaned_data["opened_version"],
            source=self.reason.source if self.reason else WEB_FORM,
            request=self.request,
        )

    def refused(self, form, error):
        super().refused(form, error)
        if isinstance(error, services.MemberChanged):
            # Shown with both values; saved again, the form overwrites what it now shows.
            form.data = form.data.copy()
            form.data["opened_version"] = error.version

    def get_success_url(self):
        if self.reason:
            return self.reason.back_url
        return reverse("members:detail", args=[self.object.pk])


class MemberStatusView(EditableMemberMixin, ServiceFormMixin, FormView):
    form_class = MemberStatusForm
    template_name = "members/member_status.html"

    def get_initial(self):
        return {"status": self.member.status, "reason": self.member.status_reason}

    def get_context_data(self, **kwargs):
        return super().get_context_data(member=self.member, **kwargs)

    success_message = gettext_lazy("The status was changed.")

    def write(self, form):
        return services.member_set_status(
            actor=self.request.user, member=self.member, request=self.request, **form.cleaned_data
        )

    def get_success_url(self):
        return reverse("members:detail", args=[self.member.pk])


class MemberTransferView(MemberMixin, ServiceFormMixin, FormView):
    """Ask for a member's transfer; the receiving community accepts it (or the requester,
    when they may act for it too)."""

    form_class = MemberTransferForm
    template_name = "members/member_transfer.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_editable("members.transfer_member")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "member": self.member}

    def get_initial(self):
        return {"to_community": self.request.GET.get("to")}

    def get_context_data(self, **kwargs):
        pending = self.member.transfers.pending().select_related("to_community").first()
        return super().get_context_data(member=self.member, pending_transfer=pending, **kwargs)

    def write(self, form):
        return services.transfer_request(
            actor=self.request.user,
            member=self.member,
            to_community=form.cleaned_data["to_community"],
            reason=form.cleaned_data["reason"],
            request=self.request,
        )

    def get_success_message(self):
        names = {"name": self.member.name, "community": self.written.to_community.name}
        if self.written.state == Transfer.State.ACCEPTED:
            return _("%(name)s was transferred to %(community)s.") % names
        return (
            _(
                "The transfer of %(name)s to %(community)s awaits acceptance by that community; "
                "until then she stays here."
            )
            % names
        )

    def get_success_url(self):
        if Member.objects.visible_to(self.request.user).filter(pk=self.member.pk).exists():
            return reverse("members:detail", args=[self.member.pk])
        return reverse("members:list")


# -- Relatives (亲属) ---------------------------------------------------------------------------


class RelativeFormMixin(ServiceFormMixin):
    form_class = RelativeForm
    template_name = "members/relative_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(member=self.member, **kwargs)

    def get_success_url(self):
        return reverse("members:detail", args=[self.member.pk]) + "#relatives"


class RelativeCreateView(EditableMemberMixin, RelativeFormMixin, CreateView):
    def get_object(self, queryset=None):
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Relative(member=self.member)}

    def write(self, form):
        return services.relative_add(
            actor=self.request.user,
            member=self.member,
            data=form.service_data(),
            source=WEB_FORM,
            request=self.request,
        )

    def get_success_message(self):
        return _("%(name)s was added to the relatives.") % {"name": self.written.name}

    def get_success_url(self):
        if self.written.linked_member_id is None and (
            Member.objects.visible_to(self.request.user)
            .filter(name=self.written.name)
            .exclude(pk=self.member.pk)
            .exists()
        ):
            # A member of that name is registered: offer the link on the relative's page.
            messages.info(
                self.request,
                _(
                    "A member named %(name)s is registered: if it is this relative, choose "
                    "the record below."
                )
                % {"name": self.written.name},
            )
            return reverse("members:relative_update", args=[self.written.pk])
        return super().get_success_url()


class RelativeMixin(EditableMemberMixin):
    """A relative of a member the user may see (else 404) and change (else 403)."""

    @cached_property
    def relative(self) -> Relative:
        return get_object_or_404(
            Relative.objects.visible_to(self.request.user).select_related("member"),
            pk=self.kwargs["pk"],
        )

    @cached_property
    def member(self) -> Member:
        return self.relative.member


class RelativeUpdateView(RelativeMixin, RelativeFormMixin, UpdateView):
    success_message = gettext_lazy("The changes were saved.")

    def get_object(self, queryset=None):
        return self.relative

    def get(self, request, *args, **kwargs):
        if self.relative.contact and request.user.has_perm("members.reveal_member"):
            # The form shows the full contact to edit it: that is a reveal.
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.REVEAL,
                obj=self.member,
                request=request,
                detail={
                    "fields": ["relative_contact"],
                    "relative": self.relative.pk,
                    "page": "relative_edit",
                },
            )
        return super().get(request, *args, **kwargs)

    def write(self, form):
        return services.relative_update(
            actor=self.request.user,
            relative=self.relative,
            data=form.service_data(),
            source=WEB_FORM,
            request=self.request,
        )


def record_remove(request, record, *, heading, rows, write, done, anchor, instead=""):
    """Remove a record of a member's file (a relative, an arrangement, a duty record): the
    button shows what goes first (`confirm.html`), its confirmation removes it through
    `write()`. `instead`: what to do if the record is right but over (end it, not remove it).
    A record of a member out of the user's area is 404 before this, one the user may only read
    403, as for the member."""
    require_editable(request.user, record.member_id)
    back_url = reverse("members:detail", args=[record.member_id]) + anchor
    if request.method == "POST" and request.POST.get("confirmed"):
        action_write(request, write, done=done)
        return redirect(back_url)
    return confirm_page(
        request,
        heading=heading,
        rows=[(_("Member"), record.member.name), *rows],
        happens=[
            _("It is taken off the member's file and no longer shown or printed."),
            _("The member's history keeps what it was, who removed it and when."),
            *([instead] if instead else []),
        ],
        button=_("Remove"),
        back_url=back_url,
    )


@login_required
def relative_remove(request, pk):
    relative = get_object_or_404(
        Relative.objects.visible_to(request.user).select_related("member"), pk=pk
    )
    return record_remove(
        request,
        relative,
        heading=_("Remove a relative"),
        rows=[(_("Relative"), str(relative))],
        write=lambda: services.relative_remove(
            actor=request.user, relative=relative, source=WEB_FORM, request=request
        ),
        done=_("%(name)s was removed from the relatives.") % {"name": relative.name},
        anchor="#relatives",
    )


# -- Transfers between communities -------------------------------------------------------------

RECENT_TRANSFERS = 30


def _transfers(user):
    return Transfer.objects.visible_to(user).select_related(
        "member", "from_community", "to_community", "requested_by", "decided_by"
    )


@login_required
@permission_required("members.view_member", raise_exception=True)
def transfer_list(request):
    """Transfers into and out of the user's area: those waiting on the user first, then the
    others awaiting acceptance, then the latest decided, both directions."""
    user = request.user
    incoming_ids = Transfer.objects.incoming_for(user).pending().values("pk")
    pending = _transfers(user).pending().order_by("requested_at", "id")
    context = {
        "incoming": list(pending.filter(pk__in=incoming_ids)),
        "waiting": list(pending.exclude(pk__in=incoming_ids)),
        "decided": list(
            _transfers(user)
            .exclude(state=Transfer.State.PENDING)
            .order_by("-decided_at", "-id")[:RECENT_TRANSFERS]
        ),
    }
    return render(request, "members/transfer_list.html", context)


def _transfer_page(request, transfer, *, accept_form=None, decline_form=None, status=200):
    """What the receiving side needs to decide, not the member's record: that opens to them
    once she is theirs."""
    user = request.user
    member = transfer.member
    pending = transfer.is_pending
    may_decide = pending and Transfer.objects.incoming_for(user).filter(pk=transfer.pk).exists()
    context = {
        "transfer": transfer,
        "member": member,
        "categories": list(member.categories.all()) if pending else [],
        "member_visible": Member.objects.visible_to(user).filter(pk=member.pk).exists(),
        "may_decide": may_decide,
        "may_withdraw": pending
        and Transfer.objects.outgoing_for(user).filter(pk=transfer.pk).exists(),
        # A refusal of a transfer decided meanwhile, told above the page that no longer
        # offers its forms.
        "refusals": []
        if may_decide
        else [e for f in (accept_form, decline_form) if f for e in f.non_field_errors()],
        "accept_form": accept_form or TransferAcceptForm(transfer=transfer),
        "decline_form": decline_form or TransferDeclineForm(),
    }
    return render(request, "members/transfer_detail.html", context, status=status)


def _visible_transfer(request, pk) -> Transfer:
    return get_object_or_404(_transfers(request.user), pk=pk)


@login_required
@permission_required("members.view_member", raise_exception=True)
def transfer_detail(request, pk):
    return _transfer_page(request, _visible_transfer(request, pk))


def _require_incoming(request, transfer: Transfer) -> None:
    if not Transfer.objects.incoming_for(request.user).filter(pk=transfer.pk).exists():
        raise PermissionDenied


@require_POST
@login_required
@permission_required("members.view_member", raise_exception=True)
def transfer_accept(request, pk):
    transfer = _visible_transfer(request, pk)
    _require_incoming(request, transfer)
    form = TransferAcceptForm(request.POST, transfer=transfer)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: services.transfer_accept(
            actor=request.user, transfer=transfer, grid=form.cleaned_data["grid"], request=request
        ),
        done=_("%(name)s was accepted into %(community)s.")
        % {"name": transfer.member.name, "community": transfer.to_community.name},
    ):
        return redirect("members:detail", pk=transfer.member_id)
    return _transfer_page(request, transfer, accept_form=form)


@require_POST
@login_required
@permission_required("members.view_member", raise_exception=True)
def transfer_decline(request, pk):
    transfer = _visible_transfer(request, pk)
    _require_incoming(request, transfer)
    form = TransferDeclineForm(request.POST)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: services.transfer_decline(
            actor=request.user, transfer=transfer, note=form.cleaned_data["note"], request=request
        ),
        done=_("The transfer of %(name)s was declined; she stays in %(community)s.")
        % {"name": transfer.member.name, "community": transfer.from_community.name},
    ):
        return redirect("members:transfers")
    return _transfer_page(request, transfer, decline_form=form)


@require_POST
@login_required
@permission_required("members.view_member", raise_exception=True)
def transfer_withdraw(request, pk):
    transfer = _visible_transfer(request, pk)
    if not Transfer.objects.outgoing_for(request.user).filter(pk=transfer.pk).exists():
        raise PermissionDenied
    action_write(
        request,
        lambda: services.transfer_withdraw(actor=request.user, transfer=transfer, request=request),
        done=_("The transfer of %(name)s to %(community)s was withdrawn.")
        % {"name": transfer.member.name, "community": transfer.to_community.name},
    )
    return redirect("members:detail", pk=transfer.member_id)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@permission_required("members.view_member", raise_exception=True)
def member_export(request):
    """The list as it is filtered, as an .xlsx roster; full numbers only for who may see them.

    More than `MEMBER_EXPORT_INLINE_MAX` rows are written in the background (a district's
    200,000 take longer than a request may): the user gets the file's page, with its progress.
    """
    user = request.user
    full = user.has_perm("members.reveal_member")
    queryset = Member.objects.visible_to(user).order_by("community__code", "id")
    filterset = member_filterset(request, queryset)
    if not filterset.is_valid():  # the list shows which filter is wrong, and why
        messages.error(request, _("Nothing was exported: correct the filters marked below."))
        return redirect(f"{reverse('members:list')}?{request.GET.urlencode()}")
    members = filterset.qs
    query = request.GET.copy()
    for name in set(query) - set(filterset.filters):  # the filters, not whatever else came
        query.pop(name)
    name = f"统战对象_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    if members.count() > settings.MEMBER_EXPORT_INLINE_MAX:
        try:
            download = download_request(
                actor=user,
                kind=member_downloads.ROSTER,
                title=name,
                params={"query": dict(query.lists())},
                request=request,
            )
        except ValidationError as error:  # too many of the user's files being made
            messages.error(request, error.messages[0])
            return redirect("download_list")
        return redirect("download_detail", download.pk)
    # On disk, not in memory: a district's roster is tens of megabytes. FileResponse closes it.
    out = tempfile.TemporaryFile()  # noqa: SIM115
    rows = exports.write_roster(exports.roster_queryset(members, full=full), out, full=full)
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"filters": masked_filters(query), "rows": rows, "full": full},
    )
    out.seek(0)
    response = FileResponse(out, as_attachment=True, filename=name, content_type=XLSX)
    response["Cache-Control"] = "private, no-store"  # as the file made in the background
    return response


@login_required
def member_template(request):
    """The blank roster to fill in for an import."""
    response = HttpResponse(exports.write_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename="统战对象导入模板.xlsx"
    )
    return response


DUPLICATES_PER_PAGE = 25


@login_required
@permission_required("members.merge_member", raise_exception=True)
def duplicate_list(request):
    """The possible duplicates (可能重复) among the members of the user's area: two records
    at a time with why they may be one person, for the district to check and merge."""
    members = Member.objects.visible_to(request.user)
    pairs = services.possible_duplicate_pairs(members)
    page = Paginator(pairs, DUPLICATES_PER_PAGE).get_page(request.GET.get("page"))
    shown = members.filter(
        pk__in={pk for older, newer, _reasons in page.object_list for pk in (older, newer)}
    ).select_related("community")
    by_pk = {member.pk: member for member in shown.defer("id_number", "phone")}
    rows = []
    for first, second, reasons in page.object_list:
        # 较早 / 较晚 as the registration dates shown say (records imported with the dates of
        # an older register are not always in the order of their numbers).
        older, newer = sorted(
            (by_pk[first], by_pk[second]), key=lambda member: (member.created_at, member.pk)
        )
        rows.append(
            {"older": older, "newer": newer, "reasons": services.duplicate_reasons_text(reasons)}
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "rows": rows,
        "page_obj": page,
        "paginator": page.paginator,
        "is_paginated": page.paginator.num_pages > 1,
        "query_without_page": query.urlencode(),
    }
    return render(request, "members/duplicate_list.html", context)


def _mergeable(request, pk: int) -> Member:
    """A member of the user's area (else 404) they may change (else 403), for a merge."""
    member = get_object_or_404(
        Member.objects.visible_to(request.user).select_related("community__parent"), pk=pk
    )
    if not Member.objects.editable_by(request.user).filter(pk=member.pk).exists():
        raise PermissionDenied
    return member


@login_required
@permission_required("members.merge_member", raise_exception=True)
def member_merge(request, pk, other):
    """Merge record `other` into record `pk`: what it will fill, add and move, then the merge
    (services.member_merge) on confirmation."""
    keep, merged = _mergeable(request, pk), _mergeable(request, other)
    if keep.pk == merged.pk:
        raise Http404
    if request.method == "POST" and action_write(
        request,
        lambda: services.member_merge(
            actor=request.user, keep=keep, merged=merged, request=request
        ),
        done=_("The two records of %(name)s are one now.") % {"name": keep.name},
    ):
        return redirect("members:detail", pk=keep.pk)
    plan = services.member_merge_plan(keep=keep, merged=merged)
    shown = services.snapshot(merged)
    context = {
        "keep": keep,
        "merged": merged,
        "plan": plan,
        "settings_undo_days": settings.MEMBER_MERGE_UNDO_DAYS,
        "filled": [
            (Member._meta.get_field(name).verbose_name, shown[name]) for name in plan.filled
        ],
        "dropped": [
            (Member._meta.get_field(name).verbose_name, shown[name]) for name in plan.dropped
        ],
        "reasons": services.duplicate_reasons_text(
            next(
                (
                    reasons
                    for found, reasons in services.member_possible_duplicates(keep)
                    if found.pk == merged.pk
                ),
                [],
            )
        ),
    }
    return render(request, "members/member_merge.html", context)


@require_POST
@login_required
@permission_required("members.merge_member", raise_exception=True)
def member_merge_undo(request, pk):
    merge = get_object_or_404(
        MemberMerge.objects.filter(keep__in=Member.objects.visible_to(request.user)), pk=pk
    )
    action_write(
        request,
        lambda: services.member_merge_undo(actor=request.user, merge=merge, request=request),
        done=_("The merge was undone: the two records are apart again."),
    )
    return redirect("members:detail", pk=merge.keep_id)
