"""End to end: the real `vnnews crawl` against local sites it has never seen, into a
real SQLite file, then the rows read back through a real Datasette."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from archive.extract import extract
from archive.quality import FIELDS, normalise
from archive.sites import generic_profile
from tests.sitegen import SiteSpec, article_path, build_site, clone_articles, golden
from vnnews.localsite import LocalSite

VNNEWS = str(Path(sys.executable).with_name("vnnews"))

# Each family's site offers a different way in, as the real ones do.
SPECS = {
    "a": SiteSpec(feed=True, sitemap=False, listing=True),
    "b": SiteSpec(feed=False, sitemap=True, listing=False),
    "c": SiteSpec(feed=False, sitemap=False, listing=False, json_listing=True),
    "d": SiteSpec(feed=False, sitemap=False, listing=True, robots_disallow=["/admin/"]),
    "e": SiteSpec(feed=True, sitemap=True, listing=True),
    # baocantho.com.vn's layout: two <h1>, date-only JSON-LD, the time in span.pubdate.
    "f": SiteSpec(feed=True, sitemap=False, listing=True),
}


def crawl(url: str, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [VNNEWS, "crawl", url, "--db", str(db), "--delay", "0", *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> dict[str, tuple[Path, list[dict], LocalSite]]:
    """Each family's site crawled once, generically (no profile)."""
    out = {}
    for family, spec in SPECS.items():
        root = tmp_path_factory.mktemp(f"site-{family}")
        records = golden(family)
        pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
        site = LocalSite(build_site(root, pages, spec)).start()
        db = root / "archive.db"
        result = crawl(site.url + "/", db)
        assert result.returncode == 0, result.stderr
        out[family] = (db, records, site)
        site.stop()
    return out


@pytest.mark.parametrize("family", sorted(SPECS))
def test_generic_crawl_archives_every_article_and_nothing_else(crawled, family):
    db, records, site = crawled[family]
    rows = sqlite3.connect(db).execute("select url from articles").fetchall()
    stored = sorted(unquote(urlsplit(url).path) for (url,) in rows)
    assert stored == sorted(article_path(r["url"]) for r in records)


@pytest.mark.parametrize("family", sorted(SPECS))
def test_generic_crawl_rows_equal_golden_records(crawled, family):
    db, records, site = crawled[family]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    by_path = {
        unquote(urlsplit(r["url"]).path): dict(r) for r in conn.execute("select * from articles")
    }
    for record in records:
        row = by_path[article_path(record["url"])]
        row["tags"] = json.loads(row["tags"])
        assert {f: normalise(row[f]) for f in FIELDS} == {f: normalise(record[f]) for f in FIELDS}
        assert row["published_date"] == (
            record["published_at"][:10] if record["published_at"] else None
        )


@pytest.mark.parametrize("family", sorted(SPECS))
def test_crawl_is_recorded_with_its_counts(crawled, family):
    db, records, site = crawled[family]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    (run,) = conn.execute("select * from crawls").fetchall()
    assert run["status"] == "ok"
    assert run["new"] == len(records)
    assert run["missing"] >= 1  # the home page links a page that is gone (404)
    kinds = {r["kind"] for r in conn.execute("select kind from failures")}
    assert "http" in kinds
    # The raw page of every article is kept for re-extraction.
    assert conn.execute("select count(*) from pages").fetchone()[0] == len(records)


def test_non_articles_are_skipped_not_stored(crawled):
    db, _, _ = crawled["a"]
    urls = [u for (u,) in sqlite3.connect(db).execute("select url from articles")]
    assert not [u for u in urls if "/video/" in u or "/tag/" in u or u.endswith("/tin-tuc/")]


@pytest.mark.parametrize("family", ["a", "c", "d"])
def test_second_run_fetches_only_the_new_articles(tmp_path, family):
    """Cron runs: after two new articles appear, a run finds exactly those two and
    costs at most 30% of the first run's requests."""
    templates = [(article_path(r["url"]), r["title"], r["html"]) for r in golden(family)]
    root = tmp_path / "site"
    build_site(root, clone_articles(templates, 30), SPECS[family])
    db = tmp_path / "archive.db"
    with LocalSite(root) as site:
        assert crawl(site.url + "/", db).returncode == 0
        first = len(site.requests)
        assert crawl(site.url + "/", db).returncode == 0  # nothing new
        idle = len(site.requests) - first
        build_site(root, clone_articles(templates, 32), SPECS[family])
        assert crawl(site.url + "/", db).returncode == 0
        third = len(site.requests) - first - idle
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*), count(distinct url) from articles").fetchone() == (32, 32)
    runs = conn.execute("select new, updated from crawls order by id").fetchall()
    assert runs == [(30, 0), (0, 0), (2, 0)]
    assert idle <= 0.3 * first
    assert third <= 0.3 * first


def test_robots_refusal_is_reported_and_exit_status_is_nonzero(tmp_path):
    records = golden("a")[:2]
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    with LocalSite(build_site(tmp_path / "site", pages, SiteSpec(robots_disallow=["/"]))) as site:
        result = crawl(site.url + "/", tmp_path / "archive.db")
        disallowed = [p for p in site.requests if p != "/robots.txt"]
    assert result.returncode == 1
    assert "robots.txt refused" in result.stderr
    assert disallowed == []  # not one page besides robots.txt was requested


def test_unknown_site_name_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [VNNEWS, "crawl", "no-such-paper", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "registered sites" in result.stderr


def test_crawled_archive_is_searchable_through_datasette(crawled, datasette):
    db, _, _ = crawled["d"]
    base = datasette(db)
    url = f"{base}/archive/articles.json?_search={quote('ha quang')}&_shape=array&_col=title"
    rows = json.load(urllib.request.urlopen(url, timeout=10))
    titles = [r["title"] for r in rows]
    assert (
        "Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh Triệu Đình Lê làm việc tại huyện Hà Quảng"
        in titles
    )
    # Without diacritics and without đ: "dong van" finds "Đồng Văn".
    url = f"{base}/archive/articles.json?_search={quote('dong van')}&_shape=array&_col=title"
    titles = [r["title"] for r in json.load(urllib.request.urlopen(url, timeout=10))]
    assert "Đồng Văn sẵn sàng cho Lễ hội Hoa Tam giác mạch năm 2018" in titles


def test_a_second_crawl_on_the_same_archive_waits_its_turn(tmp_path):
    """Overlapping cron runs: the one that finds the lock held exits with status 2."""
    from vnnews.cli import crawl_lock

    db = tmp_path / "archive.db"
    with crawl_lock(str(db)):
        result = crawl("http://127.0.0.1:9/", db)
    assert result.returncode == 2
    assert "another crawl is writing" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_reextract_rebuilds_articles_from_stored_pages_without_network(crawled, tmp_path, workers):
    import shutil

    db = tmp_path / "copy.db"
    shutil.copy(crawled["b"][0], db)
    conn = sqlite3.connect(db)
    before = conn.execute(
        "select url, title, lead, body, author, published_at from articles order by url"
    ).fetchall()
    conn.execute(
        "update articles set title = 'x', body = 'x', content_hash = 'from an older extractor'"
    )
    conn.commit()
    command = [VNNEWS, "reextract", "--db", str(db), "--workers", workers]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{len(before)} updated" in result.stdout
    after = conn.execute(
        "select url, title, lead, body, author, published_at from articles order by url"
    ).fetchall()
    assert after == before


def test_settings_can_be_set_from_the_command_line(tmp_path):
    records = golden("e")[:3]
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    with LocalSite(build_site(tmp_path / "site", pages, SPECS["e"])) as site:
        result = crawl(site.url + "/", tmp_path / "archive.db", "--set", "VNNEWS_MAX_PAGES=2")
        assert len([p for p in site.requests if p != "/robots.txt"]) <= 2
    assert result.returncode == 0
    assert crawl("http://127.0.0.1:9/", tmp_path / "x.db", "--set", "nonsense").returncode == 2


@pytest.mark.parametrize("site", ["baocaobang", "baotuyenquang"])
def test_registered_site_against_a_local_mirror(tmp_path, site):
    """`--base-url`: the profile's rules (JSON listings, sitemaps, selectors) run
    against a copy of the site; every article comes out with its time and author."""
    from vnnews.localsite import SNAPSHOT_DIR

    db = tmp_path / "archive.db"
    with LocalSite(SNAPSHOT_DIR / site) as mirror:
        result = crawl(site, db, "--base-url", mirror.url)
        expected = {e["path"]: e for e in mirror.expected()}
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {
        unquote(urlsplit(r["url"]).path): dict(r) for r in conn.execute("select * from articles")
    }
    assert sorted(rows) == sorted(expected)
    for path, want in expected.items():
        got = rows[path]
        assert got["site"] == site
        assert {k: got[k] for k in ("title", "published_at", "author", "category")} == {
            k: normalise(want[k]) for k in ("title", "published_at", "author", "category")
        }
        # The profile's text is the generic path's text: the lead found, no date line or
        # headline left in the body (a wrapper matched first once pulled both in).
        page = next(
            p for p in conn.execute("select url, html_gz from pages where url = ?", [got["url"]])
        )
        generic = extract(gzip.decompress(page["html_gz"]), got["url"], generic_profile(got["url"]))
        assert (got["lead"], got["body"]) == (generic.lead, generic.body)
        assert got["lead"] and got["title"] not in got["body"]
