import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from members.tests.factories import MemberFactory
from organisations import services
from organisations.models import Membership, Organisation, Place
from tongzhan.models import AuditEvent

from .factories import CREDIT_CODE, OTHER_CREDIT_CODE, organisation_make, place_make

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER, LIUXIANG, FAR = "140106001001", "140106001002", "140106001", "140105001001"
DAY = datetime.date(2026, 3, 1)


def names(rows) -> set[str]:
    return {row.name for row in rows}


def test_a_community_sees_its_own_a_street_its_communities_another_district_nothing(
    areas, community_user, neighbour_user, street_user, district_user, other_district_user
):
    own = organisation_make(community_user, areas[QIAODONG], name="桥东律所")
    street = organisation_make(street_user, areas[LIUXIANG], name="柳巷商会")
    place = place_make(community_user, areas[QIAODONG], name="桥东活动室")

    assert names(Organisation.objects.visible_to(community_user)) == {own.name}
    assert names(Organisation.objects.visible_to(neighbour_user)) == set()
    assert names(Organisation.objects.visible_to(street_user)) == {own.name, street.name}
    assert names(Organisation.objects.visible_to(district_user)) == {own.name, street.name}
    assert names(Organisation.objects.visible_to(other_district_user)) == set()
    assert names(Place.objects.visible_to(street_user)) == {place.name}
    assert names(Place.objects.visible_to(neighbour_user)) == set()
    # Staff of the level above edit what lies below them.
    assert names(Organisation.objects.editable_by(street_user)) == {own.name, street.name}


def test_nobody_registers_outside_their_area(areas, community_user, street_user):
    with pytest.raises(ValidationError) as refused:
        organisation_make(community_user, areas[WUYIER])
    assert "area" in refused.value.message_dict
    with pytest.raises(ValidationError):
        place_make(street_user, areas[FAR])
    assert not Organisation.objects.exists() and not Place.objects.exists()


def test_another_community_may_not_change_an_organisation(areas, community_user, neighbour_user):
    organisation = organisation_make(community_user, areas[QIAODONG])
    with pytest.raises(PermissionDenied):
        services.organisation_update(
            actor=neighbour_user, organisation=organisation, data={"name": "改名"}
        )
    organisation.refresh_from_db()
    assert organisation.name != "改名"


@pytest.mark.parametrize("code", ["91140106MA0K12345X", "9114010", "91140106MA0K1234I5"])
def test_a_wrong_credit_code_is_refused_naming_the_field_in_chinese(areas, community_user, code):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        organisation_make(community_user, areas[QIAODONG], credit_code=code)
    [message] = refused.value.message_dict["credit_code"]
    assert "统一社会信用代码" in message
    assert not Organisation.objects.exists()


def test_a_credit_code_is_kept_in_capitals(areas, community_user):
    organisation = organisation_make(
        community_user, areas[QIAODONG], credit_code=f" {CREDIT_CODE.lower()} "
    )
    assert organisation.credit_code == CREDIT_CODE


def test_duplicates_are_refused(areas, community_user, neighbour_user):
    organisation_make(community_user, areas[QIAODONG], name="桥东律所", credit_code=CREDIT_CODE)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        organisation_make(neighbour_user, areas[WUYIER], name="另一家", credit_code=CREDIT_CODE)
    assert "统一社会信用代码" in " ".join(refused.value.messages)
    with pytest.raises(ValidationError):
        organisation_make(community_user, areas[QIAODONG], name="桥东律所")
    # The same name elsewhere, and organisations without a code, are distinct.
    organisation_make(neighbour_user, areas[WUYIER], name="桥东律所")
    organisation_make(community_user, areas[QIAODONG], name="甲")
    organisation_make(community_user, areas[QIAODONG], name="乙", credit_code=OTHER_CREDIT_CODE)
    place_make(community_user, areas[QIAODONG], name="同心驿站")
    with pytest.raises(ValidationError):
        place_make(community_user, areas[QIAODONG], name="同心驿站")
    assert Organisation.objects.count() == 4


def test_a_phone_is_stored_with_its_masked_copy_and_refused_when_wrong(areas, community_user):
    organisation = organisation_make(community_user, areas[QIAODONG], contact_phone="139-1234-5678")
    organisation.refresh_from_db()
    assert organisation.contact_phone == "13912345678"
    assert organisation.contact_phone_masked == "139****5678"
    with pytest.raises(ValidationError) as refused:
        place_make(community_user, areas[QIAODONG], manager_phone="12")
    assert "manager_phone" in refused.value.message_dict


def test_a_sub_group_belongs_to_a_service_group(areas, street_user):
    group = organisation_make(
        street_user, areas[LIUXIANG], name="同心服务团", kind=Organisation.Kind.SERVICE_GROUP
    )
    sub = organisation_make(
        street_user, areas[LIUXIANG], name="法律服务分团", kind=Organisation.Kind.SERVICE_GROUP,
        parent=group,
    )  # fmt: skip
    assert list(group.children.all()) == [sub]
    unit = organisation_make(street_user, areas[LIUXIANG])
    with pytest.raises(ValidationError) as refused:
        organisation_make(street_user, areas[LIUXIANG], parent=unit)
    assert "parent" in refused.value.message_dict
    with pytest.raises(ValidationError):  # no sub-group of a sub-group
        organisation_make(street_user, areas[LIUXIANG], parent=sub)


def test_an_ended_membership_stays_with_its_dates(areas, community_user):
    organisation = organisation_make(community_user, areas[QIAODONG])
    member = MemberFactory(community=areas[QIAODONG])
    first = services.membership_add(
        actor=community_user, organisation=organisation, member=member, role="会长",
        joined_on=DAY,
    )  # fmt: skip
    with pytest.raises(ValidationError):  # in it once at a time
        services.membership_add(
            actor=community_user, organisation=organisation, member=member, role="成员",
            joined_on=DAY,
        )  # fmt: skip
    with pytest.raises(ValidationError):  # not before joining
        services.membership_end(
            actor=community_user, membership=first, left_on=DAY - datetime.timedelta(days=1)
        )
    services.membership_end(actor=community_user, membership=first, left_on=DAY.replace(month=6))
    with pytest.raises(ValidationError):
        services.membership_end(actor=community_user, membership=first, left_on=DAY)
    again = services.membership_add(
        actor=community_user, organisation=organisation, member=member, role="成员",
        joined_on=DAY.replace(month=9),
    )  # fmt: skip
    rows = list(organisation.memberships.values_list("pk", "role", "joined_on", "left_on"))
    assert rows == [
        (again.pk, "成员", DAY.replace(month=9), None),
        (first.pk, "会长", DAY, DAY.replace(month=6)),
    ]
    assert list(Membership.objects.current()) == [again]


def test_only_members_the_actor_sees_join(areas, community_user, neighbour_user, street_user):
    organisation = organisation_make(community_user, areas[QIAODONG])
    other = MemberFactory(community=areas[WUYIER])
    with pytest.raises(ValidationError) as refused:
        services.membership_add(
            actor=community_user, organisation=organisation, member=other, role="成员",
            joined_on=DAY,
        )  # fmt: skip
    assert "member" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        services.membership_add(
            actor=neighbour_user, organisation=organisation, member=other, role="成员",
            joined_on=DAY,
        )  # fmt: skip
    # The street above both adds her.
    services.membership_add(
        actor=street_user, organisation=organisation, member=other, role="成员", joined_on=DAY
    )
    assert organisation.memberships.count() == 1


def test_every_write_is_audited_without_the_phone(areas, community_user):
    organisation = organisation_make(community_user, areas[QIAODONG], name="桥东律所")
    services.organisation_update(
        actor=community_user, organisation=organisation,
        data={"contact_phone": "13800001111", "address": "迎泽大街1号"},
    )  # fmt: skip
    member = MemberFactory(community=areas[QIAODONG])
    membership = services.membership_add(
        actor=community_user, organisation=organisation, member=member, role="成员", joined_on=DAY
    )
    services.membership_end(actor=community_user, membership=membership, left_on=DAY)
    place = place_make(community_user, areas[QIAODONG])
    services.place_update(actor=community_user, place=place, data={"opening_hours": "全天"})
    events = list(
        AuditEvent.objects.filter(object_type__startswith="organisations.")
        .order_by("pk")
        .values_list("action", "object_type", "detail")
    )
    assert [(action, kind) for action, kind, _detail in events] == [
        ("create", "organisations.organisation"),
        ("update", "organisations.organisation"),
        ("create", "organisations.membership"),
        ("update", "organisations.membership"),
        ("create", "organisations.place"),
        ("update", "organisations.place"),
    ]
    assert events[1][2]["fields"] == ["address", "contact_phone"]
    assert events[3][2]["fields"] == ["left_on"]
    assert "1111" not in str(events) and "5678" not in str(events)
    # Saving what is stored writes nothing.
    services.place_update(actor=community_user, place=place, data={"opening_hours": "全天"})
    assert AuditEvent.objects.filter(object_type="organisations.place").count() == 2


def test_organisations_and_places_follow_a_merged_community(
    areas, community_user, neighbour_user, admin_user
):
    from tongzhan.services import area_merge

    moved = organisation_make(community_user, areas[QIAODONG], name="老年协会")
    organisation_make(neighbour_user, areas[WUYIER], name="老年协会")
    room = place_make(community_user, areas[QIAODONG], name="统战活动室")
    assert services.area_organisations_count(areas[QIAODONG]) == 1
    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])
    moved.refresh_from_db()
    room.refresh_from_db()
    assert (moved.area, room.area) == (areas[WUYIER], areas[WUYIER])
    # One name per area: the one brought along says where it came from.
    assert moved.name == "老年协会（桥东一社区）"
    assert AuditEvent.objects.filter(
        object_id=str(areas[QIAODONG].pk), detail__organisations=1
    ).exists()
