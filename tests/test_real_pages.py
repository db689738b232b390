"""Real article pages saved by other people, against reference records read off them.

The pages are other people's work and are never copied into this repository: they are
read from ``../shared/real-pages`` (beside the checkout, as in CI) or from the folder
named by ``VNNEWS_REAL_PAGES``. Without either, these tests skip and say why.
``tests/fixtures/realistic`` holds pages of the same shapes written for this project
by someone who never saw the extractor; they run everywhere.

A page is right when it is stored, its headline is the title, the first and last
sentences of the article are in the stored text, no chrome phrase is, the time is the
page's to the minute (or both absent, or the day alone when the page shows no time),
the byline names the same people, and every number of the reference sentences is kept
(``archive.quality.real_page_checks``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive.quality import REAL_CHECKS, real_page_checks
from bench.realpages import RealPage, load_real_pages, ours

HERE = Path(__file__).parent
SHARED = Path(os.environ.get("VNNEWS_REAL_PAGES", HERE.parent.parent / "shared" / "real-pages"))
REALISTIC = HERE / "fixtures" / "realistic"


def pages_in(folder: Path) -> list[RealPage]:
    return load_real_pages(folder) if (folder / "records.json").is_file() else []


SHARED_PAGES = pages_in(SHARED)
REALISTIC_PAGES = pages_in(REALISTIC)


def check(page: RealPage) -> None:
    got, reason = ours(page)
    if not page.is_article:
        assert got is None, f"{page.name} is not an article but was stored"
        return
    assert got is not None, f"{page.name} refused: {reason}"
    checks = real_page_checks(got, page.record)
    wrong = {c: got.get(c) for c in REAL_CHECKS if not checks[c]}
    assert not wrong, (
        f"{page.name}: wrong {sorted(wrong)}; author {got.get('author')!r}, "
        f"time {got.get('published_at')!r}"
    )


@pytest.mark.skipif(
    not SHARED_PAGES, reason=f"no real pages at {SHARED} (set VNNEWS_REAL_PAGES to a folder)"
)
@pytest.mark.parametrize("page", SHARED_PAGES, ids=lambda p: p.name)
def test_real_page_is_archived_right(page: RealPage):
    check(page)


@pytest.mark.skipif(not REALISTIC_PAGES, reason=f"no pages in {REALISTIC}")
@pytest.mark.parametrize("page", REALISTIC_PAGES, ids=lambda p: p.name)
def test_realistic_page_is_archived_right(page: RealPage):
    check(page)
