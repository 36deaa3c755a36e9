"""Scores as a grid (issue 13): rows × items, on a page and as the same table in .xlsx.

Both grids (a period's communities × hand-scored items, a round's representatives × a
source's items) are a `Grid`; this module builds them from what the user may score, reads a
posted page or an uploaded workbook into `Change`s, and writes the workbook. Reading never
writes: the changes go to the services (`score_grid_set`, `evaluation_grid_score`), which
check every cell again as the one-cell pages do.
"""

import dataclasses
import decimal
import re

from django.utils.translation import gettext as _

from members.roster_reader import RosterFileError, read_table
from tongzhan import spreadsheets as xlsx
from tongzhan.models import Area

from . import services
from .models import Evaluation, EvaluationItem, EvaluationRound, ManualScore, Period

# An upload is a filled-in copy of the download: a district's communities by its items is a
# few thousand cells, so these bounds are far above any real grid and far below what costs.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_CELLS = 200_000
HEADER_SCAN_ROWS = 5
CENT = decimal.Decimal("0.01")


class GridFileError(Exception):
    """The upload cannot be read as this grid at all; `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass
class Column:
    key: int  # the indicator's or the item's pk
    name: str
    most: decimal.Decimal  # 满分
    obj: object = None  # the indicator or the item

    @property
    def title(self) -> str:
        """The header, on the page and in the workbook: the name and its full marks."""
        return _("%(name)s (full marks %(most)s)") % {
            "name": self.name,
            "most": services._number(self.most),
        }


@dataclasses.dataclass
class Row:
    key: str  # what the workbook matches the row by: a community's code, an evaluation's id
    label: str
    obj: object  # the community or the evaluation
    values: dict  # column key → current score (absent: not scored)
    editable: set  # the column keys the user may score in this row
    note: str = ""  # shown beside the row on the page (veto marks)


@dataclasses.dataclass
class Grid:
    title: str
    key_title: str
    label_title: str
    columns: list[Column]
    rows: list[Row]
    # Items of the period the user scores nowhere: a workbook naming one is told so.
    others: list[Column] = dataclasses.field(default_factory=list)

    def row(self, key: str) -> Row | None:
        return self._rows.get(key)

    def __post_init__(self):
        self._rows = {row.key: row for row in self.rows}
        self.by_column = {column.key: column for column in self.columns}


@dataclasses.dataclass
class Change:
    row: Row
    column: Column
    before: decimal.Decimal | None
    after: decimal.Decimal


def cell_name(row: Row, column: Column) -> str:
    """The field of a cell on the page, as the services name a refused cell."""
    return services.grid_cell(row.key, column.key)


def seen_name(row: Row, column: Column) -> str:
    """The hidden field carrying the score a cell showed when the page was opened."""
    return f"seen-{cell_name(row, column)}"


def seen_scores(changes: list["Change"]) -> dict:
    """What the scorer saw in each changed cell, by (row's object pk, column key), as the
    services take it to refuse a cell scored by someone else meanwhile."""
    return {(change.row.obj.pk, change.column.key): change.before for change in changes}


# -- Building the grids -------------------------------------------------------------------------


def period_grid(user, period: Period) -> Grid:
    """The communities of the period's district the user may score something in, by the items
    scored by hand (bonus and deduction items too) she may score somewhere. A cell is open
    to her where `may_score` says so, and only while the period is open."""
    indicators = [i for i in period.indicators.all() if not i.is_measured]
    communities = Area.objects.communities().within(period.district).order_by("code")
    if period.state != Period.State.FINAL:
        communities = communities.current()  # a merged or retired community is not scored
    open_period = period.state == Period.State.OPEN
    scores = {
        (community, indicator): points
        for community, indicator, points in ManualScore.objects.filter(
            indicator__period=period
        ).values_list("community_id", "indicator_id", "points")
    }
    rows, used = [], set()
    for community in communities:
        may = {i.pk for i in indicators if services.may_score(user, i, community)}
        if not may:
            continue
        used |= may
        rows.append(
            Row(
                key=community.code,
                label=community.name,
                obj=community,
                values={
                    i.pk: scores[community.pk, i.pk]
                    for i in indicators
                    if (community.pk, i.pk) in scores
                },
                editable=may if open_period else set(),
            )
        )
    columns = [Column(i.pk, i.name, i.weight, i) for i in indicators if i.pk in used]
    return Grid(
        title=f"{period.district.name}{period.name}{_('Score sheet')}",
        key_title=_("Community code"),
        label_title=_("Community name"),
        columns=columns,
        rows=rows,
        others=[Column(i.pk, i.name, i.weight, i) for i in indicators if i.pk not in used],
    )


def round_sources(user, evaluation_round: EvaluationRound) -> list[str]:
    """The sources the user enters for some representative of the round."""
    evaluations = list(evaluation_round.evaluations.select_related("member__community", "round"))
    return [
        source
        for source in Evaluation.Source.values
        if any(services.may_enter(user, evaluation, source) for evaluation in evaluations)
    ]


def evaluation_grid(user, evaluation_round: EvaluationRound, source: str) -> Grid:
    """The representatives the user enters this source for, by the template's scored items.
    Veto items are marked on the representative's page (`veto_mark` wants the evidence); the
    row notes the marks she has."""
    items = list(
        EvaluationItem.objects.filter(category__template=evaluation_round.template_id)
        .select_related("category")
        .order_by("category__sort_order", "category_id", "sort_order", "id")
    )
    scored = [item for item in items if not item.is_veto]
    vetoes = {item.pk: item.name for item in items if item.is_veto}
    # A round listing outside evaluators takes its public scores as their mean: not typed here.
    open_round = evaluation_round.state == EvaluationRound.State.OPEN and not (
        source == Evaluation.Source.PUBLIC and evaluation_round.outside_evaluators.exists()
    )
    evaluations = (
        evaluation_round.evaluations.select_related("member__community", "round")
        .prefetch_related("scores", "vetoes")
        .order_by("member__community__code", "member__name", "pk")
    )
    rows = []
    for evaluation in evaluations:
        if not services.may_enter(user, evaluation, source):
            continue
        marks = [vetoes.get(mark.item_id, "") for mark in evaluation.vetoes.all()]
        rows.append(
            Row(
                key=str(evaluation.pk),
                label=evaluation.member.name,
                obj=evaluation,
                values={
                    score.item_id: score.score
                    for score in evaluation.scores.all()
                    if score.source == source
                },
                editable={item.pk for item in scored} if open_round else set(),
                note="、".join(mark for mark in marks if mark),
            )
        )
    label = Evaluation.Source(source).label
    return Grid(
        title=f"{evaluation_round.area.name}{evaluation_round.name}（{label}）",
        key_title=_("Evaluation number"),
        label_title=_("Name"),
        columns=[Column(item.pk, item.name, item.max_score, item) for item in scored],
        rows=rows,
    )


# -- Reading values -----------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, why: str):
        self.why = why


def parse_points(value, column: Column) -> decimal.Decimal | None:
    """A cell's points: None when it is empty (not scored, never 0); `_Refused` with the reason
    when it is no score for this column."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _Refused(_("not a number"))
    if isinstance(value, float | int):
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip().replace("，", ".").replace("．", ".")
    else:  # a date or a time typed in the cell
        raise _Refused(_("not a number"))
    try:
        points = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise _Refused(_("not a number")) from None
    if not points.is_finite():
        raise _Refused(_("not a number"))
    if points < 0:
        raise _Refused(_("negative"))
    if points > column.most:
        raise _Refused(
            _("above the full marks of %(most)s") % {"most": services._number(column.most)}
        )
    if points != points.quantize(CENT, rounding=decimal.ROUND_DOWN):
        raise _Refused(_("more than two decimals"))
    return points.quantize(CENT)


_CURRENT = object()


def _change(row: Row, column: Column, value, before=_CURRENT) -> Change | None:
    """The change a cell asks for (None: none), or `_Refused`. `before` is the score the
    scorer saw (by default the current one): a cell left as it was shown is no change, even
    when someone else scored it since."""
    points = parse_points(value, column)
    if before is _CURRENT:
        before = row.values.get(column.key)
    if points is None or points == before:
        return None
    if column.key not in row.editable:
        raise _Refused(_("an item you may not score here"))
    return Change(row, column, before, points)


def read_post(grid: Grid, data, posted=None) -> tuple[list[Change], dict[str, str]]:
    """The changes of the posted page (`data`, its cleaned cells; `posted`, the raw data with
    the scores each cell showed), and the refused cells' messages by field name (each naming
    the row and the column). An empty cell, or one left as it showed, changes nothing."""
    changes, errors = [], {}
    for row in grid.rows:
        for column in grid.columns:
            name = cell_name(row, column)
            if column.key not in row.editable:
                continue
            try:
                change = _change(row, column, data.get(name), _seen(posted or {}, row, column))
            except _Refused as refused:
                errors[name] = _("%(row)s × %(column)s: %(why)s") % {
                    "row": row.label,
                    "column": column.name,
                    "why": refused.why,
                }
                continue
            if change:
                changes.append(change)
    return changes, errors


def _seen(data, row: Row, column: Column):
    """The score the posted page showed in the cell (None: empty), or the current one when
    the page did not say or says nonsense."""
    text = data.get(seen_name(row, column))
    if text is None:
        return _CURRENT
    if not text.strip():
        return None
    try:
        seen = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        return _CURRENT
    return seen.quantize(CENT) if seen.is_finite() else _CURRENT


# -- The workbook -------------------------------------------------------------------------------


def write_xlsx(grid: Grid) -> bytes:
    """The grid as the offices print it: a title, then the key, the name and one column per
    item titled with its full marks, the current scores as numbers (empty: not scored)."""
    heading = [grid.key_title, grid.label_title] + [column.title for column in grid.columns]
    book = xlsx.Book()
    widths = {1: 15, 2: 14} | dict.fromkeys(range(3, len(heading) + 1), 12)
    sheet = book.sheet(_("Scores"), widths=widths, freeze="C3", title_rows=(2, 2))
    sheet.append([xlsx.text(grid.title, xlsx.Style(bold=True, size=14))])
    bold = xlsx.Style(bold=True, wrap=True, vertical="center", border=True)
    sheet.append([xlsx.text(label, bold) for label in heading])
    box = xlsx.Style(border=True)
    for row in grid.rows:
        line = [xlsx.text(row.key, box), xlsx.text(row.label, box)]
        for column in grid.columns:
            value = row.values.get(column.key)
            line.append(xlsx.Cell(None, box) if value is None else xlsx.number(value, box))
        sheet.append(line)
    return book.bytes()


def too_large() -> str:
    return _("The file is larger than %(limit)s MB: upload the score sheet as downloaded.") % {
        "limit": MAX_UPLOAD_BYTES // (1024 * 1024)
    }


def plain(value: decimal.Decimal | None) -> str:
    """Points as typed into a cell: 18.5, 20 (empty: not scored)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if value is not None else ""


def _normal(title: str) -> str:
    return re.sub(r"\s+", "", title).replace("(", "（").replace(")", "）")


def read_xlsx(grid: Grid, data: bytes, filename: str) -> list[Change]:
    """The changes an uploaded copy of the grid asks for. Rows are matched by their key,
    columns by their header. `GridFileError` refuses the whole file: either it cannot be read,
    or its message lists every refused row and column and why."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise GridFileError(too_large())
    try:
        table = read_table(data, filename, max_bytes=MAX_UPLOAD_BYTES, max_cells=MAX_UPLOAD_CELLS)
    except RosterFileError as error:
        raise GridFileError(error.message) from None
    rows = iter(table)
    header = None
    for number, cells in rows:
        if cells and _cell_text(cells[0]) == grid.key_title:
            header = (number, cells)
            break
        if number >= HEADER_SCAN_ROWS:
            break
    if header is None:
        raise GridFileError(
            _("No header row starting with %(key)s in the first %(rows)s rows: download the "
              "score sheet and fill that in.")
            % {"key": grid.key_title, "rows": HEADER_SCAN_ROWS}
        )  # fmt: skip
    header_row, titles = header
    by_title = {_normal(column.title): column for column in grid.columns}
    names = [column.name for column in grid.columns]
    by_name = {_normal(c.name): c for c in grid.columns if names.count(c.name) == 1}
    others = {_normal(c.title) for c in grid.others} | {_normal(c.name) for c in grid.others}
    problems = []
    columns: dict[int, Column] = {}
    for index, title in enumerate(titles[2:], start=2):
        text = _cell_text(title)
        if not text:
            continue
        column = by_title.get(_normal(text)) or by_name.get(_normal(text))
        if column is None and _normal(text) in others:
            problems.append(
                _("Row %(row)s, column %(column)s: %(why)s")
                % {"row": header_row, "column": text, "why": _("an item you may not score")}
            )
        elif column is None:
            problems.append(
                _("Row %(row)s, column %(column)s: unknown column")
                % {"row": header_row, "column": text}
            )
        elif column in columns.values():
            # Two columns of one item would give one cell two scores: neither is taken.
            problems.append(
                _("Row %(row)s, column %(column)s: the same item as an earlier column")
                % {"row": header_row, "column": text}
            )
        else:
            columns[index] = column
    changes, seen = [], {}
    for number, cells in rows:
        key = _cell_text(cells[0]) if cells else ""
        if not key and not any(_cell_text(cell) for cell in cells):
            continue
        row = grid.row(key)
        if row is None:
            problems.append(
                _("Row %(row)s (%(key)s): not a row you may score") % {"row": number, "key": key}
            )
            continue
        if key in seen:
            problems.append(
                _("Row %(row)s (%(key)s): the same as row %(first)s")
                % {"row": number, "key": key, "first": seen[key]}
            )
            continue
        seen[key] = number
        for index, column in columns.items():
            try:
                change = _change(row, column, cells[index] if index < len(cells) else None)
            except _Refused as refused:
                problems.append(
                    _("Row %(row)s (%(label)s), column %(column)s: %(why)s")
                    % {"row": number, "label": row.label, "column": column.name,
                       "why": refused.why}
                )  # fmt: skip
                continue
            if change:
                changes.append(change)
    if problems:
        raise GridFileError("\n".join(problems))
    return changes


# -- Changes kept between the upload and its confirmation ---------------------------------------


def dump(changes: list[Change]) -> list[list[str]]:
    """The changes as the session keeps them (bounded by the grid: one entry a cell)."""
    return [
        [change.row.key, str(change.column.key), str(change.after), plain(change.before)]
        for change in changes
    ]


def load(grid: Grid, kept: list) -> list[Change]:
    """Kept changes against the grid as it is now: a cell since scored to the same value, or
    no longer in the grid, drops out; the service checks the rest again. Each keeps the score
    the sheet was checked against, so a cell scored by someone else since is refused rather
    than overwritten unseen."""
    changes = []
    for key, column_key, after, *kept_before in kept:
        row, column = grid.row(key), grid.by_column.get(int(column_key))
        if row is None or column is None:
            continue
        after = decimal.Decimal(after)
        before = row.values.get(column.key)
        if kept_before:
            before = decimal.Decimal(kept_before[0]) if kept_before[0] else None
        if row.values.get(column.key) != after:
            changes.append(Change(row, column, before, after))
    return changes


def evaluator_grid(user, evaluator) -> Grid:
    """An outside evaluator's sheet (社会评价): the representatives the user enters the public
    assessment for, by the template's scored items, with this evaluator's scores."""
    evaluation_round = evaluator.round
    items = EvaluationItem.objects.filter(
        category__template=evaluation_round.template_id, is_veto=False
    )
    scored = list(
        items.select_related("category").order_by(
            "category__sort_order", "category_id", "sort_order", "id"
        )
    )
    open_round = evaluation_round.state == EvaluationRound.State.OPEN
    given: dict = {}
    for evaluation, item, score in evaluator.scores.values_list(
        "evaluation_id", "item_id", "score"
    ):
        given.setdefault(evaluation, {})[item] = score
    rows = [
        Row(
            key=str(evaluation.pk),
            label=evaluation.member.name,
            obj=evaluation,
            values=given.get(evaluation.pk, {}),
            editable={item.pk for item in scored} if open_round else set(),
        )
        for evaluation in evaluation_round.evaluations.select_related(
            "member__community", "round"
        ).order_by("member__community__code", "member__name", "pk")
        if services.may_enter(user, evaluation, Evaluation.Source.PUBLIC)
    ]
    return Grid(
        title=f"{evaluation_round.area.name}{evaluation_round.name}（{evaluator}）",
        key_title=_("Evaluation number"),
        label_title=_("Name"),
        columns=[Column(item.pk, item.name, item.max_score, item) for item in scored],
        rows=rows,
    )
