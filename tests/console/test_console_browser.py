"""The console in a real browser (headless chromium): pages load, charts render, Try answers, user
text stays text, and without the token there is only the login form. Each page is photographed
into build/screenshots/ (or $KUBEBOT_SCREENSHOTS) for a reviewer to look at."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_service
from bot.console.data import today
from tests.conftest import SHIPPED_KB
from tests.console.browser import screenshot, start_chromium
from tests.console.conftest import TOKEN
from tests.console.seed import XSS, seed
from tests.console.server import Served, serve_console, status_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = str(tmp_path_factory.mktemp("console-store") / "kubebot.db")
    seed(url, end=today())
    return url


@pytest.fixture(scope="module")
def console(store: str, browser: Any) -> Iterator[Served]:
    with serve_console(store, SHIPPED_KB) as served:
        yield served


def by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def wait_for(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 15).until(lambda d: by_css(d, selector))
    return by_css(driver, selector)


@pytest.mark.parametrize(
    ("name", "path", "heading"),
    [
        ("overview", "/", "Overview"),
        ("entries", "/entries?q=pod&sort=traffic", "Entries"),
        ("entry", "/entries/crashloopbackoff", "CrashLoopBackOff: why does my pod keep restarting?"),
        ("suggestions", "/suggestions", "Suggestions"),
    ],
)
def test_pages_load(browser: Any, console: Served, name: str, path: str, heading: str) -> None:
    browser.get(console.url + path)
    assert browser.find_element("tag name", "h1").text == heading
    assert browser.title.endswith("· kubebot console")
    stylesheet = browser.execute_script(
        "return getComputedStyle(document.querySelector('header.top')).backgroundColor"
    )
    assert stylesheet == "rgb(26, 54, 93)", "the vendored stylesheet is applied"
    screenshot(browser, name)


def test_the_charts_render_their_data(browser: Any, console: Served) -> None:
    browser.get(console.url + "/?days=14")
    for chart in ("questions", "answer-rate", "feedback"):
        [svg] = by_css(browser, f'svg[data-chart="{chart}"]')
        marks = by_css(browser, f'svg[data-chart="{chart}"] .mark')
        assert len(marks) == int(svg.get_attribute("data-marks")) > 0, chart
        assert svg.size["height"] > 100 and svg.size["width"] > 300, "laid out, not collapsed"
        drawn = [m for m in marks if m.size["height"] > 0 and m.size["width"] > 0]
        assert drawn, f"{chart}: marks have a size on screen"
    bars = by_css(browser, 'svg[data-chart="questions"] rect.mark')
    total = sum(int(b.get_attribute("data-value")) for b in bars)
    assert str(total) == browser.find_element("id", "total-questions").text


def test_a_question_typed_in_try_shows_its_candidates(browser: Any, console: Served) -> None:
    from selenium.webdriver.common.keys import Keys

    question = "my pod keeps restarting"
    browser.get(console.url + "/try")
    box = browser.find_element("name", "q")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    rows = wait_for(browser, "#candidates tr.candidate")
    assert "q=my+pod+keeps+restarting" in browser.current_url, "the address shares the question"
    decision = build_service(SHIPPED_KB).decide(question)
    shown = [row.find_element("css selector", "code").text for row in rows]
    assert sorted(shown) == sorted(e.entry_id for e in decision.evidence)
    assert decision.result is not None and decision.result.best is not None
    assert shown[0] == decision.result.best.entry_id
    band = browser.find_element("id", "band").text
    assert band == decision.result.band.value.replace("_", " ")
    assert rows[0].find_elements("css selector", "code.word"), "matched words are shown"
    screenshot(browser, "try")


def test_an_xss_payload_stays_text(browser: Any, console: Served) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    browser.get(console.url + "/try?q=" + urllib.parse.quote(XSS))
    assert browser.find_element("name", "q").get_attribute("value") == XSS
    browser.get(console.url + "/suggestions")
    assert "<script>alert('xss')</script>" in browser.find_element("id", "picks").text
    assert browser.execute_script("return document.scripts.length") == 0
    assert not by_css(browser, "#picks b"), "markup in a question is not markup on the page"
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the check
    screenshot(browser, "suggestions-xss")


def test_without_the_token_only_the_login_form(browser: Any, store: str, tmp_path: Path) -> None:
    with serve_console(store, SHIPPED_KB, KUBEBOT_CONSOLE_TOKEN=TOKEN) as served:
        assert status_of(served.url + "/") == 401
        assert status_of(served.url + "/suggestions") == 401
        browser.delete_all_cookies()
        browser.get(served.url + "/suggestions")
        assert browser.find_element("tag name", "h1").text == "Log in"
        assert "Picked by people" not in browser.page_source
        screenshot(browser, "login")
        browser.find_element("name", "token").send_keys("not-the-token-at-all")
        browser.find_element("css selector", ".login button").click()
        assert wait_for(browser, "#login-error")[0].text == "That token is not right."
        browser.find_element("name", "token").send_keys(TOKEN)
        browser.find_element("css selector", ".login button").click()
        wait_for(browser, "#picks")
        assert browser.current_url == served.url + "/suggestions"
        [cookie] = browser.get_cookies()
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert TOKEN not in cookie["value"]
