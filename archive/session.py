"""One crawl run of one site: everything the run knows and writes, in one object.

A ``CrawlSession`` owns the run's database connection, its ``crawls`` record (id and
counts), the article URLs archived before it started ("known ground"), and what earlier
runs learnt about discovery URLs (feeds, sitemaps, listing pages). The spider asks it,
the pipeline writes through it, the progress report reads it; none of them touches the
database or keeps crawl state of its own. No Scrapy here.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

import sqlite_utils

from archive import discover, recheck, store
from archive.accept import MISSING_KINDS
from archive.models import Article
from archive.scope import Scope
from archive.sites import SITES
from archive.store import RawPage
from archive.urls import canonicalize, is_crawlable

logger = logging.getLogger(__name__)

# Scrapy's close reasons for a run that ended by itself (not killed or cancelled).
FINISHED_REASONS = ("finished", "closespider_pagecount", "closespider_itemcount")
# The close reason of a run stopped because the archive could not be written.
STORE_ERROR = "store_error"
# A walk through links is cut after this many pages in a row, fetched as candidate
# articles, that were not articles (crawler/settings.py: VNNEWS_MAX_JUNK).
MAX_JUNK = 50


@dataclass
class CrawlSession:
    db_path: str
    scope: Scope
    refresh: bool = False  # fetch archived articles again
    backfill: bool = False  # walk listings and sitemaps to the end
    max_articles: int = 0  # articles scheduled per run (0: no limit)
    db: sqlite_utils.Database | None = None
    crawl_id: int | None = None
    # Article URLs archived before this run started, with when they were fetched:
    # "known ground", where an incremental run stops walking listings.
    known: dict[str, str] = field(default_factory=dict)
    # Every archived article URL of the site in fetch form -> its archived (paper) URL.
    archived: dict[str, str] = field(default_factory=dict)
    # What earlier runs learnt about feeds, sitemaps, probes and listing pages, by URL.
    memory: dict[str, dict] = field(default_factory=dict)
    # Whether the previous run of this site was killed before it finished.
    resumed: bool = False
    sitemaps_trusted: bool = False
    counts: Counter = field(default_factory=Counter)
    # URLs requested this run (each once), and how many of them were articles.
    seen: set[str] = field(default_factory=set)
    articles_scheduled: int = 0
    last_error: str | None = None
    crawl_status: str | None = None  # set by finish(): ok | partial | failed | ...
    # Why the run must stop: the archive could not be written (a full disk, a
    # read-only file). Set once; the pipeline then closes the spider.
    halted: str | None = None
    max_junk: int = MAX_JUNK
    # Candidate articles in a row that were not articles; past max_junk, links found
    # on pages are no longer walked (an endless listing of junk). Feeds, sitemaps and
    # listings of the profile go on.
    junk_streak: int = 0
    walk_cut: bool = False

    @property
    def site(self) -> str:
        return self.scope.profile.name

    def open(self) -> CrawlSession:
        """Open the database, register the site, start the run's ``crawls`` record and
        load what earlier runs left. Safe to call twice."""
        if self.db is not None:
            return self
        self.db = db = store.open_db(self.db_path)
        store.save_sites(db, SITES.values())  # the registry, merger history included
        # The paper's own row: a mirror's address is not its home page.
        store.save_site(db, store.site_record(self.scope.paper))
        store.close_stale_crawls(db, self.site)
        self.crawl_id = store.start_crawl(db, self.site)
        # Archived under the paper's URLs, compared in fetch form (a mirror's address).
        archived = store.known_fetched(db, self.site)
        self.archived = {self.scope.fetch_url(url): url for url in archived}
        self.known = (
            {} if self.refresh else {self.scope.fetch_url(u): t for u, t in archived.items()}
        )
        self.memory = store.recall(db, self.site)
        previous = store.previous_crawl(db, self.site, self.crawl_id)
        # The last run was killed: the listings it never reached are not known ground.
        self.resumed = bool(previous) and previous["status"] in ("running", "interrupted")
        # Sitemaps unchanged since a run that fetched everything they listed hold
        # nothing new; after a run where pages failed they are read again.
        self.sitemaps_trusted = bool(previous) and previous["status"] == "ok"
        return self

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    @property
    def walk_all(self) -> bool:
        """Walk every listing and sitemap to its end: on --backfill, or after a killed
        run (the listings it never reached are not known ground yet)."""
        return self.backfill or self.resumed

    def budget_spent(self) -> bool:
        return bool(self.max_articles) and self.articles_scheduled >= self.max_articles

    def last_success(self) -> str | None:
        """When the newest archived article was fetched: sitemaps not modified since
        hold nothing new."""
        return max(self.known.values(), default=None)

    # ------------------------------------------------------------ re-checks, takedowns

    def rechecks(self) -> list[str]:
        """Archived articles to fetch again this run, in fetch form: every one on
        --refresh, else those the re-check schedule says are due (archive/recheck.py)."""
        if self.refresh:
            return list(self.archived)
        rows = store.recheck_candidates(self.db, self.site, recheck.window_start())
        urls = [self.scope.fetch_url(u) for u in recheck.due(rows)]
        for url in urls:
            self.known.pop(url, None)
        return urls

    def archived_url(self, url: str) -> str | None:
        """The archived article a URL (fetch form or the paper's own) stands for."""
        if url in self.archived:
            return self.archived[url]
        return url if url in self.archived.values() else None

    def taken_down(self, url: str, reason: str) -> None:
        """An archived article its site no longer serves: marked, never deleted."""
        archived = self.archived_url(url)
        if (
            archived
            and self.db is not None
            and store.mark_removed(self.db, archived, store.now_iso(), reason)
        ):
            self.counts["removed"] += 1

    # ------------------------------------------------------------ discovery memory

    def wants_article(self, url: str, lastmod: str | None = None) -> bool:
        """Whether a candidate article URL (in fetch form) is worth a request this run;
        ``lastmod`` is what a sitemap says of it."""
        if not self.scope.owns(url) or not is_crawlable(url) or self.budget_spent():
            return False
        if url in self.known and not discover.is_newer(lastmod, self.known[url]):
            return False  # archived, and no sitemap says it changed since
        if url in self.memory and not self.worth_checking(url):
            return False  # an old address of an archived article, or gone (404) lately
        return self.scope.profile.is_article_url(url) is not False

    def worth_checking(self, url: str) -> bool:
        """Whether to fetch a discovery URL again, given what earlier runs noted."""
        row = self.memory.get(self.scope.fetch_url(canonicalize(url)))
        return discover.worth_checking(row, self.walk_all)

    def child_sitemap_wanted(self, url: str, lastmod: str | None) -> bool:
        """Whether to read a child sitemap its index lists with ``lastmod``: not when
        we read it before and the index gives it the same lastmod (or, without one,
        when it is older than our newest article); always on a backfill or after a
        killed run, or one where pages failed (they are fetched again)."""
        if self.walk_all or not self.sitemaps_trusted:
            return True
        row = self.memory.get(self.scope.fetch_url(canonicalize(url))) or {}
        if lastmod and row.get("status") == "ok" and row.get("lastmod") == lastmod:
            return False  # unchanged since we read it
        return discover.child_sitemap_wanted(lastmod, self.last_success(), False)

    def validators(self, url: str) -> dict[str, str]:
        """Conditional request headers for a sitemap read before (its ETag and
        Last-Modified): an unchanged one answers 304 with no body."""
        row = self.memory.get(self.scope.fetch_url(canonicalize(url))) or {}
        if self.walk_all or not self.sitemaps_trusted or row.get("status") != "ok":
            return {}
        headers = {"If-None-Match": row.get("etag"), "If-Modified-Since": row.get("last_modified")}
        return {k: v for k, v in headers.items() if v}

    def article_links_of(self, url: str) -> int | None:
        """How many article links a discovery URL gave when last read."""
        return (self.memory.get(self.scope.fetch_url(canonicalize(url))) or {}).get("article_links")

    def remember(
        self,
        url: str,
        kind: str,
        status: str,
        article_links: int | None = None,
        validators: dict[str, str | None] | None = None,
    ) -> None:
        """Note what a discovery URL gave this run, for the next incremental run."""
        if self.db is None or self.halted:
            return
        try:
            store.remember(
                self.db, self.site, canonicalize(url), kind, status, article_links, validators
            )
        except sqlite3.Error as exc:
            self.halt(exc)

    def fetch_failed(
        self, url: str, probe: str | None, guessed: str | None, kind: str, status: int | None
    ) -> bool:
        """Note a fetch that failed for good; whether it is a failure to record.
        ``probe``: the discovery kind of the URL; ``guessed``: the same, when the URL
        was a guess (a common feed or sitemap path, robots.txt) rather than a link."""
        if guessed and kind != "too_large":
            # A missing feed or sitemap at a guessed path is normal, not a failure; one
            # robots.txt forbids is not missing (asked again next run).
            if kind != "robots":
                self.remember(url, guessed, "missing", 0)
            return False
        if status in (404, 410) or probe and kind == "too_large":  # a bomb: not for a while
            gone = "missing" if status in (404, 410) else kind
            self.remember(url, probe or "page", gone, 0)
        return True

    def halt(self, exc: BaseException) -> None:
        """The archive cannot be written: the run stops (the pipeline closes the spider)
        and says why; what was not written is fetched again by the next run."""
        if self.halted is None:
            self.halted = f"{STORE_ERROR}: {self.db_path}: {exc}"
            self.last_error = self.halted
            logger.error("cannot write the archive %s (%s): stopping the run", self.db_path, exc)

    def remember_redirects(self, old_urls: list[str], to_article: bool) -> None:
        """Old addresses that redirected to a page: an article's are aliases, not to
        be followed again."""
        for url in old_urls:
            self.remember(url, "redirect", "alias" if to_article else "ok", 0)
            if not to_article:  # an archived article now sends readers to a section
                self.taken_down(url, "redirects to a page that is not an article")

    def listings_to_walk(
        self,
        page_url: str,
        links: list[str],
        articles: list[str],
        depth: int,
        max_depth: int,
        is_start: bool = False,
    ) -> list[tuple[str, int]]:
        """The non-article links of a listing page to walk on, with their depth.

        Listings are walked only while they still lead somewhere new: an incremental
        run stops at known ground, a backfill walks to the end. Paging through one
        listing (?page=2, /trang-3) is not a step away from the start: long listings
        are walked to their end, other links only so far.
        """
        fresh = any(u not in self.known for u in articles)
        if depth >= max_depth or not (is_start or self.walk_all or fresh) or self.budget_spent():
            return []
        walk = []
        for url in links:
            if url in articles or (discover.is_day_archive(url) and not self.backfill):
                continue
            if not self.worth_checking(url):
                continue  # a page that led to no article last time (video, contact...)
            walk.append((url, depth if discover.is_next_page(page_url, url) else depth + 1))
        return walk

    # ------------------------------------------------------------ outcomes

    def save_article(self, article: Article, raw: RawPage, fetched_at: str) -> None:
        """Store one accepted article with its raw page (``save_articles`` of one)."""
        self.save_articles([store.Capture(article, raw, fetched_at)])

    def save_articles(self, captures: list[store.Capture]) -> None:
        """Store accepted articles with their raw pages, in one transaction. The
        database refusing (a full disk, a read-only file) stops the run: each article
        is recorded as ``store_error`` when it still can be. An article archived under
        another paper stays there (``foreign``)."""
        if self.halted or not captures:
            return
        try:
            outcomes = store.save_articles(self.db, captures)
        except sqlite3.Error as exc:
            self.halt(exc)
            for c in captures:
                message = f"{type(exc).__name__}: {exc}"
                self.failed(c.article.url, STORE_ERROR, message, c.raw.status if c.raw else None)
            return
        for capture, outcome in zip(captures, outcomes, strict=True):
            if outcome == "foreign":
                status = capture.raw.status if capture.raw else None
                self.failed(capture.article.url, "foreign", "archived under another paper", status)
            else:
                self.counts[outcome] += 1

    def an_article(self) -> None:
        """A page was accepted as an article (stored with the next batch): the walk
        through links is not junk."""
        self.junk_streak = 0

    def not_an_article(self, candidate: bool) -> None:
        """A fetched page that was no article; `candidate`: it was fetched as one (a
        link that looked like an article). Too many candidates in a row cut the walk."""
        if not candidate or self.walk_cut:
            return
        self.junk_streak += 1
        if self.junk_streak >= self.max_junk:
            self.walk_cut = True
            message = (
                f"{self.max_junk} candidate articles in a row were not articles: links on "
                "pages are no longer followed this run (VNNEWS_MAX_JUNK)"
            )
            logger.warning("%s: %s", self.site, message)
            self.failed(self.scope.start_url, "listing_cut", message)

    def skipped(self) -> None:
        """A page that is not an article: counted, not stored."""
        self.counts["skipped"] += 1

    def failed(
        self,
        url: str,
        kind: str,
        message: str,
        http_status: int | None = None,
        attempts: int = 1,
    ) -> None:
        """A page that could not be archived: counted by what it means for the site,
        and recorded in ``failures`` with its kind."""
        if kind == "robots":
            self.counts["robots_refused"] += 1
        elif http_status in (404, 410) or kind in MISSING_KINDS:
            self.counts["missing"] += 1  # a dead link: recorded, but not a site failure
            if kind not in ("off_site", "foreign"):  # moved or another paper's: not gone
                self.taken_down(url, f"HTTP {http_status}" if http_status in (404, 410) else kind)
        elif kind != "listing_cut":  # a cut walk is reported, but no page failed
            self.counts["failed"] += 1
        if not self.halted:
            self.last_error = f"{kind}: {message if kind == 'robots' else url}"
        if self.db is None or (self.halted and kind != STORE_ERROR):
            return
        try:
            store.record_failure(
                self.db,
                url=url,
                site=self.site,
                crawl_id=self.crawl_id,
                kind=kind,
                message=message,
                http_status=http_status,
                attempts=attempts,
            )
        except sqlite3.Error as exc:  # the disk is full: the run stops, the log says it
            logger.error("could not record the failure of %s (%s: %s)", url, kind, message)
            self.halt(exc)

    def finish(self, reason: str, requests: int) -> str:
        """Close the run's ``crawls`` record with its status and counts, and the
        database; return the status."""
        self.counts["requests"] = requests
        self.crawl_status = crawl_status(self.counts, STORE_ERROR if self.halted else reason)
        if self.db is not None:
            counts = {**self.counts, "last_error": self.last_error}
            try:
                store.finish_crawl(self.db, self.crawl_id, self.crawl_status, counts)
            except sqlite3.Error as exc:  # the next run marks this one interrupted
                self.halt(exc)
        self.close()
        return self.crawl_status


def crawl_status(counts: Counter, reason: str) -> str:
    """ok | refused (robots.txt said no to everything) | failed (nothing came back, or
    the archive could not be written) | partial (some pages failed) | interrupted."""
    stored = counts["new"] + counts["updated"] + counts["unchanged"]
    if reason == STORE_ERROR:
        return "failed"
    if reason not in FINISHED_REASONS:
        return "interrupted"
    if not stored and counts["robots_refused"] and not counts["skipped"]:
        return "refused"
    if not stored and not counts["skipped"] and (counts["failed"] or counts["requests"] <= 1):
        return "failed"
    if counts["failed"]:
        return "partial"
    return "ok"
