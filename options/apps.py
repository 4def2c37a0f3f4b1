from django.apps import AppConfig


class OptionsConfig(AppConfig):
    name = "options"
    verbose_name = "料金規程（カタログ）"
