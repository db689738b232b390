"""Health of an archive file: what `vnnews check --db PATH` reports.

``check(db_path)`` returns a dict (stable keys, JSON-serialisable) and
``format_report(report)`` renders it for a terminal or a cron mail. Reading only,
except SQLite's own full-text index check, which is an INSERT that writes nothing;
safe while a crawl writes (it waits for the crawl's current transaction at most).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import statistics
from datetime import datetime
from pathlib import Path

from archive import store

# Statuses of a finished run that need the operator's eye.
BAD_STATUSES = ("failed", "refused", "interrupted")
# A paper has gone silent when its crawls have yielded no new article for longer than
# RHYTHM_FACTOR times its usual gap between productive crawls (the median of its last
# RHYTHM_WINDOW), and never less than MIN_SILENCE_HOURS: papers publish little at night
# and on holidays. A rhythm needs MIN_PRODUCTIVE productive crawls to be known, and a
# paper must have been crawled at least MIN_CRAWLS_SINCE times since its last new
# article, so one missed run of a slow paper is no alarm.
RHYTHM_FACTOR = 3.0
RHYTHM_WINDOW = 30
MIN_SILENCE_HOURS = 24.0
MIN_PRODUCTIVE = 3
MIN_CRAWLS_SINCE = 2


def check(db_path: str | Path) -> dict:
    """Check an archive: SQLite integrity, the full-text index against the articles,
    and per newspaper: articles without a date, an author or a body, the failures
    recorded by its last crawl (by kind), and that crawl's status.

    Exit-worthy problems (a damaged file or index) go to ``problems`` and make ``ok``
    false; things to look at (a site whose last run failed, was refused by robots.txt
    or killed, pages that failed) go to ``warnings``.
    """
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no archive at {path}")
    problem = store.archive_problem(path)
    # One connection: a writable file is opened read-write (never created, never
    # migrated) for SQLite's FTS check, which writes nothing; a read-only one read-only.
    verifier = writable_connection(path) if problem is None else None
    conn = verifier or (store.connect_file_readonly(path) if problem is None else None)
    report: dict = {
        "db": str(path),
        "ok": False,
        "problems": [],
        "warnings": [],
        "integrity": None,
        "fts": None,
        "sites": {},
        "removed": {},  # per site: archived articles taken down (kept, never deleted)
        "crawl_in_progress": crawl_in_progress(path),
    }
    if conn is None:
        report["problems"].append(problem)
        return report
    conn.row_factory = sqlite3.Row
    try:
        report["integrity"] = integrity(conn)
        if report["integrity"] != ["ok"]:
            report["problems"].append("integrity check: " + "; ".join(report["integrity"][:5]))
        tables = store.table_names(conn)
        missing = {"articles", "crawls", "failures"} - tables
        if missing:
            report["problems"].append(f"not an archive: no {', '.join(sorted(missing))} table")
            return report
        report["fts"] = store.fts_consistency(conn, tables, verifier)
        if not report["fts"]["ok"]:
            report["problems"].append(f"full-text index: {report['fts']['error']}")
        elif not report["fts"]["verified"]:
            report["warnings"].append(
                "full-text index: counts agree, but SQLite's own check needs a writable "
                "file (this one is read-only)"
            )
        if store.KEYS_TABLE not in tables:
            report["warnings"].append(
                "no search keys (article_keys): filtered searches fail until a command "
                "that writes (a crawl) opens the archive and adds them"
            )
        elif wrong := store.keys_out_of_step(conn):
            report["problems"].append(
                f"search keys (article_keys) out of step for {wrong} articles: "
                "filtered searches miss them"
            )
        report["sites"] = per_site(conn)
        for name, rhythm in silence(conn).items():
            report["sites"].setdefault(name, empty_site())["rhythm"] = rhythm
        report["warnings"] += site_warnings(report["sites"], report["crawl_in_progress"])
        report["removed"] = store.removals_by_site(conn)
    except sqlite3.DatabaseError as exc:  # a damaged file: say so, do not crash
        report["problems"].append(f"cannot read the archive: {type(exc).__name__}: {exc}")
    finally:
        conn.close()
    report["ok"] = not report["problems"]
    return report


def writable_connection(path: Path) -> sqlite3.Connection | None:
    """A connection for the FTS integrity-check (which writes nothing but needs write
    access), or None when the file or its medium is read-only. It never creates a file
    or changes the schema."""
    if not os.access(path, os.W_OK):
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
        conn.isolation_level = None  # autocommit: the FTS check must not open a transaction
        conn.execute("select count(*) from sqlite_master").fetchone()
        return conn
    except sqlite3.DatabaseError:
        return None


def integrity(conn: sqlite3.Connection) -> list[str]:
    try:
        return [r[0] for r in conn.execute("pragma integrity_check")]
    except sqlite3.DatabaseError as exc:
        return [f"{type(exc).__name__}: {exc}"]


def empty_site() -> dict:
    return {
        "articles": 0,
        "no_date": 0,
        "no_author": 0,
        "no_body": 0,
        "doubted": 0,
        "last_crawl": None,
        "last_success": None,
        "failures_last_run": {"total": 0, "by_kind": {}, "examples": []},
        "rhythm": None,
    }


def per_site(conn: sqlite3.Connection) -> dict[str, dict]:
    sites: dict[str, dict] = {}

    def entry(name: str) -> dict:
        return sites.setdefault(name, empty_site())

    for row in store.gaps_by_site(conn):
        entry(row["site"]).update(
            articles=row["n"],
            no_date=row["no_date"] or 0,
            no_author=row["no_author"] or 0,
            no_body=row["no_body"] or 0,
        )
    for site, doubted in store.doubted_by_site(conn).items():
        entry(site)["doubted"] = doubted
    for row in store.latest_crawl_rows(conn):
        site = entry(row["site"])
        site["last_crawl"] = dict(row)
        failures = site["failures_last_run"]
        for kind, count in store.failures_by_kind(conn, row["id"]):
            failures["by_kind"][kind] = count
            failures["total"] += count
        failures["examples"] = store.failure_examples(conn, row["id"])
    for name, finished_at in store.last_successes(conn).items():
        entry(name)["last_success"] = finished_at
    return dict(sorted(sites.items()))


def silence(conn: sqlite3.Connection) -> dict[str, dict]:
    """Per paper: how often its crawls usually bring new articles, and whether they have
    stopped doing so for longer than that (``silent``). Measured against the paper's own
    last crawl, not the clock, so a paper nobody crawls is not called silent."""
    productive: dict[str, list[datetime]] = {}
    for site, started in store.productive_crawl_starts(conn, RHYTHM_WINDOW):
        productive.setdefault(site, []).append(parse_time(started))
    out = {}
    for site, times in productive.items():
        last_new = times[-1]
        last_crawl, since = store.crawls_since_new(conn, site)
        out[site] = rhythm_verdict(
            times, last_new, parse_time(last_crawl) if last_crawl else None, since
        )
    return out


def rhythm_verdict(
    productive: list[datetime], last_new: datetime, last_crawl: datetime | None, since: int
) -> dict:
    """The rhythm of one paper from its productive crawl times (oldest first)."""
    gaps = [(b - a).total_seconds() / 3600 for a, b in itertools.pairwise(productive)]
    usual = statistics.median(gaps) if len(productive) >= MIN_PRODUCTIVE else None
    quiet = (last_crawl - last_new).total_seconds() / 3600 if last_crawl else 0.0
    limit = max(RHYTHM_FACTOR * usual, MIN_SILENCE_HOURS) if usual is not None else None
    return {
        "last_new": last_new.isoformat(),
        "usual_gap_hours": round(usual, 1) if usual is not None else None,
        "quiet_hours": round(quiet, 1),
        "crawls_since_new": since,
        "silent": limit is not None and quiet > limit and since >= MIN_CRAWLS_SINCE,
    }


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def hours_text(hours: float) -> str:
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} h"


def crawl_in_progress(db_path: Path) -> bool | None:
    """Whether the process that last took `vnnews crawl`'s lock on this archive is
    alive (None when that cannot be told: no /proc, or no lock file)."""
    lock = Path(str(db_path) + ".lock")
    if not lock.is_file() or not Path("/proc").is_dir():
        return None
    try:
        pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    return bool(pid) and pid != os.getpid() and Path(f"/proc/{pid}").exists()


def site_warnings(sites: dict[str, dict], in_progress: bool | None) -> list[str]:
    warnings = []
    for name, site in sites.items():
        last = site["last_crawl"]
        if last is None:
            continue
        status = last["status"]
        if status == "running" and not in_progress:
            warnings.append(
                f"{name}: crawl {last['id']} (started {last['started_at']}) never finished: "
                "killed, or still running without `vnnews crawl`'s lock"
            )
        elif status in BAD_STATUSES:
            reason = f" ({last['last_error']})" if last.get("last_error") else ""
            warnings.append(f"{name}: last crawl {last['id']} {status}{reason}")
        if last.get("failed"):
            kinds = ", ".join(f"{k} {v}" for k, v in site["failures_last_run"]["by_kind"].items())
            warnings.append(f"{name}: {last['failed']} pages failed in the last run ({kinds})")
        if site["articles"] and site["no_body"]:
            warnings.append(f"{name}: articles without a body: {site['no_body']}")
        if site.get("doubted"):
            warnings.append(
                f"{name}: {site['doubted']} articles whose text a second reading disputes "
                "(articles.extraction_warnings)"
            )
        rhythm = site.get("rhythm")
        if rhythm and rhythm["silent"]:
            warnings.append(
                f"{name}: no new article for {hours_text(rhythm['quiet_hours'])} "
                f"({rhythm['crawls_since_new']} crawls since {rhythm['last_new']}); "
                f"new articles usually came every {hours_text(rhythm['usual_gap_hours'])}"
            )
    return warnings


def format_report(report: dict) -> str:
    """The report as text: a verdict line, one line per newspaper, then the failures of
    each site's last run and the warnings."""
    lines = []
    verdict = "OK" if report.get("ok") else "PROBLEMS"
    fts = report.get("fts") or {}
    integrity_text = "ok" if report.get("integrity") == ["ok"] else "FAILED"
    fts_text = (
        f"in step ({fts.get('articles')} articles, {fts.get('indexed')} indexed)"
        if fts.get("ok")
        else f"OUT OF STEP: {fts.get('error')}"
        if fts
        else "not checked"
    )
    lines.append(f"{report['db']}: {verdict}")
    lines.append(f"  integrity: {integrity_text}; full-text index: {fts_text}")
    for problem in report.get("problems", []):
        lines.append(f"  problem: {problem}")
    sites = report.get("sites") or {}
    if sites:
        lines.append("")
        header = (
            f"{'site':<24}{'articles':>9}{'no date':>9}{'no author':>11}{'no body':>9}"
            f"  {'last run':<26}{'status':<12}{'failed':>7}{'missing':>8}"
        )
        lines.append(header)
        for name, site in sites.items():
            last = site["last_crawl"] or {}
            lines.append(
                f"{name:<24}{site['articles']:>9}{site['no_date']:>9}{site['no_author']:>11}"
                f"{site['no_body']:>9}  {last.get('started_at') or '-':<26}"
                f"{last.get('status') or '-':<12}{last.get('failed') or 0:>7}"
                f"{last.get('missing') or 0:>8}"
            )
        for name, site in sites.items():
            failures = site["failures_last_run"]
            if not failures["total"]:
                continue
            kinds = ", ".join(f"{k} {v}" for k, v in failures["by_kind"].items())
            lines.append("")
            lines.append(f"failures in the last run of {name}: {kinds}")
            for example in failures["examples"]:
                status = f" {example['http_status']}" if example["http_status"] else ""
                lines.append(f"  {example['kind']}{status}: {example['url']}")
    for name, removed in (report.get("removed") or {}).items():
        lines.append("")
        lines.append(f"taken down from {name} ({len(removed)}, kept in the archive):")
        for item in removed:
            reason = f" ({item['reason']})" if item["reason"] else ""
            lines.append(f"  {item['removed_at']}{reason}: {item['url']}")
    if report.get("warnings"):
        lines.append("")
        lines.append("warnings:")
        lines.extend(f"  - {w}" for w in report["warnings"])
    return "\n".join(lines)
