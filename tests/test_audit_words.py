"""The audit log reads in Chinese on its page and in its export (issue 13): the 详情 column as
键：值 pairs with nested values, field names, roles, permissions and codes in words, and the
object's kind as the model's name (综合评价轮次 2), for each kind of event the application
writes."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from openpyxl import load_workbook

from activities.models import Activity
from assessment.models import EvaluationRound, Period
from conftest import _user
from members.models import ImportJob
from privacy.models import Approval, PersonRequest
from tongzhan.audit import audit_record
from tongzhan.models import AuditEvent, Download, User
from tongzhan.services import user_grant_auditor

pytestmark = pytest.mark.django_db

A = AuditEvent.Action
# Latin words a Chinese office reads as they are: account names, the file kind, request ids.
ALLOWED = {"Excel", "xlsx", "PDF", "alice", "erin", "grace", "ivan", "manage"}
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
HEX = re.compile(r"\A[0-9a-f-]{8,}\Z")


def latin_words(texts) -> list[str]:
    found = []
    for text in texts:
        for token in re.split(r"[\s:：;；,，、（）()]+", text):
            if not HEX.match(token):
                found += [word for word in LATIN_WORD.findall(token) if word not in ALLOWED]
    return found


class TableText(HTMLParser):
    """The visible text of the page's table of events."""

    def __init__(self):
        super().__init__()
        self.depth, self.texts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "table"

    def handle_endtag(self, tag):
        self.depth -= tag == "table"

    def handle_data(self, data):
        if self.depth and data.strip():
            self.texts.append(data.strip())


def unsaved(model, pk, **fields):
    """An object to name in the log; its kind and id are what the log keeps."""
    return model(pk=pk, **fields)


@pytest.fixture
def every_event(areas, community_user, district_user, admin_user, member):
    """One event of each kind the application writes, with the detail each writer gives."""
    group = Group.objects.create(name="宣传组")
    view, reveal = (
        Permission.objects.get(codename=code) for code in ("view_member", "reveal_member")
    )
    period = unsaved(Period, 5, name="二〇二六年度", district=areas["140106"])
    round_ = unsaved(EvaluationRound, 2, name="第一轮", area=areas["140106"])
    activity = unsaved(Activity, 3, title="座谈会")
    job = unsaved(ImportJob, 4, filename="名册.xlsx")
    community = areas["140106001001"]
    download = unsaved(Download, 6, title="统战对象.xlsx")
    events = [
        (A.LOGIN, None, {}),
        (A.LOGOUT, None, {}),
        (A.LOGIN_FAILED, None, {"second_factor": "wrong code"}),
        (A.UPDATE, community_user, {"second_factor": "set up"}),
        (A.CREATE, community, {"code": community.code, "level": "community",
                               "parent": "140106001"}),
        (A.UPDATE, community, {"code": community.code, "level": "community", "parent": "140106001",
                               "changed": {"name": "新社区", "level": "street"}}),
        (A.UPDATE, community_user, {"role": "community", "area": community.code,
                                    "changed": {"role": "street", "area": "140106001",
                                                "is_active": False, "first_name": True,
                                                "groups": ["宣传组"],
                                                "permissions": ["members.view_member",
                                                                "members.reveal_member"]}}),
        (A.UPDATE, community_user, {"role": "auditor", "area": None,
                                    "changed": {"auditor": "revoked"}}),
        (A.CREATE, group, {"permissions": [f"members.{view.codename}",
                                           f"members.{reveal.codename}"]}),
        (A.DELETE, group, {}),
        (A.CREATE, group, {"admin": True, "change": "已添加。"}),
        (A.CREATE, activity, {"fields": ["title", "participants"]}),
        (A.STATUS, activity, {"fields": ["status"]}),
        (A.CREATE, member, {"fields": ["name", "id_number"], "source": "form"}),
        (A.TRANSFER, member, {"to": "140106001002", "reason": "搬家"}),
        (A.REVEAL, member, {"fields": ["id_number", "phone"], "page": "detail"}),
        (A.REVEAL, member, {"fields": ["id_number", "phone"], "page": "edit"}),
        (A.REVEAL, member, {"probe": "1401**********1234"}),
        (A.UPDATE, member, {"evaluation": "第一轮", "source": "superior"}),
        (A.UPDATE, member, {"veto": "违法违纪"}),
        (A.IMPORT, job, {"step": "upload", "file": "名册.xlsx", "size": 2048}),
        (A.IMPORT, job, {"step": "import", "file": "名册.xlsx", "created": 3, "updated": 1,
                         "unchanged": 0, "not_informed": 3, "refused": 2}),
        (A.EXPORT, job, {"refused_rows_of": "名册.xlsx", "rows": 2}),
        (A.EXPORT, None, {"filters": {"q": "1401**********1234", "sex": "F",
                                      "status": "moved_out", "registered": "2026-01"},
                          "rows": 10, "full": False}),
        (A.EXPORT, None, {"area": "140106", "rows": 10, "file": "名册.xlsx"}),
        # The representative's file: its records' writes, and the list's filters on them.
        (A.CREATE, member, {"arrangement": 7, "fields": ["body", "level", "post", "term_from"],
                            "source": "网页表单"}),
        (A.UPDATE, member, {"arrangement": 7, "fields": ["state", "ended_on", "end_reason"],
                            "source": "网页表单"}),
        (A.UPDATE, member, {"duty": 8, "fields": ["kind", "outcome", "amount"],
                            "source": "网页表单"}),
        (A.EXPORT, None, {"filters": {"arrangement_body": "cppcc",
                                      "arrangement_level": "district",
                                      "arrangement_state": "in_office", "duty_kind": "report"},
                          "rows": 3, "full": False}),
        (A.EXPORT, None, {"report": "activities", "since": "2026-01-01",
                          "until": "2026-11-30", "rows": 4}),
        (A.EXPORT, period, {"report": "assessment", "rows": 8}),
        (A.CREATE, period, {"name": "二〇二六年度"}),
        (A.UPDATE, period, {"fields": ["name", "starts_on"]}),
        (A.UPDATE, period, {"indicator": "开展活动", "fields": ["weight", "rule"]}),
        (A.UPDATE, period, {"copied_from": 1, "indicators": ["开展活动"]}),
        (A.UPDATE, period, {"indicator": "开展活动", "community": "140106001001",
                            "points": "5"}),
        (A.UPDATE, period, {"removed": "开展活动"}),
        (A.UPDATE, period, {"score_grid": 12, "file": "评分表.xlsx"}),
        (A.EXPORT, period, {"report": "score_grid", "rows": 8}),
        (A.UPDATE, round_, {"evaluation": "第一轮", "source": "self", "score_grid": 3}),
        (A.STATUS, period, {"state": "open"}),
        (A.STATUS, period, {"published": True}),
        (A.STATUS, period, {"state": "draft", "reopened": True, "results_discarded": 3}),
        (A.CREATE, round_, {"name": "第一轮"}),
        (A.STATUS, round_, {"confirmed": True, "removed": [7, 8]}),
        (A.STATUS, round_, {"reopened": True, "restored": [7]}),
        # A file made in the background: the export when made, and each time it is taken.
        (A.EXPORT, download, {"filters": {"sex": "F"}, "rows": 10, "full": True}),
        (A.EXPORT, download, {"format": "pdf", "rows": 3, "full": False,
                              "community": "140106001001"}),
        (A.EXPORT, download, {"download": "members.roster", "rows": 10, "size": 2048}),
        (A.EXPORT, download, {"download": "members.forms", "rows": 3, "size": 4096}),
        # Retention (privacy): an approval of anonymisation, and one record's run.
        (A.CREATE, unsaved(Approval, 7), {"members": [3, 4], "all_due": False, "rows": 2}),
        (A.DELETE, member, {"anonymised": True, "approval": 7, "status": "moved_out",
                            "left_on": "2022-11-30", "records": 1, "relatives": 1,
                            "history": 4, "visits": 2, "needs": 1, "files": 1,
                            "import_rows": 0, "downloads": 0, "requests": 2}),
        (A.UPDATE, unsaved(Approval, 7), {"skipped": 4}),
        # A person's own requests (privacy): one answered late with the changes made under
        # it, and her copy produced; her requests' texts are counted in an anonymisation.
        (A.UPDATE, unsaved(PersonRequest, 8), {"member": member.pk, "kind": "correct",
                                               "state": "answered", "due_on": "2026-11-23",
                                               "answered_on": "2026-11-25", "late_days": 2,
                                               "changes": [41, 42]}),
        (A.EXPORT, member, {"copy_for_request": 8, "format": "xlsx", "sha256": "ab" * 32,
                            "size": 9000, "full": True}),
    ]  # fmt: skip
    for action, obj, detail in events:
        audit_record(actor=district_user, action=action, obj=obj, detail=detail)
    # The auditor's role as the service writes it: granted, with the role before.
    user_grant_auditor(actor=admin_user, user=community_user)
    return _user("ivan", User.Role.AUDITOR, None)


def test_the_audit_page_reads_in_chinese(client, every_event):
    client.force_login(every_event)
    response = client.get(reverse("audit"), {"page": 1})
    parser = TableText()
    parser.feed(response.content.decode())
    assert latin_words(parser.texts) == [], latin_words(parser.texts)
    page = " ".join(parser.texts)
    assert "综合评价 2" in page  # the evaluation round, by the model's name
    assert "审计员角色：授予" in page
    assert "可查看完整公民身份号码和联系电话" in page
    assert "下载的文件：统战对象信息登记表" in page


def test_the_audit_export_reads_in_chinese(client, every_event):
    client.force_login(every_event)
    response = client.get(reverse("audit_export"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    texts = [str(value) for row in rows for value in row if isinstance(value, str)]
    assert latin_words(texts) == [], latin_words(texts)
    assert any(row[6] == "综合评价" and row[7] == "2" for row in rows[1:])
