"""The one normaliser of what staff type and what is searched: the same folding on the way in and on the way out.

Staff type the same name many ways: やまだ for a フリガナ stored as ヤマダ, 山田太郎 for 山田 太郎, 山田　太郎 with a
full-width space, ｻｸﾗ in half-width kana, ０００２ in full-width digits. `normalize` folds all of them to one form, so
a stored search key (built by `search_key` from a record's fields) and a query match when staff would say they do:

1. NFKC: full-width letters and digits become ASCII, half-width kana become full-width (ｻｸﾗ → サクラ, with their
   voiced marks joined: ｶﾞ → ガ), the full-width space becomes a space;
2. case folded (d0002 finds D0002);
3. hiragana folded to katakana (やまだ → ヤマダ); katakana, not hiragana, because every hiragana has a katakana
   twin but ヷヸヹヺ have none;
4. separators removed: whitespace, the dashes of phone numbers (03-1234-5601 → 0312345601) and the middle dot ・.
   The long-vowel mark ー is a letter of kana and stays, except between digits (03ー1234), where an input method
   typed it for a hyphen.

What is stored for staff to read is normalised more gently (`kana_for_storage`, `phone_for_storage`,
`text_for_storage`): a フリガナ is kept in katakana with its spaces, a phone number in half-width with its hyphens.
"""

import re
import unicodedata

# Hiragana ぁ (U+3041) … ゖ (U+3096) and the iteration marks ゝゞ (U+309D, U+309E) sit 0x60 below their katakana.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in [*range(0x3041, 0x3097), 0x309D, 0x309E]}

# Dashes staff type in numbers (hyphen-minus, the Unicode hyphens and dashes, minus sign), after NFKC.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SEPARATORS = re.compile(rf"[\s{re.escape(_DASHES)}\u30fb]+")

# In a number typed with a Japanese input method the hyphen often arrives as the long-vowel mark or a full-width
# dash; in a phone number they all mean "-".
_NUMBER_DASHES = re.compile(rf"[{re.escape(_DASHES)}\u30fc\uff70]")
# The same in a query: 03ー1234 (ー between digits) is 03-1234, so the mark is a separator there.
_DASH_BETWEEN_DIGITS = re.compile(r"(?<=\d)\u30fc+(?=\d)")
_PASSES = 5


# The spacing voiced marks ゛゜ (U+309B, U+309C), typed after a kana, are meant as the combining ones: NFKC would
# make them a space and a combining mark, so they are made combining first and join their kana (か゛ → が).
_SPACING_VOICED_MARKS = {0x309B: 0x3099, 0x309C: 0x309A}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text.translate(_SPACING_VOICED_MARKS))


def to_katakana(text: str) -> str:
    """Return `text` with its hiragana as katakana; everything else unchanged."""
    return text.translate(_HIRAGANA_TO_KATAKANA)


def normalize(text: str | None) -> str:
    """Return the search form of `text`: NFKC, case folded, hiragana as katakana, separators removed.

    Idempotent: normalize(normalize(x)) == normalize(x).
    """
    if not text:
        return ""
    # One pass is not always a fixed point: case folding can produce what NFKC changes again, and removing a space
    # joins a combining mark to the letter before it. Repeat until
    # nothing changes; two passes settle every text seen, the bound only guards against a surprise.
    previous, folded = None, text
    for _ in range(_PASSES):
        if folded == previous:
            break
        previous = folded
        folded = to_katakana(_nfkc(folded).casefold())
        folded = _SEPARATORS.sub("", _DASH_BETWEEN_DIGITS.sub("", folded))
    return folded


def search_key(*parts: str | None) -> str:
    """Return one search key for a record from its searched fields, one normalised part per field.

    The parts are joined by a space, which `normalize` removes from every query: a query never spans two fields.
    """
    return " ".join(part for part in (normalize(p) for p in parts) if part)


def kana_for_storage(text: str | None) -> str:
    """Return a フリガナ as stored: NFKC (half-width kana become full-width), hiragana as katakana, spaces kept
    but each run made one ASCII space, ends trimmed."""
    if not text:
        return ""
    return " ".join(to_katakana(_nfkc(text)).split())


def phone_for_storage(text: str | None) -> str:
    """Return a phone number as stored: NFKC (full-width digits become half-width), every dash typed for a hyphen
    (ー and － included) made "-", spaces at the ends trimmed."""
    if not text:
        return ""
    return _NUMBER_DASHES.sub("-", _nfkc(text)).strip()


def text_for_storage(text: str | None) -> str:
    """Return a code or number staff type (a subscriber code, a line ID, a contract number) as stored: NFKC, so
    Ｄ０００２ and D0002 are one code, ends trimmed."""
    if not text:
        return ""
    return _nfkc(text).strip()
