"""What follows a hospital event, shown with its notification: what happens to the home visits,
whom to call (the sending department, the coordinator of each of the citizen's open care plans),
and whether the plans' coordinators have been told (the notification itself reached them, or
``notices.hospital_coordinators_write`` did). Read for a whole page in a fixed number of queries.

The messages are already read through the access gate (inbox, thread, the department's events);
the plans' coordinators are contacts, not the plans' content."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from careplans.models import OPEN_PLAN_STATUSES, CarePlan
from sectors.models import Organisation, User

from .choices import HospitalCode, MessageType, Revision
from .models import Message, Recipient
from .notices import coordinator_notice_key

VISITS_PAUSED = _("Visits paused")
VISITS_RESUME = _("Visits resume")

# What the event means for the home visits: an admission pauses them and a discharge resumes
# them; withdrawing either undoes it. Leave, an acute ambulant visit and a death say nothing here.
VISITS = {
    (HospitalCode.STIN, Revision.NEW): VISITS_PAUSED,
    (HospitalCode.STIN, Revision.CORRECTION): VISITS_PAUSED,
    (HospitalCode.STIN, Revision.CANCELLATION): VISITS_RESUME,
    (HospitalCode.SLHJ, Revision.NEW): VISITS_RESUME,
    (HospitalCode.SLHJ, Revision.CORRECTION): VISITS_RESUME,
    (HospitalCode.SLHJ, Revision.CANCELLATION): VISITS_PAUSED,
}


@dataclass(frozen=True)
class PlanContact:
    plan: str
    organisation: Organisation
    coordinator: User | None
    told: bool


@dataclass
class FollowUp:
    visits: str = ""
    department: Organisation | None = None
    contacts: list[PlanContact] = field(default_factory=list)

    @property
    def coordinator_told(self) -> bool:
        """Every open plan's coordinating organisation got the notification or a notice of it."""
        return bool(self.contacts) and all(contact.told for contact in self.contacts)


def visits_next(code: str, revision: str) -> str:
    return str(VISITS.get((code, revision), ""))


def hospital_followups_attach(messages: Iterable[Message]) -> None:
    """Set ``followup`` on every hospital notification among ``messages`` (three queries for the
    lot: the citizens' open plans, the notifications' receivers, the coordinators' notices)."""
    notifications = [m for m in messages if m.type == MessageType.HOSPITAL_NOTIFICATION]
    if not notifications:
        return
    plans: dict = {}
    for plan in (
        CarePlan.objects.filter(citizen_id__in={m.citizen_id for m in notifications}, status__in=OPEN_PLAN_STATUSES)
        .select_related("coordinating_organisation", "coordinator")
        .order_by("period_start", "pk")
    ):
        plans.setdefault(plan.citizen_id, []).append(plan)
    receivers = set(Recipient.objects.filter(message__in=notifications).values_list("message_id", "organisation_id"))
    keys = {
        coordinator_notice_key(m.pk, plan.coordinating_organisation_id)
        for m in notifications
        for plan in plans.get(m.citizen_id, ())
    }
    noticed = set(Message.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    for message in notifications:
        contacts = [
            PlanContact(
                plan=plan.title,
                organisation=plan.coordinating_organisation,
                coordinator=plan.coordinator,
                told=(message.pk, plan.coordinating_organisation_id) in receivers
                or coordinator_notice_key(message.pk, plan.coordinating_organisation_id) in noticed,
            )
            for plan in plans.get(message.citizen_id, ())
        ]
        message.followup = FollowUp(
            visits=visits_next(message.hospital_code, message.revision),
            department=message.department or message.sender,
            contacts=contacts,
        )
