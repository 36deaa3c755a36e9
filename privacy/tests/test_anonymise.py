"""Anonymising a member past her retention period: after the run none of her personal values
is anywhere in the database or in a stored file; every number the dashboards show and a
finished assessment's results are the same; her page says so; nothing brings it back."""

import datetime
import io
import json
import zipfile
from decimal import Decimal as D

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType
from assessment import meetings
from assessment import services as assessment_services
from assessment.models import EvaluationItem, EvaluationTemplate, Indicator, Result
from assessment.standings import measure
from commendations import services as commendation_services
from dashboards.stats import Dashboard
from dashboards.tallies import tallies_check
from dashboards.tests.test_dashboard import numbers_and_lists
from members import jobs
from members import services as member_services
from members.models import ImportJob, ImportRow, Member, MemberChange
from members.tests.factories import MemberFactory
from members.tests.test_imports import person, roster
from members.tests.test_printing import photo_bytes
from organisations import services as organisation_services
from privacy import services
from privacy.models import Anonymisation
from resources import services as resource_services
from tongzhan.models import AuditEvent, Download
from tongzhan.services import download_request

from .conftest import years_ago

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n" + b"0" * 100
NAME = "欧阳雪梅"
# Her values, and phrases of what was written about her, each found nowhere after the run.
PERSONAL = {
    "name": NAME,
    "phone": "13912340007",
    "address": "迎泽大街88号幸福小区5栋",
    "workplace": "太原理工大学化学工程学院",
    "specialty": "高分子材料研究",
    "notes": "擅长书法与剪纸",
    "relative": "欧阳建国",
    "relative_contact": "0912345678",
    "other_phone": "13912340008",
    "visit": "家中老人卧床需要照料",
    "opinions": "希望增加社区助老服务",
    "need": "申请廉租房补贴手续",
    "resolution": "已协调落实廉租房补贴",
    "deeds": "义务辅导留守儿童十余年",
    "talk": "谈及其家庭经济困难情况",
    "veto": "违反交通法规被处罚记录",
    "duty": "关于老旧小区加装电梯的提案内容",
    "nomination": "热心社区公益群众基础好",
    "transfer": "搬去女儿家同住照顾外孙",
    "resource": "提供免费化学实验讲座",
}


def her_world(areas, community_user, street_user, district_user):
    """Ms 欧阳雪梅 of 桥东一社区, with everything the registry may hold about her, who moved
    out four years ago; a colleague visited with her; a finished assessment period and a
    confirmed evaluation round that counted her."""
    qiaodong = areas["140106001001"]
    year = timezone.localdate().year
    period = assessment_services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": f"{year}年度",
              "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
    )  # fmt: skip
    for name, metric in (("走访", "visited_share"), ("办结诉求", "needs_resolved")):
        assessment_services.indicator_add(
            actor=district_user, period=period,
            data={"name": name, "kind": "measured", "metric": metric, "weight": D(50),
                  "rule": "fixed", "base": D(1)},
        )  # fmt: skip
    her = MemberFactory(
        name=NAME, community=qiaodong, phone=PERSONAL["phone"], address=PERSONAL["address"],
        workplace=PERSONAL["workplace"], specialty=PERSONAL["specialty"],
        notes=PERSONAL["notes"], is_representative=True,
    )  # fmt: skip
    PERSONAL["id_number"] = her.id_number
    colleague = MemberFactory(community=qiaodong, name="周文")
    twin = MemberFactory(community=qiaodong, name=NAME, phone=PERSONAL["other_phone"])
    PERSONAL["other_id_number"] = twin.id_number
    member_services.member_merge(actor=district_user, keep=her, merged=twin)
    her.refresh_from_db()
    assessment_services.period_open(actor=district_user, period=period)

    member_services.member_photo_set(
        actor=community_user, member=her,
        upload=SimpleUploadedFile("照片.jpg", photo_bytes(), "image/jpeg"),
    )  # fmt: skip
    member_services.relative_add(
        actor=community_user, member=her,
        data={"name": PERSONAL["relative"], "relation": "sibling", "residence": "TWN",
              "contact": PERSONAL["relative_contact"], "place": "台北市"},
    )  # fmt: skip
    arrangement = member_services.arrangement_add(
        actor=community_user,
        member=her,
        data={"body": "cppcc", "level": "district", "post": "委员"},
    )
    member_services.duty_add(
        actor=community_user, member=her,
        data={"kind": "proposal", "date": timezone.localdate(), "title": "加装电梯",
              "arrangement": arrangement, "description": PERSONAL["duty"]},
    )  # fmt: skip
    visit = activity_services.visit_create(
        actor=community_user,
        data={"community": qiaodong, "date": timezone.localdate(), "staff": "王丽",
              "way": "home", "situation": PERSONAL["visit"], "opinions": PERSONAL["opinions"]},
        members=[her], need={"kind": "hardship", "description": PERSONAL["need"]},
    )  # fmt: skip
    activity_services.visit_create(
        actor=community_user,
        data={"community": qiaodong, "date": timezone.localdate(), "staff": "王丽",
              "way": "meeting", "situation": f"与{NAME}、周文座谈，{NAME}谈了小区停车难"},
        members=[her, colleague],
    )  # fmt: skip
    activity_services.need_set_status(
        actor=community_user, need=visit.needs.get(), status="resolved",
        resolution=PERSONAL["resolution"], closed_on=timezone.localdate(),
    )  # fmt: skip
    activity_services.activity_create(
        actor=community_user,
        data={"type": ActivityType.objects.get(code="training"), "title": "学习会",
              "starts_at": timezone.now(), "area": qiaodong,
              "summary": f"{NAME}作了发言"},
        participants=[her, colleague],
    )  # fmt: skip
    organisation_services.organisation_create(
        actor=community_user,
        data={"name": "桥东化学学会", "kind": "resident_unit", "area": qiaodong,
              "contact_member": her},
    )  # fmt: skip
    resource_services.resource_create(
        actor=community_user,
        data={"member": her, "organisation": None, "title": "化学讲座", "kind": "service",
              "service": "education", "description": PERSONAL["resource"], "capacity": None,
              "valid_until": None},
    )  # fmt: skip
    campaign = commendation_services.campaign_create(
        actor=district_user,
        data={"kind": "resident", "year": year, "title": "最美居民评选", "description": "",
              "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=30)},
    )  # fmt: skip
    commendation_services.nomination_submit(
        actor=community_user, campaign=campaign,
        data={"member": her, "deeds": PERSONAL["deeds"]},
        uploads=[SimpleUploadedFile("事迹.pdf", PDF, "application/pdf")],
    )  # fmt: skip

    # A yearly evaluation of the street's representatives flags her (the only one): a veto,
    # a talk, and the round confirmed, which takes her off the representatives.
    evaluation_round = assessment_services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True)},
    )  # fmt: skip
    items = EvaluationItem.objects.filter(category__template=evaluation_round.template)
    evaluation = evaluation_round.evaluations.get(member=her)
    for source in ("superior", "self", "public"):
        assessment_services.evaluation_score(
            actor=district_user, evaluation=evaluation, source=source,
            scores={item: item.max_score for item in items.filter(is_veto=False)},
        )  # fmt: skip
    assessment_services.veto_mark(
        actor=district_user, evaluation=evaluation, item=items.filter(is_veto=True).first(),
        note=PERSONAL["veto"],
    )  # fmt: skip
    meetings.talk_record_set(
        actor=district_user, evaluation=evaluation,
        data={"kind": "warning", "held_on": timezone.localdate(), "held_by": "区委统战部",
              "content": PERSONAL["talk"]},
    )  # fmt: skip
    assessment_services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    member_services.nomination_create(
        actor=community_user, member=her, reason=PERSONAL["nomination"]
    )

    # Rosters: one imported with her row, one waiting for confirmation with it.
    row = person(NAME, number=PERSONAL["id_number"])
    done = jobs.job_create(actor=district_user, data=roster(row), filename="花名册.xlsx")
    jobs.job_confirm(actor=district_user, job=done)
    waiting = jobs.job_create(actor=district_user, data=roster(row), filename="新花名册.xlsx")
    # A roster the district exported in the background, and one searched by her number.
    download_request(
        actor=district_user, kind="members.roster", title="统战对象.xlsx", params={"query": {}}
    )
    download_request(
        actor=street_user, kind="members.roster", title="查询.xlsx",
        params={"query": {"q": [PERSONAL["id_number"]]}},
    )  # fmt: skip

    member_services.transfer_request(
        actor=community_user, member=her, to_community=areas["140106001002"],
        reason=PERSONAL["transfer"],
    )  # fmt: skip
    her.refresh_from_db()
    member_services.member_set_status(
        actor=community_user, member=her, status="moved_out", date=years_ago(4),
        reason="迁往北京市海淀区",
    )  # fmt: skip
    assessment_services.period_finalize(actor=district_user, period=period)
    her.refresh_from_db()
    return {
        "her": her, "twin": twin, "period": period, "round": evaluation_round,
        "waiting": waiting, "done_job": done,
    }  # fmt: skip


@pytest.fixture
def world(areas, community_user, street_user, district_user):
    # The test storage lives in memory across tests: it starts empty here.
    for name in stored_files():
        default_storage.delete(name)
    return her_world(areas, community_user, street_user, district_user)


def anonymise(her, district_user, capture):
    services.approval_create(actor=district_user, member_ids=[her.pk])
    with capture(execute=True):
        assert services.anonymisations_run() == 1


# -- Finding a value anywhere ---------------------------------------------------------------

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _texts_of(value) -> list[str]:
    """A stored value as the texts to look in: a file's bytes, and each part of a zip (xlsx)."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        texts = [value.decode("utf-8", "ignore")]
        if value[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(value)) as archive:
                texts += [
                    archive.read(name).decode("utf-8", "ignore") for name in archive.namelist()
                ]
        return texts
    if isinstance(value, dict | list):
        return [json.dumps(value, ensure_ascii=False)]
    return [str(value)]


def found_in_database(value: str, *, except_models=()) -> list[str]:
    """Where `value` is stored: every text, JSON and binary column of every model's table
    (encrypted ones read as the application reads them), and on PostgreSQL every text column
    of every table as the database holds it."""
    where = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label_lower in except_models:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        names = [field.attname for field in fields]
        for row in model._base_manager.values_list("pk", *names):
            for name, stored in zip(names, row[1:], strict=True):
                if stored is not None and any(value in text for text in _texts_of(stored)):
                    where.append(f"{model._meta.label}.{name} #{row[0]}")
    if connection.vendor == "postgresql":
        skipped = {apps.get_model(label)._meta.db_table for label in except_models}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type IN "
                "('text', 'character varying', 'jsonb', 'json')"
            )
            for table, column in cursor.fetchall():
                if table in skipped:
                    continue
                cursor.execute(  # names from the catalogue, the value a parameter
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',  # noqa: S608
                    [f"%{value}%"],
                )
                if cursor.fetchone()[0]:
                    where.append(f"{table}.{column}")
    return where


def stored_files(folder: str = "") -> list[str]:
    """Every file in the storage the application keeps uploads in."""
    folders, files = default_storage.listdir(folder)
    names = [f"{folder}/{name}".lstrip("/") for name in files]
    for sub in folders:
        names += stored_files(f"{folder}/{sub}".lstrip("/"))
    return names


def found_in_files(value: str) -> list[str]:
    found = []
    for name in stored_files():
        with default_storage.open(name) as stored:
            if any(value in text for text in _texts_of(stored.read())):
                found.append(name)
    return found


# -- The tests ------------------------------------------------------------------------------


def test_before_the_run_her_values_are_there(world):
    """The search finds what it looks for: every value is stored somewhere before."""
    for key, value in PERSONAL.items():
        assert found_in_database(value, except_models={"tongzhan.auditevent"}), key
    names = stored_files()
    assert any(name.startswith("members/photos/") for name in names)
    assert any(name.startswith("commendations/") for name in names)


def test_after_the_run_none_of_her_values_is_anywhere(
    world, district_user, django_capture_on_commit_callbacks
):
    her = world["her"]
    files = stored_files()
    anonymise(her, district_user, django_capture_on_commit_callbacks)
    for key, value in PERSONAL.items():
        assert found_in_database(value, except_models={"tongzhan.auditevent"}) == [], key
        assert found_in_files(value) == [], key
    # The audit log is kept whole (append-only, chained), and it never held her values: its
    # lines name her masked (欧*** for her and her relative) and keep no reason typed.
    audit = " ".join(
        f"{line.object_repr} {json.dumps(line.detail, ensure_ascii=False)}"
        for line in AuditEvent.objects.all()
    )
    assert [key for key, value in PERSONAL.items() if value in audit] == []
    assert f"{NAME[0]}***" in audit
    # Her photo and the files of her deeds are deleted from storage.
    assert [name for name in files if default_storage.exists(name)] == []
    her.refresh_from_db()
    assert her.name == f"已匿名{her.pk}"
    assert (her.id_number, her.phone, her.address, her.photo.name) == ("", "", "", "")
    assert her.id_number_hash == f"anonymised:{her.pk}"
    # What the counts need stays.
    assert (her.status, her.status_date, her.community.code) == (
        "moved_out", years_ago(4), "140106001001"
    )  # fmt: skip
    assert her.birth_date.month == her.birth_date.day == 1
    assert [category.slug for category in her.categories.all()] == ["intellectual"]
    assert her.visits.count() == 2 and her.needs.count() == 1 and her.activities.count() == 1
    # The record merged into hers is hers too.
    world["twin"].refresh_from_db()
    assert world["twin"].name == f"已匿名{world['twin'].pk}"
    # Files and rosters that held her.
    assert not Download.objects.filter(data__isnull=False).exists()
    assert set(Download.objects.values_list("state", flat=True)) == {"expired"}
    waiting = ImportJob.objects.get(pk=world["waiting"].pk)
    assert (waiting.state, waiting.data) == ("cancelled", None)
    assert ImportRow.objects.filter(job=world["done_job"]).get().name == "已匿名"
    # The talent search finds her no more by what she knew.
    assert not Member.objects.talent_search(PERSONAL["specialty"]).filter(pk=her.pk).exists()
    # The run is audited, masked: the record's new name and counts only.
    line = AuditEvent.objects.filter(object_type="members.member", object_id=str(her.pk)).first()
    assert line.action == "delete" and line.object_repr == f"已匿名{her.pk}"
    assert line.detail["anonymised"] is True and line.detail["relatives"] == 1
    assert Anonymisation.objects.get().state == "done"


def test_the_dashboards_and_a_finished_assessment_count_the_same(
    world, community_user, street_user, district_user, django_capture_on_commit_callbacks
):
    def numbers():
        dashboards = [
            list(numbers_and_lists(Dashboard(user)))
            for user in (community_user, street_user, district_user)
        ]
        period = world["period"]
        indicators = list(Indicator.objects.filter(period=period))
        results = list(
            Result.objects.filter(period=period)
            .order_by("community_id")
            .values("community_id", "total", "rank_in_street", "rank_in_district", "grade",
                    "outcome", "breakdown")
        )  # fmt: skip
        ids = sorted({result["community_id"] for result in results})
        outcome = assessment_services.round_outcome_preview(world["round"])
        rounds = [(row.evaluation.pk, row.total, row.rank, row.left, row.vetoes)
                  for row in outcome.rows]  # fmt: skip
        return dashboards, results, measure(period, indicators, ids), rounds

    before = numbers()
    assert before[1] and before[3]  # there are results to compare
    anonymise(world["her"], district_user, django_capture_on_commit_callbacks)
    assert numbers() == before
    # And the tallies stored are those counted again from the records.
    assert tallies_check() == []


def test_her_page_says_she_was_anonymised(
    client, world, community_user, district_user, django_capture_on_commit_callbacks
):
    her = world["her"]
    anonymise(her, district_user, django_capture_on_commit_callbacks)
    client.force_login(community_user)
    page = client.get(reverse("members:detail", args=[her.pk])).content.decode()
    assert 'id="anonymised"' in page and f"已匿名{her.pk}" in page
    assert NAME not in page
    assert MemberChange.objects.filter(member=her, action="anonymise").exists()


def test_it_cannot_be_undone(
    client, world, community_user, district_user, django_capture_on_commit_callbacks
):
    her = world["her"]
    anonymise(her, district_user, django_capture_on_commit_callbacks)
    her.refresh_from_db()
    # Registered again, edited, or merged: refused, on the pages and in the services.
    with pytest.raises(PermissionDenied):
        member_services.member_set_status(
            actor=district_user, member=her, status="active", date=timezone.localdate(),
            reason="",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        member_services.member_update(actor=district_user, member=her, data={"name": NAME})
    client.force_login(community_user)
    for name in ("members:update", "members:status"):
        assert client.get(reverse(name, args=[her.pk])).status_code == 403
    # Nothing is due again, nor approved twice; the run does nothing more.
    assert not services.members_due(district_user).filter(pk=her.pk).exists()
    with pytest.raises(ValidationError):
        services.approval_create(actor=district_user, member_ids=[her.pk])
    assert services.anonymisations_run() == 0
    # Her number is free: she may be registered again, as a new record.
    again = MemberFactory(community=her.community, id_number=PERSONAL["id_number"])
    assert again.pk != her.pk


def test_a_record_registered_again_before_the_run_is_left_as_it_is(
    world, district_user, community_user
):
    her = world["her"]
    services.approval_create(actor=district_user, member_ids=[her.pk])
    member_services.member_set_status(
        actor=community_user, member=her, status="active", date=timezone.localdate(), reason=""
    )
    assert services.anonymisations_run() == 0
    her.refresh_from_db()
    assert her.name == NAME and her.anonymised_at is None
    assert Anonymisation.objects.get().state == "skipped"


def test_every_field_of_a_member_is_kept_or_emptied(
    world, district_user, django_capture_on_commit_callbacks
):
    """A field added to the member later is emptied unless it is put on the kept list."""
    from privacy.anonymise import KEPT_FIELDS

    her = world["her"]
    anonymise(her, district_user, django_capture_on_commit_callbacks)
    her = Member.objects.get(pk=her.pk)
    for field in Member._meta.concrete_fields:
        if field.name not in KEPT_FIELDS:
            assert getattr(her, field.attname) in ("", None, False), field.name
