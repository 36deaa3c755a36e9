"""The import's preview and result list the people, a page at a time, and link to them."""

import io
import json
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from members.models import ImportJob, ImportRow, Member
from tongzhan.filters import MAX_ID
from tongzhan.tests.libreoffice import csv_rows, needs_libreoffice

from .factories import MemberFactory, id_number_for
from .test_import_jobs import upload
from .test_imports import person, roster

pytestmark = pytest.mark.django_db

TITLES = (
    "姓名",
    "性别",
    "民族",
    "公民身份号码",
    "政治面貌",
    "所属社区",
    "统战对象类别",
    "联系电话",
)


def detail(client, job, **query):
    url = reverse("members:import_detail", args=[job.pk])
    response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


def names_listed(page: str) -> list[str]:
    body = page.split('class="table compact responsive import-rows', 1)[1].split("</table>")[0]
    return re.findall(r'data-label="姓名">(?:<a href="[^"]*">)?([^<]*)', body)


@pytest.fixture
def mixed(client, district_user, areas):
    """30 new people, one known person whose phone and status change, one unchanged, one
    refused: uploaded and checked by the district officer."""
    community = areas["140106001001"]
    changing = MemberFactory(
        name="老周", community=community, id_number=id_number_for(), phone="13812345678"
    )
    same = MemberFactory(name="老吴", community=community, id_number=id_number_for())
    rows = [(*person(f"新人{index:02d}"), "") for index in range(30)]
    rows.append(
        (*person("老周", number=changing.id_number, status="民盟"), "13987654321"),
    )
    rows.append(
        (
            "老吴",
            "",
            same.ethnicity.name,
            same.id_number,
            same.political_status.name,
            "桥东一社区",
            "、".join(category.name for category in same.categories.all()),
            "",
        )
    )
    rows.append((*person("错类别", category="热心群众"), ""))
    client.force_login(district_user)
    upload(client, roster(*rows, titles=TITLES))
    job = ImportJob.objects.get()
    return job, changing, same


def test_the_preview_lists_the_new_people_25_a_page_with_masked_numbers(client, mixed):
    job, *_known = mixed
    assert job.check_report["created"] == 30
    first = detail(client, job)
    assert names_listed(first) == [f"新人{index:02d}" for index in range(25)]
    assert "第 1–25 条，共 30 条" in first and "第 1 页，共 2 页" in first
    second = detail(client, job, kind="created", page=2)
    assert names_listed(second) == [f"新人{index:02d}" for index in range(25, 30)]
    # Masked ID numbers, the community, and no full number anywhere on the page.
    new = ImportRow.objects.get(job=job, name="新人00")
    assert new.id_number_masked in first and "桥东一社区" in first
    assert re.fullmatch(r"140106\*{8}[0-9]{3}[0-9X]", new.id_number_masked)
    assert not re.search(r"[0-9]{17}[0-9X]", first + second)


def test_the_preview_shows_each_change_masked_and_the_other_kinds(client, mixed):
    job, changing, same = mixed
    page = detail(client, job, kind="updated")
    assert names_listed(page) == ["老周"]
    assert "政治面貌" in page and "中国民主同盟盟员" in page
    # The phone's before and after, masked: the full numbers are never shown.
    assert "138****5678" in page and "139****4321" in page
    assert "13812345678" not in page and "13987654321" not in page
    assert changing.id_number not in page
    unchanged = detail(client, job, kind="unchanged")
    assert names_listed(unchanged) == ["老吴"]
    refused = detail(client, job, kind="refused")
    assert names_listed(refused) == ["错类别"]
    assert "统战对象类别" in refused and "热心群众" in refused
    # An unknown kind or page falls back to the first kind with rows and its last page.
    assert names_listed(detail(client, job, kind="nonsense", page="999"))[0] == "新人25"


def test_the_report_stays_a_few_counts_however_many_rows(client, mixed):
    job, *_known = mixed
    assert set(job.check_report) == {
        "created",
        "updated",
        "unchanged",
        "nominated",
        "not_informed",
        "refused_count",
        "refused_rows",
        "written",
    }
    assert len(json.dumps(job.check_report)) < 200
    assert ImportRow.objects.filter(job=job).count() == 33


def test_other_uploaders_jobs_are_not_found(client, mixed, other_district_user):
    job, *_known = mixed
    client.force_login(other_district_user)
    url = reverse("members:import_detail", args=[job.pk])
    assert client.get(url, {"kind": "created", "page": 2}).status_code == 404


def test_the_result_links_to_exactly_the_members_it_registered_or_changed(
    client, mixed, district_user, member
):
    job, changing, same = mixed
    client.post(reverse("members:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    page = detail(client, job)
    members_url = f"{reverse('members:list')}?import={job.pk}"
    assert f'href="{members_url}"' in page
    # The result's rows link to the people written.
    created = Member.objects.get(name="新人00")
    assert reverse("members:detail", args=[created.pk]) in page
    listed = client.get(reverse("members:list"), {"import": job.pk, "per_page": 100})
    listed = listed.content.decode()
    shown = set(re.findall(r'<a href="/members/[0-9]+/">([^<]+)</a>', listed))
    assert shown == {f"新人{index:02d}" for index in range(30)} | {"老周"}
    assert "31 人" in listed


def test_the_import_filter_stays_in_the_users_scope(client, mixed, other_district_user, admin_user):
    job, *_known = mixed
    client.post(reverse("members:import_confirm", args=[job.pk]))
    members_url = reverse("members:list")
    # Another district's officer sees neither the import nor its people.
    client.force_login(other_district_user)
    page = client.get(members_url, {"import": job.pk}).content.decode()
    assert "新人00" not in page and "老周" not in page
    # An administrator sees them all.
    client.force_login(admin_user)
    page = client.get(members_url, {"import": job.pk, "per_page": 100}).content.decode()
    assert "新人29" in page and "老周" in page and "老吴" not in page


@pytest.mark.parametrize("value", ["abc", "0", "-1", str(MAX_ID + 1), "1e400", "１２"])
def test_a_bad_import_number_is_a_form_error(client, district_user, member, value):
    client.force_login(district_user)
    response = client.get(reverse("members:list"), {"import": value})
    assert response.status_code == 200
    assert "张三" not in response.content.decode()


def test_the_refused_rows_keep_id_and_phone_columns_as_text(client, district_user):
    client.force_login(district_user)
    upload(client, roster((*person("陈三", category="热心群众"), ""), titles=TITLES))
    job = ImportJob.objects.get()
    content = client.get(reverse("members:import_refused", args=[job.pk])).content
    sheet = load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    id_cell, phone_cell = (
        sheet.cell(2, header.index(title) + 1) for title in ("公民身份号码", "联系电话")
    )
    # The phone cell is empty and still text: a number typed there stays text.
    assert (id_cell.number_format, phone_cell.number_format) == ("@", "@")
    assert phone_cell.value is None
    assert sheet.cell(2, header.index("姓名") + 1).number_format == "General"


@needs_libreoffice
def test_an_id_number_typed_into_the_refused_rows_stays_18_digits(client, district_user, tmp_path):
    client.force_login(district_user)
    upload(client, roster((*person("陈三", category="热心群众"), ""), titles=TITLES))
    job = ImportJob.objects.get()
    content = client.get(reverse("members:import_refused", args=[job.pk])).content
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    column = header.index("公民身份号码") + 1
    # The office types the corrected number over the old one, in the text-formatted cell.
    sheet.cell(2, column).value = "110105198001011234"
    assert sheet.cell(2, column).number_format == "@"
    out = io.BytesIO()
    book.save(out)
    rows = csv_rows(out.getvalue(), tmp_path)
    assert rows[1][column - 1] == "110105198001011234"
