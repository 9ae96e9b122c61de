"""End to end in real headless Chromium: start the server on a small index, open the home page,
click a query image, check the results page."""
import shutil

import numpy as np
import pytest

from conftest import HERE, SMALL, backend_name, exact_oracle

selenium = pytest.importorskip("selenium", reason="Debian python3-selenium is needed (scripts/setup.sh web)")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("Debian chromium and chromium-driver are needed (scripts/setup.sh web)", allow_module_level=True)

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import browser  # noqa: E402


def wait(driver, seconds):
    """A wait that polls again when the page is replaced under it: a form submit navigates, and
    Chromium can then answer a read of the old page's node with an "unhandled inspector error"
    (a plain WebDriverException, which WebDriverWait does not ignore by default)."""
    return WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,))


@pytest.fixture(scope="module")
def server(features_dir):
    with browser.running_server(["--features", str(features_dir), "--limit", str(SMALL), "--cache-dir", "",
                                 "--backend", backend_name()], extra_path=[HERE]) as url:
        yield url


def well_separated_query(engine):
    """The first gallery image whose exact Euclidean top 10 are all of its class."""
    for qid in range(48):
        ids, _ = exact_oracle(engine.base, engine.query[qid], "euclidean", 10)
        if (engine.base_labels[ids] == engine.query_labels[qid]).all():
            return qid
    pytest.fail("no gallery query with 10 relevant exact neighbours")


def test_click_a_query_and_see_relevant_results(server, engine, tmp_path):
    qid = well_separated_query(engine)
    with browser.chromium() as driver:
        driver.get(server + "/")
        assert "Fashion-MNIST search" in driver.title
        # Bootstrap is served locally and applied: the navbar is dark.
        navbar = driver.find_element(By.CSS_SELECTOR, "nav.navbar")
        assert navbar.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
        gallery = driver.find_elements(By.CSS_SELECTOR, ".gallery button")
        assert len(gallery) == 48
        driver.find_element(By.ID, f"query-{qid}").click()
        wait(driver, 30).until(EC.presence_of_element_located((By.ID, "results")))
        cards = driver.find_elements(By.CSS_SELECTOR, "#results .result")
        assert len(cards) == 10
        relevant = [c.get_attribute("data-relevant") for c in cards].count("yes")
        assert relevant >= 6, f"query {qid}: only {relevant} of 10 relevant"
        assert driver.find_element(By.ID, "relevant-count").text.startswith(f"{relevant} / 10")
        assert driver.find_element(By.ID, "time-taken").text.endswith("ms")
        assert "E2LSH" in driver.find_element(By.TAG_NAME, "h1").text
        # Every result image loaded (naturalWidth 28 means the PNG decoded).
        widths = driver.execute_script(
            "return Array.from(document.querySelectorAll('#results img')).map(i => i.naturalWidth)")
        assert widths == [28] * 10
        # Switch to the exact cosine scan and search again.
        driver.find_element(By.CSS_SELECTOR, "label[for=mode-exact]").click()
        driver.find_element(By.CSS_SELECTOR, "label[for=metric-cosine]").click()
        driver.find_element(By.ID, "rerun").click()
        wait(driver, 30).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "exact scan, cosine"))
        visited = driver.find_element(By.ID, "visited").text
        assert visited.startswith(f"{SMALL:,}")
        driver.save_screenshot(str(tmp_path / "results.png"))


def test_bad_request_in_the_browser(server):
    with browser.chromium() as driver:
        driver.get(server + "/search?query=123456")
        assert "no test image 123456" in driver.find_element(By.ID, "error").text
        driver.get(server + "/")
        assert len(driver.find_elements(By.CSS_SELECTOR, ".gallery button")) == 48


@pytest.mark.parametrize("path", ["/", "/search?query=3&mode=exact&k=10", "/search?query=abc"])
def test_pages_fit_a_390_pixel_wide_phone(server, path):
    """No horizontal scrolling and nothing cut off at an iPhone-sized viewport (390 CSS px)."""
    with browser.chromium() as driver:
        # Headless Chromium's windows are at least 500 px wide: emulate the phone's viewport.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        driver.get(server + path)
        wait(driver, 10).until(EC.presence_of_element_located((By.TAG_NAME, "main")))
        viewport = driver.execute_script("return document.documentElement.clientWidth")
        widest = driver.execute_script("return document.documentElement.scrollWidth")
        assert viewport <= 390 and widest <= viewport, f"page is {widest} px wide in a {viewport} px viewport"
        # Every element ends inside the viewport (the title used to be clipped on the right).
        overflow = driver.execute_script("""
            const w = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')]
              .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > w + 0.5)
              .map(e => e.tagName + '.' + e.className).slice(0, 5);""")
        assert overflow == [], f"elements past the right edge: {overflow}"
