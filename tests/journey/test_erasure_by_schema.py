"""Erasure by construction: after a withdrawal under "delete what they
wrote", a phrase the participant put into everything they could write is in
no text, varchar, json, jsonb or text-array column of any table of the
public schema (the column list is read from the catalogue when the test
runs, so a new table is covered without anyone remembering it) and in no
file under the var directory. The search itself is proved: it finds a
planted marker in a column of each kind, in a table made for the purpose."""

from pathlib import Path

import pytest
from django.db import connection

MARKER = "Zephyrquill"

# Column types that can hold a participant's words.
_TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")
_TEXT_ARRAYS = ("_text", "_varchar", "_bpchar", "_json", "_jsonb")


def text_columns(schema: str = "public") -> list[tuple[str, str]]:
    """(table, column) of every column of every table in `schema` that can
    hold text, from information_schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.table_name, c.column_name FROM information_schema.columns c
               JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
               WHERE c.table_schema = %s AND t.table_type IN ('BASE TABLE', 'LOCAL TEMPORARY')
                 AND (c.data_type = ANY(%s) OR (c.data_type = 'ARRAY' AND c.udt_name = ANY(%s)))
               ORDER BY 1, 2""",
            [schema, list(_TEXT_TYPES), list(_TEXT_ARRAYS)],
        )
        return cursor.fetchall()


def columns_holding(marker: str, schema: str = "public") -> dict[str, int]:
    """{"table.column": rows} for every text column where `marker` occurs."""
    found = {}
    with connection.cursor() as cursor:
        for table, column in text_columns(schema):
            cursor.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE strpos(lower("{column}"::text), lower(%s)) > 0',
                [marker],
            )
            count = cursor.fetchone()[0]
            if count:
                found[f"{table}.{column}"] = count
    return found


def files_holding(marker: str, root: Path) -> list[str]:
    """Files under `root` whose bytes contain `marker` (any case)."""
    needle = marker.lower().encode()
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and needle in path.read_bytes().lower()
    )


# --- the search finds what it should ----------------------------------------------

PROBE_KINDS = {
    "t": "text",
    "v": "varchar(40)",
    "c": "char(40)",
    "j": "json",
    "jb": "jsonb",
    "ta": "text[]",
    "va": "varchar(40)[]",
}


@pytest.mark.parametrize("kind", sorted(PROBE_KINDS))
def test_the_search_finds_a_marker_planted_in_a_column_of_each_kind_of_a_new_table(db, kind):
    # The application role may not create tables in public: the same query runs on a temporary table.
    columns = ", ".join(f"{name} {sql}" for name, sql in PROBE_KINDS.items())
    value = {
        "t": MARKER,
        "v": f"x {MARKER}",
        "c": MARKER,
        "j": f'{{"a": ["{MARKER}"]}}',
        "jb": f'{{"a": {{"b": "{MARKER}"}}}}',
        "ta": ["x", MARKER],
        "va": [MARKER],
    }[kind]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE erasure_probe ({columns})")
        cursor.execute(f"INSERT INTO erasure_probe ({kind}) VALUES (%s)", [value])
        cursor.execute("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()")
        schema = cursor.fetchone()[0]
    assert set(text_columns(schema)) == {("erasure_probe", name) for name in PROBE_KINDS}
    assert columns_holding(MARKER, schema) == {f"erasure_probe.{kind}": 1}


def test_the_search_finds_a_marker_in_the_real_columns_of_each_kind(db):
    from mgeplatform.models import LLMCall
    from studies import services as journey
    from values.models import CanonicalValue

    study, _ = journey.seed_case_study()
    LLMCall.objects.create(
        purpose=f"p {MARKER}",
        provider="offline",
        model="m",
        request_system=MARKER,
        request_messages=[{"role": "user", "content": f"say {MARKER}"}],
    )
    CanonicalValue.objects.create(
        study=study, title="Plain", description="d", policies=["x", f"MOMENTS {MARKER}"], origin="manual"
    )
    assert columns_holding(MARKER) == {
        "mgeplatform_llmcall.purpose": 1,
        "mgeplatform_llmcall.request_system": 1,
        "mgeplatform_llmcall.request_messages": 1,
        "values_canonicalvalue.policies": 1,
        "values_canonicalvalueevent.policies": 1,
    }


def test_the_search_covers_every_app_table_with_text(db):
    tables = {table for table, _ in text_columns()}
    assert {
        "mgeplatform_llmcall",
        "interviews_chatmessage",
        "values_valuescard",
        "values_canonicalvalueevent",
        "graph_graphsnapshot",
        "graph_transitionstory",
        "graph_wisdomvote",
        "mgeplatform_domainevent",
        "procrastinate_jobs",
    } <= tables
    assert ("mgeplatform_llmcall", "request_messages") in text_columns()


def test_the_file_search_finds_a_marker_in_a_nested_file(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.csv").write_text(f"1,{MARKER.upper()}\n")
    (tmp_path / "clean.txt").write_text("nothing")
    assert files_holding(MARKER, tmp_path) == ["a/b/x.csv"]


# --- a participant who wrote the marker everywhere, then withdrew --------------------


def _write_everywhere_and_run_the_jobs(study, settings):
    """The participant writes the marker into their answers, their card (an
    edit), a vote's reason and a dispute; every background job that reads
    what they wrote runs (deduplication, stories, transcript ratings,
    dialogue grading, graph build, training export), and exports are written
    under the var directory. (Survey and follow-up answers are choices, not
    text: there is no free-text item to write into.)"""
    from alignment import training
    from graph import services as graph_services
    from graph import stories
    from interviews import grading, ratings
    from interviews import services as chat
    from journey import exports
    from journey import services as disputes
    from studies.models import Step
    from tests.factories import consented_participant, make_values, move_to, run_interview
    from values import services as value_services

    study.include_scripted_cards = True
    study.save()
    make_values(study)
    participant, _ = consented_participant(study, "marker-writer")
    answers = [
        f"I care about {MARKER} when my child decides.",
        f"It matters that {MARKER} is respected.",
        f"Once my son chose his school and {MARKER} helped.",
        "I listened to what he said.",
    ]
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"), answers=answers, submit=False)
    chat.edit_card(
        interview_id=interview.pk,
        title=f"Guided {MARKER}",
        description=f"An assistant that helps {MARKER} grow.",
        policies=[f"MOMENTS when {MARKER} shows", "QUESTIONS the child asks on their own"],
    )
    chat.submit_card(interview_id=interview.pk)
    value_services.run_batch_dedup(study)
    stories.generate_stories(study, max_stories=20)
    participant = move_to(participant, Step.STORIES)
    assignment = graph_services.current_assignment(participant) or graph_services.next_assignment(participant)
    if assignment is not None:
        graph_services.record_vote(
            participant=participant, assignment=assignment, answer="yes", reason=f"Because {MARKER} is wiser"
        )
    ratings.rate_study(study)
    grading.grade_study(study)
    snapshot = graph_services.build_snapshot(study)
    disputes.open_dispute(
        participant=participant,
        kind="place",
        via="thank_you",
        text=f"My value is placed wrongly, {MARKER} matters more.",
    )
    out = Path(settings.VAR_DIR) / "exports"
    exports.export_study(study, out / "study")
    training.export(study, snapshot, training.prompt_set(study)[:1], out / "training", limit=2)
    participant.refresh_from_db()
    return participant


@pytest.fixture
def marker_study(db, settings, tmp_path):
    from studies import services as journey

    settings.VAR_DIR = tmp_path / "var"
    study, _ = journey.seed_case_study()
    return study


def test_the_marker_reached_every_kind_of_place_before_the_withdrawal(marker_study, settings):
    _write_everywhere_and_run_the_jobs(marker_study, settings)
    found = columns_holding(MARKER)
    # Where a participant's words are and where the jobs copy them.
    assert {
        "interviews_chatmessage.content",
        "values_valuescard.title",
        "values_canonicalvalue.title",
        "mgeplatform_llmcall.request_messages",
    } <= set(found)
    assert any(c.startswith("mgeplatform_llmcall.") for c in found)
    assert files_holding(MARKER, Path(settings.VAR_DIR))


def test_withdrawal_under_delete_content_redacts_every_model_call_that_carried_their_words(marker_study, settings):
    from journey import withdrawal
    from mgeplatform.models import LLMCall
    from studies.models import Study

    marker_study.withdrawal_policy = Study.WithdrawalPolicy.DELETE_CONTENT
    marker_study.save()
    participant = _write_everywhere_and_run_the_jobs(marker_study, settings)
    carried = set(LLMCall.objects.filter(content_of__contains=[participant.pk]).values_list("pk", flat=True))
    not_theirs = {
        c.pk for c in LLMCall.objects.filter(content_of__contains=[participant.pk]) if c.participant != participant.pk
    }
    assert not_theirs, "job calls (dedup, stories, training) carried their words without being made for them"
    budget = {
        c.pk: (c.purpose, c.prompt_hash, c.model, c.input_tokens, c.output_tokens, c.estimated_cost_usd)
        for c in LLMCall.objects.filter(pk__in=carried)
    }

    assert withdrawal.withdraw(participant)

    assert not {c for c in columns_holding(MARKER) if c.startswith("mgeplatform_llmcall.")}
    for call in LLMCall.objects.filter(pk__in=carried):
        assert (
            call.purpose,
            call.prompt_hash,
            call.model,
            call.input_tokens,
            call.output_tokens,
            call.estimated_cost_usd,
        ) == budget[call.pk]
        assert call.response_text.startswith("[redacted ") and "participant withdrew, policy delete_content" in (
            call.response_text
        )
        assert call.participant is None and participant.pk not in call.content_of


def test_withdrawal_deletes_the_export_files_written_before_that_hold_their_id_or_words(
    marker_study, settings, django_capture_on_commit_callbacks
):
    from journey import withdrawal
    from studies.models import Study

    marker_study.withdrawal_policy = Study.WithdrawalPolicy.DELETE_CONTENT
    marker_study.save()
    participant = _write_everywhere_and_run_the_jobs(marker_study, settings)
    var = Path(settings.VAR_DIR)
    holding_id = [p for p in var.rglob("*.csv") if str(participant.pk) in p.read_text()]
    assert holding_id and files_holding(MARKER, var)

    with django_capture_on_commit_callbacks(execute=True):
        assert withdrawal.withdraw(participant)

    assert files_holding(MARKER, var) == []
    assert not [p for p in var.rglob("*") if p.is_file() and str(participant.pk) in p.read_text()]
    assert (var / "exports" / "study" / "codebook.md").exists()  # files without them stay


def test_after_withdrawal_the_marker_is_in_no_column_of_any_table_and_no_file(
    marker_study, settings, django_capture_on_commit_callbacks
):
    from journey import withdrawal
    from journey.selectors import deletion_receipt
    from studies.models import Study

    marker_study.withdrawal_policy = Study.WithdrawalPolicy.DELETE_CONTENT
    marker_study.save()
    participant = _write_everywhere_and_run_the_jobs(marker_study, settings)
    with django_capture_on_commit_callbacks(execute=True):
        assert withdrawal.withdraw(participant)
    assert columns_holding(MARKER) == {}
    # Every kind of thing removed has a label the receipt can translate, not its key.
    receipt = deletion_receipt(participant)
    assert receipt and [r["key"] for r in receipt if r["key"] not in withdrawal.RECEIPT_LABELS] == []
    assert files_holding(MARKER, Path(settings.VAR_DIR)) == []


def test_under_keep_anonymised_their_words_stay_and_nothing_links_them_to_the_person(
    marker_study, settings, django_capture_on_commit_callbacks
):
    from journey import withdrawal
    from studies.models import Study

    marker_study.withdrawal_policy = Study.WithdrawalPolicy.KEEP_ANONYMISED
    marker_study.save()
    participant = _write_everywhere_and_run_the_jobs(marker_study, settings)
    pid = "marker-writer"
    assert columns_holding(pid)  # the Prolific ID was stored, before
    with django_capture_on_commit_callbacks(execute=True):
        assert withdrawal.withdraw(participant)
    kept = columns_holding(MARKER)
    assert {
        "interviews_chatmessage.content",
        "values_valuescard.title",
        "graph_wisdomvote.reason",
        "journey_dispute.text",
        "values_canonicalvalue.title",
    } <= set(kept)
    assert columns_holding(pid) == {}
    assert files_holding(pid, Path(settings.VAR_DIR)) == []
