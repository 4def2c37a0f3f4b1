"""The one rule of what may stand in a stored text: codes, names and other one-line particulars, free text.

Refused everywhere: NUL and every other control character (C0, DEL, C1), the bidirectional overrides, embeddings
and isolates (U+202A–202E, U+2066–2069) and the invisible direction marks (U+200E, U+200F, U+061C), the BOM and
the zero-width characters (U+FEFF, U+200B–200D, U+2060), lone surrogates and the noncharacters U+FFFE/U+FFFF. They
cannot be seen on the screen, so two records that look the same would differ, a name could read backwards on a
printed statement, and PostgreSQL refuses NUL outright.

Free text (notes, reasons, descriptions) may span lines: newline, carriage return (a browser sends CR LF) and tab
stay allowed there, and nowhere else.

Codes (a subscriber's code, a contract number, a line id, the catalogue's codes) are keys typed into paperwork,
imports and searches: they take only their declared alphabet (half-width letters, digits and a few marks).

Emoji (the pictographs of U+1F000–U+1FAFF, the emoji variation selector U+FE0F, tag characters) are refused in
codes and in one-line particulars (names, kana, phone, address): those are a legal or registered name and
particulars that are printed on paperwork and exported in cp932, which has no emoji; a registered company name
(商業登記) or a name in the family register cannot contain one. Free text may carry them: it is a staff note.

A text longer than its field holds is refused in Japanese before it reaches the database (no DataError).
"""

import enum
import re
import unicodedata

from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate

from .errors import DomainError


class TextKind(enum.Enum):
    CODE = "code"  # a key: its alphabet only
    LINE = "line"  # one line of particulars: a name, kana, phone, address, an email
    TEXT = "text"  # free text over several lines: a note, a reason, a description


# The alphabets codes are declared in; the label is what the refusal tells staff.
CODE_ALPHABET = re.compile(r"[A-Za-z0-9._/\-]+")
CODE_ALPHABET_LABEL = "半角英数字と「-」「_」「.」「/」"
SLUG_ALPHABET = re.compile(r"[A-Za-z0-9_\-]+")
SLUG_ALPHABET_LABEL = "半角英数字と「-」「_」"

_MULTILINE_ALLOWED = frozenset("\n\r\t")
_INVISIBLE = {
    **{chr(c): "書式制御文字（文字の向きを変える文字）" for c in range(0x202A, 0x202F)},
    **{chr(c): "書式制御文字（文字の向きを変える文字）" for c in range(0x2066, 0x206A)},
    "\u200e": "書式制御文字（文字の向きを変える文字）",
    "\u200f": "書式制御文字（文字の向きを変える文字）",
    "\u061c": "書式制御文字（文字の向きを変える文字）",
    "\ufeff": "見えない文字（BOM・ゼロ幅文字）",
    **{chr(c): "見えない文字（BOM・ゼロ幅文字）" for c in range(0x200B, 0x200E)},
    "\u2060": "見えない文字（BOM・ゼロ幅文字）",
    "\ufffe": "文字でない符号",
    "\uffff": "文字でない符号",
    "\u2028": "改行文字",
    "\u2029": "改行文字",
}


# Whatever else is invisible or no character at all: other format characters, private use, unassigned.
_OTHER_CATEGORIES = {"Cf": "書式制御文字", "Co": "私用領域の文字", "Cn": "未定義の文字"}


def _is_emoji(char: str) -> bool:
    point = ord(char)
    return 0x1F000 <= point <= 0x1FAFF or point == 0xFE0F or 0xE0000 <= point <= 0xE007F


def _forbidden(char: str, kind: TextKind) -> str:
    """Return what `char` is when it may not stand in a text of `kind`, or ""."""
    point = ord(char)
    if point == 0:
        return "NUL"
    if point < 0x20 or 0x7F <= point <= 0x9F:
        if kind is TextKind.TEXT and char in _MULTILINE_ALLOWED:
            return ""
        return "改行・タブ" if char in _MULTILINE_ALLOWED else "制御文字"
    if char in _INVISIBLE:
        if kind is TextKind.TEXT and char in "\u2028\u2029":
            return ""
        return _INVISIBLE[char]
    if 0xD800 <= point <= 0xDFFF:
        return "不正な文字（サロゲート）"
    if kind is not TextKind.TEXT and _is_emoji(char):
        return "絵文字"
    return _OTHER_CATEGORIES.get(unicodedata.category(char), "")


def text_problem(
    value: str, *, kind: TextKind = TextKind.LINE, max_length: int | None = None, alphabet=None, alphabet_label=""
) -> str:
    """Return why `value` may not be stored as a text of `kind` (without the field's name), or "" when it may."""
    if not isinstance(value, str):
        return "文字列で入力してください。"
    for char in value:
        what = _forbidden(char, kind)
        if what:
            return f"入力に使えない文字（{what}、U+{ord(char):04X}）が含まれています。"
    if kind is TextKind.CODE and value:
        pattern, label = (alphabet, alphabet_label) if alphabet is not None else (CODE_ALPHABET, CODE_ALPHABET_LABEL)
        if not pattern.fullmatch(value):
            return f"{label}だけで入力してください。"
    if max_length is not None and len(value) > max_length:
        return f"{max_length}文字以内で入力してください（{len(value)}文字あります）。"
    return ""


def text_assert_clean(value: str, *, label: str, kind: TextKind = TextKind.LINE, max_length: int | None = None) -> str:
    """Refuse a text that breaks the rule, naming the field; return it unchanged."""
    problem = text_problem(value, kind=kind, max_length=max_length)
    if problem:
        raise DomainError(f"{label}: {problem}", code="text_invalid")
    return value


def field_text_kind(model, field) -> tuple[TextKind, object, str] | None:
    """Return the rule a model field's text follows (kind, alphabet, its label), or None for a field the rule
    does not cover (not a text, or a fixed choice checked against its choices)."""
    from django.db import models

    if not isinstance(field, (models.CharField, models.TextField)) or field.choices:
        return None
    if isinstance(field, models.SlugField):
        return TextKind.CODE, SLUG_ALPHABET, SLUG_ALPHABET_LABEL
    if field.name in getattr(model, "TEXT_CODE_FIELDS", ()):
        return TextKind.CODE, CODE_ALPHABET, CODE_ALPHABET_LABEL
    if isinstance(field, models.TextField):
        return TextKind.TEXT, None, ""
    return TextKind.LINE, None, ""


def field_text_problem(model, field, value) -> str:
    """Return why `value` may not stand in `field` of `model`, or "" (also for fields the rule does not cover)."""
    rule = field_text_kind(model, field)
    if rule is None or value is None:
        return ""
    kind, alphabet, alphabet_label = rule
    return text_problem(
        value,
        kind=kind,
        max_length=field.max_length,
        alphabet=alphabet,
        alphabet_label=alphabet_label,
    )


def values_assert_clean(model, values: dict) -> None:
    """Refuse values meant for `model`'s fields (by field name) that break the rule, before any lookup uses them
    (PostgreSQL refuses a NUL even in a WHERE clause); names not of a field are left to the caller."""
    for name, value in values.items():
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - not a field: the caller refuses it in its own words
            continue
        if getattr(field, "concrete", False):
            problem = field_text_problem(model, field, value)
            if problem:
                raise DomainError(f"{field.verbose_name}: {problem}", code="text_invalid")


def record_texts_assert_clean(instance, *, fields=None) -> None:
    """Refuse a record whose texts break the rule (or are longer than their columns), naming the first field;
    `fields` limits the check to those names."""
    model = type(instance)
    for field in model._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        problem = field_text_problem(model, field, getattr(instance, field.attname))
        if problem:
            raise DomainError(f"{field.verbose_name}: {problem}", code="text_invalid")


def code_point_order(field: str) -> Collate:
    """`field` compared character by character by code point, as Python sorts str, on every database.

    A list that is merged or compared with one sorted in Python (the report's 月額 by subscriber code) is ordered by
    this, not by the database's collation: PostgreSQL's "C" compares UTF-8 bytes, which is code point order, and so
    does SQLite's BINARY; a locale's collation may ignore dashes or fold case.
    """
    return Collate(F(field), "C" if connection.vendor == "postgresql" else "BINARY")
