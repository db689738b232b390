"""The page pool (crawler/pages.py) ends with its crawl: a crawl killed with SIGKILL,
which cannot shut its pool down, leaves no page worker behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests import faultserver as fs
from tests.sitegen import SiteSpec, build_site
from tests.test_killed_crawl import generated_pages


def descendants(pid: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {p for p, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_crawl_leaves_no_page_worker_behind(tmp_path):
    pages = generated_pages(40)
    root = build_site(tmp_path / "site", pages, SiteSpec(feed=False, listing=False))
    db = tmp_path / "archive.db"
    with fs.FaultSite(root, {p: fs.hang(0.05) for p, _, _ in pages}) as site:
        proc = fs.start_crawl(site.url + "/", db, VNNEWS_PAGE_WORKERS=2)
        try:
            deadline = time.monotonic() + 60
            workers: set[int] = set()
            while time.monotonic() < deadline and len(workers) < 3:  # forkserver + 2
                workers = descendants(proc.pid)
                time.sleep(0.1)
            assert len(workers) >= 3, "the pool did not start"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stderr.close()
        deadline = time.monotonic() + 30  # a bound for the test, not a measured time
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.1)
        assert not any(alive(p) for p in workers)


def test_the_readers_forkserver_has_read_a_page_and_frozen_its_heap():
    """archive/warm.py, which the readers' forkserver imports before forking them: what
    reading loads lazily (trafilatura, the place gazetteer) is loaded there, once, and
    the heap is frozen so the readers share it instead of copying it page by page."""
    import subprocess
    import sys

    code = (
        "import gc, sys; import archive.warm; from archive import places; "
        "print(gc.get_freeze_count() > 10000, 'trafilatura' in sys.modules, "
        "places.gazetteer.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "1"]


def test_one_reader_per_core_and_none_on_a_single_core():
    """A lone reader on one core only takes turns with the crawl (and costs a forkserver
    and a process): the crawl reads in its own process then."""
    from crawler.pages import readers_for

    assert [readers_for(cores) for cores in (1, 2, 8)] == [0, 2, 8]
