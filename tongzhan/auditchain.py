"""The audit log proves it was not altered: a chain of HMAC-SM3 keyed by AUDIT_CHAIN_KEY, a
key the database does not hold (issue 19).

Two MACs per line:

- ``line_mac``, written with the line (`tongzhan.audit.audit_record`): HMAC-SM3 over its
  content and its id, so a line changed, or copied under another id, no longer matches.
  The id is taken from the sequence before the insert (PostgreSQL), so one INSERT writes
  the line and its MAC.
- ``chain_seq`` and ``chain_mac``, the link, set once the line's transaction has committed
  (`audit_seal`): HMAC-SM3 over the place in the chain, the previous link and the line's
  MAC. A line removed leaves a place missing or a link that no longer follows; a line
  inserted by someone without the key has no valid line MAC and is never sealed.

Lines are sealed in the order they commit, not the order of their ids: a line whose long
transaction (an import) began first may commit last. Sealing after the commit, under one
advisory lock, keeps the lock off the transactions that write lines: a login does not wait
for an import.

`audit_verify` (`manage.py audit_verify`, and daily) seals what is waiting, walks the chain
and names the first line changed, removed or inserted; each check is kept as an
`AuditVerification`, which the auditor's page shows. The actor column is left out of the
MAC: deleting an account sets it to NULL (migration 0004), and the line keeps the user name.
"""

import contextlib
import hashlib
import json
import logging
import threading
from decimal import Decimal

from cryptography.hazmat.primitives import hashes, hmac
from django.conf import settings
from django.db import connection, transaction

from .models import AuditEvent, AuditVerification

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock's key for sealing: one sealer at a time across processes.
SEAL_LOCK = 0x7A61756474  # "zaudt"
SEAL_BATCH = 2000
_sqlite_lock = threading.Lock()  # the embedded server: one process, several threads

# The columns a line's MAC covers, in this order (never the actor id, see above).
LINE_FIELDS = (
    "id", "at", "username", "ip", "request_id", "action", "outcome",
    "object_type", "object_id", "object_repr", "detail",
)  # fmt: skip


def _key() -> bytes:
    key = settings.AUDIT_CHAIN_KEY
    if key:
        return key.encode()
    return hashlib.sha256(b"tongzhan-audit-chain" + settings.SECRET_KEY.encode()).digest()


def _mac(*parts: str) -> str:
    mac = hmac.HMAC(_key(), hashes.SM3())
    mac.update("\x1f".join(parts).encode())
    return mac.finalize().hex()


def _as_stored(value):
    """A JSON value as PostgreSQL's jsonb gives it back: its numbers are decimals, so a float
    Python writes with an exponent (1e+16) comes back as the integer it is, -0.0 as 0.0."""
    if isinstance(value, float):
        if value == 0:
            return 0.0
        return int(Decimal(repr(value))) if "e+" in repr(value) else value
    if isinstance(value, dict):
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    return value


def _canonical(values: dict) -> str:
    """The line as the MAC reads it, the same whether built before the insert or read back:
    the time in UTC ISO form, the detail as JSON would store it (keys sorted)."""
    shown = []
    for name in LINE_FIELDS:
        value = values[name]
        if name == "at":
            value = value.isoformat()
        elif name == "detail":
            value = _as_stored(json.loads(json.dumps(value or {})))
        shown.append(value)
    return json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def line_mac(values: dict) -> str:
    return _mac("line", _canonical(values))


def link_mac(seq: int, previous: str, line: str) -> str:
    return _mac("link", str(seq), previous, line)


def next_id() -> int | None:
    """The id the next line will have, from the sequence (PostgreSQL); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('tongzhan_auditevent', 'id'))")
        return cursor.fetchone()[0]


def event_write(values: dict) -> AuditEvent:
    """Insert one line with its MAC (`tongzhan.audit.audit_record` is the one caller), and
    have it sealed once its transaction commits."""
    ip_field = AuditEvent._meta.get_field("ip")
    # As stored: an IPv6 address in its short form, no address (even "") as NULL.
    values = {**values, "ip": ip_field.get_prep_value(values.get("ip")) or None}
    event_id = next_id()
    if event_id is not None:
        event = AuditEvent(id=event_id, **values)
        event.line_mac = line_mac({"id": event_id, **values})
        event.save(force_insert=True)
    else:
        event = AuditEvent.objects.create(**values)
        event.line_mac = line_mac({"id": event.pk, **values})
        AuditEvent.objects.filter(pk=event.pk).update(line_mac=event.line_mac)
    _seal_after_commit()
    return event


def _seal_after_commit() -> None:
    """One seal per transaction, after it commits (at once outside a transaction)."""
    pending = connection.run_on_commit if connection.in_atomic_block else ()
    if any(func is _seal_quietly for _sids, func, _robust in pending):
        return
    transaction.on_commit(_seal_quietly, robust=True)


def _seal_quietly() -> None:
    try:
        audit_seal()
    except Exception:  # a seal missed now is made by the next one, or by audit_verify
        logger.exception("Sealing the audit log failed")


@contextlib.contextmanager
def _sealing():
    """One sealer at a time: a transaction holding PostgreSQL's advisory lock; in the
    embedded server's SQLite a thread lock taken before the transaction, so its reads see
    what the previous sealer wrote."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
            yield
        return
    with _sqlite_lock, transaction.atomic():
        yield


def audit_seal(*, limit: int = SEAL_BATCH) -> int:
    """Link the committed lines that are not yet in the chain, in id order; return how many.
    A line whose MAC does not match its content (changed before sealing, or inserted
    without the key) is left out, for `audit_verify` to name."""
    sealed, after = 0, 0
    while True:
        with _sealing():
            read, linked, after = _seal_batch(limit, after)
        sealed += linked
        if read < limit:
            return sealed


def _seal_batch(limit: int, after: int) -> tuple[int, int, int]:
    """Seal up to `limit` waiting lines past id `after`: (lines read, linked, last id)."""
    head = (
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("chain_seq", "chain_mac")
        .first()
    )
    seq, previous = head if head else (0, "")
    waiting = list(
        AuditEvent.objects.filter(chain_seq__isnull=True, id__gt=after)
        .order_by("id")
        .values(*LINE_FIELDS, "line_mac")[:limit]
    )
    linked = []
    for values in waiting:
        if values["line_mac"] != line_mac(values):
            continue
        seq += 1
        previous = link_mac(seq, previous, values["line_mac"])
        linked.append(AuditEvent(id=values["id"], chain_seq=seq, chain_mac=previous))
    AuditEvent.objects.bulk_update(linked, ["chain_seq", "chain_mac"], batch_size=500)
    return len(waiting), len(linked), waiting[-1]["id"] if waiting else after


def audit_verify(*, expect_head: tuple[int, str] | None = None) -> AuditVerification:
    """Seal what waits, then check every line and every link; keep and return the result,
    naming the first line changed, removed or inserted. Lines removed from the end leave no
    gap: the chain must reach the head the last passing check recorded, and `expect_head`
    (place, link), one kept outside the database."""
    audit_seal()
    heads = [expect_head] if expect_head else []
    if (passed := last_passed()) is not None and passed.head_seq:
        heads.append((passed.head_seq, passed.head_mac))
    links_at = {place: None for place, _link in heads}
    Problem = AuditVerification.Problem
    lines, problem, bad_event, bad_place = 0, Problem.NONE, None, None
    seq, previous = 0, ""
    chained = (
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("chain_seq")
        .values(*LINE_FIELDS, "line_mac", "chain_seq", "chain_mac")
    )
    for values in chained.iterator(chunk_size=5000):
        if values["chain_seq"] != seq + 1:
            problem, bad_place = Problem.REMOVED, seq + 1
        elif values["line_mac"] != line_mac(values):
            problem, bad_place = Problem.CHANGED, values["chain_seq"]
        elif values["chain_mac"] != link_mac(values["chain_seq"], previous, values["line_mac"]):
            problem, bad_place = Problem.BROKEN, values["chain_seq"]
        if problem:
            bad_event = values["id"]
            break
        lines += 1
        seq, previous = values["chain_seq"], values["chain_mac"]
        if seq in links_at:
            links_at[seq] = (values["id"], previous)
    for place, link in heads if not problem else ():
        if links_at[place] is None:
            problem, bad_place = Problem.TRUNCATED, place
            break
        if links_at[place][1] != link:
            problem, bad_event, bad_place = Problem.BROKEN, links_at[place][0], place
            break
    if not problem:
        # What the seal left out: a line without a valid MAC, inserted or changed. A line
        # with a valid one is waiting for its seal: committed since this check's, while the
        # site serves.
        waiting = (
            AuditEvent.objects.filter(chain_seq__isnull=True)
            .order_by("id")
            .values(*LINE_FIELDS, "line_mac")
        )
        for values in waiting.iterator(chunk_size=SEAL_BATCH):
            if values["line_mac"] != line_mac(values):
                problem, bad_event = Problem.UNSEALED, values["id"]
                break
    return AuditVerification.objects.create(
        passed=not problem, lines=lines, head_seq=seq or None, head_mac=previous,
        problem=problem, first_bad_event=bad_event, first_bad_place=bad_place,
    )  # fmt: skip


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-at", "-id").first()


def last_passed() -> AuditVerification | None:
    return AuditVerification.objects.filter(passed=True).order_by("-at", "-id").first()
