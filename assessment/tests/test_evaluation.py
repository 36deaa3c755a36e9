"""Evaluation of representatives (三评): weighted sources, veto, the lowest share, the outcome."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessment import services
from assessment.models import EvaluationItem, EvaluationRound, EvaluationTemplate
from assessment.standings import round_results
from members.models import Member, MemberChange
from members.tests.factories import MemberFactory

from .conftest import talk_with_the_flagged

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return EvaluationTemplate.objects.get(is_example=True)


def test_the_example_template_is_shipped_and_marked_as_an_example(template):
    categories = [category.name for category in template.categories.all()]
    assert categories[:3] == ["政治素质", "能力素质", "工作业绩"] and len(categories) == 7
    items = EvaluationItem.objects.filter(category__template=template)
    assert sum(item.max_score for item in items.filter(is_veto=False)) == 100
    assert items.filter(is_veto=True, name="违法违纪").exists()
    assert "示例" in template.name


@pytest.fixture
def evaluation_round(areas, district_user, template):
    names = ["甲", "乙", "丙", "丁", "戊"]
    for index, name in enumerate(names):
        community = areas["140106001001" if index % 2 else "140106001002"]
        MemberFactory(name=name, community=community, is_representative=True)
    MemberFactory(name="己", community=areas["140106001001"])  # not a representative
    MemberFactory(name="庚", community=areas["140106002001"], is_representative=True)  # elsewhere
    return services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价", "template": template,
              "cut_share": 20},
    )  # fmt: skip


def scores_for(template, points_each: int) -> dict:
    """The same share of every item's maximum, as a whole source's sheet."""
    return {
        item: min(item.max_score, D(points_each) * item.max_score / 100)
        for item in EvaluationItem.objects.filter(category__template=template, is_veto=False)
    }


def evaluate(evaluation_round, district_user, street_user, template, percent: dict):
    for evaluation in evaluation_round.evaluations.select_related("member__community"):
        mark = percent[evaluation.member.name]
        services.evaluation_score(
            actor=district_user, evaluation=evaluation, source="superior",
            scores=scores_for(template, mark),
        )  # fmt: skip
        for source in ("self", "public"):
            services.evaluation_score(
                actor=street_user, evaluation=evaluation, source=source,
                scores=scores_for(template, mark),
            )  # fmt: skip


def test_a_round_covers_the_registered_representatives_of_its_area(evaluation_round):
    names = sorted(evaluation_round.evaluations.values_list("member__name", flat=True))
    assert names == ["丁", "丙", "乙", "戊", "甲"]


def test_veto_fails_whatever_the_score_and_the_lowest_share_is_flagged(
    evaluation_round, district_user, street_user, template
):
    evaluate(
        evaluation_round, district_user, street_user, template,
        {"甲": 95, "乙": 90, "丙": 80, "丁": 70, "戊": 60},
    )  # fmt: skip
    first = evaluation_round.evaluations.get(member__name="甲")
    veto = EvaluationItem.objects.get(category__template=template, name="违法违纪")
    services.veto_mark(actor=district_user, evaluation=first, item=veto, note="被行政拘留")
    rows = {row.evaluation.member.name: row for row in round_results(evaluation_round)}
    assert rows["甲"].total == D("95.00") and rows["甲"].rank == 1
    assert rows["甲"].vetoed and rows["甲"].fails  # vetoed, however well scored
    assert [name for name, row in rows.items() if row.flagged] == ["戊"]  # 20 % of 5: one
    assert not rows["乙"].fails

    talk_with_the_flagged(evaluation_round, district_user)
    removed = services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    assert sorted(evaluation.member.name for evaluation in removed) == ["戊", "甲"]
    still = set(Member.objects.filter(is_representative=True).values_list("name", flat=True))
    assert still == {"乙", "丙", "丁", "庚"}
    change = MemberChange.objects.filter(member__name="甲").latest("id")
    assert "2026年综合评价" in change.source and "违法违纪" in change.source
    assert change.changes == [{"field": "is_representative", "old": "是", "new": "否"}]
    last = MemberChange.objects.filter(member__name="戊").latest("id")
    assert "末位淘汰" in last.source
    evaluation_round.refresh_from_db()
    assert evaluation_round.state == EvaluationRound.State.CONFIRMED
    with pytest.raises(ValidationError):
        services.evaluation_score(
            actor=district_user, evaluation=first, source="superior", scores={}
        )
    with pytest.raises(ValidationError):
        services.round_confirm(actor=district_user, evaluation_round=evaluation_round)


def test_who_enters_which_source(
    evaluation_round, district_user, street_user, other_street_user, community_user, template
):
    evaluation = evaluation_round.evaluations.first()
    sheet = scores_for(template, 80)
    with pytest.raises(PermissionDenied):  # 上级评议 is the district's
        services.evaluation_score(
            actor=street_user, evaluation=evaluation, source="superior", scores=sheet
        )
    for actor in (other_street_user, community_user):
        with pytest.raises(PermissionDenied):
            services.evaluation_score(
                actor=actor, evaluation=evaluation, source="public", scores=sheet
            )
    with pytest.raises(PermissionDenied):  # veto marks are the district's too
        services.veto_mark(
            actor=street_user, evaluation=evaluation,
            item=EvaluationItem.objects.filter(is_veto=True).first(), note="x",
        )  # fmt: skip
    item = next(iter(sheet))
    with pytest.raises(ValidationError):
        services.evaluation_score(
            actor=street_user, evaluation=evaluation, source="public",
            scores={item: item.max_score + 1},
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.round_confirm(actor=street_user, evaluation_round=evaluation_round)


def test_superusers_see_the_templates_in_the_admin(client, admin_user, template):
    from django.urls import reverse

    client.force_login(admin_user)
    url = reverse("admin:assessment_evaluationtemplate_change", args=[template.pk])
    assert client.get(url).status_code == 200
    category = template.categories.first()
    page = client.get(reverse("admin:assessment_evaluationcategory_change", args=[category.pk]))
    assert "坚持中国共产党的领导" in page.content.decode()


def test_the_round_pages_from_creation_to_confirmation(
    client, areas, district_user, street_user, other_street_user, community_user, template
):
    from django.urls import reverse

    MemberFactory(name="甲", community=areas["140106001001"], is_representative=True)
    MemberFactory(name="乙", community=areas["140106001002"], is_representative=True)
    client.force_login(district_user)
    response = client.post(
        reverse("assessment:rounds"),
        {"area": areas["140106001"].pk, "name": "2026年综合评价", "template": template.pk,
         "superior_weight": 50, "self_weight": 20, "public_weight": 40, "cut_share": 10},
    )  # fmt: skip
    assert "三项权重之和须为 100" in response.content.decode()
    response = client.post(
        reverse("assessment:rounds"),
        {"area": areas["140106001"].pk, "name": "2026年综合评价", "template": template.pk,
         "superior_weight": 50, "self_weight": 20, "public_weight": 30, "cut_share": 50},
    )  # fmt: skip
    evaluation_round = EvaluationRound.objects.get()
    assert response.url == reverse("assessment:round", args=[evaluation_round.pk])
    first = evaluation_round.evaluations.get(member__name="甲")
    page = reverse("assessment:evaluation", args=[evaluation_round.pk, first.pk])
    items = EvaluationItem.objects.filter(category__template=template, is_veto=False)
    sheet = {f"superior-item_{item.pk}": str(item.max_score) for item in items}
    response = client.post(page, {"source": "superior", **sheet}, follow=True)
    assert response.context["row"].by_source == {"superior": D(100)}
    client.force_login(street_user)
    html = client.get(page).content.decode()
    assert 'id="save-public"' in html and 'id="save-superior"' not in html
    assert client.post(page, {"source": "superior", **sheet}).status_code == 403
    client.force_login(other_street_user)
    assert client.get(page).status_code == 404
    client.force_login(community_user)
    assert client.get(reverse("assessment:rounds")).status_code == 403
    client.force_login(district_user)
    for evaluation in evaluation_round.evaluations.all():
        for source in ("superior", "self", "public"):
            share = 100 if evaluation.member.name == "甲" else 50
            services.evaluation_score(
                actor=district_user, evaluation=evaluation, source=source,
                scores={item: item.max_score * share / 100 for item in items},
            )  # fmt: skip
    talk_with_the_flagged(evaluation_round, district_user)
    confirm = reverse("assessment:round_confirm", args=[evaluation_round.pk])
    loses = client.get(confirm).context["outcome"].loses_flag
    client.post(confirm, {"loses": [row.evaluation.member_id for row in loses]})
    removed = set(Member.objects.filter(is_representative=False).values_list("name", flat=True))
    assert removed == {"乙"}  # 50 % of two: the lower one
    html = client.get(reverse("assessment:round", args=[evaluation_round.pk])).content.decode()
    assert "已移出代表人士" in html or "结果已确认" in html


def test_a_street_enters_its_own_representatives_of_a_district_round(
    client, areas, district_user, street_user, other_district_user, community_user, template
):
    """自我评价 and 社会评价 are the area's staff's (`may_enter` goes by the representative's
    community): in a district-wide round a street sees and enters its own representatives,
    and only them; 待办 on its home page lists what it owes."""
    from django.urls import reverse

    MemberFactory(name="甲", community=areas["140106001001"], is_representative=True)
    MemberFactory(name="丙", community=areas["140106002001"], is_representative=True)
    evaluation_round = services.round_create(
        actor=district_user,
        data={"area": areas["140106"], "name": "全区综合评价", "template": template},
    )
    ours = evaluation_round.evaluations.get(member__name="甲")
    theirs = evaluation_round.evaluations.get(member__name="丙")
    client.force_login(street_user)
    assert "全区综合评价" in client.get(reverse("assessment:rounds")).content.decode()
    page = client.get(reverse("assessment:round", args=[evaluation_round.pk]))
    assert [row.evaluation.member.name for row in page.context["rows"]] == ["甲"]
    assert [entry.row.evaluation.member.name for entry in page.context["missing"]] == ["甲"]
    assert "丙" not in page.content.decode() and 'id="confirm-round"' not in page.content.decode()
    url = reverse("assessment:evaluation", args=[evaluation_round.pk, ours.pk])
    html = client.get(url).content.decode()
    assert 'id="save-public"' in html and 'id="save-self"' in html
    assert 'id="save-superior"' not in html
    other = reverse("assessment:evaluation", args=[evaluation_round.pk, theirs.pk])
    assert client.get(other).status_code == 404
    home = client.get(reverse("home")).context["todo"]
    assert [(owed.label, owed.count) for owed in home.sheets] == [("甲", 2)]
    items = EvaluationItem.objects.filter(category__template=template, is_veto=False)
    sheet = {f"public-item_{item.pk}": str(item.max_score) for item in items}
    assert client.post(url, {"source": "public", **sheet}).status_code == 302
    assert round_results(evaluation_round)[0].by_source == {"public": D(100)}
    home = client.get(reverse("home")).context["todo"]
    assert [(owed.label, owed.sources) for owed in home.sheets] == [("甲", ["自我评价"])]
    # Confirming stays the district's; other districts and communities see nothing of it.
    confirm = reverse("assessment:round_confirm", args=[evaluation_round.pk])
    assert client.get(confirm).status_code == 403
    client.force_login(other_district_user)
    assert client.get(reverse("assessment:round", args=[evaluation_round.pk])).status_code == 404
    client.force_login(community_user)
    assert client.get(reverse("assessment:round", args=[evaluation_round.pk])).status_code == 403
