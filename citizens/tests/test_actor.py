import pytest
from django.core.exceptions import PermissionDenied

from citizens.access import Actor
from sectors.acting import NOBODY, resolve
from sectors.tests.factories import GPClinicFactory, MembershipFactory, UserFactory


@pytest.mark.django_db
def test_acting_organisation_is_the_organisation_acted_for():
    clinic = GPClinicFactory()
    user = UserFactory()
    MembershipFactory(user=user, organisation=clinic)
    assert Actor(user=user, acting=resolve(user, clinic.pk)).acting_organisation == clinic


@pytest.mark.django_db
def test_acting_organisation_refuses_an_actor_without_one():
    actor = Actor(user=UserFactory(), acting=NOBODY)
    with pytest.raises(PermissionDenied) as refused:
        actor.acting_organisation  # noqa: B018 - the property is the code under test
    assert str(refused.value) == "You act for no organisation, so you cannot do this."
