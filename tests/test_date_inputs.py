"""Date and time inputs carry ISO values in every language: the browser's pickers show nothing else,
and a value they cannot show is saved as empty (an unchanged edit form erased onset dates)."""

import datetime
import importlib
import pkgutil
import re

import pytest
from django import forms
from django.utils import timezone, translation

from smartcare.forms import DateInput, DateTimeLocalInput

APPS = ("sectors", "citizens", "careplans", "messaging", "smartcare")


def _project_forms() -> list[type[forms.Form]]:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.iter_modules(package.__path__):
            if module.name.startswith("forms"):
                importlib.import_module(f"{app}.{module.name}")
    found, todo = [], [forms.Form]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in APPS:
            found.append(cls)
    return found


def _value(html: str, name: str) -> str:
    match = re.search(rf'<input type="(?:date|datetime-local)" name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, html
    return match.group(1)


def test_every_date_field_of_every_form_uses_the_iso_widgets():
    project_forms = _project_forms()
    assert len(project_forms) > 20
    checked = 0
    for form_class in project_forms:
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.DateTimeField):
                assert type(field.widget) is DateTimeLocalInput, f"{form_class.__name__}.{name}"
                checked += 1
            elif isinstance(field, forms.DateField):
                assert type(field.widget) is DateInput, f"{form_class.__name__}.{name}"
                checked += 1
    assert checked >= 10


@pytest.mark.django_db
def test_condition_onset_date_renders_iso_in_danish():
    from citizens.forms import ConditionFormSetFactory

    with translation.override("da"):
        formset = ConditionFormSetFactory(prefix="conditions", initial=[{"onset_date": datetime.date(2020, 3, 15)}])
        html = str(formset.forms[0]["onset_date"])
    assert _value(html, "conditions-0-onset_date") == "2020-03-15"


def test_bound_and_initial_dates_render_iso_in_danish():
    from careplans.forms import TeamEndForm
    from citizens.forms import AccessReportFilterForm

    with translation.override("da"):
        initial = str(TeamEndForm(initial={"end_date": datetime.date(2025, 12, 24)})["end_date"])
        bound = AccessReportFilterForm({"since": "2025-01-02", "until": "2025-02-03"})
        assert bound.is_valid(), bound.errors
        bound_html = str(bound["since"])
    assert _value(initial, "end_date") == "2025-12-24"
    assert _value(bound_html, "since") == "2025-01-02"


def test_datetime_local_renders_iso_in_danish_and_parses_back():
    from messaging.forms_ops import HospitalEventCorrectForm

    when = timezone.make_aware(datetime.datetime(2025, 3, 4, 5, 6))
    with translation.override("da"):
        html = str(HospitalEventCorrectForm(initial={"occurred_at": when})["occurred_at"])
        form = HospitalEventCorrectForm({"occurred_at": _value(html, "occurred_at")})
        assert form.is_valid(), form.errors
    assert _value(html, "occurred_at") == "2025-03-04T05:06"
    assert form.cleaned_data["occurred_at"] == when
