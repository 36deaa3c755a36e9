"""Activity pages. Every queryset starts from `visible_to`; out of scope is 404, read-only 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView

from members.models import Member

from . import services
from .filters import ActivityFilterSet
from .forms import ActivityForm
from .models import Activity, Participation

SEARCH_LIMIT = 20


class ActivityListView(LoginRequiredMixin, PermissionRequiredMixin, FilterView):
    permission_required = "activities.view_activity"
    filterset_class = ActivityFilterSet
    template_name = "activities/activity_list.html"
    context_object_name = "activities"
    paginate_by = 25

    def get_queryset(self):
        return Activity.objects.visible_to(self.request.user).select_related("type", "area")

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        # Participants counted for the page's rows only, in one query.
        activities = context["activities"]
        counts = dict(
            Participation.objects.filter(activity__in=[activity.pk for activity in activities])
            .values("activity")
            .annotate(count=Count("id"))
            .values_list("activity", "count")
        )
        for activity in activities:
            activity.participant_count = counts.get(activity.pk, 0)
        return context


class ActivityDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "activities.view_activity"
    template_name = "activities/activity_detail.html"
    context_object_name = "activity"

    def get_queryset(self):
        return Activity.objects.visible_to(self.request.user).select_related(
            "type", "area", "created_by"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity, user = self.object, self.request.user
        # A joint activity can have participants from areas the viewer may not see: those
        # are counted, not named.
        participants = list(
            Member.objects.visible_to(user)
            .filter(activities=activity)
            .select_related("community")
            .order_by("name")
        )
        total = activity.participants.count()
        context.update(
            participants=participants,
            participants_elsewhere=total - len(participants),
            editable=Activity.objects.editable_by(user).filter(pk=activity.pk).exists(),
            history=_history(activity),
        )
        return context


def _history(activity: Activity) -> list[dict]:
    """The activity's history entries, each changed field under its label."""
    fields = [*Activity._meta.concrete_fields, *Activity._meta.many_to_many]
    labels = {field.name: field.verbose_name for field in fields}
    return [
        {
            "change": change,
            "rows": [
                {**row, "label": labels.get(row["field"], row["field"])} for row in change.changes
            ],
        }
        for change in activity.changes.select_related("actor")
    ]


class ActivityFormMixin(LoginRequiredMixin, PermissionRequiredMixin):
    model = Activity
    form_class = ActivityForm
    template_name = "activities/activity_form.html"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "search_url": reverse("activities:member_search"),
        }


class ActivityCreateView(ActivityFormMixin, CreateView):
    permission_required = "activities.add_activity"

    def form_valid(self, form):
        try:
            activity = services.activity_create(
                actor=self.request.user,
                data=form.service_data(),
                participants=form.cleaned_data["participants"],
                request=self.request,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The activity was recorded."))
        return redirect("activities:detail", pk=activity.pk)


class ActivityUpdateView(ActivityFormMixin, UpdateView):
    permission_required = "activities.change_activity"

    def get_queryset(self):
        return Activity.objects.visible_to(self.request.user)

    def get_object(self, queryset=None):
        activity = super().get_object(queryset)
        if not Activity.objects.editable_by(self.request.user).filter(pk=activity.pk).exists():
            raise PermissionDenied
        return activity

    def form_valid(self, form):
        try:
            services.activity_update(
                actor=self.request.user,
                activity=form.instance,
                data=form.service_data(),
                participants=form.cleaned_data["participants"],
                request=self.request,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The changes were saved."))
        return redirect("activities:detail", pk=form.instance.pk)


@login_required
@permission_required("activities.add_activity", raise_exception=True)
def member_search(request):
    """Members of the user's area whose name contains `q`, for the participant picker."""
    text = request.GET.get("q", "").strip()
    if not text:
        return JsonResponse({"results": []})
    members = (
        Member.objects.visible_to(request.user)
        .filter(name__contains=text, status=Member.Status.ACTIVE)
        .select_related("community")
        .only("id", "name", "community__name")
        .order_by("name", "id")[:SEARCH_LIMIT]
    )
    return JsonResponse(
        {
            "results": [
                {"id": member.pk, "label": f"{member.name}（{member.community.name}）"}
                for member in members
            ]
        }
    )
