from django.urls import path

from . import views_ops

app_name = "messaging_ops"

urlpatterns = [
    path("hospital-events/", views_ops.hospital_events, name="hospital_events"),
    path("hospital-events/<int:pk>/correct/", views_ops.hospital_event_correct, name="hospital_event_correct"),
    path("hospital-events/<int:pk>/cancel/", views_ops.hospital_event_cancel, name="hospital_event_cancel"),
    path("operations/", views_ops.operations, name="operations"),
    path("operations/deliveries/<int:pk>/retry/", views_ops.delivery_retry, name="delivery_retry"),
    path("operations/integrations/", views_ops.integrations, name="integrations"),
    path("settings/", views_ops.preferences, name="preferences"),
]
