from django.apps import AppConfig


class CitizensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "citizens"

    def ready(self) -> None:
        # Registers the dashboard's hospital-stay and access-review cards (smartcare.dashboard) and
        # keeps the care relationships in step with the citizens' facts (citizens.relationships).
        from . import dashboard_cards, receivers  # noqa: F401
        from .fhir.types import register_types

        register_types()  # the FHIR API's Patient, Organization, ... (citizens.fhir.registry)
