"""Activity, visit and need pages. Every queryset starts from `visible_to`; out of scope is 404,
read-only 403."""

import calendar
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView, TemplateView, UpdateView
from django_filters.views import FilterView

from members.models import Member, contact_cutoff
from members.views import member_history
from organisations.models import Organisation, Place
from tongzhan.attachments import attachment_response
from tongzhan.dates import local_midnight
from tongzhan.filters import FIRST_DAY, LAST_DAY, query_id
from tongzhan.mixins import ServiceFormMixin, action_write, form_write
from tongzhan.models import Area
from tongzhan.scoping import within_area

from . import services
from .filters import ActivityFilterSet, NeedFilterForm, NotContactedForm
from .forms import (
    ActivityForm,
    ActivityTypeForm,
    NeedForm,
    NeedReferForm,
    NeedReturnForm,
    NeedStatusForm,
    VisitForm,
    id_last_four,
    participant_label,
)
from .models import (
    DUE_SOON_DAYS,
    Activity,
    ActivityType,
    Need,
    NeedQuerySet,
    Participation,
    Visit,
)

SEARCH_LIMIT = 20
# The most needs held above the user the need list shows below its own.
HELD_ABOVE_LIMIT = 50
# The most members one bulk choice adds to an activity at once.
BULK_LIMIT = 500


class ActivityListView(LoginRequiredMixin, PermissionRequiredMixin, FilterView):
    permission_required = "activities.view_activity"
    filterset_class = ActivityFilterSet
    template_name = "activities/activity_list.html"
    context_object_name = "activities"
    paginate_by = 25

    def get_queryset(self):
        return Activity.objects.visible_to(self.request.user).select_related("type", "area")

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        # Participants counted for the page's rows only, in one query.
        activities = context["activities"]
        counts = dict(
            Participation.objects.filter(activity__in=[activity.pk for activity in activities])
            .values("activity")
            .annotate(count=Count("id"))
            .values_list("activity", "count")
        )
        for activity in activities:
            activity.participant_count = counts.get(activity.pk, 0)
        return context


class ActivityDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "activities.view_activity"
    template_name = "activities/activity_detail.html"
    context_object_name = "activity"

    def get_queryset(self):
        return Activity.objects.visible_to(self.request.user).select_related(
            "type", "area", "created_by", "venue"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity, user = self.object, self.request.user
        # A joint activity can have participants from areas the viewer may not see: those
        # are counted, not named.
        participants = list(
            Member.objects.visible_to(user)
            .filter(activities=activity)
            .select_related("community")
            .order_by("name")
        )
        total = activity.participants.count()
        # Every partner is named (an organisation is no person); those the viewer may open
        # are linked, as is the place.
        partners = list(activity.partners.all())
        open_partners = set(
            Organisation.objects.visible_to(user)
            .filter(pk__in=[item.pk for item in partners])
            .values_list("pk", flat=True)
        )
        context.update(
            partners=[(item, item.pk in open_partners) for item in partners],
            venue_visible=activity.venue_id is not None
            and Place.objects.visible_to(user).filter(pk=activity.venue_id).exists(),
            participants=participants,
            participants_elsewhere=total - len(participants),
            editable=Activity.objects.editable_by(user).filter(pk=activity.pk).exists(),
            files=activity.files.all(),
            history=_history(activity, user),
        )
        return context


def _history(activity: Activity, user) -> list[dict]:
    """The activity's history entries, each changed field under its label; participants as
    the viewer may see them."""
    fields = [*Activity._meta.concrete_fields, *Activity._meta.many_to_many]
    # Files are not a field of the activity: their changes are recorded under "files".
    labels = {field.name: field.verbose_name for field in fields} | {
        "files": _("Photos and documents")
    }
    changes = list(activity.changes.select_related("actor"))
    people = PeopleAsSeen(
        user,
        [
            value
            for change in changes
            for row in change.changes
            if row["field"] == "participants"
            for value in (row["old"], row["new"])
        ],
    )
    return [
        {
            "change": change,
            "rows": [
                {
                    **row,
                    **(
                        {"old": people.text(row["old"]), "new": people.text(row["new"])}
                        if row["field"] == "participants"
                        else {}
                    ),
                    "label": labels.get(row["field"], row["field"]),
                }
                for row in change.changes
            ],
        }
        for change in changes
    ]


class PeopleAsSeen:
    """Lists of members (by id) as one viewer may read them: the names of those in the
    viewer's scope, the others counted, as the participant panel does. Looked up in one query
    for a page's lists."""

    def __init__(self, user, lists):
        ids = {pk for value in lists if isinstance(value, list) for pk in value}
        self.names = dict(
            Member.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "name")
        )
        self.sees_everything = user.sees_everything

    def text(self, value) -> str:
        if not value:
            return ""
        if isinstance(value, str):
            # Recorded as names before histories kept ids: whose they are is unknown, so only
            # a viewer of every area reads them; others see how many.
            if self.sees_everything:
                return value
            count = len(value.split("、"))
            return ngettext("%(count)s member", "%(count)s members", count) % {"count": count}
        names = sorted(self.names[pk] for pk in value if pk in self.names)
        others = len(value) - len(names)
        if not others:
            return "、".join(names)
        elsewhere = ngettext(
            "%(count)s member from other areas", "%(count)s members from other areas", others
        ) % {"count": others}
        return "、".join([*names, elsewhere])


class EditableMixin:
    """For update views: an object the user may see (else 404) and may edit (else 403)."""

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not self.model.objects.editable_by(self.request.user).filter(pk=obj.pk).exists():
            raise PermissionDenied
        return obj


class ActivityFormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    model = Activity
    form_class = ActivityForm
    template_name = "activities/activity_form.html"
    success_url_name = "activities:detail"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "search_url": reverse("activities:member_search"),
            "bulk_url": reverse("activities:member_bulk"),
        }


class ActivityCreateView(ActivityFormMixin, CreateView):
    permission_required = "activities.add_activity"
    success_message = gettext_lazy("The activity was recorded.")

    def write(self, form):
        return services.activity_create(
            actor=self.request.user,
            data=form.service_data(),
            participants=form.cleaned_data["participants"],
            partners=form.cleaned_data["partners"],
            uploads=form.cleaned_data["files"],
            request=self.request,
        )


class ActivityUpdateView(EditableMixin, ActivityFormMixin, UpdateView):
    permission_required = "activities.change_activity"
    success_message = gettext_lazy("The changes were saved.")

    def write(self, form):
        return services.activity_update(
            actor=self.request.user,
            activity=form.instance,
            data=form.service_data(),
            participants=form.cleaned_data["participants"],
            partners=form.cleaned_data["partners"],
            uploads=form.cleaned_data["files"],
            request=self.request,
        )


@login_required
def member_search(request):
    """Members of the user's area whose name contains `q`, for the participant pickers.

    `community` (an id) narrows to one community, as a visit's members must share it.
    """
    if not (
        request.user.has_perm("activities.add_activity")
        or request.user.has_perm("activities.add_visit")
    ):
        raise PermissionDenied
    text = request.GET.get("q", "").strip()
    if not text or "\x00" in text:  # no name holds a NUL (PostgreSQL refuses it)
        return JsonResponse({"results": []})
    members = Member.objects.visible_to(request.user).filter(
        name__contains=text, status=Member.Status.ACTIVE
    )
    community = query_id(request.GET.get("community"))
    if community is not None:
        members = members.filter(community_id=community)
    members = (
        members.select_related("community")
        # The masked number only: the full one is never decrypted for a picker.
        .only("id", "name", "birth_date", "id_number_masked", "community__name")
        .order_by("name", "id")[:SEARCH_LIMIT]
    )
    return JsonResponse({"results": [picker_row(member) for member in members]})


def picker_row(member: Member) -> dict:
    return {
        "id": member.pk,
        "name": member.name,
        "age": member.age,
        "id_last_four": id_last_four(member),
        "community": member.community.name,
        "label": participant_label(member),
    }


@login_required
@permission_required("activities.add_activity", raise_exception=True)
def member_bulk(request):
    """The members of one category, one grid or one earlier activity, for the activity picker.

    Only registered members the user may see; a grid or an activity the user may not see
    finds nobody. At most BULK_LIMIT members, with a message saying how many were left out.
    """
    members = Member.objects.visible_to(request.user).filter(status=Member.Status.ACTIVE)
    category = request.GET.get("category", "")
    grid = query_id(request.GET.get("grid"))
    activity = query_id(request.GET.get("activity"))
    if category and category.isascii() and category.isalnum() and len(category) <= 2:
        members = members.filter(categories__code=category)
    elif grid is not None:
        grids = Area.objects.visible_to(request.user).filter(level=Area.Level.GRID)
        members = members.filter(grid__in=grids.filter(pk=grid))
    elif activity is not None:
        activities = Activity.objects.visible_to(request.user).filter(pk=activity)
        members = members.filter(activities__in=activities)
    else:
        return JsonResponse({"results": [], "message": ""})
    members = members.distinct()
    total = members.count()
    members = (
        members.select_related("community")
        .only("id", "name", "birth_date", "id_number_masked", "community__name")
        .order_by("name", "id")[:BULK_LIMIT]
    )
    message = ""
    if total > BULK_LIMIT:
        message = _(
            "%(total)s members match; only the first %(limit)s were added. "
            "Choose a smaller group or add the rest by name."
        ) % {"total": total, "limit": BULK_LIMIT}
    return JsonResponse({"results": [picker_row(member) for member in members], "message": message})


# -- Visits -----------------------------------------------------------------------------------


class VisitListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    permission_required = "activities.view_visit"
    template_name = "activities/visit_list.html"
    context_object_name = "visits"
    paginate_by = 25

    def get_queryset(self):
        # Each visit names the members the viewer may see (a member may have moved away).
        return (
            Visit.objects.visible_to(self.request.user)
            .select_related("community")
            .prefetch_related(
                Prefetch("members", queryset=Member.objects.visible_to(self.request.user))
            )
        )


class VisitDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "activities.view_visit"
    template_name = "activities/visit_detail.html"
    context_object_name = "visit"

    def get_queryset(self):
        return Visit.objects.visible_to(self.request.user).select_related("community", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visit, user = self.object, self.request.user
        # Members who have moved out of the viewer's scope since are counted, not named.
        members = list(Member.objects.visible_to(user).filter(visits=visit).order_by("name"))
        context.update(
            members=members,
            members_elsewhere=visit.members.count() - len(members),
            needs=Need.objects.visible_to(user)
            .filter(visit=visit)
            .with_overdue(timezone.localdate())
            .order_by("-overdue", "due_date", "-id"),
            editable=Visit.objects.editable_by(self.request.user).filter(pk=visit.pk).exists(),
        )
        return context


class VisitCreateView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, CreateView):
    permission_required = "activities.add_visit"
    model = Visit
    form_class = VisitForm
    template_name = "activities/visit_form.html"

    def get_form_kwargs(self):
        kwargs = {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "search_url": reverse("activities:member_search"),
        }
        # Started from a member's page: that member, in their community.
        member = Member.objects.visible_to(self.request.user).filter(
            pk=query_id(self.request.GET.get("member")) or 0
        )
        member = member.first()
        if member is not None and self.request.method == "GET":
            kwargs["initial"] = {"members": [member.pk], "community": member.community_id}
        return kwargs

    success_message = gettext_lazy("The visit was recorded.")
    success_url_name = "activities:visit_detail"

    def write(self, form):
        need = None
        if form.cleaned_data.get("need_kind"):
            need = {
                "kind": form.cleaned_data["need_kind"],
                "description": form.cleaned_data["need_description"],
            }
        return services.visit_create(
            actor=self.request.user,
            data=form.service_data(),
            members=form.cleaned_data["members"],
            need=need,
            request=self.request,
        )


# -- Needs ------------------------------------------------------------------------------------


class NeedListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Open, overdue or closed needs of an area, with counts per community.

    `area` narrows to a street or community of the user's; `since` and `until` set the
    period whose resolved needs (解决实事) are counted (default: this year so far).
    """

    permission_required = "activities.view_need"
    template_name = "activities/need_list.html"
    context_object_name = "needs"
    paginate_by = 25
    SHOWS = ("open", "due_soon", "overdue", "closed", "resolved")

    @property
    def show(self) -> str:
        show = self.request.GET.get("show", "open")
        return show if show in self.SHOWS else "open"

    @cached_property
    def filters(self) -> NeedFilterForm:
        today = timezone.localdate()
        period = {"since": today.replace(month=1, day=1), "until": today}
        data = self.request.GET.copy()
        for name, day in period.items():
            data.setdefault(name, day.isoformat())
        form = NeedFilterForm(data, initial=period, user=self.request.user)
        form.is_valid()
        return form

    @cached_property
    def area(self) -> Area | None:
        return self.filters.cleaned_data.get("area")

    @cached_property
    def period(self) -> tuple[datetime.date, datetime.date]:
        chosen, default = self.filters.cleaned_data, self.filters.initial
        return chosen.get("since") or default["since"], chosen.get("until") or default["until"]

    def _needs(self):
        needs = Need.objects.visible_to(self.request.user)
        if self.filters.errors:  # as the filtered lists do: nothing rather than all of it
            return needs.none()
        if self.area is not None:
            needs = needs.filter(within_area(self.area, "member__community"))
        return needs

    @property
    def held(self) -> str:
        """ "here": only the needs the user's own area holds (a street's or district's
        referred ones, a community's not referred up)."""
        return "here" if self.request.GET.get("held") == "here" else ""

    def needs(self):
        needs = self._needs()
        if self.held:
            needs = needs.held_by_own_area(self.request.user)
        return needs

    def get_queryset(self):
        today = timezone.localdate()
        needs = self.needs().select_related("member", "community", "held_by").with_overdue(today)
        # Open needs are counted where they are held: one referred above the user is listed
        # apart (`held_above`), read-only here.
        held = NeedQuerySet.is_held_within(self.request.user)
        if self.show == "open":
            # Overdue first: on a phone the first cards are what is late.
            return needs.open().filter(held).order_by("-overdue", "due_date", "-raised_on", "-id")
        if self.show == "due_soon":
            return needs.due_soon(today).filter(held).order_by("due_date", "-id")
        if self.show == "overdue":
            return needs.overdue(today).filter(held).order_by("due_date", "-id")
        if self.show == "resolved":
            return needs.resolved(self.period).order_by("-closed_on", "-id")
        return needs.closed().order_by("-closed_on", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        since, until = self.period
        held = NeedQuerySet.is_held_within(self.request.user)
        counted = {
            "open": Count("id", filter=NeedQuerySet.is_open() & held),
            "due_soon": Count("id", filter=NeedQuerySet.is_due_soon(timezone.localdate()) & held),
            "overdue": Count("id", filter=NeedQuerySet.is_overdue(timezone.localdate()) & held),
            "closed": Count("id", filter=NeedQuerySet.is_closed()),
            "resolved": Count("id", filter=NeedQuerySet.is_resolved(self.period)),
        }
        # One query for the totals, one for the rows per community.
        totals = self.needs().aggregate(**counted)
        per_community = (
            self.needs()
            .values(code=F("member__community__code"), name=F("member__community__name"))
            .annotate(**counted)
            .order_by("code")
        )
        query = self.request.GET.copy()
        query.pop("page", None)
        query["show"] = self.show
        context.update(
            show=self.show,
            due_soon_days=DUE_SOON_DAYS,
            counts=totals,
            per_community=per_community if len(per_community) > 1 else [],
            since=since,
            until=until,
            # The period the per-community links keep (each number links to its list).
            period_query=urlencode({"since": since.isoformat(), "until": until.isoformat()}),
            area=self.area,
            filters=self.filters,
            query_without_page=query.urlencode(),
            query_without_show=_without(query, "show"),
            query_without_held=_without(query, "held"),
            held=self.held,
            # Referred up and held above the user: still theirs to read, not to count.
            held_above=(
                self.needs()
                .open()
                .held_above(self.request.user)
                .select_related("member", "held_by")
                .order_by("due_date", "-id")[:HELD_ABOVE_LIMIT]
                if self.show in ("open", "due_soon", "overdue")
                else []
            ),
        )
        return context


def _without(query, name: str) -> str:
    others = query.copy()
    others.pop(name, None)
    return others.urlencode()


class NeedDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "activities.view_need"
    template_name = "activities/need_detail.html"
    context_object_name = "need"

    def get_queryset(self):
        return (
            Need.objects.visible_to(self.request.user)
            .select_related("member__community", "community", "visit", "created_by", "held_by")
            .with_overdue(timezone.localdate())
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        need = self.object
        editable = Need.objects.editable_by(self.request.user).filter(pk=need.pk).exists()
        labels = {field.name: field.verbose_name for field in Need._meta.concrete_fields}
        history = [
            {
                "change": change,
                # The closing note is the change's note: not shown twice.
                "rows": [
                    {**row, "label": labels.get(row["field"], row["field"])}
                    for row in change.changes
                    if not (change.note and row["field"] == "resolution")
                ],
            }
            for change in need.changes.select_related("actor", "from_area", "to_area")
        ]
        user = self.request.user
        holder = need.held_by or need.member.community
        may_change = user.has_perm("activities.change_need")
        context.update(
            editable=editable,
            status_form=kwargs.get("status_form")
            or (
                NeedStatusForm(need=need)
                if editable and need.is_open and not need.awaits_acceptance
                else None
            ),
            history=history,
            holder=holder,
            refer_form=kwargs.get("refer_form")
            or (
                NeedReferForm(holder=holder)
                if may_change
                and need.is_open
                and not need.awaits_acceptance
                and user.area_id == holder.pk
                and holder.parent_id
                else None
            ),
            # The area that referred it takes it back while it waits.
            may_recall=services.need_may_recall(user, need),
            # The area it was referred to accepts it or sends it back.
            may_accept=may_change and need.awaits_acceptance and user.area_id == need.held_by_id,
            return_form=kwargs.get("return_form")
            or (
                NeedReturnForm()
                if may_change
                and need.is_open
                and need.held_by_id
                and user.area_id == need.held_by_id
                else None
            ),
        )
        return context

    def post(self, request, *args, **kwargs):
        """Move the need to its next status."""
        self.object = need = self.get_object()
        if not Need.objects.editable_by(request.user).filter(pk=need.pk).exists():
            raise PermissionDenied
        form = NeedStatusForm(request.POST, need=need)
        if form.is_valid() and form_write(
            request,
            form,
            lambda: services.need_set_status(
                actor=request.user, need=need, request=request, **form.cleaned_data
            ),
            done=_("The status was changed."),
        ):
            return redirect("activities:need_detail", pk=need.pk)
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(status_form=form))


def _need_for_change(request, pk) -> Need:
    """A need the user sees (else 404) and whose role may change needs (else 403)."""
    if not request.user.has_perm("activities.change_need"):
        raise PermissionDenied
    return get_object_or_404(
        Need.objects.visible_to(request.user).select_related("held_by", "member__community"),
        pk=pk,
    )


def _need_page_with(request, pk, **forms):
    """The need's page again with a refused form, its fields marked (its action's anchor
    brings a phone down to it)."""
    view = NeedDetailView(request=request, kwargs={"pk": pk}, args=())
    view.object = view.get_object()
    return view.render_to_response(view.get_context_data(**forms))


@login_required
@require_POST
def need_refer(request, pk):
    """Refer a need up (上报) to the street or district, with the reason."""
    need = _need_for_change(request, pk)
    holder = need.held_by or need.member.community
    if request.user.area_id != holder.pk:
        raise PermissionDenied
    form = NeedReferForm(request.POST, holder=holder)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: services.need_refer(
            actor=request.user, need=need, request=request, **form.cleaned_data
        ),
        done=_("The need was referred to %(area)s.") % {"area": form.cleaned_data["to_area"]},
    ):
        return redirect("activities:need_detail", pk=need.pk)
    return _need_page_with(request, pk, refer_form=form)


@login_required
@require_POST
def need_accept(request, pk):
    """Accept a need referred to the user's area (受理)."""
    need = _need_for_change(request, pk)
    if request.user.area_id is not None and not need.awaits_acceptance:
        # Taken back or accepted meanwhile: said on the need's page, not as a refusal.
        messages.error(request, _("The need does not await acceptance any more."))
        return redirect("activities:need_detail", pk=need.pk)
    if request.user.area_id is None or request.user.area_id != need.held_by_id:
        raise PermissionDenied
    action_write(
        request,
        lambda: services.need_accept(actor=request.user, need=need, request=request),
        done=_("The need was accepted."),
    )
    return redirect("activities:need_detail", pk=need.pk)


@login_required
@require_POST
def need_recall(request, pk):
    """Take back (撤回) a referral the area above has not accepted yet."""
    need = _need_for_change(request, pk)
    if not need.awaits_acceptance:
        # Accepted (or taken back) meanwhile: said on the need's page, not as a refusal.
        messages.error(request, _("The referral was accepted already: it is not taken back."))
        return redirect("activities:need_detail", pk=need.pk)
    if not services.need_may_recall(request.user, need):
        raise PermissionDenied
    action_write(
        request,
        lambda: services.need_recall(actor=request.user, need=need, request=request),
        done=_("The referral was taken back: the need is yours to follow up again."),
    )
    return redirect("activities:need_detail", pk=need.pk)


@login_required
@require_POST
def need_return(request, pk):
    """Send a referred need back (退回) with the reason."""
    need = _need_for_change(request, pk)
    if request.user.area_id is None or request.user.area_id != need.held_by_id:
        raise PermissionDenied
    form = NeedReturnForm(request.POST)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: services.need_return(
            actor=request.user, need=need, request=request, **form.cleaned_data
        ),
        done=_("The need was returned."),
    ):
        return redirect("activities:need_detail", pk=need.pk)
    return _need_page_with(request, pk, return_form=form)


class NeedCreateView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, CreateView):
    """A need raised by a member (given in the address), outside a visit or on one."""

    permission_required = "activities.add_need"
    model = Need
    form_class = NeedForm
    template_name = "activities/need_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.member = get_object_or_404(
                Member.objects.visible_to(request.user),
                pk=query_id(request.GET.get("member")) or 0,
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "member": self.member}

    success_message = gettext_lazy("The need was recorded.")
    success_url_name = "activities:need_detail"

    def write(self, form):
        return services.need_create(
            actor=self.request.user,
            member=self.member,
            data=form.cleaned_data,
            request=self.request,
        )


# -- Members not contacted lately ---------------------------------------------------------------


class NotContactedView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Registered members of the user's area with no visit or activity in N months."""

    permission_required = "activities.view_visit"
    template_name = "activities/not_contacted.html"
    context_object_name = "members"
    paginate_by = 50
    DEFAULT_MONTHS = 12

    @cached_property
    def filters(self) -> NotContactedForm:
        data = self.request.GET.copy()
        data.setdefault("months", self.DEFAULT_MONTHS)
        form = NotContactedForm(data, user=self.request.user)
        form.is_valid()
        return form

    @property
    def months(self) -> int:
        return self.filters.cleaned_data.get("months") or self.DEFAULT_MONTHS

    @property
    def since(self) -> datetime.date:
        return contact_cutoff(self.months, timezone.localdate())

    @cached_property
    def area(self) -> Area | None:
        """The area asked for (by code), within the user's scope; 404 outside it."""
        if "area" in self.filters.errors:
            raise Http404
        return self.filters.cleaned_data.get("area")

    def get_queryset(self):
        members = Member.objects.visible_to(self.request.user)
        if self.filters.errors:  # as the filtered lists do: nothing rather than all of it
            return members.none()
        if self.area is not None:
            members = members.filter(within_area(self.area, "community"))
        return (
            members.filter(status=Member.Status.ACTIVE)
            .not_contacted_since(self.since)
            .select_related("community")
            .defer("id_number", "phone")
            .order_by("community__code", "name", "id")
        )

    def get_context_data(self, **kwargs):
        query = {"months": self.months} | ({"area": self.area.code} if self.area else {})
        return {
            **super().get_context_data(**kwargs),
            "months": self.months,
            "since": self.since,
            "area": self.area,
            "filters": self.filters,
            "query_without_page": urlencode(query),
        }


# -- Activity files ---------------------------------------------------------------------------


@require_POST
@login_required
@permission_required("activities.change_activity", raise_exception=True)
def activity_file_upload(request, pk):
    activity = get_object_or_404(Activity.objects.visible_to(request.user), pk=pk)
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, _("Choose a photo or PDF to upload."))
    for upload in uploads:
        action_write(
            request,
            lambda upload=upload: services.activity_file_add(
                actor=request.user, activity=activity, upload=upload, request=request
            ),
            done=_("%(name)s was added.") % {"name": upload.name},
        )
    return redirect("activities:detail", pk=activity.pk)


@require_POST
@login_required
@permission_required("activities.change_activity", raise_exception=True)
def activity_file_remove(request, pk, file_pk):
    activity = get_object_or_404(Activity.objects.visible_to(request.user), pk=pk)
    attached = get_object_or_404(activity.files, pk=file_pk)
    services.activity_file_remove(actor=request.user, attached=attached, request=request)
    messages.success(request, _("%(name)s was removed.") % {"name": attached.name})
    return redirect("activities:detail", pk=activity.pk)


@login_required
@permission_required("activities.view_activity", raise_exception=True)
def activity_file(request, pk, file_pk):
    """A file of an activity the user may see; never served from a public URL."""
    activity = get_object_or_404(Activity.objects.visible_to(request.user), pk=pk)
    attached = get_object_or_404(activity.files, pk=file_pk)
    return attachment_response(attached)


class ActivityMonthView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """The activities of one month on a calendar (a list of days on a phone)."""

    permission_required = "activities.view_activity"
    template_name = "activities/activity_month.html"

    # A district holds thousands of activities a month: a day shows the first few and links
    # to the list of that day.
    PER_DAY = 3

    def cell(self, day: datetime.date, first: datetime.date, activities: list) -> dict:
        return {
            "day": day,
            "in_month": day.month == first.month,
            "activities": activities[: self.PER_DAY],
            "more": max(len(activities) - self.PER_DAY, 0),
        }

    def month(self) -> datetime.date:
        this_month = timezone.localdate().replace(day=1)
        try:
            year, month = (int(part) for part in self.request.GET.get("month", "").split("-"))
            first = datetime.date(year, month, 1)
        except ValueError:
            return this_month
        # Within the years a filter accepts: the calendar's neighbours stay within Python's.
        return first if FIRST_DAY <= first <= LAST_DAY else this_month

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        first = self.month()
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        activities = (
            Activity.objects.visible_to(self.request.user)
            .filter(starts_at__date__gte=first, starts_at__date__lt=following)
            .order_by("starts_at", "id")
            .values_list("pk", "title", "starts_at")
        )
        by_day: dict[datetime.date, list] = {}
        for pk, title, starts_at in activities:
            starts_at = timezone.localtime(starts_at)
            by_day.setdefault(starts_at.date(), []).append(
                {"pk": pk, "title": title, "starts_at": starts_at}
            )
        weeks = [
            [self.cell(day, first, by_day.get(day, [])) for day in week]
            for week in calendar.Calendar().monthdatescalendar(first.year, first.month)
        ]
        previous = (first - datetime.timedelta(days=1)).replace(day=1)
        context.update(
            first=first,
            weeks=weeks,
            previous=f"{previous:%Y-%m}",
            following=f"{following:%Y-%m}",
            today=timezone.localdate(),
        )
        return context


class VisitUpdateView(
    EditableMixin, LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, UpdateView
):
    permission_required = "activities.change_visit"
    model = Visit
    form_class = VisitForm
    template_name = "activities/visit_form.html"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "search_url": reverse("activities:member_search"),
        }

    success_message = gettext_lazy("The changes were saved.")
    success_url_name = "activities:visit_detail"

    def write(self, form):
        return services.visit_update(
            actor=self.request.user,
            visit=form.instance,
            data=form.service_data(),
            members=form.cleaned_data["members"],
            request=self.request,
        )


class NeedUpdateView(
    EditableMixin, LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, UpdateView
):
    permission_required = "activities.change_need"
    model = Need
    form_class = NeedForm
    template_name = "activities/need_form.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "member": self.object.member}

    success_message = gettext_lazy("The changes were saved.")
    success_url_name = "activities:need_detail"

    def write(self, form):
        return services.need_update(
            actor=self.request.user,
            need=form.instance,
            data=form.cleaned_data,
            request=self.request,
        )


# The latest of each kind of entry on a member's timeline; older ones are on their lists.
TIMELINE_LIMIT = 50


@login_required
def member_timeline(request, pk):
    """A member's registration, changes, activities, visits and needs, newest first.

    The list on the member's page, which the page fetches into its own list of registration
    and changes. One query per kind, each limited, and only what the viewer may see (a
    joint activity of another area is not shown to a worker who cannot see it).
    """
    user = request.user
    member = get_object_or_404(Member.objects.visible_to(user), pk=pk)
    entries = member_history(member)
    if user.has_perm("activities.view_activity"):
        activities = (
            Activity.objects.visible_to(user)
            .filter(participation__member=member)
            .select_related("type")
            .order_by("-starts_at", "-id")[:TIMELINE_LIMIT]
        )
        entries += [{"at": a.starts_at, "kind": "activity", "activity": a} for a in activities]
    if user.has_perm("activities.view_visit"):
        visits = Visit.objects.visible_to(user).filter(members=member)[:TIMELINE_LIMIT]
        entries += [{"at": local_midnight(v.date), "kind": "visit", "visit": v} for v in visits]
    if user.has_perm("activities.view_need"):
        needs = Need.objects.visible_to(user).filter(member=member)
        for need in needs.with_overdue(timezone.localdate())[:TIMELINE_LIMIT]:
            entries.append({"at": local_midnight(need.raised_on), "kind": "need", "need": need})
            if need.closed_on:
                entries.append(
                    {"at": local_midnight(need.closed_on), "kind": "need_closed", "need": need}
                )
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return render(
        request, "activities/member_timeline.html", {"member": member, "timeline": entries}
    )


# -- Activity types (administrators) ---------------------------------------------------------


class ActivityTypeListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Every activity type, in the order the activity form offers them; types are global."""

    permission_required = "activities.change_activitytype"
    model = ActivityType
    template_name = "activities/type_list.html"
    context_object_name = "types"


class ActivityTypeFormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    model = ActivityType
    form_class = ActivityTypeForm
    template_name = "activities/type_form.html"

    def get_success_url(self) -> str:
        return reverse("activities:type_list")


class ActivityTypeCreateView(ActivityTypeFormMixin, CreateView):
    permission_required = ("activities.add_activitytype", "activities.change_activitytype")
    success_message = gettext_lazy("The activity type was added.")

    def write(self, form):
        return services.activity_type_create(
            actor=self.request.user, data=form.cleaned_data, request=self.request
        )


class ActivityTypeUpdateView(ActivityTypeFormMixin, UpdateView):
    permission_required = "activities.change_activitytype"
    success_message = gettext_lazy("The activity type was saved.")

    def write(self, form):
        return services.activity_type_update(
            actor=self.request.user,
            activity_type=self.object,
            data=form.cleaned_data,
            request=self.request,
        )


@login_required
@permission_required("activities.change_activitytype", raise_exception=True)
@require_POST
def activity_type_toggle(request, pk):
    """停用 or 启用 a type: a button on the list."""
    activity_type = get_object_or_404(ActivityType, pk=pk)
    in_use = not activity_type.is_active
    done = (_("%(type)s is in use again.") if in_use else _("%(type)s is no longer offered.")) % {
        "type": activity_type.name
    }
    action_write(
        request,
        lambda: services.activity_type_update(
            actor=request.user,
            activity_type=activity_type,
            data={"is_active": in_use},
            request=request,
        ),
        done=done,
    )
    return redirect("activities:type_list")
