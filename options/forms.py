"""Input forms of the tariff screens; input validation only."""

from django import forms

from core.fields import WarekiDateField
from core.forms import AsOfForm, TextRuleFormMixin
from core.wareki import format_date

from .choices import OptionStatus, Pricing, RevisionStatus
from .models import FeeItem, Option, OptionVariant, Service, Succession, TariffRevision
from .selectors import catalogue_options

__all__ = [
    "AsOfForm",
    "DraftOptionAddForm",
    "DraftOptionRetireForm",
    "DraftSuccessionForm",
    "DraftSuccessionWithdrawForm",
    "FeeItemDraftForm",
    "RevisionDraftForm",
    "RevisionPairForm",
    "RevisionTransitionForm",
]


class RevisionPairForm(forms.Form):
    older = forms.ModelChoiceField(label="比較元の改定", queryset=TariffRevision.objects.order_by("effective_on", "pk"))
    newer = forms.ModelChoiceField(label="比較先の改定", queryset=TariffRevision.objects.order_by("effective_on", "pk"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("older", "newer"):
            self.fields[name].label_from_instance = _revision_label

    def clean(self):
        data = super().clean()
        if data.get("older") and data.get("older") == data.get("newer"):
            raise forms.ValidationError("異なる2つの改定を選んでください。")
        return data


def _revision_label(revision: TariffRevision) -> str:
    state = f"・{revision.get_status_display()}" if revision.is_draft else ""
    return f"{revision.title}（実施日 {format_date(revision.effective_on)}{state}）"


_REASON = {"widget": forms.Textarea(attrs={"rows": 2}), "max_length": 2000}


class RevisionDraftForm(TextRuleFormMixin, forms.ModelForm):
    """A draft revision's 附則: title, 変更日, 実施日 and text (和暦 or 西暦 dates)."""

    amended_on = WarekiDateField(label="変更日")
    effective_on = WarekiDateField(label="実施日")
    reason = forms.CharField(label="変更理由", required=False, **_REASON)

    class Meta:
        model = TariffRevision
        fields = ("title", "amended_on", "effective_on", "provisions")
        widgets = {"provisions": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["reason"].required = True

    def validate_unique(self):
        """The service reports a taken 変更日 in its own words."""


class FeeItemDraftForm(TextRuleFormMixin, forms.ModelForm):
    """A fee item a draft adds, changes (the same option, variant and kind as one in force) or discontinues."""

    reason = forms.CharField(label="変更理由", required=False, **_REASON)

    class Meta:
        model = FeeItem
        fields = (
            "option",
            "variant",
            "kind",
            "name",
            "pricing",
            "amount_yen",
            "block_size",
            "charge_basis",
            "proration",
            "discontinued",
            "article",
            "annex_ref",
            "note",
        )
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The published catalogue and the options this draft itself adds (another draft's are not yet there).
        options = catalogue_options(revision=self.instance.revision if self.instance.revision_id else None)
        self.fields["option"].queryset = options.select_related("section").order_by("section__number", "name")
        self.fields["variant"].queryset = (
            OptionVariant.objects.filter(option__in=options)
            .select_related("option")
            .order_by("option__section__number", "option__name", "code", "pk")
        )
        self.fields["variant"].label_from_instance = lambda v: f"{v.option.name} ／ {v.name}"
        if self.instance.pk:
            self.fields["reason"].required = True

    def clean(self):
        data = super().clean()
        option, variant = data.get("option"), data.get("variant")
        if option and variant and variant.option_id != option.pk:
            self.add_error("variant", "このサービス・細目は選んだオプションのものではありません。")
        if data.get("discontinued"):
            return data
        pricing = data.get("pricing")
        if pricing == Pricing.QUOTED:
            for name in ("amount_yen", "block_size"):
                if data.get(name) is not None:
                    self.add_error(name, "個別見積の料金では空欄にしてください。")
        elif pricing:
            if data.get("amount_yen") is None:
                self.add_error("amount_yen", "金額を入力してください（廃止する場合は「この改定で廃止」）。")
            if pricing == Pricing.PER_BLOCK and not data.get("block_size"):
                self.add_error("block_size", "単位数あたりの料金では単位数を入力してください。")
            if pricing == Pricing.FIXED and data.get("block_size") is not None:
                self.add_error("block_size", "定額の料金では空欄にしてください。")
        return data

    def validate_unique(self):
        """The service reports an item entered twice in its own words."""


class RevisionTransitionForm(TextRuleFormMixin, forms.Form):
    to = forms.ChoiceField(label="操作", choices=RevisionStatus.choices)
    reason = forms.CharField(label="理由", **_REASON)


def _option_label(option: Option) -> str:
    return f"{option.section.number}節 {option.name}（{option.code}）"


class DraftOptionAddForm(TextRuleFormMixin, forms.ModelForm):
    """An option a draft adds, with its first サービス・細目 and, optionally, the services its 利用の条件 asks for."""

    variant_code = forms.SlugField(label="サービス・細目のコード", max_length=50, help_text="例: standard")
    variant_name = forms.CharField(label="サービス・細目の名称", max_length=200)
    services = forms.ModelMultipleChoiceField(
        label="利用の条件: 必要な当社サービス（いずれか）",
        queryset=Service.objects.order_by("name", "pk"),
        required=False,
        help_text="選ばなければ利用の条件は登録しません（あとで管理画面で登録できます）。",
    )
    reason = forms.CharField(label="変更理由", required=False, **_REASON)
    text_codes = ("variant_code",)

    class Meta:
        model = Option
        fields = ("section", "code", "name", "condition_article", "fee_article", "annex_ref", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self):
        """The service reports a taken code in its own words."""


class DraftOptionRetireForm(TextRuleFormMixin, forms.Form):
    """An option a draft retires from its 実施日 (or, `withdraw`, takes back from the draft)."""

    option = forms.ModelChoiceField(label="廃止するオプション", queryset=Option.objects.none())
    withdraw = forms.BooleanField(label="廃止を取り消す", required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label="変更理由", required=False, **_REASON)

    def __init__(self, *args, revision: TariffRevision, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].queryset = (
            catalogue_options(revision=revision)
            .filter(status=OptionStatus.ACTIVE)
            .select_related("section")
            .order_by("section__number", "name", "pk")
        )
        self.fields["option"].label_from_instance = _option_label


class DraftSuccessionForm(TextRuleFormMixin, forms.ModelForm):
    """A succession a draft orders: the contracts of an option it retires continue as another from its 実施日."""

    contracts_made_until = WarekiDateField(
        label="対象となる契約の成立日（以前）", required=False, help_text="空欄なら実施日の前日"
    )
    reason = forms.CharField(label="変更理由", required=False, **_REASON)

    class Meta:
        model = Succession
        fields = ("from_option", "to_option", "contracts_made_until", "provision")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        revision = self.instance.revision
        self.fields["from_option"].queryset = revision.options_retired.select_related("section").order_by("name", "pk")
        self.fields["to_option"].queryset = (
            catalogue_options(revision=revision)
            .filter(status=OptionStatus.ACTIVE, retired_by__isnull=True)
            .select_related("section")
            .order_by("section__number", "name", "pk")
        )
        for name in ("from_option", "to_option"):
            self.fields[name].label_from_instance = _option_label
        self.fields["provision"].required = False
        self.fields["provision"].help_text = "例: 令和9年4月1日変更 附則第2項（空欄なら「<表題> 附則」）"

    def clean(self):
        # Said here in Japanese, by its field (the model's constraints would say it in their own words).
        data = super().clean()
        source, target = data.get("from_option"), data.get("to_option")
        if source and target and source == target:
            self.add_error("to_option", "承継先には別のオプションを選んでください。")
        if source and Succession.objects.filter(from_option=source).exclude(pk=self.instance.pk).exists():
            self.add_error("from_option", f"{source.name}の承継は既に定められています。")
        return data

    def validate_unique(self):
        """The service reports a second succession of one option in its own words."""


class DraftSuccessionWithdrawForm(TextRuleFormMixin, forms.Form):
    succession = forms.ModelChoiceField(label="取り消す承継", queryset=Succession.objects.none())
    reason = forms.CharField(label="変更理由", required=False, **_REASON)

    def __init__(self, *args, revision: TariffRevision, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["succession"].queryset = revision.successions.order_by("pk")
