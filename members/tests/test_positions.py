"""Reading political arrangements out of the 社会职务/政治安排 text rosters keep (issue 18):
what is clear becomes arrangements, everything else stays text, nothing is invented."""

import pytest

from members.models import PoliticalArrangement
from members.positions import (
    ASSOCIATION,
    CITY,
    CPPCC,
    DISTRICT,
    ENDED,
    FEDERATION,
    IN_OFFICE,
    NATIONAL,
    NPC,
    OTHER,
    PROVINCE,
    SPECIAL,
    STREET,
    arrangement_text,
    parse_positions,
)

TWO = [(CPPCC, DISTRICT, "", "委员"), (FEDERATION, DISTRICT, "", "执委")]


def read(text):
    parsed = parse_positions(text)
    return [(a.body, a.level, a.organisation, a.post) for a in parsed.arrangements], parsed.rest


@pytest.mark.parametrize(
    ("text", "arrangements"),
    [
        ("区人大代表", [(NPC, DISTRICT, "", "代表")]),
        ("迎泽区政协委员", [(CPPCC, DISTRICT, "", "委员")]),
        ("太原市迎泽区政协委员", [(CPPCC, DISTRICT, "", "委员")]),
        ("太原市人大代表", [(NPC, CITY, "", "代表")]),
        ("山西省政协委员", [(CPPCC, PROVINCE, "", "委员")]),
        ("全国人大代表", [(NPC, NATIONAL, "", "代表")]),
        ("迎泽区政协常委", [(CPPCC, DISTRICT, "", "常委")]),
        ("区政协委员会委员", [(CPPCC, DISTRICT, "", "委员")]),
        ("市人大常委会委员", [(NPC, CITY, "", "常委会委员")]),
        ("迎泽区人民代表大会代表", [(NPC, DISTRICT, "", "代表")]),
        ("郝庄镇人大代表", [(NPC, STREET, "", "代表")]),
        (
            "市政协委员、区工商联执委",
            [(CPPCC, CITY, "", "委员"), (FEDERATION, DISTRICT, "", "执委")],
        ),
        ("迎泽区知联会理事", [(ASSOCIATION, DISTRICT, "知联会", "理事")]),
        ("迎泽区新的社会阶层人士联合会副会长", [(ASSOCIATION, DISTRICT, "新联会", "副会长")]),
        ("区归国华侨联合会委员", [(ASSOCIATION, DISTRICT, "侨联", "委员")]),
        ("迎泽区人民检察院特约检察员", [(SPECIAL, DISTRICT, "人民检察院", "特约检察员")]),
        ("区市场监管局特约监督员", [(SPECIAL, DISTRICT, "市场监管局", "特约监督员")]),
        ("市中区政协委员", [(CPPCC, DISTRICT, "", "委员")]),
        # Several levels of one seat, written the ways offices write them.
        ("市、区两级人大代表", [(NPC, CITY, "", "代表"), (NPC, DISTRICT, "", "代表")]),
        ("省市区三级政协委员",
         [(CPPCC, PROVINCE, "", "委员"), (CPPCC, CITY, "", "委员"), (CPPCC, DISTRICT, "", "委员")]),
        ("市、区人大代表", [(NPC, CITY, "", "代表"), (NPC, DISTRICT, "", "代表")]),
        # Other separators, and the same seat twice.
        ("区政协委员；区工商联执委", TWO),
        ("区政协委员 区工商联执委", TWO),
        ("区政协委员、区政协委员", [(CPPCC, DISTRICT, "", "委员")]),
    ],
)  # fmt: skip
def test_clear_text_becomes_arrangements_in_office(text, arrangements):
    found, rest = read(text)
    assert found == arrangements and rest == ""
    assert all(a.state == IN_OFFICE for a in parse_positions(text).arrangements)


@pytest.mark.parametrize(
    "text",
    [
        "政协委员",  # no level
        "人大代表、政协委员",
        "民盟区委委员",  # a party post, not an arrangement
        "桥东一社区居委会委员",  # a community is no level
        "区政协委员兼区工商联执委",  # two posts in one: which is which is not certain
        "区政协委员（2021-2026）",  # a bracket says something the reader does not read
        "原平市政协委员",  # 原平市 is a place, not a former 平市 member
        "原迎泽区政协委员",  # a former member, or of a place 原迎泽区: left as written
        "柳巷街道商会副会长",
        "特约监督员",
        "市场监管局特约监督员",  # 市场 is no 市
        "热心公益",
        "",
    ],
)
def test_what_is_not_clear_stays_text_as_written(text):
    parsed = parse_positions(text)
    assert parsed.arrangements == [] and parsed.rest == text


def test_the_rest_keeps_only_what_was_not_read():
    found, rest = read("迎泽区政协委员、民盟区委委员，社区议事会成员")
    assert found == [(CPPCC, DISTRICT, "", "委员")]
    assert rest == "民盟区委委员、社区议事会成员"
    # A level left alone before an unclear fragment stays with it.
    found, rest = read("区人大代表、市、政协委员")
    assert found == [(NPC, DISTRICT, "", "代表")] and rest == "市、政协委员"


def test_former_seats_are_ended_and_the_session_is_kept():
    parsed = parse_positions("原区人大代表、曾任迎泽区政协常委、第十四届全国人大代表")
    assert [(a.body, a.level, a.post, a.session, a.state) for a in parsed.arrangements] == [
        (NPC, DISTRICT, "代表", "", ENDED),
        (CPPCC, DISTRICT, "常委", "", ENDED),
        (NPC, NATIONAL, "代表", "第十四届", IN_OFFICE),
    ]
    assert parse_positions("迎泽区第十七届政协委员").arrangements[0].session == "第十七届"


@pytest.mark.parametrize(
    "text",
    ["区政协委员", "全国人大代表", "市人大常委会委员", "区知联会理事", "区检察院特约检察员",
     "街道人大代表", "省工商联执委", "区特约监督员", "区市场监管局特约监督员"],
)  # fmt: skip
def test_an_arrangement_as_written_reads_back_as_itself(text):
    """The roster export writes `text`, the import reads it: the same seat both ways."""
    (item,) = parse_positions(text).arrangements
    assert item.text == text
    assert arrangement_text(item.body, item.level, item.post, item.organisation) == text


def test_an_organisation_naming_its_level_is_not_given_it_twice():
    assert arrangement_text(OTHER, DISTRICT, "参事", "区政府参事室") == "区政府参事室参事"
    assert (
        arrangement_text(SPECIAL, DISTRICT, "特约检察员", "迎泽区人民检察院")
        == "迎泽区人民检察院特约检察员"
    )
    assert arrangement_text(SPECIAL, DISTRICT, "特约监督员", "检察院") == "区检察院特约监督员"


def test_the_parsers_codes_are_the_models_choices():
    found = parse_positions(
        "区政协委员、市人大代表、区工商联执委、区知联会理事、区检察院特约检察员、原省政协委员"
    )
    assert {a.body for a in found.arrangements} <= set(PoliticalArrangement.Body.values)
    assert {a.level for a in found.arrangements} <= set(PoliticalArrangement.Level.values)
    assert {a.state for a in found.arrangements} <= set(PoliticalArrangement.State.values)
    assert {NATIONAL, PROVINCE, CITY, DISTRICT, STREET} == set(PoliticalArrangement.Level.values)
