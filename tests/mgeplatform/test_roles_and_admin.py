"""Who can reach the admin, and what each role may do there."""

from django.test import Client

from studies.models import Study
from tests.factories import enter


def _login(user, password):
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def test_participant_session_cannot_reach_admin(study, participant_client):
    for url in ("/admin/", "/admin/studies/participant/", f"/admin/studies/study/{study.pk}/change/"):
        response = participant_client.get(url, follow=True)
        assert response.request["PATH_INFO"] == "/accounts/login/"
        assert "Studies" not in response.content.decode()


def test_nobody_can_sign_up(db):
    response = Client().post(
        "/accounts/signup/", {"email": "x@example.org", "password1": "abcdefgh123!", "password2": "abcdefgh123!"}
    )
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(email="x@example.org").exists()
    assert response.status_code in (200, 403)


def test_staff_logs_in_with_email_and_reaches_admin(coordinator):
    client = _login(coordinator, "x-coord-pass-1")
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Studies" in response.content.decode()


def test_admin_login_form_goes_through_allauth(db):
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_mfa_totp_is_available_to_staff(coordinator):
    client = _login(coordinator, "x-coord-pass-1")
    response = client.get("/accounts/2fa/totp/activate/")
    if response.status_code == 302 and "reauthenticate" in response["Location"]:
        client.post(response["Location"], {"password": "x-coord-pass-1"})
        response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    assert "authenticator" in response.content.decode().lower()


def test_coordinator_can_edit_a_study(study, coordinator):
    client = _login(coordinator, "x-coord-pass-1")
    page = client.get(f"/admin/studies/study/{study.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' in page.content.decode()
    data = {
        "title": "Renamed",
        "slug": study.slug,
        "status": "open",
        "description": "",
        "require_prolific": "",
        "scripted_interviewer_ok": "on",
        "stuck_after_minutes": "10",
        "stories_per_participant": "3",
        "withdrawal_policy": "delete_content",
        "completion_code_completed": "A",
        "completion_code_no_consent": "B",
        "completion_code_screened_out": "C",
        "completion_code_failed_attention": "D",
        "llm_provider": "",
        "llm_model": "",
        "llm_base_url": "",
        "scenarios-TOTAL_FORMS": "0",
        "scenarios-INITIAL_FORMS": "0",
        "consent_documents-TOTAL_FORMS": "0",
        "consent_documents-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/studies/study/{study.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    study.refresh_from_db()
    assert study.title == "Renamed"


def test_auditor_reads_everything_but_changes_nothing(study, auditor, participant_client):
    client = _login(auditor, "x-audit-pass-1")
    for url in (
        "/admin/studies/study/",
        f"/admin/studies/study/{study.pk}/change/",
        "/admin/studies/participant/",
        "/admin/studies/consentrecord/",
        "/admin/mgeplatform/domainevent/",
        "/admin/pghistory/events/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    change_page = client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    assert 'name="_save"' not in change_page
    response = client.post(f"/admin/studies/study/{study.pk}/change/", {"title": "Hacked", "slug": study.slug})
    assert response.status_code == 403
    assert client.get("/admin/studies/study/add/").status_code == 403
    assert client.post(f"/admin/studies/study/{study.pk}/delete/", {"post": "yes"}).status_code == 403
    study.refresh_from_db()
    assert study.title != "Hacked"
    assert Study.objects.filter(pk=study.pk).exists()


def test_coordinators_cannot_edit_the_audit_trail(study, coordinator):
    from mgeplatform.models import DomainEvent

    event = DomainEvent.objects.first()
    client = _login(coordinator, "x-coord-pass-1")
    page = client.get(f"/admin/mgeplatform/domainevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/mgeplatform/domainevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403


def test_admin_lists_filter_participants_by_study_and_step(study, coordinator, prolific_params):
    enter(Client(), study, **prolific_params)
    client = _login(coordinator, "x-coord-pass-1")
    response = client.get(f"/admin/studies/participant/?study__id__exact={study.pk}&current_step__exact=consent")
    assert response.status_code == 200
    assert "1 participant" in response.content.decode()
