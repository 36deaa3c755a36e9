"""Key rotation (issue 19): a database written with Fernet and HMAC-SHA256 is rewritten in
SM4-GCM and HMAC-SM3 by `manage.py rotate_keys`, in batches that survive an interruption,
with every value and every lookup working before, during and after."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.urls import reverse

from members.models import Member
from members.tests.factories import MemberFactory
from tongzhan import crypto
from tongzhan.models import AuditEvent, KeyRotation
from tongzhan.rotation import rotation_run, rotation_start, value_forms

pytestmark = pytest.mark.django_db

FERNET = Fernet.generate_key().decode()
SM4_NEW = "n1:MDEyMzQ1Njc4OWFiY2RlZg=="


@pytest.fixture
def written_with_fernet(areas, settings):
    """Seven members written as before issue 19: Fernet values, HMAC-SHA256 hashes."""
    settings.FIELD_ENCRYPTION_ALGORITHM = "aes"
    settings.FIELD_ENCRYPTION_KEYS = [FERNET]
    settings.FIELD_SM4_KEYS = []
    members = [
        MemberFactory(community=areas["140106001001"], phone=f"1380013800{n}") for n in range(7)
    ]
    # Upgraded: SM4 writes from now on, the Fernet key still reads what is stored.
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4"
    settings.FIELD_SM4_KEYS = [SM4_NEW]
    return members


def forms_of_members():
    forms = value_forms()
    return forms["members.member.id_number"], forms["members.member.phone"]


def test_before_the_rotation_the_old_values_read_and_are_found(written_with_fernet):
    member = written_with_fernet[0]
    assert forms_of_members() == ({"aes": 7}, {"aes": 7})
    assert Member.objects.get(pk=member.pk).id_number == member.id_number
    hashes = crypto.lookup_hashes(member.phone)
    assert len(hashes) == 2 and member.phone_hash == hashes[1]  # the SHA-256 one still found
    # Nobody is registered twice, whichever form her number is stored in.
    with pytest.raises(ValidationError):
        MemberFactory(community=member.community, id_number=member.id_number)


def test_the_rotation_rewrites_every_value_and_hash_and_lookups_keep_working(
    written_with_fernet, client, community_user, settings
):
    rotation, new = rotation_start(by="test")
    assert new and rotation.target == "sm4:n1"
    done = rotation_run(rotation, batch=3)
    assert done.state == KeyRotation.State.DONE
    assert done.progress["members.member"]["rewritten"] == 7
    assert forms_of_members() == ({"sm4:n1": 7}, {"sm4:n1": 7})
    # The Fernet key can go now: every value opens and every lookup finds with SM4 alone.
    settings.FIELD_ENCRYPTION_KEYS = []
    assert crypto.lookup_hashes("13800138003") == [crypto.lookup_hash("13800138003")]
    for member in written_with_fernet:
        stored = Member.objects.get(pk=member.pk)
        assert (stored.id_number, stored.phone) == (member.id_number, member.phone)
        assert Member.objects.filter(id_number_hash__in=stored.id_number_hashes()).count() == 1
        assert stored.phone_hash == crypto.lookup_hash(member.phone)
    client.force_login(community_user)
    target = written_with_fernet[3]
    page = client.get(reverse("members:list"), {"q": target.id_number}).content.decode()
    assert target.name in page
    page = client.get(reverse("members:list"), {"q": target.phone}).content.decode()
    assert target.name in page
    with pytest.raises(ValidationError):
        MemberFactory(community=target.community, id_number=target.id_number)
    # One audit line when it starts and one when it ends; no history line on anyone.
    lines = AuditEvent.objects.filter(object_type="tongzhan.keyrotation")
    assert [line.detail["key_rotation"] for line in lines.order_by("id")] == ["start", "done"]


def test_an_interrupted_rotation_is_taken_up_where_it_stopped(written_with_fernet):
    rotation, _new = rotation_start()
    stopped = rotation_run(rotation, batch=2, stop_after=2)
    assert stopped.state == KeyRotation.State.RUNNING
    step = stopped.progress["members.member"]
    assert step["read"] == 4 and step["rewritten"] == 4
    assert forms_of_members()[0] == {"sm4:n1": 4, "aes": 3}
    # Running the command again resumes the same rotation rather than starting anew.
    resumed, new = rotation_start()
    assert (resumed.pk, new) == (rotation.pk, False)
    call_command("rotate_keys", "--now")
    done = KeyRotation.objects.get(pk=rotation.pk)
    assert done.state == KeyRotation.State.DONE
    assert done.progress["members.member"]["rewritten"] == 7  # none rewritten twice
    assert forms_of_members() == ({"sm4:n1": 7}, {"sm4:n1": 7})
    # A new run has nothing left to rewrite.
    again = rotation_run(rotation_start()[0])
    assert again.pk != rotation.pk and again.progress["members.member"]["rewritten"] == 0


def test_a_rotation_that_meets_a_value_no_key_opens_stops_and_says_so(
    written_with_fernet, settings
):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # not the one used
    rotation, _new = rotation_start()
    with pytest.raises(crypto.DecryptionError):
        rotation_run(rotation)
    failed = KeyRotation.objects.get(pk=rotation.pk)
    assert failed.state == KeyRotation.State.FAILED and "Fernet" in failed.error
    # Nothing was rewritten under a wrong reading.
    assert forms_of_members() == ({"aes": 7}, {"aes": 7})


def test_a_new_sm4_key_retires_the_old_one(areas, settings):
    settings.FIELD_SM4_KEYS = ["o1:ZmVkY2JhOTg3NjU0MzIxMA=="]
    member = MemberFactory(community=areas["140106001001"])
    settings.FIELD_SM4_KEYS = [SM4_NEW, "o1:ZmVkY2JhOTg3NjU0MzIxMA=="]
    rotation_run(rotation_start()[0])
    assert forms_of_members()[0] == {"sm4:n1": 1}
    settings.FIELD_SM4_KEYS = [SM4_NEW]
    assert Member.objects.get(pk=member.pk).id_number == member.id_number


def test_the_status_names_the_forms_stored(written_with_fernet, capsys):
    call_command("rotate_keys", "--status")
    out = capsys.readouterr().out
    assert "members.member.id_number: {'aes': 7}" in out


def test_a_seeded_demo_written_with_fernet_reads_and_finds_everyone_after_the_rotation(
    settings, client
):
    """The demo district, its members, relatives, organisations and nominations, seeded as
    before SM4, then rotated: every encrypted value of every model is in SM4 and equal to
    what it was, and everyone is found by number and phone with the Fernet key gone."""
    from tongzhan.models import User
    from tongzhan.rotation import encrypted_models

    settings.FIELD_ENCRYPTION_ALGORITHM = "aes"
    settings.FIELD_ENCRYPTION_KEYS = [FERNET]
    settings.FIELD_SM4_KEYS = []
    call_command("seed_demo", members=30, stdout=open("/dev/null", "w"))  # noqa: SIM115
    before = {
        model: {row["pk"]: row for row in model._base_manager.values("pk", *names)}
        for model, names in encrypted_models()
    }
    assert any(rows for rows in before.values())
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4"
    settings.FIELD_SM4_KEYS = [SM4_NEW]
    call_command("rotate_keys", "--now")
    settings.FIELD_ENCRYPTION_KEYS = []
    for field, forms in value_forms().items():
        assert set(forms) <= {"sm4:n1"}, (field, forms)
    for model, names in encrypted_models():
        after = {row["pk"]: row for row in model._base_manager.values("pk", *names)}
        assert after == before[model], model
    client.force_login(User.objects.get(username="quwei"))
    for member in Member.objects.exclude(phone="").order_by("pk")[:5]:
        for text in (member.id_number, member.phone):
            page = client.get(reverse("members:list"), {"q": text}).content.decode()
            assert member.name in page, text


SM4_NEXT = "n2:ZmVkY2JhOTg3NjU0MzIxMA=="


def test_a_rotation_stopped_and_taken_up_under_a_newer_key_starts_again(
    written_with_fernet, settings
):
    """Resumed where it stopped, the rows it had passed would keep the key it wrote then,
    which is removed once the rotation says it is done."""
    first = rotation_run(rotation_start()[0], batch=2, stop_after=2)
    assert forms_of_members()[0] == {"sm4:n1": 4, "aes": 3}
    settings.FIELD_SM4_KEYS = [SM4_NEXT, SM4_NEW]
    rotation, new = rotation_start()
    assert new and rotation.target == "sm4:n2"
    closed = KeyRotation.objects.get(pk=first.pk)
    assert closed.state == KeyRotation.State.FAILED and f"rotation {rotation.pk}" in closed.error
    assert rotation_run(rotation).state == KeyRotation.State.DONE
    assert forms_of_members() == ({"sm4:n2": 7}, {"sm4:n2": 7})
    settings.FIELD_SM4_KEYS, settings.FIELD_ENCRYPTION_KEYS = [SM4_NEXT], []
    for member in written_with_fernet:
        assert Member.objects.get(pk=member.pk).id_number == member.id_number
    assert rotation_start()[0].pk not in (first.pk, rotation.pk)  # the closed one stays closed


def test_a_rotation_stopped_and_taken_up_under_a_new_hash_key_starts_again(
    written_with_fernet, settings
):
    settings.FIELD_HASH_KEY = "the-hash-key-of-the-first-run"
    rotation_run(rotation_start()[0], batch=2, stop_after=2)
    settings.FIELD_HASH_KEY = "the-hash-key-of-the-second-run"
    settings.FIELD_HASH_PREVIOUS_KEYS = ["the-hash-key-of-the-first-run"]
    rotation, new = rotation_start()
    assert new
    rotation_run(rotation)
    settings.FIELD_HASH_PREVIOUS_KEYS, settings.FIELD_ENCRYPTION_KEYS = [], []
    for member in written_with_fernet:
        stored = Member.objects.get(pk=member.pk)
        assert stored.id_number_hash == stored.lookup_hash_values()["id_number_hash"]
        assert Member.objects.filter(phone_hash__in=crypto.lookup_hashes(member.phone)).exists()


def test_a_worker_with_other_keys_than_the_rotations_rewrites_nothing(
    written_with_fernet, settings
):
    """A worker not restarted with the new keys would write the old key everywhere and
    call the rotation done."""
    rotation, _new = rotation_start()
    settings.FIELD_SM4_KEYS = [SM4_NEXT, SM4_NEW]  # the command's keys, not yet the worker's
    with pytest.raises(ImproperlyConfigured, match="keys"):
        rotation_run(rotation)
    assert KeyRotation.objects.get(pk=rotation.pk).state == KeyRotation.State.FAILED
    assert forms_of_members() == ({"aes": 7}, {"aes": 7})
