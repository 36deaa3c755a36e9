"""Importing a roster in the browser: upload, check in the background, preview, confirm."""

import datetime
import io
import time
from urllib.parse import quote

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import now
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from members import jobs
from members.models import ImportJob, Member, MemberChange
from tongzhan import spreadsheets as xlsx
from tongzhan.models import AuditEvent
from tongzhan.tests.libreoffice import csv_rows, needs_libreoffice
from tongzhan.tests.tasks import run_queued_tasks
from tongzhan.workers import in_process_worker_stop

from .factories import MemberFactory, id_number_for
from .test_imports import person, roster

pytestmark = pytest.mark.django_db

State = ImportJob.State


def upload(client, data, name="柳巷花名册.xlsx", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("members:import_create"), {"file": file, **fields})


def good_and_bad():
    """Two people to register and one row refused for its category."""
    return roster(person("陈一"), person("陈二"), person("陈三", category="热心群众"))


def test_upload_is_checked_and_previewed_before_anything_is_written(client, district_user):
    client.force_login(district_user)
    response = upload(client, good_and_bad())
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("members:import_detail", args=[job.pk])
    assert job.state == State.CHECKED and job.created_by == district_user
    assert not Member.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "预览" in page and 'id="confirm-import"' in page
    assert job.check_report["created"] == 2 and job.check_report["refused_rows"] == 1
    refused = client.get(response["Location"], {"kind": "refused"}).content.decode()
    assert "热心群众" in refused  # the refused row's reason
    assert reverse("members:import_refused", args=[job.pk]) in page


def test_confirming_writes_the_valid_rows_with_the_file_as_history_source(client, district_user):
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    response = client.post(reverse("members:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert response.status_code == 302
    assert job.state == State.DONE and job.report["created"] == 2
    assert job.data is None  # the uploaded file is not kept once imported
    assert set(Member.objects.values_list("name", flat=True)) == {"陈一", "陈二"}
    change = MemberChange.objects.filter(member__name="陈一").get()
    assert change.source == "导入：柳巷花名册.xlsx" and change.actor == district_user
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "结果" in page and 'id="confirm-import"' not in page


def test_refused_rows_download_with_reasons_and_upload_again_once_fixed(client, district_user):
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    client.post(reverse("members:import_confirm", args=[job.pk]))
    response = client.get(reverse("members:import_refused", args=[job.pk]))
    assert response.status_code == 200
    assert quote("柳巷花名册") in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"  # personal data, kept by no cache
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, (refused,) = rows[0], rows[1:]
    assert header[-2:] == ["原行号", "错误原因"]
    assert refused[0] == "陈三" and refused[-2] == 5
    assert "统战对象类别" in refused[-1] and "热心群众" in refused[-1]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, actor=district_user).exists()

    # Fixed in the downloaded file and uploaded again: the extra columns are read past.
    book = load_workbook(io.BytesIO(response.content))
    book.active.cell(row=2, column=header.index("统战对象类别") + 1, value="党外知识分子")
    fixed = io.BytesIO()
    book.save(fixed)
    upload(client, fixed.getvalue(), name="fixed.xlsx")
    again = ImportJob.objects.get(filename="fixed.xlsx")
    assert again.state == State.CHECKED
    assert (again.check_report["created"], again.check_report["refused_rows"]) == (1, 0)


@needs_libreoffice
def test_refused_rows_show_formula_like_cells_as_they_were_uploaded(
    client, district_user, tmp_path
):
    names = ["=2*21", "＝1+1", "+1", "@SUM(A1)", "\t=1", " =1"]
    book = xlsx.Book()
    sheet = book.sheet("花名册")
    sheet.append(["姓名", "性别", "民族", "公民身份号码", "政治面貌", "所属社区", "统战对象类别"])
    for name in names:
        sheet.append(person(name, category="热心群众"))
    client.force_login(district_user)
    upload(client, book.bytes())
    job = ImportJob.objects.get()
    content = client.get(reverse("members:import_refused", args=[job.pk])).content
    refused = load_workbook(io.BytesIO(content)).active
    assert all(cell.data_type != "f" for row in refused.iter_rows() for cell in row)
    cells = [row[0] for row in refused.iter_rows(min_row=2)]
    # Text, and quote-prefixed: an edit in Excel (which reads ＝ as =) keeps it text.
    assert [(cell.value, cell.data_type, cell.quotePrefix) for cell in cells] == [
        (name, "s", True) for name in names
    ]
    assert [row[0] for row in csv_rows(content, tmp_path)[1:]] == names


def test_strict_upload_with_a_refused_row_offers_no_confirmation(client, district_user):
    client.force_login(district_user)
    upload(client, good_and_bad(), strict="on")
    job = ImportJob.objects.get()
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert 'id="confirm-import"' not in page
    # Confirmed anyway (a stale page): the import itself refuses to write.
    client.post(reverse("members:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == State.NOTHING_WRITTEN and not Member.objects.exists()


def test_updates_show_each_changed_field_before_and_after(client, district_user, areas):
    number = id_number_for()
    MemberFactory(name="陈一", community=areas["140106001001"], id_number=number)
    client.force_login(district_user)
    upload(client, roster(person("陈一", number=number, status="民盟")))
    job = ImportJob.objects.get()
    assert job.check_report["updated"] == 1
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "政治面貌" in page and "群众" in page and "中国民主同盟盟员" in page


def test_cancelling_drops_the_file_and_the_job_cannot_be_confirmed(client, district_user):
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    client.post(reverse("members:import_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == State.CANCELLED and job.data is None
    assert client.post(reverse("members:import_confirm", args=[job.pk])).status_code == 403
    assert not Member.objects.exists()


def test_a_file_that_is_no_spreadsheet_fails_with_its_reason(client, district_user):
    client.force_login(district_user)
    upload(client, b"MZ\x90\x00 not a roster", name="roster.exe")
    job = ImportJob.objects.get()
    assert job.state == State.FAILED
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "这不是电子表格文件" in page


def test_an_empty_file_is_refused_on_the_form(client, district_user):
    client.force_login(district_user)
    response = upload(client, b"")
    assert response.status_code == 200
    assert not ImportJob.objects.exists()


def test_a_file_above_the_limit_is_refused_on_the_form(client, district_user, settings):
    settings.ROSTER_MAX_BYTES = 1024
    client.force_login(district_user)
    response = upload(client, roster(*(person(f"陈{i}") for i in range(60))))
    assert "文件太大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_jobs_are_scoped_to_the_uploaders_area(
    client, district_user, other_district_user, admin_user, community_user, street_user
):
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    urls = [
        reverse(name, args=[job.pk])
        for name in ("members:import_detail", "members:import_status", "members:import_refused")
    ]
    client.force_login(other_district_user)
    assert all(client.get(url).status_code == 404 for url in urls)
    assert client.post(reverse("members:import_confirm", args=[job.pk])).status_code == 404
    assert job.filename not in client.get(reverse("members:import_list")).content.decode()
    # A community worker may not import at all, nor a street officer, who only reads.
    for user in (community_user, street_user):
        client.force_login(user)
        assert client.get(reverse("members:import_create")).status_code == 403
        assert client.get(reverse("members:import_list")).status_code == 403
    # An administrator decides on anyone's import.
    client.force_login(admin_user)
    assert job.filename in client.get(reverse("members:import_list")).content.decode()
    assert 'id="confirm-import"' in client.get(urls[0]).content.decode()


def test_the_community_choice_offers_only_communities_in_scope(client, district_user, areas):
    client.force_login(district_user)
    page = client.get(reverse("members:import_create")).content.decode()
    assert "桥东一社区" in page and "坞城社区" not in page
    response = upload(client, roster(person(community="")), community=areas["140105001001"].pk)
    assert response.status_code == 200 and not ImportJob.objects.exists()


def test_a_row_for_a_community_outside_the_area_is_refused(client, other_district_user):
    client.force_login(other_district_user)
    upload(client, roster(person(community="桥东一社区")))
    job = ImportJob.objects.get()
    assert job.check_report["refused_rows"] == 1 and job.check_report["created"] == 0


def test_the_history_lists_who_imported_which_file_when(client, district_user):
    client.force_login(district_user)
    upload(client, good_and_bad())
    client.post(reverse("members:import_confirm", args=[ImportJob.objects.get().pk]))
    page = client.get(reverse("members:import_list")).content.decode()
    uploader = district_user.get_full_name() or district_user.username
    assert "柳巷花名册.xlsx" in page and uploader in page and "已导入" in page


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_with_workers_the_upload_waits_in_the_queue_with_a_progress_bar(
    client, district_user, settings
):
    settings.TASKS = DATABASE_TASKS
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    assert job.state == State.CHECK_QUEUED
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "<progress" in page and "import_progress.js" in page
    status = client.get(reverse("members:import_status", args=[job.pk])).json()
    assert status["busy"] and status["state"] == "check_queued"

    assert run_queued_tasks() == 1
    status = client.get(reverse("members:import_status", args=[job.pk])).json()
    assert not status["busy"] and status["state"] == "checked" and status["percent"] == 100

    client.post(reverse("members:import_confirm", args=[job.pk]))
    assert ImportJob.objects.get().state == State.IMPORT_QUEUED
    assert run_queued_tasks() == 1
    assert ImportJob.objects.get().state == State.DONE and Member.objects.count() == 2


def queued_tasks(name):
    return DBTaskResult.objects.filter(
        task_path=f"members.jobs.{name}", status=TaskResultStatus.READY
    )


def test_an_upload_its_confirmation_and_its_columns_each_enqueue_one_task(
    client, district_user, settings
):
    settings.TASKS = DATABASE_TASKS
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    (check,) = queued_tasks("job_check")
    assert check.args_kwargs == {"args": [job.pk], "kwargs": {}}
    run_queued_tasks()
    client.post(reverse("members:import_confirm", args=[job.pk]))
    (imported,) = queued_tasks("job_import")
    assert imported.args_kwargs["args"] == [job.pk]
    assert not queued_tasks("job_check").exists()

    ImportJob.objects.filter(pk=job.pk).update(
        state=State.MAPPING, unknown_columns=["备注二"], header_key="k"
    )
    jobs.job_name_columns(actor=district_user, job=ImportJob.objects.get(), columns={"备注二": ""})
    assert queued_tasks("job_check").count() == 1


def test_another_backend_gets_the_task_only_once_the_upload_is_committed(
    district_user, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = jobs.job_check.get_backend()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_create(actor=district_user, data=good_and_bad(), filename="a.xlsx")
        assert backend.results == []
    (result,) = backend.results
    assert result.task.name == "job_check" and result.args == [job.pk]


def test_a_task_for_a_job_no_longer_queued_does_nothing(client, district_user, settings):
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    assert job.state == State.CHECKED
    # A second task for the same upload (say, queued again while the first still ran).
    assert jobs.job_check.call(job.pk) == "not queued"
    client.post(reverse("members:import_cancel", args=[job.pk]))
    assert jobs.job_import.call(job.pk) == "not queued"
    assert ImportJob.objects.get().state == State.CANCELLED and not Member.objects.exists()


def abandon(job, state):
    """What a worker killed half-way leaves: the job running, its task running for ever."""
    ImportJob.objects.filter(pk=job.pk).update(state=state, worker="dead:1", heartbeat=now())
    DBTaskResult.objects.filter(args_kwargs__args__0=job.pk).update(
        status=TaskResultStatus.RUNNING, worker_ids=["dead"]
    )


def test_a_job_abandoned_by_a_dead_worker_is_queued_again_once_and_run(district_user, settings):
    settings.TASKS = DATABASE_TASKS
    job = jobs.job_create(actor=district_user, data=good_and_bad(), filename="a.xlsx")
    abandon(job, State.CHECKING)

    assert jobs.jobs_recover() == 1
    assert jobs.jobs_recover() == 0  # once: it is queued, with its task
    job.refresh_from_db()
    assert job.state == State.CHECK_QUEUED and job.heartbeat is None
    (dead,) = DBTaskResult.objects.filter(worker_ids=["dead"])
    assert dead.status == TaskResultStatus.FAILED and "Abandoned" in dead.traceback
    assert queued_tasks("job_check").count() == 1

    assert run_queued_tasks("new-worker") == 1
    assert ImportJob.objects.get().state == State.CHECKED
    assert jobs.jobs_recover() == 0


def test_an_abandoned_import_is_queued_again_as_an_import_by_the_page_that_watches_it(
    client, district_user, settings
):
    settings.TASKS = DATABASE_TASKS
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    run_queued_tasks()
    client.post(reverse("members:import_confirm", args=[job.pk]))
    abandon(job, State.IMPORTING)

    status = client.get(reverse("members:import_status", args=[job.pk])).json()
    assert status["state"] == "import_queued" and status["busy"]
    assert queued_tasks("job_import").count() == 1
    client.get(reverse("members:import_status", args=[job.pk]))
    assert queued_tasks("job_import").count() == 1  # the next poll adds none
    assert run_queued_tasks() == 1
    assert ImportJob.objects.get().state == State.DONE and Member.objects.count() == 2


def test_a_running_job_whose_worker_lives_is_left_alone(district_user, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the run lock is PostgreSQL's advisory lock")
    settings.TASKS = DATABASE_TASKS
    job = jobs.job_create(actor=district_user, data=good_and_bad(), filename="a.xlsx")
    abandon(job, State.CHECKING)
    worker = connections[DEFAULT_DB_ALIAS].copy()  # a live worker's own session
    try:
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [jobs._LOCK_CLASS, job.pk])
        assert _run_lock_held(job.pk)
        assert jobs.jobs_recover() == 0
        assert ImportJob.objects.get().state == State.CHECKING
        # A task for it meanwhile (a duplicate) leaves it to the run under way.
        assert jobs.job_check.call(job.pk) == "running elsewhere"
    finally:
        worker.close()  # the worker dies: its lock goes with its session
    # Once its server process has ended, which on a busy machine takes a moment.
    deadline = time.monotonic() + 10
    while _run_lock_held(job.pk) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jobs.jobs_recover() == 1


def _run_lock_held(job_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database"
            " WHERE locktype = 'advisory' AND d.datname = current_database()"
            " AND classid = %s AND objid = %s AND objsubid = 2",
            [jobs._LOCK_CLASS, job_id],
        )
        return cursor.fetchone()[0] > 0


def test_a_run_that_loses_the_database_is_queued_again_and_given_up_after_three(
    district_user, settings, monkeypatch
):
    settings.TASKS = DATABASE_TASKS
    job = jobs.job_create(actor=district_user, data=good_and_bad(), filename="a.xlsx")
    runs = []

    def database_gone(**kwargs):
        runs.append(ImportJob.objects.get(pk=job.pk).state)
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(jobs, "roster_import", database_gone)
    # Queued again after each of the first two (the worker takes it up again at once).
    assert run_queued_tasks() == 3
    assert runs == [State.CHECKING] * 3
    job.refresh_from_db()
    assert job.state == State.FAILED and str(job.pk) in job.error and job.data is None
    failed = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED)
    assert failed.count() == 3
    assert {task.exception_class_path for task in failed} == {"django.db.utils.OperationalError"}
    assert jobs.jobs_recover() == 0


def test_a_queued_job_whose_task_was_lost_gets_a_new_one(district_user, settings):
    settings.TASKS = DATABASE_TASKS
    job = jobs.job_create(actor=district_user, data=good_and_bad(), filename="a.xlsx")
    DBTaskResult.objects.all().delete()  # say, queued before the tasks existed
    assert jobs.jobs_recover() == 1
    assert jobs.jobs_recover() == 0
    assert run_queued_tasks() == 1
    assert ImportJob.objects.get(pk=job.pk).state == State.CHECKED


def test_an_error_half_way_fails_the_job_and_writes_nothing(client, district_user, monkeypatch):
    client.force_login(district_user)
    upload(client, good_and_bad())
    job = ImportJob.objects.get()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("members.imports.insert_rows", broken)
    client.post(reverse("members:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == State.FAILED and str(job.pk) in job.error
    assert not Member.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_embedded_server_runs_jobs_in_a_thread_of_its_own(client, district_user, settings):
    settings.TASKS = DATABASE_TASKS
    settings.TASKS_IN_PROCESS = True
    client.force_login(district_user)
    try:
        upload(client, good_and_bad())  # its first request starts the worker thread
        job = ImportJob.objects.get()
        deadline = time.monotonic() + 30
        while ImportJob.objects.get().state != State.CHECKED:
            assert time.monotonic() < deadline, ImportJob.objects.get().state
            time.sleep(0.1)
        status = client.get(reverse("members:import_status", args=[job.pk])).json()
        assert status["state"] == "checked" and status["percent"] == 100
    finally:
        in_process_worker_stop()


def test_uploads_are_not_kept_longer_than_the_work_needs(client, district_user):
    client.force_login(district_user)
    upload(client, good_and_bad(), name="unconfirmed.xlsx")
    upload(client, good_and_bad(), name="imported.xlsx")
    imported = ImportJob.objects.get(filename="imported.xlsx")
    client.post(reverse("members:import_confirm", args=[imported.pk]))
    now = timezone.now()
    ImportJob.objects.filter(filename="unconfirmed.xlsx").update(
        created_at=now - datetime.timedelta(days=jobs.UNCONFIRMED_DAYS, minutes=1)
    )
    ImportJob.objects.filter(pk=imported.pk).update(
        finished_at=now - datetime.timedelta(days=jobs.REFUSED_FILE_DAYS - 1)
    )
    jobs.jobs_expire()
    unconfirmed = ImportJob.objects.get(filename="unconfirmed.xlsx")
    assert unconfirmed.state == State.CANCELLED and unconfirmed.data is None
    assert "7" in unconfirmed.error
    assert ImportJob.objects.get(pk=imported.pk).refused_file is not None  # 29 days: kept

    ImportJob.objects.filter(pk=imported.pk).update(
        finished_at=now - datetime.timedelta(days=jobs.REFUSED_FILE_DAYS, minutes=1)
    )
    jobs.jobs_expire()
    assert ImportJob.objects.get(pk=imported.pk).refused_file is None
    response = client.get(reverse("members:import_refused", args=[imported.pk]))
    assert response.status_code == 404
