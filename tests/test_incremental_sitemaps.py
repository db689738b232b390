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


def test_a_child_sitemap_without_lastmod_is_asked_for_conditionally(tmp_path):
    """An index that gives no lastmod: the child sitemaps are read again with the ETag
    they came with, an unchanged one answers 304 (nothing downloaded, nothing read),
    and a changed one is read."""
    root = build_site(
        tmp_path / "site", generated_pages(12), SiteSpec(feed=False, sitemap=True, listing=False)
    )
    index = root / "sitemap.xml"
    text = index.read_text()
    while "<lastmod>" in text:
        start = text.index("<lastmod>")
        text = text[:start] + text[text.index("</lastmod>", start) + len("</lastmod>") :]
    index.write_text(text)
    db = tmp_path / "archive.db"
    with fs.FaultSite(root, validators=set(CHILDREN)) as site:
        first = fs.run_crawl(site.url + "/", db)
        assert first.returncode == 0, first.stderr[-3000:]
        assert sorted(child_hits(site, 0)) == sorted(CHILDREN) and site.not_modified == []

        start = len(site.log)
        second = fs.run_crawl(site.url + "/", db)
        assert second.returncode == 0, second.stderr[-3000:]
        assert sorted(child_hits(site, start)) == sorted(CHILDREN)  # asked for again …
        assert sorted(site.not_modified) == sorted(CHILDREN)  # … and nothing came back

        news = root / CHILDREN[0].lstrip("/")
        news.write_text(news.read_text().replace("</urlset>", "\n</urlset>"))
        site.not_modified.clear()
        third = fs.run_crawl(site.url + "/", db)
        assert third.returncode == 0, third.stderr[-3000:]
        assert site.not_modified == [CHILDREN[1]]  # the changed child came back whole
