"""The home dashboard of every role and the statistical reports."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from members.models import Member, MemberChange

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


@login_required
def home(request):
    """The user's dashboard: their area's registry, activities and needs at a glance."""
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
    }
    return render(request, "dashboards/dashboard.html", context)
