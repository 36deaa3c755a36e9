"""What an attacker, or a careless reader, does with the audit log: a search by a person's full
name (which the log's lines name masked) written back into the log in full."""

import pytest
from django.urls import reverse

from conftest import _user
from tongzhan.masking import mask_name
from tongzhan.models import AuditEvent, User

pytestmark = pytest.mark.django_db


def test_an_export_of_her_lines_found_by_her_full_name_logs_the_name_masked(
    client, community_user, member
):
    """The log outlives her record (retention anonymises it, the chained log stays whole), so
    it names her masked; the auditor's export of the lines found by her full name must not
    write that name into the log in full."""
    client.force_login(community_user)
    client.post(reverse("members:detail", args=[member.pk]))
    client.force_login(_user("ivan", User.Role.AUDITOR, None))
    exported = client.get(reverse("audit_export"), {"object": member.name})
    assert exported.status_code == 200
    logged = AuditEvent.objects.get(action="export", username="ivan")
    assert logged.detail["filters"] == {"object": mask_name(member.name)}
    assert logged.detail["rows"] == 2
    # A type or an id is no one's name: written as typed.
    client.get(reverse("audit_export"), {"object": "members.member"})
    latest = AuditEvent.objects.filter(action="export", username="ivan").latest("pk")
    assert latest.detail["filters"] == {"object": "members.member"}
    assert not AuditEvent.objects.filter(detail__icontains=member.name).exists()
