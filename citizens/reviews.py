"""The access review: break-the-glass accesses and the other accesses to review (admissions
without an earlier relationship, deaths) are reviewed by an administrator, who records a
conclusion and a note.

Who reviews: the administrators of the organisation whose member accessed the citizen, and the
administrators of its region. The region's administrators see every organisation of the region,
so an organisation without an administrator of its own is reviewed all the same.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sectors.choices import OrganisationKind
from sectors.models import Organisation

from .access import Actor
from .choices import ReviewConclusion
from .models import AccessReviewItem, BreakGlassAccess, Citizen


def region_of(organisation: Organisation) -> Organisation | None:
    """The region above an organisation: up its parents (department, unit, region; municipality,
    region), else through its municipality (a GP clinic)."""
    seen: set[int] = set()
    current = organisation.parent
    while current is not None and current.pk not in seen:
        if current.kind == OrganisationKind.REGION:
            return current
        seen.add(current.pk)
        current = current.parent
    municipality = organisation.municipality
    if municipality is not None and municipality.pk != organisation.pk:
        return region_of(municipality)
    return None


def _in_region(region_id: int) -> Q:
    """Organisations of a region, as the SOR tree nests them (at most three levels below it)."""
    return (
        Q(pk=region_id)
        | Q(parent_id=region_id)
        | Q(parent__parent_id=region_id)
        | Q(parent__parent__parent_id=region_id)
        | Q(municipality__parent_id=region_id)
    )


def reviewed_organisations(actor: Actor) -> QuerySet[Organisation]:
    """The organisations whose accesses the actor reviews: none unless an administrator; the own
    organisation; for a region's administrator every organisation of the region."""
    if not actor.acting or not actor.acting.is_organisation_admin:
        return Organisation.objects.none()
    organisation = actor.organisation
    if organisation.kind == OrganisationKind.REGION:
        return Organisation.objects.filter(_in_region(organisation.pk))
    return Organisation.objects.filter(pk=organisation.pk)


def may_review(actor: Actor, organisation_id: int | None, region_id: int | None = None) -> bool:
    """Administrators of the organisation, or of its region, review what its staff did."""
    if not actor.acting or not actor.acting.is_organisation_admin:
        return False
    if actor.organisation.pk in {organisation_id, region_id} - {None}:
        return True
    return organisation_id is not None and reviewed_organisations(actor).filter(pk=organisation_id).exists()


def _mark_reviewed(actor: Actor, row: BreakGlassAccess | AccessReviewItem, conclusion: str, note: str):
    errors = {}
    if conclusion not in ReviewConclusion.values:
        errors["conclusion"] = [_("Choose the conclusion of the review.")]
    if not (note or "").strip():
        errors["note"] = [_("Write a review note.")]
    if errors:
        raise ValidationError(errors)
    if row.reviewed_at is not None:
        raise ValidationError(_("This access has already been reviewed."))
    row.reviewed_at = timezone.now()
    row.reviewed_by = actor.user
    row.conclusion = conclusion
    row.review_note = note.strip()
    row.save(update_fields=["reviewed_at", "reviewed_by", "conclusion", "review_note"])
    return row


@transaction.atomic
def break_glass_review(*, actor: Actor, grant: BreakGlassAccess, conclusion: str, note: str) -> BreakGlassAccess:
    if not may_review(actor, grant.organisation_id):
        raise PermissionDenied
    return _mark_reviewed(actor, BreakGlassAccess.objects.select_for_update().get(pk=grant.pk), conclusion, note)


@transaction.atomic
def access_review_done(*, actor: Actor, item: AccessReviewItem, conclusion: str, note: str) -> AccessReviewItem:
    if not may_review(actor, item.organisation_id, item.region_id):
        raise PermissionDenied
    return _mark_reviewed(actor, AccessReviewItem.objects.select_for_update().get(pk=item.pk), conclusion, note)


# The organisation's ancestors as far as the SOR tree nests them (``_in_region``), read with it.
ANCESTORS = ("parent__parent__parent", "municipality__parent")
# Columns the flag's own values stand for: objects the caller has loaded, which the database's
# foreign keys check on insert; validating them would read each one again.
LOADED = ["user", "organisation", "region", "citizen"]


def access_review_flag(
    *, actor: Actor, citizen: Citizen, kind: str, reason: str, organisation: Organisation | None = None
) -> AccessReviewItem:
    """Put something the acting organisation did to a citizen on the review list (the caller's
    transaction: it is flagged only if it happened). ``organisation``: whose access it is, when not
    the actor's (a message received from elsewhere gives the receiver its relationship).

    Two queries, on the hospital event's write path: the organisation with its ancestors (its
    region found in memory) and the insert. The fields are validated in Python: blank text for
    ``reason`` is refused by ``clean_fields`` before its check constraint would see it."""
    whose = organisation or actor.organisation
    organisation = Organisation.objects.select_related(*ANCESTORS).get(pk=whose.pk)
    item = AccessReviewItem(
        kind=kind,
        user=actor.user,
        organisation=whose,
        region=region_of(organisation),
        citizen=citizen,
        reason=reason,
    )
    item.full_clean(exclude=LOADED, validate_constraints=False)
    item.save()
    return item
