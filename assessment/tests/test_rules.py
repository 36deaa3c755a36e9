"""The assessment's arithmetic at its edges."""

from decimal import Decimal as D

import pytest

from assessment import rules

TIERS = [[0, 4], [20, 6], [51, 10]]  # under 20 members: 4; 20-50: 6; over 50: 10


@pytest.mark.parametrize(
    ("members", "target"),
    [(0, 4), (19, 4), (20, 6), (50, 6), (51, 10), (5000, 10)],
)
def test_tier_targets_at_the_edges(members, target):
    assert rules.tier_target(TIERS, members) == target


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([], "至少"),
        ([[5, 4]], "从 0 人"),
        ([[0, 4], [20, 6], [20, 8]], "更多"),
        ([[0, 4], [30, 6], [20, 8]], "更多"),
        ([[0, -1]], "负数"),
        ([["x", 4]], "人数和目标"),
    ],
)
def test_bad_tier_tables_are_refused_with_a_reason(tiers, message):
    with pytest.raises(rules.TargetRuleError) as refused:
        rules.check_tiers(tiers)
    assert message in refused.value.message


def test_tiers_typed_as_text():
    assert rules.parse_tiers("0:4，20：6; 51:10") == [[0, "4"], [20, "6"], [51, "10"]]


@pytest.mark.parametrize(
    ("base", "rate", "members", "target"),
    [
        ("2", "0.1", 0, 2),
        ("2", "0.1", 24, 4),  # 4.4
        ("2", "0.1", 25, 5),  # 4.5 rounds half up
        ("2", "0.1", 26, 5),  # 4.6
        ("0", "0.05", 130, 7),  # 6.5
    ],
)
def test_linear_targets_round_half_up(base, rate, members, target):
    assert rules.linear_target(D(base), D(rate), members) == target


@pytest.mark.parametrize(
    ("actual", "target", "cap", "points"),
    [
        (3, 6, D(1), D("10.00")),  # half the target: half the points
        (6, 6, D(1), D("20.00")),
        (9, 6, D(1), D("20.00")),  # capped at the target
        (9, 6, D("1.2"), D("24.00")),  # capped at 120 %
        (9, 6, None, D("30.00")),  # uncapped
        (0, 6, D(1), D("0.00")),
        (2, 3, D(1), D("13.33")),  # 13.333…
        (0, 0, D(1), D("20.00")),  # nothing asked
    ],
)
def test_scores_from_actual_over_target(actual, target, cap, points):
    assert rules.score(D(20), D(actual), D(target), cap) == points


def test_equal_totals_share_a_rank_and_the_next_rank_skips():
    assert rules.ranks([D(80), D(95), D(80), D(70), D(95)]) == [3, 1, 3, 5, 1]


@pytest.mark.parametrize(
    ("total", "grade"),
    [(100, "excellent"), (90, "excellent"), (D("89.99"), "good"), (80, "good"),
     (D("79.99"), "pass"), (60, "pass"), (D("59.99"), "fail"), (0, "fail")],
)  # fmt: skip
def test_grades_by_thresholds(total, grade):
    assert rules.grade(D(total), excellent=D(90), good=D(80), passing=D(60)) == grade


def test_model_communities_are_the_best_graded_excellent_and_failures_rectify():
    results = [(1, "excellent"), (1, "excellent"), (3, "excellent"), (4, "good"), (5, "fail")]
    assert rules.outcomes(results, model_communities=2) == [
        "model", "model", "", "", "rectify",
    ]  # fmt: skip


def test_the_three_sources_are_weighted():
    weights = {"superior": 50, "self": 20, "public": 30}
    assert rules.weighted_total({"superior": D(90), "self": D(100), "public": D(80)}, weights) == D(
        "89.00"
    )
    assert rules.weighted_total({"superior": D(90)}, weights) == D("45.00")  # a source missing


@pytest.mark.parametrize(
    ("totals", "share", "flagged"),
    [
        ([90, 80, 70, 60, 50, 40, 30, 20, 10, 5], 10, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        (
            [90, 80, 70, 60, 50, 40, 30, 20, 10, 5, 4],
            10,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1],
        ),  # 1.1 → 2
        ([90, 80, 70, 60, 50, 40, 30, 20, 5, 5], 10, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]),  # a tie
        ([90, 80], 0, [0, 0]),
        ([], 10, []),
    ],
)
def test_the_lowest_share_is_flagged(totals, share, flagged):
    assert rules.lowest_share([D(t) for t in totals], share) == [bool(f) for f in flagged]
