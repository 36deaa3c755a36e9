"""The pages: scope (other areas 404, the auditor 403), what shows before and after the
results are published, the member's page and the counts per area."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commendations import services
from conftest import _user
from members.tests.test_printing import pdf_text
from tongzhan.models import User

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def flow(community_user, street_user, district_user, member):
    campaign = services.campaign_create(
        actor=district_user,
        data={"kind": "resident", "year": timezone.localdate().year, "title": "最美居民评选",
              "description": "", "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5)},
    )  # fmt: skip
    nomination = services.nomination_submit(
        actor=community_user, campaign=campaign, data={"member": member, "deeds": "助人为乐"}
    )
    resident = services.nomination_submit(
        actor=community_user, campaign=campaign,
        data={"resident_name": "刘阿姨", "deeds": "义务巡逻"},
    )  # fmt: skip
    for each in (nomination, resident):
        services.nomination_review(actor=street_user, nomination=each, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(
        actor=district_user, nomination=nomination, commend=True, opinion="同意表彰"
    )
    services.nomination_decide(
        actor=district_user, nomination=resident, commend=False, opinion="名额有限"
    )
    return campaign, nomination, resident


def test_other_areas_do_not_see_a_campaign_and_the_auditor_may_not(
    flow, other_district_user, neighbour_user
):
    campaign, nomination, _resident = flow
    frank = client_for(other_district_user)
    assert frank.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 404
    assert frank.get(reverse("commendations:nomination", args=[nomination.pk])).status_code == 404
    assert "最美居民评选" not in frank.get(reverse("commendations:list")).content.decode()
    # The neighbouring community sees the campaign, not alice's nominations.
    bob = client_for(neighbour_user)
    assert bob.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 200
    assert bob.get(reverse("commendations:nomination", args=[nomination.pk])).status_code == 404
    ivan = client_for(_user("ivan", User.Role.AUDITOR, None))
    assert ivan.get(reverse("commendations:list")).status_code == 403
    assert ivan.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 403


def test_the_decision_shows_below_the_district_only_once_published(
    flow, community_user, street_user, district_user, neighbour_user, member
):
    campaign, nomination, _resident = flow
    alice, carl = client_for(community_user), client_for(street_user)
    page = alice.get(reverse("commendations:nomination", args=[nomination.pk])).content.decode()
    assert "街道已推荐" in page
    assert "同意表彰" not in page and "受表彰" not in page
    erin = client_for(district_user)
    page = erin.get(reverse("commendations:nomination", args=[nomination.pk])).content.decode()
    assert "受表彰" in page and "同意表彰" in page
    member_page = reverse("members:detail", args=[member.pk])
    assert 'id="commendations"' not in alice.get(member_page).content.decode()

    services.campaign_publish(actor=district_user, campaign=campaign)
    page = alice.get(reverse("commendations:nomination", args=[nomination.pk])).content.decode()
    assert "受表彰" in page and "同意表彰" in page
    assert 'id="commendations"' in alice.get(member_page).content.decode()
    assert 'id="commendations"' in carl.get(member_page).content.decode()
    # The results are listed for everyone in the area covered, names masked outside one's own.
    results = client_for(neighbour_user).get(reverse("commendations:detail", args=[campaign.pk]))
    text = results.content.decode()
    assert 'id="results"' in text
    assert "张*" in text and "张三" not in text and "刘阿姨" not in text


def test_the_printed_form_lists_her_commendations_once_published(
    flow, areas, community_user, district_user, member
):
    campaign, _nomination, _resident = flow
    alice = client_for(community_user)
    one = reverse("members:print", args=[member.pk])
    whole = reverse("members:community_print") + "?community=140106001001"
    for url in (one, whole):
        text = " ".join(pdf_text(alice.get(url).content).split())
        assert "表彰 无" in text and "最美居民评选" not in text
    services.campaign_publish(actor=district_user, campaign=campaign)
    year = str(campaign.year)
    for url in (one, whole):
        text = " ".join(pdf_text(alice.get(url).content).split())
        assert f"{year} 最美居民 · 最美居民评选" in text and "表彰 无" not in text


def test_publishing_shows_a_confirmation_first(flow, district_user):
    campaign, _nomination, _resident = flow
    erin = client_for(district_user)
    url = reverse("commendations:publish", args=[campaign.pk])
    page = erin.get(url)
    assert page.status_code == 200 and "不能撤销" in page.content.decode()
    campaign.refresh_from_db()
    assert not campaign.is_published
    assert erin.post(url, {"confirmed": "1"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.is_published


def test_counts_per_street_and_community(flow, district_user, street_user, areas):
    campaign, _nomination, _resident = flow
    services.campaign_publish(actor=district_user, campaign=campaign)
    page = client_for(district_user).get(reverse("commendations:counts"))
    rows = page.context["rows"]
    by_name = {row["area"].name: row for row in rows}
    assert by_name["柳巷街道"] == {**by_name["柳巷街道"], "nominated": 2, "recommended": 2,
                                   "commended": 1}  # fmt: skip
    assert by_name["文庙街道"]["nominated"] == 0
    page = client_for(street_user).get(reverse("commendations:counts"), {"campaign": campaign.pk})
    by_name = {row["area"].name: row for row in page.context["rows"]}
    assert by_name["桥东一社区"]["commended"] == 1
    assert by_name["五一二社区"]["nominated"] == 0
    assert page.context["totals"]["nominated"] == 2


def test_a_nomination_form_refuses_in_words(community_user, district_user, member):
    campaign = services.campaign_create(
        actor=district_user,
        data={"kind": "advanced", "year": 2026, "title": "先进个人", "description": "",
              "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5)},
    )  # fmt: skip
    alice = client_for(community_user)
    url = reverse("commendations:nominate", args=[campaign.pk])
    assert member.name in alice.get(url, {"q": member.name[0]}).content.decode()
    assert alice.post(url, {"member": member.pk, "deeds": "事迹"}).status_code == 302
    again = alice.post(url, {"member": member.pk, "deeds": "事迹"})
    assert again.status_code == 200
    assert "该统战对象已在本次表彰活动中被推荐" in again.content.decode()


def test_the_lists_take_a_fixed_number_of_queries(
    flow, district_user, community_user, django_assert_max_num_queries, areas
):
    from members.tests.factories import MemberFactory

    campaign, _nomination, _resident = flow
    services.campaign_publish(actor=district_user, campaign=campaign)
    erin = client_for(district_user)
    erin.get(reverse("commendations:list"))  # the session and permissions, once
    with django_assert_max_num_queries(9):
        assert erin.get(reverse("commendations:list")).status_code == 200
    with django_assert_max_num_queries(11):
        assert erin.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 200
    with django_assert_max_num_queries(10):
        assert erin.get(reverse("commendations:counts")).status_code == 200
    # More nominations, no more queries.
    more = services.campaign_create(
        actor=district_user,
        data={"kind": "advanced", "year": 2026, "title": "先进个人", "description": "",
              "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5)},
    )  # fmt: skip
    for _ in range(5):
        services.nomination_submit(
            actor=community_user, campaign=more,
            data={"member": MemberFactory(community=areas["140106001001"]), "deeds": "事迹"},
        )  # fmt: skip
    with django_assert_max_num_queries(11):
        assert erin.get(reverse("commendations:detail", args=[more.pk])).status_code == 200


# -- The ways back, and the steps confirmed on a page of their own ----------------------------


@pytest.fixture
def taking(district_user):
    """A campaign taking nominations for five more days."""
    return services.campaign_create(
        actor=district_user,
        data={"kind": "resident", "year": timezone.localdate().year, "title": "最美居民评选",
              "description": "", "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5)},
    )  # fmt: skip


def test_a_community_withdraws_its_nomination_after_a_confirmation(
    taking, community_user, neighbour_user, street_user, member
):
    from commendations.models import Nomination

    nomination = services.nomination_submit(
        actor=community_user, campaign=taking, data={"member": member, "deeds": "助人为乐"}
    )
    url = reverse("commendations:withdraw", args=[nomination.pk])
    assert client_for(neighbour_user).get(url).status_code == 404
    assert client_for(street_user).get(url).status_code == 403
    alice = client_for(community_user)
    page = alice.get(reverse("commendations:nomination", args=[nomination.pk])).text
    assert 'id="withdraw-nomination"' in page and 'id="edit-nomination"' in page
    confirm = alice.get(url).text
    assert "撤回推荐" in confirm and "张三" in confirm and "不能撤销" in confirm
    # Neither the page nor a POST without the confirmation withdraws it.
    assert alice.post(url).status_code == 200
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.SUBMITTED
    done = alice.post(url, {"confirmed": "1"}, follow=True)
    assert "推荐已撤回" in done.text
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.WITHDRAWN
    # The list shows it withdrawn; the counts leave it out.
    assert "已撤回" in alice.get(reverse("commendations:detail", args=[taking.pk])).text
    counts = alice.get(reverse("commendations:counts"), {"campaign": taking.pk})
    assert counts.context["totals"]["nominated"] == 0
    page = alice.get(reverse("commendations:nomination", args=[nomination.pk])).text
    assert "社区已撤回" in page and 'id="withdraw-nomination"' not in page
    # Nominated again from the nomination page.
    again = alice.post(
        reverse("commendations:nominate", args=[taking.pk]),
        {"member": member.pk, "deeds": "助人为乐"},
    )
    assert again.status_code == 302
    assert Nomination.objects.filter(member=member).count() == 2


def test_withdrawing_a_reviewed_nomination_is_refused_in_words(
    taking, community_user, street_user, member
):
    nomination = services.nomination_submit(
        actor=community_user, campaign=taking, data={"member": member, "deeds": "助人为乐"}
    )
    alice = client_for(community_user)
    url = reverse("commendations:withdraw", args=[nomination.pk])
    alice.get(url)  # the confirmation is open while the street reviews
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    refused = alice.post(url, {"confirmed": "1"}, follow=True)
    assert "街道已审核过该推荐（街道已推荐）：不能再撤回" in refused.text
    refused = alice.get(url, follow=True)
    assert "不能再撤回" in refused.text
    assert 'id="withdraw-nomination"' not in refused.text


def test_a_community_edits_its_nomination_on_a_prefilled_form(
    taking, community_user, neighbour_user, member
):
    from tongzhan.models import AuditEvent

    resident = services.nomination_submit(
        actor=community_user, campaign=taking,
        data={"resident_name": "刘阿姨", "contact": "13812345678", "notes": "退休教师",
              "deeds": "义务巡逻"},
    )  # fmt: skip
    url = reverse("commendations:edit", args=[resident.pk])
    assert client_for(neighbour_user).get(url).status_code == 404
    alice = client_for(community_user)
    form = alice.get(url).text
    assert "义务巡逻" in form and "退休教师" in form and 'value="13812345678"' in form
    # Shown in full, logged as the member's phone is.
    assert AuditEvent.objects.filter(
        object_id=str(resident.pk), action="reveal", detail__page="edit"
    ).exists()
    saved = alice.post(url, {"deeds": "义务巡逻五年", "contact": "13812345678", "notes": ""})
    assert saved.status_code == 302
    page = alice.get(reverse("commendations:nomination", args=[resident.pk])).text
    assert "义务巡逻五年" in page and "社区已修改" in page and "修改了：事迹、备注" in page
    unchanged = alice.post(url, {"deeds": "义务巡逻五年", "contact": "13812345678"})
    assert unchanged.status_code == 200 and "没有修改任何内容" in unchanged.text
    # A member's nomination offers no contact of its own.
    nomination = services.nomination_submit(
        actor=community_user, campaign=taking, data={"member": member, "deeds": "助人为乐"}
    )
    form = alice.get(reverse("commendations:edit", args=[nomination.pk]))
    assert "contact" not in form.context["form"].fields


def test_the_street_s_review_is_confirmed_and_brought_back_to_be_changed(
    taking, community_user, street_user, member
):
    from commendations.models import Nomination

    nomination = services.nomination_submit(
        actor=community_user, campaign=taking, data={"member": member, "deeds": "助人为乐"}
    )
    carl = client_for(street_user)
    url = reverse("commendations:review", args=[nomination.pk])
    confirm = carl.post(url, {"decision": "no", "opinion": "事迹需核实"})
    assert confirm.status_code == 200
    text = confirm.text
    assert 'id="confirm-form"' in text and "不推荐" in text and "事迹需核实" in text
    assert 'name="opinion" value="事迹需核实"' in text and 'id="back"' in text
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.SUBMITTED
    # 返回修改: the form again, with the choice and the opinion as they were.
    back = carl.post(url, {"decision": "no", "opinion": "事迹需核实", "change": "",
                           "confirmed": "1", "back": "1"})  # fmt: skip
    form = back.context["review_form"]
    assert form["decision"].value() == "no" and form["opinion"].value() == "事迹需核实"
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.SUBMITTED
    # Not recommending without a word is refused at once, without a confirmation.
    refused = carl.post(url, {"decision": "no", "opinion": ""})
    assert "不推荐的理由" in refused.text and 'id="confirm-form"' not in refused.text
    carl.post(url, {"decision": "no", "opinion": "事迹需核实", "change": "", "confirmed": "1"})
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.NOT_RECOMMENDED

    # 修改审核意见: prefilled, confirmed again, recorded.
    page = carl.get(reverse("commendations:nomination", args=[nomination.pk])).text
    assert 'id="change-review"' in page and 'id="review"' not in page
    page = carl.get(reverse("commendations:nomination", args=[nomination.pk]), {"change": "review"})
    form = page.context["review_form"]
    assert form["decision"].value() == "no" and form.changing
    assert "修改街道审核意见" in page.text
    confirm = carl.post(url, {"decision": "yes", "opinion": "已核实", "change": "True"})
    assert "修改街道审核意见" in confirm.text and "原审核意见" in confirm.text
    assert 'name="change" value="1"' in confirm.text
    carl.post(url, {"decision": "yes", "opinion": "已核实", "change": "1", "confirmed": "1"})
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.RECOMMENDED
    history = client_for(community_user).get(
        reverse("commendations:nomination", args=[nomination.pk])
    )
    assert "街道修改审核意见" in history.text and "已核实" in history.text


def test_the_district_s_decision_is_confirmed_and_changed_before_publication(
    taking, community_user, street_user, district_user, member
):
    from commendations.models import Nomination

    nomination = services.nomination_submit(
        actor=community_user, campaign=taking, data={"member": member, "deeds": "助人为乐"}
    )
    services.nomination_review(actor=street_user, nomination=nomination, recommend=True)
    services.campaign_close(actor=district_user, campaign=taking)
    erin = client_for(district_user)
    url = reverse("commendations:decide", args=[nomination.pk])
    confirm = erin.post(url, {"decision": "yes", "opinion": "同意表彰"})
    assert 'id="confirm-form"' in confirm.text and "同意表彰" in confirm.text
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.RECOMMENDED
    erin.post(url, {"decision": "yes", "opinion": "同意表彰", "change": "", "confirmed": "1"})
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.COMMENDED
    page = erin.get(reverse("commendations:nomination", args=[nomination.pk])).text
    assert 'id="change-decision"' in page
    form = erin.get(
        reverse("commendations:nomination", args=[nomination.pk]), {"change": "decision"}
    ).context["decision_form"]
    assert form["decision"].value() == "yes" and form["opinion"].value() == "同意表彰"
    erin.post(url, {"decision": "no", "opinion": "名额调整", "change": "1", "confirmed": "1"})
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.NOT_COMMENDED
    # The community reads neither the decision nor its change before publication.
    alice_page = client_for(community_user).get(
        reverse("commendations:nomination", args=[nomination.pk])
    )
    assert "改变决定" not in alice_page.text and "名额调整" not in alice_page.text
    services.campaign_publish(actor=district_user, campaign=taking)
    page = erin.get(reverse("commendations:nomination", args=[nomination.pk])).text
    assert 'id="change-decision"' not in page


def test_ending_the_nominating_is_confirmed_and_reopened(
    taking, community_user, street_user, district_user, member
):
    from commendations.models import Campaign

    erin = client_for(district_user)
    url = reverse("commendations:close", args=[taking.pk])
    detail = reverse("commendations:detail", args=[taking.pk])
    services.nomination_submit(
        actor=community_user, campaign=taking, data={"member": member, "deeds": "助人为乐"}
    )
    assert client_for(street_user).get(url).status_code == 403
    confirm = erin.get(url).text
    assert "结束推荐征集" in confirm
    assert f"{taking.deadline:%Y-%m-%d}" in confirm and "还有 5 天" in confirm
    assert "目前推荐人数" in confirm
    taking.refresh_from_db()
    assert taking.state == Campaign.State.NOMINATING
    assert erin.post(url, {"confirmed": "1"}).status_code == 302
    taking.refresh_from_db()
    assert taking.state == Campaign.State.REVIEW
    # Sent again, the ending is refused in words.
    assert "已经结束" in erin.get(url, follow=True).text
    page = erin.get(detail).text
    assert 'id="reopen-nominating"' in page
    assert 'id="reopen-nominating"' not in client_for(street_user).get(detail).text
    assert erin.post(reverse("commendations:reopen", args=[taking.pk])).status_code == 302
    taking.refresh_from_db()
    assert taking.state == Campaign.State.NOMINATING
    assert 'id="nominate"' in client_for(community_user).get(detail).text


def test_the_nominating_is_not_reopened_after_a_decision(flow, district_user):
    campaign, _nomination, _resident = flow
    erin = client_for(district_user)
    detail = reverse("commendations:detail", args=[campaign.pk])
    assert 'id="reopen-nominating"' not in erin.get(detail).text
    refused = erin.post(reverse("commendations:reopen", args=[campaign.pk]), follow=True)
    assert "不能重新开放征集" in refused.text
    campaign.refresh_from_db()
    assert campaign.state == "review"
