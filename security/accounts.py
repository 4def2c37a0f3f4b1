"""Staff accounts: created, given roles and deactivated here only, so that no one grants more than they hold.

The rules, for an actor who is not a superuser (a システム管理者 with auth.add_user/change_user):
- it never sets is_superuser or is_staff, nor grants a permission directly (user_permissions): only roles;
- it never changes its own account's roles or flags (staff_account_assert_not_self);
- it never touches an account that holds a permission it does not hold itself, a superuser included
  (staff_account_assert_manageable);
- it never grants a role carrying a permission it does not hold itself (staff_roles_assert_grantable).
A superuser may do all of it. Accounts are deactivated, never deleted: the ledger, the history and the auth log
name them. Who created each account is recorded (StaffAccount), and four eyes reads it (staff_assert_independent).
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from core.errors import DomainError
from core.history_read import staff_name
from core.permissions import is_system_user, require_permission
from core.text import values_assert_clean
from core.transactions import durable_service

from .models import StaffAccount


def _dotted(permissions) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions.select_related("content_type")}


def account_permissions(user) -> set[str]:
    """Every permission the account holds now, read from the database (not the request's cache)."""
    return _dotted(Permission.objects.filter(Q(group__user=user) | Q(user=user)).distinct())


def role_permissions(roles: Iterable[Group]) -> set[str]:
    return _dotted(Permission.objects.filter(group__in=list(roles)).distinct())


def _privileged(actor) -> bool:
    return actor.is_superuser or is_system_user(actor)


def _name(user) -> str:
    return staff_name(user)


def staff_account_assert_not_self(user, actor) -> None:
    """No one changes their own roles, flags or activity: a second person does (and that is recorded)."""
    if user.pk == actor.pk and not _privileged(actor):
        raise DomainError(
            f"自分のアカウント（{_name(actor)}）の役割・権限・有効状態は変更できません。別のシステム管理者に依頼してください。",
            code="own_account",
        )


def staff_account_assert_manageable(user, actor) -> None:
    """A non-superuser manages only accounts whose permissions it holds itself: never a superuser's."""
    if _privileged(actor):
        return
    if user.is_superuser:
        raise DomainError(
            f"「{_name(user)}」はスーパーユーザーのため、スーパーユーザー以外は変更できません。",
            code="superuser_account",
        )
    beyond = sorted(account_permissions(user) - actor.get_all_permissions())
    if beyond:
        raise DomainError(
            f"「{_name(user)}」はあなたが持たない権限（{'、'.join(beyond)}）を持つため、変更できません。",
            code="account_beyond_actor",
        )


def staff_roles_assert_grantable(roles: Iterable[Group], actor) -> None:
    """A non-superuser grants only roles whose every permission it holds itself."""
    if _privileged(actor):
        return
    held = actor.get_all_permissions()
    for role in roles:
        beyond = sorted(role_permissions([role]) - held)
        if beyond:
            raise DomainError(
                f"役割「{role.name}」にはあなたが持たない権限（{'、'.join(beyond)}）が含まれるため、付与できません。",
                code="role_beyond_actor",
            )


def staff_assert_independent(first, second, *, what: str) -> None:
    """Four eyes: two people are independent unless they are the same or one created the other's account.

    `what` names the two in the refusal, e.g. "申込の受付者と承認者".
    """
    if first is None or second is None:
        return
    if first.pk == second.pk:
        raise DomainError(f"{what}が同じ職員（{_name(first)}）です。別の職員が行ってください。", code="four_eyes")
    if is_system_user(first) or is_system_user(second):
        # The system user is no person: the accounts it made (the demo's, a command's) are not its accomplices,
        # and a row it booked (the month close) was chosen by no one a second person could collude with.
        return
    created = (
        StaffAccount.objects.filter(Q(user=first, created_by=second) | Q(user=second, created_by=first))
        .select_related("user", "created_by")
        .first()
    )
    if created is not None:
        raise DomainError(
            f"{what}は互いに独立していません（{_name(created.created_by)}が{_name(created.user)}のアカウントを"
            "作成しています）。アカウントの作成に関わっていない別の職員が行ってください。",
            code="four_eyes_not_independent",
        )


def _lock_user(user):
    return get_user_model()._default_manager.select_for_update().get(pk=user.pk)


def _roles(roles) -> list[Group]:
    return sorted(roles or [], key=lambda g: g.pk)


def _set_password(user, password: str | None) -> None:
    """Set a password that passes the validators (AUTH_PASSWORD_VALIDATORS), or none that can log in (None)."""
    if password is None:
        user.set_unusable_password()
        return
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="password_invalid") from error
    user.set_password(password)


@durable_service
def staff_account_create(
    *,
    username: str,
    password: str | None,
    last_name: str = "",
    first_name: str = "",
    email: str = "",
    roles: Iterable[Group] = (),
    actor,
):
    """Create a staff account (is_staff, no superuser, no direct permission) with the given roles; recorded.

    `password` None makes an account that cannot log in until a password is set.
    """
    require_permission(actor, "auth.add_user", action="職員アカウントを作成する")
    roles = _roles(roles)
    staff_roles_assert_grantable(roles, actor)
    model = get_user_model()
    username = (username or "").strip()
    if not username:
        raise DomainError("ユーザー名を入力してください。", code="username_required")
    values_assert_clean(model, {"username": username, "last_name": last_name, "first_name": first_name, "email": email})
    if model._default_manager.filter(username__iexact=username).exists():
        raise DomainError(f"ユーザー名「{username}」は使用済みです。", code="username_taken")
    user = model(username=username, last_name=last_name, first_name=first_name, email=email, is_staff=True)
    _set_password(user, password)
    user.save()
    user.groups.set(roles)
    StaffAccount.objects.create(user=user, created_by=actor)
    return user


@durable_service
def staff_account_update(*, user, last_name: str, first_name: str, email: str, actor):
    """Change an account's name and e-mail address (not its roles, flags or password)."""
    require_permission(actor, "auth.change_user", action="職員アカウントを変更する")
    values_assert_clean(get_user_model(), {"last_name": last_name, "first_name": first_name, "email": email})
    user = _lock_user(user)
    if user.pk != actor.pk:
        staff_account_assert_manageable(user, actor)
    user.last_name, user.first_name, user.email = last_name, first_name, email
    user.save(update_fields=["last_name", "first_name", "email"])
    return user


@durable_service
def staff_account_password_set(*, user, password: str | None, actor):
    """Set an account's password (None: it can no longer log in with one). Anyone may set their own; another's
    only within staff_account_assert_manageable, so a システム管理者 that is not a superuser never sets a
    superuser's password (nor that of an account holding more than it does)."""
    require_permission(actor, "auth.change_user", action="職員アカウントのパスワードを設定する")
    user = _lock_user(user)
    if user.pk != actor.pk:
        staff_account_assert_manageable(user, actor)
    _set_password(user, password)
    user.save(update_fields=["password"])
    return user


@durable_service
def staff_account_roles_set(*, user, roles: Iterable[Group], actor, permissions: Iterable[Permission] | None = None):
    """Give an account exactly `roles` (and, by a superuser only, `permissions` granted directly)."""
    require_permission(actor, "auth.change_user", action="職員アカウントの役割を変更する")
    user = _lock_user(user)
    staff_account_assert_not_self(user, actor)
    staff_account_assert_manageable(user, actor)
    roles = _roles(roles)
    # Removing a role is as much a change of access as granting one: both ends are within the actor's own.
    staff_roles_assert_grantable(roles, actor)
    if permissions is not None:
        permissions = list(permissions)
        current = set(user.user_permissions.values_list("pk", flat=True))
        if {p.pk for p in permissions} != current and not _privileged(actor):
            raise DomainError(
                "権限を個別に付与・削除できるのはスーパーユーザーだけです。役割（グループ）で付与してください。",
                code="direct_permission",
            )
        user.user_permissions.set(permissions)
    user.groups.set(roles)
    return user


@durable_service
def staff_account_flags_set(*, user, is_active: bool, is_staff: bool, is_superuser: bool, actor):
    """Set the flags of an account; a superuser only (anyone else deactivates through staff_account_deactivate)."""
    require_permission(actor, "auth.change_user", action="職員アカウントを変更する")
    user = _lock_user(user)
    if (user.is_active, user.is_staff, user.is_superuser) == (is_active, is_staff, is_superuser):
        return user
    if not _privileged(actor):
        raise DomainError(
            "スーパーユーザー・スタッフ権限・有効状態のフラグを変更できるのはスーパーユーザーだけです。",
            code="flags_superuser_only",
        )
    user.is_active, user.is_staff, user.is_superuser = is_active, is_staff, is_superuser
    user.save(update_fields=["is_active", "is_staff", "is_superuser"])
    return user


@transaction.atomic(durable=True)
def staff_account_deactivate(*, user, actor):
    """Deactivate an account: it can no longer log in; nothing that names it changes. Never a hard delete."""
    require_permission(actor, "auth.change_user", action="職員アカウントを無効にする")
    user = _lock_user(user)
    staff_account_assert_not_self(user, actor)
    staff_account_assert_manageable(user, actor)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user
