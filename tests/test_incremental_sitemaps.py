"""Incremental runs read a child sitemap only when its index says it changed: a second
run over an unchanged site fetches no child sitemap; a child whose lastmod moved is
read again, alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import faultserver as fs
from tests.sitegen import SiteSpec, build_site
from tests.test_killed_crawl import generated_pages

CHILDREN = ("/sitemap-news.xml", "/sitemap-posts.xml")


def child_hits(site: fs.FaultSite, start: int) -> list[str]:
    return [p for p, _ in site.log[start:] if p in CHILDREN]


def test_a_second_run_reads_only_the_child_sitemaps_that_changed(tmp_path):
    root = build_site(
        tmp_path / "site", generated_pages(12), SiteSpec(feed=False, sitemap=True, listing=False)
    )
    db = tmp_path / "archive.db"
    with fs.FaultSite(root) as site:
        first = fs.run_crawl(site.url + "/", db)
        assert first.returncode == 0, first.stderr[-3000:]
        assert sorted(child_hits(site, 0)) == sorted(CHILDREN)

        start = len(site.log)
        second = fs.run_crawl(site.url + "/", db)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "/sitemap.xml" in [p for p, _ in site.log[start:]]  # the index is read
        assert child_hits(site, start) == []

        index = root / "sitemap.xml"
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
        text = index.read_text()
        news = text.index("sitemap-news.xml")
        old = text[news:].split("<lastmod>", 1)[1].split("</lastmod>", 1)[0]
        index.write_text(text[:news] + text[news:].replace(old, later, 1))
        start = len(site.log)
        third = fs.run_crawl(site.url + "/", db)
        assert third.returncode == 0, third.stderr[-3000:]
        assert child_hits(site, start) == ["/sitemap-news.xml"]
