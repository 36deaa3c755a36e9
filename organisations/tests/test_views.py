import datetime

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from organisations import services
from organisations.models import Membership, Organisation
from tongzhan.models import AuditEvent

from .factories import organisation_make, place_make

pytestmark = pytest.mark.django_db

QIAODONG, LIUXIANG = "140106001001", "140106001"


@pytest.fixture
def organisation(areas, community_user):
    return organisation_make(
        community_user, areas[QIAODONG], name="桥东律师事务所", contact_phone="13912345678"
    )


def test_the_list_shows_masked_phones_filters_and_counts_its_queries(
    client, areas, community_user, street_user, organisation, django_assert_max_num_queries
):
    organisation_make(street_user, areas[LIUXIANG], name="柳巷商会", kind="chamber")
    for number in range(5):
        organisation_make(community_user, areas[QIAODONG], name=f"企业{number}")
    client.force_login(street_user)
    url = reverse("organisations:list")
    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert "桥东律师事务所" in page and "柳巷商会" in page
    assert "139****5678" in page and "13912345678" not in page
    page = client.get(url, {"kind": "chamber"}).content.decode()
    assert "柳巷商会" in page and "桥东律师事务所" not in page
    page = client.get(url, {"q": "律师"}).content.decode()
    assert "桥东律师事务所" in page and "柳巷商会" not in page


def test_a_page_out_of_scope_is_not_found(
    client, neighbour_user, other_district_user, organisation
):
    for user in (neighbour_user, other_district_user):
        client.force_login(user)
        assert (
            client.get(reverse("organisations:detail", args=[organisation.pk])).status_code == 404
        )
        assert client.get(reverse("organisations:list")).content.decode().count("桥东律师") == 0


def test_the_phone_is_masked_until_revealed_and_the_reveal_is_logged(
    client, community_user, street_user, organisation
):
    url = reverse("organisations:detail", args=[organisation.pk])
    client.force_login(street_user)  # the street's officers see phones masked only
    page = client.get(url).content.decode()
    assert "139****5678" in page and "13912345678" not in page
    assert client.post(url).status_code == 403
    client.force_login(community_user)
    assert "13912345678" not in client.get(url).content.decode()
    assert "13912345678" in client.post(url).content.decode()
    event = AuditEvent.objects.get(action="reveal")
    assert (event.actor, event.object_id) == (community_user, str(organisation.pk))
    assert event.detail["fields"] == ["contact_phone"]


def test_an_officer_who_may_not_see_phones_edits_without_seeing_or_losing_it(
    client, street_user, organisation
):
    client.force_login(street_user)
    url = reverse("organisations:update", args=[organisation.pk])
    form = client.get(url).content.decode()
    assert "13912345678" not in form and "139****5678" in form
    response = client.post(
        url, {"name": organisation.name, "kind": organisation.kind,
              "area": organisation.area_id, "address": "迎泽大街1号", "contact_phone": "",
              "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.address, organisation.contact_phone) == ("迎泽大街1号", "13912345678")
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_a_member_is_found_added_and_ended_from_the_organisation_page(
    client, areas, community_user, organisation
):
    member = MemberFactory(name="王律师", community=areas[QIAODONG])
    MemberFactory(name="王律师", community=areas["140106001002"])  # not hers to find
    client.force_login(community_user)
    url = reverse("organisations:membership_add", args=[organisation.pk])
    page = client.get(url, {"q": "王律"}).content.decode()
    assert page.count('name="member"') == 1
    response = client.post(
        url, {"member": member.pk, "role": "法律顾问", "joined_on": "2026-01-05"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get()
    response = client.post(
        reverse("organisations:membership_end", args=[membership.pk]), {"left_on": "2026-05-01"}
    )
    assert response.status_code == 302
    page = client.get(reverse("organisations:detail", args=[organisation.pk])).content.decode()
    assert "法律顾问" in page and "2026-01-05" in page and "2026-05-01" in page
    membership.refresh_from_db()
    assert membership.left_on == datetime.date(2026, 5, 1)


def test_a_refused_credit_code_shows_on_the_form(client, areas, community_user):
    client.force_login(community_user)
    response = client.post(
        reverse("organisations:create"),
        {"name": "某企业", "kind": "private_enterprise", "area": areas[QIAODONG].pk,
         "credit_code": "91140106MA0K12345X", "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip
    assert response.status_code == 200
    assert "统一社会信用代码校验码不符" in response.content.decode()
    assert not Organisation.objects.exists()


def test_places_are_listed_and_shown_masked(client, areas, community_user, street_user):
    place = place_make(community_user, areas[QIAODONG], name="桥东统战活动室")
    client.force_login(street_user)
    page = client.get(reverse("organisations:place_list")).content.decode()
    assert "桥东统战活动室" in page and "137****5678" in page and "13712345678" not in page
    page = client.get(reverse("organisations:place_detail", args=[place.pk])).content.decode()
    assert "周一至周五" in page and "13712345678" not in page
    services.place_update(actor=street_user, place=place, data={"is_active": False})
    page = client.get(reverse("organisations:place_list")).content.decode()
    assert "桥东统战活动室" in page


def test_members_from_other_communities_are_counted_not_named(
    client, areas, community_user, street_user
):
    # The community's association; the street above adds a member of the next community.
    group = organisation_make(street_user, areas[QIAODONG], name="桥东新联会")
    own = MemberFactory(name="李医生", community=areas[QIAODONG])
    elsewhere = MemberFactory(name="赵律师", community=areas["140106001002"])
    for member in (own, elsewhere):
        services.membership_add(
            actor=street_user, organisation=group, member=member, role="成员",
            joined_on=datetime.date(2026, 1, 5),
        )  # fmt: skip
    services.organisation_update(
        actor=street_user, organisation=group, data={"contact_member": elsewhere}
    )
    client.force_login(community_user)
    page = client.get(reverse("organisations:detail", args=[group.pk])).content.decode()
    assert "李医生" in page and "赵律师" not in page
    assert "另有 1 名成员在您的辖区以外" in page
    client.force_login(street_user)
    page = client.get(reverse("organisations:detail", args=[group.pk])).content.decode()
    assert "李医生" in page and "赵律师" in page


# -- A member's organisations on her page ------------------------------------------------------


def test_a_members_page_lists_her_organisations_the_viewer_sees_and_counts_the_others(
    client, areas, member, community_user, street_user, django_assert_max_num_queries
):
    law_firm = organisation_make(community_user, areas[QIAODONG], name="桥东律师事务所")
    choir = organisation_make(community_user, areas[QIAODONG], name="桥东合唱团")
    chamber = organisation_make(street_user, areas[LIUXIANG], name="柳巷商会", kind="chamber")
    services.membership_add(
        actor=community_user, organisation=law_firm, member=member, role="合伙人",
        joined_on=datetime.date(2025, 3, 1),
    )  # fmt: skip
    sung = services.membership_add(
        actor=community_user, organisation=choir, member=member, role="团员",
        joined_on=datetime.date(2020, 5, 1),
    )  # fmt: skip
    services.membership_end(
        actor=community_user, membership=sung, left_on=datetime.date(2024, 6, 30)
    )
    services.membership_add(
        actor=street_user, organisation=chamber, member=member, role="副会长",
        joined_on=datetime.date(2023, 1, 1),
    )  # fmt: skip
    url = reverse("members:detail", args=[member.pk])
    client.force_login(community_user)
    with django_assert_max_num_queries(30):
        page = client.get(url).content.decode()
    section = page[page.index('id="organisations"') :]
    section = section[: section.index("</section>")]
    assert reverse("organisations:detail", args=[law_firm.pk]) in section
    assert "合伙人" in section and "2025-03-01 加入" in section
    # Left: shown apart, with the day she left.
    assert section.index("已退出") < section.index("桥东合唱团")
    assert "2020-05-01 至 2024-06-30" in section
    # The street's chamber is not the community worker's to see: counted, not named.
    assert "柳巷商会" not in section and "另有 1 个组织在您的辖区以外" in section
    client.force_login(street_user)
    section = client.get(url).content.decode()
    assert "柳巷商会" in section and "副会长" in section and "另有" not in section


def test_a_member_of_no_organisation_has_no_such_section(client, member, community_user):
    client.force_login(community_user)
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert 'id="organisations"' not in page
