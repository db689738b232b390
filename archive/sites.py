"""The registry of newspapers: each site is data, not code.

The papers are declared in ``archive/papers.toml`` (the 63 provincial papers of
before the 2025 merger and the outlets of today's 34 provinces), loaded and checked
here when the module is imported: a name or a domain registered twice, an article-URL
rule that does not compile, an unknown family or province, a ``merged_into`` that
names no registered outlet, each stops the import with every mistake listed.

A profile says where a paper lives (every domain it has used), where to start
(feeds, sitemaps, listing pages, JSON listing endpoints), which URLs are articles,
and, only where the generic extractor gets a field wrong, a CSS selector for it.
Any URL without a profile goes through the same path with ``generic_profile``.

Facts that nobody here has seen work against the live site are listed in
``unverified`` so operators know what to check first when a site yields nothing.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from archive.urls import host_of

VN_TZ = "Asia/Ho_Chi_Minh"
STATUSES = ("active", "merged", "stopped")


class RegistryError(ValueError):
    """The registry data is wrong; the message lists every mistake found."""


@dataclass(frozen=True)
class JsonListing:
    """A listing that pages through a JSON endpoint (links at ``data[].link``)."""

    url: str  # with a `{page}` placeholder, relative to the site's homepage
    first_page: int = 1
    links_key: str = "data"
    link_field: str = "link"


@dataclass(frozen=True)
class SiteProfile:
    name: str
    title: str
    homepage: str
    domains: tuple[str, ...] = ()
    province: str | None = None  # the province it served before 1 July 2025
    family: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    json_listings: tuple[JsonListing, ...] = ()
    article_url: str | None = None  # regex on the URL path; None = generic guess
    selectors: dict[str, str] = field(default_factory=dict)  # field -> CSS selector
    lead_code: str | None = None  # e.g. "CBO" for "CBO - " at the start of leads
    timezone: str = VN_TZ
    status: str = "active"  # active | merged | stopped
    merged_into: str | None = None
    unverified: tuple[str, ...] = ()
    note: str | None = None  # what an operator should know (layout, robots.txt, history)
    scheduled: bool = True  # crawled by `vnnews crawl --all`
    generic: bool = False
    former_title: str | None = None  # the paper's name before the 2025 merger, if it changed
    province_now: str | None = None  # the province it belongs to since 1 July 2025

    def owns(self, url: str) -> bool:
        """Whether a URL belongs to this paper (any of the domains it has used)."""
        host = host_of(url)
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def fold_alias(self, url: str) -> str:
        """One URL per article across host aliases: www./m. variants of a paper's own
        domains are stored under the bare domain. (Old domains keep their URLs: their
        paths differ, but the article stays under this paper's name.)"""
        if self.generic:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        bare = host_of(url)
        if bare in self.domains and not parts.port:
            # The papers are served over https; an http:// link is the same article.
            return parts._replace(scheme="https", netloc=bare).geturl()
        if host != bare and bare in self.domains:
            netloc = bare + (f":{parts.port}" if parts.port else "")
            return parts._replace(netloc=netloc).geturl()
        return url

    def is_article_url(self, url: str) -> bool | None:
        """True/False when the profile knows its article URLs, None when it does not."""
        if not self.article_url:
            return None
        return re.search(self.article_url, urlsplit(url).path) is not None


PAPERS_FILE = "papers.toml"
# Keys a [[paper]] may carry: the profile's fields the data can set.
PAPER_KEYS = frozenset(
    {"name", "title", "former_title", "province", "domains", "status", "merged_into", "family"}
    | {"feeds", "sitemaps", "listings", "json_listings", "article_url", "selectors"}
    | {"lead_code", "scheduled", "unverified", "note"}
)


@dataclass(frozen=True)
class Family:
    """What every paper of a site family has unless its entry says otherwise."""

    article_url: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)


def load_data(path: Path | None = None) -> dict:
    """The registry file as parsed TOML (the packaged ``papers.toml`` by default)."""
    if path is None:
        return tomllib.loads(resources.files("archive").joinpath(PAPERS_FILE).read_text("utf-8"))
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def load_registry(path: Path | None = None) -> dict[str, SiteProfile]:
    """Profiles by name from a registry file, checked (``RegistryError`` on mistakes)."""
    data = load_data(path)
    families = {k: Family(v.get("article_url"), dict(v.get("selectors", {})))
                for k, v in data.get("families", {}).items()}  # fmt: skip
    provinces = dict(data.get("provinces", {}))
    defaults = data.get("defaults", {})
    problems: list[str] = []
    profiles = []
    for n, entry in enumerate(data.get("paper", []), start=1):
        try:
            profiles.append(paper_profile(entry, families, provinces, defaults))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            problems.append(f"paper #{n} ({entry.get('name', '?')}): {exc}")
    if problems:
        raise RegistryError("registry file is wrong:\n  " + "\n  ".join(problems))
    return registry(profiles, provinces=provinces, families=families)


def paper_profile(entry: dict, families: dict[str, Family], provinces: dict[str, str],
                  defaults: dict) -> SiteProfile:  # fmt: skip
    """One [[paper]] as a profile: its family's article URLs and selectors, the default
    feeds, its first domain as the home page, and the province it belongs to now."""
    unknown = sorted(set(entry) - PAPER_KEYS)
    if unknown:
        raise ValueError(f"unknown keys {', '.join(unknown)}")
    family = families.get(entry.get("family") or "", Family())
    domains = tuple(entry["domains"])
    return SiteProfile(
        name=entry["name"],
        title=entry["title"],
        former_title=entry.get("former_title"),
        homepage=f"https://{domains[0]}/",
        domains=domains,
        province=entry.get("province"),
        province_now=provinces.get(entry.get("province") or ""),
        family=entry.get("family"),
        feeds=tuple(entry.get("feeds", defaults.get("feeds", ()))),
        sitemaps=tuple(entry.get("sitemaps", ())),
        listings=tuple(entry.get("listings", ())),
        json_listings=tuple(JsonListing(url) for url in entry.get("json_listings", ())),
        article_url=entry.get("article_url", family.article_url),
        selectors={**family.selectors, **entry.get("selectors", {})},
        lead_code=entry.get("lead_code"),
        status=entry.get("status", "active"),
        merged_into=entry.get("merged_into"),
        unverified=tuple(entry.get("unverified", ())),
        note=entry.get("note"),
        scheduled=entry.get("scheduled", True),
    )


def registry(
    profiles: list[SiteProfile],
    provinces: dict[str, str] | None = None,
    families: dict[str, Family] | None = None,
) -> dict[str, SiteProfile]:
    """Profiles by name, after checking them all; ``RegistryError`` lists every mistake
    (a name used twice would drop a paper, a domain used twice would file one paper's
    articles under another, a dangling merged_into would lose a merger's history)."""
    problems = registry_problems(profiles, provinces, families)
    if problems:
        raise RegistryError("registry is wrong:\n  " + "\n  ".join(problems))
    return {p.name: p for p in profiles}


def registry_problems(
    profiles: list[SiteProfile],
    provinces: dict[str, str] | None = None,
    families: dict[str, Family] | None = None,
) -> list[str]:
    """Every mistake in a list of profiles, as sentences (empty when all is well)."""
    problems = []
    names = [p.name for p in profiles]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"site names registered twice: {', '.join(duplicates)}")
    problems += domain_problems(profiles)
    by_name = {p.name: p for p in profiles}
    for p in profiles:
        problems += [f"{p.name}: {problem}" for problem in profile_problems(p, provinces, families)]
        if p.merged_into is not None and p.merged_into not in by_name:
            problems.append(f"{p.name}: merged_into {p.merged_into!r} is not a registered site")
        elif p.merged_into is not None and by_name[p.merged_into].status != "active":
            problems.append(f"{p.name}: merged_into {p.merged_into!r}, which is not active")
    return problems


def domain_problems(profiles: list[SiteProfile]) -> list[str]:
    """A domain may belong to one paper only, and never sit under another paper's domain
    (``owns`` accepts subdomains)."""
    owner: dict[str, str] = {}
    problems = []
    for p in profiles:
        for domain in p.domains:
            if domain in owner and owner[domain] != p.name:
                problems.append(f"domain {domain} registered twice: {owner[domain]} and {p.name}")
            owner.setdefault(domain, p.name)
    for domain, name in owner.items():
        for other, other_name in owner.items():
            if other_name != name and domain.endswith("." + other):
                problems.append(f"domain {domain} ({name}) sits under {other} ({other_name})")
    return problems


def profile_problems(
    p: SiteProfile, provinces: dict[str, str] | None, families: dict[str, Family] | None
) -> list[str]:
    problems = []
    if not p.title.strip():
        problems.append("no title")
    if not p.domains:
        problems.append("no domains")
    for domain in p.domains:
        if domain != domain.strip().lower() or "/" in domain or "." not in domain:
            problems.append(f"domain {domain!r} is not a bare lower-case host name")
    if p.domains and host_of(p.homepage) not in p.domains:
        problems.append(f"home page {p.homepage} is on none of its domains")
    if p.status not in STATUSES:
        problems.append(f"status {p.status!r} is not one of {', '.join(STATUSES)}")
    if (p.status == "merged") != (p.merged_into is not None):
        problems.append("status 'merged' goes with merged_into, and only with it")
    if p.merged_into == p.name:
        problems.append("merged into itself")
    if p.article_url is not None:
        try:
            re.compile(p.article_url)
        except re.error as exc:
            problems.append(f"article_url {p.article_url!r} does not compile: {exc}")
    if families is not None and p.family is not None and p.family not in families:
        problems.append(f"unknown family {p.family!r} (known: {', '.join(sorted(families))})")
    if provinces is not None and p.province not in provinces:
        problems.append(f"unknown province {p.province!r} (see [provinces])")
    for listing in p.json_listings:
        if "{page}" not in listing.url:
            problems.append(f"json listing {listing.url!r} has no {{page}} placeholder")
    if len(set(p.unverified)) != len(p.unverified) or not all(u.strip() for u in p.unverified):
        problems.append("unverified lists a fact twice, or an empty one")
    return problems


_DATA = load_data()
PROVINCES: dict[str, str] = dict(_DATA["provinces"])
"""The 63 provinces before 1 July 2025 → the province each belongs to now."""
PROVINCES_NOW: tuple[str, ...] = tuple(dict.fromkeys(PROVINCES.values()))
"""Today's 34 provinces."""
FAMILIES: dict[str, Family] = {
    k: Family(v.get("article_url"), dict(v.get("selectors", {})))
    for k, v in _DATA["families"].items()
}
SITES: dict[str, SiteProfile] = load_registry()


def get_site(name: str) -> SiteProfile:
    """A registered profile by name, with a helpful error listing the known names."""
    try:
        return SITES[name]
    except KeyError:
        known = ", ".join(sorted(SITES))
        raise KeyError(f"unknown site {name!r}; registered sites: {known}") from None


def site_for_url(url: str) -> SiteProfile | None:
    """The registered paper that owns a URL, if any (old domains included)."""
    for profile in SITES.values():
        if profile.owns(url):
            return profile
    return None


def generic_profile(url: str) -> SiteProfile:
    """A profile for a site with no registry entry: confined to the URL's host."""
    parts = urlsplit(url)
    host = host_of(url)
    homepage = f"{parts.scheme}://{parts.netloc}/"
    return SiteProfile(
        name=generic_name(url), title=host, homepage=homepage, domains=(host,), generic=True
    )


def generic_name(url: str) -> str:
    """A site without a profile is named by its origin: the host (www./m. folded), and
    the port when it is not the scheme's default, since two sites on one host with
    different ports are two sites (their feeds and articles must not mix)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port
    return host_of(url) + (f":{port}" if port and port != default else "")


def with_base_url(profile: SiteProfile, base_url: str) -> SiteProfile:
    """The same profile run against a mirror at another address (e.g. a local copy)."""
    host = host_of(base_url)
    base = base_url if base_url.endswith("/") else base_url + "/"
    return replace(profile, homepage=base, domains=(host, *profile.domains))


def resolve_target(target: str, base_url: str | None = None) -> SiteProfile:
    """Turn a CLI target (a site name or an http(s) URL) into a profile."""
    if target.startswith(("http://", "https://")):
        profile = site_for_url(target) or generic_profile(target)
        if profile.generic:
            return profile
        return with_base_url(profile, base_url) if base_url else profile
    profile = get_site(target)
    return with_base_url(profile, base_url) if base_url else profile
