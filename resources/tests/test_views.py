import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from activities import services as activity_services
from activities.models import Need
from members.tests.factories import MemberFactory
from organisations.tests.factories import organisation_make
from resources import services
from resources.models import Match
from tongzhan.models import AuditEvent

from .factories import community_need_make, resource_make

pytestmark = pytest.mark.django_db

DISTRICT, LIUXIANG, QIAODONG, WUYIER = "140106", "140106001", "140106001001", "140106001002"


@pytest.fixture
def world(areas, community_user, neighbour_user, district_user, other_district_user, member):
    lawyer = MemberFactory(name="陈律师", community=areas[WUYIER])
    firm = organisation_make(district_user, areas[DISTRICT], name="迎泽律师事务所")
    return {
        "need": activity_services.need_create(
            actor=community_user, member=member,
            data={"kind": "legal", "description": "劳动纠纷"},
        ),
        "street": resource_make(
            neighbour_user, member=lawyer, title="律师义务咨询", served=[areas[LIUXIANG]],
            capacity=3,
        ),
        "district": resource_make(
            district_user, organisation=firm, title="律所法律咨询", served=[areas[DISTRICT]]
        ),
        "far": resource_make(
            other_district_user, title="小店法律服务",
            organisation=organisation_make(other_district_user, areas["140105"], name="小店律所"),
        ),
    }  # fmt: skip


def test_the_list_is_scoped_masks_other_areas_members_and_counts_its_queries(
    client, world, community_user, neighbour_user, other_district_user,
    django_assert_max_num_queries,
):  # fmt: skip
    for number in range(5):  # more rows, no more queries
        resource_make(community_user, member=MemberFactory(community=world["need"].community),
                      title=f"岗位{number}", kind="jobs", service="", capacity=2)  # fmt: skip
    url = reverse("resources:list")
    client.force_login(community_user)
    with django_assert_max_num_queries(11):
        page = client.get(url).content.decode()
    assert "律师义务咨询" in page and "律所法律咨询" in page and "小店法律服务" not in page
    assert "陈**" in page and "陈律师" not in page and "剩余名额" in page
    client.force_login(neighbour_user)
    assert "陈律师" in client.get(url).content.decode()
    client.force_login(other_district_user)
    page = client.get(url).content.decode()
    assert "小店法律服务" in page and "律师义务咨询" not in page
    client.force_login(community_user)
    page = client.get(url, {"kind": "jobs"}).content.decode()
    assert "律师义务咨询" not in page


def test_the_match_page_suggests_nearest_first_records_and_settles_a_match(
    client, world, community_user
):
    need = world["need"]
    url = reverse("resources:match_need", args=[need.pk])
    client.force_login(community_user)
    page = client.get(url).content.decode()
    assert page.index("律师义务咨询") < page.index("律所法律咨询")
    assert "同街道 · 法律 · 剩余名额 3" in page and "同区 · 法律 · 不限名额" in page
    assert "陈**" in page
    response = client.post(url, {"resource": world["street"].pk, "note": "已电话联系"})
    assert response.status_code == 302
    match = Match.objects.get()
    response = client.post(
        reverse("resources:match_settle", args=[match.pk]),
        {"state": "fulfilled", "people_served": "1", "value": "800",
         "settled_on": match.matched_on.isoformat(), "note": ""},
    )  # fmt: skip
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == Need.Status.RESOLVED and "律师义务咨询" in need.resolution
    page = client.get(url).content.decode()
    assert "已落实" in page


def test_a_crafted_post_with_a_resource_out_of_scope_is_refused(client, world, community_user):
    url = reverse("resources:match_need", args=[world["need"].pk])
    client.force_login(community_user)
    for resource in (world["far"].pk, 999999, "x"):
        response = client.post(url, {"resource": resource})
        assert response.status_code == 200
    page = client.post(url, {"resource": world["far"].pk}).content.decode()
    assert "该资源不能对接此需求" in page
    assert not Match.objects.exists()


def test_another_communitys_worker_gets_404_and_a_read_only_one_403(
    client, world, neighbour_user, other_district_user
):
    url = reverse("resources:match_need", args=[world["need"].pk])
    client.force_login(neighbour_user)
    assert client.get(url).status_code == 404
    client.force_login(other_district_user)
    assert client.get(reverse("resources:detail", args=[world["street"].pk])).status_code == 404


def test_the_ledger_lists_the_areas_matches_and_exports_them_as_audited_text_cells(
    client, areas, world, community_user, street_user, other_district_user
):
    need = community_need_make(community_user, areas[QIAODONG], description="=1+1 场地")
    match = services.match_create(
        actor=community_user, community_need=need, resource=world["district"]
    )
    services.match_settle(
        actor=community_user, match=match, state="fulfilled", people_served=12, value=3000
    )
    services.match_create(actor=community_user, need=world["need"], resource=world["street"])
    client.force_login(street_user)
    page = client.get(reverse("resources:ledger"), {"area": LIUXIANG}).content.decode()
    assert "律所法律咨询" in page and "律师义务咨询" in page and "服务群众 12 人次" in page
    response = client.get(reverse("resources:ledger_export"), {"area": QIAODONG})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=4))
    assert len(rows) == 2
    for row in rows:
        for cell in row:
            assert cell.value is None or cell.data_type == "s", cell.coordinate
    assert any("=1+1 场地" in (cell.value or "") for row in rows for cell in row)
    assert any(cell.value == "12" for row in rows for cell in row)
    event = AuditEvent.objects.get(action="export", username=street_user.username)
    assert event.detail["report"] == "service_ledger" and event.detail["rows"] == 2
    client.force_login(other_district_user)
    response = client.get(reverse("resources:ledger_export"))
    assert len(list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=4))) == 0


# -- A community need: its progress, and editing it ------------------------------------------


def jobs_for(actor, area, quantity):
    need = community_need_make(
        actor, area, kind="jobs", service="", description="就业岗位", quantity=quantity
    )
    employer = resource_make(
        actor, member=MemberFactory(community=area), title="收银员岗位", kind="jobs", service=""
    )
    return need, employer


def test_the_need_page_and_list_show_how_much_is_met(
    client, areas, community_user, django_assert_max_num_queries
):
    need, employer = jobs_for(community_user, areas[QIAODONG], 5)
    match = services.match_create(actor=community_user, community_need=need, resource=employer)
    services.match_settle(actor=community_user, match=match, state="fulfilled", people_served=2)
    for number in range(4):  # more rows, no more queries
        community_need_make(community_user, areas[QIAODONG], description=f"需求{number}")
    client.force_login(community_user)
    page = client.get(reverse("resources:need_detail", args=[need.pk])).content.decode()
    assert "已落实 2 / 5" in page and "cneed-open" in page
    assert reverse("resources:need_update", args=[need.pk]) in page
    with django_assert_max_num_queries(9):
        page = client.get(reverse("resources:need_list")).content.decode()
    assert "已落实 2 / 5" in page and page.count("已落实 0 / 1") == 4


def test_an_open_need_is_edited_on_its_page(client, areas, community_user, neighbour_user):
    need, _employer = jobs_for(community_user, areas[QIAODONG], 5)
    url = reverse("resources:need_update", args=[need.pk])
    client.force_login(neighbour_user)
    assert client.get(url).status_code == 404
    client.force_login(community_user)
    page = client.get(url).content.decode()
    assert "修改社区需求" in page and "就业岗位" in page
    response = client.post(url, {
        "area": areas[QIAODONG].pk, "kind": "jobs", "service": "", "quantity": "6",
        "description": "6个超市岗位", "due_date": "2026-12-31",
    })  # fmt: skip
    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.quantity, need.description) == (6, "6个超市岗位")
    assert AuditEvent.objects.filter(
        object_type="resources.communityneed", object_id=str(need.pk), action="update"
    ).exists()


def test_a_matched_needs_community_and_kind_are_shown_fixed(client, areas, community_user):
    need, employer = jobs_for(community_user, areas[QIAODONG], 5)
    services.match_create(actor=community_user, community_need=need, resource=employer)
    url = reverse("resources:need_update", args=[need.pk])
    client.force_login(community_user)
    assert "需求已对接资源，不能再更改。" in client.get(url).content.decode()
    # A crafted post changing the kind leaves it: the field is fixed.
    response = client.post(url, {
        "area": areas[WUYIER].pk, "kind": "venue", "service": "", "quantity": "5",
        "description": "就业岗位", "due_date": "",
    })  # fmt: skip
    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.kind, need.area) == ("jobs", areas[QIAODONG])


def test_a_met_need_is_not_edited_and_the_page_says_why(client, areas, community_user):
    need, employer = jobs_for(community_user, areas[QIAODONG], 1)
    match = services.match_create(actor=community_user, community_need=need, resource=employer)
    services.match_settle(actor=community_user, match=match, state="fulfilled", people_served=1)
    client.force_login(community_user)
    detail = reverse("resources:need_detail", args=[need.pk])
    url = reverse("resources:need_update", args=[need.pk])
    assert url not in client.get(detail).content.decode()
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(detail, 302)]
    assert "该需求已满足，不能再修改。" in response.content.decode()
    page = client.post(url, {
        "area": areas[QIAODONG].pk, "kind": "jobs", "service": "", "quantity": "3",
        "description": "改", "due_date": "",
    }).content.decode()  # fmt: skip
    assert "该需求已满足，不能再修改。" in page
    need.refresh_from_db()
    assert need.quantity == 1
