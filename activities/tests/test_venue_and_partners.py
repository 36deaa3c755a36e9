"""An activity's place (阵地) and partner organisations: chosen from the user's own lists,
refused from anyone else's, kept in the history, shown on the activity's page."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityType
from organisations import services as organisation_services
from organisations.tests.factories import organisation_make, place_make
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER, LIUXIANG, WENMIAO = "140106001001", "140106001002", "140106001", "140106002"


def data(area, **fields):
    return {
        "type": ActivityType.objects.get(code="free_clinic"),
        "title": "重阳节义诊",
        "starts_at": timezone.make_aware(datetime.datetime(2026, 9, 10, 9, 30)),
        "area": area,
        "people_served": 120,
        **fields,
    }


@pytest.fixture
def room(areas, community_user):
    return place_make(community_user, areas[QIAODONG], name="桥东一社区统战活动室")


@pytest.fixture
def firm(areas, community_user):
    return organisation_make(community_user, areas[QIAODONG], name="桥东律师事务所")


@pytest.fixture
def neighbours(areas, neighbour_user):
    """A place and an organisation of 五一二社区, which 桥东一社区's worker may not see."""
    return (
        place_make(neighbour_user, areas[WUYIER], name="五一二同心驿站"),
        organisation_make(neighbour_user, areas[WUYIER], name="五一二商贸公司"),
    )


def test_an_activity_is_held_at_a_place_with_partners_and_its_history_names_them(
    community_user, areas, room, firm
):
    activity = services.activity_create(
        actor=community_user, data=data(areas[QIAODONG], venue=room), partners=[firm]
    )
    assert activity.venue == room and list(activity.partners.all()) == [firm]
    assert list(room.activities.all()) == [activity] and list(firm.activities.all()) == [activity]
    created = {row["field"]: row["new"] for row in activity.changes.get().changes}
    assert created["venue"] == "桥东一社区统战活动室" and created["partners"] == "桥东律师事务所"


def test_the_free_text_place_stays_possible(community_user, areas):
    activity = services.activity_create(
        actor=community_user, data=data(areas[QIAODONG], place="小区广场")
    )
    assert activity.venue is None and activity.place == "小区广场"


def test_a_place_or_partner_outside_the_scope_is_refused(community_user, areas, neighbours):
    place, organisation = neighbours
    with pytest.raises(ValidationError) as error:
        services.activity_create(actor=community_user, data=data(areas[QIAODONG], venue=place))
    assert list(error.value.message_dict) == ["venue"]
    with pytest.raises(ValidationError) as error:
        services.activity_create(
            actor=community_user, data=data(areas[QIAODONG]), partners=[organisation]
        )
    assert list(error.value.message_dict) == ["partners"]
    assert not Activity.objects.exists()


def test_a_place_put_out_of_use_is_not_chosen_anew_but_stays_where_it_was(
    community_user, areas, room
):
    activity = services.activity_create(
        actor=community_user, data=data(areas[QIAODONG], venue=room)
    )
    organisation_services.place_update(actor=community_user, place=room, data={"is_active": False})
    room.refresh_from_db()
    services.activity_update(actor=community_user, activity=activity, data={"title": "义诊"})
    assert Activity.objects.get().venue == room
    other = services.activity_create(actor=community_user, data=data(areas[QIAODONG]))
    with pytest.raises(ValidationError) as error:
        services.activity_update(actor=community_user, activity=other, data={"venue": room})
    assert "venue" in error.value.message_dict


def test_a_change_of_place_and_partners_is_in_the_history_and_the_audit_log(
    community_user, areas, room, firm
):
    activity = services.activity_create(actor=community_user, data=data(areas[QIAODONG]))
    services.activity_update(
        actor=community_user, activity=activity, data={"venue": room}, partners=[firm]
    )
    change = activity.changes.get(action="update")
    rows = {row["field"]: (row["old"], row["new"]) for row in change.changes}
    assert rows == {"venue": ("", "桥东一社区统战活动室"), "partners": ("", "桥东律师事务所")}
    event = AuditEvent.objects.filter(action="update", object_id=str(activity.pk)).get()
    assert set(event.detail["fields"]) == {"venue", "partners"}
    # Partners left out of the call stay as they are.
    services.activity_update(actor=community_user, activity=activity, data={"title": "义诊"})
    assert list(activity.partners.all()) == [firm]


def test_partners_the_editor_cannot_see_stay_when_it_saves(district_user, street_user, areas):
    # The district's joint activity with a street's group and one of another street's.
    ours = organisation_make(street_user, areas[LIUXIANG], name="柳巷服务团")
    theirs = organisation_make(district_user, areas[WENMIAO], name="文庙商会")
    activity = services.activity_create(
        actor=district_user, data=data(areas[LIUXIANG]), partners=[ours, theirs]
    )
    services.activity_update(actor=street_user, activity=activity, data={}, partners=[])
    assert list(activity.partners.all()) == [theirs]


def form_data(area, **fields):
    return {
        "type": ActivityType.objects.get(code="free_clinic").pk,
        "title": "重阳节义诊",
        "starts_at": "2026-10-29T09:00",
        "area": area.pk,
        "other_attendees": "0",
        "people_served": "86",
        "funds": "0",
        **fields,
    }


def test_the_form_offers_the_users_places_and_organisations_in_use(
    client, community_user, areas, room, firm, neighbours
):
    organisation_make(community_user, areas[QIAODONG], name="停业公司", is_active=False)
    client.force_login(community_user)
    page = client.get(reverse("activities:create")).content.decode()
    assert "桥东一社区统战活动室" in page and "桥东律师事务所" in page
    assert "五一二同心驿站" not in page and "五一二商贸公司" not in page
    assert "停业公司" not in page
    assert "其他地点" in page  # the free text, for a place not in the list


def test_the_form_records_the_place_and_partners_and_the_page_links_them(
    client, community_user, areas, room, firm
):
    client.force_login(community_user)
    response = client.post(
        reverse("activities:create"),
        form_data(areas[QIAODONG], venue=room.pk, partners=[firm.pk], place="二楼"),
    )
    activity = Activity.objects.get()
    assert response["Location"] == reverse("activities:detail", args=[activity.pk])
    assert activity.venue == room and list(activity.partners.all()) == [firm]
    page = client.get(response["Location"]).content.decode()
    assert reverse("organisations:place_detail", args=[room.pk]) in page
    assert reverse("organisations:detail", args=[firm.pk]) in page and "二楼" in page
    assert "合作单位" in page


def test_a_crafted_post_with_another_areas_place_or_partner_is_refused_on_the_field(
    client, community_user, areas, neighbours
):
    place, organisation = neighbours
    client.force_login(community_user)
    for extra in ({"venue": place.pk}, {"partners": [organisation.pk]}):
        response = client.post(reverse("activities:create"), form_data(areas[QIAODONG], **extra))
        assert response.status_code == 200
        [name] = extra
        assert response.context["form"].errors[name]
        assert "有效" in response.content.decode()  # Django's Chinese for a choice not offered
    assert not Activity.objects.exists()


def test_the_page_names_partners_it_does_not_link(client, district_user, community_user, areas):
    # A district's joint activity at the district's place with a district organisation: the
    # community's worker sees the activity and their names, not their pages.
    place = place_make(district_user, areas["140106"], name="区统战实践基地")
    organisation = organisation_make(district_user, areas["140106"], name="区新联会")
    activity = services.activity_create(
        actor=district_user, data=data(areas["140106"], venue=place), partners=[organisation]
    )
    client.force_login(community_user)
    page = client.get(reverse("activities:detail", args=[activity.pk])).content.decode()
    assert "区统战实践基地" in page and "区新联会" in page
    assert reverse("organisations:place_detail", args=[place.pk]) not in page
    assert reverse("organisations:detail", args=[organisation.pk]) not in page
