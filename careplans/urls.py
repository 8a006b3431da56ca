from django.urls import path

from . import views_monitoring, views_worklists

app_name = "careplans"
urlpatterns: list = []

# Work lists: home care's Today, hand-off requests, alerts, measurements and thresholds.
urlpatterns += [
    path("today/", views_worklists.today, name="today"),
    path("activities/<int:pk>/done/", views_worklists.activity_done, name="activity_done"),
    path("citizens/<uuid:citizen_pk>/measurements/new/", views_worklists.measurement_new, name="measurement_new"),
    path("citizens/<uuid:citizen_pk>/thresholds/", views_worklists.thresholds, name="thresholds"),
    path("citizens/<uuid:citizen_pk>/measurements/", views_monitoring.measurements, name="measurements"),
    path("citizens/<uuid:citizen_pk>/alerts/ack-yellow/", views_worklists.alerts_ack_yellow, name="alerts_ack_yellow"),
    path("handoffs/", views_worklists.handoffs, name="handoffs"),
    path("handoffs/<int:pk>/accept/", views_worklists.handoff_accept, name="handoff_accept"),
    path("handoffs/<int:pk>/reject/", views_worklists.handoff_reject, name="handoff_reject"),
    path("alerts/", views_worklists.alerts, name="alerts"),
    path("alerts/<int:pk>/ack/", views_worklists.alert_ack, name="alert_ack"),
]

# Care plan pages: create, the plan page and its htmx section endpoints (careplans.views).
from . import views, views_status  # noqa: E402

urlpatterns += [
    path("citizens/<uuid:citizen_pk>/plans/new/", views.plan_create, name="create"),
    path("plans/<uuid:pk>/", views.plan_detail, name="detail"),
    path("plans/<uuid:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<uuid:pk>/status/", views_status.plan_status, name="plan_status"),
    path("plans/<uuid:pk>/team/", views.team_add, name="team_add"),
    path("plans/<uuid:pk>/team/<int:participant_pk>/end/", views.team_end, name="team_end"),
    path("plans/<uuid:pk>/goals/", views.goal_add, name="goal_add"),
    path("plans/<uuid:pk>/goals/<int:item_pk>/status/", views_status.goal_status, name="goal_status"),
    path("plans/<uuid:pk>/activities/", views.activity_add, name="activity_add"),
    path("plans/<uuid:pk>/activities/<int:item_pk>/status/", views_status.activity_status, name="activity_status"),
    path("plans/<uuid:pk>/activities/<int:item_pk>/done/", views_status.activity_done, name="plan_activity_done"),
    path("plans/<uuid:pk>/activities/<int:item_pk>/undo/", views_status.activity_undo, name="plan_activity_undo"),
    path("plans/<uuid:pk>/<str:kind>/<int:item_pk>/reassign/", views.item_reassign, name="item_reassign"),
    path("organisations/search/", views.organisation_search, name="organisation_search"),
]

# "Undo" on the Today list's row that was just marked done (careplans.views_status).
urlpatterns += [path("activities/<int:pk>/undo/", views_status.today_undo, name="activity_done_undo")]
