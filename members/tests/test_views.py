"""What people see on the member pages: scope, masking, reveals, forms, history."""

import datetime
import re

import pytest
from django.urls import reverse

from members.models import Category, Member, PoliticalStatus
from tongzhan.models import AuditEvent

from .factories import MemberFactory, id_number_for
from .helpers import member_form_data

pytestmark = pytest.mark.django_db


def test_list_shows_only_members_in_scope(
    client, community_user, member, neighbour_member, far_member
):
    client.force_login(community_user)
    response = client.get(reverse("members:list"))
    names = [m.name for m in response.context["members"]]
    assert names == ["张三"]
    assert response.context["paginator"].count == 1


def test_street_officer_sees_both_communities_but_not_the_other_district(
    client, street_user, member, neighbour_member, far_member
):
    client.force_login(street_user)
    response = client.get(reverse("members:list"))
    assert {m.name for m in response.context["members"]} == {"张三", "李四"}


def test_list_masks_id_numbers_and_phones(client, district_user, member):
    client.force_login(district_user)
    html = client.get(reverse("members:list")).content.decode()
    assert member.id_number not in html
    assert member.phone not in html
    assert member.id_number_masked in html
    assert member.id_number_masked == member.id_number[:6] + "********" + member.id_number[-4:]
    assert member.phone_masked == member.phone[:3] + "****" + member.phone[-4:]
    assert member.phone_masked in html


def test_detail_masks_until_revealed_and_the_reveal_is_logged(client, community_user, member):
    client.force_login(community_user)
    url = reverse("members:detail", args=[member.pk])
    html = client.get(url).content.decode()
    assert member.id_number not in html and member.id_number_masked in html
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL).exists()

    html = client.post(url).content.decode()
    assert member.id_number in html and member.phone in html
    event = AuditEvent.objects.get(action=AuditEvent.Action.REVEAL)
    assert (event.actor, event.object_id) == (community_user, str(member.pk))
    assert member.id_number not in str(event.detail) + event.object_repr


def test_street_officer_is_not_offered_a_reveal(client, street_user, member):
    client.force_login(street_user)
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert 'method="post"' not in html.split("<main")[1].split("</main>")[0]
    assert member.id_number not in html


def test_opening_the_edit_form_is_a_logged_reveal(client, community_user, member):
    client.force_login(community_user)
    client.get(reverse("members:update", args=[member.pk]))
    assert AuditEvent.objects.filter(action="reveal", object_id=str(member.pk)).count() == 1


THIS_MONTH = datetime.date.today()
THIS_YEAR = THIS_MONTH.year


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "张"}, {"张三"}),
        ({"category": "05"}, {"李四"}),
        ({"political_status": "05"}, {"李四"}),
        ({"ethnicity": "03"}, {"李四"}),
        ({"is_representative": "true"}, {"李四"}),
        ({"area": "140106001002"}, {"李四"}),
        ({"age_min": "40", "age_max": "50"}, {"张三"}),
        ({"status": "deceased"}, {"王五"}),
        ({"status": ""}, {"张三", "李四", "王五"}),
        ({}, {"张三", "李四"}),
        ({"sex": "F"}, {"李四"}),
        ({"born_from": THIS_YEAR - 70, "born_to": THIS_YEAR - 70}, {"李四"}),
        ({"born_to": THIS_YEAR - 46}, {"李四"}),
        ({"incomplete": "true"}, {"李四"}),  # no religion, no party details
        ({"incomplete": "false"}, {"张三"}),
        ({"registered": f"{THIS_MONTH:%Y-%m}", "status": ""}, {"张三", "李四", "王五"}),
        ({"registered": "2001-01", "status": ""}, set()),
        ({"registered": "junk"}, set()),
        ({"left": f"{THIS_MONTH:%Y-%m}"}, {"王五"}),  # not only the registered
        ({"left": "2001-01"}, set()),
    ],
)
def test_filters(client, areas, district_user, params, expected):
    today = datetime.date.today()
    MemberFactory(
        name="张三",
        community=areas["140106001001"],
        id_number=id_number_for(today.replace(year=today.year - 45)),
    )
    MemberFactory(
        name="李四",
        community=areas["140106001002"],
        id_number=id_number_for(today.replace(year=today.year - 70), sex="F"),
        political_status=PoliticalStatus.objects.get(code="05"),
        ethnicity=__import__("members.models").models.Ethnicity.objects.get(code="03"),
        categories=list(
            Category.objects.filter(slug__in=["democratic_party", "religious", "ethnic_minority"])
        ),
        is_representative=True,
    )
    dead = MemberFactory(name="王五", community=areas["140106001001"])
    Member.objects.filter(pk=dead.pk).update(status="deceased", status_date=today)
    client.force_login(district_user)
    response = client.get(reverse("members:list"), params)
    assert {m.name for m in response.context["members"]} == expected


def test_search_by_full_id_number_phone_and_last_four(
    client, district_user, member, neighbour_member
):
    client.force_login(district_user)
    for query in (
        member.id_number,
        member.id_number.lower().replace("x", "x"),
        member.phone,
        member.id_number[-4:],
    ):
        response = client.get(reverse("members:list"), {"q": query})
        assert [m.name for m in response.context["members"]] == ["张三"], query


def test_digits_of_another_script_are_searched_as_a_name_not_as_numbers():
    from members.filters import search_kind

    # Arabic-Indic digits: `\d` matched them, and the list looked for an ID number's last
    # four characters that no stored number can have.
    assert search_kind("\u0661\u0662\u0663\u0664") == ("name", "\u0661\u0662\u0663\u0664")
    assert search_kind("1234")[0] == "last_four"


def test_area_filter_offers_only_areas_in_scope(client, street_user):
    client.force_login(street_user)
    response = client.get(reverse("members:list"))
    codes = {area.code for area in response.context["filter"].form.fields["area"].queryset}
    assert codes == {"140106001", "140106001001", "140106001002"}


def test_list_runs_a_fixed_number_of_queries_whatever_the_page_size(
    client, areas, district_user, django_assert_max_num_queries
):
    for index in range(60):
        MemberFactory(
            community=areas["140106001001" if index % 2 else "140106001002"],
            categories=list(Category.objects.filter(slug__in=["intellectual", "non_party"])),
        )
    client.force_login(district_user)
    counts = []
    for per_page in (25, 50, 100):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("members:list"), {"per_page": per_page})
        assert len(response.context["members"]) == min(per_page, 60)
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts
    # A filter adds at most the lookup of its own value.
    with django_assert_max_num_queries(counts[0] + 1):
        client.get(reverse("members:list"), {"per_page": 100, "category": "02"})
    assert counts[0] <= 14  # 13, and the header's to-do count


def test_create_derives_birth_date_and_sex_and_records_history(client, areas, community_user):
    client.force_login(community_user)
    number = id_number_for(datetime.date(1975, 3, 9), sex="F")
    data = member_form_data(
        None,
        name="刘芳",
        id_number=" " + number.lower() + " ",
        phone="139 1234 5678",
        community=areas["140106001001"].pk,
    )
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 302, response.context["form"].errors
    member = Member.objects.get(name="刘芳")
    assert (member.birth_date, member.sex, member.phone) == (
        datetime.date(1975, 3, 9),
        "F",
        "13912345678",
    )
    change = member.changes.get()
    assert change.action == "create" and change.actor == community_user
    assert number not in str(change.changes)


def test_entered_birth_date_and_sex_are_cross_checked(client, areas, community_user):
    client.force_login(community_user)
    number = id_number_for(datetime.date(1975, 3, 9), sex="F")
    data = member_form_data(None, id_number=number, birth_date="1975-03-10", sex="M",
                            community=areas["140106001001"].pk)  # fmt: skip
    response = client.post(reverse("members:create"), data)
    errors = response.context["form"].errors
    assert "1975-03-09" in errors["birth_date"][0]
    assert "sex" in errors


def test_registering_a_known_person_says_where_within_scope(
    client, areas, district_user, neighbour_member
):
    client.force_login(district_user)
    data = member_form_data(
        None, id_number=neighbour_member.id_number, community=areas["140106001001"].pk
    )
    response = client.post(reverse("members:create"), data)
    [message] = response.context["form"].errors["id_number"]
    assert "五一二社区" in message
    transfer = reverse("members:transfer", args=[neighbour_member.pk])
    assert f"{transfer}?to={areas['140106001001'].pk}" in message
    assert Member.objects.count() == 1


def test_registering_a_person_known_outside_scope_does_not_say_where(
    client, areas, community_user, far_member
):
    client.force_login(community_user)
    data = member_form_data(
        None, id_number=far_member.id_number, community=areas["140106001001"].pk
    )
    response = client.post(reverse("members:create"), data)
    message = response.context["form"].errors["id_number"][0]
    assert "坞城" not in message and "小店" not in message
    assert Member.objects.count() == 1


def test_edit_records_only_what_changed_with_masked_numbers(client, community_user, member):
    client.force_login(community_user)
    new_number = id_number_for(member.birth_date)
    data = member_form_data(member, workplace="太原理工大学 教授", id_number=new_number)
    response = client.post(reverse("members:update", args=[member.pk]), data)
    assert response.status_code == 302
    change = member.changes.filter(action="update").get()
    fields = {row["field"]: row for row in change.changes}
    assert set(fields) == {"workplace", "id_number"}
    assert fields["id_number"]["new"] == new_number[:6] + "********" + new_number[-4:]
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "太原理工大学 教授" in html
    assert new_number not in html


def test_category_fields_are_shown_only_for_the_member_categories(client, district_user, areas):
    religious = MemberFactory(
        community=areas["140106001001"],
        categories=[Category.objects.get(slug="religious")],
        religion="buddhism",
        religious_venue="崇善寺",
    )
    client.force_login(district_user)
    html = client.get(reverse("members:detail", args=[religious.pk])).content.decode()
    assert "崇善寺" in html
    assert "统一社会信用代码" not in html


def test_unticking_a_category_clears_its_fields(client, community_user, areas):
    member = MemberFactory(
        community=areas["140106001001"],
        categories=list(Category.objects.filter(slug__in=["religious", "intellectual"])),
        religion="buddhism",
    )
    client.force_login(community_user)
    data = member_form_data(member, categories=["intellectual"])
    client.post(reverse("members:update", args=[member.pk]), data)
    member.refresh_from_db()
    assert member.religion == ""


def test_democratic_party_category_needs_a_party(client, areas, community_user):
    client.force_login(community_user)
    data = member_form_data(
        None, categories=["democratic_party"], community=areas["140106001001"].pk
    )
    response = client.post(reverse("members:create"), data)
    assert "political_status" in response.context["form"].errors


def test_status_change_and_transfer_appear_in_history(client, areas, district_user, member):
    client.force_login(district_user)
    # The district office acts for both communities: its transfer is accepted at once.
    client.post(reverse("members:transfer", args=[member.pk]),
                {"to_community": areas["140106002001"].pk, "reason": "搬家至府东"})  # fmt: skip
    client.post(reverse("members:status", args=[member.pk]),
                {"status": "moved_out", "date": "2026-03-01", "reason": "迁往外省"})  # fmt: skip
    member.refresh_from_db()
    assert (member.status, member.community.code) == ("moved_out", "140106002001")
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "迁往外省" in html and "府东一社区" in html and "搬家至府东" in html
    assert "申请迁出" in html and "转入" in html


def test_a_community_worker_who_transfers_a_member_out_keeps_her_until_accepted(
    client, areas, community_user, neighbour_user, member
):
    client.force_login(community_user)
    response = client.post(
        reverse("members:transfer", args=[member.pk]),
        {"to_community": areas["140106001002"].pk, "reason": "搬家"},
    )
    detail = reverse("members:detail", args=[member.pk])
    assert response.status_code == 302 and response.url == detail
    page = client.get(detail).content.decode()
    assert "迁往五一二社区，待接收（王丽，" in page and 'id="withdraw-transfer"' in page
    assert client.get(reverse("members:list")).context["members"][0].transfer_to == "五一二社区"
    transfer = member.transfers.get()
    client.force_login(neighbour_user)
    response = client.post(reverse("members:transfer_accept", args=[transfer.pk]), {})
    assert response.status_code == 302 and response.url == detail
    client.force_login(community_user)
    assert client.get(detail).status_code == 404


def test_a_read_only_officer_is_pointed_to_the_record_not_offered_a_transfer(
    client, areas, street_user, neighbour_member
):
    from members.forms import MemberForm

    data = member_form_data(None, id_number=neighbour_member.id_number)
    form = MemberForm(data=data, user=street_user)
    assert not form.is_valid()
    message = form.errors["id_number"][0]
    assert reverse("members:detail", args=[neighbour_member.pk]) in message
    assert "transfer" not in message


def test_the_transfer_page_preselects_the_offered_community(client, areas, district_user, member):
    client.force_login(district_user)
    target = areas["140106002001"]
    response = client.get(reverse("members:transfer", args=[member.pk]), {"to": target.pk})
    assert response.context["form"]["to_community"].value() == str(target.pk)


def test_a_party_member_is_put_in_the_democratic_party_category(client, areas, community_user):
    client.force_login(community_user)
    data = member_form_data(
        None,
        name="钱七",
        political_status=PoliticalStatus.objects.get(code="06").pk,
        categories=["intellectual"],
        community=areas["140106001001"].pk,
    )
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 302
    member = Member.objects.get(name="钱七")
    assert {c.slug for c in member.categories.all()} == {"intellectual", "democratic_party"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"category": "05"},
        {"political_status": "05"},
        {"ethnicity": "03"},
        {"sex": "F"},
        {"is_representative": "true"},
        {"incomplete": "true"},
        {"area": "140106001002"},
        {"area": "140106001002", "category": "05"},
        # Not from the tallies: counted.
        {"q": "李"},
        {"category": "05", "sex": "F"},
        {"status": ""},
        {"age_min": "60"},
    ],
)
def test_the_list_counts_from_the_tallies_what_it_would_count(
    client, areas, district_user, settings, params
):
    MemberFactory(community=areas["140106001001"], id_number=id_number_for(sex="F"))
    MemberFactory(
        name="李四",
        community=areas["140106001002"],
        id_number=id_number_for(datetime.date(1950, 1, 1), sex="F"),
        political_status=PoliticalStatus.objects.get(code="05"),
        ethnicity=__import__("members.models").models.Ethnicity.objects.get(code="03"),
        categories=list(
            Category.objects.filter(slug__in=["democratic_party", "religious", "ethnic_minority"])
        ),
        is_representative=True,
    )
    from members.services import member_set_status

    dead = MemberFactory(community=areas["140106001001"])
    member_set_status(
        actor=None, member=dead, status="deceased", date=datetime.date.today(), reason="病故"
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(district_user)
    with CaptureQueriesContext(connection) as queries:
        tallied = client.get(reverse("members:list"), params).context["paginator"].count
    counted_rows = any(
        "COUNT(" in query["sql"] and "members_membertally" not in query["sql"]
        for query in queries.captured_queries
    )
    from_tallies = (
        not ({"q", "status", "age_min"} & set(params)) and len(set(params) - {"area"}) <= 1
    )
    assert counted_rows != from_tallies, queries.captured_queries[-3:]
    settings.MEMBER_LIST_TALLIED_COUNTS = False
    counted = client.get(reverse("members:list"), params).context["paginator"].count
    assert tallied == counted


def test_the_form_refuses_an_id_number_with_an_arabic_indic_digit(
    client, areas, community_user, member
):
    client.force_login(community_user)
    lookalike = "\u0661" + member.id_number[1:]
    data = member_form_data(None, id_number=lookalike, community=areas["140106001001"].pk)
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 200
    [message] = response.context["form"].errors["id_number"]
    assert "第 1 个字符“\u0661”" in message
    assert Member.objects.count() == 1


def opened_edit_form(client, member, **changes) -> dict:
    """Open the edit page and fill it in as a browser does, hidden fields included."""
    html = client.get(reverse("members:update", args=[member.pk])).content.decode()
    data = member_form_data(Member.objects.get(pk=member.pk), **changes)
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html):
        if name != "csrfmiddlewaretoken":
            data[name] = value
    return data


def test_the_second_of_two_editors_is_shown_both_values_and_nothing_is_lost(
    client, areas, community_user, district_user, member
):
    url = reverse("members:update", args=[member.pk])
    client.force_login(community_user)
    first = opened_edit_form(client, member, workplace="太原理工大学")
    client.force_login(district_user)
    second = opened_edit_form(client, member, workplace="山西大学", address="迎泽大街1号")
    client.force_login(community_user)
    assert client.post(url, first).status_code == 302
    client.force_login(district_user)
    response = client.post(url, second)
    assert response.status_code == 200
    html = response.content.decode()
    assert "王丽" in html
    assert "工作单位及职务：对方已保存为“太原理工大学”，您的表单中为“山西大学”。" in html
    assert 'value="山西大学"' in html and 'value="迎泽大街1号"' in html  # the form keeps yours
    member.refresh_from_db()
    assert (member.workplace, member.address) == ("太原理工大学", "")
    # Saving the form shown, with both values in view, goes through.
    again = {**second, "opened_version": re.search(r'name="opened_version" value="(\d+)"', html)[1]}
    assert client.post(url, again).status_code == 302
    member.refresh_from_db()
    assert (member.workplace, member.address) == ("山西大学", "迎泽大街1号")


def test_lookups_of_people_outside_scope_are_audited_and_limited(
    client, areas, community_user, settings
):
    settings.MEMBER_PROBE_LIMIT_PER_HOUR = 1
    first, second = (MemberFactory(community=areas["140105001001"]) for _ in range(2))
    client.force_login(community_user)
    messages = []
    for far in (first, second):
        data = member_form_data(None, id_number=far.id_number, community=areas["140106001001"].pk)
        response = client.post(reverse("members:create"), data)
        messages.append(response.context["form"].errors["id_number"][0])
    assert "管辖范围以外" in messages[0]
    assert "次数过多" in messages[1] and "稍后再试" in messages[1]
    events = AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL).order_by("id")
    assert [(e.outcome, e.detail["probe"], e.ip) for e in events] == [
        ("done", first.id_number_masked, "127.0.0.1"),
        ("refused", second.id_number_masked, "127.0.0.1"),
    ]


def test_past_the_lookup_limit_a_free_number_gets_the_same_answer_as_one_registered_elsewhere(
    client, areas, community_user, settings
):
    """Past MEMBER_PROBE_LIMIT_PER_HOUR the refusal "too many lookups" is given only for numbers
    registered outside the user's area; a free number gets no word. So the limit limits
    nothing: a form left invalid elsewhere (no name) tells, without registering anyone and as
    often as the user likes, whether anybody is in the registry."""
    settings.MEMBER_PROBE_LIMIT_PER_HOUR = 1
    first, second = (MemberFactory(community=areas["140105001001"]) for _ in range(2))
    client.force_login(community_user)

    def id_number_errors(number):
        data = member_form_data(None, id_number=number, community=areas["140106001001"].pk, name="")
        response = client.post(reverse("members:create"), data)
        assert response.status_code == 200 and not Member.objects.filter(name="").exists()
        return response.context["form"].errors.get("id_number", [])

    assert "管辖范围以外" in id_number_errors(first.id_number)[0]  # the one answer allowed
    registered = id_number_errors(second.id_number)
    free = id_number_errors(id_number_for())
    assert "次数过多" in registered[0]
    assert free == registered
