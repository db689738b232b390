"""Downloader middlewares: confinement to the crawled paper's origins (every request and
every redirect hop, archive.scope decides), retries that back off the way servers ask
them to, and robots.txt read as RFC 9309 says. (Whether a fetched page is stored,
including the guard against empty, binary and error pages, is archive.accept's
decision.)"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as BaseMetaRefresh
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware as BaseRedirect
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as BaseRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred

from archive.urls import canonicalize

logger = logging.getLogger(__name__)


class OffSite(IgnoreRequest):
    """A request or a redirect hop that leaves the crawled paper's origins."""


def scope_of(crawler):
    """The crawl's scope (archive.scope.Scope), or None for a spider without one."""
    return getattr(crawler.spider, "scope", None)


class ScopeMiddleware:
    """Refuse every request outside the crawled paper's origins before it is sent (and
    before its host's robots.txt is asked for): only what the operator named (the
    spider marks it ``named``) is fetched wherever it is."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        scope = scope_of(self.crawler)
        if scope is None or request.meta.get("named") or scope.allows(request.url):
            return None
        self.crawler.stats.inc_value("vnnews/off_site")
        raise OffSite(f"outside the site: {request.url}")


class ConfinedRedirects:
    """Each redirect hop checked before it is followed: a hop to the paper's real
    domain during a mirror run goes to the mirror; any other hop off the site ends the
    request (a 3xx) or is ignored (a meta refresh: the page itself is kept)."""

    follow_off_site_as_failure = True

    def process_response(self, request, response, spider=None):
        result = super().process_response(request, response)
        scope = scope_of(self.crawler)
        if scope is None or not isinstance(result, Request) or scope.allows(result.url):
            return result
        mirrored = scope.fetch_url(canonicalize(result.url))
        if scope.allows(mirrored):
            return result.replace(url=mirrored)
        self.crawler.stats.inc_value("vnnews/off_site_redirect")
        if not self.follow_off_site_as_failure:
            return response
        raise OffSite(f"redirected to {result.url}, outside the site")


class RedirectMiddleware(ConfinedRedirects, BaseRedirect):
    """Scrapy's 3xx redirects, each hop confined to the site."""


class MetaRefreshMiddleware(ConfinedRedirects, BaseMetaRefresh):
    """Scrapy's meta refresh, confined to the site; a refresh elsewhere is not followed."""

    follow_off_site_as_failure = False


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retry, plus: on 429/503 wait what ``Retry-After`` says (up to a bound)
    before retrying, instead of hammering a server that asked us to slow down."""

    def __init__(self, settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX", 120)

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        reason = response_status_message(response.status)
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if response.status in (429, 503) and wait is not None:
            if wait > self.max_wait:
                return response  # the server wants a longer pause than a run can give
            retry = self._retry(request, reason)
            if retry is None:
                return response
            await asyncio.sleep(wait)
            return retry
        return self._retry(request, reason) or response


class DisallowAll:
    """The rules when robots.txt could not be read: nothing is allowed (RFC 9309
    2.3.1.4: a server error, a timeout or no answer means "assume complete disallow")."""

    sitemaps: list[str] = []

    def __init__(self, reason: str):
        self.reason = reason

    def allowed(self, url, user_agent) -> bool:
        return False


class RobotsTxtMiddleware(BaseRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, read as RFC 9309 says, and with every request
    that arrives while robots.txt is still downloading made to wait for the rules.

    - 2xx: the rules; 4xx (no robots.txt): everything allowed; 5xx, a timeout, a refused
      connection or a robots.txt that redirects off the site: everything disallowed
      for this run, and each refused request says why (``failures.message``). Scrapy
      reads both failures as "allowed" and logs a traceback for the second.
    - Scrapy 2.19 hands the parsed rules only to the first waiter: the pending
      Deferred's result becomes None after it, and None means "allowed", so the start
      requests issued together slipped past a `Disallow: /` (seen in tests/test_crawl.py).
    """

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred = Deferred()

            def relay(result):
                waiter.callback(result)
                return result  # leave the rules in place for the next waiter

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        if netloc in self._parsers:
            return pending
        self._parsers[netloc] = Deferred()
        url = urlparse_cached(request)
        robots = Request(
            f"{url.scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        try:
            response = await self.crawler.engine.download_async(robots)
        except Exception as exc:  # no answer: reported by the run, no traceback
            reason = f"robots.txt could not be read: {exc}".rstrip(".")
            logger.info("%s: everything disallowed for this run (RFC 9309)", reason)
            self._settle(netloc, DisallowAll(reason))
        else:
            await self._parse_robots(response, netloc, request)
        self._stats.inc_value("robotstxt/request_count")
        return self._parsers[netloc]

    async def _parse_robots(self, response, netloc, request):
        if response.status >= 500:
            reason = f"robots.txt answered {response.status}"
            logger.info("%s: everything disallowed for this run (RFC 9309)", reason)
            self._settle(netloc, DisallowAll(reason))
        elif response.status >= 400:  # no robots.txt: no rules
            await super()._parse_robots(response.replace(body=b""), netloc, request)
        else:
            await super()._parse_robots(response, netloc, request)

    def _settle(self, netloc: str, rules) -> None:
        pending = self._parsers[netloc]
        self._parsers[netloc] = rules
        if isinstance(pending, Deferred):
            pending.callback(rules)

    def process_request_2(self, rp, request) -> None:
        if isinstance(rp, DisallowAll):
            self._stats.inc_value("robotstxt/forbidden")
            raise IgnoreRequest(f"Forbidden by robots.txt: {rp.reason}, so RFC 9309 allows nothing")
        super().process_request_2(rp, request)
