from django.apps import AppConfig


class SectorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sectors"

    def ready(self) -> None:
        from . import identity, sso

        identity.connect_signals()
        sso.connect_signals()
