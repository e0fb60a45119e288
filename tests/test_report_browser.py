"""The HTML report in a real browser: Debian's headless Chromium through its chromedriver (selenium,
never a downloaded browser build). Clicking a cited time seeks the player (again after the player
moved), ``#t=`` in the URL seeks on load, model payloads stay inert, the page's own script is not
blocked by its CSP, the layout holds at 390 px, printing hides the player.

Skipped only outside CI when chromium or chromedriver is missing; CI (``CI=true``) installs them
(``.ci/run``) and fails here if they are absent.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from media import DEMO
from test_report import XSS_REPLY, run_task

from videovision.report import render_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SEEK_TOLERANCE = 0.5
SCREENSHOTS = Path(os.environ.get("VIDEOVISION_SCREENSHOTS", "/tmp"))

if not (CHROMIUM and CHROMEDRIVER):
    if IN_CI:
        pytest.fail("chromium and chromedriver are required in CI (.ci/run installs them)", pytrace=False)
    pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402  (only with a browser to drive)
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # the path given: no selenium-manager
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, object]:
    """A summary report whose reply carries XSS payloads, the video in a sibling folder with a space."""
    root = tmp_path_factory.mktemp("browser")
    video = root / "my videos" / "demo clip.mp4"
    video.parent.mkdir()
    shutil.copyfile(DEMO, video)
    out = root / "reports" / "report.html"
    out.parent.mkdir()
    result = run_task(video, XSS_REPLY)
    out.write_text(render_report(result, video=video, out=out), encoding="utf-8")
    return out, result


def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def open_page(driver, page: Path, fragment: str = "") -> None:
    driver.get("about:blank")  # a real load, not a fragment navigation within the page open before
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(page.as_uri() + fragment)
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete", what="the page")
    wait_for(lambda: driver.execute_script("return document.getElementById('player').readyState") >= 1,
             what="the video's metadata")


def current_time(driver) -> float:
    return float(driver.execute_script("return document.getElementById('player').currentTime"))


def seek_to(driver, target: float) -> None:
    wait_for(lambda: abs(current_time(driver) - target) <= SEEK_TOLERANCE, what=f"currentTime near {target}")


def csp_violations(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def summary_link(driver, seconds: str):
    return driver.find_element(By.CSS_SELECTOR, f'#summary a[href="#t={seconds}"]')


def test_clicking_a_cited_time_seeks_the_player_and_highlights_its_frame(driver, report):
    page, result = report
    open_page(driver, page)
    assert not driver.find_element(By.ID, "video-note").is_displayed()  # it plays: no "cannot play" note
    moment = result.summary.moments[1]  # [00:00:04.0]
    link = summary_link(driver, f"{moment.time:g}")
    link.click()
    seek_to(driver, moment.time)
    frame = driver.find_element(By.ID, link.get_attribute("data-frame"))
    assert "hit" in frame.get_attribute("class")
    assert float(frame.get_attribute("data-times").split()[0]) == pytest.approx(moment.frame_time)
    assert driver.find_element(By.ID, "seen").is_displayed()
    driver.execute_script("document.getElementById('player').currentTime = 15")
    seek_to(driver, 15)
    link.click()  # the same link again: no hashchange, still a seek
    seek_to(driver, moment.time)
    unsupported = summary_link(driver, "11.3")
    assert "unsupported" in unsupported.get_attribute("class") and "no frame" in unsupported.text
    unsupported.click()
    seek_to(driver, 11.3)
    driver.find_element(By.CSS_SELECTOR, "#frames figure a").click()  # a filmstrip frame seeks too
    seek_to(driver, result.plan.images[0].time)
    assert csp_violations(driver) == []


def test_a_time_in_the_url_seeks_on_load(driver, report):
    page, _ = report
    open_page(driver, page, "#t=3")
    seek_to(driver, 3.0)
    assert driver.find_elements(By.CSS_SELECTOR, "figure.hit")
    assert csp_violations(driver) == []


def test_payloads_in_the_reply_stay_inert(driver, report):
    page, _ = report
    open_page(driver, page)
    for link in driver.find_elements(By.CSS_SELECTOR, "#summary a"):
        link.click()  # every link the reply produced, clicked
    time.sleep(0.3)
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    assert driver.execute_script("return window.__pwned === undefined")
    assert "pwned" not in driver.title
    assert driver.execute_script(
        "return document.querySelectorAll('#summary script, #summary svg, #summary img, "
        "a[href^=\"javascript\"], a[href^=\"data\"]').length") == 0
    assert "window.__pwned = 1" in driver.find_element(By.ID, "summary").text  # shown as text
    assert csp_violations(driver) == []


def test_the_layout_holds_at_390_px_and_in_the_dark(driver, report):
    page, _ = report
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        open_page(driver, page, "#t=4")
        assert driver.execute_script("return window.innerWidth") == 390
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
        driver.save_screenshot(str(SCREENSHOTS / "report_390.png"))
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 255, 255)"
        driver.execute_script("document.getElementById('frames').scrollIntoView()")
        driver.save_screenshot(str(SCREENSHOTS / "report_390_dark.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    open_page(driver, page, "#t=4")
    driver.save_screenshot(str(SCREENSHOTS / "report_1280.png"))
    assert driver.execute_script("return document.documentElement.scrollWidth") <= driver.execute_script(
        "return window.innerWidth")


def test_printing_hides_the_player_and_keeps_the_frames(driver, report):
    page, result = report
    open_page(driver, page)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not driver.find_element(By.ID, "player").is_displayed()
        figures = driver.find_elements(By.CSS_SELECTOR, "#frames figure")
        assert len(figures) == len(result.plan.images) and all(f.is_displayed() for f in figures)
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_a_video_the_browser_cannot_load_is_explained(driver, report, tmp_path):
    _, result = report
    out = tmp_path / "elsewhere.html"
    out.write_text(render_report(result, video=tmp_path / "missing.mp4", out=out), encoding="utf-8")
    driver.get(out.as_uri())
    note = driver.find_element(By.ID, "video-note")
    wait_for(note.is_displayed, what="the note on the video")
    assert "missing.mp4" in note.text
