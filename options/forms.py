"""Input forms of the tariff screens; input validation only."""

from django import forms

from core.forms import AsOfForm
from core.wareki import format_date

from .models import TariffRevision

__all__ = ["AsOfForm", "RevisionPairForm"]


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
    return f"{revision.title}（実施日 {format_date(revision.effective_on)}）"
