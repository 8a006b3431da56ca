"""The dashboard as a work overview: each app's cards (smartcare.dashboard) for the GP clinic, the
home-care nurse, the hospital department and the organisation administrator; every count is what
the linked list shows, the citizens named on the cards are logged, the outsider sees nothing of
them, and the number of queries does not grow with the data."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.urls import get_resolver, reverse
from django.utils import timezone
from django.utils.translation import gettext, override
from freezegun import freeze_time

from careplans.choices import CarePlanStatus, ObservationCode, ThresholdCode
from careplans.monitoring import Reading, observation_record, threshold_set
from careplans.services import activity_create, careplan_create
from citizens.choices import AccessAction, AccessReason
from citizens.models import AccessLogEntry, HospitalStay
from citizens.services import break_glass_open
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from messaging.choices import Category, HospitalCode
from messaging.services import hospital_event_record, message_send
from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory
from smartcare import dashboard

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

WEDNESDAY = datetime.date(2026, 3, 11)
COUNT = re.compile(r'data-testid="([a-z-]+)-count">([^<]*)<')
ROW = re.compile(r'data-testid="([a-z-]+)-row">([^<]*)<')


@pytest.fixture(autouse=True)
def frozen():
    """Wednesday 11 March 2026, 09:00 in Copenhagen: visits, hand-offs and stays depend on the time.

    The URLs (and with them DRF's throttles, which keep ``time.time`` as a class attribute) are
    loaded first: loaded under the frozen clock they would keep its fake for later tests."""
    get_resolver().url_patterns  # noqa: B018 - imports every view now
    with freeze_time("2026-03-11 08:00:00", tick=False) as frozen_time:
        yield frozen_time


def login(client, world, name: str):
    client.force_login(world.users[name])
    return client


def page(client) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.find('data-testid="work-overview"')
    cards = html[start : html.index('id="org-heading"')] if start >= 0 else ""  # not the navigation's badges
    return html, dict(COUNT.findall(cards)), ROW.findall(cards)


# The cards every member of an organisation has, each with its counts at zero.
EVERYONE = ("messages-unread", "messages-unhandled", "alerts-red", "alerts-yellow", "handoffs-waiting")
EVERYONE += ("handoffs-overdue", "stays-recent")


def expected(**counts: int) -> dict[str, str]:
    """The counts of the page: every member's cards at zero, changed or added by ``counts``."""
    return {**dict.fromkeys(EVERYONE, "0"), **{key.replace("_", "-"): str(n) for key, n in counts.items()}}


def citizen_of(world, **fields):
    return CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a, **fields)


def plan_for(citizen, by, coordinating):
    return careplan_create(
        actor=by, citizen=citizen, title="Forløb", coordinating_organisation=coordinating, status=CarePlanStatus.ACTIVE
    )


def message(world, actor, citizen, *, sender: str, receiver):
    return message_send(
        actor=actor(sender), citizen=citizen, receiver=receiver, category=Category.NURSING, text="Ny medicin."
    )


def red_and_yellow_alert(actor, citizen):
    gp = actor("gp_a")
    threshold_set(
        actor=gp, citizen=citizen, code=ThresholdCode.BODY_WEIGHT, reason="Hjertesvigt", yellow_high=90, red_high=100
    )
    for value in (95, 105):
        reading = Reading(
            code=ObservationCode.BODY_WEIGHT, value=value, unit="kg", effective_at=timezone.now(), source="gp"
        )
        observation_record(actor=gp, citizen=citizen, reading=reading)


def handoff_to_home_care(world, actor, citizen):
    """The GP clinic asks municipality A to do a visit: a request awaiting the municipality's answer."""
    gp = actor("gp_a")
    activity_create(
        actor=gp,
        plan=plan_for(citizen, gp, world.clinic_a),
        description="Blodtryksmåling i hjemmet",
        responsible_organisation=world.municipality_a,
        due_date=WEDNESDAY,
    )


def visit(world, actor, citizen, *, days_overdue: int):
    homecare = actor("homecare_a")
    activity_create(
        actor=homecare,
        plan=plan_for(citizen, homecare, world.municipality_a),
        description=f"Medicingivning {days_overdue}",
        responsible_organisation=world.municipality_a,
        due_date=WEDNESDAY - datetime.timedelta(days=days_overdue),
    )


def work(world, actor, deliver, citizen):
    """One of each thing a card counts, about ``citizen`` (of clinic A and municipality A)."""
    deliver(message, world, actor, citizen, sender="homecare_a", receiver=world.clinic_a)
    deliver(message, world, actor, citizen, sender="gp_a", receiver=world.municipality_a)
    red_and_yellow_alert(actor, citizen)
    handoff_to_home_care(world, actor, citizen)
    visit(world, actor, citizen, days_overdue=2)
    visit(world, actor, citizen, days_overdue=0)
    # Another citizen of theirs is admitted (an admitted citizen's visits are paused, never overdue).
    HospitalStayFactory(citizen=citizen_of(world), department=world.department, admitted_at=timezone.now())


@pytest.fixture
def busy(world, actor, deliver):
    work(world, actor, deliver, world.citizen)
    return world


def dashboard_log(citizen) -> list[tuple[str, str]]:
    entries = AccessLogEntry.objects.filter(citizen=citizen, detail="dashboard").order_by("pk")
    return list(entries.values_list("action", "reason"))


# --- each role's cards ---------------------------------------------------------------------------


def test_the_gp_clinic_sees_its_messages_alerts_requests_and_hospital_stays(client, busy, frozen):
    world = busy
    frozen.tick(datetime.timedelta(hours=1))
    html, counts, rows = page(login(client, world, "gp_a"))
    assert counts == expected(messages_unread=1, messages_unhandled=1, alerts_red=1, alerts_yellow=1, stays_recent=1)
    name = world.citizen.full_name
    assert rows == [
        ("messages", f"{name}: {Category.NURSING.label}"),
        ("alerts", f"{name}: Red · Body weight"),
        ("alerts", f"{name}: Yellow · Body weight"),
        ("hospital-stays", HospitalStay.objects.get().citizen.full_name),
    ]
    inbox = reverse("messaging:inbox")
    assert f'href="{inbox}?unread=on" aria-label="Messages: 1 unread" data-testid="messages-unread"' in html
    assert f'href="{inbox}?unhandled=on" aria-label="Messages: 1 not handled" data-testid="messages-unhandled"' in html
    assert f'href="{reverse("careplans:alerts")}?citizen={world.citizen.pk}" data-testid="alerts-row"' in html
    assert (
        f'href="{reverse("citizens:list")}?recent_stay=true" '
        'aria-label="Hospital stays, last 48 hours: 1 admitted or discharged" data-testid="stays-recent"' in html
    )
    for absent in ("card-today", "card-admitted", "card-access-review"):
        assert f'data-testid="{absent}"' not in html
    # the members list stays on the page, below the work
    assert html.index('data-testid="work-overview"') < html.index('data-testid="members"')
    assert 'href="#org-heading" data-testid="members-link"' in html


def test_the_home_care_nurse_sees_requests_overdue_visits_and_messages(client, busy, frozen):
    world = busy
    frozen.tick(datetime.timedelta(hours=settings.HANDOFF_OVERDUE_HOURS + 1))  # the request is now overdue
    html, counts, rows = page(login(client, world, "homecare_a"))
    # Visits: due 9 and 11 March, overdue on the 14th (the requested one is not the municipality's
    # yet); the stay began 3 days ago, outside the 48 hours.
    assert counts == expected(
        messages_unread=1, messages_unhandled=1, handoffs_waiting=1, handoffs_overdue=1, visits_overdue=2, visits_due=0
    )
    name = world.citizen.full_name
    assert [row for row in rows if row[0] == "handoffs"] == [("handoffs", f"{name}: Blodtryksmåling i hjemmet")]
    assert [row for row in rows if row[0] == "today"] == [
        ("today", f"{name}: Medicingivning 2"),
        ("today", f"{name}: Medicingivning 0"),
    ]
    assert f'href="{reverse("careplans:today")}#visit-{world.citizen.pk}" data-testid="today-row"' in html


def test_the_visits_card_counts_today_and_overdue_apart(client, busy):
    _html, counts, _rows = page(login(client, busy, "homecare_a"))
    assert (counts["visits-overdue"], counts["visits-due"]) == ("1", "1")  # the request is not accepted yet


def test_the_hospital_department_sees_its_current_admissions(client, world, actor, deliver):
    deliver(
        hospital_event_record,
        actor=actor("hospital_nurse"),
        citizen=world.citizen,
        code=HospitalCode.STIN,
        occurred_at=timezone.now() - datetime.timedelta(hours=2),
    )
    discharged = citizen_of(world)
    HospitalStayFactory(
        citizen=discharged,
        department=world.department,
        admitted_at=timezone.now() - datetime.timedelta(days=5),
        discharged_at=timezone.now() - datetime.timedelta(hours=30),
    )
    html, counts, rows = page(login(client, world, "hospital_nurse"))
    assert counts == expected(admitted_now=1, stays_recent=2)
    assert (
        f'href="{reverse("citizens:list")}?admitted_now=true" '
        'aria-label="Current admissions: 1 admitted now" data-testid="admitted-now"' in html
    )
    assert sorted(rows) == sorted(
        [("hospital-stays", world.citizen.full_name), ("hospital-stays", discharged.full_name)]
    )


def test_the_organisation_administrator_also_sees_the_access_review(client, world, actor):
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=timezone.now()
    )  # an admission without an earlier relationship
    stranger = CitizenFactory(municipality=world.municipality_b)
    break_glass_open(actor=actor("hospital_nurse"), cpr=stranger.cpr, reason="Bevidstløs, ingen journal")
    admin = MembershipFactory(organisation=world.department, role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(admin)
    html, counts, _rows = page(client)
    assert counts == expected(admitted_now=1, stays_recent=1, review_open=2)
    assert (
        f'href="{reverse("citizens:break_glass_review")}" '
        'aria-label="Access review: 2 not reviewed" data-testid="review-open"' in html
    )
    assert 'data-testid="card-access-review"' not in page(login(client, world, "hospital_nurse"))[0]


def test_the_outsider_sees_nothing_of_another_organisations_citizens(client, busy):
    world = busy
    for name in ("gp_b", "homecare_b", "other_hospital", "admin_b"):
        html, counts, rows = page(login(client, world, name))
        assert set(counts.values()) == {"0"}, name
        assert rows == [], name
        # the cards only: the members list below them may hold a colleague of the same (random) name
        cards = html[html.find('data-testid="work-overview"') : html.index('id="org-heading"')]
        assert world.citizen.full_name not in cards and world.citizen.last_name not in cards
    assert dashboard_log(world.citizen) == []


def test_without_an_organisation_there_are_no_cards(client, busy):
    from sectors.tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.context["cards"] == []
    assert 'data-testid="work-overview"' not in response.content.decode()


# --- counts are the linked lists' counts ----------------------------------------------------------


def test_every_count_is_what_its_list_shows(client, busy, actor, deliver, frozen):
    world = busy
    for i in range(4):  # more than a card shows
        work(world, actor, deliver, citizen_of(world, last_name=f"Borger{i}"))
    frozen.tick(datetime.timedelta(hours=settings.HANDOFF_OVERDUE_HOURS + 1))
    HospitalStayFactory(citizen=citizen_of(world), department=world.department, admitted_at=timezone.now())
    login(client, world, "homecare_a")
    _html, counts, rows = page(client)
    # only the citizens on the cards are logged, not the whole Today list behind the counts
    assert not AccessLogEntry.objects.filter(detail="today list").exists()
    assert AccessLogEntry.objects.filter(detail="dashboard").count() == len({text.split(":")[0] for _k, text in rows})
    inbox = reverse("messaging:inbox")
    assert int(counts["messages-unread"]) == client.get(f"{inbox}?unread=on").context["page"].paginator.count == 5
    assert int(counts["messages-unhandled"]) == client.get(f"{inbox}?unhandled=on").context["page"].paginator.count
    handoffs = client.get(reverse("careplans:handoffs")).context
    assert (
        (int(counts["handoffs-waiting"]), int(counts["handoffs-overdue"]))
        == (
            len(handoffs["handoffs"]),
            handoffs["overdue_count"],
        )
        == (5, 5)
    )
    today = client.get(reverse("careplans:today")).context
    assert int(counts["visits-overdue"]) + int(counts["visits-due"]) == today["count"] == 10
    recent = client.get(reverse("citizens:list"), {"recent_stay": "true"}).context["page"].paginator.count
    assert int(counts["stays-recent"]) == recent == 1
    assert [kind for kind, _text in rows].count("today") == dashboard.TOP_ROWS
    assert [kind for kind, _text in rows].count("handoffs") == dashboard.TOP_ROWS
    login(client, world, "gp_a")
    _html, counts, rows = page(client)
    alerts = client.get(reverse("careplans:alerts")).context["alerts"]
    assert int(counts["alerts-red"]) == sum(1 for a in alerts if a.severity == "red") == 5
    assert int(counts["alerts-yellow"]) == sum(1 for a in alerts if a.severity == "yellow") == 5
    assert [kind for kind, _text in rows].count("alerts") == dashboard.TOP_ROWS


def test_a_count_beyond_the_cap_shows_as_cap_plus(client, world, actor, deliver, monkeypatch):
    from messaging import selectors

    monkeypatch.setattr(selectors, "UNREAD_CAP", 2)
    for _ in range(3):
        deliver(message, world, actor, world.citizen, sender="gp_a", receiver=world.municipality_a)
    _html, counts, _rows = page(login(client, world, "homecare_a"))
    assert (counts["messages-unread"], counts["messages-unhandled"]) == ("2+", "2+")


# --- the access log and the query count ------------------------------------------------------------


def test_the_citizens_named_on_the_cards_are_logged_as_listed(client, busy):
    _html, _counts, rows = page(login(client, busy, "gp_a"))
    assert {kind for kind, _text in rows} == {"messages", "alerts", "hospital-stays"}
    # once for the page, though three cards name the citizen; with the reason for access
    assert dashboard_log(busy.citizen) == [(AccessAction.LIST, AccessReason.GP_CLINIC)]


def test_a_citizen_only_counted_is_not_logged(client, world, actor, deliver):
    named = [citizen_of(world, last_name=f"Aborger{i}") for i in range(dashboard.TOP_ROWS)]
    counted = citizen_of(world, last_name="Zborger")
    for citizen in (*named, counted):
        HospitalStayFactory(citizen=citizen, department=world.department, admitted_at=timezone.now())
    _html, counts, rows = page(login(client, world, "gp_a"))
    assert counts["stays-recent"] == str(dashboard.TOP_ROWS + 1)
    assert rows == [("hospital-stays", citizen.full_name) for citizen in named]
    assert dashboard_log(counted) == []
    assert all(dashboard_log(citizen) == [(AccessAction.LIST, AccessReason.GP_CLINIC)] for citizen in named)


@pytest.mark.parametrize("name", ["homecare_a", "gp_a"])
def test_the_query_count_does_not_grow_with_the_work(
    client, world, actor, deliver, name, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    work(world, actor, deliver, world.citizen)
    login(client, world, name)
    client.get(reverse("dashboard"))  # warm-up: the session
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("dashboard"))
    for i in range(2 * dashboard.TOP_ROWS):
        work(world, actor, deliver, citizen_of(world, last_name=f"Borger{i}"))
    with django_assert_max_num_queries(len(one)):
        _html, counts, rows = page(client)
    assert len(rows) == len({row[0] for row in rows}) * dashboard.TOP_ROWS  # every card with rows is full
    # Session, user and acting organisation (3); the citizen cards: the gate, a count, the rows
    # and their two prefetches (6); care plans: the gate, two counts, two lists' rows (6) and the
    # Today list with its gate (6); messages: two capped counts and the rows, each through the
    # gate (9); the page's access log: the reasons through the gate (3) and one append (5); the
    # navigation badges (7); the members, the switcher and the session save (5).
    assert len(one) <= 50


def test_the_dashboard_renders_in_danish_the_default_language(client, busy):
    login(client, busy, "homecare_a").cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    html = client.get(reverse("dashboard")).content.decode()
    assert '<html lang="da">' in html
    with override("da"):
        for text in ("Your work", "Messages", "Alerts", "Hand-off requests", "Visits today", "Go to Today"):
            assert f">{gettext(text)}<" in html or f">{gettext(text)} <" in html, text


# --- the "admitted or discharged in the last 48 hours" filter behind the hospital card -------------


def test_the_recent_stay_filter_selects_admissions_and_discharges_of_the_last_48_hours(client, world, frozen):
    now = timezone.now()
    for name, admitted, discharged in (
        ("Indlagt", 47, None),
        ("Udskrevet", 240, 47),
        ("Tidligere", 240, 49),
        ("Langtidsindlagt", 72, None),
    ):
        HospitalStayFactory(
            citizen=citizen_of(world, last_name=name),
            department=world.department,
            admitted_at=now - datetime.timedelta(hours=admitted),
            discharged_at=None if discharged is None else now - datetime.timedelta(hours=discharged),
        )
    login(client, world, "gp_a")

    def names(value):
        response = client.get(reverse("citizens:list"), {"recent_stay": value})
        assert response.status_code == 200
        return {citizen.last_name for citizen in response.context["page"].object_list}

    assert names("true") == {"Indlagt", "Udskrevet"}
    assert names("false") == {"Tidligere", "Langtidsindlagt", world.citizen.last_name}
    html = client.get(reverse("citizens:list"), {"recent_stay": "true"}).content.decode()
    assert '<option value="true" selected>' in html  # the list shows that it is filtered
    assert client.get(reverse("citizens:list"), {"recent_stay": "perhaps"}).context["page"].object_list == []


# --- the registry ------------------------------------------------------------------------------------


def test_the_registry_orders_the_cards_and_logs_their_citizens_once(monkeypatch, rf):
    logged = []
    monkeypatch.setattr(dashboard, "_PROVIDERS", {})
    monkeypatch.setattr(dashboard, "_ROW_LOGGER", [])
    dashboard.register_row_logger(lambda request, citizens: logged.append(citizens))

    @dashboard.register_cards("late")
    def late(request):
        return [dashboard.CardKind("b", 20, "B", "B", "dashboard").card(counts=(), citizens=["x"])]

    @dashboard.register_cards("early")
    def early(request):
        return [dashboard.CardKind("a", 10, "A", "A", "dashboard").card(counts=(), citizens=["y", "z"])]

    cards = dashboard.dashboard_cards(rf.get("/"))
    assert [card.key for card in cards] == ["a", "b"]
    assert logged == [["y", "z", "x"]]


def test_the_registry_refuses_to_show_citizens_it_cannot_log(monkeypatch, rf):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setattr(dashboard, "_PROVIDERS", {})
    monkeypatch.setattr(dashboard, "_ROW_LOGGER", [])
    kind = dashboard.CardKind("a", 1, "A", "A", "dashboard")
    dashboard.register_cards("one")(lambda request: [kind.card(counts=(), citizens=["x"])])
    with pytest.raises(ImproperlyConfigured):
        dashboard.dashboard_cards(rf.get("/"))


def test_a_capped_count_shows_the_cap_and_a_plus():
    count = dashboard.Count("unread", 100, "/", "unread", cap=99)
    assert (count.shown, dashboard.Count("unread", 99, "/", "unread", cap=99).shown) == ("99+", "99")
    assert dashboard.Count("red", 1000, "/", "red").shown == "1000"
