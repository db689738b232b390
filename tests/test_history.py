"""An archive, not a scrape (issue 12): edits keep every version, takedowns are marked
and never deleted, mirrors do not change an article's identity, and every raw capture
leaves as WARC and comes back. Real `vnnews` commands against local sites, real SQLite."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive import recheck
from tests.sitegen import SiteSpec, article_path, build_site, golden
from vnnews.localsite import SNAPSHOT_DIR, LocalSite

VNNEWS = str(Path(sys.executable).with_name("vnnews"))
WARCIO = str(Path(sys.executable).with_name("warcio"))


def run(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([VNNEWS, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def rows(db: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> dict:
    """A site crawled, then three articles edited and two taken down (one answers 404,
    one redirects to the home page), then crawled again with --refresh."""
    root = tmp_path_factory.mktemp("history")
    records = golden("a") + golden("e")
    pages = [(article_path(r["url"]), r["title"], r["html"]) for r in records]
    site_root = build_site(root / "site", pages, SiteSpec())
    db = root / "archive.db"
    with LocalSite(site_root) as site:
        run("crawl", site.url + "/", "--db", str(db), "--delay", "0")
        port = site.port
    before = {r[0]: r[1:] for r in rows(db, "select url, title, body from articles")}
    edits, removals = records[:3], records[3:5]
    for record in edits:
        page = site_root / article_path(record["url"]).lstrip("/")
        first = record["body"].split("\n\n")[0]
        html = page.read_text(encoding="utf-8")
        assert first[:60] in html
        page.write_text(html.replace(first[:60], "ĐÍNH CHÍNH: " + first[:60], 1), encoding="utf-8")
    (site_root / article_path(removals[0]["url"]).lstrip("/")).unlink()
    routes = json.loads((site_root / "_routes.json").read_text(encoding="utf-8"))
    routes[article_path(removals[1]["url"])] = {"redirect": "/"}
    (site_root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    with LocalSite(site_root, port=port) as site:  # the same site: same origin
        second = run("crawl", site.url + "/", "--db", str(db), "--delay", "0", "--refresh")
        origin = site.url
    return {"db": db, "before": before, "edits": edits, "removals": removals,
            "origin": origin, "site_root": site_root, "port": port, "second": second}  # fmt: skip


def url_of(edited: dict, record: dict) -> str:
    return edited["origin"] + article_path(record["url"])


def test_edited_articles_keep_every_version(edited):
    db = edited["db"]
    assert len(rows(db, "select url from articles")) == len(edited["before"])  # no duplicates
    for record in edited["edits"]:
        url = url_of(edited, record)
        versions = rows(db, "select version, body, capture_id from article_versions "
                            "where url = ? order by version", url)  # fmt: skip
        assert [v[0] for v in versions] == [1, 2]
        assert versions[0][1] == edited["before"][url][1]  # the old text, intact
        assert "ĐÍNH CHÍNH" in versions[1][1] and "ĐÍNH CHÍNH" not in versions[0][1]
        assert rows(db, "select versions from articles where url = ?", url) == [(2,)]
        # each version has its own raw capture, the old bytes unchanged
        (old,), (new,) = (rows(db, "select body_gz from captures where id = ?", v[2])[0]
                          for v in versions)  # fmt: skip
        assert b"\xc4\x90\xc3\x8dNH CH\xc3\x8dNH" not in gzip.decompress(old)
        assert "ĐÍNH CHÍNH".encode() in gzip.decompress(new)
    unchanged = rows(db, "select count(*) from articles where versions = 1")[0][0]
    assert unchanged == len(edited["before"]) - 3


def test_removed_articles_are_marked_kept_and_searchable(edited):
    db = edited["db"]
    removed = dict(rows(db, "select url, removed_at from articles where removed_at is not null"))
    assert set(removed) == {url_of(edited, r) for r in edited["removals"]}
    reasons = sorted(r[0] for r in rows(db, "select reason from takedowns"))
    assert reasons == ["HTTP 404", "redirects to a page that is not an article"]
    for record in edited["removals"]:
        word = record["title"].split()[0]
        hits = rows(db, "select a.url from articles_fts f join articles a on a.rowid = f.rowid "
                        "where articles_fts match ?", f'"{word}"')  # fmt: skip
        assert (url_of(edited, record),) in hits
    titles = [t for (t,) in rows(db, "select title from articles")]
    assert len(titles) == len(set(titles))


def test_check_lists_removals_per_site(edited):
    report = run("check", "--db", str(edited["db"]), "--json").stdout
    removed = json.loads(report)["removed"]
    (site,) = removed
    assert site.endswith(f":{edited['port']}")  # a generic site is named with its port
    assert {r["url"] for r in removed[site]} == {url_of(edited, r) for r in edited["removals"]}
    assert "taken down from" in run("check", "--db", str(edited["db"])).stdout


def test_an_article_that_comes_back_loses_its_notice_and_the_history_says_so(edited, tmp_path):
    db = tmp_path / "copy.db"
    with sqlite3.connect(edited["db"]) as source, sqlite3.connect(db) as copy:
        source.backup(copy)  # the WAL's pages included
    back = edited["removals"][1]
    routes = json.loads((edited["site_root"] / "_routes.json").read_text(encoding="utf-8"))
    routes.pop(article_path(back["url"]))
    (edited["site_root"] / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    with LocalSite(edited["site_root"], port=edited["port"]) as site:
        run("crawl", site.url + "/", "--db", str(db), "--delay", "0", "--refresh")
    url = url_of(edited, back)
    assert rows(db, "select removed_at from articles where url = ?", url) == [(None,)]
    (restored,) = rows(db, "select restored_at from takedowns where url = ?", url)
    assert restored[0] is not None


def test_warc_export_passes_warcio_check_and_imports_to_the_same_articles(edited, tmp_path):
    db = edited["db"]
    warc = tmp_path / "archive.warc.gz"
    run("export", "--db", str(db), "--format", "warc", "-o", str(warc))
    check = subprocess.run([WARCIO, "check", "-v", str(warc)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    captures = {r[0]: gzip.decompress(r[1]) for r in rows(db, "select url || ' ' || id, body_gz "
                                                              "from captures")}  # fmt: skip
    responses = []
    with open(warc, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                responses.append((record.rec_headers.get_header("WARC-Target-URI"),
                                  record.content_stream().read(),
                                  record.rec_headers.get_header("WARC-Date")))  # fmt: skip
    assert len(responses) == len(captures) > len(edited["before"])  # versions: more captures
    assert sorted(body for _, body, _ in responses) == sorted(captures.values())
    assert all(date.endswith("Z") for *_, date in responses)
    fresh = tmp_path / "imported.db"
    out = run("import-warc", str(warc), "--db", str(fresh)).stdout
    assert "new" in out
    fields = "url, site, title, lead, body, author, published_at, versions"
    assert rows(fresh, f"select {fields} from articles order by url") == rows(
        db, f"select {fields} from articles order by url"
    )


def test_a_mirror_from_another_port_changes_nothing(tmp_path):
    """`--base-url` crawls of one paper from two addresses: one row per article, under
    the paper's own URLs, the sites row keeps the paper's home page."""
    db = tmp_path / "archive.db"
    snapshot = SNAPSHOT_DIR / "baocaobang"
    counts = []
    for _ in range(2):
        with LocalSite(snapshot) as mirror:
            run("crawl", "baocaobang", "--base-url", mirror.url, "--db", str(db), "--refresh")
        counts.append(rows(db, "select count(*), count(distinct title) from articles")[0])
    assert counts[0] == counts[1] and counts[0][0] == counts[0][1] > 10
    urls = [u for (u,) in rows(db, "select url from articles")]
    assert all(u.startswith("https://baocaobang.vn/") for u in urls)
    assert rows(db, "select homepage from sites where name = 'baocaobang'") == [
        ("https://baocaobang.vn/",)
    ]
    # fetched from the mirror: where is kept with the capture
    assert all(
        f.startswith("http://127.0.0.1:") for (f,) in rows(db, "select fetch_url from captures")
    )


def test_demo_twice_keeps_one_row_per_article(tmp_path):
    db = tmp_path / "demo.db"
    counts = []
    for _ in range(2):
        run("demo", "--db", str(db), "--no-serve")
        counts.append(rows(db, "select count(*), count(distinct site || title) from articles")[0])
    assert counts[0] == counts[1] and counts[0][0] == counts[0][1]
    assert not rows(db, "select url from articles where url like 'http://127.%'")


def test_the_recheck_schedule_looks_again_soon_after_publication():
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)

    def row(published_hours_ago: float, fetched_hours_ago: float) -> dict:
        return {
            "url": f"u{published_hours_ago}-{fetched_hours_ago}",
            "published_at": (now - timedelta(hours=published_hours_ago)).isoformat(),
            "first_seen_at": None,
            "fetched_at": (now - timedelta(hours=fetched_hours_ago)).isoformat(),
        }

    assert recheck.is_due(row(3, 1.5), now)  # young: hourly
    assert not recheck.is_due(row(3, 0.5), now)
    assert recheck.is_due(row(30, 7), now) and not recheck.is_due(row(30, 5), now)
    assert recheck.is_due(row(24 * 20, 24 * 8), now)
    assert not recheck.is_due(row(24 * 40, 24 * 30), now)  # old: only --refresh
    undated = {"url": "x", "published_at": None, "first_seen_at": row(3, 2)["published_at"],
               "fetched_at": row(3, 2)["fetched_at"]}  # fmt: skip
    assert recheck.is_due(undated, now)
    many = [row(1 + n / 100, 1) for n in range(20)]
    assert recheck.due(many, now, limit=5) == [r["url"] for r in many[:5]]  # youngest first


def test_article_pages_show_edits_takedowns_and_stored_copies(edited, datasette):
    import httpx
    from datasette.utils import tilde_encode

    base = datasette(edited["db"])
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/archive/articles/" + tilde_encode(url_of(edited, edited["edits"][0])))
    assert page.status_code == 200
    assert "sửa 1 lần" in page.text and "<ins>ĐÍNH CHÍNH:</ins>" in page.text
    removed = client.get("/archive/articles/" + tilde_encode(url_of(edited, edited["removals"][0])))
    assert "Bài đã bị gỡ khỏi trang báo" in removed.text
    links = re.findall(r'href="(/ban-luu/\d+)"', page.text + removed.text)
    assert len(links) == 3  # two captures of the edited article, one of the removed one
    for link in links:
        copy = client.get(link)
        assert copy.status_code == 200
        assert "default-src 'none'" in copy.headers["content-security-policy"]
        assert 'sandbox=""' in copy.text and "Bản lưu trong kho lưu trữ" in copy.text
        assert "&lt;script" not in copy.text.lower()  # nothing that runs, even sandboxed
    assert client.get("/ban-luu/999999").status_code == 404
