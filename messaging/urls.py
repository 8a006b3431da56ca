from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("threads/<uuid:pk>/", views.thread, name="thread"),
]
