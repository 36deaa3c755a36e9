"""Visit and need pages: record, scope, status changes, not-contacted list."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html as lxml_html

from activities import services
from activities.models import Activity, ActivityType, Need, Visit
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def visit_data(community, members, **fields):
    return {
        "community": community.pk,
        "members": [member.pk for member in members],
        "date": "2026-11-02",
        "way": "home",
        "staff": "王丽、李强",
        "situation": "孩子明年上小学",
        **fields,
    }


def test_a_visit_recorded_with_the_need_it_raised(client, community_user, member, areas):
    client.force_login(community_user)
    page = client.get(reverse("activities:visit_create"), {"member": member.pk})
    assert page.context["form"].initial["members"] == [member.pk]
    response = client.post(
        reverse("activities:visit_create"),
        visit_data(
            areas["140106001001"], [member], need_kind="schooling", need_description="子女入学"
        ),
    )
    visit = Visit.objects.get()
    assert response["Location"] == reverse("activities:visit_detail", args=[visit.pk])
    need = Need.objects.get()
    assert (need.member, need.visit, need.status) == (member, visit, "open")
    detail = client.get(response["Location"]).content.decode()
    assert "子女入学" in detail and member.name in detail
    timeline = client.get(reverse("activities:member_timeline", args=[member.pk]))
    assert "待办" in timeline.content.decode()


def test_a_need_with_several_members_visited_is_refused_on_the_form(
    client, community_user, member, areas
):
    other = MemberFactory(community=areas["140106001001"])
    client.force_login(community_user)
    response = client.post(
        reverse("activities:visit_create"),
        visit_data(areas["140106001001"], [member, other], need_kind="other", need_description="x"),
    )
    assert response.status_code == 200 and not Visit.objects.exists()


def test_a_need_is_closed_from_its_page(client, community_user, member):
    need = services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "legal", "description": "劳动纠纷", "raised_on": datetime.date(2026, 11, 1)},
    )
    client.force_login(community_user)
    url = reverse("activities:need_detail", args=[need.pk])
    # Closing without saying how is refused with the reason.
    response = client.post(url, {"status": "resolved"})
    assert response.status_code == 200 and "请填写办理情况" in response.content.decode()
    response = client.post(
        url,
        {
            "status": "resolved",
            "resolution": "法律援助中心已受理",
            "closed_on": "2026-11-20",
            "satisfaction": "satisfied",
        },
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == "resolved" and need.closed_on == datetime.date(2026, 11, 20)
    assert 'id="change-status"' not in client.get(url).content.decode()


def test_the_need_lists_count_open_overdue_and_resolved(client, community_user, member):
    today = timezone.localdate()
    late = services.need_create(
        actor=community_user,
        member=member,
        data={
            "kind": "medical",
            "description": "就医",
            "raised_on": today - datetime.timedelta(31),
            "due_date": today - datetime.timedelta(1),
        },
    )
    services.need_create(
        actor=community_user, member=member, data={"kind": "other", "description": "咨询"}
    )
    done = services.need_create(
        actor=community_user, member=member, data={"kind": "legal", "description": "纠纷"}
    )
    services.need_set_status(
        actor=community_user, need=done, status="resolved", resolution="已办", closed_on=today
    )
    client.force_login(community_user)
    response = client.get(reverse("activities:need_list"))
    assert response.context["counts"] == {
        "open": 2,
        "due_soon": 1,
        "overdue": 1,
        "closed": 1,
        "resolved": 1,
    }
    overdue = client.get(reverse("activities:need_list"), {"show": "overdue"})
    assert [need.pk for need in overdue.context["needs"]] == [late.pk]
    # Each count equals its list.
    for show, count in (("open", 2), ("closed", 1)):
        listed = client.get(reverse("activities:need_list"), {"show": show}).context["needs"]
        assert len(listed) == count


def test_visit_and_need_pages_are_scoped(
    client, community_user, neighbour_user, street_user, member, areas
):
    visit = services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": datetime.date(2026, 11, 2),
              "staff": "王丽", "way": "phone"},
        members=[member],
        need={"kind": "other", "description": "咨询"},
    )  # fmt: skip
    need = Need.objects.get()
    client.force_login(neighbour_user)
    assert client.get(reverse("activities:visit_detail", args=[visit.pk])).status_code == 404
    assert client.get(reverse("activities:need_detail", args=[need.pk])).status_code == 404
    assert client.post(reverse("activities:need_detail", args=[need.pk])).status_code == 404
    assert client.get(reverse("activities:need_create"), {"member": member.pk}).status_code == 404
    assert not client.get(reverse("activities:need_list")).context["needs"]
    client.force_login(street_user)
    assert client.get(reverse("activities:need_detail", args=[need.pk])).status_code == 200


def test_members_not_contacted_lately(client, community_user, member, areas):
    visited = MemberFactory(community=areas["140106001001"])
    active = MemberFactory(community=areas["140106001001"])
    services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": timezone.localdate(),
              "staff": "王丽", "way": "home"},
        members=[visited],
    )  # fmt: skip
    services.activity_create(
        actor=community_user,
        data={
            "type": ActivityType.objects.get(code="training"),
            "title": "学习会",
            "starts_at": timezone.now(),
            "area": areas["140106001001"],
        },
        participants=[active],
    )
    assert Activity.objects.count() == 1
    client.force_login(community_user)
    response = client.get(reverse("activities:not_contacted"))
    assert [m.pk for m in response.context["members"]] == [member.pk]
    assert response.context["months"] == 12


def test_needs_per_community_and_resolved_per_period(
    client, street_user, community_user, member, neighbour_member
):
    def close(need, day):
        services.need_set_status(
            actor=street_user, need=need, status="resolved", resolution="已办", closed_on=day
        )

    for owner, days in ((member, [datetime.date(2026, 3, 5), None]), (neighbour_member, [None])):
        for day in days:
            need = services.need_create(
                actor=street_user,
                member=owner,
                data={"kind": "other", "description": "x", "raised_on": datetime.date(2026, 3, 1)},
            )
            if day:
                close(need, day)
    client.force_login(street_user)
    url = reverse("activities:need_list")
    response = client.get(url, {"since": "2026-03-01", "until": "2026-03-31"})
    rows = {row["code"]: row for row in response.context["per_community"]}
    assert (rows["140106001001"]["open"], rows["140106001001"]["resolved"]) == (1, 1)
    assert (rows["140106001002"]["open"], rows["140106001002"]["resolved"]) == (1, 0)
    assert response.context["counts"]["resolved"] == 1
    april = client.get(url, {"since": "2026-04-01", "until": "2026-04-30"})
    assert april.context["counts"]["resolved"] == 0
    one = client.get(url, {"area": "140106001002"})
    assert [need.member for need in one.context["needs"]] == [neighbour_member]
    # Each number links to its list: the community's open count equals its list.
    assert len(one.context["needs"]) == one.context["counts"]["open"]
    # An area outside the scope is ignored, not shown.
    client.force_login(community_user)
    other = client.get(url, {"area": "140106001002"})
    assert all(need.member == member for need in other.context["needs"])


def test_the_per_community_table_counts_the_needs_due_soon_as_the_list_it_links_to(
    client, street_user, district_user, other_district_user, member, neighbour_member,
    far_member,
):  # fmt: skip
    today = timezone.localdate()
    for actor, owner, days in (
        (street_user, member, 3),  # due soon
        (street_user, member, 30),  # not yet
        (street_user, neighbour_member, -2),  # overdue counts as due soon too
        (other_district_user, far_member, 1),  # another district's
    ):
        services.need_create(
            actor=actor, member=owner,
            data={"kind": "other", "description": "x", "raised_on": today - datetime.timedelta(40),
                  "due_date": today + datetime.timedelta(days)},
        )  # fmt: skip
    url = reverse("activities:need_list")
    for user, expected in (
        (street_user, {"桥东一社区": 1, "五一二社区": 1}),
        (district_user, {"桥东一社区": 1, "五一二社区": 1}),
    ):
        client.force_login(user)
        tree = lxml_html.fromstring(client.get(url).content)
        header = [
            th.text_content() for th in tree.xpath("//table[contains(@class, 'per-community')]//th")
        ]
        assert "7天内到期或已逾期" in header
        found = {}
        for row in tree.xpath("//table[contains(@class, 'per-community')]/tbody/tr"):
            link = row.xpath(".//a[@class='due-soon']")[0]
            number = int(link.text_content())
            found[row.xpath("td[@class='title']")[0].text_content()] = number
            listed = client.get(url + link.get("href"))
            assert listed.context["show"] == "due_soon"
            assert len(listed.context["needs"]) == number
        assert found == expected


def test_visits_and_needs_are_edited_with_their_history(
    client, community_user, neighbour_user, member, areas
):
    visit = services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": datetime.date(2026, 11, 2),
              "staff": "王丽", "way": "phone"},
        members=[member],
        need={"kind": "other", "description": "咨询"},
    )  # fmt: skip
    need = Need.objects.get()
    client.force_login(neighbour_user)
    assert client.get(reverse("activities:visit_update", args=[visit.pk])).status_code == 404
    assert client.get(reverse("activities:need_update", args=[need.pk])).status_code == 404
    client.force_login(community_user)
    response = client.post(
        reverse("activities:visit_update", args=[visit.pk]),
        visit_data(areas["140106001001"], [member], situation="家庭和睦"),
    )
    assert response.status_code == 302
    change = visit.changes.get(action="update")
    assert {row["field"] for row in change.changes} == {"way", "staff", "situation"}
    response = client.post(
        reverse("activities:need_update", args=[need.pk]),
        {"kind": "legal", "description": "劳动合同纠纷", "handler": "司法所", "due_date": ""},
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.kind, need.handler, need.status) == ("legal", "司法所", "open")
    assert need.changes.filter(action="update").exists()


def test_the_neighbouring_community_reaches_none_of_it(
    client, community_user, neighbour_user, member, areas
):
    """Every page and action of the app, as a worker of the next community: 404 or nothing."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    activity = services.activity_create(
        actor=community_user,
        data={"type": ActivityType.objects.get(code="training"), "title": "学习会",
              "starts_at": timezone.now(), "area": areas["140106001001"]},
        participants=[member],
    )  # fmt: skip
    attached = services.activity_file_add(
        actor=community_user,
        activity=activity,
        upload=SimpleUploadedFile("签到表.pdf", b"%PDF-1.7\n" + b"0" * 50, "application/pdf"),
    )
    visit = services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": timezone.localdate(),
              "staff": "王丽", "way": "home"},
        members=[member],
        need={"kind": "other", "description": "咨询"},
    )  # fmt: skip
    need = visit.needs.get()
    client.force_login(neighbour_user)
    hidden = [
        ("get", "activities:detail", [activity.pk]),
        ("get", "activities:update", [activity.pk]),
        ("post", "activities:update", [activity.pk]),
        ("post", "activities:file_upload", [activity.pk]),
        ("get", "activities:file", [activity.pk, attached.pk]),
        ("post", "activities:file_remove", [activity.pk, attached.pk]),
        ("get", "activities:visit_detail", [visit.pk]),
        ("get", "activities:visit_update", [visit.pk]),
        ("post", "activities:visit_update", [visit.pk]),
        ("get", "activities:need_detail", [need.pk]),
        ("post", "activities:need_detail", [need.pk]),
        ("get", "activities:need_update", [need.pk]),
        ("post", "activities:need_update", [need.pk]),
    ]
    for method, name, args in hidden:
        response = getattr(client, method)(reverse(name, args=args))
        assert response.status_code == 404, (method, name)
    response = client.get(reverse("activities:need_create"), {"member": member.pk})
    assert response.status_code == 404
    assert not client.get(reverse("activities:list")).context["activities"]
    assert not client.get(reverse("activities:visit_list")).context["visits"]
    assert not client.get(reverse("activities:need_list")).context["needs"]
    listed = client.get(reverse("activities:not_contacted")).context["members"]
    assert member.pk not in {row.pk for row in listed}
    month = client.get(reverse("activities:month")).content.decode()
    assert "学习会" not in month
    found = client.get(reverse("activities:member_search"), {"q": member.name[:1]}).json()
    assert member.pk not in {row["id"] for row in found["results"]}
    # Nothing was changed by any of it.
    assert activity.files.count() == 1 and need.status == Need.objects.get(pk=need.pk).status
    assert activity.changes.count() == 2 and visit.changes.count() == 1


def test_lists_keep_a_fixed_number_of_queries(client, street_user, areas):
    """The same number of queries for 2 records as for 20, page by page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = [
        reverse("activities:visit_list"),
        reverse("activities:need_list"),
        reverse("activities:need_list") + "?show=closed",
        reverse("activities:not_contacted"),
        reverse("activities:month"),
        reverse("activities:list"),
    ]

    def add(count):
        for index in range(count):
            community = areas["140106001001" if index % 2 else "140106001002"]
            member = MemberFactory(community=community)
            services.visit_create(
                actor=street_user,
                data={"community": community, "date": timezone.localdate(),
                      "staff": "王丽", "way": "home"},
                members=[member, MemberFactory(community=community)],
            )  # fmt: skip
            services.need_create(
                actor=street_user, member=member, data={"kind": "other", "description": "找工作"}
            )
            services.activity_create(
                actor=street_user,
                data={"type": ActivityType.objects.get(code="training"), "title": f"学习{index}",
                      "starts_at": timezone.now(), "area": community},
                participants=[member],
            )  # fmt: skip
            MemberFactory(community=community)  # not contacted

    def counts():
        numbers = []
        for page in pages:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(page).status_code == 200
            numbers.append(len(queries))
        return numbers

    client.force_login(street_user)
    add(2)
    few = counts()
    add(18)
    assert counts() == few


# -- What a need keeps of what was typed, and what is late (issue 13) -------------------------


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def test_the_need_page_shows_its_raising_day_and_every_note(client, community_user, member, areas):
    visit = services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": days_ago(3), "staff": "李强",
              "way": "home"},
        members=[member],
        need={"kind": "schooling", "description": "子女入学"},
    )  # fmt: skip
    need = visit.needs.get()
    client.force_login(community_user)
    url = reverse("activities:need_detail", args=[need.pk])
    page = client.get(url).content.decode()
    # 提出时间 is the visit's day, not the day it was entered.
    assert f'<dd id="need-raised">{days_ago(3).isoformat()}' in page
    assert "李强" in page and (days_ago(3) + datetime.timedelta(30)).isoformat() in page
    response = client.post(url, {"status": "in_progress", "resolution": "已联系街道教育办"})
    assert response.status_code == 302
    refused = client.post(
        url, {"status": "resolved", "resolution": "已办理入学", "closed_on": days_ago(4)}
    )
    assert f"办结日期不能早于提出时间（{days_ago(3).isoformat()}）。" in refused.content.decode()
    client.post(url, {"status": "resolved", "resolution": "已办理入学", "closed_on": days_ago(0)})
    page = client.get(url).content.decode()
    assert "办理情况：已联系街道教育办" in page and "办理情况：已办理入学" in page
    assert "状态：办理中 → 已办结" in page


def test_need_lists_mark_overdue_needs_and_put_them_first(client, community_user, member, areas):
    def raise_need(description, raised):
        return services.need_create(
            actor=community_user,
            member=member,
            data={"kind": "other", "description": description, "raised_on": raised},
        )

    late = raise_need("逾期的诉求", days_ago(40))  # due 10 days ago
    recent = raise_need("新近的诉求", days_ago(1))
    no_due = raise_need("没有时限", days_ago(2))
    # One recorded before due dates were given by default: it is never late, and not first.
    Need.objects.filter(pk=no_due.pk).update(due_date=None)
    client.force_login(community_user)
    response = client.get(reverse("activities:need_list"))
    listed = list(response.context["needs"])
    assert listed[0] == late and set(listed) == {late, recent, no_due}
    page = response.content.decode()
    assert page.count('class="badge overdue"') == 1 and '<tr class="overdue">' in page
    assert days_ago(40).isoformat() in page  # 提出时间
    overdue = client.get(reverse("activities:need_list"), {"show": "overdue"})
    assert "已超期" in overdue.content.decode()
    # The member's timeline marks it too, on the day it was raised.
    timeline = client.get(reverse("activities:member_timeline", args=[member.pk]))
    entries = [e for e in timeline.context["timeline"] if e["kind"] == "need"]
    assert [e["need"].overdue for e in entries] == [False, False, True]
    assert timeline.content.decode().count("已超期") == 1


def test_the_visit_page_marks_its_overdue_need(client, community_user, member, areas):
    visit = services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": days_ago(31), "staff": "李强",
              "way": "home"},
        members=[member],
        need={"kind": "hardship", "description": "家中漏水"},
    )  # fmt: skip
    client.force_login(community_user)
    page = client.get(reverse("activities:visit_detail", args=[visit.pk])).content.decode()
    assert "已超期" in page and "李强" in page


def test_the_visit_form_starts_from_today_and_the_signed_in_worker(
    client, community_user, member, areas
):
    client.force_login(community_user)
    response = client.get(reverse("activities:visit_create"))
    form = response.context["form"]
    assert str(form["date"].value()) == timezone.localdate().isoformat()
    assert form["staff"].value() == "王丽"
    page = response.content.decode()
    assert '<label for="id_members">走访对象' in page
    assert 'placeholder="输入姓名添加走访对象"' in page
    assert f'max="{timezone.localdate().isoformat()}"' in page
    refused = client.post(
        reverse("activities:visit_create"),
        visit_data(areas["140106001001"], [member], date=days_ago(-1).isoformat()),
    )
    assert "走访日期不能晚于今天。" in refused.content.decode() and not Visit.objects.exists()


def test_a_need_recorded_on_its_own_keeps_the_day_entered(client, community_user, member):
    client.force_login(community_user)
    url = reverse("activities:need_create") + f"?member={member.pk}"
    form = client.get(url).context["form"]
    assert str(form["raised_on"].value()) == timezone.localdate().isoformat()
    response = client.post(
        url, {"kind": "legal", "description": "劳动纠纷", "raised_on": days_ago(6).isoformat()}
    )
    need = Need.objects.get()
    assert response.status_code == 302 and need.raised_on == days_ago(6)
    assert (need.handler, need.due_date) == ("王丽", days_ago(6) + datetime.timedelta(30))
    refused = client.post(
        url,
        {"kind": "legal", "description": "x", "raised_on": days_ago(6).isoformat(),
         "due_date": days_ago(7).isoformat()},
    )  # fmt: skip
    assert "办理时限不能早于提出时间" in refused.content.decode()
