"""The audit log: what is logged, who reads it, and that nobody changes it."""

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from conftest import PASSWORD, _user
from tongzhan.masking import mask_name
from tongzhan.models import AuditEvent, User
from tongzhan.tests.libreoffice import csv_rows, needs_libreoffice

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(areas):
    return _user("ivan", User.Role.AUDITOR, None)


def test_every_audited_action_lands_in_the_log_with_personal_data_masked(
    client, community_user, admin_user, member, areas
):
    client.post(reverse("login"), {"username": "alice", "password": "wrong-password-9"})
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    client.post(reverse("members:detail", args=[member.pk]))  # reveal the full numbers
    client.get(reverse("members:export"))
    updated = client.post(
        reverse("members:update", args=[member.pk]),
        {**_form_of(client, member), "address": "迎泽大街1号"},
    )
    assert updated.status_code == 302
    client.post(reverse("logout"))
    client.force_login(admin_user)
    client.post(
        reverse("admin:tongzhan_user_add"),
        {"username": "newbie", "role": "community", "area": areas["140106001001"].pk,
         "password1": "Initial-Pass-2026", "password2": "Initial-Pass-2026"},
    )  # fmt: skip
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"login_failed", "login", "reveal", "export", "update", "logout", "create"} <= actions
    failed = AuditEvent.objects.get(action="login_failed")
    assert (failed.username, failed.outcome, failed.ip) == ("alice", "refused", "127.0.0.1")
    # The account created in the admin: one line, with the role and area given.
    (created,) = AuditEvent.objects.filter(object_type="tongzhan.user")
    assert created.action == "create" and created.detail["role"] == "community"
    assert created.detail["area"] == "140106001001" and created.ip and created.request_id
    everything = json.dumps(
        list(AuditEvent.objects.values("object_repr", "detail")), ensure_ascii=False
    )
    assert member.id_number not in everything and member.phone not in everything
    # Every event of a real request carries its id, to find it in the server's log.
    assert all(event.request_id for event in AuditEvent.objects.exclude(ip=None))


def _form_of(client, member) -> dict:
    form = client.get(reverse("members:update", args=[member.pk])).context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if isinstance(value, list | tuple):  # the categories, by their slugs
            data[name] = [getattr(item, "slug", getattr(item, "pk", item)) for item in value]
        else:
            data[name] = getattr(value, "pk", value)
    return data


def test_auditors_search_and_export_the_log_and_do_nothing_else(
    client, auditor, community_user, member
):
    client.force_login(community_user)
    client.post(reverse("members:detail", args=[member.pk]))
    client.force_login(auditor)
    assert client.get(reverse("home")).url == reverse("audit")
    page = client.get(reverse("audit"), {"username": "alice", "action": "reveal"})
    assert [event.action for event in page.context["events"]] == ["reveal"]
    # The lines name her masked; her full name still finds them, and a part of it does not.
    found = client.get(reverse("audit"), {"object": member.name}).context["events"]
    assert {event.action for event in found} == {"create", "reveal"}
    assert {event.object_repr for event in found} == {mask_name(member.name)} != {member.name}
    assert not client.get(reverse("audit"), {"object": member.name[1:]}).context["events"]
    assert (
        client.get(reverse("audit"), {"since": "2001-01-01", "until": "2001-12-31"})
        .context["paginator"]
        .count
        == 0
    )
    exported = client.get(reverse("audit_export"), {"action": "reveal"})
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "时间（协调世界时）" and len(rows) == 2 and rows[1][1] == "alice"
    logged = AuditEvent.objects.filter(action="export", username="ivan").get()
    assert logged.detail["filters"] == {"action": "reveal"} and logged.detail["rows"] == 1
    for page in ("members:list", "activities:list", "dashboards:reports", "assessment:list"):
        assert client.get(reverse(page)).status_code == 403, page


def test_administrators_never_read_the_log_even_given_the_auditors_group_by_hand(
    client, admin_user, community_user
):
    for user in (admin_user, community_user):
        client.force_login(user)
        assert client.get(reverse("audit")).status_code == 403
        assert client.get(reverse("audit_export")).status_code == 403
    # 三员分立: the group slipped in past the services still gives an administrator nothing.
    admin_user.groups.add(Group.objects.get(name="审计员"))
    client.force_login(User.objects.get(pk=admin_user.pk))
    assert client.get(reverse("audit")).status_code == 403
    assert client.get(reverse("admin:tongzhan_auditevent_changelist")).status_code == 403
    client.logout()
    assert client.get(reverse("audit")).status_code == 302


def _command(*args):
    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_superuser_grants_and_revokes_the_auditor_role_on_the_command_line(
    client, admin_user, community_user
):
    from django.core.management.base import CommandError

    _command("grant_auditor", "alice", "--by", "grace")
    alice = User.objects.get(username="alice")
    assert alice.role == "auditor" and alice.area is None
    assert [group.name for group in alice.groups.all()] == ["审计员"]
    client.force_login(alice)
    assert client.get(reverse("audit")).status_code == 200
    assert client.get(reverse("members:list")).status_code == 403
    granted = AuditEvent.objects.get(object_type="tongzhan.user", object_id=str(alice.pk))
    assert granted.username == "grace" and granted.detail["changed"] == {
        "auditor": "granted",
        "previous_role": "community",
    }

    _command("revoke_auditor", "alice", "--by", "grace")
    alice = User.objects.get(username="alice")
    assert not alice.is_auditor and not alice.is_active
    assert AuditEvent.objects.filter(detail__changed__auditor="revoked", username="grace").exists()

    # Never to an administrator, never by someone who is not a superuser, never to oneself.
    other = _user("holly", User.Role.ADMIN, None, is_superuser=True)
    for username, by in (("holly", "grace"), ("grace", "holly")):
        with pytest.raises(CommandError, match="三员分立"):
            _command("grant_auditor", username, "--by", by)
    bob = _user("bob", User.Role.COMMUNITY, community_user.area)
    with pytest.raises(CommandError, match="超级用户"):
        _command("grant_auditor", "bob", "--by", "bob")
    with pytest.raises(CommandError, match="不能更改自己的"):
        _command("grant_auditor", "grace", "--by", "grace")
    assert not User.objects.get(pk=bob.pk).is_auditor
    assert not User.objects.get(pk=other.pk).is_auditor


def test_an_account_holding_both_duties_is_refused_by_the_model_and_the_services(admin_user, areas):
    from django.core.exceptions import ValidationError

    from tongzhan.services import user_set_role

    admin_user.groups.add(Group.objects.get(name="审计员"))
    with pytest.raises(ValidationError, match="既是系统管理员又是审计员"):
        User.objects.get(pk=admin_user.pk).full_clean()
    worker = _user("jack", User.Role.COMMUNITY, areas["140106001001"])
    worker.groups.add(Group.objects.get(name="审计员"))
    with pytest.raises(ValidationError, match="既是系统管理员又是审计员"):
        user_set_role(actor=None, user=worker, role=User.Role.ADMIN, area=None)
    assert User.objects.get(pk=worker.pk).role == "community"


def test_the_log_cannot_be_changed_or_emptied(community_user, member):
    event = AuditEvent.objects.create(action="reveal", username="alice")
    event.username = "someone else"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    if connection.vendor == "postgresql":  # the database refuses too, around the model
        from django.db import DatabaseError, transaction

        for statement in (
            "UPDATE tongzhan_auditevent SET username = 'x'",
            "DELETE FROM tongzhan_auditevent",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert AuditEvent.objects.filter(pk=event.pk, username="alice").exists()


# -- One audit writer: every write in the admin is exactly one line -------------------------


def _admin_cases(areas, community_user):
    """For each model of the admin: (an object to change and delete, the fields to type on
    the add page, the change to make). The admin's own permissions decide which are tried."""
    import datetime

    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from activities import services as activity_services
    from activities.models import ActivityType
    from assessment.models import EvaluationCategory, EvaluationTemplate
    from members.tests.factories import MemberFactory
    from members.tests.helpers import member_form_data

    qiaodong = areas["140106001001"]
    attempt = {"user_agent": "x", "ip_address": "10.0.0.9", "username": "x", "http_accept": "x",
               "path_info": "/login/"}  # fmt: skip
    template = EvaluationTemplate.objects.create(name="模板甲")
    new_member = member_form_data(None, name="新人", community=qiaodong.pk)
    new_member["categories"] = new_member["categories"][0]
    return {
        "tongzhan.area": (
            lambda: areas["140106002001"],
            {"code": "140106002009", "name": "新社区", "level": "community",
             "parent": areas["140106002"].pk},
            {"name": "府东社区"},
        ),
        "tongzhan.user": (
            lambda: community_user,
            {"username": "newbie", "role": "community", "area": qiaodong.pk,
             "password1": "Initial-Pass-2026", "password2": "Initial-Pass-2026"},
            {"first_name": "娜"},
        ),
        "auth.group": (lambda: Group.objects.create(name="值班组"), {"name": "联络组"},
                       {"name": "值班组二"}),
        "tongzhan.auditevent": (lambda: AuditEvent.objects.create(action="login"), {}, {}),
        "otp_totp.totpdevice": (
            lambda: TOTPDevice.objects.create(user=community_user, name="手机"), {}, {}
        ),
        "axes.accessattempt": (
            lambda: AccessAttempt.objects.create(**attempt, get_data="", post_data="",
                                                 failures_since_start=1),
            {}, {},
        ),
        "axes.accesslog": (lambda: AccessLog.objects.create(**attempt), {}, {}),
        "axes.accessfailurelog": (lambda: AccessFailureLog.objects.create(**attempt), {}, {}),
        # Background tasks' results: read only in the admin (django-tasks-db's own).
        "django_tasks_database.dbtaskresult": (lambda: None, {}, {}),
        "members.category": (lambda: None, {}, {}),
        "members.ethnicity": (lambda: None, {}, {}),
        "members.politicalstatus": (lambda: None, {}, {}),
        "members.member": (
            lambda: MemberFactory(community=qiaodong),
            new_member,
            {"workplace": "山西大学"},
        ),
        "activities.activitytype": (
            lambda: ActivityType.objects.create(code="walk", name="健步走"),
            {"code": "tea", "name": "茶话会", "sort_order": "9", "is_active": "on"},
            {"name": "健步行"},
        ),
        "activities.activity": (
            lambda: activity_services.activity_create(
                actor=community_user,
                data={"type": ActivityType.objects.get(code="training"), "title": "学习会",
                      "starts_at": timezone.now(), "area": qiaodong},
            ),
            {"type": ActivityType.objects.get(code="training").pk, "title": "座谈会",
             "starts_at_0": datetime.date.today().isoformat(), "starts_at_1": "09:00:00",
             "area": qiaodong.pk, "other_attendees": "0", "people_served": "0"},
            {"title": "读书会"},
        ),
        "activities.visit": (lambda: None, {}, {}),
        "activities.need": (lambda: None, {}, {}),
        # Notices and tasks: read only in the admin (sent and answered through their pages).
        "liaison.notice": (lambda: None, {}, {}),
        "liaison.task": (lambda: None, {}, {}),
        "liaison.taskcopy": (lambda: None, {}, {}),
        # Organisations, resources and projects: read only in the admin (kept on their pages).
        **dict.fromkeys(
            ["organisations.organisation", "organisations.membership", "organisations.place",
             "resources.resource", "resources.communityneed", "resources.match",
             "resources.project", "resources.projectstep"],
            (lambda: None, {}, {}),
        ),
        # Commendations: read only in the admin (each step through its page and service).
        "commendations.campaign": (lambda: None, {}, {}),
        "commendations.nomination": (lambda: None, {}, {}),
        "assessment.evaluationtemplate": (
            lambda: EvaluationTemplate.objects.create(name="模板乙"),
            {"name": "简化模板"},
            {"name": "模板丙", "notes": "改"},
        ),
        "assessment.evaluationcategory": (
            lambda: EvaluationCategory.objects.create(template=template, name="履职"),
            {"template": template.pk, "name": "作风", "sort_order": "1"},
            {"name": "履职尽责"},
        ),
    }  # fmt: skip


def _registered() -> list[str]:
    from django.contrib import admin

    return sorted(model._meta.label_lower for model in admin.site._registry)


REGISTERED = _registered()
# What the admin lets a superuser do with each model; the test checks that is still so.
WRITES = {
    "tongzhan.area": "add change", "tongzhan.user": "add change",
    "auth.group": "add change delete", "otp_totp.totpdevice": "delete",
    "axes.accessattempt": "delete", "axes.accesslog": "delete",
    "axes.accessfailurelog": "delete", "members.member": "add change",
    "activities.activitytype": "add change", "activities.activity": "add change",
    # Kept on their own pages, whose services refuse to change what a round scored against.
    "assessment.evaluationtemplate": "", "assessment.evaluationcategory": "",
}  # fmt: skip


@pytest.mark.parametrize("label", REGISTERED)
def test_every_write_in_the_admin_is_exactly_one_audit_line(
    client, rf, admin_user, community_user, areas, label
):
    from django.apps import apps
    from django.contrib import admin

    from tests.admin_forms import admin_form_data

    cases = _admin_cases(areas, community_user)
    assert set(cases) == set(REGISTERED), "add the new admin model to _admin_cases"
    make, add, change = cases[label]
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    request = rf.get("/admin/")
    request.user = admin_user
    client.force_login(admin_user)

    def one_line(response):
        assert response.status_code == 302, (
            response.context and response.context["adminform"].form.errors
        )
        assert AuditEvent.objects.count() == before + 1, list(
            AuditEvent.objects.values_list("action", "object_type", "detail")[:5]
        )

    tried = []
    if model_admin.has_add_permission(request):
        tried.append("add")
        page = client.get(reverse(f"{info}_add"))
        before = AuditEvent.objects.count()
        one_line(client.post(reverse(f"{info}_add"), admin_form_data(page, **add)))
    obj = make()
    if obj is not None and model_admin.has_change_permission(request, obj):
        tried.append("change")
        page = client.get(reverse(f"{info}_change", args=[obj.pk]))
        before = AuditEvent.objects.count()
        one_line(
            client.post(reverse(f"{info}_change", args=[obj.pk]), admin_form_data(page, **change))
        )
    if obj is not None and model_admin.has_delete_permission(request, obj):
        tried.append("delete")
        before = AuditEvent.objects.count()
        one_line(client.post(reverse(f"{info}_delete", args=[obj.pk]), {"post": "yes"}))
        assert not model.objects.filter(pk=obj.pk).exists()
    assert " ".join(tried) == WRITES.get(label, "")


@needs_libreoffice
def test_the_export_shows_a_formula_typed_as_a_user_name_as_text(client, auditor, tmp_path):
    names = ["=2*21", '=HYPERLINK("http://x","y")']
    for name in names:
        client.post(reverse("login"), {"username": name, "password": "wrong-password-9"})
    client.force_login(auditor)
    content = client.get(reverse("audit_export"), {"action": "login_failed"}).content
    sheet = load_workbook(io.BytesIO(content)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    rows = csv_rows(content, tmp_path)
    assert sorted(row[1] for row in rows[1:]) == sorted(names)  # not 42, not a link
