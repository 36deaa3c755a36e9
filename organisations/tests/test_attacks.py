"""What an attacker (or a form sent twice) tries against organisations, memberships and
places: a member of another community named on the edit form or ended by a crafted POST, the
same record written twice at once, names of characters that show nothing and days to come."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from organisations import services
from organisations.models import Membership, Organisation, Place
from tongzhan.tests.races import race_or_skip, refused_or_done

from .factories import organisation_make, place_make

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


def test_a_membership_of_a_member_outside_ones_area_is_not_ended(
    client, chamber, community_user, street_user
):
    # The page counts her among "others" without naming her; a crafted POST must not end her.
    membership = Membership.objects.get(organisation=chamber)
    client.force_login(community_user)
    url = reverse("organisations:membership_end", args=[membership.pk])
    assert client.post(url, {"left_on": "2026-01-01"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.membership_end(
            actor=community_user, membership=membership, left_on=datetime.date(2026, 1, 1)
        )
    membership.refresh_from_db()
    assert membership.left_on is None
    # The street above both communities ends it.
    client.force_login(street_user)
    assert client.post(url, {"left_on": "2026-01-01"}).status_code == 302
    membership.refresh_from_db()
    assert membership.left_on == datetime.date(2026, 1, 1)


def test_an_edit_keeps_a_sub_groups_service_group_of_the_street(
    client, areas, community_user, street_user
):
    # The street's service group has a sub-group in 桥东一社区, which the community keeps; its
    # form cannot offer the street's group, so saving it must not detach the sub-group.
    group = organisation_make(street_user, areas["140106001"], name="同心服务团",
                              kind=Organisation.Kind.SERVICE_GROUP)  # fmt: skip
    sub = organisation_make(street_user, areas[QIAODONG], name="桥东服务队",
                            kind=Organisation.Kind.SERVICE_GROUP, parent=group)  # fmt: skip
    client.force_login(community_user)
    url = reverse("organisations:update", args=[sub.pk])
    assert "同心服务团" in client.get(url).content.decode()
    response = client.post(
        url,
        {"name": "桥东服务队", "kind": "service_group", "parent": group.pk,
         "area": areas[QIAODONG].pk, "notes": "每月第一个周六活动", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.parent_id, sub.notes) == (group.pk, "每月第一个周六活动")
    # Another service group it cannot see is still refused.
    other = organisation_make(street_user, areas["140106001002"], name="五一二服务队",
                              kind=Organisation.Kind.SERVICE_GROUP)  # fmt: skip
    with pytest.raises(ValidationError):
        services.organisation_update(actor=community_user, organisation=sub,
                                     data={"parent": other})  # fmt: skip


# -- A form sent twice at once: two connections (as in liaison's withdrawal attacks) ----------


@pytest.fixture
def race(monkeypatch):
    """The first write pauses after its audit line, inside its transaction."""
    race = race_or_skip()
    audit = services.audit_record

    def audit_then_pause(**kwargs):
        audit(**kwargs)
        race.pause()

    monkeypatch.setattr(services, "audit_record", audit_then_pause)
    return race


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    ("make", "model"), [(organisation_make, Organisation), (place_make, Place)]
)
def test_an_organisation_or_a_place_registered_twice_at_once_is_refused_in_words(
    race, areas, community_user, make, model
):
    def register():
        return make(community_user, areas[QIAODONG], name="统战之家")

    outcome = race.run(register, register)
    refused_or_done(outcome)
    assert isinstance(outcome["second"], ValidationError)
    assert model.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_member_added_twice_at_once_is_refused_in_words(race, areas, community_user, member):
    chamber = organisation_make(community_user, areas[QIAODONG], name="商会")

    def add():
        return services.membership_add(
            actor=community_user, organisation=chamber, member=member, role="会长",
            joined_on=JOINED,
        )  # fmt: skip

    outcome = race.run(add, add)
    refused_or_done(outcome)
    assert isinstance(outcome["second"], ValidationError)
    assert Membership.objects.count() == 1


# -- Inputs --------------------------------------------------------------------------------

# Characters that show nothing: zero-width space, joiner and non-joiner, word joiner, the
# byte-order mark, a right-to-left override.
INVISIBLE = "\u200b\u200d\u200c\u2060\ufeff\u202e"


def test_a_name_of_invisible_characters_is_no_name_and_adds_none_to_a_name(
    client, areas, community_user
):
    organisation_make(community_user, areas[QIAODONG], name="商会")
    place_make(community_user, areas[QIAODONG], name="统战活动室")
    client.force_login(community_user)
    area = areas[QIAODONG].pk
    for name in (INVISIBLE, f" {INVISIBLE}\u3000", f"商会{INVISIBLE}", "\u202e商会"):
        response = client.post(
            reverse("organisations:create"),
            {"name": name, "kind": "chamber", "area": area, "is_active": "on"},
        )
        assert response.status_code == 200, repr(name)
    for name in (INVISIBLE, "统战\u200b活动室"):
        response = client.post(
            reverse("organisations:place_create"),
            {"name": name, "kind": "activity_room", "area": area, "is_active": "on"},
        )
        assert response.status_code == 200, repr(name)
    assert list(Organisation.objects.values_list("name", flat=True)) == ["商会"]
    assert list(Place.objects.values_list("name", flat=True)) == ["统战活动室"]
    # A name with them is kept without them.
    chamber = organisation_make(community_user, areas[QIAODONG], name=f"\ufeff工商联{INVISIBLE}")
    assert chamber.name == "工商联"


def test_a_member_neither_joins_nor_leaves_on_a_day_still_to_come(
    client, areas, community_user, member
):
    chamber = organisation_make(community_user, areas[QIAODONG], name="商会")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.membership_add(actor=community_user, organisation=chamber, member=member,
                                role="会长", joined_on=tomorrow)  # fmt: skip
    assert "joined_on" in refused.value.error_dict
    membership = services.membership_add(
        actor=community_user, organisation=chamber, member=member, role="会长", joined_on=JOINED
    )
    client.force_login(community_user)
    response = client.post(
        reverse("organisations:membership_end", args=[membership.pk]),
        {"left_on": tomorrow.isoformat()},
        follow=True,
    )
    assert "日期不能晚于今天。" in response.content.decode()
    membership.refresh_from_db()
    assert membership.left_on is None
    assert Membership.objects.current().filter(member=member).exists()
