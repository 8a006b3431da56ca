from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("compose/", views.compose, name="compose"),
    path("receivers/", views.receivers, name="receivers"),
    path("threads/<uuid:pk>/", views.thread, name="thread"),
    path("m/<uuid:pk>/reply/", views.reply, name="reply"),
    path("m/<uuid:pk>/forward/", views.forward, name="forward"),
    path("m/<uuid:pk>/handled/", views.mark_handled, name="handled"),
    path("m/<uuid:pk>/unread/", views.mark_unread, name="unread"),
    path("m/<uuid:pk>/assign/", views.assign, name="assign"),
    path("m/<uuid:message_pk>/attachments/<int:pk>/", views.attachment, name="attachment"),
]
