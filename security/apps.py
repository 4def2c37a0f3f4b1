from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "セキュリティ（認証ログ・ログインロック）"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes import signals as axes_signals
        from django.contrib.auth.signals import user_login_failed

        from . import signals  # noqa: F401  (connects the auth-log receivers)

        # The auth log's receiver of a failed login must run before axes counts that failure: it tells a request
        # refused because it was already locked from a new failure, and logs the failure before the lockout it
        # causes. axes connected its receiver on import, so move it behind ours (public connect/disconnect only).
        user_login_failed.disconnect(axes_signals.handle_user_login_failed)
        user_login_failed.connect(axes_signals.handle_user_login_failed)
