"""LocalSite serves the bundled snapshot faithfully, and the snapshot is self-consistent."""

from __future__ import annotations

import html
import http.client
import json
import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vnnews.localsite import SNAPSHOT_DIR, LocalSite, serve_snapshot

SITES = ["baocaobang", "baotuyenquang"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_plain = urllib.request.build_opener(_NoRedirect)


def fetch(site: LocalSite, target: str) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects; 4xx/5xx are returned, not raised.

    Raw non-ASCII letters in ``target`` are percent-encoded first, as a browser does.
    """
    target = urllib.parse.quote(target, safe="/%?=&;:+,@!$'()*~")
    try:
        with _plain.open(site.url + target, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def page_text(body: bytes) -> str:
    """Entity-decoded NFC text, as an extractor should see it."""
    return unicodedata.normalize("NFC", html.unescape(body.decode("utf-8")))


@pytest.fixture(scope="module")
def cb():
    with LocalSite(SNAPSHOT_DIR / "baocaobang") as site:
        yield site


@pytest.fixture(scope="module")
def tq():
    with LocalSite(SNAPSHOT_DIR / "baotuyenquang") as site:
        yield site


def test_url_shape_and_lifecycle(tmp_path: Path):
    (tmp_path / "index.html").write_text("<p>xin chào @@ORIGIN@@</p>", encoding="utf-8")
    site = LocalSite(tmp_path)
    with pytest.raises(RuntimeError):
        site.url  # noqa: B018 (not started)
    site.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.url)
        status, headers, body = fetch(site, "/")
        assert status == 200
        assert body.decode() == f"<p>xin chào {site.url}</p>"
        assert headers["Content-Length"] == str(len(body))
    finally:
        site.stop()
    site.stop()  # idempotent
    assert not site.running


def test_serve_snapshot_convenience(tmp_path: Path):
    (tmp_path / "index.html").write_text("ok", encoding="utf-8")
    site = serve_snapshot(tmp_path)
    try:
        assert fetch(site, "/")[0] == 200
    finally:
        site.stop()


def test_home_page(cb):
    status, headers, body = fetch(cb, "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = body.decode("utf-8")
    assert "Báo Cao Bằng" in text
    assert "@@ORIGIN@@" not in text
    assert f'href="{cb.url}/"' in text  # canonical made absolute on this server


def test_article_page(cb):
    first = cb.expected()[0]
    status, headers, body = fetch(cb, first["path"])
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    text = page_text(body)
    assert first["title"] in text
    assert 'id="content-detail"' in text
    assert '<div class="pseudonym">' in text


def test_query_string_ignored_for_files(cb):
    path = cb.expected()[0]["path"]
    plain = fetch(cb, path)[2]
    assert fetch(cb, path + "?utm_source=rss&utm_medium=feed")[2] == plain


def test_rss_has_origin_substituted(cb):
    status, headers, body = fetch(cb, "/rss/home.rss")
    assert status == 200
    assert headers["Content-Type"] == "application/xml"
    text = body.decode("utf-8")
    assert "@@ORIGIN@@" not in text
    links = [item.findtext("link") for item in ET.fromstring(body).iter("item")]
    assert links and all(link.startswith(cb.url + "/") for link in links)
    assert any("utm_source=rss" in link for link in links)
    assert any(link.endswith("#rssom") for link in links)


def test_json_listing_pages(cb):
    def page(n, category=57):
        target = f"/list-post-by-category?page={n}&limit=12&category_id={category}"
        status, headers, body = fetch(cb, target)
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        return json.loads(body)["data"]

    first, second, third = page(1), page(2), page(3)
    assert len(first) == 12
    assert 1 <= len(second) < 12
    assert third == []
    assert all(item["link"].startswith("/") and item["title"] for item in first + second)
    # parameters in another order still reach the same answer
    reordered = fetch(cb, "/list-post-by-category?category_id=57&limit=12&page=2")
    assert json.loads(reordered[2])["data"] == second
    # any page or category the snapshot does not hold ends the listing
    assert page(9) == []
    assert page(1, category=64) == []


def test_route_redirect(cb):
    routes = json.loads((cb.root / "_routes.json").read_text(encoding="utf-8"))
    old, route = next((k, v) for k, v in routes.items() if v.get("redirect"))
    status, headers, _ = fetch(cb, old)
    assert status == 301
    assert headers["Location"] == cb.url + route["redirect"]
    # and urllib's default opener lands on the article
    with urllib.request.urlopen(cb.url + old, timeout=10) as response:
        assert response.status == 200
        assert response.url == cb.url + route["redirect"]


def test_missing_page_is_404_with_snapshot_page(cb):
    status, headers, body = fetch(cb, "/cao-bang-tong-ket-mua-du-lich-he-2026-3196001.html")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert "không tồn tại" in body.decode("utf-8")


def test_percent_encoded_vietnamese_path(cb):
    status, _, body = fetch(cb, "/tag/h%C3%A0-qu%E1%BA%A3ng/")
    assert status == 200
    assert "Từ khóa: Hà Quảng" in body.decode("utf-8")
    # decomposed (NFD) letters and a missing trailing slash reach the same folder
    nfd = urllib.parse.quote(unicodedata.normalize("NFD", "/tag/hà-quảng"))
    assert fetch(cb, nfd)[0] == 200


def test_snapshot_metadata_and_escapes_are_not_served(cb):
    assert fetch(cb, "/_expected.json")[0] == 404
    assert fetch(cb, "/_routes.json")[0] == 404
    assert fetch(cb, "/_api/empty.json")[0] == 404
    conn = http.client.HTTPConnection("127.0.0.1", cb.port, timeout=10)
    try:
        conn.request("GET", "/../../localsite.py")
        response = conn.getresponse()
        response.read()
        assert response.status == 404
    finally:
        conn.close()


def test_head_request(cb):
    conn = http.client.HTTPConnection("127.0.0.1", cb.port, timeout=10)
    try:
        conn.request("HEAD", "/robots.txt")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b""
        assert int(response.getheader("Content-Length")) > 0
    finally:
        conn.close()


def test_requests_are_recorded(tmp_path: Path):
    (tmp_path / "index.html").write_text("ok", encoding="utf-8")
    with LocalSite(tmp_path) as site:
        fetch(site, "/")
        fetch(site, "/a?b=1")
        fetch(site, "/t%C3%A0")
        assert site.requests == ["/", "/a?b=1", "/t%C3%A0"]


def test_robots(cb, tq):
    cb_robots = fetch(cb, "/robots.txt")[2].decode()
    assert "Disallow: /admin/" in cb_robots
    assert "Sitemap:" not in cb_robots
    tq_robots = fetch(tq, "/robots.txt")[2].decode()
    assert "Disallow: /tim-kiem/" in tq_robots
    assert f"Sitemap: {tq.url}/sitemap.xml" in tq_robots


def test_html_pagination_route(tq):
    first = fetch(tq, "/thoi-su/")[2].decode()
    assert 'href="/thoi-su/?page=2"' in first
    status, _, second = fetch(tq, "/thoi-su/?page=2")
    assert status == 200
    assert second != fetch(tq, "/thoi-su/")[2]
    assert fetch(tq, "/thoi-su/?page=1")[2].decode() == first


@pytest.mark.parametrize("name", SITES)
def test_every_expected_article_answers(name):
    with LocalSite(SNAPSHOT_DIR / name) as site:
        expected = site.expected()
        assert expected
        for article in expected:
            assert set(article) == {"path", "title", "published_at", "author", "category"}
            assert re.fullmatch(
                r"20(2[3-6])-\d\d-\d\dT\d\d:\d\d:00\+07:00", article["published_at"]
            )
            status, _, body = fetch(site, article["path"])
            assert status == 200, article["path"]
            assert article["title"] in page_text(body), article["path"]
        assert len({a["title"] for a in expected}) == len(expected)
        assert len({a["path"] for a in expected}) == len(expected)


def _links(body: bytes) -> set[str]:
    return set(re.findall(r'href="([^"#?]+)', html.unescape(body.decode("utf-8"))))


def _path(url: str, origin: str) -> str:
    return url.removeprefix(origin).split("#")[0].split("?")[0]


def test_baocaobang_discovery_reaches_every_article(cb):
    """RSS plus the JSON listing of each category page find all articles."""
    found = set()
    rss = ET.fromstring(fetch(cb, "/rss/home.rss")[2])
    found |= {_path(item.findtext("link"), cb.url) for item in rss.iter("item")}
    for category in ("/thoi-su", "/kinh-te"):
        page = fetch(cb, category)[2].decode()
        (category_id,) = set(re.findall(r'data-category-id="(\d+)"', page))
        n = 1
        while data := json.loads(
            fetch(cb, f"/list-post-by-category?page={n}&limit=12&category_id={category_id}")[2]
        )["data"]:
            found |= {item["link"] for item in data}
            n += 1
    expected = {a["path"] for a in cb.expected()}
    assert expected <= found
    assert not {p for p in found - expected if not p.startswith("/video/")}


def test_baotuyenquang_discovery_reaches_every_article(tq):
    """The sitemap index (from robots.txt) plus paginated listings find all articles."""
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.fromstring(fetch(tq, "/sitemap.xml")[2])
    children = [loc.text for loc in index.findall("sm:sitemap/sm:loc", ns)]
    assert len(children) == 2
    from_sitemaps = set()
    news_dates = []
    for child in children:
        tree = ET.fromstring(fetch(tq, _path(child, tq.url))[2])
        from_sitemaps |= {_path(loc.text, tq.url) for loc in tree.findall("sm:url/sm:loc", ns)}
        news_dates += [
            el.text
            for el in tree.iter("{http://www.google.com/schemas/sitemap-news/0.9}publication_date")
        ]
    assert news_dates
    expected = {a["path"] for a in tq.expected()}
    article_shape = re.compile(r"^/[a-z-]+/\d{6}/[a-z0-9-]+-[0-9a-f]+/$")
    assert all(article_shape.match(p) for p in expected)
    assert expected <= from_sitemaps

    from_listings = set()
    for category in ("/thoi-su/", "/kinh-te/", "/van-hoa/"):
        body = fetch(tq, category)[2]
        pages = set(re.findall(r'href="(/[a-z-]+/\?page=\d+)"', body.decode()))
        from_listings |= _links(body)
        for target in pages:
            from_listings |= _links(fetch(tq, target)[2])
    assert expected <= from_listings


@pytest.mark.parametrize("name", SITES)
def test_non_articles_and_traps_are_present(name):
    with LocalSite(SNAPSHOT_DIR / name) as site:
        home = fetch(site, "/")[2]
        links = _links(home)
        expected = {a["path"] for a in site.expected()}
        video = next(link for link in links if link.startswith("/video/"))
        photo = next(link for link in links if link.startswith("/photo/"))
        for target in (video, photo):
            status, _, body = fetch(site, target)
            assert status == 200 and target not in expected
            assert 'content="article"' not in body.decode()
        statuses = {link: fetch(site, link)[0] for link in links if link.startswith("/")}
        assert 404 in statuses.values()
        tags = [link for link in links if link.startswith("/tag/")]
        assert tags and all(statuses[t] == 200 for t in tags)


def test_snapshot_is_small():
    size = sum(p.stat().st_size for p in SNAPSHOT_DIR.rglob("*") if p.is_file())
    assert size < 2_000_000


def _crawl_html_links(site: LocalSite) -> set[str]:
    """Paths reachable from / by following <a href> in HTML pages (robots.txt aside)."""
    seen, queue = set(), ["/"]
    while queue:
        path = queue.pop()
        if path in seen or path.startswith(("/admin/", "/tim-kiem")):
            continue
        seen.add(path)
        status, headers, body = fetch(site, path)
        if status == 200 and headers["Content-Type"].startswith("text/html"):
            queue += [link for link in _links(body) if link.startswith("/")]
    return seen


def test_json_listing_is_needed_for_the_oldest_article(cb):
    """Like the real site, the 13th Thời sự article appears only on JSON page 2."""
    page_two = json.loads(fetch(cb, "/list-post-by-category?page=2&limit=12&category_id=57")[2])
    only_in_json = {item["link"] for item in page_two["data"]}
    reachable = _crawl_html_links(cb)
    assert only_in_json and not only_in_json & reachable
    expected = {a["path"] for a in cb.expected()}
    assert expected - only_in_json <= reachable
