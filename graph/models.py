"""Moral contexts, transition stories, wisdom votes and graph snapshots
(paper 4.2, 4.4).

Votes refer to values and contexts directly, not only to the story that was
shown, so a story can be archived (or an imported graph have no stories at
all) without losing what participants said.
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_noop

from mgeplatform.triggers import no_truncate

# --- pair counts: votes and impressions per cell, kept as they are written ------------
#
# Each statement that writes votes (or story impressions) adds its rows' net
# change to graph_paircount in the same transaction, whatever wrote them:
# the vote service, bulk imports, simulated participants, withdrawal and the
# cascades of a deletion. Statement-level triggers with transition tables add
# a whole bulk insert in one upsert; rows are upserted in key order, so two
# statements touching the same cells take their locks in the same order.
# Counts are kept on the value ids the vote names (a merge changes no vote);
# readers map them to the live value, once per cell (graph/selectors.py).


# The participant's kind, as `studies.models.counted` sees it: staff previews
# never count, simulated participants only when asked; no participant
# (imported votes) counts.
def _kind(p: str = "p") -> str:
    return f"CASE WHEN {p}.cohort = 'preview' THEN 'preview' WHEN {p}.simulated THEN 'simulated' ELSE 'counted' END"


_KIND_SQL = _kind()
_CELL = "study_id, from_value_id, to_value_id, context_id, kind"


def _vote_rows(table: str, sign: int) -> str:
    return (
        f"SELECT t.study_id, t.from_value_id, t.to_value_id, t.context_id, {_KIND_SQL} AS kind, "
        f"{sign} * (t.answer = 'yes')::int AS yes, {sign} * (t.answer = 'no')::int AS no, "
        f"{sign} * (t.answer = 'unsure')::int AS unsure, 0 AS impressions, t.updated_at AS newest "
        f"FROM {table} t LEFT JOIN interviews_participant p ON p.id = t.participant_id"
    )


def _impression_rows(table: str, sign: int) -> str:
    return (
        f"SELECT s.study_id, s.from_value_id, s.to_value_id, s.context_id, {_KIND_SQL} AS kind, "
        f"0 AS yes, 0 AS no, 0 AS unsure, {sign} AS impressions, NULL::timestamptz AS newest "
        f"FROM {table} t JOIN graph_transitionstory s ON s.id = t.story_id "
        f"LEFT JOIN interviews_participant p ON p.id = t.participant_id WHERE t.shown_at IS NOT NULL"
    )


def _grouped(rows: str) -> str:
    return (
        f"SELECT {_CELL}, sum(yes) AS yes, sum(no) AS no, sum(unsure) AS unsure, "
        f"sum(impressions) AS impressions, max(newest) AS newest FROM ({rows}) r GROUP BY {_CELL}"
    )


def _add(rows: str, *, changed_only: bool) -> str:
    """Upsert the grouped change in key order. `changed_only`: skip cells
    whose counts did not move (an update that kept the answer)."""
    having = (
        " HAVING sum(yes) <> 0 OR sum(no) <> 0 OR sum(unsure) <> 0 OR sum(impressions) <> 0" if changed_only else ""
    )
    return (
        f"INSERT INTO graph_paircount AS c ({_CELL}, yes, no, unsure, impressions, newest) "
        f"SELECT {_CELL}, sum(yes), sum(no), sum(unsure), sum(impressions), max(newest) FROM ({rows}) r "
        f"GROUP BY {_CELL}{having} ORDER BY {_CELL} "
        "ON CONFLICT (study_id, from_value_id, to_value_id, context_id, kind) DO UPDATE SET "
        "yes = c.yes + EXCLUDED.yes, no = c.no + EXCLUDED.no, unsure = c.unsure + EXCLUDED.unsure, "
        "impressions = c.impressions + EXCLUDED.impressions, newest = GREATEST(c.newest, EXCLUDED.newest);"
    )


def _subtract(rows: str) -> str:
    """Deleted rows were counted, so their cells exist: update them (locked in
    id order), never insert (a study's deletion may have removed its cells
    first)."""
    return (
        f"WITH d AS ({_grouped(rows)}), locked AS (SELECT c.id, d.yes, d.no, d.unsure, d.impressions "
        "FROM graph_paircount c JOIN d USING (study_id, from_value_id, to_value_id, context_id, kind) "
        "ORDER BY c.id FOR UPDATE OF c) "
        "UPDATE graph_paircount c SET yes = c.yes + l.yes, no = c.no + l.no, unsure = c.unsure + l.unsure, "
        "impressions = c.impressions + l.impressions FROM locked l WHERE c.id = l.id;"
    )


def _count_triggers(prefix: str, rows, *, follow_time: bool) -> list:
    """`follow_time`: upsert on every update, even with no count moved, so
    that `newest` follows the answer's time (votes)."""
    return [
        pgtrigger.Trigger(
            name=f"{prefix}_insert",
            operation=pgtrigger.Insert,
            referencing=pgtrigger.Referencing(new="new_rows"),
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            func=_add(rows("new_rows", 1), changed_only=True) + " RETURN NULL;",
        ),
        pgtrigger.Trigger(
            name=f"{prefix}_update",
            operation=pgtrigger.Update,
            referencing=pgtrigger.Referencing(old="old_rows", new="new_rows"),
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            func=_add(f"{rows('new_rows', 1)} UNION ALL {rows('old_rows', -1)}", changed_only=not follow_time)
            + " RETURN NULL;",
        ),
        pgtrigger.Trigger(
            name=f"{prefix}_delete",
            operation=pgtrigger.Delete,
            referencing=pgtrigger.Referencing(old="old_rows"),
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            func=_subtract(rows("old_rows", -1)) + " RETURN NULL;",
        ),
    ]


def _participant_kind_sql() -> str:
    """The body of a trigger on the participants' table: a participant whose
    kind changes (marked simulated, say) takes their votes and impressions
    from the old kind's counts to the new one's."""
    changed = (
        f"SELECT n.id, {_kind('o')} AS old_kind, {_kind('n')} AS new_kind FROM new_rows n "
        f"JOIN old_rows o ON o.id = n.id WHERE {_kind('o')} <> {_kind('n')}"
    )
    rows = []
    for side, sign in (("old_kind", -1), ("new_kind", 1)):
        rows.append(
            f"SELECT t.study_id, t.from_value_id, t.to_value_id, t.context_id, k.{side} AS kind, "
            f"{sign} * (t.answer = 'yes')::int AS yes, {sign} * (t.answer = 'no')::int AS no, "
            f"{sign} * (t.answer = 'unsure')::int AS unsure, 0 AS impressions, t.updated_at AS newest "
            f"FROM graph_wisdomvote t JOIN changed k ON k.id = t.participant_id"
        )
        rows.append(
            f"SELECT s.study_id, s.from_value_id, s.to_value_id, s.context_id, k.{side} AS kind, "
            f"0 AS yes, 0 AS no, 0 AS unsure, {sign} AS impressions, NULL::timestamptz AS newest "
            f"FROM graph_storyassignment t JOIN graph_transitionstory s ON s.id = t.story_id "
            f"JOIN changed k ON k.id = t.participant_id WHERE t.shown_at IS NOT NULL"
        )
    return f"WITH changed AS ({changed}) " + _add(" UNION ALL ".join(rows), changed_only=True)


# Not a pgtrigger trigger: it sits on the studies app's table, which knows
# nothing of the graph (the graph app's migration 0004 creates it).
PARTICIPANT_KIND_TRIGGER_SQL = (
    "CREATE OR REPLACE FUNCTION graph_pair_count_participant_kind() RETURNS trigger AS $$ BEGIN "
    + _participant_kind_sql()
    + " RETURN NULL; END; $$ LANGUAGE plpgsql; "
    "DROP TRIGGER IF EXISTS graph_pair_count_participant_kind ON interviews_participant; "
    "CREATE TRIGGER graph_pair_count_participant_kind AFTER UPDATE ON interviews_participant "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION graph_pair_count_participant_kind();"
)
PARTICIPANT_KIND_TRIGGER_DROP_SQL = (
    "DROP TRIGGER IF EXISTS graph_pair_count_participant_kind ON "
    "interviews_participant; DROP FUNCTION IF EXISTS "
    "graph_pair_count_participant_kind();"
)


VOTE_COUNT_TRIGGERS = _count_triggers("pair_count_votes", _vote_rows, follow_time=True)
IMPRESSION_COUNT_TRIGGERS = _count_triggers("pair_count_impressions", _impression_rows, follow_time=False)

# Every count from the votes and impressions themselves (rebuild_pair_counts,
# the migration that fills the table); %(study)s: one study, or NULL for all.
REBUILD_SQL = (
    f"INSERT INTO graph_paircount ({_CELL}, yes, no, unsure, impressions, newest) "
    f"SELECT {_CELL}, sum(yes), sum(no), sum(unsure), sum(impressions), max(newest) FROM ("
    f"{_vote_rows('graph_wisdomvote', 1)} WHERE (%(study)s::bigint IS NULL OR t.study_id = %(study)s) "
    f"UNION ALL {_impression_rows('graph_storyassignment', 1)} "
    f"AND (%(study)s::bigint IS NULL OR s.study_id = %(study)s)) r GROUP BY {_CELL} ORDER BY {_CELL}"
)


@pghistory.track()
class MoralContext(models.Model):
    """A short string naming an aspect of a scenario with moral valence,
    e.g. "When advising someone in distress" (paper Def. 4.4, footnote 9)."""

    class Origin(models.TextChoices):
        LLM = "llm", "Generated by the model"
        MANUAL = "manual", "Written by a coordinator"
        IMPORTED = "imported", "Imported with a graph"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="moral_contexts")
    scenario = models.ForeignKey(
        "studies.Scenario",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moral_contexts",
        help_text="Blank for contexts imported with a graph.",
    )
    text = models.CharField(max_length=200)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    active = models.BooleanField(
        default=True, help_text="Inactive contexts get no new stories; their votes still count."
    )
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "scenario", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "text"], name="context_text_unique_per_study")]

    def __str__(self):
        return self.text


@pghistory.track()
class StoryRun(models.Model):
    """One run of the story generator, for coordinators to follow and for
    auditors to see which model answers were rejected and why."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="story_runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="clusters, pairs, stories, rejected, skipped")
    problems = models.JSONField(
        default=list, blank=True, help_text="[{step, pair, context, reason, llm_call}] for every rejected answer."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"story run {self.pk} ({self.status})"


@pghistory.track()
class TransitionStory(models.Model):
    """A first-person story of someone moving from one value to a purportedly
    wiser one in a moral context (paper 4.4, A.5), with the chain of
    reasoning that produced it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Shown to participants"
        ARCHIVED = "archived", "Archived"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="transition_stories")
    from_value = models.ForeignKey("values.CanonicalValue", on_delete=models.PROTECT, related_name="stories_from")
    to_value = models.ForeignKey("values.CanonicalValue", on_delete=models.PROTECT, related_name="stories_to")
    context = models.ForeignKey(MoralContext, on_delete=models.PROTECT, related_name="stories")
    story = models.TextField(help_text="The final story, shown to participants.")
    shared_meaning = models.TextField(blank=True, help_text="What both values were really about.")
    clarification = models.TextField(blank=True, help_text="What was clarified about the first value.")
    policy_changes = models.JSONField(default=list, blank=True, help_text="[{policy, change}] per attentional policy.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    archived_reason = models.CharField(max_length=300, blank=True)
    run = models.ForeignKey(StoryRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The call that wrote the final story.",
    )
    chain_calls = models.JSONField(default=list, blank=True, help_text="Ids of every LLM call in the chain, in order.")
    prompt_version = models.CharField(max_length=80, blank=True)
    model = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "transition stories"
        constraints = [
            models.UniqueConstraint(
                fields=["from_value", "to_value", "context"],
                condition=models.Q(status="active"),
                name="one_active_story_per_direction_and_context",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_value=models.F("to_value")), name="story_between_two_values"
            ),
        ]
        # Archive, never delete: votes and audits point at stories.
        triggers = [pgtrigger.Protect(name="story_never_deleted", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"{self.from_value.title} → {self.to_value.title} in “{self.context.text}”"


@pghistory.track()
class StoryAssignment(models.Model):
    """A story put to a participant: an impression, whether or not they vote."""

    participant = models.ForeignKey("studies.Participant", on_delete=models.CASCADE, related_name="story_assignments")
    story = models.ForeignKey(TransitionStory, on_delete=models.PROTECT, related_name="assignments")
    position = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    shown_at = models.DateTimeField(null=True, blank=True, help_text="First time the page with this story was shown.")
    # Which round of the study this belongs to: 1 is the first elicitation, 2 and on are retest
    # rounds (studies.models.Round; docs/architecture.md, "Rounds").
    round = models.PositiveSmallIntegerField(default=1, db_index=True)

    class Meta:
        ordering = ["participant", "position"]
        constraints = [models.UniqueConstraint(fields=["participant", "story"], name="story_once_per_participant")]
        triggers = IMPRESSION_COUNT_TRIGGERS


@pghistory.track()
class GraphImport(models.Model):
    """A moral graph read from a file (e.g. the original implementation's
    published graph); its votes and impressions are anonymous."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="graph_imports")
    source_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"import of {self.source_name}"


@pghistory.track()
class ImportedImpressions(models.Model):
    """Impressions counted in an imported graph (no participant to attach them to)."""

    graph_import = models.ForeignKey(GraphImport, on_delete=models.CASCADE, related_name="impressions")
    from_value = models.ForeignKey("values.CanonicalValue", on_delete=models.PROTECT, related_name="+")
    to_value = models.ForeignKey("values.CanonicalValue", on_delete=models.PROTECT, related_name="+")
    context = models.ForeignKey(MoralContext, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()


@pghistory.track()
class WisdomVote(models.Model):
    """ "Did this person become wiser?" for one direction, in one context."""

    class Answer(models.TextChoices):
        YES = "yes", gettext_noop("Yes, wiser")
        NO = "no", gettext_noop("No")
        UNSURE = "unsure", gettext_noop("Not sure")

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="wisdom_votes")
    participant = models.ForeignKey(
        "studies.Participant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wisdom_votes",
        help_text="Blank for imported votes.",
    )
    from_value = models.ForeignKey("values.CanonicalValue", on_delete=models.PROTECT, related_name="+")
    to_value = models.ForeignKey("values.CanonicalValue", on_delete=models.PROTECT, related_name="+")
    context = models.ForeignKey(MoralContext, on_delete=models.PROTECT, related_name="votes")
    story = models.ForeignKey(TransitionStory, null=True, blank=True, on_delete=models.PROTECT, related_name="votes")
    answer = models.CharField(max_length=8, choices=Answer.choices)
    reason = models.TextField(blank=True)
    time_taken_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="From the story being shown to the answer."
    )
    graph_import = models.ForeignKey(GraphImport, null=True, blank=True, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Which round of the study this belongs to: 1 is the first elicitation, 2 and on are retest
    # rounds (studies.models.Round; docs/architecture.md, "Rounds").
    round = models.PositiveSmallIntegerField(default=1, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "from_value", "to_value", "context"],
                condition=models.Q(participant__isnull=False),
                name="one_vote_per_participant_edge",
            ),
        ]
        indexes = [models.Index(fields=["study", "from_value", "to_value", "context"], name="vote_edge_idx")]
        triggers = VOTE_COUNT_TRIGGERS

    # How an answer reads after the edge it judges: "A → B in <context>: wiser".
    VERDICTS = {"yes": "wiser", "no": "not wiser", "unsure": "not sure"}

    def __str__(self):
        voter = (
            f"participant {str(self.participant_id)[:8]}"
            if self.participant_id
            else "an imported vote"
            if self.graph_import_id
            else "no participant"
        )
        return (
            f"{self.from_value.title} → {self.to_value.title} in “{self.context.text}”: "
            f"{self.VERDICTS.get(self.answer, self.answer)}, by {voter}"
        )


class GraphSnapshot(models.Model):
    """A built moral graph: the parameters, every edge kept or dropped and
    why, the cycles, the PageRank scores and how stable each rank is.
    Append-only, so a published result can always be traced back."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="graph_snapshots")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parameters = models.JSONField()
    include_simulated = models.BooleanField(default=False)
    votes_through = models.DateTimeField(null=True, blank=True, help_text="The newest vote included.")
    summary = models.JSONField(default=dict, help_text="values, votes, edges kept, dropped by reason, cycles.")
    values = models.JSONField(default=dict, help_text="{id: {title, description, policies, scenarios, external_id}}")
    contexts = models.JSONField(default=dict, help_text="{id: {text, scenario}}")
    edges = models.JSONField(default=list)
    cycles = models.JSONField(default=list)
    scores = models.JSONField(
        default=dict, help_text="{global: {id: score}, scenario: {id: {...}}, context: {id: {...}}}"
    )
    bootstrap = models.JSONField(default=dict, help_text="{id: {rank, rank_low, rank_high, rank_median, top_share}}")
    stage_seconds = models.JSONField(default=dict)
    # Lineage: whose data the snapshot used (a participant's votes and
    # impressions counted, or a card behind one of its values), so that a
    # later withdrawal can be said of it. None: built before this was kept.
    contributors = ArrayField(
        models.UUIDField(),
        null=True,
        blank=True,
        editable=False,
        help_text="Participants whose votes, impressions or cards this snapshot used.",
    )
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text="The snapshot this one was built again from, without the participants who had withdrawn since.",
    )
    # Survey weights: the weights run the votes were counted with (graph/weighting.py), by id, since
    # `graph` does not depend on the `weights` app; None: unweighted. `weighting`: what the run was.
    weighting_run_id = models.IntegerField(
        null=True, blank=True, db_index=True, help_text="The weighting run whose survey weights the votes counted with."
    )
    weighting = models.JSONField(
        default=dict, blank=True, help_text="The weighting run: target, trim, missing policy, who was left out."
    )
    # The one change a snapshot allows: a value's text redacted when the participant whose card worded it
    # withdrew (under "delete what they wrote"); each redaction appends {at, reason, values}.
    redactions = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Values whose text was redacted after a withdrawal: when and why.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        # Append-only: a built graph is neither rewritten nor deleted (so a
        # study that has one cannot be deleted either), except that a
        # withdrawal redacts the texts of values worded from the withdrawn
        # card, and records it in `redactions`. No row history: it would copy
        # the redacted text; who built it is in created_by and the
        # graph.snapshot_built event.
        triggers = [
            pgtrigger.Protect(name="graph_snapshot_append_only", operation=pgtrigger.Delete),
            # An update may only redact value texts, and must say so by appending to `redactions`.
            pgtrigger.Protect(
                name="graph_snapshot_only_redacted",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "((to_jsonb(OLD.*) - 'values' - 'redactions')"
                    " IS DISTINCT FROM (to_jsonb(NEW.*) - 'values' - 'redactions')"
                    " OR jsonb_array_length(NEW.redactions) <= jsonb_array_length(OLD.redactions))"
                ),
            ),
            no_truncate(),
        ]

    def __str__(self):
        return f"{self.study.slug} graph @ {self.created_at:%Y-%m-%d %H:%M}"


class PairCount(models.Model):
    """Votes and impressions per (from value, to value, context) and kind of
    participant, kept by the triggers above, so that a graph build reads one
    row per cell instead of every vote. Impressions of an imported graph are
    per cell already and stay in ImportedImpressions."""

    class Kind(models.TextChoices):
        COUNTED = "counted", "Counted (a participant in the study, or an imported vote)"
        SIMULATED = "simulated", "A simulated participant"
        PREVIEW = "preview", "A staff preview (never counted)"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="+")
    # Plain ids, no foreign keys: a row left at zero must not keep a value or context from being deleted.
    from_value_id = models.IntegerField()
    to_value_id = models.IntegerField()
    context_id = models.IntegerField()
    kind = models.CharField(max_length=9, choices=Kind.choices)
    yes = models.IntegerField(default=0)
    no = models.IntegerField(default=0)
    unsure = models.IntegerField(default=0)
    impressions = models.IntegerField(default=0)
    newest = models.DateTimeField(
        null=True, blank=True, help_text="The newest answer time counted here (not lowered by a deletion)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "from_value_id", "to_value_id", "context_id", "kind"],
                name="one_pair_count_per_cell_and_kind",
            )
        ]

    def __str__(self):
        return (
            f"{self.from_value_id} → {self.to_value_id} in context {self.context_id} ({self.kind}): "
            f"{self.yes} yes, {self.no} no, {self.unsure} unsure, {self.impressions} impressions"
        )
