from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tongzhan.services import AreaFileError, areas_load, read_area_rows


class Command(BaseCommand):
    help = (
        "Load or update the area tree from a CSV or XLSX file: code,name[,parent_code,level]"
        " (or 区划代码,名称,上级代码,层级), or the statistics bureau's list 统计用区划代码,"
        "城乡分类代码,名称 with 12-digit codes; an optional 变更 column renames (更名), "
        "retires (撤销) or merges (撤并入:<code>) the area of its row; a new community's row "
        "with 拆分自:<code>[:<address words>] is split off that community, taking the grids "
        "whose rows say 划入:<its code>."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        try:
            result = areas_load(rows=read_area_rows(file))
        except AreaFileError as error:
            raise CommandError(_("Nothing was loaded:") + "\n" + "\n".join(error.errors)) from error
        self.stdout.write(
            _(
                "created %(created)s, renamed %(renamed)s, official names or codes added "
                "%(updated)s, unchanged %(unchanged)s, merged %(merged)s, retired %(retired)s, "
                "split %(split)s"
            )
            % vars(result)
        )
