"""The audit log as an auditor reads it, at desktop and phone width: every word Chinese,
the object by its kind's name and the detail as 键：值 pairs (issue 13)."""

import pytest
from selenium.webdriver.common.by import By

from conftest import _user
from tongzhan.audit import audit_record
from tongzhan.models import AuditEvent, User

from .conftest import DESKTOP, PHONE
from .helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_auditor_reads_the_log_in_chinese(browser, live_server, screenshot, areas,
                                              community_user, member, size):  # fmt: skip
    audit_record(
        actor=community_user,
        action=AuditEvent.Action.UPDATE,
        obj=community_user,
        detail={"role": "auditor", "area": None, "changed": {"auditor": "granted"}},
    )
    audit_record(actor=community_user, action=AuditEvent.Action.REVEAL, obj=member,
                 detail={"fields": ["id_number", "phone"], "page": "detail"})  # fmt: skip
    _user("ivan", User.Role.AUDITOR, None)
    browser.set_window_size(*size)
    log_in(browser, live_server, "ivan")
    browser.get(f"{live_server.url}/audit/")
    table = browser.find_element(By.CSS_SELECTOR, "table.audit").text
    screenshot("log")
    assert "变更内容：（审计员角色：授予）" in table
    # PostgreSQL keeps the keys in its own order, SQLite as written.
    assert "页面：详情页" in table and "字段：证件号码、联系电话" in table
    assert "统战对象 " in table and "auditor" not in table and "tongzhan" not in table
