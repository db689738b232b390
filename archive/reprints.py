"""Reprints: the same article published by several outlets, found by its text.

A portal reprints a paper's article under a new headline, trims the lead, drops a
paragraph and adds a credit line ("Bảo Bình (baocaobang.vn)"); a paper reprints TTXVN.
What survives all of that is the run of the sentences, so two texts are compared by
their five-word runs (shingles): the share of the shorter text's runs found in the
other (containment) is near 1 for a reprint, however much was cut, and near 0 for two
reports of the same event written independently, which share names, places and stock
phrases but not sentences.

Finding candidates must not read the whole archive: each text's MinHash signature is
cut into bands (the LSH banding datasketch's ``MinHashLSH`` chooses for ``THRESHOLD``),
and a text is compared only with the articles that share a band (``text_bands`` in the
store holds them, so the index persists and grows with the archive). Pure functions;
the store calls them when it saves an article.

The signature is datasketch's ``MinHash(num_perm=128, seed=1)`` (its default scheme
since 2.0, "affine32"), computed here the same way, so the bands are the ones archives
already hold (tests/test_reprints.py compares them with datasketch's). Two reasons to
own these 20 lines of numpy: importing datasketch imports scipy and redis, 58 MB in the
crawl process that saves every article; and the bands of an archive must not change
with the version of a library (datasketch 1.x hashed differently).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

import numpy as np

from archive.urls import host_of

SHINGLE_WORDS = 5
NUM_PERM = 128
# Jaccard similarity at which LSH starts to find a pair (a reprint with a dropped
# paragraph and a new lead is still ~0.6; unrelated texts are ~0).
THRESHOLD = 0.3
# What datasketch's MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM) chooses (a test
# holds them equal): 37 bands of 3 rows.
BANDS, ROWS = 37, 3
SEED = 1
# The murmur3 finalizer's constants: (shift, multiplier, shift, multiplier, shift).
FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
EMPTY = np.uint32(0xFFFFFFFF)
# A reprint keeps at least this share of the shorter text's runs (measured on the
# labelled pairs of tests/test_reprints.py: reprints ≥ 0.7, independent reports ≤ 0.1).
MIN_SIMILARITY = 0.5
# Texts shorter than this many runs (about 40 words) say too little to tell a reprint
# from a shared stock paragraph: they are neither indexed nor linked.
MIN_SHINGLES = 35
# Texts compared with a new one, those sharing the most bands first: a wire story
# carried by every paper is still linked to its closest copies, and a save stays cheap.
MAX_CANDIDATES = 100
# Entries of the LSH index read per band and side of the paper (see store.link_reprints).
PER_BAND = 200
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


@cache
def permutations() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of the NUM_PERM permutations h -> a h + b mod 2^32 (a odd, so each is a
    bijection), drawn as datasketch's MinHash draws them for SEED."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def signature(runs: set[str]) -> np.ndarray:
    """The text's MinHash (datasketch's "affine32" scheme): each run's first 4 bytes of
    SHA-1, mixed by the murmur3 finalizer, then for each permutation the least value."""
    if not runs:
        return np.full(NUM_PERM, EMPTY, dtype=np.uint32)
    hashes = np.array(
        [int.from_bytes(hashlib.sha1(r.encode()).digest()[:4], "little") for r in runs],
        dtype=np.uint32,
    ).reshape(-1, 1)
    s1, m1, s2, m2, s3 = (np.uint32(c) for c in FMIX32)
    hashes ^= hashes >> s1
    hashes *= m1
    hashes ^= hashes >> s2
    hashes *= m2
    hashes ^= hashes >> s3
    a, b = permutations()
    return (hashes * a + b).min(axis=0)


def bands(runs: set[str]) -> list[tuple[int, int]]:
    """(band, key) pairs of a text's signature: two texts sharing one are compared."""
    values = signature(runs)
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
