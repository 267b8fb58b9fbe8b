"""No page sends anyone off the site except to Prolific's completion URL:
a `next` pointing elsewhere is ignored at sign-in and on the study pages."""

from urllib.parse import urlparse

import pytest
from django.test import Client

from tests.factories import PROLIFIC, enter

EVIL = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example"]


def _offsite(location: str) -> bool:
    parsed = urlparse(location)
    return bool(parsed.netloc) or location.startswith(("//", "/\\")) or (parsed.scheme and not parsed.netloc)


@pytest.mark.parametrize("target", EVIL)
def test_sign_in_never_follows_next_off_the_site(coordinator, target):
    response = Client().post(
        f"/accounts/login/?next={target}", {"login": "coord@example.org", "password": "x-coord-pass-1"}
    )
    assert response.status_code == 302
    assert not _offsite(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_study_pages_ignore_next(study, target):
    client = Client()
    response = client.get(f"/s/{study.slug}/", {**PROLIFIC, "next": target})
    assert response.status_code == 302 and not _offsite(response["Location"])
    for path in ("consent", "journey", "withdraw"):
        answer = client.get(f"/s/{study.slug}/{path}/", {"next": target})
        assert answer.status_code in (200, 302)
        assert answer.status_code == 200 or not _offsite(answer["Location"])


def test_the_only_way_off_the_site_is_prolifics_completion_url(study, settings):
    from studies import steps
    from studies.models import Participant, Step

    settings.PROLIFIC_COMPLETION_URL = "https://app.prolific.example/submissions/complete?cc={code}"
    client = Client()
    enter(client, study, **PROLIFIC)
    participant = Participant.objects.get()
    steps.move(participant, Step.DECLINED)
    declined = client.get(f"/s/{study.slug}/journey/", {"next": EVIL[0]})
    # Declining goes back to Prolific with the no-consent code, to Prolific's host only.
    assert declined.status_code == 302
    assert urlparse(declined["Location"]).netloc == "app.prolific.example"
