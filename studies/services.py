"""Writes for studies, consent and participants (the base layer).

Each service does its change, its audit event and any follow-up in one
transaction, under a pghistory context naming the actor.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from mgeplatform.audit import participant_context, record_event
from mgeplatform.llm import gateway, probe
from studies import arms, case_study, events, languages, resume_codes, selectors, steps
from studies.models import (
    Cohort,
    ConsentDocument,
    ConsentRecord,
    Participant,
    ProlificIdentity,
    Scenario,
    Step,
    Study,
    StudyStatistics,
)
from studies.selectors import SESSION_KEY

PROLIFIC_PARAMS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID")
# Prolific ids are 24 hex characters; accept any short token of safe
# characters so test links and other recruiters' ids also work.
_PROLIFIC_VALUE = re.compile(r"^[A-Za-z0-9_-]+$")


class EntryError(Exception):
    """A participant cannot enter; `status` and `message` go on the page."""

    def __init__(self, message: str, status: int = 400, title: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        # Made while the participant's language is active (the entry view sets it).
        self.title = title or _("This link does not work")


@dataclass(frozen=True)
class ProlificParams:
    pid: str
    study_id: str
    session_id: str


# Prolific's template placeholder, as in the link a researcher copies before
# Prolific fills it in: opening it is a look at the study, not taking part.
_PLACEHOLDER = re.compile(r"^\{\{\s*%?\s*[A-Z_]+\s*%?\s*\}\}$")


def is_placeholder_link(query) -> bool:
    """The link still has Prolific's literal placeholders (e.g. {{%PROLIFIC_PID%}})."""
    return any(_PLACEHOLDER.match((query.get(name) or "").strip()) for name in PROLIFIC_PARAMS)


def parse_prolific_params(query) -> ProlificParams | None:
    """Validate Prolific's URL parameters; None for a plain join link."""
    present = {name: query.get(name) for name in PROLIFIC_PARAMS if name in query}
    if not present:
        return None
    max_len = settings.PROLIFIC_PARAM_MAX_LENGTH
    for name in PROLIFIC_PARAMS:
        value = (present.get(name) or "").strip()
        if name not in present:
            raise EntryError(
                _("The link is missing %(name)s. Please go back to Prolific and open the study again.") % {"name": name}
            )
        if not value:
            raise EntryError(
                _("%(name)s in the link is empty. Please go back to Prolific and open the study again.")
                % {"name": name}
            )
        if len(value) > max_len:
            raise EntryError(
                _("%(name)s in the link is too long (over %(max_len)s characters).")
                % {"name": name, "max_len": max_len}
            )
        if not _PROLIFIC_VALUE.match(value):
            raise EntryError(_("%(name)s in the link contains characters that are not allowed.") % {"name": name})
    return ProlificParams(
        pid=present["PROLIFIC_PID"].strip(),
        study_id=present["STUDY_ID"].strip(),
        session_id=present["SESSION_ID"].strip(),
    )


def enter_study(
    *,
    study: Study | None,
    session,
    prolific: ProlificParams | None,
    language: str | None = None,
    switch_language: bool = False,
) -> Participant:
    """Create or resume the participant for this browser and bind the session.
    A new participant's pages are in `language` (studies.languages.choose);
    one already in switches to it when the link asked (`switch_language`)
    and they still may."""
    if study is None or study.status == Study.Status.DRAFT:
        raise EntryError(
            _("We could not find this study. Please check the link."), status=404, title=_("Study not found")
        )
    existing = selectors.participant_for_session(session, study)

    if prolific is not None:
        participant = _participant_for_prolific(
            study, prolific, session, session_participant=existing, language=language
        )
    elif existing is not None:
        participant = existing
    else:
        if study.require_prolific:
            raise EntryError(_("Please open this study from Prolific: the link needs your Prolific ID."))
        participant = None

    if participant is None:  # a brand-new participant
        _require_open(study)
        participant = create_participant(study, via="link", language=language)
    elif switch_language and language and language != participant.language and languages.may_switch(participant):
        set_language(participant, language)
    bind_session(session, participant)
    return participant


class LanguageSwitchRefused(EntryError):
    def __init__(self, message: str):
        super().__init__(message, status=409, title=_("The language cannot be changed"))


def set_language(participant: Participant, code: str) -> Participant:
    """The participant's pages from now on in `code`, one of the study's
    languages; refused once the interview has started (its words are in the
    language it began in)."""
    if not languages.may_switch(participant):
        raise LanguageSwitchRefused(_("The language cannot be changed once the interview has started."))
    wanted = languages.normalize(code)
    if wanted not in languages.study_languages(participant.study):
        raise LanguageSwitchRefused(_("This study is not offered in that language."))
    with participant_context(participant.pk):
        participant.language = wanted
        participant.save(update_fields=["language", "updated_at"])
    return participant


def create_participant(
    study: Study,
    *,
    via: events.JoinedVia,
    pk: uuid.UUID | None = None,
    cohort: str | None = None,
    prolific: ProlificParams | None = None,
    user=None,
    preview_via: events.PreviewVia | None = None,
    language: str | None = None,
    arm: str | None = None,
    demographics: dict | None = None,
) -> Participant:
    """The one way a participant is made, whoever makes them: the study link
    (`via` "link" or "prolific", with their Prolific parameters), a staff
    preview, a simulation or an attack test. The row, its Prolific identity
    and the `participant.joined` event (one shape, studies.events.Joined)
    are written in one transaction, under a history context that names the
    new participant (the id is drawn first, so the row's own insert does).
    Raises IntegrityError when another request made the same Prolific
    participant first. In a study with arms the participant's arm is drawn
    here (studies.arms.assign; `arm` names a preview's, `demographics` what
    a stratified study stratifies by) and named in the event."""
    simulated = via in ("simulation", "attack")
    cohort = cohort or (
        Cohort.PREVIEW if via == "preview" else Cohort.STUDY if simulated else _cohort_of_newcomers(study)
    )
    with transaction.atomic(), participant_context(pk := pk or uuid.uuid4()):
        offered = languages.study_languages(study)
        language = language if language in offered else offered[0]
        drawn, stratum = arms.assign(study, language=language, cohort=cohort, arm_name=arm, demographics=demographics)
        payload = events.Joined(
            via=via,
            via_prolific=prolific is not None,
            cohort=cohort,
            simulated=simulated,
            preview_via=preview_via,
            arm=drawn.name if drawn else None,
            arm_stratum=stratum if drawn else None,
        )
        participant = Participant.objects.create(
            pk=pk,
            study=study,
            cohort=cohort,
            simulated=simulated,
            via_prolific=prolific is not None,
            language=language,
            arm=drawn,
            arm_stratum=stratum,
        )
        if prolific is not None:
            ProlificIdentity.objects.create(
                participant=participant,
                study=study,
                prolific_pid=prolific.pid,
                prolific_study_id=prolific.study_id,
                prolific_session_id=prolific.session_id,
            )
        record_event(
            events.PARTICIPANT_JOINED,
            user=user,
            participant_id=participant.pk,
            study_slug=study.slug,
            subject=participant,
            payload=payload,
        )
    return participant


class NoPlacesError(EntryError):
    """The study takes nobody new for now (paused or its budget is spent);
    people who arrive get the study's no-places code for Prolific."""

    def __init__(self, message: str):
        super().__init__(message, status=503, title=_("No places left"))


def _require_open(study: Study) -> None:
    """A new participant may join (people already in carry on regardless)."""
    if study.status == Study.Status.CLOSED:
        raise EntryError(
            _("This study has closed and is not taking new participants. Thank you for your interest."),
            status=410,
            title=_("Study closed"),
        )
    if study.status == Study.Status.PAUSED:
        raise NoPlacesError(
            _(
                "This study is not taking new participants at the moment. Thank you for your "
                "interest; please return the study on Prolific."
            )
        )
    if selectors.budget_spent(study):
        raise NoPlacesError(
            _(
                "All the places in this study have been taken. Thank you for your interest; "
                "please return the study on Prolific."
            )
        )
    if any(gateway.resolve(s).offline for s in arms.every_interviewer(study)) and not study.scripted_interviewer_ok:
        # A real participant (in any arm) would be interviewed by a script; the coordinator must say that is intended.
        raise EntryError(
            _("This study is not ready yet. Please try again later."), status=503, title=_("Not ready yet")
        )


def _cohort_of_newcomers(study: Study) -> str:
    return Cohort.PILOT if study.status == Study.Status.PILOT else Cohort.STUDY


# A preview link (`/s/<slug>/?preview=<token>`) lets whoever has it preview
# one study for PREVIEW_LINK_HOURS, signed with the site's secret key.
_PREVIEW_SALT = "studies.preview-link"


class PreviewRefused(EntryError):
    """Nobody may preview without a coordinator's sign-in or a valid preview link."""

    def __init__(self, message: str):
        super().__init__(message, status=403, title="A preview needs a sign-in or a preview link")


def preview_token(study: Study) -> str:
    """A token for the study's preview link, valid for PREVIEW_LINK_HOURS from now."""
    return signing.TimestampSigner(salt=_PREVIEW_SALT).sign(str(study.pk))


def _check_preview_token(study: Study, token: str) -> None:
    """Raise PreviewRefused unless `token` is this study's and has not expired."""
    try:
        value = signing.TimestampSigner(salt=_PREVIEW_SALT).unsign(token, max_age=settings.PREVIEW_LINK_HOURS * 3600)
    except signing.SignatureExpired:
        raise PreviewRefused(
            "This preview link has expired. Ask the study's coordinator for a new one, "
            "or sign in as a coordinator and preview from the study's console."
        ) from None
    except signing.BadSignature:
        value = None
    if value != str(study.pk):
        raise PreviewRefused(
            "This preview link is not valid for this study. Ask the study's coordinator for a "
            "new one, or sign in as a coordinator and preview from the study's console."
        )


def start_preview(
    *,
    study: Study | None,
    session,
    user=None,
    token: str | None = None,
    language: str | None = None,
    arm: str | None = None,
) -> Participant:
    """A fresh preview participant: takes the whole journey, is never
    counted, and can be deleted in one action. Only for a signed-in
    coordinator or a valid preview link (`token`); its model calls count
    toward the study's budget, so none starts once the budget is spent."""
    if study is None or study.status == Study.Status.CLOSED:
        raise EntryError(
            _("We could not find this study. Please check the link."), status=404, title=_("Study not found")
        )
    via: events.PreviewVia
    if selectors.may_preview(user):
        via = "coordinator"
    elif token:
        _check_preview_token(study, token)
        via = "preview_link"
    else:
        raise PreviewRefused(
            "This is the study's link with Prolific's placeholders still in it, which starts a "
            "preview of the study. A preview needs a coordinator's sign-in or a preview link "
            "from the study's console. Participants: please open the study from Prolific."
        )
    if selectors.budget_spent(study):
        raise EntryError(
            "The study's budget for model calls is spent, and a preview's model calls count toward it, "
            "so no preview can start. Raise the budget in the study's settings to preview again.",
            status=503,
            title="Budget spent",
        )
    try:
        participant = create_participant(
            study,
            via="preview",
            preview_via=via,
            user=user if via == "coordinator" else None,
            language=language,
            arm=arm or None,
        )
    except arms.ArmSettingsError as err:
        raise EntryError(str(err), status=400, title="No such arm") from None
    bind_session(session, participant)
    return participant


def _participant_for_prolific(
    study, prolific: ProlificParams, session, session_participant, language: str | None = None
) -> Participant:
    identity = (
        ProlificIdentity.objects.select_related("participant").filter(study=study, prolific_pid=prolific.pid).first()
    )
    if identity is not None:
        return _resume(identity, prolific, session, session_participant)
    if session_participant is not None and session_participant.current_step == Step.WITHDRAWN:
        # Withdrawal removed the PID link; this browser still shows they
        # withdrew rather than starting them again under the same PID.
        return session_participant
    _require_open(study)
    try:
        return create_participant(study, via="prolific", prolific=prolific, language=language)
    except IntegrityError:
        # A concurrent request with the same PID won the race: theirs, if this link is theirs.
        identity = ProlificIdentity.objects.select_related("participant").get(study=study, prolific_pid=prolific.pid)
        return _resume(identity, prolific, session, session_participant)


# The session's note of the identity waiting for a resume code: {study slug: identity id}.
RESUME_KEY = "mge_resume_pending"


class ResumeCodeNeeded(EntryError):
    """The link has a participant's Prolific ID but this browser is not
    theirs and the link's SESSION_ID is not the one they entered with: they
    must enter their resume code (the resume page asks for it)."""

    def __init__(self):
        super().__init__(
            _("This study is already open on another device. Enter your resume code to carry on here."),
            status=409,
            title=_("This study is already open on another device"),
        )


def _resume(identity: ProlificIdentity, prolific: ProlificParams, session, session_participant) -> Participant:
    """The participant of a known Prolific ID, for a browser that proves it
    is theirs: it already holds them, or the link carries the SESSION_ID
    they entered with. Knowing the PID alone is not enough (anyone can
    learn one): the browser is sent to enter the participant's resume code."""
    participant = identity.participant
    if session_participant is not None and session_participant.pk == participant.pk:
        return participant
    if constant_time_compare(identity.prolific_session_id, prolific.session_id):
        record_event(
            events.RESUME_ACCEPTED,
            study_slug=participant.study.slug,
            subject=participant,
            payload={"proof": "prolific_session_id"},
        )
        return participant
    record_event(
        events.RESUME_REFUSED,
        study_slug=participant.study.slug,
        subject=participant,
        payload={"reason": "another Prolific session id"},
    )
    pending = dict(session.get(RESUME_KEY) or {})
    pending[participant.study.slug] = identity.pk
    session[RESUME_KEY] = pending
    raise ResumeCodeNeeded()


class ResumeCodeError(EntryError):
    pass


def pending_resume(session, study: Study) -> ProlificIdentity | None:
    """The identity this browser was asked to prove with a resume code, if it still exists."""
    identity_id = (session.get(RESUME_KEY) or {}).get(study.slug)
    if not isinstance(identity_id, int):
        return None
    return ProlificIdentity.objects.select_related("participant").filter(pk=identity_id, study=study).first()


def resume_with_code(*, study: Study, session, code: str, throttled: bool = False) -> Participant:
    """Carry on in this browser as the participant whose Prolific ID was
    opened here, if `code` is their resume code. `throttled`: too many tries
    from here or for them (the view counts them); refused, and recorded."""
    identity = pending_resume(session, study)
    if identity is None:
        raise ResumeCodeError(
            _("We could not find the study session to carry on. Please open the study again from Prolific."),
            status=400,
            title=_("Please start from the study link"),
        )
    participant = identity.participant
    typed = resume_codes.normalise(code)
    if throttled:
        reason, error = (
            "too many tries",
            ResumeCodeError(
                _(
                    "Too many tries with a resume code. Please wait 15 minutes and try again, "
                    "or carry on on the device where you started."
                ),
                status=429,
                title=_("Too many tries"),
            ),
        )
    elif not typed:
        raise ResumeCodeError(_("Please enter your resume code: eight letters and digits, like ABCD-EFGH."))
    elif not constant_time_compare(typed, identity.resume_code):
        reason, error = (
            "wrong resume code",
            ResumeCodeError(
                _(
                    "That resume code does not match. Check it on the device where you started (it is at the bottom of "
                    "the study's pages) and try again."
                )
            ),
        )
    else:
        reason, error = None, None
    if error is not None:
        record_event(events.RESUME_REFUSED, study_slug=study.slug, subject=participant, payload={"reason": reason})
        raise error
    record_event(events.RESUME_ACCEPTED, study_slug=study.slug, subject=participant, payload={"proof": "resume_code"})
    bind_session(session, participant)
    return participant


def bind_session(session, participant: Participant) -> None:
    pending = dict(session.get(RESUME_KEY) or {})
    if pending.pop(participant.study.slug, None) is not None:
        session[RESUME_KEY] = pending  # this browser is in: no resume code to wait for
    bound = dict(session.get(SESSION_KEY) or {})
    if bound.get(participant.study.slug) != str(participant.pk):
        bound[participant.study.slug] = str(participant.pk)
        session[SESSION_KEY] = bound
        # New binding: rotate the session key so a planted cookie is useless.
        if hasattr(session, "cycle_key"):
            session.cycle_key()


class ConsentError(Exception):
    pass


@transaction.atomic
def record_consent(*, participant: Participant, consent: ConsentDocument, accepted: bool) -> ConsentRecord:
    """Store the participant's answer and move them on.

    Idempotent for a double-clicked button: a second identical answer returns
    the first record instead of writing another.
    """
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    last = participant.consent_records.order_by("-created_at", "-id").first()
    if participant.current_step != Step.CONSENT:
        if last is not None:
            return last
        raise ConsentError("Consent was already handled for this participant.")
    if consent.study_id != participant.study_id:
        raise ConsentError("This consent form belongs to another study.")
    with participant_context(participant.pk):
        record = ConsentRecord.objects.create(
            participant=participant,
            consent_document=consent,
            consent_hash=consent.content_hash,
            accepted=accepted,
        )
        record_event(
            events.CONSENT_ACCEPTED if accepted else events.CONSENT_DECLINED,
            participant_id=participant.pk,
            study_slug=participant.study.slug,
            subject=record,
            payload={"consent_hash": consent.content_hash, "version": consent.version_label},
        )
        steps.move(participant, steps.next_step(participant, Step.CONSENT) if accepted else Step.DECLINED)
    return record


@transaction.atomic
def publish_consent(
    *, study: Study, text: str, version_label: str, irb_protocol_id: str = "", is_active: bool = True, user=None
) -> ConsentDocument:
    """Add a consent version (active: the current one)."""
    doc = ConsentDocument.objects.create(
        study=study, text=text, version_label=version_label, irb_protocol_id=irb_protocol_id, is_active=is_active
    )
    record_event(
        events.CONSENT_PUBLISHED,
        user=user,
        study_slug=study.slug,
        subject=doc,
        payload={"version": version_label, "hash": doc.content_hash},
    )
    return doc


def record_study_statistics(study: Study):
    counts = selectors.study_counts(study)
    return StudyStatistics.objects.create(study=study, **counts)


@transaction.atomic
def case_study_languages(codes) -> list[str]:
    """The languages asked of the case study (`--languages es,ar`, aliases and regional tags accepted),
    English first: the case study is written in English, so English is its pivot. Raises
    ValidationError on a language the platform does not ship."""
    wanted = languages.clean_languages([c for c in codes if c.strip()])
    ordered = ["en", *(c for c in dict.fromkeys(wanted) if c != "en")]
    languages.validate_languages(ordered)
    return ordered


def seed_case_study(slug: str | None = None, study_languages=None) -> tuple[Study, bool]:
    """Create the case study if missing; never overwrite a coordinator's edits (an existing
    study keeps its languages). `study_languages`: the new study's languages, see
    `case_study_languages`; by default English only."""
    chosen = case_study_languages(study_languages) if study_languages else languages.default_languages()
    study, created = Study.objects.get_or_create(
        slug=slug or case_study.SLUG,
        defaults={
            "languages": chosen,
            "title": case_study.TITLE,
            "description": case_study.DESCRIPTION,
            # Without a language model the case study can only be a pilot with the scripted interviewer.
            **(
                {"status": Study.Status.PILOT, "scripted_interviewer_ok": True}
                if gateway.resolve().offline
                else {"status": Study.Status.OPEN}
            ),
            **case_study.COMPLETION_CODES,
        },
    )
    for order, (key, title, prompt) in enumerate(case_study.SCENARIOS):
        Scenario.objects.get_or_create(
            study=study,
            key=key,
            defaults={
                "title": title,
                "prompt": prompt,
                "order": order,
                "expert_question": case_study.EXPERT_QUESTIONS.get(key, ""),
            },
        )
    if not study.consent_documents.exists():
        publish_consent(
            study=study,
            text=case_study.CONSENT_TEXT,
            version_label=case_study.CONSENT_VERSION,
            irb_protocol_id=case_study.IRB_PROTOCOL_ID,
        )
    if created:
        record_event(events.STUDY_SEEDED, study_slug=study.slug, subject=study)
    return study, created


def screen_out(*, participant: Participant, reason: str, user) -> bool:
    """A coordinator screens a participant out (not eligible, could not take
    part as designed): on their next page they go back to Prolific with the
    study's screened-out code. False when their journey had already ended."""
    if not reason.strip():
        raise ValueError("Say why the participant is screened out; the reason is recorded.")
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.current_step in steps.ENDED:
            return False
        return steps.move(
            locked,
            Step.SCREENED_OUT,
            user=user,
            event=events.PARTICIPANT_SCREENED_OUT,
            payload={"from_step": locked.current_step, "reason": reason.strip()[:500]},
        )


REVEAL_PERMISSION = "studies.reveal_prolificidentity"
MIN_REVEAL_REASON = 10


def reveal_prolific_identity(*, participant: Participant, reason: str, user) -> ProlificIdentity | None:
    """A participant's Prolific identifiers, for a staff member who says why;
    the reason and who asked are recorded. None when there are none (a plain
    link, or withdrawn)."""
    reason = reason.strip()
    if not user.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied("You may not see Prolific IDs.")
    if len(reason) < MIN_REVEAL_REASON:
        raise ValueError("Say why you need this participant's Prolific ID (at least a sentence); it is recorded.")
    identity = ProlificIdentity.objects.filter(participant=participant).first()
    if identity is not None:
        record_event(
            events.PROLIFIC_ID_REVEALED,
            user=user,
            study_slug=participant.study.slug,
            subject=participant,
            payload={"reason": reason[:500]},
        )
    return identity


def look_up_prolific_identities(queryset, *, term: str, user):
    """The identities in `queryset` whose Prolific ID or session id is exactly
    `term` (no partial matches, so nobody can list ids by guessing prefixes);
    every lookup is recorded, with the participants found but not the id."""
    if not user.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied("You may not look participants up by Prolific ID.")
    term = term.strip()
    found = queryset.filter(models.Q(prolific_pid=term) | models.Q(prolific_session_id=term))
    record_event(
        events.PROLIFIC_ID_LOOKED_UP,
        user=user,
        payload={"participants": [str(pk) for pk in found.values_list("participant_id", flat=True)]},
    )
    return found


def check_study_model(study: Study):
    """Run the capability probe against the study's model and keep the
    report on the study, where "auto" tool protocol and turn order read it.
    Offline routes need no check (returns None)."""
    route = gateway.resolve(study)
    if route.offline:
        return None
    report = probe.probe(route, study, embedding_dimensions=settings.EMBEDDING_DIMENSIONS)
    with transaction.atomic():
        Study.objects.filter(pk=study.pk).update(llm_probe=report.model_dump())
        study.llm_probe = report.model_dump()
        record_event(
            events.MODEL_CHECKED,
            study_slug=study.slug,
            subject=study,
            payload={**report.model_dump(), "problems": report.problems()},
        )
    return report
