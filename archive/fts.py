"""Full-text search: what a reader types, as a safe FTS5 query that ignores đ/Đ as
well as accents. Used by the Datasette plugin (``?_search=`` and the canned queries),
``vnnews export --search`` and the search benchmark."""

from __future__ import annotations

import itertools
import re
import unicodedata

# Every `d` in a token may stand for đ. Vietnamese has one initial consonant per
# syllable, so real words carry one d at most; the cap only bounds hostile input.
MAX_D_EXPANSIONS = 3  # at most 2**3 = 8 variants per token or phrase
MAX_TERMS = 32  # longer queries are cut: nobody types 32 words, attackers might
# Up to this many words typed without quotes are searched as one phrase (a name or a
# compound: "ha quang", "ho chi minh", "nong thon moi"); longer queries need every
# word somewhere in the article ("lu quet lao cai").
SHORT_PHRASE = 3

# A quoted phrase (the closing quote may be missing) or a run of non-space, non-quote.
_TERM_RE = re.compile(r'"([^"]*)"?|([^\s"]+)')


def _has_token(text: str) -> bool:
    """True if FTS5's unicode61 tokenizer would find at least one token in ``text``.

    A phrase without tokens (``"*"``, ``"("``) matches nothing, and ANDed with the
    rest it would make the whole query match nothing: such bits are dropped.
    """
    return any(ch.isalnum() for ch in text)


def _d_variants(words: list[str]) -> list[str]:
    """Spellings of a phrase with each of its first few ``d``/``D`` also read as ``đ``."""
    text = " ".join(words)
    positions = [i for i, ch in enumerate(text) if ch in "dD"][:MAX_D_EXPANSIONS]
    variants = []
    for choice in itertools.product((False, True), repeat=len(positions)):
        chars = list(text)
        for pos, to_dd in zip(positions, choice, strict=True):
            if to_dd:
                chars[pos] = "đ"
        variants.append("".join(chars))
    return variants


def _quote(phrase: str) -> str:
    """An FTS5 string: everything inside double quotes is literal, `"` is doubled."""
    return '"' + phrase.replace('"', '""') + '"'


def fts_query(text: str | None) -> str:
    """Turn what a reader typed into a safe FTS5 query that ignores đ/Đ as well as accents.

    - Every word is quoted, so FTS syntax (``AND``, ``NEAR(``, ``*``, ``:``, ``-``)
      is searched as text and can never raise an error.
    - ``"quoted words"`` stay a phrase, and so do two or three words typed without
      quotes (Vietnamese words are syllables: ``ha quang`` is the name Hà Quảng);
      longer queries need every word.
    - A word or phrase containing ``d`` matches ``đ`` too:
      ``dam thuy`` → ``("dam thuy" OR "đam thuy")``.
    - Words are ANDed explicitly: SQLite 3.40's FTS5 rejects an implicit AND after a
      parenthesised group (``("a" OR "b") "c"`` is a syntax error there).
    - Nothing searchable gives ``""``, which matches no row (an empty string would be
      a syntax error).

    The accents themselves need no work: the index folds them
    (``remove_diacritics 2``), so "ha quang" already finds "Hà Quảng".
    """
    text = unicodedata.normalize("NFC", text or "")
    words = [w for w in text.split() if _has_token(w)]
    if '"' not in text and 2 <= len(words) <= SHORT_PHRASE:
        # Vietnamese words are syllables: "dam thuy" means the name Đàm Thủy, not
        # "đàm" somewhere and "thủy" somewhere else ("hội đàm về thủy lợi").
        variants = [_quote(v) for v in _d_variants(words)]
        return variants[0] if len(variants) == 1 else "(" + " OR ".join(variants) + ")"
    terms: list[str] = []
    for match in _TERM_RE.finditer(text):
        phrase, word = match.groups()
        words = (phrase if phrase is not None else word).split()
        if not words or not _has_token(" ".join(words)):
            continue
        variants = [_quote(v) for v in _d_variants(words)]
        terms.append(variants[0] if len(variants) == 1 else "(" + " OR ".join(variants) + ")")
        if len(terms) >= MAX_TERMS:
            break
    return " AND ".join(terms) if terms else '""'
