"""Roster import pages: upload, progress, preview and confirmation, result, history.

Jobs are scoped like members, by the uploader's area: a street officer sees the imports of
the street, a district officer those of the district. Only the uploader (or an
administrator) confirms or cancels.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView

from tongzhan.audit import audit_record
from tongzhan.mixins import ServiceFormMixin
from tongzhan.models import AuditEvent

from . import jobs
from .forms import ColumnMappingForm, RosterUploadForm
from .imports import IMPORT_PERMISSIONS
from .models import ImportJob, ImportRow, change_labels

PERMISSION = IMPORT_PERMISSIONS
ROWS_PER_PAGE = 25
Kind = ImportRow.Kind
# The report's count of each kind of row, in the order of the tabs.
KIND_COUNTS = {
    Kind.CREATED: "created",
    Kind.UPDATED: "updated",
    Kind.UNCHANGED: "unchanged",
    Kind.REFUSED: "refused_rows",
}


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
        context.update(
            done=done,
            total=total,
            report=report,
            can_decide=jobs.can_decide(self.request.user, job),
            has_refused_file=ImportJob.objects.filter(
                pk=job.pk, refused_file__isnull=False
            ).exists(),
        )
        if report:
            context.update(self.rows_context(job, report))
        if job.state == ImportJob.State.MAPPING and context["can_decide"]:
            context["columns_form"] = _columns_form(job)
        return context

    def rows_context(self, job: ImportJob, report: dict) -> dict:
        """The rows of one kind (a tab, `?kind=`), a page of 25 at a time."""
        tabs = [
            {"kind": kind, "label": kind.label, "count": report.get(key, 0)}
            for kind, key in KIND_COUNTS.items()
        ]
        kind = self.request.GET.get("kind")
        if kind not in KIND_COUNTS:
            kind = next((tab["kind"] for tab in tabs if tab["count"]), Kind.CREATED)
        rows = ImportRow.objects.filter(job=job, kind=kind).order_by("row")
        paginator = Paginator(rows, ROWS_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        page.object_list = list(page.object_list)
        if kind == Kind.UPDATED:
            labels = change_labels()
            for row in page.object_list:
                for change in row.detail:
                    change["label"] = labels.get(change["field"], change["field"])
        for tab in tabs:
            tab["query"] = urlencode({"kind": tab["kind"]})
        written = report.get("written") and (report.get("created") or report.get("updated"))
        return {
            "tabs": tabs,
            "kind": kind,
            "rows": page.object_list,
            "page_obj": page,
            "paginator": paginator,
            "is_paginated": page.has_other_pages(),
            "query_without_page": urlencode({"kind": kind}),
            "members_url": (
                f"{reverse('members:list')}?{urlencode({'import': job.pk})}"
                if job.report and written
                else ""
            ),
        }


def _columns_form(job: ImportJob, data=None) -> ColumnMappingForm:
    offered = jobs.columns_offered(job)
    form = ColumnMappingForm(data, unknown=job.unknown_columns, offered=offered)
    form.offered = bool(offered)
    return form


class ImportColumnsView(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin, FormView):
    """The mapping step: what each column no rule knows holds, before the file is checked.
    Shown on the job's page; this page shows it again when an answer is refused."""

    permission_required = PERMISSION
    template_name = "members/import_columns.html"

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission():
            return self.handle_no_permission()
        self.job = get_object_or_404(
            _jobs(request.user).defer("data", "refused_file"), pk=kwargs["pk"]
        )
        if not jobs.can_decide(request.user, self.job):
            raise PermissionDenied
        if self.job.state != ImportJob.State.MAPPING:
            return redirect("members:import_detail", self.job.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        return _columns_form(self.job, self.request.POST if self.request.method == "POST" else None)

    def get_context_data(self, **kwargs):
        return super().get_context_data(job=self.job, **kwargs)

    def write(self, form):
        return jobs.job_name_columns(
            actor=self.request.user, job=self.job, columns=form.columns(), request=self.request
        )

    def get_success_url(self):
        return reverse("members:import_detail", args=[self.job.pk])


@login_required
@permission_required(PERMISSION, raise_exception=True)
def import_status(request, pk):
    """What the progress bar polls."""
    job = get_object_or_404(_jobs(request.user).defer("data", "refused_file"), pk=pk)
    # Whoever watches a job whose worker died sees it queued again and taken up.
    if job.is_busy and jobs.jobs_recover([job.pk]):
        job.refresh_from_db(fields=["state", "done_rows", "total_rows"])
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
    response["Cache-Control"] = "private, no-store"
    return response
