"""What an attacker tries against organisations, memberships and places: a member of another
community named on the edit form."""

import datetime

import pytest
from django.urls import reverse

from organisations import services

from .factories import organisation_make

pytestmark = pytest.mark.django_db

QIAODONG = "140106001001"
JOINED = datetime.date(2025, 1, 1)


@pytest.fixture
def chamber(areas, district_user, neighbour_member):
    """A chamber of 桥东一社区 whose president, its contact, is 五一二社区's 李四: the district
    added her."""
    organisation = organisation_make(district_user, areas[QIAODONG], name="商会")
    services.membership_add(actor=district_user, organisation=organisation,
                            member=neighbour_member, role="会长", joined_on=JOINED)  # fmt: skip
    return services.organisation_update(
        actor=district_user, organisation=organisation, data={"contact_member": neighbour_member}
    )


def test_the_edit_form_names_a_contact_of_another_community_masked(
    client, chamber, community_user, district_user
):
    client.force_login(community_user)
    detail = client.get(reverse("organisations:detail", args=[chamber.pk])).content.decode()
    assert "李四" not in detail
    page = client.get(reverse("organisations:update", args=[chamber.pk])).content.decode()
    assert "李*" in page and "李四" not in page
    client.force_login(district_user)
    assert "李四" in client.get(reverse("organisations:update", args=[chamber.pk])).content.decode()
