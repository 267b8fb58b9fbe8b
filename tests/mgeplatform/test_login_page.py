"""Staff sign in on a page in the site's own style, with no sign-up link
(sign-up is closed: accounts are made by an administrator)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_login_page_has_no_sign_up_link_and_the_site_style():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Staff sign-in" in html
    assert "/accounts/signup/" not in html and "sign up first" not in html.lower()
    assert "mge/base.css" in html  # the site's own look, not allauth's bare page
    assert '<label for="id_login">Email</label>' in html and '<label for="id_password">Password</label>' in html


def test_admin_sends_staff_to_this_page_and_signing_in_works(coordinator):
    client = Client()
    page = client.get("/admin/", follow=True)
    assert page.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "Staff sign-in" in page.content.decode()
    response = client.post(page.redirect_chain[-1][0], {"login": coordinator.email, "password": "x-coord-pass-1"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_password_is_said_plainly(coordinator):
    response = Client().post("/accounts/login/", {"login": coordinator.email, "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "not correct" in html
