"""The organisation directory from a SOR file (``manage.py import_sor FILE``).

The file is CSV in UTF-8 with a header row and these columns (README, "The organisation
directory"); a value may be empty unless it says otherwise:

- ``sor_code`` (required): the unit's SOR code, the key the import updates by;
- ``parent_sor``: the SOR code of the unit above it, in the file or already in the portal;
- ``name`` (required) and ``kind`` (required, one of ``OrganisationKind``);
- ``ean_numbers``: the unit's EAN/GLN location numbers separated by ``;``, the main one first;
- ``municipality_code``: for a municipality its own code; for any other unit the municipality it
  lies in;
- ``ydernummer`` (GP clinics and specialist practices), ``street``, ``postal_code``, ``city``,
  ``phone``;
- ``valid_from`` and ``valid_to``: ISO dates; a unit whose validity has ended is inactive.

The import is all or nothing: a file with a bad row changes nothing and every bad row is
reported with its line number. It updates in place by SOR code and deactivates the units an
earlier import brought that are no longer in the file (they are never deleted: messages and
memberships point at them). A sender first met in a message is confirmed by the import that
lists it.

What belongs to the portal and what is an external directory entry follows from the tree: the
portal's region and everything below it, and every unit lying in one of the region's
municipalities, belong to the portal; the rest of the country is external (an address, with no
members and no access to anything).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import OrganisationKind, OrganisationSource
from .models import LocationNumber, Organisation

COLUMNS = (
    "sor_code",
    "parent_sor",
    "name",
    "kind",
    "ean_numbers",
    "municipality_code",
    "ydernummer",
    "street",
    "postal_code",
    "city",
    "phone",
    "valid_from",
    "valid_to",
)
REQUIRED = ("sor_code", "name", "kind")
OWNER_KINDS = {OrganisationKind.REGION, OrganisationKind.MUNICIPALITY}
# The fields a row sets; an import compares them to tell "updated" from "unchanged".
FIELDS = (
    "kind",
    "name",
    "parent_id",
    "municipality_id",
    "municipality_code",
    "ydernummer",
    "gln",
    "street",
    "postal_code",
    "city",
    "phone",
    "valid_from",
    "valid_to",
    "is_active",
    "is_external",
    "source",
)


class SorFileError(Exception):
    """The file cannot be imported; ``errors`` are the lines that say why, nothing was changed."""

    def __init__(self, errors: Sequence[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass
class SorRow:
    line: int
    values: dict[str, str]
    eans: list[str] = field(default_factory=list)
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None


def sor_rows(text: str) -> list[SorRow]:
    """The file's rows, checked for what the file alone can tell (columns, required values, kinds,
    dates, SOR codes used once); raises ``SorFileError`` listing every problem."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise SorFileError([_("The file lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)}])
    rows: list[SorRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        values = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        row = SorRow(line=line, values=values, eans=[e.strip() for e in values["ean_numbers"].split(";") if e.strip()])
        problems = [_("%(column)s is required") % {"column": c} for c in REQUIRED if not values[c]]
        if values["kind"] and values["kind"] not in OrganisationKind.values:
            problems.append(_("unknown kind '%(kind)s'") % {"kind": values["kind"][:40]})
        for name in ("valid_from", "valid_to"):
            if values[name]:
                try:
                    setattr(row, name, datetime.date.fromisoformat(values[name]))
                except ValueError:
                    problems.append(_("%(column)s is not a date (YYYY-MM-DD)") % {"column": name})
        if values["sor_code"] in seen:
            problems.append(_("SOR code already on line %(line)d") % {"line": seen[values["sor_code"]]})
        seen.setdefault(values["sor_code"], line)
        if len(set(row.eans)) != len(row.eans):
            problems.append(_("an EAN number is listed twice"))
        if problems:
            errors.append(_("Line %(line)d: %(problems)s.") % {"line": line, "problems": "; ".join(problems)})
        rows.append(row)
    if errors:
        raise SorFileError(errors)
    return rows


def _in_order(rows: Iterable[SorRow]) -> list[SorRow]:
    """Parents before their children, so every parent exists when its child is saved; a row
    whose parent is neither in the file nor in the portal, or a cycle, is an error."""
    by_sor = {row.values["sor_code"]: row for row in rows}
    known = set(
        Organisation.objects.filter(sor_code__in={r.values["parent_sor"] for r in by_sor.values()}).values_list(
            "sor_code", flat=True
        )
    )
    ordered: list[SorRow] = []
    placed: set[str] = set()
    errors: list[str] = []
    # Owners first: a unit can name its municipality by code before the file lists it.
    owners_first = sorted(by_sor.values(), key=lambda r: r.values["kind"] not in OWNER_KINDS)
    for row in owners_first:
        chain: list[SorRow] = []
        current: SorRow | None = row
        while current is not None and current.values["sor_code"] not in placed:
            if current in chain:
                errors.append(_("Line %(line)d: the unit is its own ancestor.") % {"line": current.line})
                break
            chain.append(current)
            parent = current.values["parent_sor"]
            if parent and parent not in by_sor and parent not in known:
                errors.append(
                    _("Line %(line)d: the parent %(parent)s is neither in the file nor in the portal.")
                    % {"line": current.line, "parent": parent[:20]}
                )
                break
            current = by_sor.get(parent) if parent else None
        for item in reversed(chain):
            if item.values["sor_code"] not in placed:
                placed.add(item.values["sor_code"])
                ordered.append(item)
    if errors:
        raise SorFileError(sorted(set(errors)))
    return ordered


@transaction.atomic
def sor_import(
    *, text: str, region_sor: str, region_municipality_codes: Iterable[str], today: datetime.date | None = None
) -> Counter:
    """Create, update and deactivate organisations so that the directory matches the file.

    ``region_sor`` is the portal's region; what lies under it or in one of
    ``region_municipality_codes`` belongs to the portal, the rest is external."""
    today = today or timezone.localdate()
    region_codes = set(region_municipality_codes)
    rows = _in_order(sor_rows(text))
    _check_unique(rows)
    _free_moved_numbers(rows)
    counter: Counter = Counter()
    errors: list[str] = []
    saved: dict[str, Organisation] = {}
    existing = {o.sor_code: o for o in Organisation.objects.filter(sor_code__in=[r.values["sor_code"] for r in rows])}
    for row in rows:
        values = row.values
        parent = saved.get(values["parent_sor"]) or (
            Organisation.objects.filter(sor_code=values["parent_sor"]).first() if values["parent_sor"] else None
        )
        municipality, code = _municipality_of(row, parent, saved)
        organisation = existing.get(values["sor_code"]) or Organisation(sor_code=values["sor_code"])
        before = {f: getattr(organisation, f) for f in FIELDS} if organisation.pk else None
        organisation.kind = values["kind"]
        organisation.name = values["name"]
        organisation.parent = parent
        organisation.municipality = municipality if values["kind"] != OrganisationKind.MUNICIPALITY else None
        organisation.municipality_code = code if values["kind"] == OrganisationKind.MUNICIPALITY else ""
        organisation.ydernummer = values["ydernummer"]
        organisation.gln = row.eans[0] if row.eans else None
        for name in ("street", "postal_code", "city", "phone"):
            setattr(organisation, name, values[name])
        organisation.valid_from, organisation.valid_to = row.valid_from, row.valid_to
        organisation.is_active = row.valid_to is None or row.valid_to >= today
        organisation.is_external = not _in_region(organisation, parent, code, region_sor, region_codes)
        organisation.source = OrganisationSource.SOR
        changed = before is None or any(before[f] != getattr(organisation, f) for f in FIELDS)
        if changed:
            try:
                # Uniqueness was checked for the whole file at once (``_check_unique``); the
                # per-row queries of a full check made an import of the region take seconds.
                organisation.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                errors.append(_line_error(row.line, exc))
                continue
            organisation.save()
        eans_changed = _sync_location_numbers(organisation, row.eans[1:])
        counter["created" if before is None else "updated" if changed or eans_changed else "unchanged"] += 1
        saved[organisation.sor_code] = organisation
    if errors:
        raise SorFileError(errors)
    counter["deactivated"] = (
        Organisation.objects.filter(source=OrganisationSource.SOR, is_active=True)
        .exclude(sor_code__in=saved)
        .update(is_active=False, updated_at=timezone.now())
    )
    return counter


def _municipality_of(
    row: SorRow, parent: Organisation | None, saved: dict[str, Organisation]
) -> tuple[Organisation | None, str]:
    """The municipality a unit lies in: its own code's municipality, else its parent's."""
    code = row.values["municipality_code"]
    if row.values["kind"] == OrganisationKind.MUNICIPALITY:
        return None, code
    if code:
        found = next((o for o in saved.values() if o.municipality_code == code), None)
        found = found or Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY, municipality_code=code).first()
        return found, code
    if parent is not None:
        if parent.kind == OrganisationKind.MUNICIPALITY:
            return parent, parent.municipality_code
        if parent.municipality is not None:
            return parent.municipality, parent.municipality.municipality_code
    return None, ""


def _in_region(
    organisation: Organisation,
    parent: Organisation | None,
    code: str,
    region_sor: str,
    region_codes: set[str],
) -> bool:
    if organisation.sor_code == region_sor or (code and code in region_codes):
        return True
    return parent is not None and (parent.sor_code == region_sor or not parent.is_external)


def _sync_location_numbers(organisation: Organisation, extra: list[str]) -> bool:
    """Make the organisation's further EAN numbers those of the file; True when any changed."""
    have = set(organisation.location_numbers.values_list("gln", flat=True))
    if have == set(extra):
        return False
    organisation.location_numbers.exclude(gln__in=extra).delete()
    for gln in sorted(set(extra) - have):
        number = LocationNumber(organisation=organisation, gln=gln)
        try:
            number.full_clean()
        except ValidationError as exc:
            raise SorFileError([_line_error(0, exc)]) from None
        number.save()
    return True


def _check_unique(rows: list[SorRow]) -> None:
    """A municipality code or ydernummer that another unit, not in the file, already has."""
    in_file = {row.values["sor_code"] for row in rows}
    errors: list[str] = []
    for column in ("municipality_code", "ydernummer"):
        wanted = {
            row.values[column]: row
            for row in rows
            if row.values[column] and (column == "ydernummer" or row.values["kind"] == OrganisationKind.MUNICIPALITY)
        }
        held = Organisation.objects.filter(**{f"{column}__in": wanted}).exclude(sor_code__in=in_file)
        for value, holder in held.values_list(column, "sor_code"):
            errors.append(
                _("Line %(line)d: %(column)s %(value)s belongs to the unit %(sor)s, which the file does not list.")
                % {"line": wanted[value].line, "column": column, "value": value, "sor": holder}
            )
    if errors:
        raise SorFileError(errors)


def _free_moved_numbers(rows: list[SorRow]) -> None:
    """EAN numbers are unique across units. One listed for two units of the file, or held by a
    unit the file does not list, is an error; one that moves from a unit of the file to another
    is taken from the first before any row is saved."""
    owner_in_file: dict[str, SorRow] = {}
    errors: list[str] = []
    for row in rows:
        for gln in row.eans:
            other = owner_in_file.setdefault(gln, row)
            if other is not row:
                errors.append(
                    _("Line %(line)d: the EAN number %(gln)s is also on line %(other)d.")
                    % {"line": row.line, "gln": gln, "other": other.line}
                )
    in_file = {row.values["sor_code"] for row in rows}
    held = [
        *Organisation.objects.filter(gln__in=owner_in_file).values_list("gln", "sor_code"),
        *LocationNumber.objects.filter(gln__in=owner_in_file).values_list("gln", "organisation__sor_code"),
    ]
    for gln, holder in held:
        row = owner_in_file[gln]
        if holder == row.values["sor_code"]:
            continue
        if holder not in in_file:
            errors.append(
                _("Line %(line)d: the EAN number %(gln)s belongs to the unit %(sor)s, which the file does not list.")
                % {"line": row.line, "gln": gln, "sor": holder}
            )
            continue
        Organisation.objects.filter(gln=gln).update(gln=None)
        LocationNumber.objects.filter(gln=gln).delete()
    if errors:
        raise SorFileError(errors)


def _line_error(line: int, exc: ValidationError) -> str:
    messages = "; ".join(f"{name}: {' '.join(str(m) for m in problems)}" for name, problems in exc.message_dict.items())
    return _("Line %(line)d: %(problems)s") % {"line": line, "problems": messages}
