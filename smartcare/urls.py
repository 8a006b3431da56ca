from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from citizens.fhir.views import root_endpoint as fhir_root
from citizens.views_launch import citizen_launch

from .health import health
from .session import session_keepalive

admin.site.site_header = "SmartCare"
admin.site.site_title = "SmartCare"

urlpatterns = [
    path("health/", health, name="health"),
    path("session/keepalive/", session_keepalive, name="session_keepalive"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("sectors.api.urls")),
    path("api/v1/", include("citizens.api.urls")),
    path("api/v1/", include("careplans.api.urls")),
    path("api/v1/", include("messaging.api.urls")),
    # FHIR's base URL itself (a transaction is POSTed to it, and a POST cannot follow a redirect to /fhir/).
    path("fhir", fhir_root, name="fhir-root"),
    path("fhir/", include("messaging.fhir.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # An EPJ opens the portal on a citizen (README: "Opening a citizen from an EPJ").
    path("launch", citizen_launch, name="launch"),
    path("citizens/", include("citizens.urls")),
    path("care/", include("careplans.urls")),
    path("messages/", include("messaging.urls")),
    path("messages/", include("messaging.urls_ops")),
    path("", include("sectors.urls")),
]

handler404 = "smartcare.errors.page_not_found"
handler500 = "smartcare.errors.server_error"
