"""Golden pages: every fixture page's extracted record must equal the JSON beside it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archive.extract import article_verdict, extract
from archive.html import clean, decode_html, parse_html
from archive.quality import FIELDS, normalise
from archive.sites import SITES, generic_profile

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = FIXTURES / "pages"
# Holdout pages were written by someone who never saw the extractor: the measure of
# how it does on layouts it was not tuned on.
ALL_PAGES = [*sorted(PAGES.glob("*/*.json")), *sorted((FIXTURES / "holdout").glob("[a-e]/*.json"))]
CASES = sorted(PAGES.glob("*/*.json"))
NON_ARTICLES = sorted((FIXTURES / "holdout" / "nonarticles").glob("*.json"))


def load(case: Path) -> tuple[str, dict]:
    return case.with_suffix(".html").read_bytes(), json.loads(case.read_text(encoding="utf-8"))


def record(article) -> dict:
    data = article.to_dict()
    return {f: normalise(data[f]) for f in FIELDS}


@pytest.mark.parametrize(
    "case", ALL_PAGES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.stem}"
)
def test_golden_page(case: Path):
    html, want = load(case)
    profile = SITES[want["profile"]] if want.get("profile") else generic_profile(want["url"])
    article = extract(html, want["url"], profile)
    assert record(article) == {f: normalise(want[f]) for f in FIELDS}
    assert article_verdict(article, profile)[0]


@pytest.mark.parametrize(
    "case", [c for c in CASES if json.loads(c.read_text())["profile"]], ids=lambda p: p.stem
)
def test_golden_page_without_profile(case: Path):
    """Pages of a registered paper come out the same through the generic path."""
    html, want = load(case)
    article = extract(html, want["url"], generic_profile(want["url"]))
    assert record(article) == {f: normalise(want[f]) for f in FIELDS}


def test_enough_golden_pages():
    families = {c.parent.name for c in CASES}
    assert families >= {"a", "b", "c", "d", "e"}
    assert all(len(list((PAGES / f).glob("*.json"))) >= 5 for f in "abcde")


@pytest.mark.parametrize("case", NON_ARTICLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("disguised", [False, True], ids=["as-served", "disguised"])
def test_non_articles_are_not_articles(case: Path, disguised: bool):
    """Section pages, galleries and video pages are never stored, even when their URL
    looks like an article's and no og:type says what they are."""
    html, want = load(case)
    url = want["url"]
    if disguised:
        html = re.sub(rb'<meta property="og:type"[^>]*>', b"", html)
        url = "https://baothunghiem.vn/du-lich-trai-nghiem-vung-cao-ban-doc-12345.html"
    profile = generic_profile(url)
    ok, reason = article_verdict(extract(html, url, profile), profile)
    assert not ok, reason


def test_seed_article_on_its_own_paper_matches_the_seed_text():
    """The real seed article (../shared/samples/seed-article.txt) as Báo Cao Bằng's own
    layout shows it, through the baocaobang profile: the text a reader sees, nothing else."""
    from archive.quality import word_f1
    from vnnews.localsite import SNAPSHOT_DIR

    seed = (FIXTURES / "pages" / "d" / "seed-ha-quang.json").read_text(encoding="utf-8")
    want = json.loads(seed)
    page = next((SNAPSHOT_DIR / "baocaobang").glob("*-61873.html"))
    article = extract(page.read_bytes(), "https://baocaobang.vn/" + page.name, SITES["baocaobang"])
    assert article.title == want["title"]
    assert word_f1(f"{article.lead} {article.body}", f"{want['lead']} {want['body']}") >= 0.99
    assert article.author == "Bảo Bình"
    assert article.published_at == "2023-05-30T08:15:00+07:00"


def test_main_image_with_its_caption():
    """The first picture of the article and its caption: wherever the CMS puts the
    caption (figcaption, the image's table, an italic line below), it is kept with the
    picture and is not a paragraph of the body."""
    with_caption = 0
    for case in ALL_PAGES:
        html, want = load(case)
        article = extract(html, want["url"], generic_profile(want["url"]))
        if article.image_caption:
            with_caption += 1
            assert article.image and article.image.startswith("http")
            page_text = clean(parse_html(decode_html(html), want["url"]).text_content())
            assert article.image_caption in page_text, case.stem
            assert article.image_caption not in normalise(want["body"]), case.stem
    assert with_caption >= 40


def test_control_and_bidi_override_characters_never_reach_the_archive():
    """A title must read as the page shows it: a hidden U+202E would show "exe.gpj" as
    "jpg.exe"; control characters corrupt exports. NFC is kept."""
    html = (
        "<html><head><meta property='og:type' content='article'></head><body>"
        "<h1>Tải tệp\u202eexe.gpj\u202c về\x07 máy</h1><div class='time'>23/12/2025 09:02</div>"
        + "<p>Người dân xã Hà Quảng\u2066 thu hoạch\x1b hạt dẻ, giá bán 80.000 đồng/kg.</p>" * 6
        + "</body></html>"
    )
    article = extract(html, "https://example.vn/tai-tep-1234.html")
    assert article.title == "Tải tệpexe.gpj về máy"
    assert "\u2066" not in article.body and "\x1b" not in article.body
    assert "80.000 đồng/kg" in article.body


def test_a_read_page_is_freed_once_the_next_one_is_read():
    """The page index is memoised per tree; it must not keep every tree it has seen
    alive (it did: a crawl's page readers grew by over 1 MB a page)."""
    import gc
    import weakref

    from archive.html import page_index

    html = "<html><body><h1>Tiêu đề</h1><div class='a'><p>Một đoạn văn.</p></div></body></html>"
    first = parse_html(html, "https://baocaobang.vn/a.html")
    page_index(first)
    gone = weakref.ref(first)
    page_index(parse_html(html, "https://baocaobang.vn/b.html"))
    del first
    gc.collect()
    assert gone() is None
