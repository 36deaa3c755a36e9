"""Relatives of a member (亲属, issue 14): recorded through the services, shown within scope,
linked to the relative's own record only for who may see it, printed on the form."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from members import services
from members.models import Category, Ethnicity, MemberChange, PoliticalStatus, Relative
from members.tests.factories import MemberFactory
from members.tests.test_printing import PAGES_EACH, pdf_pages, pdf_text
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

SISTER = {"name": "林美玲", "relation": "sibling", "residence": "TWN", "place": "台北市",
          "contact": "0912 345 678"}  # fmt: skip


@pytest.fixture
def taiwan_member(areas):
    return MemberFactory(
        name="林建国",
        community=areas["140106001001"],
        categories=[Category.objects.get(slug="taiwan")],
        hmt_origin="台北",
        hmt_relation="兄妹",
    )


def add(actor, member, **data):
    return services.relative_add(actor=actor, member=member, data={**SISTER, **data})


def relatives_line(member) -> MemberChange:
    return member.changes.filter(changes__0__field="relatives").first()


# -- Services --------------------------------------------------------------------------------


def test_a_relative_added_enters_the_members_history_masked_and_the_audit(
    community_user, taiwan_member
):
    relative = add(community_user, taiwan_member)
    assert relative.contact == "0912 345 678" and relative.contact_masked == "******5678"
    line = relatives_line(taiwan_member)
    assert line.actor == community_user and line.action == MemberChange.Action.UPDATE
    assert line.changes == [
        {"field": "relatives", "old": "", "new": "林美玲 · 兄弟姐妹 · 台湾 台北市 · ******5678"}
    ]
    event = AuditEvent.objects.get(actor=community_user, action=AuditEvent.Action.CREATE,
                                   object_id=str(taiwan_member.pk))  # fmt: skip
    assert event.detail["relative"] == relative.pk and "contact" in event.detail["fields"]


def test_an_update_records_before_and_after_and_an_unchanged_one_nothing(
    community_user, taiwan_member
):
    relative = add(community_user, taiwan_member)
    services.relative_update(
        actor=community_user, relative=relative, data={"residence": "USA", "place": "旧金山"}
    )
    line = relatives_line(taiwan_member)
    assert line.changes[0]["old"].startswith("林美玲 · 兄弟姐妹 · 台湾 台北市")
    assert line.changes[0]["new"].startswith("林美玲 · 兄弟姐妹 · 美国 旧金山")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).latest("id")
    assert event.detail["fields"] == ["residence", "place"]
    lines = taiwan_member.changes.count()
    services.relative_update(actor=community_user, relative=relative, data={"place": "旧金山"})
    assert taiwan_member.changes.count() == lines


def test_a_relative_is_not_moved_to_another_members_record_by_its_data(
    community_user, neighbour_user, taiwan_member, areas
):
    """The services take the relative's own fields only: a `member` slipped into the data
    would have moved a relative, her contact with it, to a record in another community."""
    elsewhere = MemberFactory(community=areas["140106001002"])
    relative = add(community_user, taiwan_member)
    for write in (
        lambda: services.relative_add(
            actor=community_user, member=taiwan_member, data={**SISTER, "member": elsewhere}
        ),
        lambda: services.relative_update(
            actor=community_user, relative=relative, data={"member": elsewhere}
        ),
    ):
        with pytest.raises(ValueError, match="member"):
            write()
    assert list(Relative.objects.values_list("member", flat=True)) == [taiwan_member.pk]


def test_a_removed_relative_stays_in_the_history(community_user, taiwan_member):
    relative = add(community_user, taiwan_member)
    services.relative_remove(actor=community_user, relative=relative)
    assert not Relative.objects.exists()
    assert relatives_line(taiwan_member).changes[0]["new"] == ""
    assert relatives_line(taiwan_member).changes[0]["old"].startswith("林美玲")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).exists()


def test_another_relation_is_said_in_words(community_user, taiwan_member):
    with pytest.raises(ValidationError) as refused:
        add(community_user, taiwan_member, relation="other")
    assert "relation_other" in refused.value.error_dict
    relative = add(community_user, taiwan_member, relation="other", relation_other="姑父")
    assert str(relative) == "林美玲（姑父）"
    # Words left over from "other" go once a listed relation is chosen.
    relative = services.relative_update(
        actor=community_user, relative=relative, data={"relation": "spouse"}
    )
    assert relative.relation_other == "" and relative.relation_display == "配偶"


def test_only_who_may_change_the_member_records_relatives(
    street_user, neighbour_user, community_user, taiwan_member
):
    for actor in (street_user, neighbour_user):
        with pytest.raises(PermissionDenied):
            add(actor, taiwan_member)
    relative = add(community_user, taiwan_member)
    with pytest.raises(PermissionDenied):
        services.relative_remove(actor=neighbour_user, relative=relative)


def test_a_link_is_made_only_to_a_record_the_actor_sees(
    community_user, taiwan_member, neighbour_member
):
    with pytest.raises(ValidationError) as refused:
        add(community_user, taiwan_member, name="李四", linked_member=neighbour_member)
    assert "linked_member" in refused.value.error_dict
    with pytest.raises(ValidationError):
        add(community_user, taiwan_member, linked_member=taiwan_member)
    assert not Relative.objects.exists()


# -- Pages -----------------------------------------------------------------------------------


def test_a_category_11_member_without_relatives_gets_a_hint_not_a_refusal(
    client, community_user, taiwan_member, member
):
    client.force_login(community_user)
    hint = "应登记其亲属"
    assert hint in client.get(reverse("members:detail", args=[taiwan_member.pk])).text
    assert hint not in client.get(reverse("members:detail", args=[member.pk])).text
    add(community_user, taiwan_member)
    page = client.get(reverse("members:detail", args=[taiwan_member.pk])).text
    assert hint not in page and "林美玲" in page


def test_the_member_page_masks_the_contact_for_a_role_that_may_not_reveal(
    client, community_user, street_user, taiwan_member
):
    add(community_user, taiwan_member)
    url = reverse("members:detail", args=[taiwan_member.pk])
    client.force_login(street_user)
    page = client.get(url).text
    assert "林美玲" in page and "******5678" in page and "0912 345 678" not in page
    assert reverse("members:relative_add", args=[taiwan_member.pk]) not in page
    client.force_login(community_user)
    assert "0912 345 678" not in client.get(url).text
    revealed = client.post(url).text
    assert "0912 345 678" in revealed
    event = AuditEvent.objects.get(actor=community_user, action=AuditEvent.Action.REVEAL)
    assert "relative_contact" in event.detail["fields"]


def test_a_linked_record_outside_the_viewers_area_shows_only_the_relatives_own_data(
    client, community_user, district_user, taiwan_member, neighbour_member
):
    # The district office links 李四, registered next door, whom the community worker may
    # not see: she sees the relative as recorded, never the record or where it lives.
    relative = add(district_user, taiwan_member, name="李四", linked_member=neighbour_member)
    neighbour_url = reverse("members:detail", args=[neighbour_member.pk])
    client.force_login(district_user)
    assert neighbour_url in client.get(reverse("members:detail", args=[taiwan_member.pk])).text
    client.force_login(community_user)
    page = client.get(reverse("members:detail", args=[taiwan_member.pk])).text
    assert "李四" in page and neighbour_url not in page and "五一二社区" not in page
    edit = client.get(reverse("members:relative_update", args=[relative.pk])).text
    assert "五一二社区" not in edit and 'name="linked_member"' not in edit
    # Her edit leaves the link she cannot see as it is.
    response = client.post(
        reverse("members:relative_update", args=[relative.pk]),
        {**SISTER, "name": "李四", "place": "高雄市"},
    )
    assert response.status_code == 302
    relative.refresh_from_db()
    assert relative.place == "高雄市" and relative.linked_member == neighbour_member


def test_adding_a_relative_registered_in_scope_offers_the_link(
    client, community_user, taiwan_member, areas
):
    sister = MemberFactory(name="林美玲", community=areas["140106001001"])
    # Next door, out of the worker's area: not offered.
    other = MemberFactory(name="林美玲", community=areas["140106001002"])
    client.force_login(community_user)
    response = client.post(reverse("members:relative_add", args=[taiwan_member.pk]), SISTER)
    relative = Relative.objects.get()
    assert response.url == reverse("members:relative_update", args=[relative.pk])
    form = client.get(response.url).text
    assert f'<option value="{sister.pk}"' in form and f'<option value="{other.pk}"' not in form
    edit_url = response.url
    response = client.post(edit_url, {**SISTER, "linked_member": other.pk})
    assert response.status_code == 200 and Relative.objects.get().linked_member is None
    response = client.post(edit_url, {**SISTER, "linked_member": sister.pk})
    assert response.url.endswith(f"/members/{taiwan_member.pk}/#relatives")
    relative.refresh_from_db()
    assert relative.linked_member == sister


def test_the_link_offered_names_a_passport_holders_last_characters_without_stars(areas):
    import datetime

    from members.forms import LinkedMemberChoiceField
    from members.models import Member

    field = LinkedMemberChoiceField(queryset=Member.objects.none())
    holder = Member(
        name="陈约翰",
        birth_date=datetime.date(1980, 2, 29),
        community=areas["140106001001"],
        id_number_masked="P******78",
    )
    assert field.label_from_instance(holder) == "陈约翰，1980 年生，桥东一社区，证件号尾号 78"
    holder.id_number_masked = "140106********123X"
    assert field.label_from_instance(holder).endswith("证件号尾号 123X")


def test_the_relative_pages_answer_404_out_of_scope(
    client, community_user, neighbour_user, taiwan_member
):
    relative = add(community_user, taiwan_member)
    client.force_login(neighbour_user)
    assert client.get(reverse("members:relative_update", args=[relative.pk])).status_code == 404
    remove = reverse("members:relative_remove", args=[relative.pk])
    assert client.post(remove, {"confirmed": "1"}).status_code == 404
    assert Relative.objects.filter(pk=relative.pk).exists()
    client.force_login(community_user)
    page = client.get(remove)
    assert page.status_code == 200 and str(relative) in page.text
    assert Relative.objects.filter(pk=relative.pk).exists()  # shown, not yet removed
    response = client.post(remove, {"confirmed": "1"})
    assert response.status_code == 302 and not Relative.objects.exists()


# -- The printed form ------------------------------------------------------------------------


def test_the_printed_form_lists_the_relatives_masked_per_role(
    client, community_user, street_user, taiwan_member
):
    add(community_user, taiwan_member)
    add(community_user, taiwan_member, name="林志明", relation="parent", residence="CAN",
        place="温哥华", contact="wechat_lzm")  # fmt: skip
    url = reverse("members:print", args=[taiwan_member.pk])
    client.force_login(community_user)
    text = pdf_text(client.get(url).content)
    for shown in ("林美玲", "兄弟姐妹", "台湾 台北市", "0912 345 678", "林志明", "父母",
                  "加拿大 温哥华", "wechat_lzm"):  # fmt: skip
        assert shown in text, shown
    reveal = AuditEvent.objects.get(actor=community_user, action=AuditEvent.Action.REVEAL)
    assert "relative_contact" in reveal.detail["fields"]
    client.force_login(street_user)
    text = pdf_text(client.get(url).content)
    assert "******5678" in text and "w*******zm" in text
    assert "0912 345 678" not in text and "wechat_lzm" not in text


def test_many_relatives_are_cut_with_how_many_in_all_and_the_form_stays_one_page(
    client, community_user, taiwan_member
):
    services.member_update(
        actor=community_user,
        member=taiwan_member,
        data={"notes": "长" * 2000, "workplace": "单位" * 90, "address": "地址" * 90,
              "categories": list(Category.objects.all()), "religion": "buddhism",
              "political_status": PoliticalStatus.objects.get(code="04"),
              "ethnicity": Ethnicity.objects.get(code="02")},
    )  # fmt: skip
    for n in range(12):
        add(community_user, taiwan_member, name=f"亲属{n:02d}", place="很长的地址" * 20)
    client.force_login(community_user)
    pdf = client.get(reverse("members:print", args=[taiwan_member.pk])).content
    text = pdf_text(pdf)
    assert pdf_pages(pdf) == PAGES_EACH
    assert "等 12 人" in text and "亲属00" in text and "亲属11" not in text


def test_the_linked_record_says_whose_relative_it_is_within_the_viewers_area(
    client, community_user, district_user, neighbour_user, taiwan_member, neighbour_member
):
    # 李四 (五一二社区) is recorded as 林建国's sister (桥东一社区).
    add(district_user, taiwan_member, name="李四", linked_member=neighbour_member)
    url = reverse("members:detail", args=[neighbour_member.pk])
    client.force_login(district_user)
    page = client.get(url).text
    record = reverse("members:detail", args=[taiwan_member.pk])
    assert f'<a href="{record}">林建国</a>登记的亲属（兄弟姐妹）' in page
    assert "尚未登记亲属" not in page
    # 五一二社区's worker may not see 林建国: her page names no one.
    client.force_login(neighbour_user)
    page = client.get(url).text
    assert "林建国" not in page and record not in page
