"""Admission and exit of representatives (凡进必评, 有进有出; issue 18): nobody becomes one by a
checkbox or an import; a nominee is evaluated in an admission round and admitted by the
district's decision; every set and cleared flag is a row of the register."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lxml import html
from openpyxl import load_workbook

from assessment import services
from assessment.models import Admission, EvaluationItem, EvaluationTemplate
from members import services as member_services
from members.forms import MemberForm
from members.imports import roster_import
from members.models import Member, MemberChange, Nomination, RepresentativeChange
from members.tests.factories import MemberFactory
from members.tests.test_imports import person, roster
from members.tests.test_transfers import tallies
from tongzhan.models import AuditEvent

from .conftest import talk_with_the_flagged

pytestmark = pytest.mark.django_db

SOURCES = ("superior", "self", "public")
TODAY = timezone.localdate()


@pytest.fixture
def admission_template(admin_user):
    template = services.template_copy(
        actor=admin_user, template=EvaluationTemplate.objects.get(is_example=True), name="入选评价"
    )
    EvaluationTemplate.objects.filter(pk=template.pk).update(kind="admission")
    template.refresh_from_db()
    return template


@pytest.fixture
def nominee(areas, community_user):
    member = MemberFactory(name="林入选", community=areas["140106001001"])
    member_services.nomination_create(actor=community_user, member=member, reason="履职积极")
    return member


def admission_round(actor, area, template, nominees, **data):
    return services.round_create(
        actor=actor,
        data={"area": area, "name": "2026年入选评价", "template": template,
              "nominees": [member.nominations.get(state="pending") for member in nominees],
              **data},
    )  # fmt: skip


def score_all(evaluation_round, actor):
    items = EvaluationItem.objects.filter(
        category__template=evaluation_round.template, is_veto=False
    )
    for evaluation in evaluation_round.evaluations.all():
        for source in SOURCES:
            services.evaluation_score(
                actor=actor, evaluation=evaluation, source=source,
                scores={item: item.max_score for item in items},
            )  # fmt: skip


# -- Nobody is made a representative by hand ------------------------------------------------------


def test_the_member_form_has_no_representative_checkbox():
    assert "is_representative" not in MemberForm.base_fields


def test_the_member_service_refuses_to_write_the_flag(areas, community_user):
    member = MemberFactory(community=areas["140106001001"])
    with pytest.raises(ValidationError) as refused:
        member_services.member_update(
            actor=community_user, member=member, data={"is_representative": True}
        )
    assert "入选评价" in refused.value.messages[0]
    member.refresh_from_db()
    assert not member.is_representative


def test_a_roster_saying_representative_nominates_instead(areas, district_user):
    known = MemberFactory(name="周已是", community=areas["140106001001"], is_representative=True)
    titles = (
        "姓名",
        "性别",
        "民族",
        "公民身份号码",
        "政治面貌",
        "所属社区",
        "统战对象类别",
        "代表人士",
    )
    data = roster(
        (*person("陈新"), "是"),
        (*person("周已是", number=known.id_number), "是"),
        (*person("吴否"), "否"),
        titles=titles,
    )
    preview = roster_import(actor=district_user, data=data, filename="花名册.xlsx", dry_run=True)
    assert preview.nominated == 1 and not Nomination.objects.exists()
    report = roster_import(actor=district_user, data=data, filename="花名册.xlsx")
    assert report.nominated == 1
    new = Member.objects.get(name="陈新")
    assert not new.is_representative
    nomination = new.nominations.get()
    assert nomination.state == "pending" and "花名册.xlsx" in nomination.source
    assert not Member.objects.get(name="吴否").nominations.exists()
    assert not RepresentativeChange.objects.exists()
    # Imported again: she is nominated already, nothing more.
    again = roster_import(actor=district_user, data=data, filename="花名册.xlsx")
    assert again.nominated == 0 and new.nominations.count() == 1


# -- Nominations ---------------------------------------------------------------------------------


def test_staff_nominate_within_their_area_only(areas, community_user, street_user, nominee):
    assert nominee.changes.filter(action=MemberChange.Action.NOMINATION).exists()
    with pytest.raises(ValidationError) as refused:
        member_services.nomination_create(actor=street_user, member=nominee, reason="再提")
    assert "已被提名" in refused.value.messages[0]
    neighbour = MemberFactory(community=areas["140106001002"])
    with pytest.raises(PermissionDenied):
        member_services.nomination_create(actor=community_user, member=neighbour, reason="好")
    member_services.nomination_create(actor=street_user, member=neighbour, reason="好")
    assert list(Nomination.objects.visible_to(community_user)) == [nominee.nominations.get()]


def test_the_service_refuses_a_representative_and_a_nominee_in_words(
    areas, community_user, nominee
):
    sitting = MemberFactory(name="周已是", community=areas["140106001001"], is_representative=True)
    with pytest.raises(ValidationError) as refused:
        member_services.nomination_create(actor=community_user, member=sitting, reason="再提")
    assert refused.value.messages == ["周已是已是代表人士。"]
    with pytest.raises(ValidationError) as refused:
        member_services.nomination_create(actor=community_user, member=nominee, reason="再提")
    assert refused.value.messages == ["林入选已被提名，正在等待评价和决定。"]


def test_the_nominate_page_of_a_nominee_shows_her_nomination_not_the_form(
    client, areas, community_user, nominee
):
    client.force_login(community_user)
    url = reverse("members:nominate", args=[nominee.pk])
    for response in (client.get(url), client.post(url, {"reason": "再提一次"})):
        page = response.content.decode()
        assert response.status_code == 200
        assert 'id="nominate"' not in page and 'name="reason"' not in page
        assert "已被提名，正在等待评价和决定" in page
        assert 'id="pending-nomination"' in page and "履职积极" in page and "待评价和决定" in page
    assert nominee.nominations.count() == 1
    sitting = MemberFactory(community=areas["140106001001"], is_representative=True)
    page = client.get(reverse("members:nominate", args=[sitting.pk])).content.decode()
    assert 'id="nominate"' not in page and "已是代表人士" in page
    assert 'id="pending-nomination"' not in page
    fresh = MemberFactory(community=areas["140106001001"])
    page = client.get(reverse("members:nominate", args=[fresh.pk])).content.decode()
    assert 'id="nominate"' in page and 'name="reason"' in page


# -- Withdrawing a nomination (撤回) -------------------------------------------------------------


def test_a_pending_nomination_is_withdrawn_with_its_reason(areas, community_user, nominee):
    nomination = nominee.nominations.get()
    with pytest.raises(ValidationError) as refused:
        member_services.nomination_withdraw(
            actor=community_user, nomination=nomination, reason="  "
        )
    assert "reason" in refused.value.error_dict
    member_services.nomination_withdraw(
        actor=community_user, nomination=nomination, reason="本人因工作调动婉拒"
    )
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.WITHDRAWN
    assert nomination.get_state_display() == "已撤回"
    assert (nomination.decided_on, nomination.decision_note) == (TODAY, "本人因工作调动婉拒")
    line = nominee.changes.filter(action=MemberChange.Action.NOMINATION).first()
    assert line.actor == community_user
    assert line.changes == [
        {"field": "nomination", "old": "待评价和决定", "new": "已撤回：本人因工作调动婉拒"}
    ]
    audit = AuditEvent.objects.filter(object_id=str(nominee.pk)).latest("pk")
    assert audit.actor == community_user and audit.detail["step"] == "withdraw"
    # Closed: not withdrawn twice, not offered to a round; she may be proposed again.
    with pytest.raises(ValidationError) as refused:
        member_services.nomination_withdraw(
            actor=community_user, nomination=nomination, reason="再撤"
        )
    assert refused.value.messages == ["只有等待决定的提名可以撤回。"]
    assert not services.nominees_available(areas["140106001"]).exists()
    member_services.nomination_create(actor=community_user, member=nominee, reason="重新提名")
    assert nominee.nominations.pending().count() == 1


def test_who_proposed_her_or_above_withdraws(
    areas, community_user, neighbour_user, street_user, district_user, nominee
):
    nomination = nominee.nominations.get()
    with pytest.raises(PermissionDenied):
        member_services.nomination_withdraw(
            actor=neighbour_user, nomination=nomination, reason="不是本社区的"
        )
    # The district's proposal is not the community's to withdraw; the street withdraws
    # its community's.
    other = MemberFactory(community=areas["140106001001"])
    proposed = member_services.nomination_create(
        actor=district_user, member=other, reason="区里提名"
    )
    assert not member_services.may_withdraw_nomination(community_user, proposed)
    with pytest.raises(PermissionDenied):
        member_services.nomination_withdraw(
            actor=community_user, nomination=proposed, reason="社区撤回"
        )
    member_services.nomination_withdraw(actor=street_user, nomination=nomination, reason="街道撤回")
    member_services.nomination_withdraw(actor=district_user, nomination=proposed, reason="区撤回")
    assert set(Nomination.objects.values_list("state", flat=True)) == {"withdrawn"}


def test_a_nominee_in_a_round_not_finished_is_not_withdrawn(
    areas, community_user, district_user, admission_template, nominee
):
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee]
    )
    nomination = nominee.nominations.get()
    expected = "林入选正在入选评价“柳巷街道 2026年入选评价”中接受评价，该轮尚未结束"
    for step in ("open", "confirmed"):
        with pytest.raises(ValidationError) as refused:
            member_services.nomination_withdraw(
                actor=community_user, nomination=nomination, reason="撤回"
            )
        assert refused.value.messages[0].startswith(expected), step
        if step == "open":
            score_all(evaluation_round, district_user)
            services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.PENDING
    services.admission_decide(
        actor=district_user, admission=Admission.objects.get(), decision="reject",
        decided_on=TODAY,
    )  # fmt: skip
    nomination.refresh_from_db()
    assert member_services.nomination_withdraw_refusal(nomination) == "只有等待决定的提名可以撤回。"


def test_withdraw_through_the_member_page_and_its_confirmation(
    client, areas, community_user, district_user, admission_template, nominee
):
    client.force_login(community_user)
    detail_url = reverse("members:detail", args=[nominee.pk])
    nomination = nominee.nominations.get()
    url = reverse("members:nomination_withdraw", args=[nomination.pk])
    page = client.get(detail_url).content.decode()
    assert f'id="withdraw-nomination" href="{url}"' in page
    assert 'id="nominate-member"' not in page
    shown = client.get(url).content.decode()
    assert "confirm-form" in shown and "撤回提名" in shown and "履职积极" in shown
    assert f"{TODAY:%Y-%m-%d} · 王丽" in shown  # the day proposed, where the office is
    # Confirmed without a reason: the page again, asking for it; nothing done.
    again = client.post(url, {"confirmed": "1", "reason": ""})
    assert again.status_code == 200 and "confirm-form" in again.content.decode()
    nomination.refresh_from_db()
    assert nomination.state == Nomination.State.PENDING
    done = client.post(url, {"confirmed": "1", "reason": "本人婉拒"}, follow=True)
    assert done.redirect_chain[-1][0] == detail_url + "#representative"
    page = done.content.decode()
    assert "已撤回对林入选的提名。" in page and "已撤回" in page and "本人婉拒" in page
    assert 'id="withdraw-nomination"' not in page and 'id="nominate-member"' in page
    # Nominated again and taken into a round: no button, the page says why.
    member_services.nomination_create(actor=community_user, member=nominee, reason="重新提名")
    admission_round(district_user, areas["140106001"], admission_template, [nominee])
    page = client.get(detail_url).content.decode()
    assert 'id="withdraw-nomination"' not in page
    assert "2026年入选评价" in page and 'id="nomination-kept"' in page
    pending = nominee.nominations.pending().get()
    refused = client.get(reverse("members:nomination_withdraw", args=[pending.pk]), follow=True)
    assert "不能撤回提名" in refused.content.decode()
    assert "confirm-form" not in refused.content.decode()


# -- The admission round and the district's decision ---------------------------------------------


def test_an_admission_round_evaluates_the_nominees_not_the_representatives(
    areas, district_user, admission_template, nominee
):
    MemberFactory(community=areas["140106001001"], is_representative=True)
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee]
    )
    assert [e.member for e in evaluation_round.evaluations.all()] == [nominee]
    assert evaluation_round.cut_share == 0
    # In a round until the district decides: not offered to another one.
    assert not services.nominees_available(areas["140106001"]).exists()


def test_a_yearly_round_refuses_nominees(areas, district_user, nominee):
    with pytest.raises(ValidationError):
        admission_round(
            district_user, areas["140106001"], EvaluationTemplate.objects.get(is_example=True),
            [nominee],
        )  # fmt: skip


def test_the_district_admits_a_nominee_who_passed(
    areas, district_user, other_district_user, admission_template, nominee
):
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee]
    )
    admission = Admission.objects.get()
    with pytest.raises(ValidationError):  # not before the round is confirmed
        services.admission_decide(
            actor=district_user, admission=admission, decision="admit", decided_on=TODAY
        )
    score_all(evaluation_round, district_user)
    assert services.round_confirm(actor=district_user, evaluation_round=evaluation_round) == []
    nominee.refresh_from_db()
    assert not nominee.is_representative  # confirming changes no flag
    with pytest.raises(PermissionDenied):  # another district's officer
        services.admission_decide(
            actor=other_district_user, admission=admission, decision="admit", decided_on=TODAY
        )
    services.admission_decide(
        actor=district_user, admission=admission, decision="admit",
        decided_on=datetime.date(2026, 6, 1), note="部务会研究同意",
    )  # fmt: skip
    nominee.refresh_from_db()
    assert nominee.is_representative
    assert nominee.nominations.get().state == "admitted"
    entry = RepresentativeChange.objects.get()
    assert (entry.member, entry.kind, entry.date) == (nominee, "entry", datetime.date(2026, 6, 1))
    assert entry.link == reverse("assessment:round", args=[evaluation_round.pk])
    assert "同意入选" in entry.reason
    flag_change = nominee.changes.filter(changes__0__field="is_representative").get()
    assert flag_change.source == entry.reason
    with pytest.raises(ValidationError):  # decided once
        services.admission_decide(
            actor=district_user, admission=admission, decision="reject", decided_on=TODAY
        )
    with pytest.raises(ValidationError):  # a decided round stays confirmed
        services.round_reopen(actor=district_user, evaluation_round=evaluation_round)


def test_a_vetoed_nominee_cannot_be_admitted_and_is_not_admitted(
    areas, district_user, admission_template, nominee
):
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee]
    )
    score_all(evaluation_round, district_user)
    veto = EvaluationItem.objects.filter(category__template=admission_template, is_veto=True)[0]
    services.veto_mark(
        actor=district_user, evaluation=evaluation_round.evaluations.get(), item=veto, note="失信"
    )
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    admission = Admission.objects.get()
    with pytest.raises(ValidationError) as refused:
        services.admission_decide(
            actor=district_user, admission=admission, decision="admit", decided_on=TODAY
        )
    assert "未通过入选评价" in refused.value.messages[0]
    services.admission_decide(
        actor=district_user, admission=admission, decision="reject", decided_on=TODAY
    )
    nominee.refresh_from_db()
    assert not nominee.is_representative
    assert nominee.nominations.get().state == "not_admitted"
    assert not RepresentativeChange.objects.exists()


# -- The register of entries and exits ----------------------------------------------------------


def test_a_yearly_rounds_removal_and_reopening_are_registered(areas, district_user):
    MemberFactory(name="甲", community=areas["140106001001"], is_representative=True)
    evaluation_round = services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True), "cut_share": 50},
    )  # fmt: skip
    score_all(evaluation_round, district_user)
    talk_with_the_flagged(evaluation_round, district_user)
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    exit_row = RepresentativeChange.objects.get()
    assert (exit_row.member.name, exit_row.kind, exit_row.date) == ("甲", "exit", TODAY)
    assert "末位" in exit_row.reason
    services.round_reopen(actor=district_user, evaluation_round=evaluation_round)
    assert list(RepresentativeChange.objects.order_by("id").values_list("kind", flat=True)) == [
        "exit",
        "entry",
    ]


def test_a_representative_who_leaves_the_registry_leaves_the_representatives(areas, community_user):
    member = MemberFactory(name="乙", community=areas["140106001001"], is_representative=True)
    member_services.member_set_status(
        actor=community_user, member=member, status=Member.Status.DECEASED, date=TODAY,
        reason="病故",
    )  # fmt: skip
    member.refresh_from_db()
    assert not member.is_representative
    exit_row = RepresentativeChange.objects.get()
    assert (exit_row.kind, exit_row.date) == ("exit", TODAY)
    assert "去世" in exit_row.reason and "病故" in exit_row.reason
    # Registered again, she is not a representative again: that takes an admission.
    member_services.member_set_status(
        actor=community_user, member=member, status=Member.Status.ACTIVE, date=TODAY, reason=""
    )
    member.refresh_from_db()
    assert not member.is_representative and RepresentativeChange.objects.count() == 1
    # The counts of representatives moved with her, as a recount finds them.
    kept = tallies()
    call_command("tally_rebuild", stdout=io.StringIO())
    assert kept == tallies()


def test_the_register_page_shows_the_users_area_and_counts_per_year(
    areas, community_user, neighbour_user, district_user
):
    mine = MemberFactory(name="甲", community=areas["140106001001"], is_representative=True)
    other = MemberFactory(name="乙", community=areas["140106001002"])
    member_services.representative_set(
        actor=district_user, member=mine, value=False, date=datetime.date(2026, 3, 1),
        reason="去世",
    )  # fmt: skip
    member_services.representative_set(
        actor=district_user, member=other, value=True, date=datetime.date(2026, 4, 1),
        reason="同意入选",
    )  # fmt: skip
    client = Client()
    client.force_login(community_user)
    page = client.get(reverse("members:representative_register"), {"year": 2026})
    assert [row.member.name for row in page.context["rows"]] == ["甲"]
    assert page.context["years"] == [{"year": 2026, "entries": 0, "exits": 1}]
    client.force_login(district_user)
    page = client.get(reverse("members:representative_register"), {"year": 2026})
    assert page.context["years"] == [{"year": 2026, "entries": 1, "exits": 1}]
    assert "register-exit" in page.content.decode()
    old = client.get(reverse("members:representative_register"), {"year": 2001})
    assert "before-register" in old.content.decode()
    sheet = load_workbook(
        io.BytesIO(
            client.get(reverse("members:representative_register_export"), {"year": 2026}).content
        )
    ).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert [line[1] for line in cells] == ["甲", "乙"] and cells[0][4] == "出"
    # The way there: the evaluations' page, and the member list showing representatives (on
    # a phone, the plain list keeps its first result on the first screen).
    assert "representative-register" in client.get(reverse("assessment:rounds")).text
    members = reverse("members:list")
    assert "representative-register" in client.get(members, {"is_representative": "true"}).text
    assert "representative-register" not in client.get(members).text
    # A year that is not one is told by its field, on the page and from the export alike.
    for name in ("members:representative_register", "members:representative_register_export"):
        refused = client.get(reverse(name), {"year": "99999999999999999999"})
        assert refused.status_code == 200 and "年度：" in refused.content.decode()


# -- The pages -----------------------------------------------------------------------------------


def test_nominate_and_decide_through_the_pages(
    areas, community_user, district_user, admission_template
):
    member = MemberFactory(name="林入选", community=areas["140106001001"])
    client = Client()
    client.force_login(community_user)
    detail = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "nominate-member" in detail
    client.post(reverse("members:nominate", args=[member.pk]), {"reason": "热心公益"})
    assert member.nominations.get().reason == "热心公益"
    register = client.get(reverse("members:representative_register")).text
    assert "提名理由" in register and "热心公益" in register and "重复依据" not in register
    client.force_login(district_user)
    created = client.post(
        reverse("assessment:rounds"),
        {"area": areas["140106001"].pk, "name": "入选评价", "template": admission_template.pk,
         "superior_weight": 50, "self_weight": 20, "public_weight": 30, "cut_share": 10,
         "nominees": [member.nominations.get().pk]},
    )  # fmt: skip
    evaluation_round = member.evaluations.get().round
    assert created.url == reverse("assessment:round", args=[evaluation_round.pk])
    page = client.get(created.url).content.decode()
    # The ranking names them nominees (人选): they are not representatives yet.
    assert '<th scope="col">人选</th>' in page and '<th scope="col">代表人士</th>' not in page
    score_all(evaluation_round, district_user)
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    url = reverse(
        "assessment:admission_decide", args=[evaluation_round.pk, Admission.objects.get().pk]
    )
    decision = {"decision": "admit", "decided_on": "2026-06-01", "note": "同意"}
    shown = client.post(url, decision)
    assert shown.status_code == 200 and "confirm-form" in shown.content.decode()
    member.refresh_from_db()
    assert not member.is_representative  # shown, not done
    client.post(url, {**decision, "confirmed": "1"})
    member.refresh_from_db()
    assert member.is_representative
    # Decided on, the round is not offered for reopening, which would be refused.
    assert not services.may_reopen(district_user, evaluation_round)
    assert client.get(url).status_code == 405


# -- An admission round speaks of nominees and of admission ---------------------------------------


def page_text(response) -> str:
    """What the page itself says (the menu names 代表人士 on every page)."""
    return html.fromstring(response.content).find_class("main")[0].text_content()


def test_an_admission_rounds_missing_scores_speak_of_nominees(
    client, areas, district_user, admission_template, nominee
):
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee]
    )
    client.force_login(district_user)
    for name in ("assessment:round", "assessment:round_confirm"):
        page = client.get(reverse(name, args=[evaluation_round.pk]))
        notice = html.fromstring(page.content).get_element_by_id("missing-scores").text_content()
        assert "1 名人选还缺少评分" in notice and "缺少评分的人选" in notice
        assert "代表人士" not in notice
    with pytest.raises(ValidationError) as refused:
        services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    assert "1 名人选还缺少评分" in refused.value.messages[0]
    assert "代表人士" not in refused.value.messages[0]


def test_an_admission_rounds_confirmation_says_what_it_does_for_nominees(
    client, areas, district_user, admission_template, nominee
):
    other = MemberFactory(name="周人选", community=areas["140106001002"])
    member_services.nomination_create(actor=district_user, member=other, reason="热心公益")
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee, other]
    )
    score_all(evaluation_round, district_user)
    veto = EvaluationItem.objects.filter(category__template=admission_template, is_veto=True)[0]
    services.veto_mark(
        actor=district_user, evaluation=evaluation_round.evaluations.get(member=other),
        item=veto, note="失信",
    )  # fmt: skip
    client.force_login(district_user)
    url = reverse("assessment:round_confirm", args=[evaluation_round.pk])
    text = page_text(client.get(url))
    # Nobody leaves the representatives: the one who failed is not admitted.
    assert "移出" not in text and "淘汰" not in text and "已不是代表人士" not in text
    assert "未通过评价的人选不予入选" in text
    assert "参评人选" in text and "周人选" in text
    confirmed = client.post(url, follow=True)
    said = page_text(confirmed)
    assert "评价结果已确认" in said and "移出代表人士" not in said
    assert "逐一作出决定" in said


def test_a_nominee_nobody_scored_has_not_passed(
    client, areas, district_user, admission_template, nominee
):
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee]
    )
    client.force_login(district_user)
    url = reverse("assessment:round", args=[evaluation_round.pk])

    def result():
        row = html.fromstring(client.get(url).content).get_element_by_id(f"nominee-{nominee.pk}")
        return row.find_class("result")[0].text_content()

    assert result() == "未评分"
    evaluation = evaluation_round.evaluations.get()
    items = EvaluationItem.objects.filter(category__template=admission_template, is_veto=False)
    services.evaluation_score(
        actor=district_user, evaluation=evaluation, source="superior",
        scores={item: item.max_score for item in items},
    )  # fmt: skip
    assert result() == "评分未完成"
    score_all(evaluation_round, district_user)
    assert result() == "通过"
    veto = EvaluationItem.objects.filter(category__template=admission_template, is_veto=True)[0]
    services.veto_mark(actor=district_user, evaluation=evaluation, item=veto, note="失信")
    assert result() == "未通过"


def test_the_decision_has_no_default_and_without_one_the_form_says_so(
    client, areas, district_user, admission_template, nominee
):
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee]
    )
    score_all(evaluation_round, district_user)
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    client.force_login(district_user)
    back = reverse("assessment:round", args=[evaluation_round.pk])
    row = html.fromstring(client.get(back).content).get_element_by_id(f"nominee-{nominee.pk}")
    (choice,) = row.xpath(".//select[@name='decision']")
    options = choice.xpath("./option")
    # Nothing chosen until the officer chooses: the first option is no decision.
    assert options[0].get("value") == "" and choice.get("required") is not None
    assert not [option for option in options if option.get("selected") is not None]
    assert [option.text for option in options[1:]] == ["同意入选", "不予入选"]
    url = reverse(
        "assessment:admission_decide", args=[evaluation_round.pk, Admission.objects.get().pk]
    )
    refused = client.post(url, {"decision": "", "decided_on": "2026-06-01"}, follow=True)
    assert "请选择“同意入选”或“不予入选”" in page_text(refused)
    assert Admission.objects.get().decision == ""


def test_a_nominee_in_a_round_awaiting_the_decision_is_refused_by_another_naming_her(
    areas, district_user, admission_template, nominee
):
    first = admission_round(district_user, areas["140106001"], admission_template, [nominee])
    nomination = nominee.nominations.get()
    for area in (areas["140106"], areas["140106001"]):  # the district's round, the street's
        with pytest.raises(ValidationError) as refused:
            services.round_create(
                actor=district_user,
                data={"area": area, "name": "第二轮入选评价", "template": admission_template,
                      "nominees": [nomination]},
            )  # fmt: skip
        (message,) = refused.value.message_dict["nominees"]
        assert "林入选" in message and str(first) in message
    # Confirmed but not decided on, she is still that round's.
    score_all(first, district_user)
    services.round_confirm(actor=district_user, evaluation_round=first)
    with pytest.raises(ValidationError, match="林入选"):
        admission_round(district_user, areas["140106001"], admission_template, [nominee])
    assert Admission.objects.count() == 1


def test_a_nominee_who_moved_out_of_the_users_area_is_named_masked(
    client, areas, district_user, admission_template, nominee
):
    other = MemberFactory(name="周人选", community=areas["140106001002"])
    member_services.nomination_create(actor=district_user, member=other, reason="热心公益")
    evaluation_round = admission_round(
        district_user, areas["140106001"], admission_template, [nominee, other]
    )
    score_all(evaluation_round, district_user)
    # She moves to another district: out of the round's area, and of its district's staff's.
    Member.objects.filter(pk=nominee.pk).update(community=areas["140105001001"])
    client.force_login(district_user)
    page = client.get(reverse("assessment:round", args=[evaluation_round.pk]))
    text, tree = page_text(page), html.fromstring(page.content)
    assert "林入选" not in text and "坞城社区" not in text
    row = tree.get_element_by_id(f"nominee-{nominee.pk}")
    assert "林**" in row.text_content() and not row.xpath(".//a") and not row.xpath(".//form")
    assert "周人选" in text  # in her area, named in full and linked
    assert tree.get_element_by_id(f"nominee-{other.pk}").xpath(".//a")
    # The confirmation says who left the round, named as she may be read.
    confirm = page_text(client.get(reverse("assessment:round_confirm", args=[evaluation_round.pk])))
    assert "林**" in confirm and "林入选" not in confirm and "坞城社区" not in confirm
