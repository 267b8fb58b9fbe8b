"""Follow-up links are built on SITE_URL. Left at its development default
(localhost) on a real deployment, participants would get links to
localhost: a system check warns about it, and the study console warns
when SITE_URL is not the address the console was opened at."""

import pytest
from django.core.management import call_command
from django.test import Client

from mgeplatform.checks import check_site_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("site_url", ["http://localhost:8000", "", "http://127.0.0.1"])
def test_system_check_warns_about_a_local_site_url_outside_development(settings, site_url):
    settings.DEBUG, settings.DEV, settings.SITE_URL = False, False, site_url
    warnings = check_site_url()
    assert [w.id for w in warnings] == ["mge.W001"]
    assert "follow-up links" in warnings[0].msg


def test_system_check_is_quiet_with_a_public_site_url_or_in_development(settings):
    settings.DEBUG, settings.DEV, settings.SITE_URL = False, False, "https://mge.example.org"
    assert check_site_url() == []
    settings.DEV, settings.SITE_URL = True, "http://localhost:8000"
    assert check_site_url() == []


def test_manage_py_check_reports_the_warning(settings, capsys):
    settings.DEBUG, settings.DEV, settings.SITE_URL = False, False, "http://localhost:8000"
    call_command("check")
    assert "mge.W001" in capsys.readouterr().err


def _console(study, coordinator, host):
    client = Client(HTTP_HOST=host)
    client.force_login(coordinator)
    response = client.get(f"/admin/studies/study/{study.pk}/console/")
    assert response.status_code == 200
    return response.content.decode()


def test_console_warns_when_site_url_is_another_host(study, coordinator, settings):
    settings.ALLOWED_HOSTS = ["mge.example.org", "testserver"]
    settings.SITE_URL = "http://localhost:8000"
    html = _console(study, coordinator, "mge.example.org")
    assert 'id="site-url-alert"' in html
    assert "SITE_URL is http://localhost:8000, but this console is at http://mge.example.org" in html


def test_console_is_quiet_when_site_url_is_this_host(study, coordinator, settings):
    settings.ALLOWED_HOSTS = ["mge.example.org", "testserver"]
    settings.SITE_URL = "http://mge.example.org/"
    assert 'id="site-url-alert"' not in _console(study, coordinator, "mge.example.org")


def test_console_takes_localhost_and_127_0_0_1_for_the_same_machine(study, coordinator, settings):
    settings.SITE_URL = "http://localhost:8000"
    assert 'id="site-url-alert"' not in _console(study, coordinator, "127.0.0.1:8000")
    assert 'id="site-url-alert"' in _console(study, coordinator, "127.0.0.1:9000")  # another port: another server
