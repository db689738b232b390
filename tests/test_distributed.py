"""A crawl shared through a real Redis (Debian's redis-server on a free port): two
scrapy-redis workers and one `vnnews ingest` writer build the same archive, row for
row, as one process; a worker killed with SIGKILL mid-crawl loses nothing; the delay
per domain holds across workers."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import faultserver as fs
from tests.sitegen import SiteSpec, build_site
from tests.test_killed_crawl import assert_sound, generated_pages
from vnnews.localsite import free_port, wait_for_port

PAGES = 60
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(
    not os.path.exists(REDIS_SERVER),
    reason="redis-server missing: `make test` installs Debian's redis-server when root",
)
# Compared whole, but for what differs between any two runs (when, which run).
RUN_COLUMNS = {"fetched_at", "first_seen_at", "updated_at", "crawl_id"}


@pytest.fixture
def redis_url(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port, seconds=20)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pages = generated_pages(PAGES)
    root = build_site(
        tmp_path_factory.mktemp("shared-site") / "site",
        pages,
        SiteSpec(feed=False, sitemap=True, listing=False),
    )
    slow = {p: fs.hang(0.02) for p, _, _ in pages}  # so that a kill lands mid-crawl
    with fs.FaultSite(root, slow) as running:
        yield running


def worker(url: str, redis: str, **settings) -> subprocess.Popen:
    cmd = [fs.VNNEWS, "crawl", url, "--redis", redis, "--delay", "0"]
    for name, value in {"VNNEWS_PROGRESS_SECONDS": 0, **settings}.items():
        cmd += ["--set", f"{name}={value}"]
    return subprocess.Popen(
        cmd, cwd=fs.REPO, env=fs.crawl_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def ingest(redis: str, db: Path) -> subprocess.Popen:
    cmd = [fs.VNNEWS, "ingest", "--redis", redis, "--db", str(db)]
    return subprocess.Popen(cmd, cwd=fs.REPO, env=fs.crawl_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def rows(db: Path) -> dict[str, dict]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    found = {
        r["url"]: {k: r[k] for k in r.keys() if k not in RUN_COLUMNS}  # noqa: SIM118
        for r in conn.execute("select * from articles")
    }
    conn.close()
    return found


def stored(db: Path) -> int:
    try:
        return len(rows(db))
    except sqlite3.Error:  # the writer is still creating the schema
        return 0


@pytest.fixture(scope="module")
def reference(site, tmp_path_factory):
    db = tmp_path_factory.mktemp("single") / "archive.db"
    start = len(site.log)
    result = fs.run_crawl(site.url + "/", db, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    site.single_run_hits = Counter(p for p, _ in site.log[start:] if p.endswith(".html"))
    return rows(db)


def finish(procs: list[subprocess.Popen], timeout: float = 180) -> None:
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_workers_and_one_writer_build_the_same_archive(site, reference, redis_url, tmp_path):
    db = tmp_path / "archive.db"
    start = len(site.log)
    writer = ingest(redis_url, db)
    workers = [worker(site.url + "/", redis_url) for _ in range(2)]
    finish(workers)
    finish([writer])
    assert [w.returncode for w in workers] == [0, 0], workers[0].stderr.read()[-3000:]
    assert writer.returncode == 0, writer.stderr.read()[-3000:]
    assert_sound(db)
    assert rows(db) == reference
    assert len(reference) == PAGES
    conn = sqlite3.connect(db)
    assert [s for (s,) in conn.execute("select status from crawls")] == ["ok"]
    # Each page was fetched as often as by one process (once; a redirect's target
    # twice), by one worker or the other.
    assert Counter(p for p, _ in site.log[start:] if p.endswith(".html")) == site.single_run_hits


def test_a_worker_killed_mid_crawl_loses_nothing(site, reference, redis_url, tmp_path):
    db = tmp_path / "archive.db"
    writer = ingest(redis_url, db)
    doomed = worker(site.url + "/", redis_url)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and stored(db) < 5:
        time.sleep(0.05)
    survivor = worker(site.url + "/", redis_url)
    time.sleep(0.5)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    assert doomed.returncode == -signal.SIGKILL, "the worker ended before it could be killed"
    finish([survivor, writer])
    assert survivor.returncode == 0, survivor.stderr.read()[-3000:]
    assert writer.returncode == 0, writer.stderr.read()[-3000:]
    assert_sound(db)
    assert rows(db) == reference


def test_the_delay_per_domain_holds_across_workers(site, redis_url, tmp_path):
    db = tmp_path / "archive.db"
    delay = 0.3
    writer = ingest(redis_url, db)
    workers = [
        worker(site.url + "/", redis_url, DOWNLOAD_DELAY=delay, AUTOTHROTTLE_ENABLED=False,
               VNNEWS_MAX_PAGES=8)
        for _ in range(2)
    ]  # fmt: skip
    start = len(site.log)
    finish(workers)
    finish([writer])
    times = sorted(t for path, t in site.log[start:] if not path.endswith("robots.txt"))
    assert len(times) >= 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # A lower bound only: both workers together never came closer than the delay
    # (less a little for the server's own clock between arrival and logging).
    assert min(gaps) >= delay * 0.8, gaps
