from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "ファイル出力（作成依頼・出力記録）"
