"""Other offices' roster templates (issue 14): the usual spellings of the columns, the street
that tells apart communities of the same name, a separate 职务, and columns nobody knows,
refused until the command's --map/--ignore (or the browser's mapping step) says what they hold.
"""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from conftest import _user
from members import jobs
from members.imports import UnknownColumnsError, roster_import
from members.models import ColumnMapping, ImportJob, Member
from members.roster_reader import RosterFileError
from tongzhan.models import Area, AuditEvent, User
from tongzhan.services import area_merge, area_rename, area_retire

from .factories import id_number_for
from .test_imports import roster

pytestmark = pytest.mark.django_db

# A street office's own template: its own order, 社区名称 and 街道, 工作单位 beside 职务.
OFFICE = (
    *("序号", "街道", "社区名称", "姓名", "性别", "民族"),
    *("身份证号码", "政治面貌", "工作单位", "职务", "人员类别"),
)


def office_row(
    name="陈一", community="桥东一社区", street="柳巷街道", workplace="桥东小学", position="校长"
):
    number = id_number_for()
    return (
        1,
        street,
        community,
        name,
        "男",
        "汉族",
        number,
        "群众",
        workplace,
        position,
        "党外知识分子",
    )


def office(*rows, titles=OFFICE):
    return roster(*rows, titles=titles)


def run(data, **options):
    return roster_import(actor=None, data=data, filename="街道花名册.xlsx", **options)


def reasons(report):
    return {(error.row, error.column): error.message for error in report.refused}


@pytest.fixture
def twin_community(areas):
    """A second 桥东一社区, in 文庙街道."""
    return Area.objects.create(
        code="140106002002", name="桥东一社区", level="community", parent=areas["140106002"]
    )


def test_another_offices_template_imports_with_street_community_name_and_position(areas):
    second = office_row("陈二", community="五一二社区居委会", position="")
    report = run(office(office_row("陈一"), second))
    assert (report.created, report.refused) == (2, [])
    first, second = Member.objects.get(name="陈一"), Member.objects.get(name="陈二")
    assert first.community.code == "140106001001"
    # 职务 joins the workplace: the registry keeps one 工作单位及职务.
    assert first.workplace == "桥东小学校长"
    assert (second.community.code, second.workplace) == ("140106001002", "桥东小学")


def test_a_community_is_matched_whatever_its_committee_ending(areas):
    rows = [
        office_row("陈一", community="桥东一社区居委会", street=""),
        office_row("陈二", community="桥东一居委会", street="柳巷街道办事处"),
        office_row("陈三", community="桥东一", street="140106001"),
    ]
    report = run(office(*rows, titles=[*OFFICE[:2], "居委会", *OFFICE[3:]]))
    assert (report.created, report.refused) == (3, [])
    assert set(Member.objects.values_list("community__code", flat=True)) == {"140106001001"}


def test_areas_kept_under_their_official_names_match_the_names_rosters_use(areas):
    # The statistics bureau names them 桥东一社区居委会; rosters write 桥东一社区 or 桥东一居委会.
    Area.objects.filter(code="140106001001").update(name="桥东一社区居委会")
    Area.objects.filter(code="140106001").update(name="柳巷街道办事处")
    rows = [
        office_row("陈一", community="桥东一社区"),
        office_row("陈二", community="桥东一居委会"),
    ]
    report = run(office(*rows))
    assert (report.created, report.refused) == (2, [])


def test_a_position_the_workplace_already_names_is_not_written_twice(areas):
    report = run(office(office_row("陈一", workplace="桥东小学校长", position="校长")))
    assert report.created == 1
    assert Member.objects.get().workplace == "桥东小学校长"


def test_a_position_without_a_workplace_column_fills_the_workplace(areas):
    titles = [title for title in OFFICE if title != "工作单位"]
    row = [value for index, value in enumerate(office_row()) if index != 8]
    assert run(office(row, titles=titles)).created == 1
    assert Member.objects.get().workplace == "校长"


def test_communities_of_the_same_name_are_told_apart_by_the_street(areas, twin_community):
    report = run(
        office(
            office_row("陈一", street="柳巷街道"),
            office_row("陈二", street="文庙街道"),
            office_row("陈三", street=""),
        )
    )
    assert report.created == 2
    assert Member.objects.get(name="陈一").community.code == "140106001001"
    assert Member.objects.get(name="陈二").community == twin_community
    # Without its street the row is refused, naming the streets that have such a community.
    message = reasons(report)[(5, "社区名称")]
    assert "柳巷街道、文庙街道" in message and "街道" in message


def test_without_a_street_column_a_shared_name_is_refused_naming_streets(areas, twin_community):
    report = run(
        roster(
            ("陈一", "汉族", id_number_for(), "群众", "桥东一社区居委会"),
            titles=("姓名", "民族", "公民身份号码", "政治面貌", "社区名称"),
        )
    )
    assert report.created == 0
    assert "柳巷街道、文庙街道" in reasons(report)[(3, "社区名称")]


def test_a_row_whose_street_does_not_hold_its_community_is_refused(areas):
    report = run(office(office_row("陈一", community="五一二社区", street="文庙街道")))
    assert report.created == 0
    message = reasons(report)[(3, "社区名称")]
    assert "文庙街道" in message and "柳巷街道" in message


def test_a_community_merged_away_is_refused_naming_where_it_went(district_user, areas):
    # A roster kept before 五一二社区 was merged (撤并) into 桥东一社区 still names it.
    area_merge(actor=None, source=areas["140106001002"], target=areas["140106001001"])
    report = roster_import(
        actor=district_user,
        data=office(office_row("陈一", community="五一二社区居委会")),
        filename="街道花名册.xlsx",
        dry_run=True,
    )
    assert report.created == 0
    assert (
        reasons(report)[(3, "社区名称")]
        == "“五一二社区居委会”已撤并入桥东一社区：请改填“桥东一社区”。"
    )


def test_a_community_renamed_is_refused_naming_what_it_is_called_now(district_user, areas):
    # A roster kept before 五一二社区 was renamed (更名) still names it.
    area_rename(actor=None, area=areas["140106001002"], name="五一新社区")
    report = roster_import(
        actor=district_user,
        data=office(office_row("陈一", community="五一二社区居委会")),
        filename="街道花名册.xlsx",
        dry_run=True,
    )
    assert report.created == 0
    assert (
        reasons(report)[(3, "社区名称")]
        == "“五一二社区居委会”已更名为“五一新社区”：请改填“五一新社区”。"
    )


def test_a_community_abolished_is_refused_as_abolished(district_user, areas):
    area_retire(actor=None, area=areas["140106002001"])
    report = roster_import(
        actor=district_user,
        data=office(office_row("陈一", community="140106002001", street="")),
        filename="街道花名册.xlsx",
        dry_run=True,
    )
    assert reasons(report)[(3, "社区名称")] == "“140106002001”已撤销：请填写此人现在所属的社区。"


def test_a_street_out_of_reach_is_refused_in_the_street_column(district_user):
    # erin's reach is 迎泽区; 坞城街道 is in 小店区.
    report = roster_import(
        actor=district_user,
        data=office(office_row(street="坞城街道")),
        filename="街道花名册.xlsx",
        dry_run=True,
    )
    assert report.created == 0
    assert "坞城街道" in reasons(report)[(3, "街道")]


UNKNOWN = ("姓名", "民族", "公民身份号码", "政治面貌", "所属社区", "类别", "手机2", "入党时间")


def unknown_roster():
    return roster(
        (
            "陈一",
            "汉族",
            id_number_for(),
            "群众",
            "桥东一社区",
            "党外知识分子",
            "13812345678",
            "2001-07",
        ),
        titles=UNKNOWN,
    )


def test_a_column_nobody_knows_stops_the_import_until_mapped_or_ignored(areas):
    with pytest.raises(UnknownColumnsError) as error:
        run(unknown_roster())
    assert error.value.unknown == ["手机2", "入党时间"]
    assert "手机2、入党时间" in error.value.message and not Member.objects.exists()
    # Telling only one of them is not enough: the other still stops it.
    with pytest.raises(UnknownColumnsError) as error:
        run(unknown_roster(), columns={"手机2": "phone"})
    assert error.value.unknown == ["入党时间"]
    report = run(unknown_roster(), columns={"手机2": "phone", "入党时间": ""})
    assert (report.created, report.refused) == (1, [])
    assert Member.objects.get().phone == "13812345678"


def test_a_mapping_naming_no_unknown_column_of_the_file_is_refused(areas):
    with pytest.raises(RosterFileError) as error:
        run(unknown_roster(), columns={"手机2": "phone", "入党时间": "", "党龄": ""})
    assert "党龄" in error.value.message


def test_the_same_header_set_gives_the_same_key_whatever_the_order(areas):
    keys = set()
    for titles in (UNKNOWN, tuple(reversed(UNKNOWN))):
        with pytest.raises(UnknownColumnsError) as error:
            run(roster(titles=titles))
        keys.add(error.value.key)
    assert len(keys) == 1


def test_command_refuses_an_unknown_column_then_imports_with_map_and_ignore(areas, tmp_path):
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(unknown_roster())
    with pytest.raises(CommandError) as error:
        call_command("import_members", str(path), stdout=io.StringIO())
    assert "手机2" in str(error.value) and "--map" in str(error.value)
    assert not Member.objects.exists()
    with pytest.raises(CommandError) as error:
        call_command("import_members", str(path), "--map", "手机2=电话号码本", stdout=io.StringIO())
    assert "联系电话(phone)" in str(error.value)
    out = io.StringIO()
    call_command(
        "import_members", str(path), "--map", "手机2=联系电话", "--ignore", "入党时间", stdout=out
    )
    assert "1" in out.getvalue() and Member.objects.get().phone == "13812345678"


# -- The browser's mapping step -----------------------------------------------------------------


def upload(client, data, name="街道花名册.xlsx"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("members:import_create"), {"file": file})


def test_an_upload_with_an_unknown_column_asks_what_it_holds_before_any_check(
    client, district_user
):
    client.force_login(district_user)
    response = upload(client, unknown_roster())
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.MAPPING and job.unknown_columns == ["手机2", "入党时间"]
    assert not job.check_report and not job.rows.exists()  # nothing checked yet
    page = client.get(response["Location"]).content.decode()
    assert 'id="column-mapping"' in page and "手机2" in page and "不导入" in page
    assert 'id="confirm-import"' not in page
    # An answer must be given for every column.
    columns = reverse("members:import_columns", args=[job.pk])
    refused = client.post(columns, {"column_0": "phone"})
    assert refused.status_code == 200 and "column-mapping" in refused.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.MAPPING
    response = client.post(columns, {"column_0": "phone", "column_1": "-"})
    assert response["Location"] == reverse("members:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED and job.check_report["created"] == 1
    assert job.columns == {"手机2": "phone", "入党时间": ""}
    assert AuditEvent.objects.filter(detail__step="columns").count() == 1
    client.post(reverse("members:import_confirm", args=[job.pk]))
    assert Member.objects.get().phone == "13812345678"


def test_the_answer_is_offered_again_for_the_uploaders_next_file_with_the_same_headers(
    client, district_user, areas
):
    client.force_login(district_user)
    upload(client, unknown_roster())
    first = ImportJob.objects.get()
    client.post(
        reverse("members:import_columns", args=[first.pk]), {"column_0": "phone", "column_1": "-"}
    )
    # The same headers in another order: offered, but still asked (nothing dropped silently).
    upload(client, roster(titles=tuple(reversed(UNKNOWN))))
    second = ImportJob.objects.exclude(pk=first.pk).get()
    assert second.state == ImportJob.State.MAPPING
    page = client.get(reverse("members:import_detail", args=[second.pk])).content.decode()
    assert 'id="columns-offered"' in page
    assert '<option value="-" selected>' in page and '<option value="phone" selected>' in page
    # Another uploader is not offered erin's answer.
    other = _user("emma", User.Role.DISTRICT, areas["140106"])
    client.force_login(other)
    upload(client, unknown_roster())
    third = ImportJob.objects.get(created_by=other)
    page = client.get(reverse("members:import_detail", args=[third.pk])).content.decode()
    assert 'id="columns-offered"' not in page and '<option value="phone" selected>' not in page


def test_only_the_uploader_or_an_administrator_names_the_columns(
    client, district_user, areas, admin_user
):
    client.force_login(district_user)
    upload(client, unknown_roster())
    job = ImportJob.objects.get()
    colleague = _user("emma", User.Role.DISTRICT, areas["140106"])
    client.force_login(colleague)
    columns = reverse("members:import_columns", args=[job.pk])
    assert client.post(columns, {"column_0": "phone", "column_1": "-"}).status_code == 403
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert 'id="column-mapping"' not in page and "手机2" in page
    client.force_login(admin_user)
    assert client.post(columns, {"column_0": "phone", "column_1": "-"}).status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED
    # Saved for the uploader, whose next file it is.
    assert ColumnMapping.objects.get().user == district_user


def test_a_job_waiting_for_its_columns_expires_like_an_unconfirmed_one(client, district_user):
    client.force_login(district_user)
    upload(client, unknown_roster())
    ImportJob.objects.update(created_at=timezone.now() - datetime.timedelta(days=8))
    jobs.jobs_expire()
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.CANCELLED and job.data is None


def test_a_job_waiting_for_its_columns_can_be_cancelled(client, district_user):
    client.force_login(district_user)
    upload(client, unknown_roster())
    job = ImportJob.objects.get()
    client.post(reverse("members:import_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED and job.data is None
    columns = reverse("members:import_columns", args=[job.pk])
    response = client.post(columns, {"column_0": "phone", "column_1": "-"})
    assert response["Location"] == reverse("members:import_detail", args=[job.pk])
    assert not ColumnMapping.objects.exists()


def test_the_service_refuses_an_answer_that_leaves_a_column_out_or_names_no_field(
    client, district_user
):
    client.force_login(district_user)
    upload(client, unknown_roster())
    job = ImportJob.objects.get()
    for columns in ({"手机2": "phone"}, {"手机2": "phone", "入党时间": "party_date"}):
        with pytest.raises(ValidationError):
            jobs.job_name_columns(actor=district_user, job=job, columns=columns)
    job.refresh_from_db()
    assert job.state == ImportJob.State.MAPPING and not ColumnMapping.objects.exists()


def test_the_refused_rows_file_shows_whole_numbers_whatever_the_office_calls_the_columns(
    areas,
):
    """身份证号 and 社区名称 are the import's id_number and community: the file of refused rows
    gives them the roster's widths, so an 18-digit number is not cut."""
    import io

    from openpyxl import load_workbook

    from members.exports import WIDTHS, refused_rows_bytes

    titles = tuple("身份证号" if title == "身份证号码" else title for title in OFFICE)
    data = office(office_row("陈一", community="没有这个社区"), titles=titles)
    report = run(data, dry_run=True)
    assert report.refused
    sheet = load_workbook(
        io.BytesIO(refused_rows_bytes(data, "街道花名册.xlsx", report.refused))
    ).active
    widths = {
        sheet.cell(1, column).value: sheet.column_dimensions[
            sheet.cell(1, column).column_letter
        ].width
        for column in range(1, len(titles) + 1)
    }
    assert widths["身份证号"] >= WIDTHS["id_number"]
    assert widths["社区名称"] >= WIDTHS["community"]
