"""Who may change members by import, and what the audit log learns of each import (issue 12).

One rule for the form and the import: an import registers people only where the user may
register them (members.add_member besides members.import_member) and changes only the people
the edit page lets the user change (`Member.objects.editable_by`). Each step of an upload
(upload, check, confirmation, import, cancellation) writes one audit line with the address
and request id of the request that asked for it, even when a worker does the work later.
"""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from members.imports import roster_import
from members.models import ImportJob
from tongzhan.models import AuditEvent, User

from .test_imports import person, roster

pytestmark = pytest.mark.django_db

TITLES = ("姓名", "民族", "公民身份号码", "政治面貌", "统战对象类别", "工作单位及职务")


def renaming(member, workplace="新单位"):
    """A roster giving `member` (of 桥东一社区) a new workplace."""
    return roster(
        (member.name, "汉族", member.id_number, "群众", "党外知识分子", workplace), titles=TITLES
    )


def test_a_street_officer_cannot_change_a_member_by_import(street_user, member, areas):
    with pytest.raises(PermissionDenied):
        roster_import(
            actor=street_user,
            data=renaming(member),
            filename="花名册.xlsx",
            community=areas["140106001001"],
        )
    member.refresh_from_db()
    assert member.workplace != "新单位"


@pytest.mark.parametrize(
    "role", ["community_user", "neighbour_user", "street_user", "district_user", "admin_user"]
)
def test_an_import_changes_exactly_whom_the_edit_page_lets_change(
    role, request, client, member, areas
):
    user = request.getfixturevalue(role)
    # Every role gets the import permission here, so that only the edit rule decides.
    user.user_permissions.add(Permission.objects.get(codename="import_member"))
    user = User.objects.get(pk=user.pk)
    client.force_login(user)
    form_changes = client.get(reverse("members:update", args=[member.pk])).status_code == 200
    try:
        report = roster_import(
            actor=user,
            data=renaming(member),
            filename="花名册.xlsx",
            community=areas["140106001001"],
        )
    except PermissionDenied:
        import_changes = False
    else:
        import_changes = report.updated == 1
    assert import_changes == form_changes
    member.refresh_from_db()
    assert (member.workplace == "新单位") == form_changes


def test_rows_changing_people_need_the_change_permission(district_user, member, areas):
    district_user.user_permissions.remove(Permission.objects.get(codename="change_member"))
    for group in district_user.groups.all():
        group.permissions.remove(Permission.objects.get(codename="change_member"))
    user = User.objects.get(pk=district_user.pk)
    report = roster_import(
        actor=user, data=renaming(member), filename="花名册.xlsx", community=areas["140106001001"]
    )
    [error] = report.refused
    assert error.message == "此人已登记，您无权修改已登记人员的信息：请联系保管此档案的社区。"
    member.refresh_from_db()
    assert member.workplace != "新单位"


def test_street_officers_have_no_import_in_the_menu(client, street_user, district_user):
    client.force_login(street_user)
    assert (
        reverse("members:import_list") not in client.get(reverse("members:list")).content.decode()
    )
    client.force_login(district_user)
    assert reverse("members:import_list") in client.get(reverse("members:list")).content.decode()


# -- The audit log --------------------------------------------------------------------------


def post(client, url, ip, request_id, data=None):
    return client.post(url, data or {}, REMOTE_ADDR=ip, HTTP_X_REQUEST_ID=request_id)


def upload(client, data, ip="203.0.113.7", request_id="upload-0001"):
    file = io.BytesIO(data)
    file.name = "花名册.xlsx"
    post(client, reverse("members:import_create"), ip, request_id, {"file": file})
    return ImportJob.objects.get()


def lines(step):
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT, detail__step=step))


def test_an_upload_and_its_check_are_audited_with_address_and_request_id(
    client, district_user, areas
):
    client.force_login(district_user)
    job = upload(
        client,
        roster(person("陈一")),
    )
    [uploaded] = lines("upload")
    assert (uploaded.actor, uploaded.ip, uploaded.request_id) == (
        district_user,
        "203.0.113.7",
        "upload-0001",
    )
    assert (uploaded.object_id, uploaded.detail["file"]) == (str(job.pk), "花名册.xlsx")
    # The check, run later by a worker, answers the upload: it carries the upload's origin.
    [checked] = lines("check")
    assert (checked.ip, checked.request_id) == ("203.0.113.7", "upload-0001")


def test_a_confirmation_and_its_import_are_audited_with_address_and_request_id(
    client, district_user, areas
):
    client.force_login(district_user)
    job = upload(
        client,
        roster(person("陈一")),
    )
    post(client, reverse("members:import_confirm", args=[job.pk]), "198.51.100.9", "confirm-0002")
    [confirmed] = lines("confirm")
    assert (confirmed.actor, confirmed.ip, confirmed.request_id) == (
        district_user,
        "198.51.100.9",
        "confirm-0002",
    )
    [imported] = lines("import")
    assert (imported.ip, imported.request_id) == ("198.51.100.9", "confirm-0002")
    assert (imported.object_id, imported.detail["created"]) == (str(job.pk), 1)


def test_a_cancellation_is_audited_with_address_and_request_id(client, district_user, areas):
    client.force_login(district_user)
    job = upload(
        client,
        roster(person("陈一")),
    )
    post(client, reverse("members:import_cancel", args=[job.pk]), "198.51.100.10", "cancel-0003")
    [cancelled] = lines("cancel")
    assert (cancelled.actor, cancelled.ip, cancelled.request_id) == (
        district_user,
        "198.51.100.10",
        "cancel-0003",
    )
    assert not lines("import")
