"""archive/search.py on a real archive file: a filtered search (paper, section, author,
tag, dates, month) gives exactly the unfiltered ranking with the other articles left
out, on every page; and ``article_keys``, which the filtered plan reads, follows every
insert, update and delete of ``articles``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive import search, store
from archive.models import Article
from archive.search import Query

SITES = ("baocaobang", "baohagiang", "baolangson")
SECTIONS = ("Thời sự", "Kinh tế", None)
AUTHORS = ("Bảo Bình", "Hoàng Anh", None)
WORDS = ("Đình làng", "định hướng", "gia đình", "đinh thép", "mùa xuân")


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    """90 articles: words in the title, the lead or the body, with and without marks;
    three papers, sections and authors; dates over four years, some unknown."""
    path = tmp_path_factory.mktemp("search") / "archive.db"
    db = store.open_db(path)
    for n in range(90):
        word = WORDS[n % len(WORDS)]
        where = n % 3  # the word in the title, the lead or the body
        published = None if n % 17 == 0 else f"{2021 + n % 4}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        store.save_article(db, Article(
            url=f"https://{SITES[n % 3]}.vn/bai-{n}.html", site=SITES[n % 3],
            title=f"{word} số {n}" if where == 0 else f"Tin số {n}",
            lead=f"Về {word}." if where == 1 else "Tin trong tỉnh.",
            body=f"Bài viết về {word} ở xã." if where == 2 else "Nội dung khác.",
            author=AUTHORS[n % 5 % 3], category=SECTIONS[n % 7 % 3],
            published_at=published and (published + ("T08:30:00+07:00" if n % 2 else "")),
            tags=["Lễ hội"] if n % 4 == 0 else [],
        ))  # fmt: skip
    db.close()
    return store.connect_readonly(path)


def everything(conn: sqlite3.Connection, **asked: str) -> tuple[int, list[dict]]:
    """All results of a query, page by page (7 a page, to cross tier boundaries)."""
    rows: list[dict] = []
    page = 1
    while True:
        result = search.search(conn, Query.from_args({**asked, "page": str(page), "size": "7"}))
        rows += result.rows
        if page >= result.pages:
            return result.total, rows
        page += 1


def keys(conn: sqlite3.Connection, url: str) -> dict:
    sql = "select site, category, author, published_date, tags from articles where url = ?"
    site, category, author, day, tags = conn.execute(sql, [url]).fetchone()
    return {"site": site, "category": category, "author": author, "day": day, "tags": tags}


FILTERS = [
    {"site": "baohagiang"},
    {"category": "Kinh tế"},
    {"author": "Bảo Bình"},
    {"tag": "Lễ hội"},
    {"date_from": "2022-01-01", "date_to": "2023-06-30"},
    {"month": "2023-03"},
    {"site": "baocaobang", "date_from": "2022-01-01"},
]


def passes(row: dict, filters: dict[str, str]) -> bool:
    day = row["day"]
    checks = {
        "site": lambda v: row["site"] == v,
        "category": lambda v: row["category"] == v,
        "author": lambda v: row["author"] == v,
        "tag": lambda v: v in (row["tags"] or ""),
        "date_from": lambda v: day is not None and day >= v,
        "date_to": lambda v: day is not None and day <= v,
        "month": lambda v: day is not None and day[:7] == v,
    }
    return all(checks[name](value) for name, value in filters.items())


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f))
@pytest.mark.parametrize("asked", [{"q": "dinh"}, {"q": "Đình"}, {"q": "dinh", "sort": "date"}])
def test_a_filtered_search_is_the_ranking_without_the_others(
    conn: sqlite3.Connection, asked: dict, filters: dict
) -> None:
    _, ranked = everything(conn, **asked)
    expected = [r["url"] for r in ranked if passes(keys(conn, r["url"]), filters)]
    total, rows = everything(conn, **asked, **filters)
    assert [r["url"] for r in rows] == expected
    assert total == len(expected) > 0


def test_facets_of_a_filtered_search_count_its_matches(conn: sqlite3.Connection) -> None:
    result = search.search(conn, Query(q="dinh", site="baohagiang"), facets=True)
    assert result.facets is not None
    assert result.facets["site"] == [{"value": "baohagiang", "count": result.total}]
    assert sum(f["count"] for f in result.facets["month"]) <= result.total


def test_article_keys_follow_every_change_of_articles(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "archive.db")
    for n in range(3):
        store.save_article(db, Article(url=f"https://a.vn/{n}", site="a", title=f"Tin {n}",
                                       published_at=f"2024-01-0{n + 1}"))  # fmt: skip
    db.execute("update articles set category = 'Kinh tế', site = 'b' where url = 'https://a.vn/1'")
    db.execute("delete from articles where url = 'https://a.vn/2'")
    db.conn.commit()
    cols = ", ".join(store.KEY_COLUMNS)
    in_articles = db.execute(f"select rowid, {cols} from articles order by rowid").fetchall()
    in_keys = db.execute(f"select id, {cols} from {store.KEYS_TABLE} order by id").fetchall()
    assert in_keys == in_articles and len(in_keys) == 2
    assert store.keys_out_of_step(db.conn) == 0
    db.execute(f"update {store.KEYS_TABLE} set site = 'c' where id = 1")
    db.execute(f"insert into {store.KEYS_TABLE} (id, site) values (99, 'a')")
    assert store.keys_out_of_step(db.conn) == 2  # `vnnews check` reports it
    db.close()


def test_an_older_archive_gets_its_keys_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db = store.open_db(path)
    store.save_article(db, Article(url="https://a.vn/1", site="a", title="Tin"))
    db.execute(f"drop table {store.KEYS_TABLE}")
    for name in ("ai", "ad", "au"):
        db.execute(f"drop trigger {store.KEYS_TABLE}_{name}")
    db.conn.commit()
    db.close()
    db = store.open_db(path)
    assert db.execute(f"select id, site from {store.KEYS_TABLE}").fetchall() == [(1, "a")]
    db.close()


def test_an_older_archive_served_read_only_searches_without_keys(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    older = tmp_path / "older.db"
    with sqlite3.connect(older) as copy:
        conn.backup(copy)
        copy.execute(f"drop table {store.KEYS_TABLE}")
    readonly = store.connect_readonly(older)
    for filters in FILTERS:
        for asked in ({"q": "Đình"}, {"q": "dinh", "sort": "date"}):
            assert everything(readonly, **asked, **filters) == everything(conn, **asked, **filters)
    readonly.close()


def test_a_bulk_load_fills_the_keys(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "archive.db")
    rows = [
        {"url": f"https://a.vn/{n}", "site": "a", "title": "Tin", "published_date": "2024-01-02"}
        for n in range(5)
    ]
    assert store.bulk_insert_articles(db, rows, batch=2) == 5
    assert db.execute(f"select count(*) from {store.KEYS_TABLE}").fetchone()[0] == 5
    assert store.keys_out_of_step(db.conn) == 0
    db.close()
