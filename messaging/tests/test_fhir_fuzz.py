"""Fuzzing ``$process-message``: hundreds of malformed or unusual bundles, in JSON and XML, made
deterministically from the valid fixture bundles (entries removed, duplicated or swapped, values of
the wrong type, huge strings, control characters, impossible dates, broken references, truncated
bodies, wrong namespaces, deep nesting, ...). Every answer is 200 or 400 with a FHIR body (an
acknowledgement or an OperationOutcome), never a 5xx and never Django's HTML."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from lxml import etree

from . import fixtures_fhir as fx
from .fhir_post import FHIR_JSON, FHIR_XML, URL, care, notification

Path = tuple[Any, ...]
FHIR_NS = "http://hl7.org/fhir"

WRONG_TYPES = [None, 0, -1, 1.5, True, [], {}, [None], {"value": "x"}, "", " ", "x" * 3]
DATES = [
    "2023-02-30T10:00:00+01:00",
    "2016-12-31T23:59:60+00:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "1899-12-31T23:00:00+01:00",
    "2023-01-01",
    "2023-01-01T10:00:00",
    "2023-13-01T10:00:00Z",
    "yesterday",
]
REFERENCES = ["", "Patient/", "urn:uuid:", "#", "http://x/y/z", "Organization/unknown", "MessageHeader/" + "9" * 64]
STRINGS = [
    "x" * 100_000,
    "\x00",
    "a\x07b",
    "\x1b[31m",
    "ﷺ" * 1000,
    "\u202eevil",
    "😀" * 50,
    "<script>alert(1)</script>",
    "'; DROP TABLE messaging_message; --",
    "\ufeff",
]


def _leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    else:
        yield path, value


def _set(data: Any, path: Path, value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _delete(data: Any, path: Path) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


def _containers(value: Any, path: Path = ()) -> Iterator[Path]:
    """Paths to every dict in the bundle (where a key can be removed or added)."""
    if isinstance(value, dict):
        yield path
        for key, child in value.items():
            yield from _containers(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _containers(child, (*path, index))


def _get(data: Any, path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


# --- structural mutations of a bundle (dict in, dict out) ------------------------------------------


def _entry_mutations(bundle: dict) -> Iterator[tuple[str, dict]]:
    count = len(bundle["entry"])
    for index in range(count):
        removed = copy.deepcopy(bundle)
        del removed["entry"][index]
        yield f"entry {index} removed", removed
        doubled = copy.deepcopy(bundle)
        doubled["entry"].insert(index, copy.deepcopy(doubled["entry"][index]))
        yield f"entry {index} duplicated", doubled
        swapped = copy.deepcopy(bundle)
        other = (index + 1) % count
        swapped["entry"][index], swapped["entry"][other] = swapped["entry"][other], swapped["entry"][index]
        yield f"entries {index} and {other} swapped", swapped
        id_less = copy.deepcopy(bundle)
        id_less["entry"][index]["resource"].pop("id", None)
        id_less["entry"][index]["fullUrl"] = f"urn:uuid:{index:08d}-0000-4000-8000-000000000000"
        yield f"entry {index} without id", id_less
    empty = copy.deepcopy(bundle)
    empty["entry"] = []
    yield "no entries", empty


def _value_mutations(bundle: dict, rng: random.Random, rounds: int) -> Iterator[tuple[str, dict]]:
    leaves = list(_leaves(bundle))
    strings = [(p, v) for p, v in leaves if isinstance(v, str)]
    dates = [(p, v) for p, v in strings if len(v) >= 20 and v[4:5] == "-" and "T" in v]
    references = [(p, v) for p, v in strings if p[-1] == "reference"]
    containers = list(_containers(bundle))
    replacements = [
        ("wrong type", [p for p, _v in leaves], WRONG_TYPES),
        ("odd string", [p for p, _v in strings], STRINGS),
        ("odd date", [p for p, _v in dates], DATES),
        ("bad reference", [p for p, _v in references], REFERENCES),
    ]
    for round_ in range(rounds):
        for kind, paths, values in replacements:
            path = rng.choice(paths)
            mutated = copy.deepcopy(bundle)
            _set(mutated, path, rng.choice(values))
            yield f"{round_}: {kind} at {path}", mutated

        path = rng.choice([p for p in containers if p and _get(bundle, p)])
        mutated = copy.deepcopy(bundle)
        target = _get(mutated, path)
        _delete(target, (rng.choice(list(target)),))
        yield f"{round_}: key removed at {path}", mutated

        path = rng.choice(containers)
        mutated = copy.deepcopy(bundle)
        _get(mutated, path)[rng.choice(["bogus", "_id", "resourceType", "fhir_comments", "extension"])] = "x"
        yield f"{round_}: key added at {path}", mutated


# --- bodies ---------------------------------------------------------------------------------------


def _as_xml(bundle: dict) -> bytes | None:
    """The bundle in FHIR XML when fhir.resources can write it (a mutation may not be FHIR)."""
    try:
        return Bundle.model_validate(bundle).model_dump_xml()
    except Exception:  # noqa: BLE001 - not FHIR: only sent as JSON
        return None


def _xml_mutations(xml: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    text = xml.decode()
    for cut in sorted(rng.sample(range(1, len(xml)), 6)):
        yield f"truncated at {cut}", xml[:cut]
    yield "no namespace", xml.replace(b' xmlns="http://hl7.org/fhir"', b"", 1)
    yield "another namespace", xml.replace(b"http://hl7.org/fhir", b"http://hl7.org/fhir/R5", 1)
    yield (
        "prefixed namespace",
        xml.replace(b'<Bundle xmlns="http://hl7.org/fhir">', b'<f:Bundle xmlns:f="http://hl7.org/fhir">'),
    )
    yield "namespace removed inside", xml.replace(b"<resource>", b'<resource xmlns="">', 1)
    yield "foreign element", xml.replace(b"<entry>", b'<x:entry xmlns:x="urn:x"/><entry>', 1)
    yield "unknown element", xml.replace(b"<entry>", b'<entry><bogus value="1"/>', 1)
    yield "processing instruction", xml.replace(b"<entry>", b"<?app x?><entry>", 1)
    yield "comment after root", xml.replace(b'"http://hl7.org/fhir">', b'"http://hl7.org/fhir"><!-- c -->', 1)
    yield "CDATA", xml.replace(b"<entry>", b"<entry><![CDATA[x]]>", 1)
    yield "text content", xml.replace(b"<entry>", b"<entry>text", 1)
    yield "doctype", b'<!DOCTYPE Bundle [<!ENTITY a "aaaaaaaaaa">]>' + xml.split(b"?>", 1)[-1]
    yield (
        "entity bomb",
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Bundle xmlns="http://hl7.org/fhir"><id value="&c;"/></Bundle>'
        ),
    )
    yield (
        "external entity",
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://localhost/x">]>'
            b'<Bundle xmlns="http://hl7.org/fhir"><id value="&e;"/></Bundle>'
        ),
    )
    yield "wrong encoding declaration", xml.replace(b"encoding='utf-8'", b"encoding='utf-16'", 1)
    yield "latin-1 bytes", text.replace("Borgeren", "Børgeren").encode("latin-1", errors="replace")
    yield "invalid utf-8", xml.replace(b"<entry>", b"<entry>\xff\xfe", 1)
    yield "control character", xml.replace(b'value="message"', b'value="mess&#1;age"', 1)
    yield (
        "deep nesting",
        b'<Bundle xmlns="http://hl7.org/fhir">' + b"<entry>" * 5000 + b"</entry>" * 5000 + b"</Bundle>",
    )
    yield (
        "attribute on root",
        xml.replace(b'<Bundle xmlns="http://hl7.org/fhir">', b'<Bundle xmlns="http://hl7.org/fhir" id="x">'),
    )
    yield (
        "xsi attribute",
        xml.replace(
            b'<Bundle xmlns="http://hl7.org/fhir">',
            b'<Bundle xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            b'xsi:schemaLocation="http://hl7.org/fhir bundle.xsd">',
        ),
    )
    narrative = (
        b'<text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Hej <b>du</b></p></div></text>'
    )
    yield (
        "narrative",
        xml.replace(
            b"<Patient><id value=", b"<Patient>" + narrative.replace(b"<text>", b"<text>", 1) + b"<id value=", 1
        ),
    )
    yield (
        "prefixed narrative",
        xml.replace(
            b"<Patient>",
            b'<Patient><text><status value="generated"/><h:div xmlns:h="http://www.w3.org/1999/xhtml"/></text>',
            1,
        ),
    )
    root = etree.fromstring(xml)
    children = list(root)
    for index in sorted(rng.sample(range(len(children)), min(4, len(children)))):
        reordered = etree.fromstring(xml)
        element = list(reordered)[index]
        reordered.remove(element)
        reordered.append(element)
        yield f"element {index} moved last", etree.tostring(reordered)


RAW_BODIES: list[tuple[str, str, bytes]] = [
    ("empty json", "json", b""),
    ("empty xml", "xml", b""),
    ("whitespace", "json", b"   \n"),
    ("null", "json", b"null"),
    ("array", "json", b"[]"),
    ("object", "json", b"{}"),
    ("string", "json", b'"Bundle"'),
    ("number", "json", b"1e999"),
    ("bom only", "json", b"\xef\xbb\xbf"),
    ("deep arrays", "json", b"[" * 100_000 + b"]" * 100_000),
    ("deep objects", "json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    (
        "deep extensions",
        "json",
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "message",
                "entry": [{"resource": {"resourceType": "Basic", "extension": [{"url": "x"} for _ in range(3)]}}],
            }
        )
        .replace('{"url": "x"}', '{"url": "x", "extension": [' * 300 + '{"url": "y"}' + "]}" * 300, 1)
        .encode(),
    ),
    ("lone surrogate", "json", b'{"resourceType": "Bundle", "id": "\\ud800", "type": "message"}'),
    ("invalid utf-8", "json", b'{"resourceType": "Bundle", "id": "\xff", "type": "message"}'),
    ("utf-16", "json", '{"resourceType": "Bundle", "type": "message"}'.encode("utf-16")),
    ("duplicate keys", "json", b'{"resourceType": "Bundle", "type": "message", "type": "collection"}'),
    ("nan", "json", b'{"resourceType": "Bundle", "type": "message", "total": NaN}'),
    ("json as xml", "xml", b'{"resourceType": "Bundle"}'),
    ("xml as json", "json", b'<Bundle xmlns="http://hl7.org/fhir"/>'),
    ("html", "xml", b"<html><body>hi</body></html>"),
]


def _check(response, case: str) -> str | None:
    """What is wrong with the answer, or None."""
    if response.status_code not in (200, 400):
        return f"{case}: HTTP {response.status_code}"
    content_type = response["Content-Type"]
    try:
        if content_type.startswith(FHIR_JSON):
            resource_type = json.loads(response.content)["resourceType"]
        elif content_type.startswith(FHIR_XML):
            resource_type = etree.QName(etree.fromstring(response.content)).localname
        else:
            return f"{case}: answered {content_type}"
    except (ValueError, KeyError, etree.Error):
        return f"{case}: the answer is not FHIR"
    expected = {"Bundle", "OperationOutcome"} if response.status_code == 200 else {"OperationOutcome"}
    if resource_type not in expected:
        return f"{case}: HTTP {response.status_code} with a {resource_type}"
    return None


def _fuzz(post: Callable, bundle: dict, *, as_user: str, seed: str) -> int:
    rng = random.Random(seed)
    problems, sent = [], 0

    ids = [bundle["id"].encode(), fx.header_of(bundle)["id"].encode()]

    def send(case: str, body: bytes, fmt: str) -> None:
        """Each case with its own Bundle and MessageHeader ids: a new message, not a duplicate."""
        nonlocal sent
        sent += 1
        for old in ids:
            body = body.replace(old, str(uuid.UUID(int=rng.getrandbits(128), version=4)).encode())
        problem = _check(post(None, raw=body, fmt=fmt, as_user=as_user), case)
        if problem:
            problems.append(problem)

    mutations = [*_entry_mutations(bundle), *_value_mutations(bundle, rng, rounds=6)]
    for case, mutated in mutations:
        send(f"json {case}", json.dumps(mutated).encode(), "json")
    for case, mutated in rng.sample(mutations, 15):
        xml = _as_xml(mutated)
        if xml is not None:
            send(f"xml {case}", xml, "xml")
    text = json.dumps(bundle).encode()
    for cut in sorted(rng.sample(range(1, len(text)), 6)):
        send(f"json truncated at {cut}", text[:cut], "json")
    for case, body in _xml_mutations(fx.as_xml(bundle), rng):
        send(f"xml {case}", body, "xml")
    assert not problems, "\n".join(problems)
    return sent


@pytest.mark.django_db
def test_fuzzed_care_communications_never_fail(world, post, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert _fuzz(post, care(world), as_user="gp_a", seed="care-communication") >= 100


@pytest.mark.django_db
def test_fuzzed_hospital_notifications_never_fail(world, post):
    assert _fuzz(post, notification(world), as_user="hospital_nurse", seed="hospital-notification") >= 100


@pytest.mark.django_db
def test_odd_bodies_never_fail(world, client, token):
    def post(body: bytes, fmt: str):
        content_type = FHIR_XML if fmt == "xml" else FHIR_JSON
        # CONTENT_TYPE as well: the test client leaves it out when the body is empty; a real client does not.
        return client.post(
            URL,
            data=body,
            content_type=content_type,
            CONTENT_TYPE=content_type,
            HTTP_AUTHORIZATION=f"Token {token('gp_a')}",
        )

    problems = [_check(post(body, fmt), f"{fmt} {case}") for case, fmt, body in RAW_BODIES]
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)
