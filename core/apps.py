from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel every app stands on: errors, the JST clock, 和暦, history, and the staff UI's bases."""

    name = "core"
    verbose_name = "共通"

    def ready(self):
        from core.admin import install_wareki_display
        from core.tables import install_signature_cache

        install_wareki_display()
        install_signature_cache()
