"""Prolific's "Language" demographic beside the language a participant chose on entry
(issue 27): on the participant list, the participant's page and their trail, once imported;
Prolific's placeholders count as missing."""

from django.core.management import call_command
from django.test import Client

from studies.models import Participant
from tests.factories import PROLIFIC, enter


def _entered(study, pid, language):
    enter(Client(), study, PROLIFIC_PID=pid, STUDY_ID=PROLIFIC["STUDY_ID"], SESSION_ID=f"s-{pid}", lang=language)
    return Participant.objects.get(prolific_identity__prolific_pid=pid)


def test_the_coordinator_sees_prolifics_language_beside_the_one_chosen(study, coordinator, tmp_path):
    study.languages = ["en", "es"]
    study.save()
    speaker = _entered(study, "PID-ES", "es")
    revoked = _entered(study, "PID-REVOKED", "en")
    client = Client()
    client.force_login(coordinator)
    before = client.get(f"/admin/studies/participant/{speaker.pk}/change/").content.decode()
    assert "Prolific: " not in before and "not imported or missing" in before

    export = tmp_path / "prolific_export.csv"
    export.write_text(
        "Participant id,Age,Language\nPID-ES,29,Spanish\nPID-REVOKED,41,CONSENT_REVOKED\n", encoding="utf-8"
    )
    call_command("import_demographics", str(export), study=study.slug)

    listing = client.get(f"/admin/studies/participant/?study__id__exact={study.pk}").content.decode()
    assert "es (Prolific: Spanish)" in listing
    page = client.get(f"/admin/studies/participant/{speaker.pk}/change/").content.decode()
    assert "es (Prolific: Spanish)" in page
    # The trail's language section: the choice and Prolific's answer side by side.
    trail = page.split('id="trail"', 1)[1]
    assert "<td>es</td><td>Spanish</td>" in trail
    # A placeholder is no language: only the chosen one is shown.
    other = client.get(f"/admin/studies/participant/{revoked.pk}/change/").content.decode()
    assert "CONSENT_REVOKED" not in other and "Prolific: " not in other
    assert "<td>en</td><td>not imported or missing</td>" in other.split('id="trail"', 1)[1]
    # The list filters by the chosen language.
    spanish = client.get(f"/admin/studies/participant/?study__id__exact={study.pk}&language__exact=es")
    assert "PID-ES" not in spanish.content.decode()  # pseudonymous: the Prolific id is never listed
    assert spanish.context["cl"].result_count == 1
