"""The pool of processes that read fetched pages (``archive.pagework.read_page``).

Extraction is most of a crawl's CPU time; on the reactor thread it held the whole crawl
to one core. Here it runs in one process per core (``VNNEWS_PAGE_WORKERS``, 0 = in the
reactor thread, as before), and the spider awaits the reading while Scrapy goes on
downloading. One pool serves every spider of the process; it starts with the first
spider and is shut down with the last. Its processes come from a ``forkserver`` that
has read a page once (``archive/warm.py``: what they load is shared, counted once in
PSS), and each ends by itself when the crawl process dies (``pagework.reader_pool``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from archive.accept import RawResponse
from archive.pagework import PageReading, read_page, reader_pool
from archive.scope import Scope
from archive.session import CrawlSession
from archive.sharedcrawl import RedisSession

logger = logging.getLogger(__name__)


def readers_for(cores: int) -> int:
    """Page readers for a crawl that has ``cores`` to itself: one per core, and none (the
    crawl process reads) on a single core, where one reader would only take turns with
    the crawl on it and cost two more processes (measured: two Redis workers on two
    cores, each with one reader, 38.9 articles/s and 479 MB; each reading in-process,
    34.3 articles/s and 328 MB)."""
    return cores if cores > 1 else 0


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return readers_for(cores or 1)


class PagePool:
    """Read pages in worker processes; ``workers=0`` reads them in the caller."""

    def __init__(self, workers: int):
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None
        self.users = 0

    def acquire(self) -> PagePool:
        self.users += 1
        if self.workers and self.executor is None:
            self.executor = reader_pool(self.workers)
        return self

    def release(self) -> None:
        self.users = max(0, self.users - 1)
        if not self.users:
            self.shutdown()

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    async def read(self, raw: RawResponse, url: str, scope: Scope, want_links: bool) -> PageReading:
        """The page's reading, computed in a worker process while the reactor runs on."""
        if self.executor is None:
            return read_page(raw, url, scope, want_links)
        try:
            future = self.executor.submit(read_page, raw, url, scope, want_links)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A worker died (out of memory, killed): start a new pool and read again.
            logger.warning("a page worker died: restarting the pool of %d", self.workers)
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = reader_pool(self.workers)
            return await asyncio.wrap_future(
                self.executor.submit(read_page, raw, url, scope, want_links)
            )


_POOLS: dict[int, PagePool] = {}


def shared_pool(settings) -> PagePool:
    """The process's pool of ``VNNEWS_PAGE_WORKERS`` page readers (None: ``default_workers``)."""
    workers = settings.get("VNNEWS_PAGE_WORKERS")
    workers = default_workers() if workers in (None, "") else int(workers)
    return _POOLS.setdefault(workers, PagePool(workers))


def open_session(settings, db: str, scope: Scope, args: dict) -> CrawlSession:
    """The spider's crawl session: on the archive itself, or, in a shared crawl
    (``VNNEWS_REDIS``), one that sends its writes to the single writer."""
    redis_url = settings.get("VNNEWS_REDIS")
    if not redis_url:
        return CrawlSession(db, scope, **args)
    worker = settings.get("VNNEWS_WORKER")
    return RedisSession(db, scope, **args, redis_url=redis_url, worker=worker)
