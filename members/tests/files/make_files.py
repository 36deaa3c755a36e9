"""How the roster fixtures beside this script were made; run it again to remake them.

    .venv/bin/pip install xlwt==1.3.0   # only for this script; not a project dependency
    .venv/bin/python members/tests/files/make_files.py

- roster.xls: a legacy Excel 97-2003 workbook written by xlwt, as older office machines
  still save: a title row, the header on row 2 with aliases (身份证号, 出生年月, 类别), one ID
  typed as a number, a birth date as a real date cell, a phone as a number.
- roster_gbk.csv: comma-separated, GBK, as Excel on a Chinese Windows saves "CSV (逗号分隔)".
- roster_utf8_bom.csv: semicolon-separated, UTF-8 with a byte order mark, as Excel saves
  "CSV UTF-8"; the columns in another order than the template.
"""

import datetime
from pathlib import Path

import xlwt

HERE = Path(__file__).resolve().parent

HEADER = ["序号", "姓名", "性别", "民族", "出生年月", "身份证号", "政治面貌", "学历", "联系电话"]
HEADER += ["所属社区", "类别"]


def make_xls() -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("花名册")
    sheet.write_merge(0, 0, 0, len(HEADER) - 1, "桥东街道统战对象花名册")
    for column, title in enumerate(HEADER):
        sheet.write(1, column, title)
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    rows = [
        [1, "张三", "男", "汉族", "1980.05", "140106198005030011", "中共党员", "本科",
         "13812345678", "五一二社区", "民主党派、非公"],
        [2, "李四", "女", "回族", datetime.date(1975, 3, 8), 140106197503080000, "民盟",
         "研究生", 13912345678, "桥东一社区", "新阶层"],
        [3, "王五", "男", "满", "1990年12月", "14010619901201001X", "群众", "大专",
         "0351-1234567", "桥东一社区", "华侨、归侨及侨眷；港胞"],
    ]  # fmt: skip
    for offset, row in enumerate(rows):
        for column, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write(2 + offset, column, value, date_style)
            else:
                sheet.write(2 + offset, column, value)
    book.save(str(HERE / "roster.xls"))


def make_csvs() -> None:
    lines = [
        ",".join(HEADER),
        "1,张三,男,汉族,1980.05,140106198005030011,中共党员,本科,13812345678,五一二社区,民主党派",
        "2,李四,女,回族,1975-03-08,140106197503080028,民盟盟员,研究生,13912345678,桥东一社区,"
        '"新阶层,港胞"',
        "3,王五,男,满族,1990年12月,1.40106E+17,群众,大专,0351-1234567,桥东一社区,其他",
    ]
    (HERE / "roster_gbk.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))

    reordered = [
        "联系电话;类别;身份证号码;姓名;政治面貌;民族;出生日期",
        "13812345678;台胞台属;140106198005030011;赵六;致公党;壮族;19800503",
        "13912345678;宗教界人士;140106197503080028;钱七;无党派;藏族;1975/3/8",
    ]
    (HERE / "roster_utf8_bom.csv").write_bytes(
        ("\r\n".join(reordered) + "\r\n").encode("utf-8-sig")
    )


if __name__ == "__main__":
    make_xls()
    make_csvs()
