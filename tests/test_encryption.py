"""A database dump alone does not reveal full ID numbers or phones."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_id_numbers_and_phones_are_stored_encrypted(member):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_member WHERE id = %s", [member.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert member.id_number not in row
    assert member.phone not in row
    assert member.id_number_masked in row  # the masked form is what lists show


def test_the_lookup_hash_is_keyed(member, settings):
    from tongzhan.crypto import lookup_hash

    assert member.id_number_hash == lookup_hash(member.id_number)
    settings.FIELD_HASH_KEY = "another-key"
    assert lookup_hash(member.id_number) != member.id_number_hash


def test_the_same_person_cannot_be_registered_twice(areas, member):
    from django.core.exceptions import ValidationError

    from members.tests.factories import MemberFactory

    with pytest.raises(ValidationError):
        MemberFactory(community=areas["140106001002"], id_number=member.id_number.lower())
