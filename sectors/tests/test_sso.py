"""Single sign-on through an organisation's identity provider, against a real OpenID Connect
provider: django-oauth-toolkit in a process of its own (``tests/idp``), on a free port, with an
RSA key made for the run. The portal runs in the test client; its calls to the provider
(discovery, token, userinfo) are real HTTP. The person's part (signing in at the provider,
consenting) is driven with ``requests``."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialApp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from sectors.choices import AccountLinking, IdentityProtocol, MembershipRequestStatus, MembershipRole
from sectors.models import IdentityProvider, Membership, MembershipRequest, User
from sectors.services import identity_provider_save, saml_available
from sectors.sso import claimed_memberships, claims_of, email_verified, mfa_asserted

from .factories import (
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
    RegionFactory,
    UserFactory,
)
from .sso_helpers import signed_in, texts, with_totp

BASE_DIR = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "smartcare-portal", "portal-secret-for-the-test-idp"
SLUG = "region-idp"
CALLBACK = f"http://testserver/accounts/oidc/{SLUG}/login/callback/"
PEOPLE = ["anna", "bent", "carl", "dora", "erik"]
IDP_PASSWORD = "idp-password"  # noqa: S105 - the test provider's accounts (tests/idp/serve.py)


# --- the identity provider ----------------------------------------------------------------------


class IdentityProviderProcess:
    def __init__(self, url: str, claims_file: Path) -> None:
        self.url = url
        self.claims_file = claims_file

    def claims(self, username: str, **claims) -> None:
        """What the provider says of the person at their next sign-in."""
        data = json.loads(self.claims_file.read_text())
        data[username] = claims
        self.claims_file.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idp")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    claims_file = folder / "claims.json"
    claims_file.write_text(json.dumps({name: {} for name in PEOPLE}))
    env = {
        "PATH": "/usr/bin:/bin",
        "IDP_DATABASE": str(folder / "idp.sqlite3"),
        "IDP_RSA_PRIVATE_KEY": pem,
        "IDP_CLAIMS_FILE": str(claims_file),
    }
    process = subprocess.Popen(  # noqa: S603 - the test's own server
        [sys.executable, "-m", "tests.idp.serve", CLIENT_ID, CLIENT_SECRET, CALLBACK],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        if not line.isdigit():
            process.kill()
            pytest.fail(f"the test identity provider did not start: {process.stderr.read() if process.stderr else ''}")
        yield IdentityProviderProcess(f"http://127.0.0.1:{line}", claims_file)
    finally:
        process.terminate()
        process.wait(timeout=10)


class FormInputs(HTMLParser):
    """The <input>s of a page's forms: name → value."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.values[attributes["name"]] = attributes.get("value") or ""


def inputs(html: str) -> dict[str, str]:
    parser = FormInputs()
    parser.feed(html)
    return parser.values


def sign_in(client: Client, idp: IdentityProviderProcess, username: str, slug: str = SLUG):
    """The whole round: the portal's sign-in button, the provider's sign-in and consent pages,
    and the portal's callback (whose response is returned)."""
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": slug}), {"process": "login"})
    assert start.status_code == 302, start.content
    assert start["Location"].startswith(idp.url)
    person = requests.Session()
    login_page = person.get(start["Location"], timeout=10)
    assert "/login/" in login_page.url
    form = inputs(login_page.text)
    consent = person.post(login_page.url, data={**form, "username": username, "password": IDP_PASSWORD}, timeout=10)
    assert consent.status_code == 200 and "/o/authorize/" in consent.url, consent.text[:500]
    answer = person.post(
        consent.url, data={**inputs(consent.text), "allow": "Authorize"}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text[:500]
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(f"{back.path}?{back.query}")


# --- the portal ---------------------------------------------------------------------------------


@pytest.fixture
def provider(idp, region) -> IdentityProvider:
    return identity_provider_save(
        by=None,
        provider=IdentityProvider(
            name="Region Syddanmark",
            slug=SLUG,
            protocol=IdentityProtocol.OIDC,
            server_url=f"{idp.url}/o",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            role_mapping={"sygeplejerske": MembershipRole.HOSPITAL_NURSE, "læge": MembershipRole.HOSPITAL_PHYSICIAN},
        ),
        organisations=[region],
    )


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"
    return client


def test_a_new_person_gets_an_account_and_their_membership_waits_for_approval(client, idp, provider, department):
    idp.claims(
        "anna",
        email="Anna.Nurse@rsyd.example",
        email_verified=True,
        given_name="Anna",
        family_name="Holm",
        sor=department.sor_code,
        role="sygeplejerske",
    )
    response = sign_in(client, idp, "anna")

    user = signed_in(client)
    assert user is not None and user.email == "anna.nurse@rsyd.example"
    assert (user.first_name, user.last_name, user.is_staff, user.is_superuser) == ("Anna", "Holm", False, False)
    assert not user.has_usable_password()
    assert SocialAccount.objects.get(user=user).provider == SLUG
    request = MembershipRequest.objects.get(user=user)
    assert (request.organisation, request.role, request.status) == (
        department,
        MembershipRole.HOSPITAL_NURSE,
        MembershipRequestStatus.PENDING,
    )
    assert not Membership.objects.filter(user=user).exists()  # nothing to act for until approved
    assert any("awaits approval" in text for text in texts(response))

    # No second factor asserted and none in the portal: it is set up before anything else.
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 302 and dashboard["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("mfa_activate_totp")).status_code == 200

    # The department's administrator approves it in the admin: the membership is active.
    admin = MembershipFactory(organisation=department, role=MembershipRole.ORGANISATION_ADMIN).user
    admin.is_staff = True
    admin.save()
    admin.user_permissions.add(Permission.objects.get(codename="view_membershiprequest"))
    admin_client = Client()
    admin_client.force_login(admin)
    changelist = reverse("admin:sectors_membershiprequest_changelist")
    assert admin_client.get(changelist).status_code == 200
    admin_client.post(changelist, {"action": "approve", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.status == MembershipRequestStatus.APPROVED and request.decided_by == admin
    assert Membership.objects.active().get(user=user).organisation == department

    # The next sign-in finds the membership active and asks for nothing more.
    client.logout()
    sign_in(client, idp, "anna")
    assert signed_in(client) == user
    assert MembershipRequest.objects.filter(user=user).count() == 1


def test_an_existing_account_is_linked_by_a_verified_email_and_the_providers_second_factor_counts(
    client, idp, provider, department
):
    bent = UserFactory(email="bent@rsyd.example")
    MembershipFactory(user=bent, organisation=department, role=MembershipRole.HOSPITAL_PHYSICIAN)
    with_totp(bent)
    idp.claims(
        "bent",
        email="bent@rsyd.example",
        email_verified=True,
        amr=["pwd", "mfa"],
        sor=department.sor_code,
        role="læge",
    )
    response = sign_in(client, idp, "bent")

    assert signed_in(client) == bent
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")  # no TOTP step
    assert SocialAccount.objects.get(provider=SLUG).user == bent
    assert not MembershipRequest.objects.exists()  # the membership is already active
    assert client.get(reverse("dashboard")).status_code == 200


def test_without_an_asserted_second_factor_the_portals_totp_is_asked_for(client, idp, provider, department):
    bent = UserFactory(email="bent@rsyd.example")
    MembershipFactory(user=bent, organisation=department, role=MembershipRole.HOSPITAL_PHYSICIAN)
    with_totp(bent)
    idp.claims(
        "bent", email="bent@rsyd.example", email_verified=True, amr=["pwd"], sor=department.sor_code, role="læge"
    )
    response = sign_in(client, idp, "bent")

    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert signed_in(client) is None  # not until the code is given


def test_an_unverified_email_does_not_link_to_an_existing_account(client, idp, provider, department):
    dora = UserFactory(email="dora@rsyd.example")
    idp.claims("dora", email="dora@rsyd.example", email_verified=False, sor=department.sor_code, role="sygeplejerske")
    response = sign_in(client, idp, "dora")

    assert signed_in(client) is None
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert not SocialAccount.objects.exists()
    assert User.objects.filter(email__iexact="dora@rsyd.example").get() == dora
    assert any("did not confirm your e-mail address" in text for text in texts(response))

    # Linked by a claim instead: still no link to the account, and no second account either.
    provider.link_by, provider.uid_claim = AccountLinking.CLAIM, "employeeNumber"
    identity_provider_save(by=None, provider=provider, organisations=list(provider.organisations.all()))
    idp.claims(
        "dora",
        email="dora@rsyd.example",
        email_verified=False,
        employeeNumber="E-4711",
        sor=department.sor_code,
        role="sygeplejerske",
    )
    sign_in(client, idp, "dora")
    assert signed_in(client) is None
    assert not SocialAccount.objects.exists()
    assert User.objects.filter(email__iexact="dora@rsyd.example").count() == 1


def test_an_unknown_sor_code_gives_no_membership_and_no_account(client, idp, provider, department):
    idp.claims("carl", email="carl@rsyd.example", email_verified=True, sor="999999999999999", role="sygeplejerske")
    response = sign_in(client, idp, "carl")

    assert signed_in(client) is None
    assert not User.objects.filter(email="carl@rsyd.example").exists()
    assert any("SOR code 999999999999999" in text for text in texts(response))

    # A person with an account is signed in, told, and given nothing for it.
    carl = UserFactory(email="carl@rsyd.example")
    MembershipFactory(user=carl, organisation=department, role=MembershipRole.HOSPITAL_NURSE)
    response = sign_in(client, idp, "carl")
    assert signed_in(client) == carl
    assert not MembershipRequest.objects.exists()
    assert any("SOR code 999999999999999" in text for text in texts(response))


def test_an_organisation_the_provider_does_not_serve_and_an_unmapped_role_are_refused(
    client, idp, provider, department
):
    elsewhere = HospitalDepartmentFactory(parent=HospitalUnitFactory(parent=RegionFactory()))
    erik = UserFactory(email="erik@rsyd.example")
    idp.claims(
        "erik",
        email="erik@rsyd.example",
        email_verified=True,
        sor=[elsewhere.sor_code, department.sor_code],
        role=["sygeplejerske", "portør"],
    )
    response = sign_in(client, idp, "erik")

    assert signed_in(client) == erik
    assert not MembershipRequest.objects.exists()
    messages = " ".join(texts(response))
    assert f"does not sign in for {elsewhere.name}" in messages
    assert "“portør”" in messages


def test_linked_by_a_claim_the_person_stays_the_same_when_their_email_changes(client, idp, provider, department):
    provider.link_by, provider.uid_claim = AccountLinking.CLAIM, "employeeNumber"
    identity_provider_save(by=None, provider=provider, organisations=[provider.organisations.get()])
    assert SocialApp.objects.get().settings["uid_field"] == "employeeNumber"
    idp.claims(
        "erik",
        email="erik@rsyd.example",
        email_verified=True,
        employeeNumber="E-1001",
        amr="mfa",
        sor=department.sor_code,
        role="læge",
    )
    sign_in(client, idp, "erik")
    erik = signed_in(client)
    assert erik is not None and SocialAccount.objects.get(user=erik).uid == "E-1001"

    client.logout()
    idp.claims(
        "erik", email="erik.new@rsyd.example", employeeNumber="E-1001", amr="mfa", sor=department.sor_code, role="læge"
    )
    sign_in(client, idp, "erik")
    assert signed_in(client) == erik
    assert User.objects.count() == 1


def test_a_superuser_is_never_signed_in_through_a_provider(client, idp, provider, department):
    UserFactory(email="anna.nurse@rsyd.example", is_superuser=True, is_staff=True)
    idp.claims(
        "anna", email="anna.nurse@rsyd.example", email_verified=True, sor=department.sor_code, role="sygeplejerske"
    )
    sign_in(client, idp, "anna")
    assert signed_in(client) is None
    assert not SocialAccount.objects.exists()


def test_the_sign_in_page_offers_each_providers_button(client, provider, region):
    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign in with Region Syddanmark" in html
    assert reverse("openid_connect_login", kwargs={"provider_id": SLUG}) in html
    assert region.name in html


# --- claims, without the provider ---------------------------------------------------------------


def _provider(**fields) -> IdentityProvider:
    return IdentityProvider(**{"name": "X", "slug": "x", "protocol": IdentityProtocol.OIDC, **fields})


def test_claims_read_the_id_token_and_userinfo_and_keep_the_id_tokens_amr():
    provider = _provider()
    claims = claims_of(
        provider, {"id_token": {"sub": "1", "amr": ["mfa"]}, "userinfo": {"sub": "1", "amr": ["pwd"], "sor": "1"}}
    )
    assert claims == {"sub": "1", "amr": ["mfa"], "sor": "1"}
    assert mfa_asserted(provider, claims)
    assert not mfa_asserted(provider, {"amr": ["pwd"]})
    nsis = _provider(mfa_claim="acr", mfa_values="https://data.gov.dk/concept/core/nsis/Substantial")
    assert mfa_asserted(nsis, {"acr": "https://data.gov.dk/concept/core/nsis/Substantial"})
    assert not mfa_asserted(nsis, {"acr": "https://data.gov.dk/concept/core/nsis/Low"})


def test_saml_attributes_and_pairs_of_organisations_and_roles():
    provider = _provider(protocol=IdentityProtocol.SAML, organisation_claim="sorCode", role_claim="title")
    claims = claims_of(provider, {"sorCode": ["111", "222"], "title": ["a", "b"], "email_verified": ["true"]})
    assert [(c.sor_code, c.role_value) for c in claimed_memberships(provider, claims)] == [("111", "a"), ("222", "b")]
    assert email_verified(provider, claims)
    one_role = claims_of(provider, {"sorCode": ["111", "222"], "title": ["a"]})
    assert [(c.sor_code, c.role_value) for c in claimed_memberships(provider, one_role)] == [("111", "a"), ("222", "a")]
    assert not email_verified(provider, one_role)
    assert email_verified(_provider(emails_verified=True), {})


@pytest.mark.skipif(not saml_available(), reason="python3-saml/xmlsec not installed")
def test_a_saml_provider_gets_allauths_application_and_publishes_the_portals_metadata(client, region, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "smartcare.example"]  # SAML wants a dotted host
    provider = identity_provider_save(
        by=None,
        provider=IdentityProvider(
            name="Kommune",
            slug="kommune",
            protocol=IdentityProtocol.SAML,
            saml_entity_id="https://idp.kommune.example/saml",
            saml_sso_url="https://idp.kommune.example/saml/sso",
            saml_x509cert="MIIBszCCAVmgAwIBAgIUTEST",
            link_by=AccountLinking.CLAIM,
            uid_claim="urn:oid:0.9.2342.19200300.100.1.1",
        ),
        organisations=[region],
    )
    app = provider.social_app
    assert (app.provider, app.provider_id, app.client_id) == ("saml", "https://idp.kommune.example/saml", "kommune")
    assert app.settings["attribute_mapping"]["uid"] == "urn:oid:0.9.2342.19200300.100.1.1"
    metadata = client.get(
        reverse("saml_metadata", kwargs={"organization_slug": "kommune"}), HTTP_HOST="smartcare.example"
    )
    assert metadata.status_code == 200 and b"AssertionConsumerService" in metadata.content
    assert (
        reverse("saml_login", kwargs={"organization_slug": "kommune"})
        in client.get(reverse("account_login")).content.decode()
    )


# --- configuring providers ----------------------------------------------------------------------


def test_a_regions_administrator_configures_providers_for_their_region_only(region, department):
    from django.core.exceptions import ValidationError

    admin = MembershipFactory(organisation=region, role=MembershipRole.ORGANISATION_ADMIN).user
    fields = {
        "protocol": IdentityProtocol.OIDC,
        "server_url": "https://idp.example",
        "client_id": "c",
        "role_mapping": {},
    }
    saved = identity_provider_save(
        by=admin, provider=IdentityProvider(name="A", slug="a", **fields), organisations=[department]
    )
    assert saved.social_app.provider == "openid_connect"
    with pytest.raises(ValidationError):
        identity_provider_save(
            by=admin, provider=IdentityProvider(name="B", slug="b", **fields), organisations=[MunicipalityFactory()]
        )
    clinic_admin = MembershipFactory(organisation=department, role=MembershipRole.ORGANISATION_ADMIN).user
    with pytest.raises(ValidationError):
        identity_provider_save(
            by=clinic_admin, provider=IdentityProvider(name="C", slug="c", **fields), organisations=[department]
        )
    with pytest.raises(ValidationError):
        identity_provider_save(
            by=None,
            provider=IdentityProvider(name="D", slug="d", **{**fields, "role_mapping": {"x": "integration"}}),
            organisations=[region],
        )


def test_the_admin_saves_a_provider_with_allauths_application(client, region):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    form = {
        "name": "Syddanmark",
        "slug": "syddanmark",
        "protocol": IdentityProtocol.OIDC,
        "organisations": [region.pk],
        "is_active": "on",
        "server_url": "https://login.rsyd.example/realms/staff",
        "client_id": "smartcare",
        "client_secret": "s3cret",
        "link_by": AccountLinking.EMAIL,
        "uid_claim": "sub",
        "email_claim": "email",
        "organisation_claim": "sor",
        "role_claim": "role",
        "role_mapping": '{"Sygeplejerske": "hospital_nurse"}',
        "mfa_claim": "amr",
        "mfa_values": "mfa, otp",
    }
    response = client.post(reverse("admin:sectors_identityprovider_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    provider = IdentityProvider.objects.get()
    assert list(provider.organisations.all()) == [region]
    app = SocialApp.objects.get()
    assert (app.provider, app.provider_id, app.client_id, app.secret) == (
        "openid_connect",
        "syddanmark",
        "smartcare",
        "s3cret",
    )
    assert app.settings["server_url"] == "https://login.rsyd.example/realms/staff"
    assert app.settings["uid_field"] == "email"

    refused = client.post(reverse("admin:sectors_identityprovider_add"), {**form, "slug": "other", "server_url": ""})
    assert refused.status_code == 200 and "server_url" in refused.context["adminform"].form.errors

    client.post(reverse("admin:sectors_identityprovider_delete", args=[provider.pk]), {"post": "yes"})
    assert not IdentityProvider.objects.exists() and not SocialApp.objects.exists()
