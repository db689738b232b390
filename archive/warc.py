"""Raw captures in and out as standard WARC (ISO 28500), with warcio.

``export_warc`` writes every raw capture of the archive as a ``response`` record (the
HTTP status line, the headers as received, the body as stored, the fetch time as
``WARC-Date``) preceded by its ``request`` record, so pywb, warcio and other web
archive tools read it. The target URI is the article's archived URL (a mirror's
address, when it was fetched from one, is in ``WARC-Source-URI``), so importing the
file again gives the same articles.

``import_warc`` builds articles from a WARC written by any crawler (Browsertrix,
Heritrix, wget, ours): each HTML ``response`` goes through ``archive.accept`` like a
crawled page, under the registered paper that owns its URL (or a generic profile), and
is stored with its raw capture. What acceptance refuses as a failure is recorded in
``failures``, as a crawl would.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import store
from archive.accept import RawResponse, Rejection, accept
from archive.scope import Scope
from archive.sites import SITES, generic_profile, site_for_url
from archive.urls import canonicalize

# Headers that described the bytes on the wire, not the body we keep (Scrapy hands
# over the body decompressed and de-chunked): written again from what is stored.
WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


def warc_date(iso: str | None) -> str:
    """An archive time (ISO with offset) as a WARC-Date (UTC, ``Z``)."""
    moment = datetime.fromisoformat(iso) if iso else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_time(warc: str | None) -> str | None:
    """A WARC-Date as the archive's ISO form (``+00:00``)."""
    if not warc:
        return None
    moment = datetime.fromisoformat(warc.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def status_line(status: int | None) -> str:
    status = status or 200
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def http_headers(capture: dict) -> list[tuple[str, str]]:
    headers = [
        (name, value)
        for name, value in (capture["headers"] or {}).items()
        if name.lower() not in WIRE_HEADERS
    ]
    if not any(name.lower() == "content-type" for name, _ in headers) and capture["content_type"]:
        headers.append(("Content-Type", capture["content_type"]))
    headers.append(("Content-Length", str(len(capture["body"]))))
    return headers


def export_warc(db: sqlite_utils.Database, path: str | Path) -> int:
    """Write every raw capture to a WARC file (gzipped per record when the name ends
    in ``.gz``); return the number of response records."""
    path = Path(path)
    count = 0
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
        info = {"software": "vnnews", "format": "WARC File Format 1.1"}
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for capture in store.iter_captures(db):
            write_capture(writer, capture)
            count += 1
    return count


def write_capture(writer: WARCWriter, capture: dict) -> None:
    """One capture as its request and response records."""
    uri, date = capture["url"], warc_date(capture["fetched_at"])
    extra = {"WARC-Date": date}
    if capture.get("fetch_url"):
        extra["WARC-Source-URI"] = capture["fetch_url"]
    response = writer.create_warc_record(
        uri,
        "response",
        payload=io.BytesIO(capture["body"]),
        http_headers=StatusAndHeaders(
            status_line(capture["status"]), http_headers(capture), protocol="HTTP/1.1"
        ),
        warc_headers_dict=extra,
    )
    parts = urlsplit(uri)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = writer.create_warc_record(
        uri,
        "request",
        payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders(
            f"GET {target} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True
        ),
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    writer.write_record(request)
    writer.write_record(response)


def read_responses(path: str | Path):
    """(url, fetched_at, RawResponse) for every HTTP response record of a WARC, its
    body de-chunked and decompressed as a browser would read it."""
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")
            if not uri.startswith(("http://", "https://")):
                continue
            status = int(record.http_headers.get_statuscode() or 0)
            headers = dict(record.http_headers.headers)
            body = record.content_stream().read()
            fetched_at = iso_time(record.rec_headers.get_header("WARC-Date"))
            yield uri, fetched_at, RawResponse(uri, status, headers, body)


def import_warc(db: sqlite_utils.Database, path: str | Path) -> Counter:
    """Articles from a WARC file, through the crawl's acceptance rules; counts by
    outcome (new, updated, unchanged, not_article, a failure kind, not_ok)."""
    counts: Counter = Counter()
    store.save_sites(db, SITES.values())  # every paper has its row, as after a crawl
    for uri, fetched_at, raw in read_responses(path):
        if not 200 <= raw.status < 300:
            counts["not_ok"] += 1  # redirects and errors are not pages to archive
            continue
        url = canonicalize(uri)
        profile = site_for_url(url) or generic_profile(url)
        outcome = accept(raw, url, profile, Scope.of(profile))
        if isinstance(outcome, Rejection):
            counts[outcome.kind] += 1
            if outcome.is_failure:
                store.record_failure(db, url=uri, site=profile.name, crawl_id=None,
                                     kind=outcome.kind, message=outcome.message,
                                     http_status=raw.status)  # fmt: skip
            continue
        outcome.site = profile.name
        page = store.RawPage(raw.body, raw.status, raw.content_type, raw.encoding,
                             raw.headers, uri)  # fmt: skip
        counts[store.save_article(db, outcome, fetched_at, raw=page)] += 1
    return counts
