from allauth.account.adapter import DefaultAccountAdapter


class StaffOnlyAccountAdapter(DefaultAccountAdapter):
    """Accounts are for coordinators and auditors, created by an admin.

    Participants never sign up: they come in through the study link and are
    identified by a pseudonymous id bound to their browser session.
    """

    def is_open_for_signup(self, request):
        return False
