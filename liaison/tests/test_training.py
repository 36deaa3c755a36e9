"""Training sessions: who organises, who may attend, hours per person, year, area and street."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from conftest import _user
from liaison import services
from liaison.models import Attendance, Training
from tongzhan.models import Area, User

pytestmark = pytest.mark.django_db


def training(actor, area, hours="3", date=datetime.date(2026, 5, 1), title="统战委员培训"):
    return services.training_create(
        actor=actor,
        data={"area": area, "title": title, "date": date, "hours": D(hours), "place": "会议室"},
    )


def test_a_street_organises_for_its_communities_and_no_one_else(
    areas, street_user, community_user, neighbour_user, other_street_user, district_user
):
    session = training(street_user, areas["140106001"])
    services.training_attendance_set(
        actor=street_user, training=session, users=[community_user, neighbour_user, street_user]
    )
    assert set(session.attendances.values_list("hours", flat=True)) == {D(3)}
    with pytest.raises(ValidationError) as refused:
        services.training_attendance_set(
            actor=street_user, training=session, users=[other_street_user]
        )
    assert refused.value.message_dict["users"] == [
        "dora 不能登记参训：柳巷街道的培训只登记本级及下级区域的工作人员。"
    ]
    with pytest.raises(PermissionDenied):
        training(community_user, areas["140106001"])
    with pytest.raises(PermissionDenied):
        services.training_attendance_set(
            actor=other_street_user, training=session, users=[other_street_user]
        )
    # The district above may keep it too.
    services.training_attendance_set(actor=district_user, training=session, users=[street_user])
    assert list(session.attendances.values_list("user", flat=True)) == [street_user.pk]


@pytest.mark.parametrize("hours", ["0", "24.5", "-1"])
def test_a_session_lasts_more_than_nothing_and_at_most_a_day(areas, street_user, hours):
    with pytest.raises(ValidationError) as refused:
        training(street_user, areas["140106001"], hours=hours)
    assert "hours" in refused.value.error_dict


def test_changed_hours_follow_to_those_who_had_the_sessions(
    areas, street_user, community_user, neighbour_user
):
    session = training(street_user, areas["140106001"], hours="3")
    services.training_attendance_set(
        actor=street_user, training=session, users=[community_user, neighbour_user],
        hours={neighbour_user.pk: D("1.5")},
    )  # fmt: skip
    services.training_update(
        actor=street_user, training=session,
        data={"area": areas["140106001"], "title": "培训", "date": session.date, "hours": D(4),
              "place": "", "notes": ""},
    )  # fmt: skip
    hours = dict(session.attendances.values_list("user", "hours"))
    assert hours == {community_user.pk: D(4), neighbour_user.pk: D("1.5")}


def test_hours_by_area_and_by_user_count_a_year(
    areas, street_user, district_user, community_user, neighbour_user
):
    first = training(street_user, areas["140106001"], hours="3")
    second = training(district_user, areas["140106"], hours="2.5")
    last_year = training(district_user, areas["140106"], date=datetime.date(2025, 12, 31))
    for session, users in (
        (first, [community_user, neighbour_user]),
        (second, [community_user, street_user]),
        (last_year, [community_user]),
    ):
        services.training_attendance_set(actor=district_user, training=session, users=users)
    by_area = Attendance.objects.hours_by_area(2026)
    assert by_area == {
        areas["140106001001"].pk: D("5.5"),
        areas["140106001002"].pk: D(3),
        areas["140106001"].pk: D("2.5"),
    }
    assert Attendance.objects.hours_by_area(2025) == {areas["140106001001"].pk: D(3)}
    assert Attendance.objects.hours_by_user(2026)[community_user.pk] == D("5.5")


def test_my_hours_page_lists_a_years_sessions_and_total(client, areas, street_user, community_user):
    session = training(street_user, areas["140106001"], hours="3")
    services.training_attendance_set(actor=street_user, training=session, users=[community_user])
    client.force_login(community_user)
    response = client.get(reverse("liaison:training_hours"), {"year": 2026})
    assert response.context["total"] == D(3)
    assert [a.training for a in response.context["attendances"]] == [session]
    assert client.get(reverse("liaison:training_hours"), {"year": 2024}).context["total"] == 0


def test_the_street_table_lists_every_worker_with_hours(
    client, areas, street_user, district_user, community_user, neighbour_user, other_street_user
):
    session = training(street_user, areas["140106001"], hours="3")
    services.training_attendance_set(actor=street_user, training=session, users=[community_user])
    client.force_login(street_user)
    response = client.get(reverse("liaison:training_street_hours"), {"year": 2026})
    rows = [(row["user"], row["area"].name, row["hours"]) for row in response.context["rows"]]
    assert rows == [
        (street_user, "柳巷街道", D(0)),
        (community_user, "桥东一社区", D(3)),
        (neighbour_user, "五一二社区", D(0)),
    ]
    assert response.context["total"] == D(3)
    # The district picks a street; another street's is 404 to a street.
    client.force_login(district_user)
    other = areas["140106002"]
    response = client.get(reverse("liaison:training_street_hours"), {"street": other.pk})
    assert [row["user"] for row in response.context["rows"]] == [other_street_user]
    client.force_login(street_user)
    assert (
        client.get(reverse("liaison:training_street_hours"), {"street": other.pk}).status_code
        == 404
    )
    client.force_login(community_user)
    assert client.get(reverse("liaison:training_street_hours")).status_code == 403


def test_the_attendance_form_groups_accounts_by_area_and_saves(
    client, areas, street_user, community_user, neighbour_user
):
    session = training(street_user, areas["140106001"])
    client.force_login(street_user)
    url = reverse("liaison:training_attendance", args=[session.pk])
    response = client.get(url)
    groups = [(group["area"].name, len(group["boxes"])) for group in response.context["groups"]]
    assert groups == [("柳巷街道", 1), ("桥东一社区", 1), ("五一二社区", 1)]
    # bob left after an hour and a half.
    response = client.post(
        url, {"users": [community_user.pk, neighbour_user.pk], f"hours_{neighbour_user.pk}": "1.5"}
    )
    assert response.status_code == 302
    assert dict(session.attendances.values_list("user", "hours")) == {
        community_user.pk: D(3), neighbour_user.pk: D("1.5"),
    }  # fmt: skip
    response = client.post(url, {"users": [neighbour_user.pk], f"hours_{neighbour_user.pk}": "5"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "参训学时须大于 0 且不超过本次培训的 3.0 学时。"
    ]
    response = client.post(url, {"users": [neighbour_user.pk], f"hours_{neighbour_user.pk}": "半"})
    assert response.context["form"].errors["users"] == ["学时请填写数字，如 2.5。"]
    client.force_login(community_user)
    assert client.get(url).status_code == 403


def test_create_through_the_page_then_attendance(client, areas, street_user):
    client.force_login(street_user)
    response = client.post(
        reverse("liaison:training_create"),
        {"area": areas["140106001"].pk, "title": "培训", "date": "2026-05-01", "hours": "2",
         "place": "", "notes": ""},
    )  # fmt: skip
    session = Training.objects.get()
    assert response.url == reverse("liaison:training_attendance", args=[session.pk])


def test_lists_ask_a_fixed_number_of_queries(
    client, areas, street_user, community_user, django_assert_max_num_queries
):
    for number in range(30):
        session = training(street_user, areas["140106001"], title=f"培训{number}")
        services.training_attendance_set(
            actor=street_user, training=session, users=[community_user, street_user]
        )
    client.force_login(community_user)
    with django_assert_max_num_queries(11):  # 10, and the header's to-do count
        response = client.get(reverse("liaison:training_list"))
    assert len(response.context["trainings"]) == 25
    with django_assert_max_num_queries(10):
        client.get(reverse("liaison:training_hours"), {"year": 2026})
    client.force_login(street_user)
    for number in range(20):
        _user(f"w{number}", User.Role.COMMUNITY, areas["140106001002"])
    with django_assert_max_num_queries(10):
        client.get(reverse("liaison:training_street_hours"), {"year": 2026})
    with django_assert_max_num_queries(14):
        response = client.get(reverse("liaison:training_attendance", args=[session.pk]))
    assert sum(len(group["boxes"]) for group in response.context["groups"]) == 22


def test_trainings_move_with_a_merged_area(areas, district_user):
    target = Area.objects.create(
        code="140106001003", name="新社区", level="community", parent=areas["140106001"]
    )
    session = training(district_user, areas["140106001"])
    Training.objects.filter(pk=session.pk).update(area=areas["140106001001"])
    assert services.area_trainings_count(areas["140106001001"]) == 1
    services.area_trainings_move(actor=district_user, source=areas["140106001001"], target=target)
    assert Training.objects.get().area == target


def test_the_street_table_downloads_as_a_spreadsheet(client, areas, street_user, community_user):
    session = training(street_user, areas["140106001"], hours="3")
    services.training_attendance_set(actor=street_user, training=session, users=[community_user])
    client.force_login(street_user)
    response = client.get(reverse("liaison:training_street_hours_export"), {"year": 2026})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "柳巷街道2026年统战委员培训学时"
    assert rows[1:] == [
        ["账号", "区域", "学时"],
        ["charlie", "柳巷街道", 0],
        ["王丽", "桥东一社区", 3],
        ["合计", None, 3],
    ]


def test_the_area_movers_are_registered_with_the_kernel():
    from tongzhan.services import AREA_MOVERS

    labels = {str(mover.label) for mover in AREA_MOVERS}
    assert {"学习资料", "培训"} <= labels


def test_the_audit_log_tells_the_library_and_training_in_chinese(
    client, areas, street_user, community_user, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_audit_words import TableText, latin_words

    settings.MEDIA_ROOT = tmp_path
    material = services.material_publish(
        actor=street_user,
        data={"area": areas["140106001"], "kind": "case", "title": "案例", "body": ""},
        uploads=[SimpleUploadedFile("案例.pdf", b"%PDF-1.7\n0", "application/pdf")],
    )
    services.material_update(
        actor=street_user, material=material,
        data={"area": areas["140106001"], "kind": "policy", "title": "政策", "body": "正文",
              "receipt_asked": True},
    )  # fmt: skip
    services.material_file_remove(actor=street_user, attached=material.files.get())
    session = training(street_user, areas["140106001"])
    services.training_update(
        actor=street_user, training=session,
        data={"area": areas["140106001"], "title": "培训", "date": session.date, "hours": D(2),
              "place": "", "notes": ""},
        materials=[material],
    )  # fmt: skip
    services.training_attendance_set(actor=street_user, training=session, users=[community_user])
    client.force_login(street_user)
    client.get(reverse("liaison:training_street_hours_export"), {"year": 2026})
    client.force_login(_user("ivan", User.Role.AUDITOR, None))
    response = client.get(reverse("audit"))
    parser = TableText()
    parser.feed(response.content.decode())
    # The account name and the file name (案例.pdf) are as they were written.
    assert [word for word in latin_words(parser.texts) if word not in ("charlie", "pdf")] == []
    page = " ".join(parser.texts)
    assert "参训人数：1" in page and "报表：培训学时表" in page


def test_a_disabled_account_keeps_its_attendance_and_hours(
    client, areas, street_user, community_user, neighbour_user
):
    session = training(street_user, areas["140106001"], hours="3")
    services.training_attendance_set(
        actor=street_user, training=session, users=[community_user, neighbour_user]
    )
    User.objects.filter(pk=neighbour_user.pk).update(is_active=False)
    client.force_login(street_user)
    url = reverse("liaison:training_attendance", args=[session.pk])
    # bob is no longer offered; saving the others keeps him.
    response = client.get(url)
    boxes = [account for group in response.context["groups"] for account, _box in group["boxes"]]
    assert neighbour_user not in boxes
    client.post(url, {"users": [community_user.pk]})
    assert set(session.attendances.values_list("user", flat=True)) == {
        community_user.pk, neighbour_user.pk,
    }  # fmt: skip
    rows = services.workers_hours(areas["140106001"], session.date.year)
    assert [(row["user"], row["hours"]) for row in rows if row["hours"]] == [
        (community_user, D(3)), (User.objects.get(pk=neighbour_user.pk), D(3)),
    ]  # fmt: skip
