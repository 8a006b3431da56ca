from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from smartcare.dashboard import dashboard_cards

from . import acting as acting_module
from .filtersets import OrganisationFilterSet
from .forms import ActingOrganisationForm
from .models import Organisation
from .selectors import organisation_get, organisation_list, organisation_members, organisation_tree

DIRECTORY_PAGE_SIZE = 25


@login_required
@require_GET
def dashboard(request):
    """The acting user's work overview: the cards the apps register (``smartcare.dashboard``),
    then the organisation and its members."""
    acting = request.acting
    members = organisation_members(organisation=acting.organisation) if acting else []
    cards = dashboard_cards(request) if acting else []
    return render(request, "sectors/dashboard.html", {"members": members, "cards": cards})


@login_required
@require_GET
def organisation_directory(request):
    """The SOR tree (the portal's organisations, then the external entries) until a search or a
    filter asks for a list."""
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    filterset = OrganisationFilterSet(filters or None, queryset=organisation_list())
    # An invalid filter is shown with the results and lists nothing, rather than being ignored.
    rows = filterset.qs if not filterset.is_bound or filterset.is_valid() else filterset.queryset.none()
    page = Paginator(rows, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filterset": filterset, "page": page, "query": query.urlencode(), "tree": None}
    if not filters:
        context["tree"] = {"portal": organisation_tree(external=False), "external": organisation_tree(external=True)}
    template = "sectors/_organisation_results.html" if request.htmx else "sectors/organisation_list.html"
    return render(request, template, context)


@login_required
@require_GET
def organisation_detail(request, pk: int):
    try:
        organisation = organisation_get(pk=pk)
    except Organisation.DoesNotExist:
        raise Http404 from None
    return render(request, "sectors/organisation_detail.html", {"organisation": organisation})


@login_required
@require_POST
def acting_switch(request):
    form = ActingOrganisationForm(request.POST)
    if not form.is_valid() and "organisation" in form.errors:
        raise acting_module.ActingOrganisationInvalid
    acting_module.acting_set(request, organisation_id=form.cleaned_data["organisation"])
    target = form.cleaned_data.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "dashboard"
    return redirect(target)
