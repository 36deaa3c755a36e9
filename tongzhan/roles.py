"""The permissions each role's group starts with. Administrators adjust groups in the admin;
the data migration and `user_set_role` only use this to create and find them."""

MEMBER_WRITE = [
    "members.view_member",
    "members.add_member",
    "members.change_member",
    "members.reveal_member",
    "members.transfer_member",
    "members.view_memberchange",
]

# Proposing members as representatives and reading the register of entries and exits
# (issue 18): the staff of every level, for their own area.
NOMINATE = [
    "members.view_nomination",
    "members.add_nomination",
    "members.view_representativechange",
]

ACTIVITY_WRITE = [
    f"activities.{action}_{model}"
    for model in ("activity", "visit", "need")
    for action in ("view", "add", "change")
]

# Organisations and places: kept by the staff of every level for their own area.
ORGANISATION_WRITE = [
    f"organisations.{action}_{model}"
    for model in ("organisation", "membership", "place")
    for action in ("view", "add", "change")
]

# Resources, community needs, matches and projects (引资引智): kept by the staff of every
# level for their area.
RESOURCE_WRITE = [
    f"resources.{action}_{model}"
    for model in ("resource", "communityneed", "match", "project")
    for action in ("view", "add", "change")
]

# Commendations (表彰): every level reads the campaigns; communities nominate, streets review
# their communities' nominations, the district names campaigns, decides and publishes.
COMMENDATION_VIEW = ["commendations.view_campaign", "commendations.view_nomination"]
COMMENDATION_COMMUNITY = [*COMMENDATION_VIEW, "commendations.add_nomination"]
COMMENDATION_STREET = [*COMMENDATION_VIEW, "commendations.review_nomination"]
COMMENDATION_DISTRICT = [
    *COMMENDATION_VIEW,
    "commendations.add_campaign",
    "commendations.change_campaign",
    "commendations.decide_nomination",
]

ASSESSMENT_VIEW = [
    f"assessment.view_{model}"
    for model in ("period", "indicator", "target", "manualscore", "result")
]
EVALUATION_ENTER = [
    "assessment.view_evaluationround",
    "assessment.view_evaluation",
    "assessment.score_evaluation",
]
ASSESSMENT_MANAGE = [
    *ASSESSMENT_VIEW,
    *EVALUATION_ENTER,
    "assessment.add_period",
    "assessment.change_period",
    "assessment.score_indicator",
    "assessment.finalize_period",
    "assessment.add_evaluationround",
    "assessment.change_evaluationround",
    "assessment.view_evaluationtemplate",
]
# The district's own part of the assessment; administrators of every area do it by scope.
ASSESSMENT_RUN = [
    f"assessment.{codename}"
    for codename in (
        "manage_period",
        "score_district_item",
        "review_evaluation",
        "confirm_evaluationround",
        "decide_admission",
    )
]
TEMPLATE_EDIT = [
    f"assessment.{action}_{model}"
    for model in ("evaluationtemplate", "evaluationcategory", "evaluationitem")
    for action in ("view", "add", "change")
]

# Work between the levels (liaison): what the district and streets send, what communities
# answer and report. Each part of the app fills its own lists.
# -- Notices (通知公告)
# Sending also lets one follow up: the status page per receiving community, reminders.
NOTICE_SEND: list[str] = [
    "liaison.view_notice",
    "liaison.add_notice",
    "liaison.view_noticecopy",
]  # the district and streets
# Reading a notice sent to one's area (the read receipt is kept) and replying to it.
NOTICE_ANSWER: list[str] = [
    "liaison.view_notice",
    "liaison.view_noticecopy",
    "liaison.change_noticecopy",
]  # every level below the sender
# -- Tasks (任务督办)
# The district and streets send tasks and review their copies; streets and communities answer.
TASK_SEND: list[str] = [
    "liaison.view_task",
    "liaison.add_task",
    "liaison.view_taskcopy",
    "liaison.review_taskcopy",
]
TASK_ANSWER: list[str] = ["liaison.view_task", "liaison.view_taskcopy", "liaison.change_taskcopy"]
# -- Reports up (信息报送)
REPORT_SEND: list[str] = ["liaison.view_report", "liaison.add_report"]  # communities, streets
REPORT_DECIDE: list[str] = ["liaison.view_report", "liaison.decide_report"]  # streets, district
# -- The study library and training
# The district and streets publish study materials, see who read them, and keep training;
# every level reads the materials and sees the training sessions and its own hours.
LIBRARY_PUBLISH: list[str] = [
    "liaison.add_material",
    "liaison.change_material",
    "liaison.view_materialread",
    "liaison.add_training",
    "liaison.change_training",
    "liaison.view_attendance",
]
LIBRARY_READ: list[str] = ["liaison.view_material", "liaison.view_training"]
# -- end of liaison
LIAISON_COMMUNITY = [*NOTICE_ANSWER, *TASK_ANSWER, *REPORT_SEND, *LIBRARY_READ]
LIAISON_STREET = [
    *NOTICE_SEND,
    *NOTICE_ANSWER,
    *TASK_SEND,
    *TASK_ANSWER,
    *REPORT_SEND,
    *REPORT_DECIDE,
    *LIBRARY_PUBLISH,
    *LIBRARY_READ,
]
LIAISON_DISTRICT = [*NOTICE_SEND, *TASK_SEND, *REPORT_DECIDE, *LIBRARY_PUBLISH, *LIBRARY_READ]

# What an assessment leads to (followup): each level sees the rectifications of its area and
# the 示范社区; the community reports its own, the street checks its communities', the district
# orders and accepts them and records the model communities' rewards.
FOLLOWUP_VIEW = ["followup.view_rectification", "followup.view_modelcommunity"]
FOLLOWUP_COMMUNITY = [*FOLLOWUP_VIEW, "followup.report_rectification"]
FOLLOWUP_STREET = [*FOLLOWUP_VIEW, "followup.check_rectification"]
FOLLOWUP_DISTRICT = [
    *FOLLOWUP_VIEW,
    "followup.manage_rectification",
    "followup.change_modelcommunity",
]

# Retention (privacy): the district sees which records of people who left are past their
# retention period and approves their anonymisation (PIPL art. 47).
RETENTION_DISTRICT = ["privacy.view_anonymisation", "privacy.approve_anonymisation"]

ROLE_GROUPS = {
    "community": (
        "社区统战委员",
        [
            *MEMBER_WRITE,
            *NOMINATE,
            *ORGANISATION_WRITE,
            *RESOURCE_WRITE,
            *ACTIVITY_WRITE,
            *ASSESSMENT_VIEW,
            *LIAISON_COMMUNITY,
            *COMMENDATION_COMMUNITY,
            *FOLLOWUP_COMMUNITY,
        ],
    ),
    "street": (
        "街道统战干部",
        [
            "members.view_member",
            "members.view_memberchange",
            *NOMINATE,
            *ORGANISATION_WRITE,
            *RESOURCE_WRITE,
            *ACTIVITY_WRITE,
            *ASSESSMENT_VIEW,
            *EVALUATION_ENTER,
            "assessment.score_indicator",
            "assessment.score_street_item",
            *LIAISON_STREET,
            *COMMENDATION_STREET,
            *FOLLOWUP_STREET,
        ],
    ),
    "district": (
        "区委统战部",
        [
            *MEMBER_WRITE,
            "members.import_member",
            "members.merge_member",
            *NOMINATE,
            *ORGANISATION_WRITE,
            *RESOURCE_WRITE,
            *ACTIVITY_WRITE,
            *ASSESSMENT_MANAGE,
            *ASSESSMENT_RUN,
            *LIAISON_DISTRICT,
            *COMMENDATION_DISTRICT,
            *FOLLOWUP_DISTRICT,
            *RETENTION_DISTRICT,
        ],
    ),
    "auditor": ("审计员", ["tongzhan.view_auditevent"]),
    "admin": (
        "系统管理员",
        [
            *MEMBER_WRITE,
            "members.import_member",
            "members.merge_member",
            *NOMINATE,
            *ORGANISATION_WRITE,
            *RESOURCE_WRITE,
            *ACTIVITY_WRITE,
            *ASSESSMENT_MANAGE,
            *TEMPLATE_EDIT,
            *COMMENDATION_VIEW,
            *FOLLOWUP_DISTRICT,
            "activities.view_activitytype",
            "activities.add_activitytype",
            "activities.change_activitytype",
            "tongzhan.view_area",
            "tongzhan.add_area",
            "tongzhan.change_area",
            "tongzhan.view_user",
            "tongzhan.add_user",
            "tongzhan.change_user",
            "auth.view_group",
            "auth.change_group",
            "members.view_category",
            "members.view_ethnicity",
            "members.view_politicalstatus",
        ],
    ),
}


def grant_role_permissions(apps, app_labels) -> None:
    """Give each role's group the permissions ROLE_GROUPS lists for `app_labels`.

    For data migrations: permissions are normally created after all migrations, so those of
    the apps named are created first.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        if app_config.label in app_labels:
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLE_GROUPS.values():
        group, _created = Group.objects.get_or_create(name=group_name)
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            if app_label in app_labels:
                # A permission a later migration adds is granted by that migration.
                group.permissions.add(
                    *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
                )
