"""The Django admin (a superuser's) reads through the same scope and writes through the same
services; an administrator limited to an area works on the application's pages."""

import pytest
from django.urls import reverse

from members.models import Member
from tongzhan.models import User
from tongzhan.services import user_create

from .helpers import member_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def district_admin(areas):
    """An administrator whose account is limited to 迎泽区."""
    return user_create(
        actor=None, username="henry", password="Zx-9-test-password", role=User.Role.ADMIN,
        area=areas["140106"],
    )  # fmt: skip


def test_a_community_worker_cannot_enter_the_admin(client, community_user):
    client.force_login(community_user)
    response = client.get(reverse("admin:members_member_changelist"))
    assert response.status_code == 302


def test_an_administrator_limited_to_an_area_works_on_the_scoped_pages_not_in_the_admin(
    client, district_admin, member, neighbour_member, far_member
):
    client.force_login(district_admin)
    assert client.get(reverse("admin:members_member_changelist")).status_code == 302
    response = client.get(reverse("members:list"))
    assert {m.name for m in response.context["members"]} == {"张三", "李四"}
    assert client.get(reverse("members:detail", args=[far_member.pk])).status_code == 404


def test_a_system_administrator_without_area_sees_everyone(client, admin_user, member, far_member):
    client.force_login(admin_user)
    response = client.get(reverse("admin:members_member_changelist"))
    assert {m.name for m in response.context["cl"].result_list} == {"张三", "赵六"}


def test_admin_edits_go_through_the_service_and_into_history(client, admin_user, member):
    client.force_login(admin_user)
    data = member_form_data(member, workplace="山西大学")
    data.update(
        {
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
            "changes-MIN_NUM_FORMS": "0",
            "changes-MAX_NUM_FORMS": "0",
        }
    )
    response = client.post(reverse("admin:members_member_change", args=[member.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.workplace == "山西大学"
    change = member.changes.get(action="update")
    assert change.source == "管理后台" and change.actor == admin_user


def test_admin_adds_a_member_through_the_service(client, admin_user, areas):
    client.force_login(admin_user)
    data = member_form_data(None, name="新人", community=areas["140106001001"].pk)
    data.update({"changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0"})
    response = client.post(reverse("admin:members_member_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    member = Member.objects.get(name="新人")
    assert member.changes.get().action == "create"


def test_members_cannot_be_deleted_in_the_admin(client, admin_user, member):
    client.force_login(admin_user)
    response = client.get(reverse("admin:members_member_delete", args=[member.pk]))
    assert response.status_code == 403


def test_audit_log_is_read_only_and_for_auditors_only(client, admin_user, community_user, member):
    from tongzhan.models import AuditEvent
    from tongzhan.services import user_grant_auditor

    client.force_login(community_user)
    client.post(reverse("members:detail", args=[member.pk]))
    client.force_login(admin_user)
    event = AuditEvent.objects.filter(action="reveal").get()
    # Separation of duties: administering does not include reading the log, in the admin
    # or on the log's page ...
    assert client.get(reverse("admin:tongzhan_auditevent_changelist")).status_code == 403
    assert client.get(reverse("audit")).status_code == 403
    # ... nor does anyone change it there.
    assert (
        client.get(reverse("admin:tongzhan_auditevent_delete", args=[event.pk])).status_code == 403
    )
    assert client.get(reverse("admin:tongzhan_auditevent_add")).status_code == 403
    # An auditor reads it on the log's page; the Django admin is a superuser's.
    auditor = user_grant_auditor(actor=admin_user, user=community_user)
    client.force_login(auditor)
    page = client.get(reverse("audit"))
    assert page.status_code == 200 and event in page.context["events"]
    assert client.get(reverse("admin:tongzhan_auditevent_changelist")).status_code == 302


def test_the_area_pickers_of_an_administrator_limited_to_an_area_are_scoped(
    client, district_admin, areas
):
    client.force_login(district_admin)
    form = client.get(reverse("account_create")).context["form"]
    codes = set(form.fields["area"].queryset.values_list("code", flat=True))
    assert "140106001001" in codes and not codes & {"140105", "140105001001"}
    listed = client.get(reverse("account_list")).context["filter"].form.fields["area"]
    assert set(listed.queryset.values_list("code", flat=True)) == codes


def test_an_administrator_limited_to_an_area_cannot_read_the_whole_audit_log(
    client, district_admin
):
    from django.contrib.auth.models import Permission

    district_admin.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client.force_login(district_admin)
    assert client.get(reverse("audit")).status_code == 403
    assert client.get(reverse("admin:tongzhan_auditevent_changelist")).status_code == 302


def test_the_admin_shows_numbers_masked_and_reveals_them_only_on_the_audited_page(
    client, admin_user, member
):
    from tongzhan.models import AuditEvent

    client.force_login(admin_user)
    for page in (
        client.get(reverse("admin:members_member_changelist")),
        client.get(reverse("admin:members_member_change", args=[member.pk])),
    ):
        html = page.content.decode()
        assert page.status_code == 200
        assert member.id_number not in html and member.phone not in html
        assert member.id_number[:6] + "*" * 8 in html or member.id_number_masked in html
    html = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    assert member.phone_masked in html
    assert reverse("members:detail", args=[member.pk]) in html  # the one way to see them
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_saving_the_admin_form_without_retyping_the_numbers_keeps_them(client, admin_user, member):
    from tests.admin_forms import admin_form_data
    from tongzhan.models import AuditEvent

    client.force_login(admin_user)
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    data = admin_form_data(page, workplace="山西大学")
    assert data["id_number"] == "" and data["phone"] == ""
    before = AuditEvent.objects.count()
    response = client.post(reverse("admin:members_member_change", args=[member.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = Member.objects.get(pk=member.pk)
    assert (saved.id_number, saved.phone) == (member.id_number, member.phone)
    assert saved.workplace == "山西大学"
    assert AuditEvent.objects.count() == before + 1
    # A number typed anew replaces the old one.
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    data = admin_form_data(page, phone="13912345678")
    client.post(reverse("admin:members_member_change", args=[member.pk]), data)
    assert Member.objects.get(pk=member.pk).phone == "13912345678"


def test_two_administrators_editing_one_member_lose_nothing(client, admin_user, member):
    """The admin's form is checked like the member page's: the second save of two pages opened
    together is refused, showing what was saved meanwhile beside its own value."""
    from tests.admin_forms import admin_form_data

    client.force_login(admin_user)
    url = reverse("admin:members_member_change", args=[member.pk])
    first = admin_form_data(client.get(url), workplace="山西大学")
    second = admin_form_data(client.get(url), workplace="太原理工大学")
    assert client.post(url, first).status_code == 302
    response = client.post(url, second)
    assert response.status_code == 200
    page = response.content.decode()
    assert "山西大学" in page and "太原理工大学" in page
    assert Member.objects.get(pk=member.pk).workplace == "山西大学"
