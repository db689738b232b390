"""Ranked search and article listings, as a newsroom expects them.

``search(conn, Query)`` answers the search page, its feeds and exports, and every
listing by paper, section, author, tag, place or province (a listing is a search
without words). It takes a plain ``sqlite3`` connection to an archive (the plugin runs
it on Datasette's SQL threads; ``escape_fts`` need not be registered).

The order, for a query with words (docs/domain.md, "Who uses the archive"):

1. typed with marks ("Đình"): the articles with those exact marks first (the
   ``articles_exact`` index keeps them), then those that match only once folded
   ("định", "đinh");
2. within each: the word in the title, then in the lead, then anywhere;
3. within each of those tiers: newest publication first (then newest stored).

Tiers are FTS5 queries that exclude each other (``NOT``), so their sizes add up to
the total and a page is cut from the tiers it spans: no candidate cap, every match
reachable by paging. Without filters, a tier is put in date order by sorting its rows
when it is small and by walking the ``published_at`` index newest first when it is
large (the walk stops as soon as the page is full). With filters (paper, section,
dates…), the tier's matches are walked in rowid order and each one's keys read from
``article_keys`` (store.KEYS_TABLE), the next row of a narrow table, so a tier is
filtered, counted and cut into a page in one pass; SQLite's other plans built a
temporary b-tree of every match (a word in most of a million articles: 0.2–0.6 s per
statement). The cost stays bounded at a million articles (bench/search.py).
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from dataclasses import dataclass, field, fields, replace

from archive import store
from archive.fts import fts_query
from archive.store import EXACT_FTS, KEYS_TABLE

FOLDED_FTS = "articles_fts"
PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000  # exports ask for this many rows at most
# A tier with more rows than this is walked in published_at order instead of sorted.
SORT_AT_MOST = 20_000
# Facets are counted over at most this many matches (more would cost seconds at 1M).
FACET_AT_MOST = 10_000
FACET_VALUES = 12
FACETS = tuple(store.FACET_COUNTS)  # site, category, author, month, place


@dataclass
class Query:
    """What a reader asked for; every field comes from the URL, "" means "any"."""

    q: str = ""
    site: str = ""
    category: str = ""
    author: str = ""
    tag: str = ""
    place: str = ""  # a place's name, as in article_places
    province: str = ""  # a province of today: its papers and the places in it
    month: str = ""  # YYYY-MM, local publication date
    date_from: str = ""  # YYYY-MM-DD, inclusive
    date_to: str = ""
    sort: str = ""  # "" relevance (with words), "date" newest first
    page: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def from_args(cls, args: dict[str, str]) -> Query:
        """From URL parameters; numbers that do not parse fall back to the defaults."""
        values: dict = {}
        for f in fields(cls):
            raw = (args.get(f.name) or "").strip()
            if f.type == "int" or f.name in ("page", "size"):
                values[f.name] = int(raw) if raw.isdigit() and int(raw) > 0 else f.default
            else:
                values[f.name] = raw
        values["size"] = min(values["size"], MAX_PAGE_SIZE)
        return cls(**values)

    def params(self, **changes: object) -> dict[str, str]:
        """This query's URL parameters (with changes), leaving out the defaults."""
        query = replace(self, **changes)
        return {
            f.name: str(getattr(query, f.name))
            for f in fields(query)
            if getattr(query, f.name) not in ("", f.default)
        }

    @property
    def by_date(self) -> bool:
        return self.sort == "date" or not self.q.strip()


@dataclass
class Result:
    total: int
    rows: list[dict]
    facets: dict[str, list[dict]] | None = None  # None: too many matches to count
    tiers: list[tuple[str, int]] = field(default_factory=list)  # (tier, size), for tests
    size: int = PAGE_SIZE  # rows per page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def has_marks(text: str) -> bool:
    """True if ``text`` carries Vietnamese marks (tones, circumflex, breve, horn, đ)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "đ" in text.lower() or any(unicodedata.combining(c) for c in decomposed)


def _filters(query: Query, table: str = "") -> tuple[list[str], list]:
    """SQL conditions for the query's filters, with values, on ``articles`` or on
    ``article_keys`` (the same key columns, the same rowids), named ``table`` in the
    statement if given."""
    at = table + "." if table else ""
    where: list[str] = []
    args: list = []
    for column in ("site", "category", "author"):
        if getattr(query, column):
            where.append(f"{at}{column} = ?")
            args.append(getattr(query, column))
    if query.tag:
        where.append(f"{at}rowid in ({_rowids_of_urls('article_tags', 'tag')})")
        args.append(query.tag)
    if query.place:
        where.append(f"{at}rowid in ({_rowids_of_urls('article_places', 'name')})")
        args.append(query.place)
    if query.province:
        # Today's province: its papers (merged ones included) and the places now in it.
        where.append(
            f"({at}site in (select name from sites where province_now = ?) "
            f"or {at}rowid in ({_rowids_of_urls('article_places', 'province_now')}))"
        )
        args += [query.province, query.province]
    if len(query.month) == 7:
        where.append(f"{at}published_date >= ? and {at}published_date <= ?")
        args += [query.month + "-01", query.month + "-31"]
    if query.date_from:
        where.append(f"{at}published_date >= ?")
        args.append(query.date_from)
    if query.date_to:
        where.append(f"{at}published_date <= ?")
        args.append(query.date_to)
    return where, args


def _rowids_of_urls(table: str, column: str) -> str:
    """The rowids of the articles listed in ``table`` (by url) with ``column = ?``."""
    return f"select a.rowid from {table} x join articles a on a.url = x.url where x.{column} = ?"


@dataclass
class Tier:
    name: str
    table: str  # FOLDED_FTS or EXACT_FTS
    match: str
    exclude_exact: str | None = None  # a match on EXACT_FTS whose rows belong higher up


def tiers(q: str) -> list[Tier]:
    """The tiers of a query with words, best first; together they hold every match."""
    base = fts_query(q)
    title, lead = f"{{title}} : ({base})", f"{{lead}} : ({base})"
    shapes = [
        ("title", title),
        ("lead", f"({lead}) NOT ({title})"),
        ("text", f"({base}) NOT ({title}) NOT ({lead})"),
    ]
    if not has_marks(q):
        return [Tier(name, FOLDED_FTS, match) for name, match in shapes]
    exact = [Tier("exact " + name, EXACT_FTS, match) for name, match in shapes]
    folded = [Tier("folded " + name, FOLDED_FTS, match, base) for name, match in shapes]
    return exact + folded


def _tier_rowids(tier: Tier) -> tuple[str, list]:
    """SQL for the rowids of a tier, and its arguments."""
    sql = f"select rowid from {tier.table} where {tier.table} match ?"
    args: list = [tier.match]
    if tier.exclude_exact:
        sql += f" and rowid not in (select rowid from {EXACT_FTS} where {EXACT_FTS} match ?)"
        args.append(tier.exclude_exact)
    return sql, args


def _keyed(conn: sqlite3.Connection, tier: Tier, query: Query) -> tuple[str, list]:
    """FROM … WHERE of a tier's matches that pass the query's filters, as rows ``k`` of
    article_keys. CROSS JOIN keeps FTS5 the outer loop: it gives the matches in rowid
    order, so each lookup is the next row of that small table. (SQLite's own choice,
    the filter's index first and "rowid in (the matches)", builds a temporary b-tree
    of every match; handed rowids, FTS5 looks each one up, slower still.) An older
    archive served read-only, never opened by a writer since, has no article_keys:
    its ``articles`` hold the same columns under the same rowids, slower to step."""
    keys = KEYS_TABLE if _has_table(conn, KEYS_TABLE) else "articles"
    sql = (
        f"from {tier.table} f cross join {keys} k on k.rowid = f.rowid where f.{tier.table} match ?"
    )
    args: list = [tier.match]
    if tier.exclude_exact:
        sql += f" and f.rowid not in (select rowid from {EXACT_FTS} where {EXACT_FTS} match ?)"
        args.append(tier.exclude_exact)
    where, fargs = _filters(query, "k")
    return sql + "".join(" and " + w for w in where), args + fargs


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    sql = "select 1 from sqlite_master where type = 'table' and name = ?"
    return conn.execute(sql, [name]).fetchone() is not None


def _count(conn: sqlite3.Connection, tier: Tier, query: Query) -> int:
    """How many matches of a tier pass the query's filters."""
    if not _filters(query)[0]:
        sql, args = _tier_rowids(tier)
        return conn.execute(f"select count(*) from ({sql})", args).fetchone()[0]
    sql, args = _keyed(conn, tier, query)
    return conn.execute("select count(*) " + sql, args).fetchone()[0]


def _page(
    conn: sqlite3.Connection, tier: Tier, query: Query, limit: int, offset: int
) -> tuple[int, list[int]]:
    """A tier's size (its matches that pass the filters) and ``limit`` of their rowids
    from ``offset``, newest publication first."""
    if not _filters(query)[0]:
        size = _count(conn, tier, query)
        if offset >= size:
            return size, []
        return size, _newest(conn, _tier_rowids(tier), size, ([], []), limit, offset)
    sql, args = _keyed(conn, tier, query)
    # The size comes with the page, from the same pass ("count(*) over ()").
    rows = conn.execute(
        f"select k.rowid, count(*) over () {sql} "
        "order by k.published_at desc, k.rowid desc limit ? offset ?",
        args + [limit, offset],
    ).fetchall()
    if rows:
        return rows[0][1], [r[0] for r in rows]
    return _count(conn, tier, query), []  # the page starts past this tier


def _newest(
    conn: sqlite3.Connection,
    rowids: tuple[str, list] | None,
    size: int,
    filters,
    limit: int,
    offset: int,
) -> list[int]:
    """``limit`` rowids from ``offset`` of a set, newest publication first."""
    where, args = list(filters[0]), list(filters[1])
    if rowids is not None:
        sql, rargs = rowids
        # "+rowid" keeps SQLite from looking each match up: it walks the date index
        # newest first and stops once the page is full (datasette_plugin.py explains).
        big = size > SORT_AT_MOST
        where.insert(0, f"{'+' if big else ''}rowid in ({sql})")
        args = rargs + args
    sql = "select rowid from articles"
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by published_at desc, rowid desc limit ? offset ?"
    return [r[0] for r in conn.execute(sql, args + [limit, offset])]


def search(conn: sqlite3.Connection, query: Query, facets: bool = False) -> Result:
    """One page of results for ``query``, with the total and, if asked, the facets."""
    offset = (query.page - 1) * query.size
    words = query.q.strip() and fts_query(query.q) != '""'
    if query.q.strip() and not words:
        return Result(0, [], {} if facets else None, size=query.size)
    if not words:
        filters = _filters(query)
        where, args = filters
        sql = "select count(*) from articles" + (" where " + " and ".join(where) if where else "")
        total = conn.execute(sql, args).fetchone()[0]
        ids = _newest(conn, None, total, filters, query.size, offset)
        result = Result(total, _rows(conn, ids, None), size=query.size)
    elif query.by_date:
        everything = Tier("all", FOLDED_FTS, fts_query(query.q))
        total, ids = _page(conn, everything, query, query.size, offset)
        result = Result(total, _rows(conn, ids, query.q), size=query.size)
    else:
        result = _ranked(conn, query, offset)
    if facets:
        result.facets = _facets(conn, query, result.total)
    return result


def _ranked(conn: sqlite3.Connection, query: Query, offset: int) -> Result:
    """The page from the tiers it spans. Every tier's rows also match the folded query,
    so the total is one count; tiers below the page are never counted."""
    everything = Tier("all", FOLDED_FTS, fts_query(query.q))
    total = _count(conn, everything, query)
    sizes = []
    ids: list[int] = []
    start = 0  # where the current tier starts in the whole ranking
    for tier in tiers(query.q):
        if len(ids) >= query.size or start >= total:
            break
        skip = max(0, offset - start)
        size, found = _page(conn, tier, query, query.size - len(ids), skip)
        sizes.append((tier.name, size))
        ids += found
        start += size
    return Result(total, _rows(conn, ids, query.q), tiers=sizes, size=query.size)


def _rows(conn: sqlite3.Connection, ids: list[int], q: str | None) -> list[dict]:
    """The articles of ``ids`` in that order, with a highlighted snippet when searched."""
    if not ids:
        return []
    found = store.articles_by_rowid(conn, ids)
    if q:
        marks = ", ".join("?" * len(ids))
        snippets = conn.execute(
            f"select rowid, snippet({FOLDED_FTS}, -1, '<mark>', '</mark>', '…', 24) "
            f"from {FOLDED_FTS} where {FOLDED_FTS} match ? and rowid in ({marks})",
            [fts_query(q), *ids],
        )
        for rowid, snippet in snippets:
            found[rowid]["snippet"] = snippet
    rows = [found[i] for i in ids if i in found]
    for row in rows:
        row.setdefault("snippet", None)
    return rows


def _facets(conn: sqlite3.Connection, query: Query, total: int) -> dict[str, list[dict]] | None:
    """Counts by paper, section, author, month and place; None over FACET_AT_MOST."""
    if total > FACET_AT_MOST:
        return None
    if query.q.strip():
        # The matches are found once (as on a page), then counted by each field.
        sql, args = _keyed(conn, Tier("all", FOLDED_FTS, fts_query(query.q)), query)
        found = [r[0] for r in conn.execute("select k.rowid " + sql, args)]
        ids, args = "select value from json_each(?)", [json.dumps(found)]
    else:
        where, args = _filters(query)
        ids = "select rowid from articles" + (" where " + " and ".join(where) if where else "")
    out: dict[str, list[dict]] = {}
    for name in FACETS:
        rows = store.facet_counts(conn, name, ids, args, FACET_VALUES)
        out[name] = [{"value": v, "count": c} for v, c in rows if v]
    return out
