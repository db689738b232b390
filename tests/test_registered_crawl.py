"""Registered papers of different site families crawled end to end through `--base-url`
mirrors: a local site in each paper's own layout (its page from tests/fixtures/sites,
copied under new ids), the real `vnnews crawl <name>`, a real SQLite file.

Nothing here knows a paper: the papers are the first registered one of each family with
a saved page, and the mirrors are built the same way for all of them. What differs
(article URLs, selectors, feeds, sitemaps) comes from the registry alone.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from archive.quality import FIELDS, normalise
from archive.sites import FAMILIES, SITES
from tests.sitegen import SiteSpec, build_site
from vnnews.localsite import ORIGIN_PLACEHOLDER, LocalSite

FIXTURES = Path(__file__).parent / "fixtures"
VNNEWS = str(Path(sys.executable).with_name("vnnews"))
COPIES = 5  # articles per mirror: enough to need the feed, the sitemap and the listing


def saved_page(name: str) -> tuple[str, dict] | None:
    """A paper's saved article page (HTML text) and its expected record, if it has one."""
    for case in sorted((FIXTURES / "sites" / name).glob("*.json")):
        record = json.loads(case.read_text(encoding="utf-8"))
        page = FIXTURES / record["page"] if "page" in record else case.with_suffix(".html")
        return page.read_text(encoding="utf-8"), record
    return None


def one_paper_per_family() -> list[str]:
    chosen: dict[str, str] = {}
    for name, profile in SITES.items():
        if profile.family and profile.family not in chosen and saved_page(name):
            chosen[profile.family] = name
    return [chosen[family] for family in sorted(chosen)]


PAPERS = one_paper_per_family()


def with_id(path: str, n: int) -> str:
    """The same URL shape with another article id: digits appended to the last number."""
    return re.sub(r"(\d+)(?!.*\d)", lambda m: f"{m.group(1)}{n:02d}", path, count=1)


def mirror_articles(html: str, record: dict) -> list[tuple[str, str, str, dict]]:
    """COPIES articles made from one page: each with its own id and headline, its own
    address on the mirror where the page named the paper's (canonical, og:url)."""
    path = urlsplit(record["url"]).path
    articles = []
    for n in range(COPIES):
        new_path, title = with_id(path, n), f"{record['title']} (kỳ {n})"
        page = html.replace(record["url"], ORIGIN_PLACEHOLDER + new_path)
        page = page.replace(record["title"], title)
        assert title in page, f"{record['title']!r} is not written as such in the page"
        articles.append((new_path, title, page, {**record, "title": title}))
    return articles


def test_three_families_are_covered():
    assert len({SITES[name].family for name in PAPERS}) >= 3
    assert set(FAMILIES) >= {SITES[name].family for name in PAPERS}


@pytest.mark.parametrize("name", PAPERS)
def test_registered_paper_crawled_through_its_mirror(tmp_path: Path, name: str):
    html, record = saved_page(name)
    articles = mirror_articles(html, record)
    profile = SITES[name]
    assert all(profile.is_article_url(path) for path, *_ in articles)
    root = build_site(tmp_path / "site", [(p, t, h) for p, t, h, _ in articles], SiteSpec())
    db = tmp_path / "archive.db"
    with LocalSite(root) as mirror:
        done = subprocess.run(
            [VNNEWS, "crawl", name, "--base-url", mirror.url, "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        asked = list(mirror.requests)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {
        unquote(urlsplit(r["url"]).path): dict(r) for r in conn.execute("select * from articles")
    }
    assert sorted(rows) == sorted(path for path, *_ in articles)  # and nothing else
    for path, _, _, want in articles:
        row = rows[path]
        row["tags"] = json.loads(row["tags"])
        assert row["site"] == name
        assert {f: normalise(row[f]) for f in FIELDS} == {f: normalise(want[f]) for f in FIELDS}
    # The registry's feed was read; the run is recorded with its counts and the paper's row.
    assert any(p.startswith(feed) for feed in profile.feeds for p in asked)
    crawl = conn.execute("select status, new, failed from crawls").fetchone()
    assert tuple(crawl) == ("ok", COPIES, 0)
    site_row = conn.execute("select * from sites where name = ?", [name]).fetchone()
    assert site_row["province_now"] == profile.province_now
