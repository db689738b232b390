"""One crawl shared by many workers through Redis, and the single writer that stores it.

A worker (``vnnews crawl TARGET --redis URL``, any number, on any machines) runs the
spider with a ``RedisSession``: what a ``CrawlSession`` would write (articles with
their raw pages, failures, discovery memory, takedowns, counts) is pushed to one Redis
list, the outbox, as the session call it stands for. ``vnnews ingest --redis URL --db
PATH`` (``Ingest``) is the one process that writes the SQLite archive: it replays each
call on a real ``CrawlSession`` of the site, many articles per transaction, and only
then removes the calls from the outbox, so killing it loses nothing either.

What a worker must know of the archive (known articles, discovery memory, re-checks)
the writer publishes for it when the first worker of a site says it opened. No Scrapy
here, and no SQLite in the worker.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections import defaultdict
from dataclasses import dataclass, field

from archive import store
from archive.scope import Scope
from archive.session import CrawlSession

logger = logging.getLogger(__name__)

PREFIX = "vnnews"
OUTBOX = f"{PREFIX}:outbox"
# A worker's heartbeat key lives this long; a worker not seen for it is gone, and the
# requests it held go back to the queue (crawler/distributed.py).
HEARTBEAT_SECONDS = 10
STATE_WAIT_SECONDS = 120


def state_key(site: str) -> str:
    return f"{PREFIX}:state:{site}"


def frontier_key(site: str) -> str:
    """The site's request queue; its seen-set and leases are keys beside it."""
    return f"{PREFIX}:{site}:requests"


def worker_key(worker: str) -> str:
    return f"{PREFIX}:worker:{worker}"


def connect(url: str):
    """A Redis client for a redis://HOST:PORT/DB URL."""
    import redis

    return redis.Redis.from_url(url)


# ---------------------------------------------------------------- the worker's side


@dataclass
class RedisSession(CrawlSession):
    """A ``CrawlSession`` whose writes go to the shared outbox instead of SQLite."""

    redis_url: str = ""
    worker: str = ""
    redis: object = field(default=None, repr=False)

    def open(self) -> RedisSession:
        """Say this worker opened (the writer starts the run's ``crawls`` record once)
        and load what the writer publishes of the archive for this site."""
        if self.redis is not None:
            return self
        self.redis = connect(self.redis_url)
        self.redis.set(worker_key(self.worker), self.site, ex=HEARTBEAT_SECONDS)
        self.push("open", self.scope)
        deadline = time.monotonic() + STATE_WAIT_SECONDS
        while (state := self.redis.get(state_key(self.site))) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"no `vnnews ingest --redis {self.redis_url}` answered for {self.site} "
                    f"within {STATE_WAIT_SECONDS} s: start the writer first"
                )
            time.sleep(0.1)
        state = pickle.loads(state)
        self.known, self.archived = state["known"], state["archived"]
        self.memory, self.resumed = state["memory"], state["resumed"]
        self.sitemaps_trusted = state["sitemaps_trusted"]
        self.crawl_id = state["crawl_id"]
        self.due = state["rechecks"]
        return self

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
            self.redis = None

    def push(self, call: str, *args) -> None:
        self.redis.rpush(OUTBOX, pickle.dumps((self.site, self.worker, call, args)))

    def rechecks(self) -> list[str]:
        urls = [self.scope.fetch_url(u) for u in (list(self.archived) if self.refresh else [])]
        return urls or list(self.due)

    # What a CrawlSession writes, sent to the writer instead.
    def save_articles(self, captures: list[store.Capture]) -> None:
        if captures:
            self.push("save_articles", captures)

    def failed(self, url, kind, message, http_status=None, attempts=1) -> None:
        self.push("failed", url, kind, message, http_status, attempts)

    def skipped(self) -> None:
        self.push("skipped")

    def remember(self, url, kind, status, article_links=None, validators=None) -> None:
        self.push("remember", url, kind, status, article_links, validators)

    def taken_down(self, url: str, reason: str) -> None:
        self.push("taken_down", url, reason)

    def finish(self, reason: str, requests: int) -> str:
        self.push("finish", reason, requests)
        self.redis.delete(worker_key(self.worker))
        self.close()
        return "sent"


# ---------------------------------------------------------------- the writer


@dataclass
class SiteRun:
    """One site's run as the writer sees it: its session, its workers, their requests."""

    session: CrawlSession
    workers: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    requests: int = 0
    reason: str = "finished"


class Ingest:
    """Drain the outbox into the archive: one writer, as SQLite wants."""

    def __init__(self, redis_url: str, db_path: str, batch: int = 500):
        self.redis = connect(redis_url)
        self.db_path, self.batch = db_path, batch
        self.runs: dict[str, SiteRun] = {}
        self.closed: list[str] = []  # statuses of the runs this writer closed

    def run(self, forever: bool = False, idle_seconds: float = 2.0) -> list[str]:
        """Apply the outbox until every run that opened has closed and nothing came
        for ``idle_seconds`` (or for ever); return the closed runs' statuses."""
        store.open_db(self.db_path).close()
        quiet_since = time.monotonic()
        while True:
            if self.step():
                quiet_since = time.monotonic()
            self.close_finished()
            idle = time.monotonic() - quiet_since >= idle_seconds
            if not forever and idle and self.closed and not self.runs:
                return self.closed
            time.sleep(0.05 if not idle else 0.2)

    def step(self) -> int:
        """Apply up to ``batch`` calls, then remove them from the outbox."""
        raw = self.redis.lrange(OUTBOX, 0, self.batch - 1)
        if not raw:
            return 0
        calls = [pickle.loads(r) for r in raw]
        pending: dict[str, list[store.Capture]] = defaultdict(list)
        for site, worker, call, args in calls:
            if call == "save_articles":
                pending[site].extend(args[0])  # one transaction for the whole step
                continue
            self.flush(pending)
            self.apply(site, worker, call, args)
        self.flush(pending)
        self.redis.ltrim(OUTBOX, len(raw), -1)
        return len(raw)

    def flush(self, pending: dict[str, list[store.Capture]]) -> None:
        for site, captures in pending.items():
            self.runs[site].session.save_articles(captures)
        pending.clear()

    def apply(self, site: str, worker: str, call: str, args: tuple) -> None:
        if call == "open":
            self.open(site, worker, args[0])
            return
        run = self.runs.get(site)
        if run is None:  # a call left from a run already closed: open one for it
            run = self.open(site, worker, None)
        if call == "finish":
            run.finished.add(worker)
            run.requests += args[1]
            if args[0] != "finished":
                run.reason = args[0]
            return
        getattr(run.session, call)(*args)

    def open(self, site: str, worker: str, scope: Scope | None) -> SiteRun:
        run = self.runs.get(site)
        if run is None:
            session = CrawlSession(self.db_path, scope or Scope.for_target(site)).open()
            run = self.runs[site] = SiteRun(session)
            self.publish(site, session)
        run.workers.add(worker)
        return run

    def publish(self, site: str, session: CrawlSession) -> None:
        """What the workers need of the archive for this site's run."""
        state = {
            "known": session.known,
            "archived": session.archived,
            "memory": session.memory,
            "resumed": session.resumed,
            "sitemaps_trusted": session.sitemaps_trusted,
            "crawl_id": session.crawl_id,
            "rechecks": [] if session.refresh else session.rechecks(),
        }
        self.redis.set(state_key(site), pickle.dumps(state))

    def close_finished(self) -> None:
        """Close the runs whose workers all finished (or are gone: killed, their
        requests taken over by the others) once the outbox holds nothing of theirs."""
        if self.redis.llen(OUTBOX):
            return
        for site, run in list(self.runs.items()):
            gone = {w for w in run.workers if not self.redis.exists(worker_key(w))}
            if not run.finished or run.workers - run.finished - gone:
                continue
            self.closed.append(run.session.finish(run.reason, run.requests))
            frontier = frontier_key(site)
            self.redis.delete(state_key(site), *self.redis.keys(f"{frontier}*"))
            del self.runs[site]
