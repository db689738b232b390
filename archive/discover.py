"""Discovery: where article URLs come from, as pure functions over fetched bytes.

Feeds (RSS, Atom), sitemaps (plain, index, gzip), robots.txt ``Sitemap:`` lines, JSON
"load more" endpoints and the inline scripts that page through them, links of a page,
pagination, and freshness (whether a sitemap entry changed since we fetched it, whether
a discovery URL is worth checking again). No Scrapy, no database: the spider calls these
and routes what they return.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml import etree

from archive.sites import JsonListing, SiteProfile
from archive.urls import DAY_ARCHIVE_PARAM, looks_like_article

# Places feeds and sitemaps usually live when a site does not link them.
COMMON_FEEDS = ("/rss/home.rss", "/rss.xml", "/feed", "/rss")
COMMON_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml")
# A guessed feed or sitemap that answered nothing is tried again after this many days.
RECHECK_DAYS = 7
VN_OFFSET = timezone(timedelta(hours=7))

FEED_LINKS = "//link[@rel='alternate'][contains(@type, 'rss') or contains(@type, 'atom')]/@href"


# ---------------------------------------------------------------- feeds


def feed_links(body: bytes) -> list[str]:
    """Item links of an RSS or Atom feed; [] for anything that is not one."""
    try:
        root = etree.fromstring(
            body.strip(), parser=etree.XMLParser(recover=True, resolve_entities=False)
        )
    except etree.XMLSyntaxError:
        return []
    if root is None or not isinstance(root.tag, str) or not re.search(r"(rss|feed|RDF)$", root.tag):
        return []
    links = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if (
            local == "link"
            and el.getparent() is not None
            and etree.QName(el.getparent()).localname in ("item", "entry")
        ):
            href = el.get("href") or (el.text or "").strip()
            if href and el.get("rel", "alternate") == "alternate":
                links.append(href)
    return links


def page_feeds(root: etree._Element) -> list[str]:
    """Feeds a page announces with ``<link rel=alternate type=…rss|atom…>`` (hrefs as
    written)."""
    return [str(href) for href in root.xpath(FEED_LINKS)]


# ---------------------------------------------------------------- sitemaps


@dataclass
class Sitemap:
    """A parsed sitemap: ``kind`` is ``urlset`` or ``sitemapindex``; each entry is a
    dict of its child elements (``loc``, ``lastmod``...)."""

    kind: str
    entries: list[dict]


class TooLarge(ValueError):
    """Compressed data that outgrows the size bound once decompressed (a gzip bomb)."""


def read_sitemap(body: bytes, max_size: int = 0) -> Sitemap | None:
    """A sitemap (gzip or not) from its bytes, or None when the body is not XML (an
    HTML error page at /sitemap.xml); TooLarge for a gzip bomb."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, max_size)
    try:
        events = etree.iterparse(
            BytesIO(body),
            recover=True,
            remove_comments=True,
            resolve_entities=False,
            remove_blank_text=True,
            remove_pis=True,
            events=("start", "end"),
        )
        _, root = next(events)
        kind = local_name(root)
        entries = []
        for event, elem in events:
            if event == "end" and local_name(elem) in ("url", "sitemap"):
                entry = {local_name(el): (el.text or "").strip() for el in elem if local_name(el)}
                entry.pop("link", None)
                if "loc" in entry:
                    entries.append(entry)
    except Exception:  # lxml raises several kinds on what is not XML at all
        return None
    return Sitemap(kind, entries)


def local_name(el: etree._Element) -> str:
    tag = el.tag
    return tag.partition("}")[2] or tag if isinstance(tag, str) else ""


def gunzip(body: bytes, max_size: int = 0) -> bytes:
    """Gzip data decompressed, at most `max_size` bytes of it (0: no bound); b"" when it
    is not gzip; TooLarge when it outgrows the bound (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_size + 1 if max_size else 0)
    except zlib.error:
        return b""
    if max_size and len(out) > max_size:
        raise TooLarge(f"larger than DOWNLOAD_MAXSIZE ({max_size} bytes) once decompressed")
    return out


def robots_sitemaps(body: bytes, base_url: str) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt, absolute."""
    urls = []
    for line in body.splitlines():
        if line.lstrip()[:8].lower() == b"sitemap:":
            try:
                urls.append(urljoin(base_url, line.partition(b":")[2].strip().decode()))
            except UnicodeDecodeError:
                continue
    return urls


# ---------------------------------------------------------------- JSON listings


def json_listing_links(body: bytes, listing: JsonListing) -> list[str] | None:
    """Article links (as written) of one page of a JSON listing; None when the page is
    not JSON or holds no items, which ends the walk."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None
    items = data.get(listing.links_key) if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        return None
    links = [item.get(listing.link_field) if isinstance(item, dict) else None for item in items]
    return [link for link in links if isinstance(link, str)]


# "Load more" buttons fetch pages of links from a JSON endpoint that an inline script
# builds by concatenation, e.g.
#   fetch('/list-post-by-category?page=' + page + '&limit=12&category_id=' + categoryId)
# with `var categoryId = 57;` earlier in the script.
JS_STRING = r"""(?:'[^'\n]*'|"[^"\n]*")"""
JS_NAME = r"[A-Za-z_$][\w$]*"
JS_CONCAT = re.compile(rf"{JS_STRING}(?:\s*\+\s*(?:{JS_STRING}|{JS_NAME}))+")
JS_ASSIGN = re.compile(rf"""\b({JS_NAME})\s*=\s*(?:'([^'\n]*)'|"([^"\n]*)"|(-?\d+))\s*[;,\n]""")
PAGE_PARAM_END = re.compile(r"[?&](?:page|p|trang|pageIndex|pageindex)=$")
DATA_PAGED_URL = re.compile(r"([?&](?:page|p|trang)=)\d+")


def script_listings(root: etree._Element) -> list[JsonListing]:
    """JSON listing endpoints that a page's inline scripts (or data-* attributes) page
    through, as URL templates with a {page} placeholder."""
    found = []
    for script in root.xpath("//script[not(@src)]/text()"):
        values = {
            m.group(1): next(v for v in m.groups()[1:] if v is not None)
            for m in JS_ASSIGN.finditer(script)
        }
        for match in JS_CONCAT.finditer(script):
            template = paged_template(match.group(0), values)
            if template:
                found.append(JsonListing(url=template))
    # ... or carried in a data-* attribute of the button: data-url="/api/list?page=1".
    for value in root.xpath("//@*[starts-with(name(), 'data-')]"):
        if value.startswith("/") and DATA_PAGED_URL.search(value):
            found.append(JsonListing(url=DATA_PAGED_URL.sub(r"\g<1>{page}", value, count=1)))
    return found


def paged_template(expression: str, values: dict[str, str]) -> str | None:
    """'/list?page=' + page + '&id=' + catId  ->  '/list?page={page}&id=57', when the
    variable after the page parameter is the page and every other name is known."""
    url = ""
    for part in (p.strip() for p in expression.split("+")):
        if part[:1] in "'\"":
            url += part[1:-1]
        elif PAGE_PARAM_END.search(url) and "{page}" not in url:
            url += "{page}"
        elif part in values:
            url += values[part]
        else:
            return None  # a value we cannot know without running the script
    return url if url.startswith("/") and "{page}" in url else None


# ---------------------------------------------------------------- links and pagination


def page_links(root: etree._Element) -> list[str]:
    """The hrefs of a page's links (as written), without script, mail and phone links
    or in-page anchors."""
    return [
        str(href)
        for href in root.xpath("//a/@href")
        if href and not href.startswith(("javascript:", "mailto:", "tel:", "#"))
    ]


PAGE_PARAM = re.compile(r"^(page|p|trang|pg|paged|start|offset)$", re.I)
PAGE_SEGMENT = re.compile(r"/(page|trang|p)[-/]?\d+/?$|-p\d+(\.html?)?$|/\d{1,4}/?$", re.I)


def is_day_archive(url: str) -> bool:
    """Day-by-day archive pages link backwards without end: only walked on --backfill."""
    return bool(DAY_ARCHIVE_PARAM.search(urlsplit(url).query))


def is_next_page(current: str, link: str) -> bool:
    """Whether `link` pages through the same listing as `current`: same path with
    only a page parameter changed, or the path plus a page segment (/page/2, /trang-3)."""
    a, b = urlsplit(current), urlsplit(link)
    if a.netloc != b.netloc:
        return False
    if a.path == b.path:
        qa, qb = dict(parse_qsl(a.query)), dict(parse_qsl(b.query))
        changed = {k for k in qa.keys() | qb.keys() if qa.get(k) != qb.get(k)}
        return bool(changed) and all(PAGE_PARAM.match(k) for k in changed)
    base_a = PAGE_SEGMENT.sub("", a.path).rstrip("/")
    base_b = PAGE_SEGMENT.sub("", b.path).rstrip("/")
    return base_a == base_b and bool(PAGE_SEGMENT.search(b.path))


# ---------------------------------------------------------------- freshness


def is_article_link(profile: SiteProfile, url: str) -> bool:
    """Whether a link leads to an article: the profile's rule when it has one, else a
    guess from the URL's shape."""
    verdict = profile.is_article_url(url)
    return verdict if verdict is not None else looks_like_article(url)


def http_validators(headers: dict[str, str]) -> dict[str, str | None]:
    """A response's validators, for a conditional request next time."""
    lower = {k.lower(): v for k, v in headers.items()}
    return {"etag": lower.get("etag"), "last_modified": lower.get("last-modified")}


def child_sitemap_wanted(lastmod: str | None, newest: str | None, walk_all: bool) -> bool:
    """Whether to read a child sitemap of an index: one not modified since our newest
    article holds nothing new."""
    return walk_all or not lastmod or not newest or is_newer(lastmod, newest)


def is_newer(lastmod: str | None, than: str | None) -> bool:
    """Whether a sitemap lastmod is after a stored time (both ISO 8601; a date alone
    counts as the start of that day in Vietnam)."""
    if not lastmod or not than:
        return False
    try:
        mod = datetime.fromisoformat(lastmod.strip().replace("Z", "+00:00"))
        ref = datetime.fromisoformat(than)
    except ValueError:
        return False
    if mod.tzinfo is None:
        mod = mod.replace(tzinfo=VN_OFFSET)
    if ref.tzinfo is None:
        ref = ref.replace(tzinfo=UTC)
    return mod > ref


def days_ago(days: int, now: datetime | None = None) -> str:
    """ISO 8601 UTC time `days` before `now` (default: the clock)."""
    now = now or datetime.now(UTC)
    return (now - timedelta(days=days)).replace(microsecond=0).isoformat()


def worth_checking(row: dict | None, walk_all: bool, now: datetime | None = None) -> bool:
    """Whether to fetch a discovery URL, given what an earlier run noted about it
    (a ``discovery`` row): what was missing or empty is skipped for a week, an old
    address of an archived article for good, unless the run walks everything."""
    if walk_all or row is None or row["status"] == "ok" and row["article_links"] != 0:
        return True
    if row["status"] == "alias":
        return False
    return row["checked_at"] < days_ago(RECHECK_DAYS, now)


def discovery_points(
    profile: SiteProfile, home: str, memory: dict[str, dict]
) -> list[tuple[str, str]]:
    """Feeds and sitemaps to read, as (url, "feed" | "sitemap"): the profile's, those
    found on earlier runs, and for generic sites the usual places."""
    points = [(urljoin(home, p), "feed") for p in profile.feeds]
    points += [(urljoin(home, p), "sitemap") for p in profile.sitemaps]
    if profile.generic:
        points += [(urljoin(home, p), "feed") for p in COMMON_FEEDS]
        points += [(urljoin(home, p), "sitemap") for p in COMMON_SITEMAPS[:1]]
    # Child sitemaps (``parent``: the index that lists them) are read through their
    # index, which says by their lastmod whether they changed; not fetched here.
    points += [
        (url, row["kind"])
        for url, row in memory.items()
        if row["kind"] in ("feed", "sitemap") and row["status"] == "ok" and not row.get("parent")
    ]
    return list(dict.fromkeys(points))
