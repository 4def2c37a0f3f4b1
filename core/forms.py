"""Forms every staff screen shares."""

from django import forms

from core.fields import WarekiDateField


class AsOfForm(forms.Form):
    """The day a record or the regulation is shown as of."""

    on = WarekiDateField(label="基準日")
