"""A journalist's path through the archive, in a real Chromium.

Front page → type "dam thuy" (no diacritics) → ranked results with highlights → the
article with its paragraphs. Screenshots go to test-artifacts/ for a human to look at.
Uses Debian's chromium (Playwright's own browser download does not work here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from datasette.utils import tilde_encode

# Shared with the HTTP tests: the same archive, served by the same real command.
from tests.sample_archive import ARTICLES, BODY_DAM_THUY

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing: apt-get install -y chromium (make test does)",
)


@pytest.fixture(scope="module")
def server(archive_server: str) -> str:
    return archive_server


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator:
    """One Chromium for the module (Playwright's sync API allows one at a time)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_search_without_diacritics_then_read_the_article(server: str, page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(server + "/")
    assert page.locator("h1").inner_text() == "Kho lưu trữ báo chí địa phương Việt Nam"
    assert "Báo Cao Bằng" in page.locator("table.vn-table").inner_text()
    page.screenshot(path=str(ARTIFACTS / "01-front-page.png"), full_page=True)

    box = page.locator("form.vn-search input[name=q]")
    box.fill("dam thuy")
    box.press("Enter")
    page.wait_for_url("**/archive/search?q=dam+thuy**")
    results = page.locator("ol.results > li")
    assert results.count() == 2
    first = results.first
    assert first.locator("h3").inner_text() == ARTICLES[0].title
    marks = first.locator(".snippet mark")
    assert marks.count() >= 1
    assert marks.first.inner_text() == "Đàm Thủy"  # the phrase is highlighted whole
    # the highlight is visible, not just present
    assert marks.first.evaluate("m => getComputedStyle(m).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.screenshot(path=str(ARTIFACTS / "02-search-results.png"), full_page=True)

    first.locator("h3 a").click()
    page.wait_for_load_state()
    assert page.locator("article h1").inner_text() == ARTICLES[0].title
    body = page.locator("article .body p")
    assert body.all_inner_texts() == BODY_DAM_THUY.split("\n\n")
    assert page.locator("p.original a").get_attribute("href") == ARTICLES[0].url
    page.screenshot(path=str(ARTIFACTS / "03-article.png"), full_page=True)

    assert errors == []


def test_hostile_title_is_shown_as_text(server: str, page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/archive/search?q=alert")
    assert "<script>alert('xss')</script>" in page.locator("ol.results").inner_text()
    page.locator("ol.results h3 a").first.click()
    page.wait_for_load_state()
    assert page.locator("article h1").inner_text().startswith("<script>")
    assert dialogs == []  # no script ran


# ---------------------------------------------------------------------------
# Every reader page, at a desktop and a phone width (issue 13)

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
READER_PAGES = {
    "articles": "/archive/articles",
    "article": "/archive/articles/" + tilde_encode(ARTICLES[0].url),
    "search": "/archive/search?q=dam+thuy",
    "search-by-date": "/archive/search?q=thuy&sort=date",
    "paper": "/bao/baocaobang",
    "author": "/tac-gia/Bảo Bình",
    "tag": "/tu-khoa/du lịch",
    "place": "/dia-danh/Đàm Thủy",
    "term": "/tu-khoa-theo-thoi-gian?q=dam+thuy",
    "chart": "/bieu-do",
    "not-found": "/archive/articles/khong-co",
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", READER_PAGES)
def test_reader_pages_in_vietnamese_at_each_width(server: str, browser, name: str, width: str):
    from tests.test_reader import english_left

    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + READER_PAGES[name])
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"13-{name}-{width}.png"), full_page=True)
    text = page.locator("body").inner_text()
    # Each page shows what it is for: only the not-found page may say "Không tìm thấy".
    assert ("Không tìm thấy" in text) == (name == "not-found"), text[:300]
    if name == "article":
        assert page.locator("article h1").inner_text() == ARTICLES[0].title
    assert english_left(text) == []
    # Nothing wider than the screen: a phone reader never scrolls sideways.
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= w + 1, scroll
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 8000  # 28 rows of bodies made a 37,000-pixel phone page
    assert errors == []
    context.close()
