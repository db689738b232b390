"""Places: which provinces, districts and communes an article names.

``tag_places(text, province)`` is a pure function: the article's text and the
province of the paper (before 2025, or None for a site crawled without a profile) in,
the places it names out, each with its province before 1 July 2025 and today. The
gazetteer is the ``vietnamadminunits`` package (its dataset of the 63-province units
before the 2025 reorganisation and the 34-province units after it, with the mapping
between them), loaded once per process.

How a mention is found (docs/domain.md, "The 2025 province merger"):

- a province or a district may be named bare ("Hà Quảng", "Cao Bằng"), as a run of
  capitalised syllables; a commune only after its kind ("xã Đàm Thủy", "phường Tân
  Giang", "thị trấn Pác Miầu"): bare commune names are too often people and streets;
- a kind word says the level: "huyện Bảo Lâm" is the district, "xã Bảo Lâm" the
  commune (Cao Bằng has both since 2025);
- a bare name that is a province is the province (Cao Bằng, not the city).

A name several units share ("Bảo Lâm" is a district of Cao Bằng and of Lâm Đồng) is
settled by the paper's province and by the provinces of the article's unambiguous
places; a name that stays ambiguous is not tagged (a wrong province would be worse
than none).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEVELS = ("province", "district", "commune")

# Kind words, lower case, by the level they announce. "thành phố" is a district-level
# city (Cao Bằng city) unless the name is a province (Hà Nội, Cần Thơ).
KIND_WORDS = {
    "tỉnh": "province",
    "huyện": "district",
    "quận": "district",
    "thị xã": "district",
    "thành phố": "district",
    "tp": "district",
    "xã": "commune",
    "phường": "commune",
    "thị trấn": "commune",
    "đặc khu": "commune",
}
MAX_NAME_WORDS = 4
# Bare names that are far more often something else: a person, a thought.
NEEDS_KIND = {"Hồ Chí Minh"}

_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Place:
    """One administrative unit an article names."""

    name: str  # as the gazetteer spells it, without its kind: "Hà Quảng"
    level: str  # one of LEVELS
    province: str | None  # the province before 1 July 2025 (one of 63); None if unknown
    province_now: str | None  # the province since 1 July 2025 (one of 34)
    district: str | None = None  # a commune's district before 2025, if known
    kind: str | None = None  # "Huyện", "Xã", "Phường", "Thành phố"…


@dataclass
class Gazetteer:
    """Units by name: ``names[name][level]`` lists the units of that name and level."""

    names: dict[str, dict[str, list[Place]]]
    province_now: dict[str, str]  # province before 2025 → province today

    def candidates(self, name: str, level: str | None) -> list[Place]:
        found = self.names.get(name, {})
        if level is not None:
            return found.get(level, [])
        # Bare: a province first, else a district; communes need their kind word.
        return found.get("province") or found.get("district") or []


def _dataset() -> tuple[dict, Callable[[str], list[dict]]]:
    """The two datasets of ``vietnamadminunits`` the gazetteer is made of: its converter's
    mapping (converter_2025.json) and its table of units (dataset.db), read from the
    installed package without importing it: the package's ``__init__`` loads its address
    parser (shapely, requests, 3.6 MB of JSON), about 50 MB in every process that tags
    places, none of which the gazetteer uses."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("vietnamadminunits is not installed (pip install vietnamadminunits)")
    data = Path(spec.submodule_search_locations[0]) / "data"
    if not (data / "converter_2025.json").is_file() or not (data / "dataset.db").is_file():
        # Another release laid its files out otherwise: its own API, at its memory cost.
        from vietnamadminunits.converter.converter_2025 import converter_data
        from vietnamadminunits.database import query as package_query

        return converter_data, package_query
    converter = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))

    def query(sql: str) -> list[dict]:
        conn = sqlite3.connect(f"file:{data / 'dataset.db'}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql)]
        finally:
            conn.close()

    return converter, query


@cache
def gazetteer() -> Gazetteer:
    """The units of Vietnam before and after 1 July 2025, from ``vietnamadminunits``."""
    converter, query = _dataset()
    new_from_old = converter["DICT_PROVINCE"]  # new province key → old keys
    ward_parts = converter["DICT_PROVINCE_WARD_NO_DIVIDED"]  # new ward → the old ones it joined
    old_provinces = {
        r["provinceKey"]: r["provinceShort"]
        for r in query("select distinct provinceKey, provinceShort from admin_units_legacy")
    }
    new_provinces = {
        r["provinceKey"]: r["provinceShort"]
        for r in query("select distinct provinceKey, provinceShort from admin_units")
    }
    now_of = {
        old_provinces[old]: new_provinces[new]
        for new, olds in new_from_old.items()
        for old in olds
        if old in old_provinces and new in new_provinces
    }
    names: dict[str, dict[str, list[Place]]] = defaultdict(lambda: defaultdict(list))
    seen: set[tuple] = set()

    def add(place: Place) -> None:
        key = (place.name, place.level, place.province, place.province_now, place.district)
        if place.name and key not in seen:
            seen.add(key)
            names[place.name][place.level].append(place)

    for name, now in now_of.items():
        add(Place(name, "province", name, now))
    legacy = query(
        "select provinceShort, districtShort, districtType, wardShort, wardType "
        "from admin_units_legacy"
    )
    for r in legacy:
        province = r["provinceShort"]
        now = now_of.get(province)
        add(Place(r["districtShort"], "district", province, now, kind=r["districtType"]))
        if r["wardShort"]:
            add(Place(r["wardShort"], "commune", province, now, r["districtShort"], r["wardType"]))
    # Communes made in 2025: their province before is the one all their parts came from.
    legacy_communes = {(p.name, p.province_now) for v in names.values() for p in v["commune"]}
    for r in query(
        "select provinceKey, provinceShort, wardKey, wardShort, wardType from admin_units"
    ):
        if (r["wardShort"], r["provinceShort"]) in legacy_communes:
            continue  # the same commune kept its name: the older record knows its district
        parts = ward_parts.get(r["provinceKey"], {}).get(r["wardKey"], [])
        before = {old_provinces.get(p.split("_")[0]) for p in parts}
        province = before.pop() if len(before) == 1 else None
        add(Place(r["wardShort"], "commune", province, r["provinceShort"], kind=r["wardType"]))
    frozen = {name: dict(levels) for name, levels in names.items()}
    return Gazetteer(frozen, now_of)


@dataclass
class Mention:
    name: str
    level: str | None  # from a kind word, else None (bare)
    candidates: list[Place]


def mentions(text: str, gaz: Gazetteer) -> list[Mention]:
    """Every run of capitalised words in ``text`` that names a unit, longest name first."""
    tokens = [(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    found: list[Mention] = []
    i = 0
    while i < len(tokens):
        level, start = _kind_before(text, tokens, i)
        best = None
        for size in range(min(MAX_NAME_WORDS, len(tokens) - start), 1, -1):
            run = tokens[start : start + size]
            if not _capitalised_run(text, run):
                continue
            name = " ".join(t[0] for t in run)
            if level is None and name in NEEDS_KIND:
                continue
            places = gaz.candidates(name, level)
            if level == "district" and not places:
                places = gaz.candidates(name, "province")  # "thành phố Cần Thơ"
            if places:
                best = (Mention(name, level, places), start + size)
                break
        if best:
            found.append(best[0])
            i = best[1]
        else:
            i = max(i + 1, start)
    return found


def _kind_before(text: str, tokens: list, i: int) -> tuple[str | None, int]:
    """(level, index of the name's first word) when tokens[i:] start with a kind word."""
    for words in (2, 1):
        if i + words >= len(tokens):
            continue
        run = tokens[i : i + words]
        if words == 2 and text[run[0][2] : run[1][1]] != " ":
            continue
        kind = " ".join(t[0] for t in run).lower()
        if kind in KIND_WORDS and text[run[-1][2] : tokens[i + words][1]] in (" ", ". "):
            return KIND_WORDS[kind], i + words
    return None, i


def _capitalised_run(text: str, run: list) -> bool:
    """Words that each start with a capital, separated by one space each."""
    if not all(word[0].isupper() and not word.isdigit() for word, _, _ in run):
        return False
    return all(text[a[2] : b[1]] == " " for a, b in zip(run, run[1:], strict=False))


def tag_places(text: str | None, province: str | None = None) -> list[Place]:
    """The places ``text`` names, each once, in order of first mention.

    ``province`` is the paper's province (before 2025); it settles names several
    provinces share, with the provinces of the places named without ambiguity.
    """
    if not text:
        return []
    gaz = gazetteer()
    found = mentions(text, gaz)
    context: Counter = Counter()
    for mention in found:
        homes = {p.province_now for p in mention.candidates}
        if len(homes) == 1:
            context[homes.pop()] += 1
    districts = {
        p.name
        for m in found
        if len(m.candidates) == 1
        for p in m.candidates
        if p.level == "district"
    }
    paper_now = gaz.province_now.get(province or "")
    places: dict[tuple, Place] = {}
    for mention in found:
        place = _resolve(mention.candidates, province, paper_now, context, districts)
        if place is not None:
            places.setdefault((place.name, place.level, place.province_now), place)
    return list(places.values())


def _resolve(
    candidates: list[Place],
    province: str | None,
    province_now: str | None,
    context: Counter,
    districts: set[str],
) -> Place | None:
    """The one candidate the evidence favours, or None when it cannot tell."""
    if len(candidates) == 1:
        return candidates[0]

    def score(place: Place) -> int:
        points = 3 * bool(province and place.province == province)
        points += 2 * bool(province_now and place.province_now == province_now)
        points += (
            2 * context[place.province_now] if len({p.province_now for p in candidates}) > 1 else 0
        )
        points += 2 * bool(place.district and place.district in districts)
        return points

    scored = sorted(((score(p), p) for p in candidates), key=lambda s: -s[0])
    if scored[0][0] == 0 or scored[0][0] == scored[1][0]:
        return None
    return scored[0][1]


def article_text(title: str | None, lead: str | None, body: str | None) -> str:
    """The text places are read from: title, lead and body, one paragraph each."""
    return "\n\n".join(part for part in (title, lead, body) if part)
