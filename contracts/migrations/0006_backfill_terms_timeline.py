"""Write the terms timeline of the contracts that exist already (DOMAIN §3.16), from what set their terms:
the approved application (or, for a migrated contract, its terms as first registered), each approved change
from its effective date, and a succession from its date. Each period gets its history row."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations
from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")
REASON = "既存の契約から契約条件の期間を作成"


def backfill(apps, schema_editor):
    OptionContract = apps.get_model("contracts", "OptionContract")
    Application = apps.get_model("contracts", "Application")
    ContractTerms = apps.get_model("contracts", "ContractTerms")
    HistoricalTerms = apps.get_model("contracts", "HistoricalContractTerms")
    OptionVariant = apps.get_model("options", "OptionVariant")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    if not OptionContract.objects.exists():
        return
    system, _ = User.objects.get_or_create(
        username=settings.SYSTEM_USERNAME, defaults={"first_name": "システム", "is_active": False}
    )
    HistoricalContract = apps.get_model("contracts", "HistoricalOptionContract")
    now = timezone.now()
    for contract in OptionContract.objects.order_by("pk"):
        first = HistoricalContract.objects.filter(id=contract.pk).order_by("history_id").first()
        events = []  # (date, order, fields)
        origin = Application.objects.filter(pk=contract.origin_application_id).first()
        if origin is not None:
            base = dict(
                option_id=origin.option_id,
                variant_id=origin.variant_id,
                quantity=origin.quantity,
                quoted_amount_yen=origin.quoted_amount_yen,
                event="approval",
                application_id=origin.pk,
            )
        else:
            source = first or contract
            base = dict(
                option_id=source.option_id,
                variant_id=source.variant_id,
                quantity=source.quantity,
                quoted_amount_yen=source.quoted_amount_yen,
                event="migration",
                application_id=None,
            )
        events.append((contract.contracted_on, 0, base))
        if contract.succession_id:
            succession = contract.succession
            events.append((succession.effective_on, 1, {"succession": succession}))
        changes = Application.objects.filter(option_contract=contract, kind="change", status="approved")
        for change in changes.order_by("decided_at", "pk"):
            day = change.effective_date or change.decided_at.astimezone(JST).date()
            events.append(
                (
                    day,
                    2,
                    dict(
                        option_id=change.option_id,
                        variant_id=change.variant_id,
                        quantity=change.quantity,
                        quoted_amount_yen=change.quoted_amount_yen,
                        event="change",
                        application_id=change.pk,
                    ),
                )
            )
        events.sort(key=lambda e: (e[0], e[1]))
        periods = []
        for day, _order, fields in events:
            if "succession" in fields:
                succession = fields["succession"]
                previous = periods[-1][1]
                code = OptionVariant.objects.get(pk=previous["variant_id"]).code
                variant = OptionVariant.objects.filter(option_id=succession.to_option_id, code=code).first()
                fields = dict(
                    option_id=succession.to_option_id,
                    variant_id=variant.pk if variant else contract.variant_id,
                    quantity=previous["quantity"],
                    quoted_amount_yen=previous["quoted_amount_yen"],
                    event="succession",
                    application_id=None,
                    succession_id=succession.pk,
                    provision=succession.provision,
                )
            if periods and periods[-1][0] == day:
                periods[-1] = (day, fields)
            else:
                periods.append((day, fields))
        actor_id = (first.history_user_id if first else None) or system.pk
        for index, (day, fields) in enumerate(periods):
            until = periods[index + 1][0] - dt.timedelta(days=1) if index + 1 < len(periods) else None
            row = ContractTerms.objects.create(
                option_contract_id=contract.pk, valid_from=day, valid_until=until, created_by_id=actor_id, **fields
            )
            HistoricalTerms.objects.create(
                id=row.pk,
                option_contract_id=contract.pk,
                valid_from=day,
                valid_until=until,
                created_by_id=actor_id,
                created_at=row.created_at,
                history_date=now,
                history_type="+",
                history_user_id=system.pk,
                history_change_reason=REASON,
                **fields,
            )


class Migration(migrations.Migration):
    dependencies = [("contracts", "0005_terms_timeline_and_corrections")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
