"""The pages of projects introduced through members and organisations (引资引智): the list, a
project with its steps and the form to move it on, and the table per area and period with its
export.

Every page starts from `Project.objects.visible_to`: out of scope is 404, in scope but
read-only is 403. A member who introduced a project is named in full to her area's staff and
masked elsewhere (`services.introducer_name`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from members.views import XLSX
from tongzhan import spreadsheets as xlsx
from tongzhan.audit import audit_record
from tongzhan.mixins import ServiceFormMixin, form_write
from tongzhan.models import AuditEvent
from tongzhan.scoping import within_area

from . import services
from .forms import ProjectAdvanceForm, ProjectFilterForm, ProjectForm, ProjectTableForm
from .models import Project, ProjectStage, ProjectStep


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _with_introducers(projects, user):
    for project in projects:
        project.introducer = services.introducer_name(project, user)
    return projects


def _shown(user):
    return (
        Project.objects.visible_to(user)
        .select_related("member", "organisation", "area")
        .defer("member__id_number", "member__phone")
    )


class ProjectListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """The projects of the user's area, by stage, area and the year of a step."""

    permission_required = "resources.view_project"
    template_name = "resources/project_list.html"
    context_object_name = "projects"
    paginate_by = 25

    @cached_property
    def filter_form(self):
        return ProjectFilterForm(self.request.GET or None, user=self.request.user)

    def get_queryset(self):
        rows = _shown(self.request.user)
        form = self.filter_form
        if form.is_bound and not form.is_valid():
            return rows.none()
        if form.is_bound:
            data = form.cleaned_data
            if data["q"]:
                rows = rows.filter(name__contains=data["q"])
            if data["stage"]:
                rows = rows.filter(stage=data["stage"])
            if data["area"] is not None:
                rows = rows.filter(within_area(data["area"], "area"))
            if data["year"] is not None:
                rows = rows.filter(
                    Exists(
                        ProjectStep.objects.filter(
                            project_id=OuterRef("pk"), date__year=data["year"]
                        )
                    )
                )
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            filter_form=self.filter_form,
            query_without_page=_query_without_page(self.request),
            **kwargs,
        )
        _with_introducers(context["projects"], self.request.user)
        return context


class ProjectDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """A project, its steps, and (to its area's staff) the form to move it on."""

    permission_required = "resources.view_project"
    template_name = "resources/project_detail.html"
    context_object_name = "project"

    def get_queryset(self):
        return _shown(self.request.user).select_related("recorded_by")

    def get_context_data(self, **kwargs):
        user, project = self.request.user, self.object
        _with_introducers([project], user)
        editable = Project.objects.editable_by(user).filter(pk=project.pk).exists()
        return super().get_context_data(
            steps=project.steps.select_related("recorded_by"),
            editable=editable,
            advance_form=ProjectAdvanceForm(project=project)
            if editable and project.is_open
            else None,
            **kwargs,
        )


class _FormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    model = Project
    form_class = ProjectForm
    template_name = "resources/project_form.html"
    success_url_name = "resources:project_detail"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class ProjectCreateView(_FormMixin, CreateView):
    permission_required = "resources.add_project"
    success_message = gettext_lazy("The project was recorded.")

    def write(self, form):
        return services.project_create(
            actor=self.request.user, data=form.service_data(),
            intent_on=form.cleaned_data["intent_on"], request=self.request,
        )  # fmt: skip


class ProjectUpdateView(_FormMixin, UpdateView):
    permission_required = "resources.change_project"
    success_message = gettext_lazy("The changes were saved.")

    def get_object(self, queryset=None):
        project = get_object_or_404(
            Project.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        if not Project.objects.editable_by(self.request.user).filter(pk=project.pk).exists():
            raise PermissionDenied
        return project

    def write(self, form):
        return services.project_update(
            actor=self.request.user, project=self.object, data=form.service_data(),
            request=self.request,
        )  # fmt: skip


@require_POST
@login_required
@permission_required("resources.change_project", raise_exception=True)
def project_advance(request, pk):
    """Move a project on to its next stage, or to 终止; a refusal is told on its page."""
    project = get_object_or_404(Project.objects.visible_to(request.user), pk=pk)
    if not Project.objects.editable_by(request.user).filter(pk=project.pk).exists():
        raise PermissionDenied
    form = ProjectAdvanceForm(request.POST, project=project)
    if form.is_valid():
        data = form.cleaned_data
        form_write(
            request, form,
            lambda: services.project_advance(
                actor=request.user, project=project, stage=data["stage"], date=data["date"],
                note=data["note"], request=request,
            ),
            done=_("The project moved on to %(stage)s.")
            % {"stage": ProjectStage(data["stage"]).label},
        )  # fmt: skip
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("resources:project_detail", pk=project.pk)


# -- The table per area and period -------------------------------------------------------------


def _table(request):
    """The form, the period's first and last day, the area, and the rows with their total."""
    form = ProjectTableForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    if form.is_bound and not form.is_valid():
        return form, None, None, None, [], None
    data = form.cleaned_data if form.is_bound else {}
    year, quarter = data.get("year") or today.year, data.get("quarter")
    since, until = services.period_days(year, quarter)
    area = data.get("area")
    rows, total = services.project_table(request.user, area=area, since=since, until=until)
    return form, since, until, area or request.user.area, rows, total


@login_required
@permission_required("resources.view_project", raise_exception=True)
def project_table(request):
    """Projects by stage reached in the period, amounts signed and in place, and jobs, for
    each area under the one chosen."""
    form, since, until, area, rows, total = _table(request)
    return render(
        request,
        "resources/project_table.html",
        {
            "filter_form": form, "since": since, "until": until, "area": area, "rows": rows,
            "total": total, "stages": ProjectStage,
            "query": request.GET.urlencode(),
        },
    )  # fmt: skip


_HEADING = xlsx.Style(bold=True, border=True, horizontal="center", vertical="center", wrap=True)
_CELL = xlsx.Style(border=True, vertical="center")


def _amount(value) -> str:
    return f"{value:.2f}"


@login_required
@permission_required("resources.view_project", raise_exception=True)
def project_table_export(request):
    """The table as shown (area and period), as an .xlsx of text cells; audited."""
    form, since, until, area, rows, total = _table(request)
    if since is None:
        return redirect(f"{reverse('resources:project_table')}?{request.GET.urlencode()}")
    headings = [
        _("Area"), *[str(stage.label) for stage in ProjectStage],
        pgettext("project", "Amount signed (10,000 yuan)"),
        pgettext("project", "Funds in place (10,000 yuan)"), pgettext("project", "Jobs created"),
    ]  # fmt: skip
    columns = len(headings)
    book = xlsx.Book()
    sheet = book.sheet(
        _("Projects introduced"), widths={1: 18, **dict.fromkeys(range(2, columns + 1), 10)},
        freeze="B4", title_rows=(3, 3),
    )  # fmt: skip
    sheet.merge(1, 1, 1, columns)
    sheet.write(1, 1, _("Projects introduced: %(area)s") % {
        "area": area.name if area else _("all areas"),
    }, xlsx.Style(bold=True, size=14, horizontal="center"))  # fmt: skip
    sheet.merge(2, 1, 2, columns)
    sheet.write(2, 1, _("Period %(since)s to %(until)s · as of %(today)s") % {
        "since": since.isoformat(), "until": until.isoformat(),
        "today": timezone.localdate().isoformat(),
    })  # fmt: skip
    for column, heading in enumerate(headings, 1):
        sheet.write(3, column, heading, _HEADING)
    for row in [*rows, total]:
        name = row.area.name if row.area is not None and row is not total else _("Total")
        sheet.append([
            xlsx.text(name, _CELL),
            *[xlsx.text(str(row.reached[stage]), _CELL) for stage in ProjectStage.values],
            xlsx.text(_amount(row.signed), _CELL), xlsx.text(_amount(row.in_place), _CELL),
            xlsx.text(str(row.jobs), _CELL),
        ])  # fmt: skip
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=None,
        request=request,
        detail={
            "report": "project_table", "rows": len(rows),
            "area": area.code if area else "",
            "since": since.isoformat(), "until": until.isoformat(),
        },
    )  # fmt: skip
    response = HttpResponse(book.bytes(), content_type=XLSX)
    name = f"引资引智项目统计_{since:%Y%m%d}-{until:%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
