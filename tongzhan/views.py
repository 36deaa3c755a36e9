"""Pages every role shares: the home page."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from members.models import Category, Member, MemberChange
from tongzhan.models import Area, User

# The level each role's home page breaks its numbers down by.
BREAKDOWN_LEVEL = {
    User.Role.DISTRICT: Area.Level.STREET,
    User.Role.STREET: Area.Level.COMMUNITY,
    User.Role.COMMUNITY: None,
    User.Role.ADMIN: Area.Level.STREET,
}


@login_required
def home(request):
    """A home page per role: the registry in the user's area at a glance."""
    user = request.user
    active = Member.objects.visible_to(user).filter(status=Member.Status.ACTIVE)
    by_category = dict(
        Member.categories.through.objects.filter(member__in=active)
        .values_list("category__code")
        .annotate(n=Count("*"))
    )
    categories = [
        {"category": category, "count": by_category.get(category.code, 0)}
        for category in Category.objects.all()
    ]
    level = BREAKDOWN_LEVEL.get(user.role)
    areas = []
    if level == Area.Level.COMMUNITY:
        counts = dict(active.values_list("community__code").annotate(n=Count("*")))
        for area in Area.objects.visible_to(user).communities():
            areas.append({"area": area, "count": counts.get(area.code, 0)})
    elif level == Area.Level.STREET:
        counts = dict(active.values_list("community__parent__code").annotate(n=Count("*")))
        for area in Area.objects.visible_to(user).filter(level=Area.Level.STREET):
            areas.append({"area": area, "count": counts.get(area.code, 0)})
    recent = (
        MemberChange.objects.filter(member__in=Member.objects.visible_to(user))
        .select_related("member", "actor")
        .order_by("-at", "-id")[:8]
    )
    context = {
        "total": active.count(),
        "representatives": active.filter(is_representative=True).count(),
        "categories": categories,
        "areas": areas,
        "recent": recent,
    }
    return render(request, "home.html", context)
