"""`manage.py rotate_keys`: rewrite every encrypted value and lookup hash in the current
algorithm and key, in the background (tongzhan.rotation). Run again to take up a rotation
that stopped; `--status` shows its progress and the forms the stored values are in."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from tongzhan.crypto import keyring, new_sm4_key
from tongzhan.models import KeyRotation
from tongzhan.rotation import rotation_run, rotation_start, rotation_task, value_forms


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value with the newest key of FIELD_ENCRYPTION_ALGORITHM "
        "and compute every lookup hash again, in the background; run again to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", action="store_true", help="Run here and wait, instead of queueing it."
        )
        parser.add_argument(
            "--status", action="store_true", help="Show the progress and the stored forms."
        )
        parser.add_argument(
            "--new-key", metavar="ID", help="Print a new SM4 key entry for FIELD_SM4_KEYS."
        )
        parser.add_argument("--by", default="", help="Who runs it, for the audit log.")

    def handle(self, *args, now, status, new_key, by, **options):
        if new_key:
            self.stdout.write(new_sm4_key(new_key))
            return
        if status:
            self.status()
            return
        ring = keyring()
        rotation, new = rotation_start(by=by or "manage.py rotate_keys")
        self.stdout.write(
            (_("Key rotation %(id)s started towards %(target)s.") if new
             else _("Key rotation %(id)s resumed towards %(target)s."))
            % {"id": rotation.pk, "target": rotation.target}
        )  # fmt: skip
        if ring.current_key_id is None and ring.algorithm == "sm4":
            return
        if now:
            rotation = rotation_run(rotation)
            self.stdout.write(_("Done: %(progress)s") % {"progress": rotation.progress})
        else:
            rotation_task.enqueue(rotation.pk)
            self.stdout.write(_("Queued; `manage.py rotate_keys --status` shows its progress."))

    def status(self):
        for rotation in KeyRotation.objects.all()[:5]:
            self.stdout.write(
                f"{rotation.pk} {rotation.started_at:%Y-%m-%d %H:%M} {rotation.target} "
                f"{rotation.get_state_display()} {rotation.progress} {rotation.error}"
            )
        self.stdout.write(_("Stored values by form:"))
        for field, forms in value_forms().items():
            self.stdout.write(f"  {field}: {forms}")
