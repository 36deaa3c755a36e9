"""Roster import pages: upload, progress, preview and confirmation, result, history.

Jobs are scoped like members, by the uploader's area: a street officer sees the imports of
the street, a district officer those of the district. Only the uploader (or an
administrator) confirms or cancels.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView

from tongzhan.audit import audit_record
from tongzhan.models import AuditEvent

from . import jobs
from .forms import RosterUploadForm
from .imports import IMPORT_PERMISSIONS
from .models import ImportJob, Member

PERMISSION = IMPORT_PERMISSIONS
# Updated people listed on the preview page; the rest are counted.
CHANGES_SHOWN = 200


def _jobs(user):
    return ImportJob.objects.visible_to(user).select_related("created_by", "community")


class ImportListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    permission_required = PERMISSION
    template_name = "members/import_list.html"
    context_object_name = "jobs"
    paginate_by = 25

    def get_queryset(self):
        return _jobs(self.request.user).defer("data", "refused_file", "check_report")


class ImportCreateView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    permission_required = PERMISSION
    template_name = "members/import_form.html"
    form_class = RosterUploadForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        job = jobs.job_create(
            actor=self.request.user,
            data=upload.read(),
            filename=upload.name,
            community=form.cleaned_data["community"],
            strict=form.cleaned_data["strict"],
            request=self.request,
        )
        return redirect("members:import_detail", job.pk)


class ImportDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = PERMISSION
    template_name = "members/import_detail.html"
    context_object_name = "job"

    def get_queryset(self):
        return _jobs(self.request.user).defer("data", "refused_file")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        done, total = jobs.job_progress(job)
        report = job.report or job.check_report
        fields = [*Member._meta.concrete_fields, *Member._meta.many_to_many]
        labels = {field.name: field.verbose_name for field in fields}
        changes = [
            {
                **person,
                "changes": [
                    {**change, "label": labels.get(change["field"], change["field"])}
                    for change in person["changes"]
                ],
            }
            for person in report.get("changes", [])[:CHANGES_SHOWN]
        ]
        context.update(
            done=done,
            total=total,
            report=report,
            changes=changes,
            changes_hidden=max(report.get("updated", 0) - len(changes), 0),
            refused_hidden=max(report.get("refused_count", 0) - len(report.get("refused", [])), 0),
            can_decide=jobs.can_decide(self.request.user, job),
            has_refused_file=ImportJob.objects.filter(
                pk=job.pk, refused_file__isnull=False
            ).exists(),
        )
        return context


@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_status(request, pk):
    """What the progress bar polls."""
    job = get_object_or_404(_jobs(request.user).defer("data", "refused_file"), pk=pk)
    done, total = jobs.job_progress(job)
    # 99 at most while running: the result is still being put together after the last row.
    percent = job.percent if not total or not job.is_running else min(99, done * 100 // total)
    return JsonResponse(
        {
            "state": job.state,
            "label": job.get_state_display(),
            "busy": job.is_busy,
            "done": done,
            "total": total,
            "percent": percent,
        }
    )


@require_POST
@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_confirm(request, pk):
    job = get_object_or_404(_jobs(request.user), pk=pk)
    jobs.job_confirm(actor=request.user, job=job, request=request)
    return redirect("members:import_detail", job.pk)


@require_POST
@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_cancel(request, pk):
    job = get_object_or_404(_jobs(request.user), pk=pk)
    jobs.job_cancel(actor=request.user, job=job, request=request)
    return redirect("members:import_detail", job.pk)


@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_refused(request, pk):
    """The refused rows as an .xlsx with a reason column: personal data, so logged."""
    job = get_object_or_404(_jobs(request.user).defer("data"), pk=pk)
    if job.refused_file is None:
        raise Http404(_("No refused rows are kept for this import."))
    report = job.report or job.check_report
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=job,
        request=request,
        detail={"refused_rows_of": job.filename, "rows": report.get("refused_rows", 0)},
    )
    stem = job.filename.rsplit(".", 1)[0]
    response = HttpResponse(
        bytes(job.refused_file),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _("%(file)s - refused rows.xlsx") % {"file": stem}
    )
    return response
