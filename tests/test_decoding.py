"""Decoding: the HTTP header's charset, then ``<meta charset>``, then detection, with
valid UTF-8 first (mislabelled UTF-8 is the most common lie). Vietnamese in UTF-8, in
Windows-1258 (base letters plus combining tone marks), labelled right, wrong or not at
all, must come out as the same NFC text, never as mojibake."""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from urllib.parse import unquote, urlsplit

import pytest

from archive.accept import garbage_kind
from archive.extract import extract
from archive.html import content_type_encoding, decode_html
from archive.quality import FIELDS, normalise
from archive.sites import generic_profile
from tests import faultserver as fs
from tests.sitegen import SiteSpec, article_path, build_site

# Running Vietnamese text: what detection must recognise on an unlabelled page.
SAMPLE = (
    "Việt Nam: Hà Quảng đón nhận những ngày hội lớn của đồng bào Tày, Nùng ở vùng cao. "
    "Ăn quả nhớ kẻ trồng cây; uống nước nhớ nguồn. Đường lên Đồng Văn, Mèo Vạc, Lũng Cú."
)
# Every Vietnamese vowel with every tone, both cases: for labelled pages (a table of
# letters is no language, so detection is not asked to recognise it).
LETTERS = (
    "ẮẰẲẴẶ ẤẦẨẪẬ ÉÈẺẼẸ ẾỀỂỄỆ ÍÌỈĨỊ ÓÒỎÕỌ ỐỒỔỖỘ ỚỜỞỠỢ ÚÙỦŨỤ ỨỪỬỮỰ ÝỲỶỸỴ Đ "
    "ắằẳẵặ ấầẩẫậ éèẻẽẹ ếềểễệ íìỉĩị óòỏõọ ốồổỗộ ớờởỡợ úùủũụ ứừửữự ýỳỷỹỵ đ"
)
# What UTF-8 read as Latin-1/Windows-1252 looks like, and Windows-1258 read as Latin-1.
MOJIBAKE = re.compile(r"Ã|Æ°|á»|áº|Ä‘|Ä\x91|â€|[a-zà-ỹđ][ÒÌÞ]|\ufffd")

LATIN1 = content_type_encoding("text/html; charset=ISO-8859-1")  # w3lib: cp1252
CP1258 = content_type_encoding("text/html; charset=windows-1258")
UTF8 = content_type_encoding("text/html; charset=utf-8")


def page(meta: str | None, text: str = SAMPLE) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return (
        f"<!DOCTYPE html><html><head>{head}<title>Thử nghiệm</title></head>"
        f"<body><h1>Tiêu đề</h1><p>{text}</p></body></html>"
    )


def no_mojibake(text: str) -> bool:
    return MOJIBAKE.search(text) is None


FULL = f"{SAMPLE} {LETTERS}"

# (id, bytes on the wire, charset from the HTTP header, the page as it should read)
CASES = [
    ("utf8-header", page("utf-8", FULL).encode(), UTF8, page("utf-8", FULL)),
    ("utf8-no-charset", page(None, FULL).encode(), None, page(None, FULL)),
    ("utf8-header-says-latin1", page(None, FULL).encode(), LATIN1, page(None, FULL)),
    ("utf8-meta-says-latin1", page("iso-8859-1", FULL).encode(), None, page("iso-8859-1", FULL)),
    ("utf8-header-says-1258", page(None, FULL).encode(), CP1258, page(None, FULL)),
    (
        "utf8-decomposed",
        unicodedata.normalize("NFD", page(None, FULL)).encode(),
        None,
        page(None, FULL),
    ),
    ("cp1258-header", fs.encode_cp1258(page(None, FULL)), CP1258, page(None, FULL)),
    (
        "cp1258-meta",
        fs.encode_cp1258(page("windows-1258", FULL)),
        None,
        page("windows-1258", FULL),
    ),
    (
        "cp1258-header-utf8-meta-1258",
        fs.encode_cp1258(page("windows-1258", FULL)),
        UTF8,
        page("windows-1258", FULL),
    ),
    ("cp1258-no-charset", fs.encode_cp1258(page(None)), None, page(None)),
    ("cp1258-header-says-utf8", fs.encode_cp1258(page(None)), UTF8, page(None)),
]
WESTERN_LABEL_CASES = [
    (
        "cp1258-header-says-latin1-meta-1258",
        fs.encode_cp1258(page("windows-1258", FULL)),
        LATIN1,
        page("windows-1258", FULL),
    ),
    ("cp1258-header-says-latin1", fs.encode_cp1258(page(None)), LATIN1, page(None)),
    ("cp1258-meta-says-latin1", fs.encode_cp1258(page("iso-8859-1")), None, page("iso-8859-1")),
]


@pytest.mark.parametrize(
    ("body", "header", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decode_html_gives_the_text_without_mojibake(body, header, expected):
    text = decode_html(body, header)
    assert no_mojibake(text)
    assert unicodedata.normalize("NFC", text) == unicodedata.normalize("NFC", expected)


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [c[1:] for c in WESTERN_LABEL_CASES],
    ids=[c[0] for c in WESTERN_LABEL_CASES],
)
def test_decode_html_sees_through_a_western_label_on_vietnamese(body, header, expected):
    text = decode_html(body, header)
    assert no_mojibake(text)
    assert unicodedata.normalize("NFC", text) == expected


def test_a_western_page_labelled_western_stays_western():
    text = "<p>Café déjà vu — naïve résumé, “quotes” and façade; Ünïcödé über straße.</p>"
    assert decode_html(text.encode("cp1252"), LATIN1) == text


@pytest.mark.parametrize("case", ["cp1258-header", "cp1258-no-charset", "utf8-decomposed"])
def test_decode_html_returns_nfc(case):
    _, body, header, expected = next(c for c in CASES if c[0] == case)
    assert decode_html(body, header) == expected


# ---------------------------------------------------------------- extract()

FAMILY_PAGES = [fs.golden(family)[i] for family, i in zip("abcde", (0, 1, 2, 3, 4), strict=True)]


CHARSET_DECLARATION = re.compile(
    r"<meta\s+charset=[^>]*>|<meta\s+http-equiv=[\"']?content-type[\"']?[^>]*>", re.I
)


def with_charset(html: str, label: str | None) -> str:
    """The page with its charset declarations replaced by <meta charset=label> (or none)."""
    html = CHARSET_DECLARATION.sub("", html)
    if label:
        html = re.sub(r"(<head\b[^>]*>)", rf'\1<meta charset="{label}">', html, count=1, flags=re.I)
    return html


def variants(record: dict) -> dict[str, tuple[bytes, str | None]]:
    """The golden page as servers send it: (bytes, charset of the HTTP header)."""
    bare = with_charset(record["html"], None)
    labelled = with_charset(record["html"], "windows-1258")
    assert "windows-1258" in labelled
    return {
        "utf8-header-says-latin1": (bare.encode(), LATIN1),
        "utf8-no-charset": (bare.encode(), None),
        "cp1258-header": (fs.encode_cp1258(bare), CP1258),
        "cp1258-meta": (fs.encode_cp1258(labelled), None),
        "cp1258-no-charset": (fs.encode_cp1258(bare), None),
        "cp1258-header-says-utf8": (fs.encode_cp1258(bare), UTF8),
    }


EXTRACT_CASES = [(record, name) for record in FAMILY_PAGES for name in variants(record)]


def slug(record: dict) -> str:
    return urlsplit(record["url"]).path.strip("/").rsplit("/", 1)[-1][:24]


def assert_golden(article, record) -> None:
    for field in ("title", "lead", "body", "author", "category"):
        value = getattr(article, field)
        if value is not None:
            assert value == unicodedata.normalize("NFC", value), f"{field} is not NFC"
            assert no_mojibake(value), f"{field}: {value[:80]}"
    got = {f: normalise(getattr(article, f)) for f in FIELDS}
    assert got == {f: normalise(record[f]) for f in FIELDS}


@pytest.mark.parametrize(
    ("record", "variant"),
    EXTRACT_CASES,
    ids=[f"{slug(r)}-{name}" for r, name in EXTRACT_CASES],
)
def test_extract_gives_the_golden_record_in_any_encoding(record, variant):
    body, header = variants(record)[variant]
    url = record["url"]
    assert_golden(extract(body, url, generic_profile(url), encoding=header), record)


def test_extract_sees_through_a_western_label_on_a_windows_1258_page():
    record = FAMILY_PAGES[0]
    body, _ = variants(record)["cp1258-header"]
    url = record["url"]
    assert_golden(extract(body, url, generic_profile(url), encoding=LATIN1), record)


def test_a_garbled_page_is_never_an_article_worth_keeping():
    """Whatever decoding gets wrong, the pipeline's guard keeps it out of the archive."""
    record = FAMILY_PAGES[0]
    body, _ = variants(record)["cp1258-header"]
    url = record["url"]
    garbled = extract(body.decode("latin-1"), url, generic_profile(url))
    assert garbage_kind(garbled)[0] == "mojibake"
    double = extract(fs.mojibake(record["html"]), url, generic_profile(url))
    assert garbage_kind(double)[0] == "mojibake"
    clean = extract(record["html"], url, generic_profile(url))
    assert garbage_kind(clean) is None


# ---------------------------------------------------------------- through the crawl

# (golden page, variant, Content-Type header)
SERVED = {
    "cp1258-header": (FAMILY_PAGES[0], "cp1258-header", "text/html; charset=windows-1258"),
    "cp1258-header-says-utf8": (
        FAMILY_PAGES[1],
        "cp1258-header-says-utf8",
        "text/html; charset=utf-8",
    ),
    "cp1258-no-charset": (FAMILY_PAGES[2], "cp1258-no-charset", "text/html"),
    "utf8-header-says-latin1": (
        FAMILY_PAGES[3],
        "utf8-header-says-latin1",
        "text/html; charset=ISO-8859-1",
    ),
    "cp1258-header-says-latin1": (
        FAMILY_PAGES[4],
        "cp1258-header",
        "text/html; charset=ISO-8859-1",
    ),
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("decoding")
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r, _, _ in SERVED.values()]
    root = build_site(tmp / "site", pages, SiteSpec(feed=False, sitemap=True, listing=False))
    faults = {
        article_path(record["url"]): fs.serve(variants(record)[variant][0], content_type)
        for record, variant, content_type in SERVED.values()
    }
    db = tmp / "archive.db"
    with fs.FaultSite(root, faults) as site:
        result = fs.run_crawl(site.url + "/", db, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {
        unquote(urlsplit(r["url"]).path): dict(r) for r in conn.execute("select * from articles")
    }
    failed = {
        unquote(urlsplit(r["url"]).path): dict(r) for r in conn.execute("select * from failures")
    }
    return rows, failed


def check_row(row: dict, record: dict) -> None:
    row = {**row, "tags": json.loads(row["tags"])}
    for field in ("title", "lead", "body"):
        assert row[field] == unicodedata.normalize("NFC", row[field] or "") or row[field] is None
        assert no_mojibake(row[field] or ""), field
    assert {f: normalise(row[f]) for f in FIELDS} == {f: normalise(record[f]) for f in FIELDS}


@pytest.mark.parametrize("case", [c for c in SERVED if c != "cp1258-header-says-latin1"])
def test_the_crawl_stores_nfc_text_whatever_the_page_encoding(crawled, case):
    rows, _ = crawled
    record = SERVED[case][0]
    check_row(rows[article_path(record["url"])], record)


def test_the_crawl_never_stores_garbled_text(crawled):
    """A Windows-1258 page labelled ISO-8859-1: stored right, or recorded as mojibake."""
    rows, failed = crawled
    path = article_path(SERVED["cp1258-header-says-latin1"][0]["url"])
    if path in rows:
        check_row(rows[path], SERVED["cp1258-header-says-latin1"][0])
    else:
        assert failed[path]["kind"] == "mojibake"
        assert failed[path]["http_status"] == 200


def test_the_crawl_stores_a_windows_1258_page_labelled_latin1(crawled):
    rows, _ = crawled
    record = SERVED["cp1258-header-says-latin1"][0]
    check_row(rows[article_path(record["url"])], record)
