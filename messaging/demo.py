"""Demo messages for ``make run``: the inboxes of the demo accounts tell a few days' story.

- Correspondence (care communications) between the Odense GP's clinic (``gp@``) and Odense
  Kommune (``homecare.odense@``) about six of the clinic's citizens living in Odense: a change of
  medicine answered and handled, a wound the home-care nurse asks about and the GP answers, test
  results read and handled, an urgent (asap) message regarding a referral nobody has opened yet,
  and more; some read by the home-care nurse, some handled, some unread.
- Hospital notifications from OUH, Medicinsk afdeling Odense (``nurse.ouh@``) to Odense Kommune,
  with a copy to the GP clinic: one citizen admitted (STIN) three days ago, which the municipality
  answered and handled, and discharged home (SLHJ) yesterday; another started an acute ambulant
  stay (STAA) a few hours ago.
- One exchange between the Kolding clinic (``gp2@``) and Kolding Kommune, and an admission at OUH
  Svendborg for a citizen of Svendborg Kommune (``homecare.svendborg@``), so those inboxes are
  not empty either.

Everything goes through the services, acting as the demo staff, and every delivery is run by the
delivery engine (``delivery.delivery_run``) inside the loader: the receivers get the messages and
acknowledge them, exactly as the worker would do it. ``make demo`` does not run Celery eagerly
and the loader's transaction would only hand the deliveries to the worker when it commits, so
the loader does not wait for the worker. The tasks it enqueues on commit find the deliveries done.

E-mail: a demo message's notices go to the members of the receiving organisation as usual, but
they belong to the story's past, so the engine sends them to Django's in-memory e-mail backend
here instead of printing some sixty e-mails on the console (or, with ``EMAIL_URL`` set, sending
them to a real server); the deliveries end delivered with their attempts recorded. Messages sent
in the portal after loading are e-mailed as configured.

As in ``careplans.demo``, each step is dated back to when it happened in the story, after the
services wrote it: messages, receivers, read marks, deliveries and attempts. The access log is
append-only and keeps the real time of loading.

Idempotent: the story is told once; when its first thread exists the loader returns at once.
Refuses to run in production.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.test.utils import override_settings
from django.utils import timezone

from citizens.access import Actor
from citizens.models import Citizen, HospitalStay
from citizens.relationships import relationships_sync
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.models import Membership, Organisation, User
from sectors.reference import department_at, municipality_by_code

from .choices import Category, Channel, DeliveryStatus, HospitalCode, MessageType, Priority
from .delivery import delivery_run
from .models import Delivery, DeliveryAttempt, HospitalEvent, Message, ReadMark, Recipient, Thread
from .services import (
    hospital_event_record,
    message_mark_handled,
    message_mark_read,
    message_reply,
    message_send,
)

FIRST_TOPIC = "Øget dosis vanddrivende"  # the first thread of the story: its marker
LAG = datetime.timedelta(minutes=1)  # from sending to the receiver's inbox and acknowledgement
IN_MEMORY_EMAIL = "django.core.mail.backends.locmem.EmailBackend"


def _persona(email: str) -> Actor:
    user = User.objects.filter(email=email).first()
    if user is None:
        raise ImproperlyConfigured(f"No demo account {email}: load sectors.demo first.")
    return Actor(user=user, acting=resolve(user, None), user_agent="messaging.demo")


def _staff(organisation: Organisation, role: str) -> Actor:
    membership = (
        Membership.objects.active()
        .filter(organisation=organisation, role=role)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise ImproperlyConfigured(f"No demo {role} at {organisation}: load sectors.demo first.")
    user = membership.user
    return Actor(user=user, acting=resolve(user, organisation.pk), user_agent="messaging.demo")


def _citizens(*, clinic: Organisation | None, municipality: Organisation, count: int) -> list[Citizen]:
    """Demo citizens living in the municipality (listed at the clinic, or at any clinic) who have
    never been in hospital, so an admission in the story is their first; in a fixed order."""
    stays = HospitalStay.objects.filter(citizen_id=OuterRef("pk"))
    citizens = Citizen.objects.filter(
        cpr__regex=r"^[0-9]{6}9[0-9]{3}$", municipality=municipality, gp_clinic__isnull=False, deceased_at=None
    ).exclude(Exists(stays))
    if clinic is not None:
        citizens = citizens.filter(gp_clinic=clinic)
    chosen = list(citizens.order_by("cpr")[:count])
    if len(chosen) < count:
        raise ImproperlyConfigured(f"Too few demo citizens in {municipality}: load citizens.demo first.")
    return chosen


class _Story:
    def __init__(self, counter: Counter):
        self.counter = counter
        self.now = timezone.now()

    def on(self, days_ago: int, clock: str) -> datetime.datetime:
        """A time of day ``days_ago`` days ago (at least one: always in the past), so the
        story keeps office hours whenever it is loaded."""
        day = timezone.localdate(self.now) - datetime.timedelta(days=days_ago)
        return datetime.datetime.combine(
            day, datetime.time.fromisoformat(clock), tzinfo=timezone.get_current_timezone()
        )

    def ago(self, *, hours: float) -> datetime.datetime:
        return self.now - datetime.timedelta(hours=hours)

    @contextmanager
    def at(self, when: datetime.datetime) -> Iterator[None]:
        """What the services write inside the block happened at ``when``: deliver it (the
        receivers acknowledge at once, which adds deliveries of its own), then date it."""
        started = timezone.now()
        marks = {model: model.objects.aggregate(top=Max("pk"))["top"] or 0 for model in (Delivery, DeliveryAttempt)}
        yield
        self._deliver(after=marks[Delivery])
        received = when + LAG
        Message.objects.filter(sent_at__gte=started).exclude(type=MessageType.ACKNOWLEDGEMENT).update(sent_at=when)
        Message.objects.filter(sent_at__gte=started, type=MessageType.ACKNOWLEDGEMENT).update(sent_at=received)
        Thread.objects.filter(created_at__gte=started).update(created_at=when)
        Thread.objects.filter(last_message_at__gte=started).update(last_message_at=when)
        Recipient.objects.filter(last_sent_at__gte=started).update(last_sent_at=when)
        redated = list(Recipient.objects.filter(received_at__gte=started).values_list("pk", flat=True))
        Recipient.objects.filter(pk__in=redated).update(received_at=received)
        # A received message's relationship runs until after its thread's last message: every
        # receiver in the threads these messages joined.
        threads = Recipient.objects.filter(pk__in=redated).values("message__thread_id")
        in_threads = Recipient.objects.filter(message__thread_id__in=threads, received_at__isnull=False)
        relationships_sync("recipient", list(in_threads.values_list("pk", flat=True)), via="demo")
        Recipient.objects.filter(acknowledged_at__gte=started).update(acknowledged_at=received + LAG)
        Recipient.objects.filter(handled_at__gte=started).update(handled_at=when)
        ReadMark.objects.filter(read_at__gte=started).update(read_at=when)
        new = Delivery.objects.filter(pk__gt=marks[Delivery])
        new.update(created_at=when, next_attempt_at=when)
        new.exclude(claimed_at=None).update(claimed_at=received)
        new.exclude(delivered_at=None).update(delivered_at=received)
        DeliveryAttempt.objects.filter(pk__gt=marks[DeliveryAttempt]).update(started_at=received, finished_at=received)
        HospitalEvent.objects.filter(recorded_at__gte=started).update(recorded_at=when)

    def _deliver(self, *, after: int) -> None:
        """Run the step's in-app and e-mail deliveries (and those they cause) once each; a webhook
        would call an organisation's own system, so it is left to the worker."""
        done: set[int] = set()
        with override_settings(EMAIL_BACKEND=IN_MEMORY_EMAIL):
            while True:
                due = list(
                    Delivery.objects.filter(
                        pk__gt=after, status=DeliveryStatus.PENDING, channel__in=[Channel.IN_APP, Channel.EMAIL]
                    )
                    .exclude(pk__in=done)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
                if not due:
                    return
                for pk in due:
                    delivery_run(pk)
                    done.add(pk)
                    self.counter["deliveries"] += 1

    # --- the steps of the story ---------------------------------------------------------------

    def send(
        self,
        when: datetime.datetime,
        actor: Actor,
        citizen: Citizen,
        receiver: Organisation,
        *,
        category: str,
        topic: str,
        text: str,
        priority: str = Priority.ROUTINE,
    ) -> Message:
        with self.at(when):
            message = message_send(
                actor=actor,
                citizen=citizen,
                receiver=receiver,
                category=category,
                topic=topic,
                text=text,
                priority=priority,
            )
        self.counter["threads"] += 1
        self.counter["care communications"] += 1
        return message

    def reply(self, when: datetime.datetime, actor: Actor, message: Message, text: str) -> Message:
        with self.at(when):
            message_mark_read(actor=actor, message=message)
            reply = message_reply(actor=actor, message=message, text=text)
        self.counter["care communications"] += 1
        return reply

    def read(self, when: datetime.datetime, actor: Actor, message: Message, *, handled: bool = False) -> None:
        with self.at(when):
            message_mark_read(actor=actor, message=message)
            if handled:
                message_mark_handled(actor=actor, message=message)

    def handle(self, when: datetime.datetime, actor: Actor, message: Message) -> None:
        with self.at(when):
            message_mark_handled(actor=actor, message=message)

    def hospital(self, when: datetime.datetime, actor: Actor, citizen: Citizen, code: str, *, before: int) -> Message:
        """Recorded ``before`` minutes after it happened, as a ward does."""
        with self.at(when):
            event = hospital_event_record(
                actor=actor, citizen=citizen, code=code, occurred_at=when - datetime.timedelta(minutes=before)
            )
        self.counter["hospital notifications"] += 1
        return event.message


def _odense(story: _Story) -> None:
    gp = _persona("gp@smartcare.example")
    nurse = _persona("homecare.odense@smartcare.example")
    ward = _persona("nurse.ouh@smartcare.example")
    clinic, kommune = gp.organisation, municipality_by_code("0461")
    c = _citizens(clinic=clinic, municipality=kommune, count=8)

    # Five days ago: the GP changes a diuretic; the home-care nurse answers and handles it.
    dose = story.send(
        story.on(5, "09:40"), gp, c[0], kommune, category=Category.MEDICINE, topic=FIRST_TOPIC,
        text="Furix øges fra 40 mg til 80 mg dagligt fra i morgen på grund af vægtøgning på 2,5 kg. "
        "Vil I ændre doseringen ved næste dispensering og veje borgeren dagligt i en uge?",
    )  # fmt: skip
    answer = story.reply(
        story.on(5, "11:20"), nurse, dose,
        "Noteret. Doseringsæskerne er ændret fra i morgen, og vi vejer dagligt frem til næste torsdag. "
        "Vi giver besked, hvis vægten ikke falder.",
    )  # fmt: skip
    story.handle(story.on(5, "11:22"), nurse, dose)
    story.read(story.on(5, "13:05"), gp, answer)

    # Four days ago: the municipality asks about assistive devices; the GP answers.
    devices = story.send(
        story.on(4, "08:50"), nurse, c[1], clinic, category=Category.ASSISTIVE_DEVICES,
        topic="Rollator og badebænk",
        text="Borgeren er faldet i hjemmet i weekenden uden at slå sig. Vi har søgt om rollator og badebænk. "
        "Er der noget i behandlingen, vi skal være opmærksomme på (blodtryk, svimmelhed)?",
    )  # fmt: skip
    devices_answer = story.reply(
        story.on(4, "13:45"), gp, devices,
        "Blodtrykket var fint ved sidste kontrol. Jeg har sat Amlodipin ned til 5 mg. "
        "Sig endelig til, hvis hun falder igen eller er svimmel om morgenen.",
    )  # fmt: skip
    story.read(story.on(4, "15:10"), nurse, devices_answer)

    # Three days ago: a wound; the GP answers the next morning (the nurse has not read that yet).
    wound = story.send(
        story.on(3, "14:10"), nurse, c[2], clinic, category=Category.NURSING,
        topic="Sår på venstre underben",
        text="Sår på ca. 2 x 3 cm på venstre underben med let rødme omkring, ingen feber. "
        "Ønsker I at se det, eller skal vi fortsætte med skiftning hver anden dag?",
    )  # fmt: skip
    story.reply(
        story.on(2, "08:30"), gp, wound,
        "Tak. Fortsæt skiftning hver anden dag. Ved tiltagende rødme, varme eller feber ringer I til klinikken. "
        "Borgeren er booket til sårkontrol hos sygeplejersken på mandag.",
    )  # fmt: skip

    # Two days ago: test results, read and handled; no answer needed.
    results = story.send(
        story.on(2, "10:15"), gp, c[3], kommune, category=Category.EXAMINATION_RESULTS,
        topic="Blodprøvesvar",
        text="Blodprøverne fra i mandags er normale; HbA1c 52 mmol/mol. Ingen ændringer i behandlingen. "
        "Fortsæt blodsukkermåling morgen og aften.",
    )  # fmt: skip
    story.read(story.on(2, "12:00"), nurse, results, handled=True)

    # Yesterday: a meeting with the family (read, not handled yet) ...
    meeting = story.send(
        story.on(1, "09:10"), gp, c[4], kommune, category=Category.CARECOORDINATION,
        topic="Samtale med pårørende",
        text="Datteren ønsker en fælles samtale om den videre pleje og evt. plejebolig. "
        "Kan en fra hjemmeplejen deltage torsdag kl. 13 i klinikken?",
    )  # fmt: skip
    story.read(story.on(1, "11:30"), nurse, meeting)
    # ... and an urgent request regarding a referral, not opened yet.
    story.send(
        story.on(1, "15:30"), gp, c[5], kommune, category=Category.REGARDING_REFERRAL, priority=Priority.ASAP,
        topic="Henvisning til hjemmesygepleje",
        text="Borgeren er netop startet på insulin og har brug for hjælp til injektion morgen og aften. "
        "Henvisningen er sendt. Kan I starte hurtigst muligt, gerne fra i morgen?",
    )  # fmt: skip

    # The hospital: admitted three days ago in the evening (answered and handled the next morning),
    # discharged home yesterday ...
    admitted = story.hospital(story.on(3, "23:00"), ward, c[6], HospitalCode.STIN, before=20)
    story.reply(
        story.on(2, "07:45"), nurse, admitted,
        "Borgeren får hjemmepleje morgen og aften og medicin dispenseret af os. Besøgene er sat i bero "
        "under indlæggelsen. Giv gerne besked om udskrivelsen en dag i forvejen.",
    )  # fmt: skip
    story.handle(story.on(2, "07:47"), nurse, admitted)
    story.hospital(story.on(1, "11:30"), ward, c[6], HospitalCode.SLHJ, before=30)
    # ... and another citizen came to the acute ambulant clinic a few hours ago.
    story.hospital(story.ago(hours=3), ward, c[7], HospitalCode.STAA, before=25)


def _elsewhere(story: _Story) -> None:
    """Kolding's GP and Svendborg's home care get a little too."""
    gp2 = _persona("gp2@smartcare.example")
    kolding = municipality_by_code("0621")
    citizen = _citizens(clinic=gp2.organisation, municipality=kolding, count=1)[0]
    nurse = _staff(kolding, MembershipRole.HOME_CARE_NURSE)
    inhaler = story.send(
        story.on(2, "09:30"), gp2, citizen, kolding, category=Category.MEDICINE, topic="Ny inhalator",
        text="Borgeren skifter til Trimbow 2 pust morgen og aften. Vil I hjælpe med inhalationsteknikken "
        "de første dage?",
    )  # fmt: skip
    story.reply(story.on(2, "14:00"), nurse, inhaler, "Ja, vi ser til teknikken ved aftenbesøgene i denne uge.")

    svendborg = municipality_by_code("0479")
    citizen = _citizens(clinic=None, municipality=svendborg, count=1)[0]
    ward = _staff(department_at("Odense Universitetshospital", "Svendborg"), MembershipRole.HOSPITAL_NURSE)
    story.hospital(story.on(1, "08:15"), ward, citizen, HospitalCode.STIN, before=15)


@transaction.atomic
def messaging_demo_load() -> Counter:
    if settings.IS_PRODUCTION:
        raise ImproperlyConfigured("Demo data is never loaded in production.")
    counter: Counter = Counter()
    if Thread.objects.filter(topic=FIRST_TOPIC, messages__author__email="gp@smartcare.example").exists():
        return counter  # told already
    story = _Story(counter)
    _odense(story)
    _elsewhere(story)
    return counter
