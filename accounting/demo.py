"""The demo mapping for `load_demo`: every option × fee kind booked as 売掛金 / 売上高 (補助科目: the option's
code), so the demo book's closed months export their journals. Made by 経理 keiri through the service; an
existing mapping is left as it is."""

from django.contrib.auth import get_user_model

from options.models import Option

from .choices import JOURNAL_KINDS
from .models import AccountMapping
from .services import account_mapping_save

DEMO_ACCOUNTANT = "keiri"
DEMO_DEPARTMENT = "ISP事業部"


def load_mappings() -> list[str]:
    """Seed the missing mappings; return what was done, one line each (nothing when all are there)."""
    actor = get_user_model().objects.filter(username=DEMO_ACCOUNTANT).first()
    if actor is None:
        return []
    existing = set(AccountMapping.objects.values_list("option_id", "kind"))
    made = 0
    for option in Option.objects.order_by("pk"):
        for kind in JOURNAL_KINDS:
            if (option.pk, kind.value) in existing:
                continue
            account_mapping_save(
                option=option,
                kind=kind.value,
                values={"credit_sub_account": option.code[:24], "department": DEMO_DEPARTMENT},
                actor=actor,
                reason="デモデータの登録",
            )
            made += 1
    return [f"デモの勘定科目の対応を登録: {made}件"] if made else []
