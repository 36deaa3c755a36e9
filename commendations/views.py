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
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import CreateView, ListView

from members.models import Member
from members.printing import PrintedRows
from members.views import MemberSection
from tongzhan.attachments import attachment_response
from tongzhan.audit import audit_record
from tongzhan.filters import query_id
from tongzhan.mixins import ServiceFormMixin, action_write, confirm_page, form_write
from tongzhan.models import Area, AuditEvent
from tongzhan.scoping import code_within
from tongzhan.text import plain_name

from . import services
from .forms import (
    SEARCH_LIMIT,
    CampaignForm,
    CountsForm,
    DecisionForm,
    NominationEditForm,
    NominationForm,
    ReviewForm,
)
from .models import Campaign, Nomination, NominationEvent

State = Nomination.State
DECIDED = services.DECIDED


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
    under_review = campaign.state == Campaign.State.REVIEW
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
            "may_reopen": may_run
            and under_review
            and not services.campaign_reopen_checks(campaign),
            "may_publish": may_run and under_review,
        },
    )


@login_required
@permission_required("commendations.change_campaign", raise_exception=True)
def campaign_close(request, pk):
    """End the nominating, the campaign goes to review: a page says what that does (and how
    many days were left), then ends it on confirmation."""
    campaign = _campaign(request.user, pk)
    if not services.campaign_may_run(request.user, campaign):
        raise PermissionDenied
    back_url = reverse("commendations:detail", args=[campaign.pk])
    if request.method == "POST" and request.POST.get("confirmed"):
        action_write(
            request,
            lambda: services.campaign_close(actor=request.user, campaign=campaign, request=request),
            done=_("The nominating has ended; the nominations are under review."),
        )
        return redirect(back_url)
    if campaign.state != Campaign.State.NOMINATING:
        messages.error(request, _("The nominating of this campaign has already ended."))
        return redirect(back_url)
    deadline = f"{campaign.deadline:%Y-%m-%d}"
    days = (campaign.deadline - timezone.localdate()).days
    happens = [_("Communities can no longer nominate; the streets and you go on reviewing.")]
    if days > 0:
        happens.append(
            ngettext(
                "The deadline (%(day)s) is %(count)s day away: communities lose that time to "
                "nominate.",
                "The deadline (%(day)s) is %(count)s days away: communities lose that time to "
                "nominate.",
                days,
            )
            % {"day": deadline, "count": days}
        )
    elif days == 0:
        happens.append(
            _("The deadline (%(day)s) is today: communities lose the rest of the day to nominate.")
            % {"day": deadline}
        )
    happens.append(
        _("Until the deadline you can reopen the nominating, as long as you have decided no "
          "nomination.")
    )  # fmt: skip
    return confirm_page(
        request,
        heading=_("End the nominating"),
        rows=[
            (_("Commendation campaign"), campaign.title),
            (_("Nomination deadline"), deadline),
            (_("Nominations so far"), str(campaign.nominations.standing().count())),
        ],
        happens=happens,
        button=_("End the nominating"),
        back_url=back_url,
    )


@require_POST
@login_required
@permission_required("commendations.change_campaign", raise_exception=True)
def campaign_reopen(request, pk):
    """Take the nominating up again, before the deadline and any decision."""
    campaign = _campaign(request.user, pk)
    if not services.campaign_may_run(request.user, campaign):
        raise PermissionDenied
    action_write(
        request,
        lambda: services.campaign_reopen(actor=request.user, campaign=campaign, request=request),
        done=_("The nominating is open again until the deadline."),
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
    nominations = campaign.nominations.standing()
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


def _review_offer(user, nomination) -> str | None:
    """What of the street's review the page offers the user: "first" (to give it),
    "change" (to change it, while the district has not decided), or None."""
    if nomination.campaign.is_published or not services.nomination_may_review(user, nomination):
        return None
    if nomination.state == State.SUBMITTED:
        return "first"
    if nomination.state in (State.RECOMMENDED, State.NOT_RECOMMENDED):
        return "change"
    return None


def _decision_offer(user, nomination) -> str | None:
    """What of the district's decision the page offers: "first", "change" (while the
    campaign is under review), or None."""
    if nomination.campaign.state != Campaign.State.REVIEW or not (
        services.nomination_may_decide(user, nomination)
    ):
        return None
    if nomination.state == State.RECOMMENDED:
        return "first"
    if nomination.state in DECIDED:
        return "change"
    return None


def _nomination_page(
    request, nomination, *, changing=None, review_form=None, decision_form=None, status=200
):
    """The nomination's page; `changing` ("review" or "decision") opens the form to change
    the street's review or the district's decision, prefilled, where it is offered."""
    user = request.user
    campaign = nomination.campaign
    sees_decisions = _sees_decisions(user, campaign)
    events = [
        event
        for event in nomination.events.select_related("actor")
        if sees_decisions or event.action not in NominationEvent.DISTRICT_ACTIONS
    ]
    review_offer = _review_offer(user, nomination)
    decision_offer = _decision_offer(user, nomination)
    if review_form is None and review_offer == "first":
        review_form = ReviewForm()
    elif review_form is None and review_offer == "change" and changing == "review":
        review_form = ReviewForm(
            initial={"decision": "yes" if nomination.state == State.RECOMMENDED else "no",
                     "opinion": nomination.street_opinion, "change": True}
        )  # fmt: skip
    if decision_form is None and decision_offer == "first":
        decision_form = DecisionForm()
    elif decision_form is None and decision_offer == "change" and changing == "decision":
        decision_form = DecisionForm(
            initial={"decision": "yes" if nomination.state == State.COMMENDED else "no",
                     "opinion": nomination.district_opinion, "change": True}
        )  # fmt: skip
    ours = services.nomination_may_edit(user, nomination)
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
            "review_form": review_form,
            "decision_form": decision_form,
            "may_change_review": review_offer == "change" and review_form is None,
            "may_change_decision": decision_offer == "change" and decision_form is None,
            "may_edit": ours and not services.nomination_edit_checks(nomination),
            "may_withdraw": ours and not services.nomination_withdraw_checks(nomination),
        },
        status=status,
    )


@require_GET
@login_required
@permission_required("commendations.view_nomination", raise_exception=True)
def nomination_detail(request, pk):
    return _nomination_page(
        request, _nomination(request.user, pk), changing=request.GET.get("change")
    )


def _opinion_step(request, nomination, *, form_class, form_name, offer, confirm, write, done):
    """The POST of the street's review or the district's decision: a valid form is shown on
    a confirmation page first, whose 返回修改 brings the form back with its values; the
    confirmed one is written. A choice the page no longer offers, or a refusal without the
    opinion it needs, goes straight to the service, which says why in words."""
    back_url = reverse("commendations:nomination", args=[nomination.pk])
    if request.POST.get("back"):
        form = form_class(
            initial={name: request.POST.get(name, "") for name in ("decision", "opinion", "change")}
        )
        return _nomination_page(request, nomination, **{form_name: form})
    form = form_class(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        yes, change = data["decision"] == "yes", data["change"]
        opinion = plain_name(data["opinion"])
        offered = offer == ("change" if change else "first")
        if not request.POST.get("confirmed") and offered and (yes or opinion):
            hidden = [("decision", data["decision"]), ("opinion", opinion),
                      ("change", "1" if change else "")]  # fmt: skip
            return confirm(yes=yes, opinion=opinion, change=change, hidden=hidden, back=back_url)
        if form_write(request, form, lambda: write(yes, opinion, change), done=done):
            return redirect(back_url)
    return _nomination_page(request, _nomination(request.user, nomination.pk), **{form_name: form})


def _nominee_rows(user, nomination) -> list:
    return [
        (_("Nominee"), _named(user, nomination)),
        (_("Community"), nomination.community.name),
        (_("Commendation campaign"), nomination.campaign.title),
    ]


@require_POST
@login_required
@permission_required("commendations.review_nomination", raise_exception=True)
def nomination_review(request, pk):
    """The street's 推荐 / 不推荐, or its change, confirmed on a page of its own; without its
    choice the page shows the form again."""
    user = request.user
    nomination = _nomination(user, pk)
    if not services.nomination_may_review(user, nomination):
        raise PermissionDenied

    def confirm(*, yes, opinion, change, hidden, back):
        rows = _nominee_rows(user, nomination)
        if change:
            rows.append((_("Review so far"), nomination.get_state_display()))
        rows += [
            (_("Street's review"), _("Recommend") if yes else _("Do not recommend")),
            (_("Opinion"), opinion),
        ]
        return confirm_page(
            request,
            heading=_("Change the street's review") if change else _("Street's review"),
            rows=rows,
            happens=[
                _("The nomination goes to the district, which decides whether to commend.")
                if yes
                else _("The nomination goes no further: the district does not decide on it."),
                _("The community sees the review and your opinion."),
                _("You can change the review while the district has not decided on it."),
            ],
            button=_("Recommend") if yes else _("Do not recommend"),
            back_url=back,
            hidden=hidden,
            back_posts=True,
        )

    def write(yes, opinion, change):
        return services.nomination_review(
            actor=user, nomination=nomination, recommend=yes, opinion=opinion, change=change,
            request=request,
        )  # fmt: skip

    return _opinion_step(
        request, nomination, form_class=ReviewForm, form_name="review_form",
        offer=_review_offer(user, nomination), confirm=confirm, write=write,
        done=_("The review was saved."),
    )  # fmt: skip


@require_POST
@login_required
@permission_required("commendations.decide_nomination", raise_exception=True)
def nomination_decide(request, pk):
    """The district's 表彰 / 不予表彰, or its change, confirmed on a page of its own; without
    its choice the page shows the form again."""
    user = request.user
    nomination = _nomination(user, pk)
    if not services.nomination_may_decide(user, nomination):
        raise PermissionDenied

    def confirm(*, yes, opinion, change, hidden, back):
        campaign = nomination.campaign
        rows = _nominee_rows(user, nomination)
        if change:
            rows.append((_("Decision so far"), nomination.get_state_display()))
        commended = campaign.nominations.filter(state=State.COMMENDED).exclude(pk=nomination.pk)
        rows += [
            (_("District's decision"), _("Commend") if yes else _("Do not commend")),
            (_("Opinion"), opinion),
            (_("Commended besides"), str(commended.count())),
            (_("Quota"), str(campaign.quota) if campaign.quota else _("No limit")),
        ]
        return confirm_page(
            request,
            heading=_("Change the district's decision") if change else _("District's decision"),
            rows=rows,
            happens=[
                _("The nominee is among the commended when you publish the results.")
                if yes
                else _("The nominee is not commended."),
                _(
                    "The streets and communities see the decision and your opinion once the "
                    "results are published."
                ),
                _("You can change the decision until the results are published."),
            ],
            button=_("Commend") if yes else _("Do not commend"),
            back_url=back,
            hidden=hidden,
            back_posts=True,
        )

    def write(yes, opinion, change):
        return services.nomination_decide(
            actor=user, nomination=nomination, commend=yes, opinion=opinion, change=change,
            request=request,
        )  # fmt: skip

    return _opinion_step(
        request, nomination, form_class=DecisionForm, form_name="decision_form",
        offer=_decision_offer(user, nomination), confirm=confirm, write=write,
        done=_("The decision was saved."),
    )  # fmt: skip


@login_required
@permission_required("commendations.add_nomination", raise_exception=True)
def nomination_edit(request, pk):
    """The nominating community changes the deeds (and a resident's contact and notes) or
    adds files, while the street has not reviewed it and the campaign takes nominations."""
    user = request.user
    nomination = _nomination(user, pk)
    if not services.nomination_may_edit(user, nomination):
        raise PermissionDenied
    back_url = reverse("commendations:nomination", args=[nomination.pk])
    if request.method != "POST":
        problems = services.nomination_edit_checks(nomination)
        if problems:
            for problem in problems:
                messages.error(request, problem)
            return redirect(back_url)
    form = NominationEditForm(
        request.POST or None, request.FILES or None, nomination=nomination, user=user
    )
    if request.method == "POST":
        if form.is_valid() and form_write(
            request, form,
            lambda: services.nomination_edit(
                actor=user, nomination=nomination, data=form.service_data(),
                uploads=request.FILES.getlist("files"), request=request,
            ),
            done=_("The nomination was saved."),
        ):  # fmt: skip
            return redirect(back_url)
    elif form.contact_shown:
        # The contact in full, as a member's phone is shown: logged.
        audit_record(
            actor=user, action=AuditEvent.Action.REVEAL, obj=nomination, request=request,
            detail={"fields": ["contact"], "page": "edit"},
        )  # fmt: skip
    return render(
        request,
        "commendations/nomination_edit.html",
        {"nomination": nomination, "campaign": nomination.campaign, "form": form,
         "name": _named(user, nomination)},
    )  # fmt: skip


@login_required
@permission_required("commendations.add_nomination", raise_exception=True)
def nomination_withdraw(request, pk):
    """Take back (撤回) a nomination of the user's community awaiting the street's review: a
    page says what that does, then withdraws it on confirmation."""
    user = request.user
    nomination = _nomination(user, pk)
    if not services.nomination_may_withdraw(user, nomination):
        raise PermissionDenied
    back_url = reverse("commendations:nomination", args=[nomination.pk])
    if request.method == "POST" and request.POST.get("confirmed"):
        if action_write(
            request,
            lambda: services.nomination_withdraw(
                actor=user, nomination=nomination, request=request
            ),
            done=_("The nomination was withdrawn."),
        ):
            return redirect("commendations:detail", pk=nomination.campaign_id)
        return redirect(back_url)
    problems = services.nomination_withdraw_checks(nomination)
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect(back_url)
    name = _named(user, nomination)
    return confirm_page(
        request,
        heading=_("Withdraw the nomination"),
        rows=[
            *_nominee_rows(user, nomination),
            (_("Nominated at"), f"{timezone.localtime(nomination.submitted_at):%Y-%m-%d %H:%M}"),
            (_("State"), nomination.get_state_display()),
        ],
        happens=[
            _(
                "The street no longer reviews it; it stays in the campaign's list, marked "
                "withdrawn, with its history."
            ),
            _("It no longer counts among the campaign's nominations."),
            _("While the campaign takes nominations you can nominate %(name)s again.")
            % {"name": name},
            _("This cannot be undone."),
        ],
        button=_("Withdraw"),
        back_url=back_url,
    )


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
    nominations = Nomination.objects.visible_to(user).standing()
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
