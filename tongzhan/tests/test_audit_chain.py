"""The audit log proves it was not altered (issue 19): each line carries an HMAC-SM3 of its
content, sealed into a chain keyed by AUDIT_CHAIN_KEY; `audit_verify` names the first line
changed, removed or inserted when someone with database access tampers with the rows."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from conftest import _user
from tongzhan.audit import audit_record
from tongzhan.auditchain import audit_seal, audit_verify
from tongzhan.models import AuditEvent, AuditVerification, User

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's trigger and jsonb"
)
Problem = AuditVerification.Problem


@pytest.fixture
def lines(community_user):
    written = [
        audit_record(
            actor=community_user,
            action=AuditEvent.Action.REVEAL,
            obj=community_user,
            detail={"field": "id_number", "n": n, 3: "three"},
        )  # fmt: skip
        for n in range(6)
    ]
    audit_seal()
    return written


def tamper(*statements):
    """As someone with the database's owner rights would: round the append-only trigger."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET session_replication_role = replica")  # triggers off
        for statement, params in statements:
            cursor.execute(statement, params)
        if postgres:
            cursor.execute("SET session_replication_role = origin")


def test_an_untouched_log_passes_and_the_chain_covers_every_line(lines):
    check = audit_verify()
    assert check.passed, check.problem
    assert check.lines == AuditEvent.objects.count() >= 6
    assert check.head_seq == check.lines and len(check.head_mac) == 64
    stored = AuditEvent.objects.get(pk=lines[0].pk)
    assert len(stored.line_mac) == 64 and stored.chain_seq is not None


def test_a_changed_line_is_named(lines):
    target = lines[2]
    tamper(("UPDATE tongzhan_auditevent SET username = 'someone' WHERE id = %s", [target.pk]))
    check = audit_verify()
    assert not check.passed
    assert (check.problem, check.first_bad_event) == (Problem.CHANGED, target.pk)
    with pytest.raises(CommandError, match=f"第 {target.pk} 行"):
        call_command("audit_verify")


@postgres_only
def test_a_change_in_the_detail_is_caught_too(lines):
    target = lines[4]
    tamper((
        "UPDATE tongzhan_auditevent SET detail = jsonb_set(detail, '{n}', '40') WHERE id = %s",
        [target.pk],
    ))  # fmt: skip
    check = audit_verify()
    assert (check.problem, check.first_bad_event) == (Problem.CHANGED, target.pk)


def test_a_removed_line_is_named_by_the_line_after_it(lines):
    removed, after = lines[3], lines[4]
    tamper(("DELETE FROM tongzhan_auditevent WHERE id = %s", [removed.pk]))
    check = audit_verify()
    assert not check.passed
    assert (check.problem, check.first_bad_event) == (Problem.REMOVED, after.pk)


def test_a_removal_hidden_by_renumbering_the_chain_is_caught(lines):
    removed = lines[3]
    place = AuditEvent.objects.get(pk=removed.pk).chain_seq
    tamper(
        ("DELETE FROM tongzhan_auditevent WHERE id = %s", [removed.pk]),
        ("UPDATE tongzhan_auditevent SET chain_seq = chain_seq - 1 WHERE chain_seq > %s", [place]),
    )
    check = audit_verify()
    assert (check.problem, check.first_bad_event) == (Problem.BROKEN, lines[4].pk)


def test_an_inserted_line_is_never_sealed_and_is_named(lines):
    model = AuditEvent.objects.get(pk=lines[1].pk)
    with connection.cursor() as cursor:
        # A copy of a real line, MAC and all, under a new id: the MAC covers the id.
        cursor.execute(
            "INSERT INTO tongzhan_auditevent (at, username, request_id, action, outcome,"
            " object_type, object_id, object_repr, detail, line_mac, chain_mac)"
            " VALUES (%s, %s, '', 'login', 'done', '', '', '', '{}', %s, '') RETURNING id",
            [model.at, model.username, model.line_mac],
        )
        inserted = cursor.fetchone()[0]
    check = audit_verify()
    assert not check.passed
    assert (check.problem, check.first_bad_event) == (Problem.UNSEALED, inserted)
    assert AuditEvent.objects.get(pk=inserted).chain_seq is None
    # Lines written after it are sealed all the same.
    later = audit_record(actor=None, username="x", action=AuditEvent.Action.LOGIN_FAILED)
    audit_seal()
    assert AuditEvent.objects.get(pk=later.pk).chain_seq is not None


@postgres_only
def test_the_trigger_lets_a_line_be_sealed_once_and_never_changed(lines):
    sealed = AuditEvent.objects.get(pk=lines[0].pk)
    for statement in (
        "UPDATE tongzhan_auditevent SET chain_mac = 'x' WHERE id = %s",
        "UPDATE tongzhan_auditevent SET chain_seq = NULL, chain_mac = '' WHERE id = %s",
        "UPDATE tongzhan_auditevent SET line_mac = 'x' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [sealed.pk])
    assert audit_verify().passed


def test_deleting_an_account_keeps_the_chain_whole(lines, community_user):
    community_user.delete()  # its lines keep the user name, the actor becomes NULL
    assert AuditEvent.objects.filter(pk=lines[0].pk, actor__isnull=True).exists()
    assert audit_verify().passed


def test_lines_are_sealed_when_their_transaction_commits(
    community_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = audit_record(actor=community_user, action=AuditEvent.Action.LOGIN)
    assert AuditEvent.objects.get(pk=event.pk).chain_seq is not None


def test_a_wrong_key_fails_the_whole_chain(lines, settings):
    settings.AUDIT_CHAIN_KEY = "not-the-key"
    check = audit_verify()
    assert not check.passed and check.problem == Problem.CHANGED


def test_the_auditors_page_shows_when_the_chain_last_passed(client, lines):
    auditor = _user("ivan", User.Role.AUDITOR, None)
    audit_verify()
    client.force_login(auditor)
    page = client.get(reverse("audit")).content.decode()
    assert "审计日志校验" in page and "通过" in page
    tamper(("DELETE FROM tongzhan_auditevent WHERE id = %s", [lines[2].pk]))
    audit_verify()
    page = client.get(reverse("audit")).content.decode()
    assert "未通过" in page and str(lines[3].pk) in page


def test_lines_removed_from_the_end_are_caught_against_the_last_head(lines, capsys):
    call_command("audit_verify")
    head = capsys.readouterr().out.strip().rsplit(" ", 1)[-1].rstrip("。.")
    place, link = head.split(":")
    assert int(place) == AuditEvent.objects.count()
    tamper(("DELETE FROM tongzhan_auditevent WHERE id = %s", [lines[-1].pk]))
    check = audit_verify()
    assert (check.problem, check.first_bad_place) == (Problem.TRUNCATED, int(place))
    # A head kept outside the database catches it even when the checks' records are gone.
    AuditVerification.objects.all().delete()
    with pytest.raises(CommandError, match=f"链中位置 {place}"):
        call_command("audit_verify", "--expect-head", head)
    assert audit_verify().passed  # without a head to reach, the shorter chain is whole


@pytest.mark.parametrize(
    ("detail", "ip"),
    [
        # jsonb keeps numbers as decimals: 1e+16 comes back 10000000000000000, -0.0 as 0.0.
        ({"score": 1e16, "mean": 1.2345678901234568e17, "zero": -0.0}, None),
        ({"nested": [{"x": 1.0, "big": 2**80, "text": "统战 é 😀", "none": None}]}, "::1"),
        # A caller's empty address is stored NULL.
        ({}, ""),
    ],
)
def test_an_honest_line_is_sealed_and_passes_whatever_its_detail_and_address(detail, ip):
    line = audit_record(actor=None, username="x", action=AuditEvent.Action.LOGIN,
                        detail=detail, ip=ip)  # fmt: skip
    audit_seal()
    assert AuditEvent.objects.get(pk=line.pk).chain_seq is not None
    assert audit_verify().passed


def test_a_line_committed_during_the_check_and_waiting_for_its_seal_is_no_alarm(lines, monkeypatch):
    """The nightly check runs while people work: a line committed after the check's seal,
    whose own seal has not run yet, is honest."""
    from tongzhan import auditchain

    seal = auditchain.audit_seal

    def seal_then_a_login(**kwargs):
        sealed = seal(**kwargs)
        audit_record(actor=None, username="x", action=AuditEvent.Action.LOGIN_FAILED)
        return sealed

    monkeypatch.setattr(auditchain, "audit_seal", seal_then_a_login)
    assert audit_verify().passed
    # One changed while it waits is named all the same.
    waiting = audit_record(actor=None, username="y", action=AuditEvent.Action.LOGIN_FAILED)
    tamper(("UPDATE tongzhan_auditevent SET username = 'z' WHERE id = %s", [waiting.pk]))
    check = audit_verify()
    assert (check.problem, check.first_bad_event) == (Problem.UNSEALED, waiting.pk)
