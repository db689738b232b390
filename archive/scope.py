"""Which URLs a crawl of one paper may follow, and at which address to fetch them.

A registered paper owns every domain it has used; a site with no profile is confined to
the start URL's host and port. On a mirror (``--base-url``), links to the paper's real
domains are fetched from the mirror instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from archive.sites import SITES, SiteProfile, resolve_target
from archive.urls import canonicalize, host_of, is_crawlable


@dataclass(frozen=True)
class Scope:
    profile: SiteProfile
    start_url: str  # where the crawl begins: the target URL, or the profile's home page
    mirror: str | None = None  # base URL of a copy of the site (--base-url), no trailing /

    @classmethod
    def for_target(cls, target: str, base_url: str | None = None) -> Scope:
        """The scope of `vnnews crawl TARGET [--base-url URL]`."""
        profile = resolve_target(target, base_url)
        is_url = target.startswith(("http://", "https://"))
        start_url = target if is_url and not base_url else profile.homepage
        return cls(profile, start_url, base_url.rstrip("/") if base_url else None)

    @classmethod
    def of(cls, profile: SiteProfile) -> Scope:
        """A profile's own scope: its domains, from its home page, no mirror."""
        return cls(profile, profile.homepage)

    def owns(self, url: str) -> bool:
        """Whether a URL belongs to the crawled site."""
        if self.profile.generic:  # confined to the start URL's host (www. or not) and port
            start = urlsplit(self.start_url)
            return host_of(url) == host_of(self.start_url) and urlsplit(url).port == start.port
        return self.profile.owns(url)

    def fetch_url(self, url: str) -> str:
        """On a mirror, links to the paper's real domains go to the mirror."""
        if not self.mirror:
            return url
        parts = urlsplit(url)
        mirror = urlsplit(self.mirror)
        if parts.netloc != mirror.netloc and self.profile.owns(url):
            return urlunsplit((mirror.scheme, mirror.netloc, parts.path, parts.query, ""))
        return url

    @property
    def paper(self) -> SiteProfile:
        """The paper's own profile, without the mirror (its real home page and domains)."""
        return SITES.get(self.profile.name, self.profile) if self.mirror else self.profile

    def paper_url(self, url: str) -> str:
        """The paper's own address of a URL fetched from a mirror: the archive keys an
        article on it, so a crawl of the same mirror at another address (another port)
        finds the same rows. Other URLs are returned unchanged."""
        if not self.mirror or self.profile.generic:
            return url
        parts, mirror = urlsplit(url), urlsplit(self.mirror)
        if parts.netloc != mirror.netloc:
            return url
        home = urlsplit(self.paper.homepage)
        return urlunsplit((home.scheme, home.netloc, parts.path, parts.query, ""))

    def links(self, hrefs: list[str], base_url: str) -> list[str]:
        """The site's own crawlable URLs among a page's links, canonical, in fetch
        form, once each, in page order."""
        urls = [canonicalize(urljoin(base_url, href)) for href in hrefs]
        urls = [self.fetch_url(u) for u in urls if is_crawlable(u)]
        return [u for u in dict.fromkeys(urls) if self.owns(u)]
