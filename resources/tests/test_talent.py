"""The talent search (人才库): scoped to the user's members, ranked, filtered."""

import datetime
import re

import pytest
from django.db import connection
from django.urls import reverse

from members.models import Category, Member
from members.tests.factories import MemberFactory
from organisations import services as organisation_services
from organisations.tests.factories import organisation_make
from tongzhan.scoping import visible_area_ids

pytestmark = pytest.mark.django_db

URL = reverse("resources:talent")
ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bigram index is PostgreSQL's"
)


def _found(client, user, **query) -> list[str]:
    client.force_login(user)
    response = client.get(URL, query)
    assert response.status_code == 200
    return [member.name for member in response.context["members"]]


@pytest.fixture
def people(areas):
    def make(name, code, **fields):
        return MemberFactory(name=name, community=areas[code], **fields)

    return {
        # 桥东一社区, the community worker's own.
        "lawyer": make("甲律师", "140106001001", specialty="法律咨询", professional_title="律师"),
        "clerk": make("乙文员", "140106001001", specialty="文书写作"),
        "law_teacher": make(
            "丙教授",
            "140106001001",
            specialty="法律咨询",
            professional_title="法律系教授",
            education=Member.Education.DOCTORATE,
        ),  # fmt: skip
        # 五一二社区, the same street; and another street of the district.
        "neighbour": make("丁顾问", "140106001002", specialty="法律咨询"),
        "other_street": make("戊律师", "140106002001", professional_title="律师"),
        # 坞城社区, another district.
        "far": make("己律师", "140105001001", specialty="法律咨询", professional_title="律师"),
    }


def test_a_community_finds_only_its_own_members(client, people, community_user):
    assert _found(client, community_user, q="法律") == ["丙教授", "甲律师"]


def test_a_street_finds_its_communities_and_a_district_all_of_its_own(
    client, people, street_user, district_user, other_district_user
):
    assert _found(client, street_user, q="律师") == ["甲律师"]
    assert set(_found(client, district_user, q="律师")) == {"甲律师", "戊律师"}
    assert _found(client, other_district_user, q="律师") == ["己律师"]
    assert _found(client, other_district_user, q="文书") == []


def test_members_matching_more_fields_come_first_then_by_name(client, people, district_user):
    # 丙教授 holds 法律 in expertise and title; the others in one field, by name.
    assert _found(client, district_user, q="法律") == ["丙教授", "丁顾问", "甲律师"]


def test_every_word_must_match(client, people, district_user):
    assert _found(client, district_user, q="法律 教授") == ["丙教授"]
    assert _found(client, district_user, q="法律 会计") == []


def test_a_member_no_longer_registered_is_not_offered(client, people, district_user):
    Member.objects.filter(pk=people["lawyer"].pk).update(status=Member.Status.MOVED_OUT)
    assert "甲律师" not in _found(client, district_user, q="律师")


def test_filter_by_education(client, people, district_user):
    found = _found(client, district_user, q="法律", education=Member.Education.DOCTORATE)
    assert found == ["丙教授"]
    assert _found(client, district_user, education=Member.Education.DOCTORATE) == ["丙教授"]


def test_filter_by_category(client, people, district_user, areas):
    MemberFactory(
        name="庚会长", community=areas["140106001001"], specialty="法律咨询",
        categories=[Category.objects.get(slug="non_party")],
    )  # fmt: skip
    assert _found(client, district_user, q="法律", category="02") == ["庚会长"]
    assert "庚会长" not in _found(client, district_user, q="法律", category="03")


def test_filter_by_an_organisation_current_members_only(
    client, people, district_user, community_user, areas
):
    firm = organisation_make(district_user, areas["140106"], name="晋阳律师事务所")
    for key in ("lawyer", "other_street"):
        organisation_services.membership_add(
            actor=district_user, organisation=firm, member=people[key], role="律师",
            joined_on=datetime.date(2025, 1, 1),
        )  # fmt: skip
    left = organisation_services.membership_add(
        actor=district_user, organisation=firm, member=people["neighbour"], role="顾问",
        joined_on=datetime.date(2024, 1, 1),
    )  # fmt: skip
    organisation_services.membership_end(
        actor=district_user, membership=left, left_on=datetime.date(2025, 1, 1)
    )
    assert _found(client, district_user, organisation=firm.pk) == ["戊律师", "甲律师"]
    assert _found(client, district_user, q="法律", organisation=firm.pk) == ["甲律师"]


def test_an_organisation_the_user_cannot_see_is_not_a_choice(
    client, people, other_district_user, areas, district_user
):
    firm = organisation_make(district_user, areas["140106"], name="晋阳律师事务所")
    client.force_login(other_district_user)
    response = client.get(URL, {"organisation": firm.pk})
    assert response.status_code == 200
    assert "organisation" in response.context["filter_form"].errors
    assert list(response.context["members"]) == []


def test_nothing_is_listed_until_something_is_asked(client, people, district_user):
    assert _found(client, district_user) == []
    assert _found(client, district_user, q="  ") == []


def test_the_page_shows_masked_phones_only(client, people, community_user):
    client.force_login(community_user)
    response = client.get(URL, {"q": "律师"})
    lawyer = people["lawyer"]
    assert lawyer.phone_masked in response.content.decode()
    assert lawyer.phone not in response.content.decode()


def test_the_query_count_stays_fixed(client, people, district_user, django_assert_max_num_queries):
    client.force_login(district_user)
    # A district's matches are read once, in a transaction of their own (a savepoint here)
    # with a planner setting set and reset: four of these; the page ranks them by id.
    with django_assert_max_num_queries(16):
        assert client.get(URL, {"q": "法律"}).status_code == 200


@ON_POSTGRESQL
@pytest.mark.parametrize("user", ["district_user", "street_user", "community_user"])
def test_a_ranked_search_looks_for_its_matches_once(client, people, user, request):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client.force_login(request.getfixturevalue(user))
    with CaptureQueriesContext(db) as queries:
        assert client.get(URL, {"q": "法律"}).status_code == 200
    searches = [q["sql"] for q in queries.captured_queries if "members_talent_keys" in q["sql"]]
    assert len(searches) == 1  # the page ranks the ids it found, not the words again


@ON_POSTGRESQL
def test_chinese_words_go_through_the_talent_index(people, district_user):
    rows = Member.objects.visible_to(district_user).talent_search("法律咨询")
    assert set(rows.values_list("name", flat=True)) == {"甲律师", "丙教授", "丁顾问"}
    # On a table this small a scan is cheapest; without it the planner must take the index,
    # which it can only where the query's expression is the index's.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = Member.objects.talent_search("法律咨询").order_by().explain()
        cursor.execute("RESET enable_seqscan")
    assert "member_talent_keys" in plan


@ON_POSTGRESQL
def test_a_street_asks_the_talent_index_for_its_own_communities(people, street_user, areas):
    """The street's communities are looked up in the index with the words: what comes back
    from it, before a row is read, is the street's candidates only."""
    communities = visible_area_ids(street_user)
    rows = Member.objects.visible_to(street_user).talent_search("律师", communities=communities)
    assert set(rows.values_list("name", flat=True)) == {"甲律师"}

    # The bigram 律师 is also 戊律师's (another street) and 己律师's (another district).
    def from_the_index(rows) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            plan = rows.order_by().values("pk").explain(analyze=True)
            cursor.execute("RESET enable_seqscan")
        scan = next(line for line in plan.splitlines() if "on member_talent_keys" in line)
        return int(re.search(r"actual time=\S+ rows=(\d+)", scan).group(1))

    assert from_the_index(Member.objects.talent_search("律师")) >= 3
    assert from_the_index(Member.objects.talent_search("律师", communities=communities)) == 1


@ON_POSTGRESQL
def test_one_character_and_latin_words_are_found_too(people, district_user, areas):
    MemberFactory(name="辛工", community=areas["140106001001"], professional_title="IT工程师")
    visible = Member.objects.visible_to(district_user)
    assert set(visible.talent_search("律").values_list("name", flat=True)) == {
        "甲律师", "丙教授", "丁顾问", "戊律师",
    }  # fmt: skip
    assert list(visible.talent_search("it").values_list("name", flat=True)) == ["辛工"]


def test_past_what_it_ranks_the_search_lists_by_name_and_says_more_than(
    client, people, district_user, settings
):
    # 法律 is in 丙教授's two fields, 甲律师's and 丁顾问's one each: ranked, 丙教授 first.
    assert _found(client, district_user, q="法律")[0] == "丙教授"
    settings.TALENT_RANKED_AT_MOST = 2
    client.force_login(district_user)
    response = client.get(URL, {"q": "法律"})
    names = [member.name for member in response.context["members"]]
    by_name = Member.objects.filter(name__in=["甲律师", "丙教授", "丁顾问"]).order_by("name", "pk")
    expected = list(by_name.values_list("name", flat=True))[:2]
    assert names == expected
    page = response.content.decode()
    assert "超过 2 人" in page
    assert "按姓名列出前 2 位" in page
    # The first two are all there is to page through.
    response = client.get(URL, {"q": "法律", "page": 2})
    assert response.status_code == 404


def test_past_what_it_ranks_pages_walk_on_in_name_order(client, people, district_user, settings):
    settings.TALENT_RANKED_AT_MOST = 3
    client.force_login(district_user)
    # 律: 甲律师, 丙教授 (法律), 丁顾问 (法律), 戊律师: four, more than three.
    first = client.get(URL, {"q": "律"})
    names = [member.name for member in first.context["members"]]
    expected = list(
        Member.objects.visible_to(district_user)
        .talent_search("律")
        .order_by("name", "pk")
        .values_list("name", flat=True)
    )
    assert len(expected) == 4
    assert names == expected[:3]
    assert "超过 3 人" in first.content.decode()


@pytest.mark.parametrize("words", ["法律", "律", "法律 咨询", "it", "IT工程", "法律 教授"])
@pytest.mark.parametrize("level", ["district", "street"])
def test_in_name_order_finds_exactly_what_the_ranked_search_finds(
    people, district_user, street_user, areas, words, level
):
    MemberFactory(name="辛工", community=areas["140106001001"], professional_title="IT工程师")
    MemberFactory(name="壬", community=areas["140106001001"])  # nothing to search
    user = district_user if level == "district" else street_user
    # A street's communities go to the talent index; a district walks the index of names.
    communities = visible_area_ids(user) if level == "street" else None
    visible = Member.objects.visible_to(user)
    ranked = visible.talent_search(words, communities=communities)
    walked = visible.talent_in_name_order(words, communities=communities)
    pks = list(walked.values_list("pk", flat=True))
    assert ranked.exists() and set(pks) == set(ranked.values_list("pk", flat=True))
    assert len(pks) == ranked.count()
    names = list(walked.values_list("name", flat=True))
    assert names == sorted(names)


@ON_POSTGRESQL
def test_in_name_order_reads_only_the_walk_index(people, district_user):
    ids = (
        Member.objects.visible_to(district_user)
        .talent_in_name_order("法律")
        .values_list("pk", flat=True)[:25]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = ids.explain()
        cursor.execute("RESET enable_seqscan")
    assert "Index Only Scan using member_talent_walk" in plan


@pytest.mark.parametrize("across_communities", [True, False])
def test_the_count_stops_past_what_it_ranks_and_leaves_the_planner_as_it_was(
    people, district_user, across_communities
):
    visible = Member.objects.visible_to(district_user)
    # 律: 甲律师, 丙教授, 丁顾问, 戊律师.
    found = visible.talent_matched("律", 10, across_communities=across_communities)
    assert sorted(Member.objects.get(pk=pk).name for pk in found) == sorted(
        ["甲律师", "丙教授", "丁顾问", "戊律师"]
    )
    assert len(visible.talent_matched("律", 2, across_communities=across_communities)) == 3
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW cpu_index_tuple_cost")
            assert cursor.fetchone()[0] == "0.005"
