"""Reads for organisations, users and memberships. Organisations are not health data: any
signed-in member of staff may look them up (the directory), so these selectors need no gate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from .choices import MembershipRole, OrganisationKind
from .models import Gateway, IdentityProvider, LocationNumber, Membership, Organisation, User


def organisation_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Organisation]:
    from .filtersets import OrganisationFilterSet

    qs = Organisation.objects.select_related("parent", "municipality").order_by("name", "pk")
    if filters is None:
        return qs
    return OrganisationFilterSet(filters, queryset=qs).qs


@dataclass
class TreeNode:
    organisation: Organisation
    children: list[TreeNode] = field(default_factory=list)

    @property
    def size(self) -> int:
        """The units below this one, at every level."""
        return sum(1 + child.size for child in self.children)


def organisation_tree(*, external: bool) -> list[TreeNode]:
    """The directory as the SOR tree (region → municipality → units; hospital → department →
    ward), from one query: the portal's own organisations, or the external entries. A unit whose
    parent is on the other side (or missing) is a root of its own."""
    organisations = list(
        Organisation.objects.filter(is_external=external).only(
            "pk", "name", "kind", "parent_id", "is_active", "is_external", "source", "sor_code", "gln", "phone"
        )
    )
    nodes = {o.pk: TreeNode(o) for o in organisations}
    roots: list[TreeNode] = []
    for organisation in organisations:
        parent = nodes.get(organisation.parent_id) if organisation.parent_id else None
        (parent.children if parent else roots).append(nodes[organisation.pk])
    for node in nodes.values():
        node.children.sort(key=_tree_order)
    return sorted(roots, key=_tree_order)


_KIND_ORDER = {kind: i for i, kind in enumerate(OrganisationKind.values)}


def _tree_order(node: TreeNode) -> tuple[int, str]:
    return _KIND_ORDER.get(node.organisation.kind, 99), node.organisation.name


def organisation_get(*, pk: int) -> Organisation:
    """Raises ``Organisation.DoesNotExist`` for an unknown id; callers turn that into a 404."""
    return (
        Organisation.objects.select_related("parent", "municipality")
        .prefetch_related(
            Prefetch("children", queryset=Organisation.objects.order_by("name")),
            Prefetch("location_numbers", queryset=LocationNumber.objects.order_by("gln")),
        )
        .get(pk=pk)
    )


# SOR codes have at least 11 digits and GLNs 13: a shorter number is an organisation id.
ID_MAX_DIGITS = 9
# Longer than any id, SOR code or GLN: a number the database need not be asked about.
IDENTIFIER_MAX_DIGITS = 18


class IdentifierConflict(Exception):
    """The SOR code and the GLN given name different organisations (or the organisation one of
    them names has another value for the other)."""


def organisation_by_identifier(
    *,
    identifier: int | str | None = None,
    sor_code: str | None = None,
    gln: str | None = None,
    queryset: QuerySet[Organisation] | None = None,
) -> Organisation | None:
    """The organisation in ``queryset`` (default: all) that the identifiers name; None when none does.

    ``identifier`` is one value of any kind, as a person or the API names an organisation: an
    integer, or a string of at most 9 digits, is an id; a longer string is a SOR code, failing that
    a GLN. ``sor_code`` and ``gln`` are named identifiers, as a MedCom message carries them: the SOR
    code first, then the GLN; when both are given they must name the same organisation, or a
    message to or from it could be meant for someone else (``IdentifierConflict``)."""
    if identifier is not None and (sor_code or gln):
        raise TypeError("Give one identifier of any kind, or a SOR code and a GLN, not both.")
    organisations = Organisation.objects.all() if queryset is None else queryset
    if identifier is None:
        found = _by_codes(organisations, sor_code=sor_code, gln=gln)
        if found is not None and ((sor_code and found.sor_code != sor_code) or (gln and not _has_gln(found, gln))):
            raise IdentifierConflict
        return found
    text = str(identifier).strip()
    if isinstance(identifier, bool) or not (text.isascii() and text.isdigit()) or len(text) > IDENTIFIER_MAX_DIGITS:
        return None
    if isinstance(identifier, int) or len(text) <= ID_MAX_DIGITS:
        return organisations.filter(pk=int(text)).first()
    return _by_codes(organisations, sor_code=text, gln=text)


def _by_codes(organisations: QuerySet[Organisation], *, sor_code: str | None, gln: str | None) -> Organisation | None:
    """The organisation with this SOR code, else the one with this GLN, its main one or another
    (one query: each is unique). Each candidate carries ``glns``, all its EAN numbers."""
    if not (sor_code or gln):
        return None
    match = (Q(sor_code=sor_code) if sor_code else Q()) | (
        Q(gln=gln) | Q(pk__in=LocationNumber.objects.filter(gln=gln).values("organisation_id")) if gln else Q()
    )
    candidates = list(organisations.filter(match))
    by_sor = next((o for o in candidates if sor_code and o.sor_code == sor_code), None)
    by_gln = next((o for o in candidates if o.sor_code != sor_code), None) if gln else None
    if by_gln is None and gln and by_sor is None and candidates:
        by_gln = candidates[0]
    return by_sor or by_gln


def _has_gln(organisation: Organisation, gln: str) -> bool:
    """The main EAN number, else one of the others (a query only then)."""
    return organisation.gln == gln or organisation.location_numbers.filter(gln=gln).exists()


def outgoing_gateway() -> Gateway | None:
    """The gateway that carries messages to organisations outside the portal: the first active
    one with a webhook (one is enough; a second is a standby an administrator switches to)."""
    return Gateway.objects.filter(is_active=True).exclude(webhook_url="").order_by("pk").first()


def organisation_members(*, organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.active()
        .filter(organisation=organisation)
        .select_related("user")
        .order_by("role", "user__first_name", "user__last_name", "user__email")
    )


def user_memberships(*, user: User, active_only: bool = True) -> QuerySet[Membership]:
    qs = Membership.objects.filter(user=user)
    if active_only:
        qs = qs.active()
    return qs.select_related("organisation", "organisation__parent").order_by("organisation__name", "role")


def organisations_administered_by(*, user: User) -> QuerySet[Organisation]:
    """The organisations whose memberships the user manages: those where they hold an active
    organisation-administrator membership today (superusers manage every organisation)."""
    if user.is_superuser:
        return Organisation.objects.all()
    administering = Membership.objects.active().filter(user=user, role=MembershipRole.ORGANISATION_ADMIN)
    return Organisation.objects.filter(pk__in=administering.values("organisation_id"))


def organisation_subtree_ids(*, roots: QuerySet[Organisation] | list[int]) -> set[int]:
    """The organisations given and every unit below them, one query per level of the SOR tree
    (region → hospital → department → ward: four at most)."""
    found: set[int] = set(roots.values_list("pk", flat=True) if isinstance(roots, QuerySet) else roots)
    level = set(found)
    while level:
        level = set(Organisation.objects.filter(parent__in=level).exclude(pk__in=found).values_list("pk", flat=True))
        found |= level
    return found


def organisation_ancestor_ids(*, organisation: Organisation) -> list[int]:
    """The organisation and those above it, nearest first."""
    ids, parent_id = [organisation.pk], organisation.parent_id
    while parent_id is not None and parent_id not in ids:
        ids.append(parent_id)
        parent_id = Organisation.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return ids


def regions_administered_by(*, user: User) -> QuerySet[Organisation]:
    """The regions whose identity providers the user configures (superusers: all of them)."""
    return organisations_administered_by(user=user).filter(kind=OrganisationKind.REGION)


def identity_provider_scope(*, user: User) -> tuple[set[int] | None, set[int]]:
    """What the user may do with identity providers: (organisations whose providers they may
    configure, None meaning every one; organisations whose providers they may see). A region's
    administrators configure the providers of their region's organisations; an organisation's
    administrators see the providers that sign in for it."""
    if user.is_superuser:
        return None, set()
    managed = organisation_subtree_ids(roots=regions_administered_by(user=user))
    return managed, managed | set(organisations_administered_by(user=user).values_list("pk", flat=True))


def identity_providers_for_sign_in() -> QuerySet[IdentityProvider]:
    """The active identity providers with their organisations, for the sign-in page (two queries)."""
    return (
        IdentityProvider.objects.filter(is_active=True, social_app__isnull=False)
        .prefetch_related(Prefetch("organisations", queryset=Organisation.objects.order_by("name").only("pk", "name")))
        .order_by("name")
    )
