from django.urls import path

from . import views, views_export

app_name = "fhir"

urlpatterns = [
    path("$process-message", views.process_message_view, name="process_message"),
    path("Bundle/<uuid:pk>", views_export.BundleView.as_view(), name="bundle"),
]
