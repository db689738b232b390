"""Downloader middlewares: retries that back off the way servers ask them to, robots.txt
rules for every early request, and a guard that turns garbage answers into failures."""

from __future__ import annotations

import asyncio
import html
import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as BaseRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
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


# ---------------------------------------------------------------- page guard


class BadPage(IgnoreRequest):
    """A page answered 2xx with something that is not a page: the request's errback
    records it as a failure of this ``kind`` (never an article, never silently)."""

    kind = "bad_page"

    def __init__(self, message: str, response=None):
        super().__init__(message)
        self.response = response  # its status goes to failures.http_status


class EmptyPage(BadPage):
    kind = "empty"


class BinaryPage(BadPage):
    kind = "binary"


class ErrorPage(BadPage):
    """An error page served with 200 ("soft 404")."""

    kind = "soft_404"


BAD_PAGE_KINDS = {cls.__name__: cls.kind for cls in (BadPage, EmptyPage, BinaryPage, ErrorPage)}

# Signatures of files that are never HTML, whatever the Content-Type says.
BINARY_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG image",
    b"GIF87a": "GIF image",
    b"GIF89a": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"RIFF": "RIFF (WebP, WAV, AVI)",
    b"PK\x03\x04": "ZIP archive (or DOCX/XLSX)",
    b"%PDF-": "PDF document",
    b"\x1f\x8b": "gzip data",
    b"Rar!\x1a\x07": "RAR archive",
    b"7z\xbc\xaf\x27\x1c": "7-Zip archive",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "MS Office document",
    b"ID3": "MP3 audio",
    b"OggS": "Ogg media",
    b"\x00\x00\x01\x00": "icon",
    b"\x7fELF": "executable",
    b"MZ": "executable",
}
# Two-byte signatures are too short to trust alone; they also need control bytes.
WEAK_SIGNATURES = {b"MZ", b"\x1f\x8b"}
TEXT_CONTROL = set(b"\t\n\r\f\x1b")
UNICODE_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

# Headings of error pages ("Không tìm thấy trang", "404 Not Found", "Trang không tồn
# tại", "Bài viết đã bị xóa"): the whole <h1>, or the <title> before its " - Site".
ERROR_HEADING = re.compile(
    r"""^(?:(?:lỗi|error|http)\s*)?(?:404|410)?[\s:.!–—-]*
    (?:
      (?:page\s+|trang\s+)?not\s+found
      | không\s+tìm\s+thấy(?:\s+(?:trang|nội\s+dung|bài\s+viết|dữ\s+liệu|đường\s+dẫn|tin\s+bài|tin))?
        (?:\s+(?:yêu\s+cầu|bạn\s+(?:yêu\s+cầu|tìm|cần)))?
      | (?:trang|nội\s+dung|bài\s+viết|đường\s+dẫn|liên\s+kết|tin\s+bài|tin)
        (?:\s+(?:bạn\s+)?(?:yêu\s+cầu|tìm|truy\s+cập))?\s+(?:không\s+tồn\s+tại|không\s+còn\s+tồn\s+tại)
      | (?:trang|nội\s+dung|bài\s+viết|tin\s+bài)\s+(?:đã\s+bị\s+(?:xóa|xoá|gỡ)|đã\s+bị\s+gỡ\s+bỏ)
    )?[\s.!]*$""",
    re.I | re.X,
)
TITLE_SEPARATOR = re.compile(r"\s+[|–—:-]\s+")
TAG = re.compile(r"<[^>]*>")


def binary_kind(body: bytes) -> str | None:
    """What a body is when it is not text (an image, an archive...), else None."""
    head = body[:4096]
    if head.startswith(UNICODE_BOMS):
        return None
    for signature, name in BINARY_SIGNATURES.items():
        if head.startswith(signature) and (
            signature not in WEAK_SIGNATURES or control_ratio(head) > 0.05
        ):
            return name
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    if control_ratio(head) > 0.1:
        return "binary data (control bytes)"
    return None


def control_ratio(head: bytes) -> float:
    if not head:
        return 0.0
    return sum(1 for b in head if b < 32 and b not in TEXT_CONTROL) / len(head)


def is_error_heading(text: str | None) -> bool:
    """Whether a page heading is an error message rather than a headline."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()
    return bool(text) and len(text) <= 80 and ERROR_HEADING.match(text) is not None


def error_page_heading(text: str) -> str | None:
    """The error heading of an HTML error page (first <h1>, or <title> up to its site
    name), or None for any other page."""
    candidates = []
    for tag in ("h1", "title"):
        match = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}\s*>", text, re.I | re.S)
        if match:
            heading = html.unescape(TAG.sub(" ", match.group(1)))
            candidates.append(heading)
            if tag == "title":
                candidates.append(TITLE_SEPARATOR.split(heading.strip(), maxsplit=1)[0])
    return next((c.strip() for c in candidates if is_error_heading(c)), None)


def head_text(body: bytes, encoding: str | None, limit: int = 256 * 1024) -> str:
    """The first `limit` bytes of a page as text, cut at a tag so that no multi-byte
    character is split, decoded the way the extractor decodes."""
    from archive.html import decode_html

    head = body[:limit]
    if len(body) > limit:
        cut = head.rfind(b"<")
        head = head[:cut] if cut > 0 else head
    return decode_html(head, encoding)


class PageGuardMiddleware:
    """Answers that are not pages never reach extraction: a 2xx page response with an
    empty body, with image/archive bytes labelled as HTML, or showing an error page
    ("Không tìm thấy trang", "404 Not Found") is turned into a failure of kind
    ``empty``, ``binary`` or ``soft_404``, which the spider's errback hands to the
    pipeline to record. Feeds, sitemaps, JSON listings and robots.txt are not guarded
    (gzip sitemaps are binary on purpose). Runs after decompression and redirects
    (priority below 590)."""

    PAGE_CALLBACKS = ("parse_page",)

    def process_response(self, request, response, spider=None):
        if not 200 <= response.status < 300 or not self.is_page_request(request):
            return response
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        if content_type and "html" not in content_type and not content_type.startswith("text/"):
            return response  # a PDF or image link: not a page, the spider ignores it
        body = response.body
        if not body.strip():
            raise EmptyPage(f"{response.status} with an empty body", response)
        kind = binary_kind(body)
        if kind:
            raise BinaryPage(f"{kind} served as {content_type or 'no Content-Type'}", response)
        from archive.html import content_type_encoding

        heading = error_page_heading(head_text(body, content_type_encoding(content_type)))
        if heading:
            raise ErrorPage(f"error page served with {response.status}: {heading!r}", response)
        return response

    def is_page_request(self, request) -> bool:
        if "page_guard" in request.meta:
            return bool(request.meta["page_guard"])
        return getattr(request.callback, "__name__", None) in self.PAGE_CALLBACKS
