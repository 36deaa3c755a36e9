"""The roster (花名册) as offices keep it: its columns, in the order of the template.

Import, export and the template all use this one list, so an export re-imports cleanly.
Each column names the member field it fills, the standard Chinese header written by export
and the template, and the other headers offices use for it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # the Member field (or "categories")
    title: str  # the header export and the template write
    aliases: tuple[str, ...] = ()  # other headers that mean the same column
    required: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)


COLUMNS = [
    Column("name", "姓名", ("名字",), required=True),
    Column("sex", "性别"),
    Column("ethnicity", "民族", required=True),
    Column("birth_date", "出生日期", ("出生年月", "出生年月日", "生日")),
    # 证件类型 left out or empty means 居民身份证: rosters from before issue 14 import as they did.
    Column("document_type", "证件类型", ("证件种类", "证件名称", "身份证件类型")),
    Column(
        "id_number",
        "证件号码",
        ("公民身份号码", "身份证号", "身份证号码", "身份证", "身份证件号码", "证件号"),
        required=True,
    ),
    # Only for passports: the state that issued it.
    Column(
        "document_country", "国家或地区", ("国籍", "护照国家或地区", "签发国家或地区", "护照签发国")
    ),
    Column("political_status", "政治面貌", required=True),
    Column("education", "学历", ("文化程度", "最高学历")),
    Column("native_place", "籍贯"),
    Column("workplace", "工作单位及职务", ("工作单位", "单位及职务", "工作单位和职务", "单位职务")),
    Column("professional_title", "职称", ("专业技术职称",)),
    Column("social_positions", "社会职务/政治安排", ("社会职务", "政治安排", "社会职务及政治安排")),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式")),
    Column("address", "现居住地址", ("现住址", "住址", "家庭住址", "居住地址", "现居住地")),
    Column(
        "community",
        "所属社区",
        ("社区", "所在社区", "社区(村)", "所属社区(村)", "社区名称", "居委会", "社区居委会"),
    ),
    Column("grid", "所属网格", ("网格",)),
    Column("categories", "统战对象类别", ("类别", "人员类别", "对象类别", "统战类别")),
    Column("is_representative", "代表人士", ("是否代表人士",)),
    Column("specialty", "专业特长", ("特长",)),
    Column("notes", "备注"),
    # The notice (告知, PIPL arts. 17, 35): a new person's row gives how and when she was
    # told, or why not yet.
    Column("informed_how", "告知方式", ("告知情况",)),
    Column("informed_on", "告知日期", ("告知时间",)),
    Column("not_informed_reason", "未告知原因", ("未告知说明",)),
]

# Headers that rosters carry and the registry has no use for; they are not "unknown". The
# last two are what a file of refused rows adds, so it can be uploaded again once fixed.
IGNORED_HEADERS = ("序号", "编号", "年龄", "原行号", "错误原因")


# Columns other offices' templates carry that the registry keeps elsewhere, read on import
# only (export writes the template above): the street tells apart communities of the same
# name in different streets, and a separate 职务 is joined to the workplace, whose registry
# field is 工作单位及职务 (issue 14).
READ_ONLY_COLUMNS = [
    Column(
        "street",
        "街道",
        ("乡镇", "街道(镇)", "街道(乡镇)", "乡镇(街道)", "所属街道", "所在街道", "街道名称"),
    ),
    Column("position", "职务", ("现任职务", "行政职务", "职位")),
]

# Every column an import recognises: what a header is matched against, and the fields an
# unknown column may be told to fill.
READ_COLUMNS = [*COLUMNS, *READ_ONLY_COLUMNS]
COLUMNS_BY_KEY = {column.key: column for column in READ_COLUMNS}
