import json

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """Every claim of the user's entry in ``IDP_CLAIMS_FILE``, in the ID token and from userinfo,
    whatever the scopes."""

    oidc_claim_scope = None

    def get_additional_claims(self, request):
        with open(settings.IDP_CLAIMS_FILE, encoding="utf-8") as fh:
            return json.load(fh).get(request.user.get_username(), {})
