"""Around an evaluation round (issue 18): the joint meeting it is held as, named outside
evaluators of its public assessment, talks with those it flags before it is confirmed, and
the political arrangements its confirmation cancels and its reopening gives back."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from assessment import meetings, services
from assessment.models import (
    EvaluationItem,
    EvaluationScore,
    EvaluationTemplate,
    JointMeeting,
    TalkRecord,
)
from members import services as member_services
from members.models import Member, MemberChange, PoliticalArrangement
from members.tests.factories import MemberFactory
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

NAMES = ["甲", "乙", "丙", "丁", "戊"]
PDF = b"%PDF-1.7\n" + b"0" * 100


@pytest.fixture
def evaluation_round(areas, district_user):
    for index, name in enumerate(NAMES):
        community = areas["140106001001" if index % 2 else "140106001002"]
        MemberFactory(name=name, community=community, is_representative=True)
    return services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True), "cut_share": 20},
    )  # fmt: skip


def items_of(evaluation_round):
    return list(
        EvaluationItem.objects.filter(category__template=evaluation_round.template, is_veto=False)
    )


def evaluation_of(evaluation_round, name):
    return evaluation_round.evaluations.select_related("member__community").get(member__name=name)


def score(evaluation_round, actor, name, share, sources=("superior", "self", "public")):
    for source in sources:
        services.evaluation_score(
            actor=actor, evaluation=evaluation_of(evaluation_round, name), source=source,
            scores={item: item.max_score * share / 100 for item in items_of(evaluation_round)},
        )  # fmt: skip


def score_everyone(evaluation_round, actor, sources=("superior", "self", "public")):
    for name, share in zip(NAMES, [95, 90, 80, 70, 60], strict=True):
        score(evaluation_round, actor, name, share, sources)


def veto(evaluation_round, actor, name):
    item = EvaluationItem.objects.get(category__template=evaluation_round.template, name="违法违纪")
    services.veto_mark(
        actor=actor, evaluation=evaluation_of(evaluation_round, name), item=item, note="被拘留"
    )


WARNING = {"kind": "warning", "held_on": datetime.date(2026, 11, 20), "held_by": "区委统战部王部长",
           "content": "指出履职不足，提出改进要求", "outcome": "本人表示接受"}  # fmt: skip


# -- Talks before the confirmation -------------------------------------------------------------


def test_a_round_is_confirmed_only_once_each_flagged_person_has_a_talk_or_a_reason(
    client, evaluation_round, district_user
):
    score_everyone(evaluation_round, district_user)
    veto(evaluation_round, district_user, "甲")
    needed = meetings.talks_needed(evaluation_round)
    assert [entry.row.evaluation.member.name for entry in needed] == ["甲", "戊"]
    with pytest.raises(ValidationError, match="既没有谈话记录") as refused:
        services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    assert "（甲、戊）" in refused.value.messages[0]
    assert Member.objects.filter(is_representative=True).count() == 5

    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation_of(evaluation_round, "戊"), data=WARNING
    )
    with pytest.raises(ValidationError, match="（甲）"):
        services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    # A reason instead of a talk: she has moved away.
    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation_of(evaluation_round, "甲"),
        data={"kind": "none", "reason": "已迁出本区，无法约谈", "held_by": "不应保存"},
    )  # fmt: skip
    removed = services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    assert {evaluation.member.name for evaluation in removed} == {"甲", "戊"}
    talk = TalkRecord.objects.get(evaluation__member__name="甲")
    assert talk.reason == "已迁出本区，无法约谈" and talk.held_by == "" and talk.held_on is None
    audit = AuditEvent.objects.filter(object_type="members.member", detail__talk="warning")
    assert audit.count() == 1
    # Each talk, or why none was held, is a line of the person's history on her page.
    line = MemberChange.objects.get(member__name="甲", action=MemberChange.Action.TALK)
    assert line.changes == [{"field": "talk", "old": "", "new": "未谈话 · 已迁出本区，无法约谈"}]
    assert line.source == str(evaluation_round)
    client.force_login(district_user)
    page = client.get(reverse("members:detail", args=[line.member_id])).text
    assert "评价后谈话" in page and "已迁出本区，无法约谈" in page
    # A correction shows what it replaced.
    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation_of(evaluation_round, "戊"),
        data={**WARNING, "outcome": "本人已书面检查"},
    )  # fmt: skip
    corrected = MemberChange.objects.filter(member__name="戊", action="talk").latest("id")
    assert corrected.changes[0]["old"].endswith("本人表示接受")
    assert (
        corrected.changes[0]["new"] == "警示谈话 · 2026-11-20 · 区委统战部王部长 · 本人已书面检查"
    )


def test_a_talk_record_refuses_bad_input_in_chinese(evaluation_round, district_user):
    score_everyone(evaluation_round, district_user)
    flagged = evaluation_of(evaluation_round, "戊")
    with pytest.raises(ValidationError) as refused:
        meetings.talk_record_set(actor=district_user, evaluation=flagged, data={"kind": "none"})
    assert refused.value.message_dict["reason"] == ["请说明未谈话的原因。"]
    with pytest.raises(ValidationError) as refused:
        meetings.talk_record_set(
            actor=district_user, evaluation=flagged, data={"kind": "talk", "held_by": "王"}
        )
    assert refused.value.message_dict == {
        "held_on": ["请填写谈话日期。"], "content": ["请填写谈话内容。"],
    }  # fmt: skip
    with pytest.raises(ValidationError, match="乙 在本轮评价中未被标记"):
        meetings.talk_record_set(
            actor=district_user, evaluation=evaluation_of(evaluation_round, "乙"), data=WARNING
        )
    assert not TalkRecord.objects.exists()


def test_only_staff_who_may_confirm_the_round_record_talks(
    client, evaluation_round, district_user, street_user, other_district_user, admin_user
):
    score_everyone(evaluation_round, district_user)
    flagged = evaluation_of(evaluation_round, "戊")
    with pytest.raises(PermissionDenied):
        meetings.talk_record_set(actor=street_user, evaluation=flagged, data=WARNING)
    url = reverse("assessment:talk_record", args=[evaluation_round.pk, flagged.pk])
    form = {**WARNING, "held_on": "2026-11-20"}
    client.force_login(street_user)  # sees the round, may not confirm it
    assert client.get(url).status_code == 403
    assert client.post(url, form).status_code == 403
    client.force_login(other_district_user)  # another district: not there at all
    assert client.get(url).status_code == 404
    assert client.post(url, form).status_code == 404
    client.force_login(district_user)
    response = client.post(url, {"kind": "warning", "held_by": "王"})
    assert "请填写谈话日期。" in response.content.decode()
    response = client.post(url, form)
    assert response.url == reverse("assessment:round_confirm", args=[evaluation_round.pk])
    assert TalkRecord.objects.get().held_by == "区委统战部王部长"
    assert not TalkRecord.objects.filter(recorded_by=street_user).exists()


def test_the_confirmation_page_names_who_lacks_a_talk_with_links(
    client, evaluation_round, district_user
):
    score_everyone(evaluation_round, district_user)
    client.force_login(district_user)
    confirm = reverse("assessment:round_confirm", args=[evaluation_round.pk])
    html = client.get(confirm).content.decode()
    flagged = evaluation_of(evaluation_round, "戊")
    talk_url = reverse("assessment:talk_record", args=[evaluation_round.pk, flagged.pk])
    assert 'id="talks"' in html and f'href="{talk_url}"' in html
    assert 'id="talks-block"' in html and "disabled" in html
    response = client.post(confirm, {"loses": [flagged.member_id]}, follow=True)
    assert "既没有谈话记录" in response.content.decode() and "（戊）" in response.content.decode()
    meetings.talk_record_set(actor=district_user, evaluation=flagged, data=WARNING)
    html = client.get(confirm).content.decode()
    assert 'id="talks-block"' not in html and "警示谈话 2026-11-20" in html
    client.post(confirm, {"loses": [flagged.member_id]})
    assert not Member.objects.get(name="戊").is_representative


# -- Named outside evaluators of the public assessment -----------------------------------------


def test_the_public_score_is_the_mean_of_the_outside_evaluators(
    evaluation_round, district_user, street_user
):
    items = items_of(evaluation_round)
    zhang = meetings.evaluator_add(
        actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区人大常委会"
    )
    li = meetings.evaluator_add(
        actor=district_user, evaluation_round=evaluation_round, name="李四", unit="社区居民代表"
    )
    evaluations = list(evaluation_round.evaluations.select_related("member__community"))
    # 张三 gives every item its maximum; 李四 half of it, and not yet to 甲.
    meetings.evaluator_scores_set(
        actor=street_user, evaluator=zhang,
        changes=[(e, item, item.max_score) for e in evaluations for item in items],
    )  # fmt: skip
    meetings.evaluator_scores_set(
        actor=street_user, evaluator=li,
        changes=[(e, item, item.max_score / 2) for e in evaluations if e.member.name != "甲"
                 for item in items],
    )  # fmt: skip
    score_everyone(evaluation_round, district_user, sources=("superior", "self"))
    outcome = services.round_outcome_preview(evaluation_round)
    assert [(m.row.evaluation.member.name, m.sources) for m in outcome.missing] == [
        ("甲", ["public"])
    ]
    rows = {row.evaluation.member.name: row for row in outcome.rows}
    assert rows["乙"].by_source["public"] == D(75)  # (100 + 50) ÷ 2
    assert "public" not in rows["甲"].by_source
    # An odd mean is kept to the cent.
    first = items[0]
    meetings.evaluator_scores_set(
        actor=street_user, evaluator=li,
        changes=[(evaluation_of(evaluation_round, "甲"), item, item.max_score) for item in items]
        + [(evaluation_of(evaluation_round, "乙"), first, D("0.01"))],
    )  # fmt: skip
    stored = EvaluationScore.objects.get(
        evaluation__member__name="乙", source="public", item=first
    ).score
    assert first.max_score == 10 and stored == D("5.01")  # 5.005, half up
    assert services.round_outcome_preview(evaluation_round).ready
    shown = meetings.public_by_evaluator(evaluation_round)[evaluation_of(evaluation_round, "甲").pk]
    assert [(entry.evaluator.name, entry.total, entry.complete) for entry in shown] == [
        ("张三", D(100), True), ("李四", D(100), True)
    ]  # fmt: skip
    # The single-entry path is closed for this round, in the service and on the grid.
    with pytest.raises(ValidationError, match="按评价人录入"):
        score(evaluation_round, street_user, "丙", 50, sources=("public",))
    # Removing an evaluator: the means are the other's; the last one: per sheet again.
    meetings.evaluator_remove(actor=district_user, evaluator=li)
    assert rows["乙"].evaluation.scores.get(source="public", item=first).score == first.max_score
    meetings.evaluator_remove(actor=district_user, evaluator=zhang)
    assert not EvaluationScore.objects.filter(source="public").exists()
    score(evaluation_round, street_user, "丙", 50, sources=("public",))


def test_outside_evaluators_refuse_bad_input_in_chinese(
    evaluation_round, district_user, street_user, other_street_user
):
    with pytest.raises(ValidationError) as refused:
        meetings.evaluator_add(
            actor=district_user, evaluation_round=evaluation_round, name="", unit=""
        )
    assert set(refused.value.message_dict) == {"name", "unit"}
    with pytest.raises(PermissionDenied):  # the street enters scores, the district lists
        meetings.evaluator_add(
            actor=street_user, evaluation_round=evaluation_round, name="张三", unit="区政协"
        )
    zhang = meetings.evaluator_add(
        actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区政协"
    )
    with pytest.raises(ValidationError, match="已在名单中"):
        meetings.evaluator_add(
            actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区政协"
        )
    item = items_of(evaluation_round)[0]
    evaluation = evaluation_of(evaluation_round, "甲")
    cell = services.grid_cell(evaluation.pk, item.pk)
    with pytest.raises(ValidationError) as refused:
        meetings.evaluator_scores_set(
            actor=street_user, evaluator=zhang, changes=[(evaluation, item, item.max_score + 1)]
        )
    assert f"0 到 {item.max_score}" in refused.value.message_dict[cell][0]
    with pytest.raises(ValidationError) as refused:
        meetings.evaluator_scores_set(
            actor=other_street_user, evaluator=zhang, changes=[(evaluation, item, D(1))]
        )
    assert "甲" in refused.value.message_dict[cell][0]
    assert not zhang.scores.exists()
    # A round whose public sheets were typed one per representative keeps that way.
    other = services.round_create(
        actor=district_user,
        data={"area": evaluation_round.area, "name": "复评", "template": evaluation_round.template},
    )
    score(other, street_user, "甲", 80, sources=("public",))
    with pytest.raises(ValidationError, match="不能再按评价人录入"):
        meetings.evaluator_add(actor=district_user, evaluation_round=other, name="李四", unit="x")


def test_an_evaluators_sheet_page_and_the_round_page_show_the_mean(
    client, evaluation_round, district_user, street_user
):
    zhang = meetings.evaluator_add(
        actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区人大常委会"
    )
    items = items_of(evaluation_round)
    evaluation = evaluation_of(evaluation_round, "乙")
    client.force_login(street_user)
    url = reverse("assessment:evaluator_scores", args=[evaluation_round.pk, zhang.pk])
    page = client.get(url)
    assert "张三（区人大常委会）" in page.content.decode()
    posted = {
        f"{services.grid_cell(evaluation.pk, item.pk)}": str(item.max_score) for item in items
    }
    response = client.post(url, posted)
    assert response.status_code == 302
    assert evaluation.scores.filter(source="public").count() == len(items)
    html = client.get(reverse("assessment:round", args=[evaluation_round.pk])).content.decode()
    assert 'id="outside-evaluators"' in html and "平均自 张三 100" in html
    detail = reverse("assessment:evaluation", args=[evaluation_round.pk, evaluation.pk])
    html = client.get(detail).content.decode()
    assert 'id="save-public"' not in html and 'id="outside-scores"' in html
    grid = client.get(
        reverse("assessment:round_scores", args=[evaluation_round.pk]) + "?source=public"
    )
    assert grid.context["form"].fields == {}  # typed per evaluator, not here
    assert 'id="public-by-evaluator"' in grid.content.decode() and url in grid.content.decode()


# -- The joint meeting ------------------------------------------------------------------------


def test_a_joint_meeting_is_recorded_shown_and_audited(
    client, evaluation_round, district_user, street_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    data = {"held_on": datetime.date(2026, 11, 18), "bodies": ["npc", "cppcc", "united_front"],
            "other_bodies": "区工商联", "minutes": "会议听取了述职。",
            "attendees": "张三 区人大常委会\n李四，区政协\n\n王五、区委统战部"}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        meetings.joint_meeting_set(
            actor=district_user, evaluation_round=evaluation_round,
            data={**data, "attendees": "张三 区人大常委会\n赵六"},
        )  # fmt: skip
    assert refused.value.message_dict["attendees"] == [
        "第 2 行：请先写姓名，再用空格或逗号隔开写单位（张三 区人大常委会）。"
    ]
    with pytest.raises(ValidationError) as refused:
        meetings.joint_meeting_set(
            actor=district_user, evaluation_round=evaluation_round, data=data,
            upload=SimpleUploadedFile("纪要.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50, "image/png"),
        )  # fmt: skip
    assert refused.value.message_dict["minutes_file"] == ["纪要.png 不是 PDF 文件。"]
    with pytest.raises(PermissionDenied):
        meetings.joint_meeting_set(actor=street_user, evaluation_round=evaluation_round, data=data)
    assert not JointMeeting.objects.exists()
    meeting = meetings.joint_meeting_set(
        actor=district_user, evaluation_round=evaluation_round, data=data,
        upload=SimpleUploadedFile("纪要.pdf", PDF, "application/pdf"),
    )  # fmt: skip
    assert meeting.attendees == [
        {"name": "张三", "unit": "区人大常委会"}, {"name": "李四", "unit": "区政协"},
        {"name": "王五", "unit": "区委统战部"},
    ]  # fmt: skip
    assert meeting.body_labels() == ["人大", "政协", "统战部", "区工商联"]
    event = AuditEvent.objects.filter(object_type="assessment.evaluationround").latest("id")
    assert event.detail["joint_meeting"] == "2026-11-18" and event.detail["file"] == "纪要.pdf"
    client.force_login(street_user)
    html = client.get(reverse("assessment:round", args=[evaluation_round.pk])).content.decode()
    assert "人大、政协、统战部、区工商联" in html and "王五" in html
    assert 'id="edit-meeting"' not in html  # the street reads it
    pdf = client.get(reverse("assessment:round_meeting_file", args=[evaluation_round.pk]))
    assert b"".join(pdf.streaming_content) == PDF
    client.force_login(district_user)
    url = reverse("assessment:round_meeting", args=[evaluation_round.pk])
    page = client.get(url)
    assert "王五 区委统战部" in page.content.decode()
    client.post(
        url,
        {"held_on": "2026-11-19", "bodies": ["npc"], "minutes": "改", "attendees": "张三 区人大"},
    )
    meeting.refresh_from_db()
    assert meeting.held_on == datetime.date(2026, 11, 19) and meeting.minutes_name == "纪要.pdf"


def test_the_meeting_and_evaluators_are_fixed_once_the_round_is_confirmed(
    evaluation_round, district_user
):
    score_everyone(evaluation_round, district_user)
    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation_of(evaluation_round, "戊"), data=WARNING
    )
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    evaluation_round.refresh_from_db()
    with pytest.raises(ValidationError, match="已确认"):
        meetings.evaluator_add(
            actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区政协"
        )
    with pytest.raises(ValidationError, match="已确认"):
        meetings.joint_meeting_set(
            actor=district_user, evaluation_round=evaluation_round,
            data={"held_on": timezone.localdate(), "bodies": ["npc"], "minutes": "x",
                  "attendees": "张三 区政协"},
        )  # fmt: skip


# -- Recommendation eligibility withdrawn (取消推荐资格) ----------------------------------------


def test_confirmation_cancels_the_arrangements_and_reopening_restores_them(
    evaluation_round, district_user
):
    wu = Member.objects.get(name="戊")
    seat = member_services.arrangement_add(
        actor=district_user, member=wu,
        data={"body": "cppcc", "level": "district", "post": "委员", "session": "第十七届"},
    )  # fmt: skip
    earlier = member_services.arrangement_add(
        actor=district_user, member=wu,
        data={"body": "npc", "level": "street", "post": "代表", "state": "ended"},
    )  # fmt: skip
    kept = member_services.arrangement_add(  # 乙 is not flagged: untouched
        actor=district_user, member=Member.objects.get(name="乙"),
        data={"body": "cppcc", "level": "district", "post": "委员"},
    )  # fmt: skip
    score_everyone(evaluation_round, district_user)
    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation_of(evaluation_round, "戊"), data=WARNING
    )
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    seat.refresh_from_db(), earlier.refresh_from_db(), kept.refresh_from_db()
    assert seat.state == PoliticalArrangement.State.CANCELLED
    assert seat.ended_on == timezone.localdate() and "2026年综合评价" in seat.end_reason
    assert "末位淘汰" in seat.end_reason
    assert earlier.state == "ended" and kept.state == "in_office"
    line = MemberChange.objects.filter(member=wu).latest("id")
    assert line.changes[0]["field"] == "arrangements" and "取消" in line.changes[0]["new"]

    evaluation_round.refresh_from_db()
    services.round_reopen(actor=district_user, evaluation_round=evaluation_round)
    seat.refresh_from_db()
    assert seat.state == "in_office" and seat.ended_on is None and seat.end_reason == ""
    assert "重新打开" in MemberChange.objects.filter(member=wu).latest("id").source
    earlier.refresh_from_db()
    assert earlier.state == "ended"
    assert not evaluation_round.evaluations.get(member=wu).cancelled_arrangements.exists()


def test_reopening_leaves_an_arrangement_changed_since_alone(evaluation_round, district_user):
    wu = Member.objects.get(name="戊")
    seat = member_services.arrangement_add(
        actor=district_user, member=wu, data={"body": "npc", "level": "district", "post": "代表"}
    )
    score_everyone(evaluation_round, district_user)
    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation_of(evaluation_round, "戊"), data=WARNING
    )
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    seat.refresh_from_db()
    member_services.arrangement_update(
        actor=district_user, arrangement=seat,
        data={"state": "ended", "end_reason": "", "ended_on": timezone.localdate()},
    )  # fmt: skip
    evaluation_round.refresh_from_db()
    services.round_reopen(actor=district_user, evaluation_round=evaluation_round)
    seat.refresh_from_db()
    assert seat.state == "ended"
    assert Member.objects.get(name="戊").is_representative


def test_the_evaluators_page_offers_the_form_only_when_an_evaluator_can_be_added(
    client, evaluation_round, district_user, street_user
):
    client.force_login(district_user)
    url = reverse("assessment:round_evaluators", args=[evaluation_round.pk])
    assert 'id="evaluator-form"' in client.get(url).content.decode()
    # Public sheets typed one per representative: the round keeps that way (`evaluator_add`).
    score(evaluation_round, street_user, "甲", 80, sources=("public",))
    page = client.get(url).content.decode()
    assert 'id="evaluator-form"' not in page
    assert 'id="evaluator-refusal"' in page and "不能再按评价人录入" in page
    # A round giving the public assessment no weight has no outside evaluators either.
    weightless = services.round_create(
        actor=district_user,
        data={"area": evaluation_round.area, "name": "复评", "template": evaluation_round.template,
              "superior_weight": 80, "self_weight": 20, "public_weight": 0},
    )  # fmt: skip
    page = client.get(reverse("assessment:round_evaluators", args=[weightless.pk])).content.decode()
    assert 'id="evaluator-form"' not in page and "社会评价的权重为 0" in page
