"""Every URL of the application, for each role, anonymous, and users of the next area.

One row per address: the expected status for each user, in this order:

    anon   not logged in
    alice  community worker of 桥东一社区, where every record below lives
    bob    community worker of the neighbouring 五一二社区
    carl   street officer of 柳巷街道 (above both)
    erin   district officer of 迎泽区
    frank  district officer of the neighbouring 小店区
    grace  administrator (superuser; the scoped administrator's pages are in
           tongzhan/tests/test_account_pages.py)
    ivan   auditor

302 is "to the login page" for anonymous visitors (and a redirect after a POST), 404 is
"not in your area", 403 is "your role may not". A new URL must be added here:
`test_the_matrix_covers_every_url` fails until it is.
"""

import datetime
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType
from assessment import meetings as assessment_meetings
from assessment import services as assessment_services
from assessment.models import EvaluationItem, EvaluationTemplate
from conftest import _user
from liaison import services as liaison_services
from members import jobs
from members import services as member_services
from members.tests.factories import MemberFactory
from members.tests.test_imports import person, roster
from members.tests.test_printing import photo_bytes
from organisations import services as organisation_services
from privacy import services as privacy_services
from resources import services as resource_services
from tongzhan.models import User
from tongzhan.services import download_request

pytestmark = pytest.mark.django_db

USERS = ["anon", "alice", "bob", "carl", "erin", "frank", "grace", "ivan"]
PDF = b"%PDF-1.7\n" + b"0" * 100

# (name, arguments, method, expected statuses for USERS)
MATRIX = [
    ("home", [], "get", "302 200 200 200 200 200 200 302"),
    ("login", [], "get", "200 302 302 302 302 302 302 302"),
    ("logout", [], "post", "302 302 302 302 302 302 302 302"),
    ("health", [], "get", "200 200 200 200 200 200 200 200"),
    ("password_change", [], "get", "302 200 200 200 200 200 200 200"),
    ("password_change_done", [], "get", "302 200 200 200 200 200 200 200"),
    ("two_factor_setup", [], "get", "302 200 200 200 200 200 200 200"),
    ("two_factor_verify", [], "get", "302 200 200 200 200 200 200 200"),
    ("audit", [], "get", "302 403 403 403 403 403 403 200"),
    ("audit_export", [], "get", "302 403 403 403 403 403 403 200"),
    ("manage", [], "get", "302 403 403 403 200 200 200 403"),
    ("account_list", [], "get", "302 403 403 403 403 403 200 403"),
    ("account_create", [], "get", "302 403 403 403 403 403 200 403"),
    ("account_create", [], "post", "302 403 403 403 403 403 200 403"),
    ("account_detail", ["account"], "get", "302 403 403 403 403 403 200 403"),
    ("account_update", ["account"], "get", "302 403 403 403 403 403 200 403"),
    ("account_update", ["account"], "post", "302 403 403 403 403 403 200 403"),
    ("account_password", ["account"], "get", "302 403 403 403 403 403 200 403"),
    ("account_password", ["account"], "post", "302 403 403 403 403 403 200 403"),
    ("account_active", ["account"], "get", "302 403 403 403 403 403 200 403"),
    ("account_active", ["account"], "post", "302 403 403 403 403 403 200 403"),
    ("account_authenticator", ["account"], "get", "302 403 403 403 403 403 200 403"),
    ("account_authenticator", ["account"], "post", "302 403 403 403 403 403 302 403"),
    ("account_unlock", ["account"], "post", "302 403 403 403 403 403 302 403"),
    # Files made in the background: each its owner's alone (alice's here), 404 to anyone else.
    ("download_list", [], "get", "302 200 200 200 200 200 200 200"),
    ("download_list", [], "post", "302 405 405 405 405 405 405 405"),
    ("download_detail", ["download"], "get", "302 200 404 404 404 404 404 404"),
    ("download_detail", ["download"], "post", "405 405 405 405 405 405 405 405"),
    ("download_status", ["download"], "get", "302 200 404 404 404 404 404 404"),
    ("download_status", ["download"], "post", "405 405 405 405 405 405 405 405"),
    ("download_file", ["download"], "get", "302 200 404 404 404 404 404 404"),
    ("download_file", ["download"], "post", "405 405 405 405 405 405 405 405"),
    ("download_delete", ["fresh_download"], "get", "405 405 405 405 405 405 405 405"),
    ("download_delete", ["fresh_download"], "post", "302 302 404 404 404 404 404 404"),
    # Another district's user's file (frank's): his alone.
    ("download_detail", ["far_download"], "get", "302 404 404 404 404 200 404 404"),
    ("download_status", ["far_download"], "get", "302 404 404 404 404 200 404 404"),
    ("download_file", ["far_download"], "get", "302 404 404 404 404 200 404 404"),
    ("download_delete", ["fresh_far_download"], "post", "302 404 404 404 404 302 404 404"),
    ("members:list", [], "get", "302 200 200 200 200 200 200 403"),
    ("members:create", [], "get", "302 200 200 403 200 200 200 403"),
    ("members:detail", ["member"], "get", "302 200 404 200 200 404 200 404"),
    ("members:update", ["member"], "get", "302 200 404 403 200 404 200 404"),
    ("members:status", ["member"], "get", "302 200 404 403 200 404 200 404"),
    ("members:relative_add", ["member"], "get", "302 200 404 403 200 404 200 404"),
    ("members:relative_add", ["member"], "post", "302 200 404 403 200 404 200 404"),
    ("members:relative_update", ["relative"], "get", "302 200 404 403 200 404 200 404"),
    ("members:relative_update", ["relative"], "post", "302 200 404 403 200 404 200 404"),
    ("members:relative_remove", ["relative"], "get", "302 200 404 403 200 404 200 404"),
    ("members:relative_remove", ["fresh_relative"], "post", "302 200 404 403 200 404 200 404"),
    # The representative's file (issue 18): kept by whoever may change the member, read by
    # the street (on the member page); an empty form is shown again (200); the auditor sees
    # no member (404).
    ("members:arrangement_add", ["member"], "get", "302 200 404 403 200 404 200 404"),
    ("members:arrangement_add", ["member"], "post", "302 200 404 403 200 404 200 404"),
    ("members:arrangement_update", ["arrangement"], "get", "302 200 404 403 200 404 200 404"),
    ("members:arrangement_update", ["arrangement"], "post", "302 200 404 403 200 404 200 404"),
    ("members:arrangement_end", ["arrangement"], "get", "302 200 404 403 200 404 200 404"),
    ("members:arrangement_end", ["arrangement"], "post", "302 200 404 403 200 404 200 404"),
    ("members:arrangement_remove", ["fresh_arrangement"], "post", "302 200 404 403 200 404 200 404"),  # noqa: E501
    ("members:arrangement_remove", ["arrangement"], "get", "302 200 404 403 200 404 200 404"),
    ("members:duty_add", ["member"], "get", "302 200 404 403 200 404 200 404"),
    ("members:duty_add", ["member"], "post", "302 200 404 403 200 404 200 404"),
    ("members:duty_update", ["duty"], "get", "302 200 404 403 200 404 200 404"),
    ("members:duty_update", ["duty"], "post", "302 200 404 403 200 404 200 404"),
    ("members:duty_remove", ["fresh_duty"], "post", "302 200 404 403 200 404 200 404"),
    ("members:duty_remove", ["duty"], "get", "302 200 404 403 200 404 200 404"),
    # Admission and exit (issue 18): staff of every level nominate in their area; the
    # register of entries and exits is read by every level for its area.
    ("members:nominate", ["member"], "get", "302 200 404 200 200 404 200 404"),
    ("members:nominate", ["member"], "post", "302 200 404 200 200 404 200 404"),
    # alice's nomination awaiting its decision: withdrawn by her level and above, on its
    # confirmation page (a POST without the confirmation and the reason shows it again).
    ("members:nomination_withdraw", ["pending_nomination"], "get", "302 200 404 200 200 404 200 404"),  # noqa: E501
    ("members:nomination_withdraw", ["pending_nomination"], "post", "302 200 404 200 200 404 200 404"),  # noqa: E501
    ("members:representative_register", [], "get", "302 200 200 200 200 200 200 403"),
    ("members:representative_register_export", [], "get", "302 200 200 200 200 200 200 403"),
    ("members:representative_register", [], "post", "405 405 405 405 405 405 405 405"),
    ("members:representative_register_export", [], "post", "405 405 405 405 405 405 405 405"),
    ("members:transfer", ["member"], "get", "302 200 404 403 200 404 200 404"),
    # The possible duplicates of one's area: the district's and the administrators'.
    ("members:duplicates", [], "get", "302 403 403 403 200 200 200 403"),
    # Merging two of alice's records: the district above and administrators; the undo of
    # a merge alice's district made (a refusal, once done, is a message and a redirect).
    ("members:merge", ["member", "other_member"], "get", "302 403 403 403 200 404 200 403"),
    # Each POST merges a fresh record of the same community into `member`.
    ("members:merge", ["member", "fresh_member"], "post", "302 403 403 403 302 404 302 403"),
    ("members:merge_undo", ["merge"], "post", "302 403 403 403 302 404 302 403"),
    ("members:duplicates", [], "post", "302 403 403 403 200 200 200 403"),
    ("members:merge_undo", ["merge"], "get", "405 405 405 405 405 405 405 405"),
    # Out of scope: a record of the other district (小店区) is 404 to 迎泽区, whichever side.
    ("members:merge", ["member", "far_member"], "get", "302 403 403 403 404 404 200 403"),
    ("members:merge", ["fresh_member", "fresh_far_member"], "post", "302 403 403 403 404 404 302 403"),  # noqa: E501
    # A merge within 小店区: 迎泽区 does not see it (the administrator's try, after 小店区
    # undid it, is a message and a redirect).
    ("members:merge_undo", ["far_merge"], "post", "302 403 403 403 404 302 302 403"),
    # An administrator merged a 小店区 record into a 迎泽区 one: neither district alone
    # may bring both back.
    ("members:merge_undo", ["cross_merge"], "post", "302 403 403 403 403 404 302 403"),
    # A transfer alice asked for into bob's community: bob decides, alice may withdraw, the
    # street reads it; a decline without its reason shows the form again (200).
    # The registration forms as PDF; the ID photo (alice's member has one) and its writes
    # (without a file: a message and back to the member page).
    ("members:print", ["member"], "get", "302 200 404 200 200 404 200 403"),
    ("members:community_print", ["?community"], "get", "302 200 404 200 200 404 200 403"),
    ("members:photo", ["member"], "get", "302 200 404 200 200 404 200 403"),
    ("members:photo_upload", ["member"], "post", "302 302 404 403 302 404 302 404"),
    ("members:photo_remove", ["member"], "post", "302 302 404 403 302 404 302 404"),
    ("members:transfers", [], "get", "302 200 200 200 200 200 200 403"),
    ("members:transfer_detail", ["transfer"], "get", "302 200 200 200 200 404 200 403"),
    ("members:transfer_accept", ["fresh_transfer"], "post", "302 403 302 403 302 404 302 403"),
    ("members:transfer_decline", ["fresh_transfer"], "post", "302 403 200 403 200 404 200 403"),
    ("members:transfer_withdraw", ["fresh_transfer"], "post", "302 302 403 403 302 404 302 403"),
    ("members:export", [], "get", "302 200 200 200 200 200 200 403"),
    ("members:template", [], "get", "302 200 200 200 200 200 200 200"),
    ("members:import_list", [], "get", "302 403 403 403 200 200 200 403"),
    ("members:import_create", [], "get", "302 403 403 403 200 200 200 403"),
    ("members:import_detail", ["job"], "get", "302 403 403 403 200 404 200 403"),
    ("members:import_status", ["job"], "get", "302 403 403 403 200 404 200 403"),
    # A file with a column nobody knows waits for its uploader (or an administrator) to say
    # what it holds; an empty answer shows the question again (200).
    ("members:import_columns", ["mapping_job"], "get", "302 403 403 403 200 404 200 403"),
    ("members:import_columns", ["mapping_job"], "post", "302 403 403 403 200 404 200 403"),
    ("members:import_confirm", ["fresh_job"], "post", "302 403 403 403 302 404 302 403"),
    ("members:import_cancel", ["fresh_job"], "post", "302 403 403 403 302 404 302 403"),
    ("members:import_refused", ["job"], "get", "302 403 403 403 200 404 200 403"),
    ("activities:list", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:create", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:month", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:detail", ["activity"], "get", "302 200 404 200 200 404 200 403"),
    ("activities:update", ["activity"], "get", "302 200 404 200 200 404 200 403"),
    ("activities:file_upload", ["activity"], "post", "302 302 404 302 302 404 302 403"),
    ("activities:file", ["activity", "file"], "get", "302 200 404 200 200 404 200 403"),
    ("activities:file_remove", ["activity", "fresh_file"], "post", "302 302 404 302 302 404 302 403"),  # noqa: E501
    ("activities:member_timeline", ["member"], "get", "302 200 404 200 200 404 200 404"),
    ("activities:member_search", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:member_bulk", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:not_contacted", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:visit_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:visit_create", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:visit_detail", ["visit"], "get", "302 200 404 200 200 404 200 403"),
    ("activities:visit_update", ["visit"], "get", "302 200 404 200 200 404 200 403"),
    ("activities:need_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("activities:need_create", ["?member"], "get", "302 200 404 200 200 404 200 404"),
    ("activities:need_detail", ["need"], "get", "302 200 404 200 200 404 200 403"),
    ("activities:need_update", ["need"], "get", "302 200 404 200 200 404 200 403"),
    # A need referred up (上报): alice's community refers it (without a note: a message and
    # back to the need); carl's street, which it was referred to, accepts or returns it.
    # An empty referral or return shows the need's page again with the field marked (200).
    ("activities:need_refer", ["fresh_need"], "post", "302 200 404 403 403 404 403 403"),
    ("activities:need_refer", ["need"], "get", "302 405 405 405 405 405 405 405"),
    ("activities:need_accept", ["fresh_referred_need"], "post", "302 403 404 302 403 404 403 403"),
    ("activities:need_accept", ["need"], "get", "302 405 405 405 405 405 405 405"),
    ("activities:need_return", ["fresh_referred_need"], "post", "302 403 404 200 403 404 403 403"),
    ("activities:need_return", ["need"], "get", "302 405 405 405 405 405 405 405"),
    # Only the area that referred it (alice's community) takes a referral back.
    ("activities:need_recall", ["fresh_referred_need"], "post", "302 302 404 403 403 404 403 403"),
    ("activities:need_recall", ["need"], "get", "302 405 405 405 405 405 405 405"),
    ("dashboards:reports", [], "get", "302 200 200 200 200 200 200 403"),
    ("dashboards:report", ["report"], "get", "302 200 200 200 200 200 200 403"),
    ("dashboards:compare", [], "get", "302 403 403 200 200 200 200 403"),
    ("dashboards:compare_export", [], "get", "302 403 403 200 200 200 200 403"),
    ("assessment:list", [], "get", "302 200 200 200 200 200 200 403"),
    ("assessment:create", [], "get", "302 403 403 403 200 200 200 403"),
    ("assessment:detail", ["period"], "get", "302 200 200 200 200 404 200 403"),
    ("assessment:open", ["draft_period"], "get", "302 403 403 403 200 404 200 404"),
    ("assessment:open", ["draft_period"], "post", "302 403 403 403 302 404 302 404"),
    ("assessment:finalize", ["open_period"], "get", "302 403 403 403 200 404 200 404"),
    ("assessment:finalize", ["open_period"], "post", "302 403 403 403 302 404 302 404"),
    ("assessment:publish", ["final_period"], "get", "302 403 403 403 200 404 200 404"),
    ("assessment:publish", ["final_period"], "post", "302 403 403 403 302 404 302 404"),
    ("assessment:reopen", ["final_period"], "get", "302 403 403 403 200 404 200 404"),
    ("assessment:reopen", ["final_period"], "post", "302 403 403 403 302 404 302 404"),
    ("assessment:copy_indicators", ["draft"], "post", "302 403 403 403 302 404 302 404"),
    ("assessment:indicator_update", ["draft", "draft_indicator"], "get", "302 403 403 403 200 404 200 404"),  # noqa: E501
    ("assessment:indicator_update", ["draft", "draft_indicator"], "post", "302 403 403 403 200 404 200 404"),  # noqa: E501
    ("assessment:export", ["period"], "get", "302 200 200 200 200 404 200 403"),
    ("assessment:indicator_remove", ["period", "indicator"], "post", "302 403 403 403 302 404 302 404"),  # noqa: E501
    ("assessment:community", ["period", "code"], "get", "302 200 404 200 200 404 200 403"),
    ("assessment:evidence", ["period", "code", "score"], "get", "302 200 404 200 200 404 200 403"),
    ("assessment:scores", ["period"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:scores", ["period"], "post", "302 403 403 302 302 404 302 403"),
    ("assessment:scores_download", ["period"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:scores_upload", ["period"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:scores_upload", ["period"], "post", "302 403 403 200 200 404 200 403"),
    ("assessment:rounds", [], "get", "302 403 403 200 200 200 200 403"),
    ("assessment:rounds", [], "post", "302 403 403 403 200 200 200 403"),
    ("assessment:round", ["round"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:round_confirm", ["round"], "get", "302 403 403 403 200 404 200 403"),
    ("assessment:round_confirm", ["fresh_round"], "post", "302 403 403 403 302 404 302 403"),
    ("assessment:round_reopen", ["confirmed_round"], "get", "302 403 403 403 200 404 200 403"),
    ("assessment:round_reopen", ["fresh_confirmed_round"], "post", "302 403 403 403 302 404 302 403"),  # noqa: E501
    # The district's decision on a nominee of a confirmed admission round (an empty form is
    # sent back to the round); a GET is refused.
    ("assessment:admission_decide", ["admission_round", "admission"], "post", "302 403 403 403 302 404 302 403"),  # noqa: E501
    ("assessment:admission_decide", ["admission_round", "admission"], "get", "405 405 405 405 405 405 405 405"),  # noqa: E501
    ("assessment:evaluation", ["round", "evaluation"], "get", "302 403 403 200 200 404 200 403"),
    # Around a round (issue 18): its joint meeting and outside evaluators are the district's
    # who run it (the street reads the meeting and enters the evaluators' sheets); talks are
    # recorded by who may confirm it. An empty form is shown again (200); an evaluator's sheet
    # saved unchanged says so and redirects.
    ("assessment:round_meeting", ["round"], "get", "302 403 403 403 200 404 200 403"),
    ("assessment:round_meeting", ["round"], "post", "302 403 403 403 200 404 200 403"),
    ("assessment:round_meeting_file", ["round"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:round_meeting_file", ["round"], "post", "405 405 405 405 405 405 405 405"),
    ("assessment:round_evaluators", ["round"], "get", "302 403 403 403 200 404 200 403"),
    ("assessment:round_evaluators", ["round"], "post", "302 403 403 403 200 404 200 403"),
    ("assessment:evaluator_scores", ["round", "evaluator"], "get", "302 403 403 200 200 404 200 403"),  # noqa: E501
    ("assessment:evaluator_scores", ["round", "evaluator"], "post", "302 403 403 302 302 404 302 403"),  # noqa: E501
    ("assessment:evaluator_remove", ["round", "evaluator"], "get", "302 403 403 403 200 404 200 403"),  # noqa: E501
    ("assessment:evaluator_remove", ["round", "fresh_evaluator"], "post", "302 403 403 403 200 404 200 403"),  # noqa: E501
    ("assessment:talk_record", ["round", "evaluation"], "get", "302 403 403 403 200 404 200 403"),
    ("assessment:talk_record", ["round", "evaluation"], "post", "302 403 403 403 200 404 200 403"),
    ("area_list", [], "get", "302 403 403 403 403 403 200 403"),
    ("area_create", [], "get", "302 403 403 403 403 403 200 403"),
    ("area_update", ["area"], "get", "302 403 403 403 403 403 200 403"),
    ("area_merge", ["area"], "get", "302 403 403 403 403 403 200 403"),
    ("area_retire", ["area"], "get", "302 403 403 403 403 403 200 403"),
    ("area_split", ["area"], "get", "302 403 403 403 403 403 200 403"),
    ("area_create", [], "post", "302 403 403 403 403 403 200 403"),
    ("area_update", ["area"], "post", "302 403 403 403 403 403 200 403"),
    ("area_merge", ["area"], "post", "302 403 403 403 403 403 200 403"),
    # An empty form: counted nothing, split nothing.
    ("area_split", ["area"], "post", "302 403 403 403 403 403 200 403"),
    # Refused with a message (the area still holds members), nothing retired.
    ("area_retire", ["area"], "post", "302 403 403 403 403 403 302 403"),
    ("activities:type_list", [], "get", "302 403 403 403 403 403 200 403"),
    ("activities:type_create", [], "get", "302 403 403 403 403 403 200 403"),
    ("activities:type_update", ["activity_type"], "get", "302 403 403 403 403 403 200 403"),
    ("activities:type_toggle", ["activity_type"], "post", "302 403 403 403 403 403 302 403"),
    ("assessment:template_list", [], "get", "302 403 403 403 200 200 200 403"),
    ("assessment:template_create", [], "get", "302 403 403 403 403 403 200 403"),
    ("assessment:template_update", ["template"], "get", "302 403 403 403 403 403 200 403"),
    ("assessment:template_copy", ["template"], "get", "302 403 403 403 403 403 200 403"),

    ("assessment:round_scores", ["round"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:round_scores", ["round"], "post", "302 403 403 302 302 404 302 403"),
    ("assessment:round_scores_download", ["round"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:round_scores_upload", ["round"], "get", "302 403 403 200 200 404 200 403"),
    ("assessment:round_scores_upload", ["round"], "post", "302 403 403 200 200 404 200 403"),
    # Reports up (信息报送): alice's report to carl's street. Communities and streets send,
    # streets and the district decide and count; only the street it was sent to decides
    # (an empty decision shows the form again, 200).
    ("liaison:report_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("liaison:report_create", [], "get", "302 200 200 200 403 403 403 403"),
    ("liaison:report_create", [], "post", "302 200 200 200 403 403 403 403"),
    ("liaison:report_counts", [], "get", "302 403 403 200 200 200 200 403"),
    ("liaison:report_detail", ["liaison_report"], "get", "302 200 404 200 200 404 200 403"),
    ("liaison:report_decide", ["fresh_liaison_report"], "post", "302 403 403 200 403 404 403 403"),
    ("liaison:report_decide", ["liaison_report"], "get", "302 405 405 405 405 405 405 405"),
    # Only the sending community withdraws its report (an empty reason shows the form again);
    # the district sends none.
    ("liaison:report_withdraw", ["liaison_report"], "get", "302 200 404 403 403 403 403 403"),
    ("liaison:report_withdraw", ["fresh_liaison_report"], "post", "302 200 404 403 403 403 403 403"),  # noqa: E501
    ("liaison:report_file", ["liaison_report", "report_file"], "get", "302 200 404 200 200 404 200 403"),  # noqa: E501

    # What waits on me, and the way into the work between the levels: every account's own.
    ("liaison:index", [], "get", "302 200 200 200 200 200 200 200"),
    ("liaison:index", [], "post", "302 405 405 405 405 405 405 405"),
    ("liaison:todo", [], "get", "302 200 200 200 200 200 200 200"),
    ("liaison:todo", [], "post", "302 405 405 405 405 405 405 405"),
    # Notices (liaison): 柳巷街道 (carl) sent `notice` to 桥东一社区 (alice) alone, and each
    # `fresh_notice` asking for a reply; an empty reply is a message and back to the notice
    # (302). The street, the district and administrators read it; only the community replies,
    # only district and street staff send (an empty form shows again), the sending area and
    # those above it follow up (status, remind).
    ("liaison:notice_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("liaison:notice_list", [], "post", "302 405 405 405 405 405 405 403"),
    ("liaison:notice_create", [], "get", "302 403 403 200 200 200 403 403"),
    ("liaison:notice_create", [], "post", "302 403 403 200 200 200 403 403"),
    ("liaison:notice_detail", ["notice"], "get", "302 200 404 200 200 404 200 403"),
    ("liaison:notice_detail", ["notice"], "post", "302 405 405 405 405 405 405 403"),
    ("liaison:notice_reply", ["fresh_notice"], "post", "302 302 404 403 403 403 403 403"),
    ("liaison:notice_reply", ["notice"], "get", "405 405 405 405 405 405 405 405"),
    ("liaison:notice_status", ["notice"], "get", "302 403 403 200 200 404 200 403"),
    ("liaison:notice_status", ["notice"], "post", "302 403 403 405 405 405 405 403"),
    ("liaison:notice_remind", ["fresh_notice"], "post", "302 403 403 302 302 404 302 403"),
    ("liaison:notice_remind", ["notice"], "get", "405 405 405 405 405 405 405 405"),
    # Only the sending street withdraws its notice (an empty reason shows the form again).
    ("liaison:notice_withdraw", ["notice"], "get", "302 403 403 200 403 404 403 403"),
    ("liaison:notice_withdraw", ["fresh_notice"], "post", "302 403 403 200 403 404 403 403"),
    ("liaison:notice_file", ["notice", "notice_file"], "get", "302 200 404 200 200 404 200 403"),
    ("liaison:notice_file", ["notice", "notice_file"], "post", "405 405 405 405 405 405 405 405"),  # noqa: E501

    # Tasks (任务督办): one carl's street sent to alice's community. Its copy is answered by
    # alice's community alone and reviewed by carl's street alone; the district above reads
    # it; the administrator reads everything and answers or reviews nothing (no area of hers
    # sent or received it). An empty send or return shows the form again (200).
    ("liaison:task_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("liaison:task_create", [], "get", "302 403 403 200 200 200 403 403"),
    ("liaison:task_create", [], "post", "302 403 403 200 200 200 403 403"),
    ("liaison:task_supervision", [], "get", "302 200 200 200 200 200 200 403"),
    ("liaison:task_detail", ["task"], "get", "302 200 404 200 200 404 200 403"),
    ("liaison:task_export", ["task"], "get", "302 200 404 200 200 404 200 403"),
    # Only the sending street withdraws its task (an empty reason shows the form again).
    ("liaison:task_withdraw", ["task"], "get", "302 403 403 200 403 404 403 403"),
    ("liaison:task_withdraw", ["task"], "post", "302 403 403 200 403 404 403 403"),
    ("liaison:task_file", ["task", "task_file"], "get", "302 200 404 200 200 404 200 403"),
    ("liaison:task_copy", ["task_copy"], "get", "302 200 404 200 200 404 200 403"),
    ("liaison:task_copy_file", ["done_copy", "copy_file"], "get", "302 200 404 200 200 404 200 403"),  # noqa: E501
    ("liaison:task_copy_receive", ["fresh_copy"], "post", "302 302 404 403 403 403 403 403"),
    ("liaison:task_copy_receive", ["fresh_copy"], "get", "405 405 405 405 405 405 405 405"),
    ("liaison:task_copy_start", ["received_copy"], "post", "302 302 404 403 403 403 403 403"),
    ("liaison:task_copy_start", ["received_copy"], "get", "405 405 405 405 405 405 405 405"),
    ("liaison:task_copy_report", ["working_copy"], "get", "302 200 404 403 403 403 403 403"),
    ("liaison:task_copy_report", ["working_copy"], "post", "302 200 404 403 403 403 403 403"),
    # Approving is final: the button shows a confirmation page (200) first.
    ("liaison:task_copy_approve", ["fresh_done_copy"], "post", "302 403 403 200 403 404 403 403"),
    ("liaison:task_copy_approve", ["fresh_done_copy"], "get", "405 405 405 405 405 405 405 405"),
    ("liaison:task_copy_return", ["fresh_done_copy"], "post", "302 403 403 200 403 404 403 403"),
    ("liaison:task_copy_return", ["fresh_done_copy"], "get", "405 405 405 405 405 405 405 405"),
    # -- The study library and training (liaison): a material and a session of 柳巷街道
    # (carl's street), with a read receipt asked; an empty POST shows the form again (200).
    ("liaison:library_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("liaison:library_create", [], "get", "302 403 403 200 200 200 200 403"),
    ("liaison:library_create", [], "post", "302 403 403 200 200 200 200 403"),
    ("liaison:library_detail", ["material"], "get", "302 200 200 200 200 404 200 403"),
    ("liaison:library_update", ["material"], "get", "302 403 403 200 200 404 200 403"),
    ("liaison:library_update", ["material"], "post", "302 403 403 200 200 404 200 403"),
    ("liaison:library_receipts", ["material"], "get", "302 403 403 200 200 404 200 403"),
    ("liaison:library_file", ["material", "material_file"], "get", "302 200 200 200 200 404 200 403"),  # noqa: E501
    ("liaison:library_file_remove", ["material", "fresh_material_file"], "get", "405 405 405 405 405 405 405 405"),  # noqa: E501
    ("liaison:library_file_remove", ["material", "fresh_material_file"], "post", "302 403 403 302 302 404 302 403"),  # noqa: E501
    ("liaison:training_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("liaison:training_create", [], "get", "302 403 403 200 200 200 200 403"),
    ("liaison:training_create", [], "post", "302 403 403 200 200 200 200 403"),
    ("liaison:training_hours", [], "get", "302 200 200 200 200 200 200 403"),
    ("liaison:training_street_hours", [], "get", "302 403 403 200 200 200 200 403"),
    ("liaison:training_street_hours_export", [], "get", "302 403 403 200 200 200 200 403"),
    ("liaison:training_detail", ["training"], "get", "302 200 200 200 200 404 200 403"),
    ("liaison:training_update", ["training"], "get", "302 403 403 200 200 404 200 403"),
    ("liaison:training_update", ["training"], "post", "302 403 403 200 200 404 200 403"),
    ("liaison:training_attendance", ["training"], "get", "302 403 403 200 200 404 200 403"),
    # An empty list of attendees is a list: saved, and back to the session.
    ("liaison:training_attendance", ["training"], "post", "302 403 403 302 302 404 302 403"),
    # Pages that only show: a POST is refused (405) once the user may see them at all.
    ("liaison:library_list", [], "post", "302 405 405 405 405 405 405 403"),
    ("liaison:library_detail", ["material"], "post", "302 405 405 405 405 405 405 403"),
    ("liaison:library_receipts", ["material"], "post", "405 405 405 405 405 405 405 405"),
    ("liaison:library_file", ["material", "material_file"], "post", "405 405 405 405 405 405 405 405"),  # noqa: E501
    ("liaison:training_list", [], "post", "302 405 405 405 405 405 405 403"),
    ("liaison:training_detail", ["training"], "post", "302 405 405 405 405 405 405 403"),
    ("liaison:training_hours", [], "post", "302 405 405 405 405 405 405 403"),
    ("liaison:training_street_hours", [], "post", "302 403 403 405 405 405 405 403"),
    ("liaison:training_street_hours_export", [], "post", "405 405 405 405 405 405 405 405"),
    # Organisations and places: one of alice's community. Staff of every level keep their
    # area's; a POST on a page shows the full phone to those who may see full phones (not
    # the street's officers); an empty form shows again (200).
    ("organisations:list", [], "get", "302 200 200 200 200 200 200 403"),
    ("organisations:list", [], "post", "302 405 405 405 405 405 405 403"),
    ("organisations:create", [], "get", "302 200 200 200 200 200 200 403"),
    ("organisations:create", [], "post", "302 200 200 200 200 200 200 403"),
    ("organisations:detail", ["organisation"], "get", "302 200 404 200 200 404 200 403"),
    ("organisations:detail", ["organisation"], "post", "302 200 404 403 200 404 200 403"),
    ("organisations:update", ["organisation"], "get", "302 200 404 200 200 404 200 403"),
    ("organisations:update", ["organisation"], "post", "302 200 404 200 200 404 200 403"),
    ("organisations:membership_add", ["organisation"], "get", "302 200 404 200 200 404 200 403"),
    ("organisations:membership_add", ["organisation"], "post", "302 200 404 200 200 404 200 403"),  # noqa: E501
    # Without a day: a message and back to the organisation.
    ("organisations:membership_end", ["fresh_membership"], "post", "302 302 404 302 302 404 302 403"),  # noqa: E501
    ("organisations:membership_end", ["fresh_membership"], "get", "405 405 405 405 405 405 405 405"),  # noqa: E501
    ("organisations:place_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("organisations:place_create", [], "get", "302 200 200 200 200 200 200 403"),
    ("organisations:place_create", [], "post", "302 200 200 200 200 200 200 403"),
    ("organisations:place_detail", ["place"], "get", "302 200 404 200 200 404 200 403"),
    ("organisations:place_detail", ["place"], "post", "302 200 404 403 200 404 200 403"),
    ("organisations:place_update", ["place"], "get", "302 200 404 200 200 404 200 403"),
    ("organisations:place_update", ["place"], "post", "302 200 404 200 200 404 200 403"),
    # Resources and matching: a resource offered by alice's member for her community, a
    # community need of hers and her member's need; a match of a need of hers. Staff of
    # every level keep their area's; an empty form shows again (200).
    ("resources:list", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:list", [], "post", "302 405 405 405 405 405 405 403"),
    ("resources:create", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:create", [], "post", "302 200 200 200 200 200 200 403"),
    ("resources:detail", ["resource"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:update", ["resource"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:update", ["resource"], "post", "302 200 404 200 200 404 200 403"),
    ("resources:need_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:need_create", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:need_create", [], "post", "302 200 200 200 200 200 200 403"),
    ("resources:need_detail", ["community_need"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:need_update", ["community_need"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:need_update", ["community_need"], "post", "302 200 404 200 200 404 200 403"),
    ("resources:need_close", ["fresh_community_need"], "post", "302 302 404 302 302 404 302 403"),  # noqa: E501
    ("resources:need_close", ["fresh_community_need"], "get", "405 405 405 405 405 405 405 405"),  # noqa: E501
    ("resources:match_community_need", ["community_need"], "get", "302 200 404 200 200 404 200 403"),  # noqa: E501
    ("resources:match_community_need", ["community_need"], "post", "302 200 404 200 200 404 200 403"),  # noqa: E501
    ("resources:member_need_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:match_need", ["need"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:match_need", ["need"], "post", "302 200 404 200 200 404 200 403"),
    ("resources:match_settle", ["resource_match"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:match_settle", ["resource_match"], "post", "302 200 404 200 200 404 200 403"),
    ("resources:ledger", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:ledger_export", [], "get", "302 200 200 200 200 200 200 403"),
    # Projects (引资引智) of alice's community; each POST moving one on gets a fresh project.
    ("resources:project_list", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:project_create", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:project_create", [], "post", "302 200 200 200 200 200 200 403"),
    ("resources:project_detail", ["project"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:project_update", ["project"], "get", "302 200 404 200 200 404 200 403"),
    ("resources:project_update", ["project"], "post", "302 200 404 200 200 404 200 403"),
    ("resources:project_advance", ["fresh_project"], "post", "302 302 404 302 302 404 302 403"),  # noqa: E501
    ("resources:project_advance", ["fresh_project"], "get", "405 405 405 405 405 405 405 405"),  # noqa: E501
    ("resources:project_table", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:project_table_export", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:talent", [], "get", "302 200 200 200 200 200 200 403"),
    ("resources:talent", [], "post", "302 405 405 405 405 405 405 403"),
    # Commendations (表彰): a 迎泽区 campaign of erin's district, alice's nomination in it.
    # The district names, ends the nominating, decides and publishes (publishing shows a
    # confirmation page first, 200); communities nominate (an empty form shows again); the
    # street above reviews (an empty review shows the page again); the administrator reads.
    ("commendations:list", [], "get", "302 200 200 200 200 200 200 403"),
    ("commendations:list", [], "post", "302 405 405 405 405 405 405 403"),
    ("commendations:create", [], "get", "302 403 403 403 200 200 403 403"),
    ("commendations:create", [], "post", "302 403 403 403 200 200 403 403"),
    ("commendations:counts", [], "get", "302 200 200 200 200 200 200 403"),
    ("commendations:counts", [], "post", "405 405 405 405 405 405 405 405"),
    ("commendations:detail", ["campaign"], "get", "302 200 200 200 200 404 200 403"),
    ("commendations:detail", ["campaign"], "post", "405 405 405 405 405 405 405 405"),
    # Ending the nominating is confirmed on a page first; a POST without `confirmed` shows it.
    ("commendations:close", ["fresh_campaign"], "post", "302 403 403 403 200 404 403 403"),
    ("commendations:close", ["campaign"], "get", "302 403 403 403 200 404 403 403"),
    ("commendations:reopen", ["fresh_review_campaign"], "post", "302 403 403 403 302 404 403 403"),
    ("commendations:reopen", ["review_campaign"], "get", "405 405 405 405 405 405 405 405"),
    ("commendations:publish", ["review_campaign"], "get", "302 403 403 403 200 404 403 403"),
    ("commendations:publish", ["review_campaign"], "post", "302 403 403 403 200 404 403 403"),
    ("commendations:nominate", ["campaign"], "get", "302 200 200 403 403 403 403 403"),
    ("commendations:nominate", ["campaign"], "post", "302 200 200 403 403 403 403 403"),
    ("commendations:nomination", ["nomination"], "get", "302 200 404 200 200 404 200 403"),
    ("commendations:nomination", ["nomination"], "post", "405 405 405 405 405 405 405 405"),
    # The nominating community edits and withdraws (confirmed on a page) its nomination.
    ("commendations:edit", ["nomination"], "get", "302 200 404 403 403 403 403 403"),
    ("commendations:edit", ["fresh_nomination"], "post", "302 200 404 403 403 403 403 403"),
    ("commendations:withdraw", ["nomination"], "get", "302 200 404 403 403 403 403 403"),
    ("commendations:withdraw", ["fresh_nomination"], "post", "302 200 404 403 403 403 403 403"),
    ("commendations:review", ["fresh_nomination"], "post", "302 403 403 200 403 403 403 403"),
    ("commendations:review", ["nomination"], "get", "405 405 405 405 405 405 405 405"),
    ("commendations:decide", ["fresh_recommended"], "post", "302 403 403 403 200 404 403 403"),
    ("commendations:decide", ["nomination"], "get", "405 405 405 405 405 405 405 405"),
    ("commendations:file", ["nomination", "nomination_file"], "get", "302 200 404 200 200 404 200 403"),  # noqa: E501
    ("commendations:file", ["nomination", "nomination_file"], "post", "405 405 405 405 405 405 405 405"),  # noqa: E501
    # What an assessment leads to (followup): a published period of 迎泽区 in which alice's
    # 桥东一社区 is graded 不合格, its rectification in each state (being rectified, reported
    # with a file, passed on by the street), and bob's 五一二社区 its 示范社区. The community
    # reports, its street checks, the district orders and accepts; an empty form shows again.
    ("followup:period", ["fu_period"], "get", "302 200 200 200 200 404 200 403"),
    ("followup:period", ["fu_period"], "post", "405 405 405 405 405 405 405 405"),
    ("followup:notify", ["fu_period"], "get", "302 403 403 403 200 404 200 403"),
    ("followup:notify", ["fu_period"], "post", "302 403 403 403 200 404 200 403"),
    ("followup:detail", ["fu_rectifying"], "get", "302 200 404 200 200 404 200 403"),
    ("followup:detail", ["fu_rectifying"], "post", "405 405 405 405 405 405 405 405"),
    ("followup:update", ["fu_rectifying"], "get", "302 403 403 403 200 404 200 403"),
    ("followup:update", ["fu_rectifying"], "post", "302 403 403 403 200 404 200 403"),
    ("followup:report", ["fu_rectifying"], "get", "302 200 404 403 403 403 403 403"),
    ("followup:report", ["fu_rectifying"], "post", "302 200 404 403 403 403 403 403"),
    ("followup:file", ["fu_reported", "fu_file"], "get", "302 200 404 200 200 404 200 403"),
    ("followup:file", ["fu_reported", "fu_file"], "post", "405 405 405 405 405 405 405 405"),
    ("followup:send_back", ["fu_reported"], "post", "302 403 403 200 403 403 403 403"),
    ("followup:send_back", ["fu_reported"], "get", "405 405 405 405 405 405 405 405"),
    # Passing on is carl's alone, and shows its confirmation first (a POST without it too).
    ("followup:pass", ["fu_reported"], "post", "302 403 403 200 403 403 403 403"),
    ("followup:pass", ["fu_reported"], "get", "302 403 403 200 403 403 403 403"),
    # Accepting shows its confirmation first (a POST without it too).
    ("followup:accept", ["fu_passed"], "get", "302 403 403 403 200 404 200 403"),
    ("followup:accept", ["fu_passed"], "post", "302 403 403 403 200 404 200 403"),
    ("followup:return", ["fu_passed"], "post", "302 403 403 403 200 404 200 403"),
    ("followup:return", ["fu_passed"], "get", "405 405 405 405 405 405 405 405"),
    ("followup:model", ["fu_model"], "get", "302 403 403 403 200 404 200 403"),
    ("followup:model", ["fu_model"], "post", "302 403 403 403 302 404 302 403"),
    # Retention (privacy): the district's pages, each of its own area; an approval of erin's
    # is 404 to frank. Approving shows its confirmation first; nothing chosen is a message
    # and a redirect.
    ("privacy:retention", [], "get", "302 403 403 403 200 200 200 403"),
    ("privacy:retention", [], "post", "405 405 405 405 405 405 405 405"),
    ("privacy:due", [], "get", "302 403 403 403 200 200 200 403"),
    ("privacy:due", [], "post", "405 405 405 405 405 405 405 405"),
    ("privacy:approve", [], "post", "302 403 403 403 302 302 302 403"),
    ("privacy:approve", [], "get", "405 405 405 405 405 405 405 405"),
    ("privacy:approval", ["retention_approval"], "get", "302 403 403 403 200 404 200 403"),
    ("privacy:approval", ["retention_approval"], "post", "405 405 405 405 405 405 405 405"),
    # A person's own requests (PIPL arts. 44-46), about alice's member: seen by whoever sees
    # her record, kept by whoever may change it; an empty form is shown again (200), a copy
    # asked for without its format goes back to the request (302).
    ("privacy:requests", [], "get", "302 200 200 200 200 200 200 403"),
    ("privacy:requests", [], "post", "405 405 405 405 405 405 405 405"),
    ("privacy:request_create", ["member"], "get", "302 200 404 403 200 404 200 403"),
    ("privacy:request_create", ["member"], "post", "302 200 404 403 200 404 200 403"),
    ("privacy:request", ["person_request"], "get", "302 200 404 200 200 404 200 403"),
    ("privacy:request", ["person_request"], "post", "405 405 405 405 405 405 405 405"),
    ("privacy:request_answer", ["person_request"], "get", "302 200 404 403 200 404 200 403"),
    ("privacy:request_answer", ["person_request"], "post", "302 200 404 403 200 404 200 403"),
    ("privacy:request_refuse", ["person_request"], "get", "302 200 404 403 200 404 200 403"),
    ("privacy:request_refuse", ["person_request"], "post", "302 200 404 403 200 404 200 403"),
    ("privacy:request_copy", ["person_request"], "post", "302 302 404 403 302 404 302 403"),
    ("privacy:request_copy", ["person_request"], "get", "405 405 405 405 405 405 405 405"),
]  # fmt: skip


def url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin" or "i18n" in str(pattern.pattern):
                    continue
                walk(pattern.url_patterns, pattern.namespace)
            elif pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_the_matrix_covers_every_url():
    assert {name for name, *_rest in MATRIX} == url_names()


@pytest.fixture
def world(areas, community_user, neighbour_user, street_user, district_user,
          other_district_user, admin_user):  # fmt: skip
    qiaodong = areas["140106001001"]
    member = MemberFactory(community=qiaodong, is_representative=True)
    member_services.member_photo_set(
        actor=community_user, member=member,
        upload=SimpleUploadedFile("照片.jpg", photo_bytes(), "image/jpeg"),
    )  # fmt: skip
    activity = activity_services.activity_create(
        actor=community_user,
        data={"type": ActivityType.objects.get(code="training"), "title": "学习会",
              "starts_at": timezone.now(), "area": qiaodong},
        participants=[member],
    )  # fmt: skip
    attached = activity_services.activity_file_add(
        actor=community_user, activity=activity,
        upload=SimpleUploadedFile("签到表.pdf", PDF, "application/pdf"),
    )  # fmt: skip
    visit = activity_services.visit_create(
        actor=community_user,
        data={"community": qiaodong, "date": datetime.date.today(), "staff": "王",
              "way": "home"},
        members=[member],
        need={"kind": "other", "description": "咨询"},
    )  # fmt: skip
    job = jobs.job_create(
        actor=district_user, data=roster(person("陈一"), person("钱二", number="x")),
        filename="花名册.xlsx",
    )  # fmt: skip
    period = assessment_services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "年度考核",
              "starts_on": datetime.date(2026, 1, 1), "ends_on": datetime.date(2026, 12, 31)},
    )  # fmt: skip
    indicator = assessment_services.indicator_add(
        actor=district_user, period=period,
        data={"name": "制度", "kind": "scored", "weight": D(100), "scored_by": "street"},
    )  # fmt: skip
    spare = assessment_services.indicator_add(
        actor=district_user, period=period,
        data={"name": "备用", "kind": "bonus", "weight": D(5), "scored_by": "district"},
    )  # fmt: skip
    assessment_services.period_open(actor=district_user, period=period)
    score = assessment_services.score_set(
        actor=street_user, indicator=indicator, community=qiaodong, points=D(5),
        evidence="制度上墙", upload=SimpleUploadedFile("制度.pdf", PDF, "application/pdf"),
    )  # fmt: skip
    evaluation_round = assessment_services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True)},
    )  # fmt: skip
    assessment_meetings.joint_meeting_set(
        actor=district_user, evaluation_round=evaluation_round,
        data={"held_on": datetime.date(2026, 11, 18), "bodies": ["npc", "cppcc"],
              "minutes": "听取述职", "attendees": "张三 区人大常委会"},
        upload=SimpleUploadedFile("纪要.pdf", PDF, "application/pdf"),
    )  # fmt: skip
    evaluator = assessment_meetings.evaluator_add(
        actor=district_user, evaluation_round=evaluation_round, name="张三", unit="区人大常委会"
    )
    evaluator_names = iter(range(1000))

    def fresh_evaluator():
        return assessment_meetings.evaluator_add(
            actor=district_user, evaluation_round=evaluation_round,
            name=f"评价人{next(evaluator_names)}", unit="区政协",
        ).pk  # fmt: skip

    relative = member_services.relative_add(
        actor=community_user, member=member,
        data={"name": "林美玲", "relation": "sibling", "residence": "TWN", "contact": "0912345678"},
    )  # fmt: skip

    def fresh_relative():
        return member_services.relative_add(
            actor=community_user, member=member,
            data={"name": "林志明", "relation": "parent", "residence": "TWN"},
        ).pk  # fmt: skip

    arrangement = member_services.arrangement_add(
        actor=community_user, member=member,
        data={"body": "cppcc", "level": "district", "post": "委员"},
    )  # fmt: skip
    duty = member_services.duty_add(
        actor=community_user, member=member,
        data={"kind": "proposal", "date": datetime.date.today(), "title": "加装电梯",
              "arrangement": arrangement},
    )  # fmt: skip

    def fresh_arrangement():
        return member_services.arrangement_add(
            actor=community_user, member=MemberFactory(community=qiaodong),
            data={"body": "npc", "level": "district", "post": "代表"},
        ).pk  # fmt: skip

    def fresh_duty():
        return member_services.duty_add(
            actor=community_user, member=member,
            data={"kind": "meeting", "date": datetime.date.today(), "title": "全会"},
        ).pk  # fmt: skip

    def fresh_transfer():
        return member_services.transfer_request(
            actor=community_user, member=MemberFactory(community=qiaodong),
            to_community=areas["140106001002"], reason="搬家",
        ).pk  # fmt: skip

    mapping_job = jobs.job_create(
        actor=district_user, filename="花名册.xlsx", data=roster(
            person("孙四"),
            titles=("姓名", "性别", "民族", "公民身份号码", "政治面貌", "所属社区",
                    "统战对象类别", "入党时间"),
        ),
    )  # fmt: skip
    mapping_job.refresh_from_db()
    assert mapping_job.state == "mapping"

    def fresh_job():
        return jobs.job_create(
            actor=district_user, data=roster(person("孙三")), filename="花名册.xlsx"
        ).pk

    def fresh_file():
        return activity_services.activity_file_add(
            actor=community_user, activity=activity,
            upload=SimpleUploadedFile("照片.pdf", PDF, "application/pdf"),
        ).pk  # fmt: skip

    draft = assessment_services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "明年考核",
              "starts_on": datetime.date(2027, 1, 1), "ends_on": datetime.date(2027, 12, 31)},
    )  # fmt: skip
    draft_indicator = assessment_services.indicator_add(
        actor=district_user, period=draft,
        data={"name": "制度", "kind": "scored", "weight": D(100), "scored_by": "street"},
    )  # fmt: skip
    years = iter(range(1900, 2000))  # each period its own year: opened periods may not overlap

    def new_period(state):
        year = next(years)
        made = assessment_services.period_create(
            actor=district_user,
            data={"district": areas["140106"], "name": f"{year}年考核",
                  "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
        )  # fmt: skip
        assessment_services.indicator_add(
            actor=district_user, period=made,
            data={"name": "活动", "kind": "measured", "metric": "activities", "weight": D(100),
                  "rule": "fixed", "base": D(1)},
        )  # fmt: skip
        if state in ("open", "final"):
            assessment_services.period_open(actor=district_user, period=made)
        if state == "final":
            assessment_services.period_finalize(actor=district_user, period=made)
        return made.pk

    def fresh_round():
        return assessment_services.round_create(
            actor=district_user,
            data={"area": areas["140106001"], "name": "复评",
                  "template": EvaluationTemplate.objects.get(is_example=True)},
        ).pk  # fmt: skip

    def confirmed_round():
        made = assessment_services.round_create(
            actor=district_user,
            data={"area": areas["140106001"], "name": "已确认的评价",
                  "template": EvaluationTemplate.objects.get(is_example=True)},
        )  # fmt: skip
        items = EvaluationItem.objects.filter(category__template=made.template, is_veto=False)
        for evaluation in made.evaluations.all():
            for source in ("superior", "self", "public"):
                assessment_services.evaluation_score(
                    actor=district_user, evaluation=evaluation, source=source,
                    scores={item: item.max_score for item in items},
                )  # fmt: skip
        for entry in assessment_meetings.talks_needed(made):
            assessment_meetings.talk_record_set(
                actor=district_user, evaluation=entry.row.evaluation,
                data={"kind": "none", "reason": "已迁出"},
            )  # fmt: skip
        assessment_services.round_confirm(actor=district_user, evaluation_round=made)
        return made.pk

    other = MemberFactory(community=qiaodong)
    pending_nomination = member_services.nomination_create(
        actor=community_user, member=MemberFactory(community=qiaodong), reason="履职积极"
    )
    # In the neighbouring community: alice's community prints its forms at once (few members).
    admission = _confirmed_admission(
        areas["140106001002"], areas["140106001"], street_user, district_user
    )

    def fresh_member():
        return MemberFactory(community=qiaodong).pk

    def fresh_download():
        return download_request(
            actor=community_user, kind="members.roster", title="统战对象.xlsx",
            params={"query": {}},
        ).pk  # fmt: skip

    merge = member_services.member_merge(
        actor=district_user, keep=member, merged=MemberFactory(community=qiaodong)
    )
    far = areas["140105001001"]

    def fresh_far_member():
        return MemberFactory(community=far).pk

    def fresh_far_download():
        return download_request(
            actor=other_district_user, kind="members.roster", title="统战对象.xlsx",
            params={"query": {}},
        ).pk  # fmt: skip

    far_merge = member_services.member_merge(
        actor=other_district_user, keep=MemberFactory(community=far),
        merged=MemberFactory(community=far),
    )  # fmt: skip
    cross_merge = member_services.member_merge(
        actor=admin_user, keep=MemberFactory(community=qiaodong),
        merged=MemberFactory(community=far),
    )  # fmt: skip
    notice = liaison_services.notice_send(
        actor=street_user, data={"title": "防汛通知", "body": "请准备。", "reply_by": None},
        communities=[qiaodong],
        uploads=[SimpleUploadedFile("通知.pdf", PDF, "application/pdf")],
    )  # fmt: skip

    def fresh_notice():
        return liaison_services.notice_send(
            actor=street_user, communities=[qiaodong],
            data={"title": "请回复", "body": "请回复。",
                  "reply_by": timezone.localdate() + datetime.timedelta(days=7)},
        ).pk  # fmt: skip

    def fresh_need():
        return activity_services.need_create(
            actor=community_user, member=member, data={"kind": "other", "description": "求助"},
        ).pk  # fmt: skip

    def fresh_referred_need():
        made = activity_services.need_create(
            actor=community_user, member=member, data={"kind": "legal", "description": "纠纷"},
        )  # fmt: skip
        activity_services.need_refer(
            actor=community_user, need=made, to_area=areas["140106001"], note="社区无法协调"
        )
        return made.pk

    def fresh_liaison_report():
        return liaison_services.report_submit(
            actor=community_user,
            data={"kind": "public_opinion", "title": "停车难", "body": "车位不足"},
        ).pk

    liaison_report = liaison_services.report_submit(
        actor=community_user,
        data={"kind": "work_news", "title": "议事会", "body": "每月一次"},
        uploads=[SimpleUploadedFile("议事会.pdf", PDF, "application/pdf")],
    )
    liuxiang = areas["140106001"]
    material = liaison_services.material_publish(
        actor=street_user,
        data={"area": liuxiang, "kind": "policy", "title": "民族政策", "body": "正文",
              "receipt_asked": True},
        uploads=[SimpleUploadedFile("政策.pdf", PDF, "application/pdf")],
    )  # fmt: skip

    def fresh_material_file():
        material_file = liaison_services.MaterialFile.objects.create(
            material=material, name="附件.pdf", kind="pdf", content_type="application/pdf",
            size=len(PDF), uploaded_by=street_user,
            file=SimpleUploadedFile("附件.pdf", PDF, "application/pdf"),
        )  # fmt: skip
        return material_file.pk

    training = liaison_services.training_create(
        actor=street_user,
        data={"area": liuxiang, "title": "统战委员培训", "date": datetime.date(2026, 5, 1),
              "hours": D(3)},
    )  # fmt: skip
    organisation = organisation_services.organisation_create(
        actor=community_user,
        data={"name": "桥东律师事务所", "kind": "resident_unit", "area": qiaodong,
              "contact_name": "刘律师", "contact_phone": "13912345678"},
    )  # fmt: skip
    place = organisation_services.place_create(
        actor=community_user,
        data={"name": "桥东统战活动室", "kind": "activity_room", "area": qiaodong,
              "manager_name": "周主任", "manager_phone": "13712345678"},
    )  # fmt: skip

    def fresh_membership():
        return organisation_services.membership_add(
            actor=community_user, organisation=organisation,
            member=MemberFactory(community=qiaodong), role="成员", joined_on=datetime.date.today(),
        ).pk  # fmt: skip

    resource = resource_services.resource_create(
        actor=community_user,
        data={"member": member, "organisation": None, "title": "法律咨询", "kind": "service",
              "service": "legal", "description": "", "capacity": None, "valid_until": None},
    )  # fmt: skip

    def fresh_community_need():
        return resource_services.community_need_create(
            actor=community_user,
            data={"area": qiaodong, "kind": "venue", "description": "活动场地", "quantity": 1},
        ).pk  # fmt: skip

    community_need = fresh_community_need()
    resource_match = resource_services.match_create(
        actor=community_user, resource=resource,
        need=activity_services.need_create(
            actor=community_user, member=member, data={"kind": "legal", "description": "咨询"}
        ),
    )  # fmt: skip

    def fresh_project():
        return resource_services.project_create(
            actor=community_user,
            data={"name": "光伏项目", "member": member, "organisation": None, "area": qiaodong},
        ).pk  # fmt: skip

    project = fresh_project()

    gone = member_services.member_set_status(
        actor=community_user, member=MemberFactory(community=qiaodong), status="moved_out",
        date=datetime.date.today() - datetime.timedelta(days=4 * 366), reason="迁往外地",
    )  # fmt: skip
    retention_approval = privacy_services.approval_create(actor=district_user, member_ids=[gone.pk])
    person_request = privacy_services.request_record(
        actor=community_user, member=member,
        data={"kind": "correct", "received_on": datetime.date.today(), "asks": "更正住址"},
    )  # fmt: skip

    users = {
        "alice": community_user, "bob": neighbour_user, "carl": street_user,
        "erin": district_user, "frank": other_district_user, "grace": admin_user,
        "ivan": _user("ivan", User.Role.AUDITOR, None),
    }  # fmt: skip
    arguments = {
        "account": community_user.pk, "member": member.pk, "activity": activity.pk,
        "file": attached.pk, "visit": visit.pk,
        "need": visit.needs.get().pk, "job": job.pk, "report": "members", "period": period.pk,
        "indicator": spare.pk, "code": qiaodong.code, "score": score.pk,
        "round": evaluation_round.pk, "evaluation": evaluation_round.evaluations.get().pk,
        "evaluator": evaluator.pk, "fresh_evaluator": fresh_evaluator,
        "admission_round": admission.evaluation.round_id, "admission": admission.pk,
        "pending_nomination": pending_nomination.pk,
        # A write changes its object: each user's attempt gets one of its own.
        "mapping_job": mapping_job.pk,
        "fresh_job": fresh_job, "fresh_file": fresh_file, "fresh_round": fresh_round,
        "confirmed_round": confirmed_round(), "fresh_confirmed_round": confirmed_round,
        "draft_period": lambda: new_period("draft"), "open_period": lambda: new_period("open"),
        "final_period": lambda: new_period("final"), "?member": member.pk,
        "?community": qiaodong.code,
        "draft": draft.pk, "draft_indicator": draft_indicator.pk,
        "area": qiaodong.pk,
        "activity_type": ActivityType.objects.create(code="walk", name="健步走").pk,
        "template": EvaluationTemplate.objects.get(is_example=True).pk,

        "transfer": fresh_transfer(), "fresh_transfer": fresh_transfer,
        "relative": relative.pk, "fresh_relative": fresh_relative,
        "arrangement": arrangement.pk, "fresh_arrangement": fresh_arrangement,
        "duty": duty.pk, "fresh_duty": fresh_duty,

        "other_member": other.pk, "fresh_member": fresh_member, "merge": merge.pk,
        "download": fresh_download(), "fresh_download": fresh_download,
        "far_member": MemberFactory(community=far).pk, "fresh_far_member": fresh_far_member,
        "far_merge": far_merge.pk, "cross_merge": cross_merge.pk,
        "far_download": fresh_far_download(), "fresh_far_download": fresh_far_download,
        "notice": notice.pk, "notice_file": notice.files.get().pk, "fresh_notice": fresh_notice,
        "fresh_need": fresh_need, "fresh_referred_need": fresh_referred_need,
        "liaison_report": liaison_report.pk, "report_file": liaison_report.files.get().pk,
        "fresh_liaison_report": fresh_liaison_report,
        "material": material.pk, "material_file": material.files.get().pk,
        "fresh_material_file": fresh_material_file, "training": training.pk,
        "organisation": organisation.pk, "place": place.pk, "fresh_membership": fresh_membership,
        "resource": resource.pk, "community_need": community_need,
        "fresh_community_need": fresh_community_need, "resource_match": resource_match.pk,
        "project": project, "fresh_project": fresh_project,
        "retention_approval": retention_approval.pk, "person_request": person_request.pk,
        **task_arguments(areas, community_user, street_user),
        **commendation_arguments(community_user, street_user, district_user),
        **followup_arguments(areas, community_user, street_user, district_user),
    }  # fmt: skip
    return users, arguments


def _confirmed_admission(community, street, nominator, district_user):
    """A nominee of `community` in a confirmed admission round of `street`, undecided."""
    nominee = MemberFactory(community=community)
    nomination = member_services.nomination_create(
        actor=nominator, member=nominee, reason="履职积极"
    )
    template = assessment_services.template_copy(
        actor=None, template=EvaluationTemplate.objects.get(is_example=True), name="入选评价"
    )
    EvaluationTemplate.objects.filter(pk=template.pk).update(kind="admission")
    template.refresh_from_db()
    made = assessment_services.round_create(
        actor=district_user,
        data={"area": street, "name": "入选评价", "template": template, "nominees": [nomination]},
    )
    items = EvaluationItem.objects.filter(category__template=template, is_veto=False)
    for source in ("superior", "self", "public"):
        assessment_services.evaluation_score(
            actor=district_user, evaluation=made.evaluations.get(), source=source,
            scores={item: item.max_score for item in items},
        )  # fmt: skip
    assessment_services.round_confirm(actor=district_user, evaluation_round=made)
    return made.evaluations.get().admission


def task_arguments(areas, community_user, street_user) -> dict:
    """A task carl's street sent to alice's community, and copies of it at each state."""
    from liaison import services as liaison_services

    qiaodong = areas["140106001001"]

    def copy(state):
        task = liaison_services.task_send(
            actor=street_user,
            data={"title": "中秋走访", "body": "走访", "deadline": datetime.date.today()},
            recipients=[qiaodong],
            uploads=[SimpleUploadedFile("通知.pdf", PDF, "application/pdf")],
        )
        made = task.copies.get()
        steps = ["received", "in_progress", "done"]
        for step in steps[: steps.index(state) + 1] if state in steps else []:
            if step == "received":
                liaison_services.taskcopy_receive(actor=community_user, copy=made)
            elif step == "in_progress":
                liaison_services.taskcopy_start(actor=community_user, copy=made)
            else:
                liaison_services.taskcopy_report(
                    actor=community_user, copy=made, report="完成",
                    uploads=[SimpleUploadedFile("照片.pdf", PDF, "application/pdf")],
                )  # fmt: skip
        return made

    issued, done = copy("issued"), copy("done")
    return {
        "task": issued.task_id, "task_file": issued.task.files.get().pk,
        "task_copy": issued.pk, "done_copy": done.pk, "copy_file": done.files.get().pk,
        "fresh_copy": lambda: copy("issued").pk, "received_copy": lambda: copy("received").pk,
        "working_copy": lambda: copy("in_progress").pk,
        "fresh_done_copy": lambda: copy("done").pk,
    }  # fmt: skip


def commendation_arguments(community_user, street_user, district_user) -> dict:
    """A campaign of erin's district taking nominations, with one of alice's (and a file);
    a campaign under review with nothing left to decide; fresh ones for each write."""
    from commendations import services as commendation_services

    def campaign(title="最美居民评选"):
        return commendation_services.campaign_create(
            actor=district_user,
            data={"kind": "resident", "year": 2026, "title": title, "description": "",
                  "area": None, "quota": None,
                  "deadline": timezone.localdate() + datetime.timedelta(days=30)},
        )  # fmt: skip

    def nominate(into, **data):
        return commendation_services.nomination_submit(
            actor=community_user, campaign=into, data={"deeds": "热心公益", **data},
            uploads=[SimpleUploadedFile("事迹.pdf", PDF, "application/pdf")],
        )  # fmt: skip

    def fresh_recommended():
        into = campaign("先进个人评选")
        made = nominate(into, resident_name="刘阿姨")
        commendation_services.nomination_review(actor=street_user, nomination=made, recommend=True)
        commendation_services.campaign_close(actor=district_user, campaign=into)
        return made.pk

    def fresh_review_campaign():
        into = campaign("征集提前结束")
        commendation_services.campaign_close(actor=district_user, campaign=into)
        return into.pk

    taking = campaign()
    nomination = nominate(taking, member=MemberFactory(community=community_user.area))
    names = iter(range(1000))
    review_campaign = campaign("已结束征集")
    commendation_services.campaign_close(actor=district_user, campaign=review_campaign)
    return {
        "campaign": taking.pk, "nomination": nomination.pk,
        "nomination_file": nomination.files.get().pk,
        "fresh_campaign": lambda: campaign().pk, "review_campaign": review_campaign.pk,
        "fresh_review_campaign": fresh_review_campaign,
        "fresh_nomination": lambda: nominate(taking, resident_name=f"居民{next(names)}").pk,
        "fresh_recommended": fresh_recommended,
    }  # fmt: skip


def followup_arguments(areas, community_user, street_user, district_user) -> dict:
    """Published periods of 迎泽区 (2023–2025, clear of the open period's year) in which bob's
    五一二社区 alone held an activity: it is the 示范社区, alice's 桥东一社区 is ordered to
    rectify; her rectification of each period is taken one state further."""
    from followup import services as followup_services
    from followup.models import Rectification

    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]

    def published(year):
        period = assessment_services.period_create(
            actor=district_user,
            data={"district": areas["140106"], "name": f"{year}年度", "model_communities": 1,
                  "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
        )  # fmt: skip
        assessment_services.indicator_add(
            actor=district_user, period=period,
            data={"name": "活动", "kind": "measured", "metric": "activities", "weight": D(100),
                  "rule": "fixed", "base": D(1)},
        )  # fmt: skip
        assessment_services.period_open(actor=district_user, period=period)
        activity_services.activity_create(
            actor=district_user,
            data={"type": ActivityType.objects.get(code="training"), "title": "经验交流",
                  "area": wuyier,
                  "starts_at": timezone.make_aware(datetime.datetime(year, 6, 1, 10))},
        )  # fmt: skip
        assessment_services.period_finalize(actor=district_user, period=period)
        assessment_services.period_publish(actor=district_user, period=period)
        followup_services.rectifications_notify(
            actor=district_user, period=period, notice="限期整改",
            deadline=datetime.date.today() + datetime.timedelta(days=30),
        )  # fmt: skip
        return period, Rectification.objects.get(result__period=period, community=qiaodong)

    period, rectifying = published(2025)
    _period, reported = published(2024)
    followup_services.rectification_report(
        actor=community_user, rectification=reported, report="已整改",
        uploads=[SimpleUploadedFile("整改.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    _period, passed = published(2023)
    followup_services.rectification_report(
        actor=community_user, rectification=passed, report="已整改",
        uploads=[SimpleUploadedFile("整改.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    followup_services.rectification_pass(actor=street_user, rectification=passed)
    return {
        "fu_period": period.pk, "fu_rectifying": rectifying.pk, "fu_reported": reported.pk,
        "fu_file": reported.files.get().pk, "fu_passed": passed.pk,
        "fu_model": period.results.get(outcome="model").pk,
    }  # fmt: skip


def test_every_url_answers_each_user_as_the_matrix_says(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    users, arguments = world
    wrong = []
    for name, args, method, expected in MATRIX:
        for username, status in zip(USERS, expected.split(), strict=True):
            values = [
                arguments[arg]() if callable(arguments[arg]) else arguments[arg] for arg in args
            ]
            path_args = [value for arg, value in zip(args, values, strict=True) if arg[0] != "?"]
            query = "&".join(
                f"{arg[1:]}={value}"
                for arg, value in zip(args, values, strict=True)
                if arg[0] == "?"
            )
            url = reverse(name, args=path_args) + (f"?{query}" if query else "")
            client = Client()
            if username != "anon":
                client.force_login(users[username])
            got = getattr(client, method)(url).status_code
            if got != int(status):
                wrong.append(f"{name} as {username}: {got}, expected {status}")


# Users the matrix's columns leave out, each outside alice's street: the officer of the next
# street (文庙街道), and a community worker and a street officer of the next district. Where
# frank (the next district's officer) may not reach a record of alice's, none of them may.
OUTSIDERS = {
    "dora": (User.Role.STREET, "140106002"),
    "wu": (User.Role.COMMUNITY, "140105001001"),
    "wendy": (User.Role.STREET, "140105001"),
}
DENIED = {"403", "404", "405"}
# Arguments that are records of the whole district (an assessment period, a commendation
# campaign), which every street of it reads and scores: the next street's officer reaches them.
DISTRICTS_OWN = {"period", "campaign", "fu_period"}


def test_users_of_another_street_or_district_reach_none_of_alices_records(
    world, areas, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    users, arguments = world
    outsiders = {
        username: _user(username, role, areas[code]) for username, (role, code) in OUTSIDERS.items()
    }
    rows = [
        (name, args, method, expected.split()[USERS.index("frank")])
        for name, args, method, expected in MATRIX
        if args
        and not any(arg.lstrip("?").startswith(("far", "fresh_far", "cross")) for arg in args)
    ]
    assert len(rows) > 200
    wrong = []
    for name, args, method, frank in rows:
        if frank not in DENIED:
            continue
        for username, user in outsiders.items():
            if username == "dora" and DISTRICTS_OWN.intersection(args):
                continue
            values = [
                arguments[arg]() if callable(arguments[arg]) else arguments[arg] for arg in args
            ]
            path_args = [value for arg, value in zip(args, values, strict=True) if arg[0] != "?"]
            query = "&".join(
                f"{arg[1:]}={value}"
                for arg, value in zip(args, values, strict=True)
                if arg[0] == "?"
            )
            url = reverse(name, args=path_args) + (f"?{query}" if query else "")
            client = Client()
            client.force_login(user)
            got = str(getattr(client, method)(url).status_code)
            if got not in DENIED:
                wrong.append(f"{name} {method} as {username}: {got}")
    assert wrong == []
