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
from archive.sites import (
    FAMILIES,
    PROVINCES,
    PROVINCES_NOW,
    SITES,
    RegistryError,
    SiteProfile,
    load_registry,
    registry,
    site_for_url,
)
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


def test_every_site_with_markup_rules_has_a_page():
    """A profile that claims to know a paper's markup or URLs (a family, selectors, an
    article-URL rule) shows it on a page; papers without such rules go through the
    generic path, which the golden pages of tests/fixtures/pages measure."""
    with_pages = {c.parent.name for c in CASES}
    claims = {n for n, p in SITES.items() if p.family or p.selectors or p.article_url}
    assert claims <= with_pages
    assert with_pages <= set(SITES)
    assert {SITES[n].family for n in with_pages} >= set(FAMILIES)


# ---------------------------------------------------------------- registry invariants


def test_site_names_are_unique():
    """SITES is built by `registry`, which refuses a name used twice."""
    profile = SITES["baocaobang"]
    with pytest.raises(RegistryError, match="registered twice: baocaobang"):
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
    """Rules of the paper's own (selectors, article URLs) come from a family or are
    explained in a note."""
    profile = SITES[name]
    if profile.selectors or profile.article_url:
        assert profile.family in FAMILIES or profile.note


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
        assert row["province"] == profile.province
        assert row["province_now"] == PROVINCES[profile.province]
    # What the issue asks of the listing: every former province has its paper, every
    # province of today its outlet, every merged paper the outlet it went into.
    assert {r["province"] for r in rows} == set(PROVINCES) and len(PROVINCES) == 63
    current = [r for r in rows if r["status"] == "active"]
    assert sorted(r["province_now"] for r in current) == sorted(PROVINCES_NOW)
    assert len(PROVINCES_NOW) == 34
    by_name = {r["name"]: r for r in rows}
    for row in rows:
        if row["status"] == "merged":
            outlet = by_name[row["merged_into"]]
            assert outlet["status"] == "active" and row["name"] in outlet["merged_from"]
            assert outlet["province_now"] == row["province_now"]


def test_text_listing_groups_papers_by_todays_province(tmp_path: Path):
    done = subprocess.run(
        [str(vnnews()), "sites"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    heading = lines.index("Tuyên Quang  (since 2025: Hà Giang + Tuyên Quang)")
    assert lines[heading + 1].split()[0] == "baotuyenquang"
    assert lines[heading + 2].startswith("    baohagiang ")
    assert "merged → baotuyenquang" in lines[heading + 2]


# ---------------------------------------------------------------- the 2025 merger

# Resolution 202/2025/QH15: the provinces that became one (today's name first).
MERGERS = {
    "Tuyên Quang": {"Hà Giang", "Tuyên Quang"},
    "Lào Cai": {"Yên Bái", "Lào Cai"},
    "Thái Nguyên": {"Bắc Kạn", "Thái Nguyên"},
    "Phú Thọ": {"Vĩnh Phúc", "Hòa Bình", "Phú Thọ"},
    "Bắc Ninh": {"Bắc Giang", "Bắc Ninh"},
    "Hưng Yên": {"Thái Bình", "Hưng Yên"},
    "Hải Phòng": {"Hải Dương", "Hải Phòng"},
    "Ninh Bình": {"Hà Nam", "Nam Định", "Ninh Bình"},
    "Quảng Trị": {"Quảng Bình", "Quảng Trị"},
    "Đà Nẵng": {"Quảng Nam", "Đà Nẵng"},
    "Quảng Ngãi": {"Kon Tum", "Quảng Ngãi"},
    "Gia Lai": {"Bình Định", "Gia Lai"},
    "Khánh Hòa": {"Ninh Thuận", "Khánh Hòa"},
    "Lâm Đồng": {"Đắk Nông", "Bình Thuận", "Lâm Đồng"},
    "Đắk Lắk": {"Phú Yên", "Đắk Lắk"},
    "Hồ Chí Minh": {"Bình Dương", "Bà Rịa - Vũng Tàu", "Hồ Chí Minh"},
    "Đồng Nai": {"Bình Phước", "Đồng Nai"},
    "Tây Ninh": {"Long An", "Tây Ninh"},
    "Cần Thơ": {"Sóc Trăng", "Hậu Giang", "Cần Thơ"},
    "Vĩnh Long": {"Bến Tre", "Trà Vinh", "Vĩnh Long"},
    "Đồng Tháp": {"Tiền Giang", "Đồng Tháp"},
    "Cà Mau": {"Bạc Liêu", "Cà Mau"},
    "An Giang": {"Kiên Giang", "An Giang"},
}
UNCHANGED = {"Hà Nội", "Cao Bằng", "Điện Biên", "Lai Châu", "Sơn La", "Lạng Sơn"}
UNCHANGED |= {"Quảng Ninh", "Thanh Hóa", "Nghệ An", "Hà Tĩnh"}


def test_province_table_is_the_2025_merger():
    merged = {now: {old for old, new in PROVINCES.items() if new == now} for now in PROVINCES_NOW}
    assert {k: v for k, v in merged.items() if len(v) > 1} == MERGERS
    singles = {k for k, v in merged.items() if len(v) == 1}
    assert singles == UNCHANGED | {"Huế"} and merged["Huế"] == {"Thừa Thiên Huế"}
    assert all(unicodedata.is_normalized("NFC", name) for name in [*PROVINCES, *PROVINCES_NOW])


def test_each_province_has_one_outlet_and_merged_papers_point_at_it():
    outlets = {}
    for profile in SITES.values():
        assert profile.province_now == PROVINCES[profile.province]
        if profile.status == "active":
            assert profile.province_now not in outlets, profile.name
            outlets[profile.province_now] = profile.name
    assert set(outlets) == set(PROVINCES_NOW)
    for profile in SITES.values():
        if profile.status == "merged":
            assert profile.merged_into == outlets[profile.province_now], profile.name
            assert "site still online" in profile.unverified


# ---------------------------------------------------------------- validation


def write_registry(tmp_path: Path, papers: str) -> Path:
    """A registry file with the real families and provinces and the given papers."""
    real = (REPO / "archive" / "papers.toml").read_text(encoding="utf-8")
    head = real[: real.index("\n[[paper]]\n")]
    path = tmp_path / "papers.toml"
    path.write_text(head + papers, encoding="utf-8")
    return path


GOOD = """
[[paper]]
name = "baocaobang"
title = "Báo Cao Bằng"
province = "Cao Bằng"
domains = ["baocaobang.vn"]
family = "A"
"""


def test_a_good_registry_file_loads(tmp_path: Path):
    sites = load_registry(write_registry(tmp_path, GOOD))
    assert list(sites) == ["baocaobang"]
    assert sites["baocaobang"].selectors == SITES["baocaobang"].selectors
    assert sites["baocaobang"].feeds == ("/rss/home.rss",)


@pytest.mark.parametrize(
    "papers,message",
    [
        (
            GOOD + GOOD.replace('name = "baocaobang"', 'name = "caobang2"'),
            "domain baocaobang.vn registered twice: baocaobang and caobang2",
        ),
        (
            GOOD + GOOD.replace('name = "baocaobang"', 'name = "x"').replace(
                '["baocaobang.vn"]', '["m.baocaobang.vn"]'
            ),
            "domain m.baocaobang.vn (x) sits under baocaobang.vn",
        ),
        (
            GOOD.replace('family = "A"', 'status = "merged"\nmerged_into = "baocaobangg"'),
            "merged_into 'baocaobangg' is not a registered site",
        ),
        (GOOD.replace('family = "A"', 'status = "merged"'), "goes with merged_into"),
        (GOOD.replace('family = "A"', 'family = "Z"'), "unknown family 'Z'"),
        (GOOD.replace('"Cao Bằng"', '"Cao Bang"'), "unknown province 'Cao Bang'"),
        (GOOD.replace('family = "A"', "article_url = '-(\\d+.html$'"), "does not compile"),
        (GOOD.replace('family = "A"', 'familly = "A"'), "unknown keys familly"),
        (GOOD + GOOD, "site names registered twice: baocaobang"),
    ],
    ids=["duplicate-domain", "nested-domain", "dangling-merged-into", "merged-without-outlet",
         "unknown-family", "unknown-province", "bad-regex", "typo", "duplicate-name"],
)  # fmt: skip
def test_registry_validation_fails_loudly(tmp_path: Path, papers: str, message: str):
    with pytest.raises(RegistryError) as caught:
        load_registry(write_registry(tmp_path, papers))
    assert message in str(caught.value)


def test_a_broken_registry_stops_the_import(tmp_path: Path):
    """The packaged file is checked when archive.sites is imported: a mistake there
    stops every command, it does not drop a paper silently."""
    bad = GOOD + GOOD.replace('name = "baocaobang"', 'name = "other"')
    package = tmp_path / "archive"
    package.mkdir()
    for source in (REPO / "archive").glob("*.py"):
        (package / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    write_registry(package, bad)
    done = subprocess.run(
        [sys.executable, "-c", "import archive.sites"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "RegistryError" in done.stderr and "baocaobang.vn registered twice" in done.stderr


def test_sites_with_db_adds_counts_and_last_crawl(tmp_path: Path):
    from archive import store
    from archive.models import Article

    db = store.open_db(tmp_path / "archive.db")
    store.save_article(
        db,
        Article(url="https://baohagiang.vn/a/202401/bai-1/", site="baohagiang", title="Bài",
                body="Nội dung. " * 20, published_at="2024-01-05T08:00:00+07:00"),
    )  # fmt: skip
    crawl_id = store.start_crawl(db, "baohagiang")
    store.finish_crawl(db, crawl_id, "ok", {"new": 1})
    db.close()
    args = [str(vnnews()), "sites", "--db", str(tmp_path / "archive.db")]
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    hagiang = rows["baohagiang"]
    assert (hagiang["articles"], hagiang["latest"]) == (1, "2024-01-05T08:00:00+07:00")
    assert hagiang["last_crawl"]["status"] == "ok" and hagiang["last_crawl"]["new"] == 1
    assert (rows["baocaobang"]["articles"], rows["baocaobang"]["last_crawl"]) == (0, None)
    text = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    line = next(x for x in text.splitlines() if x.strip().startswith("baohagiang "))
    assert "[1 articles, latest 2024-01-05T08:00:00+07:00, last crawl " in line
    assert line.rstrip().endswith(" ok]")
