from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class StaffOnlyAccountAdapter(DefaultAccountAdapter):
    """Accounts are for coordinators and auditors, created by an admin.

    Participants never sign up: they come in through the study link and are
    identified by a pseudonymous id bound to their browser session.
    """

    def is_open_for_signup(self, request):
        return False

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth counts failed logins per account; we count them per account
        # *and* address, so a stranger who knows a staff email cannot lock its
        # owner out: the right password from another address still works.
        # (A private hook of allauth; test_auth_hardening checks it still applies.)
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"


def shorten_staff_sessions(sender, request, user, **kwargs):
    """Staff sessions last STAFF_SESSION_AGE, not the participants' month."""
    if user.is_staff and request is not None and hasattr(request, "session"):
        request.session.set_expiry(settings.STAFF_SESSION_AGE)
