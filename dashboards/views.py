"""The home dashboard of every role and the statistical reports."""

import datetime

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from assessment.models import Period
from assessment.standings import standings
from members.models import Member, MemberChange
from members.views import XLSX
from tongzhan.audit import audit_record
from tongzhan.filters import query_day
from tongzhan.models import Area, AuditEvent, User

from .reports import REPORTS, workbook
from .stats import Dashboard


def _chart(rows, name=None) -> dict:
    return {"labels": [row.label for row in rows], "series": [
        {"name": name or "", "values": [row.count for row in rows]}
    ]}  # fmt: skip


def charts(dashboard: Dashboard) -> dict:
    """What static/js/dashboard.js draws: labels and series of each chart, by name."""
    members = _("Members")
    months = dashboard.activities_by_month
    flows = dashboard.joined_and_left
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
        },
        "activities": {
            "labels": [row.label for row in months],
            "stacked": True,
            "series": [
                {"name": kind.name, "values": [row.extra["types"][index] for row in months]}
                for index, kind in enumerate(dashboard.activity_types)
            ],
        },
        "needs": _chart(dashboard.need_rows, _("Needs")),
    }


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
        **assessment_progress(request.user),
    }
    return render(request, "dashboards/dashboard.html", context)


def _period(request) -> tuple[datetime.date, datetime.date]:
    """The period asked for; by default this year so far."""
    today = timezone.localdate()
    since = query_day(request.GET.get("since", ""), today.replace(month=1, day=1))
    until = query_day(request.GET.get("until", ""), today)
    return (since, until) if since <= until else (until, since)


@login_required
@permission_required("members.view_member", raise_exception=True)
def report_list(request):
    """The statistical reports, each for a chosen period, to download."""
    since, until = _period(request)
    return render(
        request,
        "dashboards/reports.html",
        {"reports": REPORTS.values(), "since": since, "until": until},
    )


@login_required
@permission_required("members.view_member", raise_exception=True)
def report_download(request, key):
    report = REPORTS.get(key)
    if report is None:
        raise Http404
    since, until = _period(request)
    data, rows = workbook(report, Dashboard(request.user), since, until)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"report": key, "since": f"{since}", "until": f"{until}", "rows": rows},
    )
    response = HttpResponse(data, content_type=XLSX)
    name = f"{report.title}_{since:%Y%m%d}-{until:%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
