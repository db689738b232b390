"""Where crawled items meet the archive: every outcome is written and counted.

Nothing is lost silently: an accepted article is stored in one transaction (when the
database refuses, a full disk or a read-only file, the run stops and says so, recorded
as ``store_error`` when it still can be); a page ``accept`` refused as garbage
or as no page, and every fetch that failed for good, is recorded in ``failures`` with
its kind, HTTP status, a readable message and the number of attempts. All of it goes
through the spider's crawl session, which owns the database connection and the counts.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from scrapy.utils.defer import deferred_from_coro

from archive.session import STORE_ERROR
from archive.store import RawPage
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
        return pipeline

    @property
    def session(self):
        return self.crawler.spider.session

    def open_spider(self, spider=None):
        self.session.open()

    def process_item(self, item, spider=None):
        session = self.session
        if session.halted:  # the archive cannot be written: the run is stopping
            return item
        if isinstance(item, Accepted):
            raw = item.raw
            page = RawPage(
                raw.body, raw.status, raw.content_type, raw.encoding, raw.headers, raw.url
            )
            session.save_article(item.article, page, item.fetched_at)
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
        requests = self.crawler.stats.get_value("downloader/request_count", 0)
        self.session.finish(reason, requests)
