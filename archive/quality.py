"""How close an extracted record is to a reference: the measures the tests, the
benchmarks and the acceptance checks share."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

FIELDS = ("title", "lead", "body", "author", "published_at", "category", "tags", "source")


def words(text: str | None) -> list[str]:
    text = unicodedata.normalize("NFC", text or "").lower()
    return re.findall(r"\w+", text)


def word_f1(got: str | None, want: str | None) -> float:
    """Bag-of-words F1 between two texts (1.0 when both are empty)."""
    g, w = Counter(words(got)), Counter(words(want))
    if not g and not w:
        return 1.0
    overlap = sum((g & w).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(g.values()), overlap / sum(w.values())
    return 2 * precision * recall / (precision + recall)


def normalise(value):
    if isinstance(value, str):
        return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip() or None
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def field_scores(got: dict, want: dict) -> dict[str, float]:
    """Per field: 1.0/0.0 exact match (whitespace-normalised), word F1 for the text
    (lead + body together, as a reader sees it)."""
    scores = {
        f: float(normalise(got.get(f)) == normalise(want.get(f))) for f in FIELDS if f in want
    }
    scores["text_f1"] = word_f1(
        f"{got.get('lead') or ''} {got.get('body') or ''}",
        f"{want.get('lead') or ''} {want.get('body') or ''}",
    )
    return scores


# --- Real pages: records read off pages other people saved ----------------------
#
# A real-page record does not hold the whole text (nobody retypes 2,000 words): it
# holds the headline, the time to the minute, the byline, the sapo, the first and last
# sentence of the article proper, and phrases of chrome that must not be stored. These
# checks are what "right" means for such a page; the bench and the tests share them.

REAL_CHECKS = ("stored", "title", "first", "last", "no_chrome", "time", "author", "digits")


def flat(text: str | None) -> str:
    """Whitespace collapsed, NFC, curly quotes straightened: how two readings of the
    same sentence are compared."""
    text = unicodedata.normalize("NFC", text or "")
    text = text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "\u00a0": " "}))
    return re.sub(r"\s+", " ", text).strip()


def minute(value: str | None) -> str | None:
    """'2026-03-07T00:05:00+07:00' -> '2026-03-07T00:05+07:00': times compare to the minute."""
    if not value:
        return None
    match = re.match(r"(\d{4}-\d\d-\d\d)(?:T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?)?(.*)$", value)
    if not match:
        return value
    day, clock, offset = match.groups()
    return f"{day}T{clock}{offset}" if clock else day


def names(value: str | None) -> list[str]:
    """An author line as a list of lower-case names: 'NHẬT XUÂN - NGHI VŨ' -> 2 names."""
    parts = re.split(r"\s+[-–—,&]\s+|\s*,\s*|\s+và\s+", flat(value).lower())
    return [p.strip(" .") for p in parts if p.strip(" .")]


def numbers_in(text: str | None) -> Counter:
    """The numbers a text writes ('104,8', '4.442,6', '2.075'), as a multiset."""
    return Counter(re.findall(r"\d+(?:[.,]\d+)*", flat(text)))


def real_page_checks(got: dict | None, want: dict) -> dict[str, bool]:
    """Each check of a real page's record against what was stored (None: not stored)."""
    if got is None:
        return dict.fromkeys(REAL_CHECKS, False)
    text = flat(f"{got.get('lead') or ''} {got.get('body') or ''}")
    reference = f"{want.get('lead') or ''} {want.get('first') or ''} {want.get('last') or ''}"
    return {
        "stored": True,
        "title": flat(got.get("title")) == flat(want.get("title")),
        "first": flat(want.get("first")) in text,
        "last": flat(want.get("last")) in text,
        "no_chrome": not any(flat(p) in text for p in want.get("not_in_body") or []),
        "time": minute(got.get("published_at")) == minute(want.get("published_at")),
        "author": names(got.get("author")) == names(want.get("author")),
        # Every number the reference sentences write is in the stored text as often.
        "digits": not (numbers_in(reference) - numbers_in(text)),
    }
