"""The archive's SQLite schema and every write to it.

This is the one module that knows the schema. Everything else calls the small
functions here, passing the database first (sqlite-utils style). Nothing here knows
about Scrapy.

Tables (documented for researchers in metadata.yml):
- ``articles``: one row per canonical article URL; full-text indexed.
- ``article_tags``: one row per (article, tag), so tags facet cheaply.
- ``article_places``: one row per (article, place it names), from archive/places.py.
- ``pages``: the raw HTML of every fetched article page (gzip), for ``vnnews reextract``.
- ``sites``: the newspapers of the registry.
- ``crawls``: one row per crawl run and site, with its counts.
- ``failures``: pages that could not be fetched or extracted, with the reason.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from archive.models import Article

SCHEMA_VERSION = 1
# unicode61 with remove_diacritics 2 folds letters carrying two marks (ồ, ờ) too;
# đ/Đ never folds, so searches expand d → (d OR đ) at query time instead.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
FTS_COLUMNS = ["title", "lead", "body"]
# A second index that keeps the marks, so that a search typed with them ranks its exact
# matches (Đình) above the folded ones (định, đinh): archive/search.py.
EXACT_FTS = "articles_exact"
EXACT_TOKENIZE = "unicode61 remove_diacritics 0"

ARTICLE_COLUMNS = {
    "url": str,
    "site": str,
    "title": str,
    "lead": str,
    "body": str,
    "author": str,
    "published_at": str,
    "published_date": str,
    "modified_at": str,
    "category": str,
    "tags": str,
    "source": str,
    "image": str,
    "image_caption": str,
    "language": str,
    "word_count": int,
    "content_hash": str,
    "first_seen_at": str,
    "fetched_at": str,
    "updated_at": str,
    "extraction_warnings": str,
}

# One row per place an article names (archive.places.Place), documented in metadata.yml.
PLACE_COLUMNS = {
    "url": str,
    "name": str,
    "level": str,
    "kind": str,
    "district": str,
    "province": str,
    "province_now": str,
}


SITE_COLUMNS = {
    "name": str,
    "title": str,
    "province": str,
    "family": str,
    "homepage": str,
    "domains": str,
    "status": str,
    "merged_into": str,
    "unverified": str,
    "province_now": str,
    "former_title": str,
    "note": str,
}


# What `vnnews export` writes: the article columns but the content hash (internal) and
# the extractor's doubts (extraction_warnings, for operators: `vnnews check`).
EXPORT_COLUMNS = tuple(
    c for c in ARTICLE_COLUMNS if c not in ("content_hash", "extraction_warnings")
)

# What a crawl counts, as columns of ``crawls`` (documented in metadata.yml).
CRAWL_COUNTS = (
    "requests",
    "new",
    "updated",
    "unchanged",
    "skipped",
    "failed",
    "missing",
    "robots_refused",
)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) an archive database in WAL mode with its schema."""
    conn = sqlite3.connect(str(path), timeout=30)
    db = sqlite_utils.Database(conn)  # turns recursive_triggers on: FTS stays in sync
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    ensure_schema(db)
    return db


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create missing tables, columns and indexes; safe to run on every open."""
    if "articles" not in db.table_names():
        db["articles"].create(ARTICLE_COLUMNS, pk="url", not_null={"site"})
    else:
        db["articles"].add_missing_columns([ARTICLE_COLUMNS])  # type: ignore[list-item]
    articles = db["articles"]
    if not db["articles_fts"].exists():
        articles.enable_fts(FTS_COLUMNS, tokenize=FTS_TOKENIZE, create_triggers=True)
    ensure_exact_index(db)
    # (site, published_at) and (category, published_at) follow the table page's order
    # (sort_desc: published_at in metadata.yml): a page filtered by paper or section
    # (the facet links, the links on an article page) reads its 51 newest rows straight
    # from the index instead of sorting every article of the paper, 0.8 s at 1M
    # articles. The search-page plan relies on them too (datasette_plugin.py).
    for columns in (
        ["site"],
        ["published_at"],
        ["published_date"],
        ["category"],
        ["site", "published_date"],
        ["site", "published_at"],
        ["category", "published_at"],
        ["author", "published_at"],
    ):
        articles.create_index(columns, if_not_exists=True)

    db["article_tags"].create(
        {"url": str, "tag": str},
        pk=("url", "tag"),
        foreign_keys=[("url", "articles", "url")],
        if_not_exists=True,
    )
    db["article_tags"].create_index(["tag"], if_not_exists=True)
    db["article_places"].create(
        PLACE_COLUMNS, foreign_keys=[("url", "articles", "url")], if_not_exists=True
    )
    for columns in (["url"], ["name", "level"], ["province_now"], ["province"]):
        db["article_places"].create_index(columns, if_not_exists=True)
    db["pages"].create(
        {
            "url": str,
            "site": str,
            "fetched_at": str,
            "status": int,
            "content_type": str,
            "encoding": str,
            "html_gz": bytes,
        },
        pk="url",
        if_not_exists=True,
    )
    db["sites"].create(SITE_COLUMNS, pk="name", if_not_exists=True)
    db["sites"].add_missing_columns([SITE_COLUMNS])  # type: ignore[list-item]
    db["crawls"].create(
        {
            "id": int,
            "site": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            **dict.fromkeys(CRAWL_COUNTS, int),
            "last_error": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db["failures"].create(
        {
            "id": int,
            "url": str,
            "site": str,
            "crawl_id": int,
            "kind": str,
            "http_status": int,
            "message": str,
            "attempts": int,
            "at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db["failures"].create_index(["site", "at"], if_not_exists=True)
    db["discovery"].create(
        {
            "site": str,
            "url": str,
            "kind": str,
            "status": str,
            "article_links": int,
            "checked_at": str,
        },
        pk=("site", "url"),
        if_not_exists=True,
    )
    db["_meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["_meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")


def ensure_exact_index(db: sqlite_utils.Database) -> None:
    """The accent-keeping index over title, lead and body, kept in step by triggers.

    An external-content FTS5 table (the text stays in ``articles`` only) without
    per-column sizes: it answers "which articles have this word with these marks",
    never a BM25 rank. Built from the articles when an older archive lacks it.
    """
    if db[EXACT_FTS].exists():
        return
    cols = ", ".join(FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    delete = (
        f"insert into {EXACT_FTS}({EXACT_FTS}, rowid, {cols}) values ('delete', old.rowid, {old});"
    )
    insert = f"insert into {EXACT_FTS}(rowid, {cols}) values (new.rowid, {new});"
    with db.conn:
        db.execute(
            f"create virtual table {EXACT_FTS} using fts5({cols}, content='articles', "
            f"content_rowid='rowid', columnsize=0, tokenize='{EXACT_TOKENIZE}')"
        )
        db.execute(f"create trigger {EXACT_FTS}_ai after insert on articles begin {insert} end")
        db.execute(f"create trigger {EXACT_FTS}_ad after delete on articles begin {delete} end")
        db.execute(
            f"create trigger {EXACT_FTS}_au after update on articles begin {delete} {insert} end"
        )
        db.execute(f"insert into {EXACT_FTS}({EXACT_FTS}) values ('rebuild')")


def content_hash(article: Article) -> str:
    """A digest of what a reader sees, to tell an edited article from an unchanged one."""
    parts = [article.title, article.lead, article.body, article.author, article.published_at]
    return hashlib.sha1("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def local_date(published_at: str | None) -> str | None:
    """The calendar date as printed in the paper (SQLite's date() would convert to UTC)."""
    return published_at[:10] if published_at else None


def save_article(
    db: sqlite_utils.Database,
    article: Article,
    fetched_at: str | None = None,
    raw: RawPage | None = None,
) -> str:
    """Insert or update one article (and its raw page) in one transaction.

    Returns "new", "updated" or "unchanged". A crawl killed at any moment leaves either
    the old row or the new one, with the FTS index and tags in step.
    """
    fetched_at = fetched_at or now_iso()
    digest = content_hash(article)
    existing = db.execute(
        "select content_hash, first_seen_at from articles where url = ?", [article.url]
    ).fetchone()
    if existing is None:
        outcome, first_seen = "new", fetched_at
    elif existing[0] != digest:
        outcome, first_seen = "updated", existing[1]
    else:
        outcome, first_seen = "unchanged", existing[1]
    row = {
        "url": article.url,
        "site": article.site,
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "author": article.author,
        "published_at": article.published_at,
        "published_date": local_date(article.published_at),
        "modified_at": article.modified_at,
        "category": article.category,
        "tags": json.dumps(article.tags, ensure_ascii=False),
        "source": article.source,
        "image": article.image,
        "image_caption": article.image_caption,
        "language": article.language,
        "word_count": article.word_count,
        "content_hash": digest,
        "first_seen_at": first_seen,
        "fetched_at": fetched_at,
        "updated_at": fetched_at,
        # Where the second opinion disagreed (archive/crosscheck.py): JSON list or NULL.
        "extraction_warnings": json.dumps(article.warnings, ensure_ascii=False)
        if article.warnings
        else None,
    }
    conn = db.conn
    with conn:
        if raw is not None:
            _save_page(conn, article.url, article.site, raw, fetched_at)
        if outcome == "unchanged":
            _save_places(conn, article)  # the gazetteer or its reading may have changed
            conn.execute(
                "update articles set fetched_at = ? where url = ?", [fetched_at, article.url]
            )
            return outcome
        columns = ", ".join(row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in ("url", "first_seen_at"))
        # An UPSERT updates in place, so the FTS triggers see one UPDATE, not a
        # DELETE + INSERT as INSERT OR REPLACE would cause.
        conn.execute(
            f"insert into articles ({columns}) values ({', '.join('?' * len(row))}) "
            f"on conflict(url) do update set {updates}",
            list(row.values()),
        )
        conn.execute("delete from article_tags where url = ?", [article.url])
        _save_places(conn, article)
        conn.executemany(
            "insert or ignore into article_tags (url, tag) values (?, ?)",
            [(article.url, tag) for tag in dict.fromkeys(article.tags)],
        )
    return outcome


def _save_places(conn: sqlite3.Connection, article: Article) -> None:
    conn.execute("delete from article_places where url = ?", [article.url])
    conn.executemany(
        "insert into article_places (url, name, level, kind, district, province, province_now) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        [
            (article.url, p.name, p.level, p.kind, p.district, p.province, p.province_now)
            for p in article.places
        ],
    )


@dataclass
class RawPage:
    """A fetched response as it came off the wire."""

    body: bytes
    status: int = 200
    content_type: str | None = None
    encoding: str | None = None


def _save_page(
    conn: sqlite3.Connection, url: str, site: str, raw: RawPage, fetched_at: str
) -> None:
    conn.execute(
        "insert or replace into pages (url, site, fetched_at, status, content_type, encoding, html_gz) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        [
            url,
            site,
            fetched_at,
            raw.status,
            raw.content_type,
            raw.encoding,
            gzip.compress(raw.body),
        ],
    )


def iter_pages(db: sqlite_utils.Database, site: str | None = None) -> Iterable[dict]:
    """Stored raw pages, decompressed, for re-extraction."""
    where, args = ("site = ?", [site]) if site else (None, None)
    for row in db["pages"].rows_where(where, args, order_by="url"):
        row["html"] = gzip.decompress(row.pop("html_gz"))
        yield row


def known_fetched(db: sqlite_utils.Database, site: str) -> dict[str, str]:
    """Archived article URLs of a site with when each was last fetched."""
    return dict(
        db.execute("select url, fetched_at from articles where site = ?", [site]).fetchall()
    )


def save_site(db: sqlite_utils.Database, row: dict) -> None:
    db["sites"].upsert(row, pk="name", alter=True)


def start_crawl(db: sqlite_utils.Database, site: str) -> int:
    """Open a crawl record and return its id."""
    table = db["crawls"].insert({"site": site, "started_at": now_iso(), "status": "running"})
    return table.last_pk  # type: ignore[return-value]


def finish_crawl(db: sqlite_utils.Database, crawl_id: int, status: str, counts: dict) -> None:
    """Close a crawl record with its status and counts (names from CRAWL_COUNTS)."""
    fields = {k: counts.get(k, 0) for k in CRAWL_COUNTS}
    fields["last_error"] = counts.get("last_error")
    db["crawls"].update(crawl_id, {"finished_at": now_iso(), "status": status, **fields})


def close_stale_crawls(db: sqlite_utils.Database, site: str) -> None:
    """A crawl still marked running when a new one of the same site starts was killed
    (one crawl per archive runs at a time: `vnnews crawl` holds a lock): say so."""
    db.execute(
        "update crawls set status = 'interrupted', "
        "last_error = coalesce(last_error, 'killed: the run never finished') "
        "where site = ? and status = 'running'",
        [site],
    )
    db.conn.commit()


def get_crawl(db: sqlite_utils.Database, crawl_id: int) -> dict | None:
    """One ``crawls`` row by id, or None."""
    rows = list(db["crawls"].rows_where("id = ?", [crawl_id]))
    return rows[0] if rows else None


def record_failure(
    db: sqlite_utils.Database,
    *,
    url: str,
    site: str,
    crawl_id: int | None,
    kind: str,
    message: str,
    http_status: int | None = None,
    attempts: int = 1,
) -> None:
    """Log a page that could not be archived, with the reason, for the operator."""
    db["failures"].insert(
        {
            "url": url,
            "site": site,
            "crawl_id": crawl_id,
            "kind": kind,
            "http_status": http_status,
            "message": message[:500],
            "attempts": attempts,
            "at": now_iso(),
        }
    )


def remember(
    db: sqlite_utils.Database,
    site: str,
    url: str,
    kind: str,
    status: str,
    article_links: int | None = None,
) -> None:
    """Note what a discovery URL (feed, sitemap, listing, probe) gave this run, so the
    next incremental run can skip what is known to be empty or missing."""
    db.execute(
        "insert into discovery (site, url, kind, status, article_links, checked_at) values (?, ?, ?, ?, ?, ?) "
        "on conflict(site, url) do update set kind = excluded.kind, status = excluded.status, "
        "article_links = excluded.article_links, checked_at = excluded.checked_at",
        [site, url, kind, status, article_links, now_iso()],
    )
    db.conn.commit()


def recall(db: sqlite_utils.Database, site: str) -> dict[str, dict]:
    """What earlier runs learnt about this site's discovery URLs, by URL."""
    return {row["url"]: row for row in db["discovery"].rows_where("site = ?", [site])}


def previous_crawl(
    db: sqlite_utils.Database, site: str, before_id: int | None = None
) -> dict | None:
    """The site's last crawl before `before_id` (this run's own record)."""
    where, args = "site = ?", [site]
    if before_id is not None:
        where += " and id < ?"
        args.append(before_id)
    rows = list(db["crawls"].rows_where(where, args, order_by="id desc", limit=1))
    return rows[0] if rows else None


def select_articles(
    conn: sqlite3.Connection,
    *,
    sites: tuple[str, ...] = (),
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    match: str | None = None,
    columns: tuple[str, ...] = EXPORT_COLUMNS,
) -> sqlite3.Cursor:
    """Articles, oldest publication first, filtered by paper, local publication date
    (YYYY-MM-DD, inclusive), section and an FTS5 MATCH expression (archive.fts)."""
    where, args = [], []
    if sites:
        where.append(f"site in ({', '.join('?' * len(sites))})")
        args += list(sites)
    if since:
        where.append("published_date >= ?")
        args.append(since)
    if until:
        where.append("published_date <= ?")
        args.append(until)
    if category:
        where.append("category = ?")
        args.append(category)
    if match:
        where.append("rowid in (select rowid from articles_fts where articles_fts match ?)")
        args.append(match)
    sql = f"select {', '.join(columns)} from articles"
    if where:
        sql += " where " + " and ".join(where)
    return conn.execute(sql + " order by published_at, url", args)


def site_counts(db: sqlite_utils.Database) -> dict[str, dict]:
    """Per-site article counts and date range, for `vnnews sites`."""
    rows = db.execute(
        "select site, count(*), min(published_at), max(published_at), max(fetched_at) "
        "from articles group by site"
    ).fetchall()
    return {r[0]: {"articles": r[1], "first": r[2], "last": r[3], "fetched": r[4]} for r in rows}


def last_crawls(db: sqlite_utils.Database) -> dict[str, dict]:
    """Each site's latest crawl run (its ``crawls`` row), for `vnnews sites --db`."""
    rows = db.execute(
        "select c.site, c.id, c.started_at, c.finished_at, c.status, c.new, c.failed "
        "from crawls c join (select site, max(id) as id from crawls group by site) last "
        "on last.id = c.id"
    ).fetchall()
    keys = ("id", "started_at", "finished_at", "status", "new", "failed")
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}


def site_record(profile) -> dict:
    """A registry profile as its ``sites`` row."""
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
        "province_now": profile.province_now,
        "former_title": profile.former_title,
        "note": profile.note,
    }


def save_sites(db: sqlite_utils.Database, profiles: Iterable) -> None:
    """Write the whole registry to ``sites``, so every paper (merged ones and the
    outlets they went into included) has its row before anything of it is crawled."""
    with db.conn:
        db["sites"].upsert_all([site_record(p) for p in profiles], pk="name", alter=True)


# ---------------------------------------------------------------- health (vnnews check)
# These take a plain sqlite3 connection with sqlite3.Row rows: `vnnews check` opens
# the file itself, so that a damaged file is reported rather than "repaired".

FTS_TABLE = "articles_fts"


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}


def fts_consistency(conn: sqlite3.Connection, tables: set[str]) -> dict:
    """The FTS index checked by SQLite against the articles table (FTS5
    'integrity-check' with rank 1 compares the index with its content table), and the
    number of indexed rows against the number of articles."""
    result: dict = {"ok": True, "error": None, "articles": None, "indexed": None}
    result["articles"] = conn.execute("select count(*) from articles").fetchone()[0]
    if FTS_TABLE not in tables:
        return {**result, "ok": False, "error": f"no {FTS_TABLE} table"}
    try:
        conn.execute(f"insert into {FTS_TABLE}({FTS_TABLE}, rank) values('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        result.update(ok=False, error=f"integrity-check failed: {exc}")
    if f"{FTS_TABLE}_docsize" in tables:
        result["indexed"] = conn.execute(f"select count(*) from {FTS_TABLE}_docsize").fetchone()[0]
        unindexed = conn.execute(
            f"select count(*) from articles where rowid not in (select id from {FTS_TABLE}_docsize)"
        ).fetchone()[0]
        if result["indexed"] != result["articles"] or unindexed:
            result["ok"] = False
            result["error"] = result["error"] or (
                f"{result['articles']} articles but {result['indexed']} indexed "
                f"({unindexed} articles missing from the index)"
            )
    return result


def gaps_by_site(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Per site: articles, and how many lack a date, an author or a body."""
    return conn.execute(
        "select site, count(*) as n, sum(published_at is null or published_at = '') as no_date, "
        "sum(author is null or author = '') as no_author, "
        "sum(body is null or body = '') as no_body from articles group by site"
    ).fetchall()


def doubted_by_site(conn: sqlite3.Connection) -> dict[str, int]:
    """Per site, the articles whose text a second reading disputes (extraction_warnings);
    archives made before that column have none."""
    columns = {r[1] for r in conn.execute("pragma table_info(articles)")}
    if "extraction_warnings" not in columns:
        return {}
    return dict(
        conn.execute(
            "select site, count(*) from articles where extraction_warnings is not null "
            "group by site"
        ).fetchall()
    )


def productive_crawl_starts(conn: sqlite3.Connection, window: int) -> list[tuple[str, str]]:
    """(site, started_at) of each site's last `window` crawls that stored new articles,
    oldest first within a site."""
    return conn.execute(
        "select site, started_at from (select site, started_at, row_number() over "
        "(partition by site order by id desc) as k from crawls "
        "where new > 0 and status in ('ok', 'partial')) where k <= ? order by site, started_at",
        [window],
    ).fetchall()


def crawls_since_new(conn: sqlite3.Connection, site: str) -> tuple[str | None, int]:
    """(start of the latest, how many) finished crawls of a site since its last one
    that stored new articles."""
    return conn.execute(
        "select max(started_at), count(*) from crawls where site = ? and id > "
        "(select max(id) from crawls where site = ? and new > 0 and status in ('ok', 'partial')) "
        "and status != 'running'",
        [site, site],
    ).fetchone()


def latest_crawl_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Each site's latest ``crawls`` row, whole."""
    return conn.execute(
        "select c.* from crawls c join (select site, max(id) as id from crawls group by site) "
        "last on last.id = c.id order by c.site"
    ).fetchall()


def failures_by_kind(conn: sqlite3.Connection, crawl_id: int) -> list[tuple[str, int]]:
    """(kind, count) of a crawl's failures, most frequent first."""
    return conn.execute(
        "select kind, count(*) from failures where crawl_id = ? group by kind order by 2 desc, 1",
        [crawl_id],
    ).fetchall()


def failure_examples(conn: sqlite3.Connection, crawl_id: int, limit: int = 5) -> list[dict]:
    """A crawl's first failures other than dead links (404/410)."""
    return [
        {"url": r[0], "kind": r[1], "http_status": r[2]}
        for r in conn.execute(
            "select url, kind, http_status from failures where crawl_id = ? "
            "and not (kind = 'http' and http_status in (404, 410)) order by id limit ?",
            [crawl_id, limit],
        )
    ]


def last_successes(conn: sqlite3.Connection) -> dict[str, str]:
    """When each site's last run that stored anything (ok or partial) finished."""
    return dict(
        conn.execute(
            "select site, max(finished_at) from crawls where status in ('ok', 'partial') "
            "group by site"
        ).fetchall()
    )
