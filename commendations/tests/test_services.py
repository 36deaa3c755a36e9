"""The rules of commendations: who nominates, reviews, decides and publishes, and when."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from commendations import services
from commendations.models import Campaign, Nomination
from members.tests.factories import MemberFactory
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n" + b"0" * 100


def make_campaign(actor, area=None, **data):
    return services.campaign_create(
        actor=actor,
        data={
            "kind": "resident", "year": 2026, "title": "2026年最美居民评选",
            "description": "", "area": area,
            "deadline": timezone.localdate() + datetime.timedelta(days=10), "quota": None,
            **data,
        },
    )  # fmt: skip


def nominate(actor, campaign, **data):
    return services.nomination_submit(
        actor=actor, campaign=campaign, data={"deeds": "热心公益，长期照顾孤寡老人。", **data}
    )


@pytest.fixture
def campaign(district_user):
    return make_campaign(district_user)


def test_only_the_district_names_a_campaign(
    community_user, street_user, district_user, admin_user, areas
):
    for actor in (community_user, street_user, admin_user):
        with pytest.raises(PermissionDenied):
            make_campaign(actor)
    made = make_campaign(district_user, area=areas["140106001"])
    assert made.area.name == "柳巷街道"
    assert made.state == Campaign.State.NOMINATING
    # Not another district's area.
    with pytest.raises(ValidationError, match="本区"):
        make_campaign(district_user, area=areas["140105001"])
    with pytest.raises(ValidationError, match="表彰名称"):
        make_campaign(district_user, kind="other")
    assert make_campaign(district_user, kind="other", kind_name="优秀志愿者").kind_label == (
        "优秀志愿者"
    )


def test_only_communities_nominate_their_own_members(
    campaign, community_user, street_user, district_user, member, neighbour_member
):
    for actor in (street_user, district_user):
        with pytest.raises(PermissionDenied):
            nominate(actor, campaign, member=member)
    with pytest.raises(ValidationError, match="本社区"):
        nominate(community_user, campaign, member=neighbour_member)
    nomination = nominate(community_user, campaign, member=member)
    assert nomination.community == member.community
    assert nomination.state == Nomination.State.SUBMITTED
    assert [event.action for event in nomination.events.all()] == ["nominate"]
    assert AuditEvent.objects.filter(
        object_type="commendations.nomination", object_id=str(nomination.pk), action="create"
    ).exists()


def test_a_member_is_nominated_once_per_campaign(campaign, community_user, member):
    nominate(community_user, campaign, member=member)
    with pytest.raises(ValidationError, match="已在本次表彰活动中被推荐"):
        nominate(community_user, campaign, member=member)
    assert Nomination.objects.count() == 1


def test_a_resident_who_is_not_a_member(campaign, community_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    nomination = services.nomination_submit(
        actor=community_user, campaign=campaign,
        data={"resident_name": "刘阿姨", "contact": "13812345678", "notes": "退休教师",
              "deeds": "义务辅导社区儿童功课十年。"},
        uploads=[SimpleUploadedFile("事迹.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    assert nomination.member is None
    assert nomination.nominee_name == "刘阿姨"
    assert nomination.community == community_user.area
    assert nomination.contact_masked == "138****5678"
    assert nomination.files.count() == 1
    with pytest.raises(ValidationError, match="同名居民"):
        nominate(community_user, campaign, resident_name="刘阿姨")
    with pytest.raises(ValidationError, match="统战对象，或填写居民姓名"):
        nominate(community_user, campaign)
    with pytest.raises(ValidationError, match="事迹"):
        nominate(community_user, campaign, resident_name="王师傅", deeds=" ")


def test_no_nomination_after_the_deadline_or_the_nominating(
    campaign, community_user, district_user, member
):
    Campaign.objects.filter(pk=campaign.pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    campaign.refresh_from_db()
    with pytest.raises(ValidationError, match="推荐截止日期.*已过"):
        nominate(community_user, campaign, member=member)
    other = make_campaign(district_user)
    services.campaign_close(actor=district_user, campaign=other)
    with pytest.raises(ValidationError, match="不再接受推荐"):
        nominate(community_user, other, member=member)


def test_only_the_street_above_reviews(
    campaign, community_user, street_user, other_street_user, district_user, member
):
    nomination = nominate(community_user, campaign, member=member)
    for actor in (community_user, other_street_user, district_user):
        with pytest.raises(PermissionDenied):
            services.nomination_review(actor=actor, nomination=nomination, recommend=True)
    with pytest.raises(ValidationError, match="不推荐的理由"):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=False)
    reviewed = services.nomination_review(
        actor=street_user, nomination=nomination, recommend=True, opinion="事迹突出"
    )
    assert reviewed.state == Nomination.State.RECOMMENDED
    # A second submit of the same form is refused in words.
    with pytest.raises(ValidationError, match="街道已审核过"):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=False,
                                   opinion="重复")  # fmt: skip
    assert [e.action for e in reviewed.events.all()] == ["nominate", "review"]


def test_only_the_district_decides_after_the_nominating(
    campaign, community_user, street_user, district_user, other_district_user, member
):
    nomination = nominate(community_user, campaign, member=member)
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    with pytest.raises(ValidationError, match="请先结束推荐征集"):
        services.nomination_decide(actor=district_user, nomination=nomination, commend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    for actor in (community_user, street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.nomination_decide(actor=actor, nomination=nomination, commend=True)
    decided = services.nomination_decide(actor=district_user, nomination=nomination, commend=True)
    assert decided.state == Nomination.State.COMMENDED
    with pytest.raises(ValidationError, match="已经决定"):
        services.nomination_decide(actor=district_user, nomination=nomination, commend=False,
                                   opinion="改变主意")  # fmt: skip


def test_a_nomination_the_street_did_not_recommend_is_not_decided(
    campaign, community_user, street_user, district_user, member
):
    nomination = nominate(community_user, campaign, member=member)
    services.nomination_review(
        actor=street_user, nomination=nomination, recommend=False, opinion="事迹不够突出"
    )
    services.campaign_close(actor=district_user, campaign=campaign)
    with pytest.raises(ValidationError, match="只有街道推荐"):
        services.nomination_decide(actor=district_user, nomination=nomination, commend=True)


def test_the_quota_holds(community_user, street_user, district_user, areas):
    campaign = make_campaign(district_user, quota=1)
    first, second = (
        nominate(community_user, campaign, member=MemberFactory(community=areas["140106001001"]))
        for _ in range(2)
    )
    for nomination in (first, second):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(actor=district_user, nomination=first, commend=True)
    with pytest.raises(ValidationError, match="名额"):
        services.nomination_decide(actor=district_user, nomination=second, commend=True)
    services.nomination_decide(
        actor=district_user, nomination=second, commend=False, opinion="名额已满"
    )


def test_publication_waits_for_every_word_and_reveals_the_results(
    campaign, community_user, street_user, district_user, member
):
    nomination = nominate(community_user, campaign, member=member)
    resident = nominate(community_user, campaign, resident_name="刘阿姨")
    services.campaign_close(actor=district_user, campaign=campaign)
    with pytest.raises(ValidationError, match="待街道审核"):
        services.campaign_publish(actor=district_user, campaign=campaign)
    for each in (nomination, resident):
        services.nomination_review(actor=street_user, nomination=each, recommend=True)
    with pytest.raises(ValidationError, match="尚待您决定"):
        services.campaign_publish(actor=district_user, campaign=campaign)
    services.nomination_decide(actor=district_user, nomination=nomination, commend=True)
    services.nomination_decide(
        actor=district_user, nomination=resident, commend=False, opinion="名额有限"
    )
    assert not Nomination.objects.commended().exists()
    with pytest.raises(PermissionDenied):
        services.campaign_publish(actor=street_user, campaign=campaign)
    services.campaign_publish(actor=district_user, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PUBLISHED
    assert list(Nomination.objects.commended()) == [nomination]
    with pytest.raises(ValidationError, match="已经公布"):
        services.campaign_publish(actor=district_user, campaign=campaign)
    assert (
        AuditEvent.objects.filter(
            object_type="commendations.campaign", object_id=str(campaign.pk), action="status"
        ).count()
        == 2
    )


def test_nominations_follow_a_merged_community(
    campaign, community_user, neighbour_user, admin_user, areas
):
    from tongzhan.services import area_merge

    moved = nominate(community_user, campaign, resident_name="刘阿姨")
    nominate(neighbour_user, campaign, resident_name="刘阿姨")
    assert services.area_commendations_count(areas["140106001001"]) == 1
    area_merge(actor=admin_user, source=areas["140106001001"], target=areas["140106001002"])
    moved.refresh_from_db()
    assert moved.community == areas["140106001002"]
    # One name per community and campaign: the one brought along says where it came from.
    assert moved.resident_name == "刘阿姨（桥东一社区）"


def test_a_merged_record_s_commendation_shows_on_the_kept_one(
    campaign, community_user, district_user, member, areas
):
    from members import services as member_services

    twin = MemberFactory(community=areas["140106001001"])
    nomination = nominate(community_user, campaign, member=twin)
    merge = member_services.member_merge(actor=district_user, keep=member, merged=twin)
    nomination.refresh_from_db()
    assert nomination.member == member
    member_services.member_merge_undo(actor=district_user, merge=merge)
    nomination.refresh_from_db()
    assert nomination.member == twin


def test_a_street_s_campaign_is_for_that_street_alone(
    district_user, community_user, other_street_user, areas
):
    from commendations.models import Campaign as CampaignModel
    from conftest import _user
    from tongzhan.models import User

    street_campaign = make_campaign(district_user, area=areas["140106001"])
    fudong = _user("fay", User.Role.COMMUNITY, areas["140106002001"])
    assert (
        not CampaignModel.objects.visible_to(other_street_user)
        .filter(pk=street_campaign.pk)
        .exists()
    )
    assert CampaignModel.objects.visible_to(community_user).filter(pk=street_campaign.pk).exists()
    with pytest.raises(PermissionDenied):
        nominate(fudong, street_campaign, resident_name="周师傅")
    assert nominate(community_user, street_campaign, resident_name="周师傅").pk


def test_the_audit_lines_read_in_chinese(campaign, community_user, street_user, member):
    from tongzhan.views import audit_detail_text

    nomination = nominate(community_user, campaign, member=member)
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    lines = AuditEvent.objects.filter(object_type="commendations.nomination").order_by("pk")
    created, reviewed = (audit_detail_text(line) for line in lines)
    assert "表彰活动：" in created and "附件数：0" in created
    assert reviewed == "状态：街道已推荐"


# -- The ways back before publication ---------------------------------------------------------


def _state(nomination):
    nomination.refresh_from_db()
    return nomination.state


def test_a_nomination_is_withdrawn_by_its_community_while_it_awaits_the_review(
    campaign, community_user, neighbour_user, street_user, district_user, member
):
    nomination = nominate(community_user, campaign, member=member)
    for actor in (neighbour_user, street_user, district_user):
        with pytest.raises(PermissionDenied):
            services.nomination_withdraw(actor=actor, nomination=nomination)
    withdrawn = services.nomination_withdraw(actor=community_user, nomination=nomination)
    assert withdrawn.state == Nomination.State.WITHDRAWN
    assert withdrawn.get_state_display() == "已撤回"
    # Kept, with its history and its audit line.
    assert [e.action for e in withdrawn.events.all()] == ["nominate", "withdraw"]
    assert AuditEvent.objects.filter(
        object_type="commendations.nomination", object_id=str(nomination.pk), action="status",
        detail__state="withdrawn",
    ).exists()  # fmt: skip
    with pytest.raises(ValidationError, match="已经撤回"):
        services.nomination_withdraw(actor=community_user, nomination=nomination)
    # The street has nothing left to review.
    with pytest.raises(ValidationError, match="社区已撤回"):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    # The same member is nominated again; the withdrawn nomination stays beside it.
    again = nominate(community_user, campaign, member=member)
    assert again.state == Nomination.State.SUBMITTED
    assert Nomination.objects.filter(member=member).count() == 2
    assert list(Nomination.objects.standing()) == [again]
    # Once again nominated, the member is still nominated only once.
    with pytest.raises(ValidationError, match="已在本次表彰活动中被推荐"):
        nominate(community_user, campaign, member=member)


def test_a_resident_is_nominated_again_after_a_withdrawal(campaign, community_user):
    first = nominate(community_user, campaign, resident_name="刘阿姨", contact="13812345678")
    services.nomination_withdraw(actor=community_user, nomination=first)
    again = nominate(community_user, campaign, resident_name="刘阿姨", deeds="义务巡逻")
    assert again.resident_name == "刘阿姨" and again.pk != first.pk
    assert _state(first) == Nomination.State.WITHDRAWN


def test_a_reviewed_nomination_is_not_withdrawn_and_the_refusal_keeps_the_decision_unsaid(
    campaign, community_user, street_user, district_user, member
):
    nomination = nominate(community_user, campaign, member=member)
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    with pytest.raises(ValidationError, match="街道已审核过该推荐（街道已推荐）：不能再撤回"):
        services.nomination_withdraw(actor=community_user, nomination=nomination)
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(actor=district_user, nomination=nomination, commend=True)
    # The community reads what the street did, not what the district decided.
    with pytest.raises(ValidationError, match="（街道已推荐）") as refused:
        services.nomination_withdraw(actor=community_user, nomination=nomination)
    assert "受表彰" not in str(refused.value)
    assert _state(nomination) == Nomination.State.COMMENDED


def test_a_withdrawn_nomination_neither_holds_up_nor_counts_in_the_publication(
    campaign, community_user, street_user, district_user, member
):
    withdrawn = nominate(community_user, campaign, resident_name="刘阿姨")
    services.nomination_withdraw(actor=community_user, nomination=withdrawn)
    kept = nominate(community_user, campaign, member=member)
    services.nomination_review(actor=street_user, nomination=kept, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    # Only the nomination standing waits for a decision.
    (problem,) = services.campaign_publish_checks(campaign)
    assert "的 1 个人选尚待您决定" in problem
    services.nomination_decide(actor=district_user, nomination=kept, commend=True)
    assert services.campaign_publish_checks(campaign) == []
    services.campaign_publish(actor=district_user, campaign=campaign)
    assert _state(withdrawn) == Nomination.State.WITHDRAWN
    assert list(Nomination.objects.commended()) == [kept]


def test_a_nomination_is_edited_by_its_community_before_the_review(
    campaign, community_user, neighbour_user, street_user, member, settings, tmp_path
):
    from tongzhan.views import audit_detail_text

    settings.MEDIA_ROOT = tmp_path
    resident = nominate(
        community_user, campaign, resident_name="刘阿姨", contact="13812345678", notes="退休"
    )
    with pytest.raises(PermissionDenied):
        services.nomination_edit(actor=neighbour_user, nomination=resident, data={"deeds": "改"})
    edited = services.nomination_edit(
        actor=community_user, nomination=resident,
        data={"deeds": "义务辅导社区儿童功课十年。", "contact": "13900001111", "notes": "退休"},
        uploads=[SimpleUploadedFile("事迹.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    edited.refresh_from_db()
    assert edited.deeds == "义务辅导社区儿童功课十年。"
    assert edited.contact == "13900001111" and edited.contact_masked == "139****1111"
    assert edited.notes == "退休" and edited.files.count() == 1
    event = edited.events.get(action="edit")
    assert event.action_label == "社区已修改"
    assert "事迹" in event.note and "联系方式" in event.note and "备注" not in event.note
    line = AuditEvent.objects.get(object_id=str(resident.pk), action="update")
    assert line.detail == {"fields": ["contact", "deeds"], "files": 1}
    assert "字段：联系方式、事迹" in audit_detail_text(line)
    # Without `contact` the one stored stays; the same words again change nothing.
    services.nomination_edit(actor=community_user, nomination=resident,
                             data={"deeds": "义务辅导。", "notes": "退休"})  # fmt: skip
    resident.refresh_from_db()
    assert resident.contact == "13900001111"
    with pytest.raises(ValidationError, match="没有修改任何内容"):
        services.nomination_edit(actor=community_user, nomination=resident,
                                 data={"deeds": "义务辅导。", "notes": "退休"})  # fmt: skip
    with pytest.raises(ValidationError, match="事迹"):
        services.nomination_edit(actor=community_user, nomination=resident, data={"deeds": " "})
    # A member's contact and notes are her record's: not the nomination's to change.
    nomination = nominate(community_user, campaign, member=member)
    services.nomination_edit(
        actor=community_user, nomination=nomination,
        data={"deeds": "新事迹", "contact": "13812345678", "notes": "备"},
    )  # fmt: skip
    nomination.refresh_from_db()
    assert (nomination.deeds, nomination.contact, nomination.notes) == ("新事迹", "", "")
    # Once the street reviewed it, it is not edited.
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    with pytest.raises(ValidationError, match="不能再修改"):
        services.nomination_edit(actor=community_user, nomination=nomination,
                                 data={"deeds": "再改"})  # fmt: skip


def test_a_nomination_is_not_edited_once_the_nominating_ended(
    campaign, community_user, district_user, member
):
    nomination = nominate(community_user, campaign, member=member)
    services.campaign_close(actor=district_user, campaign=campaign)
    with pytest.raises(ValidationError, match="不再接受推荐"):
        services.nomination_edit(actor=community_user, nomination=nomination,
                                 data={"deeds": "改"})  # fmt: skip
    # It is still withdrawn: the street has not reviewed it.
    services.nomination_withdraw(actor=community_user, nomination=nomination)
    assert _state(nomination) == Nomination.State.WITHDRAWN


def test_the_street_changes_its_review_until_the_district_decides(
    campaign, community_user, street_user, district_user, member
):
    from tongzhan.views import audit_detail_text

    nomination = nominate(community_user, campaign, member=member)
    with pytest.raises(ValidationError, match="尚未审核"):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=True,
                                   change=True)  # fmt: skip
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    with pytest.raises(ValidationError, match="不推荐的理由"):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=False,
                                   change=True)  # fmt: skip
    changed = services.nomination_review(
        actor=street_user, nomination=nomination, recommend=False, opinion="事迹需核实",
        change=True,
    )  # fmt: skip
    assert changed.state == Nomination.State.NOT_RECOMMENDED
    assert changed.street_opinion == "事迹需核实"
    with pytest.raises(ValidationError, match="审核意见没有变化"):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=False,
                                   opinion="事迹需核实", change=True)  # fmt: skip
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True,
                               opinion="已核实", change=True)  # fmt: skip
    assert [(e.action, e.to_state) for e in nomination.events.all()] == [
        ("nominate", "submitted"), ("review", "recommended"),
        ("review_change", "not_recommended"), ("review_change", "recommended"),
    ]  # fmt: skip
    line = AuditEvent.objects.filter(object_id=str(nomination.pk), action="status").latest("pk")
    assert line.detail == {"state": "recommended", "before": {"state": "not_recommended"}}
    assert audit_detail_text(line) == "状态：街道已推荐；修改前：（状态：街道不推荐）"
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(actor=district_user, nomination=nomination, commend=True)
    with pytest.raises(ValidationError, match="已对该推荐作出决定") as refused:
        services.nomination_review(actor=street_user, nomination=nomination, recommend=False,
                                   opinion="改变主意", change=True)  # fmt: skip
    assert "受表彰" not in str(refused.value)
    assert _state(nomination) == Nomination.State.COMMENDED


def test_the_district_changes_its_decision_within_the_quota_until_it_publishes(
    community_user, street_user, district_user, areas
):
    campaign = make_campaign(district_user, quota=1)
    first, second = (
        nominate(community_user, campaign, member=MemberFactory(community=areas["140106001001"]))
        for _ in range(2)
    )
    for nomination in (first, second):
        services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(actor=district_user, nomination=first, commend=True)
    with pytest.raises(ValidationError, match="您尚未对该推荐作出决定"):
        services.nomination_decide(actor=district_user, nomination=second, commend=False,
                                   opinion="名额已满", change=True)  # fmt: skip
    services.nomination_decide(actor=district_user, nomination=second, commend=False,
                               opinion="名额已满")  # fmt: skip
    # The commended one keeps its place when its opinion changes: it is not counted twice.
    services.nomination_decide(actor=district_user, nomination=first, commend=True,
                               opinion="事迹突出", change=True)  # fmt: skip
    assert _state(first) == Nomination.State.COMMENDED
    with pytest.raises(ValidationError, match="名额"):
        services.nomination_decide(actor=district_user, nomination=second, commend=True,
                                   change=True)  # fmt: skip
    services.nomination_decide(actor=district_user, nomination=first, commend=False,
                               opinion="另有人选", change=True)  # fmt: skip
    services.nomination_decide(actor=district_user, nomination=second, commend=True,
                               change=True)  # fmt: skip
    assert (_state(first), _state(second)) == (
        Nomination.State.NOT_COMMENDED,
        Nomination.State.COMMENDED,
    )
    with pytest.raises(ValidationError, match="决定没有变化"):
        services.nomination_decide(actor=district_user, nomination=second, commend=True,
                                   change=True)  # fmt: skip
    assert [e.action for e in second.events.all()] == [
        "nominate",
        "review",
        "decide",
        "decide_change",
    ]
    # A first decision sent twice is still refused in words.
    with pytest.raises(ValidationError, match="已经决定"):
        services.nomination_decide(actor=district_user, nomination=second, commend=True)
    services.campaign_publish(actor=district_user, campaign=campaign)
    with pytest.raises(ValidationError, match="已经公布"):
        services.nomination_decide(actor=district_user, nomination=first, commend=True,
                                   change=True)  # fmt: skip


def test_the_district_reopens_the_nominating_it_ended_early(
    campaign, community_user, street_user, district_user, member
):
    from tongzhan.views import audit_detail_text

    with pytest.raises(ValidationError, match="仍在征集"):
        services.campaign_reopen(actor=district_user, campaign=campaign)
    services.campaign_close(actor=district_user, campaign=campaign)
    with pytest.raises(PermissionDenied):
        services.campaign_reopen(actor=street_user, campaign=campaign)
    services.campaign_reopen(actor=district_user, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.NOMINATING
    line = AuditEvent.objects.filter(object_id=str(campaign.pk), action="status").latest("pk")
    assert audit_detail_text(line) == "状态：征集中；重新开放：是"
    # Communities nominate again.
    nomination = nominate(community_user, campaign, member=member)
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(actor=district_user, nomination=nomination, commend=False,
                               opinion="事迹一般")  # fmt: skip
    with pytest.raises(ValidationError, match="已对 1 名推荐人选作出决定"):
        services.campaign_reopen(actor=district_user, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.REVIEW


def test_the_nominating_is_not_reopened_after_the_deadline(campaign, district_user):
    services.campaign_close(actor=district_user, campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    campaign.refresh_from_db()
    with pytest.raises(ValidationError, match="推荐截止日期.*已过：不能重新开放征集"):
        services.campaign_reopen(actor=district_user, campaign=campaign)


def test_a_withdrawn_nomination_does_not_keep_a_merged_record_s_from_moving(
    campaign, community_user, district_user, member, areas
):
    from members import services as member_services

    withdrawn = nominate(community_user, campaign, member=member)
    services.nomination_withdraw(actor=community_user, nomination=withdrawn)
    twin = MemberFactory(community=areas["140106001001"])
    nomination = nominate(community_user, campaign, member=twin)
    member_services.member_merge(actor=district_user, keep=member, merged=twin)
    nomination.refresh_from_db()
    assert nomination.member == member
