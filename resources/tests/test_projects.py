"""Projects introduced through members and organisations (引资引智): scope, the way forward one
stage at a time, masked names, the table per area and period and its export, the merge."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from members.tests.factories import MemberFactory
from organisations.tests.factories import organisation_make
from resources import services
from resources.models import Project, ProjectStep
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

DISTRICT, LIUXIANG, QIAODONG, WUYIER = "140106", "140106001", "140106001001", "140106001002"
WENMIAO = "140106002"
DAY = datetime.date(2026, 3, 2)


def project_make(actor, area, *, member=None, organisation=None, intent_on=DAY, **data):
    fields = {
        "name": "项目", "description": "", "member": member, "organisation": organisation,
        "area": area, "industry": "制造业", "amount_planned": None, "amount_signed": None,
        "amount_in_place": None, "jobs": None,
    }  # fmt: skip
    return services.project_create(actor=actor, data={**fields, **data}, intent_on=intent_on)


def advance(actor, project, *stages, day=DAY):
    for stage in stages:
        services.project_advance(actor=actor, project=project, stage=stage, date=day)
    project.refresh_from_db()
    return project


@pytest.fixture
def lawyer(areas):
    return MemberFactory(name="陈律师", community=areas[QIAODONG])


def test_a_project_moves_on_one_stage_at_a_time_never_back_and_each_step_is_audited(
    areas, community_user, lawyer
):
    project = project_make(community_user, areas[QIAODONG], member=lawyer)
    assert project.stage == "intent"
    with pytest.raises(ValidationError):  # past a stage
        services.project_advance(actor=community_user, project=project, stage="signed", date=DAY)
    advance(community_user, project, "negotiating", "signed")
    for back in ("intent", "negotiating", "signed"):
        with pytest.raises(ValidationError):
            services.project_advance(actor=community_user, project=project, stage=back, date=DAY)
    with pytest.raises(ValidationError):  # before its last step
        services.project_advance(
            actor=community_user, project=project, stage="landed",
            date=DAY - datetime.timedelta(days=1),
        )  # fmt: skip
    advance(community_user, project, "landed")
    assert project.stage == "landed" and not project.is_open
    with pytest.raises(ValidationError):  # landed: it has ended, not even 终止
        services.project_advance(actor=community_user, project=project, stage="dropped", date=DAY)
    assert list(project.steps.values_list("stage", flat=True)) == [
        "intent", "negotiating", "signed", "landed"
    ]  # fmt: skip
    moves = AuditEvent.objects.filter(action="status", object_id=str(project.pk))
    assert [event.detail["stage"] for event in moves.order_by("id")] == [
        "negotiating", "signed", "landed"
    ]  # fmt: skip


def test_a_project_is_dropped_from_any_open_stage_and_then_ends(areas, community_user, lawyer):
    for stages in ((), ("negotiating",), ("negotiating", "signed")):
        project = advance(
            community_user, project_make(community_user, areas[QIAODONG], member=lawyer), *stages
        )
        advance(community_user, project, "dropped")
        assert project.stage == "dropped"
        with pytest.raises(ValidationError):
            advance(community_user, project, "negotiating")


def test_the_writes_keep_to_the_actors_area(
    areas, community_user, neighbour_user, street_user, other_district_user, lawyer
):
    with pytest.raises(ValidationError):  # a community not the actor's
        project_make(community_user, areas[WUYIER], member=lawyer)
    with pytest.raises(ValidationError):  # a member the actor does not see
        project_make(neighbour_user, areas[WUYIER], member=lawyer)
    with pytest.raises(ValidationError):  # both a member and an organisation
        project_make(
            community_user, areas[QIAODONG], member=lawyer,
            organisation=organisation_make(community_user, areas[QIAODONG]),
        )  # fmt: skip
    project = project_make(community_user, areas[QIAODONG], member=lawyer)
    for outsider in (neighbour_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.project_advance(actor=outsider, project=project, stage="negotiating")
    # The street above moves it on.
    services.project_advance(actor=street_user, project=project, stage="negotiating", date=DAY)
    assert ProjectStep.objects.filter(project=project).count() == 2


def test_the_list_is_scoped_filtered_and_names_a_member_masked_outside_her_area(
    client, areas, community_user, neighbour_user, street_user, other_district_user, lawyer,
    django_assert_max_num_queries,
):  # fmt: skip
    # A street's project introduced by alice's member: 五一二's worker sees it, not her name.
    street_project = project_make(street_user, areas[LIUXIANG], member=lawyer, name="街道园区项目")
    project_make(community_user, areas[QIAODONG], member=lawyer, name="桥东项目")
    for number in range(5):  # more rows, no more queries
        project_make(community_user, areas[QIAODONG], member=lawyer, name=f"桥东{number}")
    project_make(street_user, areas[WUYIER], member=MemberFactory(community=areas[WUYIER]),
                 name="五一二项目")  # fmt: skip
    url = reverse("resources:project_list")
    client.force_login(community_user)
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    assert "桥东项目" in page and "五一二项目" not in page and "街道园区项目" not in page
    assert "陈律师" in page
    client.force_login(neighbour_user)
    page = client.get(url).content.decode()
    assert "五一二项目" in page and "桥东项目" not in page
    client.force_login(street_user)
    page = client.get(url).content.decode()
    assert "街道园区项目" in page and "五一二项目" in page and "陈律师" in page
    page = client.get(url, {"area": WUYIER}).content.decode()
    assert "五一二项目" in page and "桥东项目" not in page
    advance(street_user, street_project, "negotiating")
    page = client.get(url, {"stage": "negotiating"}).content.decode()
    assert "街道园区项目" in page and "桥东项目" not in page
    assert "桥东项目" not in client.get(url, {"year": "2025"}).content.decode()
    assert "桥东项目" in client.get(url, {"year": "2026"}).content.decode()
    client.force_login(other_district_user)
    assert "桥东项目" not in client.get(url).content.decode()
    detail = reverse("resources:project_detail", args=[street_project.pk])
    assert client.get(detail).status_code == 404


def test_a_member_introducing_a_project_shows_masked_to_other_areas(
    client, areas, community_user, neighbour_user, street_user, lawyer
):
    # The street puts alice's member's project in 五一二社区: bob sees the project, masked.
    project = project_make(street_user, areas[WUYIER], member=lawyer, name="五一二园区")
    url = reverse("resources:project_detail", args=[project.pk])
    client.force_login(neighbour_user)
    page = client.get(url).content.decode()
    assert "陈**" in page and "陈律师" not in page
    assert "陈**" in client.get(reverse("resources:project_list")).content.decode()
    client.force_login(street_user)
    assert "陈律师" in client.get(url).content.decode()
    client.force_login(community_user)
    assert client.get(url).status_code == 404


def test_the_detail_page_moves_a_project_on_and_refuses_a_step_back(
    client, areas, community_user, neighbour_user, lawyer
):
    project = project_make(community_user, areas[QIAODONG], member=lawyer, name="光伏项目")
    url = reverse("resources:project_advance", args=[project.pk])
    client.force_login(neighbour_user)
    assert client.post(url, {"stage": "negotiating", "date": DAY}).status_code == 404
    client.force_login(community_user)
    page = client.get(reverse("resources:project_detail", args=[project.pk])).content.decode()
    assert "洽谈" in page and "终止" in page and "意向" in page
    response = client.post(url, {"stage": "negotiating", "date": DAY, "note": "首次洽谈"})
    assert response.status_code == 302
    response = client.post(url, {"stage": "intent", "date": DAY}, follow=True)
    project.refresh_from_db()
    assert project.stage == "negotiating"
    assert "首次洽谈" in response.content.decode()


@pytest.fixture
def table_world(areas, community_user, neighbour_user, street_user, district_user):
    """In 2026: two projects landed in 柳巷街道's communities, one signed at the street, one
    dropped; one signed in 2025; one of another street."""
    qiaodong = project_make(
        community_user,
        areas[QIAODONG],
        member=MemberFactory(community=areas[QIAODONG]),
        amount_signed=D("120.50"),
        amount_in_place=D("80"),
        jobs=30,
    )
    advance(
        community_user, qiaodong, "negotiating", "signed", "landed", day=datetime.date(2026, 5, 10)
    )
    wuyier = project_make(
        neighbour_user,
        areas[WUYIER],
        member=MemberFactory(community=areas[WUYIER]),
        amount_signed=D("200"),
        amount_in_place=D("150.25"),
        jobs=12,
        intent_on=datetime.date(2026, 1, 15),
    )
    advance(neighbour_user, wuyier, "negotiating", "signed", day=datetime.date(2026, 2, 1))
    advance(neighbour_user, wuyier, "landed", day=datetime.date(2026, 8, 1))
    chamber = organisation_make(street_user, areas[LIUXIANG], name="柳巷商会")
    street = project_make(street_user, areas[LIUXIANG], organisation=chamber, amount_signed=D(500))
    advance(street_user, street, "negotiating", "signed", day=datetime.date(2026, 11, 3))
    firm = organisation_make(community_user, areas[QIAODONG], name="桥东企业")
    dropped = project_make(community_user, areas[QIAODONG], organisation=firm)
    advance(community_user, dropped, "dropped", day=datetime.date(2026, 4, 1))
    old = project_make(
        community_user,
        areas[QIAODONG],
        organisation=firm,
        intent_on=datetime.date(2025, 3, 1),
        amount_signed=D(999),
    )
    advance(community_user, old, "negotiating", "signed", day=datetime.date(2025, 6, 1))
    project_make(
        district_user,
        areas[WENMIAO],
        organisation=organisation_make(district_user, areas[WENMIAO]),
        amount_signed=D(7),
    )
    return {"qiaodong": qiaodong, "wuyier": wuyier, "street": street}  # fmt: skip


def test_the_table_counts_each_area_and_period_as_its_projects_say(
    areas, table_world, street_user, district_user, community_user
):
    since, until = services.period_days(2026, None)
    rows, total = services.project_table(street_user, area=None, since=since, until=until)
    by_area = {row.area.code: row for row in rows}
    assert list(by_area) == [LIUXIANG, QIAODONG, WUYIER]  # the street's own first
    assert by_area[LIUXIANG].counts() == [1, 1, 1, 0, 0] and by_area[LIUXIANG].signed == 500
    assert by_area[QIAODONG].counts() == [2, 1, 1, 1, 1]
    assert (by_area[QIAODONG].signed, by_area[QIAODONG].in_place) == (D("120.50"), D(80))
    assert by_area[WUYIER].counts() == [1, 1, 1, 1, 0] and by_area[WUYIER].jobs == 12
    assert total.counts() == [4, 3, 3, 2, 1]
    assert (total.signed, total.in_place, total.jobs) == (D("820.50"), D("230.25"), 42)
    # The sums equal the projects' own amounts.
    signed = Project.objects.filter(steps__stage="signed", steps__date__year=2026)
    assert total.signed == sum(p.amount_signed for p in signed)
    # A quarter: the second holds qiaodong's landing and the drop only.
    since, until = services.period_days(2026, 2)
    assert (since, until) == (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))
    _rows, total = services.project_table(street_user, area=None, since=since, until=until)
    assert total.counts() == [0, 1, 1, 1, 1] and total.in_place == 80
    # The district: a row per street, 文庙街道's project there too.
    since, until = services.period_days(2026, None)
    rows, total = services.project_table(district_user, area=None, since=since, until=until)
    assert [row.counts()[0] for row in rows] == [4, 1]  # 柳巷街道, 文庙街道
    # A community sees its own alone.
    rows, total = services.project_table(community_user, area=None, since=since, until=until)
    assert [row.area.code for row in rows] == [QIAODONG] and total.counts()[0] == 2


def test_the_table_is_exported_in_text_cells_and_audited(
    client, areas, table_world, street_user, other_district_user
):
    client.force_login(street_user)
    page = client.get(reverse("resources:project_table"), {"year": "2026"}).content.decode()
    assert "820.50" in page and "230.25" in page
    url = reverse("resources:project_table_export")
    response = client.get(url, {"year": "2026", "area": LIUXIANG})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            assert cell.value is None or cell.data_type == "s", cell.coordinate
    assert rows[-1] == ["合计", "4", "3", "3", "2", "1", "820.50", "230.25", "42"]
    assert ["桥东一社区", "2", "1", "1", "1", "1", "120.50", "80.00", "30"] in rows
    event = AuditEvent.objects.get(action="export", username=street_user.username)
    assert event.detail["report"] == "project_table" and event.detail["area"] == LIUXIANG
    assert event.detail["since"] == "2026-01-01" and event.detail["rows"] == 3
    # A bad period is sent back to the page, not exported.
    assert client.get(url, {"year": "99999"}).status_code == 302
    client.force_login(other_district_user)
    response = client.get(url, {"year": "2026"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in list(sheet.iter_rows(min_row=4))[-1]][1] == "0"


def test_projects_of_a_merged_community_land_in_the_one_that_took_it_over(
    areas, community_user, admin_user, lawyer
):
    from tongzhan.services import area_holdings, area_merge

    project = project_make(community_user, areas[QIAODONG], member=lawyer)
    assert ("项目", 1) in [(str(what), count) for what, count in area_holdings(areas[QIAODONG])]
    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])
    project.refresh_from_db()
    assert project.area == areas[WUYIER]
    assert AuditEvent.objects.filter(object_id=str(areas[QIAODONG].pk), detail__projects=1).exists()
