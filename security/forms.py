from django import forms

from core.forms import TextRuleFormMixin


class LockoutReleaseForm(TextRuleFormMixin, forms.Form):
    """The target of one 解除 button: a username or a source address (the service refuses both or neither)."""

    username = forms.CharField(label="ユーザー名", max_length=255, required=False)
    ip_address = forms.GenericIPAddressField(label="送信元アドレス", required=False)
