"""Commendation campaigns, nominations, reviews and results: every page starts from
`visible_to`; out of scope is 404, in scope but not the user's step is 403.

What the district decided stays with the district until it publishes: before that, the
streets and communities read a nomination the district decided as the street left it.
"""

import datetime
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import CreateView, ListView

from members.models import Member
from members.printing import PrintedRows
from members.views import MemberSection
from tongzhan.attachments import attachment_response
from tongzhan.filters import query_id
from tongzhan.mixins import ServiceFormMixin, action_write, confirm_page, form_write
from tongzhan.models import Area
from tongzhan.scoping import code_within

from . import services
from .forms import SEARCH_LIMIT, CampaignForm, CountsForm, DecisionForm, NominationForm, ReviewForm
from .models import Campaign, Nomination

State = Nomination.State
DECIDED = (State.COMMENDED, State.NOT_COMMENDED)


def _campaign(user, pk) -> Campaign:
    return get_object_or_404(Campaign.objects.visible_to(user).select_related("area"), pk=pk)


def _nomination(user, pk) -> Nomination:
    return get_object_or_404(
        Nomination.objects.visible_to(user).select_related("campaign__area", "community", "member"),
        pk=pk,
    )


def _sees_decisions(user, campaign: Campaign) -> bool:
    """The district's decisions show to the district running the campaign, and to everyone
    once the results are published."""
    return campaign.is_published or services.campaign_may_run(user, campaign)


def _shown_state(nomination: Nomination, sees_decisions: bool):
    """The state as the viewer may read it (a decision not published reads as the street
    left it)."""
    if nomination.state in DECIDED and not sees_decisions:
        return State.RECOMMENDED.label
    return nomination.get_state_display()


def _named(user, nomination: Nomination) -> str:
    """The nominee's name as the viewer may read it (`services.nominee_seen_by`)."""
    return services.nominee_seen_by(user, nomination)


class CampaignListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """The campaigns of the user's area and those covering it, latest year first."""

    permission_required = "commendations.view_campaign"
    template_name = "commendations/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 25

    def get_queryset(self):
        return Campaign.objects.visible_to(self.request.user).select_related("area")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            may_create=services.campaign_may_create(self.request.user), **kwargs
        )


class CampaignCreateView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Campaign
    form_class = CampaignForm
    permission_required = "commendations.add_campaign"
    template_name = "commendations/campaign_form.html"
    success_url_name = "commendations:detail"
    success_message = gettext_lazy("The commendation campaign was created.")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not services.campaign_may_create(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def write(self, form):
        return services.campaign_create(
            actor=self.request.user, data=form.service_data(), request=self.request
        )


@require_GET
@login_required
@permission_required("commendations.view_campaign", raise_exception=True)
def campaign_detail(request, pk):
    """A campaign: what it is, the nominations the user sees with their state, and, once
    published, who was commended (for everyone in the area it covers)."""
    user = request.user
    campaign = _campaign(user, pk)
    sees_decisions = _sees_decisions(user, campaign)
    nominations = list(
        Nomination.objects.visible_to(user)
        .filter(campaign=campaign)
        .select_related("community", "member")
        .defer("member__id_number", "member__phone", "contact")
    )
    rows = [
        {"nomination": n, "name": _named(user, n), "state": _shown_state(n, sees_decisions)}
        for n in nominations
    ]
    results = []
    if campaign.is_published:
        commended = (
            campaign.nominations.commended()
            .select_related("community__parent", "member")
            .defer("member__id_number", "member__phone", "contact")
        )
        results = [{"nomination": n, "name": _named(user, n)} for n in commended]
    may_run = services.campaign_may_run(user, campaign)
    return render(
        request,
        "commendations/campaign_detail.html",
        {
            "campaign": campaign,
            "rows": rows,
            "results": results,
            "may_nominate": campaign.state == Campaign.State.NOMINATING
            and campaign.deadline >= timezone.localdate()
            and services.nomination_may_submit(user, campaign),
            "may_close": may_run and campaign.state == Campaign.State.NOMINATING,
            "may_publish": may_run and campaign.state == Campaign.State.REVIEW,
        },
    )


@require_POST
@login_required
@permission_required("commendations.change_campaign", raise_exception=True)
def campaign_close(request, pk):
    """End the nominating: the campaign goes to review."""
    campaign = _campaign(request.user, pk)
    if not services.campaign_may_run(request.user, campaign):
        raise PermissionDenied
    action_write(
        request,
        lambda: services.campaign_close(actor=request.user, campaign=campaign, request=request),
        done=_("The nominating has ended; the nominations are under review."),
    )
    return redirect("commendations:detail", pk=campaign.pk)


@login_required
@permission_required("commendations.change_campaign", raise_exception=True)
def campaign_publish(request, pk):
    """Publishing cannot be undone: a page says what it does (or what is missing), then
    publishes on confirmation."""
    campaign = _campaign(request.user, pk)
    if not services.campaign_may_run(request.user, campaign):
        raise PermissionDenied
    back_url = reverse("commendations:detail", args=[campaign.pk])
    confirmed = request.method == "POST" and request.POST.get("confirmed")
    if confirmed and action_write(
        request,
        lambda: services.campaign_publish(actor=request.user, campaign=campaign, request=request),
        done=_("The results were published."),
    ):
        return redirect(back_url)
    problems = services.campaign_publish_checks(campaign)
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect(back_url)
    nominations = campaign.nominations.all()
    commended = nominations.filter(state=State.COMMENDED).count()
    return confirm_page(
        request,
        heading=_("Publish the results"),
        rows=[
            (_("Commendation campaign"), campaign.title),
            (_("Kind"), campaign.kind_label),
            (_("Area covered"), campaign.area.name),
            (_("Nominations"), str(nominations.count())),
            (_("Commended"), str(commended)),
        ],
        happens=[
            _("Everyone in %(area)s sees who was commended.") % {"area": campaign.area.name},
            _("The commended members' pages show the commendation."),
            _("The streets and communities see the district's decisions and opinions."),
            _("This cannot be undone."),
        ],
        button=_("Publish"),
        back_url=back_url,
    )


@login_required
@permission_required("commendations.add_nomination", raise_exception=True)
def nomination_create(request, pk):
    """Nominate a member of the user's community (found by name, GET `q`) or a resident who is
    not a member."""
    user = request.user
    campaign = _campaign(user, pk)
    if not services.nomination_may_submit(user, campaign):
        raise PermissionDenied
    members = (
        Member.objects.visible_to(user)
        .filter(community_id=user.area_id)
        .defer("id_number", "phone")
    )
    text = request.GET.get("q", "").replace("\x00", "").strip()
    if request.method == "POST":
        member_id = query_id(request.POST.get("member"))
        found = list(members.filter(pk=member_id)) if member_id is not None else []
        form = NominationForm(request.POST, request.FILES, user=user, found=found)
        if form.is_valid():
            done = form_write(
                request, form,
                lambda: services.nomination_submit(
                    actor=user, campaign=campaign, data=form.service_data(),
                    uploads=request.FILES.getlist("files"), request=request,
                ),
                done=_("The nomination was sent to the street."),
            )  # fmt: skip
            if done:
                return redirect("commendations:detail", pk=campaign.pk)
    else:
        found = (
            list(members.filter(name__contains=text).order_by("name", "id")[:SEARCH_LIMIT])
            if text
            else []
        )
        form = NominationForm(user=user, found=found)
    return render(
        request,
        "commendations/nomination_form.html",
        {"campaign": campaign, "form": form, "q": text, "found": found, "searched": bool(text)},
    )


def _nomination_page(request, nomination, *, review_form=None, decision_form=None, status=200):
    user = request.user
    campaign = nomination.campaign
    sees_decisions = _sees_decisions(user, campaign)
    events = [
        event
        for event in nomination.events.select_related("actor")
        if sees_decisions or event.action != "decide"
    ]
    may_review = (
        nomination.state == State.SUBMITTED
        and not campaign.is_published
        and services.nomination_may_review(user, nomination)
    )
    may_decide = (
        nomination.state == State.RECOMMENDED
        and campaign.state == Campaign.State.REVIEW
        and services.nomination_may_decide(user, nomination)
    )
    return render(
        request,
        "commendations/nomination_detail.html",
        {
            "nomination": nomination,
            "campaign": campaign,
            "name": _named(user, nomination),
            "state": _shown_state(nomination, sees_decisions),
            "sees_decisions": sees_decisions,
            "events": events,
            "files": nomination.files.all(),
            "review_form": review_form or (ReviewForm() if may_review else None),
            "decision_form": decision_form or (DecisionForm() if may_decide else None),
        },
        status=status,
    )


@require_GET
@login_required
@permission_required("commendations.view_nomination", raise_exception=True)
def nomination_detail(request, pk):
    return _nomination_page(request, _nomination(request.user, pk))


@require_POST
@login_required
@permission_required("commendations.review_nomination", raise_exception=True)
def nomination_review(request, pk):
    """The street's 推荐 / 不推荐; without its choice the page shows the form again."""
    nomination = _nomination(request.user, pk)
    if not services.nomination_may_review(request.user, nomination):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: services.nomination_review(
            actor=request.user,
            nomination=nomination,
            recommend=form.cleaned_data["decision"] == "yes",
            opinion=form.cleaned_data["opinion"],
            request=request,
        ),  # fmt: skip
        done=_("The review was saved."),
    ):
        return redirect("commendations:nomination", pk=nomination.pk)
    return _nomination_page(request, _nomination(request.user, pk), review_form=form)


@require_POST
@login_required
@permission_required("commendations.decide_nomination", raise_exception=True)
def nomination_decide(request, pk):
    """The district's 表彰 / 不予表彰; without its choice the page shows the form again."""
    nomination = _nomination(request.user, pk)
    if not services.nomination_may_decide(request.user, nomination):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if form.is_valid() and form_write(
        request,
        form,
        lambda: services.nomination_decide(
            actor=request.user,
            nomination=nomination,
            commend=form.cleaned_data["decision"] == "yes",
            opinion=form.cleaned_data["opinion"],
            request=request,
        ),  # fmt: skip
        done=_("The decision was saved."),
    ):
        return redirect("commendations:nomination", pk=nomination.pk)
    return _nomination_page(request, _nomination(request.user, pk), decision_form=form)


@require_GET
@login_required
@permission_required("commendations.view_nomination", raise_exception=True)
def nomination_file(request, pk, file_pk):
    nomination = _nomination(request.user, pk)
    return attachment_response(get_object_or_404(nomination.files, pk=file_pk))


# -- Counted per area ----------------------------------------------------------------------


def _count_areas(user) -> list[Area]:
    """The rows of the counts: the streets of a district, the communities of a street, a
    community itself; the districts for those who see everything."""
    area = user.area if user.area_id else None
    if area is None:
        return list(Area.objects.visible_to(user).filter(parent__isnull=True).order_by("code"))
    if area.level == Area.Level.COMMUNITY:
        return [area]
    return list(Area.objects.filter(parent=area).order_by("code"))


@require_GET
@login_required
@permission_required("commendations.view_campaign", raise_exception=True)
def counts(request):
    """Nominations, those the streets recommended and those commended (published results
    only) per street or community, for a campaign or a year."""
    user = request.user
    form = CountsForm(request.GET or None, user=user)
    campaign, year = None, datetime.date.today().year
    if form.is_valid():
        campaign = form.cleaned_data["campaign"]
        year = form.cleaned_data["year"] or year
    nominations = Nomination.objects.visible_to(user)
    if campaign is not None:
        nominations = nominations.filter(campaign=campaign)
    else:
        nominations = nominations.filter(
            campaign__in=Campaign.objects.visible_to(user).filter(year=year)
        )
    tally = defaultdict(lambda: {"nominated": 0, "recommended": 0, "commended": 0})
    rows_seen = nominations.values_list("community__code", "state", "campaign__state")
    areas = _count_areas(user)
    for code, state, campaign_state in rows_seen:
        area = next((a for a in areas if code_within(code, a.code)), None)
        if area is None:
            continue
        cell = tally[area.pk]
        cell["nominated"] += 1
        if state in (State.RECOMMENDED, *DECIDED):
            cell["recommended"] += 1
        if state == State.COMMENDED and campaign_state == Campaign.State.PUBLISHED:
            cell["commended"] += 1
    rows = [{"area": area, **tally[area.pk]} for area in areas]
    keys = ("nominated", "recommended", "commended")
    totals = {key: sum(row[key] for row in rows) for key in keys}
    return render(
        request,
        "commendations/counts.html",
        {"form": form, "rows": rows, "totals": totals, "campaign": campaign, "year": year},
    )


# -- On a member's page (members.views.member_section_register) -------------------------------


def member_commendations(member: Member, user):
    """A member's commendations in published campaigns the viewer sees; None if she has
    none or the viewer may not see campaigns."""
    if not user.has_perm("commendations.view_campaign"):
        return None
    commended = list(
        Nomination.objects.commended()
        .filter(member=member, campaign__in=Campaign.objects.visible_to(user))
        .select_related("campaign")
        .order_by("-campaign__year", "-campaign__published_at")
    )
    if not commended:
        return None
    return MemberSection(
        template="commendations/member_commendations.html",
        context={"commendations": commended},
    )


# -- On a member's printed form (members.printing.print_section_register) ----------------------


def printed_commendations(members: list, user):
    """The members' commendations in published campaigns the viewer sees, for their printed
    forms (year; kind · title), latest first, in one query; None if the viewer may not see
    campaigns."""
    if not user.has_perm("commendations.view_campaign"):
        return None
    commended = (
        Nomination.objects.commended()
        .filter(
            member_id__in=[member.pk for member in members],
            campaign__in=Campaign.objects.visible_to(user),
        )
        .select_related("campaign")
        .order_by("member_id", "-campaign__year", "-campaign__published_at", "-id")
    )
    rows = defaultdict(list)
    for nomination in commended:
        campaign = nomination.campaign
        rows[nomination.member_id].append(
            (str(campaign.year), f"{campaign.kind_label} · {campaign.title}")
        )
    return PrintedRows(title=_("Commendations"), rows=dict(rows))
