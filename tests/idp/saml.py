"""A small SAML 2.0 identity provider for the single sign-on tests, in the test's own process.

It reads the portal's AuthnRequest (HTTP-Redirect binding: deflated, base64) and answers it as an
identity provider does (HTTP-POST binding): a Response whose Assertion names the person, carries
their attributes and the AuthnContextClassRef of how they signed in, and is signed (RSA-SHA256,
exclusive C14N, enveloped) with a key and self-signed certificate made for the run. The XML is
built here with lxml and signed with xmlsec (libxmlsec1), both of which python3-saml brings, so the
portal's side (allauth's SAML provider over python3-saml) checks a response it did not make.
Not part of the portal.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
import zlib
from dataclasses import dataclass

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"samlp": SAMLP, "saml": SAML}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
URI_NAMES = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
TWO_FACTOR = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
NSIS_SUBSTANTIAL = "https://data.gov.dk/concept/core/nsis/loa/Substantial"
NSIS_LOW = "https://data.gov.dk/concept/core/nsis/loa/Low"


@dataclass(frozen=True)
class AuthnRequest:
    id: str
    issuer: str  # the portal's entity ID: the audience of the answer
    acs_url: str


@dataclass(frozen=True)
class SigningKey:
    key_pem: bytes
    cert_pem: bytes

    @classmethod
    def make(cls, common_name: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return cls(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            cert.public_bytes(serialization.Encoding.PEM),
        )


def read_authn_request(saml_request: str) -> AuthnRequest:
    xml = zlib.decompress(base64.b64decode(saml_request), -15)
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{{{SAMLP}}}AuthnRequest", root.tag
    issuer = root.find(f"{{{SAML}}}Issuer")
    assert issuer is not None and issuer.text
    return AuthnRequest(id=root.get("ID"), issuer=issuer.text.strip(), acs_url=root.get("AssertionConsumerServiceURL"))


def _instant(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


class SamlIdentityProvider:
    """An identity provider with an entity ID, a single sign-on URL (never called: the test reads
    the portal's redirect to it) and a signing key whose certificate the portal is given."""

    def __init__(self, entity_id: str, sso_url: str) -> None:
        self.entity_id = entity_id
        self.sso_url = sso_url
        self.key = SigningKey.make(entity_id)

    @property
    def certificate(self) -> str:
        return self.key.cert_pem.decode()

    def response(
        self,
        request: AuthnRequest,
        *,
        name_id: str,
        attributes: dict[str, list[str]],
        authn_context: str = PASSWORD,
        audience: str | None = None,
        signed_by: SigningKey | None = None,
        issuer: str | None = None,
    ) -> bytes:
        """The signed Response to ``request`` (its XML). ``audience``, ``signed_by`` and ``issuer``
        make a wrong one: meant for another service, signed with another key, from another provider."""
        now = dt.datetime.now(dt.UTC)
        later = _instant(now + dt.timedelta(minutes=5))
        issuer = issuer or self.entity_id
        response = etree.Element(
            f"{{{SAMLP}}}Response",
            {
                "ID": f"_{uuid.uuid4().hex}",
                "Version": "2.0",
                "IssueInstant": _instant(now),
                "Destination": request.acs_url,
                "InResponseTo": request.id,
            },
            nsmap=NSMAP,
        )
        _sub(response, "saml:Issuer", issuer)
        _sub(_sub(response, "samlp:Status"), "samlp:StatusCode", Value=SUCCESS)
        assertion_id = f"_{uuid.uuid4().hex}"
        assertion = _sub(response, "saml:Assertion", ID=assertion_id, Version="2.0", IssueInstant=_instant(now))
        _sub(assertion, "saml:Issuer", issuer)
        subject = _sub(assertion, "saml:Subject")
        _sub(subject, "saml:NameID", name_id, Format=PERSISTENT)
        confirmation = _sub(subject, "saml:SubjectConfirmation", Method=BEARER)
        _sub(
            confirmation,
            "saml:SubjectConfirmationData",
            NotOnOrAfter=later,
            Recipient=request.acs_url,
            InResponseTo=request.id,
        )
        conditions = _sub(assertion, "saml:Conditions", NotBefore=_instant(now - dt.timedelta(minutes=1)))
        conditions.set("NotOnOrAfter", later)
        _sub(_sub(conditions, "saml:AudienceRestriction"), "saml:Audience", audience or request.issuer)
        statement = _sub(
            assertion, "saml:AuthnStatement", AuthnInstant=_instant(now), SessionIndex=f"_{uuid.uuid4().hex}"
        )
        _sub(_sub(statement, "saml:AuthnContext"), "saml:AuthnContextClassRef", authn_context)
        attribute_statement = _sub(assertion, "saml:AttributeStatement")
        for name, values in attributes.items():
            attribute = _sub(attribute_statement, "saml:Attribute", Name=name, NameFormat=URI_NAMES)
            for value in values:
                element = etree.SubElement(attribute, f"{{{SAML}}}AttributeValue", nsmap={"xs": XS, "xsi": XSI})
                element.set(f"{{{XSI}}}type", "xs:string")
                element.text = value
        _sign(assertion, assertion_id, signed_by or self.key)
        return etree.tostring(response, xml_declaration=True, encoding="UTF-8")


def _sign(element: etree._Element, element_id: str, key: SigningKey) -> None:
    """An enveloped signature of ``element``, right after its Issuer (where the schema has it)."""
    signature = xmlsec.template.create(element, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    element.insert(1, signature)
    reference = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri=f"#{element_id}")
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    xmlsec.tree.add_ids(element, ["ID"])
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(key.key_pem, xmlsec.constants.KeyDataFormatPem)
    context.key.load_cert_from_memory(key.cert_pem, xmlsec.constants.KeyDataFormatPem)
    context.sign(signature)


def encode(response_xml: bytes) -> str:
    """The HTTP-POST binding's SAMLResponse form field."""
    return base64.b64encode(response_xml).decode()
