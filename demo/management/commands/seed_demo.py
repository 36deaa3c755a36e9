"""Load a demo district (迎泽区), its demo accounts and N realistic members.

Members are built in memory and bulk-inserted instead of going through `member_create`: at
200,000 rows one service call each (full_clean, permission and FK queries, an audit row)
would take the better part of an hour. The rules the service enforces are kept by
construction here, and `full_clean` runs on the first members of every run so that a new
model rule the generator breaks fails loudly instead of leaving bad demo data.
"""

import contextlib
import datetime
import random
import time
import unicodedata
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from activities import services as activity_services
from activities.models import Activity, ActivityType, Need, Participation, Visit
from assessment import services as assessment
from assessment.models import EvaluationTemplate, Indicator, Period
from assessment.standings import standings
from commendations import services as commendations
from commendations.models import Campaign, NominationEvent
from commendations.models import Nomination as CommendationNomination
from followup import services as followup
from followup.models import ModelCommunity, Rectification
from liaison import services as liaison
from liaison.models import Notice
from members import services as member_services
from members.models import (
    Category,
    Ethnicity,
    Member,
    MemberChange,
    MemberTally,
    Nomination,
    PoliticalArrangement,
    PoliticalStatus,
)
from members.positions import parse_positions
from members.validators import CREDIT_CODE_ALPHABET, CREDIT_CODE_WEIGHTS
from organisations import services as organisations
from organisations.models import Organisation, Place
from resources import services as resources
from resources.models import CommunityNeed, Match, Project, Resource
from tongzhan.bulk import insert_objects, insert_rows
from tongzhan.idnumber import check_character
from tongzhan.models import Area, User
from tongzhan.services import AreaFileError, areas_load, read_area_rows, user_create

AREAS_FILE = Path(__file__).resolve().parents[2] / "demo_areas.csv"
# A published demo password, printed on every start; never use these accounts in production.
DEMO_PASSWORD = "Tz-demo-2026"  # noqa: S105
SOURCE = "演示数据"
BATCH = 5000
CHECKED_SAMPLE = 50
# Activity records in proportion to the members added: participations per member, a visit
# for every VISITS_EVERY members, a need raised on every NEEDS_EVERY_VISITS-th visit.
PARTICIPATIONS_PER_MEMBER = 5
REGISTERED_WITHIN_DAYS = 3 * 365
VISITS_EVERY = 4
NEEDS_EVERY_VISITS = 5

# username, role, area code, family name, given name
DEMO_ACCOUNTS = [
    ("shequ", User.Role.COMMUNITY, "140106001001", "李", "秀梅"),
    ("shequ2", User.Role.COMMUNITY, "140106001002", "赵", "建华"),
    ("jiedao", User.Role.STREET, "140106001", "王", "志强"),
    ("quwei", User.Role.DISTRICT, "140106", "张", "卫东"),
    ("admin", User.Role.ADMIN, None, "刘", "洋"),
]


@contextlib.contextmanager
def _given_registration_times():
    """Let bulk_create keep the registration times the generator gives.

    `auto_now_add` would stamp every demo member with the moment of seeding, and the
    dashboards' "registered per month" would show one bar.
    """
    fields = [Member._meta.get_field("created_at"), MemberChange._meta.get_field("at")]
    for field in fields:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field in fields:
            field.auto_now_add = True


def _weighted(pairs):
    """(values, cumulative weights) for Random.choices."""
    values = [value for value, _weight in pairs]
    cumulative, total = [], 0.0
    for _value, weight in pairs:
        total += weight
        cumulative.append(total)
    return values, cumulative


# -- Names ------------------------------------------------------------------------------------
# Frequent surnames, the northern ones (王李张刘赵杨郭) weighted up as in Shanxi.
SURNAMES = _weighted(
    [("王", 9), ("李", 8.5), ("张", 8), ("刘", 6.5), ("陈", 4), ("杨", 4.2), ("赵", 4.5),
     ("黄", 1.5), ("周", 2), ("吴", 1.5), ("徐", 1.5), ("孙", 2), ("胡", 1.5), ("朱", 1.2),
     ("高", 2), ("林", 0.6), ("何", 0.8), ("郭", 3.5), ("马", 2), ("罗", 0.6), ("梁", 1.5),
     ("宋", 1), ("郑", 1), ("谢", 0.5), ("韩", 1.6), ("唐", 0.6), ("冯", 1.3), ("于", 0.6),
     ("董", 1.2), ("程", 1), ("曹", 1), ("袁", 0.6), ("邓", 0.4), ("许", 0.6), ("傅", 0.4),
     ("沈", 0.4), ("曾", 0.3), ("彭", 0.4), ("吕", 0.9), ("苏", 0.6), ("卢", 0.5), ("蒋", 0.3),
     ("蔡", 0.3), ("贾", 1.5), ("丁", 0.6), ("魏", 1), ("薛", 1), ("叶", 0.3), ("阎", 1.2),
     ("段", 0.8), ("雷", 0.5), ("侯", 0.9), ("郝", 1.2), ("武", 1.5), ("田", 1), ("任", 1),
     ("范", 0.7), ("石", 0.7), ("姚", 0.6), ("白", 0.8), ("崔", 0.7), ("康", 0.6), ("乔", 0.7),
     ("史", 0.6), ("孟", 0.6), ("秦", 0.6), ("常", 0.7), ("温", 0.5), ("牛", 0.6), ("霍", 0.5),
     ("裴", 0.3), ("申", 0.3), ("尹", 0.3), ("贺", 0.5), ("闫", 0.8), ("卫", 0.3), ("原", 0.2)]
)  # fmt: skip


def _words(text: str) -> list[str]:
    return text.split()


# Given names by (sex, born before 1975): two-character names, then single characters.
GIVEN = {
    ("M", True): (
        _words(
            "建国 建军 建华 国庆 国强 志强 志刚 志明 卫东 卫国 永红 永强 海林 振华 德明 文斌 立新 "
            "红军 跃进 保国 庆丰 世杰 晓东 建平 金山 玉柱 福生 长青 双喜 俊明 宏伟 学军"
        ),
        "军华明强平刚勇斌林东涛杰峰伟民忠文生海",
    ),
    ("M", False): (
        _words(
            "浩然 子豪 宇航 俊杰 博文 浩宇 子轩 鹏飞 晓明 志远 嘉豪 家乐 泽宇 天宇 一鸣 思远 "
            "皓轩 宇轩 明轩 佳豪 文博 晨阳 睿哲 俊熙 子墨 建伟 晓峰 海涛 志鹏"
        ),
        "磊鹏超浩鑫宇凯博旭健龙辉峰睿航豪毅杰帅阳",
    ),
    ("F", True): (
        _words(
            "秀英 桂兰 秀兰 玉兰 桂英 凤英 淑珍 玉梅 丽华 秀珍 美玲 红梅 春梅 翠萍 爱华 海燕 "
            "建英 彩霞 素梅 玉珍 慧敏 丽萍 金凤 月娥 巧玲 晓红 雪梅"
        ),
        "芳霞红梅萍琴英兰华燕玲丽敏娟静",
    ),
    ("F", False): (
        _words(
            "欣怡 梓涵 雨萱 诗涵 思琪 佳怡 子涵 雨涵 可欣 晓雪 婷婷 佳琪 梦瑶 雅琪 静怡 心怡 "
            "一诺 紫萱 晓彤 佳慧 文静 丽娜 晓燕 晓丽 艳芳"
        ),
        "娜静婷雪晶颖倩蕾璐瑶楠丹媛莹琳洁慧悦",
    ),
}

# -- Reference weights ------------------------------------------------------------------------
ETHNICITIES = _weighted(
    [("汉族", 92), ("回族", 3.2), ("满族", 1.8), ("蒙古族", 1.4), ("朝鲜族", 0.4), ("壮族", 0.3),
     ("土家族", 0.25), ("苗族", 0.2), ("藏族", 0.15), ("维吾尔族", 0.1), ("彝族", 0.1),
     ("锡伯族", 0.1)]
)  # fmt: skip
POLITICAL_STATUSES = _weighted(
    [("13", 44), ("01", 15), ("02", 0.8), ("03", 3), ("12", 8), ("05", 5.5), ("06", 4.5),
     ("07", 4.5), ("08", 3.2), ("10", 3.2), ("04", 2.3), ("09", 1.2), ("11", 0.3)]
)  # fmt: skip
CPC = {"01", "02"}
CYL = "03"
NON_PARTY = "12"
# Primary category for people who are neither in a democratic party nor 无党派人士.
PRIMARY_CATEGORIES = [
    ("intellectual", 26), ("private_economy", 18), ("new_stratum", 20), ("religious", 3),
    ("overseas_study", 8), ("hong_kong", 1.2), ("macao", 0.6), ("taiwan", 2.2),
    ("overseas_chinese", 4), ("other", 6),
]  # fmt: skip
SECOND_CATEGORIES = [
    ("intellectual", 30), ("overseas_study", 20), ("private_economy", 15), ("new_stratum", 15),
    ("overseas_chinese", 10), ("taiwan", 5), ("hong_kong", 2),
]  # fmt: skip
# Categories that only people outside the Communist Party (and its youth league) belong to.
NOT_FOR_CPC = {"intellectual", "religious"}
PRIMARY_FOR = {
    False: _weighted(PRIMARY_CATEGORIES),
    True: _weighted([(slug, w) for slug, w in PRIMARY_CATEGORIES if slug not in NOT_FOR_CPC]),
}

# Area codes of the ID numbers: mostly born or registered in Taiyuan, some elsewhere in Shanxi.
ID_AREA_CODES = _weighted(
    [("140106", 52), ("140105", 10), ("140107", 8), ("140108", 4), ("140109", 5), ("140110", 3),
     ("140121", 3), ("140181", 2), ("140202", 2), ("140302", 2), ("140402", 2), ("140702", 3),
     ("140802", 1.5), ("141002", 1.5), ("142301", 1)]
)  # fmt: skip
# 港澳台居民居住证 numbers carry these address codes in place of a mainland one.
HMT_ID_CODES = {"hong_kong": "810000", "macao": "820000", "taiwan": "830000"}

EDUCATION_HIGH = _weighted([("11", 8), ("14", 25), ("21", 47), ("31", 20)])
EDUCATION_GRADUATE = _weighted([("11", 15), ("14", 40), ("21", 45)])
# (under this age, weights)
EDUCATION_BY_AGE = [
    (40, _weighted([("11", 1), ("14", 7), ("21", 36), ("31", 28), ("41", 12), ("61", 11),
                    ("71", 5)])),
    (60, _weighted([("11", 1), ("14", 3), ("21", 20), ("31", 25), ("41", 15), ("61", 22),
                    ("71", 12), ("81", 2)])),
    (200, _weighted([("14", 1), ("21", 10), ("31", 15), ("41", 15), ("61", 28), ("71", 22),
                     ("81", 9)])),
]  # fmt: skip

NATIVE_PLACES = _weighted(
    [("山西太原", 60), ("山西忻州", 6), ("山西晋中", 6), ("山西吕梁", 4), ("山西大同", 3),
     ("山西长治", 3), ("山西临汾", 3), ("山西运城", 3), ("山西阳泉", 2), ("山西朔州", 1.5),
     ("山西晋城", 1.5), ("河北石家庄", 1.5), ("河北邯郸", 1), ("河南安阳", 1), ("山东济南", 1),
     ("陕西西安", 1), ("内蒙古呼和浩特", 1)]
)  # fmt: skip
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
    "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
]  # fmt: skip

ROADS = {
    "140106001": ["柳巷", "桥东街", "五一路", "新建路", "解放南路", "钟楼街", "桥头街"],
    "140106002": ["文庙巷", "府东街", "起凤街", "海子边街", "上马街", "校尉营街"],
    "140106003": ["庙前街", "开化寺街", "大南门街", "柳溪街", "南海子街"],
    "140106004": ["迎泽大街", "双塔西街", "双塔北路", "朝阳街", "东岗路", "青年路"],
    "140106005": ["老军营南路", "南内环街", "建设南路", "上官巷", "并州南路"],
}
ESTATES = ["", "", "", "铁路宿舍", "教育局家属院", "迎泽苑", "双塔小区", "朝阳小区", "龙城花园",
           "汾河湾小区", "锦绣苑", "并州小区", "桃园小区"]  # fmt: skip

# Units where 党外知识分子 work, with their job titles (职称) and posts.
KNOWLEDGE_UNITS = [
    ("山西大学", ["教授", "副教授", "讲师"], ["教师", "系主任", "研究所所长"]),
    ("太原理工大学", ["教授", "副教授", "讲师"], ["教师", "实验室主任"]),
    ("山西医科大学", ["教授", "副教授", "讲师"], ["教师", "教研室主任"]),
    ("山西财经大学", ["教授", "副教授", "讲师"], ["教师"]),
    ("太原师范学院", ["教授", "副教授", "讲师"], ["教师"]),
    ("山西省人民医院", ["主任医师", "副主任医师", "主治医师"], ["医师", "科主任"]),
    ("山西医科大学第一医院", ["主任医师", "副主任医师", "主治医师"], ["医师", "科副主任"]),
    ("太原市中心医院", ["主任医师", "副主任医师", "主治医师"], ["医师", "科主任"]),
    ("太原市第五中学", ["正高级教师", "高级教师", "一级教师"], ["教师", "教研组长"]),
    ("太原市第十二中学", ["高级教师", "一级教师"], ["教师", "年级组长"]),
    ("太原市迎泽区实验小学", ["高级教师", "一级教师"], ["教师"]),
    ("山西省农业科学院", ["研究员", "副研究员", "助理研究员"], ["科研人员", "课题组长"]),
    ("山西省社会科学院", ["研究员", "副研究员", "助理研究员"], ["科研人员"]),
    ("中国煤炭科工集团太原研究院", ["正高级工程师", "高级工程师", "工程师"], ["工程师"]),
    ("山西省建筑设计研究院", ["正高级工程师", "高级工程师", "工程师"], ["建筑师", "所长"]),
    ("山西省图书馆", ["研究馆员", "副研究馆员", "馆员"], ["馆员"]),
    ("山西博物院", ["研究馆员", "副研究馆员", "馆员"], ["研究人员"]),
]
GENERAL_UNITS = [
    ("太原钢铁（集团）有限公司", ["职工", "技术员", "工段长"]),
    ("山西焦煤集团有限责任公司", ["职员", "技术员", "部门经理"]),
    ("国网太原供电公司", ["职员", "技术员", "班长"]),
    ("中国银行太原迎泽支行", ["柜员", "客户经理", "会计"]),
    ("太原市公共交通控股（集团）有限公司", ["驾驶员", "调度员", "职员"]),
    ("太原铁路局", ["职工", "列车员", "技术员"]),
    ("太原市自来水有限公司", ["职员", "技术员"]),
    ("太原重型机械集团有限公司", ["工人", "技术员", "车间主任"]),
    ("迎泽区柳巷社区卫生服务中心", ["护士", "医生", "药剂师"]),
    ("太原市迎泽区第二幼儿园", ["教师", "保育员"]),
    ("太原市迎泽区柳巷商业街", ["个体经营"]),
]
GENERAL_TITLES = ["工程师", "助理工程师", "会计师", "经济师", "高级工程师", "技师"]

TRADE_NAMES = [
    "晋阳", "汾河", "龙城", "并州", "鑫源", "华泰", "恒通", "宏达", "聚丰", "瑞丰", "盛世", "锦程",
    "博远", "天成", "德润", "永盛", "金鼎", "三晋", "太行", "晋商", "新科", "信达", "泰和", "华晋",
    "东方", "双塔", "迎泽", "柳巷", "鼎盛", "佳和", "鸿运", "益民", "晋华", "顺通", "腾飞", "康泰",
]  # fmt: skip
# GB/T 4754-2017 sections with words that end a company name in them.
INDUSTRIES = [
    ("批发和零售业", ["商贸", "贸易", "商行", "百货"]),
    ("住宿和餐饮业", ["餐饮管理", "酒店管理", "饮食服务"]),
    ("信息传输、软件和信息技术服务业", ["信息技术", "软件", "网络科技", "数据科技"]),
    ("建筑业", ["建筑工程", "建设工程", "装饰工程"]),
    ("制造业", ["机械制造", "食品", "醋业", "精密铸造", "新材料"]),
    ("租赁和商务服务业", ["企业管理咨询", "商务服务", "广告"]),
    ("房地产业", ["房地产开发", "物业管理"]),
    ("居民服务、修理和其他服务业", ["家政服务", "汽车维修", "养老服务"]),
    ("文化、体育和娱乐业", ["文化传媒", "文化艺术", "体育发展"]),
    ("交通运输、仓储和邮政业", ["物流", "运输", "仓储"]),
    ("卫生和社会工作", ["医药", "康复医疗"]),
    ("教育", ["教育科技", "培训"]),
]
# GB 11714-1997: weights of the organisation code's check character.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
SCALES = _weighted([("micro", 40), ("small", 35), ("medium", 18), ("large", 7)])
OWNER_POSTS = ["董事长", "总经理", "执行董事", "董事长兼总经理", "监事", "经理"]

NEW_STRATUM = _weighted(
    [("enterprise_staff", 45), ("intermediary", 25), ("freelance", 15), ("new_media", 15)]
)
STAFF_POSTS = ["技术总监", "项目经理", "财务总监", "研发工程师", "人力资源经理", "副总经理"]
INTERMEDIARY_JOBS = [
    "山西{t}律师事务所 律师", "山西{t}律师事务所 合伙人", "山西{t}会计师事务所 注册会计师",
    "太原市{t}资产评估有限公司 评估师", "迎泽区{t}社会工作服务中心 主任",
    "山西{t}税务师事务所 税务师", "太原市{t}行业协会 秘书长",
]  # fmt: skip
FREELANCE_JOBS = [
    "自由职业（平面设计）", "自由职业（翻译）", "自由职业（摄影）", "自由职业（独立策展）",
    "自由职业（钢琴教学）", "个人工作室（室内设计）",
]  # fmt: skip
NEW_MEDIA_JOBS = [
    "{t}文化传媒工作室 主播", "网络作家", "太原{t}网络科技有限公司 新媒体运营",
    "自媒体（本地生活）", "短视频创作者",
]  # fmt: skip

RELIGIONS = _weighted(
    [("buddhism", 36), ("taoism", 14), ("islam", 8), ("catholicism", 12), ("christianity", 28),
     ("other", 2)]
)  # fmt: skip
RELIGIOUS_TITLES = {
    "buddhism": ["住持", "监院", "知客", "法师", "居士"],
    "taoism": ["住持", "监院", "道长", "道士"],
    "islam": ["教长（阿訇）", "阿訇", "寺管会主任", "寺管会委员"],
    "catholicism": ["神父", "修女", "堂区管委会主任"],
    "christianity": ["牧师", "长老", "传道员", "堂委会主任"],
    "other": ["负责人"],
}
RELIGIOUS_VENUES = {
    "buddhism": ["崇善寺", "永祚寺（双塔寺）", "白云寺", "净因寺"],
    "taoism": ["纯阳宫", "龙泉观"],
    "islam": ["太原清真古寺", "太原市南清真寺"],
    "catholicism": ["太原天主教堂"],
    "christianity": ["太原基督教海子边堂", "太原基督教东羊市堂"],
    "other": ["民间信仰活动场所"],
}

STUDY = {
    "美国": ["哥伦比亚大学", "加州大学洛杉矶分校", "密歇根大学", "纽约大学", "宾夕法尼亚州立大学"],
    "英国": ["伦敦大学学院", "曼彻斯特大学", "爱丁堡大学", "华威大学", "利兹大学"],
    "日本": ["东京大学", "早稻田大学", "京都大学", "大阪大学", "名古屋大学"],
    "澳大利亚": ["墨尔本大学", "悉尼大学", "新南威尔士大学", "莫纳什大学"],
    "德国": ["慕尼黑工业大学", "亚琛工业大学", "海德堡大学", "柏林自由大学"],
    "加拿大": ["多伦多大学", "不列颠哥伦比亚大学", "麦吉尔大学", "滑铁卢大学"],
    "韩国": ["首尔大学", "高丽大学", "延世大学"],
    "俄罗斯": ["莫斯科国立大学", "圣彼得堡国立大学"],
    "法国": ["巴黎萨克雷大学", "里昂大学", "格勒诺布尔-阿尔卑斯大学"],
    "新加坡": ["新加坡国立大学", "南洋理工大学"],
    "荷兰": ["代尔夫特理工大学", "阿姆斯特丹大学"],
}
STUDY_COUNTRIES = _weighted(
    [("美国", 22), ("英国", 20), ("日本", 12), ("澳大利亚", 12), ("德国", 8), ("加拿大", 7),
     ("韩国", 6), ("俄罗斯", 5), ("法国", 4), ("新加坡", 4), ("荷兰", 2)]
)  # fmt: skip
# degree, education code, (youngest, oldest) age on return
DEGREES = _weighted(
    [(("硕士", "14", (24, 30)), 50), (("博士", "11", (28, 36)), 20),
     (("学士", "21", (22, 25)), 20), (("访问学者", "11", (35, 50)), 10)]
)  # fmt: skip

HMT_ORIGINS = {
    "hong_kong": ["香港九龙", "香港新界", "香港岛"],
    "macao": ["澳门半岛", "澳门氹仔"],
    "taiwan": ["台湾台北", "台湾新北", "台湾台中", "台湾台南", "台湾高雄", "台湾桃园", "台湾新竹"],
}
HMT_RELATIONS = _weighted(
    [("本人", 35), ("配偶", 20), ("子女", 15), ("父母", 15), ("兄弟姐妹", 15)]
)  # fmt: skip
OVERSEAS_COUNTRIES = _weighted(
    [("印度尼西亚", 18), ("马来西亚", 15), ("泰国", 12), ("新加坡", 10), ("美国", 14),
     ("加拿大", 8), ("菲律宾", 6), ("缅甸", 4), ("越南", 4), ("日本", 5), ("澳大利亚", 4)]
)  # fmt: skip
OVERSEAS_IDENTITIES = _weighted([("returned", 30), ("relative", 62), ("overseas", 8)])

PARTY_POSTS = ["迎泽区支部主委", "迎泽区支部副主委", "迎泽区支部委员", "太原市委员会委员",
               "迎泽区总支秘书长", "基层委员会委员"]  # fmt: skip
SOCIAL_POSITIONS = _weighted(
    [("迎泽区政协委员", 30), ("迎泽区人大代表", 18), ("太原市政协委员", 8), ("太原市人大代表", 5),
     ("迎泽区政协常委", 5), ("迎泽区工商联执委", 8), ("迎泽区侨联委员", 4),
     ("迎泽区知联会理事", 8), ("迎泽区新联会理事", 8), ("山西省政协委员", 1)]
)  # fmt: skip
REPRESENTATIVE_ODDS = {
    "democratic_party": 0.13, "non_party": 0.2, "private_economy": 0.11, "religious": 0.15,
    "intellectual": 0.06, "ethnic_minority": 0.07, "overseas_chinese": 0.06,
}  # fmt: skip
SPECIALTIES = [
    "书法", "国画", "中医推拿", "法律咨询", "心理咨询", "摄影", "剪纸", "面塑", "古琴", "太极拳",
    "财务会计", "计算机维修", "英语翻译", "声乐", "民族舞蹈", "晋剧", "健康讲座", "家庭教育指导",
]  # fmt: skip
# The notice (告知, PIPL arts. 17, 35): how people were told, and why some not yet. A few
# registered before notices were recorded have neither.
INFORMED_HOW = (("letter", 60), ("visit", 30), ("message", 10))
NOT_INFORMED_SHARE = 0.08
OLD_STYLE_SHARE = 0.04
NOT_INFORMED_REASONS = (
    "本人外出务工，待返乡后告知",
    "长期在外地居住，已约定下次回社区时告知",
    "本人住院治疗，待出院后告知",
    "联系电话停机，待上门走访时告知",
)

STATUS_REASONS = {
    "moved_out": ["迁往小店区", "迁往杏花岭区", "迁往万柏林区", "随子女迁居北京市",
                  "工作调动至大同市", "迁居外省"],
    "deceased": ["因病去世", "病故"],
    "withdrawn": ["本人申请退出", "不再符合统战对象条件", "长期失联，经社区核实注销"],
}  # fmt: skip
STATUSES = _weighted(
    [("active", 95), ("moved_out", 2.5), ("deceased", 1.5), ("withdrawn", 1)]
)  # fmt: skip


def credit_code(rng: random.Random, kind: str) -> str:
    """A unified social credit code (GB 32100-2015) with valid check characters.

    `kind` is the registration type: "91" a company, "92" an individual business.
    The organisation code inside carries its own GB 11714 check character.
    """
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(digit) * weight for digit, weight in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    org = body + {10: "X", 11: "0"}.get(check, str(check))
    first17 = kind + rng.choice(("140106", "140100")) + org
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return first17 + CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


class MemberMaker:
    """Builds unsaved members with their category slugs and history lines."""

    def __init__(self, rng: random.Random, communities, grids, existing_hashes: set[str]):
        self.rng = rng
        # Its own sequence: the notices leave every other generated value as it was.
        self.notice_rng = random.Random(str(rng.getstate()[1][:4]))
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.communities = communities
        self.community_weights = _weighted(
            [(community, rng.uniform(0.5, 1.5)) for community in communities]
        )[1]
        self.grids = grids
        self.hashes = existing_hashes
        self.numbers: set[str] = set()
        self.ethnicities = {e.name: e for e in Ethnicity.objects.all()}
        self.statuses = {s.code: s for s in PoliticalStatus.objects.all()}
        self.categories = {c.slug: c for c in Category.objects.all()}
        # Labels the history shows, computed once instead of per row.
        self.sex_labels = {value: str(label) for value, label in Member.Sex.choices}
        self.status_labels = {value: str(label) for value, label in Member.Status.choices}
        self.informed_labels = {value: str(label) for value, label in Member.InformedHow.choices}

    def pick(self, table):
        values, cumulative = table
        return self.rng.choices(values, cum_weights=cumulative)[0]

    def date_between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        if end <= start:
            return start
        return start + datetime.timedelta(days=self.rng.randrange((end - start).days + 1))

    def years_after(self, date: datetime.date, years: int) -> datetime.date:
        try:
            return date.replace(year=date.year + years)
        except ValueError:  # 29 February
            return date.replace(year=date.year + years, day=28)

    def name(self, sex: str, birth: datetime.date, ethnicity: str) -> str:
        surname = self.pick(SURNAMES)
        if ethnicity == "回族" and self.rng.random() < 0.3:
            surname = "马"
        doubles, singles = GIVEN[(sex, birth.year < 1975)]
        if self.rng.random() < 0.3:
            return surname + self.rng.choice(singles)
        return surname + self.rng.choice(doubles)

    def id_number(self, area_code: str, birth: datetime.date, sex: str) -> str:
        rng = self.rng
        while True:
            last = rng.choice("13579" if sex == "M" else "02468")
            first17 = f"{area_code}{birth:%Y%m%d}{rng.randrange(100):02d}{last}"
            number = first17 + check_character(first17)
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def phone(self) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return ""
        if roll < 0.08:
            return f"0351-{self.rng.randrange(2000000, 8999999)}"
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(100000000):08d}"[:8]

    def categories_for(self, status_code: str, party: bool, han: bool) -> list[str]:
        rng = self.rng
        cpc = status_code in CPC or status_code == CYL
        if party:
            chosen = ["democratic_party"]
        elif status_code == NON_PARTY:
            chosen = ["non_party"]
        elif not han and rng.random() < 0.75:
            chosen = ["ethnic_minority"]
        else:
            chosen = [self.pick(PRIMARY_FOR[cpc])]
        if rng.random() < 0.28 and chosen != ["other"]:
            second = [
                (slug, weight)
                for slug, weight in SECOND_CATEGORIES
                if slug not in chosen
                and not (cpc and slug in NOT_FOR_CPC)
                and {slug, chosen[0]} != {"private_economy", "new_stratum"}
            ]
            if not han and "ethnic_minority" not in chosen:
                second.append(("ethnic_minority", 60))
            if chosen[0] != "religious":
                chosen.append(self.pick(_weighted(second)))
        return chosen

    def make(self):
        """(member, category slugs, history lines) for one new member."""
        rng = self.rng
        community = rng.choices(self.communities, cum_weights=self.community_weights)[0]
        days_old = int(rng.triangular(22 * 365.25 + 1, 85.9 * 365.25, 52 * 365.25))
        birth = self.today - datetime.timedelta(days=days_old)
        age = (self.today - birth).days // 365
        sex = "M" if rng.random() < 0.54 else "F"
        ethnicity = self.ethnicities[self.pick(ETHNICITIES)]
        han = ethnicity.name == "汉族"
        status_code = self.pick(POLITICAL_STATUSES)
        if status_code == CYL and age >= 28:  # the youth league ends at 28
            status_code = "13"
        political_status = self.statuses[status_code]
        party = political_status.is_democratic_party
        slugs = self.categories_for(status_code, party, han)

        member = Member(
            name=self.name(sex, birth, ethnicity.name),
            sex=sex,
            birth_date=birth,
            ethnicity=ethnicity,
            political_status=political_status,
            community=community,
            native_place=self.pick(NATIVE_PLACES),
            address=self.address(community),
        )
        grids = self.grids.get(community.pk)
        if grids and rng.random() < 0.75:
            member.grid = rng.choice(grids)

        high = bool(
            {"intellectual", "overseas_study", "democratic_party", "non_party"} & set(slugs)
        )
        if rng.random() < 0.97:
            if high:
                member.education = self.pick(EDUCATION_HIGH)
            else:
                member.education = self.pick(
                    next(t for limit, t in EDUCATION_BY_AGE if age < limit)
                )
        self.workplace(member, slugs[0], age)
        for slug in slugs:
            self.category_fields(member, slug, birth, age)

        id_area = self.pick(ID_AREA_CODES)
        if member.hmt_relation == "本人":
            # Compatriots themselves hold a residence permit, whose numbers start 81/82/83.
            slug = next(s for s in slugs if s in HMT_ID_CODES)
            id_area = HMT_ID_CODES[slug]
            member.document_type = (
                Member.DocumentType.TAIWAN_RESIDENCE
                if slug == "taiwan"
                else Member.DocumentType.HK_MACAO_RESIDENCE
            )
        while True:
            member.set_id_number(self.id_number(id_area, birth, sex))
            if member.id_number_hash not in self.hashes:
                self.hashes.add(member.id_number_hash)
                break
        member.set_phone(self.phone())

        odds = max(REPRESENTATIVE_ODDS.get(slug, 0.03) for slug in slugs)
        if rng.random() < odds:
            member.is_representative = True
            positions = {self.pick(SOCIAL_POSITIONS)}
            if rng.random() < 0.3:
                positions.add(self.pick(SOCIAL_POSITIONS))
            # Written as rosters write them and read as the import reads them (issue 18):
            # the political arrangements become rows once the members are saved.
            parsed = parse_positions("、".join(sorted(positions)))
            member.social_positions = parsed.rest
            member.demo_arrangements = parsed.arrangements
        if rng.random() < 0.22:
            member.specialty = rng.choice(SPECIALTIES)

        member.incomplete = member.misses_category_fields(slugs)
        # Registered some time in the last REGISTERED_WITHIN_DAYS, as a registry builds up.
        registered = self.date_between(
            self.today - datetime.timedelta(days=REGISTERED_WITHIN_DAYS), self.today
        )
        member.created_at = min(
            timezone.make_aware(
                datetime.datetime.combine(registered, datetime.time(9))
                + datetime.timedelta(minutes=rng.randrange(8 * 60))
            ),
            self.now,  # today's registrations happened before now
        )
        status = self.pick(STATUSES)
        if status == "deceased" and age < 55:
            status = "moved_out"
        if status != "active":
            member.status = status
            member.status_date = self.date_between(registered, self.today)
            member.status_reason = rng.choice(STATUS_REASONS[status])

        self.notice(member, registered)

        changes = [
            ("name", member.name),
            ("sex", self.sex_labels[sex]),
            ("ethnicity", ethnicity.name),
            ("birth_date", birth.isoformat()),
            ("id_number", member.id_number_masked),
            ("political_status", political_status.name),
            ("phone", member.phone_masked),
            ("community", community.name),
            ("grid", member.grid.name if member.grid else ""),
            ("categories", "、".join(self.categories[slug].name for slug in slugs)),
            ("status", self.status_labels[member.status]),
            ("informed_how", self.informed_labels.get(member.informed_how, "")),
            ("informed_on", member.informed_on.isoformat() if member.informed_on else ""),
            ("not_informed_reason", member.not_informed_reason),
        ]
        history = [{"field": field, "old": "", "new": new} for field, new in changes if new]
        return member, slugs, history

    def notice(self, member: Member, registered: datetime.date) -> None:
        """Most were told on registering or soon after; some not yet, with the reason; a
        few, registered before notices were recorded, have neither."""
        rng = self.notice_rng
        roll = rng.random()
        if roll < OLD_STYLE_SHARE:
            return
        if roll < OLD_STYLE_SHARE + NOT_INFORMED_SHARE:
            member.not_informed_reason = rng.choice(NOT_INFORMED_REASONS)
            return
        member.informed_how = rng.choices(
            [how for how, _weight in INFORMED_HOW], [weight for _how, weight in INFORMED_HOW]
        )[0]
        member.informed_on = min(
            registered + datetime.timedelta(days=rng.randrange(15)), self.today
        )

    def address(self, community) -> str:
        rng = self.rng
        roads = ROADS.get(community.code[:9]) or ROADS["140106001"]
        estate = rng.choice(ESTATES)
        where = f"太原市迎泽区{rng.choice(roads)}{rng.randrange(1, 220)}号{estate}"
        if rng.random() < 0.85:
            where += (
                f"{rng.randrange(1, 25)}号楼{rng.randrange(1, 7)}单元"
                f"{rng.randrange(1, 19)}{rng.randrange(1, 5):02d}室"
            )
        return where

    def enterprise(self, industry_words, individual: bool) -> str:
        trade = self.rng.choice(TRADE_NAMES)
        word = self.rng.choice(industry_words)
        if individual:
            return f"太原市迎泽区{trade}{word}{self.rng.choice(('店', '经营部', '工作室'))}"
        prefix = self.rng.choice(("太原市", "山西", "山西省", "太原"))
        suffix = self.rng.choices(("有限公司", "有限责任公司", "股份有限公司"), (80, 14, 6))[0]
        return f"{prefix}{trade}{word}{suffix}"

    def workplace(self, member: Member, primary: str, age: int) -> None:
        rng = self.rng
        retired = age >= 62 and rng.random() < 0.7
        if primary in {"intellectual", "non_party", "democratic_party", "overseas_study"} and (
            primary == "intellectual" or rng.random() < 0.6
        ):
            unit, titles, posts = rng.choice(KNOWLEDGE_UNITS)
            member.professional_title = rng.choice(titles)
            if member.education not in {"11", "14", "21"}:
                member.education = self.pick(EDUCATION_GRADUATE)
            member.workplace = f"{unit}（退休）" if retired else f"{unit} {rng.choice(posts)}"
            return
        if primary in {"private_economy", "new_stratum", "religious"}:
            return  # their category's fields give the workplace
        unit, posts = rng.choice(GENERAL_UNITS)
        member.workplace = f"{unit}（退休）" if retired else f"{unit} {rng.choice(posts)}"
        if rng.random() < 0.12:
            member.professional_title = rng.choice(GENERAL_TITLES)

    def category_fields(self, member: Member, slug: str, birth: datetime.date, age: int) -> None:
        rng = self.rng
        if slug == "democratic_party":
            earliest = max(
                self.years_after(birth, 25 if age >= 30 else 21), datetime.date(1980, 1, 1)
            )
            member.party_joined_on = self.date_between(
                earliest, self.today - datetime.timedelta(days=30)
            )
            if rng.random() < 0.45:
                party = member.political_status.short_name
                for ending in ("会员", "盟员", "党员", "社员"):
                    party = party.removesuffix(ending)
                member.party_post = f"{party}{rng.choice(PARTY_POSTS)}"
        elif slug == "religious":
            religion = "islam" if member.ethnicity.name == "回族" else self.pick(RELIGIONS)
            if religion == "islam" and member.ethnicity.name == "汉族":
                religion = "buddhism"
            member.religion = religion
            member.religious_title = rng.choice(RELIGIOUS_TITLES[religion])
            member.religious_venue = rng.choice(RELIGIOUS_VENUES[religion])
            member.workplace = f"{member.religious_venue} {member.religious_title}"
        elif slug == "private_economy":
            industry, words = rng.choice(INDUSTRIES)
            scale = self.pick(SCALES)
            individual = scale == "micro" and rng.random() < 0.4
            member.enterprise_name = self.enterprise(words, individual)
            member.industry = industry
            member.enterprise_scale = scale
            if rng.random() < 0.9:
                member.enterprise_credit_code = credit_code(rng, "92" if individual else "91")
            post = "经营者" if individual else rng.choice(OWNER_POSTS)
            if not member.workplace or rng.random() < 0.5:
                member.workplace = f"{member.enterprise_name} {post}"
        elif slug == "new_stratum":
            group = self.pick(NEW_STRATUM)
            member.new_stratum_group = group
            trade = rng.choice(TRADE_NAMES)
            if group == "enterprise_staff":
                words = rng.choice(INDUSTRIES)[1]
                job = f"{self.enterprise(words, False)} {rng.choice(STAFF_POSTS)}"
            elif group == "intermediary":
                job = rng.choice(INTERMEDIARY_JOBS).format(t=trade)
            elif group == "freelance":
                job = rng.choice(FREELANCE_JOBS)
            else:
                job = rng.choice(NEW_MEDIA_JOBS).format(t=trade)
            if not member.workplace or rng.random() < 0.5:
                member.workplace = job
        elif slug == "overseas_study":
            country = self.pick(STUDY_COUNTRIES)
            degree, education, (young, old) = self.pick(DEGREES)
            if age <= young:
                degree, education, (young, old) = "学士", "21", (22, 25)
            returned = self.years_after(birth, rng.randint(young, min(old, age)))
            member.study_country = country
            member.study_school = rng.choice(STUDY[country])
            member.study_degree = degree
            member.returned_on = min(returned, self.today - datetime.timedelta(days=30))
            if member.education not in {"11", "14"} or education in {"11", "14"}:
                member.education = education
        elif slug in HMT_ORIGINS:
            if not member.hmt_origin:
                member.hmt_origin = rng.choice(HMT_ORIGINS[slug])
                member.hmt_relation = self.pick(HMT_RELATIONS)
                if member.hmt_relation == "本人":
                    member.native_place = member.hmt_origin
        elif slug == "overseas_chinese":
            member.overseas_country = self.pick(OVERSEAS_COUNTRIES)
            member.overseas_identity = self.pick(OVERSEAS_IDENTITIES)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def table(rows: list[list[str]]) -> str:
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell + " " * (width - display_width(cell))
                for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _indicators_add(period: Period) -> None:
    """The demo's indicators of a year's assessment: measured items whose targets follow from
    each community's members when the period opens, a street's hand-scored item, and a bonus
    and a deduction of the district."""
    M, K = Indicator.Metric, Indicator.Kind
    for sort_order, data in enumerate(
        [
            {"name": "开展统战活动", "kind": K.MEASURED, "metric": M.ACTIVITIES,
             "weight": 30, "rule": "tiers", "tiers": [[0, 4], [50, 8], [150, 12]]},
            {"name": "走访覆盖率", "kind": K.MEASURED, "metric": M.VISITED_SHARE,
             "weight": 20, "rule": "fixed", "base": 30},
            {"name": "解决实事", "kind": K.MEASURED, "metric": M.NEEDS_RESOLVED,
             "weight": 20, "rule": "linear", "base": 1, "rate": "0.02"},
            {"name": "信息完整率", "kind": K.MEASURED, "metric": M.COMPLETENESS,
             "weight": 10, "rule": "fixed", "base": 95},
            {"name": "工作制度健全", "kind": K.SCORED, "weight": 20, "scored_by": "street"},
            {"name": "工作创新（加分）", "kind": K.BONUS, "weight": 5,
             "scored_by": "district"},
            {"name": "信息报送不及时（减分）", "kind": K.DEDUCTION, "weight": 5,
             "scored_by": "district"},
        ]
    ):  # fmt: skip
        assessment.indicator_add(actor=None, period=period, data={**data, "sort_order": sort_order})


def _evidence_pdf(community: Area) -> bytes:
    """A one-page 整改情况说明 as PDF, the evidence of the demo's rectification report."""
    import weasyprint  # noqa: PLC0415 - slow to import, needed once

    return weasyprint.HTML(
        string=f"""<html lang="zh-Hans"><body style="font-size: 14pt">
        <h1 style="text-align: center">整改情况说明</h1>
        <p>{community.name}针对考核中发现的统战工作制度不健全、信息报送不及时等问题，
        已建立统战工作制度并上墙公示，补齐统战对象台账，明确专人按时报送信息。</p>
        <p style="text-align: right">{community.name}</p></body></html>"""
    ).write_pdf()


class Command(BaseCommand):
    help = (
        "Load the demo district 迎泽区 (streets, communities, grids), create the demo accounts "
        f"(password {DEMO_PASSWORD}) and generate realistic members."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=3000, help="how many members to add")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if any member exists (what `make run` calls on every start)",
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed (reproducible)")
        parser.add_argument(
            "--participations",
            type=int,
            default=None,
            help="activity participations to add (default: 5 per member added); activities, "
            "visits and needs are added in proportion",
        )

    def handle(self, *args, members: int, if_empty: bool, seed: int, participations, **options):
        self.verbosity = options["verbosity"]
        self.started = time.monotonic()
        if if_empty and Member.objects.exists():
            self.stdout.write("Members exist already; nothing seeded.")
            self.print_accounts()
            return
        self.load_areas()
        self.create_accounts()
        if members > 0:
            self.create_members(members, seed)
        if participations is None:
            participations = members * PARTICIPATIONS_PER_MEMBER
        if participations > 0:
            self.create_activity_records(participations, seed)
        if members > 0 or participations > 0:
            # Written around the services: recount what they would have kept current.
            call_command("tally_rebuild", stdout=self.stdout)
            self.analyze(Member, MemberTally)
            self.open_assessment()
            self.liaison_examples()
            self.organisation_examples()
            self.resource_examples()
            self.project_examples()
            self.admission_examples()
            self.past_assessment()
            self.followup_examples()
            self.commendation_examples()
        self.print_accounts()

    def admission_examples(self) -> None:
        """凡进必评 (issue 18): one nominee awaiting an admission round, and an admission round
        over another, open for scoring, so the pages of admission have something to show."""
        if Nomination.objects.exists():
            return
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, jiedao = accounts["quwei"], accounts["jiedao"]
        candidates = list(
            Member.objects.filter(
                community__in=Area.objects.communities().within(jiedao.area),
                is_representative=False,
                status=Member.Status.ACTIVE,
            ).order_by("pk")[:2]
        )
        example = EvaluationTemplate.objects.filter(is_example=True).first()
        if len(candidates) < 2 or example is None:
            return
        member_services.nomination_create(
            actor=jiedao, member=candidates[0], reason="热心社区公益，群众基础好"
        )
        evaluated = member_services.nomination_create(
            actor=jiedao, member=candidates[1], reason="参政议政能力强，多次提出社情民意"
        )
        template = EvaluationTemplate.objects.filter(kind=EvaluationTemplate.Kind.ADMISSION).first()
        if template is None:
            template = assessment.template_copy(
                actor=None, template=example, name="代表人士入选评价"
            )
            EvaluationTemplate.objects.filter(pk=template.pk).update(
                kind=EvaluationTemplate.Kind.ADMISSION
            )
            template.refresh_from_db()
        assessment.round_create(
            actor=quwei,
            data={"area": jiedao.area, "name": f"{timezone.localdate().year}年代表人士入选评价",
                  "template": template, "nominees": [evaluated]},
        )  # fmt: skip

    def open_assessment(self) -> None:
        """This year's assessment of the demo district, open, with the usual kinds of items."""
        district = Area.objects.get(code=DEMO_ACCOUNTS[3][2])
        year = timezone.localdate().year
        if Period.objects.filter(district=district, starts_on__year=year).exists():
            return
        period = assessment.period_create(
            actor=None,
            data={"district": district, "name": f"{year}年度社区统战工作考核",
                  "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
        )  # fmt: skip
        _indicators_add(period)
        assessment.period_open(actor=None, period=period)
        self.progress(f"assessment: {period.name} open with 7 indicators")

    def past_assessment(self) -> None:
        """Last year's assessment of the demo district, finalized and published, so that what
        it leads to (结果运用) has something to show: 桥东一社区 graded 不合格 and ordered to
        rectify, the best community 示范社区.

        The same indicators as this year's. The street's item is scored for every community
        (16 of 20 points), the best-measured community (桥东一社区 apart) gets all of it and
        the district's bonus, 桥东一社区 none of it and the deduction: 30 points at least
        between the two. If the usual thresholds (90 / 80 / 60) do not then grade the one
        优秀 and the other 不合格 (at a very small or very large demo the measured items come
        out otherwise), the period's thresholds are set between the two before finalizing.
        """
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, shequ, admin = accounts["quwei"], accounts["shequ"], accounts["admin"]
        district = quwei.area
        year = timezone.localdate().year - 1
        if Period.objects.filter(district=district, starts_on__year=year).exists():
            return
        period = assessment.period_create(
            actor=None,
            data={"district": district, "name": f"{year}年度社区统战工作考核",
                  "model_communities": 1,
                  "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
        )  # fmt: skip
        _indicators_add(period)
        assessment.period_open(actor=None, period=period)
        measured = {s.community.pk: (s.total, s.community) for s in standings(period)}
        failing = shequ.area
        best = max(
            (total, -community.pk) for pk, (total, community) in measured.items()
            if pk != failing.pk
        )  # fmt: skip
        model = measured[-best[1]][1]
        items = {indicator.kind: indicator for indicator in period.indicators.all()}
        K = Indicator.Kind
        for _total, community in measured.values():
            points = {model.pk: 20, failing.pk: 0}.get(community.pk, 16)
            assessment.score_set(
                actor=admin, indicator=items[K.SCORED], community=community, points=points,
                evidence="制度上墙、台账齐全" if points else "未建立统战工作制度和台账",
            )  # fmt: skip
        assessment.score_set(
            actor=admin, indicator=items[K.BONUS], community=model, points=5,
            evidence="首创“同心议事厅”协商议事机制",
        )  # fmt: skip
        assessment.score_set(
            actor=admin, indicator=items[K.DEDUCTION], community=failing, points=5,
            evidence="三次信息报送逾期",
        )  # fmt: skip
        totals = {s.community.pk: s.total for s in standings(period)}
        top, bottom = totals[model.pk], totals[failing.pk]
        excellent = min(Decimal(90), top)
        passing = min(Decimal(60), excellent)
        if bottom >= passing:
            passing = bottom + 1
            excellent = max(excellent, passing)
        good = min(max(Decimal(80), passing), excellent)
        thresholds = {"excellent_from": excellent, "good_from": good, "pass_from": passing}
        if any(getattr(period, name) != value for name, value in thresholds.items()):
            assessment.period_update(actor=None, period=period, data=thresholds)
        assessment.period_finalize(actor=quwei, period=period)
        assessment.period_publish(actor=quwei, period=period)
        self.progress(
            f"assessment: {period.name} finalized and published, {model.name} 示范社区, "
            f"{failing.name} 不合格"
        )

    def followup_examples(self) -> None:
        """What last year's published assessment led to: the district's rectification notices
        to the communities graded 不合格, 桥东一社区's report with its evidence (a PDF) passed
        on by 柳巷街道 and waiting for the district's acceptance; and the 示范社区's reward
        and its experience-sharing activity."""
        if Rectification.objects.exists() or ModelCommunity.objects.exists():
            return
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, jiedao, shequ = (accounts[name] for name in ("quwei", "jiedao", "shequ"))
        period = Period.objects.filter(
            district=quwei.area,
            starts_on__year=timezone.localdate().year - 1,
            state=Period.State.FINAL,
            published=True,
        ).first()
        if period is None:
            return
        made = followup.rectifications_notify(
            actor=quwei, period=period, deadline=followup.default_deadline(),
            notice=followup.default_notice(period),
        )  # fmt: skip
        own = next((r for r in made if r.community_id == shequ.area_id), None)
        if own is not None:
            followup.rectification_report(
                actor=shequ, rectification=own,
                report="已建立统战工作制度并上墙公示，补齐统战对象台账，明确专人按时报送信息。",
                uploads=[SimpleUploadedFile("整改情况说明.pdf", _evidence_pdf(shequ.area),
                                            "application/pdf")],
            )  # fmt: skip
            followup.rectification_pass(actor=jiedao, rectification=own)
        result = followup.model_results(period).first()
        if result is not None:
            activity = activity_services.activity_create(
                actor=quwei,
                data={"type": ActivityType.objects.get(code="consultation"),
                      "title": f"{result.community.name}示范社区创建经验交流会",
                      "area": result.community, "place": "社区服务中心会议室",
                      "starts_at": timezone.now() - datetime.timedelta(days=12)},
            )  # fmt: skip
            followup.model_community_set(
                actor=quwei, result=result, reward=Decimal(5000), activity=activity
            )
        self.progress(
            f"follow-up: {len(made)} rectifications ordered, "
            f"{'one reported and passed on, ' if own else ''}"
            f"{'a 示范社区 rewarded' if result else 'no 示范社区'}"
        )

    def commendation_examples(self) -> None:
        """最美居民 of 迎泽区: last year's campaign with nominations from two communities (a
        member and a resident who is not one), reviewed by the street, decided by the district
        and published; this year's still taking nominations, with one from 桥东一社区 awaiting
        the street's review.

        Last year's runs through the services today, then its dates are put back into last
        year (a nomination cannot be made after its deadline): what the pages show is a
        campaign of last year, the audit log the day it was seeded.
        """
        if Campaign.objects.exists():
            return
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, jiedao, shequ, shequ2 = (
            accounts[name] for name in ("quwei", "jiedao", "shequ", "shequ2")
        )
        today = timezone.localdate()
        # Only a registered (active) member is nominated.
        members = {
            user.pk: list(
                Member.objects.filter(community=user.area, status=Member.Status.ACTIVE).order_by(
                    "pk"
                )[:2]
            )
            for user in (shequ, shequ2)
        }

        def campaign(year, deadline):
            return commendations.campaign_create(
                actor=quwei,
                data={"kind": Campaign.Kind.RESIDENT, "year": year,
                      "title": f"{year}年度迎泽区“最美居民”评选", "area": quwei.area,
                      "description": "推荐热心公益、崇德向善、邻里互助的身边好人。",
                      "deadline": deadline, "quota": 5},
            )  # fmt: skip

        def nominate(actor, campaign, deeds, member=None, resident=None):
            data = {"member": member, "deeds": deeds}
            if member is None:
                name, contact, notes = resident
                data.update(resident_name=name, contact=contact, notes=notes)
            return commendations.nomination_submit(actor=actor, campaign=campaign, data=data)

        past = campaign(today.year - 1, today)
        resident = ("郝桂兰", "13903510233", "退休教师，居住在桥东街12号院")
        nominated = [
            nominate(shequ, past, "十年如一日照顾孤寡老人，组建楼道互助小组。",
                     resident=resident),
        ]  # fmt: skip
        for user, deeds in (
            (shequ, "义务为居民调解邻里纠纷，协助社区开展法律宣传。"),
            (shequ2, "组织志愿者清理楼道堆物，带头参与垃圾分类。"),
        ):
            if members[user.pk]:
                nominated.append(nominate(user, past, deeds, member=members[user.pk][0]))
        for nomination in nominated[:-1]:
            commendations.nomination_review(actor=jiedao, nomination=nomination, recommend=True)
        commendations.nomination_review(
            actor=jiedao, nomination=nominated[-1], recommend=len(nominated) < 3,
            opinion="事迹材料较单薄，建议明年补充后再推荐" if len(nominated) >= 3 else "",
        )  # fmt: skip
        commendations.campaign_close(actor=quwei, campaign=past)
        for nomination in nominated:
            nomination.refresh_from_db()
            if nomination.state == CommendationNomination.State.RECOMMENDED:
                commendations.nomination_decide(actor=quwei, nomination=nomination, commend=True)
        commendations.campaign_publish(actor=quwei, campaign=past)
        self.backdate(past, datetime.date(today.year - 1, 11, 30))

        current = campaign(today.year, today + datetime.timedelta(days=30))
        if members[shequ.pk][1:]:
            nominate(shequ, current, "疫情期间主动为独居老人代购药品和生活用品。",
                     member=members[shequ.pk][1])  # fmt: skip
        else:
            nominate(shequ, current, "疫情期间主动为独居老人代购药品和生活用品。",
                     resident=("田玉珍", "", ""))  # fmt: skip
        self.progress(
            f"commendations: {past.title} published with {len(nominated)} nominations, "
            f"{current.title} taking nominations"
        )

    @staticmethod
    def backdate(campaign: Campaign, deadline: datetime.date) -> None:
        """Put a campaign run today back to its `deadline`: nominated in the weeks before,
        reviewed, decided and published in the weeks after."""
        zone = timezone.get_current_timezone()

        def day(offset: int) -> datetime.datetime:
            moment = datetime.datetime.combine(deadline, datetime.time(10))
            return (moment + datetime.timedelta(days=offset)).replace(tzinfo=zone)

        Campaign.objects.filter(pk=campaign.pk).update(
            deadline=deadline, created_at=day(-45), published_at=day(20)
        )
        nominations = CommendationNomination.objects.filter(campaign=campaign)
        nominations.update(submitted_at=day(-10))
        nominations.filter(street_at__isnull=False).update(street_at=day(5))
        nominations.filter(district_at__isnull=False).update(district_at=day(12))
        events = NominationEvent.objects.filter(nomination__campaign=campaign)
        for action, offset in (("nominate", -10), ("review", 5), ("decide", 12), ("publish", 20)):
            events.filter(action=action).update(at=day(offset))

    def organisation_examples(self) -> None:
        """A service group of the street with a legal sub-group and one of its members, a law
        firm stationed in the district, and a community's activity room."""
        if Organisation.objects.exists():
            return
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, jiedao, shequ = (accounts[name] for name in ("quwei", "jiedao", "shequ"))
        group = organisations.organisation_create(
            actor=jiedao,
            data={"name": "柳巷街道同心·社会服务团", "kind": Organisation.Kind.SERVICE_GROUP,
                  "area": jiedao.area, "contact_name": "李团长", "contact_phone": "13503510001"},
        )  # fmt: skip
        legal = organisations.organisation_create(
            actor=jiedao,
            data={"name": "法律服务分团", "kind": Organisation.Kind.SERVICE_GROUP,
                  "parent": group, "area": jiedao.area},
        )  # fmt: skip
        lawyer = Member.objects.filter(community=shequ.area).order_by("pk").first()
        if lawyer is not None:
            organisations.membership_add(
                actor=jiedao, organisation=legal, member=lawyer, role="律师",
                joined_on=timezone.localdate().replace(month=1, day=1),
            )  # fmt: skip
        base = "31140000MD0123456"  # 31: a law firm, registered by the justice bureau
        total = sum(
            CREDIT_CODE_ALPHABET.index(c) * w
            for c, w in zip(base, CREDIT_CODE_WEIGHTS, strict=True)
        )
        organisations.organisation_create(
            actor=quwei,
            data={"name": "山西迎泽律师事务所", "kind": Organisation.Kind.RESIDENT_UNIT,
                  "area": quwei.area, "address": "迎泽大街 100 号",
                  "credit_code": base + CREDIT_CODE_ALPHABET[(31 - total % 31) % 31],
                  "contact_name": "王律师", "contact_phone": "03514040123"},
        )  # fmt: skip
        room = organisations.place_create(
            actor=shequ,
            data={"name": f"{shequ.area.name}统战活动室", "kind": Place.Kind.ACTIVITY_ROOM,
                  "area": shequ.area, "address": "社区服务中心二楼",
                  "opening_hours": "周一至周五 9:00–17:00", "manager_name": "赵主任",
                  "manager_phone": "13603510002"},
        )  # fmt: skip
        # The legal sub-group holds a consultation in the community's room, so the place's
        # and the organisation's pages show an activity.
        activity_services.activity_create(
            actor=jiedao,
            data={"type": ActivityType.objects.get(code="legal_advice"),
                  "title": "同心·法律服务进社区", "area": shequ.area, "venue": room,
                  "starts_at": timezone.now() - datetime.timedelta(days=3),
                  "people_served": 40},
            partners=[legal],
        )  # fmt: skip
        self.progress(
            "organisations: a service group with a sub-group, a law firm, a place and an "
            "activity held there"
        )

    def resource_examples(self) -> None:
        """What is offered and needed, and a match: the service group's lawyer and the law
        firm offer legal advice, a member offers jobs; the community needs legal-advice
        volunteers, and a member's legal need is matched with the lawyer and 已落实, so the
        match page, the ledger and the dashboards have something to show."""
        if Resource.objects.exists():
            return
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, jiedao, shequ = (accounts[name] for name in ("quwei", "jiedao", "shequ"))
        # The lawyer of the street's legal sub-group (`organisation_examples`); an employer
        # and someone in need of advice from the street, of her community if it has them.
        lawyer = Member.objects.filter(community=shequ.area).order_by("pk").first()
        firm = Organisation.objects.filter(name="山西迎泽律师事务所").first()
        if lawyer is None or firm is None:
            return
        others = sorted(
            Member.objects.filter(community__in=Area.objects.communities().within(jiedao.area))
            .exclude(pk=lawyer.pk)
            .order_by("pk")[:200],
            key=lambda member: member.community_id != shequ.area_id,
        )
        if len(others) < 2:
            return
        employer, client = others[:2]
        keeper = shequ if client.community_id == shequ.area_id else jiedao
        offered = {"description": "", "capacity": None, "valid_until": None}
        advice = resources.resource_create(
            actor=jiedao,
            data={**offered, "member": lawyer, "organisation": None, "title": "律师义务法律咨询",
                  "kind": Resource.Kind.SERVICE, "service": Resource.Service.LEGAL,
                  "description": "每月第一个周六上午在社区统战活动室坐班", "capacity": 10},
            served_areas=[jiedao.area],
        )  # fmt: skip
        resources.resource_create(
            actor=quwei,
            data={**offered, "member": None, "organisation": firm, "title": "律所公益法律服务",
                  "kind": Resource.Kind.SERVICE, "service": Resource.Service.LEGAL,
                  "description": "劳动、婚姻家庭、合同纠纷咨询"},
            served_areas=[quwei.area],
        )  # fmt: skip
        resources.resource_create(
            actor=shequ if employer.community_id == shequ.area_id else jiedao,
            data={**offered, "member": employer, "organisation": None, "title": "门店营业员岗位",
                  "kind": Resource.Kind.JOBS, "service": "", "capacity": 5,
                  "valid_until": timezone.localdate() + datetime.timedelta(days=90)},
        )  # fmt: skip
        resources.community_need_create(
            actor=shequ,
            data={"area": shequ.area, "kind": Resource.Kind.SERVICE,
                  "service": Resource.Service.LEGAL, "description": "法律咨询志愿者",
                  "quantity": 2, "due_date": None},
        )  # fmt: skip
        need = activity_services.need_create(
            actor=keeper, member=client,
            data={"kind": Need.Kind.LEGAL, "description": "劳动合同纠纷，想咨询律师"},
        )  # fmt: skip
        match = resources.match_create(actor=keeper, resource=advice, need=need)
        resources.match_settle(
            actor=keeper, match=match, state=Match.State.FULFILLED, people_served=1,
            note="律师已当面解答，协助起草劳动仲裁申请书",
        )  # fmt: skip
        self.progress(
            f"resources: 3 offered, {CommunityNeed.objects.count()} community need, "
            "a legal need matched with the lawyer and fulfilled"
        )

    def project_examples(self) -> None:
        """Three projects of investment and talent (引资引智) at different stages, introduced
        by a member of the non-public economy, the street's service group and a returned
        scholar, so the projects' list, pages and table per area have something to show."""
        if Project.objects.exists():
            return
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, jiedao, shequ = (accounts[name] for name in ("quwei", "jiedao", "shequ"))
        group = Organisation.objects.filter(name="柳巷街道同心·社会服务团").first()
        street = Member.objects.filter(
            community__in=Area.objects.communities().within(jiedao.area)
        ).order_by("pk")
        entrepreneur = street.filter(categories__slug="private_economy").first() or street.first()
        if group is None or entrepreneur is None:
            return
        scholar = (
            street.filter(categories__slug="overseas_study").exclude(pk=entrepreneur.pk).first()
            or entrepreneur
        )
        today = timezone.localdate()

        def days_ago(days: int) -> datetime.date:
            return today - datetime.timedelta(days=days)

        def project(actor, data: dict, steps: list[tuple[str, int, str]]) -> None:
            """A project recorded at 意向 on the first step's day, then moved on step by step."""
            (_stage, ago, note), *later = steps
            made = resources.project_create(
                actor=actor,
                data={"description": "", "member": None, "organisation": None,
                      "amount_planned": None, "amount_signed": None, "amount_in_place": None,
                      "jobs": None, **data},
                intent_on=days_ago(ago), note=note,
            )  # fmt: skip
            for stage, ago, note in later:
                resources.project_advance(
                    actor=actor, project=made, stage=stage, date=days_ago(ago), note=note
                )

        S = Project.Stage
        # Landed in the community: the service group brought an elderly-care operator.
        project(
            jiedao,
            {"name": f"{shequ.area.name}智慧养老服务站", "organisation": group, "area": shequ.area,
             "industry": "养老服务", "amount_planned": 120, "amount_signed": 120,
             "amount_in_place": 118, "jobs": 12,
             "description": "引进连锁养老服务企业运营社区日间照料和助餐服务。"},
            [(S.INTENT, 200, "服务团走访企业，企业有意向进驻"),
             (S.NEGOTIATING, 160, "洽谈场地与运营方案"),
             (S.SIGNED, 110, "签订运营协议"), (S.LANDED, 30, "服务站开业运营")],
        )  # fmt: skip
        # Signed in the street: a member's food company expands.
        project(
            jiedao,
            {"name": "老字号面食加工厂扩建", "member": entrepreneur, "area": jiedao.area,
             "industry": "食品加工", "amount_planned": 3000, "amount_signed": 2800,
             "jobs": 60, "description": "新建标准化生产线及冷链仓储。"},
            [(S.INTENT, 120, "企业家座谈会上提出扩产意向"), (S.NEGOTIATING, 75, "协调用地和环评"),
             (S.SIGNED, 20, "与街道签订投资协议")],
        )  # fmt: skip
        # Negotiating in the district: a returned scholar's research team.
        project(
            quwei,
            {"name": "生物医药研发团队引进", "member": scholar, "area": quwei.area,
             "industry": "生物医药", "amount_planned": 5000,
             "description": "留学归国博士团队拟设立新药研发中心。"},
            [(S.INTENT, 45, "海外联谊会推荐"), (S.NEGOTIATING, 10, "洽谈人才公寓和研发场地")],
        )  # fmt: skip
        self.progress("projects: 3 of investment and talent, landed, signed and negotiating")

    def liaison_examples(self) -> None:
        """A little of the work between the levels, so that 我的待办 and its pages have
        something to show: a notice and a study material from the district, a task and a
        training session from the street, a report from a community."""
        if Notice.objects.exists():
            return
        accounts = User.objects.in_bulk([a[0] for a in DEMO_ACCOUNTS], field_name="username")
        quwei, jiedao, shequ, shequ2 = (
            accounts[name] for name in ("quwei", "jiedao", "shequ", "shequ2")
        )
        today = timezone.localdate()
        liaison.notice_send(
            actor=quwei,
            data={"title": "关于开展年度统战对象信息核查的通知",
                  "body": "请各社区于月底前核对本社区统战对象信息，并回复核查情况。",
                  "reply_by": today + datetime.timedelta(days=7)},
            area=quwei.area,
        )  # fmt: skip
        task = liaison.task_send(
            actor=jiedao,
            data={"title": "中秋走访慰问", "body": "走访慰问辖区统战对象，报送走访记录。",
                  "deadline": today + datetime.timedelta(days=20)},
            recipients=list(Area.objects.communities().current().within(jiedao.area)),
        )  # fmt: skip
        liaison.taskcopy_receive(actor=shequ, copy=task.copies.get(area=shequ.area))
        liaison.report_submit(
            actor=shequ2,
            data={"kind": "public_opinion", "title": "老旧小区停车难",
                  "body": "居民反映小区停车位不足，建议协调周边单位错时开放停车场。"},
        )  # fmt: skip
        liaison.material_publish(
            actor=quwei,
            data={"area": quwei.area, "kind": "regulation", "title": "中国共产党统一战线工作条例",
                  "body": "第一章 总则 ……", "receipt_asked": True},
        )  # fmt: skip
        training = liaison.training_create(
            actor=jiedao,
            data={"area": jiedao.area, "title": "社区统战委员业务培训", "place": "街道会议室",
                  "date": today - datetime.timedelta(days=10), "hours": 3},
        )  # fmt: skip
        liaison.training_attendance_set(actor=jiedao, training=training, users=[shequ, shequ2])
        self.progress("notices, tasks, reports, study material and training: examples added")

    def progress(self, message: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f} s] {message}")

    def load_areas(self) -> None:
        try:
            result = areas_load(rows=read_area_rows(AREAS_FILE))
        except AreaFileError as error:
            raise CommandError("\n".join(error.errors)) from error
        self.progress(
            f"areas: {result.created} created, {result.renamed} renamed, "
            f"{result.unchanged} unchanged"
        )

    def create_accounts(self) -> None:
        codes = [account[2] for account in DEMO_ACCOUNTS if account[2]]
        areas = Area.objects.in_bulk(codes, field_name="code")
        existing = set(
            User.objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS]).values_list(
                "username", flat=True
            )
        )
        created = []
        for username, role, area_code, last_name, first_name in DEMO_ACCOUNTS:
            if username in existing:
                continue
            extra = {"is_superuser": True} if role == User.Role.ADMIN else {}
            user_create(
                actor=None,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                area=areas[area_code] if area_code else None,
                last_name=last_name,
                first_name=first_name,
                **extra,
            )
            created.append(username)
        self.progress(
            f"accounts: {len(created)} created"
            + (f" ({', '.join(created)})" if created else "")
            + f", {len(existing)} existed"
        )

    def create_members(self, count: int, seed: int) -> None:
        codes = {values["code"] for _number, values in read_area_rows(AREAS_FILE)}
        areas = list(Area.objects.filter(code__in=codes).order_by("code"))
        communities = [a for a in areas if a.level == Area.Level.COMMUNITY]
        grids: dict[int, list[Area]] = {}
        for area in areas:
            if area.level == Area.Level.GRID:
                grids.setdefault(area.parent_id, []).append(area)
        existing = set(Member.objects.values_list("id_number_hash", flat=True))
        maker = MemberMaker(random.Random(seed), communities, grids, existing)
        Through = Member.categories.through
        category_ids = {slug: category.pk for slug, category in maker.categories.items()}
        report_every = max(BATCH, count // 10 // BATCH * BATCH)

        self.progress(f"members: generating {count} ({len(existing)} exist already)")
        done = links = 0
        with transaction.atomic():
            while done < count:
                size = min(BATCH, count - done)
                built = [maker.make() for _ in range(size)]
                if done == 0:
                    self.check_sample(built[:CHECKED_SAMPLE])
                with _given_registration_times():
                    batch = Member.objects.bulk_create([m for m, _s, _h in built], batch_size=2000)
                if batch[0].pk is None:
                    raise CommandError("The database did not return the keys of inserted rows.")
                rows = [
                    Through(member_id=member.pk, category_id=category_ids[slug])
                    for member, slugs, _h in built
                    for slug in slugs
                ]
                Through.objects.bulk_create(rows, batch_size=5000)
                PoliticalArrangement.objects.bulk_create(
                    [
                        PoliticalArrangement(
                            member_id=member.pk,
                            body=item.body,
                            organisation=item.organisation,
                            level=item.level,
                            post=item.post,
                            state=item.state,
                        )
                        for member, _s, _h in built
                        for item in getattr(member, "demo_arrangements", ())
                    ],
                    batch_size=2000,
                )
                with _given_registration_times():
                    MemberChange.objects.bulk_create(
                        [
                            MemberChange(
                                member_id=member.pk,
                                at=member.created_at,
                                action=MemberChange.Action.CREATE,
                                source=SOURCE,
                                changes=history,
                            )
                            for member, _s, history in built
                        ],
                        batch_size=2000,
                    )
                done += size
                links += len(rows)
                # With DEBUG on, the query log would keep every multi-megabyte INSERT.
                reset_queries()
                if self.verbosity > 1 or done % report_every == 0 or done == count:
                    self.progress(f"members: {done}/{count} saved, {links} category links")
        self.analyze(Member, Through, MemberChange)
        self.progress(f"members: done, {Member.objects.count()} in the database")

    def create_activity_records(self, participations: int, seed: int) -> None:
        """Activities with their participants, visits and the needs raised, over two years.

        Participants are members of the organising area; most activities belong to a
        community, some to its street or the district. Written with COPY on PostgreSQL, no
        history entries (these are not changes anybody made).
        """
        rng = random.Random(seed + 1)
        by_community: dict[int, list[int]] = {}
        for member_id, community_id in Member.objects.values_list("pk", "community_id"):
            by_community.setdefault(community_id, []).append(member_id)
        if not by_community:
            return
        communities = {area.pk: area for area in Area.objects.filter(pk__in=by_community)}
        streets: dict[int, list[int]] = {}
        for community in communities.values():
            streets.setdefault(community.parent_id, []).extend(by_community[community.pk])
        district = [member_id for ids in by_community.values() for member_id in ids]
        district_area = Area.objects.get(code=communities[next(iter(communities))].code[:6])
        types = list(ActivityType.objects.all())
        creator = User.objects.get(username="shequ")
        now = timezone.now()
        community_ids = list(communities)
        weights = [len(by_community[pk]) for pk in community_ids]
        activities, pools = [], []
        planned = 0
        while planned < participations:
            roll = rng.random()
            if roll < 0.8:
                area_id = rng.choices(community_ids, weights)[0]
                pool = by_community[area_id]
            elif roll < 0.95:
                area_id = communities[rng.choices(community_ids, weights)[0]].parent_id
                pool = streets[area_id]
            else:
                area_id, pool = district_area.pk, district
            size = min(len(pool), rng.randint(5, 35))
            activity_type = rng.choice(types)
            start = now - datetime.timedelta(days=rng.randrange(0, 730), hours=rng.randrange(0, 10))
            activities.append(
                Activity(
                    type=activity_type,
                    title=f"{activity_type.name}（{start:%Y年%m月}）",
                    starts_at=start,
                    ends_at=start + datetime.timedelta(hours=2),
                    place="社区活动室",
                    area_id=area_id,
                    organiser="社区统战工作站",
                    other_attendees=rng.randrange(0, 20),
                    people_served=rng.randrange(20, 200) if activity_type.serves_people else 0,
                    created_by=creator,
                )
            )
            pools.append((pool, size))
            planned += size
        with transaction.atomic():
            insert_objects(Activity, activities)
            rows = []
            for activity, (pool, size) in zip(activities, pools, strict=True):
                rows.extend((activity.pk, member_id) for member_id in rng.sample(pool, size))
                if len(rows) >= 50_000:
                    insert_rows(Participation, ["activity_id", "member_id"], rows)
                    rows = []
            insert_rows(Participation, ["activity_id", "member_id"], rows)
            self.progress(f"activities: {len(activities)} with {planned} participations")
            visits, visited = [], []
            for _ in range(len(district) // VISITS_EVERY):
                community_id = rng.choices(community_ids, weights)[0]
                visits.append(
                    Visit(
                        community_id=community_id,
                        date=(now - datetime.timedelta(days=rng.randrange(0, 730))).date(),
                        staff="社区统战委员",
                        way=rng.choice(Visit.Way.values),
                        situation="家庭情况稳定，关心社区事务。",
                        created_by=creator,
                    )
                )
                visited.append(rng.choice(by_community[community_id]))
            insert_objects(Visit, visits)
            insert_rows(
                Visit.members.through,
                ["visit_id", "member_id"],
                [(visit.pk, member_id) for visit, member_id in zip(visits, visited, strict=True)],
            )
            needs = []
            for visit, member_id in zip(
                visits[::NEEDS_EVERY_VISITS], visited[::NEEDS_EVERY_VISITS], strict=True
            ):
                closed = rng.random() < 0.7
                needs.append(
                    Need(
                        member_id=member_id,
                        community_id=visit.community_id,
                        visit=visit,
                        kind=rng.choice(Need.Kind.values),
                        description="走访中提出。",
                        raised_on=visit.date,
                        due_date=visit.date + datetime.timedelta(days=30),
                        status=Need.Status.RESOLVED if closed else Need.Status.OPEN,
                        resolution="已协调解决。" if closed else "",
                        closed_on=visit.date + datetime.timedelta(days=rng.randrange(1, 40))
                        if closed
                        else None,
                        created_by=creator,
                    )
                )
            insert_objects(Need, needs)
            self.progress(f"visits: {len(visits)}, needs: {len(needs)}")
        self.analyze(Activity, Participation, Visit, Visit.members.through, Need)

    def analyze(self, *models) -> None:
        """Fresh planner statistics, so the first pages after a large load are not planned
        for empty tables. On PostgreSQL also VACUUM, when outside a transaction: it sets the
        visibility map the index-only counts of the member list need, which autovacuum
        (if it is on at all) would only do minutes later."""
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        with connection.cursor() as cursor:
            for model in models:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuum else f"ANALYZE {table}")
        self.progress(
            ("vacuumed and analysed" if vacuum else "analysed") + f": {len(models)} tables"
        )

    def check_sample(self, sample) -> None:
        """full_clean the first members: the generator must keep up with the model's rules."""
        for member, slugs, _history in sample:
            try:
                member.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise CommandError(f"Generated member {member.name} is invalid: {error}") from error
            if ("democratic_party" in slugs) != member.political_status.is_democratic_party:
                raise CommandError(f"{member.name}: democratic party category and status disagree")

    def print_accounts(self) -> None:
        users = User.objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS]).select_related(
            "area"
        )
        users = {user.username: user for user in users}
        rows = [["username", "password", "role", "area"]]
        for username, *_rest in DEMO_ACCOUNTS:
            user = users.get(username)
            if user is None:
                continue
            area = f"{user.area.name} ({user.area.official_code})" if user.area else "—"
            rows.append([username, DEMO_PASSWORD, str(user.get_role_display()), area])
        if len(rows) == 1:
            self.stdout.write("No demo accounts in this database.")
            return
        self.stdout.write("\nDemo accounts:\n" + table(rows))
