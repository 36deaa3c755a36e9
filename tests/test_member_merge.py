"""Two records of one person made one (issue 14): `member_merge` and `member_merge_undo`, with
what the activities and the assessment hold of the merged record (their `MemberMover`s).
Here rather than in an app: it crosses members, activities and the assessment."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities import services as activity_services
from activities.models import ActivityType, Need, Visit
from members import services
from members.imports import roster_import
from members.models import Category, Member, MemberChange, MemberMerge, MemberTally
from members.tests.factories import MemberFactory, id_number_for
from members.tests.test_imports import person, roster
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 2)


def activity(actor, area, participants):
    start = timezone.make_aware(datetime.datetime(2026, 9, 10, 9, 30))
    return activity_services.activity_create(
        actor=actor,
        data={
            "type": ActivityType.objects.get(code="free_clinic"),
            "title": "重阳节义诊",
            "starts_at": start,
            "ends_at": start + datetime.timedelta(hours=3),
            "place": "活动室",
            "area": area,
        },
        participants=participants,
    )


def visit(actor, community, members):
    return activity_services.visit_create(
        actor=actor,
        data={"community": community, "date": DAY, "staff": "王丽", "way": Visit.Way.HOME},
        members=members,
    )


def total(community) -> int:
    row = MemberTally.objects.filter(
        community=community, dimension=MemberTally.Dimension.TOTAL
    ).first()
    return row.count if row else 0


@pytest.fixture
def twins(areas, district_user):
    """One person registered twice: in 桥东一社区 with a phone, in 府东一社区 (another street)
    with a workplace and as a religious figure; each with an activity, a visit and a need,
    and one visit to both."""
    keep = MemberFactory(name="张三", phone="13900001111", community=areas["140106001001"])
    merged = MemberFactory(
        name="张三",
        id_number=id_number_for(keep.birth_date),
        phone="13700002222",
        workplace="太原市第五中学 教师",
        community=areas["140106002001"],
    )
    services.member_update(
        actor=None,
        member=merged,
        data={
            "categories": [
                Category.objects.get(slug="intellectual"),
                Category.objects.get(slug="religious"),
            ],
            "religion": "buddhism",
        },
    )
    activity(district_user, areas["140106002001"], [merged])
    visit(district_user, areas["140106001001"], [keep])
    visit(district_user, areas["140106002001"], [merged])
    both = visit(district_user, areas["140106001001"], [keep])
    both.members.add(merged)
    activity_services.need_create(
        actor=district_user, member=merged, data={"kind": "legal", "description": "劳动纠纷"}
    )
    return Member.objects.get(pk=keep.pk), Member.objects.get(pk=merged.pk)


def test_a_merge_keeps_everything_of_both_on_one_record(twins, district_user, areas):
    keep, merged = twins
    merged_history = set(merged.changes.values_list("pk", flat=True))
    record = services.member_merge(actor=district_user, keep=keep, merged=merged)
    keep.refresh_from_db()
    merged.refresh_from_db()
    # The kept record's values win; its empty fields are filled; categories united.
    assert keep.phone == "13900001111"
    assert keep.workplace == "太原市第五中学 教师" and keep.religion == "buddhism"
    assert {c.slug for c in keep.categories.all()} == {"intellectual", "religious"}
    assert record.filled == ["workplace", "religion"]
    # Activities, visits and needs now the kept record's; the visit to both counts once.
    assert keep.activities.count() == 1 and keep.visits.count() == 3
    assert Need.objects.get().member == keep
    assert not merged.visits.exists() and not merged.activities.exists()
    # One history: the merged record's entries and a merge entry on both.
    assert merged_history <= set(keep.changes.values_list("pk", flat=True))
    line = keep.changes.get(action=MemberChange.Action.MERGE)
    assert "张三" in line.source and "府东一社区" in line.source
    assert {row["field"] for row in line.changes} >= {"workplace", "religion", "categories"}
    assert merged.changes.get().action == MemberChange.Action.MERGE
    # Out of every list and count, the tallies recounted.
    assert merged.merged_into == keep
    assert not Member.objects.visible_to(district_user).filter(pk=merged.pk).exists()
    assert (total(areas["140106001001"]), total(areas["140106002001"])) == (1, 0)
    assert AuditEvent.objects.filter(detail__step="merge", object_id=str(keep.pk)).exists()
    assert keep.last_contact_on == DAY


def test_the_merged_record_s_number_is_told_as_the_kept_record(twins, district_user, areas):
    keep, merged = twins
    services.member_merge(actor=district_user, keep=keep, merged=merged)
    with pytest.raises(ValidationError) as refused:
        services.member_create(
            actor=district_user,
            data={
                "name": "张三",
                "id_number": merged.id_number,
                "ethnicity": keep.ethnicity,
                "political_status": keep.political_status,
                "categories": [Category.objects.get(slug="intellectual")],
                "community": areas["140106001002"],
            },
        )
    assert "桥东一社区" in refused.value.message_dict["id_number"][0]


def test_a_merge_is_undone_to_two_records_as_they_were(twins, district_user, areas):
    keep, merged = twins
    keep_changes = set(keep.changes.values_list("pk", flat=True))
    merged_changes = set(merged.changes.values_list("pk", flat=True))
    record = services.member_merge(actor=district_user, keep=keep, merged=merged)
    services.member_merge_undo(actor=district_user, merge=record)
    keep.refresh_from_db()
    merged.refresh_from_db()
    assert merged.merged_into is None
    assert (keep.workplace, keep.religion, keep.phone) == ("", "", "13900001111")
    assert {c.slug for c in keep.categories.all()} == {"intellectual"}
    assert merged.activities.count() == 1 and merged.visits.count() == 2
    assert keep.visits.count() == 2 and Need.objects.get().member == merged
    assert keep_changes < set(keep.changes.values_list("pk", flat=True))
    assert merged_changes < set(merged.changes.values_list("pk", flat=True))
    assert not set(keep.changes.values_list("pk", flat=True)) & merged_changes
    assert keep.changes.filter(action=MemberChange.Action.MERGE_UNDO).exists()
    assert (total(areas["140106001001"]), total(areas["140106002001"])) == (1, 1)
    with pytest.raises(ValidationError):
        services.member_merge_undo(actor=district_user, merge=record)


def test_undo_is_refused_after_30_days_or_after_the_kept_record_changed(
    twins, district_user, settings
):
    keep, merged = twins
    record = services.member_merge(actor=district_user, keep=keep, merged=merged)
    MemberMerge.objects.filter(pk=record.pk).update(at=timezone.now() - datetime.timedelta(days=31))
    record.refresh_from_db()
    with pytest.raises(ValidationError, match="30 天"):
        services.member_merge_undo(actor=district_user, merge=record)
    MemberMerge.objects.filter(pk=record.pk).update(at=timezone.now())
    record.refresh_from_db()
    keep.refresh_from_db()
    services.member_update(actor=district_user, member=keep, data={"notes": "核对过"})
    with pytest.raises(ValidationError, match="张三"):
        services.member_merge_undo(actor=district_user, merge=record)
    assert Member.objects.get(pk=merged.pk).merged_into_id == keep.pk


def test_only_the_district_within_its_area_merges(
    twins, community_user, street_user, other_district_user
):
    keep, merged = twins
    for user in (community_user, street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.member_merge(actor=user, keep=keep, merged=merged)
    assert Member.objects.get(pk=merged.pk).merged_into is None


def test_a_pending_transfer_stops_a_merge(twins, district_user, areas, community_user):
    keep, merged = twins
    services.transfer_request(
        actor=community_user, member=keep, to_community=areas["140106001002"], reason="搬家"
    )
    with pytest.raises(ValidationError, match="待接收|转移"):
        services.member_merge(actor=district_user, keep=keep, merged=merged)


# -- The pages ----------------------------------------------------------------------------------


def test_the_confirmation_page_shows_what_moves_and_the_merge_is_undone_from_the_record(
    client, twins, district_user
):
    keep, merged = twins
    client.force_login(district_user)
    url = reverse("members:merge", args=[keep.pk, merged.pk])
    page = client.get(url).content.decode()
    assert "姓名和出生日期相同" in page
    assert "太原市第五中学 教师" in page and "宗教界人士" in page
    assert "参加的活动：1" in page and "诉求：1" in page
    # The other's differing phone and number are said to stay with it, masked.
    assert "另一条记录中与本记录不同的内容不并入" in page
    plan = services.member_merge_plan(keep=keep, merged=merged)
    assert {"phone", "id_number"} <= set(plan.dropped) and "workplace" not in plan.dropped
    assert "13700002222" not in page and merged.phone_masked in page
    assert reverse("members:merge", args=[merged.pk, keep.pk]) in page
    assert Member.objects.get(pk=merged.pk).merged_into is None
    response = client.post(url)
    assert response["Location"] == reverse("members:detail", args=[keep.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "两条记录已合并为一条" in detail and "撤销合并" in detail
    # The merged record is gone from the pages: its address leads to the kept record.
    old_link = client.get(reverse("members:detail", args=[merged.pk]))
    assert old_link["Location"] == reverse("members:detail", args=[keep.pk])
    merge = MemberMerge.objects.get()
    response = client.post(reverse("members:merge_undo", args=[merge.pk]))
    assert response["Location"] == reverse("members:detail", args=[keep.pk])
    assert "已撤销合并" in client.get(response["Location"]).content.decode()
    assert Member.objects.get(pk=merged.pk).merged_into is None


def test_a_refused_merge_is_told_and_nothing_changes(client, twins, district_user, community_user):
    keep, merged = twins
    services.transfer_request(
        actor=community_user,
        member=keep,
        to_community=keep.community.parent.children.exclude(pk=keep.community_id).first(),
        reason="搬家",
    )
    client.force_login(district_user)
    url = reverse("members:merge", args=[keep.pk, merged.pk])
    page = client.get(url).content.decode()
    assert "有待接收的转移" in page and 'id="confirm-merge"' not in page
    page = client.post(url, follow=True).content.decode()
    assert "有待接收的转移" in page
    assert Member.objects.get(pk=merged.pk).merged_into is None


def test_a_roster_row_with_a_merged_record_s_number_is_refused(twins, district_user):
    keep, merged = twins
    services.member_merge(actor=district_user, keep=keep, merged=merged)
    report = roster_import(
        actor=district_user,
        data=roster(person("张三", community="府东一社区", number=merged.id_number)),
        filename="花名册.xlsx",
        dry_run=True,
    )
    assert "已并入同一人的另一条记录" in report.refused[0].message
    assert report.created == report.updated == 0


def test_relatives_and_links_to_the_merged_record_follow_the_merge_and_its_undo(
    twins, district_user, areas
):
    keep, merged = twins
    sister = {"name": "张梅", "relation": "sibling", "residence": "TWN"}
    own = services.relative_add(actor=None, member=merged, data=sister)
    # Someone else's relative is the merged record; the kept record's link to it is herself.
    other = MemberFactory(name="李四", community=areas["140106001001"])
    elsewhere = services.relative_add(
        actor=None,
        member=other,
        data={"name": "张三", "relation": "spouse", "residence": "CHN", "linked_member": merged},
    )
    herself = services.relative_add(
        actor=None,
        member=keep,
        data={"name": "张三", "relation": "other", "relation_other": "同一人",
              "residence": "CHN", "linked_member": merged},
    )  # fmt: skip
    keep.refresh_from_db()
    merged.refresh_from_db()
    record = services.member_merge(actor=district_user, keep=keep, merged=merged)
    for relative in (own, elsewhere, herself):
        relative.refresh_from_db()
    assert own.member == keep and elsewhere.linked_member == keep
    assert herself.linked_member is None  # no record is its own relative
    services.member_merge_undo(actor=district_user, merge=record)
    for relative in (own, elsewhere, herself):
        relative.refresh_from_db()
    assert own.member == merged and elsewhere.linked_member == merged
    assert herself.linked_member == merged


def test_the_full_export_writes_a_merged_person_once(twins, district_user, tmp_path):
    keep, merged = twins
    services.member_merge(actor=district_user, keep=keep, merged=merged)
    out = tmp_path / "all.xlsx"
    call_command("export_members", str(out))
    sheet = load_workbook(out).active
    names = [cell.value for row in sheet.iter_rows() for cell in row if cell.value == "张三"]
    assert len(names) == 1


def test_an_old_link_to_the_merged_record_leads_to_the_kept_one(
    client, twins, district_user, neighbour_user
):
    """府东一社区's record went into 桥东一社区's: who sees it is led on, saying so; who
    sees neither record finds nothing, as before."""
    keep, merged = twins
    services.member_merge(actor=district_user, keep=keep, merged=merged)
    client.force_login(district_user)
    response = client.get(reverse("members:detail", args=[merged.pk]), follow=True)
    assert response.redirect_chain == [(reverse("members:detail", args=[keep.pk]), 302)]
    assert "您打开的记录已合并到本记录。" in response.content.decode()
    # Neither record is in 五一二社区: its worker finds nothing.
    client.force_login(neighbour_user)
    assert client.get(reverse("members:detail", args=[merged.pk])).status_code == 404


def test_a_district_may_not_undo_a_merge_that_would_bring_back_another_district_s_record(
    client, member, far_member, district_user, admin_user
):
    # An administrator merged 小店区's record of the person into 迎泽区's: the undo would
    # bring the 小店区 record back to life, with its activities, visits and needs, so it is
    # 小店区's (or an administrator's) to undo, not 迎泽区's.
    record = services.member_merge(actor=admin_user, keep=member, merged=far_member)
    with pytest.raises(PermissionDenied):
        services.member_merge_undo(actor=district_user, merge=record)
    client.force_login(district_user)
    response = client.post(reverse("members:merge_undo", args=[record.pk]))
    assert response.status_code in (403, 404)
    assert Member.objects.get(pk=far_member.pk).merged_into_id == member.pk
    assert MemberMerge.objects.get(pk=record.pk).undone_at is None
    # Nor is she offered the undo on the kept record's page.
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert reverse("members:merge_undo", args=[record.pk]) not in page


def test_memberships_resources_and_projects_follow_the_merge_and_its_undo(
    twins, district_user, areas
):
    from organisations import services as organisation_services
    from organisations.models import Membership
    from organisations.tests.factories import organisation_make
    from resources.models import Project, Resource
    from resources.tests.factories import resource_make
    from resources.tests.test_projects import project_make

    keep, merged = twins
    association, club = (
        organisation_make(district_user, areas["140106"], name=name) for name in ("侨联", "书画社")
    )
    club.contact_member = merged  # its contact, as the form would choose her
    club.save(update_fields=["contact_member"])

    def join(member, organisation, role, day):
        return organisation_services.membership_add(
            actor=district_user, organisation=organisation, member=member, role=role,
            joined_on=day,
        )  # fmt: skip

    kept_spell = join(keep, association, "会长", datetime.date(2024, 5, 1))
    join(merged, association, "成员", datetime.date(2020, 3, 1))
    ended = join(merged, club, "成员", datetime.date(2019, 1, 1))
    organisation_services.membership_end(
        actor=district_user, membership=ended, left_on=datetime.date(2021, 1, 1)
    )
    offered = resource_make(district_user, member=merged, title="法律咨询")
    project = project_make(district_user, areas["140106"], member=merged)

    def spells(member):
        return sorted(
            (m.organisation.name, m.role, m.joined_on, m.left_on)
            for m in Membership.objects.filter(member=member)
        )

    before = {member.pk: spells(member) for member in (keep, merged)}
    record = services.member_merge(actor=district_user, keep=keep, merged=merged)
    # One open spell in 侨联, the kept one's, from the earlier day; the ended spell is hers.
    assert spells(keep) == [
        ("书画社", "成员", datetime.date(2019, 1, 1), datetime.date(2021, 1, 1)),
        ("侨联", "会长", datetime.date(2020, 3, 1), None),
    ]
    assert spells(merged) == []
    offered = Resource.objects.get(pk=offered.pk)
    assert offered.member == keep and offered.area == keep.community
    assert list(offered.served_areas.all()) == [keep.community]
    assert Project.objects.get(pk=project.pk).member == keep
    club.refresh_from_db()
    assert club.contact_member == keep

    services.member_merge_undo(actor=district_user, merge=record)
    assert {member.pk: spells(member) for member in (keep, merged)} == before
    assert Membership.objects.get(pk=kept_spell.pk).joined_on == datetime.date(2024, 5, 1)
    offered = Resource.objects.get(pk=offered.pk)
    assert offered.member == merged and offered.area == merged.community
    assert list(offered.served_areas.all()) == [merged.community]
    assert Project.objects.get(pk=project.pk).member == merged
    club.refresh_from_db()
    assert club.contact_member == merged


def test_nominations_and_register_rows_follow_the_merge_and_its_undo(twins, district_user):
    keep, merged = twins
    keep_nomination = services.nomination_create(
        actor=district_user, member=keep, reason="热心公益"
    )
    merged_nomination = services.nomination_create(
        actor=district_user, member=merged, reason="再次提名"
    )
    # One person has one nomination awaiting its decision: the merge waits for one.
    with pytest.raises(ValidationError, match="待决定的代表人士提名"):
        services.member_merge(actor=district_user, keep=keep, merged=merged)
    services.nomination_decide(
        actor=district_user, nomination=merged_nomination, admitted=True,
        date=datetime.date(2025, 6, 1), note="同意", reason="区委统战部决定入选",
    )  # fmt: skip
    record = services.member_merge(actor=district_user, keep=keep, merged=merged)
    assert set(keep.nominations.values_list("pk", flat=True)) == {
        keep_nomination.pk, merged_nomination.pk,
    }  # fmt: skip
    assert keep.representative_changes.get().reason == "区委统战部决定入选"
    services.member_merge_undo(actor=district_user, merge=record)
    assert list(merged.nominations.values_list("pk", flat=True)) == [merged_nomination.pk]
    assert merged.representative_changes.count() == 1
    assert not keep.representative_changes.exists()
