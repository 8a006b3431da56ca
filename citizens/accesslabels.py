"""What the access log's "what" column says, in the reader's language.

The log stores what was read as a short English code ("overview", "api goal list", "threshold
8480-6 v2"): entries are hash-chained and must read the same whatever the language. The report
pages show a translated label instead. Each app registers the labels of the codes it writes, as
it registers its access relationships; a code without a label is shown as stored.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from functools import cache

from django.apps import apps
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .choices import ObjectionTarget

PatternLabel = Callable[[re.Match[str]], "str | None"]

_EXACT: dict[str, str | Promise] = {}
_PATTERNS: list[tuple[re.Pattern[str], PatternLabel]] = []


def register_details(labels: dict[str, str | Promise]) -> None:
    """Labels of codes stored exactly as given."""
    _EXACT.update(labels)


def register_detail_pattern(pattern: str) -> Callable[[PatternLabel], PatternLabel]:
    """A label for codes matching ``pattern`` (the whole code); the function may return None
    when the match is not one of its codes after all."""

    def decorator(label: PatternLabel) -> PatternLabel:
        _PATTERNS.append((re.compile(pattern), label))
        return label

    return decorator


def detail_label(detail: str) -> str:
    """The code's label in the active language, or the code itself when it has none."""
    label = _label(detail)
    return detail if label is None else label


def has_detail_label(detail: str) -> bool:
    return _label(detail) is not None


def _label(detail: str) -> str | None:
    if detail in _EXACT:
        return str(_EXACT[detail])
    for pattern, label in _PATTERNS:
        match = pattern.fullmatch(detail)
        if match and (text := label(match)) is not None:
            return text
    return None


def choice_label(choices, value: str) -> str:
    """The label of a stored choice value, or the value when it is no longer a choice."""
    return str(dict(choices.choices).get(value, value))


@cache
def _models() -> dict[str, type]:
    return {model._meta.model_name: model for model in apps.get_models()}


def _model_name(name: str, *, plural: bool) -> str | None:
    """A model's name in the reader's language: the admin and the API log "admin careplan list",
    "api hospital-event detail" (the model's name, or the API's name of it)."""
    model = _models().get(name.replace("-", ""))
    if model is None:
        return None
    return str(model._meta.verbose_name_plural if plural else model._meta.verbose_name)


# --- the citizens app's own codes -------------------------------------------------------------

register_details(
    {
        "overview": _("the overview"),
        "dashboard": _("the work overview (dashboard)"),
        "citizen list": _("the citizen list"),
        "search hit": _("a search"),
        "epj launch": _("a link from an EPJ"),
        "access report": _("who has seen the data"),
        "edit form": _("the edit form"),
        "consent and objections": _("consent and objections"),
        "withdraw objection": _("withdrawing an objection"),
        "no change": _("no change"),
        "registration refused: registered by another organisation": _(
            "registration refused: registered by another organisation"
        ),
        "registered from a hospital notification": _("registered from a hospital notification"),
        "registered from a message": _("registered from a message"),
        "replacement number added": _("replacement number added"),
        "replacement number added from a message": _("replacement number added from a message"),
    }
)

CHANGED_EXTRA = {"conditions": _("conditions"), "contact_persons": _("contact persons")}
CONSENT_STATES = {
    "True": pgettext_lazy("consent", "given"),
    "False": pgettext_lazy("consent", "refused"),
    "None": pgettext_lazy("consent", "not recorded"),
}


def _model_label(text: Promise, *, plural: bool) -> PatternLabel:
    def label(match: re.Match[str]) -> str | None:
        name = _model_name(match["model"], plural=plural)
        return str(text) % {"name": name} if name else None

    return label


for _pattern, _text, _plural in (
    (r"admin (?P<model>[\w-]+) list", _("administration: list of %(name)s"), True),
    (r"admin (?P<model>[\w-]+)", _("administration: %(name)s"), False),
    (r"api (?P<model>[\w-]+) list", _("API: list of %(name)s"), True),
    (r"api (?P<model>[\w-]+) detail", _("API: %(name)s"), False),
):
    register_detail_pattern(_pattern)(_model_label(_text, plural=_plural))


@register_detail_pattern(r"until (?P<when>\d{4}-\d{2}-\d{2} \d{2}:\d{2})")
def _break_glass_until(match: re.Match[str]) -> str:
    """Break-the-glass access: the end is stored in UTC (the service writes ``timezone.now()``)."""
    when = datetime.datetime.strptime(match["when"], "%Y-%m-%d %H:%M").replace(tzinfo=datetime.UTC)
    local = timezone.localtime(when)
    return gettext("access until %(when)s") % {"when": formats.date_format(local, "SHORT_DATETIME_FORMAT")}


@register_detail_pattern(r"merged [0-9a-f-]{36} into [0-9a-f-]{36}:.*")
def _merged(match: re.Match[str]) -> str:
    """``citizens.merge``: the ids name the two registrations (the absorbed one keeps its entries)."""
    return gettext("two registrations of the citizen merged")


@register_detail_pattern(r"consent (?P<before>\w+) -> (?P<after>\w+)")
def _consent(match: re.Match[str]) -> str | None:
    if match["before"] not in CONSENT_STATES or match["after"] not in CONSENT_STATES:
        return None
    return gettext("consent changed from %(before)s to %(after)s") % {
        "before": CONSENT_STATES[match["before"]],
        "after": CONSENT_STATES[match["after"]],
    }


@register_detail_pattern(r"objection against (?P<target>\w+):.*")
def _objection(match: re.Match[str]) -> str:
    return gettext("objection recorded (%(target)s)") % {"target": choice_label(ObjectionTarget, match["target"])}


@register_detail_pattern(r"objection \d+ withdrawn")
def _objection_withdrawn(match: re.Match[str]) -> str:
    return gettext("objection withdrawn")


FHIR_READS = {
    "read": _("FHIR API: %(type)s read"),
    "search": _("FHIR API: search for %(type)s"),
    "included": _("FHIR API: %(type)s included in a search"),
}


@register_detail_pattern(r"FHIR (?P<type>[A-Za-z]+) (?P<how>read|search|included)")
def _fhir_read(match: re.Match[str]) -> str | None:
    """``citizens.fhir.search``: the resource type keeps its FHIR name, which is what the
    integrations that read it know it by."""
    from .fhir import registry

    if registry.get(match["type"]) is None:
        return None
    return str(FHIR_READS[match["how"]]) % {"type": match["type"]}


@register_detail_pattern(r"[a-z_]+(, [a-z_]+)*")
def _changed_fields(match: re.Match[str]) -> str | None:
    """The citizen's changed fields ("phone, conditions"), by their names on the form."""
    from .models import Citizen

    fields = {field.name: field for field in Citizen._meta.get_fields() if hasattr(field, "verbose_name")}
    labels = []
    for name in match.group(0).split(", "):
        if name in CHANGED_EXTRA:
            labels.append(str(CHANGED_EXTRA[name]))
        elif name in fields:
            labels.append(str(fields[name].verbose_name))
        else:
            return None
    return gettext("changed: %(fields)s") % {"fields": ", ".join(labels)}
