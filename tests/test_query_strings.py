"""No query string reaches a server error (hole 9 of issue 12).

Every page that reads its query string (the lists, their exports, the reports, the month
view, the pickers) gets hostile values for every parameter it reads: huge and negative
numbers, decimals, other scripts' digits, NUL bytes, long text, impossible dates, and the
same key given twice. A bad value is a message on the page or an empty list, never a 500.

The pages and their parameters are found in the code, not listed by hand: the URL patterns,
each view's FilterSet or form fields, and every `request.GET.get("…")` in the view and the
helpers of its module it names. `test_every_page_reading_its_query_string_is_driven` keeps
a new page from being left out.
"""

import datetime
import inspect
import re
import sys

import django_filters
import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.models import EvaluationRound, EvaluationTemplate, Period
from assessment.services import round_create
from commendations import services as commendation_services
from commendations.models import Campaign, Nomination
from conftest import _user
from dashboards.reports import REPORTS
from dashboards.tests.conftest import build_world
from followup.tests.conftest import published_period
from liaison import services as liaison_services
from liaison.models import Task
from members.models import ImportJob
from organisations import services as organisation_services
from organisations.models import Organisation, Place
from tongzhan.models import AuditEvent, User

pytestmark = pytest.mark.django_db

PROJECT = (
    "tongzhan",
    "members",
    "organisations",
    "commendations",
    "activities",
    "liaison",
    "resources",
    "assessment",
    "followup",
    "privacy",
    "dashboards",
)
# Read by the generic views (page) or asked for by people trying their luck.
ALWAYS = ["page", "per_page", "sort", "order", "o"]
STRING = re.compile(r""""[^"\n]*"|'[^'\n]*'""")
GET_NAME = re.compile(r"""GET\.get\(\s*["'](\w+)["']|GET\[\s*["'](\w+)["']\s*\]""")


def _patterns(patterns=None, namespace=None):
    """(name, pattern) of every URL of the application, the admin and i18n aside."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin" or "i18n" in str(pattern.pattern):
                continue
            yield from _patterns(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern


def _own_code(view) -> list:
    """The view's class (with its bases from this project) or function, undecorated."""
    view = inspect.unwrap(getattr(view, "view_class", None) or view)
    if isinstance(view, type):
        return [k for k in view.__mro__ if k.__module__.split(".")[0] in PROJECT]
    return [view]


def _reads(view) -> tuple[str, set[str]]:
    """The source the view runs (its own and the module's helpers it names, two levels
    deep) and the query parameters it reads there or through its FilterSets and forms."""
    code = _own_code(view)
    if not code:  # one of Django's own views
        return "", set()
    module = sys.modules[code[0].__module__]
    helpers = {
        name: value
        for name, value in vars(module).items()
        if (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
        and value not in code
    }
    source = "\n".join(inspect.getsource(item) for item in code)
    for _level in range(2):
        names = set(re.findall(r"\w+", STRING.sub("", source)))  # names, not words in strings
        for name in names & set(helpers):
            source += "\n" + inspect.getsource(helpers.pop(name))
    names = {first or second for first, second in GET_NAME.findall(source)}
    named = set(re.findall(r"\w+", STRING.sub("", source)))
    classes = [getattr(code[0], "filterset_class", None)] + [
        value for name, value in vars(module).items() if inspect.isclass(value) and name in named
    ]
    for value in classes:
        if inspect.isclass(value) and issubclass(value, django_filters.FilterSet):
            names |= set(value.base_filters)
        elif inspect.isclass(value) and issubclass(value, forms.BaseForm):
            names |= set(value.base_fields)  # a form of the page; it may be bound to GET
    return source, names


def _reads_query_string(view) -> bool:
    source, _names = _reads(view)
    return any(word in source for word in ("request.GET", "filterset_class", "paginate_by"))


# Path arguments of the pages that take one; the values come from the world fixture.
PATH_ARGUMENTS = {
    "members:transfer": [["member"]],
    "members:import_detail": [["import_job"]],
    # The member page's duty records, all on asking (?duties=all); a kind chosen to add one.
    "members:detail": [["member"]],
    "members:duty_add": [["member"]],
    # The edit page opened for a person's request to correct her record (?reason=).
    "members:update": [["member"]],
    "assessment:round_scores": [["round"]],
    "assessment:round_scores_download": [["round"]],
    "assessment:round_scores_upload": [["round"]],
    "dashboards:report": [[key] for key in REPORTS],
    "liaison:task_detail": [["task"]],
    "liaison:task_export": [["task"]],
    "organisations:membership_add": [["organisation"]],
    # Their activities, a page at a time (?page=).
    "organisations:detail": [["organisation"]],
    "organisations:place_detail": [["place"]],
    # The member search of a nomination (?q=).
    "commendations:nominate": [["campaign"]],
    # A nomination's page, opening the form to change a review or a decision (?change=).
    "commendations:nomination": [["nomination"]],
    # A published period's rectifications, by state or overdue (?state=, ?overdue=).
    "followup:period": [["published_period"]],
}


def targets() -> list[tuple[str, list[str], tuple[str, ...]]]:
    """(URL name, path argument names, parameters) of every page reading its query string."""
    found = []
    for name, pattern in _patterns():
        if not _reads_query_string(pattern.callback):
            continue
        params = sorted(_reads(pattern.callback)[1] | set(ALWAYS))
        for args in PATH_ARGUMENTS.get(name, [[]]):
            found.append((name, args, tuple(params)))
    return found


TARGETS = targets()


def test_every_page_reading_its_query_string_is_driven():
    driven = {name for name, _args, _params in TARGETS}
    # The lists and exports of the issue, and their parameters, are among them.
    assert {"members:list", "members:export", "activities:list", "activities:need_list",
            "activities:not_contacted", "audit", "audit_export", "dashboards:report",
            "dashboards:reports", "activities:month", "area_list",
            "area_create", "account_list"} <= driven  # fmt: skip

    params = {name: set(found) for name, _args, found in TARGETS}
    assert {"age_min", "age_max", "born_from", "born_to", "registered"} <= params["members:list"]
    assert {"age_min", "born_from"} <= params["members:export"]
    assert {"since", "until"} <= params["dashboards:report"]
    assert {"area", "since", "until", "show"} <= params["activities:need_list"]
    assert {"area", "months"} <= params["activities:not_contacted"]
    assert {"start", "end", "member"} <= params["activities:list"]
    assert {"q", "level"} <= params["area_list"] and "parent" in params["area_create"]
    assert {"q", "role", "area", "active"} <= params["account_list"]
    assert {"q", "education", "category", "organisation"} <= params["resources:talent"]

    for name, pattern in _patterns():
        if name in driven and pattern.pattern.converters:
            assert name in PATH_ARGUMENTS, f"{name} reads its query string: give its arguments"


HUGE = ["99999999999999999999", "-99999999999999999999", "2147483648", "-2147483649",
        "9223372036854775808", "1e400", "1e5", "NaN", "inf", "-inf", "-1", "-0", "0", "1.5",
        "٣", "１２", "²", "Ⅻ", "\x00", "1\x00", "0000-00-00", "9999-99-99", "9999-12-31",
        "0001-01-01", "10000-01-01", "2026-02-30", "2026-13", "9999-12", "0001-01", "0000-01",
        "-1-01", "2026-1-1-1", "true", "last", "", " ", "x" * 3000, "%", "'; --",
        "<b>"]  # fmt: skip
PLAUSIBLE = ["1", "12", "30", "60", "150", "1950", "1990", "2026", "2026-03", "2026-01-01",
             "2026-12-31", "140106", "140106001", "140106001001", "01", "02", "13",
             "intellectual", "M", "F", "active", "open", "overdue", "closed", "resolved",
             "members", "activities", "needs"]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(HUGE),
    st.sampled_from(HUGE),
    st.sampled_from(PLAUSIBLE),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(datetime.date.isoformat),
    st.text(max_size=30),
)


@pytest.fixture
def users(areas, community_user, street_user, district_user, other_district_user, admin_user):
    build_world(areas, street_user, district_user, other_district_user)
    auditor = _user("ivan", User.Role.AUDITOR, None)
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN, username="alice")
    ImportJob.objects.create(
        created_by=district_user,
        area=district_user.area,
        filename="花名册.xlsx",
        state=ImportJob.State.CHECKED,
        check_report={"created": 1, "updated": 0, "unchanged": 0, "refused_rows": 0},
    )
    # A round of the street, for the evaluation grid and its ?source=.
    round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True)},
    )  # fmt: skip
    # A task of the district to two communities, for its supervision table's ?sort= and ?state=.
    liaison_services.task_send(
        actor=district_user,
        data={"title": "中秋走访", "body": "走访慰问",
              "deadline": datetime.date.today() + datetime.timedelta(days=10)},
        recipients=[areas["140106001001"], areas["140106001002"]],
    )  # fmt: skip
    # An organisation of the district, for the membership page's member search (?q=).
    organisation_services.organisation_create(
        actor=district_user,
        data={"name": "同心服务团", "kind": "service_group", "area": areas["140106"]},
    )
    # A place of the district, for its page's activities (?page=).
    organisation_services.place_create(
        actor=district_user, data={"name": "区统战实践基地", "kind": "practice_base",
                                   "area": areas["140106"]},
    )  # fmt: skip
    # A commendation campaign of the district, for its nomination page's member search (?q=).
    # One of its nominations the street recommended, for the page's ?change=.
    campaign = commendation_services.campaign_create(
        actor=district_user,
        data={"kind": "resident", "year": 2026, "title": "最美居民评选", "description": "",
              "area": None, "quota": None,
              "deadline": datetime.date.today() + datetime.timedelta(days=10)},
    )  # fmt: skip
    nomination = commendation_services.nomination_submit(
        actor=community_user, campaign=campaign, data={"resident_name": "刘阿姨", "deeds": "巡逻"}
    )
    commendation_services.nomination_review(
        actor=street_user, nomination=nomination, recommend=True
    )
    # A published period of the district, for its rectifications' table.
    published_period(areas, district_user, year=2024)
    return [community_user, street_user, district_user, admin_user, auditor]


def _get(client, name, args, query):
    from members.models import Member

    member = Member.objects.filter(community__code="140106001001").first()
    objects = {
        "member": member,
        "import_job": ImportJob.objects.first(),
        "round": EvaluationRound.objects.first(),
        "task": Task.objects.first(),
        "organisation": Organisation.objects.first(),
        "place": Place.objects.first(),
        "campaign": Campaign.objects.first(),
        "nomination": Nomination.objects.first(),
        "published_period": Period.objects.filter(published=True).first(),
    }
    path = reverse(name, args=[objects[arg].pk if arg in objects else arg for arg in args])
    response = client.get(path, query)
    assert response.status_code != 500, (path, query)
    return response


# The values the issue names, and the worst of the others.
WORST = ["99999999999999999999", "-99999999999999999999", "-1", "1e400", "\x00", "²",
         "9999-12-31", "0001-01-01", "9999-12", "0001-01", "0000-00-00"]  # fmt: skip


def test_the_issues_values_are_refused_with_a_message(client, users):
    client.force_login(users[2])
    for query, message in (
        ({"age_min": "99999999999999999999"}, "确保该值小于或等于150。"),
        ({"born_from": "-1"}, "确保该值大于或等于1900。"),
        ({"registered": "9999-12"}, "请按 2026-03 的格式输入月份，从 1900-01 到 2100-12。"),
    ):
        page = _get(client, "members:list", [], query)
        # As django-filter does with an invalid form: the error by its field, no rows.
        assert page.status_code == 200 and message in page.content.decode()
        assert list(page.context["members"]) == []
        export = _get(client, "members:export", [], query)
        assert export.status_code == 302 and export["Location"].startswith(
            reverse("members:list") + "?"
        )
        shown = client.get(export["Location"]).content.decode()
        assert "未导出：请更正下方标出的筛选条件。" in shown and message in shown
    client.force_login(users[4])
    log = _get(client, "audit_export", [], {"until": "9999-12-31"})
    assert log.status_code == 302
    assert "确保该值小于或等于2100-12-31。" in client.get(log["Location"]).content.decode()


def test_the_worst_values_in_every_parameter_of_every_page(users):
    """Deterministic: each value in all the page's own parameters at once, then in the
    generic ones (a page number that fails first would hide the filters' failures)."""
    for name, args, params in TARGETS:
        client = Client()
        for user in users[2:]:  # the district officer, or the auditor for the audit log
            client.force_login(user)
            if _get(client, name, args, {}).status_code != 403:
                break
        own = [param for param in params if param not in ALWAYS]
        for value in WORST:
            for group in (own, ALWAYS):
                _get(client, name, args, dict.fromkeys(group, value))


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_query_string_reaches_a_server_error(users, data):
    name, args, params = data.draw(st.sampled_from(TARGETS), label="page")
    chosen = data.draw(st.lists(st.sampled_from(params), min_size=1, max_size=4, unique=True))
    query = {key: data.draw(st.lists(VALUES, min_size=1, max_size=2), label=key) for key in chosen}
    client = Client()
    client.force_login(data.draw(st.sampled_from(users), label="user"))
    _get(client, name, args, query)


def test_every_list_shows_a_bad_filter_by_its_field_and_keeps_the_filters_per_page(users):
    client = Client()
    client.force_login(users[2])
    for name, query, message in (
        ("activities:need_list", {"since": "9999-12-31"}, "确保该值小于或等于2100-12-31。"),
        ("activities:not_contacted", {"months": "500"}, "确保该值小于或等于120。"),
        ("activities:list", {"start": "0001-01-01"}, "确保该值大于或等于1900-01-01。"),
    ):
        page = _get(client, name, [], query).content.decode()
        assert message in page and '<details class="filters card" open>' in page
    # The table's tail: which rows of how many, and a page size that keeps the filters.
    page = _get(client, "members:list", [], {"sex": "F"}).content.decode()
    assert re.search(r"第 1–\d+ 条，共 \d+ 条", page)
    assert '<input type="hidden" name="sex" value="F">' in page
