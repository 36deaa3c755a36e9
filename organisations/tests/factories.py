"""Organisations and places made through their services."""

import itertools

from organisations import services
from organisations.models import Organisation, Place

# Two codes whose check character (GB 32100-2015) is right.
CREDIT_CODE = "91140106MA0K12345M"
OTHER_CREDIT_CODE = "91140106MA0K765436"

_names = itertools.count(1)


def organisation_make(actor, area, **data) -> Organisation:
    fields = {
        "name": f"单位{next(_names)}", "kind": Organisation.Kind.RESIDENT_UNIT, "area": area,
        "contact_name": "刘经理", "contact_phone": "13912345678",
    }  # fmt: skip
    return services.organisation_create(actor=actor, data={**fields, **data})


def place_make(actor, area, **data) -> Place:
    fields = {
        "name": f"阵地{next(_names)}", "kind": Place.Kind.ACTIVITY_ROOM, "area": area,
        "opening_hours": "周一至周五 9:00–17:00", "manager_name": "周主任",
        "manager_phone": "13712345678",
    }  # fmt: skip
    return services.place_create(actor=actor, data={**fields, **data})
