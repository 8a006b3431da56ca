"""Single sign-on through an organisation's SAML 2.0 identity provider, end to end: the portal (in the
test client) sends its AuthnRequest through allauth's SAML provider (python3-saml); a real identity
provider (``tests/idp/saml.py``, in this process, with a key made for the run) answers it with a signed
Response whose Assertion carries the person's attributes and AuthnContextClassRef; the portal's
assertion consumer service checks it and signs the person in, or refuses.

SAML wants a dotted host name, so the portal is ``smartcare.example`` here."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from sectors.choices import AccountLinking, IdentityProtocol, MembershipRequestStatus, MembershipRole
from sectors.models import IdentityProvider, Membership, MembershipRequest, User
from sectors.services import identity_provider_save, saml_available
from sectors.sso import AUTHN_CONTEXT_CLAIM, SSO_SESSION_KEY

from .factories import MembershipFactory, UserFactory
from .sso_helpers import signed_in, texts, with_totp

try:
    from tests.idp.saml import (
        NSIS_LOW,
        NSIS_SUBSTANTIAL,
        PASSWORD,
        TWO_FACTOR,
        AuthnRequest,
        SamlIdentityProvider,
        SigningKey,
        encode,
        read_authn_request,
    )
except ImportError as error:  # xmlsec (libxmlsec1) cannot be loaded on this machine
    if os.environ.get("SMARTCARE_REQUIRE_SYSTEM_TOOLS") == "1":
        raise
    pytest.skip(f"SAML needs python3-saml and xmlsec: {error}", allow_module_level=True)

if not saml_available():  # pragma: no cover - depends on the machine
    if os.environ.get("SMARTCARE_REQUIRE_SYSTEM_TOOLS") == "1":
        pytest.fail("SAML is not installed (python3-saml, xmlsec)", pytrace=False)
    pytest.skip("SAML is not installed (python3-saml, xmlsec)", allow_module_level=True)

HOST = "smartcare.example"
SLUG = "region-saml"
EMAIL = "urn:oid:0.9.2342.19200300.100.1.3"
EMPLOYEE_NUMBER = "urn:oid:2.16.840.1.113730.3.1.3"
GIVEN_NAME, SURNAME = "urn:oid:2.5.4.42", "urn:oid:2.5.4.4"
NSIS_HIGH = "https://data.gov.dk/concept/core/nsis/loa/High"


@pytest.fixture(scope="module")
def idp() -> SamlIdentityProvider:
    return SamlIdentityProvider("https://idp.rsyd.example/saml", "https://idp.rsyd.example/saml/sso")


@pytest.fixture
def provider(idp, region) -> IdentityProvider:
    return identity_provider_save(
        by=None,
        provider=IdentityProvider(
            name="Region Syddanmark",
            slug=SLUG,
            protocol=IdentityProtocol.SAML,
            saml_entity_id=idp.entity_id,
            saml_sso_url=idp.sso_url,
            saml_x509cert=idp.certificate,
            email_claim=EMAIL,
            uid_claim=EMPLOYEE_NUMBER,
            organisation_claim="sorCode",
            role_claim="role",
            role_mapping={"sygeplejerske": MembershipRole.HOSPITAL_NURSE, "læge": MembershipRole.HOSPITAL_PHYSICIAN},
            mfa_claim=AUTHN_CONTEXT_CLAIM,
            mfa_values=f"{NSIS_SUBSTANTIAL}, {NSIS_HIGH}, {TWO_FACTOR}",
        ),
        organisations=[region],
    )


@pytest.fixture
def client(settings) -> Client:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    client = Client(HTTP_HOST=HOST)
    client.cookies["django_language"] = "en"
    return client


def start(client: Client, idp: SamlIdentityProvider, slug: str = SLUG) -> tuple[AuthnRequest, str]:
    """The portal's sign-in button: its AuthnRequest, redirected to the provider."""
    response = client.post(reverse("saml_login", kwargs={"organization_slug": slug}), {"process": "login"})
    assert response.status_code == 302, response.content[:500]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == idp.sso_url
    query = parse_qs(location.query)
    request = read_authn_request(query["SAMLRequest"][0])
    assert request.acs_url == f"http://{HOST}{reverse('saml_acs', kwargs={'organization_slug': slug})}"
    return request, query.get("RelayState", [""])[0]


def post_to_portal(client: Client, request: AuthnRequest, response_xml: bytes, relay_state: str = ""):
    """The person's browser POSTs the provider's answer to the portal's assertion consumer service."""
    acs = client.post(urlsplit(request.acs_url).path, {"SAMLResponse": encode(response_xml), "RelayState": relay_state})
    assert acs.status_code == 302
    return client.get(acs["Location"])


def sign_in(client: Client, idp: SamlIdentityProvider, **answer):
    request, relay_state = start(client, idp)
    return post_to_portal(client, request, idp.response(request, **answer), relay_state)


def person(email: str, *, employee: str = "E-1", sor: str | list[str] = "", role: str | list[str] = "", **more):
    """A person's attributes, as the provider sends them (every attribute a list of values)."""
    attributes = {
        EMAIL: [email],
        EMPLOYEE_NUMBER: [employee],
        "sorCode": [sor] if isinstance(sor, str) else sor,
        "role": [role] if isinstance(role, str) else role,
        **{name: [value] if isinstance(value, str) else value for name, value in more.items()},
    }
    return {name: values for name, values in attributes.items() if values and values != [""]}


# --- signing in ---------------------------------------------------------------------------------


def test_a_new_person_is_linked_by_their_verified_email_and_their_membership_waits_for_approval(
    client, idp, provider, department
):
    response = sign_in(
        client,
        idp,
        name_id="anna-7f3a",
        attributes=person(
            "Anna.Nurse@rsyd.example",
            sor=department.sor_code,
            role="sygeplejerske",
            email_verified="true",
            **{GIVEN_NAME: "Anna", SURNAME: "Holm"},
        ),
        authn_context=PASSWORD,
    )

    user = signed_in(client)
    assert user is not None and user.email == "anna.nurse@rsyd.example"
    assert (user.first_name, user.last_name, user.is_staff, user.is_superuser) == ("Anna", "Holm", False, False)
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == (idp.entity_id, "Anna.Nurse@rsyd.example")  # as the provider says it
    assert account.extra_data[AUTHN_CONTEXT_CLAIM] == [PASSWORD]
    request = MembershipRequest.objects.get(user=user)
    assert (request.organisation, request.role, request.status, request.identity_provider) == (
        department,
        MembershipRole.HOSPITAL_NURSE,
        MembershipRequestStatus.PENDING,
        provider,
    )
    assert not Membership.objects.filter(user=user).exists()
    assert any("awaits approval" in text for text in texts(response))

    # A password at the provider is one factor: the portal's own is set up before anything else.
    assert client.session[SSO_SESSION_KEY]["mfa"] == ""
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 302 and dashboard["Location"] == reverse("mfa_activate_totp")


def test_without_a_verified_email_no_account_is_made_or_linked(client, idp, provider, department):
    UserFactory(email="dora@rsyd.example")
    response = sign_in(
        client,
        idp,
        name_id="dora",
        attributes=person("dora@rsyd.example", sor=department.sor_code, role="sygeplejerske"),
    )
    assert signed_in(client) is None
    assert not SocialAccount.objects.exists()
    assert any("did not confirm your e-mail address" in text for text in texts(response))


def test_a_new_person_is_linked_by_their_employee_number_and_stays_the_same_when_their_email_changes(
    client, idp, provider, department
):
    provider.link_by = AccountLinking.CLAIM
    identity_provider_save(by=None, provider=provider, organisations=list(provider.organisations.all()))
    sign_in(
        client,
        idp,
        name_id="transient-1",
        attributes=person("erik@rsyd.example", employee="E-4711", sor=department.sor_code, role="læge"),
        authn_context=NSIS_SUBSTANTIAL,
    )
    erik = signed_in(client)
    assert erik is not None and erik.email == "erik@rsyd.example"
    assert SocialAccount.objects.get(user=erik).uid == "E-4711"
    assert MembershipRequest.objects.get(user=erik).role == MembershipRole.HOSPITAL_PHYSICIAN

    client.logout()
    sign_in(
        client,
        idp,
        name_id="transient-2",
        attributes=person("erik.new@rsyd.example", employee="E-4711", sor=department.sor_code, role="læge"),
        authn_context=NSIS_SUBSTANTIAL,
    )
    assert signed_in(client) == erik
    assert User.objects.count() == 1
    assert MembershipRequest.objects.filter(user=erik).count() == 1  # the same request still waits


@pytest.mark.parametrize("context", [NSIS_SUBSTANTIAL, TWO_FACTOR])
def test_an_approved_member_signs_straight_in_when_the_assertion_names_two_factors(
    client, idp, provider, department, context
):
    bent = with_totp(UserFactory(email="bent@rsyd.example"))
    MembershipFactory(user=bent, organisation=department, role=MembershipRole.HOSPITAL_PHYSICIAN)
    response = sign_in(
        client,
        idp,
        name_id="bent",
        attributes=person("bent@rsyd.example", sor=department.sor_code, role="læge", email_verified="true"),
        authn_context=context,
    )

    assert signed_in(client) == bent
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")  # no TOTP step
    assert client.session[SSO_SESSION_KEY]["mfa"] == "provider"
    assert not MembershipRequest.objects.exists()
    assert client.get(reverse("dashboard")).status_code == 200


def test_an_authentication_context_the_provider_does_not_accept_asks_for_the_portals_totp(
    client, idp, provider, department
):
    bent = with_totp(UserFactory(email="bent@rsyd.example"))
    MembershipFactory(user=bent, organisation=department, role=MembershipRole.HOSPITAL_PHYSICIAN)
    # An attribute of the same name does not stand in for the assertion's authentication context.
    attributes = person(
        "bent@rsyd.example",
        sor=department.sor_code,
        role="læge",
        email_verified="true",
        **{AUTHN_CONTEXT_CLAIM: NSIS_SUBSTANTIAL},
    )
    response = sign_in(client, idp, name_id="bent", attributes=attributes, authn_context=NSIS_LOW)

    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert signed_in(client) is None  # not until the code is given


# --- refused answers ----------------------------------------------------------------------------

OTHER_KEY = SigningKey.make("someone else")


def _tampered(idp: SamlIdentityProvider, request: AuthnRequest, **answer) -> bytes:
    return idp.response(request, **answer).replace(b"sygeplejerske", b"l\xc3\xa6ge")


# Each wrong answer, and why python3-saml refuses it.
WRONG_ANSWERS = {
    "signed with another key": (
        lambda idp, request, **answer: idp.response(request, signed_by=OTHER_KEY, **answer),
        "Signature validation failed",
    ),
    "changed after signing": (_tampered, "Signature validation failed"),
    "meant for another service": (
        lambda idp, request, **answer: idp.response(
            request, audience="https://other-portal.example/saml/metadata/", **answer
        ),
        "is not a valid audience",
    ),
    "from an unknown provider": (
        lambda idp, request, **answer: idp.response(
            request, issuer="https://idp.unknown.example/saml", signed_by=OTHER_KEY, **answer
        ),
        "Invalid issuer",
    ),
}


@pytest.mark.parametrize("wrong", WRONG_ANSWERS)
def test_a_wrong_answer_signs_nobody_in(client, idp, provider, department, wrong):
    answer = {
        "name_id": "anna",
        "attributes": person("anna@rsyd.example", sor=department.sor_code, role="sygeplejerske", email_verified="true"),
        "authn_context": NSIS_SUBSTANTIAL,
    }
    make, reason = WRONG_ANSWERS[wrong]
    request, relay_state = start(client, idp)
    response = post_to_portal(client, request, make(idp, request, **answer), relay_state)

    assert signed_in(client) is None
    assert response.status_code == 401 and reason in response.context["saml_last_error_reason"]
    assert not User.objects.filter(email="anna@rsyd.example").exists()
    assert not SocialAccount.objects.exists() and not MembershipRequest.objects.exists()

    # The same request answered rightly signs the person in: it was the answer that was wrong.
    post_to_portal(client, request, idp.response(request, **answer), relay_state)
    assert signed_in(client) is not None


def test_an_answer_is_used_once_and_only_for_its_request(client, idp, provider, department):
    bent = UserFactory(email="bent@rsyd.example")
    MembershipFactory(user=bent, organisation=department, role=MembershipRole.HOSPITAL_PHYSICIAN)
    answer = {
        "name_id": "bent",
        "attributes": person("bent@rsyd.example", sor=department.sor_code, role="læge", email_verified="true"),
        "authn_context": NSIS_SUBSTANTIAL,
    }
    request, relay_state = start(client, idp)
    xml = idp.response(request, **answer)
    post_to_portal(client, request, xml, relay_state)
    assert signed_in(client) == bent

    client.logout()
    post_to_portal(client, request, xml, relay_state)  # replayed
    assert signed_in(client) is None
    unasked = AuthnRequest(id="_never-asked", issuer=request.issuer, acs_url=request.acs_url)
    post_to_portal(client, request, idp.response(unasked, **answer))  # unsolicited
    assert signed_in(client) is None


def test_an_unknown_or_inactive_provider_signs_nobody_in(client, idp, provider, department):
    request, relay_state = start(client, idp)
    xml = idp.response(
        request,
        name_id="anna",
        attributes=person("anna@rsyd.example", sor=department.sor_code, role="sygeplejerske", email_verified="true"),
        authn_context=NSIS_SUBSTANTIAL,
    )
    unknown = client.post(
        reverse("saml_acs", kwargs={"organization_slug": "nobody"}), {"SAMLResponse": encode(xml)}, follow=True
    )
    assert unknown.status_code == 404
    assert signed_in(client) is None

    provider.is_active = False
    provider.save()
    response = post_to_portal(client, request, xml, relay_state)
    assert signed_in(client) is None
    assert any("not in use by SmartCare" in text for text in texts(response))
    assert not User.objects.filter(email="anna@rsyd.example").exists()
