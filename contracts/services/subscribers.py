"""契約者: created, edited and deactivated, never deleted."""

from django.db import transaction

from contracts.choices import OPEN_APPLICATION_STATUSES, OptionContractStatus, SubscriberKind
from contracts.models import Subscriber
from core.errors import DomainError
from core.history_write import save_with_history
from core.search import kana_for_storage, phone_for_storage, search_key, text_for_storage
from core.text import values_assert_clean
from core.transactions import durable_service

from .audit import require_permission, require_reason
from .locks import lock_subscriber


def _check_fields(fields: dict, *, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise DomainError(f"変更できない項目が指定されました: {', '.join(unknown)}", code="field_not_editable")
    # Before any lookup: PostgreSQL refuses a NUL even in a WHERE clause.
    values_assert_clean(Subscriber, fields)
    if "name" in fields and not str(fields["name"]).strip():
        raise DomainError("契約者名を入力してください。", code="name_required")
    if "kind" in fields and fields["kind"] not in SubscriberKind.values:
        raise DomainError("区分は「法人」または「個人」を選択してください。", code="kind_invalid")


# How what staff type is stored (core.search): a フリガナ in katakana, a phone number in half-width digits.
_STORED_FORMS = {"code": text_for_storage, "kana": kana_for_storage, "phone": phone_for_storage}


def _stored(fields: dict) -> dict:
    return {name: _STORED_FORMS[name](value) if name in _STORED_FORMS else value for name, value in fields.items()}


def _set_search_key(subscriber: Subscriber) -> None:
    """Key the subscriber for search on what staff look them up by; every save of a subscriber passes here."""
    subscriber.search_key = search_key(subscriber.code, subscriber.name, subscriber.kana, subscriber.phone)


@durable_service
def subscriber_create(*, actor, reason: str = "", **fields) -> Subscriber:
    """Register a subscriber (契約者); `fields` are the model's fields, `code` required and unique."""
    require_permission(actor, "contracts.add_subscriber", action="契約者を登録する")
    # Stored forms first (Ｄ０００２ is D0002), then the text rule on what would be stored.
    fields = _stored({**fields, "code": str(fields.get("code", "")).strip()})
    code = fields["code"]
    _check_fields(fields, allowed=(*Subscriber.KEY_FIELDS, *Subscriber.EDITABLE_FIELDS))
    if not code:
        raise DomainError("契約者コードを入力してください。", code="code_required")
    if Subscriber.objects.filter(code=code).exists():
        raise DomainError(f"契約者コード「{code}」は登録済みです。", code="code_taken")
    subscriber = Subscriber(**{**fields, "code": code})
    _set_search_key(subscriber)
    save_with_history(subscriber, actor=actor, reason=reason or "契約者の登録")
    return subscriber


@durable_service
def subscriber_update(*, subscriber: Subscriber, actor, reason: str, deactivate: bool = False, **fields) -> Subscriber:
    """Edit a subscriber's particulars, and with `deactivate` also deactivate it, in one transaction: a refused
    deactivation saves nothing. Nothing is saved (no history row) when nothing changed."""
    require_permission(actor, "contracts.change_subscriber", action="契約者を変更する")
    reason = require_reason(reason)
    fields = _stored(fields)
    _check_fields(fields, allowed=Subscriber.EDITABLE_FIELDS)
    locked = lock_subscriber(subscriber)
    changed = {name: value for name, value in fields.items() if getattr(locked, name) != value}
    if deactivate:
        _assert_deactivatable(locked, actor)
    for name, value in changed.items():
        setattr(locked, name, value)
    if deactivate:
        locked.is_active = False
    if changed or deactivate:
        _set_search_key(locked)
        save_with_history(locked, actor=actor, reason=reason)
    return locked


@transaction.atomic(durable=True)
def subscriber_deactivate(*, subscriber: Subscriber, actor, reason: str) -> Subscriber:
    """Deactivate a subscriber (no hard delete): the record and its history stay; no new application is taken."""
    require_permission(actor, "contracts.change_subscriber", action="契約者を無効にする")
    reason = require_reason(reason)
    locked = lock_subscriber(subscriber)
    _assert_deactivatable(locked, actor)
    if locked.is_active:
        locked.is_active = False
        _set_search_key(locked)
        save_with_history(locked, actor=actor, reason=reason)
    return locked


def _assert_deactivatable(locked: Subscriber, actor) -> None:
    """A subscriber is deactivated only when nothing of theirs is still open (contracts, applications)."""
    require_permission(actor, "contracts.change_subscriber", action="契約者を無効にする")
    open_contracts = locked.option_contracts.exclude(status=OptionContractStatus.ENDED)
    if open_contracts.exists():
        raise DomainError(
            "解約されていないオプション契約があるため、契約者を無効にできません。先に解約申込を処理してください。",
            code="subscriber_has_contracts",
        )
    if locked.applications.filter(status__in=OPEN_APPLICATION_STATUSES).exists():
        raise DomainError(
            "処理中（受付・審査中）の申込があるため、契約者を無効にできません。", code="subscriber_has_applications"
        )
