"""When to fetch an archived article again: the re-check schedule.

Papers edit an article, or take it down, mostly in the first hours and days after
publication, so that is when the archive looks again: the younger the article, the
sooner. Each article is re-checked at most about 22 times in its life (hourly for six
hours, every six hours for two days, daily for a week, weekly for a month) and never
after ``WINDOW``; a run re-checks at most ``MAX_RECHECKS`` articles, youngest first. So
the cost of a run stays bounded by what the site published lately, as the incremental
crawl's is. ``vnnews crawl --refresh`` re-checks everything at once.

Pure functions: no database, no Scrapy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# (age since publication below which, re-check when the last fetch is older than)
SCHEDULE = (
    (timedelta(hours=6), timedelta(hours=1)),
    (timedelta(days=2), timedelta(hours=6)),
    (timedelta(days=7), timedelta(days=1)),
    (timedelta(days=30), timedelta(days=7)),
)
WINDOW = SCHEDULE[-1][0]
MAX_RECHECKS = 500
VIETNAM = timezone(timedelta(hours=7))


def moment(value: str | None) -> datetime | None:
    """An ISO time as an aware datetime; a bare day is its start in Vietnam (for an
    age only: nothing here is stored)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def interval(age: timedelta) -> timedelta | None:
    """How stale a fetch may be for an article of this age; None: never re-checked."""
    for below, every in SCHEDULE:
        if age < below:
            return every
    return None


def is_due(row: dict, now: datetime) -> bool:
    """Whether an article row (published_at, first_seen_at, fetched_at) is due. An
    undated article is aged from when the archive first saw it."""
    born = moment(row.get("published_at")) or moment(row.get("first_seen_at"))
    fetched = moment(row.get("fetched_at"))
    if born is None or fetched is None:
        return False
    every = interval(max(now - born, timedelta(0)))
    return every is not None and now - fetched >= every


def due(rows: list[dict], now: datetime | None = None, limit: int = MAX_RECHECKS) -> list[str]:
    """The URLs of the rows due for a re-check, youngest first, at most ``limit``."""
    now = now or datetime.now(UTC)
    chosen = [r for r in rows if is_due(r, now)]
    chosen.sort(key=lambda r: moment(r.get("published_at")) or moment(r["first_seen_at"]),
                reverse=True)  # fmt: skip
    return [r["url"] for r in chosen[:limit]]


def window_start(now: datetime | None = None) -> str:
    """The oldest publication date the schedule still re-checks (ISO)."""
    return ((now or datetime.now(UTC)) - WINDOW).astimezone(VIETNAM).isoformat()
