"""Reading political arrangements (政治安排) out of the free text rosters keep them in.

Rosters and the registry before issue 18 hold a member's arrangements in one cell of
社会职务/政治安排: "迎泽区政协委员、区工商联执委", "市、区两级人大代表", "原区人大代表". This module
turns such text into arrangements (body, level, post) and leaves what it cannot read with
certainty as text: a fragment is read only when its body, its level and its post are all
clear, so nothing is invented (a 政协委员 of no stated level stays text).

Plain functions and the codes of `PoliticalArrangement`'s choices as strings, without the
models: the data migration that moved the old field's text into rows runs them too.
"""

import re
from dataclasses import dataclass, field, replace

# The codes of `PoliticalArrangement.Body`, `.Level` and `.State` (a test keeps them equal).
NPC, CPPCC, FEDERATION, ASSOCIATION, SPECIAL, OTHER = (
    "npc",
    "cppcc",
    "federation",
    "association",
    "special",
    "other",
)
NATIONAL, PROVINCE, CITY, DISTRICT, STREET = "national", "province", "city", "district", "street"
IN_OFFICE, ENDED = "in_office", "ended"

# How an arrangement is written: the level's word, the body's, the post (区 + 政协 + 委员).
LEVEL_WORDS = {NATIONAL: "全国", PROVINCE: "省", CITY: "市", DISTRICT: "区", STREET: "街道"}
BODY_WORDS = {NPC: "人大", CPPCC: "政协", FEDERATION: "工商联"}

# Long names written as their usual short ones first, so one set of words reads both.
LONG_NAMES = [
    ("人民代表大会常务委员会", "人大常委会"),
    ("人民代表大会", "人大"),
    ("人民政治协商会议", "政协"),
    ("政治协商会议", "政协"),
    ("工商业联合会", "工商联"),
    ("总商会", "工商联"),
    ("党外知识分子联谊会", "知联会"),
    ("知识分子联谊会", "知联会"),
    ("新的社会阶层人士联合会", "新联会"),
    ("新社会阶层人士联合会", "新联会"),
    ("新阶层人士联合会", "新联会"),
    ("归国华侨联合会", "侨联"),
    ("台湾同胞联谊会", "台联"),
    ("海外联谊会", "海联会"),
    ("留学人员联谊会", "留联会"),
    ("中华职业教育社", "职教社"),
]
# United-front associations (统战社团) by the name rosters give them; the name is kept as the
# arrangement's organisation.
ASSOCIATIONS = (
    "知联会",
    "新联会",
    "侨联",
    "台联",
    "海联会",
    "留联会",
    "欧美同学会",
    "黄埔军校同学会",
    "职教社",
    "佛教协会",
    "道教协会",
    "伊斯兰教协会",
    "天主教爱国会",
    "基督教协会",
    "基督教三自爱国运动委员会",
)
# Special appointees (特约人员): the post names them, the body that appointed them goes
# before it (区检察院特约检察员).
SPECIAL_POST = re.compile(r"(特[约邀][\u4e00-\u9fff]{1,8}员|人民陪审员|人民监督员)$")
# What a post ends with; anything else after a body is not read as a post.
POST_ENDINGS = (
    "代表",
    "委员",
    "常委",
    "执委",
    "主席",
    "主任",
    "主委",
    "会长",
    "理事",
    "秘书长",
    "监事",
    "顾问",
    "干事",
    "召集人",
    "成员",
    "会员",
)
SEPARATORS = re.compile(r"[、，,；;／/|｜\s]+")
SESSION = re.compile(r"第[一二三四五六七八九十百零〇两\d]{1,4}届")
HAN = re.compile(r"[\u4e00-\u9fff]+")
# The units of a place, longest first, and the level each gives.
UNITS = [
    ("自治区", PROVINCE),
    ("街道", STREET),
    ("省", PROVINCE),
    ("市", CITY),
    ("区", DISTRICT),
    ("县", DISTRICT),
    ("旗", DISTRICT),
    ("镇", STREET),
    ("乡", STREET),
]
BARE_LEVELS = {"全国": NATIONAL, "省": PROVINCE, "市": CITY, "区": DISTRICT, "县": DISTRICT}
# "市、区两级人大代表", "省市区三级政协委员": one arrangement at each level named.
SEVERAL_LEVELS = re.compile(
    r"^(?P<levels>(?:全国|[省市区县])(?:、?(?:[省市区县]))+)[两二三四]级(?P<rest>.+)$"
)
PLACE_CHARS = 8
# Words that begin with a unit's character and name no place (区市场监管局 is a 区's).
NOT_PLACES = ("市场", "市民", "区域", "县域", "乡村")
POST_CHARS = 12


@dataclass(frozen=True)
class ParsedArrangement:
    body: str
    level: str
    post: str
    organisation: str = ""
    session: str = ""
    state: str = IN_OFFICE
    # The fragment as written, which an arrangement recorded earlier may match as its `text`
    # where reading it gives another organisation (迎泽区人民检察院 read as 区 + 人民检察院).
    source: str = field(default="", compare=False)

    @property
    def text(self) -> str:
        return arrangement_text(self.body, self.level, self.post, self.organisation)

    @property
    def key(self) -> tuple:
        """What makes two arrangements the same seat (`PoliticalArrangement.key`)."""
        return (self.body, self.level, self.organisation, self.post)


@dataclass(frozen=True)
class Parsed:
    arrangements: list[ParsedArrangement]
    rest: str  # what was not read, as written when nothing was read
    unread: list[str]  # the fragments of `rest`


def arrangement_text(body: str, level: str, post: str, organisation: str = "") -> str:
    """An arrangement as rosters write it, and as this module reads it back: 区政协委员,
    全国人大代表, 区知联会理事, 区检察院特约检察员; an organisation whose name says the level
    already is not given it twice (区政府参事室参事, 迎泽区人民检察院特约检察员)."""
    name = BODY_WORDS.get(body, organisation)
    word = LEVEL_WORDS.get(level, "")
    if body not in BODY_WORDS and (name.startswith(word) or _place(name, exact=False)[0] == level):
        word = ""
    return f"{word}{name}{post}"


def parse_positions(text: str) -> Parsed:
    """The arrangements `text` names clearly, and the rest of it.

    Fragments apart by 、，；/ or spaces are read one by one; one that is only a level
    ("市" in "市、区人大代表") goes with the next. The rest keeps the unread fragments joined by
    "、", or the text exactly as given when nothing was read.
    """
    text = str(text or "").strip()
    if not text:
        return Parsed([], "", [])
    # A bare level before a 、 belongs to what follows: "市、区两级…", "市、区人大代表".
    fragments = [part for part in SEPARATORS.split(text) if part]
    found: list[ParsedArrangement] = []
    unread: list[str] = []
    waiting: list[str] = []  # bare levels waiting for the fragment that names the body
    for fragment in fragments:
        if fragment in BARE_LEVELS:
            waiting.append(fragment)
            continue
        several = SEVERAL_LEVELS.match("".join(waiting) + fragment)
        read = _read_several(several) if several else None
        if read is None:
            read = _read(fragment)
            if read is not None and waiting:
                # "市、区人大代表": the same seat at each level named before it, when this
                # one was written with a bare level too.
                bare = _bare_level(fragment)
                if bare is None:
                    read = None
                else:
                    read = [
                        _at(item, BARE_LEVELS[word]) for word in waiting for item in read
                    ] + read
        if read is None:
            unread.extend(waiting)
            unread.append(fragment)
        else:
            found.extend(replace(item, source=fragment) for item in read)
        waiting = []
    unread.extend(waiting)
    arrangements = _distinct(found)
    if not arrangements:
        return Parsed([], text, [text])
    unread = list(dict.fromkeys(unread))
    return Parsed(arrangements, "、".join(unread), unread)


def _distinct(found: list[ParsedArrangement]) -> list[ParsedArrangement]:
    """Each arrangement once; a seat held now once whatever its session (届次)."""
    seen, distinct = set(), []
    for item in found:
        key = (item.key, item.state) if item.state == IN_OFFICE else item
        if key not in seen:
            seen.add(key)
            distinct.append(item)
    return distinct


def _at(item: ParsedArrangement, level: str) -> ParsedArrangement:
    return replace(item, level=level)


def _bare_level(fragment: str) -> str | None:
    """The bare level word a fragment starts with (区 in 区人大代表), after 原 or 第…届."""
    fragment = SESSION.sub("", fragment)
    fragment = fragment.removeprefix("曾任").removeprefix("原")
    for word in sorted(BARE_LEVELS, key=len, reverse=True):
        if fragment.startswith(word) and _read(fragment[len(word) :], level=BARE_LEVELS[word]):
            return word
    return None


def _read_several(match) -> list[ParsedArrangement] | None:
    words = re.findall(r"全国|[省市区县]", match["levels"])
    first = _read(words[-1] + match["rest"])
    if first is None or len(first) != 1:
        return None
    return [_at(first[0], BARE_LEVELS[word]) for word in words]


def _read(fragment: str, *, level: str | None = None) -> list[ParsedArrangement] | None:
    """One arrangement read from one fragment, as a list of one, or None.

    `level` given: the fragment names no place (what follows a bare level word).
    """
    state = IN_OFFICE
    if fragment.startswith("曾任"):
        state, fragment = ENDED, fragment[2:]
    elif fragment.startswith("原") and level is None:
        # 原 is "former" only before a bare level (原区人大代表); before a place name it may
        # be the place's own (原平市): such a fragment is left as text.
        rest = fragment[1:]
        if _bare_level(rest) is None:
            return None
        state, fragment = ENDED, rest
    session = ""
    if found := SESSION.search(fragment):
        session = found.group()
        fragment = fragment[: found.start()] + fragment[found.end() :]
    if not HAN.fullmatch(fragment or "-"):
        return None
    for long, short in LONG_NAMES:
        fragment = fragment.replace(long, short)

    special = SPECIAL_POST.search(fragment)
    if special:
        where, post = fragment[: special.start()], special.group()
        place_level, organisation = (level, where) if level else _place(where, exact=False)
        if place_level is None or len(organisation) > 30:
            return None
        return [ParsedArrangement(SPECIAL, place_level, post, organisation, session, state)]

    for word, body, organisation in _bodies():
        at = fragment.find(word)
        if at < 0:
            continue
        where, post = fragment[:at], fragment[at + len(word) :]
        if body == CPPCC and post.startswith("委员会") and len(post) > 3:
            post = post[3:]  # 政协委员会委员 is a 政协委员
        if not _is_post(post):
            return None
        if level is not None:
            if where:
                return None
            place_level = level
        else:
            place_level, left = _place(where, exact=True)
            if place_level is None:
                return None
        return [ParsedArrangement(body, place_level, post, organisation, session, state)]
    return None


def _bodies():
    """(word in the text, body, organisation kept) in the order they are looked for."""
    yield "人大", NPC, ""
    yield "政协", CPPCC, ""
    yield "工商联", FEDERATION, ""
    for name in sorted(ASSOCIATIONS, key=len, reverse=True):
        yield name, ASSOCIATION, name


def _is_post(post: str) -> bool:
    """A post as it ends a fragment: one title (委员, 常委会副主任), not two joined (委员兼…)."""
    if not 0 < len(post) <= POST_CHARS or not post.endswith(POST_ENDINGS):
        return False
    return not any(word in post for word in ("兼", "及", "、", *BODY_WORDS.values(), *ASSOCIATIONS))


def _place(text: str, *, exact: bool) -> tuple[str | None, str]:
    """The level of the place `text` starts with (太原市迎泽区 → district, 全国 → national) and
    what follows it; `exact`: nothing may follow. (None, text) if it names no place."""
    if text.startswith("全国"):
        rest = text[2:]
        return (NATIONAL, rest) if not (exact and rest) else (None, text)
    level, at = None, 0
    while at < len(text):
        # A unit alone begins a text (区政协委员); after a place, one needs a name of its
        # own (太原市迎泽区), or 区市场监管局 would read as a 区 and a 市.
        unit = _unit_at(text, at, shortest=0 if at == 0 else 1)
        if unit is None:
            break
        end, found = unit
        if text[at:end].endswith("社区"):
            return None, text  # a community is no level of arrangements
        level, at = found, end
    rest = text[at:]
    if level is None or (exact and rest):
        return None, text
    return level, rest


def _unit_at(text: str, start: int, shortest: int = 0) -> tuple[int, str] | None:
    """The end and level of the shortest place name at `start` ending in a unit."""
    for length in range(shortest, PLACE_CHARS + 1):
        at = start + length
        if length == 0 and text.startswith(NOT_PLACES, at):
            continue
        for unit, level in UNITS:
            if text.startswith(unit, at):
                return at + len(unit), level
    return None
