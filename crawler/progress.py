"""Progress lines on long crawls, so an operator watching a terminal or a log knows
the run is alive and what it has done so far."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from twisted.internet import task


class Progress:
    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, crawler.settings.getfloat("VNNEWS_PROGRESS_SECONDS", 10))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        if self.interval > 0:
            self.loop = task.LoopingCall(self.report, spider)
            self.loop.start(self.interval, now=False)

    def spider_closed(self, spider):
        if self.loop and self.loop.running:
            self.loop.stop()

    def report(self, spider):
        counts = spider.session.counts
        requests = self.crawler.stats.get_value("downloader/request_count", 0)
        elapsed = int(time.monotonic() - self.started)
        print(
            f"[{spider.session.site}] {elapsed}s: {requests} requests, {counts.get('new', 0)} new, "
            f"{counts.get('updated', 0)} updated, {counts.get('skipped', 0)} skipped, "
            f"{counts.get('failed', 0)} failed",
            file=sys.stderr,
            flush=True,
        )
