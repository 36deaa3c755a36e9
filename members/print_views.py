"""The registration forms as PDF, and the ID photo they show. Scope first: out of it is 404.

Every PDF is audited as an export; for a role that may see full numbers, which the forms then
print, each person's form is also audited as a reveal, as showing them on the page is.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongzhan.audit import audit_record
from tongzhan.mixins import action_write
from tongzhan.models import Area
from tongzhan.services import download_request

from . import downloads as member_downloads
from . import printing, services
from .models import Member
from .printing import CONTENT_TYPES

WEB_FORM = "网页表单"
COMMUNITY_CODE = re.compile(r"[0-9]{12}")


def _pdf(request, members, *, full: bool, filename: str, detail: dict, obj=None):
    """The forms of `members` as a PDF download, audited in the same breath."""
    members = list(printing.print_queryset(members, full=full))
    pdf = printing.render_forms(members, full=full, viewer=request.user)
    for line in printing.audit_lines(members, full=full, detail=detail, obj=obj):
        audit_record(
            actor=request.user,
            action=line.action,
            obj=line.obj,
            request=request,
            detail=line.detail,
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=filename
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@permission_required("members.view_member", raise_exception=True)
def member_print(request, pk):
    """One person's registration form (统战对象信息登记表), one A4 page."""
    member = get_object_or_404(Member.objects.visible_to(request.user), pk=pk)
    return _pdf(
        request,
        Member.objects.filter(pk=member.pk),
        full=request.user.has_perm("members.reveal_member"),
        filename=f"统战对象信息登记表_{member.name}.pdf",
        detail={"member": member.pk},
        obj=member,
    )


@login_required
@permission_required("members.view_member", raise_exception=True)
def community_print(request):
    """The forms of a community's registered members as one PDF, a page each."""
    code = request.GET.get("community", "")
    if not COMMUNITY_CODE.fullmatch(code):
        raise Http404
    community = get_object_or_404(Area.objects.visible_to(request.user).communities(), code=code)
    members = Member.objects.visible_to(request.user).filter(
        community=community, status=Member.Status.ACTIVE
    )
    count = members.count()
    limit = settings.MEMBER_PRINT_MAX
    if count > limit:
        messages.error(
            request,
            _(
                "%(community)s has %(count)s registered members: one PDF holds at most "
                "%(limit)s forms; print them from the members' pages."
            )
            % {"community": community.name, "count": count, "limit": limit},
        )
        return redirect(f"{reverse('members:list')}?area={community.pk}")
    filename = f"统战对象信息登记表_{community.name}_{timezone.localtime():%Y%m%d}.pdf"
    if count > settings.MEMBER_PRINT_INLINE_MAX:
        # Longer than a request may take: drawn in the background, offered when done.
        try:
            download = download_request(
                actor=request.user,
                kind=member_downloads.FORMS,
                title=filename,
                params={"community": community.code},
                request=request,
            )
        except ValidationError as error:  # too many of the user's files being made
            messages.error(request, error.messages[0])
            return redirect("download_list")
        return redirect("download_detail", download.pk)
    return _pdf(
        request,
        members.order_by(*member_downloads.FORMS_ORDER),
        full=request.user.has_perm("members.reveal_member"),
        filename=filename,
        detail={"community": community.code},
    )


def _editable(request, pk) -> Member:
    """A member in scope (else 404) whom the user may change (else 403)."""
    member = get_object_or_404(Member.objects.visible_to(request.user), pk=pk)
    editable = Member.objects.editable_by(request.user).filter(pk=member.pk).exists()
    if not editable or not request.user.has_perm("members.change_member"):
        raise PermissionDenied
    return member


@login_required
@permission_required("members.view_member", raise_exception=True)
def member_photo(request, pk):
    """A member's ID photo, for whoever sees the member; never from a public address."""
    member = get_object_or_404(Member.objects.visible_to(request.user), pk=pk)
    if not member.photo:
        raise Http404
    name = member.photo.name
    response = FileResponse(
        member.photo.open("rb"), content_type=CONTENT_TYPES.get(name[name.rfind(".") :].lower())
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@login_required
def member_photo_upload(request, pk):
    member = _editable(request, pk)
    upload = request.FILES.get("photo")
    if upload is None:
        messages.error(request, _("Choose a JPEG or PNG photo to upload."))
    else:
        action_write(
            request,
            lambda: services.member_photo_set(
                actor=request.user, member=member, upload=upload, source=WEB_FORM, request=request
            ),
            done=_("The photo was saved."),
        )
    return redirect("members:detail", pk=member.pk)


@require_POST
@login_required
def member_photo_remove(request, pk):
    member = _editable(request, pk)
    action_write(
        request,
        lambda: services.member_photo_remove(
            actor=request.user, member=member, source=WEB_FORM, request=request
        ),
        done=_("The photo was removed."),
    )
    return redirect("members:detail", pk=member.pk)
