from django import forms

from contracts.billing.pricing import TAX_RATES
from core.forms import TextRuleFormMixin
from options.models import Option

from .choices import JOURNAL_KIND_CHOICES, TAX_CLASSES_BY_RATE
from .models import ACCOUNT_NAME_WIDTH, AccountMapping


def _name_field(name: str, required: bool = False) -> forms.CharField:
    label = AccountMapping._meta.get_field(name).verbose_name
    return forms.CharField(label=label, max_length=ACCOUNT_NAME_WIDTH, required=required)


class AccountMappingForm(TextRuleFormMixin, forms.Form):
    """勘定科目の対応の登録・変更 (one option × fee kind); the service judges every value."""

    option = forms.ModelChoiceField(label="オプション", queryset=Option.objects.order_by("section__number", "name"))
    kind = forms.ChoiceField(label="料金の種別", choices=JOURNAL_KIND_CHOICES)
    debit_account = _name_field("debit_account", required=True)
    debit_sub_account = _name_field("debit_sub_account")
    credit_account = _name_field("credit_account", required=True)
    credit_sub_account = _name_field("credit_sub_account")
    department = _name_field("department")
    reason = forms.CharField(label="変更理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for _since, rate in sorted(TAX_RATES, key=lambda r: -r[1]):
            self.fields[f"tax_class_{rate}"] = forms.ChoiceField(
                label=f"税区分（{rate}%）", choices=[(c.value, c.label) for c in TAX_CLASSES_BY_RATE[rate]]
            )

    def values(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in self.fields if name not in ("option", "kind", "reason")}
