"""The member write contract in the services: what `member_create` and `member_update` refuse
whoever calls them, the version that stops lost updates, and the audited answers about people
registered outside the user's area."""

import datetime
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members import services
from members.forms import MemberForm
from members.imports import roster_import
from members.models import Category, Ethnicity, Member, PoliticalStatus
from tongzhan import crypto
from tongzhan.idnumber import check_character
from tongzhan.models import AuditEvent
from tongzhan.tests.test_properties import FOREIGN_DIGITS

from .factories import MemberFactory, id_number_for
from .helpers import member_form_data
from .test_imports import person, roster

pytestmark = pytest.mark.django_db


def new_member_data(community, **fields) -> dict:
    return {
        "name": "周八",
        "id_number": id_number_for(),
        "ethnicity": Ethnicity.objects.get(code="01"),
        "political_status": PoliticalStatus.objects.get(code="13"),  # 群众
        "categories": [Category.objects.get(slug="intellectual")],
        "community": community,
        "informed_how": Member.InformedHow.VISIT,
        "informed_on": datetime.date(2026, 1, 5),
        **fields,
    }


def probes(outcome=AuditEvent.Outcome.DONE):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.REVEAL, outcome=outcome, detail__has_key="probe"
    )


# -- Hole 2: one person, one number, whatever digits it was typed with ---------------------------


def test_an_arabic_indic_digit_does_not_register_a_person_twice(areas, member):
    assert member.id_number.startswith("1")
    lookalike = "\u0661" + member.id_number[1:]
    with pytest.raises(ValidationError) as refused:
        services.member_create(
            actor=None, data=new_member_data(areas["140106001002"], id_number=lookalike)
        )
    assert "第 1 个字符" in refused.value.message_dict["id_number"][0]
    assert Member.objects.count() == 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(digit=st.sampled_from(FOREIGN_DIGITS), position=st.integers(0, 16))
def test_no_decimal_digit_of_another_script_registers_a_person_again(
    areas, member, monkeypatch, digit, position
):
    """Substituted for the ASCII digit it stands for (so int() reads the same number), any
    other decimal digit is refused, nothing is stored, and nothing but ASCII is hashed."""
    hashed = []
    real = crypto.lookup_hash
    monkeypatch.setattr(
        "members.models.lookup_hash", lambda value: hashed.append(value) or real(value)
    )
    monkeypatch.setattr(
        "members.services.lookup_hash",
        lambda value: hashed.append(value) or real(value),
        raising=False,  # the services did not look numbers up before they checked duplicates
    )
    number = member.id_number
    ascii_digit = str(unicodedata.decimal(digit))
    first17 = number[:position] + ascii_digit + number[position + 1 : 17]
    twin = first17 + check_character(first17)
    changed = twin[:position] + digit + twin[position + 1 :]
    # Each example on its own: whatever one stores is undone before the next.
    with transaction.atomic():
        try:
            services.member_create(
                actor=None, data=new_member_data(areas["140106001002"], id_number=changed)
            )
        except ValidationError as error:
            refused = error.message_dict
        else:
            refused = {}
        stored = Member.objects.count()
        transaction.set_rollback(True)
    assert "id_number" in refused
    assert stored == 1
    assert all(value.isascii() for value in hashed)


def test_a_name_is_kept_without_the_characters_that_show_nothing(areas, community_user):
    data = new_member_data(areas["140106001001"], name="张\u200b三\u202e")
    member = services.member_create(actor=community_user, data=data)
    assert Member.objects.get(pk=member.pk).name == "张三"
    with pytest.raises(ValidationError) as refused:
        services.member_update(actor=community_user, member=member, data={"name": "\u200b\ufeff"})
    assert "name" in refused.value.message_dict
    assert Member.objects.get(pk=member.pk).name == "张三"


# -- The category rules and "already registered", whoever writes -------------------------------


def test_member_create_refuses_a_democratic_party_member_whose_status_is_masses(areas):
    data = new_member_data(
        areas["140106001001"], categories=[Category.objects.get(slug="democratic_party")]
    )
    with pytest.raises(ValidationError) as refused:
        services.member_create(actor=None, data=data)
    assert refused.value.message_dict == {
        "political_status": ["民主党派成员类别的统战对象，其政治面貌应为所在民主党派。"]
    }
    assert not Member.objects.exists()


def test_member_create_refuses_the_minority_category_for_a_han_person(areas):
    data = new_member_data(
        areas["140106001001"], categories=[Category.objects.get(slug="ethnic_minority")]
    )
    with pytest.raises(ValidationError) as refused:
        services.member_create(actor=None, data=data)
    assert list(refused.value.message_dict) == ["ethnicity"]
    assert not Member.objects.exists()


def test_member_update_refuses_to_make_a_party_member_one_of_the_masses(areas, community_user):
    member = MemberFactory(
        community=areas["140106001001"],
        political_status=PoliticalStatus.objects.get(code="05"),  # 民盟
        categories=[Category.objects.get(slug="democratic_party")],
    )
    with pytest.raises(ValidationError) as refused:
        services.member_update(
            actor=community_user,
            member=member,
            data={"political_status": PoliticalStatus.objects.get(code="13")},
        )
    assert list(refused.value.message_dict) == ["political_status"]
    member.refresh_from_db()
    assert member.political_status.code == "05"


def test_member_update_puts_a_new_party_member_in_the_category(areas, community_user, member):
    services.member_update(
        actor=community_user,
        member=member,
        data={"political_status": PoliticalStatus.objects.get(code="06")},
    )
    assert {c.slug for c in member.categories.all()} == {"intellectual", "democratic_party"}


def test_a_write_of_other_fields_does_not_fail_on_an_older_record(areas, community_user, member):
    # A record stored before the services enforced the rules (as the demo's bulk load could).
    member.categories.add(Category.objects.get(slug="democratic_party"))
    services.member_update(actor=community_user, member=member, data={"notes": "补记"})
    member.refresh_from_db()
    assert member.notes == "补记"


def test_member_create_refuses_a_person_already_registered(areas, member):
    data = new_member_data(areas["140106001002"], id_number=member.id_number.lower())
    with pytest.raises(ValidationError) as refused:
        services.member_create(actor=None, data=data)
    assert refused.value.message_dict == {"id_number": ["此人已在桥东一社区登记。"]}


def test_member_update_refuses_the_number_of_another_member(
    areas, community_user, member, neighbour_member
):
    with pytest.raises(ValidationError) as refused:
        services.member_update(
            actor=community_user, member=member, data={"id_number": neighbour_member.id_number}
        )
    assert list(refused.value.message_dict) == ["id_number"]


def test_the_form_and_the_import_show_the_services_messages(areas, community_user, district_user):
    party = [Category.objects.get(slug="democratic_party")]
    with pytest.raises(ValidationError) as refused:
        services.member_create(
            actor=None, data=new_member_data(areas["140106001001"], categories=party)
        )
    [message] = refused.value.message_dict["political_status"]

    form = MemberForm(
        data=member_form_data(
            None, categories=["democratic_party"], community=areas["140106001001"].pk
        ),
        user=community_user,
    )
    assert not form.is_valid()
    assert form.errors["political_status"] == [message]

    report = roster_import(
        actor=district_user,
        data=roster(person(category="民主党派成员")),
        filename="花名册.xlsx",
        dry_run=True,
    )
    assert [(e.row, e.column, e.message) for e in report.refused] == [(3, "统战对象类别", message)]


# -- Hole 8: a form saved over a later change is refused -----------------------------------------


def opened_form(member: Member, user, **changes) -> MemberForm:
    """The edit form as a browser posts it: opened now, saved later with `changes`."""
    fresh = Member.objects.get(pk=member.pk)
    return MemberForm(data=member_form_data(fresh, **changes), instance=fresh, user=user)


def save(form: MemberForm, user) -> Member:
    assert form.is_valid(), form.errors
    return services.member_update(
        actor=user,
        member=form.instance,
        data=form.service_data(),
        version=form.cleaned_data["opened_version"],
    )


def test_the_second_of_two_edits_opened_together_is_refused_with_both_values(
    areas, community_user, district_user, member
):
    first = opened_form(member, community_user, workplace="太原理工大学")
    second = opened_form(member, district_user, phone="13900001111", workplace="山西大学")
    save(first, community_user)
    with pytest.raises(services.MemberChanged) as refused:
        save(second, district_user)
    messages = refused.value.messages
    assert "王丽" in messages[0]
    assert messages[1:] == ["工作单位及职务：对方已保存为“太原理工大学”，您的表单中为“山西大学”。"]
    member.refresh_from_db()
    assert (member.workplace, member.phone) == ("太原理工大学", member.phone)
    assert member.phone != "13900001111"
    # Saved again, knowing both values, the form overwrites: nothing was lost unseen.
    again = opened_form(member, district_user, phone="13900001111", workplace="山西大学")
    save(again, district_user)
    member.refresh_from_db()
    assert (member.workplace, member.phone) == ("山西大学", "13900001111")


def test_a_status_change_or_transfer_after_the_form_was_opened_also_counts(
    areas, district_user, member
):
    form = opened_form(member, district_user, workplace="太原理工大学")
    services.transfer_request(
        actor=district_user, member=member, to_community=areas["140106001002"], reason="搬家"
    )
    with pytest.raises(services.MemberChanged):
        save(form, district_user)


def test_an_update_through_an_older_instance_writes_only_its_data(areas, district_user, member):
    read_earlier = Member.objects.get(pk=member.pk)
    services.member_set_status(
        actor=district_user,
        member=member,
        status="moved_out",
        date=datetime.date(2026, 3, 1),
        reason="迁往外省",
    )
    services.member_update(actor=district_user, member=read_earlier, data={"notes": "补记"})
    member.refresh_from_db()
    assert (member.status, member.status_reason, member.notes) == ("moved_out", "迁往外省", "补记")


def test_every_write_raises_the_version_once(areas, district_user, member):
    assert member.version == 1
    services.member_update(actor=district_user, member=member, data={"workplace": "太原"})
    services.member_update(actor=district_user, member=member, data={"workplace": "太原"})
    services.member_update(
        actor=district_user,
        member=member,
        data={"categories": list(Category.objects.filter(slug__in=["intellectual", "religious"]))},
    )
    services.transfer_request(
        actor=district_user, member=member, to_community=areas["140106001002"], reason="搬家"
    )
    services.member_set_status(
        actor=district_user,
        member=member,
        status="moved_out",
        date=datetime.date(2026, 3, 1),
        reason="迁往外省",
    )
    member.refresh_from_db()
    # The second update changed nothing; every other write is one version and one entry,
    # and the transfer's request is an entry of its own that changes no field.
    assert member.version == 5
    assert member.changes.count() == 6


def test_an_import_update_raises_the_version(areas, member):
    roster_import(
        actor=None,
        data=roster(person(member.name, number=member.id_number, status="民盟")),
        filename="花名册.xlsx",
    )
    member.refresh_from_db()
    assert (member.political_status.code, member.version) == ("05", 2)


# -- Hole 11: answers about people outside the user's area are audited and limited --------------


def test_an_answer_about_a_person_outside_the_area_is_audited_masked(
    areas, community_user, far_member
):
    data = new_member_data(areas["140106001001"], id_number=far_member.id_number)
    with pytest.raises(ValidationError) as refused:
        services.member_create(actor=community_user, data=data)
    assert refused.value.message_dict["id_number"] == [
        "此人已在您管辖范围以外的区域登记，请联系街道或区委统战部办理转移，不要重复新建档案。"
    ]
    event = probes().get()
    assert event.actor == community_user
    assert event.detail == {"probe": far_member.id_number_masked}
    assert (event.object_type, event.object_id) == ("members.member", str(far_member.pk))
    assert not AuditEvent.objects.filter(detail__icontains=far_member.id_number).exists()


def test_answers_about_people_outside_the_area_are_limited_per_hour(
    areas, community_user, settings
):
    settings.MEMBER_PROBE_LIMIT_PER_HOUR = 2
    outside = [MemberFactory(community=areas["140105001001"]) for _ in range(3)]
    refusals = []
    for far in outside:
        data = new_member_data(areas["140106001001"], id_number=far.id_number)
        with pytest.raises(ValidationError) as refused:
            services.member_create(actor=community_user, data=data)
        refusals.append(refused.value.message_dict["id_number"][0])
    assert "管辖范围以外" in refusals[0] and "管辖范围以外" in refusals[1]
    assert refusals[2] == "您在一小时内查询到辖区外已登记人员的次数过多（最多 2 次），请稍后再试。"
    assert probes().count() == 2
    refused_event = probes(AuditEvent.Outcome.REFUSED).get()
    assert refused_event.detail == {"probe": outside[2].id_number_masked}


def test_answers_older_than_an_hour_do_not_count(areas, community_user, settings, monkeypatch):
    settings.MEMBER_PROBE_LIMIT_PER_HOUR = 1
    first, second = (MemberFactory(community=areas["140105001001"]) for _ in range(2))
    earlier = timezone.now() - datetime.timedelta(minutes=61)
    with monkeypatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: earlier)
        with pytest.raises(ValidationError):
            services.member_create(
                actor=community_user,
                data=new_member_data(areas["140106001001"], id_number=first.id_number),
            )
    with pytest.raises(ValidationError) as refused:
        services.member_create(
            actor=community_user,
            data=new_member_data(areas["140106001001"], id_number=second.id_number),
        )
    assert "管辖范围以外" in refused.value.message_dict["id_number"][0]
    assert probes().count() == 2


def test_an_import_answer_about_a_person_outside_the_area_is_audited(
    areas, district_user, far_member
):
    report = roster_import(
        actor=district_user,
        data=roster(person(number=far_member.id_number)),
        filename="花名册.xlsx",
        dry_run=True,
    )
    assert "管辖范围以外" in report.refused[0].message
    event = probes().get()
    assert (event.actor, event.detail) == (district_user, {"probe": far_member.id_number_masked})


def test_past_the_limit_an_import_refuses_free_numbers_as_it_refuses_numbers_elsewhere(
    areas, district_user, far_member, settings
):
    """An import's check would tell registered from free numbers at scale: past the limit a
    row of a free number gets the refusal a row of a number registered elsewhere gets."""
    settings.MEMBER_PROBE_LIMIT_PER_HOUR = 1
    other = MemberFactory(community=areas["140105001001"])
    report = roster_import(
        actor=district_user,
        data=roster(
            person(number=far_member.id_number),
            person(number=other.id_number),
            person(number=id_number_for()),
        ),
        filename="花名册.xlsx",
        dry_run=True,
    )
    answered, registered, free = (error.message for error in report.refused)
    assert "管辖范围以外" in answered
    assert "次数过多" in registered and free == registered
    assert report.created == 0
    assert probes(AuditEvent.Outcome.REFUSED).count() == 2


def test_an_answer_within_the_area_is_no_probe(areas, district_user, neighbour_member):
    data = new_member_data(areas["140106001001"], id_number=neighbour_member.id_number)
    with pytest.raises(ValidationError):
        services.member_create(actor=district_user, data=data)
    assert not probes().exists()


# -- A person is not registered in a retired area (撤并, 撤销) ---------------------------------


def test_a_member_is_not_registered_in_a_community_merged_away(areas, community_user):
    """The form offers current communities only, but the form was filled before the merge:
    the registration that arrives after it is refused by the service, which is what a merge
    running at the same moment leaves it to (nothing is left pointing at a retired area)."""
    from tongzhan.services import area_merge

    community = areas["140106001001"]
    area_merge(actor=None, source=community, target=areas["140106001002"])
    community.refresh_from_db()
    assert community.is_retired

    with pytest.raises(ValidationError) as refused:
        services.member_create(actor=community_user, data=new_member_data(community))

    assert refused.value.message_dict["community"] == ["“桥东一社区”已撤销。"]
    assert not Member.objects.filter(community=community).exists()


def test_a_member_is_not_registered_in_a_grid_merged_away(areas):
    from tongzhan.models import Area
    from tongzhan.services import area_merge

    grid = areas["140106001001001"]
    other = Area.objects.create(
        code="140106001001002", name="桥东一社区第二网格", level="grid", parent=grid.parent
    )
    area_merge(actor=None, source=grid, target=other)

    with pytest.raises(ValidationError) as refused:
        services.member_create(actor=None, data=new_member_data(grid.parent, grid=grid))

    assert refused.value.message_dict["grid"] == ["“桥东一社区第一网格”已撤销。"]
