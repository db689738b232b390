"""The `vnnews` command: crawl newspapers into SQLite, publish them with Datasette.

The CLI sits above both packages: it drives ``crawler`` (Scrapy) and ``archive`` (the
library); neither of them imports it, and ``archive`` never imports ``crawler``."""

from __future__ import annotations

import fcntl
import json
import logging
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click

from archive import store
from archive.sites import SITES
from vnnews.validate import check_target, iso_date, parse_settings


class Commands(click.Group):
    """The command group: an error the commands did not foresee is one line (exit 1),
    with the traceback only under --debug; a damaged or unusable archive is one line
    that says what to do."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # one line, not click's usage block
            if ctx.params.get("debug"):
                raise
            command = " ".join(filter(None, ["vnnews", ctx.invoked_subcommand]))
            click.echo(f"error: {exc.format_message()} (see `{command} --help`)", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except store.ArchiveError as exc:
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {type(exc).__name__}: {exc} (--debug shows where)", err=True)
            sys.exit(1)


def archive_option(help_text: str, must_exist: bool = True):
    """The ``--db`` option of a command that works on an archive file."""
    return click.option(
        "--db",
        "db_path",
        default="archive.db",
        show_default=True,
        type=click.Path(exists=must_exist, dir_okay=False),
        help=help_text,
    )


@click.group(cls=Commands)
@click.version_option(package_name="vnnews")
@click.option("--debug", is_flag=True, help="Show tracebacks (for bug reports).")
def cli(debug):
    """vnnews: an archive of Vietnam's provincial press.

    Crawl newspapers (registered sites or any news URL) into one SQLite file, then
    search it in a browser or with SQL through Datasette.

    \b
    Exit status: 0 done; 1 the work failed (a site failed entirely or was refused by
    robots.txt, the archive could not be written, or is damaged, empty or missing);
    2 a usage mistake (a bad option, target, date or setting) or another crawl holds
    the archive's lock.
    """


@cli.command()
@click.argument("targets", nargs=-1)
@archive_option("SQLite archive to write (created if missing).", must_exist=False)
@click.option(
    "--all", "all_sites", is_flag=True, help="Crawl every registered site that is still active."
)
@click.option(
    "--base-url", help="Run a registered site against a copy at this address (a local mirror)."
)
@click.option(
    "--max-articles",
    type=click.IntRange(min=0),
    default=0,
    help="Stop scheduling articles after N per site (0 = no limit).",
)
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=None,
    help="At most N requests per site and run.",
)
@click.option(
    "--backfill",
    is_flag=True,
    help="Walk listings and sitemaps to the end, not just to known ground.",
)
@click.option("--refresh", is_flag=True, help="Fetch articles again even when already archived.")
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds between requests to one site (default 0.5 with AutoThrottle; 0 for sites on this machine).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Concurrent requests per site (default 2).",
)
@click.option(
    "--ignore-robots", is_flag=True, hidden=True, help="For tests on your own servers only."
)
@click.option(
    "--set",
    "-s",
    "extra",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any Scrapy or vnnews setting, e.g. -s DOWNLOAD_TIMEOUT=10 (repeatable).",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Be one worker of a crawl shared through Redis (redis://HOST:PORT/DB); "
    "`vnnews ingest` writes the archive.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log.")
def crawl(
    targets,
    db_path,
    all_sites,
    base_url,
    max_articles,
    max_pages,
    backfill,
    refresh,
    delay,
    concurrency,
    ignore_robots,
    extra,
    redis_url,
    verbose,
):
    """Crawl TARGETS into the archive. A TARGET is a registered site name (see
    `vnnews sites`) or an http(s):// URL of any news site (crawled generically,
    confined to its host).

    Incremental by default: articles already archived are not fetched again. Prints
    progress while it runs and a summary per site at the end. Exits with status 1 when
    a site failed entirely (nothing fetched, or refused by robots.txt) or the archive
    could not be written (the run stops at once), 2 on a usage mistake or when another
    crawl holds the archive's lock.

    \b
    With --redis, this process is one worker of a crawl shared by any number of
    workers on any machines: they share one frontier, duplicate filter and
    per-domain politeness in Redis, and send what they fetch to `vnnews ingest`, the
    one process that writes the archive (--db is not used).

    \b
    Examples:
      vnnews crawl baocaobang --db archive.db
      vnnews crawl https://baolaocai.vn/ --db archive.db --max-articles 50
      vnnews crawl --all --db /srv/vnnews/archive.db
      vnnews crawl baocaobang --redis redis://10.0.0.1:6379/0
    """
    if all_sites:
        targets = tuple(targets) + tuple(
            name for name, p in SITES.items() if p.status == "active" and p.scheduled
        )
    if not targets:
        raise click.UsageError(
            "give at least one TARGET (a site name or an http(s):// URL), or --all"
        )
    if base_url and len(targets) != 1:
        raise click.UsageError("--base-url applies to exactly one registered site")
    for target in targets:
        check_target(target, base_url)
    extra_settings = parse_settings(extra)
    problem = None if redis_url else store.archive_problem(db_path, must_exist=False)
    if problem:  # never start a new archive over a file that is not one
        raise store.ArchiveError(problem)
    settings: dict = {
        "LOG_LEVEL": "INFO" if verbose else "WARNING",
        "ROBOTSTXT_OBEY": not ignore_robots,
    }
    if delay is None and all(is_local(base_url or target) for target in targets):
        delay = 0  # a mirror on this machine: politeness delays would only slow us down
    if delay is not None:
        settings["DOWNLOAD_DELAY"] = delay
        settings["AUTOTHROTTLE_ENABLED"] = delay > 0
    if concurrency:
        settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = concurrency
    if max_pages:
        settings["VNNEWS_MAX_PAGES"] = max_pages
    settings.update(extra_settings)
    debug = click.get_current_context().find_root().params.get("debug", False)
    if redis_url:
        run_worker([(t, base_url) for t in targets], redis_url, settings, backfill, refresh)
        return
    try:
        with crawl_lock(db_path):
            jobs = [(target, base_url) for target in targets]
            results = run_crawl(
                jobs,
                db_path,
                max_articles=max_articles,
                backfill=backfill,
                refresh=refresh,
                settings=settings,
                debug=debug,
            )
    except LockHeld as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    print_summary(results)
    if any(r["status"] in ("failed", "refused") for r in results):
        sys.exit(1)


def run_worker(
    jobs: list[tuple[str, str | None]],
    redis_url: str,
    settings: dict,
    backfill: bool,
    refresh: bool,
) -> None:
    """One worker of a shared crawl: fetch and read pages, send outcomes to Redis."""
    import os
    import socket

    from crawler import settings as defaults
    from crawler.distributed import worker_settings

    worker = f"{socket.gethostname()}-{os.getpid()}"
    settings = {**settings, **worker_settings(redis_url, worker)}
    # The delay per domain is kept across workers, in Redis; not again in each one
    # (Scrapy's own randomised delay would let two workers come closer than it).
    delay = float(settings.get("DOWNLOAD_DELAY", defaults.DOWNLOAD_DELAY))
    settings.update(VNNEWS_SHARED_DELAY=delay, DOWNLOAD_DELAY=0)
    click.echo(f"worker {worker} of the crawl in {redis_url}", err=True)
    run_crawl(jobs, "", backfill=backfill, refresh=refresh, settings=settings, worker=True)
    click.echo(f"worker {worker} done: `vnnews ingest` has what it fetched", err=True)


def is_local(target: str) -> bool:
    """Whether a target URL points at this machine (a local mirror or test site)."""
    from urllib.parse import urlsplit

    from archive.publish import is_loopback

    return target.startswith(("http://", "https://")) and is_loopback(
        urlsplit(target).hostname or ""
    )


class LockHeld(Exception):
    pass


@contextmanager
def crawl_lock(db_path: str):
    """One crawl per archive at a time: cron runs that overlap must not interleave."""
    lock_path = Path(str(db_path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another crawl is writing {db_path} (lock {lock_path})") from None
        handle.write(str(Path("/proc/self").resolve().name))
        handle.flush()
        yield


def run_crawl(
    jobs: list[tuple[str, str | None]],
    db_path: str,
    *,
    max_articles: int = 0,
    backfill: bool = False,
    refresh: bool = False,
    settings: dict | None = None,
    debug: bool = False,
    worker: bool = False,
) -> list[dict]:
    """Run the spider for each (target, base_url) job in one Scrapy process, all sites
    at once, with `settings` over crawler/settings.py; return this run's ``crawls`` rows.
    Scrapy's log shows no traceback unless `debug`: each failure is recorded with its
    kind, and the summary says what happened."""
    # Imported here: Scrapy and the extractor take a second to load, which `vnnews
    # serve` and `vnnews sites` need not pay.
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.frontier import frontier_root
    from crawler.spiders.news import NewsSpider

    scrapy_settings = Settings()
    scrapy_settings.setmodule("crawler.settings", priority="project")
    scrapy_settings.setdict(settings or {}, priority="cmdline")
    if not worker:
        store.open_db(db_path).close()  # create the schema before concurrent spiders start

    process = CrawlerProcess(scrapy_settings)
    if not debug:
        for handler in logging.root.handlers:
            handler.addFilter(without_traceback)
    if scrapy_settings.get("LOG_LEVEL") == "WARNING":
        # Each URL given up on is recorded in `failures` and counted in the summary.
        logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
    # Pending requests wait on disk (crawler/frontier.py), one queue per spider, unless
    # this is a shared-crawl worker (its frontier is Redis) or JOBDIR was given.
    on_disk = not worker and not scrapy_settings.get("JOBDIR")
    crawlers = []
    with frontier_root(db_path) if on_disk else nullcontext() as root:
        for n, (target, base_url) in enumerate(jobs):
            crawler = process.create_crawler(NewsSpider)
            if root is not None:
                crawler.settings.set("JOBDIR", str(root / str(n)), priority="cmdline")
            crawlers.append(crawler)
            click.echo(
                f"crawling {target}{' at ' + base_url if base_url else ''} into {db_path} …",
                err=True,
            )
            process.crawl(
                crawler,
                site=target,
                db=db_path,
                base_url=base_url,
                max_articles=max_articles,
                backfill=backfill,
                refresh=refresh,
            )
        process.start()
    if worker:
        return []

    results = []
    for crawler in crawlers:
        session = getattr(crawler.spider, "session", None)
        row = crawl_row(db_path, session.crawl_id) if session and session.crawl_id else None
        if row is None:
            row = {"site": session.site if session else "?", "status": "failed"}
            row["last_error"] = "the spider did not start"
        if session and session.halted:  # the archive could not be written: say so
            row.update(status=session.crawl_status or "failed", last_error=session.halted)
        results.append(row)
    return results


def crawl_row(db_path: str, crawl_id: int) -> dict | None:
    """A crawl's record, read without writing (the disk may be full)."""
    try:
        db = store.open_readonly(db_path)
    except store.ArchiveError:
        return None
    try:
        return store.get_crawl(db, crawl_id)
    finally:
        db.close()


def without_traceback(record: logging.LogRecord) -> bool:
    """A logging filter: the exception's one line instead of its traceback."""
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
    return True


SUMMARY_COLUMNS = ("status", *store.CRAWL_COUNTS)


def print_summary(results: list[dict]) -> None:
    """One line per site: what the run did, then why a site did not finish cleanly."""
    click.echo("")
    click.echo(f"{'site':<20}" + "".join(f"{c:>15}" for c in SUMMARY_COLUMNS))
    for row in results:
        click.echo(
            f"{row.get('site', ''):<20}"
            + "".join(f"{row.get(c) or 0:>15}" for c in SUMMARY_COLUMNS)
        )
    for row in results:
        error = row.get("last_error") or ""
        if row.get("status") == "refused":
            why = error.removeprefix("robots: ").removeprefix("Forbidden by robots.txt")
            why = f" ({why.strip(': ')})" if why.strip(": ") else ""
            click.echo(f"{row['site']}: robots.txt refused us{why}; nothing was fetched.", err=True)
        elif error.startswith("store_error"):
            click.echo(
                f"{row['site']}: the run stopped: the archive could not be written "
                f"({error.removeprefix('store_error: ')}). Free space or make the file "
                "writable, then run again: what was not stored is fetched then.",
                err=True,
            )
        elif row.get("last_error") and row.get("status") != "ok":
            click.echo(f"{row['site']}: last error: {row['last_error']}", err=True)


@cli.command()
@archive_option("SQLite archive to serve.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 for everyone).",
)
@click.option("--port", default=8001, show_default=True, type=int)
def serve(db_path, host, port):
    """Publish the archive with Datasette: search without diacritics, facets by
    newspaper, category and date, SQL for researchers. Safe to run while a crawl
    writes (WAL mode)."""
    _serve(db_path, host, port)


def _serve(db_path: str, host: str, port: int) -> None:
    """Run Datasette until it stops; exit with its status, or 1 and one line if it
    cannot start (port taken)."""
    from archive.publish import CannotServe
    from archive.publish import serve as datasette_serve

    try:
        code = datasette_serve(db_path, host=host, port=port)
    except CannotServe as error:
        raise click.ClickException(str(error)) from None
    sys.exit(code)


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Add each paper's archive counts and last crawl from this DB (read only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per paper).")
def sites(db_path, as_json):
    """List the registered newspapers by province: today's 34 provinces, each with its
    outlet and the papers merged into it in 2025 (their archives keep their own name).
    With --db, each paper's article count, newest article and last crawl.

    \b
    Examples:
      vnnews sites
      vnnews sites --db archive.db
      vnnews sites --json | jq '.[] | select(.status == "merged") | .name'
    """
    db = store.open_readonly(db_path) if db_path else None
    rows = registry_rows(db)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for province, members in group_by_province(rows).items():
        formers = sorted({r["province"] for r in members if r["province"]})
        merged = f"  (since 2025: {' + '.join(formers)})" if len(formers) > 1 else ""
        click.echo(f"{province}{merged}")
        for r in members:
            click.echo(site_line(r, db is not None))
    active = sum(r["status"] == "active" for r in rows)
    click.echo(f"\n{len(rows)} papers: {active} active, {len(rows) - active} merged or stopped")


def registry_rows(db=None) -> list[dict]:
    """The registry as plain rows, in registry order (grouped by today's province);
    with a database, each paper's archive counts and last crawl."""
    counts = store.site_counts(db) if db is not None else {}
    crawls = store.last_crawls(db) if db is not None else {}
    merged_from: dict[str, list[str]] = {}
    for profile in SITES.values():
        if profile.merged_into:
            merged_from.setdefault(profile.merged_into, []).append(profile.name)
    rows = []
    for profile in SITES.values():
        row = {
            "name": profile.name,
            "title": profile.title,
            "former_title": profile.former_title,
            "province": profile.province,
            "province_now": profile.province_now,
            "family": profile.family,
            "status": profile.status,
            "merged_into": profile.merged_into,
            "merged_from": merged_from.get(profile.name, []),
            "homepage": profile.homepage,
            "domains": list(profile.domains),
            "feeds": list(profile.feeds),
            "sitemaps": list(profile.sitemaps),
            "unverified": list(profile.unverified),
            "scheduled": profile.scheduled,
            "note": profile.note,
        }
        if db is not None:
            c = counts.get(profile.name, {})
            row.update(articles=c.get("articles", 0), latest=c.get("last"))
            row["last_crawl"] = crawls.get(profile.name)
        rows.append(row)
    return rows


def group_by_province(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows by today's province, the active outlet first, then the papers merged into it."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["province_now"] or "?", []).append(row)
    return {k: sorted(v, key=lambda r: r["status"] != "active") for k, v in groups.items()}


def site_line(r: dict, with_db: bool) -> str:
    status = r["status"] if not r["merged_into"] else f"merged → {r['merged_into']}"
    if r["status"] == "active" and not r["scheduled"]:
        status += " (not in --all)"
    indent = "    " if r["status"] != "active" else "  "
    title = r["title"] + (f" ({r['province']})" if r["province"] != r["province_now"] else "")
    name = f"{indent}{r['name']}"
    line = f"{name:<20} {title:<46} {r['family'] or '-':<2} {status:<26} {', '.join(r['domains'])}"
    if with_db:
        crawl = r["last_crawl"] or {}
        last = f"{crawl.get('started_at')} {crawl.get('status')}" if crawl else "never"
        line += f"  [{r['articles']} articles, latest {r['latest'] or '-'}, last crawl {last}]"
    return line


@cli.command()
@archive_option("SQLite archive to re-read and rewrite.")
@click.option("--site", help="Only this site's pages.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes reading pages in parallel (one writer stores them).",
)
def reextract(db_path, site, workers):
    """Rebuild articles from the raw pages stored in the archive, with no network:
    run it after the extractor improves. With --workers N, N processes read pages
    while this one writes."""
    from archive.reextract import reextract_pages

    counts = reextract_pages(store.open_db(db_path), site, workers)
    click.echo(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no stored pages")


@cli.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help="redis://HOST:PORT/DB")
@archive_option("SQLite archive to write (created if missing).", must_exist=False)
@click.option("--forever", is_flag=True, help="Keep waiting for crawls (a service).")
def ingest(redis_url, db_path, forever):
    """The single writer of a crawl shared through Redis: store what the workers
    (`vnnews crawl ... --redis URL`) fetched, many articles per transaction. Start it
    before the workers; it stops once every crawl it saw has finished (--forever: never).

    \b
    Example:
      vnnews ingest --redis redis://10.0.0.1:6379/0 --db /srv/vnnews/archive.db
    """
    from archive.sharedcrawl import Ingest

    problem = store.archive_problem(db_path, must_exist=False)
    if problem:
        raise store.ArchiveError(problem)
    try:
        with crawl_lock(db_path):
            click.echo(f"writing {db_path} from {redis_url} …", err=True)
            statuses = Ingest(redis_url, db_path).run(forever=forever)
    except LockHeld as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{len(statuses)} crawls written: {', '.join(statuses)}")
    if any(s in ("failed", "refused") for s in statuses):
        sys.exit(1)


@cli.command("export")
@archive_option("SQLite archive to read.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet", "warc"]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="File to write (default: standard output).",
)
@click.option("--site", multiple=True, help="Only this newspaper (repeatable).")
@click.option(
    "--since", callback=iso_date, help="Published on or after this local date (YYYY-MM-DD)."
)
@click.option(
    "--until", callback=iso_date, help="Published on or before this local date (YYYY-MM-DD)."
)
@click.option("--category", help="Only this section, as the paper names it.")
@click.option("--search", help="Full-text query; diacritics optional ('ha quang').")
def export_command(db_path, fmt, output, site, since, until, category, search):
    """Export articles for analysis as JSON Lines, CSV or Parquet, oldest first, with
    optional filters. Tags are a list (a JSON array in CSV). `--format warc` writes
    every raw capture instead (request and response records, as fetched) for web
    archive tools; it needs -o and takes no filters.

    \b
    Examples:
      vnnews export --db archive.db --site baocaobang --since 2025-07-01 > cb.jsonl
      vnnews export --db archive.db --format parquet -o articles.parquet
      vnnews export --db archive.db --format warc -o archive.warc.gz
    """
    from archive.export import Filters, export

    if fmt == "warc":
        export_warc_file(db_path, output, bool(site or since or until or category or search))
        return

    db = store.open_readonly(db_path)
    try:
        unknown = sorted(set(site) - store.archived_sites(db))
        if unknown:
            papers = ", ".join(sorted(store.archived_sites(db))) or "none yet"
            raise click.BadParameter(
                f"no articles of {', '.join(map(repr, unknown))} in {db_path} (papers: {papers})",
                param_hint="'--site'",
            )
    finally:
        db.close()
    filters = Filters(sites=site, since=since, until=until, category=category, search=search)
    try:
        count = export(db_path, fmt, output, filters)
    except (ValueError, RuntimeError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{count} articles exported", err=True)


def export_warc_file(db_path: str, output: str | None, filtered: bool) -> None:
    from archive.warc import export_warc

    if not output:
        raise click.UsageError("--format warc writes a file: give -o FILE.warc.gz")
    if filtered:
        raise click.UsageError("--format warc exports every capture; it takes no filters")
    count = export_warc(store.open_readonly(db_path), output)
    click.echo(f"{count} captures written to {output}", err=True)


@cli.command("import-warc")
@click.argument("warc_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@archive_option("SQLite archive to write (created if missing).", must_exist=False)
def import_warc_command(warc_files, db_path):
    """Build articles from WARC files made by any crawler (Browsertrix, Heritrix, wget,
    `vnnews export --format warc`): every HTML response goes through the crawl's own
    acceptance rules and is stored with its raw capture, under the registered paper
    that owns its URL (or its host, for other sites).

    \b
    Example:
      vnnews import-warc baocaobang-2023.warc.gz --db archive.db
    """
    from archive.warc import import_warc

    db = store.open_db(db_path)
    for path in warc_files:
        counts = import_warc(db, path)
        summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no responses"
        click.echo(f"{path}: {summary}")


@cli.command()
@archive_option("SQLite archive to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(db_path, as_json):
    """Check an archive's health: SQLite integrity, the full-text index against the
    articles, and per newspaper the articles without a date, author or body, the
    failures of its last crawl and that crawl's status. Exits 1 when the file or its
    index is damaged."""
    from archive.check import check as run_check
    from archive.check import format_report

    report = run_check(db_path)
    click.echo(
        json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report)
    )
    sys.exit(0 if report["ok"] else 1)


@cli.command()
@click.option(
    "--db", "db_path", default="demo.db", show_default=True, type=click.Path(dir_okay=False)
)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-serve", is_flag=True, help="Build the archive and stop.")
def demo(db_path, port, host, no_serve):
    """Build an archive from the snapshot bundled in the repository (no network: the
    snapshot is served on a local port and crawled like a real site), then serve it."""
    from archive.publish import CannotServe, check_port_free
    from vnnews.localsite import SNAPSHOT_DIR, LocalSite

    if not no_serve:
        try:
            check_port_free(host, port)  # before the crawl, not after it
        except CannotServe as error:
            raise click.ClickException(str(error)) from None
    sites_dirs = sorted(p for p in SNAPSHOT_DIR.iterdir() if p.is_dir() and p.name in SITES)
    servers = [LocalSite(p).start() for p in sites_dirs]
    try:
        for folder, server in zip(sites_dirs, servers, strict=True):
            click.echo(f"snapshot of {folder.name} served at {server.url}", err=True)
        jobs = [
            (folder.name, server.url) for folder, server in zip(sites_dirs, servers, strict=True)
        ]
        quick = {"LOG_LEVEL": "WARNING", "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                 "VNNEWS_PROGRESS_SECONDS": 0}  # fmt: skip
        results = run_crawl(jobs, db_path, settings=quick)
    finally:
        for server in servers:
            server.stop()
    print_summary(results)
    if no_serve:
        return
    _serve(db_path, host, port)  # prints where to search once Datasette answers


if __name__ == "__main__":
    cli()
