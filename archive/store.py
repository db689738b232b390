"""The archive's SQLite schema, every write to it and every query others need.

This is the one module that knows the schema (the search query, archive/search.py,
is the other module that spells SQL). Everything else calls the small functions here,
passing the database first (sqlite-utils style). Nothing here knows about Scrapy.

Tables (documented for researchers in metadata.yml):
- ``articles``: one row per canonical article URL; full-text indexed.
- ``article_tags``: one row per (article, tag), so tags facet cheaply.
- ``article_places``: one row per (article, place it names), from archive/places.py.
- ``article_keys``: what a search filters and sorts by, per article rowid (internal).
- ``captures``: every raw capture of an article page (gzip, with its HTTP status and
  headers), never overwritten: one per version, the WARC export's records.
- ``pages``: a view, the latest capture of each article, for ``vnnews reextract``.
- ``article_versions``: every text an article has had, 1…n in order of fetching.
- ``takedowns``: when an archived article vanished from its site, and when it came back.
- ``reprints``: an article published again by another outlet, linked to its original;
  ``text_bands`` is the LSH index that finds them (archive/reprints.py).
- ``sites``: the newspapers of the registry.
- ``crawls``: one row per crawl run and site, with its counts.
- ``failures``: pages that could not be fetched or extracted, with the reason.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils

from archive import reprints
from archive.models import Article

SCHEMA_VERSION = 1
# Raw captures are gzipped at level 6, not gzip's default 9: 0.6 % larger on real pages
# for a third less CPU, and the crawl writes one for every page it stores.
CAPTURE_GZIP_LEVEL = 6
# unicode61 with remove_diacritics 2 folds letters carrying two marks (ồ, ờ) too;
# đ/Đ never folds, so searches expand d → (d OR đ) at query time instead.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
FTS_COLUMNS = ["title", "lead", "body"]
# A second index that keeps the marks, so that a search typed with them ranks its exact
# matches (Đình) above the folded ones (định, đinh): archive/search.py.
EXACT_FTS = "articles_exact"
EXACT_TOKENIZE = "unicode61 remove_diacritics 0"
# What a search filters and orders its matches by, copied (by triggers) into a narrow
# table keyed by the article's rowid: archive/search.py walks an FTS5 match in rowid
# order and reads each match's keys there, one step along that small table instead of
# a row of ``articles`` (whole texts, a page or more each) or a temporary b-tree of
# every match (0.2–0.6 s for a word in most of a million articles).
KEYS_TABLE = "article_keys"
KEY_COLUMNS = ("site", "category", "author", "published_date", "published_at")

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
    # How many texts the article has had (article_versions); 1 until an edit is seen.
    "versions": int,
    # When the site stopped serving it (404/410, or a redirect to a home or section
    # page); NULL while it is online. The row is kept, searchable.
    "removed_at": str,
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
    c
    for c in ARTICLE_COLUMNS
    if c not in ("content_hash", "extraction_warnings", "versions", "removed_at")
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


class ArchiveError(Exception):
    """An archive file that cannot be used as it is, in one line that says what to do."""


def archive_problem(path: str | Path, must_exist: bool = True) -> str | None:
    """Why a file cannot be opened as an archive (missing, a folder, empty), or None;
    SQLite itself says when a file is not a database. A file that is not an archive is
    never replaced by a new one."""
    path = Path(path)
    if not path.exists():
        return f"no archive at {path}" if must_exist else None
    if path.is_dir():
        return f"{path} is a folder, not an archive file"
    # stat only: opening and closing the file ourselves would drop SQLite's POSIX locks
    # held by other connections of this process, and let another process corrupt it.
    if path.stat().st_size == 0:
        return (
            f"{path} is an empty file (0 bytes), not an archive: restore it from a backup, "
            "or delete it to start a new archive"
        )
    return None


def damaged(path: str | Path, exc: Exception) -> ArchiveError:
    return ArchiveError(
        f"{path} cannot be read ({exc}): run `vnnews check --db {path}`, or restore it "
        "from a backup"
    )


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) an archive database in WAL mode with its schema: for
    the crawl and the commands that write. An existing file that is not an archive
    (empty, damaged, another kind of file) raises ArchiveError, never a new archive."""
    problem = archive_problem(path, must_exist=False)
    if problem:
        raise ArchiveError(problem)
    conn = sqlite3.connect(str(path), timeout=30)
    db = sqlite_utils.Database(conn)  # turns recursive_triggers on: FTS stays in sync
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        ensure_schema(db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_store_full(exc) or "readonly" in str(exc) or "read-only" in str(exc):
            raise ArchiveError(f"cannot write {path}: {exc}") from exc
        raise damaged(path, exc) from exc
    return db


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an archive (never creates, migrates or repairs it);
    ArchiveError when the file is missing, empty, not SQLite or damaged. Works on a
    read-only file or medium too."""
    problem = archive_problem(path)
    if problem:
        raise ArchiveError(problem)
    conn = connect_file_readonly(path)
    try:
        tables = table_names(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise damaged(path, exc) from exc
    if "articles" not in tables:
        conn.close()
        raise ArchiveError(f"{path} is an SQLite file but not a vnnews archive (no articles)")
    return conn


def connect_file_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an existing SQLite file, on a read-only medium too."""
    uri = Path(path).resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc):
            raise
        # A WAL-mode file on a read-only medium: SQLite cannot create its -shm. With no
        # write-ahead log beside it nothing can be pending, so reading it as it is is
        # exact.
        wal = Path(str(path) + "-wal")
        if wal.exists() and wal.stat().st_size:
            raise ArchiveError(
                f"cannot read {path}: its write-ahead log ({wal.name}) needs a writable "
                "folder; copy the archive with its -wal file somewhere writable"
            ) from None
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=30)
    except sqlite3.DatabaseError:
        pass  # not a database at all: the caller's first query says so
    return conn


def open_readonly(path: str | Path) -> sqlite_utils.Database:
    """An archive opened for reading only (`vnnews sites`, `check`, `export`, `serve`):
    no schema is written; see connect_readonly."""
    return sqlite_utils.Database(connect_readonly(path))


def is_store_full(exc: BaseException) -> bool:
    """Whether a database error means the disk (or the file's size limit) is full."""
    return "disk is full" in str(exc) or "database or disk is full" in str(exc)


DISCOVERY_VALIDATORS = {"parent": str, "lastmod": str, "etag": str, "last_modified": str}


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
    ensure_keys_table(db)
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
    ensure_history_schema(db)
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
            # A child sitemap: the index that lists it and the lastmod the index gave
            # it when we last read it; any sitemap: its HTTP validators, for a
            # conditional request (ETag / Last-Modified).
            "parent": str,
            "lastmod": str,
            "etag": str,
            "last_modified": str,
        },
        pk=("site", "url"),
        if_not_exists=True,
    )
    db["discovery"].add_missing_columns([DISCOVERY_VALIDATORS])  # archives made before them
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


def ensure_keys_table(db: sqlite_utils.Database) -> None:
    """``article_keys``: each article's KEY_COLUMNS under its rowid (``id``), kept in
    step by triggers; filled from the articles when an older archive lacks it."""
    if db[KEYS_TABLE].exists():
        return
    cols = ", ".join(KEY_COLUMNS)
    new = ", ".join(f"new.{c}" for c in KEY_COLUMNS)
    insert = f"insert or replace into {KEYS_TABLE}(id, {cols}) values (new.rowid, {new});"
    delete = f"delete from {KEYS_TABLE} where id = old.rowid;"
    typed = ", ".join(f"{c} text" for c in KEY_COLUMNS)
    with db.conn:
        db.execute(f"create table {KEYS_TABLE} (id integer primary key, {typed})")
        db.execute(f"create trigger {KEYS_TABLE}_ai after insert on articles begin {insert} end")
        db.execute(f"create trigger {KEYS_TABLE}_ad after delete on articles begin {delete} end")
        db.execute(
            f"create trigger {KEYS_TABLE}_au after update on articles begin {delete} {insert} end"
        )
        fill_keys(db.conn)


def fill_keys(conn: sqlite3.Connection) -> None:
    """(Re)write ``article_keys`` from ``articles`` (a migration, a bulk load)."""
    cols = ", ".join(KEY_COLUMNS)
    conn.execute(f"delete from {KEYS_TABLE}")
    conn.execute(f"insert into {KEYS_TABLE}(id, {cols}) select rowid, {cols} from articles")


CAPTURE_COLUMNS = {
    "id": int,
    "url": str,  # the article's archived (canonical) URL
    "fetch_url": str,  # where the bytes came from, when another address (a mirror)
    "site": str,
    "fetched_at": str,
    "status": int,
    "content_type": str,
    "encoding": str,
    "headers": str,  # the response's HTTP headers, a JSON object
    "body_gz": bytes,  # the body as it came off the wire (decompressed), gzipped
    "sha1": str,  # of the raw body
}
VERSION_COLUMNS = {
    "url": str,
    "version": int,
    "fetched_at": str,
    "title": str,
    "lead": str,
    "body": str,
    "author": str,
    "published_at": str,
    "content_hash": str,
    "capture_id": int,
}
PAGES_VIEW = (
    "create view pages as select url, site, fetched_at, status, content_type, encoding, "
    "body_gz as html_gz, id as capture_id from captures "
    "where id in (select max(id) from captures group by url)"
)


def ensure_history_schema(db: sqlite_utils.Database) -> None:
    """Captures, versions, takedowns and reprints. An archive made before them kept one
    raw page per article in a ``pages`` table: its rows become the first captures."""
    db["captures"].create(CAPTURE_COLUMNS, pk="id", if_not_exists=True)
    db["captures"].create_index(["url", "id"], if_not_exists=True)
    if "pages" in db.table_names():
        with db.conn:
            db.execute(
                "insert into captures (url, site, fetched_at, status, content_type, encoding, "
                "body_gz) select url, site, fetched_at, status, content_type, encoding, html_gz "
                "from pages order by fetched_at"
            )
            db.execute("drop table pages")
    if "pages" not in db.view_names():
        db.execute(PAGES_VIEW)
    db["article_versions"].create(VERSION_COLUMNS, pk=("url", "version"), if_not_exists=True)
    db["takedowns"].create(
        {"id": int, "url": str, "site": str, "removed_at": str, "reason": str,
         "restored_at": str},
        pk="id",
        if_not_exists=True,
    )  # fmt: skip
    db["takedowns"].create_index(["url"], if_not_exists=True)
    db["reprints"].create(
        {"url": str, "original_url": str, "similarity": float, "reason": str, "found_at": str},
        pk=("url", "original_url"),
        if_not_exists=True,
    )
    db["reprints"].create_index(["original_url"], if_not_exists=True)
    ensure_text_bands(db)


def ensure_text_bands(db: sqlite_utils.Database) -> None:
    """The LSH index of reprints: (band, key) → the paper and the article. The paper is
    in the key, so a save reads the entries of other papers only, as two ranges of the
    primary key, however many copies its own paper holds (daily bulletins, lottery
    results). An archive made before the paper was there gets it from ``articles``."""
    columns = {c.name for c in db["text_bands"].columns} if db["text_bands"].exists() else set()
    if columns and "site" not in columns:
        # One transaction, DDL included: a run killed half-way leaves the old table.
        conn = db.conn
        conn.execute("begin immediate")
        try:
            conn.execute("alter table text_bands rename to text_bands_old")
            conn.execute("drop index if exists idx_text_bands_url")
            _create_text_bands(db)
            conn.execute(
                "insert or ignore into text_bands (band, key, site, url) "
                "select t.band, t.key, a.site, t.url from text_bands_old t "
                "join articles a on a.url = t.url"
            )
            conn.execute("drop table text_bands_old")
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
    elif not columns:
        _create_text_bands(db)


def _create_text_bands(db: sqlite_utils.Database) -> None:
    db.execute(
        "create table if not exists text_bands (band integer, key integer, site text, "
        "url text, primary key (band, key, site, url)) without rowid"
    )
    db.execute("create index if not exists idx_text_bands_url on text_bands (url)")


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
    new_version: bool = True,
) -> str:
    """Insert or update one article (with its raw capture) in one transaction.

    Returns "new", "updated" or "unchanged"; "foreign" (nothing written) when the URL
    is archived under another paper, whose rows and captures stay as they are: an
    article never changes paper. An edited article keeps every earlier
    text in ``article_versions`` and every earlier raw capture in ``captures``;
    ``new_version=False`` (re-extraction of the same capture) rewrites the current
    version instead. An article that had been taken down and is served again is
    restored (the takedown keeps its ``restored_at``). A crawl killed at any moment
    leaves either the old state or the new one, with the FTS index and tags in step.
    """
    with db.conn:
        return _write_article(db, article, fetched_at, raw, new_version)


@dataclass
class Capture:
    """One accepted article as the crawl hands it to the store: the text, the raw page
    it came from and when it was fetched."""

    article: Article
    raw: RawPage | None
    fetched_at: str


def save_articles(
    db: sqlite_utils.Database, captures: list[Capture], new_version: bool = True
) -> list[str]:
    """Save many articles in one transaction (a crawl writes in batches: one commit, one
    WAL sync, for many pages); the outcome of each, as ``save_article`` says it. Killed
    at any moment, the archive holds all of them or none: what is missing is fetched
    again by the next run, never stored twice."""
    with db.conn:
        return [_write_article(db, c.article, c.fetched_at, c.raw, new_version) for c in captures]


def _write_article(
    db: sqlite_utils.Database,
    article: Article,
    fetched_at: str | None,
    raw: RawPage | None,
    new_version: bool = True,
) -> str:
    """``save_article`` inside the caller's transaction."""
    fetched_at = fetched_at or now_iso()
    digest = content_hash(article)
    article.url = archived_url(db, article.url)
    existing = db.execute(
        "select content_hash, first_seen_at, versions, removed_at, site from articles "
        "where url = ?",
        [article.url],
    ).fetchone()
    if existing is not None and existing[4] != article.site:
        return "foreign"  # an article never changes paper: the other paper's row stays
    if existing is None:
        outcome, first_seen = "new", fetched_at
    elif existing[0] != digest:
        outcome, first_seen = "updated", existing[1]
    else:
        outcome, first_seen = "unchanged", existing[1]
    conn = db.conn
    capture_id = None
    if raw is not None and (outcome != "unchanged" or not has_capture(conn, article.url)):
        capture_id = _save_capture(conn, article, raw, fetched_at)
    if existing is not None and existing[3]:
        _restore(conn, article.url, fetched_at)
    if outcome == "unchanged":
        conn.execute("update articles set fetched_at = ? where url = ?", [fetched_at, article.url])
        _save_places(conn, article)  # the gazetteer or its reading may have changed
        return outcome
    versions = _save_version(conn, article, digest, fetched_at, capture_id, new_version)
    row = article_row(article, digest, first_seen, fetched_at)
    row["versions"] = versions
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
    conn.executemany(
        "insert or ignore into article_tags (url, tag) values (?, ?)",
        [(article.url, tag) for tag in dict.fromkeys(article.tags)],
    )
    _save_places(conn, article)
    link_reprints(conn, article.url, fetched_at)
    return outcome


# ---------------------------------------------------------------- reprints


def _candidate(conn: sqlite3.Connection, url: str) -> tuple[reprints.Candidate, set[str]] | None:
    row = conn.execute(
        "select url, site, published_at, first_seen_at, source, lead, body from articles "
        "where url = ?",
        [url],
    ).fetchone()
    if row is None:
        return None
    return reprints.Candidate(*row[:5]), reprints.shingles(reprints.article_text(row[5], row[6]))


def link_reprints(conn: sqlite3.Connection, url: str, at: str) -> None:
    """Index an article's text (text_bands) and link it with the articles of other
    outlets that carry the same text (reprints): every reprint points at the group's
    original (archive/reprints.py decides which)."""
    found = _candidate(conn, url)
    conn.execute("delete from text_bands where url = ?", [url])
    conn.execute("delete from reprints where url = ? or original_url = ?", [url, url])
    if found is None or len(found[1]) < reprints.MIN_SHINGLES:
        return
    article, runs = found
    keys = reprints.bands(runs)
    conn.executemany(
        "insert or ignore into text_bands (band, key, site, url) values (?, ?, ?, ?)",
        [(band, key, article.site, url) for band, key in keys],
    )
    # Other papers only (one paper's own copies are not reprints): for each band, the
    # entries before and after this paper in the key's order, each range read up to
    # PER_BAND rows, so a save costs the same however many copies one paper holds. Of
    # those, the MAX_CANDIDATES sharing the most bands are read: a wire story in every
    # paper must not make each save read them all.
    ranges = " union all ".join(
        f"select * from (select url from text_bands where band = ? and key = ? and site {op} ? "
        f"limit {reprints.PER_BAND})"
        for _ in keys
        for op in ("<", ">")
    )
    nearby = conn.execute(
        f"select url from ({ranges}) group by url order by count(*) desc, url limit ?",
        [v for band, key in keys for _ in "<>" for v in (band, key, article.site)]
        + [reprints.MAX_CANDIDATES],
    ).fetchall()
    matches: dict[str, tuple[reprints.Candidate, float]] = {}
    for (other_url,) in nearby:
        other = _candidate(conn, other_url)
        if other is None:
            continue
        if reprints.is_reprint(runs, other[1]):
            matches[other_url] = (other[0], reprints.similarity(runs, other[1]))
    if not matches:
        return
    original, reason = reprints.original_of([article] + [c for c, _ in matches.values()])
    if original is article:
        for other_url, (_, score) in matches.items():
            conn.execute("delete from reprints where url = ?", [other_url])
            _save_reprint(conn, other_url, url, score, reason, at)
    else:
        _save_reprint(conn, url, original.url, matches[original.url][1], reason, at)


def _save_reprint(
    conn: sqlite3.Connection, url: str, original: str, score: float, reason: str, at: str
) -> None:
    conn.execute(
        "insert or replace into reprints (url, original_url, similarity, reason, found_at) "
        "values (?, ?, ?, ?, ?)",
        [url, original, round(score, 3), reason, at],
    )


def article_history(conn: sqlite3.Connection, url: str) -> dict:
    """What an article page shows besides its text: its versions (oldest first), its
    raw captures, its takedowns, its originals and reprints elsewhere."""
    if "article_versions" not in table_names(conn):
        return {"versions": [], "captures": [], "takedowns": [], "originals": [], "reprints": []}
    keys = ("version", "fetched_at", "title", "lead", "body", "author", "published_at")
    versions = [
        dict(zip(keys, r, strict=True))
        for r in conn.execute(
            f"select {', '.join(keys)} from article_versions where url = ? order by version",
            [url],
        )
    ]
    captures = [
        {"id": r[0], "fetched_at": r[1], "status": r[2]}
        for r in conn.execute(
            "select id, fetched_at, status from captures where url = ? order by id", [url]
        )
    ]
    takedowns = [
        {"removed_at": r[0], "reason": r[1], "restored_at": r[2]}
        for r in conn.execute(
            "select removed_at, reason, restored_at from takedowns where url = ? order by id",
            [url],
        )
    ]
    return {"versions": versions, "captures": captures, "takedowns": takedowns,
            **article_links(conn, url)}  # fmt: skip


def get_capture(conn: sqlite3.Connection, capture_id: int) -> tuple[dict, bytes] | None:
    """One raw capture (its row without the body, and the body decompressed)."""
    cursor = conn.execute("select * from captures where id = ?", [capture_id])
    row = cursor.fetchone()
    if row is None:
        return None
    capture = dict(zip([d[0] for d in cursor.description], row, strict=True))
    return capture, gzip.decompress(capture.pop("body_gz"))


def article_links(conn: sqlite3.Connection, url: str) -> dict[str, list[dict]]:
    """An article's originals and its reprints elsewhere, for its page."""
    originals = conn.execute(
        "select r.original_url as url, a.site, a.title, r.similarity from reprints r "
        "left join articles a on a.url = r.original_url where r.url = ?",
        [url],
    ).fetchall()
    copies = conn.execute(
        "select r.url, a.site, a.title, r.similarity from reprints r "
        "left join articles a on a.url = r.url where r.original_url = ? order by r.url",
        [url],
    ).fetchall()
    keys = ("url", "site", "title", "similarity")
    return {
        "originals": [dict(zip(keys, r, strict=True)) for r in originals],
        "reprints": [dict(zip(keys, r, strict=True)) for r in copies],
    }


def article_row(article: Article, digest: str, first_seen: str, fetched_at: str) -> dict:
    """An article as its ``articles`` row (without ``versions``)."""
    return {
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


def archived_url(db: sqlite_utils.Database, url: str) -> str:
    """The URL an article is archived under: a spelling that differs only by a trailing
    slash finds the row already there (links to one article come with and without)."""
    path = urlsplit(url).path
    if path in ("", "/"):
        return url
    other = url[:-1] if url.endswith("/") else None
    if other is None:
        parts = urlsplit(url)
        other = parts._replace(path=parts.path + "/").geturl()
    found = db.execute(
        "select url from articles where url in (?, ?) order by url = ? desc limit 1",
        [url, other, url],
    ).fetchone()
    return found[0] if found else url


VERSION_FIELDS = ("title", "lead", "body", "author", "published_at")


def _save_version(
    conn: sqlite3.Connection,
    article: Article,
    digest: str,
    fetched_at: str,
    capture_id: int | None,
    new_version: bool,
) -> int:
    """Record the article's text as its next version (or rewrite the current one);
    return how many versions it has."""
    url = article.url
    last = conn.execute(
        "select max(version) from article_versions where url = ?", [url]
    ).fetchone()[0]
    if last is None and new_version:
        # Archived before versions were kept: its stored text is version 1.
        old = conn.execute(
            f"select updated_at, {', '.join(VERSION_FIELDS)}, content_hash from articles "
            "where url = ?",
            [url],
        ).fetchone()
        if old is not None:
            previous = conn.execute(
                "select max(id) from captures where url = ? and id != ?", [url, capture_id or -1]
            ).fetchone()[0]
            conn.execute(
                f"insert into article_versions (url, version, fetched_at, "
                f"{', '.join(VERSION_FIELDS)}, content_hash, capture_id) "
                "values (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                [url, *old, previous],
            )
            last = 1
    values = [getattr(article, f) for f in VERSION_FIELDS]
    if last is not None and not new_version:
        conn.execute(
            f"update article_versions set {', '.join(f + ' = ?' for f in VERSION_FIELDS)}, "
            "content_hash = ? where url = ? and version = ?",
            [*values, digest, url, last],
        )
        return last
    version = (last or 0) + 1
    conn.execute(
        f"insert into article_versions (url, version, fetched_at, {', '.join(VERSION_FIELDS)}, "
        "content_hash, capture_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [url, version, fetched_at, *values, digest, capture_id],
    )
    return version


def has_capture(conn: sqlite3.Connection, url: str) -> bool:
    return (
        conn.execute("select 1 from captures where url = ? limit 1", [url]).fetchone() is not None
    )


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
    headers: dict[str, str] | None = None  # every HTTP header of the response
    url: str | None = None  # where it was fetched, when not the article's own URL


def _save_capture(conn: sqlite3.Connection, article: Article, raw: RawPage, fetched_at: str) -> int:
    fetch_url = raw.url if raw.url and raw.url != article.url else None
    cursor = conn.execute(
        "insert into captures (url, fetch_url, site, fetched_at, status, content_type, "
        "encoding, headers, body_gz, sha1) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            article.url,
            fetch_url,
            article.site,
            fetched_at,
            raw.status,
            raw.content_type,
            raw.encoding,
            json.dumps(raw.headers, ensure_ascii=False) if raw.headers else None,
            gzip.compress(raw.body, compresslevel=CAPTURE_GZIP_LEVEL),
            hashlib.sha1(raw.body).hexdigest(),
        ],
    )
    return cursor.lastrowid  # type: ignore[return-value]


def iter_captures(db: sqlite_utils.Database) -> Iterable[dict]:
    """Every raw capture, oldest first, decompressed (``body``), headers decoded."""
    cursor = db.execute("select * from captures order by id")
    keys = [d[0] for d in cursor.description]
    for row in cursor:
        capture = dict(zip(keys, row, strict=True))
        capture["body"] = gzip.decompress(capture.pop("body_gz"))
        capture["headers"] = json.loads(capture["headers"]) if capture["headers"] else {}
        yield capture


# ---------------------------------------------------------------- takedowns


def mark_removed(db: sqlite_utils.Database, url: str, at: str, reason: str) -> bool:
    """An archived article its site no longer serves: set ``removed_at`` and open a
    ``takedowns`` record. The row stays, searchable. False when it was already marked
    (or is not archived)."""
    conn = db.conn
    with conn:
        cursor = conn.execute(
            "update articles set removed_at = ? where url = ? and removed_at is null", [at, url]
        )
        if not cursor.rowcount:
            return False
        conn.execute(
            "insert into takedowns (url, site, removed_at, reason) "
            "select url, site, ?, ? from articles where url = ?",
            [at, reason, url],
        )
    return True


def _restore(conn: sqlite3.Connection, url: str, at: str) -> None:
    """The article is served again: clear the notice, close its takedown record."""
    conn.execute("update articles set removed_at = null where url = ?", [url])
    conn.execute(
        "update takedowns set restored_at = ? where url = ? and restored_at is null", [at, url]
    )


def removals_by_site(conn: sqlite3.Connection) -> dict[str, list[dict]]:
    """Per site, the archived articles currently taken down, newest removal first."""
    if "takedowns" not in table_names(conn):
        return {}
    found: dict[str, list[dict]] = {}
    for url, site, title, removed_at, reason in conn.execute(
        "select a.url, a.site, a.title, a.removed_at, t.reason from articles a "
        "left join takedowns t on t.url = a.url and t.restored_at is null "
        "where a.removed_at is not null order by a.site, a.removed_at desc, a.url"
    ):
        found.setdefault(site, []).append(
            {"url": url, "title": title, "removed_at": removed_at, "reason": reason}
        )
    return found


# ---------------------------------------------------------------- re-checks


def recheck_candidates(db: sqlite_utils.Database, site: str, since: str) -> list[dict]:
    """A site's articles published (or, undated, first seen) since ``since``, with
    when each was fetched: the ones the re-check schedule may want again."""
    return [
        dict(zip(("url", "published_at", "first_seen_at", "fetched_at", "removed_at"), r,
                 strict=True))
        for r in db.execute(
            "select url, published_at, first_seen_at, fetched_at, removed_at from articles "
            "where site = ? and coalesce(published_date, substr(first_seen_at, 1, 10)) >= ?",
            [site, since[:10]],
        )
    ]  # fmt: skip


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
    validators: dict[str, str | None] | None = None,
) -> None:
    """Note what a discovery URL (feed, sitemap, listing, probe) gave this run, so the
    next incremental run can skip what is known to be empty or missing. ``validators``
    (``parent``, ``lastmod``, ``etag``, ``last_modified``) say when a sitemap changes;
    those not given are kept."""
    values = {k: (validators or {}).get(k) for k in DISCOVERY_VALIDATORS}
    keep = ", ".join(f"{k} = coalesce(excluded.{k}, discovery.{k})" for k in DISCOVERY_VALIDATORS)
    db.execute(
        f"insert into discovery (site, url, kind, status, article_links, checked_at, "
        f"{', '.join(values)}) values (?, ?, ?, ?, ?, ?, {', '.join('?' * len(values))}) "
        "on conflict(site, url) do update set kind = excluded.kind, status = excluded.status, "
        f"article_links = excluded.article_links, checked_at = excluded.checked_at, {keep}",
        [site, url, kind, status, article_links, now_iso(), *values.values()],
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
    where, args = _article_filters(sites, since, until, category, match)
    sql = f"select {', '.join(columns)} from articles" + where
    return conn.execute(sql + " order by published_at, url", args)


def archived_sites(db: sqlite_utils.Database) -> set[str]:
    """The papers with at least one article in the archive."""
    return {r[0] for r in db.execute("select distinct site from articles")}


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


def fts_consistency(
    conn: sqlite3.Connection, tables: set[str], verifier: sqlite3.Connection | None = None
) -> dict:
    """The FTS index checked by SQLite against the articles table (FTS5
    'integrity-check' with rank 1 compares the index with its content table), and the
    number of indexed rows against the number of articles.

    The integrity-check is an INSERT that writes nothing, but SQLite refuses it on a
    read-only connection: it runs on ``verifier`` (a writable connection to the same
    file), and without one ``verified`` is False (only the counts are compared)."""
    result: dict = {"ok": True, "error": None, "articles": None, "indexed": None}
    result["articles"] = conn.execute("select count(*) from articles").fetchone()[0]
    result["verified"] = verifier is not None
    if FTS_TABLE not in tables:
        return {**result, "ok": False, "error": f"no {FTS_TABLE} table"}
    try:
        if verifier is not None:
            verifier.execute(
                f"insert into {FTS_TABLE}({FTS_TABLE}, rank) values('integrity-check', 1)"
            )
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


def keys_out_of_step(conn: sqlite3.Connection) -> int:
    """How many articles ``article_keys`` misses or holds wrong (and keys of articles
    that are gone): a filtered search would leave those articles out or in wrongly."""
    differs = " or ".join(f"k.{c} is not a.{c}" for c in KEY_COLUMNS)
    wrong = conn.execute(
        f"select count(*) from articles a left join {KEYS_TABLE} k on k.id = a.rowid "
        f"where k.id is null or {differs}"
    ).fetchone()[0]
    orphans = conn.execute(
        f"select count(*) from {KEYS_TABLE} where id not in (select rowid from articles)"
    ).fetchone()[0]
    return wrong + orphans


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


# ---------------------------------------------------------------- reading for the publisher
# What the Datasette plugin's pages, the search engine (archive/search.py) and the
# benchmark read. Each takes a plain sqlite3 connection: the plugin runs them on
# Datasette's SQL threads (`db.execute_fn`), whose connections carry the public SQL
# limits, under the same time limit as Datasette's own queries. The answers never
# depend on the connection's row factory.

# The article fields a result page or feed shows, in this order (archive/search.py).
RESULT_COLUMNS = ("url", "site", "title", "lead", "author", "published_at", "category", "image")
# The columns of a search or listing exported as CSV; "paper" is the site's title.
RESULT_CSV_COLUMNS = (
    "url",
    "paper",
    "site",
    "title",
    "published_at",
    "category",
    "author",
    "lead",
    "body",
)
# Counts of a set of articles (given as SQL selecting their rowids) by one field,
# for the search page's facets: (value, count) rows, values not null.
FACET_COUNTS = {
    "site": "select site, count(*) from articles where rowid in ({ids}) group by 1",
    "category": "select category, count(*) from articles where rowid in ({ids}) "
    "and category is not null group by 1",
    "author": "select author, count(*) from articles where rowid in ({ids}) "
    "and author is not null group by 1",
    "month": "select substr(published_date, 1, 7), count(*) from articles "
    "where rowid in ({ids}) and published_date is not null group by 1",
    "place": "select p.name, count(distinct a.url) from articles a "
    "join article_places p on p.url = a.url where a.rowid in ({ids}) group by 1",
}


def _dicts(cursor: sqlite3.Cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def site_titles(conn: sqlite3.Connection) -> dict[str, str]:
    """Registry names → newspaper titles ("baocaobang" → "Báo Cao Bằng")."""
    return dict(conn.execute("select name, title from sites where title is not null").fetchall())


def articles_per_site(conn: sqlite3.Connection) -> list[dict]:
    """Per paper with articles, most articles first: its ``sites`` row's title,
    province, status and merger (the title of the outlet it went into as
    ``merged_into_title``), its article count and first and last publication day."""
    # Archives written before the registry carried the merger have no such columns.
    have = {r[1] for r in conn.execute("pragma table_info(sites)")}
    extra = ", ".join(
        f"s.{c}" if c in have else f"null as {c}"
        for c in ("province_now", "former_title", "merged_into")
    )
    merged = "s.merged_into" if "merged_into" in have else "null"
    return _dicts(
        conn.execute(
            f"select a.site, s.title, s.province, s.status, {extra}, "
            "m.title as merged_into_title, a.articles, a.first_date, a.last_date "
            "from (select site, count(*) as articles, min(published_date) as first_date, "
            "max(published_date) as last_date from articles group by site) a "
            f"left join sites s on s.name = a.site left join sites m on m.name = {merged} "
            "order by a.articles desc"
        )
    )


def latest_crawl(conn: sqlite3.Connection) -> dict | None:
    """The crawl run started last, of any paper: its site, times, status and counts."""
    found = _dicts(
        conn.execute(
            "select site, started_at, finished_at, status, new, updated, failed "
            "from crawls order by started_at desc limit 1"
        )
    )
    return found[0] if found else None


def top_categories(conn: sqlite3.Connection, limit: int = 200) -> list[str]:
    """The ``limit`` sections holding the most articles, most first."""
    return [
        r[0]
        for r in conn.execute(
            "select category from articles where category is not null "
            "group by category order by count(*) desc limit ?",
            [limit],
        )
    ]


def places_of(conn: sqlite3.Connection, url: str) -> list[dict]:
    """The places an article names (``article_places`` rows), in the order found."""
    return _dicts(
        conn.execute(
            "select name, level, kind, province, province_now from article_places "
            "where url = ? order by rowid",
            [url],
        )
    )


def provinces_merged_into(conn: sqlite3.Connection, province: str) -> list[str]:
    """The former provinces whose papers now belong to ``province`` (a province of
    today), itself left out: Tuyên Quang → [Hà Giang]."""
    rows = conn.execute(
        "select distinct province from sites where province_now = ? and province != ?",
        [province, province],
    )
    return sorted(r[0] for r in rows if r[0])


def article_texts(conn: sqlite3.Connection, urls: list[str]) -> dict[str, tuple]:
    """(lead, body) of each article of ``urls`` that is archived."""
    found: dict[str, tuple] = {}
    for url in urls:
        for lead, body in conn.execute("select lead, body from articles where url = ?", [url]):
            found[url] = (lead, body)
    return found


def first_seen(conn: sqlite3.Connection, urls: list[str]) -> dict[str, str | None]:
    """When each archived article of ``urls`` was first stored."""
    found: dict[str, str | None] = {}
    for url in urls:
        for (at,) in conn.execute("select first_seen_at from articles where url = ?", [url]):
            found[url] = at
    return found


def articles_by_rowid(
    conn: sqlite3.Connection, ids: list[int], columns: tuple[str, ...] = RESULT_COLUMNS
) -> dict[int, dict]:
    """The articles of ``ids`` by rowid, each as ``columns``."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(
        f"select rowid, {', '.join(columns)} from articles where rowid in ({marks})", ids
    )
    return {r[0]: dict(zip(columns, r[1:], strict=True)) for r in rows}


def facet_counts(
    conn: sqlite3.Connection, facet: str, ids: str, args: list, limit: int
) -> list[tuple]:
    """(value, count) of the articles selected by the SQL ``ids`` (their rowids, with
    ``args``) by one FACET_COUNTS field: most frequent first, months newest first."""
    order = " order by 1 desc" if facet == "month" else " order by 2 desc, 1"
    sql = FACET_COUNTS[facet].format(ids=ids) + order + f" limit {int(limit)}"
    return [(value, count) for value, count in conn.execute(sql, args)]


def fts_matches_more_than(conn: sqlite3.Connection, match: str, limit: int) -> bool:
    """Whether an FTS5 expression (archive.fts) matches more than ``limit`` articles.
    FTS5 stops after ``limit + 1`` rowids, so a common word costs under a millisecond."""
    sql = (
        f"select count(*) from (select rowid from {FTS_TABLE} "
        f"where {FTS_TABLE} match ? limit {int(limit) + 1})"
    )
    return conn.execute(sql, [match]).fetchone()[0] > limit


def mentions_by_site_month(conn: sqlite3.Connection, match: str) -> list[tuple]:
    """(site, YYYY-MM, articles) matching an FTS5 expression, by local publication
    month; undated articles are left out."""
    return [
        tuple(r)
        for r in conn.execute(
            "select a.site, substr(a.published_date, 1, 7) as month, count(*) as n "
            f"from {FTS_TABLE} join articles a on a.rowid = {FTS_TABLE}.rowid "
            f"where {FTS_TABLE} match ? and a.published_date is not null group by 1, 2",
            [match],
        )
    ]


def articles_by_site_month(conn: sqlite3.Connection) -> list[tuple]:
    """(site, YYYY-MM, articles) of every dated article, by local publication month."""
    return [
        tuple(r)
        for r in conn.execute(
            "select site, substr(published_date, 1, 7) as month, count(*) as n "
            "from articles where published_date is not null group by 1, 2"
        )
    ]


def _article_filters(
    sites: tuple[str, ...] = (),
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    match: str | None = None,
) -> tuple[str, list]:
    """A WHERE clause ("" for none) on ``articles`` and its arguments: papers, local
    publication days (inclusive), section, an FTS5 expression (archive.fts)."""
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
        where.append(f"rowid in (select rowid from {FTS_TABLE} where {FTS_TABLE} match ?)")
        args.append(match)
    return (" where " + " and ".join(where) if where else ""), args


def count_articles(
    conn: sqlite3.Connection,
    *,
    sites: tuple[str, ...] = (),
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    match: str | None = None,
) -> int:
    """How many articles ``select_articles`` would give for the same filters."""
    where, args = _article_filters(sites, since, until, category, match)
    return conn.execute("select count(*) from articles" + where, args).fetchone()[0]


def bulk_insert_articles(
    db: sqlite_utils.Database,
    rows: Iterable[dict],
    batch: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert many new ``articles`` rows at once (a synthetic benchmark archive) and
    return how many. The full-text triggers are kept aside during the load and both
    indexes (and ``article_keys``) rebuilt once at the end: far cheaper than N trigger-driven updates.
    ``progress`` is called with the number of rows inserted after each batch."""
    triggers = db.execute(
        "select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'articles'"
    ).fetchall()
    for name, _ in triggers:
        db.execute(f"drop trigger [{name}]")
    rows = iter(rows)
    done = 0
    while chunk := [row for _, row in zip(range(batch), rows, strict=False)]:
        with db.conn:
            db["articles"].insert_all(chunk, batch_size=batch)
        done += len(chunk)
        if progress:
            progress(done)
    with db.conn:
        db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('rebuild')")
        db.execute(f"insert into {EXACT_FTS}({EXACT_FTS}) values ('rebuild')")
        fill_keys(db.conn)
        for _, sql in triggers:
            db.execute(sql)
    return done
