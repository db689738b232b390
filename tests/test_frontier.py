"""Pending requests wait on disk, not in memory (crawler/frontier.py): Scrapy's disk
queues in a directory beside the archive, fresh for each run and removed after it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from crawler.frontier import PREFIX, frontier_root
from tests import faultserver as fs
from tests.sitegen import SiteSpec, build_site
from tests.test_killed_crawl import generated_pages


def test_a_run_gets_a_fresh_frontier_and_leaves_none_behind(tmp_path):
    db = tmp_path / "archive.db"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{PREFIX}{dead.pid}"  # left by a killed run
    (stale / "0").mkdir(parents=True)
    alive = tmp_path / f"{PREFIX}{os.getppid()}"  # a run still going on beside it
    alive.mkdir()
    with frontier_root(db) as root:
        assert root.parent == tmp_path and root.name == f"{PREFIX}{os.getpid()}"
        assert not stale.exists() and alive.exists()
        (root / "0" / "requests.queue").mkdir(parents=True)
    assert not root.exists()


def test_a_crawl_queues_its_requests_on_disk(tmp_path):
    root = build_site(
        tmp_path / "site", generated_pages(12), SiteSpec(feed=False, sitemap=True, listing=False)
    )
    db = tmp_path / "archive.db"
    with fs.FaultSite(root) as site:
        done = fs.run_crawl(site.url + "/", db, LOG_LEVEL="INFO")
    assert done.returncode == 0, done.stderr[-3000:]
    on_disk = re.search(r"'scheduler/enqueued/disk': (\d+)", done.stderr)
    assert on_disk and int(on_disk.group(1)) >= 12, done.stderr[-3000:]
    assert "scheduler/enqueued/memory" not in done.stderr  # none fell back to memory
    assert list(tmp_path.glob(f"{PREFIX}*")) == []
