"""Golden pages: every fixture page's extracted record must equal the JSON beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.extract import article_verdict, extract
from archive.quality import FIELDS, normalise
from archive.sites import SITES, generic_profile

PAGES = Path(__file__).parent / "fixtures" / "pages"
CASES = sorted(PAGES.glob("*/*.json"))


def load(case: Path) -> tuple[str, dict]:
    return case.with_suffix(".html").read_bytes(), json.loads(case.read_text(encoding="utf-8"))


def record(article) -> dict:
    data = article.to_dict()
    return {f: normalise(data[f]) for f in FIELDS}


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_page(case: Path):
    html, want = load(case)
    profile = SITES[want["profile"]] if want.get("profile") else generic_profile(want["url"])
    article = extract(html, want["url"], profile)
    assert record(article) == {f: normalise(want[f]) for f in FIELDS}
    assert article_verdict(article, profile)[0]


@pytest.mark.parametrize(
    "case", [c for c in CASES if json.loads(c.read_text())["profile"]], ids=lambda p: p.stem
)
def test_golden_page_without_profile(case: Path):
    """Pages of a registered paper come out the same through the generic path."""
    html, want = load(case)
    article = extract(html, want["url"], generic_profile(want["url"]))
    assert record(article) == {f: normalise(want[f]) for f in FIELDS}


def test_enough_golden_pages():
    families = {c.parent.name for c in CASES}
    assert families >= {"a", "b", "c", "d", "e"}
    assert all(len(list((PAGES / f).glob("*.json"))) >= 5 for f in "abcde")
