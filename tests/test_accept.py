"""Acceptance: one function decides whether a fetched page is stored, for the crawl and
for `vnnews reextract` alike."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from archive import store
from archive.accept import RawResponse, Rejection, accept
from archive.models import Article
from archive.scope import Scope
from archive.sites import SITES, generic_profile
from tests import faultserver as fs

VNNEWS = str(Path(sys.executable).with_name("vnnews"))
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture(scope="module")
def record() -> dict:
    return fs.golden("a")[0]


def raw_page(url: str, body: bytes, headers: dict | None = None, status: int = 200):
    return RawResponse(url, status, HTML if headers is None else headers, body)


def test_an_article_page_is_accepted_as_its_golden_record(record):
    url = "http://127.0.0.1:8000/" + record["url"].split("/", 3)[3]
    article = accept(raw_page(url, record["html"].encode()), url, generic_profile(url))
    assert isinstance(article, Article)
    assert (article.title, article.author) == (record["title"], record["author"])


@pytest.mark.parametrize(
    ("body", "headers", "kind"),
    [
        (b"  \n", HTML, "empty"),
        (fs.PNG_BYTES, HTML, "binary"),
        (
            b"<html><title>404 Not Found</title><body><h1>Not Found</h1></body></html>",
            HTML,
            "soft_404",
        ),
        (b"%PDF-1.7 ...", {"Content-Type": "application/pdf"}, "not_html"),
        (b"just text", {"Content-Type": "text/plain"}, "not_html"),
        (
            b"<html><body><h1>Thoi su</h1><a href='/a-123456.html'>a</a></body></html>",
            HTML,
            "not_article",
        ),
    ],
)
def test_what_is_refused_and_why(body, headers, kind):
    url = "http://127.0.0.1:8000/tin-tuc/"
    outcome = accept(raw_page(url, body, headers), url, generic_profile(url))
    assert isinstance(outcome, Rejection)
    assert (outcome.kind, outcome.http_status) == (kind, 200)
    assert outcome.is_failure is (kind not in ("not_html", "not_article"))


def test_garbled_text_is_refused_after_extraction(record):
    url = "http://127.0.0.1:8000/" + record["url"].split("/", 3)[3]
    body = fs.mojibake(record["html"]).encode()
    outcome = accept(raw_page(url, body), url, generic_profile(url))
    assert isinstance(outcome, Rejection) and outcome.kind == "mojibake"
    assert outcome.article is not None  # the verdict said article; the text is garbage


def test_canonical_link_and_host_alias_decide_the_address():
    profile = SITES["baocaobang"]
    body = (
        b"<html><head><link rel='canonical' href='https://www.baocaobang.vn/ha-quang-3162045.html'>"
        b"</head><body><h1>x</h1></body></html>"
    )
    url = "https://m.baocaobang.vn/ha-quang-3162045.html?ref=home"
    outcome = accept(raw_page(url, body), url, profile)
    assert outcome.article.url == "https://baocaobang.vn/ha-quang-3162045.html"
    # A canonical link to another site is not followed.
    elsewhere = body.replace(b"www.baocaobang.vn", b"example.com")
    outcome = accept(raw_page(url, elsewhere), url, profile)
    assert outcome.article.url == "https://baocaobang.vn/ha-quang-3162045.html?ref=home"


def test_on_a_mirror_the_article_is_archived_under_the_papers_own_url():
    """Issue 12: a mirror's address (its port changes from run to run) is where a page
    was fetched, never the article's identity."""
    body = (
        b"<html><head><link rel='canonical' href='https://baocaobang.vn/ha-quang-3162045.html'>"
        b"</head><body><h1>x</h1></body></html>"
    )
    for port in (8123, 9456):
        scope = Scope.for_target("baocaobang", f"http://127.0.0.1:{port}")
        url = f"http://127.0.0.1:{port}/ha-quang-3162045.html"
        outcome = accept(raw_page(url, body), url, scope.profile, scope)
        assert outcome.article.url == "https://baocaobang.vn/ha-quang-3162045.html"
        # Without a canonical link, the mirror's path on the paper's domain.
        plain = accept(raw_page(url, b"<html><body><h1>x</h1></body></html>"), url,
                       scope.profile, scope)  # fmt: skip
        assert plain.article.url == "https://baocaobang.vn/ha-quang-3162045.html"


def test_reextract_refuses_what_a_crawl_refuses(tmp_path, record):
    """Pages an older extractor let through (garbled text, an error page) are not
    stored by `vnnews reextract`; a good page still is."""
    db_path = tmp_path / "archive.db"
    db = store.open_db(db_path)
    good = "http://127.0.0.1:8000/" + record["url"].split("/", 3)[3]
    pages = {
        good: record["html"].encode(),
        "http://127.0.0.1:8000/bai-bi-ma-hoa-912.html": fs.mojibake(record["html"]).encode(),
        "http://127.0.0.1:8000/khong-tim-thay-910.html": (
            b"<html><head><title>Kh\xc3\xb4ng t\xc3\xacm th\xe1\xba\xa5y trang</title></head>"
            b"<body><h1>404 Not Found</h1></body></html>"
        ),
    }
    for url, body in pages.items():
        db["captures"].insert(  # the raw pages (the `pages` view shows the latest of each)
            {
                "url": url,
                "site": "127.0.0.1",
                "fetched_at": "2026-01-01T00:00:00+00:00",
                "status": 200,
                "content_type": "text/html; charset=utf-8",
                "encoding": "utf-8",
                "body_gz": gzip.compress(body),
            }
        )
    db.close()
    result = subprocess.run(
        [VNNEWS, "reextract", "--db", str(db_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 mojibake, 1 new, 1 soft_404"
    urls = [r[0] for r in store.open_db(db_path).execute("select url from articles")]
    assert urls == [good]


def test_a_page_is_parsed_once_for_its_article_and_its_links(monkeypatch):
    """read_page parses the page once: the article, the canonical link and the links to
    follow all come from that tree (a parse of a 100 KB page costs a millisecond)."""
    import lxml.html

    from archive import pagework

    page = next(Path(__file__).parent.joinpath("fixtures", "realistic").glob("*.html"))
    body = page.read_bytes()
    parsed: list[int] = []
    original = lxml.html.document_fromstring

    def counting(text, *args, **kwargs):
        parsed.append(len(text))
        return original(text, *args, **kwargs)

    monkeypatch.setattr(lxml.html, "document_fromstring", counting)
    url = "https://baocaobang.vn/bai-viet-123456.html"
    reading = pagework.read_page(RawResponse(url, body=body), url, Scope.for_target(url))
    assert isinstance(reading.outcome, Article)
    assert len([n for n in parsed if n > len(body) // 2]) == 1


def test_an_address_is_one_address_whatever_its_unicode_form():
    """A link written with combining marks and the same link written with precomposed
    letters are the same page (NFC before percent-encoding)."""
    import unicodedata

    from archive.urls import canonicalize

    url = "https://baocaobang.vn/tin-tức/người-dân-123.html"
    assert canonicalize(unicodedata.normalize("NFD", url)) == canonicalize(url)
