"""The chart of articles over time per newspaper, drawn in a real Chromium."""

from __future__ import annotations

import pytest

from tests.sample_archive import ARTICLES
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")


@pytest.fixture(scope="module")
def server(archive_server: str) -> str:
    return archive_server


def test_chart_has_one_line_per_newspaper(server: str) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    sites = sorted({a.site for a in ARTICLES if a.published_at})
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server + "/")
        page.get_by_text("Biểu đồ số bài theo thời gian").click()
        page.wait_for_selector("polyline.series")
        lines = page.locator("polyline.series")
        assert (
            sorted(lines.nth(i).get_attribute("data-site") for i in range(lines.count())) == sites
        )
        assert page.locator("#legend li").count() == len(sites)
        assert f"{len(sites)} báo" in page.locator("#chart-status").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "04-chart.png"), full_page=True)
        browser.close()
    assert errors == []
