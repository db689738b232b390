"""Publication dates out of the text Vietnamese news pages show around them.

Pages rarely hand over a bare date: the text around it carries prefixes ("Cập nhật:",
"Đăng lúc"), weekday names ("Thứ sáu", "CN"), time zones ("(GMT+7)"), view counters
("[Lượt xem: 312]") and separators ("|", "-"), and the time may come before or after the
date, on a 12- or 24-hour clock (docs/domain.md, the traps).
dateparser, the project's date library, gives up on most of that noise, so this module
works in two steps:

1. cut: one regular expression finds each date(-time) phrase: a date with a 4-digit
   year plus an optional time before or after it and an optional UTC offset, an ISO 8601
   timestamp, or a relative phrase ("2 giờ trước", "hôm qua", "thứ 5 tuần trước");
2. parse: the pieces are put into one canonical order ("DD/MM/YYYY H:MM:SS [AM|PM]
   [+HH:MM]") and handed to dateparser (``languages=["vi"]``, ``DATE_ORDER="DMY"``, the
   site's time zone). The two shapes nearly every page uses, plain ``DD/MM/YYYY H:MM``
   and ISO 8601, skip dateparser: it costs about a millisecond a call, they cost a few
   microseconds.

Policy, because the archive stores what it cannot know as unknown:

- a day and month without a year ("chiều 29/5" in a lead) is an event date, not a
  publication date: never returned; years must be 1990..2100;
- relative phrases need an explicit ``relative_base``; without it they yield nothing,
  and nothing here ever falls back to "now";
- naive times are local time in ``tz``; an explicit offset in the phrase (``+0700``,
  ``Z``, ``GMT+7``) decides the instant. Every value is returned converted to ``tz``, so
  that all dates of one site share one offset and sort and group by day as shown;
- ``phrase`` is a substring of the text after Unicode NFC normalisation (some CMSs emit
  decomposed letters, which would otherwise not match "tháng" or "Thứ").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateparser.date import DateDataParser

VN_TZ = "Asia/Ho_Chi_Minh"

MIN_YEAR = 1990
MAX_YEAR = 2100


@dataclass(frozen=True)
class FoundDate:
    """A date found in text."""

    value: datetime  # timezone-aware, expressed in the requested tz
    has_time: bool  # False when the phrase had only a date (then value is 00:00 local)
    phrase: str  # the substring that was parsed


# --- the cutting pattern ----------------------------------------------------------------
# Built from named fragments so that each rule can carry its reason. Sub-fragments use
# no capturing groups of their own: the pieces are re-read from the named groups below.

# Separators seen between a date and its time: "17:54, 08/04/2024", "08/01/2026 - 18:21",
# "26/10/2012 | 9:55:29 AM".
_SEP = r"[\s,|\-–—·•]+"
# After a word ("lúc:", "ngày") a colon may follow as well.
_WORD_SEP = r"[\s,|:\-–—·•]+"
# Weekday names, any case: "Thứ Hai".."Thứ Bảy", "Thứ 2".."Thứ 7", "Chủ nhật", "CN", "T2".
_WEEKDAY = r"(?<!\w)(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|cn|t[2-7])(?!\w)"
# What may stand between a time and its date: separators, a weekday, "ngày", "lúc".
_CONN = rf"{_SEP}(?:(?:{_WEEKDAY}|ngày|(?:vào\s+)?lúc){_WORD_SEP})*"

_TIME = (
    r"(?<![\d:.])\d{1,2}\s?"
    # "9:55", "9:55:29"
    r"(?::\s?\d{2}(?:\s?:\s?\d{2})?(?!\d)"
    # "15h30", "15g30", "10 giờ 20 phút", "14h"; the lookahead keeps "14 hôm" out.
    r"|(?:h|g|giờ)(?:\s?\d{2}(?:\s?phút)?)?(?!\w))"
    # "15:54'(GMT+7)": a minute mark some CMSs print.
    r"(?:\s?['′])?"
    # 12-hour markers: English, Vietnamese abbreviations (SA = sáng, CH = chiều), words.
    r"(?:\s?(?:[ap]\.?m\.?|sa|ch|sáng|chiều|tối)(?!\w))?"
)

_OFFSET = (
    # "(GMT+7)", "[GMT+7]", "GMT+07:00", "(UTC+7)"
    r"\s*['′]?\s*[(\[]?\s*(?:gmt|utc)\s*[+-]\s*\d{1,2}(?::?\d{2})?\s*[)\]]?"
    # "+0700", "+07:00", "-05:00"
    r"|\s?[+-]\d{2}:?\d{2}(?!\d)"
)

_DATE = (
    # Not glued to a longer number ("1.500.000", "0206.3852.125"); a dash before the date
    # stays allowed for "10:20-03/04/2023".
    r"(?<!\d)(?<!\d[./])"
    r"(?:"
    # "08/04/2024", "27/3/2019", "05 / 06 / 2024", "12.12.2023", "05-06-2024"
    r"\d{1,2}(?:\s?/\s?|[.\-])\d{1,2}(?:\s?/\s?|[.\-])\d{4}"
    # "21 tháng 09 năm 2025", "5 tháng 6, 2024"
    r"|\d{1,2}\s+tháng\s+\d{1,2}(?:\s*,\s*|\s+năm\s+|\s+)\d{4}"
    # "2024/06/05", "2024-06-05"
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    r")"
    r"(?!\d)(?![./]\d)"
)

_ISO = (
    r"(?<!\d)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:z|[+-]\d{2}(?::?\d{2})?)?(?!\d)"
)

# Time first ("17:54, 08/04/2024") or time after ("30/05/2023 08:15"), never both: the
# conditional leaves a following time to the next date, as in
# "10:20 03/04/2023 - 11:00 04/04/2023".
_GENERAL = (
    rf"(?:(?P<t1>{_TIME})(?P<o1>{_OFFSET})?{_CONN})?"
    rf"(?P<date>{_DATE})"
    rf"(?(t1)|(?:{_CONN}(?P<t2>{_TIME}))?)"
    rf"(?P<o2>{_OFFSET})?"
)

_RELATIVE_DAY = (
    rf"(?:(?P<rt1>{_TIME}){_CONN})?"
    rf"(?<!\w)(?P<rday>hôm\s+nay|hôm\s+qua|hôm\s+kia|(?P<rwd>{_WEEKDAY})\s+tuần\s+trước)(?!\w)"
    rf"(?(rt1)|(?:{_CONN}(?P<rt2>{_TIME}))?)"
)

_AGO = (
    r"(?<![\d:.,/])(?P<n>\d{1,3})\s*"
    r"(?P<unit>giây|phút|giờ|tiếng|ngày|tuần|tháng|năm)\s+trước(?!\w)"
)

# Alternatives are tried at each position in turn, so phrases come out in text order.
_PHRASE = re.compile(
    rf"(?P<iso>{_ISO})|{_GENERAL}|{_RELATIVE_DAY}|{_AGO}",
    re.IGNORECASE,
)

_DIGITS = re.compile(r"\d+")
_MARKER = re.compile(r"[ap]\.?m\.?|sa|sáng|ch|chiều|tối", re.IGNORECASE)
_OFFSET_PARTS = re.compile(r"([+-])\s*(\d{1,2})(?::?(\d{2}))?")
_ISO_OFFSET_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")

_WEEKDAY_INDEX = {
    "hai": 0,
    "ba": 1,
    "tư": 2,
    "năm": 3,
    "sáu": 4,
    "bảy": 5,
    "bẩy": 5,
}
# Units whose result carries a meaningful time of day; the others are reduced to a date.
_TIME_UNITS = {"giây", "phút", "giờ", "tiếng"}


# --- dateparser ---------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _absolute_parser(tz: str) -> DateDataParser:
    """One parser per time zone, reused: constructing and warming one up is slow.

    Absolute phrases always reach it with day, month and year, so RELATIVE_BASE cannot
    matter here; leaving it out lets a crawler pass a different base on every call
    without rebuilding the parser.
    """
    return DateDataParser(
        languages=["vi"],
        settings={
            "DATE_ORDER": "DMY",
            "TIMEZONE": tz,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "REQUIRE_PARTS": ["day", "month", "year"],
        },
    )


@lru_cache(maxsize=16)
def _relative_parser(tz: str, base: datetime) -> DateDataParser:
    """Parser for relative phrases; `base` is naive local time in `tz`.

    dateparser keeps an aware RELATIVE_BASE's own zone instead of TIMEZONE, hence naive.
    """
    return DateDataParser(
        languages=["vi"],
        settings={
            "DATE_ORDER": "DMY",
            "TIMEZONE": tz,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": base,
        },
    )


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {tz!r}") from exc


# --- pieces -------------------------------------------------------------------------------


def _read_date(piece: str) -> date | None:
    """Day, month and year from a date piece; None when invalid or implausible."""
    numbers = [int(n) for n in _DIGITS.findall(piece)]
    if len(numbers) != 3:
        return None
    if len(_DIGITS.findall(piece)[0]) == 4:  # "2024-06-05": year first
        year, month, day = numbers
    else:
        day, month, year = numbers
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # "31/02/2024"
        return None


def _read_time(piece: str | None) -> tuple[int, int, int, str | None] | None:
    """(hour, minute, second, "AM"/"PM"/None) from a time piece; None if absent/invalid.

    An impossible time ("24h" in "Tin 24h 08/04/2024") drops the time, not the date.
    """
    if not piece:
        return None
    digits = list(_DIGITS.finditer(piece))
    numbers = [int(d.group()) for d in digits] + [0, 0]
    hour, minute, second = numbers[:3]
    # Look for the marker only after the last digit: "phút" must not count as "pm".
    marker_match = _MARKER.search(piece, digits[-1].end())
    marker = None
    if marker_match:
        word = marker_match.group().lower()
        marker = "AM" if word.startswith("a") or word in ("sa", "sáng") else "PM"
    if marker and not 1 <= hour <= 12:
        marker = None  # a 24-hour time with a stray marker ("15:55 PM") is already right
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second, marker


def _read_offset(piece: str | None) -> str | None:
    """'+HH:MM' from "(GMT+7)", "+0700", "+07:00"; None when absent or out of range."""
    if not piece:
        return None
    match = _OFFSET_PARTS.search(piece)
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes > 59:
        return None
    return f"{sign}{hours:02d}:{minutes:02d}"


def _offset_text(value: datetime) -> str:
    """The UTC offset of an aware datetime as '+HH:MM'."""
    minutes = int(value.utcoffset().total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# --- parsing ------------------------------------------------------------------------------


def _combine(
    day: date, time_piece: str | None, offset_piece: str | None, tz: str
) -> tuple[datetime, bool] | None:
    """The instant for a calendar day plus optional time and offset: (value, has_time)."""
    clock = _read_time(time_piece)
    zone = _zone(tz)
    if clock is None:
        # A date alone is a day, not an instant: an offset next to it says nothing.
        return datetime(day.year, day.month, day.day, tzinfo=zone), False
    hour, minute, second, marker = clock
    offset = _read_offset(offset_piece)
    local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
    if marker is None and (offset is None or offset == _offset_text(local)):
        # Fast path: the plain "DD/MM/YYYY HH:MM[:SS]" shape, local time. A "(GMT+7)" that
        # only repeats the site's own offset changes nothing, so it stays fast too.
        return local, True
    canonical = f"{day.day:02d}/{day.month:02d}/{day.year} {hour}:{minute:02d}:{second:02d}"
    canonical += f" {marker}" if marker else ""
    canonical += f" {offset}" if offset else ""
    parsed = _absolute_parser(tz).get_date_data(canonical).date_obj
    if parsed is None:
        return None
    return parsed.astimezone(zone), True


def _parse_iso(phrase: str, tz: str) -> tuple[datetime, bool] | None:
    """ISO 8601 via datetime.fromisoformat; dateparser when that refuses it."""
    zone = _zone(tz)
    fixed = phrase.strip().replace(",", ".")
    if fixed[-1] in "zZ":
        fixed = fixed[:-1] + "+00:00"
    fixed = _ISO_OFFSET_NO_COLON.sub(r"\1:\2", fixed)  # "+0700": Python 3.11 wants "+07:00"
    try:
        value = datetime.fromisoformat(fixed)
    except ValueError:
        value = _absolute_parser(tz).get_date_data(phrase).date_obj
        if value is None:
            return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=zone), True
    return value.astimezone(zone), True


def _local_base(relative_base: datetime, tz: str) -> datetime:
    """relative_base as naive local time in tz (naive input is taken as local already)."""
    if relative_base.tzinfo is not None:
        relative_base = relative_base.astimezone(_zone(tz))
    return relative_base.replace(tzinfo=None)


def _weekday_index(name: str) -> int:
    """0 = Monday for "Thứ 2"/"Thứ Hai"/"T2" .. 6 for "Chủ nhật"/"CN"."""
    key = re.sub(r"\s+", "", name.lower())
    if key in ("chủnhật", "cn"):
        return 6
    key = key.removeprefix("thứ").removeprefix("t")
    return int(key) - 2 if key.isdigit() else _WEEKDAY_INDEX[key]


def _relative_day(match: re.Match[str], tz: str, base: datetime) -> date | None:
    """The calendar day of "hôm nay", "hôm qua", "hôm kia", "thứ 5 tuần trước"."""
    if match["rwd"]:
        # dateparser 1.5.0 returns nothing for "thứ 5 tuần trước": count it here.
        # Vietnamese weeks start on Monday.
        monday = base.date() - timedelta(days=base.weekday())
        return monday - timedelta(days=7) + timedelta(days=_weekday_index(match["rwd"]))
    word = re.sub(r"\s+", " ", match["rday"].lower())
    # dateparser 1.5.0 does not know "hôm kia" (the day before yesterday).
    word = "2 ngày trước" if word == "hôm kia" else word
    parsed = _relative_parser(tz, base).get_date_data(word).date_obj
    return parsed.astimezone(_zone(tz)).date() if parsed else None


def _ago(match: re.Match[str], tz: str, base: datetime) -> tuple[datetime, bool] | None:
    """'N <unit> trước' counted back from base; day-sized units give a date only."""
    unit = match["unit"].lower()
    # dateparser 1.5.0 does not know "tiếng" (colloquial "hours").
    phrase = f"{int(match['n'])} {'giờ' if unit == 'tiếng' else unit} trước"
    parsed = _relative_parser(tz, base).get_date_data(phrase).date_obj
    if parsed is None:
        return None
    value = parsed.astimezone(_zone(tz))
    if unit in _TIME_UNITS:
        return value, True
    return value.replace(hour=0, minute=0, second=0, microsecond=0), False


def _parse_match(
    match: re.Match[str], tz: str, relative_base: datetime | None
) -> tuple[datetime, bool] | None:
    """Dispatch one cut phrase to the parser for its kind."""
    if match["iso"]:
        return _parse_iso(match["iso"], tz)
    if match["date"]:
        day = _read_date(match["date"])
        if day is None:
            return None
        return _combine(day, match["t1"] or match["t2"], match["o1"] or match["o2"], tz)
    # Relative phrases: never guess a base ("now") for them.
    if relative_base is None:
        return None
    base = _local_base(relative_base, tz)
    if match["rday"]:
        day = _relative_day(match, tz, base)
        if day is None:
            return None
        return _combine(day, match["rt1"] or match["rt2"], None, tz)
    return _ago(match, tz, base)


def _iter_found(text: str, tz: str, relative_base: datetime | None) -> Iterator[FoundDate]:
    if not text:
        return
    _zone(tz)  # an unknown tz is a caller error: say so even when the text has no date
    text = unicodedata.normalize("NFC", text)
    for match in _PHRASE.finditer(text):
        result = _parse_match(match, tz, relative_base)
        if result is not None:
            value, has_time = result
            yield FoundDate(value=value, has_time=has_time, phrase=match.group().strip())


# --- public API ---------------------------------------------------------------------------


def find_date(
    text: str, tz: str = VN_TZ, relative_base: datetime | None = None
) -> FoundDate | None:
    """Cut the first publication-style date(-time) phrase out of `text` and parse it.

    `text` may carry prefixes like 'Cập nhật:', weekday names, '(GMT+7)',
    '[Lượt xem: 312]', '| ', 'lúc', view counters, etc. Phrases that do not parse
    (31/02/2024, a relative phrase without `relative_base`) are skipped. None when
    there is no date.
    """
    return next(_iter_found(text, tz, relative_base), None)


def find_dates(
    text: str, tz: str = VN_TZ, relative_base: datetime | None = None
) -> list[FoundDate]:
    """All date phrases in text, in order."""
    return list(_iter_found(text, tz, relative_base))


def parse_date(
    phrase: str, tz: str = VN_TZ, relative_base: datetime | None = None
) -> datetime | None:
    """Convenience: find_date(...).value or None."""
    found = find_date(phrase, tz, relative_base)
    return found.value if found else None


def to_iso(value: datetime) -> str:
    """ISO 8601 with offset, seconds included: '2023-05-30T09:42:00+07:00'.

    Sub-second digits are dropped (no page shows them). A naive value raises
    ValueError: the archive stores no time without its offset.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("to_iso needs a timezone-aware datetime")
    return value.isoformat(timespec="seconds")
