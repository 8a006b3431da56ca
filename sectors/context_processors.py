from django.utils.functional import SimpleLazyObject

from .selectors import user_acting_choices


def acting_organisation(request):
    """The acting organisation and the switcher's choices, for the header of every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "acting": getattr(request, "acting", None),
        "acting_choices": SimpleLazyObject(lambda: user_acting_choices(user=user)),
    }
