"""Real pages saved by other people, scored against their reference records.

``python -m bench.extraction --real DIR`` runs this. DIR holds the pages and a
``records.json`` (``../shared/real-pages`` in this project's layout; the pages are
other people's work and never copied into the repository). Each record names a page
file and gives what a reader sees on it: headline, time to the minute, byline, sapo,
the first and last sentence of the article text, and chrome phrases that must not be
stored (``archive.quality.real_page_checks`` says what each check means). A record with
``"article": false`` is a page that must not be stored.

Two systems, each given the page's bytes and its URL and no site profile:

- **ours**: ``archive.extract.extract`` then ``article_verdict``, the path a crawl of a
  paper nobody registered takes (a rejected page scores nothing);
- **trafilatura**: ``bare_extraction(with_metadata=True)`` with
  ``date_extraction_params={"outputformat": "%Y-%m-%dT%H:%M:%S%z",
  "original_date": True}``, so that it returns a time when it finds one.

Time per page is the least CPU time (``time.process_time``) of ``--repeat`` runs, engines
interleaved: on a shared machine other processes stretch wall-clock times and medians,
while the fastest run of single-threaded code is what the code itself costs.
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

from archive.extract import article_verdict, extract
from archive.quality import REAL_CHECKS, real_page_checks
from archive.sites import generic_profile

DATE_PARAMS = {"outputformat": "%Y-%m-%dT%H:%M:%S%z", "original_date": True}


@dataclass
class RealPage:
    name: str
    html: bytes
    record: dict[str, Any]
    checks: dict[str, dict[str, bool]] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    @property
    def url(self) -> str:
        return self.record["url"]

    @property
    def is_article(self) -> bool:
        return self.record.get("article", True) is not False


def load_real_pages(folder: Path) -> list[RealPage]:
    """The pages a records.json describes (gzip files unpacked), in its order."""
    records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    pages = []
    for name, record in records.items():
        if name.startswith("_"):
            continue
        raw = (folder / name).read_bytes()
        pages.append(RealPage(name, gzip.decompress(raw) if name.endswith(".gz") else raw, record))
    return pages


def ours(page: RealPage) -> tuple[dict | None, str]:
    """Our stored record of a page (None when we refuse it) and the verdict's reason."""
    profile = generic_profile(page.url)
    article = extract(page.html, page.url, profile)
    ok, reason = article_verdict(article, profile)
    return (article.to_dict() if ok else None), reason


def theirs(page: RealPage) -> dict | None:
    doc = trafilatura.bare_extraction(
        page.html.decode("utf-8", "replace"),
        url=page.url,
        with_metadata=True,
        date_extraction_params=DATE_PARAMS,
    )
    if doc is None:
        return None
    data = doc if isinstance(doc, dict) else doc.as_dict()
    published = data.get("date")
    if published and len(published) > 10 and published[-5] in "+-" and ":" not in published[-5:]:
        published = published[:-2] + ":" + published[-2:]  # +0700 -> +07:00
    return {
        "title": data.get("title"),
        "lead": None,
        "body": data.get("text"),
        "author": data.get("author"),
        "published_at": published,
    }


def score(page: RealPage) -> None:
    got, page.reason = ours(page)
    if page.is_article:
        page.checks["ours"] = real_page_checks(got, page.record)
        page.checks["trafilatura"] = real_page_checks(theirs(page), page.record)
    else:
        page.checks["ours"] = {"refused": got is None}


def time_pages(pages: list[RealPage], repeat: int) -> None:
    engines = {
        "ours": lambda p: ours(p),
        "trafilatura": lambda p: theirs(p),
    }
    samples: dict[tuple[str, str], list[float]] = {}
    for round_no in range(repeat):
        order = list(engines) if round_no % 2 == 0 else list(reversed(engines))
        for page in pages:
            for engine in order:
                start = time.process_time()
                engines[engine](page)
                samples.setdefault((page.name, engine), []).append(
                    (time.process_time() - start) * 1000
                )
    for page in pages:
        page.ms = {e: min(samples[(page.name, e)]) for e in engines}


def mark(value: bool) -> str:
    return "✓" if value else "✗"


def report(pages: list[RealPage]) -> str:
    articles = [p for p in pages if p.is_article]
    header = "| page | KB | " + " | ".join(REAL_CHECKS) + " | ours ms | traf. ms | ratio |"
    lines = [
        "Per page: ours · trafilatura (✓ right, ✗ wrong)",
        "",
        header,
        "|---" * (len(REAL_CHECKS) + 5) + "|",
    ]
    for page in articles:
        cells = [
            f"{mark(page.checks['ours'][c])}·{mark(page.checks['trafilatura'][c])}"
            for c in REAL_CHECKS
        ]
        ratio = page.ms["ours"] / page.ms["trafilatura"]
        lines.append(
            f"| {page.name} | {len(page.html) // 1024} | " + " | ".join(cells)
            + f" | {page.ms['ours']:.1f} | {page.ms['trafilatura']:.1f} | {ratio:.2f}× |"
        )  # fmt: skip
    others = [p for p in pages if not p.is_article]
    if others:
        lines += ["", "Pages that are not articles (must be refused):", ""]
        lines += [
            f"- {p.name}: {'refused' if p.checks['ours']['refused'] else 'STORED'} ({p.reason})"
            for p in others
        ]
    lines += ["", summary(pages)]
    return "\n".join(lines)


def summary(pages: list[RealPage]) -> str:
    articles = [p for p in pages if p.is_article]
    parts = []
    for system in ("ours", "trafilatura"):
        right = sum(all(p.checks[system].values()) for p in articles)
        fields = sum(sum(p.checks[system].values()) for p in articles)
        parts.append(
            f"{system}: {right}/{len(articles)} pages all right, "
            f"{fields}/{len(articles) * len(REAL_CHECKS)} checks"
        )
    refused = sum(p.checks["ours"]["refused"] for p in pages if not p.is_article)
    mean = statistics.fmean(p.ms["ours"] for p in pages) if pages else 0.0
    base = statistics.fmean(p.ms["trafilatura"] for p in pages) if pages else 1.0
    worst = max((p.ms["ours"] / p.ms["trafilatura"] for p in pages), default=0.0)
    tail = f"; non-articles refused {refused}/{len(pages) - len(articles)}" if refused or (
        len(pages) > len(articles)
    ) else ""  # fmt: skip
    return (
        "Summary — "
        + "; ".join(parts)
        + tail
        + f"; time ours {mean:.1f} ms vs trafilatura {base:.1f} ms per page "
        f"(ratio {mean / base:.2f}×, worst page {worst:.2f}×)"
    )


def main(folder: Path, repeat: int = 5) -> int:
    if not (folder / "records.json").is_file():
        print(f"No records.json in {folder}: nothing to measure")
        return 0
    pages = load_real_pages(folder)
    for page in pages:
        score(page)
    time_pages(pages, repeat)
    print(report(pages))
    return 0
