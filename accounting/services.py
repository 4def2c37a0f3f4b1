"""Every write of the accounting app: the mapping table (勘定科目の対応), each save by someone whose role allows it,
with its reason in the history."""

from django.db import transaction

from contracts.billing.pricing import TAX_RATES
from core import clock
from core.errors import DomainError
from core.history_write import save_with_history
from core.permissions import require_permission
from core.text import TextKind, text_problem

from .choices import JOURNAL_KINDS, TAX_CLASSES_BY_RATE
from .models import ACCOUNT_NAME_WIDTH, AccountMapping

NAME_FIELDS = ("debit_account", "debit_sub_account", "credit_account", "credit_sub_account", "department")
REQUIRED_NAMES = ("debit_account", "credit_account")
EDITABLE_FIELDS = (*NAME_FIELDS, *(f"tax_class_{rate}" for _since, rate in TAX_RATES))


def account_name_problem(value: str) -> str:
    """Why `value` cannot stand as an account, sub-account or department name in every journal file, or ""."""
    problem = text_problem(value, kind=TextKind.LINE)
    if problem:
        return problem
    try:
        encoded = value.encode("cp932")
    except UnicodeEncodeError as error:
        return f"「{value[error.start]}」は弥生会計のファイル（Shift_JIS）で表せません。"
    if len(encoded) > ACCOUNT_NAME_WIDTH:
        return f"半角{ACCOUNT_NAME_WIDTH}文字（全角{ACCOUNT_NAME_WIDTH // 2}文字）以内で入力してください。"
    if value[:1] in ("=", "+", "-", "@"):
        return "先頭に「=」「+」「-」「@」は使えません（表計算ソフトが式として読むため）。"
    return ""


@transaction.atomic(durable=True)
def account_mapping_save(*, option, kind: str, values: dict, actor, reason: str) -> AccountMapping:
    """Create or change the mapping of `option` × `kind`; a name no journal file can hold is refused, named."""
    mapping = AccountMapping.objects.select_for_update().filter(option=option, kind=kind).first()
    require_permission(
        actor,
        "accounting.change_accountmapping" if mapping else "accounting.add_accountmapping",
        action="勘定科目の対応を登録する",
    )
    if kind not in {k.value for k in JOURNAL_KINDS}:
        raise DomainError("料金の種別は初期費用・一時費用・月額料金・調整のいずれかです。", code="mapping_kind")
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"変更できない項目です: {', '.join(sorted(unknown))}", code="mapping_field")
    mapping = mapping or AccountMapping(option=option, kind=kind)
    for name, value in values.items():
        setattr(mapping, name, (value or "").strip() if name in NAME_FIELDS else value)
    for name in NAME_FIELDS:
        label = AccountMapping._meta.get_field(name).verbose_name
        value = getattr(mapping, name)
        if name in REQUIRED_NAMES and not value:
            raise DomainError(f"{label}を入力してください。", code="mapping_required")
        problem = account_name_problem(value) if value else ""
        if problem:
            raise DomainError(f"{label}: {problem}", code="mapping_name")
    for _since, rate in TAX_RATES:
        value = mapping.tax_class_for(rate)
        if value not in {c.value for c in TAX_CLASSES_BY_RATE[rate]}:
            raise DomainError(f"税区分（{rate}%）は{rate}%の課税売上の区分から選んでください。", code="mapping_tax")
    mapping.updated_by, mapping.updated_at = actor, clock.now()
    save_with_history(mapping, actor=actor, reason=reason)
    return mapping
