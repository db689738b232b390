"""Reliability: a real crawl of a local site that fails in every way a provincial
server does. Every good article is stored, nothing else is, every page that failed for
good is recorded with its reason, the run's counts say so, the run ends in bounded
time, and the next run fetches the failed pages again."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from archive.accept import binary_kind, garbage_kind, is_error_heading
from archive.models import Article
from archive.quality import FIELDS, normalise
from tests import faultserver as fs
from tests.sitegen import SiteSpec, article_path, build_site

RETRIES = 3  # RETRY_TIMES in crawler/settings.py: a URL gets RETRIES + 1 attempts
TIMEOUT = 1  # DOWNLOAD_TIMEOUT for these runs (the hanging pages sleep 5 s)
MAX_RUN_SECONDS = 45

# Pages that fail for good: (fault, failures.kind, failures.http_status, attempts).
PERMANENT = {
    "/het-gio-cho-mai-khong-tra-loi-901.html": (fs.hang(5), "timeout", None, RETRIES + 1),
    "/ngat-ket-noi-giua-chung-902.html": (fs.reset(), "reset", None, RETRIES + 1),
    "/noi-dung-bi-cat-ngang-903.html": (fs.truncated(), "truncated", None, RETRIES + 1),
    "/chuyen-huong-vong-tron-904.html": (
        fs.redirect_loop("/chuyen-huong-vong-tron-904.html"),
        "too_many_redirects",
        None,
        1,
    ),
    "/anh-png-gia-lam-trang-905.html": (fs.binary(), "binary", 200, 1),
    "/tep-zip-gia-lam-trang-906.html": (fs.binary(fs.ZIP_BYTES), "binary", 200, 1),
    "/trang-20-mb-907.html": (fs.huge(), "too_large", None, 1),
    "/trang-20-mb-khong-do-dai-908.html": (fs.huge(chunked=True), "too_large", None, 1),
    "/trang-rong-909.html": (fs.empty(), "empty", 200, 1),
    "/khong-tim-thay-trang-910.html": (fs.soft_404(), "soft_404", 200, 1),
    "/loi-may-chu-vinh-vien-911.html": (fs.server_error(), "http", 500, RETRIES + 1),
}
# Hostile pages that are not articles: skipped without harm, never stored.
HOSTILE = {
    "/the-long-nhau-5000-cap-921.html": fs.serve(fs.nested_html(5000)),
    "/html-hong-nat-922.html": fs.serve(fs.malformed_html()),
}
MISSING_KINDS = {"soft_404"}


def golden_records() -> list[dict]:
    return fs.golden("a") + fs.golden("c") + fs.golden("e")


def failures(db: Path, crawl_id: int) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("select * from failures where crawl_id = ?", [crawl_id]).fetchall()
    return {unquote(urlsplit(r["url"]).path): dict(r) for r in rows}


def stored(db: Path) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return {
        unquote(urlsplit(r["url"]).path): dict(r) for r in conn.execute("select * from articles")
    }


def crawls(db: Path) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("select * from crawls order by id")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two real crawls of a faulty site: the first with every fault on, the second after
    one permanently failing article came back."""
    tmp = tmp_path_factory.mktemp("faults")
    records = golden_records()
    paths = [article_path(r["url"]) for r in records]
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    mangled = fs.mojibake(records[0]["html"])
    bad_pages = {
        **{p: fault for p, (fault, *_) in PERMANENT.items()},
        **HOSTILE,
        "/chu-bi-ma-hoa-hai-lan-912.html": fs.serve(mangled.encode(), "text/html; charset=utf-8"),
    }
    pages += [(p, "Trang lỗi", "<html><body>placeholder</body></html>") for p in bad_pages]
    root = build_site(tmp / "site", pages, SiteSpec(feed=False, sitemap=True, listing=False))

    # A fifth of the articles fail once with 503 + Retry-After; one gets 429 once, one
    # hangs once, one is reset once: all must still be stored. One fails for good (500)
    # until the second run.
    once = {p: fs.unavailable_once() for p in paths[1::5]}
    once[paths[3]] = fs.throttled_once()
    once[paths[7]] = fs.hang(5, times=1)
    once[paths[9]] = fs.reset(times=1)
    healed = paths[12]
    faults = {**bad_pages, **once, healed: fs.server_error()}
    assert len(set(faults)) == len(bad_pages) + len(once) + 1

    db = tmp / "archive.db"
    out = {"records": records, "paths": paths, "once": once, "healed": healed, "db": db}
    with fs.FaultSite(root, faults) as site:
        started = time.monotonic()
        first = fs.run_crawl(site.url + "/", db, timeout=120, DOWNLOAD_TIMEOUT=TIMEOUT)
        out["first_seconds"] = time.monotonic() - started
        out["first"] = first
        out["first_db"] = tmp / "after-first-run.db"
        with sqlite3.connect(out["first_db"]) as copy:
            sqlite3.connect(db).backup(copy)
        out["first_log"] = list(site.log)
        out["first_hits"] = {p: site.hits(p) for p in [*paths, *bad_pages]}

        site.faults.pop(healed)  # the server serves it again
        started = time.monotonic()
        out["second"] = fs.run_crawl(site.url + "/", db, timeout=120, DOWNLOAD_TIMEOUT=TIMEOUT)
        out["second_seconds"] = time.monotonic() - started
        out["second_hits"] = {p: site.hits(p) - out["first_hits"][p] for p in out["first_hits"]}
    return out


def test_crawl_finishes_in_bounded_time(runs):
    assert runs["first"].returncode == 0, runs["first"].stderr[-3000:]
    assert runs["second"].returncode == 0, runs["second"].stderr[-3000:]
    assert runs["first_seconds"] < MAX_RUN_SECONDS
    assert runs["second_seconds"] < MAX_RUN_SECONDS
    assert "Traceback" not in runs["first"].stderr + runs["second"].stderr


def test_every_good_article_is_stored_and_nothing_else(runs):
    rows = stored(runs["first_db"])
    expected = {p for p in runs["paths"] if p != runs["healed"]}
    assert set(rows) == expected
    by_path = {article_path(r["url"]): r for r in runs["records"]}
    for path, row in rows.items():
        row["tags"] = json.loads(row["tags"])
        want = by_path[path]
        assert {f: normalise(row[f]) for f in FIELDS} == {f: normalise(want[f]) for f in FIELDS}


def test_pages_that_fail_once_are_retried_within_the_run_after_retry_after(runs):
    log = runs["first_log"]
    for path, fault in runs["once"].items():
        times = [t for p, t in log if p == path]
        assert len(times) >= 2, path
        if fault.headers.get("Retry-After"):  # 503/429 with Retry-After: 1
            assert times[1] - times[0] >= 0.9, (path, times)
    conn = sqlite3.connect(runs["first_db"])
    failed_paths = {
        unquote(urlsplit(u).path) for (u,) in conn.execute("select url from failures").fetchall()
    }
    assert not failed_paths & set(runs["once"])


def test_each_permanent_failure_is_recorded_with_its_reason(runs):
    run = crawls(runs["first_db"])[0]
    rows = failures(runs["first_db"], run["id"])
    expected = {path: (kind, status, tries) for path, (_, kind, status, tries) in PERMANENT.items()}
    expected[runs["healed"]] = ("http", 500, RETRIES + 1)
    expected["/chu-bi-ma-hoa-hai-lan-912.html"] = ("mojibake", 200, 1)
    for path, (kind, status, attempts) in expected.items():
        assert path in rows, f"{path} not recorded ({kind})"
        row = rows[path]
        assert (row["kind"], row["http_status"], row["attempts"]) == (kind, status, attempts), path
        assert row["message"] and row["message"] != row["kind"], row
        assert row["site"] == run["site"]
    # Every other failure of the run is a dead link (404) from the golden pages.
    others = {p: r for p, r in rows.items() if p not in expected}
    assert {(r["kind"], r["http_status"]) for r in others.values()} <= {("http", 404)}


def test_hostile_pages_are_survived_and_not_stored(runs):
    rows = stored(runs["db"])
    for path in HOSTILE:
        assert runs["first_hits"][path] >= 1
        assert path not in rows


def test_run_summary_counts_the_failures(runs):
    run = crawls(runs["first_db"])[0]
    rows = failures(runs["first_db"], run["id"])
    missing = [
        r for r in rows.values() if r["http_status"] in (404, 410) or r["kind"] in MISSING_KINDS
    ]
    assert run["status"] == "partial"
    assert run["new"] == len(runs["paths"]) - 1
    assert run["failed"] == len(rows) - len(missing)
    assert run["missing"] == len(missing)
    assert run["robots_refused"] == 0
    assert run["finished_at"]
    assert run["last_error"]


def test_failed_pages_are_fetched_again_on_the_next_run(runs):
    second_hits = runs["second_hits"]
    assert second_hits[runs["healed"]] == 1
    for path in PERMANENT:
        assert second_hits[path] >= 1, path
    # ... while articles already archived are not fetched again.
    for path in runs["paths"]:
        if path != runs["healed"]:
            assert second_hits[path] == 0, path


def test_a_page_that_came_back_is_stored_on_the_next_run(runs):
    db = runs["db"]
    rows = stored(db)
    assert set(rows) == set(runs["paths"])
    first, second = crawls(db)
    assert second["new"] == 1
    again = failures(db, second["id"])
    assert runs["healed"] not in again
    assert set(PERMANENT) <= set(again)
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    # The raw page is kept for every article, and for nothing else.
    assert conn.execute("select count(*) from pages").fetchone()[0] == len(runs["paths"])
    assert conn.execute("select count(*), count(distinct url) from articles").fetchone() == (
        len(runs["paths"]),
        len(runs["paths"]),
    )


# ---------------------------------------------------------------- the guards, directly


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (fs.PNG_BYTES, "PNG image"),
        (fs.ZIP_BYTES, "ZIP archive (or DOCX/XLSX)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF document"),
        (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4, "gzip data"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
        (b"<html>\x00\x00\x00\x00</html>", "binary data (NUL bytes)"),
        ("<p>Việt Nam</p>".encode("utf-16"), None),  # UTF-16 with its BOM is text
        ("<html><p>Việt Nam</p></html>".encode(), None),
        (fs.encode_cp1258("<html><p>Việt Nam</p></html>"), None),
        (b"MZ is how a headline may start", None),
    ],
)
def test_binary_bodies_are_told_from_text(body, kind):
    assert binary_kind(body) == kind


@pytest.mark.parametrize(
    "heading",
    [
        "Không tìm thấy trang",
        "404 Not Found",
        "Lỗi 404 - Không tìm thấy trang",
        "Trang bạn yêu cầu không tồn tại",
        "Bài viết không tồn tại",
        "Page not found",
        "Bài viết đã bị xóa",
    ],
)
def test_error_headings_are_recognised(heading):
    assert is_error_heading(heading)


def test_no_real_headline_is_taken_for_an_error_page_or_mojibake():
    headlines = [
        "Không tìm thấy dấu vết nghi phạm sau 3 ngày truy tìm",
        "Nông dân không tìm thấy đầu ra cho quả vải",
        "Tuyến xe buýt 404 hoạt động trở lại",
    ]
    for family in "abcde":
        for record in fs.golden(family):
            headlines.append(record["title"])
            article = Article(
                url=record["url"],
                title=record["title"],
                lead=record["lead"],
                body=record["body"],
            )
            assert garbage_kind(article) is None, record["url"]
    assert not [h for h in headlines if is_error_heading(h)]
