"""Admin data entry for contracts: every save goes through contracts.services, with a stated reason.

Nothing is deleted here (契約者 are deactivated, contracts are ended, ledger rows are reversed). Option
contracts are added only as migrated records (DOMAIN §3.13); applications are entered in the staff UI and
the ledger is written by approvals, billing starts and the month close, so both are read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from core.admin import DIFF_COLUMN, REASON_FIELD, CappedCountPaginator, ReasonForm, RecordAdmin

from . import services
from .models import (
    Application,
    BaseServiceContract,
    CarrierLineContract,
    ContractTerms,
    LedgerEntry,
    MonthClose,
    OptionContract,
    Subscriber,
)


class ContractRecordAdmin(RecordAdmin):
    """Base of the contracts admins: saves through a service, never a delete, big lists without COUNT(*)."""

    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator
    history_list_display = [DIFF_COLUMN]

    def has_delete_permission(self, request, obj=None):
        return False

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied  # 契約者 are deactivated, contracts ended, ledger rows reversed: never deleted

    def save_changes(self, request, obj, form, change):
        self.save_through_service(request, obj, form, change, reason=form.cleaned_data[REASON_FIELD])

    def save_through_service(self, request, obj, form, change, *, reason):
        """Save with the services' `joined` forms: Django's transaction holds them all (core.admin)."""
        raise NotImplementedError

    @staticmethod
    def adopt(obj, saved) -> None:
        """Make the admin's unsaved instance the record the service saved (for the log and the redirect)."""
        obj.pk = saved.pk
        obj.__dict__.update({f.attname: getattr(saved, f.attname) for f in saved._meta.concrete_fields})
        obj._state.adding = False


class ReadOnlyAdmin(ContractRecordAdmin):
    """Records written only by services elsewhere: view and history, nothing else."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- 契約者 -----------------------------------------------------------------------------------------


class SubscriberForm(ReasonForm):
    deactivate = forms.BooleanField(
        label="無効にする",
        required=False,
        help_text="退会した契約者を無効にします（削除はしません）。解約されていないオプション契約があると無効にできません。",
    )

    class Meta:
        model = Subscriber
        fields = (*Subscriber.KEY_FIELDS, *Subscriber.EDITABLE_FIELDS)


@admin.register(Subscriber)
class SubscriberAdmin(ContractRecordAdmin):
    form = SubscriberForm
    list_display = ("code", "name", "kana", "kind", "phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "kana", "email", "phone")
    readonly_fields = ("is_active", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return (*Subscriber.KEY_FIELDS, *self.readonly_fields) if obj else self.readonly_fields

    def get_fields(self, request, obj=None):
        fields = [*Subscriber.KEY_FIELDS, *Subscriber.EDITABLE_FIELDS, "is_active", "created_at", REASON_FIELD]
        if obj is None:
            return [f for f in fields if f not in ("is_active", "created_at")]
        return [*fields[:-1], "deactivate", REASON_FIELD] if obj.is_active else fields

    def save_through_service(self, request, obj, form, change, *, reason):
        fields = {name: form.cleaned_data[name] for name in Subscriber.EDITABLE_FIELDS}
        if not change:
            key = {name: form.cleaned_data[name] for name in Subscriber.KEY_FIELDS}
            saved = services.subscriber_create.joined(actor=request.user, reason=reason, **key, **fields)
            self.adopt(obj, saved)
            return
        services.subscriber_update.joined(
            subscriber=obj,
            actor=request.user,
            reason=reason,
            deactivate=bool(form.cleaned_data.get("deactivate")),
            **fields,
        )


# --- 基本サービス契約・事業者回線契約 ------------------------------------------------------------------


class BaseServiceContractForm(ReasonForm):
    class Meta:
        model = BaseServiceContract
        fields = ("subscriber", "service", "contract_number", "start_date", "end_date", "migrated")


@admin.register(BaseServiceContract)
class BaseServiceContractAdmin(ContractRecordAdmin):
    form = BaseServiceContractForm
    list_display = ("subscriber", "service", "contract_number", "start_date", "end_date", "migrated")
    list_filter = ("service", "migrated")
    search_fields = ("subscriber__code", "subscriber__name", "contract_number")
    list_select_related = ("subscriber", "service")
    autocomplete_fields = ("subscriber",)

    def get_readonly_fields(self, request, obj=None):
        # After registration only the end can change (base_contract_end); the rest is the contract as made.
        return ("subscriber", "service", "contract_number", "start_date", "migrated") if obj else ()

    def save_through_service(self, request, obj, form, change, *, reason):
        data = form.cleaned_data
        if change:
            services.base_contract_end.joined(
                base_contract=obj, end_date=data.get("end_date"), actor=request.user, reason=reason
            )
            return
        saved = services.base_contract_create.joined(
            subscriber=data["subscriber"],
            service=data["service"],
            start_date=data["start_date"],
            end_date=data.get("end_date"),
            contract_number=data.get("contract_number", ""),
            actor=request.user,
            migrated=data.get("migrated", False),
            reason=reason,
        )
        self.adopt(obj, saved)


class CarrierLineContractForm(ReasonForm):
    confirm = forms.BooleanField(
        label="契約を確認した",
        required=False,
        help_text="契約者と当該事業者との間で締結された契約であることを確認しました（第1条）。確認者と日時が記録されます。",
    )

    class Meta:
        model = CarrierLineContract
        fields = ("subscriber", "carrier_service", "line_id", "start_date", "end_date", "migrated")


@admin.register(CarrierLineContract)
class CarrierLineContractAdmin(ContractRecordAdmin):
    form = CarrierLineContractForm
    list_display = (
        "subscriber",
        "carrier_service",
        "line_id",
        "start_date",
        "end_date",
        "confirmed_by",
        "confirmed_at",
        "migrated",
    )
    list_filter = ("carrier_service", "migrated", ("confirmed_at", admin.EmptyFieldListFilter))
    search_fields = ("subscriber__code", "subscriber__name", "line_id")
    list_select_related = ("subscriber", "carrier_service__carrier", "confirmed_by")
    autocomplete_fields = ("subscriber",)
    actions = ["confirm_lines"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("confirmed_by", "confirmed_at")
        return ("subscriber", "carrier_service", "line_id", "start_date", "migrated", "confirmed_by", "confirmed_at")

    def save_through_service(self, request, obj, form, change, *, reason):
        data = form.cleaned_data
        if change:
            if data.get("end_date") is not None:
                services.carrier_line_end.joined(
                    carrier_line=obj, end_date=data["end_date"], actor=request.user, reason=reason
                )
            line = obj
        else:
            line = services.carrier_line_create.joined(
                subscriber=data["subscriber"],
                carrier_service=data["carrier_service"],
                line_id=data["line_id"],
                start_date=data["start_date"],
                end_date=data.get("end_date"),
                actor=request.user,
                migrated=data.get("migrated", False),
                reason=reason,
            )
            self.adopt(obj, line)
        if data.get("confirm"):
            services.carrier_line_confirm.joined(carrier_line=line, actor=request.user)

    @admin.action(description="選択した回線契約を確認済みにする（第1条）")
    def confirm_lines(self, request, queryset):
        for line in queryset.filter(confirmed_at__isnull=True):
            services.carrier_line_confirm(carrier_line=line, actor=request.user)
        self.message_user(request, "確認者と確認日時を記録しました。", messages.SUCCESS)


# --- オプション契約 -----------------------------------------------------------------------------------


class MigratedOptionContractForm(ReasonForm):
    """Registration of a contract from before the system: real dates, no approval, no obligations."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.migrated = True  # so the model's own checks validate it as the migrated record it is

    class Meta:
        model = OptionContract
        fields = (
            "subscriber",
            "option",
            "variant",
            "base_contract",
            "carrier_line",
            "quantity",
            "quoted_amount_yen",
            "contracted_on",
            "billing_start_date",
            "end_date",
        )


@admin.register(OptionContract)
class OptionContractAdmin(ContractRecordAdmin):
    form = MigratedOptionContractForm
    list_display = (
        "subscriber",
        "option",
        "variant",
        "quantity",
        "status",
        "contracted_on",
        "billing_start_date",
        "end_date",
        "migrated",
        "confirmed_at",
    )
    list_filter = ("status", "migrated", "option")
    search_fields = ("subscriber__code", "subscriber__name", "option__name")
    list_select_related = ("subscriber", "option", "variant")
    autocomplete_fields = ("subscriber", "base_contract", "carrier_line")

    def has_change_permission(self, request, obj=None):
        return False  # changes are applications (staff UI), billing starts and ends go through services

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "移行データとしてオプション契約を登録"}
        return super().add_view(request, form_url, extra_context)

    def save_through_service(self, request, obj, form, change, *, reason):
        data = form.cleaned_data
        saved = services.option_contract_register_migrated.joined(
            subscriber=data["subscriber"],
            option=data["option"],
            variant=data["variant"],
            contracted_on=data["contracted_on"],
            quantity=data["quantity"],
            quoted_amount_yen=data.get("quoted_amount_yen"),
            billing_start_date=data.get("billing_start_date"),
            end_date=data.get("end_date"),
            base_contract=data.get("base_contract"),
            carrier_line=data.get("carrier_line"),
            actor=request.user,
            reason=reason,
        )
        self.adopt(obj, saved)
        messages.info(
            request,
            f"オプション契約 #{saved.pk} は確認待ちです。登録者とは別の職員がオプション契約の画面で確認すると、"
            "契約条件が適用され課金の対象になります。",
        )


# --- 申込・支払義務・月次締め（読み取りのみ） -------------------------------------------------------------


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "kind",
        "status",
        "subscriber",
        "option",
        "quantity",
        "entered_by",
        "entered_at",
        "decided_by",
    )
    # No date_hierarchy: its year links need a DISTINCT over every application's date (a full scan at scale).
    list_filter = ("status", "kind", "option", "entered_at")
    search_fields = ("subscriber__code", "subscriber__name", "note", "rejection_reason")
    list_select_related = ("subscriber", "option", "entered_by", "decided_by")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "kind",
        "option_contract",
        "amount_yen",
        "quantity",
        "blocks",
        "revision",
        "arisen_at",
        "booked_month",
        "reverses",
    )
    list_filter = ("kind", "booked_month")
    search_fields = ("option_contract__subscriber__code", "option_contract__subscriber__name", "reason")
    # Three tables joined, the catalogue names and the reversed row by their own small queries: joined too, the
    # changelist's query took PostgreSQL ~5 ms to plan against ~1 ms to run (full book; as the ledger list).
    list_select_related = ("option_contract__subscriber", "revision")
    raw_id_fields = ("option_contract", "application", "fee_item", "reverses")
    list_per_page = 100

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("option_contract__option", "option_contract__variant", "reverses")
        )


@admin.register(MonthClose)
class MonthCloseAdmin(ReadOnlyAdmin):
    list_display = ("month", "closed_at", "closed_by", "charge_rows")
    list_select_related = ("closed_by",)


@admin.register(ContractTerms)
class ContractTermsAdmin(ReadOnlyAdmin):
    """The terms timeline, read-only: only the services that change terms write it (DOMAIN §3.16)."""

    list_display = ("option_contract", "valid_from", "valid_until", "variant", "quantity", "event", "superseded_at")
    list_filter = ("event",)
    search_fields = ("option_contract__subscriber__code", "option_contract__subscriber__name")
    list_select_related = (
        "option_contract__subscriber",
        "option_contract__option",
        "option_contract__variant",  # the contract's name shows its variant
        "variant",
    )
    raw_id_fields = ("option_contract", "application", "succession")
