"""Datasette plugin for the vnnews archive.

Installed as the ``datasette`` entry point ``vnnews``; it does a few small jobs:

- **Search that ignores diacritics, đ included.** The FTS5 index folds accents
  (``unicode61 remove_diacritics 2``) but đ/Đ has no decomposition, so "dinh" would
  never find "Đình". We re-register Datasette's ``escape_fts`` SQL function with
  :func:`archive.fts.fts_query`, which expands ``d`` into ``(d OR đ)`` and quotes every token, so
  ``?_search=`` and the canned queries stay diacritic-blind and user input can never
  raise an FTS syntax error.
- **The database is always served as ``archive``**, whatever the file is called, so
  URLs, metadata and templates (``row-archive-articles.html``) do not depend on it.
- **Safe public defaults**: the ``/-/`` pages that reveal file paths, versions,
  settings and threads answer 404, and ``/robots.txt`` asks crawlers to stay away
  (facet and search URLs are endless and expensive).
- **Tidier defaults**: the raw-page blob is left out of ``/archive/pages`` unless
  asked for, a blank ``?_search=`` means no search, and table pages fold their long
  list of column descriptions.
- **Fast table search for common words**: ``/archive/articles?_search=`` with a term
  found in more than :data:`MANY_MATCHES` articles skips the row count and the facets
  and reads the newest rows from the ``published_at`` index (see
  :func:`_flag_many_matches`); the page says so.
- **Template helpers**: filters (``highlight``, ``paragraphs``, ``vn_datetime``…) and
  the figures of the front page.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from datasette import hookimpl
from datasette.database import Database, QueryInterrupted
from datasette.utils import await_me_maybe, tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from archive.check import silence
from archive.fts import fts_query

DATABASE_NAME = "archive"
VIETNAM = timezone(timedelta(hours=7))  # no daylight saving

# /-/ pages that disclose file paths, versions, settings or plugin lists to anyone.
BLOCKED_SPECIAL_PAGES = (
    "databases",
    "threads",
    "settings",
    "versions",
    "plugins",
    "config",
    "metadata",
    "actor",
)
_BLOCKED_RE = re.compile(r"/-/(?:{})(?:\.json)?/?$".format("|".join(BLOCKED_SPECIAL_PAGES)))
_PAGES_TABLE_RE = re.compile(rf"/{DATABASE_NAME}/(pages|captures)(?:\.(?:json|csv))?$")
_BLOB_COLUMN = {"pages": "html_gz", "captures": "body_gz"}
_ARTICLES_TABLE_RE = re.compile(rf"/{DATABASE_NAME}/articles(?:\.(?:json|csv))?$")

ROBOTS_TXT = "User-agent: *\nDisallow: /\n"


@hookimpl(trylast=True)
def prepare_connection(conn: Any) -> None:
    """Replace Datasette's ``escape_fts`` (``trylast`` so ours is registered after it)."""
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)


# ---------------------------------------------------------------------------
# Serving the archive under the name "archive"


async def _is_vnnews_archive(db: Database) -> bool:
    tables = await db.table_names()
    return "articles" in tables and "_meta" in tables


@hookimpl
def startup(datasette: Any) -> Callable[[], Awaitable[None]]:
    """Rename the one vnnews archive being served to ``archive``.

    Datasette names a database after its file (``demo.db`` → ``demo``) and 0.65 has
    no alias option; renaming here keeps every URL, the metadata and the template
    names stable without copying or linking the file (a link would split the WAL).
    Databases that are not vnnews archives are left alone.
    """

    async def inner() -> None:
        if DATABASE_NAME in datasette.databases:
            return
        candidates = [
            name
            for name, db in datasette.databases.items()
            if not db.is_memory and name != "_internal" and await _is_vnnews_archive(db)
        ]
        if len(candidates) == 1:
            db = datasette.databases[candidates[0]]
            datasette.remove_database(candidates[0])
            datasette.add_database(db, name=DATABASE_NAME)

    return inner


# ---------------------------------------------------------------------------
# Public safety: closed /-/ pages, robots.txt, no blob by default


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable:
    """Close sensitive ``/-/`` pages, tidy two query strings (see ``_tidy_query``) and
    flag table searches for common words (see ``_flag_many_matches``)."""

    def wrap(app: Callable) -> Callable:
        async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
            if scope.get("type") == "http":
                if _BLOCKED_RE.search(scope.get("path", "")):
                    await Response.text("Not found", status=404).asgi_send(send)
                    return
                scope = await _flag_many_matches(datasette, _tidy_query(scope))
            await app(scope, receive, send)

        return wrapped

    return wrap


def _tidy_query(scope: dict) -> dict:
    """Rewrite the query string Datasette will see, in two cases.

    - A blank ``?_search=`` (an empty search box submitted) is dropped: as an FTS
      query it matches nothing, and the reader meant "no search".
    - ``/archive/pages`` gets ``_nocol=html_gz`` unless the request picks its own
      columns: each row holds a whole gzipped page, and listing 50 of them would read
      megabytes to show "<Binary: …>" links. ``?_col=html_gz`` still gets them.
    """
    raw = scope.get("query_string", b"").decode("utf-8", "replace")
    pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not (k.startswith("_search") and not v.strip())]
    keys = {k for k, _ in kept}
    blobs = _PAGES_TABLE_RE.search(scope.get("path", ""))
    if blobs and not keys & {"_col", "_nocol"}:
        kept.append(("_nocol", _BLOB_COLUMN[blobs.group(1)]))  # captures: body_gz
    if kept == pairs:
        return scope
    return {**scope, "query_string": urllib.parse.urlencode(kept).encode("ascii")}


# ---------------------------------------------------------------------------
# Table search (?_search=) for common words
#
# Datasette 0.65 writes the table page's SQL itself. For ?_search= it filters with
# `rowid in (select rowid from articles_fts where articles_fts match …)`, and SQLite
# always plans that as one rowid lookup per match (it guesses 25 rows for any
# IN (SELECT …)). For `tinh`, in 983,600 of 1,000,000 articles (bench/search.py), that
# is a million lookups for each of: the 50 rows in published_at order (1.1 s, they are
# all sorted), the count (0.8 s) and each of the three facets (1.1 s, so they time
# out), 3.4 s a page. Making each of them cheap is not possible with Datasette's SQL,
# so for a term found in more than MANY_MATCHES articles:
# - the count and the facets are skipped (`_nocount`/`_nofacet`, added by the ASGI
#   wrapper) and the page says "hơn 10.000" (table-archive-articles.html);
# - the row query reads the published_at index newest first and keeps the rows whose
#   rowid is in the match list, stopping at the 51st (`+rowid in (…)`: the unary plus
#   forbids the rowid lookup, see _date_order_first): 0.14 s, the same rows.
# Below MANY_MATCHES, nothing changes: a few thousand lookups are fast and the page
# keeps its count and facets.

MANY_MATCHES = 10_000
# Value of the _nocount/_nofacet we add. Datasette copies the query string into the
# next-page link and the search form, so an "auto" coming back is ours: it is dropped
# and the decision made again for the new request (a new, rare word gets its count).
# Anything else (`_nocount=1`) is the reader's and is kept.
AUTO = "auto"
_SCOPE_FLAG = "vnnews.many_matches"  # set on the ASGI scope, read by the hooks below
# Datasette 0.65.5's clause for ?_search= on articles (datasette/filters.py).
_SEARCH_CLAUSES = {
    f"rowid in (select rowid from articles_fts where articles_fts match {match})"
    for match in ("escape_fts(:search)", ":search")
}
# The table's order (sort_desc in metadata.yml), which indexes (published_at),
# (site, published_at) and (category, published_at) serve (store.ensure_schema).
DATE_SORT = "published_at"


async def _matches_more_than(db: Database, search: str, raw: bool, limit: int) -> bool:
    """True if the FTS query matches more than ``limit`` articles.

    FTS5 stops after ``limit + 1`` rowids, so a common word costs under a
    millisecond; a rare one costs what its (short) match list does.
    """
    match = ":q" if raw else "escape_fts(:q)"
    sql = (
        "select count(*) from (select rowid from articles_fts "
        f"where articles_fts match {match} limit {limit + 1})"
    )
    try:
        result = await db.execute(sql, {"q": search}, log_sql_errors=False)
    except (sqlite3.Error, QueryInterrupted):
        return False  # e.g. bad raw FTS syntax: Datasette answers that with its 400
    return result.first()[0] > limit


async def _flag_many_matches(datasette: Any, scope: dict) -> dict:
    """For an articles table search matching more than MANY_MATCHES articles, add
    ``_nocount=auto&_nofacet=auto`` (unless the request sets them) and flag the
    scope for :func:`filters_from_request` and the template."""
    if not _ARTICLES_TABLE_RE.search(scope.get("path", "")):
        return scope
    raw = scope.get("query_string", b"").decode("utf-8", "replace")
    pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not (k in ("_nocount", "_nofacet") and v == AUTO)]
    search = next((v for k, v in kept if k == "_search"), "")
    db = datasette.databases.get(DATABASE_NAME)
    many = bool(search) and db is not None
    if many:
        raw_mode = ("_searchmode", "raw") in kept
        many = await _matches_more_than(db, search, raw_mode, MANY_MATCHES)
    if many:
        keys = {k for k, _ in kept}
        kept += [(k, AUTO) for k in ("_nocount", "_nofacet") if k not in keys]
    if kept == pairs and not many:
        return scope
    scope = {**scope, "query_string": urllib.parse.urlencode(kept).encode("ascii")}
    if many:
        scope[_SCOPE_FLAG] = True
    return scope


def _date_order_first(request: Any) -> bool:
    """Whether the flagged search should scan the date index instead of the matches.

    Only for the table's own order (published_at, either way), which the indexes
    give for free. Not for `_next` pages: Datasette adds
    `published_at < :p or published_at is null or (…)` there, and without the rowid
    lookup SQLite turns that OR into three index searches over half the table (7 s at
    1M articles, against 1.1 s for its usual plan).
    """
    if not request.scope.get(_SCOPE_FLAG) or request.args.get("_next"):
        return False
    sort = request.args.get("_sort") or request.args.get("_sort_desc")
    return sort in (None, "", DATE_SORT)


# An old-style pluggy hookwrapper (`hookwrapper=True`, pluggy 1.0 has it; the newer
# `wrapper=True` needs 1.1 and Datasette 0.65 only asks for pluggy>=1.0).
@hookimpl(hookwrapper=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """Wrap every ``filters_from_request`` result (Datasette's ``?_search=`` clause
    among them) to turn ``rowid in (…)`` into ``+rowid in (…)`` for common words."""
    outcome = yield
    if database == DATABASE_NAME and table == "articles" and _date_order_first(request):
        outcome.force_result([_without_rowid_lookup(r) for r in outcome.get_result()])


def _without_rowid_lookup(result: Any) -> Callable[[], Awaitable[Any]]:
    async def inner() -> Any:
        arguments = await await_me_maybe(result)
        if arguments is not None:
            arguments.where_clauses = [
                "+" + clause if clause in _SEARCH_CLAUSES else clause
                for clause in arguments.where_clauses
            ]
        return arguments

    return inner


@hookimpl
def register_routes() -> list[tuple[str, Callable]]:
    return [(r"^/robots\.txt$", _robots_txt), (r"^/ban-luu/(?P<capture_id>\d+)$", _stored_copy)]


async def _stored_copy(datasette: Any, request: Any) -> Response:
    """An archived capture, sanitised and sandboxed under a banner (archive/storedcopy.py)."""
    from archive import store
    from archive.storedcopy import CSP, render

    db = datasette.databases.get(DATABASE_NAME)
    capture_id = int(request.url_vars["capture_id"])
    found = await db.execute_fn(lambda conn: store.get_capture(conn, capture_id)) if db else None
    if found is None:
        return Response.text("Không có bản lưu này / no such capture", status=404)
    response = Response.html(render(*found))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def _robots_txt() -> Response:
    return Response.text(ROBOTS_TXT)


# ---------------------------------------------------------------------------
# Template helpers

_MARK_RE = re.compile(r"(</?mark>)")


def highlight(snippet: str | None) -> Markup:
    """Escape a ``snippet()`` result, keeping only its ``<mark>`` tags, balanced.

    Article text may itself contain markup (``<script>`` in a title): everything but
    the highlight tags is escaped, and an unclosed ``<mark>`` is closed.
    """
    out: list[str] = []
    open_mark = False
    for part in _MARK_RE.split(snippet or ""):
        if part == "<mark>" and not open_mark:
            out.append(part)
            open_mark = True
        elif part == "</mark>" and open_mark:
            out.append(part)
            open_mark = False
        elif part not in ("<mark>", "</mark>"):
            out.append(str(escape(part)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


def paragraphs(text: str | None) -> list[str]:
    """The paragraphs of an article body (stored separated by a blank line)."""
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def vn_datetime(value: str | None, vietnam_time: bool = False) -> str:
    """``2023-05-30T09:42:00+07:00`` → ``30/05/2023 09:42 (GMT+7)``, as papers print it.

    Article times keep the offset the paper gave (it is part of the data).
    ``vietnam_time=True`` converts the archive's own UTC timestamps (crawls, first
    seen) to UTC+07:00 for readers. Values that do not parse are shown as stored.
    """
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= 10:
        return moment.strftime("%d/%m/%Y")
    if vietnam_time and moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM)
    text = moment.strftime("%d/%m/%Y %H:%M")
    offset = moment.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        hours, mins = divmod(abs(minutes), 60)
        text += f" (GMT{sign}{hours}{f':{mins:02d}' if mins else ''})"
    return text


def vn_number(value: int | None) -> str:
    """Thousands separated by dots, the Vietnamese way: 12345 → ``12.345``."""
    return f"{value or 0:,}".replace(",", ".")


def article_path(url: str) -> str:
    """The row path of an article (its primary key, tilde-encoded as Datasette wants)."""
    return tilde_encode(url)


def json_list(value: str | None) -> list:
    """Decode the ``tags`` JSON array; anything else gives an empty list."""
    try:
        decoded = json.loads(value or "[]")
    except ValueError:
        return []
    return decoded if isinstance(decoded, list) else []


async def _history(db: Database, request: Any) -> dict:
    """Versions, captures, takedowns and reprint links of the article on the page."""
    from datasette.utils import tilde_decode

    from archive import store

    pks = (request.url_vars or {}).get("pks") if request is not None else None
    if not pks:
        return {}
    url = tilde_decode(pks)
    return await db.execute_fn(lambda conn: store.article_history(conn, url))


def word_diff(pair: list) -> list[tuple[str, str]]:
    """Template filter: the word diff of two version dicts' lead and body."""
    from archive.storedcopy import word_diff as diff

    old, new = pair
    return diff(
        f"{old['lead'] or ''}\n\n{old['body'] or ''}", f"{new['lead'] or ''}\n\n{new['body'] or ''}"
    )


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    env.filters.update(
        word_diff=word_diff,
        highlight=highlight,
        paragraphs=paragraphs,
        vn_datetime=vn_datetime,
        vn_number=vn_number,
        article_path=article_path,
        json_list=json_list,
    )


# Table pages list every column description above the rows (20 of them for
# articles): fold them into a <details> so readers reach the data first. Without
# JavaScript the list simply stays open.
FOLD_COLUMN_DESCRIPTIONS = """
const dl = document.querySelector("dl.column-descriptions");
if (dl) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Mô tả các cột / Column descriptions";
  dl.replaceWith(details);
  details.append(summary, dl);
}
"""


@hookimpl
def extra_body_script(view_name: str) -> str | None:
    return FOLD_COLUMN_DESCRIPTIONS if view_name == "table" else None


# The front page's figures scan whole indexes; a crawler adds rows at most every few
# minutes, so a minute-old answer is fine and keeps the page fast on big archives.
SUMMARY_TTL_SECONDS = 60.0
_summary_cache: dict[str, tuple[float, dict]] = {}


async def archive_summary(db: Database) -> dict:
    """What the archive holds: per newspaper counts and dates, totals, the last crawl."""
    cached = _summary_cache.get(str(db.path))
    if cached and time.monotonic() - cached[0] < SUMMARY_TTL_SECONDS:
        return cached[1]
    # Archives written before the registry carried the merger have no such columns.
    have = set(await db.table_columns("sites"))
    extra = ", ".join(
        f"s.{c}" if c in have else f"null as {c}"
        for c in ("province_now", "former_title", "merged_into")
    )
    per_site = await db.execute(
        f"""
        select a.site, s.title, s.province, s.status, {extra}, m.title as merged_into_title,
               a.articles, a.first_date, a.last_date
        from (
          select site, count(*) as articles,
                 min(published_date) as first_date, max(published_date) as last_date
          from articles group by site
        ) a left join sites s on s.name = a.site
        left join sites m on m.name = {"s.merged_into" if "merged_into" in have else "null"}
        order by a.articles desc
        """
    )
    rhythms = await db.execute_fn(silence)
    sites = [{**dict(r), "rhythm": rhythms.get(r["site"])} for r in per_site.rows]
    last_crawl = (
        await db.execute(
            "select site, started_at, finished_at, status, new, updated, failed "
            "from crawls order by started_at desc limit 1"
        )
    ).first()
    categories = await db.execute(
        "select category from articles where category is not null "
        "group by category order by count(*) desc limit 200"
    )
    summary = {
        "sites": sites,
        "categories": sorted(r["category"] for r in categories.rows),
        "total": sum(s["articles"] for s in sites),
        "first_date": min((s["first_date"] for s in sites if s["first_date"]), default=None),
        "last_date": max((s["last_date"] for s in sites if s["last_date"]), default=None),
        "last_crawl": dict(last_crawl) if last_crawl else None,
    }
    _summary_cache[str(db.path)] = (time.monotonic(), summary)
    return summary


async def site_titles(db: Database) -> dict[str, str]:
    """Registry names → newspaper titles, to show "Báo Cao Bằng" rather than a slug."""
    rows = await db.execute("select name, title from sites where title is not null")
    return {r["name"]: r["title"] for r in rows.rows}


@hookimpl
def extra_template_vars(
    template: str,
    database: str | None,
    table: str | None,
    view_name: str,
    request: Any,
    datasette: Any,
) -> Callable[[], Awaitable[dict]]:
    async def inner() -> dict:
        if DATABASE_NAME not in datasette.databases:
            return {}
        db = datasette.databases[DATABASE_NAME]
        if view_name == "table" and (database, table) == (DATABASE_NAME, "articles"):
            # table-archive-articles.html says why the count and facets are missing.
            flagged = request is not None and request.scope.get(_SCOPE_FLAG)
            return {"vnnews_many_matches": vn_number(MANY_MATCHES) if flagged else None}
        if template == "index.html":
            return {"archive": await archive_summary(db), "site_titles": await site_titles(db)}
        if template == "query-archive-search.html":
            summary = await archive_summary(db)
            return {"site_titles": await site_titles(db), "categories": summary["categories"]}
        if template == "row-archive-articles.html":
            return {"site_titles": await site_titles(db), "history": await _history(db, request)}
        return {}

    return inner
