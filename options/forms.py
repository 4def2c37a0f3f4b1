"""Input forms of the tariff screens; input validation only."""

from django import forms

from core.fields import WarekiDateField
from core.forms import AsOfForm, TextRuleFormMixin
from core.wareki import format_date

from .choices import Pricing, RevisionStatus
from .models import FeeItem, Option, OptionVariant, TariffRevision

__all__ = ["AsOfForm", "FeeItemDraftForm", "RevisionDraftForm", "RevisionPairForm", "RevisionTransitionForm"]


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
        self.fields["option"].queryset = Option.objects.select_related("section").order_by("section__number", "name")
        self.fields["variant"].queryset = OptionVariant.objects.select_related("option").order_by(
            "option__section__number", "option__name", "code", "pk"
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
