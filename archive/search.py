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
reachable by paging. A tier is put in date order by sorting its rows when it is small
and by walking the ``published_at`` index newest first when it is large (the walk
stops as soon as the page is full), so the cost stays bounded at a million articles
(bench/search.py).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass, field, fields, replace

from archive import store
from archive.fts import fts_query
from archive.store import EXACT_FTS

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


def _filters(query: Query) -> tuple[list[str], list]:
    """SQL conditions on ``articles`` (unaliased) for the query's filters, with values."""
    where: list[str] = []
    args: list = []
    for column in ("site", "category", "author"):
        if getattr(query, column):
            where.append(f"{column} = ?")
            args.append(getattr(query, column))
    if query.tag:
        where.append("url in (select url from article_tags where tag = ?)")
        args.append(query.tag)
    if query.place:
        where.append("url in (select url from article_places where name = ?)")
        args.append(query.place)
    if query.province:
        # Today's province: its papers (merged ones included) and the places now in it.
        where.append(
            "(site in (select name from sites where province_now = ?) "
            "or url in (select url from article_places where province_now = ?))"
        )
        args += [query.province, query.province]
    if len(query.month) == 7:
        where.append("published_date >= ? and published_date <= ?")
        args += [query.month + "-01", query.month + "-31"]
    if query.date_from:
        where.append("published_date >= ?")
        args.append(query.date_from)
    if query.date_to:
        where.append("published_date <= ?")
        args.append(query.date_to)
    return where, args


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


def _count(conn: sqlite3.Connection, rowids: tuple[str, list], filters) -> int:
    """How many rows of a tier pass the filters. With filters, the filtered articles are
    read first and looked up in the tier's rowids ("+rowid"): handed a rowid list, FTS5
    looks each one up (0.6 s for one paper at 200,000 articles, against 36 ms)."""
    sql, args = rowids
    where, fargs = filters
    if not where:
        return conn.execute(f"select count(*) from ({sql})", args).fetchone()[0]
    return conn.execute(
        f"select count(*) from articles where {' and '.join(where)} and +rowid in ({sql})",
        fargs + args,
    ).fetchone()[0]


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
    filters = _filters(query)
    offset = (query.page - 1) * query.size
    words = query.q.strip() and fts_query(query.q) != '""'
    if query.q.strip() and not words:
        return Result(0, [], {} if facets else None, size=query.size)
    if not words:
        where, args = filters
        sql = "select count(*) from articles" + (" where " + " and ".join(where) if where else "")
        total = conn.execute(sql, args).fetchone()[0]
        ids = _newest(conn, None, total, filters, query.size, offset)
        result = Result(total, _rows(conn, ids, None), size=query.size)
    elif query.by_date:
        everything = Tier("all", FOLDED_FTS, fts_query(query.q))
        total = _count(conn, _tier_rowids(everything), filters)
        ids = _newest(conn, _tier_rowids(everything), total, filters, query.size, offset)
        result = Result(total, _rows(conn, ids, query.q), size=query.size)
    else:
        result = _ranked(conn, query, filters, offset)
    if facets:
        result.facets = _facets(conn, query, filters, result.total)
    return result


def _ranked(conn: sqlite3.Connection, query: Query, filters, offset: int) -> Result:
    """The page from the tiers it spans. Every tier's rows also match the folded query,
    so the total is one count; tiers below the page are never counted."""
    everything = Tier("all", FOLDED_FTS, fts_query(query.q))
    total = _count(conn, _tier_rowids(everything), filters)
    sizes = []
    ids: list[int] = []
    start = 0  # where the current tier starts in the whole ranking
    for tier in tiers(query.q):
        if len(ids) >= query.size or start >= total:
            break
        rowids = _tier_rowids(tier)
        size = _count(conn, rowids, filters)
        sizes.append((tier.name, size))
        if size and start + size > offset:
            skip = max(0, offset - start)
            ids += _newest(conn, rowids, size, filters, query.size - len(ids), skip)
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


def _facets(
    conn: sqlite3.Connection, query: Query, filters, total: int
) -> dict[str, list[dict]] | None:
    """Counts by paper, section, author, month and place; None over FACET_AT_MOST."""
    if total > FACET_AT_MOST:
        return None
    where, args = filters
    if query.q.strip() and where:  # filtered articles first, as in _count
        match = f"select rowid from {FOLDED_FTS} where {FOLDED_FTS} match ?"
        ids = f"select rowid from articles where {' and '.join(where)} and +rowid in ({match})"
        args = args + [fts_query(query.q)]
    elif query.q.strip():
        ids = f"select rowid from {FOLDED_FTS} where {FOLDED_FTS} match ?"
        args = [fts_query(query.q)]
    else:
        ids = "select rowid from articles" + (" where " + " and ".join(where) if where else "")
    out: dict[str, list[dict]] = {}
    for name in FACETS:
        rows = store.facet_counts(conn, name, ids, args, FACET_VALUES)
        out[name] = [{"value": v, "count": c} for v, c in rows if v]
    return out
