import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from members.imports import UnknownColumnsError, roster_import
from members.roster import READ_COLUMNS
from members.roster_reader import RosterFileError, column_named
from tongzhan.models import Area


class Command(BaseCommand):
    help = (
        "Import a roster (.xlsx, .xls or .csv) as an administrator: new people are created, "
        "known people in the same community updated, every refused row reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--community", help="12-digit code of the community for rows that name none"
        )
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--strict", action="store_true", help="write nothing if any row is refused"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON last")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="列名=字段",
            help="a column no rule knows holds this field (its key or header), e.g. 手机2=phone",
        )
        parser.add_argument(
            "--ignore",
            action="append",
            default=[],
            metavar="列名",
            help="a column no rule knows is not to be imported",
        )

    def handle(self, *args, file: Path, community, dry_run, strict, json: bool, **options):
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        columns = _columns(options["map"], options["ignore"])
        area = None
        if community:
            area = Area.objects.communities().filter(code=community).first()
            if area is None:
                raise CommandError(
                    _("There is no community with the code %(code)s.") % {"code": community}
                )
        try:
            report = roster_import(
                actor=None,
                data=file.read_bytes(),
                filename=file.name,
                community=area,
                strict=strict,
                dry_run=dry_run,
                columns=columns,
            )
        except UnknownColumnsError as error:
            raise CommandError(
                # %(message)s 用 --map 列名=字段 说明一列是哪一项，或用 --ignore 列名 不导入它。
                _(
                    "%(message)s Say what each holds with --map column=field, or leave it out "
                    "with --ignore column."
                )
                % {"message": error.message}
            ) from error
        except RosterFileError as error:
            raise CommandError(error.message) from error
        result = report.as_json()
        if json:
            self.stdout.write(_json_dumps(result))
            return
        for error in result["refused"]:
            self.stdout.write(
                _("Row %(row)s, %(column)s: %(message)s")
                % {
                    "row": error["row"],
                    "column": error["column"] or "—",
                    "message": error["message"],
                }
            )
        self.stdout.write(
            _(
                "created %(created)s, updated %(updated)s, unchanged %(unchanged)s, "
                "refused %(refused)s"
            )
            % {**result, "refused": len(result["refused"])}
        )
        if not report.written:
            self.stdout.write(_("Nothing was written."))


def _columns(maps: list[str], ignores: list[str]) -> dict[str, str]:
    """--map and --ignore as `roster_import`'s `columns`: header → column key, or ""."""
    columns = {}
    for item in maps:
        header, _sep, name = item.partition("=")
        column = column_named(name)
        if not header.strip() or column is None:
            raise CommandError(
                # --map %(item)s：应写成 列名=字段，字段为以下之一：%(fields)s。
                _("--map %(item)s: write column=field, the field one of: %(fields)s.")
                % {
                    "item": item,
                    "fields": "、".join(f"{c.title}({c.key})" for c in READ_COLUMNS),
                }
            )
        columns[header.strip()] = column.key
    for header in ignores:
        columns[header.strip()] = ""
    return columns


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
