"""Finding a subscriber the way staff type: /subscribers/?q= and the search key the services keep."""

import unicodedata

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.choices import SubscriberKind
from contracts.models import Subscriber
from contracts.services import subscriber_create, subscriber_deactivate, subscriber_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(clerk):
    """The demo's D0001–D0003, as their services register them."""
    return {
        "D0001": subscriber_create(
            actor=clerk,
            code="D0001",
            name="株式会社さくらネット",
            kana="カブシキガイシャサクラネット",
            phone="03-1234-5601",
        ),
        "D0002": subscriber_create(
            actor=clerk, code="D0002", name="有限会社みなと商会", kana="ユウゲンガイシャミナトショウカイ"
        ),
        "D0003": subscriber_create(
            actor=clerk, code="D0003", name="山田 太郎", kana="ヤマダ タロウ", kind=SubscriberKind.INDIVIDUAL
        ),
    }


def listed(client, user, query) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("contracts:subscriber_list"), {"q": query})
    assert response.status_code == 200
    return {row.code for row in response.context["table"].data}


def test_hiragana_finds_a_katakana_furigana(client, clerk, people):
    assert listed(client, clerk, "やまだ") == {"D0003"}


def test_a_name_typed_without_its_space_is_found(client, clerk, people):
    assert listed(client, clerk, "山田太郎") == {"D0003"}


def test_a_name_typed_with_a_full_width_space_is_found(client, clerk, people):
    assert listed(client, clerk, "山田\u3000太郎") == {"D0003"}


def test_half_width_kana_find_full_width_kana(client, clerk, people):
    assert listed(client, clerk, "ｻｸﾗ") == {"D0001"}


def test_full_width_digits_find_a_code(client, clerk, people):
    assert listed(client, clerk, "０００２") == {"D0002"}


def test_digits_without_the_letter_find_a_code(client, clerk, people):
    assert listed(client, clerk, "0002") == {"D0002"}


def test_a_phone_number_finds_its_subscriber_with_or_without_hyphens(client, clerk, people):
    assert listed(client, clerk, "0312345601") == {"D0001"}
    assert listed(client, clerk, "03-1234-5601") == {"D0001"}


def test_an_empty_query_lists_everyone_and_a_query_of_spaces_too(client, clerk, people):
    assert listed(client, clerk, "") == {"D0001", "D0002", "D0003"}
    assert listed(client, clerk, "\u3000 ") == {"D0001", "D0002", "D0003"}


def test_a_furigana_typed_in_hiragana_is_stored_in_katakana(clerk):
    subscriber = subscriber_create(
        actor=clerk, code="N1", name="鈴木 花子", kana="すずき　はなこ", phone="０３－１１１１－２２２２"
    )
    subscriber.refresh_from_db()
    assert (subscriber.kana, subscriber.phone) == ("スズキ ハナコ", "03-1111-2222")
    assert subscriber.history.get().kana == "スズキ ハナコ"


def test_a_code_in_full_width_is_the_same_code(clerk, people):
    from core.errors import DomainError

    with pytest.raises(DomainError, match="「D0002」は登録済み"):
        subscriber_create(actor=clerk, code="Ｄ０００２", name="重複")


def test_every_write_keeps_the_search_key(clerk, clerk2, people):
    subscriber = people["D0002"]
    assert (
        Subscriber.objects.get(pk=subscriber.pk).search_key
        == "d0002 有限会社ミナト商会 ユウゲンガイシャミナトショウカイ"
    )
    subscriber_update(
        subscriber=subscriber, actor=clerk2, reason="商号変更", name="株式会社みなと", kana="かぶしきがいしゃみなと"
    )
    assert Subscriber.objects.get(pk=subscriber.pk).search_key == "d0002 株式会社ミナト カブシキガイシャミナト"
    assert set(Subscriber.objects.matching("ゆうげん")) == set()
    subscriber_update(subscriber=subscriber, actor=clerk2, reason="電話番号の届出", phone="０４５ー１２３ー４５６７")
    found = Subscriber.objects.matching("045-123").get()
    assert (found.phone, found.search_key.split(" ")[-1]) == ("045-123-4567", "0451234567")
    subscriber_deactivate(subscriber=subscriber, actor=clerk2, reason="退会")
    assert Subscriber.objects.matching("みなと").get().is_active is False


def test_the_search_key_is_not_part_of_the_history(clerk, people):
    history = people["D0001"].history.get()
    assert not hasattr(history, "search_key")


# --- Any spelling staff could type of a name, a kana or a code finds its subscriber -------------------------------

_HALF_WIDTH = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF61, 0xFFA0)}
_VOICED = {"\u3099": "\uff9e", "\u309a": "\uff9f"}


def half_width(text: str) -> str:
    """Katakana as half-width kana (ガ → ｶﾞ): what an old system or a hurried hand types."""
    out = []
    for ch in text:
        base, *marks = unicodedata.normalize("NFD", ch)
        if base in _HALF_WIDTH and all(m in _VOICED for m in marks):
            out.append(_HALF_WIDTH[base] + "".join(_VOICED[m] for m in marks))
        else:
            out.append(ch)
    return "".join(out)


def hiragana(text: str) -> str:
    return "".join(chr(ord(ch) - 0x60) if "\u30a1" <= ch <= "\u30f6" else ch for ch in text)


def full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


SCRIPTS = [lambda t: t, hiragana, half_width, full_width, str.lower]
KANA = st.text(
    st.sampled_from("アイウエオカキクケコガギグサシスザジタチツテトダナニヌハヒフバパマミムヤユヨラリルワンャュョッー"),
    min_size=1,
    max_size=8,
)
NAMES = st.text(st.sampled_from("山田太郎花子鈴木株式会社有限商会"), min_size=1, max_size=6)


def spellings(text: str):
    """A spelling of a part of `text`: a slice of it with spaces of either width put in, in some script (spaces go
    between characters as typed, so a half-width ｶﾞ is never split)."""
    return st.tuples(
        st.integers(0, len(text) - 1),
        st.integers(1, len(text)),
        st.sampled_from(SCRIPTS),
        st.lists(st.sampled_from(["", " ", "\u3000"]), min_size=len(text), max_size=len(text)),
    ).map(lambda t: t[2]("".join(ch + sep for ch, sep in zip(text[t[0] : t[0] + t[1]], t[3], strict=False))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), name=NAMES, kana=KANA, number=st.integers(1, 99999))
def test_a_subscriber_is_found_by_any_spelling_of_its_name_kana_or_code(clerk, data, name, kana, number):
    code = f"H{number:05d}"
    subscriber = Subscriber.objects.filter(code=code).first() or subscriber_create(
        actor=clerk, code=code, name=name, kana=hiragana(kana) if number % 2 else kana
    )
    if subscriber.name != name or subscriber.kana != kana:
        subscriber_update(subscriber=subscriber, actor=clerk, reason="試験", name=name, kana=kana)
    field = data.draw(st.sampled_from([name, kana, code]))
    query = data.draw(spellings(field))
    assert subscriber.pk in set(Subscriber.objects.matching(query).values_list("pk", flat=True)), query
