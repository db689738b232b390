"""A hostile site and a faulty world, on loopback: the crawl stays on its paper's
origins (a second, "internal" server receives zero requests and nothing of it is
stored or listed), an article never changes paper, robots.txt that cannot be read
means "disallow everything" (RFC 9309), a full disk stops the run honestly and the
next run completes the archive, and an endless walk of junk is cut and reported."""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
from pathlib import Path

import pytest

from archive import store
from archive.models import Article
from tests import faultserver as fs
from tests.sitegen import SiteSpec, article_path, build_site

SECRET = "SECRET-TOKEN mật khẩu quản trị là hunter2"


def secret_page(n: int) -> str:
    text = f"<p>{SECRET}. Trang nội bộ số {n}, không dành cho người ngoài. " * 30 + "</p>"
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>Tài liệu nội bộ {n}</title></head><body><article><h1>Tài liệu nội bộ {n}"
        f"</h1>{text}</article></body></html>"
    )


@pytest.fixture
def internal(tmp_path):
    """The "internal" server: secret pages, a feed and a sitemap that a hostile site
    points at. It must receive zero requests."""
    paths = [f"/bi-mat-noi-bo-so-{n}-90000{n}.html" for n in range(1, 4)]
    root = build_site(
        tmp_path / "internal",
        [(p, f"Tài liệu nội bộ {n}", secret_page(n)) for n, p in enumerate(paths, 1)],
        SiteSpec(feed=True, sitemap=True, listing=True),
    )
    with fs.FaultSite(root) as site:
        yield site, paths


def rows_mentioning(db: Path, needle: str) -> list[tuple]:
    """Every row of every table whose text (or raw page) contains `needle`."""
    conn = sqlite3.connect(db)
    found = []
    for (table,) in conn.execute("select name from sqlite_master where type = 'table'"):
        if table.startswith("articles_fts"):
            continue
        for row in conn.execute(f"select * from [{table}]"):
            for value in row:
                if isinstance(value, bytes) and value[:2] == b"\x1f\x8b":
                    value = gzip.decompress(value).decode("utf-8", "replace")
                if isinstance(value, str) and needle in value:
                    found.append((table, row[:2]))
    conn.close()
    return found


def test_a_hostile_site_cannot_steer_the_crawl_to_another_origin(tmp_path, internal):
    """Redirects (301, 302, 307), a meta refresh, a robots.txt Sitemap: line, a sitemap
    index child, a feed link and plain links, all pointing at another port of the same
    host: not one request reaches it, nothing of it is stored or listed."""
    inside, secrets = internal
    there = inside.url
    records = fs.golden("a")[:4]
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    hostile = {
        "/chuyen-huong-301-700001.html": fs.Fault("status", status=301),
        "/chuyen-huong-302-700002.html": fs.Fault("status", status=302),
        "/chuyen-huong-307-700003.html": fs.Fault("status", status=307),
    }
    for (path, fault), secret in zip(hostile.items(), secrets, strict=True):
        fault.headers["Location"] = there + secret
        pages.append((path, "chuyển hướng", "<html></html>"))
    refresh = (
        f'<html><head><meta http-equiv="refresh" content="0; url={there}{secrets[0]}">'
        f"<title>Làm mới</title></head><body>Đang chuyển…</body></html>"
    )
    links = "".join(f'<a href="{p}">tin</a>' for p in [*hostile, "/lam-moi-trang-700004.html"])
    links += f'<a href="{there}{secrets[1]}">bài nội bộ</a><a href="{there}/">nội bộ</a>'
    home = (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Báo Thù Địch</title>'
        f'<link rel="alternate" type="application/rss+xml" href="{there}/rss/home.rss">'
        f"</head><body>{links}"
        + "".join(f'<a href="{p}">{t}</a>' for p, t, _ in pages[:4])
        + "</body></html>"
    )
    index = (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
        'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{there}/sitemap.xml</loc></sitemap></sitemapindex>"
    )
    root = build_site(tmp_path / "hostile", pages, SiteSpec(feed=False, sitemap=False))
    faults = {
        **hostile,
        "/": fs.serve(home),
        "/lam-moi-trang-700004.html": fs.serve(refresh),
        "/robots.txt": fs.serve(
            f"User-agent: *\nAllow: /\nSitemap: {there}/sitemap.xml\nSitemap: /sitemap.xml\n",
            "text/plain",
        ),  # fmt: skip
        "/sitemap.xml": fs.serve(index, "application/xml"),
    }
    db = tmp_path / "archive.db"
    with fs.FaultSite(root, faults) as site:
        result = fs.run_crawl(site.url + "/", db)
        hostile_hits = {p: site.hits(p) for p in hostile}
        origin = site.url
    assert inside.requests == []  # zero requests reached the internal server
    assert all(hits >= 1 for hits in hostile_hits.values())  # the redirects were asked
    assert "Traceback" not in result.stderr
    port = str(inside.port)
    assert rows_mentioning(db, SECRET) == []
    conn = sqlite3.connect(db)
    for table in ("articles", "pages", "discovery"):
        urls = [u for (u,) in conn.execute(f"select url from {table}")]
        assert not [u for u in urls if f":{port}" in u], table
    stored = {article_path(u) for (u,) in conn.execute("select url from articles")}
    assert stored == {article_path(r["url"]) for r in records}  # the site's own articles
    kinds = dict(conn.execute("select url, kind from failures").fetchall())
    for path in hostile:
        assert kinds[origin + path] == "off_site"  # recorded: the page went elsewhere


def test_an_article_never_changes_paper(tmp_path):
    """A row (and raw page) archived under one paper is never overwritten by another's
    crawl, whatever led there."""
    db = store.open_db(tmp_path / "archive.db")
    url = "https://baocaobang.vn/bai-viet-3168820.html"
    mine = Article(url=url, site="baocaobang", title="Bài gốc", body="Nội dung gốc " * 40)
    assert store.save_article(db, mine, raw=store.RawPage(b"<html>goc</html>")) == "new"
    theirs = Article(url=url, site="127.0.0.1", title="Bài giả", body="Nội dung giả " * 40)
    assert store.save_article(db, theirs, raw=store.RawPage(b"<html>gia</html>")) == "foreign"
    assert db.execute("select site, title from articles").fetchall() == [("baocaobang", "Bài gốc")]
    page = db.execute("select site, html_gz from pages").fetchone()
    assert page[0] == "baocaobang" and gzip.decompress(page[1]) == b"<html>goc</html>"


def test_a_redirect_to_another_paper_stores_nothing_under_the_wrong_paper(tmp_path):
    """Paper B (a registered paper on its mirror) is archived; paper A's article
    redirects to one of B's: A's crawl does not follow it, B's rows stay B's."""
    from vnnews.localsite import SNAPSHOT_DIR, LocalSite

    db = tmp_path / "archive.db"
    with LocalSite(SNAPSHOT_DIR / "baocaobang") as b_site:
        b_result = subprocess.run(
            [fs.VNNEWS, "crawl", "baocaobang", "--base-url", b_site.url, "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert b_result.returncode == 0, b_result.stderr
        conn = sqlite3.connect(db)
        before = conn.execute("select url, site, content_hash from articles").fetchall()
        target = before[0][0]
        b_requests = len(b_site.requests)
        records = fs.golden("a")[:2]
        pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
        jump = "/sang-bao-khac-800001.html"
        pages.append((jump, "chuyển", "<html></html>"))
        root = build_site(tmp_path / "a", pages, SiteSpec(feed=False, sitemap=False))
        home = "".join(f'<a href="{p}">tin</a>' for p, _, _ in pages)
        faults = {
            jump: fs.Fault("status", status=301, headers={"Location": target}),
            "/": fs.serve(f"<html><body>{home}</body></html>"),
        }
        with fs.FaultSite(root, faults) as a_site:
            result = fs.run_crawl(a_site.url + "/", db)
        assert len(b_site.requests) == b_requests  # A's crawl never asked B
    assert result.returncode == 0, result.stderr
    after = conn.execute(
        "select url, site, content_hash from articles where url in "
        f"({', '.join('?' * len(before))})",
        [u for u, _, _ in before],
    ).fetchall()
    assert sorted(after) == sorted(before)
    assert conn.execute("select count(*) from pages where site != 'baocaobang' and url = ?",
                        [target]).fetchone()[0] == 0  # fmt: skip
    (kind,) = conn.execute("select kind from failures where url like ?", ["%" + jump]).fetchone()
    assert kind == "off_site"


@pytest.mark.parametrize(
    ("fault", "said"),
    [(fs.server_error(), "robots.txt answered 500"), (fs.hang(5), "could not be read")],
    ids=["500", "timeout"],
)
def test_robots_txt_that_cannot_be_read_means_disallow_everything(tmp_path, fault, said):
    """RFC 9309: a server error or no answer for robots.txt means complete disallow for
    this run: nothing but robots.txt is requested, and the summary says why."""
    records = fs.golden("a")[:2]
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    root = build_site(tmp_path / "site", pages, SiteSpec())
    with fs.FaultSite(root, {"/robots.txt": fault}) as site:
        result = fs.run_crawl(site.url + "/", tmp_path / "archive.db", DOWNLOAD_TIMEOUT=1)
        others = [p for p in site.paths() if p != "/robots.txt"]
    assert others == []
    assert result.returncode == 1
    assert "robots.txt refused us" in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr
    conn = sqlite3.connect(tmp_path / "archive.db")
    assert conn.execute("select status from crawls").fetchall() == [("refused",)]


def test_robots_txt_missing_means_allowed(tmp_path):
    """RFC 9309: a 4xx for robots.txt means there are no rules."""
    records = fs.golden("a")[:2]
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    root = build_site(tmp_path / "site", pages, SiteSpec(robots_disallow=["/"]))
    gone = fs.serve("<h1>404</h1>", status=404)
    with fs.FaultSite(root, {"/robots.txt": gone}) as site:
        result = fs.run_crawl(site.url + "/", tmp_path / "archive.db")
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "archive.db")
    assert conn.execute("select count(*) from articles").fetchone()[0] == 2


def test_a_gzip_sitemap_bomb_is_recorded_and_not_fetched_again(tmp_path):
    bomb = gzip.compress(b"<urlset>" + b" " * 30_000_000 + b"</urlset>")
    records = fs.golden("a")[:2]
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    root = build_site(tmp_path / "site", pages, SiteSpec(sitemap=False))
    faults = {"/sitemap.xml": fs.serve(bomb, "application/x-gzip")}
    db = tmp_path / "archive.db"
    with fs.FaultSite(root, faults) as site:
        first = fs.run_crawl(site.url + "/", db)
        second = fs.run_crawl(site.url + "/", db)
        hits = site.hits("/sitemap.xml")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert hits == 1  # remembered: not fetched again by the next run
    conn = sqlite3.connect(db)
    kinds = conn.execute("select kind from failures where url like '%/sitemap.xml'").fetchall()
    assert kinds == [("too_large",)]


def test_a_full_disk_stops_the_run_and_the_next_run_completes_the_archive(tmp_path):
    """The archive's file may not grow past a limit (RLIMIT_FSIZE: writes fail as on a
    full disk): the run stops with a non-zero exit and says why; with room again, the
    next run stores every article, once."""
    import resource

    records = fs.golden("a") + fs.golden("c")
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    root = build_site(tmp_path / "site", pages, SiteSpec(feed=False, sitemap=True))
    db = tmp_path / "archive.db"
    store.open_db(db).close()
    limit = db.stat().st_size + 150_000

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with fs.FaultSite(root) as site:
        full = subprocess.run(
            fs.crawl_command(site.url + "/", db),
            cwd=fs.REPO,
            env=fs.crawl_env(),
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=small_disk,
        )
        assert full.returncode == 1, full.stderr
        assert "could not be written" in full.stderr and "full" in full.stderr
        assert "Traceback" not in full.stderr
        conn = sqlite3.connect(db)
        partial = conn.execute("select count(*) from articles").fetchone()[0]
        assert partial < len(records)
        conn.close()
        again = fs.run_crawl(site.url + "/", db)
    assert again.returncode == 0, again.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*), count(distinct url) from articles").fetchone() == (
        len(records),
        len(records),
    )


def junk_page(n: int, total: int) -> str:
    """An article-shaped address with no article: links to two more of its kind."""
    links = "".join(
        f'<a href="/tin-rac-vo-tan-so-{k}-{500000 + k}.html">tin {k}</a>'
        for k in (n + 1, n + 2)
        if k < total
    )
    return f"<html><head><title>Rác {n}</title></head><body><p>Rác.</p>{links}</body></html>"


def test_an_endless_walk_of_junk_is_cut_and_reported(tmp_path):
    total = 300
    pages = [
        (f"/tin-rac-vo-tan-so-{n}-{500000 + n}.html", f"Rác {n}", junk_page(n, total))
        for n in range(total)
    ]
    root = build_site(tmp_path / "site", pages, SiteSpec(feed=False, sitemap=False))
    db = tmp_path / "archive.db"
    with fs.FaultSite(root) as site:
        result = fs.run_crawl(site.url + "/", db, VNNEWS_MAX_JUNK=10)
        fetched = len(site.paths())
    assert result.returncode == 0, result.stderr
    assert fetched < 40  # not the 300 junk pages
    conn = sqlite3.connect(db)
    (message,) = conn.execute("select message from failures where kind = 'listing_cut'").fetchone()
    assert "10 candidate articles in a row" in message
