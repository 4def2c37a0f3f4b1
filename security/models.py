"""The authentication log: logins, failed logins, logouts, lockouts, their release, and permission denials."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.formats import wareki_datetime


class AuthEventKind(models.TextChoices):
    LOGIN = "login", "ログイン"
    LOGIN_FAILED = "login_failed", "ログイン失敗"
    LOGOUT = "logout", "ログアウト"
    LOCKOUT = "lockout", "ロックアウト"
    LOCKOUT_RELEASED = "lockout_released", "ロック解除"
    PERMISSION_DENIED = "permission_denied", "権限なし（403）"


APPEND_ONLY = "認証ログは追記のみです。変更・削除はできません。"


class AuthEventQuerySet(models.QuerySet):
    """Append-only: bulk edits and deletes are refused before they reach the database."""

    def update(self, **kwargs):
        raise TypeError(APPEND_ONLY)

    def delete(self):
        raise TypeError(APPEND_ONLY)


class AuthEvent(models.Model):
    """One authentication event, never edited.

    `user` is the account the event is about (for a release: the システム管理者 who released); it is kept as a bare id
    (no database constraint, nothing done on delete) so that deleting an account never touches the log, and
    `username` keeps the name as it was (for a failed login: as typed, whether or not such an account exists).
    """

    at = models.DateTimeField("日時", default=timezone.now, db_index=True)
    kind = models.CharField("種別", max_length=20, choices=AuthEventKind.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="アカウント",
    )
    username = models.CharField("ユーザー名", max_length=255, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField("送信元アドレス", null=True, blank=True)
    user_agent = models.CharField("ブラウザ", max_length=255, blank=True)
    path = models.CharField("画面", max_length=255, blank=True)
    target = models.CharField("対象", max_length=255, blank=True)
    detail = models.CharField("内容", max_length=255, blank=True)

    objects = AuthEventQuerySet.as_manager()

    class Meta:
        verbose_name = "認証ログ"
        verbose_name_plural = "認証ログ"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["kind", "-at"], name="security_authevent_kind_at")]

    def __str__(self) -> str:
        return f"{wareki_datetime(self.at)} {self.get_kind_display()} {self.username}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(APPEND_ONLY)


STAFF_ACCOUNT_APPEND_ONLY = "職員アカウントの作成記録は追記のみです。変更・削除はできません。"


class StaffAccountQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(STAFF_ACCOUNT_APPEND_ONLY)

    def delete(self):
        raise TypeError(STAFF_ACCOUNT_APPEND_ONLY)


class StaffAccount(models.Model):
    """Who created a staff account, and when: written once by staff_account_create, never edited.

    Four eyes asks for two independent people; one who created the other's account is not (security.accounts,
    staff_assert_independent). `created_by` is null for accounts made outside the service (createsuperuser).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_account", verbose_name="アカウント"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="作成者",
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    objects = StaffAccountQuerySet.as_manager()

    class Meta:
        verbose_name = "職員アカウントの作成記録"
        verbose_name_plural = "職員アカウントの作成記録"

    def __str__(self) -> str:
        return f"{self.user} ← {self.created_by or '—'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(STAFF_ACCOUNT_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(STAFF_ACCOUNT_APPEND_ONLY)
