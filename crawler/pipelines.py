"""Where crawled items meet the archive: every outcome is written and counted.

Nothing is lost silently: accepted articles are stored in batches, each in one
transaction (``VNNEWS_WRITE_BATCH`` articles, or what came in ``VNNEWS_WRITE_SECONDS``,
whichever is first; a crawl killed before a batch commits loses none of it: the next
run fetches those pages again, as they are not archived). When the database refuses
(a full disk or a read-only file) the run stops and says so, recorded as
``store_error`` when it still can be; a page ``accept`` refused as garbage
or as no page, and every fetch that failed for good, is recorded in ``failures`` with
its kind, HTTP status, a readable message and the number of attempts. All of it goes
through the spider's crawl session, which owns the database connection and the counts.
"""

from __future__ import annotations

import re
import time
from http import HTTPStatus

from scrapy.utils.defer import deferred_from_coro

from archive.session import STORE_ERROR
from archive.store import Capture, RawPage
from crawler.failures import KIND_BY_NAME
from crawler.items import Accepted, FetchFailed, Refused

TWISTED_FAILURE = re.compile(r"<twisted\.python\.failure\.Failure [\w.]*?(\w+: [^>]*)>")


class ArchivePipeline:
    """Store articles (with their raw page), record failures, and close the run's
    ``crawls`` record when the spider stops."""

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls()
        pipeline.crawler = crawler
        pipeline.batch_size = crawler.settings.getint("VNNEWS_WRITE_BATCH", 50)
        pipeline.batch_seconds = crawler.settings.getfloat("VNNEWS_WRITE_SECONDS", 1.0)
        pipeline.pending = []
        pipeline.since = 0.0
        return pipeline

    @property
    def session(self):
        return self.crawler.spider.session

    def open_spider(self, spider=None):
        from twisted.internet import task

        self.session.open()
        # A quiet crawl (a slow site) still writes what it has, every batch_seconds.
        self.ticker = task.LoopingCall(self.flush_if_due)
        self.ticker.start(self.batch_seconds, now=False)

    def flush_if_due(self) -> None:
        if self.pending and time.monotonic() - self.since >= self.batch_seconds:
            self.flush()

    def flush(self, closing: bool = False) -> None:
        """Write the pending articles in one transaction."""
        pending, self.pending = self.pending, []
        self.session.save_articles(pending)
        if self.session.halted and not closing:
            self.stop(STORE_ERROR)

    def process_item(self, item, spider=None):
        session = self.session
        if session.halted:  # the archive cannot be written: the run is stopping
            return item
        if isinstance(item, Accepted):
            raw = item.raw
            page = RawPage(
                raw.body, raw.status, raw.content_type, raw.encoding, raw.headers, raw.url
            )
            session.an_article()
            if not self.pending:
                self.since = time.monotonic()
            self.pending.append(Capture(item.article, page, item.fetched_at))
            if len(self.pending) >= self.batch_size:
                self.flush()
        elif isinstance(item, Refused):
            rejection = item.rejection
            if rejection.is_failure:
                session.failed(
                    rejection.url,
                    rejection.kind,
                    rejection.message,
                    rejection.http_status,
                    item.attempts,
                )
            else:
                session.skipped()
        elif isinstance(item, FetchFailed):
            message = self.describe(item.kind, item.message, item.http_status)
            session.failed(item.url, item.kind, message, item.http_status, item.attempts)
        if session.halted:
            self.stop(STORE_ERROR)
        return item

    def stop(self, reason: str) -> None:
        """Close the spider now (Scrapy 2.14+ has the async form)."""
        engine = self.crawler.engine
        if hasattr(engine, "close_spider_async"):
            deferred_from_coro(engine.close_spider_async(reason=reason))
        else:
            engine.close_spider(self.crawler.spider, reason)

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
        if self.ticker.running:
            self.ticker.stop()
        self.flush(closing=True)
        requests = self.crawler.stats.get_value("downloader/request_count", 0)
        self.session.finish(reason, requests)
