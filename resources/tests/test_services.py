import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import Need, NeedChange
from members.tests.factories import MemberFactory
from organisations.tests.factories import organisation_make
from resources import services
from resources.models import CommunityNeed, Match, Resource
from tongzhan.models import AuditEvent

from .factories import community_need_make, resource_make

pytestmark = pytest.mark.django_db

DISTRICT, LIUXIANG, QIAODONG, WUYIER = "140106", "140106001", "140106001001", "140106001002"
WENMIAO, FAR = "140106002", "140105001001"


@pytest.fixture
def legal_need(community_user, member):
    return activity_services.need_create(
        actor=community_user, member=member, data={"kind": "legal", "description": "劳动纠纷"}
    )


@pytest.fixture
def offers(areas, community_user, neighbour_user, street_user, district_user, other_district_user,
           neighbour_member):  # fmt: skip
    """Legal services near and far, and some that must not be suggested."""
    today = timezone.localdate()
    firm = organisation_make(district_user, areas[DISTRICT], name="迎泽律师事务所")
    made = {
        "district": resource_make(district_user, organisation=firm, title="律所法律咨询",
                                  served=[areas[DISTRICT]]),
        "street": resource_make(neighbour_user, member=neighbour_member, title="律师义务咨询",
                                served=[areas[LIUXIANG]], capacity=3),
        "community": resource_make(community_user, member=MemberFactory(
            community=areas[QIAODONG]), title="社区法律顾问"),
        "expired": resource_make(community_user, member=MemberFactory(
            community=areas[QIAODONG]), title="过期法律服务", valid_until=today
            - datetime.timedelta(days=1)),
        "medical": resource_make(community_user, member=MemberFactory(
            community=areas[QIAODONG]), title="义诊", service="medical"),
        "neighbour_only": resource_make(neighbour_user, member=neighbour_member,
                                        title="五一二法律服务"),
        "other_street": resource_make(district_user, organisation=firm, title="文庙法律服务",
                                      served=[areas[WENMIAO]]),
        "far": resource_make(other_district_user, organisation=organisation_make(
            other_district_user, areas["140105"], name="小店律所"), title="小店法律服务"),
    }  # fmt: skip
    return made


def test_a_resource_belongs_to_its_owners_area_and_serves_it_by_default(
    areas, community_user, member
):
    resource = resource_make(community_user, member=member, kind="jobs", service="")
    assert resource.area == areas[QIAODONG]
    assert list(resource.served_areas.all()) == [areas[QIAODONG]]
    assert AuditEvent.objects.filter(
        action="create", object_type="resources.resource", object_id=str(resource.pk)
    ).exists()


def test_a_resource_has_exactly_one_owner_and_a_service_names_its_field(
    areas, community_user, member
):
    organisation = organisation_make(community_user, areas[QIAODONG])
    with pytest.raises(ValidationError):
        resource_make(community_user, member=member, organisation=organisation)
    with pytest.raises(ValidationError):
        resource_make(community_user)
    with pytest.raises(ValidationError):
        resource_make(community_user, member=member, service="")
    # The database holds to it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.create(
            title="x", kind="jobs", area=areas[QIAODONG], recorded_by=community_user
        )


def test_a_community_cannot_offer_another_communitys_member_nor_serve_another_street(
    areas, community_user, neighbour_member, member
):
    with pytest.raises(ValidationError):
        resource_make(community_user, member=neighbour_member)
    with pytest.raises(ValidationError):
        resource_make(community_user, member=member, served=[areas[WENMIAO]])
    # Serving the street and district above is allowed.
    resource_make(community_user, member=member, served=[areas[LIUXIANG], areas[DISTRICT]])


def test_a_community_sees_its_own_and_what_serves_it_another_district_nothing(
    offers, community_user, neighbour_user, street_user, district_user, other_district_user
):
    def seen(user):
        return set(Resource.objects.visible_to(user).values_list("title", flat=True))

    assert seen(community_user) == {
        "律所法律咨询", "律师义务咨询", "社区法律顾问", "过期法律服务", "义诊",
    }  # fmt: skip
    assert "五一二法律服务" in seen(neighbour_user) and "社区法律顾问" not in seen(neighbour_user)
    assert seen(other_district_user) == {"小店法律服务"}
    assert "文庙法律服务" in seen(district_user) and "小店法律服务" not in seen(district_user)
    assert "文庙法律服务" not in seen(street_user)
    # Only the owner's area edits.
    assert not Resource.objects.editable_by(community_user).filter(pk=offers["street"].pk).exists()


def test_members_offered_show_masked_to_other_areas_and_in_full_to_their_own_and_above(
    offers, community_user, neighbour_user, district_user
):
    street = Resource.objects.select_related("member", "organisation").get(pk=offers["street"].pk)
    name = street.member.name
    assert services.owner_name(street, community_user) == name[0] + "*" * (len(name) - 1)
    assert services.owner_name(street, neighbour_user) == name
    assert services.owner_name(street, district_user) == name


def test_suggestions_are_nearest_first_of_the_needs_kind_valid_with_capacity(
    offers, community_user, legal_need, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        found = services.match_suggestions(community_user, need=legal_need)
    assert [s.resource.title for s in found] == ["社区法律顾问", "律师义务咨询", "律所法律咨询"]
    assert found[0].why == "同社区 · 法律 · 不限名额"
    assert found[1].why == "同街道 · 法律 · 剩余名额 3"
    assert found[2].why.startswith("同区 · ")
    assert "*" in found[1].owner


def test_capacity_spent_by_matches_and_freed_when_not_fulfilled(
    offers, community_user, member, legal_need
):
    street = offers["street"]
    others = [
        activity_services.need_create(
            actor=community_user, member=member, data={"kind": "legal", "description": "纠纷"}
        )
        for _ in range(3)
    ]
    matches = [
        services.match_create(actor=community_user, need=need, resource=street) for need in others
    ]
    titles = [s.resource.title for s in services.match_suggestions(community_user, need=legal_need)]
    assert "律师义务咨询" not in titles
    with pytest.raises(ValidationError):
        services.match_create(actor=community_user, need=legal_need, resource=street)
    services.match_settle(actor=community_user, match=matches[0], state="unfulfilled")
    titles = [s.resource.title for s in services.match_suggestions(community_user, need=legal_need)]
    assert "律师义务咨询" in titles


def test_a_capacity_is_not_lowered_below_the_places_matches_take(
    offers, community_user, neighbour_user, member
):
    street = offers["street"]  # 3 places
    for _ in range(2):
        need = activity_services.need_create(
            actor=community_user, member=member, data={"kind": "legal", "description": "纠纷"}
        )
        services.match_create(actor=community_user, need=need, resource=street)
    data = {"title": street.title, "kind": street.kind, "service": street.service,
            "member": street.member, "capacity": 1}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.resource_update(actor=neighbour_user, resource=street, data=data)
    assert refused.value.message_dict["capacity"] == ["已有 2 个名额被对接占用，容量不能少于此数。"]
    street.refresh_from_db()
    assert street.capacity == 3
    services.resource_update(actor=neighbour_user, resource=street, data={**data, "capacity": 2})
    street.refresh_from_db()
    assert street.capacity == 2


def test_an_unmapped_kind_is_offered_every_professional_service(offers, community_user, member):
    need = activity_services.need_create(
        actor=community_user, member=member, data={"kind": "other", "description": "求助"}
    )
    titles = {s.resource.title for s in services.match_suggestions(community_user, need=need)}
    assert {"义诊", "社区法律顾问"} <= titles


def test_a_fulfilled_match_resolves_the_members_need_through_its_history(
    offers, community_user, legal_need
):
    match = services.match_create(
        actor=community_user, need=legal_need, resource=offers["street"], note="已联系"
    )
    legal_need.refresh_from_db()
    assert legal_need.status == Need.Status.IN_PROGRESS
    services.match_settle(
        actor=community_user, match=match, state="fulfilled", people_served=1, value=500
    )
    legal_need.refresh_from_db()
    assert legal_need.status == Need.Status.RESOLVED
    assert "律师义务咨询" in legal_need.resolution
    last = NeedChange.objects.filter(need=legal_need).order_by("-at", "-id").first()
    assert last.action == NeedChange.Action.STATUS and "律师义务咨询" in last.note
    match.refresh_from_db()
    assert match.state == Match.State.FULFILLED and match.settled_by == community_user
    assert AuditEvent.objects.filter(
        object_type="resources.match", object_id=str(match.pk), action="status"
    ).exists()
    with pytest.raises(ValidationError):
        services.match_settle(actor=community_user, match=match, state="unfulfilled")


def test_a_community_need_is_met_by_a_fulfilled_match(areas, offers, community_user):
    need = community_need_make(community_user, areas[QIAODONG])
    match = services.match_create(
        actor=community_user, community_need=need, resource=offers["district"]
    )
    services.match_settle(actor=community_user, match=match, state="fulfilled", people_served=8)
    need.refresh_from_db()
    assert need.status == CommunityNeed.Status.MET and need.closed_on is not None


def test_a_resource_out_of_scope_or_not_serving_the_need_is_refused(
    offers, community_user, neighbour_user, legal_need
):
    for key in ("far", "other_street", "neighbour_only", "expired", "medical"):
        with pytest.raises(ValidationError):
            services.match_create(actor=community_user, need=legal_need, resource=offers[key])
    # Another community's worker may not match alice's member's need.
    with pytest.raises(PermissionDenied):
        services.match_create(actor=neighbour_user, need=legal_need, resource=offers["street"])
    assert not Match.objects.exists()


def test_what_a_merged_community_offered_needed_and_served_follows_it(
    areas, community_user, street_user, admin_user
):
    from resources.models import ResourceArea
    from tongzhan.services import area_merge

    both = resource_make(
        street_user, member=MemberFactory(community=areas[QIAODONG]),
        served=[areas[QIAODONG], areas[WUYIER]],
    )  # fmt: skip
    need = community_need_make(community_user, areas[QIAODONG])
    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])
    both.refresh_from_db()
    need.refresh_from_db()
    assert (both.area, need.area) == (areas[WUYIER], areas[WUYIER])
    # It served both: it serves the one left, once.
    assert list(ResourceArea.objects.filter(resource=both).values_list("area", flat=True)) == [
        areas[WUYIER].pk
    ]
    assert AuditEvent.objects.filter(
        object_id=str(areas[QIAODONG].pk), detail__community_needs=1
    ).exists()


# -- A community need's quantity, and editing an open one ------------------------------------


@pytest.fixture
def employers(areas, community_user):
    """Two employers of 桥东 offering jobs there."""
    return [
        resource_make(community_user, member=MemberFactory(community=areas[QIAODONG]),
                      title=title, kind="jobs", service="")
        for title in ("超市收银员岗位", "物业保洁员岗位")
    ]  # fmt: skip


def settle(actor, need, resource, people, state="fulfilled"):
    match = services.match_create(actor=actor, community_need=need, resource=resource)
    return services.match_settle(actor=actor, match=match, state=state, people_served=people)


def jobs_need(actor, area, quantity=5):
    return community_need_make(
        actor, area, kind="jobs", service="", description="5个就业岗位", quantity=quantity
    )


def test_five_jobs_are_met_once_five_people_are_placed_across_matches(
    areas, community_user, employers
):
    need = jobs_need(community_user, areas[QIAODONG])
    settle(community_user, need, employers[0], 2)
    need.refresh_from_db()
    # Two of five: still open, and still matched with the next employer.
    assert need.status == CommunityNeed.Status.OPEN and need.closed_on is None
    assert services.community_need_settled(need) == 2
    assert not AuditEvent.objects.filter(
        object_type="resources.communityneed", object_id=str(need.pk), action="status"
    ).exists()
    settle(community_user, need, employers[1], 3)
    need.refresh_from_db()
    assert need.status == CommunityNeed.Status.MET and need.closed_on == timezone.localdate()
    assert services.community_need_settled(need) == 5
    assert AuditEvent.objects.filter(
        object_type="resources.communityneed", object_id=str(need.pk), action="status",
        detail__status="met",
    ).exists()  # fmt: skip


def test_a_match_not_fulfilled_counts_nothing_and_a_fulfilled_one_counts_at_least_one(
    areas, community_user, employers
):
    need = jobs_need(community_user, areas[QIAODONG], quantity=2)
    settle(community_user, need, employers[0], 4, state="unfulfilled")
    assert services.community_need_settled(need) == 0
    # Settled 已落实 without a number of people: it delivered one.
    settle(community_user, need, employers[1], 0)
    need.refresh_from_db()
    assert services.community_need_settled(need) == 1
    assert need.status == CommunityNeed.Status.OPEN


def test_an_open_need_is_edited_by_its_areas_staff_and_audited(
    areas, community_user, street_user, neighbour_user
):
    need = jobs_need(community_user, areas[QIAODONG])
    data = {"area": areas[QIAODONG], "kind": "jobs", "service": "", "quantity": 8,
            "description": "8个保洁、保安岗位",
            "due_date": datetime.date(2026, 12, 31)}  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.community_need_update(actor=neighbour_user, need=need, data=data)
    services.community_need_update(actor=street_user, need=need, data=data)
    need.refresh_from_db()
    assert (need.quantity, need.description) == (8, "8个保洁、保安岗位")
    assert need.status == CommunityNeed.Status.OPEN
    event = AuditEvent.objects.get(
        object_type="resources.communityneed", object_id=str(need.pk), action="update"
    )
    assert event.detail["fields"] == ["description", "due_date", "quantity"]
    # Its status is no field of the form: it moves by matches and closing only.
    services.community_need_update(actor=street_user, need=need, data={**data, "status": "met"})
    need.refresh_from_db()
    assert need.status == CommunityNeed.Status.OPEN


def test_a_met_or_closed_need_is_not_edited(areas, community_user, employers):
    met = jobs_need(community_user, areas[QIAODONG], quantity=1)
    settle(community_user, met, employers[0], 1)
    closed = jobs_need(community_user, areas[QIAODONG])
    services.community_need_close(actor=community_user, need=closed)
    for need, word in ((met, "已满足"), (closed, "已关闭")):
        with pytest.raises(ValidationError) as refused:
            services.community_need_update(
                actor=community_user, need=need, data={"description": "改"}
            )
        assert f"该需求{word}，不能再修改。" in refused.value.messages
        need.refresh_from_db()
        assert need.description == "5个就业岗位"


def test_once_matched_a_needs_community_and_kind_stay_and_its_quantity_not_below_whats_met(
    areas, community_user, street_user, employers
):
    need = jobs_need(community_user, areas[QIAODONG])
    settle(community_user, need, employers[0], 3)
    data = {"area": areas[QIAODONG], "kind": "jobs", "service": "", "quantity": 5,
            "description": "5个就业岗位", "due_date": None}  # fmt: skip
    for changed in ({"area": areas[WUYIER]}, {"kind": "venue"}):
        with pytest.raises(ValidationError):
            services.community_need_update(actor=street_user, need=need, data={**data, **changed})
    with pytest.raises(ValidationError) as refused:
        services.community_need_update(actor=street_user, need=need, data={**data, "quantity": 2})
    assert refused.value.message_dict["quantity"] == ["已落实 3，数量不能少于此数。"]
    # Lowered to what is met: the need is met.
    services.community_need_update(actor=street_user, need=need, data={**data, "quantity": 3})
    need.refresh_from_db()
    assert need.status == CommunityNeed.Status.MET and need.quantity == 3


def test_a_members_community_resources_follow_her_transfer_and_a_streets_stay(
    client, areas, community_user, neighbour_user, street_user, district_user, member
):
    from members import services as member_services

    hers = resource_make(community_user, member=member, title="张律师义务咨询")
    streets = resource_make(street_user, member=member, title="街道法律讲座",
                            served=[areas[LIUXIANG]])  # fmt: skip
    Resource.objects.filter(pk=streets.pk).update(area=areas[LIUXIANG])
    member_services.transfer_request(
        actor=district_user, member=member, to_community=areas[WUYIER], reason="搬家"
    )
    hers.refresh_from_db()
    streets.refresh_from_db()
    assert hers.area == areas[WUYIER] and list(hers.served_areas.all()) == [areas[WUYIER]]
    assert streets.area == areas[LIUXIANG]
    assert list(streets.served_areas.all()) == [areas[LIUXIANG]]
    url = reverse("resources:list")
    client.force_login(neighbour_user)
    assert "张律师义务咨询" in client.get(url).content.decode()
    client.force_login(community_user)
    assert "张律师义务咨询" not in client.get(url).content.decode()
    line = AuditEvent.objects.get(object_type="resources.resource", action="transfer")
    assert line.object_id == str(hers.pk)
    assert (line.detail["from"], line.detail["to"]) == (QIAODONG, WUYIER)
