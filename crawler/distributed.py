"""A crawl shared by several workers on scrapy-redis: the frontier, leases, politeness.

``vnnews crawl TARGET --redis URL`` runs Scrapy with scrapy-redis's scheduler over
``LeasedQueue``: one priority queue per spider in Redis that every worker pushes to and
pops from. A URL enters the queue once per run whichever worker found it (a shared
seen-set, checked in the same Lua call that queues it). A request popped is *leased*
to its worker until its callback or errback has finished and everything it yielded is
in Redis (new requests queued, outcomes in the outbox, ``archive/sharedcrawl.py``);
then ``Leases`` acknowledges it. A worker killed mid-crawl stops renewing its heartbeat,
and the others put its leased requests back in the queue: nothing is lost. A worker
stops when the queue is empty and no live worker holds a lease.

``SharedPoliteness`` keeps ``DOWNLOAD_DELAY`` (moved to ``VNNEWS_SHARED_DELAY`` by
``vnnews crawl --redis``) per domain across all workers: one request per domain per
delay, whoever sends it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import warnings
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from archive.sharedcrawl import HEARTBEAT_SECONDS, PREFIX, connect, frontier_key, worker_key

logger = logging.getLogger(__name__)

# scrapy-redis still passes `spider=` to the stats collector, which Scrapy 2.13
# deprecates: every worker printed the same two warnings, which say nothing to whoever
# runs the crawl.
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")

# KEYS: queue, seen, lease owners, lease data, lease scores.
# ARGV: score, url, force (a retry or a redirect of a leased request), data, old lease.
PUSH = """
if ARGV[5] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[5]); redis.call('HDEL', KEYS[4], ARGV[5])
  redis.call('HDEL', KEYS[5], ARGV[5])
end
if ARGV[3] == '1' or redis.call('SADD', KEYS[2], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  return 1
end
return 0
"""
# KEYS: queue, lease owners, lease data, lease scores. ARGV: worker.
POP = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return nil end
redis.call('ZREM', KEYS[1], found[1])
local id = redis.sha1hex(found[1])
redis.call('HSET', KEYS[2], id, ARGV[1]); redis.call('HSET', KEYS[3], id, found[1])
redis.call('HSET', KEYS[4], id, found[2])
return {id, found[1]}
"""
# KEYS: queue, lease owners, lease data, lease scores. ARGV: lease id.
REQUEUE = """
local data = redis.call('HGET', KEYS[3], ARGV[1])
if data then
  redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], ARGV[1]), data)
end
redis.call('HDEL', KEYS[2], ARGV[1]); redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
"""


def worker_settings(redis_url: str, worker: str) -> dict:
    """The Scrapy settings of a worker of a shared crawl."""
    return {
        "VNNEWS_REDIS": redis_url,
        "VNNEWS_WORKER": worker,
        "REDIS_URL": redis_url,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.LeasedQueue",
        "SCHEDULER_PERSIST": True,
        # Unused (every request is deduplicated by URL in LeasedQueue.push), but
        # scrapy-redis needs one of its own.
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_DUPEFILTER_KEY": f"{PREFIX}:%(spider)s:dupefilter",  # the queue belongs to every worker, not to this one
        # Each outcome goes to the outbox at once: a lease is acknowledged only after
        # what its page gave is in Redis.
        "VNNEWS_WRITE_BATCH": 1,
        "EXTENSIONS": {"crawler.progress.Progress": 500, "crawler.distributed.Leases": 510},
    }


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue, with a shared seen-set and leases."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.key = frontier_key(spider.profile.name)  # one frontier per site
        self.seen_key, self.leases = f"{self.key}:seen", f"{self.key}:leases"
        self.data_key, self.score_key = f"{self.key}:lease-data", f"{self.key}:lease-score"
        self.worker = spider.settings.get("VNNEWS_WORKER")
        self._push = server.register_script(PUSH)
        self._pop = server.register_script(POP)
        self._requeue = server.register_script(REQUEUE)

    def push(self, request) -> None:
        meta = request.meta
        lease = meta.pop("lease", "")  # a retry or redirect replaces its leased request
        force = "1" if lease or meta.get("retry_times") or meta.get("redirect_times") else "0"
        data = self._encode_request(request)
        keys = [self.key, self.seen_key, self.leases, self.data_key, self.score_key]
        self._push(keys=keys, args=[-request.priority, request.url, force, data, lease])

    def pop(self, timeout=0):
        found = self._pop(keys=[self.key, self.leases, self.data_key, self.score_key],
                          args=[self.worker])  # fmt: skip
        if not found:
            return None
        lease, data = found
        request = self._decode_request(data)
        request.meta["lease"] = lease.decode()
        return request

    def ack(self, lease: str) -> None:
        pipe = self.server.pipeline()
        for key in (self.leases, self.data_key, self.score_key):
            pipe.hdel(key, lease)
        pipe.execute()

    def requeue_orphans(self) -> int:
        """Put back the requests leased to workers that are gone."""
        owners = self.server.hgetall(self.leases)
        alive = {w: self.server.exists(worker_key(w.decode())) for w in set(owners.values())}
        orphans = [lease for lease, worker in owners.items() if not alive[worker]]
        for lease in orphans:
            self._requeue(keys=[self.key, self.leases, self.data_key, self.score_key], args=[lease])
        if orphans:
            logger.warning(
                "%d requests of a worker that is gone are back in the queue", len(orphans)
            )
        return len(orphans)

    def leased(self) -> int:
        return self.server.hlen(self.leases)


class Leases:
    """The worker's heartbeat, its acknowledgements, and when it may stop."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.worker = crawler.settings.get("VNNEWS_WORKER")
        self.redis = connect(crawler.settings.get("VNNEWS_REDIS"))
        self.beat = task.LoopingCall(self.heartbeat)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def queue(self) -> LeasedQueue:
        return self.crawler.engine.scheduler.queue

    def opened(self, spider) -> None:
        self.beat.start(HEARTBEAT_SECONDS / 4)
        scraper = self.crawler.engine.scraper
        scrape = scraper._scrape

        async def scrape_then_ack(result, request):
            # Scrapy has no hook after a callback's output is handled: wrap the one
            # method that awaits it, for responses and failures alike.
            await scrape(result, request)
            lease = request.meta.get("lease")
            if lease:
                self.queue.ack(lease)

        scraper._scrape = scrape_then_ack

    def heartbeat(self) -> None:
        self.redis.set(worker_key(self.worker), "alive", ex=HEARTBEAT_SECONDS)

    def idle(self, spider) -> None:
        """The local queue is empty: wait while other live workers hold leases (their
        pages may bring more), and take back those of the dead."""
        if self.queue.requeue_orphans() or self.queue.leased() or len(self.queue):
            raise DontCloseSpider

    def closed(self, spider) -> None:
        if self.beat.running:
            self.beat.stop()


class SharedPoliteness:
    """DOWNLOAD_DELAY per domain across every worker of the crawl: a worker sends a
    request to a domain only once it holds that domain's slot for the delay."""

    def __init__(self, crawler):
        self.delay = crawler.settings.getfloat("VNNEWS_SHARED_DELAY")
        url = crawler.settings.get("VNNEWS_REDIS")
        self.redis = connect(url) if url and self.delay > 0 else None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        if self.redis is None:
            return None
        key = f"{PREFIX}:polite:" + hashlib.sha1(host(request.url).encode()).hexdigest()
        millis = int(self.delay * 1000)
        while not self.redis.set(key, "1", px=millis, nx=True):
            wait = self.redis.pttl(key)
            await asyncio.sleep(max(wait, 5) / 1000)
        return None


def host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


__all__ = ["Leases", "LeasedQueue", "Scheduler", "SharedPoliteness", "worker_settings"]
