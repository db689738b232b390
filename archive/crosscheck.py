"""A second opinion against silent loss.

Our extraction decides what is article text; a wrong decision must not pass unseen. So
every extracted text is read against two independent readings of the same page:

- trafilatura's main-text extraction (``fast``: its own algorithm, without its
  fallbacks), run on a copy of the article's region of the tree we already parsed:
  the smallest element holding both the headline and our text (the whole page when
  they share none but <body>), so that its reading costs a fraction of a full run;
- the page's own ``articleBody`` (JSON-LD), when it states one.

Two kinds of disagreement are looked for:

- **digits**: a paragraph we keep that matches one of theirs but lacks a number theirs
  has. A sentence must keep every word it has on the page, so our paragraph is replaced
  by theirs (the better reading) and the repair is recorded;
- **shortfall**: they read substantially more running text than we kept (paragraphs we
  have nothing like). Which reading is right cannot be told from one page, so ours is
  kept and the disagreement recorded.

The records go to ``Article.warnings``, stored in ``articles.extraction_warnings`` for
the operator and ``vnnews check``.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass

from archive.html import clean

# A paragraph of theirs matches one of ours when this share of its words is in ours.
MATCH = 0.6
# Running text trafilatura has between paragraphs we both have, that we do not: a
# paragraph or box lost from the middle of the article.
GAP_WORDS = 40
# Running text trafilatura reads right after our last paragraph: the article's end cut.
TAIL_WORDS = 60
TAIL_SHARE = 0.2
# Their whole reading several times ours: we may have kept the wrong region. (Their
# reading carries some chrome too: menus, related sapos; hence the wide margin.)
GROSS_WORDS = 300
GROSS_RATIO = 3
# The page's own articleBody against ours.
STATED_WORDS = 80

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
WORD = re.compile(r"\w+")


@dataclass
class Verdict:
    """What the second opinion says about our paragraphs."""

    paragraphs: list[str]
    warnings: list[str]


def their_paragraphs(region, url: str) -> list[str]:
    """trafilatura's reading of a region of the page, one string per paragraph."""
    import lxml.html
    import trafilatura  # imported lazily: slow to import

    if region.tag == "html":
        page = copy.deepcopy(region)  # trafilatura prunes the tree it is given
    else:
        page = lxml.html.document_fromstring("<html><body></body></html>")
        page.find("body").append(copy.deepcopy(region))
    try:
        doc = trafilatura.bare_extraction(
            page,
            url=url,
            fast=True,
            include_comments=False,
            with_metadata=False,
        )
    except Exception:  # its failure must not cost us the page; ours stands alone
        return []
    text = getattr(doc, "text", None) or ""
    return [line for line in (clean(x) for x in text.splitlines()) if line]


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def cross_check(
    ours: list[str], theirs: list[str], article_body: str | None, seen: list[str] = ()
) -> Verdict:
    """Our paragraphs after the second opinion, and what it found (see module doc).
    `seen` is page text we set aside on purpose (the headline, captions, the byline):
    trafilatura keeping it is no shortfall of ours."""
    warnings: list[str] = []
    kept = list(ours)
    bags = [Counter(words(p)) for p in kept]
    sets = [set(bag) for bag in bags]
    aside = [Counter(words(p)) for p in seen if p]
    aside_sets = [set(bag) for bag in aside]
    kept_words: Counter = Counter()
    for bag in bags:
        kept_words.update(bag)
    everything = kept_words.copy()
    for bag in aside:
        everything.update(bag)
    # Their running paragraphs in their order: whether we kept their words too, whether
    # we set them aside on purpose, and their size.
    found: list[tuple[bool, bool, int]] = []
    for paragraph in theirs:
        theirs_words = Counter(words(paragraph))
        size = sum(theirs_words.values())
        if size < 8:
            continue
        # Merged or split differently, their words are still ours: that is agreement.
        agreed = sum((theirs_words & kept_words).values()) >= MATCH * size
        known = sum((theirs_words & everything).values()) >= MATCH * size
        found.append((agreed, known, size))
        vocabulary = set(theirs_words)
        if best_match(vocabulary, aside_sets)[1] >= MATCH:
            continue  # a caption or the headline, set aside on purpose
        best, share = best_match(vocabulary, sets)
        if best is None or share < 0.8 or not same_paragraph(bags[best], theirs_words):
            continue
        lost = Counter(NUMBER.findall(paragraph)) - Counter(NUMBER.findall(kept[best]))
        if lost:
            warnings.append(
                f"digits: kept trafilatura's reading of a paragraph that lost "
                f"{', '.join(sorted(lost))}"
            )
            kept[best] = paragraph
            bags[best], sets[best] = theirs_words, vocabulary
    our_words = sum(len(words(p)) for p in kept)
    gap = gap_words(found)
    if gap >= GAP_WORDS:
        warnings.append(
            f"gap: trafilatura reads {gap} words inside the article that we did not keep"
        )
    tail = tail_words(found)
    if tail >= TAIL_WORDS and tail >= TAIL_SHARE * our_words:
        warnings.append(f"tail: trafilatura reads {tail} words after the last paragraph we kept")
    theirs_total = sum(size for _, _, size in found)
    if theirs_total >= GROSS_WORDS and our_words * GROSS_RATIO < theirs_total:
        warnings.append(f"shortfall: trafilatura reads {theirs_total} words, we kept {our_words}")
    stated = len(words(article_body or ""))
    if stated >= STATED_WORDS and our_words < 0.7 * stated:
        warnings.append(
            f"shortfall: the page's articleBody has {stated} words, we kept {our_words}"
        )
    return Verdict(kept, warnings)


def gap_words(found: list[tuple[bool, bool, int]]) -> int:
    """Words of their paragraphs we have nothing of, lying between two sentence-long
    paragraphs we both keep (short ones may match a related headline by chance)."""
    anchors = [i for i, (agreed, _, size) in enumerate(found) if agreed and size >= 20]
    if len(anchors) < 2:
        return 0
    inside = found[anchors[0] : anchors[-1] + 1]
    return sum(size for _, known, size in inside if not known and size >= 12)


def tail_words(found: list[tuple[bool, bool, int]]) -> int:
    """Words of running paragraphs we have nothing of, right after the last paragraph we
    both keep, up to the next one that is short (a box heading, a list of headlines)."""
    anchors = [i for i, (agreed, _, size) in enumerate(found) if agreed and size >= 20]
    if not anchors:
        return 0
    total = 0
    for _, known, size in found[anchors[-1] + 1 :]:
        if known or size < 20:
            break
        total += size
    return total


def same_paragraph(ours: Counter, theirs: Counter) -> bool:
    """Two readings of one paragraph: each holds nearly all the other's words."""
    overlap = sum((ours & theirs).values())
    return overlap >= 0.8 * sum(ours.values()) and overlap >= 0.8 * sum(theirs.values())


def best_match(vocabulary: set, candidates: list[set]) -> tuple[int | None, float]:
    """The index of the candidate holding most of a paragraph's distinct words, and
    that share (sets, not counts: this runs for every pair of paragraphs)."""
    best, share = None, 0.0
    if not vocabulary:
        return best, share
    for i, other in enumerate(candidates):
        overlap = len(vocabulary & other) / len(vocabulary)
        if overlap > share:
            best, share = i, overlap
    return best, share
