from django.db import migrations

NAME = "代表人士综合评价示例模板（示例，请按本地要求修改）"
# (category, [(item, max score)]); veto items score nothing: one mark fails the evaluation.
CATEGORIES = [
    ("政治素质", [("坚持中国共产党的领导，政治立场坚定", 10), ("参加政治学习和培训", 5)]),
    ("能力素质", [("参政议政和建言献策能力", 10), ("专业能力和社会影响", 5)]),
    ("工作业绩", [("提交建议、提案和调研成果", 15), ("参加社区统战活动和社会服务", 10)]),
    ("履职尽责", [("按时参加会议和活动", 10), ("联系和服务群众", 10)]),
    ("社会形象", [("遵守社会公德和职业道德", 10), ("群众评价", 5)]),
    ("廉洁自律", [("遵纪守法、廉洁自律", 10)]),
]
VETOES = ["违法违纪", "发表违背四项基本原则的言论", "参与非法组织或非法宗教活动"]
NOTES = (
    "示例模板：类别、项目和分值仅供参考，各地请按本地评价办法修改后使用。"
    "六个类别满分合计 100 分；一票否决项任一项被标记即评价不合格。"
)


def load(apps, schema_editor):
    Template = apps.get_model("assessment", "EvaluationTemplate")
    Category = apps.get_model("assessment", "EvaluationCategory")
    Item = apps.get_model("assessment", "EvaluationItem")
    template = Template.objects.create(name=NAME, is_example=True, notes=NOTES)
    for order, (name, items) in enumerate(CATEGORIES):
        category = Category.objects.create(template=template, name=name, sort_order=order)
        for position, (item, most) in enumerate(items):
            Item.objects.create(category=category, name=item, max_score=most, sort_order=position)
    vetoes = Category.objects.create(template=template, name="一票否决", sort_order=len(CATEGORIES))
    for position, item in enumerate(VETOES):
        Item.objects.create(category=vetoes, name=item, is_veto=True, sort_order=position)


def unload(apps, schema_editor):
    apps.get_model("assessment", "EvaluationTemplate").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0002_role_permissions")]
    operations = [migrations.RunPython(load, unload)]
