"""What an attacker (or an unlucky moment) tries against rectifications and 示范社区: a
notice, report or reason of characters that show nothing, a file that only calls itself a
PDF, another community's file or activity reached by a crafted id, a negative reward, and an
acceptance by a GET."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from assessment.models import Result
from followup import services
from followup.models import ModelCommunity, Rectification

from .conftest import evidence, hold_activity

pytestmark = pytest.mark.django_db

State = Rectification.State
QIAODONG, WUYIER = "140106001001", "140106001002"
INVISIBLE = "\u200b\u200d\ufeff"
IN_A_MONTH = timezone.localdate() + datetime.timedelta(days=30)


@pytest.fixture
def rectification(period, district_user, areas):
    services.rectifications_notify(
        actor=district_user, period=period, notice="整改台账不全的问题", deadline=IN_A_MONTH
    )
    return Rectification.objects.get(community=areas[QIAODONG])


def test_a_notice_report_or_reason_of_characters_that_show_nothing_is_refused(
    period, district_user, community_user, street_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as refused:
        services.rectifications_notify(
            actor=district_user, period=period, notice=INVISIBLE, deadline=IN_A_MONTH
        )
    assert "notice" in refused.value.message_dict
    assert not Rectification.objects.exists()
    services.rectifications_notify(
        actor=district_user, period=period, notice="整改台账不全的问题", deadline=IN_A_MONTH
    )
    rectification = Rectification.objects.get(community=community_user.area)
    with pytest.raises(ValidationError) as refused:
        services.rectification_update(
            actor=district_user, rectification=rectification, notice=INVISIBLE,
            deadline=IN_A_MONTH,
        )  # fmt: skip
    assert "notice" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.rectification_report(
            actor=community_user, rectification=rectification, report=INVISIBLE,
            uploads=[evidence()],
        )  # fmt: skip
    assert "report" in refused.value.message_dict
    services.rectification_report(
        actor=community_user, rectification=rectification, report="台账已补齐",
        uploads=[evidence()],
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.rectification_send_back(
            actor=street_user, rectification=rectification, reason=f" {INVISIBLE}\n"
        )
    assert "reason" in refused.value.message_dict
    rectification.refresh_from_db()
    assert rectification.state == State.REPORTED
    assert rectification.notice == "整改台账不全的问题"


def test_evidence_is_checked_by_its_bytes_and_kept_from_other_communities(
    client, rectification, community_user, neighbour_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    renamed = SimpleUploadedFile("整改照片.pdf", b"MZ\x90\x00" + b"0" * 100, "application/pdf")
    with pytest.raises(ValidationError) as refused:
        services.rectification_report(
            actor=community_user, rectification=rectification, report="台账已补齐",
            uploads=[renamed],
        )  # fmt: skip
    assert "files" in refused.value.message_dict
    services.rectification_report(
        actor=community_user, rectification=rectification, report="台账已补齐",
        uploads=[evidence()],
    )  # fmt: skip
    attached = rectification.files.get()
    client.force_login(neighbour_user)
    assert (
        client.get(reverse("followup:file", args=[rectification.pk, attached.pk])).status_code
        == 404
    )
    assert client.get(reverse("followup:detail", args=[rectification.pk])).status_code == 404


def test_accepting_takes_a_confirmed_post(
    client, rectification, community_user, street_user, district_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    services.rectification_report(
        actor=community_user, rectification=rectification, report="台账已补齐",
        uploads=[evidence()],
    )  # fmt: skip
    services.rectification_pass(actor=street_user, rectification=rectification)
    client.force_login(district_user)
    url = reverse("followup:accept", args=[rectification.pk])
    assert client.get(url).status_code == 200
    client.post(url)  # without the confirmation: the page again
    rectification.refresh_from_db()
    assert rectification.state == State.PASSED
    client.post(url, {"confirmed": "1"})
    client.post(url, {"confirmed": "1"})  # sent twice: accepted once
    rectification.refresh_from_db()
    assert rectification.state == State.ACCEPTED
    assert rectification.events.filter(action="accept").count() == 1


def test_a_crafted_post_links_no_other_community_s_activity_nor_a_negative_reward(
    client, period, areas, district_user, community_user
):
    result = Result.objects.get(period=period, outcome=Result.Outcome.MODEL)
    elsewhere = hold_activity(community_user, areas[QIAODONG], title="桥东一的活动")
    client.force_login(district_user)
    url = reverse("followup:model", args=[result.pk])
    assert client.post(url, {"reward": "100", "activity": elsewhere.pk}).status_code == 200
    assert client.post(url, {"reward": "-100"}).status_code == 200
    assert not ModelCommunity.objects.exists()
