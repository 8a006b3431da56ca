"""The list pages cost the same queries however many rows they show (issue 12): each page is
rendered with a few rows and again with more, every row by another organisation, citizen or
author, so a relation read once per row would show as a growing count. The exact counts pin what
a page costs today; a new query on one of them is a decision, not an accident."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time
from rest_framework.test import APIClient

from careplans.choices import CarePlanStatus, ObservationCode, ThresholdCode
from careplans.models import Handoff, Threshold
from careplans.monitoring import schedule_create, threshold_set
from careplans.services import activity_create, careplan_create, goal_create, handoff_accept, handoff_reject
from citizens.access import Actor
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction, ReviewConclusion, ReviewKind
from citizens.models import AccessLogEntry, AccessReviewItem, BreakGlassAccess, CitizenCondition, Condition
from citizens.reviews import access_review_done, access_review_flag, break_glass_review
from citizens.services import break_glass_open
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db

FEW, MORE = 2, 8
TODAY = "2026-03-11 08:00:00"
_serial = itertools.count(1)


@pytest.fixture
def frozen():
    """Wednesday 11 March 2026, 09:00 in Copenhagen: the access report groups by day."""
    with freeze_time(TODAY, tick=False) as frozen_time:
        yield frozen_time


def member(organisation, role=MembershipRole.GP) -> Actor:
    """A new person of the organisation, acting for it."""
    user = MembershipFactory(organisation=organisation, role=role).user
    return Actor(user=user, acting=resolve(user, organisation.pk), ip_address="127.0.0.1")


def queries(client, url: str, params: dict | None = None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # a streamed page queries while it is read
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx), response


def few_and_more(client, url: str, add: Callable[[int], None], params: dict | None = None):
    """The page's query count and answer with FEW rows, then with MORE."""
    client.get(url, params or {})  # warm-up: the session (renewed, then not again for a minute), the content types
    add(FEW)
    few, few_response = queries(client, url, params)
    add(MORE - FEW)
    more, more_response = queries(client, url, params)
    return few, more, few_response, more_response


# --- hand-offs -------------------------------------------------------------------------------------


def request_handoff(receiver, *, goal: bool, responsible_person=None):
    """A clinic of its own (the sender), one of its GPs and one of its citizens: the GP asks the
    receiver to take a goal or an activity of a new plan the GP coordinates."""
    clinic = GPClinicFactory()
    gp = member(clinic)
    citizen = CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality, last_name=f"Borger{next(_serial)}")
    plan = careplan_create(
        actor=gp,
        citizen=citizen,
        title=f"Forløb {citizen.last_name}",
        coordinating_organisation=clinic,
        coordinator=gp.user,
        status=CarePlanStatus.ACTIVE,
    )
    if goal:
        goal_create(
            actor=gp, plan=plan, description="Vægt under 90 kg", responsible_organisation=receiver, target_text="90"
        )
    else:
        activity_create(
            actor=gp,
            plan=plan,
            description="Blodtryksmåling",
            responsible_organisation=receiver,
            responsible_person=responsible_person,
            weekdays="MO,TH",
        )
    return gp


def test_incoming_handoffs_cost_the_same_queries_for_more_requests(client):
    municipality = MunicipalityFactory()
    nurse = member(municipality, MembershipRole.HOME_CARE_NURSE)

    def add(n):
        for i in range(n):
            person = member(municipality, MembershipRole.HOME_CARE_NURSE).user if i % 3 else None
            request_handoff(municipality, goal=i % 2 == 0, responsible_person=person)

    client.force_login(nurse.user)
    few, more, _, response = few_and_more(client, reverse("careplans:handoffs"), add)

    assert len(response.context["handoffs"]) == MORE
    assert more == few == 6


def test_sent_handoffs_cost_the_same_queries_for_more_requests_and_answers(client):
    clinic = GPClinicFactory()
    gp = member(clinic)
    citizens = []

    def add(n):
        for i in range(n):
            receiver = MunicipalityFactory() if i % 2 else HospitalDepartmentFactory()
            citizen = CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality)
            citizens.append(citizen)
            plan = careplan_create(
                actor=member(clinic),  # another GP each time: the coordinator differs
                citizen=citizen,
                title="Forløb",
                coordinating_organisation=clinic,
                status=CarePlanStatus.ACTIVE,
            )
            activity_create(
                actor=gp, plan=plan, description="Opfølgning", responsible_organisation=receiver, weekdays="TU"
            )
            handoff = Handoff.objects.get(care_plan=plan)
            answerer = member(receiver, MembershipRole.HOME_CARE_NURSE if i % 2 else MembershipRole.HOSPITAL_NURSE)
            if i % 3 == 1:
                handoff_accept(actor=answerer, handoff=handoff, comment="Vi starter mandag")
            elif i % 3 == 2:
                handoff_reject(actor=answerer, handoff=handoff, reason="Ikke vores område")

    client.force_login(gp.user)
    few, more, _, response = few_and_more(client, reverse("careplans:handoffs"), add, {"tab": "sent"})

    assert len(response.context["handoffs"]) == MORE
    assert more == few == 6


# --- thresholds and monitoring schedules ------------------------------------------------------------


LIMITS = {
    ThresholdCode.SYSTOLIC: (90, 160),
    ThresholdCode.DIASTOLIC: (50, 100),
    ThresholdCode.HEART_RATE: (40, 120),
    ThresholdCode.SPO2: (88, 99),
    ThresholdCode.BODY_WEIGHT: (50, 120),
    ThresholdCode.BLOOD_GLUCOSE: (4, 15),
    ThresholdCode.FEV1: (1, 5),
}


def join_care_team(gp, citizen, organisation) -> None:
    """The GP hands a goal of a new plan to the organisation, which joins the plan's care team."""
    plan = careplan_create(
        actor=gp, citizen=citizen, title="Forløb", coordinating_organisation=gp.organisation,
        status=CarePlanStatus.ACTIVE,
    )  # fmt: skip
    goal_create(actor=gp, plan=plan, description="Afklaring", responsible_organisation=organisation)


@pytest.fixture
def team():
    """A citizen of a clinic, and three hospital departments on the citizen's care teams."""
    clinic = GPClinicFactory()
    gp = member(clinic)
    citizen = CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality)
    departments = [HospitalDepartmentFactory() for _ in range(3)]
    for department in departments:
        join_care_team(gp, citizen, department)
    return gp, citizen, [clinic, clinic.municipality, *departments]


def test_the_thresholds_page_costs_the_same_queries_for_more_limits_and_schedules(client, team):
    gp, citizen, organisations = team
    codes = itertools.cycle(ThresholdCode.values)
    measured = itertools.cycle(ObservationCode.values)
    monitors = itertools.cycle(organisations)
    roles = {"gp_clinic": MembershipRole.GP, "municipality": MembershipRole.HOME_CARE_NURSE}

    def add(n):
        for i in range(n):
            # Each version set by another clinician of another of the citizen's organisations.
            organisation = organisations[i % len(organisations)]
            clinician = member(organisation, roles.get(organisation.kind, MembershipRole.HOSPITAL_PHYSICIAN))
            code = next(codes)
            low, high = LIMITS[code]
            threshold_set(
                actor=clinician, citizen=citizen, code=code, reason=f"Grund {i}", yellow_low=low, yellow_high=high
            )
            schedule_create(
                actor=gp, citizen=citizen, code=next(measured), every_hours=24, monitoring_organisation=next(monitors)
            )

    client.force_login(gp.user)
    url = reverse("careplans:thresholds", args=[citizen.pk])
    few, more, _, response = few_and_more(client, url, add)

    assert len(response.context["history"]) == Threshold.objects.filter(citizen=citizen).count() == MORE
    assert len(response.context["schedules"]) == MORE
    assert more == few == 19


def test_the_thresholds_page_costs_the_same_queries_for_a_bigger_care_team(client, team):
    gp, citizen, _organisations = team

    def add(n):
        for _i in range(n):
            join_care_team(gp, citizen, HospitalDepartmentFactory())

    client.force_login(gp.user)
    few, more, _, response = few_and_more(client, reverse("careplans:thresholds", args=[citizen.pk]), add)

    choices = response.context["schedule_form"].fields["monitoring_organisation"].choices
    assert len(choices) == 1 + 2 + 3 + MORE  # the empty choice, the clinic and the municipality, the departments
    assert more == few


# --- citizen search ------------------------------------------------------------------------------


def add_hansens(clinic, n: int) -> None:
    """Citizens of the clinic named Hansen, each in another municipality, with two chronic
    conditions and a current hospital stay in another department; and one named otherwise."""
    conditions = list(Condition.objects.filter(icd10_code__in=["J44", "E11", "I50"]))
    for i in range(n):
        citizen = CitizenFactory(gp_clinic=clinic, last_name="Hansen")
        for condition in (conditions[i % 3], conditions[(i + 1) % 3]):
            CitizenCondition.objects.create(citizen=citizen, condition=condition)
        HospitalStayFactory(citizen=citizen, department=HospitalDepartmentFactory(parent=HospitalUnitFactory()))
        CitizenFactory(gp_clinic=clinic, last_name="Jensen")


@pytest.mark.parametrize("page,param", [("citizens:search", "q"), ("citizens:list", "search")])
def test_a_name_search_costs_the_same_queries_for_more_hits(client, clinic, gp, page, param):
    client.force_login(gp)
    few, more, _, response = few_and_more(client, reverse(page), lambda n: add_hansens(clinic, n), {param: "Hansen"})

    hits = response.context["hits"] if page == "citizens:search" else response.context["page"].object_list
    assert [c.last_name for c in hits] == ["Hansen"] * MORE
    assert more == few == {"citizens:search": 8, "citizens:list": 12}[page]


def test_an_api_search_costs_the_same_queries_for_more_hits(clinic, gp):
    client = APIClient()
    client.force_authenticate(gp)
    few, more, _, response = few_and_more(
        client, "/api/v1/citizens/", lambda n: add_hansens(clinic, n), {"search": "Hansen"}
    )

    assert [c["last_name"] for c in response.json()["results"]] == ["Hansen"] * MORE
    assert more == few == 4  # the count, the page, the page's citizens in one statement, the log


# --- who has seen the data -----------------------------------------------------------------------


def add_accesses(frozen, citizen, days_back: Iterator[int], n: int) -> None:
    """n more days before today of accesses, each day by three people of another organisation: a
    list, a look-up, a change."""
    for _i in range(n):
        day = next(days_back)
        frozen.move_to(datetime.datetime.fromisoformat(TODAY) - datetime.timedelta(days=day))
        organisation = MunicipalityFactory() if day % 2 else HospitalDepartmentFactory()
        for action, detail in (
            (AccessAction.LIST, "today list"),
            (AccessAction.VIEW, "overview"),
            (AccessAction.UPDATE, "phone"),
        ):
            access_log_record(actor=member(organisation, MembershipRole.HOME_CARE_NURSE), citizens=citizen,
                              action=action, detail=detail)  # fmt: skip
    frozen.move_to(TODAY)


@pytest.mark.parametrize("url_name", ["citizens:access_report", "citizens:access_report_csv"])
def test_the_access_report_costs_the_same_queries_for_more_accesses(client, frozen, clinic, gp, url_name):
    citizen = CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality)
    client.force_login(gp)
    url = reverse(url_name, args=[citizen.pk])

    days_back = itertools.count(1)
    few, more, _, response = few_and_more(client, url, lambda n: add_accesses(frozen, citizen, days_back, n))

    accesses = AccessLogEntry.objects.filter(citizen=citizen)
    assert accesses.exclude(action=AccessAction.ACCESS_REPORT).count() == 3 * MORE
    if url_name == "citizens:access_report":
        groups = response.context["groups"]
        assert len(groups) == MORE + 1  # and today's: the GP's clinic reading the report
        assert sum(len(group.entries) for group in groups) == accesses.count()
    assert more == few == {"citizens:access_report": 15, "citizens:access_report_csv": 9}[url_name]


# --- the access review ---------------------------------------------------------------------------


def test_the_access_review_costs_the_same_queries_for_more_accesses(client):
    region = RegionFactory()
    admin = member(region, MembershipRole.ORGANISATION_ADMIN)

    def add(n):
        for i in range(n):
            # A department of its own, with its own staff, citizens and administrator.
            department = HospitalDepartmentFactory(parent=HospitalUnitFactory(parent=region))
            physician = member(department, MembershipRole.HOSPITAL_PHYSICIAN)
            citizen = CitizenFactory()
            break_glass_open(actor=physician, cpr=citizen.cpr, reason="Bevidstløs uden journal")
            item = access_review_flag(
                actor=member(department, MembershipRole.HOSPITAL_NURSE), citizen=CitizenFactory(),
                kind=ReviewKind.ADMISSION if i % 2 else ReviewKind.DEATH, reason="Indlagt akut",
            )  # fmt: skip
            if i % 2:
                reviewer = member(department, MembershipRole.ORGANISATION_ADMIN)
                review = {"conclusion": ReviewConclusion.JUSTIFIED, "note": "Set"}
                break_glass_review(actor=reviewer, grant=BreakGlassAccess.objects.get(citizen=citizen), **review)
                access_review_done(actor=reviewer, item=item, **review)

    client.force_login(admin.user)
    few, more, _, response = few_and_more(client, reverse("citizens:break_glass_review"), add, {"status": "all"})

    assert BreakGlassAccess.objects.count() == AccessReviewItem.objects.count() == MORE
    assert len(response.context["page"].object_list) == 2 * MORE
    assert more == few == 10
