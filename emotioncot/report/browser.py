"""A headless Chromium driven by selenium, for the report's browser tests and README screenshots.

Uses the system's ``chromium`` and ``chromedriver`` (Debian: ``apt-get install chromium chromium-driver``,
done by ``make install``); nothing is downloaded. selenium is in the ``test`` extra."""

from __future__ import annotations

import shutil
from pathlib import Path

# root in a container needs --no-sandbox; the rest keeps Chromium from reaching any network service
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required", "--mute-audio")


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver) executables, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def headless_chromium(profile: Path, width: int = 1280, height: int = 900):
    """A selenium Chrome driver with a fresh profile in ``profile`` that keeps the browser console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=paths[1]))


def full_page_screenshot(driver, path: Path, max_height: int = 4000) -> None:
    """A screenshot of the whole page (the window grown to the page's height, up to ``max_height``)."""
    width = driver.get_window_size()["width"]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max_height, max(600, int(height) + 20)))
    driver.save_screenshot(str(path))
