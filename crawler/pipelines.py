"""Where crawled items meet the archive: every outcome is written and counted.

Nothing is lost silently: an article is stored in one transaction or, when it cannot
be (garbage text, a database error), recorded in ``failures`` with a kind; every
fetch that failed for good is recorded there too, with its HTTP status, a readable
message and the number of attempts.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from http import HTTPStatus

from archive import store
from archive.sites import SITES
from archive.store import RawPage
from crawler.failures import KIND_BY_NAME, MISSING_KINDS
from crawler.middlewares import is_error_heading

logger = logging.getLogger(__name__)

# Vietnamese UTF-8 read as Latin-1/Windows-1252 ("Ã¡", "Æ°", "á»", "Ä‘", "â€œ"),
# Windows-1258 read as Latin-1 (its tone marks become "Ò", "Ì", "Þ" after a lower-case
# letter: "QuaÒng", "ðôÌng"), and replacement characters left by a decoding that gave up.
MOJIBAKE = re.compile(
    "[ÃÄÅÆ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
    "|á[\u00ba\u00bb]|â\u20ac|Â[\u00a0-\u00bf]|[a-zà-ỹđ][ÒÌÞ]|Þ|\ufffd"
)
MOJIBAKE_MIN = 3
TWISTED_FAILURE = re.compile(r"<twisted\.python\.failure\.Failure [\w.]*?(\w+: [^>]*)>")


def garbage_kind(article) -> tuple[str, str] | None:
    """(kind, message) when an extracted article is not text worth keeping."""
    if is_error_heading(article.title):
        return "soft_404", f"error page served as an article: {article.title!r}"
    text = " ".join(filter(None, (article.title, article.lead, article.body)))
    found = MOJIBAKE.findall(text)
    if len(found) >= MOJIBAKE_MIN:
        sample = ", ".join(dict.fromkeys(found[:20]))
        return "mojibake", f"garbled text ({len(found)} sequences such as {sample})"
    return None


class ArchivePipeline:
    """Store articles (with their raw page), record failures, keep the run's counts,
    and close the ``crawls`` record when the spider stops."""

    def open_spider(self, spider=None):
        spider = spider or self.spider
        self.db = store.open_db(spider.db_path)
        profile = spider.profile
        store.save_sites(self.db, SITES.values())  # the registry, merger history included
        store.save_site(self.db, site_row(profile))
        close_stale_crawls(self.db, profile.name)
        self.crawl_id = store.start_crawl(self.db, profile.name)
        spider.crawl_id = self.crawl_id
        spider.counts = self.counts = Counter()

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    @property
    def spider(self):
        return self.crawler.spider

    def process_item(self, item, spider=None):
        spider = spider or self.spider
        kind = item["kind"]
        if kind == "article":
            self.store_article(item, spider)
        elif kind == "skipped":
            self.counts["skipped"] += 1
        elif kind == "failure":
            reason = item["reason"]
            status = item.get("http_status")
            if reason == "robots":
                self.counts["robots_refused"] += 1
            elif status in (404, 410) or reason in MISSING_KINDS:
                self.counts["missing"] += 1  # a dead link: recorded, but not a site failure
            else:
                self.counts["failed"] += 1
            self.record(
                spider,
                url=item["url"],
                kind=reason,
                message=self.describe(reason, item.get("message"), status),
                http_status=status,
                attempts=item.get("attempts", 1),
            )
        return item

    def store_article(self, item, spider) -> None:
        article = item["article"]
        garbage = garbage_kind(article)
        if garbage:
            kind, message = garbage
            self.counts["missing" if kind in MISSING_KINDS else "failed"] += 1
            self.record(
                spider, url=article.url, kind=kind, message=message, http_status=item["status"]
            )
            return
        raw = RawPage(item["raw"], item["status"], item["content_type"], item["encoding"])
        try:
            outcome = store.save_article(self.db, article, item["fetched_at"], raw=raw)
        except Exception as exc:  # a full disk or a locked file loses a page, not the run
            logger.exception("could not store %s", article.url)
            self.counts["failed"] += 1
            self.record(
                spider,
                url=article.url,
                kind="store_error",
                message=f"{type(exc).__name__}: {exc}",
                http_status=item["status"],
            )
            return
        self.counts[outcome] += 1

    def record(self, spider, *, url, kind, message, http_status=None, attempts=1) -> None:
        self.counts["last_error"] = f"{kind}: {url}"  # type: ignore[assignment]
        try:
            store.record_failure(
                self.db,
                url=url,
                site=spider.profile.name,
                crawl_id=self.crawl_id,
                kind=kind,
                message=message,
                http_status=http_status,
                attempts=attempts,
            )
        except Exception:
            logger.exception("could not record the failure of %s (%s: %s)", url, kind, message)

    def describe(self, kind: str, message: str | None, status: int | None) -> str:
        """A readable message: Scrapy leaves some exceptions without one, or with a
        Twisted repr."""
        settings = self.crawler.settings
        message = TWISTED_FAILURE.sub(r"\1", (message or "").strip()).strip("[] ")
        if kind == "http" and status:
            try:
                return f"HTTP {status} {HTTPStatus(status).phrase}"
            except ValueError:
                return f"HTTP {status}"
        limits = {
            "too_large": f"larger than DOWNLOAD_MAXSIZE ({settings.getint('DOWNLOAD_MAXSIZE')} bytes)",
            "too_many_redirects": f"more than REDIRECT_MAX_TIMES ({settings.getint('REDIRECT_MAX_TIMES')}) redirects",
            "truncated": "the connection closed before the whole body arrived",
            "reset": "the connection was closed before an answer",
            "timeout": f"no answer within DOWNLOAD_TIMEOUT ({settings.getfloat('DOWNLOAD_TIMEOUT'):g} s)",
        }
        if (
            message
            and message not in KIND_BY_NAME
            and kind not in ("too_large", "too_many_redirects")
        ):
            return message
        return limits.get(kind) or message or kind

    def close_spider(self, spider=None, reason: str = "finished"):
        spider = spider or self.spider
        stats = self.crawler.stats
        self.counts["requests"] = stats.get_value("downloader/request_count", 0)
        status = crawl_status(self.counts, reason)
        spider.status = status
        store.finish_crawl(self.db, self.crawl_id, status, dict(self.counts))
        self.db.close()


def close_stale_crawls(db, site: str) -> None:
    """A crawl still marked running when a new one of the same site starts was killed
    (one crawl per archive runs at a time: `vnnews crawl` holds a lock): say so."""
    db.execute(
        "update crawls set status = 'interrupted', "
        "last_error = coalesce(last_error, 'killed: the run never finished') "
        "where site = ? and status = 'running'",
        [site],
    )
    db.conn.commit()


def crawl_status(counts: Counter, reason: str) -> str:
    """ok | refused (robots.txt said no to everything) | failed (nothing came back) |
    partial (some pages failed) | interrupted."""
    stored = counts["new"] + counts["updated"] + counts["unchanged"]
    if reason not in ("finished", "closespider_pagecount", "closespider_itemcount"):
        return "interrupted"
    if not stored and counts["robots_refused"] and not counts["skipped"]:
        return "refused"
    if not stored and not counts["skipped"] and (counts["failed"] or counts["requests"] <= 1):
        return "failed"
    if counts["failed"]:
        return "partial"
    return "ok"


def site_row(profile) -> dict:
    return store.site_record(profile)
