"""Headless Debian chromium driven by Selenium, and where the screenshots of a test run go.

Locally the browser tests skip, with the reason, when chromium, chromium-driver or selenium is
missing; in CI (CI=true) the skip fails the run (tests/skips.py), so the pages are always looked
at by a real browser.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

SHOTS = Path(os.environ.get("KUBEBOT_SCREENSHOTS") or ROOT / "build" / "screenshots")
TAKEN: list[Path] = []
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
)
MAX_SHOT_HEIGHT = 2600


def start_chromium(profile: Path) -> Any:
    """A headless chromium with a fresh profile, or a skip (a failure in CI) when there is none."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("chromium or chromedriver is missing (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(driver)), options=options)


def screenshot(driver: Any, name: str) -> Path:
    """The whole page (up to MAX_SHOT_HEIGHT pixels tall) as SHOTS/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1280, 1000)
    height = int(
        driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
        )
    )
    driver.set_window_size(1280, min(max(height + 40, 800), MAX_SHOT_HEIGHT))
    path = SHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot for {name}"
    driver.set_window_size(1280, 1000)
    TAKEN.append(path)
    return path
