"""What every app shares: the area tree, accounts with a role and an area, the audit log."""

import unicodedata

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .scoping import AreaQuerySet, area_prefix, code_within, within_area


class Area(models.Model):
    """A node of the administrative tree: district → street → community → grid.

    Codes are the statistical division codes (统计用区划代码) stored in their significant short
    form: 6 digits for a district, 9 for a street, 12 for a community; a grid extends its
    community's code by a suffix. Because every code extends its parent's, "everything below
    an area" is a code prefix, which is how scoping works. People see the 12-digit form the
    statistics bureau publishes (`official_code`: a district's code padded with 000000, a
    street's with 000). An area abolished or merged away (撤销, 撤并) keeps its row, retired,
    so that old records still name it.
    """

    class Level(models.TextChoices):
        DISTRICT = "district", _("District")
        STREET = "street", _("Street")
        COMMUNITY = "community", _("Community")
        GRID = "grid", _("Grid")

    # The code length of each level, and the level its parent must have.
    CODE_LENGTHS = {Level.DISTRICT: (6,), Level.STREET: (9,), Level.COMMUNITY: (12,)}
    PARENT_LEVEL = {
        Level.DISTRICT: None,
        Level.STREET: Level.DISTRICT,
        Level.COMMUNITY: Level.STREET,
        Level.GRID: Level.COMMUNITY,
    }

    code = models.CharField(
        _("division code"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^\d{6,20}$", _("A division code is 6 to 20 digits."))],
    )
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The name as the statistics bureau publishes it (…社区居民委员会), when it differs from the
    # name people use (…社区), which is `name`.
    official_name = models.CharField(_("official name"), max_length=100, blank=True)
    # 城乡分类代码 (111 主城区, 220 村庄, ...), as the bureau's code list gives it.
    urban_rural_code = models.CharField(
        _("urban-rural classification code"),
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^\d{3}$", _("An urban-rural code is 3 digits."))],
    )
    # The names it had before it was renamed (更名), oldest first: rosters kept before still
    # name it so, and their rows are refused saying what it is called now.
    former_names = models.JSONField(_("former names"), default=list, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    # Where a merged area's records went (撤并入); empty for an area abolished outright.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        # On PostgreSQL the unique code also gets Django's varchar_pattern_ops "_like" index,
        # which serves the prefix lookups of scoping.
        indexes = [
            models.Index(fields=["level", "code"], name="area_level_code_idx"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = area_tree_errors(
            code=self.code,
            level=self.level,
            parent_code=self.parent.code if self.parent_id else None,
            parent_level=self.parent.level if self.parent_id else None,
        )
        if errors:
            raise ValidationError(errors)

    @property
    def official_code(self) -> str:
        """The code as the statistics bureau writes it: 12 digits for districts, streets and
        communities; a grid's code as it is (its community's 12 digits and a suffix)."""
        return official_code(self.code)

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def is_within(self, other: "Area") -> bool:
        """Whether this area is `other` or lies below it."""
        return code_within(self.code, other.code)


# The official code has 12 digits: 6 for the district (县级), 3 for the street (乡级), 3 for
# the community (村级); a higher level's code ends in zeros (国家统计局《统计用区划代码和城乡
# 划分代码编制规则》). Numbering within a level starts at 001, so the zeros are unambiguous.
OFFICIAL_CODE_LENGTH = 12
SHORT_CODE_LEVELS = {6: "district", 9: "street", 12: "community"}


def official_code(code: str) -> str:
    """The 12-digit official form of a stored (short) code; a grid's code unchanged."""
    return code.ljust(OFFICIAL_CODE_LENGTH, "0") if len(code) < OFFICIAL_CODE_LENGTH else code


def short_code(code: str) -> str:
    """The significant form of a code as a file may give it: a 12-digit official code ending
    in 000000 is a district's (6 digits), one ending in 000 a street's (9 digits); every
    other code is kept as it is."""
    if len(code) == OFFICIAL_CODE_LENGTH and code.isdigit():
        if code.endswith("000000"):
            return code[:6]
        if code.endswith("000"):
            return code[:9]
    return code


def implied_level(code: str) -> str | None:
    """The level a short code's length implies: 6 district, 9 street, 12 community, longer a
    grid (its community's 12 digits and a suffix); None for any other length."""
    if len(code) > OFFICIAL_CODE_LENGTH:
        return "grid"
    return SHORT_CODE_LEVELS.get(len(code))


def implied_parent_code(code: str) -> str | None:
    """The code of the area a short code lies under: a street under its first 6 digits, a
    community under its first 9, a grid under its first 12; None for a district."""
    if len(code) > OFFICIAL_CODE_LENGTH:
        return code[:OFFICIAL_CODE_LENGTH]
    return {9: code[:6], 12: code[:9]}.get(len(code))


# What official names add to the name people use: 桥东一社区居民委员会, 桥东一社区居委会 and
# 桥东一社区 are one community; a village's 村民委员会 likewise.
_NAME_SUFFIXES = ("居民委员会", "村民委员会", "居委会", "村委会")


def common_name(name: str) -> str:
    """The name people use for an area: the official name without 居民委员会 / 居委会 /
    村民委员会 / 村委会 (桥东一社区居委会 → 桥东一社区)."""
    name = name.strip()
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# The committee a place's official name adds (桥东一社区居民委员会), then the kind of place it
# is (社区, 村): a name without both is what files agree on. Streets likewise (柳巷街道办事处).
_PLACE_KINDS = ("社区", "村")
_STREET_ENDINGS = (
    ("街道办事处", ""),
    ("街道办", ""),
    ("街道", ""),
    ("镇人民政府", "镇"),
    ("乡人民政府", "乡"),
)


def _compared(name: str) -> str:
    """A name as files are compared: NFKC, without any space (also full-width)."""
    return "".join(unicodedata.normalize("NFKC", str(name or "")).split())


def community_name_key(name: str) -> str:
    """A community's name as compared wherever a file names one (area lists, rosters):
    桥东一社区, 桥东一社区居委会, 桥东一社区居民委员会 and 桥东一居委会 give one key, and so do
    张庄村, 张庄村委会 and 张庄村村民委员会."""
    text = common_name(_compared(name))
    for kind in _PLACE_KINDS:
        if text.endswith(kind) and len(text) > len(kind):
            return text[: -len(kind)]
    return text


def street_name_key(name: str) -> str:
    """A street's (or township's) name as compared: 柳巷街道办事处 and 柳巷街道 are 柳巷."""
    text = _compared(name)
    for ending, replacement in _STREET_ENDINGS:
        if text.endswith(ending) and len(text) > len(ending):
            return text[: -len(ending)] + replacement
    return text


def area_tree_errors(*, code, level, parent_code, parent_level) -> dict:
    """The reasons a (code, level, parent) triple does not fit the tree, by field name."""
    errors = {}
    Level = Area.Level
    if level not in Level.values:
        return {"level": _("Unknown level “%(level)s”.") % {"level": level}}
    lengths = Area.CODE_LENGTHS.get(level)
    if lengths and len(code) not in lengths:
        errors["code"] = _("A %(level)s code has %(n)s digits.") % {
            "level": Level(level).label,
            "n": lengths[0],
        }
    expected_parent = Area.PARENT_LEVEL[level]
    if expected_parent is None:
        if parent_code:
            errors["parent"] = _("A district has no parent area.")
    elif not parent_code:
        errors["parent"] = _("A %(level)s needs a parent area.") % {"level": Level(level).label}
    else:
        if parent_level != expected_parent:
            errors["parent"] = _("The parent of a %(level)s must be a %(parent)s.") % {
                "level": Level(level).label,
                "parent": Level(expected_parent).label,
            }
        if not code_within(code, parent_code) or len(code) <= len(parent_code):
            errors["code"] = _("Code %(code)s does not extend its parent's code %(parent)s.") % {
                "code": code,
                "parent": parent_code,
            }
    return errors


class User(AbstractUser):
    """An account: a role (which is also the Django group that carries its permissions) and
    the one area whose records it works on."""

    class Role(models.TextChoices):
        COMMUNITY = "community", _("Community committee member")
        STREET = "street", _("Street officer")
        DISTRICT = "district", _("District united front department")
        ADMIN = "admin", _("System administrator")
        # Reads the audit log and nothing else (separation of duties).
        AUDITOR = "auditor", _("Auditor")

    # The area level each role works at; administrators may have no area at all.
    ROLE_AREA_LEVEL = {
        Role.COMMUNITY: Area.Level.COMMUNITY,
        Role.STREET: Area.Level.STREET,
        Role.DISTRICT: Area.Level.DISTRICT,
        Role.ADMIN: None,
        Role.AUDITOR: None,
    }

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    # An account created or reset by an administrator changes its password at first login.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["username"]

    def __str__(self):
        full = self.get_full_name()
        return f"{full}（{self.username}）" if full else self.username

    def get_full_name(self):
        # Chinese names are written family name first, without a space.
        return f"{self.last_name}{self.first_name}".strip()

    def clean(self):
        super().clean()
        if not self.role:
            return
        administers, audits = self.duties()
        if administers and audits:
            # 三员分立: system administration and audit are never one account's duties.
            raise ValidationError(
                _("An account cannot be both a system administrator and an auditor.")
            )
        level = self.ROLE_AREA_LEVEL[self.Role(self.role)]
        if level is None:
            return
        if self.area_id is None:
            raise ValidationError({"area": _("This role needs an area.")})
        if self.area.level != level:
            raise ValidationError(
                {
                    "area": _("A %(role)s works in a %(level)s.")
                    % {"role": self.get_role_display(), "level": Area.Level(level).label}
                }
            )

    def password_expired(self, now=None) -> bool:
        """Whether PASSWORD_MAX_AGE_DAYS have passed since the password was last set."""
        from django.conf import settings
        from django.utils import timezone

        if not settings.PASSWORD_MAX_AGE_DAYS:
            return False
        since = self.password_changed_at or self.date_joined
        age = (now or timezone.now()) - since
        return age.days >= settings.PASSWORD_MAX_AGE_DAYS

    def duties(self) -> tuple[bool, bool]:
        """(administers, audits): whether the account holds the system administrator's duty
        (role, superuser flag or group) and the auditor's (role or group)."""
        from .roles import ROLE_GROUPS

        names = set(self.groups.values_list("name", flat=True)) if self.pk else set()
        administers = (
            self.is_superuser or self.role == self.Role.ADMIN or ROLE_GROUPS["admin"][0] in names
        )
        audits = self.role == self.Role.AUDITOR or ROLE_GROUPS["auditor"][0] in names
        return administers, audits

    @cached_property
    def is_auditor(self) -> bool:
        """Whether the account reads the audit log: it holds the auditor's group (given by a
        superuser with `manage.py grant_auditor`) and no administrator's duty. The two are
        kept apart (三员分立): an administrator given the group by hand still reads nothing,
        and a permission given to another group does not make an auditor either."""
        from .roles import ROLE_GROUPS

        if not self.is_active or self.is_superuser or self.role == self.Role.ADMIN:
            return False
        # The auditor's group carries this permission; the permission checks have cached the
        # group permissions, so most requests ask the database nothing more here.
        if "tongzhan.view_auditevent" not in self.get_group_permissions():
            return False
        names = set(self.groups.values_list("name", flat=True))
        return ROLE_GROUPS["auditor"][0] in names and ROLE_GROUPS["admin"][0] not in names

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or (self.role == self.Role.ADMIN and self.area_id is None)


def accounts_visible_to(user) -> models.QuerySet:
    """The accounts `user` administers: those within their area (every one for an
    unrestricted administrator); a superuser's and an auditor's only for a superuser (an
    auditor's account changes on the command line). The account pages and the admin start
    here. A function rather than a manager method: User keeps Django's UserManager."""
    prefix = area_prefix(user)
    if prefix is None:
        return User.objects.none()
    accounts = User.objects.filter(within_area(prefix, "area")) if prefix else User.objects.all()
    if not user.is_superuser:
        accounts = accounts.filter(is_superuser=False).exclude(role=User.Role.AUDITOR)
    return accounts


class AuditEvent(models.Model):
    """One line of the append-only audit log: who did or saw what, when, from where.

    Personal data never enters it unmasked; the application only ever inserts rows.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logged out")
        REVEAL = "reveal", _("Viewed full personal data")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        STATUS = "status", _("Changed status")
        TRANSFER = "transfer", _("Transferred")
        IMPORT = "import", _("Imported")
        EXPORT = "export", _("Exported")
        DELETE = "delete", _("Deleted")

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    # Set by the writer before the insert, as the line's MAC covers it (tongzhan.auditchain).
    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request ID"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    outcome = models.CharField(
        pgettext_lazy("of an audited action", "outcome"),
        max_length=10,
        choices=Outcome.choices,
        default=Outcome.DONE,
    )
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object ID"), max_length=50, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # The chain that proves the log was not altered (tongzhan.auditchain): an HMAC-SM3 of
    # the line written with it, and its link, sealed after its transaction commits.
    line_mac = models.CharField(_("line MAC"), max_length=64, blank=True, editable=False)
    chain_seq = models.BigIntegerField(_("place in the chain"), null=True, blank=True, unique=True)
    chain_mac = models.CharField(_("chain MAC"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # The few lines waiting to be sealed into the chain.
            models.Index(
                fields=["id"], condition=models.Q(chain_seq__isnull=True), name="audit_unsealed_idx"
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    # Append-only: the application inserts and never changes or removes a line. On
    # PostgreSQL a trigger refuses it in the database as well (migration 0004).
    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class AuditVerification(models.Model):
    """One check of the audit log's chain (`manage.py audit_verify`, and daily): how far it
    reached and, if it failed, the first line found changed, removed or inserted."""

    class Problem(models.TextChoices):
        NONE = "", _("None")
        CHANGED = "changed", _("A line was changed after it was written")
        REMOVED = "removed", _("Lines were removed: a place in the chain is missing")
        BROKEN = (
            "broken",
            _("The chain breaks: a line before this one was removed or a link rewritten"),
        )
        TRUNCATED = (
            "truncated",
            _("Lines were removed from the end: the chain is shorter than a check found it"),
        )
        UNSEALED = (
            "unsealed",
            _(
                "A line does not match its MAC: inserted without the key, or changed before it "
                "was sealed"
            ),
        )

    at = models.DateTimeField(_("time"), auto_now_add=True)
    passed = models.BooleanField(pgettext_lazy("audit check", "passed"))
    lines = models.PositiveBigIntegerField(_("lines checked"))
    head_seq = models.BigIntegerField(_("last place in the chain"), null=True)
    head_mac = models.CharField(_("last chain MAC"), max_length=64, blank=True)
    problem = models.CharField(
        pgettext_lazy("audit check", "problem"), max_length=10, choices=Problem.choices, blank=True
    )
    # The first line in question (its id), and its place in the chain where it has one.
    first_bad_event = models.BigIntegerField(_("first line in question"), null=True)
    first_bad_place = models.BigIntegerField(_("its place in the chain"), null=True)

    class Meta:
        verbose_name = _("audit log check")
        verbose_name_plural = _("audit log checks")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.passed else self.problem}"


class KeyRotation(models.Model):
    """A rewrite of every encrypted value and lookup hash in the current form and key
    (`manage.py rotate_keys`, tongzhan.rotation): resumable from `progress`, which holds
    for each model the last primary key done and how many rows were rewritten, and which
    keys it writes with (`tongzhan.rotation.keys_check`)."""

    class State(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("key rotation", "Queued")
        RUNNING = "running", pgettext_lazy("key rotation", "Running")
        DONE = "done", pgettext_lazy("key rotation", "Done")
        FAILED = "failed", pgettext_lazy("key rotation", "Failed")

    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    started_by = models.CharField(_("started by"), max_length=150, blank=True)
    target = models.CharField(_("target"), max_length=50)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.JSONField(pgettext_lazy("key rotation", "progress"), default=dict)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(pgettext_lazy("key rotation", "error"), blank=True)

    class Meta:
        verbose_name = _("key rotation")
        verbose_name_plural = _("key rotations")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.target} {self.get_state_display()}"


class DownloadQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A prepared file is its owner's alone: nobody else sees it, administrators neither
        (it holds what the owner's scope and rights let them export)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def kept(self):
        """The made files still kept: past `expires_at` a file is gone, whether or not the
        sweep (`downloads_expire`) has run since."""
        return self.filter(state=Download.State.DONE, expires_at__gt=timezone.now())


class Download(models.Model):
    """A file made in the background for the user who asked for it (a large export, the printed
    forms of a community), kept until `expires_at` for them to download.

    The app that owns the data registers the function that makes each `kind`
    (`tongzhan.downloads.producer_register`); the kernel runs it in a task and keeps its
    progress, its outcome and the file (in the database, like an import's refused rows, so any
    worker machine can make it and any web machine serve it).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="downloads"
    )
    kind = models.CharField(_("kind"), max_length=50)
    title = models.CharField(_("file name"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    data = models.BinaryField(_("file contents"), null=True, editable=False)
    error = models.TextField(_("error"), blank=True)
    # The request that asked for it: the audit lines written when the file is made carry them.
    requested_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    requested_request_id = models.CharField(_("request ID"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    heartbeat = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    objects = DownloadQuerySet.as_manager()

    class Meta:
        verbose_name = _("prepared file")
        verbose_name_plural = _("prepared files")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="download_owner_idx"),
            models.Index(fields=["state", "expires_at"], name="download_expiry_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_busy(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.total or not self.is_busy:
            return 0
        # 99 at most while running: the file is still being written after the last row.
        return min(99, self.done * 100 // self.total)


class ScheduledJob(models.Model):
    """When a periodic job (`tongzhan.schedule`) last ran and is next due, one row per job.

    Every runner, on any machine, claims a due job by moving `due_at` on in one conditional
    UPDATE, so each run is enqueued once however many runners look at the same moment.
    """

    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=100, unique=True)
    due_at = models.DateTimeField(_("next due"))
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    # The task result id of the last run, to find it among the task results.
    last_task_id = models.CharField(_("last task"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self):
        return self.name
