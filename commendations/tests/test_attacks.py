"""What an attacker (or an unlucky moment) tries against commendations: a nominee's name read
by a community she has left, a title or deeds of characters that show nothing, another
community's member or file reached by a crafted id, a file that only calls itself a PDF, and
a result published by a GET or twice."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from commendations import services
from commendations.models import Campaign, Nomination
from members.models import Member

pytestmark = pytest.mark.django_db

WUYIER = "140106001002"
INVISIBLE = "\u200b\u200d\ufeff"


def campaign_make(actor, **data):
    return services.campaign_create(
        actor=actor,
        data={"kind": "resident", "year": timezone.localdate().year, "title": "最美居民评选",
              "description": "", "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5), **data},
    )  # fmt: skip


@pytest.fixture
def campaign(district_user):
    return campaign_make(district_user)


def test_a_nominee_who_moved_away_is_named_masked_to_her_old_community(
    client, areas, campaign, community_user, street_user, member
):
    # 桥东一社区 nominated 张三; she now lives in 五一二社区, whose record she is: alice no
    # longer sees her, as every list of members shows it.
    nomination = services.nomination_submit(
        actor=community_user, campaign=campaign, data={"member": member, "deeds": "助人为乐"}
    )
    Member.objects.filter(pk=member.pk).update(community=areas[WUYIER])
    client.force_login(community_user)
    for url in (
        reverse("commendations:detail", args=[campaign.pk]),
        reverse("commendations:nomination", args=[nomination.pk]),
    ):
        page = client.get(url).content.decode()
        assert "张*" in page and "张三" not in page, url
    # The street above both still reads her name.
    client.force_login(street_user)
    assert (
        "张三"
        in client.get(reverse("commendations:nomination", args=[nomination.pk])).content.decode()
    )


def test_a_title_or_a_name_of_characters_that_show_nothing_is_refused(district_user):
    with pytest.raises(ValidationError) as refused:
        campaign_make(district_user, title=INVISIBLE)
    assert "title" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        campaign_make(district_user, kind="other", kind_name=f" {INVISIBLE} ")
    assert "kind_name" in refused.value.message_dict
    assert not Campaign.objects.exists()
    # One merely sprinkled with them keeps its visible characters.
    assert campaign_make(district_user, title="最美\u200b居民").title == "最美居民"


def test_deeds_or_an_opinion_of_characters_that_show_nothing_are_refused(
    campaign, community_user, street_user, district_user, member
):
    with pytest.raises(ValidationError, match="事迹"):
        services.nomination_submit(
            actor=community_user, campaign=campaign, data={"member": member, "deeds": INVISIBLE}
        )
    nomination = services.nomination_submit(
        actor=community_user, campaign=campaign, data={"member": member, "deeds": "助人为乐"}
    )
    with pytest.raises(ValidationError) as refused:
        services.nomination_review(
            actor=street_user, nomination=nomination, recommend=False, opinion=INVISIBLE
        )
    assert "opinion" in refused.value.message_dict
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    with pytest.raises(ValidationError) as refused:
        services.nomination_decide(
            actor=district_user, nomination=nomination, commend=False, opinion=INVISIBLE
        )
    assert "opinion" in refused.value.message_dict
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.RECOMMENDED


def test_a_crafted_post_does_not_nominate_another_community_s_member(
    client, campaign, community_user, neighbour_member
):
    client.force_login(community_user)
    response = client.post(
        reverse("commendations:nominate", args=[campaign.pk]),
        {"member": neighbour_member.pk, "deeds": "助人为乐"},
    )
    assert response.status_code == 200
    assert not Nomination.objects.exists()
    with pytest.raises(ValidationError, match="本社区"):
        services.nomination_submit(
            actor=community_user, campaign=campaign,
            data={"member": neighbour_member, "deeds": "助人为乐"},
        )  # fmt: skip


def test_a_file_is_checked_by_its_bytes_and_kept_from_other_communities(
    client, campaign, community_user, neighbour_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as refused:
        services.nomination_submit(
            actor=community_user, campaign=campaign,
            data={"resident_name": "刘阿姨", "deeds": "义务巡逻"},
            uploads=[SimpleUploadedFile("事迹.pdf", b"MZ\x90\x00" + b"0" * 100, "application/pdf")],
        )  # fmt: skip
    assert "files" in refused.value.message_dict
    assert not Nomination.objects.exists()
    nomination = services.nomination_submit(
        actor=community_user, campaign=campaign,
        data={"resident_name": "刘阿姨", "deeds": "义务巡逻"},
        uploads=[SimpleUploadedFile("事迹.pdf", b"%PDF-1.7\n" + b"0" * 100, "application/pdf")],
    )  # fmt: skip
    attached = nomination.files.get()
    client.force_login(neighbour_user)
    url = reverse("commendations:file", args=[nomination.pk, attached.pk])
    assert client.get(url).status_code == 404


def test_publishing_takes_a_confirmed_post_and_happens_once(
    client, campaign, community_user, street_user, district_user, member
):
    nomination = services.nomination_submit(
        actor=community_user, campaign=campaign, data={"member": member, "deeds": "助人为乐"}
    )
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(actor=district_user, nomination=nomination, commend=True)
    client.force_login(district_user)
    url = reverse("commendations:publish", args=[campaign.pk])
    assert client.get(url).status_code == 200
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.REVIEW
    client.post(url, {"confirmed": "1"})
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PUBLISHED
    with pytest.raises(ValidationError, match="已经公布"):
        services.campaign_publish(actor=district_user, campaign=campaign)
    assert nomination.events.filter(action="publish").count() == 1


def test_a_member_who_left_the_registry_is_not_nominated(campaign, community_user, areas):
    from members.tests.factories import MemberFactory

    gone = MemberFactory(
        name="周已故", community=areas["140106001001"], status=Member.Status.DECEASED
    )
    with pytest.raises(ValidationError, match="周已故已不在册"):
        services.nomination_submit(
            actor=community_user, campaign=campaign, data={"member": gone, "deeds": "助人为乐"}
        )
    assert not Nomination.objects.exists()


def test_a_quota_of_none_commended_is_refused(district_user):
    with pytest.raises(ValidationError) as refused:
        campaign_make(district_user, quota=0)
    assert "quota" in refused.value.message_dict
    assert campaign_make(district_user, quota=1).quota == 1


def test_a_year_that_is_not_one_is_refused_and_the_description_is_the_campaigns(
    client, district_user
):
    with pytest.raises(ValidationError) as refused:
        campaign_make(district_user, year=20262026)
    assert "year" in refused.value.message_dict
    client.force_login(district_user)
    form = client.get(reverse("commendations:create")).text
    assert "活动说明" in form and "诉求内容" not in form
