"""One spider for every newspaper: the site profile is data, the spider only routes.

It asks discovery (``archive.discover``) for article URLs in feeds, sitemaps, JSON
listings, listing pages and the home page; requests only what the archive does not hold
yet (the crawl session knows); hands every fetched page to ``archive.accept``; and yields
the outcome, as a typed item, to the pipeline. No SQL, no crawl state of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse

from archive import discover
from archive.accept import RawResponse, Rejection
from archive.pagework import PageReading
from archive.scope import Scope
from archive.sites import JsonListing
from archive.urls import canonicalize
from crawler.failures import failure_kind
from crawler.items import Accepted, FetchFailed, Refused
from crawler.pages import open_session, shared_pool

PRIORITY_FEED = 30
PRIORITY_ARTICLE = 20
PRIORITY_LISTING = 0
# Discovery requests: a missing one at a guessed path is normal, not a failure.
PROBES = ("robots", "feed", "sitemap", "json")


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
        self.scope, self.db = Scope.for_target(site, base_url), db
        self.profile = self.scope.profile
        flags = {"refresh": _truthy(refresh), "backfill": _truthy(backfill)}
        self.session_args = {**flags, "max_articles": int(max_articles or 0)}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.session = open_session(
            crawler.settings, spider.db, spider.scope, spider.session_args
        )
        spider.max_pages = crawler.settings.getint("VNNEWS_MAX_PAGES", 5000)
        spider.max_depth = crawler.settings.getint("VNNEWS_MAX_DEPTH", 4)
        spider.obey_robots = crawler.settings.getbool("ROBOTSTXT_OBEY")
        spider.session.max_junk = crawler.settings.getint("VNNEWS_MAX_JUNK", 50)
        spider.pages = shared_pool(crawler.settings).acquire()
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.close_session, signal=signals.spider_closed)
        return spider

    def close_session(self, spider):
        if spider is self:
            self.session.close()  # the pipeline has finished it; this is for runs without
            self.pages.release()

    # ------------------------------------------------------------ start points

    async def start(self):
        self.session.open()
        for request in self.start_points():
            if request is not None:  # Scrapy would hand a None from start() to the pipelines
                yield request

    def start_points(self) -> list[scrapy.Request | None]:
        home = self.scope.start_url
        requests = []
        if not self.obey_robots:
            # With robots.txt obeyed, Scrapy fetches it and robots_parsed gives us its
            # Sitemap: lines; without, we read it ourselves for them.
            robots = urljoin(home, "/robots.txt")
            requests.append(self.request(robots, self.parse_robots, PRIORITY_FEED, probe="robots"))
        # What the operator named (the target, the registry's feeds and listings) is
        # fetched wherever it is; everything else must be in scope (archive/scope.py).
        named = {"hops": 0, "start": True, "named": True}
        requests.append(self.request(home, self.parse_page, PRIORITY_FEED, meta=named))
        for url, probe in discover.discovery_points(self.profile, home, self.session.memory):
            if self.session.worth_checking(url):
                callback = self.parse_feed if probe == "feed" else self.parse_sitemap
                requests.append(self.request(url, callback, PRIORITY_FEED, probe=probe))
        for path in self.profile.listings:
            url = urljoin(home, path)
            requests.append(self.request(url, self.parse_page, meta={**named, "hops": 1}))
        requests += [
            self.json_page(listing, listing.first_page) for listing in self.profile.json_listings
        ]
        for url in self.session.rechecks():  # edits and takedowns (archive/recheck.py)
            requests.append(self.request(url, self.parse_page, PRIORITY_ARTICLE, {"hops": 1}))
        return requests

    def json_page(self, listing: JsonListing, page: int) -> scrapy.Request | None:
        url = urljoin(self.scope.start_url, listing.url.format(page=page))
        return self.request(
            url, self.parse_json_listing, meta={"listing": listing, "page": page}, probe="json"
        )

    def request(
        self,
        url: str,
        callback,
        priority: int = PRIORITY_LISTING,
        meta: dict | None = None,
        probe: str | None = None,
    ) -> scrapy.Request | None:
        """A request for a URL of this site (or one the operator named: meta ``named``),
        once per run, within the page budget, while the archive can be written.
        ``probe`` names a discovery request (robots, feed, sitemap, json)."""
        url = self.scope.fetch_url(canonicalize(url))
        seen, named = self.session.seen, (meta or {}).get("named")
        if url in seen or len(seen) >= self.max_pages or self.session.halted:
            return None
        if not named and not self.scope.allows(url):
            return None  # what a page, feed, sitemap or robots.txt points to elsewhere
        seen.add(url)
        meta = {**(meta or {}), **({"probe": probe} if probe else {})}
        if probe == "sitemap":  # a conditional request: 304 when it did not change
            meta["handle_httpstatus_list"] = [304]
        return scrapy.Request(
            url,
            headers=self.session.validators(url) if probe == "sitemap" else None,
            callback=callback,
            errback=self.on_error,
            priority=priority,
            meta=meta,
            dont_filter=True,
        )

    # ------------------------------------------------------------ discovery

    def robots_parsed(self, robotparser, request):
        """Scrapy read robots.txt for us: follow its Sitemap: lines."""
        rules = getattr(robotparser, "rp", None)
        for url in getattr(rules, "sitemaps", None) or []:
            url = urljoin(self.scope.start_url, url)
            if self.session.worth_checking(url):
                req = self.request(url, self.parse_sitemap, PRIORITY_FEED, probe="sitemap")
                if req is not None:
                    self.crawler.engine.crawl(req)

    def parse_robots(self, response: Response):
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        for url in discover.robots_sitemaps(response.body, response.url):
            if self.session.worth_checking(url):
                yield self.request(url, self.parse_sitemap, PRIORITY_FEED, probe="sitemap")

    def parse_feed(self, response: Response):
        """RSS 2.0 and Atom: every item link is a candidate article."""
        links = discover.feed_links(response.body)
        self.session.remember(response.url, "feed", "ok" if links else "empty", len(links))
        for link in links:
            yield from self.follow_article(urljoin(response.url, link), source="feed")

    def parse_sitemap(self, response: Response):
        meta, url = response.meta, response.url
        validators = discover.http_validators(response.headers.to_unicode_dict())
        validators.update(parent=meta.get("parent"), lastmod=meta.get("lastmod"))
        if response.status == 304:  # not modified since we read it: nothing new in it
            links = self.session.article_links_of(url)
            self.session.remember(url, "sitemap", "ok", links, validators)
            return
        try:
            sitemap = discover.read_sitemap(response.body, self.settings.getint("DOWNLOAD_MAXSIZE"))
        except discover.TooLarge as exc:  # a gzip bomb: recorded, and not read for a while
            self.session.remember(url, "sitemap", "too_large", 0)
            yield FetchFailed(url, "too_large", response.status, str(exc))
            return
        if sitemap is None:  # not XML: an HTML error page at /sitemap.xml
            self.session.remember(url, "sitemap", "empty", 0)
            return
        entries = sitemap.entries
        self.session.remember(
            url, "sitemap", "ok" if entries else "empty", len(entries), validators
        )
        for entry in entries:
            loc, lastmod = entry.get("loc"), entry.get("lastmod")
            if loc and sitemap.kind == "sitemapindex":
                if self.session.child_sitemap_wanted(loc, lastmod):
                    child = {"parent": canonicalize(url), "lastmod": lastmod}
                    yield self.request(loc, self.parse_sitemap, PRIORITY_FEED, child, "sitemap")
            elif loc:
                yield from self.follow_article(loc, source="sitemap", lastmod=lastmod)

    def parse_json_listing(self, response: Response):
        """JSON listing endpoints (baocaobang's /list-post-by-category): page on while new
        links come back; an empty list or a non-JSON body ends the walk."""
        listing, page = response.meta["listing"], response.meta["page"]
        links = discover.json_listing_links(response.body, listing)
        if links is None:
            return
        urls = [self.scope.fetch_url(canonicalize(urljoin(self.scope.start_url, u))) for u in links]
        for url in urls:
            yield from self.follow_article(url, source="json")
        if any(u not in self.session.known for u in urls) or self.session.walk_all:
            yield self.json_page(listing, page + 1)

    def follow_article(self, url: str, source: str, lastmod: str | None = None):
        url = self.scope.fetch_url(canonicalize(url))
        if not self.session.wants_article(url, lastmod):
            return
        req = self.request(url, self.parse_page, PRIORITY_ARTICLE, meta={"hops": 1, "via": source})
        if req is not None:
            self.session.articles_scheduled += 1
            yield req

    # ------------------------------------------------------------ pages

    async def parse_page(self, response: Response):
        """Any page: read it in the page pool (acceptance, and its links from the same
        parse), yield the outcome, then follow its links."""
        headers = dict(response.headers.to_unicode_dict())  # kept with the raw capture
        raw = RawResponse(response.url, response.status, headers, response.body)
        final = canonicalize(response.url)
        want_links = isinstance(response, TextResponse) and not self.session.walk_cut
        reading = await self.pages.read(raw, final, self.scope, want_links)
        outcome, attempts = reading.outcome, response.meta.get("retry_times", 0) + 1
        if isinstance(outcome, Rejection) and outcome.article is None:
            if outcome.is_failure:  # no page at all (empty, binary, an error page)
                yield Refused(outcome, attempts)
            return
        self.session.seen.add(final)
        # Article-shaped (the verdict said yes), even when garbage kept it out.
        is_article = not isinstance(outcome, Rejection) or outcome.kind != "not_article"
        if not is_article:
            self.session.not_an_article(candidate="via" in response.meta)
        # The next run need not follow this page's old addresses again.
        self.session.remember_redirects(response.meta.get("redirect_urls", []), is_article)
        if isinstance(outcome, Rejection):
            yield Refused(outcome, attempts)
        else:
            fetched_at = datetime.now(UTC).replace(microsecond=0).isoformat()
            yield Accepted(outcome, raw, fetched_at)
        for request in self.follow_links(response, reading, is_article) if want_links else ():
            yield request

    def follow_links(self, response: Response, reading: PageReading, is_article: bool):
        session, links = self.session, reading.links
        if session.walk_cut:
            return  # too much junk in a row (session.not_an_article)
        articles = [u for u in links if discover.is_article_link(self.profile, u)]
        for url in articles:
            if url not in session.known:
                yield from self.follow_article(url, source="link")
        for listing in reading.listings:
            yield self.json_page(listing, listing.first_page)
        for href in reading.feeds:
            url = urljoin(response.url, href)
            yield self.request(url, self.parse_feed, PRIORITY_FEED, {"via": "page"}, probe="feed")
        if is_article:
            return
        session.remember(response.url, "page", "ok", len(articles))
        depth = response.meta.get("hops", 0)
        walk = session.listings_to_walk(
            response.url, links, articles, depth, self.max_depth, response.meta.get("start")
        )
        for url, hops in walk:
            req = self.request(url, self.parse_page, PRIORITY_LISTING - hops, meta={"hops": hops})
            if req is not None:
                yield req

    def on_error(self, failure):
        """Network errors, HTTP errors and robots.txt refusals, for the pipeline to record."""
        request = failure.request
        status = getattr(getattr(failure.value, "response", None), "status", None)
        kind, meta = failure_kind(failure), request.meta
        probe = meta.get("probe") if meta.get("probe") in PROBES and not meta.get("via") else None
        if self.session.fetch_failed(request.url, meta.get("probe"), probe, kind, status):
            attempts = meta.get("retry_times", 0) + 1
            yield FetchFailed(request.url, kind, status, str(failure.value)[:500], attempts)


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")
