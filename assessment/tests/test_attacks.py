"""What an attacker (or an unlucky moment) tries around an evaluation round: a joint meeting
or a talk dated on a day still to come, an outside evaluator listed twice by characters that
show nothing, an attendee of no visible name, minutes that only call themselves a PDF, and
another district's minutes or evaluator reached by a crafted id; an admission round crafted
with another district's, a decided or a repeated nominee, two admission rounds created at once
over one nominee, and a decision by the wrong hands or made twice."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from assessment import meetings, services
from assessment.models import Admission, EvaluationRound, JointMeeting, OutsideEvaluator, TalkRecord
from members import services as member_services
from members.models import Member, Nomination, PoliticalArrangement, RepresentativeChange
from members.tests.factories import MemberFactory
from tongzhan.models import AuditEvent
from tongzhan.tests.races import race_or_skip, refused_or_done

from .test_admission import admission_round, admission_template, score_all
from .test_round_meetings import PDF, WARNING, evaluation_of, evaluation_round, score_everyone

__all__ = ["admission_template", "evaluation_round"]  # the fixtures, used by name

pytestmark = pytest.mark.django_db

INVISIBLE = "\u200b\u200d\ufeff"
TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
MEETING = {"held_on": timezone.localdate(), "bodies": ["npc", "cppcc"], "minutes": "听取述职。",
           "attendees": "张三 区人大常委会"}  # fmt: skip


def test_a_meeting_or_a_talk_on_a_day_still_to_come_is_refused(evaluation_round, district_user):
    with pytest.raises(ValidationError) as refused:
        meetings.joint_meeting_set(
            actor=district_user, evaluation_round=evaluation_round,
            data={**MEETING, "held_on": TOMORROW},
        )  # fmt: skip
    assert "held_on" in refused.value.message_dict
    assert not JointMeeting.objects.exists()
    score_everyone(evaluation_round, district_user)
    flagged = evaluation_of(evaluation_round, "戊")
    with pytest.raises(ValidationError) as refused:
        meetings.talk_record_set(
            actor=district_user, evaluation=flagged, data={**WARNING, "held_on": TOMORROW}
        )
    assert "held_on" in refused.value.message_dict
    assert not TalkRecord.objects.exists()
    # Today is a day already come.
    meetings.joint_meeting_set(actor=district_user, evaluation_round=evaluation_round, data=MEETING)
    meetings.talk_record_set(
        actor=district_user, evaluation=flagged, data={**WARNING, "held_on": timezone.localdate()}
    )


def test_an_evaluator_listed_again_with_characters_that_show_nothing_is_refused(
    evaluation_round, district_user
):
    meetings.evaluator_add(
        actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区人大常委会"
    )
    with pytest.raises(ValidationError, match="已在名单中"):
        meetings.evaluator_add(
            actor=district_user, evaluation_round=evaluation_round,
            name="张\u200b三", unit=f"区人大常委会{INVISIBLE}",
        )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        meetings.evaluator_add(
            actor=district_user, evaluation_round=evaluation_round, name=INVISIBLE, unit="区政协"
        )
    assert "name" in refused.value.message_dict
    assert OutsideEvaluator.objects.count() == 1


def test_an_attendee_or_a_talk_of_characters_that_show_nothing_is_refused(
    evaluation_round, district_user
):
    with pytest.raises(ValidationError) as refused:
        meetings.joint_meeting_set(
            actor=district_user, evaluation_round=evaluation_round,
            data={**MEETING, "attendees": f"{INVISIBLE} 区人大常委会"},
        )  # fmt: skip
    assert "attendees" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        meetings.joint_meeting_set(
            actor=district_user, evaluation_round=evaluation_round,
            data={**MEETING, "minutes": INVISIBLE},
        )  # fmt: skip
    assert "minutes" in refused.value.message_dict
    assert not JointMeeting.objects.exists()
    score_everyone(evaluation_round, district_user)
    flagged = evaluation_of(evaluation_round, "戊")
    with pytest.raises(ValidationError) as refused:
        meetings.talk_record_set(
            actor=district_user, evaluation=flagged,
            data={**WARNING, "held_by": INVISIBLE, "content": INVISIBLE},
        )  # fmt: skip
    assert {"held_by", "content"} <= set(refused.value.message_dict)
    with pytest.raises(ValidationError) as refused:
        meetings.talk_record_set(
            actor=district_user, evaluation=flagged, data={"kind": "none", "reason": INVISIBLE}
        )
    assert "reason" in refused.value.message_dict
    assert not TalkRecord.objects.exists()


def test_minutes_are_checked_by_their_bytes_and_kept_from_another_district(
    client, evaluation_round, district_user, other_district_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    renamed = SimpleUploadedFile("纪要.pdf", b"MZ\x90\x00" + b"0" * 100, "application/pdf")
    with pytest.raises(ValidationError) as refused:
        meetings.joint_meeting_set(
            actor=district_user, evaluation_round=evaluation_round, data=MEETING, upload=renamed
        )
    assert "minutes_file" in refused.value.message_dict
    meetings.joint_meeting_set(
        actor=district_user, evaluation_round=evaluation_round, data=MEETING,
        upload=SimpleUploadedFile("纪要.pdf", PDF, "application/pdf"),
    )  # fmt: skip
    evaluator = meetings.evaluator_add(
        actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区政协"
    )
    client.force_login(other_district_user)
    for url in (
        reverse("assessment:round_meeting_file", args=[evaluation_round.pk]),
        reverse("assessment:evaluator_scores", args=[evaluation_round.pk, evaluator.pk]),
    ):
        assert client.get(url).status_code == 404, url
    url = reverse("assessment:evaluator_remove", args=[evaluation_round.pk, evaluator.pk])
    assert client.post(url, {"confirmed": "1"}).status_code == 404
    assert OutsideEvaluator.objects.filter(pk=evaluator.pk).exists()


def test_a_corrected_talk_or_meeting_keeps_what_it_replaced_in_the_audit_log(
    evaluation_round, district_user
):
    score_everyone(evaluation_round, district_user)
    flagged = evaluation_of(evaluation_round, "戊")
    meetings.talk_record_set(actor=district_user, evaluation=flagged, data=WARNING)
    meetings.talk_record_set(
        actor=district_user, evaluation=flagged, data={**WARNING, "content": "改写后的内容"}
    )
    corrected = AuditEvent.objects.filter(
        object_type="members.member", action=AuditEvent.Action.UPDATE, detail__talk="warning"
    ).get()
    assert corrected.detail["before"] == {"content": WARNING["content"]}
    # Saved again unchanged: nothing to keep, nothing written.
    meetings.talk_record_set(
        actor=district_user, evaluation=flagged, data={**WARNING, "content": "改写后的内容"}
    )
    assert AuditEvent.objects.filter(detail__talk="warning").count() == 2
    meetings.joint_meeting_set(actor=district_user, evaluation_round=evaluation_round, data=MEETING)
    meetings.joint_meeting_set(
        actor=district_user, evaluation_round=evaluation_round,
        data={**MEETING, "minutes": "更正后的纪要。"},
    )  # fmt: skip
    corrected = AuditEvent.objects.filter(
        object_type="assessment.evaluationround", detail__has_key="joint_meeting",
        action=AuditEvent.Action.UPDATE,
    ).get()  # fmt: skip
    assert corrected.detail["before"] == {"minutes": MEETING["minutes"]}


def test_a_seat_whose_term_has_not_begun_does_not_block_the_confirmation(
    evaluation_round, district_user
):
    # 戊, flagged, was elected to a seat whose term begins next month: the confirmation
    # withdraws it before it begins, and reopening gives it back.
    seat = member_services.arrangement_add(
        actor=district_user, member=Member.objects.get(name="戊"),
        data={"body": "cppcc", "level": "district", "post": "委员", "session": "第十八届",
              "term_from": TOMORROW + datetime.timedelta(days=30)},
    )  # fmt: skip
    score_everyone(evaluation_round, district_user)
    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation_of(evaluation_round, "戊"), data=WARNING
    )
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    seat.refresh_from_db()
    assert seat.state == PoliticalArrangement.State.CANCELLED
    assert seat.ended_on == timezone.localdate()
    evaluation_round.refresh_from_db()
    services.round_reopen(actor=district_user, evaluation_round=evaluation_round)
    seat.refresh_from_db()
    assert seat.state == PoliticalArrangement.State.IN_OFFICE and seat.ended_on is None


# -- Admission rounds and the district's decision (issue 18) ---------------------------------------


def _nominee(areas, community_user):
    member = MemberFactory(name="林入选", community=areas["140106001001"])
    member_services.nomination_create(actor=community_user, member=member, reason="履职积极")
    return member


ROUND_FORM = {"name": "入选评价", "superior_weight": 50, "self_weight": 20, "public_weight": 30,
              "cut_share": 10}  # fmt: skip


def test_a_crafted_round_takes_no_other_districts_nor_decided_nor_repeated_nominee(
    client, areas, community_user, district_user, other_district_user, admission_template
):
    template, member = admission_template, _nominee(areas, community_user)
    theirs = MemberFactory(name="外区人", community=areas["140105001001"])
    member_services.nomination_create(actor=other_district_user, member=theirs, reason="x")
    decided = MemberFactory(name="已决定", community=areas["140106001001"])
    closed = member_services.nomination_create(actor=district_user, member=decided, reason="x")
    Nomination.objects.filter(pk=closed.pk).update(state="not_admitted")
    client.force_login(district_user)
    for crafted in (theirs.nominations.get().pk, closed.pk):
        client.post(reverse("assessment:rounds"), {**ROUND_FORM, "area": areas["140106"].pk,
                    "template": template.pk, "nominees": [crafted]})  # fmt: skip
    assert not EvaluationRound.objects.exists()
    for crafted in (theirs.nominations.get(), closed):
        with pytest.raises(ValidationError):
            services.round_create(actor=district_user, data={
                "area": areas["140106"], "name": "入选", "template": template,
                "nominees": [crafted]})  # fmt: skip
    # The same nominee named twice is evaluated once (it was a database error).
    mine = member.nominations.get()
    made = services.round_create(actor=district_user, data={
        "area": areas["140106"], "name": "入选", "template": template,
        "nominees": [mine, mine.pk]})  # fmt: skip
    assert made.evaluations.get().member == member
    assert Admission.objects.get().nomination == mine


def test_another_districts_or_a_lower_role_or_a_second_decision_changes_nothing(
    client, areas, community_user, street_user, district_user, other_district_user,
    admission_template,
):  # fmt: skip
    template, member = admission_template, _nominee(areas, community_user)
    evaluation_round = admission_round(district_user, areas["140106"], template, [member])
    score_all(evaluation_round, district_user)
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    admission = Admission.objects.get()
    url = reverse("assessment:admission_decide", args=[evaluation_round.pk, admission.pk])
    decision = {"decision": "admit", "decided_on": "2026-06-01", "confirmed": "1"}
    for user, status in ((other_district_user, 404), (street_user, 403), (community_user, 403)):
        client.force_login(user)
        assert client.post(url, decision).status_code == status
    assert client.get(url).status_code == 405
    admission.refresh_from_db()
    assert admission.decision == "" and not RepresentativeChange.objects.exists()
    # An admission reached through a round it is not of is not found.
    client.force_login(district_user)
    elsewhere = reverse(
        "assessment:admission_decide", args=[evaluation_round.pk + 999, admission.pk]
    )
    assert client.post(elsewhere, decision).status_code == 404
    client.post(url, decision)
    again = client.post(url, {**decision, "decision": "reject"}, follow=True)
    assert "已记录" in again.content.decode()
    admission.refresh_from_db()
    member.refresh_from_db()
    assert admission.decision == "admit" and member.is_representative
    assert RepresentativeChange.objects.count() == 1


@pytest.fixture
def race():
    return race_or_skip()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_admission_rounds_created_at_once_take_a_nominee_once(
    race, monkeypatch, areas, community_user, district_user, admission_template
):
    nomination = _nominee(areas, community_user).nominations.get()
    # The first round pauses once it has taken her, its transaction still open.
    race.pause_after(monkeypatch, services, "_admission_evaluations")

    def create(name, area):
        return lambda: services.round_create(
            actor=district_user,
            data={"area": area, "name": name, "template": admission_template,
                  "nominees": [nomination]},
        )  # fmt: skip

    outcome = race.run(create("第一轮", areas["140106"]), create("第二轮", areas["140106001"]))
    refused_or_done(outcome)
    assert isinstance(outcome["second"], ValidationError)
    assert "林入选" in outcome["second"].messages[0] and "第一轮" in outcome["second"].messages[0]
    assert Admission.objects.get().evaluation.round.name == "第一轮"
    assert list(EvaluationRound.objects.values_list("name", flat=True)) == ["第一轮"]
