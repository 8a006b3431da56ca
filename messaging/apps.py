from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        # Registers the messages card of the dashboard (smartcare.dashboard).
        from . import dashboard_cards  # noqa: F401
