"""The home page's 待办 card: each count is what its link's page lists, within the user's area."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from assessment import services as assessment_services
from assessment.models import EvaluationTemplate, ManualScore
from assessment.tests.conftest import indicators, period  # noqa: F401 (fixtures)
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
