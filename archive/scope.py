"""Which URLs a crawl of one paper may follow, and at which address to fetch them.

A crawl fetches only its paper's origins, port included:
- a URL target with no profile: the URL's host (www./m. variants too) on the URL's port;
- a registered paper: every domain it has used, on the default ports (80, 443);
- a mirror (``--base-url``): the mirror's host and port; links to the paper's real
  domains are fetched from the mirror instead.
What a site points to elsewhere (a redirect, a meta refresh, a ``Sitemap:`` line, a
sitemap child, a feed or a listing link) is not fetched, whatever host or port it names:
``allows`` is asked before every request, and again for every redirect hop
(crawler/middlewares.py). Only what the operator named (the target, the mirror, the
registry's own feeds and listings) starts a crawl.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from archive.sites import SITES, SiteProfile, resolve_target
from archive.urls import canonicalize, host_of, is_crawlable


def port_of(url: str) -> int | None:
    """The URL's port, None for the scheme's default (or an unreadable port)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return -1  # never equal to a real port: such a URL belongs to no one
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return None if port == default else port


def same_origin(url: str, base: str) -> bool:
    """Same host (www./m./amp. variants alike) and same port; http and https alike,
    since sites move from one to the other on the same port."""
    return host_of(url) == host_of(base) and port_of(url) == port_of(base)


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
        """Whether a URL belongs to the crawled site: one of its origins, port included."""
        if urlsplit(url).scheme not in ("http", "https"):
            return False
        if self.profile.generic:  # the start URL's host (www. or not) and port
            return same_origin(url, self.start_url)
        if self.mirror and host_of(url) == host_of(self.mirror):
            return port_of(url) == port_of(self.mirror)
        return self.profile.owns(url) and port_of(url) is None

    def allows(self, url: str) -> bool:
        """Whether a crawl of this site may request a URL (in fetch form) that a page,
        a feed, a sitemap, robots.txt or a redirect pointed to."""
        return self.owns(url) and (not self.mirror or same_origin(url, self.mirror))

    def fetch_url(self, url: str) -> str:
        """On a mirror, links to the paper's real domains go to the mirror."""
        if not self.mirror:
            return url
        parts = urlsplit(url)
        mirror = urlsplit(self.mirror)
        if parts.netloc != mirror.netloc and self.owns(url):
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
        return [u for u in dict.fromkeys(urls) if self.allows(u)]
