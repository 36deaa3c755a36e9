"""Activity pages: scope of every page and action, the picker, fixed query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityType
from members.models import Category, Member
from members.tests.factories import MemberFactory
from tongzhan.models import Area

pytestmark = pytest.mark.django_db


def record(actor, area, participants=(), **fields):
    start = timezone.make_aware(datetime.datetime(2026, 9, 10, 9, 30))
    data = {
        "type": ActivityType.objects.get(code="consultation"),
        "title": "协商议事会",
        "starts_at": start,
        "area": area,
        **fields,
    }
    return services.activity_create(actor=actor, data=data, participants=participants)


def form_data(area, participants=(), **fields):
    return {
        "type": ActivityType.objects.get(code="free_clinic").pk,
        "title": "重阳节义诊",
        "starts_at": "2026-10-29T09:00",
        "ends_at": "2026-10-29T11:30",
        "place": "社区卫生服务站",
        "area": area.pk,
        "participants": [member.pk for member in participants],
        "other_attendees": "3",
        "people_served": "86",
        "funds": "0",
        **fields,
    }


def test_a_community_worker_records_an_activity_from_the_form(
    client, community_user, member, areas
):
    client.force_login(community_user)
    page = client.get(reverse("activities:create")).content.decode()
    assert "义诊" in page and reverse("activities:member_search") in page
    response = client.post(reverse("activities:create"), form_data(areas["140106001001"], [member]))
    activity = Activity.objects.get()
    assert response["Location"] == reverse("activities:detail", args=[activity.pk])
    assert list(activity.participants.all()) == [member]
    assert activity.people_served == 86 and activity.created_by == community_user
    detail = client.get(response["Location"]).content.decode()
    assert "重阳节义诊" in detail and member.name in detail
    timeline = client.get(reverse("activities:member_timeline", args=[member.pk]))
    assert "重阳节义诊" in timeline.content.decode()


def test_a_posted_participant_from_outside_the_scope_is_refused(
    client, community_user, neighbour_member, areas
):
    client.force_login(community_user)
    response = client.post(
        reverse("activities:create"), form_data(areas["140106001001"], [neighbour_member])
    )
    assert response.status_code == 200 and not Activity.objects.exists()


def test_the_organising_area_offers_only_areas_in_scope(client, community_user, areas):
    client.force_login(community_user)
    response = client.get(reverse("activities:create"))
    choices = {area.code for area in response.context["form"].fields["area"].queryset}
    assert choices == {"140106001001"}
    response = client.post(reverse("activities:create"), form_data(areas["140106001002"]))
    assert response.status_code == 200 and not Activity.objects.exists()


def test_the_member_search_finds_only_members_in_scope(
    client, community_user, member, neighbour_member, far_member
):
    client.force_login(community_user)
    url = reverse("activities:member_search")
    for other in (neighbour_member, far_member):
        found = client.get(url, {"q": other.name}).json()["results"]
        assert other.pk not in [row["id"] for row in found]
    found = client.get(url, {"q": member.name[:1]}).json()["results"]
    assert [row["id"] for row in found] == [member.pk]


def test_the_member_search_keeps_to_the_chosen_community(
    client, street_user, member, neighbour_member
):
    client.force_login(street_user)
    url = reverse("activities:member_search")
    both = {row["id"] for row in client.get(url, {"q": "李"}).json()["results"]} | {
        row["id"] for row in client.get(url, {"q": "张"}).json()["results"]
    }
    assert both == {member.pk, neighbour_member.pk}
    one = client.get(url, {"q": neighbour_member.name, "community": member.community_id})
    assert one.json()["results"] == []


def test_scope_of_the_detail_and_edit_pages(
    client, community_user, neighbour_user, street_user, district_user, other_street_user, areas
):
    activity = record(community_user, areas["140106001001"])
    detail = reverse("activities:detail", args=[activity.pk])
    edit = reverse("activities:update", args=[activity.pk])
    client.force_login(neighbour_user)
    assert client.get(detail).status_code == 404
    assert client.get(edit).status_code == 404
    client.force_login(other_street_user)
    assert client.get(detail).status_code == 404
    client.force_login(district_user)
    assert client.get(edit).status_code == 200
    # A joint activity of the street: its communities see it, only the street edits it.
    joint = record(street_user, areas["140106001"], title="街道联谊会")
    client.force_login(community_user)
    assert client.get(reverse("activities:detail", args=[joint.pk])).status_code == 200
    assert client.get(reverse("activities:update", args=[joint.pk])).status_code == 403
    titles = {a.title for a in client.get(reverse("activities:list")).context["activities"]}
    assert titles == {"协商议事会", "街道联谊会"}


def test_a_joint_activity_names_only_the_participants_the_viewer_may_see(
    client, street_user, community_user, member, neighbour_member, areas
):
    joint = record(street_user, areas["140106001"], participants=[member, neighbour_member])
    client.force_login(community_user)
    response = client.get(reverse("activities:detail", args=[joint.pk]))
    page = response.content.decode()
    assert member.name in page and neighbour_member.name not in page
    assert response.context["participants_elsewhere"] == 1


def test_an_edit_goes_into_the_history(client, community_user, member, areas):
    activity = record(community_user, areas["140106001001"])
    client.force_login(community_user)
    response = client.post(
        reverse("activities:update", args=[activity.pk]),
        form_data(areas["140106001001"], [member], title="重阳节义诊（改）"),
    )
    assert response.status_code == 302
    change = activity.changes.get(action="update")
    assert "title" in {row["field"] for row in change.changes}
    page = client.get(reverse("activities:detail", args=[activity.pk])).content.decode()
    assert "<td>标题</td><td>协商议事会</td><td>重阳节义诊（改）</td>" in page


def test_the_list_filters_by_type_area_dates_and_member(client, street_user, member, areas):
    record(street_user, areas["140106001001"], participants=[member], title="甲")
    record(street_user, areas["140106001002"], title="乙")
    record(
        street_user,
        areas["140106001001"],
        title="丙",
        type=ActivityType.objects.get(code="training"),
        starts_at=timezone.make_aware(datetime.datetime(2026, 3, 1, 9, 0)),
    )
    client.force_login(street_user)

    def titles(**query):
        response = client.get(reverse("activities:list"), query)
        return {activity.title for activity in response.context["activities"]}

    assert titles() == {"甲", "乙", "丙"}
    assert titles(type="training") == {"丙"}
    assert titles(area="140106001002") == {"乙"}
    assert titles(start="2026-09-01") == {"甲", "乙"}
    assert titles(end="2026-03-31") == {"丙"}
    assert titles(member=member.pk) == {"甲"}


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_keeps_a_fixed_number_of_queries(
    client, street_user, areas, count, django_assert_max_num_queries
):
    members = [MemberFactory(community=areas["140106001001"]) for _ in range(3)]
    for index in range(count):
        record(street_user, areas["140106001001"], participants=members, title=f"活动{index}")
    client.force_login(street_user)
    with django_assert_max_num_queries(13):  # 12, and the header's to-do count
        response = client.get(reverse("activities:list"))
    rows = response.context["activities"]
    assert len(rows) == min(count, 25) and all(row.participant_count == 3 for row in rows)
    assert '<td class="num" data-label="参加的统战对象">3</td>' in response.content.decode()


def test_anonymous_users_are_sent_to_log_in(client, street_user, areas):
    activity = record(street_user, areas["140106001"])
    for url in (reverse("activities:list"), reverse("activities:detail", args=[activity.pk])):
        assert client.get(url).status_code == 302  # to the login page


def test_the_month_view_puts_each_activity_on_its_day(client, community_user, areas):
    record(
        community_user,
        areas["140106001001"],
        title="中秋联谊会",
        starts_at=timezone.make_aware(datetime.datetime(2026, 9, 25, 19, 0)),
    )
    record(
        community_user,
        areas["140106001001"],
        title="国庆座谈",
        starts_at=timezone.make_aware(datetime.datetime(2026, 10, 1, 9, 0)),
    )
    client.force_login(community_user)
    response = client.get(reverse("activities:month"), {"month": "2026-09"})
    days = {
        cell["day"]: [activity["title"] for activity in cell["activities"]]
        for week in response.context["weeks"]
        for cell in week
        if cell["activities"]
    }
    assert days == {datetime.date(2026, 9, 25): ["中秋联谊会"]}
    for index in range(4):
        record(
            community_user,
            areas["140106001001"],
            title=f"学习{index}",
            starts_at=timezone.make_aware(datetime.datetime(2026, 9, 26, 9, index)),
        )
    response = client.get(reverse("activities:month"), {"month": "2026-09"})
    [busy] = [cell for week in response.context["weeks"] for cell in week if cell["more"]]
    assert busy["day"] == datetime.date(2026, 9, 26) and len(busy["activities"]) == 3
    assert "start=2026-09-26&amp;end=2026-09-26" in response.content.decode()
    assert response.context["following"] == "2026-10"
    assert client.get(reverse("activities:month"), {"month": "junk"}).status_code == 200


@pytest.fixture
def reader(areas):
    """A community account whose role may look at activities, visits and needs only."""
    from django.contrib.auth.models import Permission

    from tongzhan.models import User
    from tongzhan.services import user_create

    user = user_create(
        actor=None,
        username="ivy",
        password="Zx-9-test-password",
        role=User.Role.COMMUNITY,
        area=areas["140106001001"],
    )
    user.groups.clear()
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="activities", codename__startswith="view_"
        )
    )
    return User.objects.get(pk=user.pk)


def test_a_read_only_role_sees_but_does_not_record_or_change(
    client, reader, community_user, member, areas
):
    activity = record(community_user, areas["140106001001"], participants=[member])
    visit = services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": datetime.date(2026, 11, 2),
              "staff": "王丽", "way": "home"},
        members=[member],
        need={"kind": "other", "description": "咨询"},
    )  # fmt: skip
    need = visit.needs.get()
    client.force_login(reader)
    for name, args in (
        ("activities:detail", [activity.pk]),
        ("activities:visit_detail", [visit.pk]),
        ("activities:need_detail", [need.pk]),
        ("activities:list", []),
    ):
        assert client.get(reverse(name, args=args)).status_code == 200
    page = client.get(reverse("activities:need_detail", args=[need.pk])).content.decode()
    assert 'id="change-status"' not in page
    for name, args in (
        ("activities:create", []),
        ("activities:update", [activity.pk]),
        ("activities:visit_create", []),
        ("activities:visit_update", [visit.pk]),
        ("activities:need_update", [need.pk]),
        ("activities:member_search", []),
    ):
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("activities:need_detail", args=[need.pk])).status_code == 403
    response = client.post(reverse("activities:file_upload", args=[activity.pk]))
    assert response.status_code == 403
    response = client.post(reverse("activities:file_remove", args=[activity.pk, 1]))
    assert response.status_code == 403


def test_the_member_search_tells_people_of_one_name_apart(client, community_user, areas):
    from members.tests.factories import id_number_for

    born = datetime.date(1956, 3, 8)
    number = id_number_for(born)
    MemberFactory(name="王芳", community=areas["140106001001"], id_number=number)
    MemberFactory(name="王芳", community=areas["140106001001"])
    client.force_login(community_user)
    response = client.get(reverse("activities:member_search"), {"q": "王芳"})
    first, second = response.json()["results"]
    today = datetime.date.today()
    age = today.year - 1956 - ((today.month, today.day) < (3, 8))
    row = first if first["id_last_four"] == number[-4:] else second
    assert row["age"] == age and row["community"] == "桥东一社区" and row["name"] == "王芳"
    assert row["label"] == f"王芳 · {age}岁 · 身份证尾号{number[-4:]} · 桥东一社区"
    assert first["id_last_four"] != second["id_last_four"]
    assert number not in response.content.decode() and number[:10] not in response.content.decode()
    # The chosen participants read the same on the form.
    chosen = Member.objects.get(pk=row["id"])
    activity = record(community_user, areas["140106001001"], [chosen])
    page = client.get(reverse("activities:update", args=[activity.pk])).content.decode()
    assert row["label"] in page and number not in page


def bulk_ids(client, **params):
    response = client.get(reverse("activities:member_bulk"), params)
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_the_bulk_choice_by_category_finds_only_members_in_scope(
    client, community_user, member, neighbour_member, far_member
):
    code = Category.objects.get(slug="intellectual").code
    client.force_login(community_user)
    assert bulk_ids(client, category=code) == {member.pk}
    other = Category.objects.exclude(slug="intellectual").first().code
    assert bulk_ids(client, category=other) == set()


def test_the_bulk_choice_by_grid_keeps_to_grids_in_scope(
    client, community_user, neighbour_user, member, far_member, areas
):
    grid = areas["140106001001001"]
    member.grid = grid
    member.save()
    far_grid = Area.objects.create(
        code="140105001001001", name="坞城社区第一网格", level="grid",
        parent=areas["140105001001"],
    )  # fmt: skip
    far_member.grid = far_grid
    far_member.save()
    client.force_login(community_user)
    assert bulk_ids(client, grid=grid.pk) == {member.pk}
    assert bulk_ids(client, grid=far_grid.pk) == set()
    page = client.get(reverse("activities:create")).content.decode()
    assert "桥东一社区第一网格" in page and "坞城社区第一网格" not in page
    client.force_login(neighbour_user)
    assert bulk_ids(client, grid=grid.pk) == set()


def test_the_bulk_choice_from_an_earlier_activity_keeps_to_activities_and_members_in_scope(
    client, community_user, neighbour_user, street_user, member, neighbour_member, areas
):
    joint = record(street_user, areas["140106001"], participants=[member, neighbour_member])
    own = record(community_user, areas["140106001001"], participants=[member], title="楼道议事")
    client.force_login(community_user)
    # The street's joint activity is seen, but only the participants the user may see come.
    assert bulk_ids(client, activity=joint.pk) == {member.pk}
    assert bulk_ids(client, activity=own.pk) == {member.pk}
    page = client.get(reverse("activities:create")).content.decode()
    assert "2026-09-10 楼道议事</option>" in page
    client.force_login(neighbour_user)
    assert bulk_ids(client, activity=own.pk) == set()
    assert bulk_ids(client, activity=joint.pk) == {neighbour_member.pk}
    page = client.get(reverse("activities:create")).content.decode()
    assert "楼道议事" not in page and "2026-09-10 协商议事会</option>" in page


@pytest.mark.parametrize(
    "params",
    [{}, {"category": "\x00"}, {"category": "９"}, {"category": "x" * 500}, {"grid": "-1"},
     {"grid": "99999999999999999999"}, {"activity": "1.5"}, {"activity": "\x00"},
     {"activity": "١"}],
)  # fmt: skip
def test_the_bulk_choice_finds_nobody_for_bad_values(client, community_user, member, params):
    client.force_login(community_user)
    assert bulk_ids(client, **params) == set()


def test_the_bulk_choice_adds_at_most_its_limit_and_says_so(
    client, community_user, member, areas, monkeypatch
):
    from activities import views

    MemberFactory(name="张四", community=areas["140106001001"])
    monkeypatch.setattr(views, "BULK_LIMIT", 1)
    client.force_login(community_user)
    code = Category.objects.get(slug="intellectual").code
    data = client.get(reverse("activities:member_bulk"), {"category": code}).json()
    assert len(data["results"]) == 1
    assert "共有 2 人符合，只添加了前 1 人" in data["message"]


def test_the_activity_form_offers_the_bulk_choices(client, community_user):
    client.force_login(community_user)
    page = client.get(reverse("activities:create")).content.decode()
    assert reverse("activities:member_bulk") in page
    assert page.count('data-bulk="') == 3
    for category in Category.objects.all():
        assert f'<option value="{category.code}">{category.name}</option>' in page
