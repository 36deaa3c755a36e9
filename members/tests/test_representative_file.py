"""The representative's file (党外代表人士档案, issue 18): political arrangements and duty
records, written through the services with history and audit, shown and changed within
scope on the member page, found by the member list's filter, printed on the registration
form, carried by the roster's export and import, and moved by a merge."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from members import services
from members.exports import roster_queryset, write_roster
from members.imports import roster_import
from members.models import (
    Category,
    DutyRecord,
    Ethnicity,
    Member,
    MemberChange,
    PoliticalArrangement,
    PoliticalStatus,
)
from members.tests.factories import MemberFactory
from members.tests.test_imports import roster
from members.tests.test_printing import PAGES_EACH, pdf_pages, pdf_text
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

A = PoliticalArrangement
CPPCC_DISTRICT = {"body": A.Body.CPPCC, "level": A.Level.DISTRICT, "post": "委员",
                  "session": "第十七届", "term_from": datetime.date(2021, 12, 1),
                  "term_to": datetime.date(2026, 11, 30)}  # fmt: skip
PROPOSAL = {"kind": DutyRecord.Kind.PROPOSAL, "date": datetime.date(2026, 1, 10),
            "title": "关于加强老旧小区加装电梯的建议", "organisation": "区住建局",
            "outcome": DutyRecord.Outcome.FILED}  # fmt: skip


SEATED = "区政协委员 · 第十七届 · 2021-12-01至2026-11-30 · 在任"


def arrange(actor, member, **data):
    return services.arrangement_add(actor=actor, member=member, data={**CPPCC_DISTRICT, **data})


def record(actor, member, **data):
    return services.duty_add(actor=actor, member=member, data={**PROPOSAL, **data})


def duties_section(page: str) -> str:
    start = page.index('id="duties"')
    return page[start : page.index("</section>", start)]


def history_line(member, field) -> MemberChange:
    return member.changes.filter(changes__0__field=field).order_by("-id").first()


# -- Political arrangements: the services --------------------------------------------------------


def test_an_arrangement_added_enters_the_history_and_the_audit(community_user, member):
    arrangement = arrange(community_user, member)
    assert arrangement.text == "区政协委员" and arrangement.in_office
    line = history_line(member, "arrangements")
    assert line.actor == community_user and line.action == MemberChange.Action.UPDATE
    assert line.changes == [{"field": "arrangements", "old": "", "new": SEATED}]
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_id=str(member.pk),
                                   detail__arrangement=arrangement.pk)  # fmt: skip
    assert event.actor == community_user and "post" in event.detail["fields"]


def test_a_term_ends_or_is_cancelled_with_its_day_and_reason_and_stays_in_the_file(
    community_user, member
):
    arrangement = arrange(community_user, member, term_to=datetime.date(2025, 12, 31))
    ended = services.arrangement_end(
        actor=community_user, arrangement=arrangement, state=A.State.ENDED, ended_on=None
    )
    # A term that ran out ends on its last day unless told otherwise.
    assert (ended.state, ended.ended_on) == (A.State.ENDED, datetime.date(2025, 12, 31))
    line = history_line(member, "arrangements").changes[0]
    assert line["old"].endswith("在任") and line["new"].endswith("届满 2025-12-31")
    with pytest.raises(ValidationError, match="已终止"):
        services.arrangement_end(actor=community_user, arrangement=ended,
                                 state=A.State.CANCELLED, ended_on=datetime.date(2026, 1, 1),
                                 reason="违纪")  # fmt: skip

    seat = arrange(community_user, member, body=A.Body.NPC, post="代表")
    with pytest.raises(ValidationError) as refused:
        services.arrangement_end(actor=community_user, arrangement=seat,
                                 state=A.State.CANCELLED, ended_on=None)  # fmt: skip
    assert {"ended_on", "end_reason"} <= set(refused.value.error_dict)
    cancelled = services.arrangement_end(
        actor=community_user, arrangement=seat, state=A.State.CANCELLED,
        ended_on=datetime.date(2026, 3, 1), reason="本人辞去代表职务",
    )  # fmt: skip
    assert cancelled.end_reason == "本人辞去代表职务"
    assert (
        history_line(member, "arrangements")
        .changes[0]["new"]
        .endswith("取消 2026-03-01：本人辞去代表职务")
    )
    assert member.arrangements.count() == 2 and not member.arrangements.in_office().exists()


def test_the_model_rules_hold_in_the_database_too(community_user, member):
    with pytest.raises(ValidationError) as refused:
        arrange(community_user, member, term_from=datetime.date(2026, 1, 1),
                term_to=datetime.date(2025, 1, 1))  # fmt: skip
    assert "term_to" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        arrange(community_user, member, body=A.Body.ASSOCIATION, post="理事")
    assert "organisation" in refused.value.error_dict
    # 人大, 政协 and 工商联 name themselves: a name left in the form is not another seat.
    arrangement = arrange(community_user, member, organisation="迎泽区政协")
    assert arrangement.organisation == "" and arrangement.text == "区政协委员"
    # A cancellation without a reason is refused by the database as well as by the form.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        A.objects.filter(pk=arrangement.pk).update(state="cancelled", ended_on="2026-01-01")


def test_a_seat_is_held_once_in_office_and_again_after_its_term(community_user, member):
    first = arrange(community_user, member)
    with pytest.raises(ValidationError, match="已在任此职务"):
        arrange(community_user, member)
    services.arrangement_end(
        actor=community_user, arrangement=first, state=A.State.ENDED, ended_on=None
    )
    arrange(community_user, member, session="第十八届", term_from=datetime.date(2026, 12, 1),
            term_to=None)  # fmt: skip
    assert member.arrangements.in_office().get().session == "第十八届"


def test_only_who_may_change_the_member_records_the_file(
    community_user, neighbour_user, street_user, member
):
    for actor in (street_user, neighbour_user):
        with pytest.raises(PermissionDenied):
            arrange(actor, member)
        with pytest.raises(PermissionDenied):
            record(actor, member)
    arrangement, duty = arrange(community_user, member), record(community_user, member)
    for write in (
        lambda: services.arrangement_update(actor=street_user, arrangement=arrangement,
                                            data={"post": "常委"}),
        lambda: services.arrangement_remove(actor=neighbour_user, arrangement=arrangement),
        lambda: services.duty_update(actor=street_user, duty=duty, data={"title": "改"}),
        lambda: services.duty_remove(actor=neighbour_user, duty=duty),
    ):  # fmt: skip
        with pytest.raises(PermissionDenied):
            write()
    assert A.objects.get().post == "委员" and DutyRecord.objects.get().title == PROPOSAL["title"]


def test_a_record_is_not_moved_to_another_members_file_by_its_data(
    community_user, member, neighbour_member
):
    arrangement = arrange(community_user, member)
    for write in (
        lambda: services.arrangement_add(actor=community_user, member=member,
                                         data={**CPPCC_DISTRICT, "member": neighbour_member}),
        lambda: services.arrangement_update(actor=community_user, arrangement=arrangement,
                                            data={"member": neighbour_member}),
        lambda: services.duty_add(actor=community_user, member=member,
                                  data={**PROPOSAL, "member": neighbour_member}),
    ):  # fmt: skip
        with pytest.raises(ValueError, match="member"):
            write()
    assert set(A.objects.values_list("member", flat=True)) == {member.pk}


def test_an_arrangement_with_duty_records_is_ended_not_removed(community_user, member):
    arrangement = arrange(community_user, member)
    duty = record(community_user, member, arrangement=arrangement)
    with pytest.raises(ValidationError, match="履职记录"):
        services.arrangement_remove(actor=community_user, arrangement=arrangement)
    services.duty_remove(actor=community_user, duty=duty)
    services.arrangement_remove(actor=community_user, arrangement=arrangement)
    assert not A.objects.exists() and not DutyRecord.objects.exists()
    assert history_line(member, "arrangements").changes[0]["old"].startswith("区政协委员")
    assert history_line(member, "duties").changes[0]["old"].startswith("2026-01-10 · 提案")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).count() == 2


# -- Duty records: the services ------------------------------------------------------------------


def test_a_duty_record_takes_the_outcome_and_amount_its_kind_has(community_user, member):
    duty = record(community_user, member)
    assert history_line(member, "duties").changes[0]["new"] == (
        "2026-01-10 · 提案（建议） · 关于加强老旧小区加装电梯的建议 · 已立案"
    )
    with pytest.raises(ValidationError) as refused:
        record(community_user, member, outcome=DutyRecord.Outcome.ATTENDED)
    assert "outcome" in refused.value.error_dict
    # A kind without outcomes or amounts keeps none, whatever a form sent.
    research = record(community_user, member, kind=DutyRecord.Kind.RESEARCH,
                      outcome=DutyRecord.Outcome.FILED, amount=Decimal(5))  # fmt: skip
    assert (research.outcome, research.amount) == ("", None)
    donation = record(community_user, member, kind=DutyRecord.Kind.DONATION, outcome="",
                      title="向社区捐赠防汛物资", amount=Decimal("20000"))  # fmt: skip
    assert history_line(member, "duties").changes[0]["new"].endswith("20000 元")
    with pytest.raises(ValidationError) as refused:
        services.duty_update(actor=community_user, duty=donation, data={"amount": Decimal(-1)})
    assert "amount" in refused.value.error_dict
    lines = member.changes.count()
    services.duty_update(actor=community_user, duty=duty, data={"title": duty.title})
    assert member.changes.count() == lines  # nothing changed, nothing written


def test_a_duty_record_is_of_the_past_and_of_the_members_own_arrangement(
    community_user, member, areas
):
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        record(community_user, member, date=tomorrow)
    assert "date" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        record(community_user, member, kind=DutyRecord.Kind.WORK, outcome="",
               date=datetime.date(2020, 1, 1), date_to=datetime.date(2019, 1, 1))  # fmt: skip
    assert "date_to" in refused.value.error_dict
    other = MemberFactory(community=areas["140106001001"])
    elsewhere = arrange(community_user, other)
    with pytest.raises(ValidationError) as refused:
        record(community_user, member, arrangement=elsewhere)
    assert "arrangement" in refused.value.error_dict


def test_every_kind_and_outcome_pair_is_allowed_by_one_rule(community_user, member):
    """The model's rule (`OUTCOMES`) and the database's check constraint agree."""
    for kind in DutyRecord.Kind.values:
        for outcome in DutyRecord.Outcome.values:
            duty = DutyRecord(member=member, kind=kind, date=datetime.date(2026, 1, 1),
                              title="x", outcome=outcome)  # fmt: skip
            allowed = outcome in DutyRecord.OUTCOMES.get(kind, ())
            if allowed or kind not in DutyRecord.OUTCOMES:
                duty.full_clean()  # a kind without outcomes drops it
            else:
                with pytest.raises(ValidationError):
                    duty.full_clean()


# -- The member page -----------------------------------------------------------------------------


def test_the_member_page_shows_the_file_and_offers_changes_to_who_may_make_them(
    client, community_user, street_user, member
):
    arrangement = arrange(community_user, member)
    ended = arrange(community_user, member, body=A.Body.NPC, post="代表")
    services.arrangement_end(actor=community_user, arrangement=ended, state=A.State.CANCELLED,
                             ended_on=datetime.date(2026, 2, 1), reason="工作调动")  # fmt: skip
    duty = record(community_user, member, arrangement=arrangement)
    url = reverse("members:detail", args=[member.pk])
    client.force_login(community_user)
    page = client.get(url).text
    for shown in ("政治安排", "区政协委员", "第十七届", "在任", "区人大代表", "取消", "工作调动",
                  "履职记录", "关于加强老旧小区加装电梯的建议", "已立案", "区住建局"):  # fmt: skip
        assert shown in page, shown
    for link in (reverse("members:arrangement_add", args=[member.pk]),
                 reverse("members:arrangement_end", args=[arrangement.pk]),
                 reverse("members:duty_update", args=[duty.pk])):  # fmt: skip
        assert link in page
    # An ended one is not ended again.
    assert reverse("members:arrangement_end", args=[ended.pk]) not in page
    # The street reads the file, and is offered no change; the numbers stay masked.
    client.force_login(street_user)
    page = client.get(url).text
    assert "区政协委员" in page and "关于加强老旧小区加装电梯的建议" in page
    assert reverse("members:arrangement_add", args=[member.pk]) not in page
    assert reverse("members:duty_update", args=[duty.pk]) not in page
    assert member.id_number not in page and member.id_number_masked in page


def test_the_file_is_404_out_of_scope_and_403_read_only(
    client, community_user, neighbour_user, street_user, member
):
    arrangement, duty = arrange(community_user, member), record(community_user, member)
    pages = [
        ("get", reverse("members:arrangement_add", args=[member.pk])),
        ("post", reverse("members:arrangement_add", args=[member.pk])),
        ("get", reverse("members:arrangement_update", args=[arrangement.pk])),
        ("post", reverse("members:arrangement_end", args=[arrangement.pk])),
        ("get", reverse("members:arrangement_remove", args=[arrangement.pk])),
        ("post", reverse("members:arrangement_remove", args=[arrangement.pk]), {"confirmed": 1}),
        ("post", reverse("members:duty_add", args=[member.pk])),
        ("post", reverse("members:duty_update", args=[duty.pk])),
        ("get", reverse("members:duty_remove", args=[duty.pk])),
        ("post", reverse("members:duty_remove", args=[duty.pk]), {"confirmed": 1}),
    ]
    for user, status in ((neighbour_user, 404), (street_user, 403)):
        client.force_login(user)
        for method, url, *data in pages:
            assert getattr(client, method)(url, *data).status_code == status, (user, url)
    assert A.objects.get().in_office and DutyRecord.objects.count() == 1


def test_adding_ending_and_recording_through_the_pages(client, community_user, member):
    client.force_login(community_user)
    response = client.post(
        reverse("members:arrangement_add", args=[member.pk]),
        {"body": "association", "organisation": "知联会", "level": "district", "post": "理事",
         "session": "", "term_from": "2024-06-01", "term_to": ""},
    )  # fmt: skip
    assert response.status_code == 302 and response.url.endswith("#arrangements")
    arrangement = A.objects.get()
    assert arrangement.text == "区知联会理事" and arrangement.in_office
    end_url = reverse("members:arrangement_end", args=[arrangement.pk])
    # A cancellation without its reason: the form again, the field marked.
    response = client.post(end_url, {"state": "cancelled", "ended_on": "2026-01-05"})
    assert response.status_code == 200 and "请填写取消原因" in response.text
    response = client.post(end_url, {"state": "cancelled", "ended_on": "2026-01-05",
                                     "end_reason": "社团换届"})  # fmt: skip
    assert response.status_code == 302
    arrangement.refresh_from_db()
    assert (arrangement.state, arrangement.end_reason) == ("cancelled", "社团换届")
    # "Add a proposal" chooses the kind; the outcome of another kind is refused.
    form = client.get(reverse("members:duty_add", args=[member.pk]), {"kind": "proposal"}).text
    assert '<option value="proposal" selected>' in form
    response = client.post(
        reverse("members:duty_add", args=[member.pk]),
        {"kind": "meeting", "date": "2026-03-02", "title": "区政协全体会议", "outcome": "filed"},
    )
    assert response.status_code == 200 and not DutyRecord.objects.exists()
    response = client.post(
        reverse("members:duty_add", args=[member.pk]),
        {"kind": "meeting", "date": "2026-03-02", "title": "区政协全体会议",
         "outcome": "attended", "arrangement": ""},
    )  # fmt: skip
    assert response.status_code == 302 and response.url.endswith("#duties")
    assert DutyRecord.objects.get().get_outcome_display() == "出席"


def outcome_options(page: str) -> list[tuple[str, str, bool]]:
    """The duty form's outcome select: (value, label, selected) of each option."""
    start = page.index('name="outcome"')
    select = page[start : page.index("</select>", start)]
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select
        )
    ]


def test_the_outcome_select_offers_each_outcome_once(client, community_user, member):
    """待答复 and 采用 are outcomes of proposals and of reports alike: offered once each,
    and a record's own outcome is the one option selected when it is edited."""
    client.force_login(community_user)
    options = outcome_options(client.get(reverse("members:duty_add", args=[member.pk])).text)
    labels = [label for value, label, _selected in options if value]
    assert labels.count("待答复") == 1 and labels.count("采用") == 1
    assert len(labels) == len(set(labels)) == len(DutyRecord.Outcome.values)
    duty = record(community_user, member, outcome=DutyRecord.Outcome.PENDING)
    options = outcome_options(client.get(reverse("members:duty_update", args=[duty.pk])).text)
    assert [value for value, _label, selected in options if selected] == ["pending"]


def test_a_record_is_removed_only_once_its_confirmation_page_was_answered(
    client, community_user, member
):
    arrangement, duty = arrange(community_user, member), record(community_user, member)
    client.force_login(community_user)
    detail = client.get(reverse("members:detail", args=[member.pk])).text
    remove = reverse("members:arrangement_remove", args=[arrangement.pk])
    assert f'href="{remove}"' in detail  # a link to the page, not a one-click button
    for url in (remove, reverse("members:duty_remove", args=[duty.pk])):
        # Opened, or posted without the confirmation: the page says what will happen.
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 200
            assert "删除" in response.text and "历史记录" in response.text
    page = client.get(remove).text
    assert "区政协委员" in page and "办理“终止”" in page
    assert A.objects.filter(pk=arrangement.pk).exists() and DutyRecord.objects.exists()
    response = client.post(remove, {"confirmed": "1"})
    assert response.status_code == 302 and response.url.endswith("#arrangements")
    response = client.post(reverse("members:duty_remove", args=[duty.pk]), {"confirmed": "1"})
    assert response.status_code == 302 and response.url.endswith("#duties")
    assert not A.objects.exists() and not DutyRecord.objects.exists()


def test_the_timeline_shows_the_files_changes(client, community_user, member):
    arrange(community_user, member)
    record(community_user, member)
    client.force_login(community_user)
    page = client.get(reverse("members:detail", args=[member.pk])).text
    assert SEATED in page
    assert "2026-01-10 · 提案（建议） · 关于加强老旧小区加装电梯的建议 · 已立案" in page


def test_the_page_shows_the_latest_duty_records_and_all_on_asking(client, community_user, member):
    for day in range(1, 25):
        record(community_user, member, kind="meeting", outcome="attended",
               date=datetime.date(2025, 1, day), title=f"第{day:02d}次会议")  # fmt: skip
    client.force_login(community_user)
    url = reverse("members:detail", args=[member.pk])
    section = duties_section(client.get(url).text)
    assert "第24次会议" in section and "第01次会议" not in section
    assert "显示全部 24 条" in section
    assert "第01次会议" in duties_section(client.get(url, {"duties": "all"}).text)


# -- The member list's filter ----------------------------------------------------------------------


def test_the_list_finds_district_cppcc_members_in_office(client, district_user, areas):
    community = areas["140106001001"]
    seated, former, city, mixed, none = (
        MemberFactory(name=name, community=community)
        for name in ("在任委员", "届满委员", "市政协委员", "区人大市政协", "无安排")
    )
    arrange(district_user, seated)
    done = arrange(district_user, former)
    services.arrangement_end(actor=district_user, arrangement=done, state=A.State.ENDED,
                             ended_on=datetime.date(2025, 1, 1))  # fmt: skip
    arrange(district_user, city, level=A.Level.CITY)
    # In office as 区人大代表 and as 市政协委员: no single 区政协 seat in office.
    arrange(district_user, mixed, body=A.Body.NPC, post="代表")
    arrange(district_user, mixed, level=A.Level.CITY)
    record(district_user, none, kind="penalty", outcome="", title="警告")
    client.force_login(district_user)

    def names(**query):
        response = client.get(reverse("members:list"), query)
        return {m.name for m in response.context["members"]}

    assert names(arrangement_body="cppcc", arrangement_level="district",
                 arrangement_state="in_office") == {"在任委员"}  # fmt: skip
    assert names(arrangement_body="cppcc", arrangement_level="district") == {"在任委员", "届满委员"}
    assert names(arrangement_state="in_office") == {"在任委员", "市政协委员", "区人大市政协"}
    assert names(duty_kind="penalty") == {"无安排"}
    # The count is the list's, not the tallies' (which know nothing of arrangements).
    response = client.get(reverse("members:list"), {"arrangement_body": "cppcc"})
    assert response.context["paginator"].count == 4


# -- The printed form ------------------------------------------------------------------------------


def test_the_printed_form_lists_the_arrangements_and_the_latest_duty_records(
    client, community_user, member
):
    arrange(community_user, member)
    old = arrange(community_user, member, body=A.Body.NPC, post="代表", session="")
    services.arrangement_end(actor=community_user, arrangement=old, state=A.State.CANCELLED,
                             ended_on=datetime.date(2026, 2, 1), reason="工作调动")  # fmt: skip
    services.member_update(actor=community_user, member=member,
                           data={"social_positions": "民盟区委委员"})  # fmt: skip
    for day in range(1, 9):
        record(community_user, member, kind="meeting", outcome="attended",
               date=datetime.date(2025, 3, day), title=f"第{day}次常委会议")  # fmt: skip
    record(community_user, member)
    client.force_login(community_user)
    pdf = client.get(reverse("members:print", args=[member.pk])).content
    text = pdf_text(pdf)
    assert pdf_pages(pdf) == PAGES_EACH
    for shown in ("政治安排", "区政协委员", "第十七届", "2021.12—2026.11", "在任",
                  "区人大代表", "取消 2026-02-01：工作调动", "其他社会职务", "民盟区委委员",
                  "履职记录", "关于加强老旧小区加装电梯的建议", "已立案", "第8次常委会议",
                  "共 9 条：参加会议 8、提案（建议） 1"):  # fmt: skip
        assert shown in text, shown
    assert "第1次常委会议" not in text  # the latest only, the rest counted


def test_a_full_file_beside_every_category_still_prints_on_one_page(client, community_user, member):
    services.member_update(
        actor=community_user, member=member,
        data={"notes": "长" * 2000, "workplace": "单位" * 90, "address": "地址" * 90,
              "social_positions": "其他职务" * 40,
              "categories": list(Category.objects.all()), "religion": "buddhism",
              "political_status": PoliticalStatus.objects.get(code="04"),
              "ethnicity": Ethnicity.objects.get(code="02")},
    )  # fmt: skip
    for n in range(12):
        services.relative_add(actor=community_user, member=member,
                              data={"name": f"亲属{n:02d}", "relation": "sibling",
                                    "residence": "TWN", "place": "很长的地址" * 20})  # fmt: skip
    for level in A.Level.values:
        arrange(community_user, member, level=level)
    for day in range(1, 31):
        record(community_user, member, date=datetime.date(2025, 1, day), title="题目" * 50)
    client.force_login(community_user)
    pdf = client.get(reverse("members:print", args=[member.pk])).content
    text = pdf_text(pdf)
    assert pdf_pages(pdf) == PAGES_EACH
    assert "区政协委员（在任）" in text and "共 30 条：提案（建议） 30" in text


# -- The roster: export and import -----------------------------------------------------------------


def test_the_export_writes_the_arrangements_in_office_and_the_import_reads_them_back(
    areas, district_user
):
    member = MemberFactory(community=areas["140106001001"], social_positions="民盟区委委员")
    arrange(district_user, member)
    arrange(district_user, member, body=A.Body.OTHER, organisation="区政府参事室",
            post="参事", session="")  # fmt: skip
    ended = arrange(district_user, member, body=A.Body.NPC, post="代表")
    services.arrangement_end(actor=district_user, arrangement=ended, state=A.State.ENDED,
                             ended_on=datetime.date(2025, 1, 1))  # fmt: skip
    out = io.BytesIO()
    write_roster(roster_queryset(Member.objects.all(), full=True), out, full=True)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("社会职务/政治安排") + 1).value
    assert cell == "区政协委员、区政府参事室参事、民盟区委委员"
    # Read back: nothing new, nothing doubled, the other positions as they were.
    report = roster_import(actor=district_user, data=out.getvalue(), filename="export.xlsx")
    assert (report.created, report.updated, report.unchanged, report.refused) == (0, 0, 1, [])
    member.refresh_from_db()
    assert member.social_positions == "民盟区委委员" and member.arrangements.count() == 3


def test_the_import_reads_the_old_text_column_into_arrangements(areas, district_user):
    titles = ("姓名", "民族", "公民身份号码", "政治面貌", "所属社区", "统战对象类别", "社会职务")
    from members.tests.factories import id_number_for

    number, known_number = id_number_for(), id_number_for()
    known = MemberFactory(name="王二", community=areas["140106001001"], id_number=known_number)
    arrange(district_user, known)
    data = roster(
        ("陈一", "汉族", number, "群众", "桥东一社区", "党外知识分子",
         "迎泽区政协委员、市、区两级人大代表、民盟区委委员"),
        ("王二", "汉族", known_number, "群众", "桥东一社区", "党外知识分子",
         "迎泽区政协委员、区工商联执委"),
        titles=titles,
    )  # fmt: skip
    preview = roster_import(actor=district_user, data=data, filename="名册.xlsx", dry_run=True)
    assert not A.objects.exclude(member=known).exists()
    assert preview.changes[0]["changes"] == [
        {"field": "arrangements", "old": "", "new": "区工商联执委（在任）"}
    ]
    report = roster_import(actor=district_user, data=data, filename="名册.xlsx")
    assert (report.created, report.updated) == (1, 1)
    new = Member.objects.get(name="陈一")
    assert sorted(a.text for a in new.arrangements.all()) == [
        "区人大代表",
        "区政协委员",
        "市人大代表",
    ]
    assert new.social_positions == "民盟区委委员"
    created = new.changes.get()
    added = "区政协委员（在任）、市人大代表（在任）、区人大代表（在任）"
    assert {"field": "arrangements", "old": "", "new": added} in created.changes
    # The seat 王二 held already is not doubled; the new one is added.
    assert sorted(a.text for a in known.arrangements.all()) == ["区工商联执委", "区政协委员"]
    # The same file again: nothing to do.
    again = roster_import(actor=district_user, data=data, filename="名册.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


# -- A merge of two records of one person ---------------------------------------------------------


def test_a_merge_moves_the_file_and_its_undo_moves_it_back(district_user, areas):
    community = areas["140106001001"]
    keep = MemberFactory(name="周建华", community=community)
    merged = MemberFactory(name="周建华", community=community)
    held = arrange(district_user, keep)
    twin = arrange(district_user, merged)  # the same seat, recorded on both records
    other = arrange(district_user, merged, body=A.Body.FEDERATION, post="执委", session="")
    duty = record(district_user, merged, arrangement=twin)
    plan = services.member_merge_plan(keep=keep, merged=merged)
    assert ("政治安排和履职记录", 3) in plan.moves
    merge = services.member_merge(actor=district_user, keep=keep, merged=merged)
    assert set(keep.arrangements.values_list("pk", flat=True)) == {held.pk, other.pk}
    duty.refresh_from_db()
    assert duty.member == keep and duty.arrangement == held
    services.member_merge_undo(actor=district_user, merge=merge)
    assert set(merged.arrangements.values_list("pk", flat=True)) == {twin.pk, other.pk}
    duty.refresh_from_db()
    assert duty.member == merged and duty.arrangement == twin
