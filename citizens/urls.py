from django.urls import path

from . import views

app_name = "citizens"
urlpatterns = [
    path("", views.citizen_list, name="list"),
    path("search/", views.citizen_search, name="search"),
    path("new/", views.citizen_create, name="create"),
    path("break-the-glass/", views.break_glass, name="break_glass"),
    path("break-the-glass/review/", views.break_glass_review, name="break_glass_review"),
    path("break-the-glass/review/<int:pk>/", views.break_glass_review_done, name="break_glass_review_done"),
    path("break-the-glass/review/items/<int:pk>/", views.access_review_done, name="access_review_done"),
    path("<uuid:pk>/", views.citizen_detail, name="detail"),
    path("<uuid:pk>/edit/", views.citizen_edit, name="edit"),
    path("<uuid:pk>/consent/", views.citizen_consent, name="consent"),
    path("<uuid:pk>/objections/<int:objection_pk>/withdraw/", views.objection_withdraw, name="objection_withdraw"),
    path("<uuid:pk>/access-log/", views.access_report, name="access_report"),
    path("<uuid:pk>/access-log.csv", views.access_report_csv, name="access_report_csv"),
]
