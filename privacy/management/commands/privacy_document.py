"""`manage.py privacy_document`: what `docs/privacy.md` lacks (fields of the project's models
it does not describe) and what it describes that the code no longer has; exits 1 when it is
not complete, so a review can run it. `--skeleton` prints table rows to paste for what lacks."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from privacy.document import CLASSES, check_document, document_path
from privacy.document import skeleton as skeleton_rows


class Command(BaseCommand):
    help = (
        "Compare docs/privacy.md with the project's models: fields it does not describe, "
        "and models or fields it describes that no longer exist."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skeleton",
            action="store_true",
            help="Print table rows for the fields the document lacks, to paste and complete.",
        )

    def handle(self, *args, skeleton: bool = False, **options):
        result = check_document()
        path = document_path()
        if result.clean:
            self.stdout.write(_("%(path)s describes every field of every model.") % {"path": path})
            return
        lines = []
        if skeleton:
            if result.missing_fields:
                self.stdout.write(skeleton_rows(result))
        else:
            for label in result.missing_models:
                lines.append(_("Model not in the document: %(model)s") % {"model": label})
            for label, name in result.missing_fields:
                lines.append(
                    _("Field not in the document: %(model)s.%(field)s")
                    % {"model": label, "field": name}
                )
        for label in result.unknown_models:
            lines.append(
                _("Model in the document but not in the code: %(model)s") % {"model": label}
            )
        for label, name in result.unknown_fields:
            lines.append(
                _("Field in the document but not in the code: %(model)s.%(field)s")
                % {"model": label, "field": name}
            )
        for label, name, klass in result.unclassed:
            lines.append(
                _("Class %(class)s of %(model)s.%(field)s is not one of: %(classes)s")
                % {
                    "class": klass or "—",
                    "model": label,
                    "field": name,
                    "classes": " ".join(CLASSES),
                }
            )
        for label, name in result.unexplained:
            lines.append(
                _("No meaning given for %(model)s.%(field)s") % {"model": label, "field": name}
            )
        for line, what in result.repeated:
            lines.append(_("Given twice: %(what)s (line %(line)s)") % {"what": what, "line": line})
        if lines:
            self.stdout.write("\n".join(lines))
        raise CommandError(
            _("%(path)s is incomplete: %(fields)s fields missing, %(other)s other problems.")
            % {"path": path, "fields": len(result.missing_fields), "other": result.other_problems}
        )
