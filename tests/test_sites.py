"""Every registered newspaper: one realistic article page in its own markup, and the
registry's invariants (names, domains, mergers, the `vnnews sites` listing).

Fixtures live in ``tests/fixtures/sites/<site-name>/<slug>.html`` with the expected
record beside it in ``<slug>.json`` (same keys and meaning as
``tests/fixtures/pages/README.md``, with ``"profile": "<site-name>"``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from archive.extract import article_verdict, extract
from archive.quality import FIELDS, normalise
from archive.sites import SITES, SiteProfile, registry, site_for_url
from archive.urls import host_of

REPO = Path(__file__).resolve().parent.parent
SITE_PAGES = Path(__file__).parent / "fixtures" / "sites"
CASES = sorted(SITE_PAGES.glob("*/*.json"))

# Pages whose expected record is right and the extractor is wrong: strict, so that a
# fix turns them into failures here until the mark is removed.
EXTRACTOR_BUGS: dict[str, str] = {}
# Registry gaps, listed by name so that a new site with the same gap fails and a fixed
# one turns into a strict XPASS until it is taken off the list.
# Profiles whose article URLs nobody has seen: `is_article_url` answers None for them.
NO_ARTICLE_URL_RULE: dict[str, str] = {}
# Profiles with neither a family nor a note.
NO_FAMILY_OR_NOTE: dict[str, str] = {}


def case_id(case: Path) -> str:
    return f"{case.parent.name}/{case.stem}"


def load(case: Path) -> tuple[bytes, dict]:
    """A site's page and its record; a record may reuse a golden page ("page": path
    under tests/fixtures) when the paper's layout is one the golden pages already show."""
    record = json.loads(case.read_text(encoding="utf-8"))
    page = SITE_PAGES.parent / record["page"] if "page" in record else case.with_suffix(".html")
    return page.read_bytes(), record


def record(article) -> dict:
    data = article.to_dict()
    return {f: normalise(data[f]) for f in FIELDS}


def marked(cases: list[Path], known: dict[str, str], key=case_id) -> list:
    return [
        pytest.param(c, id=case_id(c), marks=pytest.mark.xfail(strict=True, reason=known[key(c)]))
        if key(c) in known
        else pytest.param(c, id=case_id(c))
        for c in cases
    ]


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def visible_text(html: bytes) -> str:
    """The page as a reader sees it: entities decoded, NFC, whitespace collapsed."""
    tree = lxml.html.document_fromstring(html.decode("utf-8"))
    for el in tree.xpath("//head|//script|//style|//noscript"):
        el.drop_tree()
    return collapse(tree.text_content())


# ---------------------------------------------------------------- fixture pages


@pytest.mark.parametrize("case", marked(CASES, EXTRACTOR_BUGS))
def test_site_page(case: Path):
    html, want = load(case)
    profile = SITES[want["profile"]]
    article = extract(html, want["url"], profile)
    assert record(article) == {f: normalise(want[f]) for f in FIELDS}
    assert article_verdict(article, profile) == (True, "article")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_site_page_url_belongs_to_its_site(case: Path):
    _, want = load(case)
    profile = SITES[want["profile"]]
    url = want["url"]
    assert want["profile"] == case.parent.name
    assert profile.owns(url)
    assert site_for_url(url) is profile
    assert profile.is_article_url(url) is not False  # never rejected by its own site


@pytest.mark.parametrize("case", marked(CASES, NO_ARTICLE_URL_RULE, key=lambda c: c.parent.name))
def test_site_page_url_is_an_article_url(case: Path):
    _, want = load(case)
    assert SITES[want["profile"]].is_article_url(want["url"]) is True


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_expected_record_is_in_the_page(case: Path):
    """The JSON was written by reading the page: every value is there, body in order."""
    html, want = load(case)
    assert set(want) - {"page"} == {"url", "profile", *FIELDS}
    text = visible_text(html)
    for field in ("title", "lead", "author", "category"):
        if want[field] is not None:
            assert collapse(want[field]) in text, field
    for tag in want["tags"]:
        assert collapse(tag) in text, tag
    position = text.find(collapse(want["title"]))
    for paragraph in (want["body"] or "").split("\n\n"):
        found = text.find(collapse(paragraph), position)
        assert found >= 0, paragraph
        position = found
    assert unicodedata.is_normalized("NFC", json.dumps(want, ensure_ascii=False))


def test_every_registered_site_has_a_page():
    with_pages = {c.parent.name for c in CASES}
    assert with_pages == set(SITES)


# ---------------------------------------------------------------- registry invariants


def test_site_names_are_unique():
    """SITES is built by `registry`, which refuses a name used twice."""
    profile = SITES["baocaobang"]
    with pytest.raises(ValueError, match="registered twice: baocaobang"):
        registry([profile, SITES["baolaocai"], profile])
    assert all(key == profile.name for key, profile in SITES.items())


@pytest.mark.parametrize("name", list(SITES))
def test_site_basics(name: str):
    profile = SITES[name]
    assert isinstance(profile, SiteProfile) and not profile.generic
    assert profile.title.strip()
    assert profile.domains and all(d == d.lower().strip() and "/" not in d for d in profile.domains)
    assert urlsplit(profile.homepage).scheme == "https"
    assert host_of(profile.homepage) in profile.domains
    assert profile.status in ("active", "merged", "stopped")
    assert isinstance(profile.unverified, tuple)
    assert all(isinstance(u, str) and u.strip() for u in profile.unverified)
    assert len(set(profile.unverified)) == len(profile.unverified)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=NO_FAMILY_OR_NOTE[n]))
        if n in NO_FAMILY_OR_NOTE
        else n
        for n in SITES
    ],
)
def test_site_has_a_family_or_a_note(name: str):
    profile = SITES[name]
    assert profile.family in ("A", "B", "C", "D", "E") or profile.note


@pytest.mark.parametrize("name", list(SITES))
def test_merged_site_points_at_a_registered_site(name: str):
    profile = SITES[name]
    if profile.status != "merged":
        assert profile.merged_into is None
        return
    assert profile.merged_into in SITES
    assert profile.merged_into != name
    assert SITES[profile.merged_into].status == "active"


def test_no_two_sites_share_a_domain():
    owner: dict[str, str] = {}
    for profile in SITES.values():
        for domain in profile.domains:
            assert domain not in owner, f"{domain}: {owner.get(domain)} and {profile.name}"
            owner[domain] = profile.name
    # `owns` also accepts subdomains: no domain may sit under another site's domain.
    for domain, name in owner.items():
        for other, other_name in owner.items():
            if other_name != name:
                assert not domain.endswith("." + other), f"{domain} ({name}) under {other}"


@pytest.mark.parametrize(
    "host,name",
    [(d, p.name) for p in SITES.values() for d in p.domains],
)
@pytest.mark.parametrize("prefix", ["", "www.", "m."])
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_site_for_url_finds_every_domain(host: str, name: str, prefix: str, scheme: str):
    url = f"{scheme}://{prefix}{host}/some-article-12345.html"
    found = site_for_url(url)
    assert found is not None and found.name == name
    assert site_for_url(f"{scheme}://{prefix}{host.upper()}/") is found
    assert site_for_url(f"{scheme}://not-{host}/") is None


def vnnews() -> Path:
    for candidate in (REPO / ".venv" / "bin" / "vnnews", Path(sys.executable).parent / "vnnews"):
        if candidate.exists():
            return candidate
    pytest.skip("the vnnews console script is not installed")


def test_cli_sites_json_lists_every_site(tmp_path: Path):
    done = subprocess.run(
        [str(vnnews()), "sites", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["name"] for r in rows] == list(SITES)
    for row in rows:
        profile = SITES[row["name"]]
        assert row["title"] == profile.title
        assert row["family"] == profile.family
        assert row["status"] == profile.status
        assert row["merged_into"] == profile.merged_into
        assert row["domains"] == list(profile.domains)
        assert row["unverified"] == list(profile.unverified)
