"""Extraction accuracy and speed: our extractor against bare trafilatura.

    python -m bench.extraction                 # all golden pages, 5 timed runs each
    python -m bench.extraction --family a      # one site family only
    python -m bench.extraction --repeat 11 --json build/bench-extraction.json
    python -m bench.extraction --misses        # also print trafilatura's wrong values
    python -m bench.extraction --real ../shared/real-pages   # real pages saved by others

Inputs are the golden pages in ``tests/fixtures/pages/<family>/*.html`` with the
records beside them (``*.json``). Each page goes through:

- **ours**: ``archive.extract.extract(html_bytes, url, generic_profile(url))``, the
  "no profile" path an unseen site takes;
- **ours+profile**: the same with ``SITES[name]``, for pages whose JSON names a profile;
- **trafilatura**: ``trafilatura.bare_extraction(html_str, url=url, with_metadata=True)``
  with its defaults, mapped onto our fields (lead is None, body is its ``text``, date
  is its ``date`` string as it comes, category its first category);
- ``trafilatura.extract(html_str)`` (text only, defaults), timed only, as a second
  speed baseline.

Reading the output:

- Accuracy cells are pages whose field is exactly right (after whitespace collapsing
  and NFC, ``archive.quality.normalise``) out of the pages scored. ``text_f1`` is the
  mean bag-of-words F1 of lead + body against the reference lead + body, so
  trafilatura's ``text`` (which mixes lead and body) is judged fairly.
- Per-family cells read ``ours · trafilatura``.
- Timing is ms per page: one untimed pass over every page (which also gives the
  records scored above), then ``--repeat`` rounds; in each round every page runs
  every engine back to back, in an order rotated per round, so machine noise hits all
  of them alike. Each page's median over the rounds is taken, and the table shows the
  mean of those medians. Ratios are ours / baseline: the project's goal is ours at
  most 1.5x ``bare_extraction(with_metadata=True)``.

``--real DIR`` measures on real pages saved by other people instead (a folder holding
the pages and a ``records.json`` of reference records, see ``bench/realpages.py``):
a table per page and per check, ours against trafilatura's ``bare_extraction`` with
metadata and the date parameters that make it return a time, then a summary line and
the time per page of each (ours includes its second opinion, a trafilatura run).

Nothing is asserted: machines are noisy, the bench reports and exits 0.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml
import trafilatura

from archive.extract import extract
from archive.quality import FIELDS, field_scores, normalise
from archive.sites import SITES, SiteProfile, generic_profile

REPO = Path(__file__).resolve().parent.parent
PAGES = REPO / "tests" / "fixtures" / "pages"
# Pages written without sight of the extractor: the honest measure for unseen sites.
HOLDOUT = REPO / "tests" / "fixtures" / "holdout"
# "published_day" is not a field: it asks only whether the calendar day is right, to
# tell a wrong date from a right date without its time.
SCORES = (*FIELDS[:5], "published_day", *FIELDS[5:], "text_f1")
SYSTEMS = ("ours", "ours+profile", "trafilatura")
ENGINES = ("ours", "bare_extraction", "extract")


@dataclass
class Page:
    """One golden page: its bytes, its text and the record it must give."""

    family: str
    name: str
    html: bytes
    want: dict[str, Any]
    text: str = ""
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    got: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.want["url"]

    @property
    def profile(self) -> SiteProfile | None:
        name = self.want.get("profile")
        return SITES[name] if name else None

    def median_ms(self, engine: str) -> float:
        return statistics.median(self.samples[engine])


def load_pages(family: str | None, root: Path = PAGES) -> list[Page]:
    """Every golden page under `root` (of one family, if given), in a stable order."""
    pages = []
    for path in sorted(root.glob("[a-f]/*.html")):
        if family and path.parent.name != family:
            continue
        want = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        html = path.read_bytes()
        # trafilatura gets a str, as a user who decoded the response would pass it.
        text = html.decode("utf-8", errors="replace")
        pages.append(Page(path.parent.name, path.stem, html, want, text))
    return pages


# --- The systems -----------------------------------------------------------------


def ours(page: Page, profile: SiteProfile | None = None) -> dict[str, Any]:
    profile = profile or generic_profile(page.url)
    return extract(page.html, page.url, profile).to_dict()


def trafilatura_record(page: Page) -> dict[str, Any]:
    """bare_extraction with its defaults, mapped onto our fields."""
    doc = trafilatura.bare_extraction(page.text, url=page.url, with_metadata=True)
    if doc is None:
        return {}
    data = doc if isinstance(doc, dict) else doc.as_dict()
    categories = data.get("categories") or []
    return {
        "title": data.get("title"),
        "lead": None,
        "body": data.get("text"),
        "author": data.get("author"),
        "published_at": data.get("date"),
        "category": categories[0] if categories else None,
        "tags": list(data.get("tags") or []),
        "source": None,
    }


def engines(page: Page) -> dict[str, Callable[[], object]]:
    """The timed calls, by engine name."""
    return {
        "ours": lambda: ours(page),
        "bare_extraction": lambda: trafilatura.bare_extraction(
            page.text, url=page.url, with_metadata=True
        ),
        "extract": lambda: trafilatura.extract(page.text),
    }


# --- Running ---------------------------------------------------------------------


def score_page(page: Page) -> None:
    """The untimed pass: run every system once, keep records and scores."""
    page.got["ours"] = ours(page)
    if page.profile is not None:
        page.got["ours+profile"] = ours(page, page.profile)
    page.got["trafilatura"] = trafilatura_record(page)
    trafilatura.extract(page.text)  # warm-up of the text-only baseline too
    for system, got in page.got.items():
        page.scores[system] = field_scores(got, page.want)
        page.scores[system]["published_day"] = day_score(got, page.want)


def day_score(got: dict[str, Any], want: dict[str, Any]) -> float:
    """1.0 when the publication day (the first 10 characters) is right, or both are None."""
    return float((got.get("published_at") or "")[:10] == (want.get("published_at") or "")[:10])


def time_pages(pages: list[Page], repeat: int) -> None:
    """``repeat`` rounds over all pages, engines interleaved per page."""
    calls = [engines(page) for page in pages]
    for page in pages:
        page.samples = {engine: [] for engine in ENGINES}
    gc.collect()
    for round_no in range(repeat):
        shift = round_no % len(ENGINES)
        order = ENGINES[shift:] + ENGINES[:shift]
        for page, page_calls in zip(pages, calls, strict=True):
            for engine in order:
                call = page_calls[engine]
                start = time.perf_counter()
                call()
                page.samples[engine].append((time.perf_counter() - start) * 1000)


# --- Reporting -------------------------------------------------------------------


def scored(pages: list[Page], system: str) -> list[dict[str, float]]:
    return [p.scores[system] for p in pages if system in p.scores]


def cell(rows: list[dict[str, float]], name: str) -> str:
    """``k/n`` for an exact-match field, the mean for text_f1, ``—`` for no pages."""
    if not rows:
        return "—"
    values = [r[name] for r in rows]
    if name == "text_f1":
        return f"{statistics.fmean(values):.3f}"
    return f"{int(sum(values))}/{len(values)}"


def empty_references(pages: list[Page], name: str) -> str:
    """How many references are None or [] for a field: a system that says nothing
    scores those for free."""
    if name == "text_f1":
        return "—"
    key = "published_at" if name == "published_day" else name
    return str(sum(1 for p in pages if not normalise(p.want.get(key))))


def overall_table(pages: list[Page]) -> str:
    lines = [
        "| field | ours (generic) | ours+profile | trafilatura | reference empty |",
        "|---|---|---|---|---|",
    ]
    for name in SCORES:
        cells = [cell(scored(pages, s), name) for s in SYSTEMS]
        cells.append(empty_references(pages, name))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_family(pages: list[Page]) -> dict[str, list[Page]]:
    groups: dict[str, list[Page]] = {}
    for page in pages:
        groups.setdefault(page.family, []).append(page)
    return groups


def family_table(pages: list[Page]) -> str:
    groups = by_family(pages)
    header = " | ".join(f"{f} (n={len(ps)})" for f, ps in groups.items())
    lines = [f"| field | {header} |", "|---" * (len(groups) + 1) + "|"]
    for name in SCORES:
        cells = [
            f"{cell(scored(ps, 'ours'), name)} · {cell(scored(ps, 'trafilatura'), name)}"
            for ps in groups.values()
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_ms(pages: list[Page], engine: str) -> float:
    return statistics.fmean(p.median_ms(engine) for p in pages)


def timing_row(label: str, pages: list[Page]) -> str:
    o, b, e = (mean_ms(pages, engine) for engine in ENGINES)
    return f"| {label} | {len(pages)} | {o:.1f} | {b:.1f} | {e:.1f} | {o / b:.2f}× | {o / e:.2f}× |"


def timing_table(pages: list[Page]) -> str:
    lines = [
        "| pages | n | ours ms | bare_extraction ms | extract ms "
        "| ours / bare_extraction | ours / extract |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [timing_row(f, ps) for f, ps in by_family(pages).items()]
    lines.append(timing_row("all", pages))
    return "\n".join(lines)


def misses(pages: list[Page], system: str) -> list[str]:
    """One line per wrong field: page, field, what the system gave, what is right."""
    out = []
    for page in pages:
        got, scores = page.got.get(system), page.scores.get(system, {})
        for name in FIELDS:
            if got is not None and scores.get(name) == 0.0:
                value, want = normalise(got.get(name)), normalise(page.want.get(name))
                out.append(
                    f"  {page.family}/{page.name} {name}: got {short(value)!r}, want {short(want)!r}"
                )
    return out


def short(value: Any, limit: int = 90) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value


def machine() -> dict[str, Any]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "trafilatura": trafilatura.__version__,
        "lxml": lxml.__version__,
        "platform": platform.platform(),
    }


def report(pages: list[Page], repeat: int, env: dict[str, Any]) -> str:
    profiled = sum(1 for p in pages if p.profile is not None)
    return "\n".join(
        [
            f"Machine: {env['nproc']} CPUs ({env['cpu']}), Python {env['python']}, "
            f"trafilatura {env['trafilatura']}, lxml {env['lxml']}",
            f"Pages: {len(pages)} golden pages ({profiled} with a profile), "
            f"timing median of {repeat} runs per page after one warm-up",
            "",
            "Accuracy, exact match (pages right / pages); published_day = right calendar day;",
            "text_f1 = mean word F1 of lead+body; reference empty = pages whose expected value",
            "is null or [] (right for free when a system gives nothing)",
            "",
            overall_table(pages),
            "",
            "Per family (ours · trafilatura)",
            "",
            family_table(pages),
            "",
            "Time per page (mean of per-page medians)",
            "",
            timing_table(pages),
        ]
    )


def numbers(pages: list[Page], repeat: int, env: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, for ``--json``."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "repeat": repeat,
        "machine": env,
        "accuracy": {s: {name: cell(scored(pages, s), name) for name in SCORES} for s in SYSTEMS},
        "ms_per_page": {engine: mean_ms(pages, engine) for engine in ENGINES},
        "pages": [
            {
                "page": f"{p.family}/{p.name}",
                "url": p.url,
                "scores": p.scores,
                "median_ms": {engine: p.median_ms(engine) for engine in ENGINES},
                "trafilatura": {k: v for k, v in p.got["trafilatura"].items() if k != "body"},
            }
            for p in pages
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per page (default 5)")
    parser.add_argument("--family", help="only this family (a, b, c, d or e)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--misses", action="store_true", help="print trafilatura's misses too")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="measure on the holdout pages (never tuned on) instead",
    )
    parser.add_argument(
        "--real",
        type=Path,
        metavar="DIR",
        help="measure on real pages saved by others (DIR holds records.json)",
    )
    args = parser.parse_args(argv)
    if args.real:
        from bench.realpages import main as real_main

        return real_main(args.real, max(1, args.repeat))

    pages = load_pages(args.family, HOLDOUT if args.holdout else PAGES)
    if not pages:
        print(f"No golden pages for family {args.family!r} under {PAGES}")
        return 0
    repeat = max(1, args.repeat)
    for page in pages:
        score_page(page)
    time_pages(pages, repeat)

    env = machine()
    print(report(pages, repeat, env))
    for system in ("ours", "ours+profile"):
        wrong = misses(pages, system)
        print(f"\n{system}: {len(wrong)} wrong field(s)" + (":" if wrong else ""))
        if wrong:
            print("\n".join(wrong))
    if args.misses:
        print("\ntrafilatura misses:")
        print("\n".join(misses(pages, "trafilatura")))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(numbers(pages, repeat, env), ensure_ascii=False, indent=2) + "\n"
        )
        print(f"\nWrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
