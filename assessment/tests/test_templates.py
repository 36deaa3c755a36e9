"""Evaluation templates on their own pages: the services' rules (a template a round scores
against keeps its categories and items), the editor without script, and who may do what."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from assessment import services
from assessment.models import EvaluationItem, EvaluationTemplate
from conftest import _user
from tongzhan.models import AuditEvent, User

pytestmark = pytest.mark.django_db

STRUCTURE = [
    {"pk": None, "name": "政治素质", "sort_order": 0, "items": [
        {"pk": None, "name": "政治立场", "max_score": D(60), "is_veto": False, "sort_order": 0},
        {"pk": None, "name": "学习培训", "max_score": D(40), "is_veto": False, "sort_order": 1},
    ]},
    {"pk": None, "name": "一票否决", "sort_order": 1, "items": [
        {"pk": None, "name": "违法违纪", "max_score": D(0), "is_veto": True, "sort_order": 0},
    ]},
]  # fmt: skip


@pytest.fixture
def example():
    return EvaluationTemplate.objects.get(is_example=True)


@pytest.fixture
def made(admin_user):
    return services.template_create(
        actor=admin_user, data={"name": "简化模板", "notes": ""}, categories=STRUCTURE
    )


def used(template, district_user, areas):
    return services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "综合评价", "template": template},
    )


def test_a_template_is_created_with_its_categories_and_items_and_one_audit_line(admin_user, made):
    structure = services.template_structure(made)
    assert [c["name"] for c in structure] == ["政治素质", "一票否决"]
    assert [(i["name"], i["max_score"]) for i in structure[0]["items"]] == [
        ("政治立场", D(60)),
        ("学习培训", D(40)),
    ]
    line = AuditEvent.objects.get(object_type="assessment.evaluationtemplate")
    assert line.action == "create" and line.detail["categories"] == 2 and line.detail["items"] == 3


def test_the_structure_rules_are_the_services(admin_user):
    def refused(categories):
        with pytest.raises(ValidationError) as caught:
            services.template_create(
                actor=admin_user, data={"name": "坏模板"}, categories=categories
            )
        return " ".join(caught.value.messages)

    assert "至少需要一个类别" in refused([])
    assert "至少需要一个项目" in refused([{"name": "空", "sort_order": 0, "items": []}])
    veto = {"name": "违法", "max_score": D(5), "is_veto": True, "sort_order": 0}
    assert "一票否决项" in refused([{"name": "否决", "sort_order": 0, "items": [veto]}])
    zero = {"name": "学习", "max_score": D(0), "is_veto": False, "sort_order": 0}
    assert "大于 0" in refused([{"name": "素质", "sort_order": 0, "items": [zero]}])
    twice = {"name": "素质", "sort_order": 0, "items": [{**zero, "max_score": D(1)}]}
    assert "两个类别" in refused([twice, twice])
    assert not EvaluationTemplate.objects.filter(name="坏模板").exists()


def test_an_unused_template_changes_freely_and_removed_rows_go(admin_user, made):
    structure = services.template_structure(made)
    structure[0]["items"][0]["max_score"] = D(70)
    structure[0]["items"][1]["max_score"] = D(30)
    structure[1]["items"] = [*structure[1]["items"], {
        "pk": None, "name": "参与非法组织", "max_score": D(0), "is_veto": True, "sort_order": 1,
    }]  # fmt: skip
    del structure[0]["items"][1]
    structure[0]["items"].append(
        {"pk": None, "name": "参政议政", "max_score": D(30), "is_veto": False, "sort_order": 2}
    )
    services.template_update(
        actor=admin_user, template=made, data={"name": "简化模板", "notes": "改"},
        categories=structure,
    )  # fmt: skip
    names = list(
        EvaluationItem.objects.filter(category__template=made).values_list("name", flat=True)
    )
    assert names == ["政治立场", "参政议政", "违法违纪", "参与非法组织"]
    line = AuditEvent.objects.filter(action="update").get()
    assert set(line.detail["fields"]) == {"notes", "categories"}


def test_a_used_template_keeps_its_items_and_offers_a_copy(
    admin_user, district_user, areas, example
):
    evaluation_round = used(example, district_user, areas)
    before = services.template_structure(example)
    changed = services.template_structure(example)
    changed[0]["items"][0]["max_score"] = D(5)
    with pytest.raises(ValidationError) as caught:
        services.template_update(
            actor=admin_user, template=example, data={"name": example.name, "notes": ""},
            categories=changed,
        )  # fmt: skip
    assert "复制为新模板" in caught.value.messages[0]
    assert services.template_structure(example) == before
    # Its name and notes still change; the round still scores against the same items.
    services.template_update(
        actor=admin_user, template=example, data={"name": "综合评价模板", "notes": "说明"},
        categories=before,
    )  # fmt: skip
    example.refresh_from_db()
    assert example.name == "综合评价模板" and evaluation_round.template_id == example.pk
    copy = services.template_copy(actor=admin_user, template=example, name="综合评价模板二")
    assert [c["name"] for c in services.template_structure(copy)] == [c["name"] for c in before]
    copied = services.template_structure(copy)
    copied[0]["items"][0]["max_score"] = D(5)
    services.template_update(
        actor=admin_user, template=copy, data={"name": copy.name}, categories=copied
    )
    assert services.template_structure(example) == before
    assert AuditEvent.objects.get(object_id=str(copy.pk), action="create").detail["source"] == (
        "综合评价模板"
    )


def test_only_template_editors_write_templates(district_user, example, made):
    with pytest.raises(PermissionDenied):
        services.template_create(actor=district_user, data={"name": "模板"}, categories=STRUCTURE)
    with pytest.raises(PermissionDenied):
        services.template_update(
            actor=district_user, template=made, data={"name": "改名"}, categories=STRUCTURE
        )
    with pytest.raises(PermissionDenied):
        services.template_copy(actor=district_user, template=example, name="副本")


def editor_data(name, categories, *, extra_items=1, blank_category=True):
    """The editor's POST as the page sends it, with its empty rows."""
    data = {"name": name, "notes": ""}
    rows = [*categories, *([{"name": "", "items": []}] if blank_category else [])]
    data["c-TOTAL_FORMS"], data["c-INITIAL_FORMS"] = len(rows), 0
    for index, category in enumerate(rows):
        prefix = f"c-{index}"
        data[f"{prefix}-name"] = category["name"]
        data[f"{prefix}-pk"] = category.get("pk") or ""
        items = [*category["items"], *([{}] * extra_items)]
        data[f"{prefix}-i-TOTAL_FORMS"], data[f"{prefix}-i-INITIAL_FORMS"] = len(items), 0
        for number, item in enumerate(items):
            for key in ("pk", "name", "max_score", "sort_order"):
                data[f"{prefix}-i-{number}-{key}"] = item.get(key) or ""
            if item.get("is_veto"):
                data[f"{prefix}-i-{number}-is_veto"] = "on"
            if item.get("DELETE"):
                data[f"{prefix}-i-{number}-DELETE"] = "on"
    return data


def test_the_editor_adds_a_template_without_script_leaving_empty_rows_out(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("assessment:template_create")).content.decode()
    # Empty rows to fill without script: a category with three items.
    assert 'name="c-0-i-2-name"' in page and 'name="c-TOTAL_FORMS"' in page
    response = client.post(
        reverse("assessment:template_create"),
        editor_data("社区模板", [{"name": "履职", "items": [
            {"name": "参加会议", "max_score": "60"}, {"name": "服务群众", "max_score": "40"},
        ]}, {"name": "否决", "items": [{"name": "违法违纪", "is_veto": True}]}]),
    )  # fmt: skip
    template = EvaluationTemplate.objects.get(name="社区模板")
    assert response.status_code == 302
    assert response.url == reverse("assessment:template_update", args=[template.pk])
    items = EvaluationItem.objects.filter(category__template=template)
    assert [(i.name, i.max_score, i.is_veto) for i in items] == [
        ("参加会议", D(60), False), ("服务群众", D(40), False), ("违法违纪", D(0), True),
    ]  # fmt: skip
    page = client.get(response.url).content.decode()
    # The page comes back with the saved rows and new empty ones.
    assert 'value="参加会议"' in page and 'name="c-2-name"' in page


def test_the_editor_shows_the_services_refusal_and_a_missing_name(client, admin_user):
    client.force_login(admin_user)
    page = client.post(
        reverse("assessment:template_create"),
        editor_data("坏模板", [{"name": "", "items": [{"name": "参加会议", "max_score": "10"}]}]),
    ).content.decode()
    assert "请为这些项目所属的类别命名。" in page
    page = client.post(
        reverse("assessment:template_create"),
        editor_data("坏模板", [{"name": "履职", "items": [{"name": "会议", "max_score": "0"}]}]),
    ).content.decode()
    assert "“会议”的最高分须大于 0" in page
    assert not EvaluationTemplate.objects.filter(name="坏模板").exists()


def test_the_editor_of_a_used_template_shows_its_items_read_only_with_the_copy(
    client, admin_user, district_user, areas, example
):
    used(example, district_user, areas)
    client.force_login(admin_user)
    url = reverse("assessment:template_update", args=[example.pk])
    page = client.get(url).content.decode()
    assert "1 个综合评价轮次按此模板评分" in page and "复制为新模板" in page
    assert 'name="c-TOTAL_FORMS"' not in page and "坚持中国共产党的领导" in page
    response = client.post(url, {"name": "改名的模板", "notes": ""})
    assert response.status_code == 302
    example.refresh_from_db()
    assert example.name == "改名的模板" and example.categories.count() == 7
    response = client.post(
        reverse("assessment:template_copy", args=[example.pk]), {"name": "新模板"}
    )
    copy = EvaluationTemplate.objects.get(name="新模板")
    assert response.url == reverse("assessment:template_update", args=[copy.pk])
    page = client.get(response.url).content.decode()
    assert 'name="c-TOTAL_FORMS"' in page and 'value="坚持中国共产党的领导，政治立场坚定"' in page


def test_the_editor_changes_and_removes_items_of_an_unused_template(client, admin_user, made):
    client.force_login(admin_user)
    structure = services.template_structure(made)
    first, veto = structure
    first["items"][0] = {**first["items"][0], "name": "政治立场坚定", "max_score": "100"}
    first["items"][1] = {**first["items"][1], "DELETE": True}
    response = client.post(
        reverse("assessment:template_update", args=[made.pk]),
        editor_data("简化模板", [first, veto]),
    )
    assert response.status_code == 302
    items = EvaluationItem.objects.filter(category__template=made)
    assert [(i.name, i.max_score) for i in items] == [("政治立场坚定", D(100)), ("违法违纪", D(0))]


def test_the_editor_refuses_categories_and_items_of_another_template(
    client, admin_user, made, example
):
    """A page naming a category or item that is not (or no longer) this template's, crafted
    or left open while another administrator removed it, is told so, not a server error, and
    the other template keeps its rows."""
    client.force_login(admin_user)
    url = reverse("assessment:template_update", args=[made.pk])
    theirs = EvaluationItem.objects.filter(category__template=example).first()
    first, veto = services.template_structure(made)
    for posted in (
        [{**first, "pk": theirs.category_id}, veto],
        [{**first, "items": [{**first["items"][0], "pk": theirs.pk, "name": "改"}]}, veto],
        [{**first, "pk": 2**62}, veto],
    ):
        response = client.post(url, editor_data("简化模板", posted))
        assert response.status_code == 200
        assert "页面上的类别或项目已不属于此模板" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.category.template == example and theirs.name != "改"
    assert services.template_structure(made) == [first, veto]


def test_who_may_see_and_edit_templates(client, district_user, community_user, made, areas):
    client.force_login(district_user)
    assert client.get(reverse("assessment:template_list")).status_code == 200
    assert client.get(reverse("assessment:template_update", args=[made.pk])).status_code == 403
    assert client.get(reverse("assessment:template_create")).status_code == 403
    client.force_login(community_user)
    assert client.get(reverse("assessment:template_list")).status_code == 403
    limited = _user("kate", User.Role.ADMIN, areas["140106001"])
    client.force_login(limited)  # templates have no area: any administrator keeps them
    assert client.get(reverse("assessment:template_update", args=[made.pk])).status_code == 200
