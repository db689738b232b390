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
  settings and threads answer 404, anything but GET and HEAD answers 405, and
  ``/robots.txt`` asks crawlers to stay away (facet and search URLs are endless and
  expensive).
- **Safe public SQL**: every value, SQLite's heap and each query's result are
  capped, the pragma tables that reveal paths are denied (:func:`limit_connection`),
  and user SQL and canned queries may each hold only a third of the SQL threads
  (:func:`query_kind`).
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

import asyncio
import json
import re
import sqlite3
import sys
import threading
import time
import traceback
import urllib.parse
import weakref
from collections.abc import Awaitable, Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

from datasette import hookimpl
from datasette.database import Database, QueryInterrupted
from datasette.facets import Facet
from datasette.handle_exception import handle_exception as default_handle_exception
from datasette.utils import (
    allowed_pragmas,
    await_me_maybe,
    escape_sqlite,
    path_with_removed_args,
    path_with_replaced_args,
    sqlite_timelimit,
    tilde_decode,
    tilde_encode,
)
from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError
from markupsafe import Markup, escape

from archive import store
from archive.check import silence
from archive.fts import fts_query
from archive.search import Query
from archive.search import Result as SearchResult
from archive.search import search as search_articles

DATABASE_NAME = "archive"
T = TypeVar("T")
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
    """Replace Datasette's ``escape_fts`` (``trylast`` so ours is registered after it)
    and put the public SQL limits on every connection (see :func:`limit_connection`)."""
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)
    limit_connection(conn)
    for name in ("printf", "format"):  # format is printf's other name since SQLite 3.38
        conn.create_function(name, -1, printf, deterministic=True)


# ---------------------------------------------------------------------------
# Safe public SQL: what one query may cost
#
# Anyone may run SQL. Datasette's time limit is a progress handler that SQLite calls
# every 1,000 instructions, and one instruction can be `randomblob(1e9)`: that query
# took 51 s and 7.5 GB. So memory is bounded in three places, each where the bytes
# are made: a single value (SQLite's length limit), SQLite's whole heap (values held
# for one row: many columns of big values), and the rows a query hands to Python
# (many rows of big values). Reading path-revealing pragma tables is denied, and
# the ASGI wrapper keeps slow queries from holding every SQL thread (query_kind).

# Largest string or blob a query may make or read. Above any value the crawler can
# store (a raw page is at most DOWNLOAD_MAXSIZE, 10 MiB, before gzip), far below
# SQLite's default of 1e9. Over it: "string or blob too big" (printf gives NULL).
MAX_VALUE_BYTES = 16 * 1024 * 1024
# SQLite's heap in the whole Datasette process (page caches included, a few MB).
# Over it, the allocating query fails with "out of memory" and frees what it took.
SQLITE_HEAP_BYTES = 128 * 1024 * 1024
# Strings and blobs one query may return to Datasette, in all. A page of 50 articles
# is well under 1 MB; ask for fewer rows (`_size=`) when pages.html_gz hits it.
MAX_RESULT_BYTES = 32 * 1024 * 1024
# Pragma tables user SQL may read: Datasette's list (it refuses any other `pragma`
# in the SQL editor) minus database_list, whose `file` column is the archive's path,
# which the closed /-/databases page hides. Checked by SQLite itself, so `_where=`
# and any spelling are covered; Datasette's own `PRAGMA database_list` statement is
# not a table read and still works.
SAFE_PRAGMA_TABLES = frozenset(f"pragma_{name}" for name in allowed_pragmas) - {
    "pragma_database_list"
}

_result_bytes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # cursor -> bytes


def limit_connection(conn: sqlite3.Connection) -> None:
    """Cap values, SQLite's heap and result size on ``conn``; deny path-revealing pragmas."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    # Process-wide, so setting it again on every connection is harmless.
    conn.execute(f"pragma hard_heap_limit = {SQLITE_HEAP_BYTES}")
    conn.set_authorizer(_authorize)
    conn.row_factory = _row_within_budget  # Datasette set sqlite3.Row just before us


def _authorize(action: int, table: str | None, *_: str | None) -> int:
    """SQLite's authorizer: called while a statement is prepared, once per table column read."""
    name = (table or "").lower()
    if (
        action == sqlite3.SQLITE_READ
        and name.startswith("pragma_")
        and name not in SAFE_PRAGMA_TABLES
    ):
        return sqlite3.SQLITE_DENY  # "access to pragma_database_list.file is prohibited"
    return sqlite3.SQLITE_OK


def _row_within_budget(cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
    """``sqlite3.Row``, counting the bytes of the rows each cursor returned so far.

    Raises ``sqlite3.DataError`` (shown as a query error) once a query's strings and
    blobs pass MAX_RESULT_BYTES: the time limit alone would let many rows of big
    values pile up between two checks of the clock.
    """
    size = sum(sys.getsizeof(v) for v in row if isinstance(v, (str, bytes)))
    if size:
        total = _result_bytes.get(cursor, 0) + size
        if total > MAX_RESULT_BYTES:
            raise sqlite3.DataError(
                f"result too large: over {MAX_RESULT_BYTES // 2**20} MB of text and blobs;"
                " ask for fewer rows or shorter values"
            )
        _result_bytes[cursor] = total
    return sqlite3.Row(cursor, row)


# SQLite 3.40 writes `%.*c` one character at a time, inside one instruction that no
# time limit can stop: `printf('%.*c', 1e9, 'x')` ran 5 s to return NULL (too big).
# A width, or a precision on a number or character, makes at least that many
# characters; over MAX_VALUE_BYTES SQLite's answer is NULL, so we give it at once.
_PRINTF_SPEC_RE = re.compile(r"%[-+ 0#!,]*(\*|\d+)?(?:\.(\*|\d*))?(?:ll?)?([a-zA-Z%])")
# Conversions whose precision is an upper bound (string length, %g's digits).
_PRINTF_PRECISION_IS_A_MAXIMUM = set("szqQwgG")
_builtin = threading.local()  # a plain connection per thread, for SQLite's own printf


def printf(*args: Any) -> Any:
    """SQLite's ``printf``/``format``, answering NULL at once when a width or precision
    says the result would be longer than MAX_VALUE_BYTES (as SQLite would, slowly)."""
    if not args or (isinstance(args[0], str) and _printf_too_long(args[0], args[1:])):
        return None
    conn = getattr(_builtin, "conn", None)
    if conn is None:
        conn = _builtin.conn = sqlite3.connect(":memory:")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    placeholders = ", ".join("?" * len(args))
    return conn.execute(f"select printf({placeholders})", args).fetchone()[0]


def _printf_too_long(fmt: str, args: tuple) -> bool:
    next_arg = 0

    def size(spec: str | None) -> int:
        nonlocal next_arg
        if spec != "*":
            return int(spec) if spec else 0
        value = args[next_arg] if next_arg < len(args) else 0
        next_arg += 1
        try:
            return abs(int(value))  # a negative width means left-justified
        except (TypeError, ValueError, OverflowError):
            return 0

    for width, precision, conversion in _PRINTF_SPEC_RE.findall(fmt):
        width_size, precision_size = size(width), size(precision)
        if conversion != "%":
            next_arg += 1
        if width_size > MAX_VALUE_BYTES:
            return True
        if precision_size > MAX_VALUE_BYTES and conversion not in _PRINTF_PRECISION_IS_A_MAXIMUM:
            return True
    return False


def _query_refusal(exception: Exception) -> str | None:
    """What to tell the reader when ``exception`` is one of our limits, else None."""
    if isinstance(exception, MemoryError):  # SQLite's heap limit, as Python reports it
        return (
            "The query needs more memory than this server gives SQL queries: "
            "ask for fewer or smaller values."
        )
    if isinstance(exception, sqlite3.DataError):  # too big, result too large
        return str(exception)
    if getattr(exception, "sqlite_errorcode", None) == sqlite3.SQLITE_AUTH:
        return str(exception)  # a denied pragma table
    return None


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    """Our limits are the query's fault, not the server's: a 400 saying which, not a
    500. Table pages (``_where=``) and out-of-memory reach here; the SQL editor shows
    the other errors itself."""
    message = _query_refusal(exception)
    if message is None:
        return None
    refusal = DatasetteError(message, title="Query refused", status=400)
    return default_handle_exception(datasette, request, refusal)


# ---------------------------------------------------------------------------
# The plugin's own queries are archive/store.py's functions, run here


async def read(db: Database, query: Callable[[sqlite3.Connection], T]) -> T:
    """``query(conn)`` (a function of archive/store.py) on Datasette's SQL threads, as
    Datasette runs its own SQL (``db.execute``): on a connection with the public limits
    above, under the SQL time limit (one limit per call, as it was per statement), and
    a query cut by it raises ``QueryInterrupted``."""
    limit_ms = db.ds.setting("sql_time_limit_ms")

    def run(conn: sqlite3.Connection) -> T:
        with sqlite_timelimit(conn, limit_ms):
            try:
                return query(conn)
            except sqlite3.OperationalError as exc:
                if exc.args == ("interrupted",):
                    raise QueryInterrupted(exc, getattr(query, "__name__", ""), None) from exc
                raise

    return await db.execute_fn(run)


# ---------------------------------------------------------------------------
# Serving the archive under the name "archive"


async def _is_vnnews_archive(db: Database) -> bool:
    tables = await db.table_names()
    return "articles" in tables and "_meta" in tables


@hookimpl
def startup(datasette: Any) -> Callable[[], Awaitable[None]]:
    """Rename the one vnnews archive being served to ``archive`` (and give Datasette
    an executor that frees cursors where they belong, see :class:`CursorSafeExecutor`).

    Datasette names a database after its file (``demo.db`` → ``demo``) and 0.65 has
    no alias option; renaming here keeps every URL, the metadata and the template
    names stable without copying or linking the file (a link would split the WAL).
    Databases that are not vnnews archives are left alone.
    """

    async def inner() -> None:
        use_cursor_safe_executor(datasette)
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
    """Close sensitive ``/-/`` pages, answer anything but GET and HEAD with 405, tidy
    two query strings (see ``_tidy_query``), flag table searches for common words
    (see ``_flag_many_matches``) and bound slow queries (see :func:`query_kind`)."""

    def wrap(app: Callable) -> Callable:
        gates: dict[str, asyncio.Semaphore] = {}

        async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            if _BLOCKED_RE.search(scope.get("path", "")):
                await Response.text("Not found", status=404).asgi_send(send)
                return
            if scope.get("method") not in READ_METHODS:
                # Nothing here takes a POST (no writable canned query, no write API);
                # Datasette answered one to a canned query or table with a 500.
                await Response.text(
                    "Method not allowed: this archive is read-only.",
                    status=405,
                    headers={"Allow": ", ".join(READ_METHODS)},
                ).asgi_send(send)
                return
            scope = await _flag_many_matches(datasette, _tidy_query(scope))
            kind = await _request_kind(datasette, scope)
            if kind is None:
                await app(scope, receive, _export_send(scope.get("path", ""), send))
                return
            gate = gates.setdefault(kind, asyncio.Semaphore(_share_of_threads(datasette)))
            limit_ms = datasette.setting("sql_time_limit_ms")
            started = time.monotonic()
            try:
                await asyncio.wait_for(gate.acquire(), timeout=limit_ms / 1000)
            except TimeoutError:
                await _busy(scope).asgi_send(send)
                return
            try:
                waited_ms = int((time.monotonic() - started) * 1000)
                if waited_ms >= limit_ms:
                    await _busy(scope).asgi_send(send)
                    return
                if waited_ms >= MIN_WAIT_MS:
                    scope = _with_time_limit(scope, limit_ms - waited_ms)
                await app(scope, receive, _export_send(scope.get("path", ""), send))
            finally:
                gate.release()

        return wrapped

    return wrap


# ---------------------------------------------------------------------------
# Slow queries may not hold every SQL thread
#
# Datasette runs every query on one pool of num_sql_threads threads. Ten slow
# queries at once held all of them, and a normal page waited 23 s. Two kinds of
# request can run for the whole time limit: any SQL (the editor, `_where=`) and the
# canned queries (a ranked search for a common word is the slowest page a reader
# can ask for). Each kind may hold at most a third of the threads at once, so table,
# row and front pages always find one free. A request over its kind's share waits
# at most the SQL time limit for a turn (it holds no thread meanwhile), then gets
# 503; one that waited runs with what is left of the limit (`_timelimit`), so every
# answer, refusal or cut, comes within the time limit. One request holds one thread
# at a time: Datasette 0.65 runs a page's queries one after the other.

READ_METHODS = ("GET", "HEAD")
SQL_PARAMS = frozenset({"sql", "_where"})
_QUERY_PATH_RE = re.compile(rf"^/{DATABASE_NAME}/([^/]+?)(?:\.(?:json|csv))?$")
BUSY_MESSAGE = "Too many slow queries are running; try again in a few seconds."


class CursorSafeExecutor(ThreadPoolExecutor):
    """Datasette's SQL thread pool, except that a failed query's frames are cleared
    in the thread that ran it.

    A query error (time limit, too big) carries a traceback whose frames hold the
    cursor. Freed later on the event loop, when the same thread's connection is
    already running the next query, the cursor's clean-up waits for that query, and
    the whole site with it: with ten slow queries, pages now and then stalled for a
    full time limit. Cleared here, the cursor is freed at once, by its own thread;
    the error keeps its message.
    """

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(_clearing_frames, fn, *args, **kwargs)


def _clearing_frames(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except BaseException as error:
        seen: set[int] = set()
        failure: BaseException | None = error
        while failure is not None and id(failure) not in seen:  # __context__ may loop
            seen.add(id(failure))
            traceback.clear_frames(failure.__traceback__)
            failure = failure.__cause__ or failure.__context__  # "interrupted" is here
        raise


def use_cursor_safe_executor(datasette: Any) -> None:
    """Put a :class:`CursorSafeExecutor` of the same size in place of Datasette's pool
    (Datasette 0.65 reads ``datasette.executor`` at each query)."""
    old = datasette.executor
    if old is None or isinstance(old, CursorSafeExecutor):
        return  # num_sql_threads = 0 runs queries on the event loop; or done already
    datasette.executor = CursorSafeExecutor(max_workers=datasette.setting("num_sql_threads"))
    old.shutdown(wait=False)


def query_kind(path: str, query_string: bytes, canned: Collection[str]) -> str | None:
    """``"sql"`` (user SQL), ``"canned"`` (a canned query) or None (anything else)."""
    pairs = urllib.parse.parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)
    if SQL_PARAMS & {k for k, _ in pairs}:
        return "sql"
    match = _QUERY_PATH_RE.match(path)
    if match and match.group(1) in canned:
        return "canned"
    return None


async def _request_kind(datasette: Any, scope: dict) -> str | None:
    path = scope.get("path", "")
    canned: Collection[str] = ()
    if _QUERY_PATH_RE.match(path):
        # The ranked search (our route, archive/search.py) is gated like a canned query.
        canned = {"search", *(await datasette.get_canned_queries(DATABASE_NAME, None) or {})}
    return query_kind(path, scope.get("query_string", b""), canned)


MIN_WAIT_MS = 10  # shorter waits leave the query string alone


def _with_time_limit(scope: dict, ms: int) -> dict:
    """``scope`` with ``_timelimit`` (Datasette's per-request limit) at most ``ms``.

    A reader's own ``_timelimit`` is kept when lower; one that is not a number is
    dropped (Datasette answers it with a 500).
    """
    raw = scope.get("query_string", b"").decode("utf-8", "replace")
    pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
    asked = [v for k, v in pairs if k == "_timelimit" and v.isdigit() and int(v) > 0]
    ms = min([ms, *(int(v) for v in asked)])
    kept = [(k, v) for k, v in pairs if k != "_timelimit"] + [("_timelimit", str(ms))]
    return {**scope, "query_string": urllib.parse.urlencode(kept).encode("ascii")}


def _share_of_threads(datasette: Any) -> int:
    return max(1, datasette.setting("num_sql_threads") // 3)


def _busy(scope: dict) -> Response:
    headers = {"Retry-After": "5"}
    if scope.get("path", "").endswith(".json"):
        body = {"ok": False, "error": BUSY_MESSAGE, "status": 503, "title": None}
        return Response.json(body, status=503, headers=headers)
    return Response.text(BUSY_MESSAGE, status=503, headers=headers)


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
    """True if the FTS query matches more than ``limit`` articles (a common word costs
    under a millisecond; a rare one what its short match list does)."""
    match = search if raw else fts_query(search)
    try:
        return await read(db, lambda conn: store.fts_matches_more_than(conn, match, limit))
    except (sqlite3.Error, QueryInterrupted):
        return False  # e.g. bad raw FTS syntax: Datasette answers that with its 400


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
    return [
        (r"^/robots\.txt$", _robots_txt),
        (rf"^{SEARCH_PATH}(?:\.(?P<format>json|csv|atom))?$", _search_view),
        (_LISTING_RE, _listing_view),
        (r"^/tu-khoa-theo-thoi-gian$", _term_view),
        (r"^/ban-luu/(?P<capture_id>\d+)$", _stored_copy),
    ]


async def _stored_copy(datasette: Any, request: Any) -> Response:
    """An archived capture, sanitised and sandboxed under a banner (archive/storedcopy.py)."""
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
        column_label=column_label,
        lookup_label=lookup_label,
        table_label=lambda name: TABLE_LABELS.get(name, name),
        strip_marks=lambda text: re.sub(r"</?mark>", "", text or ""),
    )
    env.globals["listing_url"] = listing_url


def listing_url(kind: str, value: str | None) -> str:
    """The page listing the articles of a paper, section, author, tag, place, province."""
    return "/" + kind + "/" + urllib.parse.quote(str(value or ""), safe="")


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
    per_site = await read(db, store.articles_per_site)
    rhythms = await db.execute_fn(silence)
    sites = [{**r, "rhythm": rhythms.get(r["site"])} for r in per_site]
    last_crawl = await read(db, store.latest_crawl)
    categories = await read(db, store.top_categories)
    summary = {
        "sites": sites,
        "categories": sorted(categories),
        "total": sum(s["articles"] for s in sites),
        "first_date": min((s["first_date"] for s in sites if s["first_date"]), default=None),
        "last_date": max((s["last_date"] for s in sites if s["last_date"]), default=None),
        "last_crawl": last_crawl,
    }
    _summary_cache[str(db.path)] = (time.monotonic(), summary)
    return summary


async def site_titles(db: Database) -> dict[str, str]:
    """Registry names → newspaper titles, to show "Báo Cao Bằng" rather than a slug."""
    return await read(db, store.site_titles)


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
            return {
                "vnnews_many_matches": vn_number(MANY_MATCHES) if flagged else None,
                "site_titles": await site_titles(db),
            }
        if template == "index.html":
            return {"archive": await archive_summary(db), "site_titles": await site_titles(db)}
        if template == "row-archive-articles.html":
            url = tilde_decode(request.path.rsplit("/", 1)[-1]) if request else ""
            places = await read(db, lambda conn: store.places_of(conn, url))
            return {
                "site_titles": await site_titles(db),
                "history": await _history(db, request),
                "article_places": places,
                # The reader's day, for "date accessed" in the citation.
                "today": datetime.now(VIETNAM).strftime("%d/%m/%Y"),
            }
        if view_name in ("table", "row") or template == "pages/bieu-do.html":
            return {"site_titles": await site_titles(db)}
        return {}

    return inner


# ---------------------------------------------------------------------------
# Exports a journalist opens: CSV with a BOM (Excel reads it as UTF-8), JSON with
# real letters instead of \u escapes. Datasette's own .csv and .json answers pass
# through here; ours are written that way already.

CSV_BOM = "\ufeff".encode()
# JSON bodies larger than this (a raw page's html_gz in base64) are sent on as they
# are: decoding and encoding them again would hold them in memory three times over,
# and twenty at once passed the 500 MB ceiling (tests/test_public_safety.py).
UNESCAPE_AT_MOST = 2 * 1024 * 1024


def _export_send(path: str, send: Callable) -> Callable:
    """``send``, adding a BOM to a CSV body and un-escaping a JSON body."""
    if path.endswith(".csv"):
        first = True

        async def send_csv(message: dict) -> None:
            nonlocal first
            if message["type"] == "http.response.start":
                message = {**message, "headers": _without_length(message.get("headers", []))}
            elif message["type"] == "http.response.body" and first:
                first = False
                body = message.get("body", b"")
                if not body.startswith(CSV_BOM):
                    message = {**message, "body": CSV_BOM + body}
            await send(message)

        return send_csv
    if not path.endswith(".json"):
        return send
    held: list[dict] = []
    chunks: list[bytes] = []
    passing = False  # over UNESCAPE_AT_MOST: sent on as it comes

    async def send_json(message: dict) -> None:
        nonlocal passing
        if message["type"] == "http.response.start" and not passing:
            held.append(message)
            return
        if message["type"] != "http.response.body" or passing or not held:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            if sum(map(len, chunks)) > UNESCAPE_AT_MOST:
                passing = True
                await send(held.pop())
                await send(
                    {"type": "http.response.body", "body": b"".join(chunks), "more_body": True}
                )
                chunks.clear()
            return
        body = b"".join(chunks)
        start = held.pop()
        if b"\\u" in body and len(body) <= UNESCAPE_AT_MOST:
            try:
                body = json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
                start = {**start, "headers": _without_length(start.get("headers", []))}
            except (ValueError, UnicodeDecodeError):
                pass  # newline-delimited JSON or not JSON at all: as it came
        await send(start)
        await send({"type": "http.response.body", "body": body})

    return send_json


def _without_length(headers: list) -> list:
    return [(k, v) for k, v in headers if k.lower() != b"content-length"]


# ---------------------------------------------------------------------------
# Reader pages: ranked search, listings by paper, section, author, tag, place and
# province, their Atom feeds and exports (the engine is archive/search.py).

FEED_SIZE = 30
# /bao/baocaobang, /tac-gia/Bảo Bình …: a listing is a search without words.
LISTINGS = {
    "bao": ("site", "Báo"),
    "chuyen-muc": ("category", "Chuyên mục"),
    "tac-gia": ("author", "Tác giả"),
    "tu-khoa": ("tag", "Từ khóa"),
    "dia-danh": ("place", "Địa danh"),
    "tinh": ("province", "Tỉnh, thành phố"),
}
_LISTING_RE = r"^/(?P<kind>{})/(?P<value>[^/]+?)(?:\.(?P<format>json|csv|atom))?$".format(
    "|".join(LISTINGS)
)
SEARCH_PATH = f"/{DATABASE_NAME}/search"


def _first_values(request: Any) -> dict[str, str]:
    """The first value of each URL parameter (Datasette's MultiParams is not a dict)."""
    return {k: request.args.get(k) for k in request.args.keys()}  # noqa: SIM118


async def _search_view(datasette: Any, request: Any) -> Response:
    query = Query.from_args(_first_values(request))
    fmt = request.url_vars.get("format") or "html"
    return await _results(datasette, request, query, fmt, SEARCH_PATH, None)


async def _listing_view(datasette: Any, request: Any) -> Response:
    kind = request.url_vars["kind"]
    value = urllib.parse.unquote(request.url_vars["value"])  # Datasette matches the raw path
    field, label = LISTINGS[kind]
    args = {**_first_values(request), field: value}
    query = Query.from_args(args)
    fmt = request.url_vars.get("format") or "html"
    path = "/" + kind + "/" + urllib.parse.quote(value)
    return await _results(datasette, request, query, fmt, path, (field, label, value))


async def _results(
    datasette: Any,
    request: Any,
    query: Query,
    fmt: str,
    path: str,
    listing: tuple[str, str, str] | None,
) -> Response:
    db = datasette.get_database(DATABASE_NAME)
    if fmt == "atom":
        query = replace(query, sort="date", page=1, size=FEED_SIZE)
    # The ASGI wrapper lowers _timelimit for a request that waited for its turn.
    asked = request.args.get("_timelimit") or ""
    limit_ms = datasette.setting("sql_time_limit_ms")
    if asked.isdigit() and int(asked) > 0:
        limit_ms = min(limit_ms, int(asked))

    def run(conn: sqlite3.Connection) -> SearchResult:
        with sqlite_timelimit(conn, limit_ms):
            result = search_articles(conn, query, facets=fmt == "html")
            if fmt == "csv":
                _add_text(conn, result.rows)
            return result

    fixed = {listing[0]} if listing else set()

    def url(fmt_: str = "", **changes: Any) -> str:
        params = query.params(**{"page": 1, **changes})
        for name in fixed:
            params.pop(name, None)
        suffix = f".{fmt_}" if fmt_ else ""
        return path + suffix + ("?" + urllib.parse.urlencode(params) if params else "")

    try:
        result = await db.execute_fn(run)
        error = None
    except sqlite3.OperationalError as exc:
        result, error = SearchResult(0, []), str(exc)
    titles = await site_titles(db)
    if fmt == "json":
        return _json_results(request, query, result, url, error)
    if fmt == "csv":
        return _csv_results(result, titles)
    if fmt == "atom":
        return await _atom_results(datasette, request, query, result, titles, listing, url)
    summary = await archive_summary(db)
    context = {
        "query": query,
        "result": result,
        "error": error,
        "listing": listing,
        "site_titles": titles,
        "categories": summary["categories"],
        "url": url,
        "merged": await _merged_provinces(db, query.q.strip()),
        "page_numbers": _page_numbers(query.page, result.pages),
        "metadata": datasette.metadata(),
    }
    html = await datasette.render_template("vn-results.html", context, request=request)
    return Response.html(html)


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """Page links to show: first, last and the neighbours of ``page``; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


async def _merged_provinces(db: Database, q: str) -> dict | None:
    """When the words are a province of today that others merged into (Tuyên Quang),
    the provinces it took in (Hà Giang), for a link to the whole province."""
    if not q:
        return None
    others = await read(db, lambda conn: store.provinces_merged_into(conn, q))
    return {"province": q, "others": others} if others else None


def _add_text(conn: sqlite3.Connection, rows: list[dict]) -> None:
    texts = store.article_texts(conn, [row["url"] for row in rows])
    for row in rows:
        row["lead"], row["body"] = texts.get(row["url"], (None, None))


def _json_results(request: Any, query: Query, result: SearchResult, url, error) -> Response:
    if error:
        body: Any = {"ok": False, "error": error}
        return Response(json.dumps(body, ensure_ascii=False), status=400,
                        content_type="application/json; charset=utf-8")  # fmt: skip
    if request.args.get("_shape") == "array":
        body = result.rows
    else:
        last = query.page >= result.pages
        body = {
            "ok": True,
            "total": result.total,
            "page": query.page,
            "pages": result.pages,
            "size": query.size,
            "rows": result.rows,
            "facets": result.facets,
            "next_url": None if last else url("json", page=query.page + 1),
        }
    return Response(json.dumps(body, ensure_ascii=False),
                    content_type="application/json; charset=utf-8")  # fmt: skip


def _csv_results(result: SearchResult, titles: dict[str, str]) -> Response:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(store.RESULT_CSV_COLUMNS)
    for row in result.rows:
        paper = titles.get(row["site"], row["site"])
        writer.writerow([paper if c == "paper" else row.get(c) for c in store.RESULT_CSV_COLUMNS])
    return Response(
        "\ufeff" + out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="tim-kiem.csv"'},
    )


async def _atom_results(datasette, request, query, result, titles, listing, url) -> Response:
    """The newest matching articles as an Atom 1.0 feed (RFC 4287)."""
    from xml.sax.saxutils import escape as xml_escape

    def absolute(path: str) -> str:
        return datasette.absolute_url(request, path)

    def attr(value: str) -> str:
        return xml_escape(value, {'"': "&quot;"})

    if listing:
        title = f"{listing[1]}: {titles.get(listing[2], listing[2]) if listing[0] == 'site' else listing[2]}"
    else:
        title = f"Tìm kiếm «{query.q}»" if query.q else "Bài mới"
    db = datasette.get_database(DATABASE_NAME)
    urls = [row["url"] for row in result.rows]
    seen = await read(db, lambda conn: store.first_seen(conn, urls))
    entries = []
    stamps = []
    for row in result.rows:
        updated = _atom_time(row["published_at"]) or _atom_time(seen.get(row["url"]))
        if updated:
            stamps.append(updated)
        link = absolute(datasette.urls.row(DATABASE_NAME, "articles", tilde_encode(row["url"])))
        original = row["url"] if row["url"].startswith(("http://", "https://")) else None
        summary = row.get("lead") or re.sub(r"</?mark>", "", row.get("snippet") or "")
        published = _atom_time(row["published_at"])
        entries.append(
            "<entry>"
            f"<title>{xml_escape(row['title'] or row['url'])}</title>"
            f"<id>{xml_escape(link)}</id>"
            f'<link rel="alternate" type="text/html" href="{attr(link)}"/>'
            + (f'<link rel="via" type="text/html" href="{attr(original)}"/>' if original else "")
            + f"<updated>{updated or '1970-01-01T00:00:00Z'}</updated>"
            + (f"<published>{published}</published>" if published else "")
            + (
                f"<author><name>{xml_escape(row['author'])}</name></author>"
                if row.get("author")
                else ""
            )
            + f'<category term="{attr(row["site"])}" label="{attr(titles.get(row["site"], row["site"]))}"/>'
            + (f"<summary>{xml_escape(summary)}</summary>" if summary else "")
            + "</entry>"
        )
    feed_url = absolute(url("atom"))
    page_url = absolute(url())
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">'
        f"<title>{xml_escape(title)}</title>"
        f"<id>{xml_escape(feed_url)}</id>"
        f'<link rel="self" type="application/atom+xml" href="{attr(feed_url)}"/>'
        f'<link rel="alternate" type="text/html" href="{attr(page_url)}"/>'
        f"<updated>{max(stamps) if stamps else '1970-01-01T00:00:00Z'}</updated>"
        "<author><name>vnnews</name></author>"
        "<generator>vnnews</generator>" + "".join(entries) + "</feed>\n"
    )
    return Response(feed, content_type="application/atom+xml; charset=utf-8")


def _atom_time(value: str | None) -> str | None:
    """An RFC 3339 time in UTC, or None for a day without a time (never a made-up hour)."""
    if not value or len(value) <= 10:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# "Một từ khóa theo thời gian": how often papers mention a term, month by month, one
# chart per paper (the canned query term_over_time stays for researchers).


async def _term_view(datasette: Any, request: Any) -> Response:
    db = datasette.get_database(DATABASE_NAME)
    term = (request.args.get("q") or "").strip()
    titles = await site_titles(db)
    charts: list[dict] = []
    error = None
    if term:
        try:
            match = fts_query(term)
            hits = await read(db, lambda conn: store.mentions_by_site_month(conn, match))
            totals = await read(db, store.articles_by_site_month)
            charts = term_charts(hits, totals, titles)
        except (sqlite3.Error, QueryInterrupted) as exc:
            error = str(exc)
    context = {"term": term, "charts": charts, "error": error, "metadata": datasette.metadata()}
    html = await datasette.render_template("vn-term.html", context, request=request)
    return Response.html(html)


def term_charts(hits: list, totals: list, titles: dict[str, str]) -> list[dict]:
    """Per paper that mentions the term: every month from the first mention to the last
    (a month without one is a zero), with mentions, articles and the share in percent."""
    found: dict[str, dict[str, int]] = {}
    for site, month, n in hits:
        found.setdefault(site, {})[month] = n
    all_articles: dict[tuple[str, str], int] = {(s, m): n for s, m, n in totals}
    if not found:
        return []
    months = _month_range(min(min(m) for m in found.values()), max(max(m) for m in found.values()))
    charts = []
    for site, by_month in sorted(found.items(), key=lambda kv: -sum(kv[1].values())):
        points = []
        for month in months:
            n, total = by_month.get(month, 0), all_articles.get((site, month), 0)
            share = round(100.0 * n / total, 1) if total else 0.0
            points.append({"month": month, "hits": n, "total": total, "share": share})
        top = max(p["hits"] for p in points) or 1
        charts.append({
            "site": site,
            "title": titles.get(site, site),
            "points": points,
            "top": top,
            "hits": sum(by_month.values()),
        })  # fmt: skip
    return charts


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while len(out) < 600:
        label = f"{year:04d}-{month:02d}"
        out.append(label)
        if label >= last:
            break
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# ---------------------------------------------------------------------------
# Labels: metadata.yml describes each column as "English. / Tiếng Việt."; the part
# after the slash is the column's name on a reader's page.

TABLE_LABELS = {
    "articles": "Bài báo",
    "article_tags": "Từ khóa của bài",
    "article_places": "Địa danh trong bài",
    "sites": "Các tờ báo",
    "crawls": "Các lần thu thập",
    "failures": "Trang lỗi",
    "discovery": "Nguồn tìm bài",
    "pages": "Trang HTML gốc",
}
# Datasette's filter operators, as a reader reads them.
LOOKUP_LABELS = {
    "exact": "bằng",
    "not": "khác",
    "contains": "chứa",
    "endswith": "kết thúc bằng",
    "startswith": "bắt đầu bằng",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "like": "giống (like)",
    "notlike": "không giống (not like)",
    "glob": "glob",
    "in": "thuộc danh sách",
    "notin": "không thuộc danh sách",
    "arraycontains": "mảng chứa",
    "arraynotcontains": "mảng không chứa",
    "date": "ngày",
    "isnull": "trống",
    "notnull": "không trống",
    "isblank": "rỗng",
    "notblank": "không rỗng",
}


def column_label(name: str, columns: dict | None = None) -> str:
    """A column's Vietnamese name from its metadata description, else the column name."""
    description = (columns or {}).get(name) or ""
    if " / " not in description:
        return name
    label = description.rsplit(" / ", 1)[1].strip().rstrip(".")
    return label or name


def lookup_label(key: str, display: str) -> str:
    return LOOKUP_LABELS.get(key, display)


# ---------------------------------------------------------------------------
# A month facet (metadata.yml: `- month: published_date`): a date facet lists every
# single day; readers look for a month. Selecting one filters `published_date`
# with `__startswith=YYYY-MM`.


class MonthFacet(Facet):
    type = "month"

    async def suggest(self) -> list:
        return []  # configured in metadata.yml only

    async def facet_results(self) -> tuple[list, list]:
        results, timed_out = [], []
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            col = escape_sqlite(column)
            sql = (
                f"select substr({col}, 1, 7) as value, count(*) as count from ({self.sql}) "
                f"where {col} is not null group by value order by value desc limit {size + 1}"
            )
            key = f"{column}__startswith"
            try:
                rows = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )  # fmt: skip
            except QueryInterrupted:
                timed_out.append(column)
                continue
            values = []
            for row in rows.rows[:size]:
                selected = args.get(key) == row["value"]
                toggle = (
                    path_with_removed_args(self.request, {key: row["value"]})
                    if selected
                    else path_with_replaced_args(self.request, {key: row["value"]})
                )
                values.append({
                    "value": row["value"], "label": row["value"], "count": row["count"],
                    "toggle_url": self.ds.absolute_url(self.request, toggle), "selected": selected,
                })  # fmt: skip
            results.append({
                "name": column, "type": self.type, "results": values,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": path_with_removed_args(self.request, {"_facet_month": column}),
                "truncated": len(rows.rows) > size,
            })  # fmt: skip
        return results, timed_out


@hookimpl
def register_facet_classes() -> list:
    return [MonthFacet]
