"""What an attacker (or an unlucky moment) tries against resources, matches and projects: a
name read off a form or the ledger where the page masks it, a match settled on a day still to
come, a title of characters that show nothing, and two matches of one need settled at once."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities import services as activity_services
from activities.models import Need, NeedChange
from members.models import Member
from members.tests.factories import MemberFactory
from organisations.tests.factories import organisation_make
from resources import services
from resources.models import CommunityNeed, Match
from tongzhan.tests.races import race_or_skip, refused_or_done

from .factories import community_need_make, resource_make
from .test_projects import project_make

pytestmark = pytest.mark.django_db

DISTRICT, LIUXIANG, QIAODONG, WUYIER = "140106", "140106001", "140106001001", "140106001002"
TODAY = timezone.localdate()


@pytest.fixture
def firm(areas, district_user):
    """A law firm of the district, serving the whole district."""
    organisation = organisation_make(district_user, areas[DISTRICT], name="迎泽律师事务所")
    return {
        "first": resource_make(district_user, organisation=organisation, title="法律咨询",
                               served=[areas[DISTRICT]]),
        "second": resource_make(district_user, organisation=organisation, title="法律援助",
                                served=[areas[DISTRICT]]),
    }  # fmt: skip


def legal_need(actor, member):
    return activity_services.need_create(
        actor=actor, member=member, data={"kind": "legal", "description": "劳动纠纷"}
    )


# -- Names the pages mask, read off a form or the ledger ------------------------------------


def test_a_projects_edit_form_names_an_introducer_of_another_community_masked(
    client, areas, neighbour_user, street_user
):
    # The street puts 桥东一社区's member's project in 五一二社区: bob sees it masked, and
    # may edit it; the form's choice of introducer must not name her either.
    lawyer = MemberFactory(name="陈律师", community=areas[QIAODONG])
    project = project_make(street_user, areas[WUYIER], member=lawyer, name="五一二园区")
    client.force_login(neighbour_user)
    page = client.get(reverse("resources:project_update", args=[project.pk])).content.decode()
    assert "陈**" in page and "陈律师" not in page
    # Saved as it is, the project keeps its introducer.
    response = client.post(
        reverse("resources:project_update", args=[project.pk]),
        {"name": "五一二园区", "member": lawyer.pk, "area": areas[WUYIER].pk},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.member_id == lawyer.pk
    client.force_login(street_user)
    page = client.get(reverse("resources:project_update", args=[project.pk])).content.decode()
    assert "陈律师" in page


def test_a_resources_edit_form_names_its_member_masked_once_she_moved_away(
    client, areas, community_user, member
):
    resource = resource_make(community_user, member=member, title="家教", kind="talent",
                             service="")  # fmt: skip
    Member.objects.filter(pk=member.pk).update(community=areas[WUYIER])
    client.force_login(community_user)
    page = client.get(reverse("resources:update", args=[resource.pk])).content.decode()
    assert "张*" in page and "张三" not in page


def test_the_ledger_and_its_export_name_a_member_who_moved_away_masked(
    client, areas, community_user, member, firm
):
    services.match_create(actor=community_user, need=legal_need(community_user, member),
                          resource=firm["first"])  # fmt: skip
    # The match stays 桥东一社区's work; the member (and her need) are 五一二社区's now.
    Member.objects.filter(pk=member.pk).update(community=areas[WUYIER])
    client.force_login(community_user)
    page = client.get(reverse("resources:ledger")).content.decode()
    assert "法律咨询" in page and "张*" in page and "张三" not in page
    response = client.get(reverse("resources:ledger_export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell.value or "" for row in sheet.iter_rows(min_row=4) for cell in row]
    assert any("张* · 法律 · 劳动纠纷" in cell for cell in cells), cells
    assert not any("张三" in cell for cell in cells)


def test_an_edit_keeps_the_areas_served_that_the_editor_may_not_choose(
    client, areas, community_user, neighbour_user, street_user, member
):
    # The street has 桥东一社区's tutor serve 五一二社区 too; 桥东一社区's form does not offer
    # 五一二社区, so saving it must not take the neighbour off.
    resource = resource_make(street_user, member=member, title="家教", kind="talent", service="",
                             served=[areas[QIAODONG], areas[WUYIER]])  # fmt: skip
    client.force_login(community_user)
    response = client.post(
        reverse("resources:update", args=[resource.pk]),
        {"title": "家教辅导", "kind": "talent", "member": member.pk,
         "served_areas": [areas[QIAODONG].pk, areas[LIUXIANG].pk]},
    )  # fmt: skip
    assert response.status_code == 302
    served = set(resource.served_areas.values_list("code", flat=True))
    assert served == {QIAODONG, WUYIER, LIUXIANG}
    client.force_login(neighbour_user)
    assert "家教辅导" in client.get(reverse("resources:list")).content.decode()
    # The street, which may choose it, takes it off.
    services.resource_update(actor=street_user, resource=resource,
                             data={"title": "家教辅导", "kind": "talent", "member": member},
                             served_areas=[areas[QIAODONG]])  # fmt: skip
    assert list(resource.served_areas.values_list("code", flat=True)) == [QIAODONG]


# -- Settling ---------------------------------------------------------------------------------


def test_a_match_is_not_settled_on_a_day_still_to_come(client, areas, community_user, firm):
    need = community_need_make(community_user, areas[QIAODONG])
    match = services.match_create(actor=community_user, community_need=need,
                                  resource=firm["first"])  # fmt: skip
    tomorrow = TODAY + datetime.timedelta(days=1)
    for state in ("fulfilled", "unfulfilled"):
        with pytest.raises(ValidationError) as refused:
            services.match_settle(actor=community_user, match=match, state=state,
                                  settled_on=tomorrow)  # fmt: skip
        assert "settled_on" in refused.value.error_dict
    client.force_login(community_user)
    page = client.post(
        reverse("resources:match_settle", args=[match.pk]),
        {"state": "fulfilled", "people_served": "3", "settled_on": "2099-01-01"},
    ).content.decode()
    assert "日期不能晚于今天。" in page
    match.refresh_from_db()
    need.refresh_from_db()
    assert (match.state, match.settled_on) == ("matched", None)
    assert (need.status, need.closed_on) == (CommunityNeed.Status.OPEN, None)


# -- Inputs --------------------------------------------------------------------------------


def test_a_title_or_name_of_invisible_characters_is_no_title_or_name(areas, community_user, member):
    invisible = "\u200b\u200d\ufeff\u202e"
    with pytest.raises(ValidationError) as refused:
        resource_make(community_user, member=member, title=invisible)
    assert "title" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        project_make(community_user, areas[QIAODONG], member=member, name=f" {invisible} ")
    assert "name" in refused.value.error_dict
    resource = resource_make(community_user, member=member, title=f"家教{invisible}")
    project = project_make(community_user, areas[QIAODONG], member=member, name=f"{invisible}光伏")
    assert (resource.title, project.name) == ("家教", "光伏")


# -- At the same moment: two connections (as in liaison's withdrawal attacks) -----------------


@pytest.fixture
def race():
    return race_or_skip()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_matches_of_one_need_settled_at_once_resolve_it_once(
    race, monkeypatch, areas, community_user, member, firm
):
    need = legal_need(community_user, member)
    first = services.match_create(actor=community_user, need=need, resource=firm["first"])
    second = services.match_create(actor=community_user, need=need, resource=firm["second"])
    # The first settling pauses once it has found the need open, just before resolving it.
    resolve = activity_services.need_set_status

    def pause_then_resolve(**kwargs):
        race.pause()
        return resolve(**kwargs)

    monkeypatch.setattr(activity_services, "need_set_status", pause_then_resolve)

    def settle(match, note):
        return lambda: services.match_settle(
            actor=community_user, match=match, state="fulfilled", note=note
        )

    outcome = race.run(settle(first, "第一次"), settle(second, "第二次"))
    refused_or_done(outcome)
    assert set(Match.objects.values_list("state", flat=True)) == {"fulfilled"}
    need = Need.objects.get(pk=need.pk)
    assert need.status == Need.Status.RESOLVED and "法律咨询" in need.resolution
    resolutions = [
        change
        for change in NeedChange.objects.filter(need=need)
        if any(item["field"] == "resolution" for item in change.changes)
    ]
    assert len(resolutions) == 1
