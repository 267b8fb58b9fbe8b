"""Studies in many languages, first slice (issue 27): the participant's
pages are in one of the study's languages, chosen on entry from ?lang=, the
browser's Accept-Language or the study's first, and switchable until the
interview starts. Staff pages stay in English."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from interviews import services as chat
from studies import languages, services
from studies.models import Participant, Step
from tests.factories import PROLIFIC, enter


@pytest.fixture
def multilingual(study):
    study.languages = ["en", "es", "ar"]
    study.save(update_fields=["languages"])
    return study


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.content.decode()).group(0)


def test_lang_in_the_link_is_stored_and_the_consent_page_is_spanish(multilingual):
    browser = Client()
    consent = browser.get(enter(browser, multilingual, lang="es", **PROLIFIC).url)
    assert Participant.objects.get().language == "es"
    assert 'lang="es"' in html_tag(consent) and 'dir="ltr"' in html_tag(consent)
    page = consent.content.decode()
    # The buttons are Spanish; the consent text itself is the coordinator's, as written.
    assert ">Acepto y quiero participar</button>" in page and ">I agree and want to take part</button>" not in page
    assert 'id="language-switcher"' in page  # several languages, before the interview


def test_accept_language_arabic_gives_a_right_to_left_page(multilingual):
    browser = Client(HTTP_ACCEPT_LANGUAGE="ar-EG,ar;q=0.9,en;q=0.5")
    consent = browser.get(enter(browser, multilingual, **PROLIFIC).url)
    assert Participant.objects.get().language == "ar"
    assert 'lang="ar"' in html_tag(consent) and 'dir="rtl"' in html_tag(consent)
    assert "أوافق وأرغب في المشاركة" in consent.content.decode()


def test_a_language_the_study_does_not_offer_falls_back_to_its_first(study):
    study.languages = ["es", "en"]
    study.save(update_fields=["languages"])
    browser = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    consent = browser.get(enter(browser, study, lang="ar", **PROLIFIC).url)
    assert Participant.objects.get().language == "es"
    assert 'lang="es"' in html_tag(consent)


def test_an_english_only_study_shows_no_switcher(study):
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")
    consent = browser.get(enter(browser, study, lang="es", **PROLIFIC).url)
    assert Participant.objects.get().language == "en"
    assert 'lang="en"' in html_tag(consent) and "language-switcher" not in consent.content.decode()


def test_the_switch_works_before_the_interview_and_is_refused_after(multilingual):
    browser = Client()
    consent_url = enter(browser, multilingual, lang="es", **PROLIFIC).url
    switched = browser.post(f"/s/{multilingual.slug}/language/", {"language": "en", "next": consent_url})
    assert switched.status_code == 302 and switched.url == consent_url
    participant = Participant.objects.get()
    assert participant.language == "en"
    assert "I agree and want to take part" in browser.get(consent_url).content.decode()

    services.record_consent(participant=participant, consent=multilingual.consent_documents.get(), accepted=True)
    chat.choose_scenario(participant=participant, scenario=multilingual.scenarios.get(key="parenting"))
    participant.refresh_from_db()
    assert participant.current_step == Step.INTERVIEW
    refused = browser.post(f"/s/{multilingual.slug}/language/", {"language": "es"})
    assert refused.status_code == 409
    participant.refresh_from_db()
    assert participant.language == "en"
    page = browser.get(f"/s/{multilingual.slug}/journey/")
    assert "language-switcher" not in page.content.decode()


def test_study_languages_are_checked_against_what_the_platform_ships():
    languages.validate_languages(["en", "zh-hans"])
    with pytest.raises(ValidationError):
        languages.validate_languages(["en", "fr"])
    with pytest.raises(ValidationError):
        languages.validate_languages([])
    assert languages.clean_languages(["zh", "es-ES", "AR"]) == ["zh-hans", "es", "ar"]
