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
