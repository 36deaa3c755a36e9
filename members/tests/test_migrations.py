"""The old 社会职务/政治安排 text read into political arrangements (migration 0017), and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("members", "0016_political_arrangements_and_duty_records")]
AFTER = [("members", "0017_social_positions_to_arrangements")]


@pytest.fixture(autouse=True)
def _latest_schema_after():
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _models(executor, target):
    apps = executor.loader.project_state(target).apps
    return (apps.get_model("members", name) for name in ("Member", "PoliticalArrangement"))


def test_the_text_becomes_arrangements_what_is_unclear_stays_and_it_goes_back(member, areas):
    from members.tests.factories import MemberFactory

    texts = {
        member.pk: "迎泽区政协委员、市、区两级人大代表、民盟区委委员",
        MemberFactory(community=areas["140106001001"]).pk: "原区人大代表",
        MemberFactory(community=areas["140106001001"]).pk: "政协委员",
        MemberFactory(community=areas["140106001001"]).pk: "",
    }
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Member, _Arrangement = _models(executor, BEFORE)
    for pk, text in texts.items():
        Member.objects.filter(pk=pk).update(social_positions=text)
    versions = dict(Member.objects.values_list("pk", "version"))

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Member, Arrangement = _models(executor, AFTER)
    Change = executor.loader.project_state(AFTER).apps.get_model("members", "MemberChange")
    first, former, unclear, empty = texts
    rows = Arrangement.objects.filter(member_id=first).order_by("id")
    assert [(a.body, a.level, a.post, a.state) for a in rows] == [
        ("cppcc", "district", "委员", "in_office"),
        ("npc", "city", "代表", "in_office"),
        ("npc", "district", "代表", "in_office"),
    ]
    assert Member.objects.get(pk=first).social_positions == "民盟区委委员"
    (ended,) = Arrangement.objects.filter(member_id=former)
    assert (ended.state, ended.ended_on) == ("ended", None)
    assert Member.objects.get(pk=former).social_positions == ""
    # What is not clear is kept as it was, and those members' records are untouched.
    assert Member.objects.get(pk=unclear).social_positions == "政协委员"
    assert not Arrangement.objects.filter(member_id__in=[unclear, empty]).exists()
    assert Member.objects.get(pk=unclear).version == versions[unclear]
    # The member's history says what moved, and her version rose as for any write.
    line = Change.objects.filter(member_id=first).latest("id")
    assert line.changes[0] == {"field": "social_positions", "old": texts[first],
                               "new": "民盟区委委员"}  # fmt: skip
    assert line.changes[1]["new"] == "区政协委员（在任）、市人大代表（在任）、区人大代表（在任）"
    assert Member.objects.get(pk=first).version == versions[first] + 1

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Member, _Arrangement = _models(executor, BEFORE)
    Change = executor.loader.project_state(BEFORE).apps.get_model("members", "MemberChange")
    assert Member.objects.get(pk=first).social_positions == (
        "区政协委员、市人大代表、区人大代表、民盟区委委员"
    )
    assert Member.objects.get(pk=former).social_positions == "原区人大代表"
    assert Member.objects.get(pk=unclear).social_positions == "政协委员"
    assert not Change.objects.filter(source__startswith="政治安排迁移").exists()


def test_people_registered_before_notices_count_as_not_yet_told(member, neighbour_member):
    """Migration 0023: records from before have no notice; the dashboards' tally counts each
    community's registered members as not yet told, as a recount would."""
    from members.services import tally_counted, tally_stored

    executor = MigrationExecutor(connection)
    executor.migrate([("members", "0022_member_anonymised_at")])
    executor = MigrationExecutor(connection)
    executor.migrate([("members", "0023_member_informing")])
    communities = [member.community_id, neighbour_member.community_id]
    stored = tally_stored(communities=communities)
    assert stored == tally_counted(communities=communities)
    assert {key: n for key, n in stored.items() if key[1] == "not_informed"} == {
        (member.community_id, "not_informed", ""): 1,
        (neighbour_member.community_id, "not_informed", ""): 1,
    }
