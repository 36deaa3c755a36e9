"""Pages of the project itself: logging in, passwords, the health check, error pages, the
audit log."""

import base64
import datetime
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import AllowAllUsersModelBackend
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.contrib.auth.models import Permission
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_POST, require_safe
from django.views.generic import CreateView, FormView, ListView, TemplateView, UpdateView
from django_filters.views import FilterView
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import spreadsheets
from .audit import audit_record, object_search_label
from .auditchain import last_passed, last_verification
from .downloads import download_content
from .filters import AccountFilterSet, AreaFilterSet, AuditEventFilterSet, query_id
from .forms import (
    AccountActiveForm,
    AccountCreateForm,
    AccountPasswordForm,
    AccountUpdateForm,
    AreaForm,
    AreaMergeForm,
    AreaSplitForm,
)
from .mixins import ServiceFormMixin, action_write, form_write
from .models import Area, AuditEvent, Download, User, accounts_visible_to
from .services import (
    area_create,
    area_holdings,
    area_merge,
    area_retire,
    area_split,
    area_split_holdings,
    area_update,
    download_delete,
    download_fetched,
    user_create,
    user_locked_out,
    user_remove_authenticator,
    user_set_active,
    user_set_password,
    user_unlock,
    user_update,
)

SESSION_ENDED = {
    "idle": lambda: _("You were logged out after a time without activity. Please log in again."),
    "absolute": lambda: _("Your session reached its longest allowed time. Please log in again."),
}


def safe_next(request, default: str = "home") -> str:
    """Where `next` (posted or in the address) points, if that is this site; else `default`.

    Every page that follows `next` asks here, so a chain of pages each passing it on (login,
    then the authenticator code, ...) cannot end on another site: each hop checks its own.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


class LoginForm(AuthenticationForm):
    """Django's login form, which also tells a disabled account so once its password is right.

    Django refuses a disabled account as it refuses a wrong password: django-axes counts it and
    the audit log records a refused login (tongzhan.signals). Only then does this form ask
    whether the password was right for a disabled account, so nobody learns that an account
    exists, or is disabled, without its password. Every refused login asks, and the asking
    costs one password check whether the account exists or not, so the time taken tells
    nothing either; a locked-out login is not asked (django-axes answers it).
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "inactive": gettext_lazy(
            "This account has been disabled. Please ask your system administrator."
        ),
    }

    def get_invalid_login_error(self):
        if not getattr(self.request, "axes_locked_out", False):
            user = AllowAllUsersModelBackend().authenticate(
                self.request,
                username=self.cleaned_data.get("username"),
                password=self.cleaned_data.get("password"),
            )
            if user is not None and not user.is_active:
                return ValidationError(self.error_messages["inactive"], code="inactive")
        return super().get_invalid_login_error()


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ended = self.request.session.pop("ended", None)
        if ended in SESSION_ENDED:
            context["session_ended"] = SESSION_ENDED[ended]()
        return context


_migrations_applied = False


@never_cache
def health(request):
    """For the load balancer: 200 when the database answers and every migration is applied,
    else 503; says which, and nothing else."""
    global _migrations_applied
    checks = {"database": "ok", "migrations": "ok"}
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        # The migration graph is read once per process after it was found complete.
        if not _migrations_applied:
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                checks["migrations"] = "pending"
            else:
                _migrations_applied = True
    except Exception:  # noqa: BLE001 (any failure means: not healthy)
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


@requires_csrf_token
def server_error(request):
    """The 500 page in Chinese with the request id to quote; nothing about the error."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(
        template.render({"request_id": getattr(request, "id", "")}, request)
    )


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes calls this once a username or an address has failed too often: the same
    page whichever it was, so it tells nobody whether an account exists."""

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Changing one's own password; also where a forced change (first login, expiry) lands."""

    template_name = "registration/password_change_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["forced"] = user.must_change_password or user.password_expired()
        return context

    def form_valid(self, form):
        # Saved by the service (the audit line, the end of a forced change); the session
        # stays logged in with the new password.
        user_set_password(
            actor=form.user,
            user=form.user,
            password=form.cleaned_data["new_password1"],
            must_change=False,
            request=self.request,
        )
        update_session_auth_hash(self.request, form.user)
        return redirect(self.get_success_url())


# -- The audit log (auditors only) ----------------------------------------------------------


class AuditorRequiredMixin(LoginRequiredMixin):
    """Auditors only: an administrator reads the log only if also given the auditor role."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_auditor:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class AuditLogView(AuditorRequiredMixin, FilterView):
    filterset_class = AuditEventFilterSet
    template_name = "audit/audit_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        return AuditEvent.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        context["last_check"] = last_verification()
        if context["last_check"] is not None and not context["last_check"].passed:
            context["last_passed"] = last_passed()
        for event in context["events"]:  # the page's words, the export's (one owner)
            event.object_type_text = audit_object_type(event)
            event.detail_text = audit_detail_text(event)
        return context


# The audit export's 详情 column in words an office reads (issue 13: every workbook Chinese).
# The services write `AuditEvent.detail` with short English keys and codes; a key or code that
# is a field of the event's object reads as that field's name or choice, the others here.
# File contents, like the roster's (members/exports.py), are written in Chinese as they are.
DETAIL_KEYS = {
    "report": "报表", "since": "起始日期", "until": "截止日期", "rows": "行数",
    "filters": "筛选条件", "full": "完整号码", "fields": "字段", "page": "页面", "source": "来源",
    "to": "转入社区", "reason": "原因", "step": "步骤", "file": "文件", "size": "大小（字节）",
    "created": "新增", "updated": "更新", "unchanged": "未变", "refused": "未导入",
    "refused_rows_of": "未导入的行所属文件", "area": "区域", "admin": "管理后台",
    "change": "变更", "permissions": "权限", "role": "角色", "changed": "变更内容",
    "groups": "用户组", "is_active": "启用", "second_factor": "第二验证因素",
    "probe": "查询号码", "community": "社区", "district": "区县", "evaluation": "评价",
    "indicator": "指标", "members": "统战对象", "name": "名称", "points": "分值",
    "published": "公布排名", "removed": "移除", "state": "状态", "veto": "否决事项",
    "q": "搜索", "category": "类别", "political_status": "政治面貌", "ethnicity": "民族",
    "sex": "性别", "status": "状态", "is_representative": "代表人士", "age_min": "年龄下限",
    "age_max": "年龄上限", "born_from": "出生年份起", "born_to": "出生年份止",
    "registered": "登记时间", "left": "离开时间", "incomplete": "信息不全", "grid": "网格",
    "sort": "排序", "id_number": "公民身份号码", "phone": "联系电话",
    "document_type": "证件类型", "document_country": "护照签发国家或地区",
    "code": "代码", "level": "层级", "parent": "上级区域", "auditor": "审计员角色",
    "previous_role": "原角色", "copied_from": "复制自考核期", "indicators": "指标",
    "reopened": "重新开放", "results_discarded": "作废的结果数", "confirmed": "已确认",
    "restored": "恢复", "user_permissions": "权限", "first_name": "名", "last_name": "姓",
    "email": "电子邮箱", "unlocked": "解除锁定（清除的登录失败记录数）",
    "categories": "类别", "items": "项目", "score_grid": "按评分表保存的评分数",
    "transfer": "转移申请编号", "note": "说明", "download": "下载的文件", "format": "格式",
    # The study library and training (liaison)
    "attendees": "参训人数", "materials": "学习资料", "trainings": "培训", "year": "年度",
    # The representative's file (members): its records and the member list's filters on them
    "arrangement": "政治安排", "duty": "履职记录", "arrangement_body": "政治安排",
    "arrangement_level": "政治安排层级", "arrangement_state": "政治安排状态",
    "duty_kind": "履职记录类别",
    # Commendations
    "files": "附件数", "commended": "受表彰人数", "campaigns": "表彰活动", "nominations": "推荐",
    # Admission and exit of representatives (issue 18)
    "nominated": "提名人选", "admission": "入选人选", "decision": "决定",
    # Around an evaluation round: the joint meeting, outside evaluators, talks (issue 18)
    "joint_meeting": "联席评价会议", "bodies": "参加单位", "outside_evaluator": "社会评价人",
    "added": "添加", "scores": "评分数", "talk": "谈话记录", "held_on": "日期",
    "kind": "类别", "before": "修改前",
    # Key rotation (issue 19)
    "key_rotation": "密钥轮换", "target": "目标", "progress": "进度",
    # Retention: the approval of anonymisation and each record's run (privacy, issue 20)
    "all_due": "全部到期记录", "anonymised": "已匿名化", "approval": "审批编号",
    "left_on": "离开日期", "records": "记录数", "relatives": "亲属", "history": "变更记录",
    "visits": "走访", "needs": "诉求", "import_rows": "导入行", "downloads": "待下载文件",
    "skipped": "未匿名化（已不再到期）",
    # A person's own requests to see, copy or correct her record (privacy, issue 20)
    "member": "统战对象", "late_days": "逾期天数", "changes": "据此所作的更改（变更记录编号）",
    "copy_for_request": "副本对应请求编号", "sha256": "文件校验值",
    "requests": "个人信息请求",
    # The notice (告知): new people of a roster without its columns, registered as not told
    "not_informed": "登记为未告知的人数",
}  # fmt: skip
DETAIL_CODES = {
    "report": {"members": "统战对象分类统计表", "activities": "统战活动分类统计表",
               "needs": "诉求办理情况统计表", "assessment": "考核结果", "audit": "审计日志",
               "score_grid": "评分表", "compare": "各地区对比", "training_hours": "培训学时表",
               "representative_register": "代表人士进出登记"},
    "step": {"upload": "上传", "check": "检查", "confirm": "确认", "import": "导入",
             "cancel": "取消", "request": "申请", "accept": "接收", "decline": "退回",
             "withdraw": "撤回"},
    "page": {"detail": "详情页", "edit": "编辑页"},
    "second_factor": {"set up": "设置", "wrong code": "验证码错误", "removed": "移除"},
    "auditor": {"granted": "授予", "revoked": "撤销"},
    # Files made in the background (tongzhan.downloads), by the kind their app registered.
    "download": {"members.roster": "统战对象花名册", "members.forms": "统战对象信息登记表"},
    "format": {"pdf": "PDF", "xlsx": "Excel"},
    "source": {"form": "表单", "import": "导入", "admin": "管理后台"},
    # The member list's filters on the representative's file (members.PoliticalArrangement
    # and DutyRecord's choices)
    "arrangement_body": {"npc": "人大", "cppcc": "政协", "federation": "工商联",
                         "association": "统战社团", "special": "特约人员", "other": "其他"},
    "arrangement_level": {"national": "国家级", "province": "省级", "city": "市级",
                          "district": "区级", "street": "街道（乡镇）级"},
    "arrangement_state": {"in_office": "在任", "ended": "届满", "cancelled": "取消"},
    "duty_kind": {"meeting": "参加会议", "proposal": "提案", "report": "社情民意",
                  "research": "调研", "donation": "捐赠", "project": "公益项目", "reward": "奖励",
                  "penalty": "处分", "work": "工作经历"},
    "decision": {"admit": "同意入选", "reject": "不予入选"},
    "key_rotation": {"start": "开始", "done": "完成"},
}  # fmt: skip
# The verbs of Django's own permissions (add_member …); the others carry their own names.
PERMISSION_VERBS = {"add": "新增", "change": "修改", "delete": "删除", "view": "查看"}
# A detail holding one of these keys speaks of that model's fields (an indicator's changed
# fields, an evaluation's source, the member list's filters), not of the event's object's.
DETAIL_MODELS = {"indicator": "assessment.indicator", "evaluation": "assessment.evaluationscore",
                 "full": "members.member", "arrangement": "members.politicalarrangement",
                 "duty": "members.dutyrecord"}  # fmt: skip
# A value under these keys reads as the choice of the account's role.
ROLE_KEYS = {"role", "previous_role"}


def _detail_model(event):
    try:
        return apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        return None


def audit_object_type(event: AuditEvent) -> str:
    """The kind of the event's object as people call it (综合评价轮次), else as stored."""
    model = _detail_model(event)
    return str(capfirst(model._meta.verbose_name)) if model is not None else event.object_type


def _model_field(model, name):
    """The object's own field of that name; a relation seen from the other side is not."""
    try:
        field = model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        return None
    return None if field is not None and field.is_relation and field.auto_created else field


def _permission_words(names: list) -> list[str]:
    """`app.codename` as the permission's name in Chinese: Django's own four by verb and the
    model's verbose name, the application's through the catalogue."""
    words = []
    for name in names:
        app_label, _dot, codename = str(name).partition(".")
        permission = (
            Permission.objects.select_related("content_type")
            .filter(content_type__app_label=app_label, codename=codename)
            .first()
        )
        if permission is None:
            words.append(str(name))
            continue
        verb, _underscore, rest = codename.partition("_")
        model = permission.content_type.model_class()
        if verb in PERMISSION_VERBS and model is not None and rest == model._meta.model_name:
            words.append(PERMISSION_VERBS[verb] + str(model._meta.verbose_name))
        else:
            words.append(_(permission.name))
    return words


def _detail_value(model, key, value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return "无"
    if isinstance(value, dict):
        return "（" + _detail_pairs(model, value) + "）"
    if isinstance(value, list):
        if key == "fields":
            return "、".join(_detail_key(model, name) for name in value)
        if key in ("permissions", "user_permissions"):
            return "、".join(_permission_words(value))
        return "、".join(_detail_value(model, key, item) for item in value)
    text = str(value)
    if key in ROLE_KEYS:
        return str(dict(User.Role.choices).get(text, text))
    field = _model_field(model, key)
    if field is not None and field.choices:
        text = str(dict(field.flatchoices).get(value, text))
    return DETAIL_CODES.get(key, {}).get(text, text)


def _detail_key(model, key: str) -> str:
    field = _model_field(model, key)
    if field is not None and hasattr(field, "verbose_name"):
        return str(field.verbose_name)
    return DETAIL_KEYS.get(key, key)


def _detail_subject(model, detail: dict):
    for key, label in DETAIL_MODELS.items():
        if key in detail:
            try:
                return apps.get_model(label)
            except LookupError:
                return model
    if detail.get("report") == "audit":
        return AuditEvent
    return model


def _detail_pairs(model, detail: dict) -> str:
    model = _detail_subject(model, detail)
    return "；".join(
        f"{_detail_key(model, key)}：{_detail_value(model, key, value)}"
        for key, value in detail.items()
        if value not in ("", [], {})
    )


def audit_detail_text(event: AuditEvent) -> str:
    """The event's detail as 键：值 pairs in Chinese, for the log's page and its export."""
    return _detail_pairs(_detail_model(event), event.detail or {})


class AuditExportView(AuditorRequiredMixin, FilterView):
    """The events as filtered, as .xlsx; the export is itself an event of the log."""

    filterset_class = AuditEventFilterSet

    def get(self, request, *args, **kwargs):
        filterset = self.filterset_class(request.GET, queryset=AuditEvent.objects.all())
        if not filterset.is_valid():  # the log shows which filter is wrong, and why
            messages.error(request, _("Nothing was exported: correct the filters marked below."))
            return redirect(f"{reverse('audit')}?{request.GET.urlencode()}")
        events = filterset.qs
        book = spreadsheets.Book(streaming=True)
        widths = {1: 19, 2: 12, 3: 15, 4: 14, 5: 8, 6: 24, 7: 12, 8: 8, 9: 18, 10: 58}
        sheet = book.sheet(_("Audit log"), widths=widths, freeze="A2", title_rows=(1, 1))
        wrapped = spreadsheets.Style(wrap=True, vertical="top")
        outcome = pgettext("of an audited action", "Outcome")
        kind = str(capfirst(AuditEvent._meta.get_field("object_type").verbose_name))
        sheet.append([_("Time (UTC)"), _("User"), _("IP address"), _("Action"), outcome,
                      _("Object"), kind,
                      _("Object ID"), _("Request ID"), _("Detail")])  # fmt: skip
        actions, outcomes = dict(AuditEvent.Action.choices), dict(AuditEvent.Outcome.choices)
        rows = 0
        for event in events.iterator(chunk_size=2000):
            sheet.append([
                event.at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                event.username, event.ip or "", str(actions.get(event.action, event.action)),
                str(outcomes.get(event.outcome, event.outcome)), event.object_repr,
                audit_object_type(event), event.object_id, event.request_id,
                spreadsheets.text(audit_detail_text(event), wrapped),
            ])  # fmt: skip
            rows += 1
        content = book.bytes()
        query = {
            key: value for key, value in request.GET.items() if value and key in filterset.filters
        }
        if "object" in query:  # a person's full name, found by it, is written masked
            query["object"] = object_search_label(query["object"])
        audit_record(actor=request.user, action=AuditEvent.Action.EXPORT, request=request,
                     detail={"report": "audit", "filters": query, "rows": rows})  # fmt: skip
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"审计日志_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
        )
        return response


# -- Second factor (TOTP) -------------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    """The otpauth address as a QR code, an SVG in a data: address (allowed by the CSP)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def _code_ok(device, code: str) -> bool:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    return len(code) == 6 and device.verify_token(code)


@login_required
def two_factor_setup(request):
    """Set up an authenticator app: scan the code, type the six digits it shows."""
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        messages.info(request, _("An authenticator is already set up for this account."))
        return redirect("home")
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "authenticator"}
    )
    error = ""
    if request.method == "POST":
        if _code_ok(device, request.POST.get("code")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            request.session["second_factor"] = "verify"
            audit_record(actor=user, action=AuditEvent.Action.UPDATE, obj=user, request=request,
                         detail={"second_factor": "set up"})  # fmt: skip
            messages.success(request, _("The authenticator is set up."))
            return redirect("home")
        error = _("That code is not right. Type the six digits the app shows now.")
    return render(
        request,
        "registration/two_factor_setup.html",
        {"qr": _qr_data_uri(device.config_url), "secret": _base32(device), "error": error},
    )


def _base32(device) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@login_required
def two_factor_verify(request):
    """After the password: the code from the authenticator app."""
    user = request.user
    error = ""
    if request.method == "POST":
        for device in devices_for_user(user, confirmed=True):
            if _code_ok(device, request.POST.get("code")):
                otp_login(request, device)
                return redirect(safe_next(request))
        audit_record(
            actor=user,
            action=AuditEvent.Action.LOGIN_FAILED,
            request=request,
            outcome=AuditEvent.Outcome.REFUSED,
            detail={"second_factor": "wrong code"},
        )
        error = _("That code is not right. Type the six digits the app shows now.")
    return render(request, "registration/two_factor_verify.html", {"error": error})


# -- Administration (系统管理): the hub and the accounts ------------------------------------
#
# What an administrator does every day, in the application's pages and within the
# administrator's own area; the Django admin is for superusers only (tongzhan.admin_site).

# Any of these opens the hub; each section of it asks its own (templates/manage/index.html).
MANAGE_PERMISSIONS = (
    "tongzhan.view_user",
    "tongzhan.view_area",
    "activities.view_activitytype",
    "assessment.view_evaluationtemplate",
)


@login_required
def manage(request):
    if not any(request.user.has_perm(permission) for permission in MANAGE_PERMISSIONS):
        raise PermissionDenied
    return render(request, "manage/index.html")


class AccountMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """An account the administrator administers (else 404), for a role holding
    `permission_required` (else 403)."""

    permission_required = "tongzhan.view_user"

    @cached_property
    def account(self) -> User:
        return get_object_or_404(
            accounts_visible_to(self.request.user).select_related("area"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(account=self.account, **kwargs)


class AccountListView(LoginRequiredMixin, PermissionRequiredMixin, FilterView):
    permission_required = "tongzhan.view_user"
    filterset_class = AccountFilterSet
    template_name = "manage/account_list.html"
    context_object_name = "accounts"
    paginate_by = 50

    def get_queryset(self):
        authenticators = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return (
            accounts_visible_to(self.request.user)
            .select_related("area")
            .annotate(has_authenticator=Exists(authenticators))
        )

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        return context


class AccountDetailView(AccountMixin, TemplateView):
    template_name = "manage/account_detail.html"

    def get_context_data(self, **kwargs):
        account = self.account
        return super().get_context_data(
            has_authenticator=TOTPDevice.objects.filter(user=account, confirmed=True).exists(),
            has_any_authenticator=TOTPDevice.objects.filter(user=account).exists(),
            locked_out=user_locked_out(account),
            **kwargs,
        )


class AccountCreateView(ServiceFormMixin, LoginRequiredMixin, PermissionRequiredMixin, FormView):
    permission_required = "tongzhan.add_user"
    form_class = AccountCreateForm
    template_name = "manage/account_form.html"
    success_url_name = "account_detail"
    success_message = gettext_lazy(
        "The account is created. Give its owner the initial password: it is changed at the "
        "first login."
    )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def write(self, form):
        data = form.cleaned_data
        return user_create(
            actor=self.request.user,
            username=data["username"],
            password=data["password1"],
            role=data["role"],
            area=data["area"],
            must_change_password=True,
            first_name=data["first_name"],
            last_name=data["last_name"],
            request=self.request,
        )


class AccountUpdateView(ServiceFormMixin, AccountMixin, FormView):
    permission_required = "tongzhan.change_user"
    form_class = AccountUpdateForm
    template_name = "manage/account_form.html"
    success_url_name = "account_detail"
    success_message = gettext_lazy("The account is saved.")

    def get_form_kwargs(self):
        # The form edits a copy: a refused change does not show on the page as made.
        instance = User.objects.select_related("area").get(pk=self.account.pk)
        return {**super().get_form_kwargs(), "instance": instance, "actor": self.request.user}

    def write(self, form):
        data = form.cleaned_data
        return user_update(
            actor=self.request.user,
            user=self.account,
            role=data["role"],
            area=data["area"],
            fields={name: data[name] for name in ("last_name", "first_name", "email")},
            request=self.request,
        )


class AccountPasswordView(ServiceFormMixin, AccountMixin, FormView):
    """A temporary password set by an administrator, which the owner changes at the next
    login. One's own password is changed on the password page."""

    permission_required = "tongzhan.change_user"
    form_class = AccountPasswordForm
    template_name = "manage/account_password.html"
    success_url_name = "account_detail"
    success_message = gettext_lazy(
        "The password is reset. Give the owner the temporary password: it is changed at the "
        "next login."
    )

    def dispatch(self, request, *args, **kwargs):
        if self.has_permission() and self.kwargs["pk"] == request.user.pk:
            return redirect("password_change")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.account}

    def write(self, form):
        return user_set_password(
            actor=self.request.user,
            user=self.account,
            password=form.cleaned_data["new_password1"],
            must_change=True,
            request=self.request,
        )


def _account_to_change(request, pk) -> User:
    """For the buttons of the account page: 403 without the right, 404 outside the area."""
    if not request.user.has_perm("tongzhan.change_user"):
        raise PermissionDenied
    return get_object_or_404(accounts_visible_to(request.user).select_related("area"), pk=pk)


@login_required
def account_active(request, pk):
    """Disable an account (asked to confirm first) or enable it again."""
    account = _account_to_change(request, pk)
    form = AccountActiveForm(
        request.POST or None, initial={"active": "0" if account.is_active else "1"}
    )
    if request.method == "POST" and form.is_valid():
        active = form.cleaned_data["active"]
        done = _("The account is enabled.") if active else _("The account is disabled.")
        written = form_write(
            request,
            form,
            lambda: user_set_active(
                actor=request.user, user=account, active=active, request=request
            ),
            done=done,
        )
        if written:
            return redirect("account_detail", account.pk)
    return render(request, "manage/account_active.html", {"account": account, "form": form})


@login_required
def account_authenticator(request, pk):
    """Remove the account's authenticator (asked to confirm first)."""
    account = _account_to_change(request, pk)
    if request.method == "POST":
        action_write(
            request,
            lambda: user_remove_authenticator(actor=request.user, user=account, request=request),
            done=_("The authenticator is removed: its owner sets up a new one at the next login."),
        )
        return redirect("account_detail", account.pk)
    has_authenticator = TOTPDevice.objects.filter(user=account).exists()
    return render(
        request,
        "manage/account_authenticator.html",
        {"account": account, "has_authenticator": has_authenticator},
    )


@require_POST
@login_required
def account_unlock(request, pk):
    """End the lockout of the account's username after too many failed logins."""
    account = _account_to_change(request, pk)
    action_write(
        request,
        lambda: user_unlock(actor=request.user, user=account, request=request),
        done=_("The account is unlocked: its owner may log in again now."),
    )
    return redirect("account_detail", account.pk)


# -- The area tree (administrators) ---------------------------------------------------------


class AreaListView(LoginRequiredMixin, PermissionRequiredMixin, FilterView):
    """The areas within the administrator's own, in tree order (a code extends its parent's,
    so ordering by code lists each area under its parent), with their accounts counted."""

    permission_required = "tongzhan.view_area"
    filterset_class = AreaFilterSet
    template_name = "areas/area_list.html"
    context_object_name = "areas"
    paginate_by = 100

    def get_queryset(self):
        return (
            Area.objects.visible_to(self.request.user)
            .select_related("parent", "merged_into")
            .annotate(
                accounts=Count("users", distinct=True),
                # A retired area below (merged away) is no longer counted as below.
                below=Count("children", filter=Q(children__retired_at__isnull=True), distinct=True),
            )
            .order_by("code")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        levels = list(Area.Level.values)
        user = self.request.user
        top = 0 if user.sees_everything or not user.area_id else levels.index(user.area.level)
        for area in context["areas"]:
            area.depth = max(levels.index(area.level) - top, 0)
            area.child_level = _child_level(area.level)
        return context


def _child_level(level: str) -> str | None:
    """The level of the areas directly below one of `level`; None below a grid."""
    return next((child for child, parent in Area.PARENT_LEVEL.items() if parent == level), None)


class AreaFormMixin(LoginRequiredMixin, PermissionRequiredMixin, ServiceFormMixin):
    model = Area
    form_class = AreaForm
    template_name = "areas/area_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def get_success_url(self) -> str:
        return f"{reverse('area_list')}?{urlencode({'q': self.written.code})}"


class AreaCreateView(AreaFormMixin, CreateView):
    """A new area, usually a child of the one whose 添加下级 was pressed (`?parent=`)."""

    permission_required = "tongzhan.add_area"
    success_message = gettext_lazy("The area was added.")

    def get_initial(self):
        parent = (
            Area.objects.visible_to(self.request.user)
            .filter(pk=query_id(self.request.GET.get("parent")) or 0)
            .first()
        )
        if parent is None or _child_level(parent.level) is None:
            return {}
        return {"parent": parent, "level": _child_level(parent.level), "code": parent.code}

    def write(self, form):
        return area_create(actor=self.request.user, data=form.cleaned_data, request=self.request)


class AreaUpdateView(AreaFormMixin, UpdateView):
    """An area within the administrator's own (else 404): its name, and its place where
    nothing hangs on it."""

    permission_required = "tongzhan.change_area"
    success_message = gettext_lazy("The area was saved.")

    def get_queryset(self):
        return Area.objects.visible_to(self.request.user).select_related("parent")

    def write(self, form):
        return area_update(
            actor=self.request.user,
            area=self.object,
            data=form.cleaned_data,
            request=self.request,
        )


def _area_to_change(request, pk) -> Area:
    """A current area the administrator may change (403 for other roles, 404 out of scope)."""
    if not request.user.has_perm("tongzhan.change_area"):
        raise PermissionDenied
    return get_object_or_404(
        Area.objects.visible_to(request.user).current().select_related("parent"), pk=pk
    )


@login_required
def area_merge_view(request, pk):
    """Merge an area into another (撤并): the page says what will move, the button merges."""
    area = _area_to_change(request, pk)
    form = AreaMergeForm(request.POST or None, area=area, actor=request.user)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        done = _("%(source)s was merged into %(target)s.") % {
            "source": area.name,
            "target": target.name,
        }
        write = lambda: area_merge(  # noqa: E731
            actor=request.user, source=area, target=target, request=request
        )
        if form_write(request, form, write, done=done):
            return redirect(f"{reverse('area_list')}?{urlencode({'q': target.code})}")
    return render(
        request,
        "areas/area_change.html",
        {"area": area, "form": form, "change": "merge", "holdings": area_holdings(area)},
    )


@login_required
def area_split_view(request, pk):
    """Split a new community off a community (拆分): its code and name, the grids and the
    addresses that go with it; the page then counts what will move, and the second button
    splits."""
    area = _area_to_change(request, pk)
    if area.level != Area.Level.COMMUNITY:
        raise Http404
    form = AreaSplitForm(request.POST or None, area=area)
    holdings = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "confirm" in request.POST:
            write = lambda: area_split(  # noqa: E731
                actor=request.user,
                source=area,
                code=data["code"],
                name=data["name"],
                grids=data["grids"],
                words=data["words"],
                request=request,
            )
            done = _("%(name)s was split off %(area)s.") % {"name": data["name"], "area": area.name}
            if form_write(request, form, write, done=done):
                return redirect(f"{reverse('area_list')}?{urlencode({'q': data['code']})}")
        else:
            holdings = area_split_holdings(area, data["grids"], data["words"])
    return render(
        request,
        "areas/area_split.html",
        {"area": area, "form": form, "holdings": holdings},
    )


@login_required
def area_retire_view(request, pk):
    """Retire an area (撤销) nothing points at any more; the page says what it still holds."""
    area = _area_to_change(request, pk)
    if request.method == "POST":
        write = lambda: area_retire(actor=request.user, area=area, request=request)  # noqa: E731
        done = _("%(area)s was retired.") % {"area": area.name}
        if action_write(request, write, done=done):
            return redirect("area_list")
        return redirect("area_retire", pk=area.pk)
    holdings = area_holdings(area, live_only=True)
    return render(
        request,
        "areas/area_change.html",
        {
            "area": area,
            "change": "retire",
            "holdings": holdings,
            "holds_anything": any(n for _what, n in holdings),
        },
    )


# -- Files made in the background -------------------------------------------------------------

DOWNLOADS_PER_PAGE = 25


class DownloadListView(LoginRequiredMixin, ListView):
    """My downloads: the files made in the background for the user, newest first."""

    template_name = "downloads/download_list.html"
    context_object_name = "downloads"
    paginate_by = DOWNLOADS_PER_PAGE

    def get_queryset(self):
        return Download.objects.visible_to(self.request.user).defer("data", "params")

    def get_context_data(self, **kwargs):
        return super().get_context_data(keep_days=settings.DOWNLOAD_KEEP_DAYS, **kwargs)


def _download(request, pk) -> Download:
    """One of the user's own files; anyone else's is 404, whoever asks."""
    return get_object_or_404(Download.objects.visible_to(request.user).defer("data"), pk=pk)


@require_safe
@login_required
def download_detail(request, pk):
    """A file's page: its progress while it is made (the bar polls `download_status`), then
    the link to it."""
    download = _download(request, pk)
    return render(request, "downloads/download_detail.html", {"download": download})


@require_safe
@login_required
def download_status(request, pk):
    """What the progress bar polls."""
    download = _download(request, pk)
    return JsonResponse(
        {
            "state": download.state,
            "label": download.get_state_display(),
            "busy": download.is_busy,
            "done": download.done,
            "total": download.total,
            "percent": download.percent,
        }
    )


@require_safe
@login_required
def download_file(request, pk):
    """The file itself, to its owner only, while it is kept; each download audited."""
    download = get_object_or_404(
        Download.objects.visible_to(request.user).kept().defer("data"), pk=pk
    )
    try:
        content = download_content(download)
    except Download.DoesNotExist:  # expired or deleted a moment ago
        raise Http404 from None
    download_fetched(actor=request.user, download=download, request=request)
    response = HttpResponse(content, content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=download.title
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def download_remove(request, pk):
    download = _download(request, pk)
    download_delete(actor=request.user, download=download, request=request)
    messages.success(request, _("The file %(title)s was deleted.") % {"title": download.title})
    return redirect("download_list")
