"""Build a small news site, in the snapshot format `vnnews.localsite` serves, from
article pages: home page, paginated listing, RSS feed, sitemap, JSON listing, plus
the things a crawler must not store (a video page, a tag page, a missing page) and a
redirect from an old URL. Used by the end-to-end tests and the benchmarks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROME_HEAD = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>{title}</title></head><body>
<header><div class="today">Thứ Tư, 25/11/2026</div><a href="/">Báo Thử Nghiệm</a>
<nav><a href="/">Trang chủ</a> <a href="/tin-tuc/">Tin tức</a> <a href="/tag/nong-thon-moi/">Nông thôn mới</a>
<a href="/video/le-hoi-mua-xuan/">Video</a></nav></header><main>"""
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
CHROME_FOOT = (
    "</main><footer>Giấy phép số 01/GP-BTTTT. Địa chỉ: 01 Hoàng Đình Giong.</footer></body></html>"
)


@dataclass
class SiteSpec:
    """What the generated site offers for discovery."""

    feed: bool = True
    sitemap: bool = True
    listing: bool = True
    json_listing: bool = False
    per_page: int = 4
    robots_disallow: list[str] = field(default_factory=list)


def article_path(url: str) -> str:
    return unquote(urlsplit(url).path)


def file_for(path: str) -> str:
    """The snapshot file that serves a URL path (folders get an index.html)."""
    path = path.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def listing_page(title: str, items: list[tuple[str, str]], next_href: str | None) -> str:
    rows = "".join(
        f'<div class="story"><h3><a href="{escape(p)}">{escape(t)}</a></h3>'
        f'<p class="summary">{escape(t)} — tóm tắt.</p></div>'
        for p, t in items
    )
    nav = f'<div class="paging"><a href="{next_href}">Trang sau</a></div>' if next_href else ""
    return CHROME_HEAD.format(title=title) + f"<h1>{title}</h1>{rows}{nav}" + CHROME_FOOT


def build_site(
    root: Path, articles: list[tuple[str, str, str]], spec: SiteSpec | None = None
) -> Path:
    """Write a site to `root`. `articles` are (url path, title, html) triples."""
    spec = spec or SiteSpec()
    root.mkdir(parents=True, exist_ok=True)
    routes: dict[str, dict] = {}
    for path, _, html in articles:
        target = root / file_for(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    listed = [(p, t) for p, t, _ in articles]

    home_items = listed[:3]
    home = CHROME_HEAD.format(title="Báo Thử Nghiệm - Trang chủ") + "<h2>Tin mới</h2>"
    home += "".join(f'<h3><a href="{escape(p)}">{escape(t)}</a></h3>' for p, t in home_items)
    home += '<a href="/bai-viet-da-xoa-khong-con-99999.html">Bài đã gỡ</a>'
    home += '<a href="/tin-cu/duong-dan-cu-12345.html">Đường dẫn cũ</a>'
    if spec.feed:
        home = home.replace(
            "</head>",
            '<link rel="alternate" type="application/rss+xml" href="/rss/home.rss"></head>',
        )
    (root / "index.html").write_text(home + CHROME_FOOT, encoding="utf-8")

    if spec.listing:
        pages = [listed[i : i + spec.per_page] for i in range(0, len(listed), spec.per_page)]
        for n, items in enumerate(pages, start=1):
            next_href = f"/tin-tuc/?page={n + 1}" if n < len(pages) else None
            html = listing_page(f"Tin tức - trang {n}", items, next_href)
            name = "tin-tuc/index.html" if n == 1 else f"tin-tuc/page-{n}.html"
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(html, encoding="utf-8")
            if n > 1:
                routes[f"/tin-tuc/?page={n}"] = {"file": name}
    if spec.json_listing:
        chunks = [listed[i : i + spec.per_page] for i in range(0, len(listed), spec.per_page)]
        for n, items in enumerate([*chunks, []], start=1):
            name = f"api/list-{n}.json"
            (root / "api").mkdir(exist_ok=True)
            (root / name).write_text(
                json.dumps({"data": [{"link": p, "title": t} for p, t in items]})
            )
            routes[f"/list-post-by-category?page={n}&limit=12&category_id=1"] = {"file": name}
        # Like baocaobang.vn: a "load more" button whose inline script pages a JSON endpoint.
        home_json = (
            '<button id="more">Xem thêm</button><script>var page = 1; var categoryId = 1;'
            " function more() { fetch('/list-post-by-category?page=' + page + '&limit=12&category_id='"
            " + categoryId); page++; }</script>"
        )
        (root / "index.html").write_text(
            home.replace("<h2>", home_json + "<h2>") + CHROME_FOOT, encoding="utf-8"
        )
    if spec.feed:
        items = "".join(
            f"<item><title>{escape(t)}</title><link>@@ORIGIN@@{escape(p)}?utm_source=rss&amp;utm_medium=feed</link></item>"
            for p, t in listed[: max(1, len(listed) // 2)]
        )
        (root / "rss").mkdir(exist_ok=True)
        (root / "rss/home.rss").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Báo Thử Nghiệm</title>{items}</channel></rss>',
            encoding="utf-8",
        )
    if spec.sitemap:
        # A sitemap index (with lastmod, as CMSs write them) over two child sitemaps.
        half = len(listed) // 2
        for name, part in (
            ("sitemap-news.xml", listed[:half]),
            ("sitemap-posts.xml", listed[half:]),
        ):
            urls = "".join(f"<url><loc>@@ORIGIN@@{escape(p)}</loc></url>" for p, _ in part)
            (root / name).write_text(
                f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{SITEMAP_NS}">{urls}</urlset>'
            )
        children = "".join(
            f"<sitemap><loc>@@ORIGIN@@/{name}</loc><lastmod>2026-11-20T08:00:00+07:00</lastmod></sitemap>"
            for name in ("sitemap-news.xml", "sitemap-posts.xml")
        )
        (root / "sitemap.xml").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{SITEMAP_NS}">{children}</sitemapindex>'
        )
    robots = "User-agent: *\n" + "".join(f"Disallow: {p}\n" for p in spec.robots_disallow)
    if spec.sitemap:
        robots += "Sitemap: @@ORIGIN@@/sitemap.xml\n"
    (root / "robots.txt").write_text(robots, encoding="utf-8")

    # Pages that are not articles and must never be stored.
    (root / "video/le-hoi-mua-xuan").mkdir(parents=True, exist_ok=True)
    (root / "video/le-hoi-mua-xuan/index.html").write_text(
        CHROME_HEAD.format(title="Video: Lễ hội mùa xuân")
        + '<h1>Video: Lễ hội mùa xuân ở vùng cao</h1><div class="date">10:00, 01/02/2024</div>'
        + '<video src="/v.mp4"></video><p>Video ghi lại lễ hội.</p>'
        + CHROME_FOOT,
        encoding="utf-8",
    )
    (root / "tag/nong-thon-moi").mkdir(parents=True, exist_ok=True)
    (root / "tag/nong-thon-moi/index.html").write_text(
        listing_page("Nông thôn mới", listed[:2], None), encoding="utf-8"
    )
    routes["/tin-cu/duong-dan-cu-12345.html"] = {"redirect": listed[0][0]}
    (root / "404.html").write_text(
        CHROME_HEAD.format(title="Không tìm thấy trang")
        + "<h1>Không tìm thấy trang</h1>"
        + CHROME_FOOT,
        encoding="utf-8",
    )
    (root / "_routes.json").write_text(
        json.dumps(routes, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return root


def clone_articles(
    pages: list[tuple[str, str, str]], count: int, start: int = 0
) -> list[tuple[str, str, str]]:
    """`count` distinct articles made from template pages: each copy gets its own
    headline and URL (the id at the end of the path), so a site can be as big as a
    test needs. Newest (highest number) first, as listings show them."""
    out = []
    for n in reversed(range(start, start + count)):
        path, title, html = pages[n % len(pages)]
        stem, dot, ext = path.rstrip("/").rpartition(".")
        new_path = f"{stem}-{n:04d}.{ext}" if dot else f"{path.rstrip('/')}-{n:04d}/"
        new_title = f"{title} (kỳ {n})"
        out.append((new_path, new_title, html.replace(title, new_title)))
    return out


PAGES = Path(__file__).parent / "fixtures" / "pages"


def golden(family: str) -> list[dict]:
    """The golden records of a family (tests/fixtures/pages/FAMILY/*.json), each with
    its page's HTML under "html"."""
    records = []
    for case in sorted((PAGES / family).glob("*.json")):
        record = json.loads(case.read_text(encoding="utf-8"))
        record["html"] = case.with_suffix(".html").read_text(encoding="utf-8", errors="replace")
        records.append(record)
    return records
