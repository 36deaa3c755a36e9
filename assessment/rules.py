"""The assessment's arithmetic, without the database: targets, scores, ranks, grades.

Decimal throughout, rounded half up as people round (a target of 4.5 is 5).
"""

import decimal
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _

D = decimal.Decimal
CENT = D("0.01")


class TargetRuleError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_tiers(tiers) -> list[tuple[int, D]]:
    """Tiers as [[from members, target], ...]: the first from 0, each from more members.

    "Under 20 members: 4; 20-50: 6; over 50: 10" is [[0, 4], [20, 6], [51, 10]].
    """
    try:
        parsed = [(int(low), D(str(target))) for low, target in tiers]
    except (TypeError, ValueError, decimal.InvalidOperation):
        raise TargetRuleError(_("Each tier is a number of members and a target.")) from None
    if not parsed:
        raise TargetRuleError(_("Give at least one tier."))
    if parsed[0][0] != 0:
        raise TargetRuleError(_("The first tier must start at 0 members."))
    lows = [low for low, _target in parsed]
    if lows != sorted(set(lows)):
        raise TargetRuleError(_("Each tier must start at more members than the one before."))
    if any(target < 0 for _low, target in parsed):
        raise TargetRuleError(_("A target cannot be negative."))
    return parsed


def parse_tiers(text: str) -> list[list]:
    """Tiers typed as "0:4, 20:6, 51:10" (full-width punctuation too)."""
    text = text.replace("：", ":").replace("，", ",").replace("；", ",").replace(";", ",")
    tiers = []
    for part in filter(None, (item.strip() for item in text.split(","))):
        low, _sep, target = part.partition(":")
        tiers.append([low.strip(), target.strip()])
    check_tiers(tiers)
    return [[int(low), str(D(target))] for low, target in tiers]


def tier_target(tiers, members: int) -> D:
    """The target of the highest tier the community's members reach."""
    target = D(0)
    for low, value in check_tiers(tiers):
        if members >= low:
            target = value
    return target


def linear_target(base: D, rate: D, members: int, places: int = 0) -> D:
    """base + rate × members, rounded half up to `places` decimals (whole by default)."""
    exact = D(base) + D(rate) * members
    return exact.quantize(D(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def score(weight: D, actual: D, target: D, cap: D | None) -> D:
    """weight × actual ÷ target, the ratio capped at `cap` (None: uncapped).

    A target of 0 asks nothing: full marks.
    """
    weight, actual, target = D(weight), D(actual), D(target)
    ratio = D(1) if target <= 0 else actual / target
    if cap is not None:
        ratio = min(ratio, D(cap))
    return (weight * max(ratio, D(0))).quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def ranks(scores: Sequence[D]) -> list[int]:
    """Competition ranking ("1224"): equal scores share a rank, the next rank skips."""
    ordered = sorted(scores, reverse=True)
    first = {}
    for position, value in enumerate(ordered, start=1):
        first.setdefault(value, position)
    return [first[value] for value in scores]


def grade(total: D, *, excellent: D, good: D, passing: D) -> str:
    """优秀 / 良好 / 合格 / 不合格 by the period's thresholds (at least the threshold)."""
    total = D(total)
    if total >= D(excellent):
        return "excellent"
    if total >= D(good):
        return "good"
    if total >= D(passing):
        return "pass"
    return "fail"


def outcomes(results: Iterable[tuple[int, str]], model_communities: int) -> list[str]:
    """示范社区 for the best `model_communities` ranks of the district graded 优秀,
    限期整改 for every 不合格; (rank in district, grade) in, outcome per result out."""
    return [
        "model"
        if grade_ == "excellent" and rank <= model_communities
        else "rectify"
        if grade_ == "fail"
        else ""
        for rank, grade_ in results
    ]


# -- Evaluation of representatives -----------------------------------------------------------


def weighted_total(by_source: dict[str, D], weights: dict[str, int]) -> D:
    """Σ weight% × the source's total: 上级评议, 自我评价 and 社会评价 together."""
    total = sum(
        (D(weights[source]) * D(by_source.get(source, 0)) / 100 for source in weights), D(0)
    )
    return total.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def lowest_share(totals: Sequence[D], share: int) -> list[bool]:
    """末位淘汰: the lowest `share` per cent of the totals (rounded up to whole people).

    Whoever ties with the last one caught is caught too: a tie does not decide who stays.
    """
    if not totals or share <= 0:
        return [False] * len(totals)
    count = -(-len(totals) * share // 100)  # ceiling
    line = sorted(totals)[count - 1]
    return [total <= line for total in totals]
