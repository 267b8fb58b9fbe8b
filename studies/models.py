"""The base layer: studies, scenarios, consent and participants.

Every other app points at these models; this app imports none of them.

Research data refers to participants only by their pseudonymous UUID; the
Prolific identifiers live in `ProlificIdentity`, which exports leave out.
"""

import hashlib
import uuid

import pghistory
import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from studies import arm_settings, links, resume_codes
from studies import languages as study_languages

_slug_validator_help = "Lowercase letters, digits and hyphens; used in the study link /s/<slug>/."


def _validate_arm_strata(value: str) -> None:
    rule = (value or "").strip()
    if rule and rule != "language" and not (rule.startswith("demographic:") and len(rule) > len("demographic:")):
        raise ValidationError('Blank, "language" or "demographic:<column>".')


@pghistory.track(meta={"db_table": "interviews_studyevent"})
class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (staff preview only)"
        PILOT = "pilot", "Pilot (a first small batch)"
        OPEN = "open", "Open"
        PAUSED = "paused", "Paused (no new participants)"
        CLOSED = "closed", "Closed"

    # Statuses in which the study link takes new participants and background work runs.
    TAKING_PART = (Status.PILOT, Status.OPEN)
    # Statuses in which people already in the study can carry on.
    RUNNING = (Status.PILOT, Status.OPEN, Status.PAUSED)

    slug = models.SlugField(max_length=64, unique=True, help_text=_slug_validator_help)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Shown to participants on the consent page.")
    languages = ArrayField(
        models.CharField(max_length=16),
        default=study_languages.default_languages,
        validators=[study_languages.validate_languages],
        help_text="Languages of the participant pages, comma-separated codes (en, es, ar, zh-hans); the first is "
        "the pivot, used when the link and the browser ask for none of the others. The consent text and "
        "the questions are shown as written, whatever the language.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    require_prolific = models.BooleanField(
        default=False,
        help_text="Refuse the plain join link: participants must arrive with PROLIFIC_PID, STUDY_ID and SESSION_ID.",
    )
    completion_code_completed = models.CharField("Prolific code: completed", max_length=32, blank=True)
    completion_code_no_consent = models.CharField("Prolific code: no consent", max_length=32, blank=True)
    completion_code_screened_out = models.CharField("Prolific code: screened out", max_length=32, blank=True)
    completion_code_failed_attention = models.CharField(
        "Prolific code: failed attention check", max_length=32, blank=True
    )
    completion_code_no_places = models.CharField(
        "Prolific code: no places left",
        max_length=32,
        blank=True,
        help_text="Given to people who arrive after the study is paused or its budget is spent.",
    )
    scripted_interviewer_ok = models.BooleanField(
        "Pilot with scripted interviewer",
        default=False,
        help_text="Let participants in although no language model is configured: the offline interviewer follows a "
        "script. Only for trying the study out; participants are told the interviewer is offline.",
    )
    include_scripted_cards = models.BooleanField(
        "Include scripted cards",
        default=False,
        help_text="Let cards written by the offline (scripted) interviewer become canonical values and get "
        "transition stories. Off: a pilot's scripted cards stay out of what real participants judge. "
        "Simulated participants' cards are always included.",
    )
    budget_usd = models.DecimalField(
        "Budget (USD)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Model spending at which the study stops taking new participants; blank = no limit.",
    )
    stuck_after_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="The study console flags a participant idle at one step for longer than this."
    )
    llm_provider = models.CharField(
        max_length=32,
        blank=True,
        help_text="anthropic, openai, openai-compatible or offline; blank = platform default.",
    )
    llm_model = models.CharField(max_length=100, blank=True, help_text="Blank = platform default model.")
    llm_base_url = models.URLField(blank=True, help_text="For an OpenAI-compatible server (vLLM, Ollama, llama.cpp).")

    class ToolProtocol(models.TextChoices):
        AUTO = "auto", "Automatic (as the model check found)"
        NATIVE = "native", "The API's tool calls"
        JSON = "json", "Actions as JSON in the text (servers without tool calling)"

    class Turns(models.TextChoices):
        AUTO = "auto", "Automatic (as the model check found)"
        AS_IS = "as_is", "As they are (the interviewer speaks first)"
        STRICT = "strict", "User first and alternating, no system role (Mistral, Gemma templates)"

    llm_tool_protocol = models.CharField(
        "Tool protocol",
        max_length=8,
        choices=ToolProtocol.choices,
        default=ToolProtocol.AUTO,
        blank=True,
        help_text="How the interviewer asks for the card writer. Servers started without tool calling "
        "need actions as JSON in the text. Blank = automatic.",
    )
    llm_turns = models.CharField(
        "Turn order",
        max_length=8,
        choices=Turns.choices,
        default=Turns.AUTO,
        blank=True,
        help_text="Some open-weight chat templates refuse a conversation that starts with the interviewer. "
        "Blank = automatic.",
    )
    llm_probe = models.JSONField(
        "Model check",
        default=dict,
        blank=True,
        editable=False,
        help_text="What the last capability check of this study's model found (run when the model is saved).",
    )
    stories_per_participant = models.PositiveSmallIntegerField(
        default=3, help_text="Transition stories each participant judges (paper 4.4)."
    )
    graph_public = models.BooleanField(
        default=False, help_text="Anyone with the link may explore the anonymised moral graph."
    )
    # Arms (studies.arms): how newcomers are randomised between the study's arms, if it has any.
    arm_seed = models.PositiveIntegerField(
        default=0, help_text="Seed of the blocked randomisation into arms: the same seed and order, the same arms."
    )
    arm_strata = models.CharField(
        "Stratify arms by",
        max_length=100,
        blank=True,
        validators=[_validate_arm_strata],
        help_text='Blank: one sequence of blocks for everyone; "language": one per page language; '
        '"demographic:<column>": one per answer of an imported Prolific demographic (missing: "unknown").',
    )

    class WithdrawalPolicy(models.TextChoices):
        DELETE_CONTENT = "delete_content", "Delete what they wrote and their votes (consent records stay)"
        KEEP_ANONYMISED = "keep_anonymised", "Keep their content, unlinked from their Prolific identity"

    withdrawal_policy = models.CharField(
        max_length=20,
        choices=WithdrawalPolicy.choices,
        default=WithdrawalPolicy.DELETE_CONTENT,
        help_text="What withdrawing does, as documented in the consent form.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "interviews_study"  # created by the interviews app; see docs/architecture.md
        verbose_name_plural = "studies"
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return links.url("entry", self.slug)

    @property
    def is_open(self) -> bool:
        """The study link takes new participants (pilot or open)."""
        return self.status in self.TAKING_PART


@pghistory.track(meta={"db_table": "interviews_consentdocumentevent"})
class ConsentDocument(models.Model):
    """One version of a study's consent text. New wording = new version."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="consent_documents")
    version_label = models.CharField(max_length=32, help_text="e.g. v1, 2026-11 amendment")
    text = models.TextField(help_text="Plain text; blank lines separate paragraphs. Shown exactly as written.")
    irb_protocol_id = models.CharField("IRB protocol id", max_length=64, blank=True)
    content_hash = models.CharField(max_length=64, editable=False, db_index=True)
    is_active = models.BooleanField(default=True, help_text="The newest active version is the one shown.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "interviews_consentdocument"  # created by the interviews app; see docs/architecture.md
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version_label"], name="consent_version_unique_per_study"),
        ]
        triggers = [
            # Participants consented to exactly this text: never edit it in place.
            pgtrigger.Protect(
                name="consent_text_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange("text", "version_label", "irb_protocol_id", "content_hash", "study"),
            ),
        ]

    def __str__(self):
        return f"{self.study.slug} consent {self.version_label}"

    @staticmethod
    def compute_hash(text: str, version_label: str, irb_protocol_id: str) -> str:
        digest = hashlib.sha256()
        for part in (version_label, irb_protocol_id, text):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()

    def save(self, *args, **kwargs):
        self.content_hash = self.compute_hash(self.text, self.version_label, self.irb_protocol_id)
        super().save(*args, **kwargs)


@pghistory.track(meta={"db_table": "interviews_scenarioevent"})
class Scenario(models.Model):
    """A contentious prompt participants respond to (paper section 4.3)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="scenarios")
    key = models.SlugField(max_length=64, help_text="Short stable name, e.g. abortion.")
    title = models.CharField(max_length=200)
    prompt = models.TextField(help_text="The user question the chatbot should answer.")
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    expert_question = models.CharField(
        max_length=300,
        blank=True,
        help_text="Who counts as having relevant life experience, asked of each transcript (paper 5.5), e.g. "
        '"Has the user explicitly mentioned that they have had or considered having an abortion?"',
    )

    class Meta:
        db_table = "interviews_scenario"  # created by the interviews app; see docs/architecture.md
        ordering = ["study", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="scenario_key_unique_per_study")]

    def __str__(self):
        return f"{self.title}"


def _validate_arm_settings(value) -> None:
    try:
        arm_settings.check(value)
    except arm_settings.ArmSettingsError as err:
        raise ValidationError(str(err)) from None


@pghistory.track()
class Arm(models.Model):
    """One arm of a study run as an experiment: newcomers are randomised
    between the arms by weight (studies.arms), and an arm's `settings`
    override the study's own (studies.arm_settings.ArmSettings)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="arms")
    name = models.SlugField(max_length=64, help_text="Short stable name, e.g. control, no-relevance.")
    weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Places of this arm in each block of the randomisation (1:1 by default).",
    )
    settings = models.JSONField(
        default=dict,
        blank=True,
        validators=[_validate_arm_settings],
        help_text="Overrides of the study's settings, e.g. "
        '{"relevance_step": false, "llm_model": "gpt-4o", "stories_per_participant": 5, "scenarios": [3]}. '
        "Fields: " + ", ".join(arm_settings.FIELDS) + ".",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="arm_name_unique_per_study")]

    def __str__(self):
        return self.name


class Step(models.TextChoices):
    """Where a participant is in the journey."""

    CONSENT = "consent", "Consent"
    SCENARIO = "scenario", "Choose a scenario"
    INTERVIEW = "interview", "Interview"
    RELEVANCE = "relevance", "Relevance"
    STORIES = "stories", "Transition stories"
    SURVEY = "survey", "Survey"
    COMPLETE = "complete", "Complete"
    DECLINED = "declined", "Declined consent"
    SCREENED_OUT = "screened_out", "Screened out"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Cohort(models.TextChoices):
    """Who a participant is, for analyses."""

    STUDY = "study", "Study participant"
    PILOT = "pilot", "Pilot participant"  # joined while the study was in pilot: real, counted, filterable
    PREVIEW = "preview", "Staff preview"  # a coordinator trying the study: never counted


def counted(path: str, include_simulated: bool) -> models.Q:
    """Rows reached through the participant foreign key at `path` that an
    analysis counts: staff previews never count, simulated participants'
    rows are left out unless asked for; rows with no participant (votes
    imported with a published graph) always count. Every report, export,
    figure and graph build uses this (or COUNTED_SQL), so "leave simulated
    participants out" means one thing."""
    no_preview = ~models.Q(**{f"{path}__cohort": Cohort.PREVIEW})
    if include_simulated:
        return no_preview
    return no_preview & ~models.Q(**{f"{path}__simulated": True})


# The same rule for raw SQL: `p` is the participant row (LEFT JOINed), and
# %(include_simulated)s the flag.
COUNTED_SQL = "(p.cohort IS DISTINCT FROM 'preview' AND (%(include_simulated)s OR p.simulated IS NOT TRUE))"


class ParticipantQuerySet(models.QuerySet):
    def real(self):
        """People who took part: neither simulated nor a staff preview."""
        return self.filter(simulated=False).exclude(cohort=Cohort.PREVIEW)

    def previews(self):
        return self.filter(cohort=Cohort.PREVIEW)

    def for_analysis(self, include_simulated: bool = False):
        """The participants an analysis counts (see `counted`)."""
        return self.exclude(cohort=Cohort.PREVIEW) if include_simulated else self.real()

    def completed(self):
        return self.filter(current_step=Step.COMPLETE)


@pghistory.track(meta={"db_table": "interviews_participantevent"})
class Participant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    current_step = models.CharField(max_length=32, choices=Step.choices, default=Step.CONSENT, db_index=True)
    simulated = models.BooleanField(default=False, db_index=True)
    cohort = models.CharField(max_length=16, choices=Cohort.choices, default=Cohort.STUDY, db_index=True)
    via_prolific = models.BooleanField(default=False)
    # One of the study's languages (studies.languages); switchable until the interview starts.
    language = models.CharField(max_length=16, default="en")
    # Drawn at entry (studies.arms.assign) and never changed after: a trigger refuses it.
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, null=True, blank=True, related_name="participants")
    arm_stratum = models.CharField(max_length=120, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        db_table = "interviews_participant"  # created by the interviews app; see docs/architecture.md
        ordering = ["-created_at"]
        triggers = [
            # A participant's arm is part of the experiment's design: once drawn it stays.
            pgtrigger.Protect(
                name="participant_arm_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__arm__isnull=False) & pgtrigger.Q(old__arm__df=pgtrigger.F("new__arm")),
            ),
        ]

    def __str__(self):
        return str(self.id)

    @property
    def may_switch_language(self) -> bool:
        """Whether the pages offer the language switcher (before the interview, in a study of several)."""
        return study_languages.may_switch(self)


# No row history: like ProlificIdentity, Prolific's data about a person stays out of
# the audit trail, so deleting it (withdrawal) leaves no copy.
class ProlificDemographics(models.Model):
    """Prolific's demographic export for one participant (imported by a
    coordinator). Kept apart from research tables like the identity, and
    exported only in the per-participant file."""

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="demographics")
    data = models.JSONField(default=dict)
    source_name = models.CharField(max_length=300)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "interviews_prolificdemographics"  # created by the interviews app; see docs/architecture.md
        verbose_name_plural = "Prolific demographics"


@pghistory.track()
class StepTiming(models.Model):
    """When a participant entered and left each step of the journey."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="step_timings")
    step = models.CharField(max_length=32, choices=Step.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "interviews_steptiming"  # created by the interviews app; see docs/architecture.md
        ordering = ["participant", "started_at"]
        constraints = [models.UniqueConstraint(fields=["participant", "step"], name="one_timing_per_step")]

    @property
    def seconds(self) -> float | None:
        return (self.ended_at - self.started_at).total_seconds() if self.ended_at else None


class ProlificIdentity(models.Model):
    """Prolific's identifiers, kept apart from research data.

    Deliberately not tracked by pghistory: the audit trail is research data
    too, and must not copy identifiers out of this table.
    """

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="prolific_identity")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    prolific_pid = models.CharField(max_length=64)
    prolific_study_id = models.CharField(max_length=64)
    prolific_session_id = models.CharField(max_length=64)
    # Shown on the participant's pages; on another device whose link has a
    # different SESSION_ID it is what proves they are the participant.
    resume_code = models.CharField(max_length=16, default=resume_codes.new_code, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "interviews_prolificidentity"  # created by the interviews app; see docs/architecture.md
        verbose_name_plural = "Prolific identities"
        # Viewing lists identities with their ids masked; seeing or exporting the ids
        # themselves takes this, with a reason that is recorded (coordinators only).
        permissions = [("reveal_prolificidentity", "Can reveal and export Prolific IDs, with a recorded reason")]
        constraints = [
            # The database, not the view, guarantees one participant per PID.
            models.UniqueConstraint(fields=["study", "prolific_pid"], name="one_participant_per_prolific_pid"),
        ]

    def __str__(self):
        return f"Prolific identity of {self.participant_id}"

    @property
    def shown_resume_code(self) -> str:
        return resume_codes.shown(self.resume_code)


@pghistory.track(pghistory.InsertEvent(), meta={"db_table": "interviews_consentrecordevent"})
class ConsentRecord(models.Model):
    """A participant's answer to one consent version. Append-only."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consent_records")
    consent_document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="records")
    consent_hash = models.CharField(max_length=64)
    accepted = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "interviews_consentrecord"  # created by the interviews app; see docs/architecture.md
        ordering = ["-created_at"]
        triggers = [
            pgtrigger.Protect(name="consent_record_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{'accepted' if self.accepted else 'declined'} {self.consent_hash[:10]}"


# No row history: derived counts, written only by the statistics job (whose
# inputs, participants and step timings, are tracked) and never edited.
class StudyStatistics(models.Model):
    """A snapshot of a study's counts, recorded by a background job. The
    counts are of real participants; simulated participants and staff
    previews are counted beside them, never in them."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="statistics")
    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    participants = models.PositiveIntegerField(help_text="Real participants (pilot included).")
    consented = models.PositiveIntegerField()
    declined = models.PositiveIntegerField()
    by_step = models.JSONField(default=dict)
    simulated = models.PositiveIntegerField(default=0, help_text="Simulated participants, not counted above.")
    previews = models.PositiveIntegerField(default=0, help_text="Staff previews, not counted above.")

    class Meta:
        db_table = "interviews_studystatistics"  # created by the interviews app; see docs/architecture.md
        verbose_name_plural = "study statistics"
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.study.slug} @ {self.recorded_at:%Y-%m-%d %H:%M}"


def _validate_round_strata(value: str) -> None:
    rule = (value or "").strip()
    if rule and rule not in ("arm", "arm_stratum", "language"):
        raise ValidationError('Blank, "arm", "arm_stratum" (the arm and its stratum) or "language".')


@pghistory.track()
class Round(models.Model):
    """A retest round of a study (issue 29): a seeded random sample of the
    participants who completed it, invited back through their follow-up
    links (`journey.retest.open_retest_round`). Round 1, the first
    elicitation, is implicit: it has no row, and every record without a
    later round says 1."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(2)])
    seed = models.PositiveIntegerField(help_text="Seed of the sample: the same seed and participants, the same sample.")
    sample_size = models.PositiveIntegerField(null=True, blank=True, help_text="How many were asked for, if a number.")
    sample_fraction = models.FloatField(null=True, blank=True, help_text="The share asked for, if a fraction.")
    stratify_by = models.CharField(max_length=32, blank=True, validators=[_validate_round_strata])
    eligible = models.PositiveIntegerField(default=0, help_text="Completed participants it was drawn from.")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="round_number_unique_per_study"),
            models.CheckConstraint(name="round_is_a_retest", condition=models.Q(number__gte=2)),
            models.CheckConstraint(
                name="round_size_or_fraction",
                condition=models.Q(sample_size__isnull=True) ^ models.Q(sample_fraction__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.study.slug} round {self.number}"


@pghistory.track()
class RetestInvitation(models.Model):
    """One participant sampled into a retest round. Delivered through the
    participant's signed follow-up link (surveys.FollowUpLink), which is
    made for them if they had none."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="invitations")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="retest_invitations")
    stratum = models.CharField(max_length=160, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the retest interview began.")

    class Meta:
        ordering = ["round", "created_at", "participant"]
        constraints = [
            models.UniqueConstraint(fields=["round", "participant"], name="one_invitation_per_round_and_participant")
        ]

    def __str__(self):
        return f"round {self.round.number} for {str(self.participant_id)[:8]}"
