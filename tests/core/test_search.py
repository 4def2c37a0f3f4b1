"""core.search: the one normaliser of what staff type and what is searched."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from core.search import kana_for_storage, normalize, phone_for_storage, search_key, text_for_storage, to_katakana

# Japanese text as staff type it: kana of both scripts, half-width kana, kanji, full-width and ASCII letters and
# digits, spaces of both widths, dashes, the spacing voiced marks; and any other character now and then.
JAPANESE = st.text(
    st.one_of(
        st.characters(min_codepoint=0x3041, max_codepoint=0x30FF),  # hiragana and katakana
        st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F),  # half-width kana
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width ASCII
        st.sampled_from("山田太郎花子株式会社 　-ー－・゛゜abcXYZ0123"),
        st.characters(),
    ),
    max_size=30,
)


@given(JAPANESE)
def test_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


@given(JAPANESE)
def test_normalize_leaves_no_separator_hiragana_or_upper_case(text):
    key = normalize(text)
    assert not any(ch.isspace() for ch in key)
    assert not any("\u3041" <= ch <= "\u3096" for ch in key)
    assert key == unicodedata.normalize("NFKC", key)


@given(JAPANESE)
def test_storage_forms_are_idempotent(text):
    for form in (kana_for_storage, phone_for_storage, text_for_storage):
        assert form(form(text)) == form(text)


def test_the_spellings_staff_type_fold_to_one_key():
    assert normalize("やまだ") == normalize("ヤマダ") == "ヤマダ"
    assert normalize("山田　太郎") == normalize("山田 太郎") == normalize("山田太郎") == "山田太郎"
    assert normalize("ｻｸﾗ") == normalize("さくら") == "サクラ"
    assert normalize("ｶﾞｯｺｳ") == "ガッコウ"
    assert normalize("０００２") == "0002"
    assert normalize("Ｄ０００２") == normalize("d0002") == "d0002"
    assert normalize("03-1234-5601") == normalize("０３ー１２３４ー５６０１") == "0312345601"


def test_the_long_vowel_mark_is_kept_in_kana():
    assert normalize("データー") == "データー"
    assert normalize("でーた") == "データ"


def test_a_search_key_keeps_fields_apart():
    key = search_key("D0003", "山田 太郎", "ヤマダ タロウ", "", None)
    assert key == "d0003 山田太郎 ヤマダタロウ"
    # A query never holds a space, so it cannot match across two fields.
    assert normalize("3 山田") not in key.split(" ") and " " not in normalize("3 山田")


def test_storage_forms():
    assert kana_for_storage("やまだ　たろう") == "ヤマダ タロウ"
    assert kana_for_storage(" ｻｸﾗ ") == "サクラ"
    assert phone_for_storage("０３－１２３４－５６７８") == "03-1234-5678"
    assert phone_for_storage("03ー1234ー5678") == "03-1234-5678"
    assert text_for_storage(" Ｄ０００２ ") == "D0002"
    assert to_katakana("ゔぁ") == "ヴァ"
