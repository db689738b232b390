"""`archive.check`: the health report behind `vnnews check --db PATH`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive import store
from archive.check import check, format_report
from archive.models import Article

BODY = "Nội dung bài viết về nông nghiệp vùng cao của tỉnh. " * 10


def article(site: str, n: int, **fields) -> Article:
    values = {
        "title": f"Bài số {n} của {site}",
        "body": BODY,
        "author": "Bế Nhung",
        "published_at": "2025-06-17T13:43:02+07:00",
        **fields,
    }
    return Article(url=f"https://{site}/bai-{n}.html", site=site, **values)


@pytest.fixture
def db_path(tmp_path):
    """Two papers: baocaobang with gaps in its articles and a partial last run, after an
    earlier run whose failures must not count; baolaocai whose last run was killed."""
    path = tmp_path / "archive.db"
    db = store.open_db(path)
    for n in range(5):
        store.save_article(db, article("baocaobang.vn", n))
    store.save_article(db, article("baocaobang.vn", 5, published_at=None))
    store.save_article(db, article("baocaobang.vn", 6, published_at=None, author=None))
    store.save_article(db, article("baocaobang.vn", 7, body=None, lead="Chỉ có sapo. " * 10))
    store.save_article(db, article("baolaocai.vn", 1))

    old = store.start_crawl(db, "baocaobang.vn")
    store.record_failure(
        db, url="https://baocaobang.vn/cu.html", site="baocaobang.vn", crawl_id=old,
        kind="timeout", message="old", attempts=4,
    )  # fmt: skip
    store.finish_crawl(db, old, "partial", {"new": 8, "failed": 1})
    last = store.start_crawl(db, "baocaobang.vn")
    for kind, status, url in [
        ("timeout", None, "https://baocaobang.vn/a.html"),
        ("timeout", None, "https://baocaobang.vn/b.html"),
        ("binary", 200, "https://baocaobang.vn/c.html"),
        ("http", 404, "https://baocaobang.vn/d.html"),
    ]:
        store.record_failure(
            db, url=url, site="baocaobang.vn", crawl_id=last, kind=kind, message=kind,
            http_status=status, attempts=1,
        )  # fmt: skip
    store.finish_crawl(
        db, last, "partial", {"new": 0, "failed": 3, "missing": 1, "last_error": "binary: c"}
    )
    store.start_crawl(db, "baolaocai.vn")  # never finished: killed
    db.close()
    return path


def test_a_sound_archive_is_ok_with_per_site_counts(db_path):
    report = check(db_path)
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["integrity"] == ["ok"]
    assert report["fts"] == {
        "ok": True,
        "error": None,
        "articles": 9,
        "indexed": 9,
        "verified": True,
    }
    cb = report["sites"]["baocaobang.vn"]
    assert (cb["articles"], cb["no_date"], cb["no_author"], cb["no_body"]) == (8, 2, 1, 1)
    assert cb["last_crawl"]["status"] == "partial"
    assert cb["last_success"]
    json.dumps(report)  # serialisable, for --json


def test_failures_are_those_of_each_sites_last_run(db_path):
    failures = check(db_path)["sites"]["baocaobang.vn"]["failures_last_run"]
    assert failures["total"] == 4
    assert failures["by_kind"] == {"timeout": 2, "binary": 1, "http": 1}
    # Examples leave out plain dead links (404), which every site has.
    assert {e["url"] for e in failures["examples"]} == {
        "https://baocaobang.vn/a.html",
        "https://baocaobang.vn/b.html",
        "https://baocaobang.vn/c.html",
    }


def test_a_killed_crawl_and_failed_pages_are_warned_about(db_path):
    report = check(db_path)
    assert report["sites"]["baolaocai.vn"]["last_crawl"]["status"] == "running"
    warnings = "\n".join(report["warnings"])
    assert "baolaocai.vn: crawl" in warnings and "never finished" in warnings
    assert "baocaobang.vn: 3 pages failed in the last run" in warnings
    assert "baocaobang.vn: articles without a body: 1" in warnings


def test_a_crawl_holding_the_lock_is_not_called_killed(db_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (db_path.parent / (db_path.name + ".lock")).write_text(str(sleeper.pid))
        report = check(db_path)
    finally:
        sleeper.kill()
        sleeper.wait(timeout=10)
    assert report["crawl_in_progress"] is True
    assert not [w for w in report["warnings"] if "never finished" in w]


def test_an_fts_index_out_of_step_is_a_problem(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("drop trigger articles_au")  # an update the index never hears of
    conn.execute("update articles set title = 'Một tiêu đề khác hẳn' where url like '%bai-1.html'")
    conn.commit()
    conn.close()
    report = check(db_path)
    assert report["ok"] is False
    assert report["fts"]["ok"] is False
    assert any("full-text index" in p for p in report["problems"])


def test_articles_missing_from_the_index_are_a_problem(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("drop trigger articles_ai")
    conn.execute(
        "insert into articles (url, site, title) values ('https://x.vn/1.html', 'x.vn', 'X')"
    )
    conn.commit()
    conn.close()
    report = check(db_path)
    assert report["ok"] is False
    assert report["fts"]["articles"] == 10 and report["fts"]["indexed"] == 9


def test_a_damaged_file_is_reported_not_raised(db_path):
    data = bytearray(db_path.read_bytes())
    # Overwrite the middle pages (the header and schema on page 1 stay readable).
    for offset in range(4096 * 3, min(len(data), 4096 * 8)):
        data[offset] = 0x5A
    db_path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        (db_path.parent / (db_path.name + suffix)).unlink(missing_ok=True)
    report = check(db_path)
    assert report["ok"] is False
    assert report["problems"]
    assert "PROBLEMS" in format_report(report)


def test_not_an_archive(tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table t (x)").connection.close()
    report = check(other)
    assert report["ok"] is False
    assert "not an archive" in report["problems"][0]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    assert check(junk)["ok"] is False
    with pytest.raises(FileNotFoundError):
        check(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()  # never created


def test_format_report_reads_like_a_report(db_path):
    text = format_report(check(db_path))
    assert text.splitlines()[0].endswith(": OK")
    assert "integrity: ok; full-text index: in step (9 articles, 9 indexed)" in text
    row = next(line for line in text.splitlines() if line.startswith("baocaobang.vn"))
    assert row.split()[:5] == ["baocaobang.vn", "8", "2", "1", "1"]
    assert "partial" in row
    assert "failures in the last run of baocaobang.vn: timeout 2, binary 1, http 1" in text
    assert "  binary 200: https://baocaobang.vn/c.html" in text
    assert "warnings:" in text


def test_vnnews_check_command(db_path):
    vnnews = str(Path(sys.executable).with_name("vnnews"))
    result = subprocess.run(
        [vnnews, "check", "--db", str(db_path), "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    conn = sqlite3.connect(db_path)
    conn.execute("delete from articles_fts where rowid = (select min(rowid) from articles)")
    conn.commit()
    result = subprocess.run([vnnews, "check", "--db", str(db_path)], capture_output=True, text=True)
    assert result.returncode == 1


# ---------------------------------------------------------------- silent papers


def crawl_history(db, site: str, runs: list[tuple[str, int]]) -> None:
    """Finished crawls of a site at given start times (UTC), each with its new articles."""
    for started, new in runs:
        db["crawls"].insert(
            {"site": site, "started_at": started, "finished_at": started, "status": "ok",
             "new": new, "requests": 10}
        )  # fmt: skip


def hourly(day: int, hours: range, new: int) -> list[tuple[str, int]]:
    return [(f"2026-03-{day:02d}T{h:02d}:00:00+00:00", new) for h in hours]


@pytest.fixture
def rhythm_db(tmp_path):
    """Four papers crawled every six hours for a week:
    - broke: new articles at every run until 3 March, then three days of nothing;
    - slow: new articles twice a day, quiet for the last 18 hours (under a day);
    - young: only two productive crawls, so no rhythm yet;
    - dropped: nobody crawled it after its last new article."""
    path = tmp_path / "archive.db"
    db = store.open_db(path)
    every6 = range(0, 24, 6)
    for day in range(1, 4):
        crawl_history(db, "broke", hourly(day, every6, 5))
    for day in range(4, 7):
        crawl_history(db, "broke", hourly(day, every6, 0))
    for day in range(1, 7):
        crawl_history(
            db, "slow", [(t, n if i % 2 else 0) for i, (t, n) in enumerate(hourly(day, every6, 2))]
        )
    crawl_history(db, "slow", hourly(7, range(0, 13, 6), 0))
    crawl_history(db, "young", hourly(1, range(0, 7, 6), 1) + hourly(5, every6, 0))
    crawl_history(db, "dropped", hourly(1, every6, 3))
    db.close()
    return path


def test_a_paper_whose_crawls_stopped_yielding_is_flagged(rhythm_db):
    report = check(rhythm_db)
    rhythm = {name: site["rhythm"] for name, site in report["sites"].items()}
    assert rhythm["broke"] == {
        "last_new": "2026-03-03T18:00:00+00:00",
        "usual_gap_hours": 6.0,
        "quiet_hours": 72.0,
        "crawls_since_new": 12,
        "silent": True,
    }
    assert rhythm["slow"]["usual_gap_hours"] == 12.0 and rhythm["slow"]["silent"] is False
    assert rhythm["young"]["usual_gap_hours"] is None and rhythm["young"]["silent"] is False
    assert rhythm["dropped"]["crawls_since_new"] == 0 and rhythm["dropped"]["silent"] is False
    silent = [w for w in report["warnings"] if "no new article" in w]
    assert silent == [
        "broke: no new article for 3.0 days (12 crawls since 2026-03-03T18:00:00+00:00); "
        "new articles usually came every 6 h"
    ]
    assert report["ok"] is True  # a warning for the operator, not a damaged file
