from django.utils.functional import SimpleLazyObject

from .identity import identity_for


def acting_organisation(request):
    """The acting organisation and the switcher's choices, for the header of every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def choices():
        identity = identity_for(request)
        return identity.acting_choices() if identity is not None else []

    return {"acting": getattr(request, "acting", None), "acting_choices": SimpleLazyObject(choices)}
