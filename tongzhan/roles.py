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

ROLE_GROUPS = {
    "community": ("社区统战委员", MEMBER_WRITE),
    "street": (
        "街道统战干部",
        ["members.view_member", "members.view_memberchange", "members.import_member"],
    ),
    "district": ("区委统战部", [*MEMBER_WRITE, "members.import_member"]),
    "admin": (
        "系统管理员",
        [
            *MEMBER_WRITE,
            "members.import_member",
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
