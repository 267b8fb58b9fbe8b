"""The consent form on the study's admin page (issue 25, item 5): shown when
the study is first added, a new version is editable also on a saved study,
and a saved version is frozen (only "Is active" changes)."""

import re

import pytest
from django.test import Client

from mgeplatform.models import DomainEvent
from studies.models import ConsentDocument, Study

pytestmark = pytest.mark.django_db

CONSENT_TEXT = "You are invited to take part in a study about values.\n\nYou may stop at any time."


@pytest.fixture
def coordinator_client(coordinator):
    client = Client()
    client.force_login(coordinator, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _study_fields(**changes):
    return {
        "title": "Screens at home",
        "slug": "screens-at-home",
        "status": "draft",
        "description": "",
        "stuck_after_minutes": "10",
        "stories_per_participant": "3",
        "withdrawal_policy": "delete_content",
        "scenarios-TOTAL_FORMS": "0",
        "scenarios-INITIAL_FORMS": "0",
        **changes,
    }


def _consent_form(index, *, version, text, irb="", active=True, pk=None, study=None):
    prefix = f"consent_documents-{index}-"
    data = {prefix + "version_label": version, prefix + "irb_protocol_id": irb, prefix + "text": text}
    if active:
        data[prefix + "is_active"] = "on"
    if pk is not None:
        data[prefix + "id"], data[prefix + "study"] = str(pk), str(study)
    return data


def _field(html, name) -> str:
    """The opening tag of the form field `name`."""
    found = re.search(rf'<(?:input|textarea)[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert found, f"no field {name}"
    return found.group(0)


def test_the_add_page_has_the_consent_form_ready_to_fill_in(coordinator_client):
    html = coordinator_client.get("/admin/studies/study/add/").content.decode()
    assert "Consent form" in html
    for name in ("version_label", "irb_protocol_id", "text"):
        assert "disabled" not in _field(html, f"consent_documents-0-{name}")


def test_a_study_is_added_with_its_consent_form_in_one_save(coordinator_client, coordinator):
    data = {
        **_study_fields(),
        "consent_documents-TOTAL_FORMS": "1",
        "consent_documents-INITIAL_FORMS": "0",
        **_consent_form(0, version="v1", irb="IRB-2026-17", text=CONSENT_TEXT),
    }
    response = coordinator_client.post("/admin/studies/study/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    study = Study.objects.get(slug="screens-at-home")
    document = study.consent_documents.get()
    assert (document.version_label, document.irb_protocol_id, document.text) == ("v1", "IRB-2026-17", CONSENT_TEXT)
    assert document.is_active and document.content_hash
    event = DomainEvent.objects.get(kind="consent.published", study_slug=study.slug)
    assert event.actor_user == coordinator and event.payload["version"] == "v1"


def test_leaving_the_consent_form_empty_on_the_add_page_adds_the_study_alone(coordinator_client):
    data = {
        **_study_fields(),
        "consent_documents-TOTAL_FORMS": "1",
        "consent_documents-INITIAL_FORMS": "0",
        "consent_documents-0-is_active": "on",
    }
    assert coordinator_client.post("/admin/studies/study/add/", data).status_code == 302
    assert not Study.objects.get(slug="screens-at-home").consent_documents.exists()


def test_a_saved_version_is_frozen_and_a_new_one_is_editable_on_a_saved_study(coordinator_client, study):
    old = study.consent_documents.get()
    html = coordinator_client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    for name in ("version_label", "irb_protocol_id", "text"):
        assert "disabled" in _field(html, f"consent_documents-0-{name}"), name  # the saved version
        # "Add another": the blank version's fields are editable.
        assert "disabled" not in _field(html, f"consent_documents-__prefix__-{name}"), name
    assert "disabled" not in _field(html, "consent_documents-0-is_active")

    data = {
        **_study_fields(
            title=study.title,
            slug=study.slug,
            status=study.status,
            scripted_interviewer_ok="on",
            description=study.description,
        ),
        "consent_documents-TOTAL_FORMS": "2",
        "consent_documents-INITIAL_FORMS": "1",
        # A posted change to the saved version's text is ignored; unticking "Is active" is kept.
        **_consent_form(0, version="hacked", text="Changed in place", active=False, pk=old.pk, study=study.pk),
        **_consent_form(1, version="v2", irb="IRB-2026-18", text=CONSENT_TEXT),
    }
    response = coordinator_client.post(f"/admin/studies/study/{study.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    frozen = ConsentDocument.objects.get(pk=old.pk)
    assert (frozen.version_label, frozen.text) == (old.version_label, old.text) and not frozen.is_active
    new = study.consent_documents.get(version_label="v2")
    assert new.text == CONSENT_TEXT and new.irb_protocol_id == "IRB-2026-18" and new.is_active
    # Participants now see the new version.
    from studies.selectors import current_consent

    assert current_consent(study) == new


def test_a_new_version_with_a_label_already_used_gets_a_clear_error_and_nothing_is_saved(coordinator_client, study):
    old = study.consent_documents.get()
    data = {
        **_study_fields(
            title="Renamed",
            slug=study.slug,
            status=study.status,
            scripted_interviewer_ok="on",
            description=study.description,
        ),
        "consent_documents-TOTAL_FORMS": "2",
        "consent_documents-INITIAL_FORMS": "1",
        **_consent_form(0, version=old.version_label, text=old.text, pk=old.pk, study=study.pk),
        **_consent_form(1, version=old.version_label, text="Other words"),
    }
    response = coordinator_client.post(f"/admin/studies/study/{study.pk}/change/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html and "Other words" in html  # the form again, with what they wrote
    study.refresh_from_db()
    assert study.title != "Renamed" and study.consent_documents.count() == 1
