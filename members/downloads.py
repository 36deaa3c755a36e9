"""The member files made in the background (`tongzhan.downloads`): large roster exports and
the registration forms of a whole community.

Each runs as its owner is when it runs: their scope (`visible_to`) and whether they may see
full numbers are read then, not when they asked; an owner who may no longer see the members
gets no file.
"""

import tempfile

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.translation import gettext as _

from tongzhan.downloads import AuditLine, Failed, Produced, Producer, counted
from tongzhan.models import Area, AuditEvent

from . import exports, printing
from .filters import list_filterset, masked_filters
from .models import Member

ROSTER = "members.roster"
FORMS = "members.forms"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The community's forms in the order of its grids, then names.
FORMS_ORDER = ("grid__code", "name", "id")


def roster_produce(*, download, progress) -> Produced:
    """The member list as it was filtered, as an .xlsx roster (`members.exports`)."""
    owner = download.owner
    if not owner.has_perm("members.view_member"):
        raise PermissionDenied
    full = owner.has_perm("members.reveal_member")
    query = QueryDict(mutable=True)
    for key, values in download.params.get("query", {}).items():
        query.setlist(key, values)
    queryset = Member.objects.visible_to(owner).order_by("community__code", "id")
    filterset = list_filterset(query, queryset, owner)
    if not filterset.is_valid():  # an area or grid left the owner's scope meanwhile
        raise Failed(_("The list's filters no longer apply to your area; no file was made."))
    members = filterset.qs
    total = members.count()
    rows = exports.roster_queryset(members, full=full).iterator(chunk_size=exports.CHUNK)
    # On disk while it is written: openpyxl's streaming writer keeps memory flat.
    with tempfile.TemporaryFile() as out:
        count = exports.write_roster(counted(rows, total, progress), out, full=full)
        out.seek(0)
        content = out.read()
    line = AuditLine(
        action=AuditEvent.Action.EXPORT,
        obj=download,
        detail={"filters": masked_filters(query), "rows": count, "full": full},
    )
    return Produced(content=content, content_type=XLSX, rows=count, audit=[line])


def forms_produce(*, download, progress) -> Produced:
    """A community's registration forms as one PDF, one page each (`members.printing`)."""
    owner = download.owner
    if not owner.has_perm("members.view_member"):
        raise PermissionDenied
    full = owner.has_perm("members.reveal_member")
    code = download.params.get("community", "")
    community = Area.objects.visible_to(owner).communities().filter(code=code).first()
    if community is None:
        raise PermissionDenied
    members = Member.objects.visible_to(owner).filter(
        community=community, status=Member.Status.ACTIVE
    )
    count = members.count()
    if count > settings.MEMBER_PRINT_MAX:
        raise Failed(
            _(
                "%(community)s has %(count)s registered members: one PDF holds at most "
                "%(limit)s forms; print them from the members' pages."
            )
            % {"community": community.name, "count": count, "limit": settings.MEMBER_PRINT_MAX}
        )
    members = list(printing.print_queryset(members.order_by(*FORMS_ORDER), full=full))
    pdf = printing.render_forms_in_batches(members, full=full, viewer=owner, progress=progress)
    lines = printing.audit_lines(
        members, full=full, detail={"community": community.code}, obj=download
    )
    return Produced(content=pdf, content_type="application/pdf", rows=len(members), audit=lines)


PRODUCERS = [
    Producer(kind=ROSTER, produce=roster_produce, permission="members.view_member"),
    Producer(kind=FORMS, produce=forms_produce, permission="members.view_member"),
]
