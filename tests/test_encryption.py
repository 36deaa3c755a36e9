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


# -- SM4-GCM and the HMAC-SM3 blind index (issue 19) -----------------------------------------

SM4_A = "a1:MDEyMzQ1Njc4OWFiY2RlZg=="  # 16 bytes
SM4_B = "b2:ZmVkY2JhOTg3NjU0MzIxMA=="


def stored_value(member, column="id_number"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM members_member WHERE id = %s", [member.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_values_are_stored_as_sm4_gcm_naming_their_key(areas, settings):
    from members.models import Member
    from members.tests.factories import MemberFactory

    settings.FIELD_SM4_KEYS = [SM4_A]
    member = MemberFactory(community=areas["140106001001"])
    raw = stored_value(member)
    assert raw.startswith("sm4:a1:")
    assert member.id_number not in raw
    assert Member.objects.get(pk=member.pk).id_number == member.id_number


def test_the_newest_key_encrypts_and_every_configured_key_decrypts(areas, settings):
    from members.models import Member
    from members.tests.factories import MemberFactory

    settings.FIELD_SM4_KEYS = [SM4_A]
    old = MemberFactory(community=areas["140106001001"])
    settings.FIELD_SM4_KEYS = [SM4_B, SM4_A]
    new = MemberFactory(community=areas["140106001001"])
    assert stored_value(new).startswith("sm4:b2:")
    assert stored_value(old).startswith("sm4:a1:")
    assert Member.objects.get(pk=old.pk).id_number == old.id_number


def test_a_value_is_refused_under_a_missing_or_a_wrong_key(settings):
    from tongzhan import crypto

    settings.FIELD_SM4_KEYS = [SM4_A]
    token = crypto.encrypt("110101199003077777")
    assert crypto.decrypt(token) == "110101199003077777"
    settings.FIELD_SM4_KEYS = [SM4_B]
    with pytest.raises(crypto.DecryptionError, match="'a1' is not configured"):
        crypto.decrypt(token)
    # The same id with another key: the tag does not verify.
    settings.FIELD_SM4_KEYS = ["a1:ZmVkY2JhOTg3NjU0MzIxMA=="]
    with pytest.raises(crypto.DecryptionError, match="wrong or the value was altered"):
        crypto.decrypt(token)
    # A value moved under another key's id does not open either: the id is authenticated.
    settings.FIELD_SM4_KEYS = [SM4_A, "zz:MDEyMzQ1Njc4OWFiY2RlZg=="]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token.replace("sm4:a1:", "sm4:zz:"))


def test_the_setting_says_which_algorithm_writes_and_each_value_says_which_wrote_it(settings):
    from cryptography.fernet import Fernet

    from tongzhan import crypto

    settings.FIELD_SM4_KEYS = [SM4_A]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.FIELD_ENCRYPTION_ALGORITHM = "aes"
    aes = crypto.encrypt("13800138000")
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4"
    sm4 = crypto.encrypt("13800138000")
    assert crypto.value_form(aes) == "aes" and aes.startswith("gAAAA")
    assert crypto.value_form(sm4) == "sm4:a1"
    assert crypto.decrypt(aes) == crypto.decrypt(sm4) == "13800138000"


def test_the_blind_index_is_hmac_sm3_and_looks_for_the_old_hashes_while_their_keys_remain(
    settings,
):
    import hashlib
    import hmac

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import hmac as keyed

    from tongzhan import crypto

    settings.FIELD_HASH_KEY = "k"
    settings.FIELD_ENCRYPTION_KEYS = []
    sm3 = keyed.HMAC(b"k", hashes.SM3())
    sm3.update(b"13800138000")
    assert crypto.lookup_hash("13800138000") == sm3.finalize().hex()
    assert crypto.lookup_hashes("13800138000") == [crypto.lookup_hash("13800138000")]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    sha = hmac.new(b"k", b"13800138000", hashlib.sha256).hexdigest()
    assert crypto.lookup_hashes("13800138000") == [crypto.lookup_hash("13800138000"), sha]
    settings.FIELD_HASH_PREVIOUS_KEYS = ["old"]
    assert len(crypto.lookup_hashes("13800138000")) == 4


def test_a_badly_written_key_stops_the_start_with_its_reason(settings):
    from django.core.exceptions import ImproperlyConfigured

    from tongzhan import crypto

    for entries, reason in (
        (["a1:c2hvcnQ="], "must be 16 bytes"),
        (["bad id!:MDEyMzQ1Njc4OWFiY2RlZg=="], "key id"),
        ([SM4_A, SM4_A], "given twice"),
    ):
        settings.FIELD_SM4_KEYS = entries
        with pytest.raises(ImproperlyConfigured, match=reason):
            crypto.encrypt("x")
    settings.FIELD_SM4_KEYS = [SM4_A]
    settings.FIELD_ENCRYPTION_ALGORITHM = "rot13"
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_ALGORITHM"):
        crypto.encrypt("x")


def test_a_key_written_without_its_id_is_refused_without_showing_it(settings):
    """The start's error goes to the service's log: it names the entry, never its text."""
    from django.core.exceptions import ImproperlyConfigured

    from tongzhan import crypto

    key = SM4_A.partition(":")[2]
    for entries in ([key], [SM4_B, f"a1 {key}"], ["k1" + "x" * 14]):
        settings.FIELD_SM4_KEYS = entries
        with pytest.raises(ImproperlyConfigured, match="<id>:<base64") as refused:
            crypto.encrypt("x")
        assert entries[-1] not in str(refused.value) and key not in str(refused.value)
        assert f"entry {len(entries)}" in str(refused.value)
