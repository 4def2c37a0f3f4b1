"""Forms every staff screen shares, and the text rule (core.text) on every text field of a form."""

from django import forms
from django.core.exceptions import ValidationError

from core.fields import WarekiDateField
from core.text import (
    CODE_ALPHABET,
    CODE_ALPHABET_LABEL,
    TextKind,
    field_text_kind,
    text_problem,
)


class TextRuleValidator:
    """A form field's share of the text rule, so that its refusal sits by the field (the length is the field's
    own max_length, which Django refuses in Japanese)."""

    def __init__(self, kind: TextKind, alphabet=None, alphabet_label: str = ""):
        self.kind, self.alphabet, self.alphabet_label = kind, alphabet, alphabet_label

    def __call__(self, value) -> None:
        if value in (None, ""):
            return
        problem = text_problem(str(value), kind=self.kind, alphabet=self.alphabet, alphabet_label=self.alphabet_label)
        if problem:
            raise ValidationError(problem, code="text_invalid")


class TextRuleFormMixin:
    """Put the text rule on every text field: a model form's field follows its model field's kind; a plain
    form's follows `text_codes` (names of code fields) or its widget (a textarea is free text, else one line)."""

    text_codes: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = getattr(getattr(self, "_meta", None), "model", None)
        for name, field in self.fields.items():
            if not isinstance(field, forms.CharField) or isinstance(field.widget, forms.PasswordInput):
                continue
            rule = None
            if name in self.text_codes:
                rule = (TextKind.CODE, CODE_ALPHABET, CODE_ALPHABET_LABEL)
            elif model is not None:
                try:
                    rule = field_text_kind(model, model._meta.get_field(name))
                except Exception:  # noqa: BLE001 - a form-only field: judged by its widget below
                    rule = None
            if rule is None:
                kind = TextKind.TEXT if isinstance(field.widget, forms.Textarea) else TextKind.LINE
                rule = (kind, None, "")
            field.validators.append(TextRuleValidator(*rule))


class AsOfForm(forms.Form):
    """The day a record or the regulation is shown as of."""

    on = WarekiDateField(label="基準日")
