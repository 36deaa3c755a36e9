"""The member registry (统战对象信息库): people, their categories and their history."""

import contextlib
import datetime
import uuid
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongzhan import documents
from tongzhan.crypto import EncryptedCharField, lookup_has_aliases, lookup_hash, lookup_hashes
from tongzhan.masking import mask_contact, mask_id_number, mask_name, mask_phone
from tongzhan.models import Area, User
from tongzhan.scoping import ScopedQuerySet, visible_area_ids

from . import positions
from .validators import normalize_phone, validate_credit_code


class Category(models.Model):
    """One of the 13 statutory categories of united-front members, in their statutory order.

    Codes are stable: forms, imports and reports refer to categories by code or slug.
    """

    code = models.CharField(_("code"), max_length=2, unique=True)
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=40, unique=True)
    short_name = models.CharField(_("short name"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("member category")
        verbose_name_plural = _("member categories")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Ethnicity(models.Model):
    """The 56 ethnic groups with their GB/T 3304-1991 codes."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("ethnic group")
        verbose_name_plural = _("ethnic groups")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def is_han(self) -> bool:
        return self.code == "01"


class PoliticalStatus(models.Model):
    """政治面貌 with the GB/T 4762-1984 codes, including the eight democratic parties."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name = models.CharField(pgettext_lazy("of a thing", "name"), max_length=40, unique=True)
    short_name = models.CharField(_("short name"), max_length=10, blank=True)
    is_democratic_party = models.BooleanField(_("democratic party"), default=False)

    class Meta:
        verbose_name = _("political status")
        verbose_name_plural = _("political statuses")
        ordering = ["code"]

    def __str__(self):
        return self.name


@contextlib.contextmanager
def talent_plan(using: str, *, across_communities: bool):
    """Run the talent search's queries of a street's or a district's rows
    (`across_communities`) as PostgreSQL should plan them.

    Its planner would also read the community index for every member of the area (half a
    second at 1,000,000 members) to skip candidates outside it, which the talent index has
    already skipped (a street's communities, `talent_search`) or which are few (a
    district's): told, within a transaction of their own, that index tuples cost what they
    do, the queries take the talent index alone. A community's members are few, and that
    index helps it: left as it is.
    """
    connection = connections[using]
    if not across_communities or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET LOCAL cpu_index_tuple_cost = 1")
        yield
        # Inside a caller's transaction the setting would outlive this block.
        cursor.execute("SET LOCAL cpu_index_tuple_cost TO DEFAULT")


class MemberQuerySet(ScopedQuerySet):
    area_field = "community"
    change_permission = "members.change_member"

    def visible_to(self, user):
        # A record merged into another is that other one now: every page, list, count and
        # export starts here, so none shows it twice.
        return super().visible_to(user).filter(merged_into__isnull=True)

    def editable_by(self, user):
        # An anonymised record (privacy app, PIPL art. 47) is nobody's to change: what was
        # removed cannot be written back, nor the record registered again in her name.
        return super().editable_by(user).filter(anonymised_at__isnull=True)

    def merged_away_visible_to(self, user):
        """The records in the user's area merged into another: an old link to one leads to
        the record it became."""
        return super().visible_to(user).filter(merged_into__isnull=False)

    def for_list(self):
        """What a list row shows, in a fixed number of queries."""
        return (
            self.select_related("community", "grid", "ethnicity", "political_status")
            .prefetch_related("categories")
            # Lists show the masked columns; nothing to decrypt.
            .defer("id_number", "phone")
        )

    # What the talent search (人才库) reads: plain-text fields (the encrypted ones cannot be
    # searched), each a reason a member is suggested.
    TALENT_FIELDS = ("specialty", "professional_title", "industry")

    def talent_search(self, text: str, *, communities=None):
        """Members whose expertise, professional title or industry holds every word of
        `text` (words apart by spaces), as typed, case aside, with `talent_score`: how many
        of those fields hold how many of the words, the first thing to rank by.

        Chinese has no spaces between words, so a word is a substring. On PostgreSQL a word
        of two or more characters is looked up first in the index of migrations 0014 and
        0018 (every bigram of the word is among the member's), then checked as a substring; a
        one-character word reads every row in scope. SQLite: a scan.

        `communities`: the ids of the areas the rows are in (the user's, `visible_area_ids`),
        to look up in the same index with the words, so only candidates in them are read
        from the table. For a street or a community; a district's members are most of the
        table, and reading its every community's key costs more than it saves.
        """
        words = list(dict.fromkeys(text.split()))
        if not words:
            return self.annotate(talent_score=models.Value(0))
        rows = self
        if connections[self.db].vendor == "postgresql":
            text_array = ArrayField(models.TextField())
            haystack = models.Func(
                *(models.F(name) for name in self.TALENT_FIELDS),
                function="members_talent_text", output_field=models.TextField(),
            )  # fmt: skip
            keys = models.Func(
                *(models.F(name) for name in (*self.TALENT_FIELDS, "community_id")),
                function="members_talent_keys", output_field=text_array,
            )  # fmt: skip
            rows = rows.alias(talent_text=haystack, talent_keys=keys)
            if communities is not None:
                rows = rows.filter(talent_keys__overlap=[f"#{pk}" for pk in communities])
            for word in words:
                if len(word) >= 2:
                    word_bigrams = models.Func(
                        Upper(models.Value(word)), function="members_bigrams",
                        output_field=text_array,
                    )  # fmt: skip
                    rows = rows.filter(talent_keys__contains=word_bigrams)
                rows = rows.filter(talent_text__contains=Upper(models.Value(word)))
        else:
            for word in words:
                rows = rows.filter(
                    models.Q.create(
                        [(f"{name}__icontains", word) for name in self.TALENT_FIELDS],
                        connector=models.Q.OR,
                    )
                )
        return rows.talent_scored(text)

    def talent_scored(self, text: str):
        """The rows with `talent_score`: how many of the searched fields hold how many of the
        words of `text`, what the talent search ranks by first."""
        words = list(dict.fromkeys(text.split()))
        if not words:
            return self.annotate(talent_score=models.Value(0))
        score = sum(
            models.Case(
                models.When(**{f"{name}__icontains": word}, then=1),
                default=0,
                output_field=models.IntegerField(),
            )
            for word in words
            for name in self.TALENT_FIELDS
        )
        return self.annotate(talent_score=score)

    def talent_matched(
        self, text: str, at_most: int, *, communities=None, across_communities: bool
    ) -> list[int]:
        """The ids of the members `talent_search(text, communities=)` finds, unordered, at
        most `at_most` + 1 of them (past `at_most`, the search says "more than"), read in the
        plan `talent_plan` gives the rows of `across_communities`. One read of the matches:
        when they are `at_most` or fewer, they are ranked from these ids alone."""
        rows = self.talent_search(text, communities=communities).order_by().values("pk")
        with talent_plan(self.db, across_communities=across_communities):
            return [row["pk"] for row in rows[: at_most + 1]]

    def talent_in_name_order(self, text: str, *, communities=None):
        """The members `talent_search(text, communities=)` finds, unranked, in name order:
        the way to read a search that finds more members than it ranks
        (`TALENT_RANKED_AT_MOST`).

        On PostgreSQL, without `communities` (a district's), the conditions are those of the
        index of migration 0015, so the rows' ids come from that index alone, in order, and a
        page stops reading it once it has its rows. With them (a street's, a community's, a
        tenth of a district's members or fewer), walking it would read ten times as many
        entries for each row found, and a deep page most of the index: their matches come
        from the talent index and are sorted (a street's page 20 of 会计 师 at 1,000,000
        members: 190 ms walking, 16 ms so). Every word is a substring of a field, as in
        `talent_search`.
        """
        if communities is not None and connections[self.db].vendor == "postgresql":
            rows = self.filter(status=Member.Status.ACTIVE)
            return rows.talent_search(text, communities=communities).order_by("name", "pk")
        words = list(dict.fromkeys(text.split()))
        rows = self.filter(status=Member.Status.ACTIVE)
        if words:
            rows = rows.filter(
                models.Q.create(
                    [(f"{name}__gt", "") for name in self.TALENT_FIELDS], connector=models.Q.OR
                )
            )
        for word in words:
            rows = rows.filter(
                models.Q.create(
                    [(f"{name}__icontains", word) for name in self.TALENT_FIELDS],
                    connector=models.Q.OR,
                )
            )
        return rows.order_by("name", "pk")

    def not_contacted_since(self, day: datetime.date):
        """Members with no activity or visit on or after `day`."""
        return self.filter(
            models.Q(last_contact_on__isnull=True) | models.Q(last_contact_on__lt=day)
        )


def contact_cutoff(months: int, today: datetime.date) -> datetime.date:
    """The first day of the last `months` calendar months, the current one included.

    "Not contacted in 12 months" on 22 November 2026 means nothing since 1 December 2025:
    whole months, so the dashboards can count it from monthly tallies.
    """
    index = today.year * 12 + today.month - 1 - (months - 1)
    return datetime.date(index // 12, index % 12 + 1, 1)


def _photo_path(instance, filename: str) -> str:
    # A random name: the uploaded one may say more than it should. The service names the
    # upload by its checked type, so the extension here is the file's own.
    return f"members/photos/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


class Member(models.Model):
    """A person registered in the information base, kept by one community."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Registered")
        MOVED_OUT = "moved_out", _("Moved out")
        DECEASED = "deceased", _("Deceased")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Education(models.TextChoices):
        # GB/T 4658-2006 学历代码, at the level rosters record.
        DOCTORATE = "11", _("Doctoral graduate")
        MASTER = "14", _("Master's graduate")
        BACHELOR = "21", _("University (bachelor)")
        COLLEGE = "31", _("College (associate)")
        VOCATIONAL = "41", _("Secondary vocational")
        HIGH_SCHOOL = "61", _("Senior high school")
        JUNIOR = "71", _("Junior high school")
        PRIMARY = "81", _("Primary school or less")

    class Religion(models.TextChoices):
        BUDDHISM = "buddhism", _("Buddhism")
        TAOISM = "taoism", _("Taoism")
        ISLAM = "islam", _("Islam")
        CATHOLICISM = "catholicism", _("Catholicism")
        CHRISTIANITY = "christianity", _("Protestant Christianity")
        OTHER = "other", _("Other")

    class EnterpriseScale(models.TextChoices):
        # Scale bands of 统计上大中小微型企业划分办法.
        LARGE = "large", _("Large")
        MEDIUM = "medium", _("Medium")
        SMALL = "small", _("Small")
        MICRO = "micro", _("Micro")

    class NewStratumGroup(models.TextChoices):
        # The four groups named in the 统一战线工作条例 (2020), art. 29.
        ENTERPRISE_STAFF = (
            "enterprise_staff",
            _("Managers and technicians of private and foreign-funded enterprises"),
        )
        INTERMEDIARY = "intermediary", _("Staff of intermediary and social organisations")
        FREELANCE = "freelance", _("Freelancers")
        NEW_MEDIA = "new_media", _("New media practitioners")

    class OverseasIdentity(models.TextChoices):
        OVERSEAS = "overseas", _("Overseas Chinese")
        RETURNED = "returned", _("Returned overseas Chinese")
        RELATIVE = "relative", _("Relative of overseas Chinese")
        FOREIGN = "foreign", _("Foreign citizen of Chinese origin")

    class InformedHow(models.TextChoices):
        # How the person was told what is kept about her and why (告知, PIPL arts. 17, 35).
        LETTER = "letter", _("Notice letter handed over in person")
        VISIT = "visit", _("Told in person on a visit")
        MESSAGE = "message", _("Told by text message or WeChat")

    # The documents people are registered with (issue 14): the resident identity card, or
    # for people without one (categories 09-12) a residence permit, a travel permit, a
    # passport or a foreigner's permanent residence card. Formats in `tongzhan.documents`.
    DocumentType = documents.DocumentType
    Country = documents.Country

    # Identity. The document number is encrypted; its hash (of the document type and the
    # number, `documents.lookup_key`) finds it and keeps it unique.
    name = models.CharField(_("name"), max_length=50)
    # Sex and date of birth may be left empty where the number carries them (the 18-character
    # documents): they are derived from it. Other documents ask for them.
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    ethnicity = models.ForeignKey(
        Ethnicity, verbose_name=_("ethnic group"), on_delete=models.PROTECT, related_name="+"
    )
    birth_date = models.DateField(_("date of birth"), blank=True)
    document_type = models.CharField(
        _("document type"),
        max_length=20,
        choices=DocumentType.choices,
        default=DocumentType.ID_CARD,
    )
    # Only for a passport: the state that issued it.
    document_country = models.CharField(
        _("country or region of the passport"), max_length=3, choices=Country.choices, blank=True
    )
    id_number = EncryptedCharField(_("document number"))
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_number_masked = models.CharField(_("ID number (masked)"), max_length=20, editable=False)
    political_status = models.ForeignKey(
        PoliticalStatus,
        verbose_name=_("political status"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    education = models.CharField(
        _("education"), max_length=2, choices=Education.choices, blank=True
    )
    native_place = models.CharField(_("native place"), max_length=50, blank=True)
    workplace = models.CharField(_("workplace and position"), max_length=200, blank=True)
    professional_title = models.CharField(_("professional title"), max_length=50, blank=True)
    # Political arrangements are rows of their own (`PoliticalArrangement`, issue 18); what
    # stays here is what was not read as one, from the text of earlier records and rosters.
    social_positions = models.CharField(
        _("other social positions"),
        max_length=200,
        blank=True,
        help_text=_(
            "Political arrangements (people's congress, CPPCC ...) are recorded one by one in "
            "their own section of the member's page; other positions are written here."
        ),
    )
    phone = EncryptedCharField(_("phone"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("phone (masked)"), max_length=20, blank=True, editable=False)
    address = models.CharField(_("current address"), max_length=200, blank=True)
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"level": Area.Level.COMMUNITY},
    )
    grid = models.ForeignKey(
        Area,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_members",
        limit_choices_to={"level": Area.Level.GRID},
    )
    specialty = models.CharField(_("expertise"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The ID photo (证件照) of the printed registration form; served only through a view
    # that checks scope, changed only by `member_photo_set` / `member_photo_remove`.
    photo = models.FileField(
        _("ID photo"), upload_to=_photo_path, max_length=200, blank=True, editable=False
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), related_name="members", through="MemberCategory"
    )
    is_representative = models.BooleanField(_("representative figure"), default=False)

    # Democratic party members: the party itself is the political status.
    party_joined_on = models.DateField(_("date joined the party"), null=True, blank=True)
    party_post = models.CharField(_("post in the party"), max_length=100, blank=True)
    # Religious figures.
    religion = models.CharField(_("religion"), max_length=20, choices=Religion.choices, blank=True)
    religious_title = models.CharField(_("religious title or role"), max_length=100, blank=True)
    religious_venue = models.CharField(_("place of religious activity"), max_length=200, blank=True)
    # Non-public economy.
    enterprise_name = models.CharField(_("enterprise name"), max_length=200, blank=True)
    enterprise_credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    enterprise_scale = models.CharField(
        _("enterprise scale"), max_length=10, choices=EnterpriseScale.choices, blank=True
    )
    # New social strata.
    new_stratum_group = models.CharField(
        _("new social stratum group"), max_length=20, choices=NewStratumGroup.choices, blank=True
    )
    # Studied abroad.
    study_country = models.CharField(_("country or region of study"), max_length=50, blank=True)
    study_school = models.CharField(_("school abroad"), max_length=100, blank=True)
    study_degree = models.CharField(_("degree obtained"), max_length=50, blank=True)
    returned_on = models.DateField(_("date of return"), null=True, blank=True)
    # Hong Kong, Macao and Taiwan compatriots and their relatives.
    hmt_origin = models.CharField(_("place of origin"), max_length=50, blank=True)
    hmt_relation = models.CharField(_("relation to the compatriot"), max_length=50, blank=True)
    # Overseas Chinese, returned overseas Chinese and their relatives.
    overseas_country = models.CharField(_("country of residence abroad"), max_length=50, blank=True)
    overseas_identity = models.CharField(
        _("overseas identity"), max_length=10, choices=OverseasIdentity.choices, blank=True
    )

    # The notice (告知, PIPL arts. 17 and 35): how and when the person was told what is kept
    # about her and why, or why not yet. Every registration records one of the two
    # (`services.member_check_informing`); records from before it have neither.
    informed_how = models.CharField(
        _("how the person was told"),
        max_length=10,
        choices=InformedHow.choices,
        blank=True,
    )
    informed_on = models.DateField(_("date told"), null=True, blank=True)
    not_informed_reason = models.CharField(_("reason not yet told"), max_length=100, blank=True)

    # Life in the registry (动态管理).
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    status_date = models.DateField(_("status date"), null=True, blank=True)
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The day of the member's latest activity or visit, kept by the activities' services, so
    # "not contacted lately" is a column to compare instead of a search of every visit.
    last_contact_on = models.DateField(
        _("last contacted on"), null=True, blank=True, editable=False
    )
    # Whether a field one of the member's categories asks for is empty; set by the services
    # on every save (`misses_category_fields`), so completeness is a column to filter on.
    incomplete = models.BooleanField(_("fields missing"), default=False, editable=False)
    # Set when this record was merged into another as a duplicate of one person
    # (`services.member_merge`): it then leaves every list, count and lookup (`visible_to`).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=pgettext_lazy("a member record", "merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    # Set when the record's retention period passed and its personal values were removed
    # (privacy.anonymise, approved by the district): kept for the counts, changed no more.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    # Raised by one at every write of the services that enters the history, so a form saved
    # over a change made after it was opened is recognised and refused (no lost update).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = MemberQuerySet.as_manager()

    # The fields that belong to each category; forms show them only for a member in it.
    CATEGORY_FIELDS = {
        "democratic_party": ("party_joined_on", "party_post"),
        "religious": ("religion", "religious_title", "religious_venue"),
        "private_economy": (
            "enterprise_name",
            "enterprise_credit_code",
            "industry",
            "enterprise_scale",
        ),
        "new_stratum": ("new_stratum_group",),
        "overseas_study": ("study_country", "study_school", "study_degree", "returned_on"),
        "hong_kong": ("hmt_origin", "hmt_relation"),
        "macao": ("hmt_origin", "hmt_relation"),
        "taiwan": ("hmt_origin", "hmt_relation"),
        "overseas_chinese": ("overseas_country", "overseas_identity"),
    }

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-id"]
        permissions = [
            ("reveal_member", _("Can see full ID numbers and phones")),
            ("transfer_member", _("Can transfer members between communities")),
            ("import_member", _("Can import rosters")),
            ("merge_member", _("Can find and merge duplicate members")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="member_unique_id_number"),
            # Told: how and a date not before her birth, and no reason why not; not told: neither.
            models.CheckConstraint(
                condition=(
                    models.Q(informed_how="", informed_on__isnull=True)
                    | (
                        ~models.Q(informed_how="")
                        & models.Q(
                            informed_on__isnull=False,
                            informed_on__gte=models.F("birth_date"),
                            not_informed_reason="",
                        )
                    )
                ),
                name="member_informing_consistent",
                violation_error_message=_(
                    "How and when the person was told, and why not yet, do not agree."
                ),
            ),
        ]
        indexes = [
            # Covers the list's count and its common filters (age, name) within a scope, so
            # PostgreSQL answers them from the index alone.
            models.Index(
                fields=["status", "community"],
                include=["id", "birth_date", "name"],
                name="member_status_community_idx",
            ),
            models.Index(fields=["phone_hash"], name="member_phone_hash_idx"),
            # Possible duplicates (可能重复): the same name with the same date of birth or
            # workplace, looked up across the registry.
            models.Index(fields=["name", "birth_date"], name="member_name_birth_idx"),
            # The lists behind the dashboards' numbers: incomplete records, not contacted
            # lately, left in a month.
            models.Index(
                fields=["community"],
                condition=models.Q(incomplete=True),
                name="member_incomplete_idx",
            ),
            models.Index(fields=["last_contact_on"], name="member_last_contact_idx"),
            models.Index(fields=["status_date"], name="member_status_date_idx"),
        ]

    def __str__(self):
        return self.name

    def audit_label(self) -> str:
        """Her name in the audit log: masked (an anonymised record's name is no one's)."""
        return self.name if self.anonymised_at else mask_name(self.name)

    def misses_category_fields(self, slugs) -> bool:
        """Whether a field one of these categories asks for is empty: `incomplete_q()`
        for one member in memory (the dashboards' tallies count it on every save)."""
        return any(
            getattr(self, name) in ("", None)
            for slug in slugs
            for name in self.CATEGORY_FIELDS.get(slug, ())
        )

    @classmethod
    def incomplete_q(cls) -> models.Q:
        """Members missing a field one of their categories asks for (data completeness).

        The one definition behind the dashboards' completeness and the list's filter.
        """
        by_fields: dict[tuple[str, ...], list[str]] = {}
        for slug, names in cls.CATEGORY_FIELDS.items():
            by_fields.setdefault(names, []).append(slug)
        condition = models.Q()
        for names, slugs in by_fields.items():
            missing = models.Q()
            for name in names:
                field = cls._meta.get_field(name)
                missing |= models.Q(**{f"{name}__isnull": True} if field.null else {name: ""})
            in_category = models.Exists(
                MemberCategory.objects.filter(
                    member=models.OuterRef("pk"), category__slug__in=slugs
                )
            )
            condition |= in_category & missing
        return condition

    @classmethod
    def category_field_names(cls) -> list[str]:
        return list(dict.fromkeys(f for fields in cls.CATEGORY_FIELDS.values() for f in fields))

    def set_id_number(self, raw) -> documents.Document:
        """Store a number of the member's document type and what derives from it; raise
        ValidationError if it is invalid."""
        parsed = documents.parse(self.document_type, raw)
        self.id_number = parsed.number
        self.id_number_hash = lookup_hash(documents.lookup_key(parsed.type, parsed.number))
        self.id_number_masked = mask_id_number(parsed.number)
        return parsed

    def id_number_hashes(self) -> list[str]:
        """Every hash the member's number may be stored under: the current one, and while a
        key rotation is under way (tongzhan.crypto) those it may still have."""
        if not lookup_has_aliases():
            return [self.id_number_hash]
        return lookup_hashes(documents.lookup_key(self.document_type, self.id_number))

    def lookup_hash_values(self) -> dict[str, str]:
        """The hash columns as the current key computes them from the values (`manage.py
        rotate_keys` writes those that differ)."""
        return {
            "id_number_hash": lookup_hash(documents.lookup_key(self.document_type, self.id_number)),
            "phone_hash": lookup_hash(self.phone) if self.phone else "",
        }

    def set_phone(self, raw) -> None:
        phone = normalize_phone(raw)
        self.phone = phone
        self.phone_hash = lookup_hash(phone) if phone else ""
        self.phone_masked = mask_phone(phone)

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        today = datetime.date.today()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday

    def clean(self):
        errors = {}
        try:
            parsed = self.set_id_number(self.id_number)
        except ValidationError as error:
            errors["id_number"] = error.messages
        else:
            self._check_birth_and_sex(parsed, errors)
        if self.document_type == self.DocumentType.PASSPORT:
            if not self.document_country:
                errors["document_country"] = _(
                    "Choose the country or region that issued the passport."
                )
        else:
            # Only a passport names a country; a value left from another type is dropped.
            self.document_country = ""
        try:
            self.set_phone(self.phone)
        except ValidationError as error:
            errors["phone"] = error.messages
        if self.community_id and self.community.level != Area.Level.COMMUNITY:
            errors["community"] = _("Choose a community.")
        if self.grid_id and self.community_id and self.grid.parent_id != self.community_id:
            errors["grid"] = _("The grid %(grid)s does not belong to %(community)s.") % {
                "grid": self.grid,
                "community": self.community,
            }
        self._check_informing(errors)
        if errors:
            raise ValidationError(errors)

    def _check_informing(self, errors: dict) -> None:
        """A notice has how and when, on a day between her birth and today; a reason why not
        yet is kept only while she has not been told (a notice recorded drops it)."""
        if self.informed_how and self.informed_on is None:
            errors["informed_on"] = _("Give the date the person was told.")
        elif self.informed_on is not None and not self.informed_how:
            errors["informed_how"] = _("Choose how the person was told on that date.")
        elif self.informed_on is not None:
            if self.informed_on > timezone.localdate():
                errors["informed_on"] = _("The date the person was told lies in the future.")
            elif self.birth_date and self.informed_on < self.birth_date:
                errors["informed_on"] = _(
                    "The date the person was told lies before her date of birth."
                )
        self.settle_informing()

    def settle_informing(self) -> None:
        """A notice recorded drops the reason why not yet; a reason is kept without blanks."""
        if self.informed_how:
            self.not_informed_reason = ""
        else:
            self.not_informed_reason = self.not_informed_reason.strip()

    def _check_birth_and_sex(self, parsed: documents.Document, errors: dict) -> None:
        """Taken from the number where it carries them (and must agree); asked for where it
        does not."""
        if parsed.birth_date is None:
            if not self.birth_date:
                errors["birth_date"] = _(
                    "This document's number does not show the date of birth: enter it in full "
                    "(year, month and day)."
                )
            elif self.birth_date > timezone.localdate():
                errors["birth_date"] = _("The date of birth lies in the future.")
            if not self.sex:
                errors["sex"] = _("This document's number does not show the sex: choose it.")
            return
        if self.birth_date and self.birth_date != parsed.birth_date:
            errors["birth_date"] = _(
                "The date of birth does not match the ID number, which gives %(date)s."
            ) % {"date": parsed.birth_date.isoformat()}
        if self.sex and self.sex != parsed.sex:
            errors["sex"] = _("The sex does not match the ID number, which gives %(sex)s.") % {
                "sex": self.Sex(parsed.sex).label
            }
        self.birth_date = self.birth_date or parsed.birth_date
        self.sex = self.sex or parsed.sex


class MemberCategory(models.Model):
    """That a member is in a category: the link table behind `Member.categories`.

    Its own model for the index by category first, which lets a category filter read the
    members of one category from the index alone.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, db_index=False)

    class Meta:
        verbose_name = _("category membership")
        verbose_name_plural = _("category memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "category"], name="membercategory_unique_member_category"
            )
        ]
        indexes = [models.Index(fields=["category", "member"], name="membercategory_category_idx")]

    def __str__(self):
        return f"{self.member_id}·{self.category_id}"


def relative_residences() -> list[tuple[str, str]]:
    """Where a relative lives: Taiwan, Hong Kong, Macao (categories 09-11), the mainland, or
    a country. ISO 3166-1 alpha-3 codes like `documents.Country`, whose countries it reuses;
    its CHN is "China" as a passport's issuer, here the mainland beside the three regions."""
    regions = [
        ("TWN", _("Taiwan")),
        ("HKG", _("Hong Kong")),
        ("MAC", _("Macao")),
        ("CHN", _("Chinese mainland")),
    ]
    return regions + [(code, label) for code, label in documents.Country.choices if code != "CHN"]


CONTACT_CHARS = 60


class RelativeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The relatives of the members the user may see."""
        return self.filter(member__in=Member.objects.visible_to(user))


class Relative(models.Model):
    """A relative of a member (亲属): whom category 11 (台湾同胞及其在大陆的亲属) and 12
    (华侨、归侨及侨眷) are about (issue 14).

    The relative's own data belongs to the member's record. `linked_member` is the relative's
    own record when they are registered too; it is shown only to who may see that record.
    """

    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("Spouse")
        PARENT = "parent", _("Parent")
        CHILD = "child", _("Child")
        SIBLING = "sibling", _("Brother or sister")
        GRANDPARENT = "grandparent", _("Grandparent")
        GRANDCHILD = "grandchild", _("Grandchild")
        OTHER = "other", _("Other relation")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="relatives"
    )
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)
    # Said in words when none of the choices fits (姑父, 表兄 ...).
    relation_other = models.CharField(_("relation in words"), max_length=20, blank=True)
    residence = models.CharField(_("lives in"), max_length=3, choices=relative_residences)
    place = models.CharField(_("city or address"), max_length=100, blank=True)
    # A phone abroad, WeChat, e-mail: free text, encrypted and shown masked like phones.
    contact = EncryptedCharField(_("contact"), blank=True)
    contact_masked = models.CharField(
        _("contact (masked)"), max_length=CONTACT_CHARS, blank=True, editable=False
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    linked_member = models.ForeignKey(
        Member,
        verbose_name=_("member record of the relative"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relative_entries",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RelativeQuerySet.as_manager()

    class Meta:
        verbose_name = _("relative")
        verbose_name_plural = _("relatives")
        ordering = ["member", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(linked_member=models.F("member")),
                name="relative_not_the_member_himself",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.relation_display}）"

    def audit_label(self) -> str:
        return f"{mask_name(self.name)}（{self.relation_display}）"

    @property
    def relation_display(self) -> str:
        if self.relation == self.Relation.OTHER and self.relation_other:
            return self.relation_other
        return self.get_relation_display()

    def set_contact(self, raw) -> None:
        self.contact = " ".join(str(raw or "").split())
        self.contact_masked = mask_contact(self.contact)

    def clean(self):
        errors = {}
        self.set_contact(self.contact)
        if len(self.contact) > CONTACT_CHARS:
            errors["contact"] = _("Keep the contact to %(n)s characters.") % {"n": CONTACT_CHARS}
        self.relation_other = self.relation_other.strip()
        if self.relation == self.Relation.OTHER and not self.relation_other:
            errors["relation_other"] = _("Say how they are related.")
        elif self.relation != self.Relation.OTHER:
            self.relation_other = ""
        if self.linked_member_id and self.linked_member_id == self.member_id:
            errors["linked_member"] = _("A member is not their own relative.")
        if errors:
            raise ValidationError(errors)


# -- The representative's file (党外代表人士档案, issue 18) ---------------------------------------


class PoliticalArrangementQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The arrangements of the members the user may see."""
        return self.filter(member__in=Member.objects.visible_to(user))

    def in_office(self):
        return self.filter(state=PoliticalArrangement.State.IN_OFFICE)


class PoliticalArrangement(models.Model):
    """A member's political arrangement (政治安排): a seat in a people's congress or a CPPCC, a
    post in the federation of industry and commerce or a united-front association, a special
    appointment (特约人员), at one level, for a term; in office until its term ends or it is
    cancelled, and kept after that as part of the member's file.

    Before issue 18 the registry held these as text (`Member.social_positions`); migration
    0017 read them into rows with `members.positions`, which the roster import still uses.
    """

    class Body(models.TextChoices):
        NPC = positions.NPC, _("People's congress")
        CPPCC = positions.CPPCC, _("CPPCC")
        FEDERATION = positions.FEDERATION, _("Federation of industry and commerce")
        ASSOCIATION = positions.ASSOCIATION, _("United-front association")
        SPECIAL = positions.SPECIAL, _("Special appointee")
        OTHER = positions.OTHER, pgettext_lazy("arrangement body", "Other")

    class Level(models.TextChoices):
        NATIONAL = positions.NATIONAL, _("National level")
        PROVINCE = positions.PROVINCE, _("Provincial level")
        CITY = positions.CITY, _("City level")
        DISTRICT = positions.DISTRICT, _("District level")
        STREET = positions.STREET, _("Street or township level")

    class State(models.TextChoices):
        IN_OFFICE = positions.IN_OFFICE, _("In office")
        ENDED = positions.ENDED, _("Term ended")
        CANCELLED = "cancelled", pgettext_lazy("arrangement", "Cancelled")

    # Bodies named by the organisation field rather than by the body itself.
    NAMED_BODIES = (Body.ASSOCIATION, Body.OTHER)

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="arrangements"
    )
    body = models.CharField(_("body"), max_length=20, choices=Body.choices)
    organisation = models.CharField(
        pgettext_lazy("of an arrangement", "organisation"),
        max_length=100,
        blank=True,
        help_text=_(
            "The association (知联会, 新联会, 侨联 ...) or the body that appointed a special "
            "appointee (区检察院)."
        ),
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    post = models.CharField(
        pgettext_lazy("of an arrangement", "post"),
        max_length=50,
        help_text=_("For example: 委员, 常委, 代表, 理事, 特约监督员."),
    )
    session = models.CharField(
        _("session"), max_length=20, blank=True, help_text=_("For example: 第十七届.")
    )
    term_from = models.DateField(_("term from"), null=True, blank=True)
    term_to = models.DateField(_("term to"), null=True, blank=True)
    state = models.CharField(
        pgettext_lazy("of an arrangement", "state"),
        max_length=10,
        choices=State.choices,
        default=State.IN_OFFICE,
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PoliticalArrangementQuerySet.as_manager()

    class Meta:
        verbose_name = _("political arrangement")
        verbose_name_plural = _("political arrangements")
        # In office first, then the latest ended.
        ordering = [
            models.Case(models.When(state="in_office", then=0), default=1),
            models.F("term_from").desc(nulls_last=True),
            "id",
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(term_to__isnull=True)
                | models.Q(term_from__isnull=True)
                | models.Q(term_to__gte=models.F("term_from")),
                name="arrangement_term_to_after_from",
                violation_error_message=_("The term ends before it begins."),
            ),
            models.CheckConstraint(
                condition=~models.Q(state="cancelled")
                | (~models.Q(end_reason="") & models.Q(ended_on__isnull=False)),
                name="arrangement_cancelled_with_reason_and_date",
                violation_error_message=_("A cancellation needs its date and reason."),
            ),
            models.CheckConstraint(
                condition=~models.Q(state="in_office")
                | (models.Q(ended_on__isnull=True) & models.Q(end_reason="")),
                name="arrangement_in_office_not_ended",
            ),
            # A seat is held once at a time; earlier terms of it stay as history.
            models.UniqueConstraint(
                fields=["member", "body", "level", "organisation", "post"],
                condition=models.Q(state="in_office"),
                name="arrangement_one_in_office_per_seat",
                violation_error_message=_("The member already holds this post, in office."),
            ),
        ]
        indexes = [
            # The member list's filter: members holding this body's seat at this level.
            models.Index(
                fields=["body", "level", "state", "member"], name="arrangement_filter_idx"
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def text(self) -> str:
        """As rosters write it (区政协委员), and as `members.positions` reads it back."""
        return positions.arrangement_text(self.body, self.level, self.post, self.organisation)

    @property
    def key(self) -> tuple:
        return (self.body, self.level, self.organisation, self.post)

    @property
    def in_office(self) -> bool:
        return self.state == self.State.IN_OFFICE

    def clean(self):
        errors = {}
        self.organisation = " ".join(self.organisation.split())
        self.post = " ".join(self.post.split())
        self.session = self.session.strip()
        self.end_reason = self.end_reason.strip()
        if self.body in positions.BODY_WORDS:
            self.organisation = ""  # 人大, 政协 and 工商联 name themselves (the form may send one)
        elif self.body in self.NAMED_BODIES and not self.organisation:
            errors["organisation"] = _("Name the association or body.")
        if self.term_from and self.term_to and self.term_to < self.term_from:
            errors["term_to"] = _("The term ends before it begins.")
        if self.state == self.State.IN_OFFICE:
            # Back in office (an ending recorded by mistake): nothing of the ending stays.
            self.ended_on, self.end_reason = None, ""
        else:
            if self.ended_on and self.ended_on > timezone.localdate():
                errors["ended_on"] = _("The day it ended lies in the future.")
            # A term runs out after it began; a seat is cancelled (取消推荐资格, say) before
            # its term begins as well as during it.
            if (
                self.state == self.State.ENDED
                and self.ended_on
                and self.term_from
                and self.ended_on < self.term_from
            ):
                errors["ended_on"] = _("The day it ended is before the term began.")
            if self.state == self.State.CANCELLED:
                if not self.ended_on:
                    errors["ended_on"] = _("Say when it was cancelled.")
                if not self.end_reason:
                    errors["end_reason"] = _("Say why it was cancelled.")
        if errors:
            raise ValidationError(errors)


class DutyRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The duty records of the members the user may see."""
        return self.filter(member__in=Member.objects.visible_to(user))


class DutyRecord(models.Model):
    """One entry of a member's record of duties (履职档案): a meeting attended, a proposal
    or a report of social conditions (社情民意) submitted and what came of it, research, a
    donation, a public-service project, a reward or a penalty, or a post held (工作经历).

    One model with a kind: the kinds differ only in which of outcome and amount they take
    (`OUTCOMES`, `AMOUNT_KINDS`), which `clean` enforces.
    """

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting attended")
        PROPOSAL = "proposal", _("Proposal")
        REPORT = "report", _("Social conditions report")
        RESEARCH = "research", _("Research")
        DONATION = "donation", _("Donation")
        PROJECT = "project", _("Public-service project")
        REWARD = "reward", _("Reward")
        PENALTY = "penalty", _("Penalty")
        WORK = "work", _("Work history")

    class Outcome(models.TextChoices):
        # Meetings
        ATTENDED = "attended", _("Attended")
        EXCUSED = "excused", _("Excused")
        ABSENT = "absent", _("Absent")
        # Proposals and reports
        PENDING = "pending", _("Awaiting an answer")
        FILED = "filed", _("Filed")
        NOT_FILED = "not_filed", _("Not filed")
        HANDLED = "handled", _("Handled")
        ADOPTED = "adopted", _("Adopted")
        ENDORSED = "endorsed", _("Endorsed by a leader")
        NOT_ADOPTED = "not_adopted", _("Not adopted")

    # The outcomes each kind may have; other kinds have none.
    OUTCOMES = {
        Kind.MEETING: (Outcome.ATTENDED, Outcome.EXCUSED, Outcome.ABSENT),
        Kind.PROPOSAL: (Outcome.PENDING, Outcome.FILED, Outcome.NOT_FILED, Outcome.HANDLED,
                        Outcome.ADOPTED),
        Kind.REPORT: (Outcome.PENDING, Outcome.ADOPTED, Outcome.ENDORSED, Outcome.NOT_ADOPTED),
    }  # fmt: skip
    # The kinds with an amount of money (a donation's, a project's funds).
    AMOUNT_KINDS = (Kind.DONATION, Kind.PROJECT)

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="duties"
    )
    kind = models.CharField(pgettext_lazy("of a duty record", "kind"), max_length=10,
                            choices=Kind.choices)  # fmt: skip
    date = models.DateField(pgettext_lazy("of a duty record", "date"))
    date_to = models.DateField(
        _("until"), null=True, blank=True, help_text=_("For a period: research, a project, a post.")
    )
    title = models.CharField(
        pgettext_lazy("of a duty record", "title"),
        max_length=200,
        help_text=_("The meeting, the proposal's subject, the reward, or the workplace and post."),
    )
    organisation = models.CharField(
        pgettext_lazy("of a duty record", "organisation"),
        max_length=100,
        blank=True,
        help_text=_("Who held the meeting, took the proposal, gave the reward or penalty."),
    )
    arrangement = models.ForeignKey(
        PoliticalArrangement,
        verbose_name=_("as"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duties",
        help_text=_("The political arrangement in which the member did it, if any."),
    )
    outcome = models.CharField(
        pgettext_lazy("of a duty record", "outcome"),
        max_length=12,
        choices=Outcome.choices,
        blank=True,
    )
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    description = models.TextField(_("content and results"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DutyRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty record")
        verbose_name_plural = _("duty records")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_to__isnull=True) | models.Q(date_to__gte=models.F("date")),
                name="dutyrecord_until_after_date",
                violation_error_message=_("The end is before the start."),
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True)
                | (models.Q(amount__gte=0) & models.Q(kind__in=["donation", "project"])),
                name="dutyrecord_amount_of_donations_and_projects",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="")
                | models.Q(kind="meeting", outcome__in=["attended", "excused", "absent"])
                | models.Q(
                    kind="proposal",
                    outcome__in=["pending", "filed", "not_filed", "handled", "adopted"],
                )
                | models.Q(
                    kind="report", outcome__in=["pending", "adopted", "endorsed", "not_adopted"]
                ),
                name="dutyrecord_outcome_of_its_kind",
            ),  # fmt: skip
        ]
        indexes = [models.Index(fields=["kind", "member"], name="dutyrecord_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.title}"

    @property
    def amount_text(self) -> str:
        """The amount as people write it: 20000, 1234.50 (yuan); "" for none."""
        if self.amount is None:
            return ""
        amount = Decimal(self.amount).quantize(Decimal("0.01"))
        return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"

    def clean(self):
        errors = {}
        self.title = " ".join(self.title.split())
        self.organisation = " ".join(self.organisation.split())
        today = timezone.localdate()
        if self.date and self.date > today:
            errors["date"] = _("A duty record is of something done: the date lies in the future.")
        if self.date_to:
            if self.date and self.date_to < self.date:
                errors["date_to"] = _("The end is before the start.")
            elif self.date_to > today:
                errors["date_to"] = _(
                    "The end lies in the future: leave it empty while it goes on."
                )
        allowed = self.OUTCOMES.get(self.kind, ())
        if not allowed:
            self.outcome = ""  # a kind without outcomes keeps none (the form may send one)
        elif self.outcome and self.outcome not in allowed:
            errors["outcome"] = _("This outcome is not one of a %(kind)s.") % {
                "kind": self.get_kind_display()
            }
        if self.kind not in self.AMOUNT_KINDS:
            self.amount = None
        elif self.amount is not None and self.amount < 0:
            errors["amount"] = _("The amount cannot be negative.")
        if self.arrangement_id and self.arrangement.member_id != self.member_id:
            errors["arrangement"] = _("Choose one of this member's political arrangements.")
        if errors:
            raise ValidationError(errors)


class MemberChange(models.Model):
    """One entry of a member's history: who changed what, when, from which source.

    Values are stored as shown to people (names of choices, masked numbers), so the
    history reads the same after reference data or keys change.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("New registration")
        UPDATE = "update", _("Updated")
        STATUS = "status", _("Status changed")
        # The steps of a transfer (`Transfer`): asked for by the sending community, then
        # accepted (the member moves: "transfer"), declined, or withdrawn.
        TRANSFER_REQUEST = "transfer_request", _("Transfer requested")
        TRANSFER = "transfer", _("Transferred in")
        TRANSFER_DECLINE = "transfer_decline", _("Transfer declined")
        TRANSFER_WITHDRAW = "transfer_withdraw", _("Transfer withdrawn")
        # Two records of one person made one (可能重复): on both, and its undoing.
        MERGE = "merge", _("Records merged")
        MERGE_UNDO = "merge_undo", _("Merge undone")
        # Proposed as a representative, and the district's decision on it or its withdrawal.
        NOMINATION = "nomination", _("Nomination")
        # The talk an evaluation of representatives held with her, or why none was held.
        TALK = "talk", _("Talk after an evaluation")
        # Her retention period passed: her personal values were removed (privacy app).
        ANONYMISE = "anonymise", _("Anonymised")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="changes"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=list, blank=True)

    class Meta:
        verbose_name = _("member change")
        verbose_name_plural = _("member changes")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["member", "-at"], name="memberchange_member_at_idx"),
            # The dashboards' latest changes of an area: newest first, stop after a few.
            models.Index(fields=["-at", "-id"], name="memberchange_at_idx"),
        ]

    def __str__(self):
        at = timezone.localtime(self.at)
        return f"{self.member} {self.get_action_display()} {at:%Y-%m-%d %H:%M}"

    def audit_label(self) -> str:
        at = timezone.localtime(self.at)
        return f"{self.member.audit_label()} {self.get_action_display()} {at:%Y-%m-%d %H:%M}"


def change_labels() -> dict:
    """What each `field` of a history line is called: the member's fields, and the records
    of the member's file that write their own lines under a name of theirs."""
    labels = {
        field.name: field.verbose_name for field in Member._meta.get_fields() if field.concrete
    }
    labels["categories"] = Member._meta.get_field("categories").verbose_name
    labels["relatives"] = Relative._meta.verbose_name_plural
    labels["arrangements"] = PoliticalArrangement._meta.verbose_name_plural
    labels["duties"] = DutyRecord._meta.verbose_name_plural
    labels["nomination"] = _("Nomination as a representative")
    labels["talk"] = _("Talk record")
    return labels


class MemberMerge(models.Model):
    """Two records of one person made one (`services.member_merge`): `merged` went into
    `keep`. What moved is kept by id, so the merge can be undone within
    MEMBER_MERGE_UNDO_DAYS (`services.member_merge_undo`) while neither record changed."""

    keep = models.ForeignKey(
        Member, verbose_name=_("kept record"), on_delete=models.PROTECT, related_name="+"
    )
    merged = models.ForeignKey(
        Member, verbose_name=_("merged record"), on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    # What the merge did, to undo it: the fields of `keep` filled from `merged` (empty
    # before), the categories added (ids), the history entries of `merged` now on `keep`,
    # each app's mover's ids ({mover key: what its `move` returned}), and both versions
    # after the merge (a later write to either makes undoing unsafe).
    filled = models.JSONField(default=list, blank=True)
    categories_added = models.JSONField(default=list, blank=True)
    changes_moved = models.JSONField(default=list, blank=True)
    moved = models.JSONField(default=dict, blank=True)
    keep_version = models.PositiveIntegerField()
    merged_version = models.PositiveIntegerField()
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        User, verbose_name=_("undone by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("member merge")
        verbose_name_plural = _("member merges")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.merged_id} → {self.keep_id}"


def receiving_area_ids(user) -> list[int] | None:
    """The areas a user may accept members into (None: every area): the areas where they may
    transfer members, as the sending side needs to ask for a transfer out of them."""
    if not user.is_authenticated or not user.has_perm("members.transfer_member"):
        return []
    return visible_area_ids(user)


class TransferQuerySet(models.QuerySet):
    """Transfers seen from either end: the sending community or the receiving one."""

    def visible_to(self, user):
        """Transfers out of or into the user's area (a read: the list, the transfer page)."""
        if not user.is_authenticated or not user.has_perm("members.view_member"):
            return self.none()
        ids = visible_area_ids(user)
        if ids is None:
            return self.all()
        return self.filter(models.Q(from_community_id__in=ids) | models.Q(to_community_id__in=ids))

    def incoming_for(self, user):
        """Transfers the user may accept or decline: into a community they may transfer
        members in (`receiving_area_ids`)."""
        ids = receiving_area_ids(user)
        return self.all() if ids is None else self.filter(to_community_id__in=ids)

    def outgoing_for(self, user):
        """Transfers the user may withdraw: of a member they may transfer."""
        if not user.is_authenticated or not user.has_perm("members.transfer_member"):
            return self.none()
        return self.filter(member__in=Member.objects.editable_by(user))

    def pending(self):
        return self.filter(state=Transfer.State.PENDING)


class Transfer(models.Model):
    """A member's move to another community, asked for by the community keeping her and
    accepted or declined by the receiving one (迁出 / 转入).

    Until it is accepted the member stays where she was, in that community's lists and counts;
    acceptance moves her (`members.services.transfer_accept`). A requester who may also act
    for the receiving community (a district officer) has it accepted at once.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting acceptance")
        ACCEPTED = "accepted", pgettext_lazy("a transfer", "Accepted")
        DECLINED = "declined", pgettext_lazy("a transfer", "Declined")
        WITHDRAWN = "withdrawn", pgettext_lazy("a transfer", "Withdrawn")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="transfers"
    )
    from_community = models.ForeignKey(
        Area, verbose_name=_("from community"), on_delete=models.PROTECT, related_name="+"
    )
    to_community = models.ForeignKey(
        Area, verbose_name=_("to community"), on_delete=models.PROTECT, related_name="+"
    )
    # The grid the requester suggests; the receiving community chooses on acceptance.
    to_grid = models.ForeignKey(
        Area,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    requested_by = models.ForeignKey(
        User,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(state="pending"),
                name="transfer_one_pending_per_member",
            )
        ]
        indexes = [
            models.Index(fields=["to_community", "state"], name="transfer_to_state_idx"),
            models.Index(fields=["from_community", "state"], name="transfer_from_state_idx"),
        ]

    def __str__(self):
        return f"{self.member} → {self.to_community}"

    def audit_label(self) -> str:
        return f"{self.member.audit_label()} → {self.to_community}"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING


class MemberTally(models.Model):
    """How many members of one community have one value of one dimension (统计汇总).

    The dashboards add up these rows instead of counting a million members on every view.
    Every write that changes what is counted applies its difference in its own transaction
    (`members.services.tally_apply`), so a number is never older than the last saved change;
    `manage.py tally_rebuild` recounts everything. Values of reference data are their ids.
    """

    # Counts recounted from the members: not a record of its own that holds an area.
    area_derived = True

    class Dimension(models.TextChoices):
        # Registered members (status active) unless said otherwise; value "" where none.
        TOTAL = "total", _("Registered members")
        REPRESENTATIVE = "representative", _("Representative figures")
        CATEGORY = "category", _("Category")  # Category.code
        POLITICAL_STATUS = "political_status", _("Political status")  # code or ""
        ETHNICITY = "ethnicity", _("Ethnic group")  # code
        SEX = "sex", _("Sex")  # M, F or ""
        BIRTH_YEAR = "birth_year", _("Year of birth")  # "1966"
        INCOMPLETE = "incomplete", _("Incomplete records")
        # Not yet told what is kept and why (告知, PIPL arts. 17, 35): no notice recorded.
        NOT_INFORMED = "not_informed", _("Not yet told")
        LAST_CONTACT = "last_contact", _("Last contact")  # month "2026-03", "" never
        # Any status: the month registered, and the month a member left the registry.
        JOINED = "joined", _("Registered in")
        LEFT = "left", _("Left in")

    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    value = models.CharField(_("value"), max_length=10, blank=True)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("member tally")
        verbose_name_plural = _("member tallies")
        ordering = ["community", "dimension", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "dimension", "value"], name="membertally_unique"
            )
        ]
        indexes = [
            models.Index(fields=["dimension", "community"], name="membertally_dimension_idx")
        ]

    def __str__(self):
        return f"{self.community_id} {self.dimension}={self.value}: {self.count}"


class ImportJobQuerySet(ScopedQuerySet):
    area_field = "area"


class ImportJob(models.Model):
    """One roster upload: checked in the background, previewed, then imported on confirmation.

    The uploaded bytes stay in the database (so a worker on any machine can read them) until
    the import is done or cancelled. The report keeps counts, refused rows and changes; the
    refused rows are also kept as an .xlsx ready to fix and upload again.
    """

    class State(models.TextChoices):
        # Its header has columns no rule knows: the uploader says what each holds first.
        MAPPING = "mapping", _("Waiting for its columns to be named")
        CHECK_QUEUED = "check_queued", _("Waiting to be checked")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked, waiting for confirmation")
        IMPORT_QUEUED = "import_queued", _("Waiting to be imported")
        IMPORTING = "importing", _("Importing")
        DONE = "done", pgettext_lazy("import state", "Imported")
        NOTHING_WRITTEN = "nothing_written", _("Nothing written")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    QUEUED = (State.CHECK_QUEUED, State.IMPORT_QUEUED)
    RUNNING = (State.CHECKING, State.IMPORTING)
    FINISHED = (State.DONE, State.NOTHING_WRITTEN, State.FAILED, State.CANCELLED)

    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    # The uploader's area (None for administrators of every area): who else may see the job.
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filename = models.CharField(_("file"), max_length=200)
    data = models.BinaryField(_("file contents"), null=True, editable=False)
    community = models.ForeignKey(
        Area,
        verbose_name=_("community for rows without one"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    strict = models.BooleanField(_("only if every row is valid"), default=False)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.CHECK_QUEUED
    )
    done_rows = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    # Set while a worker runs the job and refreshed with its progress; a job whose heartbeat
    # stopped belongs to a worker that died, and is queued again.
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    check_report = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    refused_file = models.BinaryField(null=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Where the upload and the confirmation came from, for the audit lines the background
    # check and import write later, away from the request.
    uploaded_ip = models.GenericIPAddressField(null=True, blank=True)
    uploaded_request_id = models.CharField(max_length=64, blank=True)
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)
    confirmed_request_id = models.CharField(max_length=64, blank=True)
    # The mapping step: the header's columns no rule knows, as the check found them, the key
    # of the header's set of columns (`roster_reader.mapping_key`), and what the uploader
    # said each unknown column holds (header → roster column key, "" not to import).
    unknown_columns = models.JSONField(default=list, blank=True)
    header_key = models.CharField(max_length=64, blank=True)
    columns = models.JSONField(default=dict, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="importjob_state_idx")]

    def __str__(self):
        return self.filename

    @property
    def is_queued(self) -> bool:
        return self.state in self.QUEUED

    @property
    def is_running(self) -> bool:
        return self.state in self.RUNNING

    @property
    def is_busy(self) -> bool:
        return self.is_queued or self.is_running

    @property
    def percent(self) -> int:
        if self.state in self.FINISHED or self.state == self.State.CHECKED:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.done_rows * 100 // self.total_rows)


class ColumnMapping(models.Model):
    """What a user said the unknown columns of a roster template hold, offered again for the
    next file with the same set of headers (issue 14: other offices' templates)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # `roster_reader.mapping_key` of the header: the same columns in any order.
    header_key = models.CharField(max_length=64)
    # Header as written → roster column key, or "" for a column not to import.
    columns = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("roster column mapping")
        verbose_name_plural = _("roster column mappings")
        ordering = ["user", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "header_key"], name="columnmapping_one_per_user_and_header"
            )
        ]

    def __str__(self):
        return f"{self.user_id}: {', '.join(self.columns)}"


class ImportRow(models.Model):
    """One roster row as an import's check or result saw it, for the pages that list them.

    The check writes one per row (new, updated, unchanged or refused); the import replaces
    them with its own, which point at the members it created or changed (the member list's
    `?import=` filter). A table rather than the report's JSON, so a 100,000-row file is paged
    by the database and the report stays a few counts. Masked numbers only.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("New people")
        UPDATED = "updated", _("Updated")
        UNCHANGED = "unchanged", _("Unchanged")
        REFUSED = "refused", _("Refused")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField(_("row"))
    kind = models.CharField(max_length=10, choices=Kind.choices)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=50, blank=True)
    id_number_masked = models.CharField(_("ID number (masked)"), max_length=20, blank=True)
    community = models.CharField(_("community"), max_length=100, blank=True)
    # Updated: the history's changes ({"field", "old", "new"}, masked as the history is);
    # refused: {"column", "message"} for each reason.
    detail = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        ordering = ["job", "row"]
        indexes = [models.Index(fields=["job", "kind", "row"], name="importrow_job_kind_idx")]

    def __str__(self):
        return f"{self.job_id}:{self.row}"


# -- Admission and exit of representatives (凡进必评, 有进有出, issue 18) -------------------------
#
# Nobody becomes a representative by a checkbox: a member is nominated (by the staff of her
# community or street, or by a roster row saying 代表人士 是), evaluated in an admission round
# (`assessment`), and admitted by the district's decision. Every time the flag changes, the
# one writer of it (`services.representative_set`) writes a row of the register below.


class NominationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The nominations of the members the user may see."""
        return self.filter(member__in=Member.objects.visible_to(user))

    def pending(self):
        return self.filter(state=Nomination.State.PENDING)


class Nomination(models.Model):
    """A member proposed as a representative (代表人士人选): who proposed her, when and why.
    Pending until the district decides after her admission evaluation, or until who may
    propose her withdraws it (`services.nomination_withdraw`: `decided_on` is then the day
    and `decision_note` the reason)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting evaluation and decision")
        ADMITTED = "admitted", _("Admitted")
        NOT_ADMITTED = "not_admitted", _("Not admitted")
        WITHDRAWN = "withdrawn", pgettext_lazy("taken back", "Withdrawn")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="nominations"
    )
    reason = models.TextField(_("why she is proposed"))
    # Where the proposal came from when not from a page: the roster import's file.
    source = models.CharField(_("source"), max_length=200, blank=True)
    proposed_by = models.ForeignKey(
        User, verbose_name=_("proposed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=15, choices=State.choices, default=State.PENDING
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = NominationQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("representative", "nomination")
        verbose_name_plural = pgettext_lazy("representative", "nominations")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(state="pending"),
                name="nomination_one_pending_per_member",
            )
        ]

    def __str__(self):
        return f"{self.member} · {self.get_state_display()}"

    def audit_label(self) -> str:
        return f"{self.member.audit_label()} · {self.get_state_display()}"


class RepresentativeChangeQuerySet(ScopedQuerySet):
    """Rows belong to the community the member was in when the flag changed: a register of
    a year stays as it was written when she moves later."""

    area_field = "community"


class RepresentativeChange(models.Model):
    """A row of the register of entries and exits (有进有出): the representative flag set or
    cleared, when, why, and where it was decided (`link`, a page of the registry)."""

    class Kind(models.TextChoices):
        ENTRY = "entry", _("Entry")
        EXIT = "exit", _("Exit")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT,
        related_name="representative_changes",
    )  # fmt: skip
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("entry or exit"), max_length=5, choices=Kind.choices)
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200)
    link = models.CharField(_("decided in"), max_length=200, blank=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = RepresentativeChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("entry or exit of a representative")
        verbose_name_plural = _("register of entries and exits")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["community", "date"], name="repchange_community_date_idx"),
            models.Index(fields=["member", "date"], name="repchange_member_date_idx"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.member}"

    def audit_label(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.member.audit_label()}"
