"""Resources and community needs made through their services."""

import itertools

from resources import services
from resources.models import CommunityNeed, Resource

_titles = itertools.count(1)


def resource_make(actor, *, member=None, organisation=None, served=(), **data) -> Resource:
    fields = {
        "title": f"资源{next(_titles)}", "kind": Resource.Kind.SERVICE, "service": "legal",
        "description": "", "capacity": None, "valid_until": None,
        "member": member, "organisation": organisation,
    }  # fmt: skip
    return services.resource_create(actor=actor, data={**fields, **data}, served_areas=served)


def community_need_make(actor, area, **data) -> CommunityNeed:
    fields = {
        "area": area, "kind": "service", "service": "legal", "description": "法律咨询志愿者",
        "quantity": 1, "due_date": None,
    }  # fmt: skip
    return services.community_need_create(actor=actor, data={**fields, **data})
