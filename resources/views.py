"""Resources, community needs, the match page and the two-way service ledger.

Every page starts from `visible_to`: out of scope is 404, in scope but read-only is 403. A
member who offers a resource is named in full to her area's staff and masked elsewhere
(`services.owner_name`).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from activities.models import Need
from members.models import Member, talent_plan
from members.views import XLSX, TalliedPaginator
from organisations.models import Membership
from tongzhan import spreadsheets as xlsx
from tongzhan.audit import audit_record
from tongzhan.masking import name_seen_by
from tongzhan.mixins import ServiceFormMixin, action_write, form_write
from tongzhan.models import Area, AuditEvent
from tongzhan.scoping import visible_area_ids, within_area

from . import services
from .forms import (
    CommunityNeedForm,
    LedgerForm,
    MatchForm,
    MatchSettleForm,
    ResourceFilterForm,
    ResourceForm,
    TalentSearchForm,
)
from .models import CommunityNeed, Match, Resource


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _editable_or_denied(model, user, pk):
    """A record the user may see (else 404) and edit (else 403)."""
    obj = get_object_or_404(model.objects.visible_to(user), pk=pk)
    if not model.objects.editable_by(user).filter(pk=obj.pk).exists():
        raise PermissionDenied
    return obj


def _used():
    """The matches taking a resource's capacity, as a subquery of the resource lists."""
    return Coalesce(
        Subquery(
            Match.objects.filter(Match.objects.is_taking_capacity(), resource_id=OuterRef("pk"))
            .order_by()
            .values("resource_id")
            .annotate(n=Count("id"))
            .values("n")
        ),
        0,
    )


def _with_owners(resources, user):
    for resource in resources:
        resource.owner = services.owner_name(resource, user)
        if resource.capacity is not None and hasattr(resource, "used"):
            resource.remaining = resource.capacity - resource.used
    return resources


# -- Resources ------------------------------------------------------------------------------


class ResourceListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """The resources of the user's area and those serving it, by kind and title."""

    permission_required = "resources.view_resource"
    template_name = "resources/resource_list.html"
    context_object_name = "resources"
    paginate_by = 25

    @cached_property
    def filter_form(self):
        return ResourceFilterForm(self.request.GET or None)

    def get_queryset(self):
        rows = (
            Resource.objects.visible_to(self.request.user)
            .select_related("member", "organisation", "area")
            .defer("member__id_number", "member__phone")
            .annotate(used=_used())
        )
        if self.filter_form.is_valid():
            data = self.filter_form.cleaned_data
            if data["q"]:
                rows = rows.filter(title__contains=data["q"])
            if data["kind"]:
                rows = rows.filter(kind=data["kind"])
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            filter_form=self.filter_form,
            query_without_page=_query_without_page(self.request),
            today=timezone.localdate(),
            **kwargs,
        )
        _with_owners(context["resources"], self.request.user)
        return context


class ResourceDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "resources.view_resource"
    template_name = "resources/resource_detail.html"
    context_object_name = "resource"

    def get_queryset(self):
        return (
            Resource.objects.visible_to(self.request.user)
            .select_related("member", "organisation", "area", "recorded_by")
            .defer("member__id_number", "member__phone")
            .annotate(used=_used())
        )

    def get_context_data(self, **kwargs):
        user, resource = self.request.user, self.object
        _with_owners([resource], user)
        return super().get_context_data(
            served=resource.served_areas.order_by("code"),
            matches=Match.objects.visible_to(user)
            .filter(resource=resource)
            .select_related("area", "need__member", "community_need")
            .defer("need__member__id_number", "need__member__phone"),
            editable=Resource.objects.editable_by(user).filter(pk=resource.pk).exists(),
            today=timezone.localdate(),
            **kwargs,
        )


class _FormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class ResourceCreateView(_FormMixin, CreateView):
    model = Resource
    form_class = ResourceForm
    permission_required = "resources.add_resource"
    template_name = "resources/resource_form.html"
    success_url_name = "resources:detail"
    success_message = gettext_lazy("The resource was recorded.")

    def write(self, form):
        return services.resource_create(
            actor=self.request.user, data=form.service_data(),
            served_areas=form.cleaned_data["served_areas"], request=self.request,
        )  # fmt: skip


class ResourceUpdateView(_FormMixin, UpdateView):
    model = Resource
    form_class = ResourceForm
    permission_required = "resources.change_resource"
    template_name = "resources/resource_form.html"
    success_url_name = "resources:detail"
    success_message = gettext_lazy("The changes were saved.")

    def get_object(self, queryset=None):
        return _editable_or_denied(Resource, self.request.user, self.kwargs["pk"])

    def write(self, form):
        return services.resource_update(
            actor=self.request.user, resource=self.object, data=form.service_data(),
            served_areas=form.cleaned_data["served_areas"], request=self.request,
        )  # fmt: skip


# -- Talent search (人才库) ------------------------------------------------------------------


class _InNameOrder:
    """A search's matches in name order, for a paginator told their number: each page's ids
    from `ids` (the index walk of `talent_in_name_order`), then those rows from `rows` as
    the list shows them, in the same order."""

    def __init__(self, ids, rows):
        self.ids, self.rows = ids, rows

    def __getitem__(self, index):
        ids = list(self.ids[index])
        found = self.rows.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


class TalentSearchView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Registered members of the user's area by expertise, professional title and industry,
    education, category and organisation, those matching most first; nothing until something
    is asked. Phones masked as in the member list.

    Up to `TALENT_RANKED_AT_MOST` matches are ranked; a search finding more (a word that a
    district's thousands hold) lists them in name order, the first that many, and says so:
    ranking them all would read every match before the first page."""

    permission_required = "members.view_member"
    template_name = "resources/talent.html"
    context_object_name = "members"
    paginate_by = 25
    matched = 0
    # A street's pages past what the search ranks, read through the talent index, are read in
    # the plan its matches had (`talent_plan`); a district's walking the index of names are not.
    page_across_communities = False

    @cached_property
    def filter_form(self):
        return TalentSearchForm(self.request.GET or None, user=self.request.user)

    @property
    def more_than_ranked(self) -> bool:
        return self.matched > settings.TALENT_RANKED_AT_MOST

    def get_queryset(self):
        rows = Member.objects.visible_to(self.request.user)
        if not self.filter_form.searched:
            return rows.none()
        data = self.filter_form.cleaned_data
        rows = rows.filter(status=Member.Status.ACTIVE)
        if data["education"]:
            rows = rows.filter(education=data["education"])
        if data["category"] is not None:
            rows = rows.filter(categories=data["category"])
        if data["organisation"] is not None:
            rows = rows.filter(
                Exists(
                    Membership.objects.current().filter(
                        member=OuterRef("pk"), organisation=data["organisation"]
                    )
                )
            )
        user = self.request.user
        level = user.area.level if user.area else None
        # A street or a community asks the talent index for its communities with the words.
        communities = (
            visible_area_ids(user) if level in (Area.Level.STREET, Area.Level.COMMUNITY) else None
        )
        across_communities = level != Area.Level.COMMUNITY
        # Read only as far as the search ranks: past that the number is "more than".
        matched = rows.talent_matched(
            data["q"],
            settings.TALENT_RANKED_AT_MOST,
            communities=communities,
            across_communities=across_communities,
        )
        self.matched = len(matched)
        if not self.more_than_ranked:
            # Ranked from their ids: the matches are not looked for again.
            scored = rows.filter(pk__in=matched).talent_scored(data["q"])
            return scored.for_list().order_by("-talent_score", "name", "pk")
        # The page's ids read through the talent index are read in the plan the matches had.
        self.page_across_communities = across_communities and communities is not None
        walk = rows.talent_in_name_order(data["q"], communities=communities)
        return _InNameOrder(walk.values_list("pk", flat=True), rows.for_list())

    def paginate_queryset(self, queryset, page_size):
        with talent_plan(Member.objects.db, across_communities=self.page_across_communities):
            paginated = super().paginate_queryset(queryset, page_size)
            paginated[1].object_list = list(paginated[1].object_list)
        return paginated

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kw):
        count = min(self.matched, settings.TALENT_RANKED_AT_MOST)
        return TalliedPaginator(queryset, per_page, orphans, allow_empty_first_page, count=count)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            filter_form=self.filter_form,
            more_than_ranked=self.more_than_ranked,
            ranked_at_most=settings.TALENT_RANKED_AT_MOST,
            query_without_page=_query_without_page(self.request),
            **kwargs,
        )


# -- Needs ----------------------------------------------------------------------------------


class CommunityNeedListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """What the communities of the user's area need, open ones first."""

    permission_required = "resources.view_communityneed"
    template_name = "resources/need_list.html"
    context_object_name = "needs"
    paginate_by = 25

    def get_queryset(self):
        return (
            CommunityNeed.objects.visible_to(self.request.user)
            .with_progress()
            .select_related("area")
            .order_by("status", "due_date", "-id")
        )


class MemberNeedListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Members' open needs of the user's area, each with its match page: the needs' own pages
    (app activities, below this one) cannot link here."""

    permission_required = "resources.view_match"
    template_name = "resources/member_need_list.html"
    context_object_name = "needs"
    paginate_by = 25

    def get_queryset(self):
        return (
            Need.objects.visible_to(self.request.user)
            .open()
            .select_related("member__community")
            .defer("member__id_number", "member__phone")
            .order_by("due_date", "-id")
        )


class CommunityNeedCreateView(_FormMixin, CreateView):
    model = CommunityNeed
    form_class = CommunityNeedForm
    permission_required = "resources.add_communityneed"
    template_name = "resources/need_form.html"
    success_url_name = "resources:need_detail"
    success_message = pgettext_lazy("community need", "The need was recorded.")

    def write(self, form):
        return services.community_need_create(
            actor=self.request.user, data=form.service_data(), request=self.request
        )


class CommunityNeedUpdateView(_FormMixin, UpdateView):
    """An open need's description, quantity, due day (and, before any match, its community
    and kind); a need met or closed is shown on its page, saying why it stays as it is."""

    model = CommunityNeed
    form_class = CommunityNeedForm
    permission_required = "resources.change_communityneed"
    template_name = "resources/need_form.html"
    success_url_name = "resources:need_detail"
    success_message = gettext_lazy("The changes were saved.")

    def get_object(self, queryset=None):
        return _editable_or_denied(CommunityNeed, self.request.user, self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if refusal := services.community_need_frozen(self.object):
            messages.error(request, refusal)
            return redirect("resources:need_detail", pk=self.object.pk)
        return super().get(request, *args, **kwargs)

    def write(self, form):
        return services.community_need_update(
            actor=self.request.user, need=self.object, data=form.service_data(),
            request=self.request,
        )  # fmt: skip


class CommunityNeedDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "resources.view_communityneed"
    template_name = "resources/need_detail.html"
    context_object_name = "need"

    def get_queryset(self):
        return (
            CommunityNeed.objects.visible_to(self.request.user)
            .with_progress()
            .select_related("area", "recorded_by")
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            matches=_matches_shown(
                user, Match.objects.visible_to(user).filter(community_need=self.object)
            ),
            editable=CommunityNeed.objects.editable_by(user).filter(pk=self.object.pk).exists(),
            **kwargs,
        )


@require_POST
@login_required
@permission_required("resources.change_communityneed", raise_exception=True)
def community_need_close(request, pk):
    need = _editable_or_denied(CommunityNeed, request.user, pk)
    action_write(
        request,
        lambda: services.community_need_close(actor=request.user, need=need, request=request),
        done=_("The need was closed."),
    )
    return redirect("resources:need_detail", pk=need.pk)


# -- Matching -------------------------------------------------------------------------------


def _matches_shown(user, matches):
    matches = list(
        matches.select_related("resource__member", "resource__organisation", "settled_by")
        .defer("resource__member__id_number", "resource__member__phone")
        .order_by("-matched_on", "-id")
    )
    for match in matches:
        match.owner = services.owner_name(match.resource, user)
    return matches


def _match_page(request, *, need=None, community_need=None):
    """The suggestions for a need, each with why, and a button to match it; the matches
    already made. A POST records a match with the resource chosen."""
    the_need = need or community_need
    model = Need if need is not None else CommunityNeed
    editable = model.objects.editable_by(request.user).filter(pk=the_need.pk).exists()
    form = MatchForm()
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        form = MatchForm(request.POST)
        if form.is_valid():
            # Among the resources the user sees, else it is no resource of theirs.
            resource = (
                Resource.objects.visible_to(request.user)
                .filter(pk=form.cleaned_data["resource"])
                .first()
            )
            done = form_write(
                request, form,
                lambda: services.match_create(
                    actor=request.user, need=need, community_need=community_need,
                    resource=resource, note=form.cleaned_data["note"], request=request,
                ) if resource is not None else _refuse_resource(),
                done=_("The resource was matched to the need."),
            )  # fmt: skip
            if done:
                return redirect(request.path)
    is_open = the_need.is_open if need is not None else the_need.status == "open"
    matches = Match.objects.visible_to(request.user).filter(
        need=need
    ) if need is not None else Match.objects.visible_to(request.user).filter(
        community_need=community_need
    )  # fmt: skip
    return render(
        request,
        "resources/match.html",
        {
            "need": need, "community_need": community_need, "form": form,
            "area": services.need_area(need=need, community_need=community_need),
            "suggestions": services.match_suggestions(
                request.user, need=need, community_need=community_need
            ) if is_open else [],
            "is_open": is_open, "editable": editable,
            "matches": _matches_shown(request.user, matches),
        },
    )  # fmt: skip


def _refuse_resource():
    raise ValidationError(_("This resource cannot be matched to this need."))


@login_required
@permission_required("resources.view_match", raise_exception=True)
def match_need(request, pk):
    """The match page of a member's need."""
    need = get_object_or_404(
        Need.objects.visible_to(request.user).select_related("member__community"), pk=pk
    )
    return _match_page(request, need=need)


@login_required
@permission_required("resources.view_match", raise_exception=True)
def match_community_need(request, pk):
    """The match page of a community need."""
    need = get_object_or_404(
        CommunityNeed.objects.visible_to(request.user).select_related("area__parent__parent"),
        pk=pk,
    )
    return _match_page(request, community_need=need)


@login_required
@permission_required("resources.change_match", raise_exception=True)
def match_settle(request, pk):
    """Settle a match: 已落实 (the need is met) or 未落实."""
    match = _editable_or_denied(Match, request.user, pk)
    form = MatchSettleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = form_write(
            request, form,
            lambda: services.match_settle(
                actor=request.user, match=match, state=data["state"],
                people_served=data["people_served"], value=data["value"], note=data["note"],
                settled_on=data["settled_on"], request=request,
            ),
            done=_("The match was settled."),
        )  # fmt: skip
        if done:
            if match.need_id:
                return redirect("resources:match_need", pk=match.need_id)
            return redirect("resources:match_community_need", pk=match.community_need_id)
    match = _matches_shown(request.user, Match.objects.filter(pk=match.pk))[0]
    return render(request, "resources/match_settle.html", {"match": match, "form": form})


# -- The two-way service ledger (双向服务台账) ----------------------------------------------


def _ledger(request):
    """The matches of the user's area (or the area chosen) made in the period chosen."""
    form = LedgerForm(request.GET or None, user=request.user)
    rows = Match.objects.visible_to(request.user)
    if form.is_bound and not form.is_valid():
        rows = rows.none()
    elif form.is_bound:
        data = form.cleaned_data
        if data["area"] is not None:
            rows = rows.filter(within_area(data["area"], "area"))
        if data["since"]:
            rows = rows.filter(matched_on__gte=data["since"])
        if data["until"]:
            rows = rows.filter(matched_on__lte=data["until"])
    rows = rows.select_related(
        "area", "need__member", "community_need", "resource__member", "resource__organisation"
    ).defer(
        "need__member__id_number", "need__member__phone", "resource__member__id_number",
        "resource__member__phone",
    )  # fmt: skip
    return form, rows


def _need_text(match, user) -> str:
    if match.need_id:
        # A match stays its community's when the member moves away: she is named masked there.
        need = match.need
        name = name_seen_by(user, need.member.name, need.member.community_id)
        return f"{name} · {need.get_kind_display()} · {need.description[:60]}"
    need = match.community_need
    return f"{need.kind_label()} · {need.description[:60]}"


class LedgerView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """The two-way service ledger: matches with their need, resource, state, people served
    and value, per area and period, with totals."""

    permission_required = "resources.view_match"
    template_name = "resources/ledger.html"
    context_object_name = "matches"
    paginate_by = 50

    @cached_property
    def ledger(self):
        return _ledger(self.request)

    def get_queryset(self):
        return self.ledger[1].order_by("-matched_on", "-id")

    def get_context_data(self, **kwargs):
        form, rows = self.ledger
        context = super().get_context_data(
            filter_form=form,
            query_without_page=_query_without_page(self.request),
            totals=rows.aggregate(
                count=Count("id"),
                fulfilled=Count("id", filter=Q(state=Match.State.FULFILLED)),
                people=Coalesce(Sum("people_served"), 0),
                value=Sum("value"),
            ),
            **kwargs,
        )
        for match in context["matches"]:
            match.owner = services.owner_name(match.resource, self.request.user)
            match.need_text = _need_text(match, self.request.user)
        return context


_HEADING = xlsx.Style(bold=True, border=True, horizontal="center", vertical="center")
_CELL = xlsx.Style(border=True, vertical="center", wrap=True)


@login_required
@permission_required("resources.view_match", raise_exception=True)
def ledger_export(request):
    """The ledger as shown (area and period), as an .xlsx of text cells; audited."""
    form, rows = _ledger(request)
    if form.is_bound and not form.is_valid():
        return redirect(f"{reverse('resources:ledger')}?{request.GET.urlencode()}")
    rows = list(rows.order_by("matched_on", "id"))
    data = form.cleaned_data if form.is_bound else {}
    area = data.get("area") or request.user.area
    book = xlsx.Book()
    sheet = book.sheet(
        _("Two-way service ledger"),
        widths={1: 12, 2: 14, 3: 36, 4: 30, 5: 10, 6: 10, 7: 12, 8: 30}, freeze="A4",
        title_rows=(3, 3),
    )  # fmt: skip
    sheet.merge(1, 1, 1, 8)
    sheet.write(1, 1, _("Two-way service ledger: %(area)s") % {
        "area": area.name if area else _("all areas"),
    }, xlsx.Style(bold=True, size=14, horizontal="center"))  # fmt: skip
    sheet.merge(2, 1, 2, 8)
    sheet.write(2, 1, _("Period %(since)s to %(until)s · as of %(today)s") % {
        "since": data["since"].isoformat() if data.get("since") else "—",
        "until": data["until"].isoformat() if data.get("until") else "—",
        "today": timezone.localdate().isoformat(),
    })  # fmt: skip
    headings = [
        _("Matched on"), _("Community"), pgettext("match", "Need"), _("Resource"), _("State"),
        _("People served"), _("Value (yuan)"), _("Note"),
    ]  # fmt: skip
    for column, heading in enumerate(headings, 1):
        sheet.write(3, column, heading, _HEADING)
    for match in rows:
        owner = services.owner_name(match.resource, request.user)
        value = "" if match.value is None else f"{match.value:.2f}"
        sheet.append([
            xlsx.text(match.matched_on.isoformat(), _CELL), xlsx.text(match.area.name, _CELL),
            xlsx.text(_need_text(match, request.user), _CELL),
            xlsx.text(f"{match.resource.title}（{owner}）", _CELL),
            xlsx.text(str(match.get_state_display()), _CELL),
            xlsx.text(str(match.people_served), _CELL), xlsx.text(value, _CELL),
            xlsx.text(match.note, _CELL),
        ])  # fmt: skip
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=None,
        request=request,
        detail={
            "report": "service_ledger", "rows": len(rows),
            "area": area.code if area else "",
            "since": data["since"].isoformat() if data.get("since") else "",
            "until": data["until"].isoformat() if data.get("until") else "",
        },
    )  # fmt: skip
    response = HttpResponse(book.bytes(), content_type=XLSX)
    name = f"双向服务台账_{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
