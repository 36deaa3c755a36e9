"""Key rotation: every encrypted value rewritten in the current algorithm and key, and every
lookup hash computed again, in the background while the application serves (issue 19).

`manage.py rotate_keys` starts a `KeyRotation` and queues `rotation_task`; a rotation that
did not finish (its worker stopped, the machine restarted) is taken up again where it
stopped by running the command again, if the keys are still those it began with: begun under
others, the rows it passed hold what those wrote, so it is closed and a new one starts from
the beginning. A worker whose keys are not the rotation's rewrites nothing. The work goes
model by model in primary key order, a batch per transaction: the batch's rows are locked (a
user's change to one of them waits a moment), rewritten, and the rotation's progress moved
past them in the same transaction, so an interruption loses at most the batch under way and
nothing is done twice wrongly.

Values already in the current form are kept as they are; Fernet values are read (while
FIELD_ENCRYPTION_KEYS is configured) and written as SM4, so upgrading from Fernet is one
run. A key rotation is not a change of anyone's data: no history line, one audit line at
the start and one at the end.
"""

import logging

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils import timezone
from django_tasks import task

from .audit import audit_record
from .crypto import EncryptedCharField, keyring, lookup_hash, value_form
from .models import AuditEvent, KeyRotation

logger = logging.getLogger(__name__)

BATCH = 500
State = KeyRotation.State
KEYS = "keys"  # the entry of `progress` naming the keys it writes with (`keys_check`)


def encrypted_models() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted fields, and those fields, in a fixed order."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedCharField)
        ]
        if names:
            found.append((model, names))
    return sorted(found, key=lambda item: item[0]._meta.label_lower)


def rotation_target() -> str:
    ring = keyring()
    if ring.current_key_id:
        return f"sm4:{ring.current_key_id}"
    return "aes"


def keys_check() -> str:
    """The keys a rotation writes with, told apart without telling them: the lookup hash of
    the target's name, a hash like every one stored, which changes with the newest SM4 key
    or the algorithm (the target) and with the hash key."""
    return lookup_hash(f"tongzhan key rotation {rotation_target()}")


def rotation_start(*, by: str = "") -> tuple[KeyRotation, bool]:
    """The rotation to run: the unfinished one begun under the same keys (resumed), else a
    new one; an unfinished one under other keys is closed. (rotation, whether it is new)."""
    check = keys_check()
    with transaction.atomic():
        unfinished = (
            KeyRotation.objects.select_for_update()
            .exclude(state=State.DONE)
            .filter(finished_at__isnull=True)  # closed: superseded under other keys
            .order_by("-started_at")
            .first()
        )
        if unfinished is not None and unfinished.progress.get(KEYS) == check:
            return unfinished, False
        rotation = KeyRotation.objects.create(
            started_by=by, target=rotation_target(), progress={KEYS: check}
        )
        if unfinished is not None:
            unfinished.state, unfinished.finished_at = State.FAILED, timezone.now()
            unfinished.error = (
                f"The keys changed since it started: rotation {rotation.pk} starts again "
                "from the beginning."
            )
            unfinished.save(update_fields=["state", "finished_at", "error"])
        audit_record(
            actor=None, username=by, action=AuditEvent.Action.UPDATE, obj=rotation,
            detail={"key_rotation": "start", "target": rotation.target},
        )  # fmt: skip
    return rotation, True


@task()
def rotation_task(rotation_id: int) -> None:
    rotation_run(KeyRotation.objects.get(pk=rotation_id))


def rotation_run(rotation: KeyRotation, *, batch: int = BATCH, stop_after: int | None = None):
    """Run (or go on with) `rotation` to the end; `stop_after` batches, for the tests of an
    interruption. Returns the rotation as stored."""
    stored = KeyRotation.objects.get(pk=rotation.pk)
    if stored.state != State.DONE and stored.progress.get(KEYS) != keys_check():
        error = (
            "This process's keys are not those the rotation started with: restart the workers "
            "with the keys `manage.py rotate_keys` ran with, and run it again."
        )
        KeyRotation.objects.filter(pk=rotation.pk).update(state=State.FAILED, error=error)
        raise ImproperlyConfigured(error)
    KeyRotation.objects.filter(pk=rotation.pk).exclude(state=State.DONE).update(
        state=State.RUNNING, error=""
    )
    batches = 0
    try:
        for model, names in encrypted_models():
            while True:
                if stop_after is not None and batches >= stop_after:
                    return KeyRotation.objects.get(pk=rotation.pk)
                if not _rotate_batch(rotation.pk, model, names, batch):
                    break
                batches += 1
    except Exception as error:
        KeyRotation.objects.filter(pk=rotation.pk).update(state=State.FAILED, error=str(error))
        logger.exception("Key rotation %s stopped", rotation.pk)
        raise
    with transaction.atomic():
        stored = KeyRotation.objects.select_for_update().get(pk=rotation.pk)
        if stored.state != State.DONE:
            stored.state, stored.finished_at = State.DONE, timezone.now()
            stored.save(update_fields=["state", "finished_at"])
            steps = {label: step for label, step in stored.progress.items() if label != KEYS}
            audit_record(
                actor=None, username=stored.started_by, action=AuditEvent.Action.UPDATE,
                obj=stored, detail={"key_rotation": "done", "progress": steps},
            )  # fmt: skip
    return stored


def _rotate_batch(rotation_id: int, model, names: list[str], size: int) -> bool:
    """Rewrite the next batch of `model`'s rows; False when none is left."""
    label = model._meta.label_lower
    with transaction.atomic():
        rotation = KeyRotation.objects.select_for_update().get(pk=rotation_id)
        step = rotation.progress.get(label, {"last_pk": 0, "rewritten": 0, "read": 0})
        if step.get("finished"):
            return False
        raw = {f"raw_{name}": Cast(name, models.TextField()) for name in names}
        rows = list(
            model._base_manager.select_for_update(of=("self",))
            .filter(pk__gt=step["last_pk"])
            .order_by("pk")
            .annotate(**raw)[:size]
        )
        if not rows:
            step["finished"] = True
        else:
            changed, fields = _rewrite(rows, names)
            if changed:
                model._base_manager.bulk_update(changed, sorted(fields), batch_size=size)
            step["last_pk"] = rows[-1].pk
            step["read"] += len(rows)
            step["rewritten"] += len(changed)
        rotation.progress = {**rotation.progress, label: step}
        rotation.save(update_fields=["progress"])
        return bool(rows)


def _rewrite(rows, names) -> tuple[list, set[str]]:
    """The rows whose values or hashes are not in the current form, and the columns to write
    (the plain values are written again: the field encrypts them with the current key)."""
    ring = keyring()
    changed, fields = [], set()
    for row in rows:
        stale = [
            name
            for name in names
            if (raw := getattr(row, f"raw_{name}")) and not ring.is_current(raw)
        ]
        hashed = []
        if hasattr(row, "lookup_hash_values"):
            for name, value in row.lookup_hash_values().items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    hashed.append(name)
        if stale or hashed:
            changed.append(row)
            fields.update(stale, hashed)
    return changed, fields


def value_forms() -> dict[str, dict[str, int]]:
    """How many stored values are in each form, per model and field: what an evaluator
    checks (`manage.py rotate_keys --status`)."""
    counts = {}
    for model, names in encrypted_models():
        for name in names:
            stored = (
                model._base_manager.exclude(**{name: ""})
                .exclude(**{f"{name}__isnull": True})
                .annotate(raw=Cast(name, models.TextField()))
                .values_list("raw", flat=True)
            )
            forms: dict[str, int] = {}
            for raw in stored.iterator(chunk_size=5000):
                form = value_form(raw)
                forms[form] = forms.get(form, 0) + 1
            counts[f"{model._meta.label_lower}.{name}"] = forms
    return counts
