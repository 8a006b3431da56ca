from django.urls import path

from citizens.fhir import views as api

from . import views, views_export

app_name = "fhir"

urlpatterns = [
    path("$process-message", views.process_message_view, name="process_message"),
    path("Bundle/<uuid:pk>", views_export.BundleView.as_view(), name="bundle"),
    # The read API (citizens.fhir): every registered resource type.
    path("", api.root_endpoint, name="root"),
    path("metadata", api.metadata, name="metadata"),
    path("<str:resource_type>", api.type_endpoint, name="type"),
    path("<str:resource_type>/<str:resource_id>", api.instance_endpoint, name="instance"),
    path("<path:rest>", api.unknown_endpoint, name="unknown"),
]
