"""The home dashboard of every role and the statistical reports."""

import datetime

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from assessment.models import Period
from assessment.standings import standings
from followup.models import Rectification
from members.models import Member, MemberChange
from members.views import XLSX
from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent, User

from .compare import Comparison, compare_workbook
from .forms import PRESETS, ReportPeriodForm
from .reports import REPORTS, workbook
from .stats import Dashboard
from .todo import todo_for


def _chart(rows, name=None) -> dict:
    return {"labels": [row.label for row in rows], "series": [
        {"name": name or "", "values": [row.count for row in rows]}
    ]}  # fmt: skip


def charts(dashboard: Dashboard) -> dict:
    """What static/js/dashboard.js draws: labels and series of each chart, by name."""
    members = _("Members")
    months = dashboard.activities_by_month
    flows = dashboard.joined_and_left
    # This month is not over: the charts mark it rather than show it as a fall.
    current = {"current": dashboard.months[-1], "current_label": _("This month (to date)")}
    return {
        "categories": {
            **_chart(dashboard.categories, members),
            "labels": [row.extra["short"] for row in dashboard.categories],
        },
        "areas": _chart(dashboard.by_area, members),
        "political": _chart(dashboard.political_statuses, members),
        "ethnicity": _chart(dashboard.ethnicities, members),
        "age": _chart(dashboard.age_bands, members),
        "sex": _chart(dashboard.sexes, members),
        "joined": {
            "labels": [row.label for row in flows],
            "series": [
                {"name": _("Newly registered"), "values": [row.count for row in flows]},
                {"name": _("Left"), "values": [row.extra["left"] for row in flows]},
            ],
            **current,
        },
        "activities": {
            "labels": [row.label for row in months],
            "stacked": True,
            "series": [
                {"name": name, "values": values} for name, values in dashboard.activity_type_series
            ],
            **current,
        },
        "needs": _chart(dashboard.need_rows, _("Needs")),
        "resources": _chart(dashboard.resources_by_kind, pgettext("dashboard", "Resources")),
        "matches": {
            **_chart(dashboard.matches_by_month, pgettext("dashboard", "Matches")),
            **current,
        },
    }


def rectifications_shown(user) -> list:
    """A community's rectifications underway, and for anyone the ones waiting on their area
    (to check, to accept), overdue first: at most ten, each linked to its page."""
    if not user.has_perm("followup.view_rectification"):
        return []
    today = timezone.localdate()
    rectifications = Rectification.objects.visible_to(user)
    if user.area is not None and user.area.level == Area.Level.COMMUNITY:
        rectifications = rectifications.underway()
    else:
        rectifications = rectifications.waiting_for(user)
    return list(
        rectifications.with_overdue(today)
        .select_related("community", "result__period")
        .order_by("-overdue", "deadline", "community__code")[:10]
    )


def assessment_progress(user) -> dict:
    """A community's standing in its district's open assessment period, if there is one."""
    area = user.area
    if area is None or area.level != Area.Level.COMMUNITY:
        return {}
    period = (
        Period.objects.visible_to(user)
        .filter(state=Period.State.OPEN)
        .order_by("-starts_on")
        .first()
    )
    if period is None:
        return {}
    standing = next((row for row in standings(period) if row.community.pk == area.pk), None)
    return {"assessment_period": period, "assessment_standing": standing}


@login_required
def home(request):
    """The user's dashboard: their area's registry, activities and needs at a glance.

    An auditor reads the audit log and nothing else: that is their home page."""
    if request.user.role == User.Role.AUDITOR:
        return redirect("audit")
    dashboard = Dashboard(request.user)
    recent = (
        MemberChange.objects.filter(member__in=Member.objects.visible_to(request.user))
        .select_related("member", "actor")
        .order_by("-at", "-id")[:8]
    )
    context = {
        "dashboard": dashboard,
        "charts": charts(dashboard),
        "recent": recent,
        "todo": todo_for(request.user, timezone.localdate()),
        "rectifications": rectifications_shown(request.user),
        **assessment_progress(request.user),
    }
    return render(request, "dashboards/dashboard.html", context)


def _report_form(request, today: datetime.date) -> tuple[ReportPeriodForm, str]:
    """The period form as the page shows it, and the preset it equals ("" for none).

    A preset (`?preset=this_quarter`) fills in its days; otherwise the days asked for, or by
    default this year so far."""
    preset = PRESETS.get(request.GET.get("preset", ""))
    if preset is not None:
        since, until = preset.days(today)
        form = ReportPeriodForm(initial={"since": since, "until": until})
    elif "since" in request.GET or "until" in request.GET:
        form = ReportPeriodForm(request.GET)
        if not form.is_valid():
            return form, ""
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    else:
        since, until = today.replace(month=1, day=1), today
        form = ReportPeriodForm(initial={"since": since, "until": until})
    current = next((key for key, p in PRESETS.items() if p.days(today) == (since, until)), "")
    return form, current


@login_required
@permission_required("members.view_member", raise_exception=True)
def report_list(request):
    """The statistical reports. One form: each report's download button submits the days on
    the screen, so the file is always of the period the user sees (issue 13)."""
    today = timezone.localdate()
    form, current = _report_form(request, today)
    report = REPORTS.get(request.GET.get("report", ""))
    if report is not None and form.is_bound and form.is_valid():
        return _download(request, report, form.cleaned_data["since"], form.cleaned_data["until"])
    context = {
        "form": form,
        "reports": REPORTS.values(),
        "presets": PRESETS.values(),
        "current_preset": current,
    }
    return render(request, "dashboards/reports.html", context)


@login_required
@permission_required("members.view_member", raise_exception=True)
def report_download(request, key):
    """One report by its address (/reports/members.xlsx?since=…&until=…): days that are not
    right go back to the page, which says what is wrong with them."""
    report = REPORTS.get(key)
    if report is None:
        raise Http404
    today = timezone.localdate()
    form, _current = _report_form(request, today)
    if not form.is_bound:
        return _download(request, report, form.initial["since"], form.initial["until"])
    if not form.is_valid():
        return redirect(f"{reverse('dashboards:reports')}?{request.GET.urlencode()}")
    return _download(request, report, form.cleaned_data["since"], form.cleaned_data["until"])


def _download(request, report, since: datetime.date, until: datetime.date) -> HttpResponse:
    data, rows = workbook(report, Dashboard(request.user), since, until)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"report": report.key, "since": f"{since}", "until": f"{until}", "rows": rows},
    )
    response = HttpResponse(data, content_type=XLSX)
    name = f"{report.title}_{since:%Y%m%d}-{until:%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


def _comparison(request) -> Comparison:
    """The comparison of the user's areas; 403 for a user whose area has none below it."""
    comparison = Comparison(request.user, request.GET.get("area") or None)
    if not comparison.dashboard.breakdown:
        raise PermissionDenied
    return comparison


@login_required
@permission_required("members.view_member", raise_exception=True)
def compare(request):
    """Every street of the district side by side, or the communities of one street."""
    return render(request, "dashboards/compare.html", {"comparison": _comparison(request)})


@login_required
@permission_required("members.view_member", raise_exception=True)
def compare_export(request):
    """The comparison as a spreadsheet, ready to print."""
    comparison = _comparison(request)
    data, rows = compare_workbook(comparison)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"report": "compare", "area": request.GET.get("area", ""), "rows": rows},
    )
    response = HttpResponse(data, content_type=XLSX)
    name = f"{comparison.title}_{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
