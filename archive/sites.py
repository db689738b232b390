"""The registry of newspapers: each site is data, not code.

A profile says where a paper lives (every domain it has used), where to start
(feeds, sitemaps, listing pages, JSON listing endpoints), which URLs are articles,
and, only where the generic extractor gets a field wrong, a CSS selector for it.
Any URL without a profile goes through the same path with ``generic_profile``.

Facts that nobody here has seen work against the live site are listed in
``unverified`` so operators know what to check first when a site yields nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from archive.urls import host_of

VN_TZ = "Asia/Ho_Chi_Minh"


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
    province: str | None = None
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
        if host != bare and bare in self.domains:
            netloc = bare + (f":{parts.port}" if parts.port else "")
            return parts._replace(netloc=netloc).geturl()
        return url

    def is_article_url(self, url: str) -> bool | None:
        """True/False when the profile knows its article URLs, None when it does not."""
        if not self.article_url:
            return None
        return re.search(self.article_url, urlsplit(url).path) is not None


FAMILY_A_SELECTORS = {
    "title": "h1.name",
    "date": "div.date",
    "body": "#content-detail, div.detail",
    "author": "div.pseudonym",
    "category": "div.breadcrumbs ol.breadcrumb li:last-child",
}
FAMILY_B_SELECTORS = {
    "title": "h1.media-heading",
    "body": "div.article_content div#content",
    "category": "div.cate_title_1 h2 a",
    "tags": "div.tag_list a",
}
FAMILY_C_SELECTORS = {
    "title": "h1.article__title",
    "lead": "div.article__sapo",
    "body": "div.article__body, [itemprop=articleBody]",
}
FAMILY_E_SELECTORS = {"title": "h1.pTitle", "lead": "p.pHead", "body": "#dcontent"}

BAOCAOBANG_CATEGORIES = {
    "thoi-su": 57,
    "chinh-tri": 58,
    "kinh-te": 59,
    "the-gioi": 60,
    "xa-hoi": 61,
    "van-hoa": 62,
    "giao-duc": 63,
    "the-thao": 64,
    "khoa-hoc-cong-nghe": 65,
    "suc-khoe": 66,
    "quoc-phong-an-ninh": 67,
}

# What a paper of each family has unless its profile says otherwise (docs/domain.md).
FAMILIES: dict[str, dict] = {
    "A": {"article_url": r"^/[^/]+-\d{4,}\.html$", "selectors": FAMILY_A_SELECTORS},
    "B": {"article_url": r"^/[^/]+/\d{6}/[^/]+-[0-9a-f]+/?$", "selectors": FAMILY_B_SELECTORS},
    "C": {"article_url": r"-post\d+\.html$", "selectors": FAMILY_C_SELECTORS},
    "E": {"article_url": r"-\d{4,}\.htm$", "selectors": FAMILY_E_SELECTORS},
}
MERGED_2025 = ("site still online",)  # merged papers: nobody knows how long they stay up


def paper(name: str, title: str, province: str, domains: tuple[str, ...], family: str | None = None,
          **fields) -> SiteProfile:  # fmt: skip
    """A profile with its family's article URLs and selectors, the RSS feed most
    provincial papers publish, and its first domain as the home page."""
    defaults = {"feeds": ("/rss/home.rss",), **FAMILIES.get(family or "", {})}
    return SiteProfile(name=name, title=title, province=province, family=family,
                       homepage=f"https://{domains[0]}/", domains=domains, **{**defaults, **fields})  # fmt: skip


def registry(profiles: list[SiteProfile]) -> dict[str, SiteProfile]:
    """Profiles by name; a name used twice is a mistake that would drop a paper."""
    names = [p.name for p in profiles]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"site names registered twice: {', '.join(duplicates)}")
    return {p.name: p for p in profiles}


SITES: dict[str, SiteProfile] = registry(
    [
        paper(
            "baocaobang", "Báo Cao Bằng", "Cao Bằng", ("baocaobang.vn",), "A",
            json_listings=tuple(
                JsonListing(f"/list-post-by-category?page={{page}}&limit=12&category_id={cid}")
                for cid in BAOCAOBANG_CATEGORIES.values()
            ),
            lead_code="CBO",
            unverified=("feeds", "category slugs"),
        ),
        paper("baoquangninh", "Báo Quảng Ninh", "Quảng Ninh", ("baoquangninh.vn", "baoquangninh.com.vn"), "A",
              unverified=("feeds", "selectors")),
        paper(
            "baolangson", "Báo Lạng Sơn", "Lạng Sơn", ("baolangson.vn",), "A",
            unverified=("feeds",),
            note="robots.txt disallows generic crawlers entirely: left out of --all, "
            "crawl it by name to see the refusal reported",
            scheduled=False,
        ),
        paper("baotuyenquang", "Báo và Phát thanh, Truyền hình Tuyên Quang", "Tuyên Quang",
              ("baotuyenquang.com.vn", "baotuyenquang.vn"), "B",
              sitemaps=("/sitemap.xml",), lead_code="BTQ", unverified=("feeds", "sitemaps")),
        paper("baohagiang", "Báo Hà Giang", "Hà Giang", ("baohagiang.vn", "baohagiang.com.vn"), "B",
              lead_code="BHG", status="merged", merged_into="baotuyenquang",
              unverified=("feeds", *MERGED_2025)),
        paper("baodaklak", "Báo và Phát thanh, Truyền hình Đắk Lắk", "Đắk Lắk", ("baodaklak.vn",), "B",
              unverified=("feeds", "selectors")),
        paper("baophuyen", "Báo Phú Yên", "Phú Yên", ("baophuyen.vn", "baophuyen.com.vn"), "B",
              status="merged", merged_into="baodaklak",
              unverified=("feeds", "selectors", "article URLs", *MERGED_2025)),
        paper("baothainguyen", "Báo và Phát thanh, Truyền hình Thái Nguyên", "Thái Nguyên",
              ("baothainguyen.vn",), "B", unverified=("feeds", "selectors")),
        paper("baolaocai", "Báo và Phát thanh, Truyền hình Lào Cai", "Lào Cai", ("baolaocai.vn",), "C",
              sitemaps=("/sitemap.xml",), unverified=("feeds", "sitemaps")),
        paper("baobackan", "Báo Bắc Kạn", "Bắc Kạn", ("baobackan.vn", "baobackan.org.vn", "baobackan.com.vn"), "C",
              lead_code="BBK", status="merged", merged_into="baothainguyen",
              unverified=("feeds", *MERGED_2025)),
        paper("baoyenbai", "Báo Yên Bái", "Yên Bái", ("baoyenbai.com.vn", "baoyenbai.vn"), "C",
              lead_code="YBĐT", status="merged", merged_into="baolaocai",
              unverified=("feeds", "selectors", "article URLs", *MERGED_2025)),
        paper("baophutho", "Báo và Phát thanh, Truyền hình Phú Thọ", "Phú Thọ", ("baophutho.vn",), "E",
              unverified=("feeds",)),
        paper("baovinhphuc", "Báo Vĩnh Phúc", "Vĩnh Phúc", ("baovinhphuc.com.vn", "baovinhphuc.vn"), "E",
              status="merged", merged_into="baophutho",
              unverified=("feeds", "selectors", "article URLs", *MERGED_2025)),
        paper("baohoabinh", "Báo Hòa Bình", "Hòa Bình", ("baohoabinh.com.vn", "baohoabinh.vn"), "E",
              status="merged", merged_into="baophutho",
              unverified=("feeds", "selectors", "article URLs", *MERGED_2025)),
        paper("baosonla", "Báo Sơn La", "Sơn La", ("baosonla.vn", "baosonla.org.vn"),
              article_url=r"^/[^/]+/[^/]+-\d{4,}\.html$", selectors={"body": "div#editor-detail"},
              unverified=("feeds", "selectors except body"),
              note="own CMS: /{category}/{slug}-{id}.html, body in div#editor-detail"),
        paper("baodienbienphu", "Báo Điện Biên Phủ", "Điện Biên", ("baodienbienphu.vn", "baodienbienphu.info.vn"),
              article_url=r"^/tin-bai/[^/]+/[^/]+$", sitemaps=("/sitemap.xml",),
              unverified=("feeds", "sitemaps", "selectors"),
              note="own CMS: /tin-bai/{category}/{slug}; category pages are rendered by "
              "JavaScript, so feeds and sitemaps are the way in"),
        paper("baolaichau", "Báo Lai Châu", "Lai Châu", ("baolaichau.vn",),
              # Slugs are raw Vietnamese, percent-encoded, with no id: a slug of several words.
              article_url=r"^/([^/]+/)?[^/]+(-[^/]+){3,}/?$",
              unverified=("feeds", "selectors", "article URLs"),
              note="own CMS: percent-encoded Vietnamese slugs without an id; the page header "
              "shows today's date above the article"),
    ]
)  # fmt: skip


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
    # Named by host alone, so that runs on another day (or port) add to the same site.
    return SiteProfile(name=host, title=host, homepage=homepage, domains=(host,), generic=True)


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
