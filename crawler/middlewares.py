"""Downloader middlewares: retries that back off the way servers ask them to, and
robots.txt rules for every early request. (Whether a fetched page is stored, including
the guard against empty, binary and error pages, is archive.accept's decision.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as BaseRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred


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


class RobotsTxtMiddleware(BaseRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that arrives while robots.txt
    is still downloading made to wait for the parsed rules.

    Scrapy 2.19 hands the parsed rules only to the first waiter: the pending Deferred's
    result becomes None after it, and None means "allowed", so the start requests
    issued together slipped past a `Disallow: /` (seen in tests/test_crawl.py).
    """

    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred = Deferred()

            def relay(result):
                waiter.callback(result)
                return result  # leave the rules in place for the next waiter

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)
