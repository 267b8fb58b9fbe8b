"""The console's Representativeness box: the sample against the study's
target as it fills, and how to set a target when there is none."""

import re
from html import unescape
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from studies import services
from studies.models import ProlificDemographics

pytestmark = pytest.mark.django_db
PARTY = "U.s. political affiliation"


def _box(coordinator, study) -> tuple[str, str]:
    client = Client()
    client.force_login(coordinator, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(f"/admin/studies/study/{study.pk}/console/")
    assert response.status_code == 200
    html = re.search(
        r'<section[^>]*id="console-representativeness".*?</section>', response.content.decode(), re.S
    ).group(0)
    return html, re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _cells(html, attribute, category) -> dict:
    """What the table says of one category (its sample and target shares) and of its attribute (TVD, missing)."""
    rows = re.findall(rf'<tr data-attribute="{re.escape(attribute)}" data-category="([^"]*)">(.*?)</tr>', html, re.S)

    def cell(row, name):
        found = re.search(rf'<td class="num {name}"[^>]*>(.*?)</td>', row, re.S)
        return found.group(1).strip() if found else None

    mine = next(row for cat, row in rows if cat == category)
    every = "".join(row for _, row in rows)
    return {
        "sample": cell(mine, "sample"),
        "target": cell(mine, "target"),
        "tvd": cell(every, "tvd"),
        "missing": cell(every, "missing"),
    }


def _person(study, party, sex="Female", age="35"):
    p = services.create_participant(study, via="link")
    ProlificDemographics.objects.create(participant=p, source_name="t.csv", data={"Age": age, "Sex": sex, PARTY: party})
    return p


def test_without_a_target_the_box_says_how_to_set_one(study, coordinator):
    _, text = _box(coordinator, study)
    assert "No target population is set for this study" in text
    assert f"python manage.py weight_study --study {study.slug} --target us-adults" in text
    assert "import_demographics" in text


def test_the_box_compares_the_sample_with_the_shipped_target_as_it_fills(study, coordinator):
    # 5 Democrats, 2 Republicans, 2 Independents and one "No preference" (the target's Other), weighed to
    # us-adults; ages and sexes cover every category.
    ages, sexes = ["22", "35", "50", "70"], ["Male", "Female"]
    for i, party in enumerate(["Democrat"] * 5 + ["Republican"] * 2 + ["Independent"] * 2 + ["No preference"]):
        _person(study, party, sexes[i % 2], ages[i % 4])
    call_command("weight_study", "--study", study.slug, "--target", "us-adults", "--json", stdout=StringIO())
    # Then the sample fills: two placeholders and a blank (missing), and one without any demographics.
    for party in ["CONSENT_REVOKED", "DATA_EXPIRED", ""]:
        _person(study, party)
    services.create_participant(study, via="link")

    html, text = _box(coordinator, study)
    assert "Target: us-adults" in text
    assert (
        "14 participants counted now, 10 with every attribute; 4 missing at least one (1 with no demographics" in text
    )
    # Party: 5/10 Democrats against 0.27; TVD ½(|.5−.27| + |.2−.27| + |.2−.43| + |.1−.03|) = 0.30
    assert _cells(html, PARTY, "Democrat") == {"sample": "0.500", "target": "0.270", "tvd": "0.300", "missing": "4"}
    assert _cells(html, PARTY, "Other") == {"sample": "0.100", "target": "0.030", "tvd": "0.300", "missing": "4"}
    # Sex: 13 answers (5 + 3 Female, 5 Male) and one missing: 8/13 = 0.615 against 0.51, TVD 0.105.
    assert _cells(html, "Sex", "Female") == {"sample": "0.615", "target": "0.510", "tvd": "0.105", "missing": "1"}
    # The categories read in the target's order.
    assert re.findall(rf'data-attribute="{PARTY}" data-category="([^"]*)"', html) == [
        "Democrat",
        "Republican",
        "Independent",
        "Other",
    ]
    # The run (10 weighted) made a Kish effective N below 10 and a design effect above 1.
    weights_line = re.search(
        r"Kish effective N ([\d.]+) , design effect ([\d.]+) \(10 of 10 participants weighted", text
    )
    assert weights_line and float(weights_line.group(1)) < 10 and float(weights_line.group(2)) > 1
    gri = float(re.search(r"GRI-style score \(mean over attributes\): ([\d.]+) \.", text).group(1))
    assert 0 < gri < 1 - 0.30 / 3  # party alone takes 0.30 / 3 off
