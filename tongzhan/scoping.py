"""The one scoping mechanism: what a user may see and change is what lies in their area.

An area's code extends its parent's code, so the records below an area are those whose
area code starts with it. Every list, detail, count, search, export, admin page and picker
starts from ``visible_to(user)``; writes start from ``editable_by(user)``.
Anchor: NetBox ``RestrictedQuerySet.restrict(user, action)``, reduced to areas.
"""

from django.db import models
from django.db.models import Q


def code_within(code: str, prefix: str) -> bool:
    """Whether the area coded `code` is the area coded `prefix` or lies below it.

    The one test of "this area and below" on codes; `Area.is_within` asks it of areas and
    `within_area` of queries.
    """
    return code.startswith(prefix)


def within_area(area, field: str = "") -> Q:
    """A filter for the records whose area is `area` (an Area or its code) or lies below it.

    `field` leads from the record to its area ("community", "area", "member__community");
    empty for areas themselves.
    """
    code = area if isinstance(area, str) else area.code
    return Q(**{f"{field}__code__startswith" if field else "code__startswith": code})


def area_prefix(user) -> str | None:
    """The code prefix a user's records share; "" for everything, None for nothing."""
    if not user or not user.is_authenticated or not user.is_active:
        return None
    if user.sees_everything:
        return ""
    if user.area_id is None:
        return None
    return user.area.code


class AreaQuerySet(models.QuerySet):
    """Areas; `within(area)` is the area and everything below it."""

    def within(self, area):
        return self.filter(within_area(area))

    def communities(self):
        return self.filter(level="community")

    def current(self):
        """The areas in use: not retired (撤销, 撤并). Pickers offer only these; old records
        still name a retired area."""
        return self.filter(retired_at__isnull=True)

    def visible_to(self, user):
        prefix = area_prefix(user)
        if prefix is None:
            return self.none()
        return self.filter(within_area(prefix)) if prefix else self.all()


def visible_area_ids(user) -> list[int] | None:
    """The ids of the areas at or below the user's area; None for every area.

    Looked up once per user object (so once per request) and passed to queries as literal
    ids: with a subquery the planner cannot tell which areas are meant and, on the big
    tables, falls back to scanning them whole.
    """
    prefix = area_prefix(user)
    if prefix == "":
        return None
    if prefix is None:
        return []
    cached = getattr(user, "_visible_area_ids", None)
    if cached is None or cached[0] != prefix:
        from .models import Area

        ids = list(Area.objects.filter(within_area(prefix)).values_list("pk", flat=True))
        cached = (prefix, ids)
        user._visible_area_ids = cached
    return cached[1]


class ScopedQuerySet(models.QuerySet):
    """Records that belong to an area through ``area_field`` (a foreign key to Area).

    ``change_permission`` is the Django permission that makes a visible record editable.
    """

    area_field = "community"
    change_permission = ""

    def visible_to(self, user):
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        if not ids:
            return self.none()
        if len(ids) == 1:
            return self.filter(**{f"{self.area_field}_id": ids[0]})
        return self.filter(**{f"{self.area_field}_id__in": ids})

    def editable_by(self, user):
        if not user.is_authenticated or not user.has_perm(self.change_permission):
            return self.none()
        return self.visible_to(user)


def enclosing_area_ids(user) -> list[int]:
    """The ids of the areas above the user's area (a street's district; a community's street
    and district), nearest first: areas whose records the user sees only in part, such as a
    district's evaluation round of which a street sees its own representatives.

    Looked up once per user object, as `visible_area_ids`.
    """
    prefix = area_prefix(user)
    if not prefix:
        return []
    cached = getattr(user, "_enclosing_area_ids", None)
    if cached is None or cached[0] != prefix:
        cached = (prefix, [area.pk for area in enclosing_areas(user.area)])
        user._enclosing_area_ids = cached
    return cached[1]


def enclosing_areas(area) -> list:
    """The areas above `area` (a community's street and district), nearest first, by its
    parents: no query for those loaded with it (`select_related("parent__parent")`)."""
    above = []
    while area.parent_id is not None:
        area = area.parent
        above.append(area)
    return above
