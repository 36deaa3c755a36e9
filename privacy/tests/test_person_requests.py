"""A person's own requests (PIPL arts. 44-46): recorded with a deadline of working days,
answered or refused with reasons, marked overdue until answered; her full copy as .xlsx and
PDF, staff named by their roles, audited and kept as its SHA-256; a correction made through
the member edit, named in her history; her requests' texts gone when she is anonymised."""

import datetime
import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities import services as activity_services
from liaison import todo
from members import services as member_services
from members.models import MemberChange
from members.tests.factories import MemberFactory
from members.tests.helpers import member_form_data
from members.tests.test_printing import pdf_text, photo_bytes
from privacy import services
from privacy.models import PersonRequest, RequestCopy
from tongzhan.models import AuditEvent

from .conftest import years_ago

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 2)
PHONE = "13912345678"


def ask(actor, member, **data):
    return services.request_record(
        actor=actor,
        member=member,
        data={"kind": "copy", "received_on": timezone.localdate(), "asks": "我要一份我的登记信息",
              **data},
    )  # fmt: skip


@pytest.fixture
def her(areas, community_user):
    """Ms 林秀英 of 桥东一社区 with a relative, a visit by 王丽 (alice) and a change."""
    member = MemberFactory(
        name="林秀英", community=areas["140106001001"], phone=PHONE, notes="擅长剪纸"
    )
    member_services.relative_add(
        actor=community_user, member=member,
        data={"name": "林志明", "relation": "sibling", "residence": "TWN",
              "contact": "0912345678", "place": "台北市"},
    )  # fmt: skip
    activity_services.visit_create(
        actor=community_user,
        data={"community": member.community, "date": timezone.localdate(), "staff": "王丽",
              "way": "home", "situation": "王丽上门了解到家中老人卧床"},
        members=[member],
    )  # fmt: skip
    member_services.member_update(
        actor=community_user, member=member, data={"workplace": "太原纺织厂"}, source="网页表单"
    )
    member.refresh_from_db()
    return member


# -- The deadline -------------------------------------------------------------------------


def test_the_deadline_is_fifteen_working_days_after_receipt(her, community_user):
    made = ask(community_user, her, received_on=MONDAY)
    # 15 working days from Monday 2 November 2026: three weeks, weekends not counted.
    assert made.due_on == datetime.date(2026, 11, 23)
    friday = ask(community_user, her, received_on=datetime.date(2026, 11, 6))
    assert friday.due_on == datetime.date(2026, 11, 27)
    assert (made.state, made.recorded_by) == ("open", community_user)


def test_an_open_request_past_its_deadline_is_marked_overdue_in_the_list(
    client, her, community_user
):
    late = ask(community_user, her, received_on=timezone.localdate() - datetime.timedelta(days=40))
    ask(community_user, her, kind="see")
    client.force_login(community_user)
    page = client.get(reverse("privacy:requests")).content.decode()
    assert page.count('class="overdue"') == 1 and "已逾期" in page
    assert f"{late.days_late(timezone.localdate())} 天" in page
    # The filter shows the overdue alone, and answered requests leave it.
    overdue = client.get(reverse("privacy:requests"), {"state": "overdue"}).content.decode()
    assert overdue.count(reverse("privacy:request", args=[late.pk])) == 1
    assert "我要一份" not in overdue and overdue.count("<tr") == 2
    services.request_answer(actor=community_user, person_request=late, answer="已当面交付")
    assert "已逾期" not in client.get(reverse("privacy:requests")).content.decode()


def test_the_list_costs_the_same_for_many_requests(
    client, her, community_user, django_assert_max_num_queries
):
    for _number in range(12):
        ask(community_user, her)
    client.force_login(community_user)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("privacy:requests"))
    assert response.content.decode().count(f"{her.name}</a>") == 12


# -- Recording, answering, refusing ---------------------------------------------------------


def test_an_agent_must_be_named(her, community_user):
    with pytest.raises(ValidationError) as refused:
        ask(community_user, her, asked_by="agent")
    assert "代理人" in str(refused.value)
    made = ask(community_user, her, asked_by="agent", agent_name="林志明", agent_relation="兄长")
    assert (made.agent_name, made.agent_relation) == ("林志明", "兄长")


def test_the_form_says_in_words_that_an_agent_must_be_named(client, her, community_user):
    client.force_login(community_user)
    page = client.post(
        reverse("privacy:request_create", args=[her.pk]),
        {"kind": "see", "received_on": timezone.localdate(), "channel": "in_person",
         "asked_by": "agent", "agent_name": "", "asks": "查阅本人信息"},
    ).content.decode()  # fmt: skip
    assert "请填写代为提出请求的代理人姓名。" in page and "personrequest_agent_named" not in page
    assert not her.person_requests.exists()


def test_recording_and_answering_are_audited(her, community_user):
    made = ask(community_user, her)
    line = AuditEvent.objects.filter(object_type="privacy.personrequest").first()
    assert (line.action, line.detail["member"]) == ("create", her.pk)
    services.request_answer(actor=community_user, person_request=made, answer="已交付副本")
    made.refresh_from_db()
    assert (made.state, made.answered_on, made.answered_by) == (
        "answered", timezone.localdate(), community_user
    )  # fmt: skip
    assert AuditEvent.objects.filter(object_type="privacy.personrequest", action="update").exists()
    with pytest.raises(ValidationError):
        services.request_refuse(actor=community_user, person_request=made, reasons="重复申请")


def test_a_refusal_gives_its_reasons(client, her, community_user):
    made = ask(community_user, her, kind="correct")
    client.force_login(community_user)
    url = reverse("privacy:request_refuse", args=[made.pk])
    page = client.post(url, {"answer": "", "answered_on": timezone.localdate()})
    assert page.status_code == 200 and "这个字段是必填项" in page.content.decode()
    reasons = {"answer": "所述信息与户籍登记一致", "answered_on": timezone.localdate()}
    # It closes the request: shown once more first, with a way back to the form as typed.
    confirm = client.post(url, reasons).content.decode()
    assert 'id="confirm-form"' in confirm and "此后不能再答复或不予办理" in confirm
    made.refresh_from_db()
    assert made.state == "open"
    back = client.post(url, {**reasons, "back": "1"}).content.decode()
    assert 'id="confirm-form"' not in back and "所述信息与户籍登记一致" in back
    response = client.post(url, {**reasons, "confirmed": "1"})
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.state, made.answer) == ("refused", "所述信息与户籍登记一致")
    detail = client.get(reverse("privacy:request", args=[made.pk])).content.decode()
    assert "不予办理" in detail and "所述信息与户籍登记一致" in detail


def test_the_street_sees_the_requests_and_may_not_keep_them(
    client, her, community_user, street_user, neighbour_user
):
    made = ask(community_user, her)
    with pytest.raises(PermissionDenied):
        ask(street_user, her)
    with pytest.raises(PermissionDenied):
        services.request_answer(actor=street_user, person_request=made, answer="好")
    client.force_login(street_user)
    assert client.get(reverse("privacy:request", args=[made.pk])).status_code == 200
    for name in ("privacy:request_answer", "privacy:request_refuse"):
        assert client.get(reverse(name, args=[made.pk])).status_code == 403
    assert (
        client.post(reverse("privacy:request_copy", args=[made.pk]), {"format": "xlsx"}).status_code
        == 403
    )  # noqa: E501
    assert client.get(reverse("privacy:request_create", args=[her.pk])).status_code == 403
    # Another community sees nothing of her.
    client.force_login(neighbour_user)
    assert client.get(reverse("privacy:request", args=[made.pk])).status_code == 404
    assert client.get(reverse("privacy:request_create", args=[her.pk])).status_code == 404
    assert her.name not in client.get(reverse("privacy:requests")).content.decode()


def test_her_page_and_the_todo_list_show_her_open_requests(client, her, community_user):
    made = ask(community_user, her, received_on=timezone.localdate() - datetime.timedelta(days=30))
    client.force_login(community_user)
    page = client.get(reverse("members:detail", args=[her.pk])).content.decode()
    assert 'id="person-requests"' in page and reverse("privacy:request", args=[made.pk]) in page
    assert "已逾期" in page
    groups = {group.source.key: group for group in todo.waiting_for(community_user)}
    item = groups["person_requests"].items[0]
    assert (item.due, item.overdue) == (made.due_on, True)
    assert todo.waiting_counts(community_user)["person_requests"] == 1
    todo_page = client.get(reverse("liaison:todo")).content.decode()
    assert reverse("privacy:request", args=[made.pk]) in todo_page
    services.request_answer(actor=community_user, person_request=made, answer="已答复")
    assert todo.waiting_counts(community_user)["person_requests"] == 0


# -- The copy -------------------------------------------------------------------------------


def produce(client, made, file_format):
    response = client.post(reverse("privacy:request_copy", args=[made.pk]), {"format": file_format})
    assert response.status_code == 200
    return response.content


def test_her_xlsx_copy_holds_everything_in_full_with_staff_as_roles(client, her, community_user):
    made = ask(community_user, her, asked_by="agent", agent_name="林志明", agent_relation="兄长")
    client.force_login(community_user)
    data = produce(client, made, "xlsx")
    book = load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value]
    # Every value a text cell, never a formula.
    assert {cell.data_type for cell in cells} == {"s"}
    text = "\n".join(str(cell.value) for cell in cells)
    for value in (her.name, her.id_number, PHONE, "擅长剪纸", "太原纺织厂", "林志明", "0912345678",
                  "家中老人卧床", "我要一份我的登记信息", "个人信息副本"):  # fmt: skip
        assert value in text, value
    # Her numbers in full where the record is given; the history keeps them masked, as held.
    record = {row[0].value: row[1].value for row in book.active.iter_rows() if row[0].value}
    assert (record["证件号码"], record["联系电话"]) == (her.id_number, PHONE)
    # Her history, with each change.
    assert "太原纺织厂" in text and "工作单位" in text
    # Staff by their roles: alice (王丽) is 社区统战委员 wherever she appears.
    assert "社区统战委员" in text
    assert "王丽" not in text and "alice" not in text
    # Recorded as its hash and size, and audited as an export of her record.
    copy = RequestCopy.objects.get()
    assert (copy.format, copy.sha256, copy.size, copy.produced_by) == (
        "xlsx", hashlib.sha256(data).hexdigest(), len(data), community_user
    )  # fmt: skip
    line = AuditEvent.objects.filter(action="export", object_type="members.member").get()
    assert line.object_id == str(her.pk)
    assert line.detail == {"copy_for_request": made.pk, "format": "xlsx",
                           "sha256": copy.sha256, "size": len(data), "full": True}  # fmt: skip


def test_her_pdf_copy_says_the_same(client, her, community_user):
    member_services.member_photo_set(
        actor=community_user, member=her,
        upload=SimpleUploadedFile("照片.jpg", photo_bytes(), "image/jpeg"),
    )  # fmt: skip
    made = ask(community_user, her)
    client.force_login(community_user)
    data = produce(client, made, "pdf")
    assert data.startswith(b"%PDF")
    text = pdf_text(data).replace(" ", "")
    for value in (her.name, her.id_number, PHONE, "林志明", "0912345678", "社区统战委员",
                  "个人信息副本", "变更记录"):  # fmt: skip
        assert value in text, value
    assert "王丽" not in text
    copy = RequestCopy.objects.get()
    assert (copy.format, copy.sha256) == ("pdf", hashlib.sha256(data).hexdigest())
    page = client.get(reverse("privacy:request", args=[made.pk])).content.decode()
    assert copy.sha256 in page


def test_a_visit_with_others_gives_no_text_of_theirs(client, her, community_user):
    other = MemberFactory(community=her.community, name="周文")
    activity_services.visit_create(
        actor=community_user,
        data={"community": her.community, "date": timezone.localdate(), "staff": "王丽",
              "way": "meeting", "situation": "周文谈了小区停车难"},
        members=[her, other],
    )  # fmt: skip
    client.force_login(community_user)
    book = load_workbook(io.BytesIO(produce(client, ask(community_user, her), "xlsx")))
    text = "\n".join(str(c.value) for s in book for r in s.iter_rows() for c in r if c.value)
    assert "周文" not in text and "多人" in text


# -- Corrections ----------------------------------------------------------------------------


def test_a_correction_goes_through_the_edit_and_is_named_in_her_history(
    client, her, community_user
):
    made = ask(community_user, her, kind="correct", asks="工作单位应为太原纺织二厂")
    client.force_login(community_user)
    detail = client.get(reverse("privacy:request", args=[made.pk])).content.decode()
    edit_url = reverse("members:update", args=[her.pk]) + f"?reason=person_request%3A{made.pk}"
    assert edit_url.replace("&", "&amp;") in detail
    form = client.get(edit_url)
    assert form.status_code == 200 and 'id="edit-reason"' in form.content.decode()
    her.refresh_from_db()
    response = client.post(edit_url, member_form_data(her, workplace="太原纺织二厂"))
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:request", args=[made.pk])
    change = MemberChange.objects.filter(member=her).first()
    assert change.source == f"本人申请更正，第 {made.pk} 号请求"
    assert [row["field"] for row in change.changes] == ["workplace"]
    assert list(services.request_corrections(made)) == [change]
    # The answer lists the change made under it, and the audit line names it.
    answer_page = client.get(reverse("privacy:request_answer", args=[made.pk])).content.decode()
    assert "根据本请求所作的更改" in answer_page and "工作单位" in answer_page
    services.request_answer(actor=community_user, person_request=made)
    line = AuditEvent.objects.filter(object_type="privacy.personrequest", action="update").get()
    assert line.detail["changes"] == [change.pk]


def test_a_correction_without_a_change_says_why(her, community_user):
    made = ask(community_user, her, kind="correct")
    with pytest.raises(ValidationError):
        services.request_answer(actor=community_user, person_request=made)
    services.request_answer(actor=community_user, person_request=made, answer="经核实无误")


def test_the_edit_refuses_a_reason_not_hers_or_closed(client, her, community_user, areas):
    other = MemberFactory(community=her.community)
    made = ask(community_user, other, kind="correct")
    copy_request = ask(community_user, her, kind="copy")
    client.force_login(community_user)
    edit = reverse("members:update", args=[her.pk])
    for reason in (f"person_request:{made.pk}", f"person_request:{copy_request.pk}",
                   "person_request:x", "person_request:٣", "person_request:99999999999999999999",
                   "unknown:1"):  # fmt: skip
        assert client.get(edit, {"reason": reason}).status_code == 404, reason
    assert AuditEvent.objects.filter(action="reveal", object_id=str(her.pk)).count() == 0


# -- Anonymisation --------------------------------------------------------------------------


def test_anonymising_her_clears_her_requests(
    her, community_user, district_user, django_capture_on_commit_callbacks
):
    made = ask(community_user, her, asked_by="agent", agent_name="林志明", agent_relation="兄长",
               asks="请给我一份林秀英的全部信息")  # fmt: skip
    services.request_refuse(actor=community_user, person_request=made, reasons="林志明无授权")
    member_services.member_set_status(
        actor=community_user, member=her, status="moved_out", date=years_ago(4), reason="迁出"
    )
    services.approval_create(actor=district_user, member_ids=[her.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.anonymisations_run() == 1
    made.refresh_from_db()
    assert (made.asks, made.agent_name, made.agent_relation, made.answer) == (
        "已匿名", "已匿名", "", "已匿名"
    )  # fmt: skip
    assert (made.kind, made.state) == ("copy", "refused")
    assert not PersonRequest.objects.filter(asks__contains="林").exists()


def test_a_merged_record_s_requests_follow_her(her, community_user, district_user):
    twin = MemberFactory(community=her.community, name=her.name)
    made = ask(community_user, twin)
    member_services.member_merge(actor=district_user, keep=her, merged=twin)
    made.refresh_from_db()
    assert made.member == her
    assert PersonRequest.objects.visible_to(community_user).get() == made
