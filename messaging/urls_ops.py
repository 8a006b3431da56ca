from django.urls import path

from . import views_ops

app_name = "messaging_ops"

urlpatterns = [
    path("operations/", views_ops.operations, name="operations"),
]
