from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        # Registers the labels of the access log's codes this app writes.
        from . import accesslabels  # noqa: F401
