from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        # Registers the messages card of the dashboard (smartcare.dashboard), the messages section
        # of the citizen overview (citizens.overview) and the labels of the access log's codes
        # this app writes, and the received messages' care relationships (citizens.relationships).
        # The tasks register how the services enqueue deliveries (enqueue).
        from citizens.fhir.registry import register

        from . import accesslabels, dashboard_cards, overview, relationships, tasks  # noqa: F401
        from .fhir.communication import COMMUNICATION

        register(COMMUNICATION)  # the FHIR read API (citizens.fhir)
