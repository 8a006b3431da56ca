from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareplansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "careplans"
    verbose_name = _("Care plans and home monitoring")

    def ready(self) -> None:
        # Registers the care-team relationship and the access log's labels; keeps the care-team
        # flag in step with citizen moves; adds the dashboard's alert, hand-off and visit cards
        # (smartcare.dashboard) and the care plans' section of the citizen overview (citizens.overview).
        from . import access_rules, accesslabels, dashboard_cards, overview, receivers  # noqa: F401
