from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        # Registers the messages card of the dashboard (smartcare.dashboard), the messages section
        # of the citizen overview (citizens.overview) and the labels of the access log's codes
        # this app writes.
        from . import accesslabels, dashboard_cards, overview  # noqa: F401
