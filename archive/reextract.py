"""Re-extraction: rebuild articles from the raw pages stored in the archive.

Pages are read (``archive.accept``) by ``workers`` processes while this one writes,
many articles per transaction; what a crawl would refuse is not stored, whatever
stored it before.
"""

from __future__ import annotations

from collections import Counter
from itertools import islice

import sqlite_utils

from archive import store
from archive.accept import RawResponse, Rejection, accept
from archive.models import Article
from archive.pagework import reader_pool
from archive.sites import SITES, generic_profile

# Pages read per round (their raw HTML is held in memory) and written per transaction.
CHUNK = 500


def read_stored(page: dict) -> Article | Rejection:
    """The article a stored page gives today (under the site and address it is
    archived under), or why not."""
    profile = SITES.get(page["site"]) or generic_profile(page["url"])
    headers = {"Content-Type": page["content_type"]} if page["content_type"] else {}
    raw = RawResponse(page["url"], page["status"] or 200, headers, page["html"])
    outcome = accept(raw, page["url"], profile)
    if not isinstance(outcome, Rejection):
        outcome.site = page["site"]
        outcome.url = page["url"]  # the page keeps the address it is archived under
    return outcome


def reextract_pages(db: sqlite_utils.Database, site: str | None, workers: int = 1) -> Counter:
    """Re-extract every stored page (of ``site``); counts of what happened."""
    counts: Counter = Counter()
    pool = None
    if workers > 1:
        pool = reader_pool(workers)
    try:
        pages = store.iter_pages(db, site)
        while chunk := list(islice(pages, CHUNK)):
            outcomes = (
                pool.map(read_stored, chunk, chunksize=8) if pool else map(read_stored, chunk)
            )
            counts.update(write(db, list(zip(outcomes, chunk, strict=True))))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return counts


def write(db: sqlite_utils.Database, read: list[tuple[Article | Rejection, dict]]) -> Counter:
    counts: Counter = Counter()
    captures = []
    for outcome, page in read:
        if isinstance(outcome, Rejection):
            counts["not an article" if outcome.kind == "not_article" else outcome.kind] += 1
        else:
            captures.append(store.Capture(outcome, None, page["fetched_at"]))
    # The same capture read again: the current version is rewritten, not added to.
    counts.update(store.save_articles(db, captures, new_version=False))
    return counts
