"""The study export (long CSVs, wide CSV, graph JSON, codebook) and the
Prolific demographics import."""

import csv
import io
import zipfile

import pytest
from django.core.management import call_command

from journey import exports
from mgeplatform.models import DomainEvent
from studies import services as journey
from studies.models import Participant, ProlificIdentity
from tests.factories import consented_participant, run_interview


@pytest.fixture
def study(db):
    study, _ = journey.seed_case_study()
    return study


@pytest.fixture
def interviewed(study):
    participant, _ = consented_participant(study, "PID-EXPORT-1")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"))
    simulated, _ = consented_participant(study, "PID-SIM")
    Participant.objects.filter(pk=simulated.pk).update(simulated=True)
    return participant, interview


def _rows(path):
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_export_writes_every_file_keyed_by_pseudonymous_id_without_prolific_ids(study, interviewed, tmp_path):
    participant, interview = interviewed
    call_command("export_study", study=study.slug, out=str(tmp_path))
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "participants.csv",
        "messages.csv",
        "cards.csv",
        "votes.csv",
        "relevance.csv",
        "participants_steps.csv",
        "codebook.md",
    } <= names
    assert "prolific_identities.csv" not in names
    messages = _rows(tmp_path / "messages.csv")
    assert {r["participant"] for r in messages} == {str(participant.pk)}
    assert [r["role"] for r in messages][:2] == ["assistant", "user"]
    wide = _rows(tmp_path / "participants.csv")
    assert [r["participant"] for r in wide] == [str(participant.pk)]  # the simulated one is left out
    assert wide[0]["current_step"] == "survey" and wide[0]["scenario"] == "parenting"
    assert float(wide[0]["seconds_interview"]) >= 0
    everything = "".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    assert "PID-EXPORT-1" not in everything
    event = DomainEvent.objects.get(kind="study.exported")
    assert event.payload["identities"] is False and event.payload["files"]["messages.csv"] == len(messages)


def test_identities_only_with_a_reason_which_is_audited(study, interviewed, tmp_path):
    call_command(
        "export_study",
        study=study.slug,
        out=str(tmp_path),
        identities_reason="Paying a bonus on Prolific",
        include_simulated=True,
    )
    identities = _rows(tmp_path / "prolific_identities.csv")
    assert {r["prolific_pid"] for r in identities} == {"PID-EXPORT-1", "PID-SIM"}
    event = DomainEvent.objects.get(kind="study.exported")
    assert event.payload["identities"] is True and event.payload["reason"] == "Paying a bonus on Prolific"


def test_admin_export_refuses_identities_without_a_reason(study, interviewed, coordinator, client):
    client.force_login(coordinator)
    url = f"/admin/studies/study/{study.pk}/export/"
    refused = client.post(url, {"identities": "on", "reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    download = client.post(url, {})
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert "codebook.md" in names and "prolific_identities.csv" not in names


def test_prolific_demographics_are_matched_by_prolific_id(study, interviewed, tmp_path):
    participant, _ = interviewed
    path = tmp_path / "prolific_export.csv"
    path.write_text(
        "Submission id,Participant id,Age,Sex\nsub1,PID-EXPORT-1,34,Female\nsub2,UNKNOWN,50,Male\n", encoding="utf-8"
    )
    call_command("import_demographics", str(path), study=study.slug)
    # Prolific's own identifiers would link the pseudonymous export back to Prolific: not kept.
    assert participant.demographics.data == {"Age": "34", "Sex": "Female"}
    out = tmp_path / "export"
    exports.export_study(study, out)
    wide = _rows(out / "participants.csv")
    assert wide[0]["demographic_Age"] == "34"
    assert "sub1" not in (out / "participants.csv").read_text()
    with pytest.raises(ValueError, match="Participant id"):
        exports.import_demographics(study, b"Age,Sex\n30,F\n", source_name="wrong.csv")
    assert ProlificIdentity.objects.filter(prolific_pid="PID-EXPORT-1").exists()


def test_the_codebook_describes_every_column_written(study, tmp_path):
    import re

    from journey import simulation

    simulation.simulate(study, 8, seed=2)  # votes, ratings, survey answers and the rest
    call_command(
        "export_study",
        study=study.slug,
        out=str(tmp_path),
        include_simulated=True,
        identities_reason="Checking the codebook covers identities too",
    )
    codebook = (tmp_path / "codebook.md").read_text(encoding="utf-8")
    wide_section = codebook.split("## participants.csv", 1)[1].split("\n## ", 1)[0]
    wide_documented = {
        name.strip() for cell in re.findall(r"^\| ([^|]+) \|", wide_section, re.M) for name in cell.split(",")
    }
    undocumented = []
    for path in sorted(tmp_path.glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        if path.name == "participants.csv":
            undocumented += [
                f"{path.name}: {c}"
                for c in header
                if c not in wide_documented and not re.match(r"(seconds|survey|demographic)_", c)
            ]
            continue
        line = (
            next((ln for ln in codebook.splitlines() if ln.startswith(f"| {path.name} |")), None)
            or codebook.split(f"## {path.name}", 1)[-1].split("\n## ", 1)[0]
        )
        undocumented += [f"{path.name}: {c}" for c in header if not re.search(rf"\b{re.escape(c)}\b", line)]
    assert undocumented == []
    assert {"votes.csv", "survey_answers.csv", "ratings.csv", "prolific_identities.csv"} <= {
        p.name for p in tmp_path.glob("*.csv")
    }


def test_wide_csv_shows_the_latest_rating_of_a_rerated_interview(study, interviewed, tmp_path):
    from interviews.models import TranscriptRating

    _, interview = interviewed
    for version, score in (("v1", 2), ("v2", 5)):  # the newer prompt version rates it 5
        TranscriptRating.objects.create(
            interview=interview, kind="ideology", score=score, prompt_version=version, prompt_hash=version
        )
    exports.export_study(study, tmp_path)
    assert _rows(tmp_path / "participants.csv")[0]["ideology_score"] == "5"
    assert [r["score"] for r in _rows(tmp_path / "ratings.csv")] == ["2", "5"]
