"""One spider for every newspaper: the site profile is data, the spider is the same.

It discovers article URLs from feeds, sitemaps, JSON listing endpoints, listing pages
and the home page; fetches only what the archive does not hold yet (unless told to
refresh); and hands every article page, extracted, to the pipeline.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from archive import store
from archive.extract import article_verdict, content_type_encoding, extract
from archive.sites import JsonListing, SiteProfile, resolve_target
from archive.urls import canonicalize, is_crawlable, is_day_archive, looks_like_article

# Places feeds and sitemaps usually live when a site does not link them.
COMMON_FEEDS = ("/rss/home.rss", "/rss.xml", "/feed", "/rss")
COMMON_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml")

PRIORITY_FEED = 30
PRIORITY_ARTICLE = 20
PRIORITY_LISTING = 0


class NewsSpider(scrapy.Spider):
    """Crawl one newspaper (a registered site name or any http(s) URL) into the archive.

    Arguments (``-a name=value``): ``site`` (required), ``db`` (SQLite path, default
    ``archive.db``), ``base_url`` (run a registered site against a mirror),
    ``max_articles``, ``backfill`` (walk listings and sitemaps to the end),
    ``refresh`` (re-fetch articles already archived).
    """

    name = "news"

    def __init__(
        self,
        site: str = "",
        db: str = "archive.db",
        base_url: str | None = None,
        max_articles: int | str = 0,
        backfill: bool | str = False,
        refresh: bool | str = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not site:
            raise ValueError("give a site: -a site=NAME or -a site=https://…")
        self.profile: SiteProfile = resolve_target(site, base_url)
        self.target = site
        self.db_path = db
        self.max_articles = int(max_articles or 0)
        self.backfill = _truthy(backfill)
        self.refresh = _truthy(refresh)
        self.mirror = base_url.rstrip("/") if base_url else None
        self.start_url = (
            site
            if site.startswith(("http://", "https://")) and not base_url
            else self.profile.homepage
        )
        self.seen: set[str] = set()
        # Article URLs archived before this run started: "known ground" where an
        # incremental run stops walking listings.
        self.known: set[str] = set()
        self.articles_scheduled = 0
        self.max_pages = 0
        self.max_depth = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_pages = crawler.settings.getint("VNNEWS_MAX_PAGES", 5000)
        spider.max_depth = crawler.settings.getint("VNNEWS_MAX_DEPTH", 4)
        return spider

    # ------------------------------------------------------------ start points

    async def start(self):
        db = store.open_db(self.db_path)
        self.known = set() if self.refresh else store.known_urls(db, self.profile.name)
        db.close()
        home = self.start_url
        yield self.request(
            urljoin(home, "/robots.txt"),
            self.parse_robots,
            priority=PRIORITY_FEED,
            meta={"dont_obey_robotstxt": True, "kind": "robots"},
        )
        yield self.request(
            home, self.parse_page, priority=PRIORITY_FEED, meta={"depth": 0, "start": True}
        )
        feeds = self.profile.feeds or (() if not self.profile.generic else COMMON_FEEDS)
        for path in feeds:
            yield self.request(
                urljoin(home, path), self.parse_feed, priority=PRIORITY_FEED, meta={"kind": "feed"}
            )
        for path in self.profile.sitemaps or (COMMON_SITEMAPS[:1] if self.profile.generic else ()):
            yield self.request(
                urljoin(home, path),
                self.parse_sitemap,
                priority=PRIORITY_FEED,
                meta={"kind": "sitemap"},
            )
        for path in self.profile.listings:
            yield self.request(
                urljoin(home, path), self.parse_page, meta={"depth": 1, "start": True}
            )
        for listing in self.profile.json_listings:
            yield self.json_page(listing, listing.first_page)

    def json_page(self, listing, page: int) -> scrapy.Request | None:
        url = urljoin(self.start_url, listing.url.format(page=page))
        return self.request(
            url, self.parse_json_listing, meta={"listing": listing, "page": page, "kind": "json"}
        )

    def request(
        self,
        url: str,
        callback,
        priority: int = PRIORITY_LISTING,
        meta: dict | None = None,
        force: bool = False,
    ) -> scrapy.Request | None:
        """A request for a URL of this site, once per run, within the page budget."""
        url = self.to_fetch_url(canonicalize(url))
        if not force and url in self.seen:
            return None
        if len(self.seen) >= self.max_pages:
            return None
        self.seen.add(url)
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=priority,
            meta=meta or {},
            dont_filter=True,
        )

    def to_fetch_url(self, url: str) -> str:
        """On a mirror (--base-url), links to the paper's real domains go to the mirror."""
        if not self.mirror:
            return url
        parts = urlsplit(url)
        mirror = urlsplit(self.mirror)
        if parts.netloc != mirror.netloc and self.profile.owns(url):
            return urlunsplit((mirror.scheme, mirror.netloc, parts.path, parts.query, ""))
        return url

    def owns(self, url: str) -> bool:
        if self.profile.generic:
            return urlsplit(url).netloc == urlsplit(self.start_url).netloc
        return self.profile.owns(url)

    # ------------------------------------------------------------ discovery

    def parse_robots(self, response: Response):
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            yield self.request(
                url, self.parse_sitemap, priority=PRIORITY_FEED, meta={"kind": "sitemap"}
            )

    def parse_feed(self, response: Response):
        """RSS 2.0 and Atom: every item link is a candidate article."""
        for link in feed_links(response.body):
            yield from self.follow_article(urljoin(response.url, link), source="feed")

    def parse_sitemap(self, response: Response):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            except OSError:
                return
        try:
            sitemap = Sitemap(body)
        except Exception:  # not XML: an HTML error page at /sitemap.xml
            return
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield self.request(
                    loc, self.parse_sitemap, priority=PRIORITY_FEED, meta={"kind": "sitemap"}
                )
            else:
                yield from self.follow_article(loc, source="sitemap")

    def parse_json_listing(self, response: Response):
        """JSON listing endpoints (baocaobang's /list-post-by-category): page on while new
        links come back; an empty list or a non-JSON body ends the walk."""
        listing, page = response.meta["listing"], response.meta["page"]
        try:
            data = json.loads(response.text)
        except (ValueError, AttributeError):
            return
        items = data.get(listing.links_key) if isinstance(data, dict) else data
        if not isinstance(items, list) or not items:
            return
        fresh = 0
        for item in items:
            link = item.get(listing.link_field) if isinstance(item, dict) else None
            if isinstance(link, str):
                url = self.to_fetch_url(canonicalize(urljoin(self.start_url, link)))
                fresh += url not in self.known
                yield from self.follow_article(url, source="json")
        if fresh or self.backfill:
            yield self.json_page(listing, page + 1)

    def follow_article(self, url: str, source: str):
        url = self.to_fetch_url(canonicalize(url))
        if not self.owns(url) or not is_crawlable(url):
            return
        if url in self.known or self.budget_spent():
            return
        if self.profile.is_article_url(url) is False:
            return
        req = self.request(
            url, self.parse_page, priority=PRIORITY_ARTICLE, meta={"depth": 1, "via": source}
        )
        if req is not None:
            self.articles_scheduled += 1
            yield req

    def budget_spent(self) -> bool:
        return bool(self.max_articles) and self.articles_scheduled >= self.max_articles

    # ------------------------------------------------------------ pages

    def parse_page(self, response: Response):
        """Any HTML page: archive it if it is an article, then follow its links."""
        if not isinstance(response, TextResponse) or b"html" not in response.headers.get(
            "Content-Type", b"html"
        ):
            return
        final = canonicalize(response.url)
        self.seen.add(final)
        depth = response.meta.get("depth", 0)
        encoding = content_type_encoding(
            response.headers.get("Content-Type", b"").decode("latin-1")
        )
        article = extract(response.body, final, self.profile, encoding=encoding)
        canonical = rel_canonical(response)
        if canonical and self.owns(canonical) and canonical != final:
            article.url = self.to_fetch_url(canonicalize(canonical))
        ok, reason = article_verdict(article, self.profile)
        if ok:
            yield {
                "kind": "article",
                "article": article,
                "raw": response.body,
                "status": response.status,
                "content_type": response.headers.get("Content-Type", b"").decode("latin-1"),
                "encoding": encoding,
                "fetched_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            }
        else:
            yield {"kind": "skipped", "url": final, "reason": reason}
        yield from self.follow_links(response, depth, is_article=ok)

    def follow_links(self, response: TextResponse, depth: int, is_article: bool):
        links = [
            canonicalize(urljoin(response.url, href))
            for href in response.xpath("//a/@href").getall()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "#"))
        ]
        links = [self.to_fetch_url(u) for u in links if is_crawlable(u)]
        links = [u for u in dict.fromkeys(links) if self.owns(u)]
        articles = [u for u in links if self.is_article_link(u)]
        fresh = [u for u in articles if u not in self.known]
        for url in fresh:
            yield from self.follow_article(url, source="link")
        for listing in script_listings(response):
            yield self.json_page(listing, listing.first_page)
        # Walk on through listing pages only while they still lead somewhere new: an
        # incremental run stops at known ground, a backfill walks to the end.
        walk_on = response.meta.get("start") or self.backfill or bool(fresh)
        if is_article or depth >= self.max_depth or not walk_on or self.budget_spent():
            return
        for url in links:
            if url in articles or (is_day_archive(url) and not self.backfill):
                continue
            req = self.request(
                url, self.parse_page, priority=PRIORITY_LISTING - depth, meta={"depth": depth + 1}
            )
            if req is not None:
                yield req

    def is_article_link(self, url: str) -> bool:
        verdict = self.profile.is_article_url(url)
        return verdict if verdict is not None else looks_like_article(url)

    def on_error(self, failure):
        """Network errors, HTTP errors and robots.txt refusals, for the pipeline to record."""
        request = failure.request
        if request.meta.get("kind") in (
            "robots",
            "feed",
            "sitemap",
            "json",
        ) and not request.meta.get("via"):
            # A missing feed or sitemap at a guessed path is normal, not a failure.
            yield {"kind": "probe_failed", "url": request.url, "reason": failure_kind(failure)}
            return
        yield {
            "kind": "failure",
            "url": request.url,
            "reason": failure_kind(failure),
            "http_status": getattr(getattr(failure.value, "response", None), "status", None),
            "message": str(failure.value)[:500],
            "attempts": request.meta.get("retry_times", 0) + 1,
        }


def failure_kind(failure) -> str:
    name = type(failure.value).__name__
    text = str(failure.value)
    if "robots.txt" in text:
        return "robots"
    if name == "HttpError":
        return "http"
    if "Timeout" in name or "timeout" in text.lower():
        return "timeout"
    if "DNS" in name or "DNSLookup" in name:
        return "dns"
    return {
        "ConnectionRefusedError": "refused",
        "ResponseNeverReceived": "reset",
        "ConnectionLost": "reset",
        "IgnoreRequest": "ignored",
    }.get(name, name)


# "Load more" buttons fetch pages of links from a JSON endpoint built in an inline
# script, e.g. fetch('/list-post-by-category?page=' + page + '&limit=12&category_id=57').
SCRIPT_PAGED_URL = re.compile(
    r"""["'](?P<head>/[^"'\s]*[?&](?:page|p|trang)=)["']\s*\+\s*[\w.]+\s*(?:\+\s*["'](?P<tail>[^"'\s]*)["'])?"""
)


DATA_PAGED_URL = re.compile(r"([?&](?:page|p|trang)=)\d+")


def script_listings(response: TextResponse) -> list[JsonListing]:
    """JSON listing endpoints that a page's inline scripts page through."""
    found = []
    for script in response.xpath("//script[not(@src)]/text()").getall():
        for match in SCRIPT_PAGED_URL.finditer(script):
            template = match.group("head") + "{page}" + (match.group("tail") or "")
            found.append(JsonListing(url=template))
    # ... or carried in a data-* attribute of the button: data-url="/api/list?page=1".
    for value in response.xpath("//@*[starts-with(name(), 'data-')]").getall():
        if value.startswith("/") and DATA_PAGED_URL.search(value):
            found.append(JsonListing(url=DATA_PAGED_URL.sub(r"\g<1>{page}", value, count=1)))
    return found


def rel_canonical(response: TextResponse) -> str | None:
    href = response.xpath("//link[@rel='canonical']/@href").get()
    return urljoin(response.url, href.strip()) if href and href.strip() else None


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


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")
