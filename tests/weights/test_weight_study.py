"""weight_study on real Postgres: a sample skewed 60/20/20 on party weighted to us-adults."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from journey import withdrawal
from studies import services
from studies.models import ProlificDemographics
from weights.models import ParticipantWeight
from weights.targets import load

PARTY = "U.s. political affiliation"


def _people(study):
    # 60 Democrats, 20 Republicans, 20 Independents; ages and sexes spread so every target cell is present;
    # plus 5 whose party is a placeholder or blank (missing).
    made = []
    parties = ["Democrat"] * 60 + ["Republican"] * 20 + ["Independent"] * 18 + ["Other"] * 2
    ages = ["22", "35", "50", "70"]
    for i, party in enumerate(parties + ["CONSENT_REVOKED", "DATA_EXPIRED", "", "CONSENT_REVOKED", ""]):
        p = services.create_participant(study, via="link")
        ProlificDemographics.objects.create(
            participant=p,
            source_name="t.csv",
            data={"Age": ages[i % 4], "Sex": ["Male", "Female"][(i // 4) % 2], PARTY: party},
        )
        made.append(p)
    return made


@pytest.mark.django_db
def test_weighting_a_skewed_study_meets_the_target_and_reports_the_shape(study):
    people = _people(study)
    out = StringIO()
    call_command("weight_study", "--study", study.slug, "--target", "us-adults", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert set(report) == {"attributes", "missing", "tvd", "gri", "effective_n", "design_effect", "weights"}
    assert report["missing"] == {"Age": 0, "Sex": 0, PARTY: 5}
    target = load("us-adults")
    for attribute, shares in target.margins.items():
        for category, share in shares.items():
            cell = report["attributes"][attribute][category]
            assert cell["target"] == share
            assert abs(cell["weighted"] - share) < 0.005, (attribute, category, cell)
    assert report["attributes"][PARTY]["Democrat"]["sample"] == pytest.approx(0.6)
    assert report["tvd"][PARTY] == pytest.approx(0.5 * (0.33 + 0.07 + 0.25 + 0.01))
    assert len(report["weights"]) == 100 and report["design_effect"] > 1
    assert report["effective_n"] == pytest.approx(100 / report["design_effect"])
    assert ParticipantWeight.objects.filter(run__study=study).count() == 100

    withdrawn = people[0]
    assert ParticipantWeight.objects.filter(participant=withdrawn).exists()
    withdrawal.withdraw(withdrawn)
    assert not ParticipantWeight.objects.filter(participant=withdrawn).exists()


@pytest.mark.django_db
def test_trim_caps_the_stored_weights(study):
    _people(study)
    call_command("weight_study", "--study", study.slug, "--target", "us-adults", "--trim", "2", stdout=StringIO())
    weights = list(ParticipantWeight.objects.values_list("weight", flat=True))
    assert max(weights) <= 2 * (sum(weights) / len(weights)) + 1e-6


@pytest.mark.django_db
def test_the_export_writes_weights_csv_once_weighted(study, tmp_path):
    from journey import exports

    _people(study)
    assert "weights.csv" not in exports.export_study(study, tmp_path / "before")
    call_command("weight_study", "--study", study.slug, "--target", "us-adults", stdout=StringIO())
    written = exports.export_study(study, tmp_path / "after")
    assert written["weights.csv"] == 100
    header, first = (tmp_path / "after" / "weights.csv").read_text().splitlines()[:2]
    assert header == "participant_id,weight,cell"
    assert "Age=" in first and float(first.split(",")[1]) > 0
