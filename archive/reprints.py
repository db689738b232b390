"""Reprints: the same article published by several outlets, found by its text.

A portal reprints a paper's article under a new headline, trims the lead, drops a
paragraph and adds a credit line ("Bảo Bình (baocaobang.vn)"); a paper reprints TTXVN.
What survives all of that is the run of the sentences, so two texts are compared by
their five-word runs (shingles): the share of the shorter text's runs found in the
other (containment) is near 1 for a reprint, however much was cut, and near 0 for two
reports of the same event written independently, which share names, places and stock
phrases but not sentences.

Finding candidates must not read the whole archive: each text's MinHash signature
(datasketch) is cut into bands (the LSH banding datasketch's ``MinHashLSH`` chooses
for ``THRESHOLD``), and a text is compared only with the articles that share a band
(``text_bands`` in the store holds them, so the index persists and grows with the
archive). Pure functions; the store calls them when it saves an article.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from datasketch import MinHash, MinHashLSH

from archive.urls import host_of

SHINGLE_WORDS = 5
NUM_PERM = 128
# Jaccard similarity at which LSH starts to find a pair (a reprint with a dropped
# paragraph and a new lead is still ~0.6; unrelated texts are ~0).
THRESHOLD = 0.3
_LSH = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
BANDS, ROWS = _LSH.b, _LSH.r
# A reprint keeps at least this share of the shorter text's runs (measured on the
# labelled pairs of tests/test_reprints.py: reprints ≥ 0.7, independent reports ≤ 0.1).
MIN_SIMILARITY = 0.5
# Texts shorter than this many runs (about 40 words) say too little to tell a reprint
# from a shared stock paragraph: they are neither indexed nor linked.
MIN_SHINGLES = 35
WORD = re.compile(r"\w+")
VIETNAM = timezone(timedelta(hours=7))


def words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFC", text or "").lower())


def shingles(text: str) -> set[str]:
    """The text's five-word runs."""
    tokens = words(text)
    return {" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)}


def article_text(lead: str | None, body: str | None) -> str:
    """What is compared: lead and body (headlines are the first thing a reprint changes)."""
    return f"{lead or ''}\n\n{body or ''}"


def signature(runs: set[str]) -> MinHash:
    minhash = MinHash(num_perm=NUM_PERM, seed=1)
    minhash.update_batch([r.encode() for r in sorted(runs)])
    return minhash


def bands(runs: set[str]) -> list[tuple[int, int]]:
    """(band, key) pairs of a text's signature: two texts sharing one are compared."""
    values = signature(runs).hashvalues
    keys = []
    for band in range(BANDS):
        chunk = values[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.sha1(chunk).digest()[:8]
        keys.append((band, int.from_bytes(digest, "big", signed=True)))
    return keys


def similarity(a: set[str], b: set[str]) -> float:
    """Containment: the share of the shorter text's runs found in the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def is_reprint(a: set[str], b: set[str]) -> bool:
    return min(len(a), len(b)) >= MIN_SHINGLES and similarity(a, b) >= MIN_SIMILARITY


@dataclass
class Candidate:
    """An article as the reprint decision needs it."""

    url: str
    site: str
    published_at: str | None = None
    first_seen_at: str | None = None
    source: str | None = None  # the credit a reprint gives ("baocaobang.vn", "TTXVN")


def credits(reprint: Candidate, original: Candidate) -> bool:
    """Whether the reprint's credit names the other article's outlet (its domain or
    its registry name)."""
    source = (reprint.source or "").lower()
    if not source:
        return False
    return host_of(original.url) in source or original.site.lower() in source


def _moment(value: str | None) -> datetime:
    if not value:
        return datetime.max.replace(tzinfo=VIETNAM)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.max.replace(tzinfo=VIETNAM)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def original_of(group: list[Candidate]) -> tuple[Candidate, str]:
    """The original among articles carrying one text, and why: the one another's
    credit names, else the one published first (then the one archived first)."""
    for member in group:
        if any(other is not member and credits(other, member) for other in group):
            return member, "credit"
    first = min(
        group,
        key=lambda c: (_moment(c.published_at), _moment(c.first_seen_at), c.url),
    )
    return first, "earlier"
