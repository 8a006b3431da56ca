import datetime

import factory
from django.utils import timezone

from citizens.cpr import parse_cpr
from citizens.models import Citizen, Condition, HospitalStay
from sectors.tests.factories import GPClinicFactory, HospitalDepartmentFactory, MunicipalityFactory


def synthetic_cpr(n: int) -> str:
    """Valid, obviously synthetic and distinct CPR numbers (sequence part 9xxx) for n < 336,000."""
    return f"{(n % 28) + 1:02d}{(n // 28) % 12 + 1:02d}{40 + (n // 336) % 50:02d}9{n % 1000:03d}"


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citizen

    cpr = factory.Sequence(synthetic_cpr)
    birth_date = factory.LazyAttribute(lambda o: parse_cpr(o.cpr).birth_date)
    sex = factory.LazyAttribute(lambda o: parse_cpr(o.cpr).sex)
    first_name = factory.Faker("first_name", locale="da_DK")
    last_name = factory.Faker("last_name", locale="da_DK")
    municipality = factory.SubFactory(MunicipalityFactory)
    gp_clinic = factory.SubFactory(GPClinicFactory)


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition
        django_get_or_create = ("icd10_code",)

    icd10_code = "J44"
    name_da = "KOL"
    name_en = "COPD"


class HospitalStayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HospitalStay

    citizen = factory.SubFactory(CitizenFactory)
    department = factory.SubFactory(HospitalDepartmentFactory)
    admitted_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=2))
