"""Reach and access, in a real browser at a phone's width (390 px) and a desk's (1280 px): a one-line header whose
menu folds behind 「メニュー」 (<details>: also without script), every list as stacked cards that show each cell's
label, the skip link as the first Tab stop moving focus to the page's content, a visible focus outline, at most
three Tab stops before the first field of the main forms, a label for every input, and the favicon on every page,
the admin's included."""

import pytest
from django.urls import reverse

from tests import ui_data
from tests.browser.conftest import VIEWPORT
from tests.browser.test_application_story import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
HEADER_MAX_PX = 64
TAB_STOPS_MAX = 3

# Every input, select and textarea a person can reach, with what labels it (a <label for>, counted once).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button', 'reset'].includes(el.type))
  .filter(el => {
    const byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
    return !(byFor && byFor.textContent.trim()) && !el.getAttribute('aria-label');
  })
  .map(el => el.outerHTML.slice(0, 120))"""

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName, id: el.id, text: (el.textContent || '').trim().slice(0, 20),
          outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


@pytest.fixture
def book(regulation, clerk, approver):
    """A subscriber with a base-service contract (the forms' pages) and an application (the lists' rows)."""
    subscriber = ui_data.swp_subscriber(code="A0001", name="株式会社到達試験", kana="カブシキガイシャトウタツシケン")
    ui_data.submit_swp(subscriber=subscriber, actor=clerk, quantity=10)
    return subscriber


def _context(browser, viewport, **kwargs):
    context = browser.new_context(viewport=viewport, locale="ja-JP", timezone_id="Asia/Tokyo", **kwargs)
    context.set_default_timeout(15_000)
    return context


def _header_height(page) -> float:
    return page.evaluate("document.querySelector('header.site-header').getBoundingClientRect().height")


def _tabs_to_first_field(page, first_field: str) -> int:
    """Press Tab from the top of the page, through the skip link (Enter), until `first_field` has the focus."""
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert (focused["tag"], focused["text"]) == ("A", "本文へ移動"), focused  # the first Tab stop
    assert page.locator("a.skip-link").is_visible() and page.locator("a.skip-link").bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"  # the skip link moved the focus to the content
    tabs = 1
    while page.evaluate("document.activeElement.id") != first_field.removeprefix("#"):
        page.keyboard.press("Tab")
        tabs += 1
        assert tabs <= 10, f"{first_field} not reached after 10 Tab stops"
    return tabs


def _assert_focus_is_visible(page):
    focused = page.evaluate(FOCUSED)
    assert focused["outline"] != "none" and focused["width"] >= 2, focused


@pytest.mark.parametrize("viewport", [PHONE, VIEWPORT], ids=["390px", "1280px"])
def test_the_main_forms_the_skip_link_first_at_most_three_tab_stops_a_visible_focus_and_every_input_labelled(
    live_server, browser, shot, book, clerk, accounting, viewport
):
    forms = [
        (clerk, reverse("contracts:application_create"), "#id_subscriber_code", "application_form"),
        (clerk, reverse("contracts:subscriber_create"), "#id_code", "subscriber_form"),
        (clerk, reverse("contracts:subscriber_base_contract_create", args=[book.pk]), "#id_service", "base_form"),
        (accounting, reverse("contracts:ledger_list"), "#id_date_from", "ledger_search"),
    ]
    width = viewport["width"]
    for user in (clerk, accounting):
        context = _context(browser, viewport)
        page = context.new_page()
        try:
            log_in(page, live_server, user)
            for owner, url, first_field, name in forms:
                if owner != user:
                    continue
                page.goto(live_server.url + url)
                tabs = _tabs_to_first_field(page, first_field)
                assert tabs <= TAB_STOPS_MAX, f"{url}: {tabs} Tab stops to {first_field}"
                _assert_focus_is_visible(page)  # the field
                assert page.evaluate(UNLABELLED) == [], url
                shot(page, f"reach_{width}_{name}_first_field_focused")
                page.keyboard.press("Tab")
                _assert_focus_is_visible(page)  # the next one, whatever it is
        finally:
            context.close()


def test_at_390px_a_one_line_header_its_menu_behind_a_button_and_lists_as_cards(
    live_server, browser, shot, book, clerk
):
    context = _context(browser, PHONE)
    page = context.new_page()
    try:
        log_in(page, live_server, clerk)
        page.goto(live_server.url + reverse("contracts:subscriber_list"))
        assert _header_height(page) <= HEADER_MAX_PX
        assert page.locator("header nav").is_hidden() and page.locator("header summary").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing scrolls sideways

        # The list: each row a card, each cell showing its column's label; the column headings are not shown.
        cell = page.locator("table.table tbody tr").first.locator("td").first
        assert cell.get_attribute("data-label") == "契約者コード"
        assert page.evaluate("getComputedStyle(document.querySelector('table.table tbody tr')).display") == "block"
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label == '"契約者コード"'
        assert cell.evaluate("td => parseFloat(getComputedStyle(td).paddingLeft)") > 60  # room for the label
        assert page.locator("table.table thead").bounding_box()["height"] <= 1  # read by screen readers, not shown
        shot(page, "reach_390_01_subscriber_list_as_cards")

        # The skip link first; the menu's button takes a visible focus and opens the menu from the keyboard.
        page.keyboard.press("Tab")
        _assert_focus_is_visible(page)
        shot(page, "reach_390_02_skip_link_focused")
        page.keyboard.press("Tab")  # the brand
        _assert_focus_is_visible(page)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
        _assert_focus_is_visible(page)
        page.keyboard.press("Enter")
        assert page.locator("header nav a:has-text('申込')").is_visible()
        assert page.locator("#header-search-q").is_visible()
        shot(page, "reach_390_03_menu_open")
        page.click("header nav a:has-text('申込')")
        page.wait_for_url("**/applications/")
        assert _header_height(page) <= HEADER_MAX_PX  # folded again on the next page
        application = page.locator("table.table tbody tr").first
        assert application.locator("td[data-label='状態']").count() == 1
        shot(page, "reach_390_04_application_list_as_cards")
    finally:
        context.close()


def test_without_script_the_menu_folds_and_opens_at_390px_and_is_shown_at_1280px(
    live_server, browser, shot, book, clerk
):
    context = _context(browser, PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, clerk)
        assert _header_height(page) <= HEADER_MAX_PX
        page.click("header summary")
        assert page.locator("header nav a:has-text('契約者')").is_visible()
        shot(page, "reach_390_05_menu_open_without_script")
        page.reload()
        page.set_viewport_size(VIEWPORT)  # wider: the menu is shown, folded or not, and 「メニュー」 is gone
        assert page.locator("header nav a:has-text('契約者')").is_visible()
        assert page.locator("header summary").is_hidden()
    finally:
        context.close()


def test_at_1280px_the_menu_is_open_the_tables_are_tables_and_every_page_links_the_favicon(
    live_server, page, shot, book, clerk, approver, settings
):
    log_in(page, live_server, clerk)
    page.goto(live_server.url + reverse("contracts:subscriber_list"))
    assert page.locator("header nav a:has-text('契約者')").is_visible()
    assert page.locator("header summary").is_hidden()
    assert page.get_by_role("link", name="ホーム").is_visible()  # shown by the stylesheet, no script needed
    assert page.locator("table.table thead th").first.is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('table.table tbody tr')).display") == "table-row"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand, on the dark header
    _assert_focus_is_visible(page)
    page.keyboard.press("Tab")  # the first menu link
    assert page.evaluate("document.activeElement.textContent.trim()") == "ホーム"
    _assert_focus_is_visible(page)
    shot(page, "reach_1280_01_menu_link_focused")

    icon = "link[rel=icon][href$='img/favicon.svg']"
    for url in (reverse("home"), reverse("contracts:application_list"), reverse("login")):
        page.goto(live_server.url + url)
        assert page.locator(icon).count() == 1, url
    assert page.request.get(live_server.url + page.locator(icon).get_attribute("href")).status == 200
    page.context.clear_cookies()
    page.goto(live_server.url + reverse("admin:login"))
    assert page.locator(icon).count() == 1
