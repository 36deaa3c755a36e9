"""Organisations and places: lists, pages and forms, each starting from `visible_to`.

Out of scope is 404, in scope but read-only is 403. Phones show masked; those who may see
full phones (the members' rule, `members.reveal_member`) reveal them on the page, and each
reveal is logged as a member's is.

A place's and an organisation's page list the activities held there or with it. Those come
through the reverse relations the activities app adds (`place.activities`,
`organisation.activities`) and are scoped by the activities' own `visible_to`: this app,
below activities, imports none of their code.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from members.models import Member
from members.views import MemberSection
from tongzhan.audit import audit_record
from tongzhan.dates import local_midnight
from tongzhan.filters import query_id
from tongzhan.mixins import ServiceFormMixin, action_write, form_write
from tongzhan.models import AuditEvent

from . import services
from .forms import (
    SEARCH_LIMIT,
    MembershipEndForm,
    MembershipForm,
    OrganisationFilterForm,
    OrganisationForm,
    PlaceFilterForm,
    PlaceForm,
)
from .models import Membership, Organisation, Place

REVEAL_PERMISSION = "members.reveal_member"
# A place's or organisation's activities, a page at a time, latest first.
ACTIVITIES_PER_PAGE = 10


def _editable_or_denied(model, user, pk):
    """A record the user may see (else 404) and edit (else 403)."""
    obj = get_object_or_404(model.objects.visible_to(user), pk=pk)
    if not model.objects.editable_by(user).filter(pk=obj.pk).exists():
        raise PermissionDenied
    return obj


def _reveal(request, obj, field: str, page: str) -> None:
    """Log that `field` of `obj` was shown in full, as a member's phone is."""
    audit_record(
        actor=request.user, action=AuditEvent.Action.REVEAL, obj=obj, request=request,
        detail={"fields": [field], "page": page},
    )  # fmt: skip


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class _ListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """A scoped list filtered by kind and by words of the name."""

    filter_form_class = OrganisationFilterForm
    paginate_by = 25

    @cached_property
    def filter_form(self):
        return self.filter_form_class(self.request.GET or None)

    def get_queryset(self):
        rows = self.model.objects.visible_to(self.request.user).select_related("area")
        if self.filter_form.is_valid():
            data = self.filter_form.cleaned_data
            if data["q"]:
                rows = rows.filter(name__contains=data["q"])
            if data["kind"]:
                rows = rows.filter(kind=data["kind"])
        return rows

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            filter_form=self.filter_form,
            query_without_page=_query_without_page(self.request),
            **kwargs,
        )


class _DetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """A record's page; a POST shows its phone in full to those who may, logged."""

    phone_field = ""
    revealed = False

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user).select_related("area")

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if not request.user.has_perm(REVEAL_PERMISSION):
            raise PermissionDenied
        _reveal(request, self.object, self.phone_field, "detail")
        self.revealed = True
        return self.render_to_response(self.get_context_data(object=self.object))

    @cached_property
    def editable(self) -> bool:
        return self.model.objects.editable_by(self.request.user).filter(pk=self.object.pk).exists()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            revealed=self.revealed,
            can_reveal=self.request.user.has_perm(REVEAL_PERMISSION),
            editable=self.editable,
            **self.activities(),
            **kwargs,
        )

    def activities(self) -> dict:
        """The record's activities the user may see, a page of them, and their numbers: in
        all, this year, and the people they served this year (服务群众人次)."""
        user = self.request.user
        if not user.has_perm("activities.view_activity"):
            return {}
        rows = self.object.activities.visible_to(user)
        today = timezone.localdate()
        this_year = Q(
            starts_at__gte=local_midnight(datetime.date(today.year, 1, 1)),
            starts_at__lt=local_midnight(datetime.date(today.year + 1, 1, 1)),
        )
        numbers = rows.aggregate(
            total=Count("pk"),
            this_year=Count("pk", filter=this_year),
            served=Sum("people_served", filter=this_year, default=0),
        )
        paginator = Paginator(
            rows.select_related("type", "area").order_by("-starts_at", "-id"),
            ACTIVITIES_PER_PAGE,
        )
        # The numbers counted above: the paginator need not count again.
        paginator.count = numbers["total"]
        page = paginator.get_page(self.request.GET.get("page"))
        return {
            "activity_numbers": numbers,
            "activities": page.object_list,
            "paginator": paginator,
            "page_obj": page,
            "is_paginated": page.has_other_pages(),
            "query_without_page": _query_without_page(self.request),
        }


class _FormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class _UpdateMixin:
    """Edit what the user may edit; the form shows the full phone to those who may see it,
    and that is a reveal."""

    def get_object(self, queryset=None):
        return _editable_or_denied(self.model, self.request.user, self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        phone_field = self.form_class.phone_field
        if getattr(self.object, phone_field) and request.user.has_perm(REVEAL_PERMISSION):
            _reveal(request, self.object, phone_field, "edit")
        return self.render_to_response(self.get_context_data())


# -- Organisations -------------------------------------------------------------------------


class OrganisationListView(_ListView):
    """The organisations of the user's area, by kind and name."""

    model = Organisation
    permission_required = "organisations.view_organisation"
    template_name = "organisations/organisation_list.html"
    context_object_name = "organisations"

    def get_queryset(self):
        return super().get_queryset().select_related("parent")


class OrganisationDetailView(_DetailView):
    """An organisation: its contact, its members with their roles and dates, its
    sub-groups."""

    model = Organisation
    permission_required = "organisations.view_organisation"
    template_name = "organisations/organisation_detail.html"
    context_object_name = "organisation"
    phone_field = "contact_phone"

    def get_queryset(self):
        return super().get_queryset().select_related("parent", "contact_member")

    def get_context_data(self, **kwargs):
        organisation, user = self.object, self.request.user
        memberships = list(
            organisation.memberships.select_related("member__community").defer(
                "member__id_number", "member__phone"
            )
        )
        # Only the members the user may see are named: a street's service group has members
        # in every community, and a community worker sees her own community's (the others
        # are counted).
        visible = set(
            Member.objects.visible_to(user)
            .filter(
                pk__in=[membership.member_id for membership in memberships]
                + [organisation.contact_member_id]
            )
            .values_list("pk", flat=True)
        )
        shown = [membership for membership in memberships if membership.member_id in visible]
        contact = organisation.contact_member
        return super().get_context_data(
            memberships=shown,
            others_count=len(memberships) - len(shown),
            current_count=sum(1 for m in memberships if m.left_on is None),
            children=Organisation.objects.visible_to(user).filter(parent=organisation),
            contact_visible=contact is not None and contact.pk in visible,
            end_form=MembershipEndForm(initial={"left_on": None}),
            may_add_members=self.editable and user.has_perm("organisations.add_membership"),
            may_end_members=self.editable and user.has_perm("organisations.change_membership"),
            **kwargs,
        )


class OrganisationCreateView(_FormMixin, CreateView):
    model = Organisation
    form_class = OrganisationForm
    permission_required = "organisations.add_organisation"
    template_name = "organisations/organisation_form.html"
    success_url_name = "organisations:detail"
    success_message = gettext_lazy("The organisation was registered.")

    def write(self, form):
        return services.organisation_create(
            actor=self.request.user, data=form.service_data(), request=self.request
        )


class OrganisationUpdateView(_UpdateMixin, _FormMixin, UpdateView):
    model = Organisation
    form_class = OrganisationForm
    permission_required = "organisations.change_organisation"
    template_name = "organisations/organisation_form.html"
    success_url_name = "organisations:detail"
    success_message = gettext_lazy("The changes were saved.")

    def write(self, form):
        return services.organisation_update(
            actor=self.request.user, organisation=self.object, data=form.service_data(),
            request=self.request,
        )  # fmt: skip


@login_required
@permission_required("organisations.add_membership", raise_exception=True)
def membership_add(request, pk):
    """Find a member by name (GET `q`) and add them with a role and the day they joined."""
    organisation = _editable_or_denied(Organisation, request.user, pk)
    members = Member.objects.visible_to(request.user).select_related("community")
    text = request.GET.get("q", "").replace("\x00", "").strip()
    if request.method == "POST":
        member_id = query_id(request.POST.get("member"))
        found = list(members.filter(pk=member_id)) if member_id is not None else []
        form = MembershipForm(request.POST, user=request.user, found=found)
        if form.is_valid():
            data = form.cleaned_data
            done = form_write(
                request, form,
                lambda: services.membership_add(
                    actor=request.user, organisation=organisation, member=data["member"],
                    role=data["role"], joined_on=data["joined_on"], request=request,
                ),
                done=_("The member was added to the organisation."),
            )  # fmt: skip
            if done:
                return redirect("organisations:detail", pk=organisation.pk)
    else:
        found = (
            list(members.filter(name__contains=text).order_by("name", "id")[:SEARCH_LIMIT])
            if text
            else []
        )
        form = MembershipForm(user=request.user, found=found)
    return render(
        request,
        "organisations/membership_form.html",
        {"organisation": organisation, "form": form, "q": text, "found": found,
         "searched": bool(text)},
    )  # fmt: skip


@require_POST
@login_required
@permission_required("organisations.change_membership", raise_exception=True)
def membership_end(request, pk):
    """End a membership on the day given; the row stays as history."""
    membership = _editable_or_denied(Membership, request.user, pk)
    # One of a member the user cannot see is not on the organisation's page: not theirs.
    if not Member.objects.visible_to(request.user).filter(pk=membership.member_id).exists():
        raise Http404
    form = MembershipEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the day the member left."))
    else:
        action_write(
            request,
            lambda: services.membership_end(
                actor=request.user, membership=membership,
                left_on=form.cleaned_data["left_on"], request=request,
            ),
            done=_("The membership was ended; it stays in the history."),
        )  # fmt: skip
    return redirect("organisations:detail", pk=membership.organisation_id)


# -- Places --------------------------------------------------------------------------------


class PlaceListView(_ListView):
    """The places of the user's area, by kind and name."""

    model = Place
    filter_form_class = PlaceFilterForm
    permission_required = "organisations.view_place"
    template_name = "organisations/place_list.html"
    context_object_name = "places"


class PlaceDetailView(_DetailView):
    model = Place
    permission_required = "organisations.view_place"
    template_name = "organisations/place_detail.html"
    context_object_name = "place"
    phone_field = "manager_phone"


class PlaceCreateView(_FormMixin, CreateView):
    model = Place
    form_class = PlaceForm
    permission_required = "organisations.add_place"
    template_name = "organisations/place_form.html"
    success_url_name = "organisations:place_detail"
    success_message = gettext_lazy("The place was registered.")

    def write(self, form):
        return services.place_create(
            actor=self.request.user, data=form.service_data(), request=self.request
        )


class PlaceUpdateView(_UpdateMixin, _FormMixin, UpdateView):
    model = Place
    form_class = PlaceForm
    permission_required = "organisations.change_place"
    template_name = "organisations/place_form.html"
    success_url_name = "organisations:place_detail"
    success_message = gettext_lazy("The changes were saved.")

    def write(self, form):
        return services.place_update(
            actor=self.request.user, place=self.object, data=form.service_data(),
            request=self.request,
        )  # fmt: skip


# -- On a member's page (members.views.member_section_register) -------------------------------


def member_organisations(member: Member, user):
    """A member's organisations for her page: those she belongs to now (role, since) and those
    she left (left on), of the organisations the viewer sees; the others are counted. None
    if she belongs to none, or the viewer may not see organisations."""
    if not user.has_perm("organisations.view_organisation"):
        return None
    memberships = list(
        # Current ones first, then the latest to leave (Membership.Meta.ordering).
        Membership.objects.filter(member=member).select_related("organisation")
    )
    if not memberships:
        return None
    ids = {membership.organisation_id for membership in memberships}
    visible = set(
        Organisation.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    shown = [membership for membership in memberships if membership.organisation_id in visible]
    return MemberSection(
        template="organisations/member_organisations.html",
        context={
            "current": [membership for membership in shown if membership.left_on is None],
            "ended": [membership for membership in shown if membership.left_on is not None],
            "others_count": len(ids - visible),
        },
    )
