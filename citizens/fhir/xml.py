"""Reading FHIR XML from outside: checked and rebuilt before ``fhir.resources`` reads it.

The library's XML reader crashes on what is legal XML but not FHIR (an element in another
namespace or none, an unknown element, a processing instruction) and refuses comments, which FHIR
allows anywhere. Rebuilt, the document has only FHIR elements in the default namespace (and the
XHTML of a narrative), no comments, and whatever the library still cannot read is the caller's
400, never a crash. ``$process-message`` (``messaging.fhir.parsing``) and the API's writes
(``citizens.fhir.writes``) both read XML through here.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from lxml import etree

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"


class NotFhirXml(ValueError):
    """Legal XML (or not even that) that is no FHIR document; the text says why."""


def xml_parser(**options: bool) -> etree.XMLParser:
    """No entities, no DTD, no network, no huge trees: XML from outside reads nothing else."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, **options)


def _not_fhir(text: str) -> NotFhirXml:
    return NotFhirXml(_("The body is not FHIR XML: %(problem)s") % {"problem": text})


def checked_root(body: bytes) -> etree._Element:
    """The document's root element rebuilt as the FHIR XML that fhir.resources reads: checked,
    comments dropped, every FHIR element in the default namespace (a prefix for the FHIR namespace
    is legal XML). ``etree.Error`` for a body that is not XML, ``NotFhirXml`` for one that is no
    FHIR; the caller checks the root's resource type."""
    root = etree.fromstring(body, parser=xml_parser(remove_comments=True))
    if root.getroottree().docinfo.doctype:
        raise _not_fhir(_("a FHIR document has no DOCTYPE."))
    if any(not isinstance(node, etree._Comment) for node in root.itersiblings(preceding=True)) or any(
        not isinstance(node, etree._Comment) for node in root.itersiblings()
    ):
        raise _not_fhir(_("there is something other than the resource element at the top level."))
    if not isinstance(root.tag, str) or etree.QName(root).namespace != FHIR_NS:
        raise _not_fhir(_("the root element must be a resource in the namespace %(ns)s.") % {"ns": FHIR_NS})
    rebuilt = etree.Element(root.tag, nsmap={None: FHIR_NS})
    _copy(root, rebuilt, FHIR_NS)
    return rebuilt


def resource_name(root: etree._Element) -> str:
    return etree.QName(root).localname


def _copy(source: etree._Element, target: etree._Element, namespace: str) -> None:
    """Copy ``source``'s attributes and children into ``target``: FHIR elements, and below an XHTML
    ``div`` only XHTML. Refuses what a FHIR reader must not guess at."""
    for name, value in source.attrib.items():
        if not name.startswith("{"):  # namespaced attributes (xsi:schemaLocation) are no FHIR content
            target.set(name, value)
    if namespace == XHTML_NS:
        target.text = source.text
    elif (source.text or "").strip():
        raise _not_fhir(_("a FHIR element has text content; values are in value attributes."))
    for child in source:
        if isinstance(child, etree._Comment):
            continue
        if not isinstance(child.tag, str):  # a processing instruction or an entity
            raise _not_fhir(_("processing instructions and entities are not allowed."))
        qname = etree.QName(child)
        if namespace == FHIR_NS and qname.namespace == XHTML_NS and qname.localname == "div":
            child_namespace = XHTML_NS
        elif qname.namespace == namespace:
            child_namespace = namespace
        else:
            raise _not_fhir(
                _("the element %(name)s is not in the namespace %(ns)s.")
                % {"name": qname.localname[:64], "ns": namespace}
            )
        copy = etree.SubElement(
            target,
            f"{{{child_namespace}}}{qname.localname}",
            nsmap=None if child_namespace == namespace else {None: child_namespace},
        )
        _copy(child, copy, child_namespace)
        if namespace == XHTML_NS:
            copy.tail = child.tail
