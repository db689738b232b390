"""Where crawled items meet the archive: every outcome is written and counted."""

from __future__ import annotations

from collections import Counter

from archive import store
from archive.store import RawPage


class ArchivePipeline:
    """Store articles (with their raw page), record failures, keep the run's counts,
    and close the ``crawls`` record when the spider stops."""

    def open_spider(self, spider=None):
        spider = spider or self.spider
        self.db = store.open_db(spider.db_path)
        profile = spider.profile
        store.save_site(self.db, site_row(profile))
        self.crawl_id = store.start_crawl(self.db, profile.name)
        spider.crawl_id = self.crawl_id
        spider.counts = self.counts = Counter()

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    @property
    def spider(self):
        return self.crawler.spider

    def process_item(self, item, spider=None):
        spider = spider or self.spider
        kind = item["kind"]
        if kind == "article":
            article = item["article"]
            raw = RawPage(item["raw"], item["status"], item["content_type"], item["encoding"])
            outcome = store.save_article(self.db, article, item["fetched_at"], raw=raw)
            self.counts[outcome] += 1
        elif kind == "skipped":
            self.counts["skipped"] += 1
        elif kind == "failure":
            if item["reason"] == "robots":
                self.counts["robots_refused"] += 1
            elif item.get("http_status") in (404, 410):
                self.counts["missing"] += 1  # a dead link: recorded, but not a site failure
            else:
                self.counts["failed"] += 1
            self.counts["last_error"] = f"{item['reason']}: {item['url']}"  # type: ignore[assignment]
            store.record_failure(
                self.db,
                url=item["url"],
                site=spider.profile.name,
                crawl_id=self.crawl_id,
                kind=item["reason"],
                message=item.get("message") or item["reason"],
                http_status=item.get("http_status"),
                attempts=item.get("attempts", 1),
            )
        return item

    def close_spider(self, spider=None, reason: str = "finished"):
        spider = spider or self.spider
        stats = self.crawler.stats
        self.counts["requests"] = stats.get_value("downloader/request_count", 0)
        status = crawl_status(self.counts, reason)
        spider.status = status
        store.finish_crawl(self.db, self.crawl_id, status, dict(self.counts))
        self.db.close()


def crawl_status(counts: Counter, reason: str) -> str:
    """ok | refused (robots.txt said no to everything) | failed (nothing came back) |
    partial (some pages failed) | interrupted."""
    stored = counts["new"] + counts["updated"] + counts["unchanged"]
    if reason not in ("finished", "closespider_pagecount", "closespider_itemcount"):
        return "interrupted"
    if not stored and counts["robots_refused"] and not counts["skipped"]:
        return "refused"
    if not stored and not counts["skipped"] and (counts["failed"] or counts["requests"] <= 1):
        return "failed"
    if counts["failed"]:
        return "partial"
    return "ok"


def site_row(profile) -> dict:
    import json

    return {
        "name": profile.name,
        "title": profile.title,
        "province": profile.province,
        "family": profile.family,
        "homepage": profile.homepage,
        "domains": json.dumps(list(profile.domains)),
        "status": profile.status,
        "merged_into": profile.merged_into,
        "unverified": ", ".join(profile.unverified) or None,
    }
