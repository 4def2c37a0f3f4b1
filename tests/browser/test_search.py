"""Find anything in a real browser: a clerk types a name in hiragana into the header box and finds the subscriber."""

import pytest

from contracts.choices import SubscriberKind
from contracts.services import subscriber_create
from tests.browser.test_application_story import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_header_box_finds_a_subscriber_typed_in_hiragana_and_half_width_kana(live_server, page, shot, clerk):
    subscriber = subscriber_create(
        actor=clerk, code="D0003", name="山田 太郎", kana="ヤマダ タロウ", kind=SubscriberKind.INDIVIDUAL
    )
    subscriber_create(actor=clerk, code="D0001", name="株式会社さくらネット", kana="カブシキガイシャサクラネット")
    log_in(page, live_server, clerk)

    page.fill("header input[name=q]", "やまだ　たろう")
    page.press("header input[name=q]", "Enter")
    page.wait_for_selector("#search-subscriber")
    rows = page.locator("#search-subscriber tbody tr")
    assert rows.count() == 1
    assert "D0003" in rows.first.inner_text()
    assert page.locator("header input[name=q]").input_value() == "やまだ　たろう"
    shot(page, "search_01_header_box_hiragana")

    page.fill("header input[name=q]", "ｻｸﾗ")
    page.click("header button:has-text('検索')")
    page.wait_for_selector("#search-subscriber:has-text('D0001')")
    shot(page, "search_02_half_width_kana")

    page.click("#search-subscriber a:has-text('D0001')")
    page.wait_for_url(f"{live_server.url}/subscribers/*/")
    assert page.locator("h1").inner_text().startswith("D0001") or "さくらネット" in page.content()

    page.fill("header input[name=q]", "ないもの")
    page.press("header input[name=q]", "Enter")
    page.wait_for_selector("#search-nothing")
    assert subscriber.pk  # the other subscriber is untouched by the search
