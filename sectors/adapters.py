from allauth.account.adapter import DefaultAccountAdapter


class StaffOnlyAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff accounts are created by administrators and invited by e-mail."""

    def is_open_for_signup(self, request) -> bool:
        return False
