"""What an attacker tries around a representative's admission and the register of entries
and exits: a crafted id of another area's member, a GET or a second POST that would write,
another district's rows in a register or its export, and a name read in full by those
outside the area she is in now."""

import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from conftest import _user
from members import services
from members.models import Member, MemberChange, Nomination, RepresentativeChange
from members.tests.factories import MemberFactory
from members.tests.test_exports import _export
from members.tests.test_imports import person, roster, run
from members.tests.test_informing import NOTICE_TITLES
from members.tests.test_printing import pdf_text
from tongzhan.masking import mask_name
from tongzhan.models import AuditEvent, User

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_nomination_is_written_only_by_a_post_of_the_members_area_and_once(
    areas, community_user, neighbour_user, other_district_user, member
):
    url = reverse("members:nominate", args=[member.pk])
    assert _client(community_user).get(url).status_code == 200
    assert _client(neighbour_user).post(url, {"reason": "冒名"}).status_code == 404
    assert _client(other_district_user).post(url, {"reason": "冒名"}).status_code == 404
    auditor = _user("ivan", User.Role.AUDITOR, None)
    assert _client(auditor).post(url, {"reason": "冒名"}).status_code in (403, 404)
    assert not Nomination.objects.exists()  # none of them, nor the GET, wrote
    client = _client(community_user)
    client.post(url, {"reason": "履职积极"})
    again = client.post(url, {"reason": "履职积极"})
    assert again.status_code == 200 and "已被提名" in again.content.decode()
    assert Nomination.objects.count() == 1


def test_the_register_and_its_export_hold_the_users_area_only(
    areas, community_user, neighbour_user, district_user, other_district_user
):
    mine = MemberFactory(name="王甲", community=areas["140106001001"])
    services.representative_set(
        actor=district_user, member=mine, value=True, date=datetime.date(2026, 3, 1),
        reason="同意入选",
    )  # fmt: skip
    for user in (neighbour_user, other_district_user):
        client = _client(user)
        page = client.get(reverse("members:representative_register"), {"year": 2026})
        assert list(page.context["rows"]) == [] and page.context["years"] == []
        book = client.get(reverse("members:representative_register_export"), {"year": 2026})
        assert "王甲" not in str([c.value for r in load_workbook(io.BytesIO(book.content)).active
                                 .iter_rows() for c in r])  # fmt: skip


def test_the_register_masks_the_name_of_one_who_moved_out_of_the_viewers_area(
    areas, community_user, district_user
):
    """A row stays in the community she was in; she has moved to the next one since: its
    worker reads her name as the lists of members show it to those outside her area."""
    moved = MemberFactory(name="张三丰", community=areas["140106001001"])
    services.representative_set(
        actor=district_user, member=moved, value=True, date=datetime.date(2026, 3, 1),
        reason="同意入选",
    )  # fmt: skip
    Member.objects.filter(pk=moved.pk).update(community=areas["140106001002"])
    client = _client(community_user)
    page = client.get(reverse("members:representative_register"), {"year": 2026}).text
    assert "张**" in page and "张三丰" not in page
    assert reverse("members:detail", args=[moved.pk]) not in page
    book = client.get(reverse("members:representative_register_export"), {"year": 2026})
    names = [row[1].value for row in load_workbook(io.BytesIO(book.content)).active.iter_rows(3)]
    assert names == ["张**"]
    assert RepresentativeChange.objects.get().member == moved
    # Who sees her community now (and above) reads it in full.
    full = _client(district_user).get(reverse("members:representative_register"), {"year": 2026})
    assert "张三丰" in full.text


def test_a_roster_s_reason_why_not_yet_told_neither_removes_her_notice_nor_claims_a_change(
    member, district_user
):
    """The notice recorded stays (PIPL arts. 17 and 35), and the history says only what was
    written: a roster row that says she was not told leaves her record and her history as
    they were, as the form does."""
    told = (member.informed_how, member.informed_on)
    version = member.version
    report = run(
        roster(
            (*person("张三", number=member.id_number), "", "", "拒绝告知"), titles=NOTICE_TITLES
        ),
        actor=district_user,
    )
    assert (report.updated, report.unchanged, report.refused) == (0, 1, [])
    member.refresh_from_db()
    assert (member.informed_how, member.informed_on, member.not_informed_reason) == (*told, "")
    assert member.version == version
    assert not MemberChange.objects.filter(member=member, action="update").exists()


def test_an_export_of_a_list_searched_by_her_name_logs_the_name_masked(
    client, district_user, member
):
    """The audit log is kept whole after retention anonymises her record, and names her
    masked: a roster exported from a search by her name must not write it there in full."""
    _export(client, district_user, q=member.name, sex="M")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.detail["rows"] == 1
    assert event.detail["filters"] == {"q": mask_name(member.name), "sex": "M"}
    assert member.name not in str(event.detail)


def test_markup_in_her_name_or_her_reason_not_yet_told_stays_text_on_page_and_paper(
    client, areas, community_user
):
    """Her page and her printed 登记表 and 告知书 show what was typed, never run it: the printer
    would otherwise load an address of the markup's choosing."""
    member = MemberFactory(
        name='<img src="http://x/">王', community=areas["140106001001"], informed_how="",
        informed_on=None, not_informed_reason='<script>alert("x")</script>',
    )  # fmt: skip
    client.force_login(community_user)
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "<script>alert" not in page and '<img src="http://x/">' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    printed = client.get(reverse("members:print", args=[member.pk]))
    assert printed.status_code == 200
    text = "".join(pdf_text(printed.content).split())  # the form's cell wraps her name
    assert '尊敬的<imgsrc="http://x/">王' in text  # her letter
    assert text.count('x/">王') == 2  # and her form, as text
