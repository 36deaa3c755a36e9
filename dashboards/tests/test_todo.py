"""The home page's 待办 card: each count is what its link's page lists, within the user's area."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from assessment import services as assessment_services
from assessment.models import EvaluationTemplate, ManualScore
from assessment.tests.conftest import indicators, period  # noqa: F401 (fixtures)
from liaison import services as liaison_services
from liaison.models import Notice
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

COMMUNITIES = ("140106001001", "140106001002", "140106002001", "140105001001")


@pytest.fixture
def needs(areas, admin_user):
    """In each community: a need due tomorrow and one due in ten days; in 桥东一社区 also an
    overdue one."""
    today = timezone.localdate()

    def raise_need(code, due_in):
        member = MemberFactory(community=areas[code])
        activity_services.need_create(
            actor=admin_user, member=member,
            data={"kind": "employment", "description": "找工作",
                  "raised_on": today - datetime.timedelta(days=40),
                  "due_date": today + datetime.timedelta(days=due_in)},
        )  # fmt: skip

    for code in COMMUNITIES:
        raise_need(code, 1)
        raise_need(code, 10)
    raise_need("140106001001", -3)


def todo_of(client, user):
    client.force_login(user)
    return client.get(reverse("home")).context["todo"]


@pytest.mark.parametrize(
    "who, due_soon, overdue",
    [("community_user", 2, 1), ("street_user", 3, 1), ("district_user", 4, 1)],
)
def test_needs_due_soon_count_what_the_need_list_shows(
    client, request, needs, who, due_soon, overdue
):
    user = request.getfixturevalue(who)
    todo = todo_of(client, user)
    assert (todo.due_soon, todo.overdue) == (due_soon, overdue)  # 坞城社区 is not theirs
    for count, url in ((todo.due_soon, todo.due_soon_url), (todo.overdue, todo.overdue_url)):
        page = client.get(url)
        assert page.context["paginator"].count == count
    listed = client.get(todo.due_soon_url)
    assert listed.context["counts"]["due_soon"] == due_soon
    page = client.get(reverse("home"))
    assert f'href="{todo.due_soon_url}"' in page.content.decode()


def test_the_card_says_when_nothing_waits(client, community_user):
    client.force_login(community_user)
    page = client.get(reverse("home"))
    assert not page.context["todo"]
    assert "暂无待办事项。" in page.content.decode()


def test_what_was_sent_to_the_area_is_on_the_card_linked_to_my_to_do(
    client, community_user, street_user, areas
):
    liaison_services.notice_send(
        actor=street_user,
        data={"title": "防汛通知", "body": "请准备。", "reply_by": None},
        area=areas["140106001"],
    )
    client.force_login(community_user)
    page = client.get(reverse("home")).content.decode()
    link = f'href="{reverse("liaison:todo")}#todo-notices"'
    assert link in page
    number = page[page.index(link) :]
    assert '<span class="number">1</span><span class="label">通知公告</span>' in number
    client.get(reverse("liaison:todo"))
    assert "#todo-notices" in client.get(reverse("home")).content.decode()  # not read yet
    notice = Notice.objects.get()
    client.get(reverse("liaison:notice_detail", args=[notice.pk]))
    assert "#todo-notices" not in client.get(reverse("home")).content.decode()


@pytest.fixture
def open_period(period, indicators, district_user):  # noqa: F811
    assessment_services.period_open(actor=district_user, period=period)
    return period


@pytest.mark.parametrize(
    "who, communities",
    [("community_user", set()), ("street_user", {"140106001001", "140106001002"}),
     ("district_user", set())],  # the street scores 工作制度健全, not the district
)  # fmt: skip
def test_scores_owed_are_the_items_without_a_score_on_the_community_page(
    client, request, open_period, admin_user, areas, who, communities
):
    assessment_services.score_set(
        actor=admin_user, indicator=open_period.indicators.get(name="工作制度健全"),
        community=areas["140106002001"],
        points=10, evidence="按台账评定",
    )  # fmt: skip
    user = request.getfixturevalue(who)
    todo = todo_of(client, user)
    assert {owed.url.rstrip("/").rsplit("/", 1)[-1] for owed in todo.scores} == communities
    for owed in todo.scores:
        page = client.get(owed.url)
        community = page.context["community"]
        unscored = {
            pk for pk in page.context["scorable"]
            if not ManualScore.objects.filter(indicator_id=pk, community=community).exists()
        }  # fmt: skip
        assert owed.count == len(unscored) == 1
        assert owed.label == community.name


@pytest.fixture
def evaluation_round(areas, district_user):
    template = EvaluationTemplate.objects.get(is_example=True)
    MemberFactory(name="甲", community=areas["140106001001"], is_representative=True)
    MemberFactory(name="乙", community=areas["140106001002"], is_representative=True)
    MemberFactory(name="庚", community=areas["140106002001"], is_representative=True)  # elsewhere
    return assessment_services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价", "template": template},
    )


@pytest.mark.parametrize(
    "who, names, sources",
    [("community_user", set(), 0), ("other_street_user", set(), 0),
     ("street_user", {"甲", "乙"}, 2), ("district_user", {"甲", "乙"}, 3)],
)  # fmt: skip
def test_sheets_owed_link_to_the_evaluations_that_ask_for_them(
    client, request, evaluation_round, who, names, sources
):
    user = request.getfixturevalue(who)
    todo = todo_of(client, user)
    assert {owed.label for owed in todo.sheets} == names
    for owed in todo.sheets:
        assert owed.count == sources
        page = client.get(owed.url)
        assert {str(sheet["label"]) for sheet in page.context["sheets"]} == set(owed.sources)


def test_the_card_asks_a_fixed_number_of_queries_however_many_periods_rounds_and_communities(
    client, areas, open_period, district_user, street_user, admin_user
):
    """The card is on every home page: its cost does not grow with what is open, and what it
    counts still equals each page it links to."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessment.tests.conftest import YEAR
    from dashboards.todo import todo_for
    from tongzhan.models import Area, User

    template = EvaluationTemplate.objects.get(is_example=True)
    today = timezone.localdate()

    def add_round(area, name):
        MemberFactory(name=f"{name}甲", community=areas["140106001001"], is_representative=True)
        return assessment_services.round_create(
            actor=district_user, data={"area": area, "name": name, "template": template}
        )

    def add_period(year):
        other = assessment_services.period_create(
            actor=district_user,
            data={"district": areas["140106"], "name": f"{year}年度",
                  "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
        )  # fmt: skip
        assessment_services.period_copy_indicators(
            actor=district_user, period=other, source=open_period
        )
        assessment_services.period_open(actor=district_user, period=other)

    def card(user):
        fresh = User.objects.get(pk=user.pk)  # as a new request: nothing cached on the user
        with CaptureQueriesContext(connection) as queries:
            todo = todo_for(fresh, today)
        return todo, len(queries.captured_queries)

    add_round(areas["140106001"], "街道评价")
    counted = {user.username: card(user) for user in (street_user, admin_user)}
    for year in (YEAR - 1, YEAR - 2):
        add_period(year)
    add_round(areas["140106001"], "街道复评")
    add_round(areas["140106"], "全区评价")
    Area.objects.create(
        code="140106001003", name="新建社区", level="community", parent=areas["140106001"]
    )
    for user in (street_user, admin_user):
        before, queries = counted[user.username]
        todo, now = card(user)
        assert now == queries, f"{user.username}: {now} queries, {queries} before"
        assert len(todo.scores) > len(before.scores) and len(todo.sheets) > len(before.sheets)
    todo, _queries = card(street_user)
    assert {owed.detail for owed in todo.sheets} == {"街道评价", "街道复评", "全区评价"}
    assert len({owed.detail for owed in todo.scores}) == 3
    client.force_login(street_user)
    for owed in todo.scores:
        page = client.get(owed.url)
        community, shown = page.context["community"], page.context["period"]
        unscored = {
            pk for pk in page.context["scorable"]
            if shown.indicators.filter(pk=pk, kind="scored").exists()
            and not ManualScore.objects.filter(indicator_id=pk, community=community).exists()
        }  # fmt: skip
        assert owed.count == len(unscored)
    for owed in todo.sheets:
        page = client.get(owed.url)
        assert {str(sheet["label"]) for sheet in page.context["sheets"]} == set(owed.sources)
