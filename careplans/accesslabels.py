"""The care-plan app's codes in the access log ("what" was read or changed), as labels in the
reader's language (``citizens.accesslabels``)."""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citizens.accesslabels import choice_label, register_detail_pattern, register_details

from .choices import CarePlanStatus, ObservationCode, ThresholdCode

register_details(
    {
        "care plan": _("the care plan"),
        "care plan: edit": _("editing the care plan"),
        "care plan: status": _("the care plan's status"),
        "care plan: add to the care team": _("adding to the care team"),
        "care plan: end participation": _("ending a care team participation"),
        "care plan: add goal": _("adding a goal"),
        "care plan: goal status": _("a goal's status"),
        "care plan: add activity": _("adding an activity"),
        "care plan: activity status": _("an activity's status"),
        "care plan: reassign": _("reassigning a goal or an activity"),
        "care plan changed": _("care plan changed"),
        "care team changed": _("care team changed"),
        "goal added": _("goal added"),
        "goal changed": _("goal changed"),
        "goal status changed": _("goal status changed"),
        "activity added": _("activity added"),
        "activity changed": _("activity changed"),
        "activity status changed": _("activity status changed"),
        "activity done": _("activity done"),
        "activity done undone": _("activity done, undone"),
        "hand-off answered": _("hand-off request answered"),
        "item reassigned": _("goal or activity reassigned"),
        "hand-off requests": _("hand-off requests received"),
        "hand-offs sent": _("hand-off requests sent"),
        "alert list": _("the alert list"),
        "today list": _("the Today list"),
        "record measurement": _("recording a measurement"),
        "alerts": _("the citizen's alerts"),
        "acknowledge yellow alerts": _("acknowledging yellow alerts"),
        "thresholds": _("the limits"),
        "measurement charts": _("the measurement charts"),
        "new care plan": _("a new care plan"),
        "observations (bulk)": _("measurements received together"),
    }
)


@register_detail_pattern(r"care plan created: (?P<title>.*)")
def _plan_created(match: re.Match[str]) -> str:
    return gettext("care plan created: %(title)s") % {"title": match["title"]}


@register_detail_pattern(r"care plan status (?P<before>[\w-]+) -> (?P<after>[\w-]+)")
def _plan_status(match: re.Match[str]) -> str:
    return gettext("care plan status changed from %(before)s to %(after)s") % {
        "before": choice_label(CarePlanStatus, match["before"]),
        "after": choice_label(CarePlanStatus, match["after"]),
    }


@register_detail_pattern(r"observation (?P<code>\d+-\d)")
def _observation(match: re.Match[str]) -> str:
    return gettext("measurement recorded: %(measurement)s") % {
        "measurement": choice_label(ObservationCode, match["code"])
    }


@register_detail_pattern(r"observation corrected \S+")
def _observation_corrected(match: re.Match[str]) -> str:
    return gettext("measurement corrected")


@register_detail_pattern(r"threshold (?P<code>\d+-\d) v(?P<version>\d+)")
def _threshold(match: re.Match[str]) -> str:
    return gettext("limits for %(measurement)s set (version %(version)s)") % {
        "measurement": choice_label(ThresholdCode, match["code"]),
        "version": match["version"],
    }


@register_detail_pattern(r"monitoring schedule (?P<code>\d+-\d)")
def _schedule(match: re.Match[str]) -> str:
    return gettext("measurement schedule for %(measurement)s") % {
        "measurement": choice_label(ObservationCode, match["code"])
    }
