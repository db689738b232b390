"""Discovery as pure functions: each parser on a small fixture, no crawl, no server."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from archive import discover
from archive.sites import SITES, JsonListing, generic_profile

FIXTURES = Path(__file__).parent / "fixtures" / "discover"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def page(name: str):
    return lxml.html.document_fromstring(fixture(name).decode())


def test_rss_item_links_as_written():
    assert discover.feed_links(fixture("feed.rss")) == [
        "https://baocaobang.vn/ha-quang-khai-hoi-3162045.html?utm_source=rss",
        "/Dam-Thuy-phat-trien-du-lich-62457.html",
    ]


def test_atom_entry_links_skip_enclosures():
    assert discover.feed_links(fixture("feed.atom")) == [
        "https://baolaocai.vn/mot-post1.html",
        "https://baolaocai.vn/hai-post2.html",
    ]


@pytest.mark.parametrize("body", [b"", b"<html><body>404</body></html>", b"not xml at all"])
def test_what_is_not_a_feed_has_no_links(body):
    assert discover.feed_links(body) == []


def test_sitemap_entries_with_lastmod_and_without_loc_dropped():
    sitemap = discover.read_sitemap(fixture("sitemap.xml"))
    assert sitemap.kind == "urlset"
    assert [(e["loc"], e.get("lastmod")) for e in sitemap.entries] == [
        ("https://baotuyenquang.com.vn/xa-hoi/202509/mot-7d21aa0/", "2025-09-30T08:00:00+07:00"),
        ("https://baotuyenquang.com.vn/kinh-te/202510/hai-7001/", None),
    ]


def test_sitemap_index_gzipped():
    sitemap = discover.read_sitemap(gzip.compress(fixture("sitemapindex.xml")))
    assert sitemap.kind == "sitemapindex"
    assert [e["loc"] for e in sitemap.entries] == [
        "https://baolaocai.vn/sitemaps/2025-10.xml",
        "https://baolaocai.vn/sitemaps/2025-09.xml",
    ]


def test_gzip_bomb_is_cut_off():
    bomb = gzip.compress(b"<urlset>" + b" " * 100_000 + b"</urlset>")
    with pytest.raises(discover.TooLarge):
        discover.gunzip(bomb, max_size=1000)
    with pytest.raises(discover.TooLarge):  # recorded as too_large, not read as empty
        discover.read_sitemap(bomb, max_size=1000)


def test_an_html_error_page_at_sitemap_xml_is_no_sitemap():
    assert discover.read_sitemap(b"") is None


def test_robots_sitemap_lines_absolute():
    assert discover.robots_sitemaps(fixture("robots.txt"), "https://baocaobang.vn/robots.txt") == [
        "https://baocaobang.vn/sitemap.xml",
        "https://baocaobang.vn/news-sitemap.xml",
    ]


def test_json_listing_links_and_end_of_walk():
    listing = JsonListing("/list-post-by-category?page={page}")
    assert discover.json_listing_links(fixture("listing.json"), listing) == [
        "/cao-bang-mot-3180462.html",
        "/cao-bang-hai-3184790.html",
    ]
    for end in (b'{"data": []}', b"<html>no JSON</html>", b'{"other": 1}'):
        assert discover.json_listing_links(end, listing) is None


def test_page_links_feeds_and_script_listings():
    root = page("listing.html")
    assert discover.page_links(root) == ["/cao-bang-mot-3180462.html", "/thoi-su?page=2"]
    assert discover.page_feeds(root) == ["/rss/thoi-su.rss"]
    assert [listing.url for listing in discover.script_listings(root)] == [
        "/list-post-by-category?page={page}&limit=12&category_id=57",
        "/api/list?page={page}&cat=5",
    ]


def test_paged_template_needs_every_name():
    values = {"catId": "57"}
    assert discover.paged_template("'/list?page=' + page + '&id=' + catId", values) == (
        "/list?page={page}&id=57"
    )
    assert discover.paged_template("'/list?page=' + page + '&id=' + other", values) is None


@pytest.mark.parametrize(
    ("current", "link", "expected"),
    [
        ("https://x.vn/thoi-su", "https://x.vn/thoi-su?page=2", True),
        ("https://x.vn/thoi-su?page=2", "https://x.vn/thoi-su?page=3", True),
        ("https://x.vn/thoi-su", "https://x.vn/thoi-su/trang-3", True),
        ("https://x.vn/thoi-su", "https://x.vn/kinh-te?page=2", False),
        ("https://x.vn/thoi-su", "https://x.vn/thoi-su?sort=new", False),
        ("https://x.vn/thoi-su", "https://y.vn/thoi-su?page=2", False),
    ],
)
def test_pagination(current, link, expected):
    assert discover.is_next_page(current, link) is expected


def test_day_archives_are_told_apart():
    assert discover.is_day_archive("https://x.vn/tin-theo-ngay?ngay=2025-10-01")
    assert not discover.is_day_archive("https://x.vn/thoi-su?page=2")


@pytest.mark.parametrize(
    ("lastmod", "than", "expected"),
    [
        ("2025-10-02T10:00:00+07:00", "2025-10-02T02:00:00+00:00", True),
        ("2025-10-02T09:00:00+07:00", "2025-10-02T02:00:00+00:00", False),
        ("2025-10-03", "2025-10-02T16:00:00+00:00", True),  # midnight in Vietnam is 17:00 UTC
        ("2025-10-03", "2025-10-02T17:00:00+00:00", False),
        ("2025-10-02T03:00:00Z", "2025-10-02T02:00:00+00:00", True),
        ("not a date", "2025-10-02T02:00:00+00:00", False),
        (None, "2025-10-02T02:00:00+00:00", False),
    ],
)
def test_freshness_of_a_sitemap_entry(lastmod, than, expected):
    assert discover.is_newer(lastmod, than) is expected


def test_child_sitemaps_are_read_when_changed_or_unknown():
    newest = "2025-10-15T00:00:00+00:00"
    assert discover.child_sitemap_wanted("2025-10-31", newest, walk_all=False)
    assert not discover.child_sitemap_wanted("2025-09-30", newest, walk_all=False)
    assert discover.child_sitemap_wanted("2025-09-30", newest, walk_all=True)
    assert discover.child_sitemap_wanted(None, newest, walk_all=False)
    assert discover.child_sitemap_wanted("2025-09-30", None, walk_all=False)


def test_discovery_urls_worth_checking_again():
    now = datetime(2026, 1, 10, tzinfo=UTC)
    recent, old = "2026-01-08T00:00:00+00:00", "2025-12-01T00:00:00+00:00"

    def row(status, links, checked_at=recent):
        return {"status": status, "article_links": links, "checked_at": checked_at}

    assert discover.worth_checking(None, walk_all=False, now=now)
    assert discover.worth_checking(row("ok", 12), walk_all=False, now=now)
    assert not discover.worth_checking(row("missing", 0), walk_all=False, now=now)
    assert discover.worth_checking(row("missing", 0, old), walk_all=False, now=now)
    assert not discover.worth_checking(row("alias", 0, old), walk_all=False, now=now)
    assert discover.worth_checking(row("alias", 0), walk_all=True, now=now)


def test_discovery_points_of_a_registered_and_a_generic_site():
    memory = {
        "https://baocaobang.vn/rss/thoi-su.rss": {"kind": "feed", "status": "ok"},
        "https://baocaobang.vn/rss/gone.rss": {"kind": "feed", "status": "missing"},
        "https://baocaobang.vn/thoi-su": {"kind": "page", "status": "ok"},
    }
    points = discover.discovery_points(SITES["baocaobang"], "https://baocaobang.vn/", memory)
    assert points == [
        ("https://baocaobang.vn/rss/home.rss", "feed"),
        ("https://baocaobang.vn/rss/thoi-su.rss", "feed"),
    ]
    generic = generic_profile("https://tintuc.example.vn/")
    points = discover.discovery_points(generic, "https://tintuc.example.vn/", {})
    assert ("https://tintuc.example.vn/sitemap.xml", "sitemap") in points
    assert ("https://tintuc.example.vn/rss.xml", "feed") in points


def test_article_links_by_profile_or_by_shape():
    baocaobang = SITES["baocaobang"]
    assert discover.is_article_link(baocaobang, "https://baocaobang.vn/ha-quang-3162045.html")
    assert not discover.is_article_link(baocaobang, "https://baocaobang.vn/thoi-su")
    generic = generic_profile("https://tintuc.example.vn/")
    assert discover.is_article_link(generic, "https://tintuc.example.vn/tin-moi-post123456.html")
    assert not discover.is_article_link(generic, "https://tintuc.example.vn/tag/ha-quang")
