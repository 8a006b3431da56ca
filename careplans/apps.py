from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareplansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "careplans"
    verbose_name = _("Care plans and home monitoring")

    def ready(self) -> None:
        # Registers the care-team relationships' fact source and the access log's labels; keeps the
        # care-team relationships in step with the teams and plans; adds the dashboard's alert, hand-off and visit cards
        # (smartcare.dashboard) and the care plans' section of the citizen overview (citizens.overview).
        from . import accesslabels, dashboard_cards, overview, receivers, relationships  # noqa: F401
        from .fhir import register_types
        from .fhir_monitoring import register_monitoring_types

        # The FHIR API's CarePlan, CareTeam, Goal, ServiceRequest, Task, Observation and Flag
        # (citizens.fhir.registry).
        register_types()
        register_monitoring_types()
