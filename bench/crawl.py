"""End-to-end crawl rates on a local site of real-size pages, in one run.

    python -m bench.crawl --n 3000

Builds a site of N article pages made from the page shapes of
``tests/fixtures/realistic/`` (60-500 KB pages of provincial papers, each copy with its
own headline and address; links to other pages point off-site so every run fetches the
same N pages), serves it with Twisted's static file server in its own process, and
prints:

- bare Scrapy: pages/s of a spider that fetches the sitemap's URLs and does nothing;
- trafilatura: pages/s on one core (``bare_extraction``) over the same pages;
- ours: articles/s of ``vnnews crawl`` (one process, its page pool), and of two
  ``vnnews crawl --redis`` workers with one ``vnnews ingest`` writer;
- the peak PSS of each crawl, summed over every process it runs (shared pages once);
- the ratios, among them ours / (cores x trafilatura's single-core rate).

Numbers are measured, never asserted; on a shared machine they are noisy: compare the
ratios of one run. Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from vnnews.localsite import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "tests" / "fixtures" / "realistic"
BIN = Path(sys.executable).parent
H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")


def templates() -> list[tuple[str, str]]:
    """(headline, html) of the realistic article pages that have a plain <h1> headline
    (the four pages their records mark as not articles are left out: the site is one of
    articles, and the rates count articles)."""
    records = json.loads((TEMPLATES / "records.json").read_text(encoding="utf-8"))
    found = []
    for path in sorted(TEMPLATES.glob("*.html")):
        if records.get(path.name, {}).get("article") is False:
            continue
        html = path.read_text(encoding="utf-8", errors="replace")
        match = H1.search(html)
        headline = TAG.sub("", match.group(1)).strip() if match else ""
        if headline and html.count(headline) >= 1:
            # Links to the site's own pages would be 404s here: send them off-site.
            html = re.sub(r'href="/(?!/)', 'href="https://example.invalid/', html)
            found.append((headline, html))
    return found


def build_site(root: Path, n: int) -> list[str]:
    """N article pages, a sitemap listing them, robots.txt and a home page."""
    shapes = templates()
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        headline, html = shapes[i % len(shapes)]
        path = f"/tin-tuc/bai-viet-so-{i}-{100000 + i}.html"
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        page = html.replace(headline, f"{headline} (kỳ {i + 1})")
        (root / path.lstrip("/")).write_text(page, encoding="utf-8")
        paths.append(path)
    return paths


def write_index(root: Path, origin: str, paths: list[str]) -> None:
    urls = "".join(f"<url><loc>{origin}{p}</loc></url>" for p in paths)
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    (root / "robots.txt").write_text(f"User-agent: *\nAllow: /\nSitemap: {origin}/sitemap.xml\n")
    (root / "index.html").write_text("<html><body><h1>Báo thử</h1></body></html>")


def wait_port(port: int) -> None:
    if not wait_for_port(port):
        raise RuntimeError(f"nothing listens on {port}")


# ---------------------------------------------------------------- memory


def pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def tree(pids: list[int]) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(pids), set(pids)
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


class PeakPss(threading.Thread):
    """The largest PSS sum, over time, of some processes and all their descendants."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.peak_kb, self.done = pids, 0, threading.Event()

    def run(self) -> None:
        # Once a second: reading every process's smaps costs CPU the crawl would use
        # (at four times a second the sampler took an eighth of a core).
        while not self.done.wait(1.0):
            total = sum(pss_kb(p) for p in tree(self.pids))
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.peak_kb / 1024


# ---------------------------------------------------------------- the runs

BARE_SPIDER = """
import sys, scrapy
from scrapy.crawler import CrawlerProcess

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url in open(sys.argv[1]).read().split():
            yield scrapy.Request(url, callback=self.parse)
    def parse(self, response):
        pass

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False,
    "TELNETCONSOLE_ENABLED": False,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
process.crawl(Bare)
process.start()
"""


def bare_scrapy(urls: list[str], work: Path) -> float:
    listing = work / "urls.txt"
    listing.write_text("\n".join(urls))
    script = work / "bare.py"
    script.write_text(BARE_SPIDER)
    started = time.monotonic()
    subprocess.run([sys.executable, str(script), str(listing)], check=True)
    return len(urls) / (time.monotonic() - started)


def trafilatura_rate(root: Path, paths: list[str], sample: int) -> float:
    import trafilatura

    pages = [(root / p.lstrip("/")).read_bytes() for p in paths[:sample]]
    started = time.process_time()
    for body in pages:
        trafilatura.bare_extraction(body.decode("utf-8", "replace"), with_metadata=True)
    return len(pages) / (time.process_time() - started)


def articles(db: Path) -> int:
    from archive import store

    conn = sqlite3.connect(db)
    try:
        return store.count_articles(conn)
    finally:
        conn.close()


CRAWL_OPTIONS = ["--delay", "0", "--concurrency", "16", "--max-pages", "1000000"]
QUIET = ["--set", "VNNEWS_PROGRESS_SECONDS=0", "--set", "CONCURRENT_REQUESTS=16"]


def ours_single(origin: str, work: Path) -> tuple[float, int, float]:
    db = work / "single.db"
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(BIN / "vnnews"), "crawl", origin + "/", "--db", str(db), *CRAWL_OPTIONS, *QUIET],
        stdout=subprocess.DEVNULL,
    )
    memory = PeakPss([proc.pid])
    memory.start()
    proc.wait()
    elapsed = time.monotonic() - started
    count = articles(db)
    return count / elapsed, count, memory.stop()


def ours_redis(origin: str, work: Path, workers: int = 2) -> tuple[float, int, float]:
    from crawler.pages import readers_for

    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(redis_server):
        print("redis-server missing (apt-get install redis-server): no shared run")
        return 0.0, 0, 0.0
    port = free_port()
    redis = subprocess.Popen(
        [
            redis_server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(work),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_port(port)
    url = f"redis://127.0.0.1:{port}/0"
    db = work / "shared.db"
    try:
        started = time.monotonic()
        writer = subprocess.Popen(
            [str(BIN / "vnnews"), "ingest", "--redis", url, "--db", str(db)],
            stdout=subprocess.DEVNULL,
        )
        # Workers sharing one machine share its cores: each gets the readers of its share.
        readers = readers_for(len(os.sched_getaffinity(0)) // workers)
        crawl = [str(BIN / "vnnews"), "crawl", origin + "/", "--redis", url, *CRAWL_OPTIONS,
                 "--set", f"VNNEWS_PAGE_WORKERS={readers}"]  # fmt: skip
        procs = [
            subprocess.Popen([*crawl, *QUIET], stdout=subprocess.DEVNULL) for _ in range(workers)
        ]
        memory = PeakPss([writer.pid, redis.pid, *(p.pid for p in procs)])
        memory.start()
        for proc in procs:
            proc.wait()
        writer.wait()
        elapsed = time.monotonic() - started
        count = articles(db)
        return count / elapsed, count, memory.stop()
    finally:
        redis.terminate()
        redis.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="article pages in the site")
    parser.add_argument("--sample", type=int, default=300, help="pages timed with trafilatura")
    parser.add_argument("--skip-redis", action="store_true")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="vnnews-bench-crawl-"))
    root = work / "site"
    paths = build_site(root, args.n)
    size = sum((root / p.lstrip("/")).stat().st_size for p in paths) / len(paths) / 1024
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    write_index(root, origin, paths)
    server = subprocess.Popen(
        [str(BIN / "twist"), "web", "--path", str(root), "--listen",
         f"tcp:port={port}:interface=127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_port(port)
        print(f"site: {args.n} articles, {size:.0f} KB a page on average, {cores} cores")
        bare = bare_scrapy([origin + p for p in paths], work)
        print(f"bare Scrapy fetch:              {bare:8.1f} pages/s")
        traf = trafilatura_rate(root, paths, min(args.sample, args.n))
        print(f"trafilatura, one core:          {traf:8.1f} pages/s")
        single, count, pss = ours_single(origin, work)
        print(f"ours, one process:              {single:8.1f} articles/s "
              f"({count} stored), peak PSS {pss:.0f} MB")  # fmt: skip
        shared = shared_count = shared_pss = 0.0
        if not args.skip_redis:
            shared, shared_count, shared_pss = ours_redis(origin, work)
            print(f"ours, 2 Redis workers + ingest: {shared:8.1f} articles/s "
                  f"({shared_count} stored), peak PSS {shared_pss:.0f} MB")  # fmt: skip
        print("ratios:")
        print(f"  ours (one process) / (cores x trafilatura): {single / (cores * traf):.2f}")
        if shared:
            print(f"  ours (2 workers) / (cores x trafilatura):   {shared / (cores * traf):.2f}")
        print(f"  bare Scrapy / ours (one process):           {bare / single:.1f}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
