"""Across the apps: every admin page of rows about a citizen is built on the one gated, logging
base (``smartcare.admin``), so none shows a citizen's data without an access-log entry."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from citizens.models import Citizen
from smartcare.admin import CitizenRowsMixin


def _about_a_citizen(model: type[models.Model], depth: int = 3) -> bool:
    if model is Citizen:
        return True
    if depth == 0:
        return False
    return any(
        field.many_to_one and field.related_model is not model and _about_a_citizen(field.related_model, depth - 1)
        for field in model._meta.get_fields()
    )


def test_every_admin_page_about_citizens_logs_what_it_shows():
    pages = {model: model_admin for model, model_admin in admin.site._registry.items() if _about_a_citizen(model)}

    assert len(pages) >= 15  # citizens, stays, ..., care plans, ..., messages, ...
    unlogged = sorted(
        model._meta.label for model, model_admin in pages.items() if not isinstance(model_admin, CitizenRowsMixin)
    )
    assert unlogged == []
