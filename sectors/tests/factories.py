"""factory_boy factories for organisations, users and memberships; every app's tests use them."""

import factory
from django.utils import timezone

from sectors.choices import PRACTICE_KINDS, MembershipRole, OrganisationKind, OrganisationSource
from sectors.identifiers import synthetic_gln, synthetic_sor
from sectors.models import Membership, Organisation, User

TEST_NAMESPACE = 7  # keeps factory codes apart from reference and demo data


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.GP_CLINIC
    name = factory.Sequence(lambda n: f"Test organisation {n}")
    sor_code = factory.Sequence(lambda n: synthetic_sor(TEST_NAMESPACE, n))
    gln = factory.Sequence(lambda n: synthetic_gln(TEST_NAMESPACE, n))
    ydernummer = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind in PRACTICE_KINDS),
        yes_declaration=factory.Sequence(lambda n: str(100000 + n)),
        no_declaration="",
    )
    municipality_code = ""


class RegionFactory(OrganisationFactory):
    kind = OrganisationKind.REGION
    name = factory.Sequence(lambda n: f"Test Region {n}")


class MunicipalityFactory(OrganisationFactory):
    kind = OrganisationKind.MUNICIPALITY
    name = factory.Sequence(lambda n: f"Test Kommune {n}")
    municipality_code = factory.Sequence(lambda n: f"{9000 + n % 1000:04d}")


class GPClinicFactory(OrganisationFactory):
    kind = OrganisationKind.GP_CLINIC
    name = factory.Sequence(lambda n: f"Lægehuset {n}")
    municipality = factory.SubFactory(MunicipalityFactory)


class HospitalUnitFactory(OrganisationFactory):
    kind = OrganisationKind.HOSPITAL_UNIT
    name = factory.Sequence(lambda n: f"Test Sygehus {n}")


class HospitalDepartmentFactory(OrganisationFactory):
    kind = OrganisationKind.HOSPITAL_DEPARTMENT
    name = factory.Sequence(lambda n: f"Medicinsk afdeling {n}")
    parent = factory.SubFactory(HospitalUnitFactory)


class MunicipalUnitFactory(OrganisationFactory):
    """A municipality's unit (home care district by default; pass ``kind`` for another)."""

    kind = OrganisationKind.HOME_CARE
    name = factory.Sequence(lambda n: f"Hjemmeplejen Distrikt {n}")
    parent = factory.SubFactory(MunicipalityFactory)
    municipality = factory.SelfAttribute("parent")


class HospitalWardFactory(OrganisationFactory):
    kind = OrganisationKind.HOSPITAL_WARD
    name = factory.Sequence(lambda n: f"Sengeafsnit {n}")
    parent = factory.SubFactory(HospitalDepartmentFactory)


class SpecialistPracticeFactory(OrganisationFactory):
    kind = OrganisationKind.SPECIALIST_PRACTICE
    name = factory.Sequence(lambda n: f"Speciallægepraksis {n}")


class PharmacyFactory(OrganisationFactory):
    kind = OrganisationKind.PHARMACY
    name = factory.Sequence(lambda n: f"Apotek {n}")


class ExternalOrganisationFactory(OrganisationFactory):
    """A directory entry outside the portal (as a SOR import or a message's sender makes it)."""

    kind = OrganisationKind.HOSPITAL_UNIT
    name = factory.Sequence(lambda n: f"Hospital elsewhere {n}")
    is_external = True
    source = OrganisationSource.SOR


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@test.example")
    first_name = factory.Faker("first_name", locale="da_DK")
    last_name = factory.Faker("last_name", locale="da_DK")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(GPClinicFactory)
    role = MembershipRole.GP
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timezone.timedelta(days=30))
