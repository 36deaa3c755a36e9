"""Form data for members, as a browser would post it."""

import datetime

from members.models import Member


def member_form_data(member: Member | None, **overrides) -> dict:
    """The POST data of the member form for `member` (or a blank new one), with overrides."""
    data = {
        "name": "新成员",
        "id_number": "",
        "sex": "",
        "birth_date": "",
        "ethnicity": "",
        "political_status": "",
        "categories": ["intellectual"],
        "phone": "",
        "community": "",
    }
    if member is not None:
        for field in Member._meta.get_fields():
            if not field.concrete or field.auto_created or not field.editable:
                continue
            value = getattr(member, field.attname, None)
            if field.name in ("created_at", "updated_at"):
                continue
            if isinstance(value, bool):
                if value:
                    data[field.name] = "on"
                continue
            data[field.name] = "" if value is None else str(value)
        data["categories"] = [category.slug for category in member.categories.all()]
        # The hidden field of the edit form: the version it was opened at.
        data["opened_version"] = str(member.version)
    else:
        from members.models import Ethnicity, PoliticalStatus

        from .factories import id_number_for

        data.update(
            id_number=id_number_for(),
            ethnicity=Ethnicity.objects.get(code="01").pk,
            political_status=PoliticalStatus.objects.get(code="13").pk,
            informed_how=Member.InformedHow.LETTER,
            informed_on=datetime.date.today().isoformat(),
        )
    for key, value in overrides.items():
        data[key] = value
    return data
