"""Scores entered as a grid and by uploading the same grid as .xlsx (issue 13)."""

import io
import re
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from assessment import services
from assessment.models import EvaluationItem, EvaluationScore, EvaluationTemplate, ManualScore
from conftest import _user
from members.tests.factories import MemberFactory
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(areas, period, indicators, district_user):
    services.period_open(actor=district_user, period=period)
    return period


def grid_url(period, name="assessment:scores"):
    return reverse(name, args=[period.pk])


def cell(community, indicator):
    return f"cell-{community.code}-{indicator.pk}"


def text(response) -> str:
    return response.content.decode()


def test_a_street_officer_sees_her_communities_by_the_items_she_scores(
    client, areas, running, indicators, street_user, district_user, other_district_user,
    community_user,
):  # fmt: skip
    client.force_login(street_user)
    page = text(client.get(grid_url(running)))
    assert "桥东一社区" in page and "五一二社区" in page
    assert "府东一社区" not in page  # another street's
    assert "工作制度健全" in page and "满分 40" in page
    assert "创新加分" not in page  # the district scores it
    assert 'inputmode="decimal"' in page
    assert f'name="{cell(areas["140106001001"], indicators["system"])}"' in page
    client.force_login(district_user)
    page = text(client.get(grid_url(running)))
    assert "府东一社区" in page and "创新加分" in page and "信息报送不及时" in page
    assert "开展活动" not in page  # measured from the data, not scored by hand
    client.force_login(other_district_user)
    assert client.get(grid_url(running)).status_code == 404
    client.force_login(community_user)
    assert client.get(grid_url(running)).status_code == 403


def test_the_grid_saves_only_the_changed_cells_and_leaves_empty_ones_unscored(
    client, areas, running, indicators, street_user
):
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    system = indicators["system"]
    services.score_set(
        actor=street_user, indicator=system, community=qiaodong, points=D(30), evidence="台账"
    )
    before = ManualScore.objects.get().scored_at
    client.force_login(street_user)
    page = text(client.get(grid_url(running)))
    assert 'value="30"' in page
    audits = AuditEvent.objects.count()
    response = client.post(
        grid_url(running),
        {cell(qiaodong, system): "30", cell(wuyier, system): "", "evidence": ""},
        follow=True,
    )
    assert "没有修改任何评分。" in text(response)
    assert AuditEvent.objects.count() == audits
    response = client.post(
        grid_url(running),
        {cell(qiaodong, system): "30", cell(wuyier, system): "35.5", "evidence": "现场检查"},
        follow=True,
    )
    assert "已保存 1 项评分。" in text(response)
    assert ManualScore.objects.get(community=qiaodong).scored_at == before  # not rewritten
    assert ManualScore.objects.get(community=wuyier).points == D("35.5")
    assert not ManualScore.objects.filter(community=areas["140106002001"]).exists()


def test_a_refused_cell_refuses_the_save_and_says_which_cell_and_why(
    client, areas, running, indicators, street_user
):
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    system = indicators["system"]
    client.force_login(street_user)
    page = text(
        client.post(
            grid_url(running),
            {cell(qiaodong, system): "20", cell(wuyier, system): "41", "evidence": "检查"},
        )
    )
    assert "五一二社区 × 工作制度健全：超过满分40" in page
    assert 'aria-invalid="true"' in page
    for value, why in (("abc", "不是数字"), ("-1", "不能为负数"), ("1.234", "小数超过两位")):
        page = text(client.post(grid_url(running), {cell(wuyier, system): value}))
        assert f"五一二社区 × 工作制度健全：{why}" in page
    # The service's own checks: a first score needs what it rests on.
    page = text(client.post(grid_url(running), {cell(wuyier, system): "20", "evidence": ""}))
    assert "五一二社区 × 工作制度健全：请说明评分依据。" in page
    assert not ManualScore.objects.exists()


def test_the_service_refuses_every_cell_out_of_the_scorers_reach_and_saves_nothing(
    areas, running, indicators, street_user
):
    system = indicators["system"]
    changes = [
        (areas["140106001001"], system, D(20)),
        (areas["140106002001"], system, D(20)),  # another street's community
        (areas["140106001002"], indicators["innovation"], D(3)),  # the district's item
    ]
    with pytest.raises(ValidationError) as refused:
        services.score_grid_set(actor=street_user, period=running, changes=changes, evidence="查")
    assert sorted(refused.value.messages) == [
        "五一二社区 × 创新加分：您无权在此评分",
        "府东一社区 × 工作制度健全：您无权在此评分",
    ]
    assert not ManualScore.objects.exists()


def upload(client, url, book, name="评分表.xlsx"):
    out = io.BytesIO()
    book.save(out)
    return client.post(
        url, {"action": "upload", "file": SimpleUploadedFile(name, out.getvalue())}, follow=True
    )


def test_the_sheet_downloads_fills_uploads_previews_and_saves_on_confirmation(
    client, areas, running, indicators, district_user
):
    qiaodong = areas["140106001001"]
    innovation, deduction = indicators["innovation"], indicators["deduction"]
    services.score_set(
        actor=district_user, indicator=innovation, community=qiaodong, points=D(2), evidence="创"
    )
    client.force_login(district_user)
    download = client.get(grid_url(running, "assessment:scores_download"))
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(download.content))
    sheet = book.active
    assert [c.value for c in sheet[2]] == ["社区代码", "社区名称", "创新加分（满分5）",
                                           "信息报送不及时（满分5）"]  # fmt: skip
    assert [c.value for c in sheet[3]] == ["140106001001", "桥东一社区", 2, None]
    assert sheet["C3"].data_type == "n" and sheet.page_setup.orientation == "landscape"
    sheet["C3"] = 4.5
    sheet["D5"] = 1  # 府东一社区
    response = upload(client, grid_url(running, "assessment:scores_upload"), book)
    page = text(response)
    assert "评分表.xlsx 将修改 2 项评分" in page
    assert ManualScore.objects.get().points == D(2)  # nothing saved before confirmation
    response = client.post(
        grid_url(running, "assessment:scores_upload"),
        {"action": "confirm", "evidence": "年终检查"},
        follow=True,
    )
    assert "已保存 2 项评分。" in text(response)
    assert ManualScore.objects.get(indicator=innovation).points == D("4.5")
    fudong = ManualScore.objects.get(indicator=deduction, community=areas["140106002001"])
    assert fudong.points == 1 and fudong.evidence == "年终检查"
    assert AuditEvent.objects.filter(detail__file="评分表.xlsx", detail__score_grid=2).exists()
    # Confirmed once: nothing is left to confirm.
    again = client.post(grid_url(running, "assessment:scores_upload"), {"action": "confirm"})
    assert again.status_code == 302 and ManualScore.objects.count() == 2


def test_an_upload_is_refused_whole_with_every_row_column_and_reason(
    client, areas, running, indicators, street_user
):
    client.force_login(street_user)
    book = load_workbook(
        io.BytesIO(client.get(grid_url(running, "assessment:scores_download")).content)
    )
    sheet = book.active
    sheet["D2"], sheet["E2"] = "创新加分（满分5）", "满意度"
    sheet["C3"] = "好"
    sheet["C4"] = 50
    sheet.append(["140106001001", "桥东一社区", -1])
    sheet.append(["140106002001", "府东一社区", 10])
    response = upload(client, grid_url(running, "assessment:scores_upload"), book)
    page = text(response)
    for problem in (
        "第 2 行，“创新加分（满分5）”列：您无权为此项评分",
        "第 2 行，“满意度”列：未知的列",
        "第 3 行（桥东一社区），“工作制度健全”列：不是数字",
        "第 4 行（五一二社区），“工作制度健全”列：超过满分40",
        "第 5 行（140106001001）：与第 3 行重复",
        "第 6 行（140106002001）：不在您的评分范围内",
    ):
        assert problem in page
    assert "将修改" not in page and not ManualScore.objects.exists()
    sheet.delete_rows(5, 2)
    sheet["C3"], sheet["C4"] = None, -2
    sheet["D2"] = sheet["E2"] = None
    assert "“工作制度健全”列：不能为负数" in text(
        upload(client, grid_url(running, "assessment:scores_upload"), book)
    )
    big = SimpleUploadedFile("大.xlsx", b"PK\x03\x04" + b"0" * (2 * 1024 * 1024 + 1))
    page = text(client.post(grid_url(running, "assessment:scores_upload"), {"file": big}))
    assert "文件超过 2 MB" in page


def test_an_uploaded_sheet_is_kept_until_confirmed_or_discarded(
    client, areas, running, indicators, street_user
):
    client.force_login(street_user)
    url = grid_url(running, "assessment:scores_upload")
    book = load_workbook(
        io.BytesIO(client.get(grid_url(running, "assessment:scores_download")).content)
    )
    book.active["C3"] = 10
    upload(client, url, book)
    assert "将修改 1 项评分" in text(client.get(url))
    refused = text(client.post(url, {"action": "confirm", "evidence": ""}))
    assert "桥东一社区 × 工作制度健全：请说明评分依据。" in refused
    response = client.post(url, {"action": "cancel"}, follow=True)
    assert "已放弃上传的评分表。" in text(response) and "将修改" not in text(response)
    assert not ManualScore.objects.exists()


# -- Evaluation grid -------------------------------------------------------------------------


@pytest.fixture
def evaluation_round(areas, district_user):
    for name, code in (("甲", "140106001001"), ("乙", "140106001002")):
        MemberFactory(name=name, community=areas[code], is_representative=True)
    return services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True)},
    )  # fmt: skip


def round_url(evaluation_round, name="assessment:round_scores", source=""):
    url = reverse(name, args=[evaluation_round.pk])
    return f"{url}?source={source}" if source else url


def test_the_evaluation_grid_enters_a_source_for_every_representative(
    client, evaluation_round, street_user, district_user, other_district_user
):
    items = list(
        EvaluationItem.objects.filter(category__template=evaluation_round.template, is_veto=False)
    )
    first = items[0]
    jia = evaluation_round.evaluations.get(member__name="甲")
    client.force_login(street_user)
    page = text(client.get(round_url(evaluation_round, source="superior")))
    # 上级评议 is the district's: the street officer gets her first own source.
    assert 'aria-current="page">自我评价' in page and "上级评议" not in page
    assert "甲" in page and "乙" in page and f"满分 {first.max_score.normalize():f}" in page
    assert "违法违纪" not in page  # veto items are marked on the representative's page
    name = f"cell-{jia.pk}-{first.pk}"
    refused = text(client.post(round_url(evaluation_round, source="self"), {name: "999"}))
    assert f"甲 × {first.name}：超过满分" in refused
    response = client.post(round_url(evaluation_round, source="self"), {name: "3"}, follow=True)
    assert "已保存 1 项评分。" in text(response)
    assert EvaluationScore.objects.get().source == "self"
    client.force_login(district_user)
    assert 'aria-current="page">上级评议' in text(
        client.get(round_url(evaluation_round, source="superior"))
    )
    client.force_login(other_district_user)
    assert client.get(round_url(evaluation_round)).status_code == 404


def test_the_evaluation_sheet_round_trips_without_any_id_number(
    client, evaluation_round, district_user
):
    client.force_login(district_user)
    download = client.get(
        round_url(evaluation_round, "assessment:round_scores_download", source="public")
    )
    book = load_workbook(io.BytesIO(download.content))
    sheet = book.active
    assert sheet["A2"].value == "评价编号" and sheet["B2"].value == "姓名"
    values = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    for evaluation in evaluation_round.evaluations.select_related("member"):
        assert evaluation.member.id_number not in values
    yi = evaluation_round.evaluations.get(member__name="乙")
    row = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == str(yi.pk))
    row[2].value = 5
    url = round_url(evaluation_round, "assessment:round_scores_upload", source="public")
    assert "将修改 1 项评分" in text(upload(client, url, book))
    response = client.post(url, {"action": "confirm"}, follow=True)
    assert "已保存 1 项评分。" in text(response)
    saved = EvaluationScore.objects.get()
    assert (saved.evaluation, saved.source, saved.score) == (yi, "public", 5)


def test_veto_marks_show_on_the_grid_row_and_the_todo_card_links_to_the_grids(
    client, areas, evaluation_round, running, street_user, district_user
):
    from dashboards.todo import todo_for

    jia = evaluation_round.evaluations.get(member__name="甲")
    veto = EvaluationItem.objects.get(category__template=evaluation_round.template, name="违法违纪")
    services.veto_mark(actor=district_user, evaluation=jia, item=veto, note="受到处分")
    client.force_login(district_user)
    page = text(client.get(round_url(evaluation_round, source="superior")))
    assert "一票否决: 违法违纪" in page
    todo = todo_for(street_user, running.starts_on)
    assert {owed.grid_url for owed in todo.scores} == {grid_url(running)}
    assert todo.sheets[0].grid_url == round_url(evaluation_round, source="self")


def test_an_upload_naming_one_item_in_two_columns_is_refused(
    client, areas, running, indicators, street_user
):
    """Two columns of one item would give a cell two scores, the later silently winning."""
    client.force_login(street_user)
    url = grid_url(running, "assessment:scores_upload")
    book = load_workbook(
        io.BytesIO(client.get(grid_url(running, "assessment:scores_download")).content)
    )
    sheet = book.active
    sheet["D2"] = "工作制度健全"
    sheet["C3"], sheet["D3"] = 10, 20
    page = text(upload(client, url, book))
    assert "第 2 行，“工作制度健全”列：与前面的列是同一项" in page
    assert "将修改" not in page and not ManualScore.objects.exists()


def _seen_value(page: str, name: str) -> str:
    """The score a cell showed when the page was opened (its hidden field)."""
    return re.search(rf'name="seen-{name}" value="([^"]*)"', page).group(1)


def test_a_grid_saved_after_someone_else_scored_never_undoes_their_score_unseen(
    client, areas, running, indicators, street_user
):
    """Two officers of a street score on the grid at once: the second save neither puts back
    the score its page showed, nor overwrites a score its scorer never saw."""
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    system = indicators["system"]
    services.score_set(
        actor=street_user, indicator=system, community=qiaodong, points=D(10), evidence="台账"
    )
    client.force_login(street_user)
    page = text(client.get(grid_url(running)))
    seen = _seen_value(page, cell(qiaodong, system))
    assert seen in ("10", "10.00")
    colleague = _user("carla", "street", areas["140106001"])
    services.score_set(
        actor=colleague, indicator=system, community=qiaodong, points=D(15), evidence="复核"
    )
    # Her page still shows 10 for 桥东一社区; she scores 五一二社区 only.
    posted = {
        cell(qiaodong, system): "10",
        f"seen-{cell(qiaodong, system)}": seen,
        cell(wuyier, system): "20",
        f"seen-{cell(wuyier, system)}": "",
        "evidence": "检查",
    }
    response = client.post(grid_url(running), posted, follow=True)
    assert "已保存 1 项评分。" in text(response)
    assert ManualScore.objects.get(community=qiaodong).points == D(15)
    # She does change 桥东一社区, from the 10 she saw: refused, naming the score given since.
    posted[cell(qiaodong, system)] = "12"
    page = text(client.post(grid_url(running), posted))
    assert "桥东一社区 × 工作制度健全：他人已改评为 15，请核对后再保存" in page
    assert ManualScore.objects.get(community=qiaodong).points == D(15)
    # The page shown again now carries the 15 she has seen: saving again is her decision.
    posted[f"seen-{cell(qiaodong, system)}"] = _seen_value(page, cell(qiaodong, system))
    response = client.post(grid_url(running), posted, follow=True)
    assert "已保存 1 项评分。" in text(response)
    assert ManualScore.objects.get(community=qiaodong).points == D(12)


def test_an_upload_confirmed_after_someone_else_scored_the_cell_is_refused(
    client, areas, running, indicators, street_user
):
    qiaodong, system = areas["140106001001"], indicators["system"]
    url = grid_url(running, "assessment:scores_upload")
    client.force_login(street_user)
    book = load_workbook(
        io.BytesIO(client.get(grid_url(running, "assessment:scores_download")).content)
    )
    book.active["C3"] = 10
    assert "将修改 1 项评分" in text(upload(client, url, book))
    colleague = _user("carla", "street", areas["140106001"])
    services.score_set(
        actor=colleague, indicator=system, community=qiaodong, points=D(15), evidence="复核"
    )
    page = text(client.post(url, {"action": "confirm", "evidence": "年终检查"}))
    assert "桥东一社区 × 工作制度健全：他人已改评为 15，请核对后再保存" in page
    assert ManualScore.objects.get().points == D(15)


def test_an_evaluation_grid_refuses_a_score_changed_since_it_was_seen(
    evaluation_round, street_user
):
    item = EvaluationItem.objects.filter(
        category__template=evaluation_round.template, is_veto=False
    ).first()
    jia = evaluation_round.evaluations.get(member__name="甲")
    services.evaluation_score(actor=street_user, evaluation=jia, source="self", scores={item: 4})
    with pytest.raises(ValidationError) as refused:
        services.evaluation_grid_score(
            actor=street_user, evaluation_round=evaluation_round, source="self",
            changes=[(jia, item, D(2))], seen={(jia.pk, item.pk): None},
        )  # fmt: skip
    assert refused.value.messages == [f"甲 × {item.name}：他人已改评为 4，请核对后再保存"]
    assert EvaluationScore.objects.get().score == 4
