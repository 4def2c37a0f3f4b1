"""Input forms of the staff screens: input validation only; the services hold the rules."""

from django import forms

from core.fields import WarekiDateField, WarekiMonthField
from core.forms import TextRuleFormMixin
from core.search import text_for_storage
from options.models import CarrierService, OptionVariant, Service

from .choices import ApplicationKind, CorrectionTarget, SubscriberKind
from .models import BaseServiceContract, CarrierLineContract, OptionContract, Subscriber

SUBSCRIBER_QUERY_MAX = 100  # as contracts.selectors.SEARCH_QUERY_MAX: what a search reads of a query

REASON_WIDGET = forms.Textarea(attrs={"rows": 2})


class StoredCodeField(forms.CharField):
    """A code or number staff type, read as the services store it (core.search.text_for_storage: ＷＥＢ－７７７１ is
    WEB-7771), so that the text rule by the field judges what will be stored, not the keystrokes."""

    def to_python(self, value):
        return text_for_storage(super().to_python(value))


class ReasonForm(TextRuleFormMixin, forms.Form):
    """An action that needs a stated reason (不承諾, 取下げ, 取消): the reason goes to the history."""

    reason = forms.CharField(label="理由", widget=REASON_WIDGET, max_length=2000)

    def __init__(self, *args, reason_label: str = "理由", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = reason_label
        self.fields["reason"].error_messages["required"] = f"{reason_label}を入力してください。"


class ConfirmForm(forms.Form):
    """An action with nothing to enter (審査開始, 承諾); a form only to carry its errors."""


class ApproveForm(forms.Form):
    """承諾: carries the version of the terms the approver saw, so that a change made meanwhile is refused."""

    version = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def clean(self):
        # A hidden field's own error would not be shown; say it above the forms, as a refusal.
        if not self.cleaned_data.get("version"):
            raise forms.ValidationError("承諾する内容の版がありません。画面を開き直してから承諾してください。")
        return self.cleaned_data


class QuoteForm(forms.Form):
    amount_yen = forms.IntegerField(label="見積額（円・税抜）", min_value=0, max_value=2_000_000_000)


class BillingStartForm(forms.Form):
    billing_start_date = WarekiDateField(label="課金開始日")


class CorrectionForm(TextRuleFormMixin, forms.Form):
    """訂正申込 (DOMAIN §3.17) entered from the contract page; the service decides what can be corrected."""

    correction_target = forms.ChoiceField(label="訂正する項目", choices=CorrectionTarget.choices)
    corrected_date = WarekiDateField(
        label="訂正後の日付・訂正する期間の開始日",
        help_text="課金開始日・解約日の訂正は訂正後の日付。数量・見積額の訂正は、訂正する期間の開始日（上の「契約条件の期間」の適用開始日）。",
    )
    quantity = forms.IntegerField(label="訂正後の数量", min_value=1, max_value=1_000_000, required=False)
    quoted_amount_yen = forms.IntegerField(
        label="訂正後の見積額（円・税抜）", min_value=0, max_value=2_000_000_000, required=False
    )
    correction_reason = forms.CharField(
        label="訂正の理由",
        widget=REASON_WIDGET,
        max_length=2000,
        error_messages={"required": "訂正の理由を入力してください。"},
    )

    def submit_kwargs(self) -> dict:
        data = self.cleaned_data
        terms = data["correction_target"] == CorrectionTarget.TERMS
        return {
            "correction_target": data["correction_target"],
            "corrected_date": data["corrected_date"],
            "correction_reason": data["correction_reason"],
            "quantity": data["quantity"] if terms else None,
            "quoted_amount_yen": data["quoted_amount_yen"] if terms else None,
        }


class AsOfForm(forms.Form):
    on = WarekiDateField(label="指定日", required=False)


class MonthForm(forms.Form):
    month = WarekiMonthField(label="対象月")


class SubscriberLookupForm(TextRuleFormMixin, forms.Form):
    """What staff typed to find a subscriber (code, name or フリガナ); a text the rule refuses finds nothing."""

    q = forms.CharField(label="契約者", max_length=SUBSCRIBER_QUERY_MAX, required=False)


class SubscriberForm(TextRuleFormMixin, forms.ModelForm):
    """契約者の登録・変更; a change asks why (変更理由, required), a registration does not ask (「契約者の登録」)."""

    reason = forms.CharField(
        label="変更理由",
        widget=REASON_WIDGET,
        max_length=2000,
        error_messages={"required": "変更理由を入力してください。"},
    )

    class Meta:
        model = Subscriber
        fields = (*Subscriber.KEY_FIELDS, *Subscriber.EDITABLE_FIELDS)
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = SubscriberKind.choices
        if self.instance.pk:
            for name in Subscriber.KEY_FIELDS:  # set once at registration, never changed
                del self.fields[name]
        else:
            del self.fields["reason"]

    def validate_unique(self):
        """The service reports a taken code in its own words."""


class RefusalByFieldMixin:
    """Which field a service's refusal is about, by its DomainError code (views.base.add_domain_error reads it):
    the refusal then sits by that field; a code not listed, above the form."""

    field_of_code: dict[str, str] = {}

    def field_for_error(self, error) -> str | None:
        return self.field_of_code.get(error.code)


class BaseContractForm(RefusalByFieldMixin, TextRuleFormMixin, forms.Form):
    """基本サービス契約の登録 from the subscriber's page; base_contract_create holds the rules."""

    text_codes = ("contract_number",)
    field_of_code = {"text_invalid": "contract_number", "date_out_of_bounds": "start_date"}

    service = forms.ModelChoiceField(label="サービス", queryset=Service.objects.order_by("name", "pk"))
    contract_number = StoredCodeField(
        label="契約番号",
        required=False,
        max_length=BaseServiceContract._meta.get_field("contract_number").max_length,
    )
    start_date = WarekiDateField(label="利用開始日")


class CarrierLineForm(RefusalByFieldMixin, TextRuleFormMixin, forms.Form):
    """事業者回線契約の登録 from the subscriber's page; carrier_line_create holds the rules (unconfirmed at first)."""

    text_codes = ("line_id",)
    field_of_code = {
        "line_id_required": "line_id",
        "carrier_line_exists": "line_id",
        "text_invalid": "line_id",
        "date_out_of_bounds": "start_date",
    }

    carrier_service = forms.ModelChoiceField(
        label="事業者サービス",
        queryset=CarrierService.objects.select_related("carrier").order_by("carrier__name", "name", "pk"),
    )
    line_id = StoredCodeField(
        label="回線ID・お客様ID", max_length=CarrierLineContract._meta.get_field("line_id").max_length
    )
    start_date = WarekiDateField(label="利用開始日")


class ContractEndForm(RefusalByFieldMixin, TextRuleFormMixin, forms.Form):
    """The end of a base-service or carrier-line contract: its last day and why (the reason goes to the history)."""

    field_of_code = {
        "end_date_required": "end_date",
        "end_before_start": "end_date",
        "date_out_of_bounds": "end_date",
        "option_contract_depends": "end_date",
        "reason_required": "reason",
        "text_invalid": "reason",
    }

    end_date = WarekiDateField(label="利用終了日", help_text="最終利用日")
    reason = forms.CharField(label="終了の理由", widget=REASON_WIDGET, max_length=2000)


# The kinds this form enters; a 訂正申込 is entered from the contract page (CorrectionForm).
FORM_KINDS = [(k.value, k.label) for k in (ApplicationKind.NEW, ApplicationKind.CHANGE, ApplicationKind.CANCEL)]


def variant_label(variant: OptionVariant) -> str:
    return variant.choice_label()


# Option-level refusals of a 新規利用申込 sit by the option it names; on a change or a cancellation the contract
# fixes the option, so they are said above the form.
_NEW_USE_CODES = {"not_eligible", "already_held", "duplicate_application"}


class ApplicationForm(RefusalByFieldMixin, TextRuleFormMixin, forms.Form):
    """新規利用申込, 契約内容変更申込 or 解約申込 as entered; the target contract fixes subscriber and option.

    The subscriber is found by code, or by name or フリガナ (Subscriber.objects.matching): a text that is no code
    lists what it matches (`candidates`, at most LOOKUP_LIMIT) to choose from, so the form works without script;
    static/js/subscriber_lookup.js offers the same list as the clerk types.
    """

    field_of_code = {
        "subscriber_inactive": "subscriber_code",
        "not_eligible": "variant",
        "already_held": "variant",
        "duplicate_application": "variant",
        "option_required": "variant",
        "variant_mismatch": "variant",
        "not_whole_blocks": "quantity",
        "quantity_not_positive": "quantity",
        "quote_invalid": "quoted_amount_yen",
        "quote_negative": "quoted_amount_yen",
        "quote_not_applicable": "quoted_amount_yen",
        "end_date_required": "effective_date",
        "end_before_start": "effective_date",
        "date_out_of_bounds": "effective_date",
    }

    kind = forms.ChoiceField(label="申込種別", choices=FORM_KINDS, widget=forms.HiddenInput)
    option_contract = forms.ModelChoiceField(
        label="対象のオプション契約",
        queryset=OptionContract.objects.select_related("subscriber", "option", "variant"),
        required=False,
        widget=forms.HiddenInput,
    )
    subscriber_code = forms.CharField(
        label="契約者（コード・名前・フリガナ）",
        max_length=SUBSCRIBER_QUERY_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="契約者コード、または名前・フリガナの一部を入力すると候補が表示されます。",
    )
    variant = forms.ModelChoiceField(label="オプション ／ サービス・細目", queryset=OptionVariant.objects.none())
    quantity = forms.IntegerField(
        label="数量",
        min_value=1,
        max_value=1_000_000,
        initial=1,
        help_text="追加アカウントは10アカウント単位、タイプA・タイプEは契約アカウント数",
    )
    quoted_amount_yen = forms.IntegerField(
        label="見積額（円・税抜）",
        min_value=0,
        max_value=2_000_000_000,
        required=False,
        help_text="「当社が別途契約者に示す金額」の料金のみ。承諾までに入力が必要です。",
    )
    effective_date = WarekiDateField(label="変更日・解約日", required=False)
    note = forms.CharField(label="備考", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def __init__(self, *args, find_subscriber, variants=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.find_subscriber = find_subscriber  # contracts.selectors.subscriber_find, given by the view
        self.candidates: list[Subscriber] = []
        self.candidates_more = False
        self.fields["variant"].queryset = variants if variants is not None else OptionVariant.objects.none()
        self.fields["variant"].label_from_instance = variant_label
        kind = self._kind()
        if kind != ApplicationKind.NEW:
            self.fields["subscriber_code"].required = False
            self.fields["subscriber_code"].disabled = True
            self.fields["effective_date"].required = True
            self.fields["effective_date"].label = "変更日" if kind == ApplicationKind.CHANGE else "解約日（最終利用日）"
        else:
            del self.fields["effective_date"]
        if kind == ApplicationKind.CANCEL:
            for name in ("variant", "quantity", "quoted_amount_yen"):
                del self.fields[name]

    def _kind(self) -> str:
        value = self.data.get(self.add_prefix("kind")) if self.is_bound else self.initial.get("kind")
        return value if value in dict(FORM_KINDS) else ApplicationKind.NEW

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or ApplicationKind.NEW
        contract = data.get("option_contract")
        if kind == ApplicationKind.NEW:
            typed = (data.get("subscriber_code") or "").strip()
            if typed:
                data["subscriber"] = self._find_subscriber(typed)
            if data.get("variant") is not None:
                data["option"] = data["variant"].option
        else:
            if contract is None:
                raise forms.ValidationError("対象のオプション契約が指定されていません。")
            data["subscriber"] = contract.subscriber
            data["option"] = contract.option
            if kind == ApplicationKind.CANCEL:
                data["variant"] = None
                data["quantity"] = None
                data["quoted_amount_yen"] = None
        return data

    def _find_subscriber(self, typed: str) -> Subscriber | None:
        """The subscriber of the code typed; else the field's error, with what the text matches to choose from."""
        found = self.find_subscriber(typed)
        self.candidates, self.candidates_more = found.candidates, found.more
        if found.subscriber is not None:
            return found.subscriber
        if found.candidates:
            count = f"{len(found.candidates)}件以上" if found.more else f"{len(found.candidates)}件"
            message = f"「{typed}」に当てはまる契約者が{count}あります。一覧から選んでください。"
        else:
            message = f"「{typed}」に当てはまる契約者は見つかりません（契約者コード・名前・フリガナで探しました）。"
        self.add_error("subscriber_code", message)
        return None

    def field_for_error(self, error) -> str | None:
        if self._kind() != ApplicationKind.NEW and error.code in _NEW_USE_CODES:
            return None
        return super().field_for_error(error)

    def submit_kwargs(self) -> dict:
        """Return the keyword arguments of `application_submit`, less the actor."""
        data = self.cleaned_data
        return {
            "subscriber": data["subscriber"],
            "kind": data["kind"],
            "option": data.get("option"),
            "variant": data.get("variant"),
            "quantity": data.get("quantity"),
            "quoted_amount_yen": data.get("quoted_amount_yen"),
            "option_contract": data.get("option_contract"),
            "effective_date": data.get("effective_date"),
            "note": data.get("note", ""),
        }


class ReportDownloadForm(TextRuleFormMixin, forms.Form):
    """Which month, in which format and which part; the report module refuses what does not fit together."""

    FORMATS = [("csv", "CSV（UTF-8）"), ("csv-cp932", "CSV（Shift_JIS / cp932）"), ("xlsx", "Excel（XLSX）")]
    PARTS = [("detail", "明細"), ("charges", "月額"), ("summary", "集計")]

    month = WarekiMonthField(label="対象月")
    fmt = forms.ChoiceField(label="形式", choices=FORMATS)
    part = forms.ChoiceField(label="内容", choices=PARTS, required=False)
    replacement = forms.CharField(label="cp932 で表せない文字の置き換え", required=False, strip=False, max_length=4)

    def export_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "month": data["month"],
            "fmt": data["fmt"],
            "part": data["part"] or None,
            "replacement": data["replacement"] or None,
        }
