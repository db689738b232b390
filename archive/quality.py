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
