"""One spider for every newspaper: the site profile is data, the spider is the same.

It discovers article URLs from feeds, sitemaps, JSON listing endpoints, listing pages
and the home page; fetches only what the archive does not hold yet (unless told to
refresh); and hands every article page, extracted, to the pipeline.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from archive import store
from archive.extract import article_verdict, extract
from archive.html import content_type_encoding
from archive.sites import JsonListing, SiteProfile, resolve_target
from archive.urls import (
    canonicalize,
    host_of,
    is_crawlable,
    is_day_archive,
    is_next_page,
    looks_like_article,
)
from crawler.failures import failure_kind

# Places feeds and sitemaps usually live when a site does not link them.
COMMON_FEEDS = ("/rss/home.rss", "/rss.xml", "/feed", "/rss")
COMMON_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml")

PRIORITY_FEED = 30
VN_OFFSET = timezone(timedelta(hours=7))
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
        # Article URLs archived before this run started, with when they were fetched:
        # "known ground", where an incremental run stops walking listings.
        self.known: dict[str, str] = {}
        # What earlier runs learnt about feeds, sitemaps, probes and listing pages.
        self.memory: dict[str, dict] = {}
        self.walk_all = self.backfill
        self.articles_scheduled = 0
        self.max_pages = 0
        self.max_depth = 0
        self.db = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_pages = crawler.settings.getint("VNNEWS_MAX_PAGES", 5000)
        spider.max_depth = crawler.settings.getint("VNNEWS_MAX_DEPTH", 4)
        spider.obey_robots = crawler.settings.getbool("ROBOTSTXT_OBEY")
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.closed_db, signal=signals.spider_closed)
        return spider

    # ------------------------------------------------------------ start points

    async def start(self):
        self.db = store.open_db(self.db_path)
        site = self.profile.name
        self.known = {} if self.refresh else store.known_fetched(self.db, site)
        self.memory = store.recall(self.db, site)
        previous = store.previous_crawl(self.db, site, getattr(self, "crawl_id", None))
        if previous and previous["status"] in ("running", "interrupted"):
            # The last run was killed: the listings it never reached are not known
            # ground yet, so walk them all this time.
            self.walk_all = True
        for request in self.start_points():
            if request is not None:  # Scrapy would hand a None from start() to the pipelines
                yield request

    def start_points(self) -> list[scrapy.Request | None]:
        home = self.start_url
        requests = []
        if not self.obey_robots:
            # With robots.txt obeyed, Scrapy fetches it and robots_parsed gives us its
            # Sitemap: lines; without, we read it ourselves for them.
            requests.append(
                self.request(
                    urljoin(home, "/robots.txt"),
                    self.parse_robots,
                    PRIORITY_FEED,
                    meta={"kind": "robots"},
                )
            )
        requests.append(
            self.request(home, self.parse_page, PRIORITY_FEED, meta={"hops": 0, "start": True})
        )
        for url, kind in self.discovery_points(home):
            callback = self.parse_feed if kind == "feed" else self.parse_sitemap
            requests.append(self.request(url, callback, PRIORITY_FEED, meta={"kind": kind}))
        for path in self.profile.listings:
            requests.append(
                self.request(urljoin(home, path), self.parse_page, meta={"hops": 1, "start": True})
            )
        requests += [
            self.json_page(listing, listing.first_page) for listing in self.profile.json_listings
        ]
        return requests

    def discovery_points(self, home: str) -> list[tuple[str, str]]:
        """Feeds and sitemaps to read: the profile's, those found on earlier runs, and for
        generic sites the usual places, minus guesses that answered nothing lately."""
        points = [(urljoin(home, p), "feed") for p in self.profile.feeds]
        points += [(urljoin(home, p), "sitemap") for p in self.profile.sitemaps]
        if self.profile.generic:
            points += [(urljoin(home, p), "feed") for p in COMMON_FEEDS]
            points += [(urljoin(home, p), "sitemap") for p in COMMON_SITEMAPS[:1]]
        points += [
            (url, row["kind"])
            for url, row in self.memory.items()
            if row["kind"] in ("feed", "sitemap") and row["status"] == "ok"
        ]
        return [(url, kind) for url, kind in dict.fromkeys(points) if self.worth_checking(url)]

    def worth_checking(self, url: str) -> bool:
        """Skip what earlier runs found missing or empty, for a week, unless walking all."""
        row = self.memory.get(self.to_fetch_url(canonicalize(url)))
        if self.walk_all or row is None or row["status"] == "ok" and row["article_links"] != 0:
            return True
        if row["status"] == "alias":
            return False
        return row["checked_at"] < _days_ago(RECHECK_DAYS)

    def remember(self, url: str, kind: str, status: str, article_links: int | None = None) -> None:
        if self.db is not None:
            store.remember(
                self.db, self.profile.name, canonicalize(url), kind, status, article_links
            )

    def closed_db(self, spider):
        if spider is self and self.db is not None:
            self.db.close()
            self.db = None

    def json_page(self, listing, page: int) -> scrapy.Request | None:
        url = urljoin(self.start_url, listing.url.format(page=page))
        return self.request(
            url, self.parse_json_listing, meta={"listing": listing, "page": page, "kind": "json"}
        )

    def request(
        self, url: str, callback, priority: int = PRIORITY_LISTING, meta: dict | None = None
    ) -> scrapy.Request | None:
        """A request for a URL of this site, once per run, within the page budget."""
        url = self.to_fetch_url(canonicalize(url))
        if url in self.seen:
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
        if self.profile.generic:  # confined to the start URL's host (www. or not) and port
            start = urlsplit(self.start_url)
            return host_of(url) == host_of(self.start_url) and urlsplit(url).port == start.port
        return self.profile.owns(url)

    # ------------------------------------------------------------ discovery

    def robots_parsed(self, robotparser, request):
        """Scrapy read robots.txt for us: follow its Sitemap: lines."""
        rules = getattr(robotparser, "rp", None)
        for url in getattr(rules, "sitemaps", None) or []:
            req = self.request(
                urljoin(self.start_url, url),
                self.parse_sitemap,
                PRIORITY_FEED,
                meta={"kind": "sitemap"},
            )
            if req is not None:
                self.crawler.engine.crawl(req)

    def parse_robots(self, response: Response):
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            yield self.request(url, self.parse_sitemap, PRIORITY_FEED, meta={"kind": "sitemap"})

    def parse_feed(self, response: Response):
        """RSS 2.0 and Atom: every item link is a candidate article."""
        links = feed_links(response.body)
        self.remember(response.url, "feed", "ok" if links else "empty", len(links))
        for link in links:
            yield from self.follow_article(urljoin(response.url, link), source="feed")

    def parse_sitemap(self, response: Response):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            except OSError:
                body = b""
        try:
            sitemap = Sitemap(body)
            entries = list(sitemap)
        except Exception:  # not XML: an HTML error page at /sitemap.xml
            self.remember(response.url, "sitemap", "empty", 0)
            return
        self.remember(response.url, "sitemap", "ok" if entries else "empty", len(entries))
        for entry in entries:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                # A child sitemap not modified since our newest article holds nothing new.
                lastmod, newest = entry.get("lastmod"), self.last_success()
                if self.walk_all or not lastmod or not newest or is_newer(lastmod, newest):
                    yield self.request(
                        loc, self.parse_sitemap, PRIORITY_FEED, meta={"kind": "sitemap"}
                    )
            else:
                yield from self.follow_article(loc, source="sitemap", lastmod=entry.get("lastmod"))

    def last_success(self) -> str | None:
        """When the newest archived article was fetched: sitemaps not modified since
        hold nothing new."""
        return max(self.known.values(), default=None)

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
        if fresh or self.walk_all:
            yield self.json_page(listing, page + 1)

    def follow_article(self, url: str, source: str, lastmod: str | None = None):
        url = self.to_fetch_url(canonicalize(url))
        if not self.owns(url) or not is_crawlable(url) or self.budget_spent():
            return
        if url in self.known and not is_newer(lastmod, self.known[url]):
            return  # archived, and no sitemap says it changed since
        if url in self.memory and not self.worth_checking(url):
            return  # an old address of an archived article, or gone (404) lately
        if self.profile.is_article_url(url) is False:
            return
        req = self.request(url, self.parse_page, PRIORITY_ARTICLE, meta={"hops": 1, "via": source})
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
        depth = response.meta.get("hops", 0)
        encoding = content_type_encoding(
            response.headers.get("Content-Type", b"").decode("latin-1")
        )
        article = extract(response.body, final, self.profile, encoding=encoding)
        canonical = rel_canonical(response)
        if canonical and self.owns(canonical) and canonical != final:
            article.url = self.to_fetch_url(canonicalize(canonical))
        article.url = self.profile.fold_alias(article.url)
        ok, reason = article_verdict(article, self.profile)
        for old_url in response.meta.get("redirect_urls", []):
            # The next run need not follow this old address again.
            self.remember(old_url, "redirect", "alias" if ok else "ok", 0)
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
        for href in response.xpath(FEED_LINKS).getall():
            yield self.request(
                urljoin(response.url, href),
                self.parse_feed,
                PRIORITY_FEED,
                meta={"kind": "feed", "via": "page"},
            )
        if not is_article:
            self.remember(response.url, "page", "ok", len(articles))
        # Walk on through listing pages only while they still lead somewhere new: an
        # incremental run stops at known ground, a backfill walks to the end.
        walk_on = response.meta.get("start") or self.walk_all or bool(fresh)
        self.logger.debug(
            "%s: depth %d, %d article links (%d new)",
            response.url,
            depth,
            len(articles),
            len(fresh),
        )
        if is_article or depth >= self.max_depth or not walk_on or self.budget_spent():
            return
        for url in links:
            if url in articles or (is_day_archive(url) and not self.backfill):
                continue
            if not self.worth_checking(url):
                continue  # a page that led to no article last time (video, contact...)
            # Paging through one listing (?page=2, /trang-3) is not a step away from
            # the start: long listings are walked to their end, other links only so far.
            next_depth = depth if is_next_page(response.url, url) else depth + 1
            req = self.request(
                url,
                self.parse_page,
                priority=PRIORITY_LISTING - next_depth,
                meta={"hops": next_depth},
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
            self.remember(request.url, request.meta["kind"], "missing", 0)
            yield {"kind": "probe_failed", "url": request.url, "reason": failure_kind(failure)}
            return
        status = getattr(getattr(failure.value, "response", None), "status", None)
        if status in (404, 410):
            self.remember(request.url, "page", "missing", 0)
        yield {
            "kind": "failure",
            "url": request.url,
            "reason": failure_kind(failure),
            "http_status": getattr(getattr(failure.value, "response", None), "status", None),
            "message": str(failure.value)[:500],
            "attempts": request.meta.get("retry_times", 0) + 1,
        }


FEED_LINKS = "//link[@rel='alternate'][contains(@type, 'rss') or contains(@type, 'atom')]/@href"
RECHECK_DAYS = 7


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0).isoformat()


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


def script_listings(response: TextResponse) -> list[JsonListing]:
    """JSON listing endpoints that a page's inline scripts (or data-* attributes) page
    through, as URL templates with a {page} placeholder."""
    found = []
    for script in response.xpath("//script[not(@src)]/text()").getall():
        values = {
            m.group(1): next(v for v in m.groups()[1:] if v is not None)
            for m in JS_ASSIGN.finditer(script)
        }
        for match in JS_CONCAT.finditer(script):
            template = paged_template(match.group(0), values)
            if template:
                found.append(JsonListing(url=template))
    # ... or carried in a data-* attribute of the button: data-url="/api/list?page=1".
    for value in response.xpath("//@*[starts-with(name(), 'data-')]").getall():
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
