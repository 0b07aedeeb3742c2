"""Personal-data workflows: export everything about a person, mark them as left, erase them.

Erasure keeps what statistics need and removes who the person was:

* kept — the account row (pseudonymised), unit, job grade, every assessment with its levels,
  final levels and classification, certificates (number, grade, dates), applications, goals'
  dates and states, every decision record (append-only, notes included), gap-report rows;
* replaced — username, display name and the certificate's printed name become ``erased-<hash>``
  (stable: the same person always gets the same one); first and last name, e-mail, phone and
  employee number are cleared; the password becomes unusable; roles, headships and the API token
  go;
* blanked — every free text of the person's own assessments (their self comments and industry
  analyses, and the supervisors' comments about them) and the titles of their goals: free text
  about a person names them in ways no replacement can find;
* deleted — their evidence files and the rows describing them (after the transaction commits);
  team gap report files already built from a run that counts them (they print names) are
  removed and marked for building again on request;
* audit events — actor and target labels and summaries carry the pseudonym instead of any of
  their names (``pseudonymise_audit_events``, the one UPDATE the audit table accepts).

Comments the person wrote about others stay: they belong to the other person's record.
"""

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from assessments.models import (
    Assessment,
    Certificate,
    DevelopmentGoal,
    Evidence,
    GapMemberRow,
    GapReportExport,
    IndustryRating,
    Rating,
)

from .audit import AuditEvent, pseudonymise_audit_events, record_audit_event
from .personal_data import personal_data_document

PSEUDONYM_PREFIX = "erased-"


class PersonalDataError(Exception):
    """A personal-data step the person's state forbids; the message is translated."""


def pseudonym_for(person) -> str:
    """``erased-`` and ten hex digits derived from the person's id with the site's secret key."""
    digest = salted_hmac("tshape.personal-data.erase", str(person.pk)).hexdigest()
    return f"{PSEUDONYM_PREFIX}{digest[:10]}"


def export_personal_data(*, person, by, request=None) -> dict:
    """Everything stored about ``person``; the export itself is audited."""
    document = personal_data_document(person, exported_by=by)
    record_audit_event(
        action=AuditEvent.Action.PERSONAL_DATA_EXPORTED, request=request, actor=by, target=person
    )
    return document


def _locked(person):
    return get_user_model().objects.select_for_update().get(pk=person.pk)


def deactivate_person(*, person, by, request=None):
    """Mark ``person`` as having left: the account is deactivated (the condition for erasure)."""
    with transaction.atomic():
        person = _locked(person)
        if person.pk == by.pk:
            raise PersonalDataError(_("不能将自己标记为已离职。"))
        if not person.is_active:
            raise PersonalDataError(_("此人已标记为已离职。"))
        person.is_active = False
        person.save(update_fields=["is_active"])
        record_audit_event(
            action=AuditEvent.Action.PERSON_DEACTIVATED, request=request, actor=by, target=person
        )
    return person


def _check_erasable(person, by) -> None:
    if person.erased_at is not None:
        raise PersonalDataError(_("此人的身份信息已经删除。"))
    if person.pk == by.pk:
        raise PersonalDataError(_("不能删除自己的身份信息。"))
    if person.is_active:
        raise PersonalDataError(_("只能删除已离职人员的身份信息：请先将此人标记为已离职。"))


def _identities(person) -> list[str]:
    """The strings that name the person (two characters or more, so no stray letter matches)."""
    names = {
        person.username,
        person.display_name,
        person.first_name,
        person.last_name,
        person.get_full_name(),
        person.email,
        person.employee_no or "",
    }
    return sorted(name for name in names if len(name.strip()) >= 2)


def erase_person(*, person, by, request=None) -> str:
    """Pseudonymise a person who has left (see the module docstring); returns the pseudonym."""
    with transaction.atomic():
        person = _locked(person)
        _check_erasable(person, by)
        username, identities = person.username, _identities(person)
        pseudonym = pseudonym_for(person)
        _erase_account(person, pseudonym)
        # Sign-in failures (django-axes) keep the typed name with an address. (Sessions need no
        # clean-up: an inactive person's session no longer signs anyone in.)
        AccessAttempt.objects.filter(username=username).delete()
        _erase_records(person, pseudonym)
        pseudonymise_audit_events(
            person=person, username=username, identities=identities, pseudonym=pseudonym
        )
        record_audit_event(
            action=AuditEvent.Action.PERSON_ERASED, request=request, actor=by, target=person
        )
    return pseudonym


ERASED_FIELDS = [
    "username",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "employee_no",
    "is_active",
    "erased_at",
    "password",
]


def _erase_account(person, pseudonym: str) -> None:
    person.username = person.display_name = pseudonym
    person.first_name = person.last_name = person.email = person.phone = ""
    person.employee_no = None
    person.is_active = False
    person.erased_at = timezone.now()
    person.set_unusable_password()
    person.save(update_fields=ERASED_FIELDS)
    person.groups.clear()
    person.headed_units.clear()
    Token.objects.filter(user=person).delete()


def _erase_records(person, pseudonym: str) -> None:
    Assessment.objects.filter(person=person).update(self_comment="", supervisor_comment="")
    Rating.objects.filter(assessment__person=person).update(self_comment="", supervisor_comment="")
    IndustryRating.objects.filter(assessment__person=person).update(evidence="")
    DevelopmentGoal.objects.filter(person=person).update(title="")
    Certificate.objects.filter(person=person).update(holder_name=pseudonym)
    evidence = Evidence.objects.filter(assessment__person=person)
    files = [(e.file.storage, e.file.name) for e in evidence if e.file]
    evidence.delete()
    files += _withdraw_built_reports(person)
    # Files go only once the rows are gone for good: a rolled-back erasure keeps them.
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])


def _withdraw_built_reports(person) -> list:
    """Report files already built from a run that counts the person print their name: they are
    taken back (FAILED, with why), and a new request builds them again from the erased record."""
    exports = GapReportExport.objects.filter(
        run_id__in=GapMemberRow.objects.filter(person=person).values("run_id"),
        status=GapReportExport.Status.READY,
    )
    files = [(e.file.storage, e.file.name) for e in exports if e.file]
    exports.update(
        status=GapReportExport.Status.FAILED,
        file="",
        size=0,
        error=_("文件含有已删除身份的人员姓名，已移除；请重新生成。"),
    )
    return files
