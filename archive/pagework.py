"""The work a crawl does on each fetched page, away from the crawl's event loop.

``read_page`` takes a page as it came off the wire and returns everything the crawl
needs from it in one picklable ``PageReading``: the outcome of ``accept`` (the
article, or why not) and, from one lxml parse of the page, its links, canonical URL,
script listings and announced feeds. It is pure (no Scrapy, no database, no clock),
so ``crawler/pages.py`` runs it in a pool of processes, one per core, while the
crawl's reactor goes on fetching; ``vnnews reextract --workers N`` uses it the same way.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from lxml import etree

from archive import discover
from archive.accept import RawResponse, Rejection, accept
from archive.html import decode_html, parse_html
from archive.models import Article
from archive.scope import Scope
from archive.sites import JsonListing


@dataclass
class PageReading:
    """What the crawl learns from one page."""

    outcome: Article | Rejection
    # The site's own crawlable URLs among the page's links (canonical, fetch form, in
    # page order), JSON listings its scripts page through, feeds it announces (hrefs as
    # written). Empty unless links were asked for.
    links: list[str] = field(default_factory=list)
    listings: list[JsonListing] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


def parse_tree(body: bytes, encoding: str | None, url: str) -> etree._Element:
    """The page as the extractor reads it (``archive.html``: decoded, parsed, links
    resolving against ``url`` or its ``<base href>``): parsed once for the article,
    its links, canonical URL, listings and feeds."""
    return parse_html(decode_html(body, encoding, normalize=False), url)


def read_page(raw: RawResponse, url: str, scope: Scope, want_links: bool = True) -> PageReading:
    """Accept a fetched page (``url``: its final address, canonical) and, when
    ``want_links``, find its links, listings and feeds: the page is parsed once for
    all of those."""
    tree = parse_tree(raw.body, raw.encoding, url) if raw.body else None
    outcome = accept(raw, url, scope.profile, scope, tree=tree)
    reading = PageReading(outcome)
    if want_links and tree is not None and not is_refused_page(outcome):
        reading.links = scope.links(discover.page_links(tree), raw.url)
        reading.listings = discover.script_listings(tree)
        reading.feeds = discover.page_feeds(tree)
    return reading


def is_refused_page(outcome: Article | Rejection) -> bool:
    """No page at all (empty, binary, an error page): nothing to follow from it."""
    return isinstance(outcome, Rejection) and outcome.article is None


# ---------------------------------------------------------------- pool workers


def reader_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` page-reading processes. They are forked from a
    ``forkserver`` that has read one small page first (``archive/warm.py``), so what
    reading loads lazily is loaded once and shared, and none inherits the caller's heap
    or threads (a crawl's reactor). Each ends when the process that started it dies."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["archive.warm"])
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=start_worker, initargs=(os.getpid(),)
    )


def start_worker(parent_pid: int) -> None:
    """Initializer of a pool process: end with the crawl that started it, even when the
    crawl is killed with SIGKILL and cannot shut its pool down."""
    watcher = threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True)
    watcher.start()


def _watch_parent(parent_pid: int, every: float = 0.5) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid was reused by another user's process
            os._exit(0)
