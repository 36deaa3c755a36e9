"""Anonymising one member whose retention period has passed (PIPL art. 47: personal
information is deleted when its retention period expires; anonymised information, which can
no longer identify the person, is not personal information, art. 73). The one writer of
anonymisation: `member_anonymise`, called by `privacy.services.anonymisations_run` for each
record the district approved, in that record's own transaction. Nothing writes it back.

The rule: the record stays as a row, so everything that counts it counts the same (the
dashboards' tallies of her community, the months registered and left, the activities, visits
and needs, the evaluation and assessment results already given); every value that says who she
is, or what she said and did, goes. Her record is her row and every record merged into it
(`merged_into`, one person).

Removed (R) and kept (K), model by model (every model of the project was read for text and
JSON fields; those not listed hold nothing about a member):

members.Member (her records)
  K  status, status_date (the day she left: the LEFT tally counts its month), created_at
     (the JOINED tally), community, grid, categories, sex, ethnicity, political_status,
     is_representative, document_type (which kind of document, as the categories 09-12 say),
     last_contact_on, merged_into, version (raised): what the dashboards count, and the kind
     of member she was, none of which names anyone.
  K  birth_date, as the year alone (1 January of it): the dashboards' age bands count years.
  R  name: 已匿名<id>. id_number, phone and their masked forms: emptied; id_number_hash: a
     value of its own ("anonymised:<id>", the column is unique) that no number hashes to,
     phone_hash emptied, so no search by number or phone finds her.
  R  every other field, whatever is added later (`KEPT_FIELDS` is the list kept; a field not
     on it is emptied): document_country, education, native_place, workplace,
     professional_title, social_positions, address, specialty, notes, status_reason and
     every category field (party, religion, enterprise, study abroad, origin, overseas).
  R  photo: the file deleted from storage once the transaction commits.
  The talent search's index (members_talent_keys, members_talent_text) is an expression
  index over specialty, professional_title and industry: PostgreSQL computes it again from
  the emptied fields in the same UPDATE, so no search finds her by them.
members.MemberChange (her history)
  K  the rows (what happened when, by whom) and the values of the kept fields (status,
     community, categories ...).
  R  every other old and new value, and `source` (reasons, file names, the names in a merge
     line). A last row says she was anonymised, and by whose approval.
members.Relative (her relatives)  R  deleted: their names, contacts, places, notes.
  Another member's relative entry linked to her record keeps its text (it is that member's
  record of their relative) but loses the link, which would lead back to her.
members.PoliticalArrangement  K  body, level, post, session, term, state, ended_on: a seat and
  its term, not the person, and the register of seats stays whole. R end_reason (已匿名 where
  a cancellation must give one); her values removed from organisation, post and session.
members.DutyRecord  K  kind, dates, outcome, amount, the arrangement.  R  title (已匿名),
  organisation, description.
members.Transfer  K  the communities, states and days.  R  reason (已匿名), decision_note.
members.Nomination  K  state and days.  R  reason (已匿名), source, decision_note.
members.RepresentativeChange (the register)  K  entry or exit, date, community, link.
  R  reason (已匿名).
members.ImportRow (rows of her in roster imports, by record or by name and masked number)
  K  the row's number, kind and community (the import's counts).  R  name (已匿名),
  id_number_masked, detail (the changes and refusals, which quote values).
members.ImportJob  R  the file of refused rows of a job with rows of her; an upload still
  waiting for confirmation (its file in the database) is cancelled and its file and rows
  deleted, as `members.jobs.jobs_expire` does with unconfirmed uploads.
members.MemberMerge, MemberCategory, MemberTally  K  ids, categories and counts only.
activities.Participation, Visit.members  K  the links: the counts of participants, visits
  and members visited stay.
activities.Visit  R  situation and opinions of a visit to her alone; on a visit to her and
  others (their record too) her values are removed from them. The same in the visits'
  history (VisitChange). K date, way, staff, community.
activities.Need (hers)  K  kind, status, dates, community, referral, handler (a worker):
  the needs counts and the assessment's needs resolved.  R  description (已匿名), resolution
  (已匿名 where a closed need must say one), and in its history (NeedChange) the old and new
  description and resolution and each note.
activities.Activity (those she took part in)  R  her values from title, place and summary,
  and from their history (ActivityChange keeps participants as ids, never names).
commendations.Nomination (of her)  K  campaign, community, state (分单位统计 counts them).
  R  deeds (已匿名), notes, contact, both opinions, each step's note (NominationEvent), and
  the files of her deeds (rows and stored files).
assessment.Evaluation, EvaluationScore  K  (a round's results and ranks stay as given).
assessment.VetoMark  R  note (已匿名).  TalkRecord  K  kind, day, who held it.  R  content,
  outcome, reason (已匿名 where the record must have one).  Admission  R  note.
  Period results (assessment.Result) hold no member: a finished assessment is unchanged.
resources.Resource (hers)  R  description; her values from its title.  Project (hers) and its
  steps, Match of her needs  R  her values from name, description and notes.
organisations.Organisation whose contact she was  R  the link, her values from the contact's
  name and notes, the contact phone if it is hers.  Membership  K  role and days (an
  organisation's members are counted).
tongzhan.Download  R  every file made or being made for a user whose area holds her
  community (her area's staff, the levels above, administrators of every area), and what any
  file was asked for with if it names her (a search by her number): the files are deleted and
  marked expired, those being made marked failed. They are made again from what is left.
privacy.PersonRequest (her own requests to see, copy or correct)  K  kind, days, state, who
  recorded and answered it (the deadline kept).  R  what she asked (已匿名), the agent's name
  (已匿名 where an agent asked) and relation, the answer (已匿名 where one was given).
  RequestCopy  K  format, time, SHA-256 and size only (the file was never kept).
django.contrib.admin.LogEntry (of her records)  R  object_repr (已匿名<id>), change_message.
tongzhan.AuditEvent  K  The audit log is append-only, refused any change by a trigger and
  chained by MACs (tongzhan.auditchain): it keeps who processed her record, which PIPL art. 54
  and 55 audits ask for. It holds no value of hers to remove: numbers and names only masked
  (`audit_record` names a person's record by its `audit_label()`, 欧***), and no reason typed.
  Lines written before that (December 2026) may name her in full. The anonymisation's own
  line names only 已匿名<id> and counts.
Not linked to a member, so not searched: liaison notices, tasks and reports, rectifications,
  community needs, training and study material (texts of an area's work, not of a person).
"""

import datetime

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from activities.models import Activity, ActivityChange, Need, NeedChange, Visit, VisitChange
from assessment.models import Admission, TalkRecord, VetoMark
from commendations.models import Nomination as CommendationNomination
from commendations.models import NominationEvent, NominationFile
from members.models import (
    DutyRecord,
    ImportJob,
    ImportRow,
    Member,
    MemberChange,
    Nomination,
    PoliticalArrangement,
    Relative,
    RepresentativeChange,
    Transfer,
)
from members.services import tally_apply, tally_change, tally_keys
from organisations.models import Organisation
from resources.models import Match, Project, ProjectStep, Resource
from tongzhan.models import Area, Download
from tongzhan.scoping import enclosing_areas, within_area

from .models import PersonRequest

# What stays of the member's own row (see the module's docstring); every other field is
# emptied. `birth_date` keeps its year; `name`, `id_number_hash` and `incomplete` are set.
KEPT_FIELDS = frozenset(
    {
        "id",
        "sex",
        "ethnicity",
        "political_status",
        "document_type",
        "community",
        "grid",
        "is_representative",
        "status",
        "status_date",
        "created_at",
        "updated_at",
        "last_contact_on",
        "merged_into",
        "version",
        "incomplete",
        "anonymised_at",
        "birth_date",
        "name",
        "id_number_hash",
    }
)
# The history's fields whose old and new values stay: what the record still holds, by the
# names the history writes (`members.services.snapshot`).
KEPT_HISTORY_FIELDS = frozenset(
    {
        "status",
        "status_date",
        "community",
        "grid",
        "categories",
        "sex",
        "ethnicity",
        "political_status",
        "is_representative",
        "document_type",
    }
)
# Values shorter than this are not looked for inside other texts: a one-character value
# would take ordinary words with it.
SHORTEST_VALUE = 2


def placeholder() -> str:
    """What stands where a required text was: in the registry's language, as the history is
    written (`members.services._history_text`)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(_("Anonymised"))


class Scrubber:
    """Her personal values, looked for in the texts kept beside her record (a joint visit's
    notes, an activity's summary) and replaced by the placeholder."""

    def __init__(self, values, replacement: str):
        found = {str(value).strip() for value in values if value}
        self.values = sorted(
            (value for value in found if len(value) >= SHORTEST_VALUE), key=len, reverse=True
        )
        self.replacement = replacement

    def text(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, self.replacement)
        return text

    def holds(self, text) -> bool:
        text = str(text or "")
        return any(value in text for value in self.values)

    def json(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        return value


def _records(member: Member) -> list[int]:
    """Her record and every record merged into it, however deep: one person's."""
    ids, frontier = [member.pk], [member.pk]
    while frontier:
        frontier = [
            pk
            for pk in Member.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)
            if pk not in ids
        ]
        ids += frontier
    return ids


def _blank_changes(changes, fields) -> list:
    """History entries ({"field", "old", "new"}) with the values of `fields` emptied."""
    return [
        {**change, "old": "", "new": ""}
        if isinstance(change, dict) and change.get("field") in fields
        else change
        for change in changes or []
    ]


def _kept_changes(changes) -> list:
    """Her history's entries with only the kept fields' values."""
    return [
        change
        if isinstance(change, dict) and change.get("field") in KEPT_HISTORY_FIELDS
        else {**change, "old": "", "new": ""}
        if isinstance(change, dict)
        else ""
        for change in changes or []
    ]


def _scrub(rows, fields, scrubber: Scrubber, *, json_fields=()) -> int:
    """Remove her values from `fields` (text) and `json_fields` of `rows`; how many changed."""
    changed = []
    for row in rows:
        before = [getattr(row, name) for name in (*fields, *json_fields)]
        for name in fields:
            setattr(row, name, scrubber.text(getattr(row, name) or ""))
        for name in json_fields:
            setattr(row, name, scrubber.json(getattr(row, name)))
        if [getattr(row, name) for name in (*fields, *json_fields)] != before:
            changed.append(row)
    if changed:
        type(changed[0]).objects.bulk_update(changed, [*fields, *json_fields])
    return len(changed)


def _emptied(field):
    if field.null:
        return None
    if isinstance(field, models.BooleanField):
        return False
    return ""


def _member_values(member: Member) -> dict:
    """The values her row keeps: `KEPT_FIELDS` as they are, the others emptied."""
    values = {}
    for field in Member._meta.concrete_fields:
        if field.name not in KEPT_FIELDS:
            values[field.attname] = _emptied(field)
    birth = member.birth_date
    values["birth_date"] = datetime.date(birth.year, 1, 1) if birth else birth
    values["name"] = f"{placeholder()}{member.pk}"[: Member._meta.get_field("name").max_length]
    values["id_number_hash"] = f"anonymised:{member.pk}"
    return values


def _personal_values(records: list[Member]) -> list[str]:
    """Every value that says who she is, to look for in the texts kept beside her."""
    values = []
    for record in records:
        values += [
            record.name,
            record.id_number,
            record.id_number_masked,
            record.phone,
            record.address,
            record.workplace,
            record.enterprise_name,
            record.enterprise_credit_code,
            record.religious_venue,
            record.study_school,
        ]
    for relative in Relative.objects.filter(member__in=records):
        values += [relative.name, relative.contact, relative.place]
    return values


def _delete_after_commit(storage, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))


def member_anonymise(member: Member, *, source: str) -> dict:
    """Remove the personal values of `member` (and of the records merged into her) wherever
    they are kept, as the module's docstring lists. Runs in the caller's transaction, which
    has locked her row; returns what was done, counted, for the audit line. `source` is the
    reason the last history line gives."""
    word = placeholder()
    ids = _records(member)
    records = list(Member.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    scrubber = Scrubber(_personal_values(records), word)
    masked = [record.id_number_masked for record in records if record.id_number_masked]
    names = [record.name for record in records]
    done = {"records": len(records)}

    # Her own rows: the values kept, the rest emptied; her tallies (counts of those who left)
    # stay as they were, the difference applied like any write's (none, by design).
    now = timezone.now()
    done["files"] = 0
    for record in records:
        categories = list(record.categories.all())
        before = tally_keys(record, categories)
        if record.photo:
            _delete_after_commit(record.photo.storage, record.photo.name)
            done["files"] += 1
        values = _member_values(record)
        values.update(anonymised_at=now, updated_at=now, version=record.version + 1)
        for name, value in values.items():
            setattr(record, name, value)
        slugs = [category.slug for category in categories]
        record.incomplete = values["incomplete"] = record.misses_category_fields(slugs)
        Member.objects.filter(pk=record.pk).update(**values)
        tally_apply(tally_change(before, tally_keys(record, categories)))

    # Her history.
    history = list(MemberChange.objects.filter(member__in=ids))
    for change in history:
        change.changes = _kept_changes(change.changes)
        change.source = ""
    MemberChange.objects.bulk_update(history, ["changes", "source"])
    done["history"] = len(history)

    # Her relatives, and the links of others' relatives to her.
    done["relatives"], _by_model = Relative.objects.filter(member__in=ids).delete()
    Relative.objects.filter(linked_member__in=ids).update(linked_member=None)

    # The representative's file, the register, nominations and transfers.
    for arrangement in PoliticalArrangement.objects.filter(member__in=ids):
        arrangement.end_reason = word if arrangement.end_reason else ""
        arrangement.organisation = scrubber.text(arrangement.organisation)
        arrangement.post = scrubber.text(arrangement.post)
        arrangement.session = scrubber.text(arrangement.session)
        arrangement.save(update_fields=["end_reason", "organisation", "post", "session"])
    DutyRecord.objects.filter(member__in=ids).update(title=word, organisation="", description="")
    Transfer.objects.filter(member__in=ids).update(reason=word, decision_note="")
    Nomination.objects.filter(member__in=ids).update(reason=word, source="", decision_note="")
    RepresentativeChange.objects.filter(member__in=ids).update(reason=word)

    # Roster imports: the rows of her, and the files still kept that hold them.
    # A check's rows and a refused row name no record: they are hers by name and masked
    # number (kept until the upload is confirmed or cancelled, refused rows for
    # REFUSED_FILE_DAYS, a failed import's check rows as they were). A scan of the rows
    # without a record, once a night for each record approved.
    unlinked = ImportRow.objects.filter(
        member__isnull=True, name__in=names, id_number_masked__in=masked
    )
    rows = ImportRow.objects.filter(Q(member__in=ids) | Q(pk__in=unlinked.values("pk")))
    jobs = set(rows.values_list("job_id", flat=True))
    done["import_rows"] = rows.update(name=word, id_number_masked="", detail=[])
    ImportJob.objects.filter(pk__in=jobs).update(refused_file=None)
    waiting = ImportJob.objects.filter(
        pk__in=jobs, state__in=[ImportJob.State.CHECKED, ImportJob.State.MAPPING]
    )
    ImportRow.objects.filter(job__in=waiting).delete()
    with translation.override(settings.LANGUAGE_CODE):
        cancelled = str(_("Cancelled: it held a record anonymised when its retention ended."))
    waiting.update(
        state=ImportJob.State.CANCELLED, data=None, finished_at=timezone.now(), error=cancelled
    )

    # Visits, needs and activities.
    visits = Visit.objects.filter(members__in=ids).annotate(people=Count("members", distinct=True))
    alone = [visit.pk for visit in visits if visit.people == 1]
    done["visits"] = len(visits)
    Visit.objects.filter(pk__in=alone).update(situation="", opinions="")
    alone_history = list(VisitChange.objects.filter(visit__in=alone))
    for change in alone_history:
        change.changes = scrubber.json(_blank_changes(change.changes, {"situation", "opinions"}))
    VisitChange.objects.bulk_update(alone_history, ["changes"])
    joint = [visit.pk for visit in visits if visit.people > 1]
    _scrub(Visit.objects.filter(pk__in=joint), ["situation", "opinions"], scrubber)
    _scrub(VisitChange.objects.filter(visit__in=joint), [], scrubber, json_fields=["changes"])

    needs = Need.objects.filter(member__in=ids)
    done["needs"] = needs.count()
    closed = [Need.Status.RESOLVED, Need.Status.IMPOSSIBLE]
    needs.filter(status__in=closed).update(description=word, resolution=word)
    needs.exclude(status__in=closed).update(description=word, resolution="")
    need_history = list(NeedChange.objects.filter(need__in=needs))
    for change in need_history:
        change.changes = scrubber.json(
            _blank_changes(change.changes, {"description", "resolution"})
        )
        change.note = ""
    NeedChange.objects.bulk_update(need_history, ["changes", "note"])
    _scrub(Match.objects.filter(need__in=needs), ["note"], scrubber)

    activities = Activity.objects.filter(participants__in=ids).distinct()
    _scrub(activities, ["title", "place", "summary"], scrubber)
    _scrub(
        ActivityChange.objects.filter(activity__in=activities), [], scrubber,
        json_fields=["changes"],
    )  # fmt: skip

    # Commendations: her nominations' deeds, opinions, steps and files.
    nominations = CommendationNomination.objects.filter(member__in=ids)
    nominations.update(
        deeds=word, notes="", contact="", contact_masked="", street_opinion="",
        district_opinion="", resident_name="",
    )  # fmt: skip
    NominationEvent.objects.filter(nomination__in=nominations).update(note="")
    files = list(NominationFile.objects.filter(nomination__in=nominations))
    for attached in files:
        _delete_after_commit(attached.file.storage, attached.file.name)
    NominationFile.objects.filter(pk__in=[attached.pk for attached in files]).delete()
    done["files"] += len(files)

    # Evaluations: the scores and results stay, what was written about her goes.
    VetoMark.objects.filter(evaluation__member__in=ids).update(note=word)
    talks = TalkRecord.objects.filter(evaluation__member__in=ids)
    talks.filter(kind=TalkRecord.Kind.NONE).update(content="", outcome="", reason=word)
    talks.exclude(kind=TalkRecord.Kind.NONE).update(content=word, outcome="", reason="")
    Admission.objects.filter(evaluation__member__in=ids).update(note="")

    # Resources, projects and organisations linked to her.
    Resource.objects.filter(member__in=ids).update(description="")
    _scrub(Resource.objects.filter(member__in=ids), ["title"], scrubber)
    projects = Project.objects.filter(member__in=ids)
    _scrub(projects, ["name", "description"], scrubber)
    _scrub(ProjectStep.objects.filter(project__in=projects), ["note"], scrubber)
    contacts = list(Organisation.objects.filter(contact_member__in=ids))
    for organisation in contacts:
        organisation.contact_member = None
        organisation.contact_name = scrubber.text(organisation.contact_name)
        organisation.notes = scrubber.text(organisation.notes)
        if scrubber.holds(organisation.contact_phone):
            organisation.contact_phone, organisation.contact_phone_masked = "", ""
    Organisation.objects.bulk_update(
        contacts,
        ["contact_member", "contact_name", "notes", "contact_phone", "contact_phone_masked"],
    )

    # Her own requests about her record (PIPL arts. 44-46): the kind, days and state stay.
    person_requests = PersonRequest.objects.filter(member__in=ids)
    done["requests"] = person_requests.update(asks=word, agent_relation="")
    person_requests.exclude(agent_name="").update(agent_name=word)  # an agent stays named
    person_requests.exclude(answer="").update(answer=word)

    # The admin's own log of her records.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Member), object_id__in=map(str, ids)
    ).update(object_repr=f"{word}{member.pk}", change_message="")

    done["downloads"] = _downloads_withdraw(member, scrubber)

    MemberChange.objects.create(
        member=member, actor=None, action=MemberChange.Action.ANONYMISE, source=source[:200],
        changes=[],
    )  # fmt: skip
    return done


def _downloads_withdraw(member: Member, scrubber: Scrubber) -> int:
    """Delete the files that may hold her: made (or being made) for a user whose area holds
    her community, and any asked for with one of her values. Returns how many."""
    community = Area.objects.select_related("parent__parent").get(pk=member.community_id)
    above = [community.pk, *(area.pk for area in enclosing_areas(community))]
    holders = (
        Q(owner__area_id__in=above)
        | Q(owner__area__isnull=True)
        | within_area(community, "owner__area")
    )
    asked = [
        pk
        for pk, params in Download.objects.exclude(params={}).values_list("pk", "params")
        if scrubber.holds(params)
    ]
    State = Download.State
    with translation.override(settings.LANGUAGE_CODE):
        stopped = str(_("A record it would hold was anonymised meanwhile; ask for it again."))
    made = Download.objects.filter(holders | Q(pk__in=asked), state=State.DONE).update(
        state=State.EXPIRED, data=None, params={}
    )
    busy = Download.objects.filter(
        holders | Q(pk__in=asked), state__in=[State.QUEUED, State.RUNNING]
    ).update(state=State.FAILED, data=None, params={}, error=stopped, finished_at=timezone.now())
    Download.objects.filter(pk__in=asked).exclude(params={}).update(params={})
    return made + busy
