"""What went wrong with a URL, as one stable word for ``failures.kind``.

The spider names every failure here, so the pipeline, the ``crawls`` counts and the
operator all speak the same words whatever Scrapy or Twisted called the exception.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

# Failure kinds, as recorded in ``failures.kind`` (documented for operators):
#   http            the server answered 4xx/5xx (http_status says which)
#   timeout         no answer within DOWNLOAD_TIMEOUT
#   reset           the connection was closed or reset before a complete answer
#   truncated       the body ended before its Content-Length (data loss)
#   refused, dns    nobody listening / the host name does not resolve
#   too_large       larger than DOWNLOAD_MAXSIZE (as sent, or once decompressed: a
#                   gzip bomb, an HTML bomb, a sitemap bomb)
#   too_many_redirects  more than REDIRECT_MAX_TIMES redirects (a loop, usually)
#   robots          robots.txt forbids the URL (or could not be read: 5xx, timeout,
#                   no answer; RFC 9309 says assume complete disallow)
#   off_site        a redirect led outside the paper's origins (archive/scope.py);
#                   not followed, so nothing of the other site is fetched
#   store_error     the article could not be written to the database (the run stops)
#   foreign         the article's URL is archived under another paper, and stays there
#   listing_cut     a walk through links was cut: too many pages in a row that were
#                   not articles (VNNEWS_MAX_JUNK in crawler/settings.py)
# plus the pages archive.accept refuses as failures (its FAILURE_KINDS): empty, binary,
# soft_404 (a 2xx answer that is no page) and mojibake (garbled text).
KIND_BY_NAME = {
    "DownloadTimeoutError": "timeout",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "DownloadFailedError": "reset",
    "ResponseNeverReceived": "reset",
    "ResponseFailed": "reset",
    "ConnectionLost": "reset",
    "ConnectionDone": "reset",
    "ConnectionAborted": "reset",
    "ResponseDataLossError": "truncated",
    "DownloadConnectionRefusedError": "refused",
    "ConnectionRefusedError": "refused",
    "ConnectError": "refused",
    "CannotResolveHostError": "dns",
    "DNSLookupError": "dns",
    # Scrapy cancels a download only when it outgrows DOWNLOAD_MAXSIZE.
    "DownloadCancelledError": "too_large",
    "CancelledError": "too_large",
}


def failure_kind(failure) -> str:
    """The stable kind of a Twisted failure from a request's errback."""
    exc = failure.value
    name = type(exc).__name__
    text = str(exc)
    if "robots.txt" in text:
        return "robots"
    if name == "HttpError":
        return "http"
    if name == "OffSite":
        return "off_site"
    if isinstance(exc, IgnoreRequest) and "redirection" in text:
        return "too_many_redirects"
    if isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in text:
        return "too_large"  # decompressed beyond the limit (HttpCompressionMiddleware)
    if name in KIND_BY_NAME:
        return KIND_BY_NAME[name]
    if "timeout" in name.lower() or "timed out" in text.lower():
        return "timeout"
    return name
