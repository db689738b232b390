"""Crash safety: a crawl killed with SIGKILL while it writes leaves a sound archive
(SQLite integrity, full-text index in step with the articles), the next run completes
it to exactly what an uninterrupted run archives, and readers (Datasette) never see an
error while a crawl writes."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from archive import store
from archive.check import check
from tests import faultserver as fs
from tests.sitegen import SiteSpec, article_path, build_site

PAGES = 160
KILL_AFTER = 30  # articles stored before the kill
LATENCY = 0.01  # seconds each article page takes to answer, so the kill lands mid-run


def generated_pages(count: int) -> list[tuple[str, str, str]]:
    """`count` article pages made from the golden pages of families A, C and E, each
    with its own URL (the id gets a suffix) and its own headline."""
    # Pages whose headline is written plainly (not with entities), so it can be changed.
    records = [r for family in "ace" for r in fs.golden(family) if r["html"].count(r["title"]) > 1]
    pages = []
    for i in range(count):
        record = records[i % len(records)]
        title = record["title"]
        new_title = f"{title} (kỳ {i + 1})"
        html = record["html"].replace(title, new_title)
        assert html != record["html"]
        path = re.sub(
            r"(\d+)(\.html?)$", rf"\g<1>{i:03d}\g<2>", article_path(record["url"]), count=1
        )
        assert path != article_path(record["url"])
        pages.append((path, new_title, html))
    assert len({p for p, _, _ in pages}) == count
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = build_site(
        tmp_path_factory.mktemp("big-site") / "site",
        generated_pages(PAGES),
        SiteSpec(feed=False, sitemap=True, listing=False),
    )
    slow = {p: fs.hang(LATENCY) for p, _, _ in generated_pages(PAGES)}
    with fs.FaultSite(root, slow) as running:
        yield running


def archive(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    rows = conn.execute("select url, title from articles").fetchall()
    conn.close()
    return dict(rows)


def assert_sound(db: Path) -> None:
    """SQLite's integrity, the FTS index matching the articles row for row, and every
    article with its raw page and tags, nothing orphaned."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        conn.execute("insert into articles_fts(articles_fts) values('integrity-check')")
        # With rank 1 the check compares the index with the articles table itself.
        conn.execute("insert into articles_fts(articles_fts, rank) values('integrity-check', 1)")
        articles = conn.execute("select count(*) from articles").fetchone()[0]
        indexed = conn.execute("select count(*) from articles_fts_docsize").fetchone()[0]
        assert articles == indexed
        assert conn.execute(
            "select count(*) from articles where rowid not in (select id from articles_fts_docsize)"
        ).fetchone() == (0,)
        assert conn.execute(
            "select count(*) from pages where url not in (select url from articles)"
        ).fetchone() == (0,)
        assert conn.execute(
            "select count(*) from articles where url not in (select url from pages)"
        ).fetchone() == (0,)
        assert conn.execute(
            "select count(*) from article_tags where url not in (select url from articles)"
        ).fetchone() == (0,)
        assert conn.execute("select count(*), count(distinct url) from articles").fetchone() == (
            articles,
            articles,
        )
    finally:
        conn.close()


class Reader(threading.Thread):
    """Reads the way Datasette does (a read-only connection) in a bounded loop: counts,
    and a full-text search, recording every error."""

    def __init__(self, db: Path, stop: threading.Event, max_reads: int = 5000):
        super().__init__(daemon=True)
        self.db, self.stop, self.max_reads = db, stop, max_reads
        self.errors: list[str] = []
        self.counts: list[int] = []

    def run(self) -> None:
        conn = sqlite3.connect(f"{self.db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        deadline = time.monotonic() + 90
        try:
            for _ in range(self.max_reads):
                if self.stop.is_set() or time.monotonic() > deadline:
                    break
                try:
                    (count,) = conn.execute("select count(*) from articles").fetchone()
                    conn.execute(
                        "select a.url, a.title from articles_fts join articles a "
                        "on a.rowid = articles_fts.rowid where articles_fts match ? limit 20",
                        ["nong OR dan OR ha"],
                    ).fetchall()
                    self.counts.append(count)
                except sqlite3.Error as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.005)
        finally:
            conn.close()


@pytest.fixture(scope="module")
def uninterrupted(site, tmp_path_factory):
    """The reference: one crawl to the end, with a reader hammering the archive."""
    db = tmp_path_factory.mktemp("reference") / "archive.db"
    store.open_db(db).close()  # as `vnnews crawl` does: schema (and WAL) first
    stop = threading.Event()
    reader = Reader(db, stop)
    reader.start()
    try:
        result = fs.run_crawl(site.url + "/", db, timeout=120)
    finally:
        stop.set()
        reader.join(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    return db, reader


@pytest.fixture(scope="module")
def killed(site, tmp_path_factory):
    """A crawl killed with SIGKILL once KILL_AFTER articles are in."""
    db = tmp_path_factory.mktemp("killed") / "archive.db"
    store.open_db(db).close()
    proc = fs.start_crawl(site.url + "/", db)
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    stored = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            stored = conn.execute("select count(*) from articles").fetchone()[0]
            if stored >= KILL_AFTER:
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        conn.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the crawl ended before it could be killed"
    return db, stored


def test_reference_crawl_archives_every_page(uninterrupted):
    db, _ = uninterrupted
    rows = archive(db)
    assert len(rows) == PAGES
    assert len(set(rows.values())) == PAGES  # every generated headline, once
    assert_sound(db)


def test_readers_see_no_error_while_a_crawl_writes(uninterrupted):
    _, reader = uninterrupted
    assert reader.errors == []
    assert len(reader.counts) > 10
    assert any(0 < c < PAGES for c in reader.counts)  # it did read while the crawl wrote
    assert reader.counts == sorted(reader.counts)  # a reader never sees rows vanish


def test_a_killed_crawl_leaves_a_sound_archive(killed):
    db, stored_at_kill = killed
    assert_sound(db)
    rows = archive(db)
    assert KILL_AFTER <= stored_at_kill <= len(rows) < PAGES
    conn = sqlite3.connect(db)
    (status,) = conn.execute("select status from crawls order by id desc limit 1").fetchone()
    assert status == "running"  # nobody closed it: the process died
    report = check(db)
    assert report["ok"], report["problems"]


def test_the_next_run_completes_the_archive_to_what_an_uninterrupted_run_has(
    killed, uninterrupted, site
):
    db, _ = killed
    result = fs.run_crawl(site.url + "/", db, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_sound(db)
    reference = archive(uninterrupted[0])
    # Same pages (the site's origin is the same), same headlines, no duplicates.
    assert archive(db) == reference
    conn = sqlite3.connect(db)
    statuses = [s for (s,) in conn.execute("select status from crawls order by id")]
    assert statuses == ["interrupted", "ok"]
