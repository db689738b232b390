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

SITES: dict[str, SiteProfile] = {
    p.name: p
    for p in [
        SiteProfile(
            name="baocaobang",
            title="Báo Cao Bằng",
            province="Cao Bằng",
            family="A",
            homepage="https://baocaobang.vn/",
            domains=("baocaobang.vn",),
            feeds=("/rss/home.rss",),
            json_listings=tuple(
                JsonListing(f"/list-post-by-category?page={{page}}&limit=12&category_id={cid}")
                for cid in BAOCAOBANG_CATEGORIES.values()
            ),
            article_url=r"^/[^/]+-\d{4,}\.html$",
            selectors=FAMILY_A_SELECTORS,
            lead_code="CBO",
            unverified=("feeds", "category slugs"),
        ),
        SiteProfile(
            name="baoquangninh",
            title="Báo Quảng Ninh",
            province="Quảng Ninh",
            family="A",
            homepage="https://baoquangninh.vn/",
            domains=("baoquangninh.vn", "baoquangninh.com.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"^/[^/]+-\d{4,}\.html$",
            selectors=FAMILY_A_SELECTORS,
            unverified=("feeds", "selectors"),
        ),
        SiteProfile(
            name="baolangson",
            title="Báo Lạng Sơn",
            province="Lạng Sơn",
            family="A",
            homepage="https://baolangson.vn/",
            domains=("baolangson.vn",),
            feeds=("/rss/home.rss",),
            article_url=r"^/[^/]+-\d{4,}\.html$",
            selectors=FAMILY_A_SELECTORS,
            unverified=("feeds",),
            note="robots.txt disallows generic crawlers entirely: left out of --all, "
            "crawl it by name to see the refusal reported",
            scheduled=False,
        ),
        SiteProfile(
            name="baotuyenquang",
            title="Báo và Phát thanh, Truyền hình Tuyên Quang",
            province="Tuyên Quang",
            family="B",
            homepage="https://baotuyenquang.com.vn/",
            domains=("baotuyenquang.com.vn", "baotuyenquang.vn"),
            feeds=("/rss/home.rss",),
            sitemaps=("/sitemap.xml",),
            article_url=r"^/[^/]+/\d{6}/[^/]+-[0-9a-f]+/?$",
            selectors=FAMILY_B_SELECTORS,
            lead_code="BTQ",
            unverified=("feeds", "sitemaps"),
        ),
        SiteProfile(
            name="baohagiang",
            title="Báo Hà Giang",
            province="Hà Giang",
            family="B",
            homepage="https://baohagiang.vn/",
            domains=("baohagiang.vn", "baohagiang.com.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"^/[^/]+/\d{6}/[^/]+-[0-9a-f]+/?$",
            selectors=FAMILY_B_SELECTORS,
            lead_code="BHG",
            status="merged",
            merged_into="baotuyenquang",
            unverified=("feeds", "site still online"),
        ),
        SiteProfile(
            name="baodaklak",
            title="Báo và Phát thanh, Truyền hình Đắk Lắk",
            province="Đắk Lắk",
            family="B",
            homepage="https://baodaklak.vn/",
            domains=("baodaklak.vn",),
            feeds=("/rss/home.rss",),
            article_url=r"^/[^/]+/\d{6}/[^/]+-[0-9a-f]+/?$",
            selectors=FAMILY_B_SELECTORS,
            unverified=("feeds", "selectors"),
        ),
        SiteProfile(
            name="baothainguyen",
            title="Báo và Phát thanh, Truyền hình Thái Nguyên",
            province="Thái Nguyên",
            family="B",
            homepage="https://baothainguyen.vn/",
            domains=("baothainguyen.vn",),
            feeds=("/rss/home.rss",),
            article_url=r"^/[^/]+/\d{6}/[^/]+-[0-9a-f]+/?$",
            selectors=FAMILY_B_SELECTORS,
            unverified=("feeds", "selectors"),
        ),
        SiteProfile(
            name="baolaocai",
            title="Báo và Phát thanh, Truyền hình Lào Cai",
            province="Lào Cai",
            family="C",
            homepage="https://baolaocai.vn/",
            domains=("baolaocai.vn",),
            feeds=("/rss/home.rss",),
            sitemaps=("/sitemap.xml",),
            article_url=r"-post\d+\.html$",
            selectors=FAMILY_C_SELECTORS,
            unverified=("feeds", "sitemaps"),
        ),
        SiteProfile(
            name="baobackan",
            title="Báo Bắc Kạn",
            province="Bắc Kạn",
            family="C",
            homepage="https://baobackan.vn/",
            domains=("baobackan.vn", "baobackan.org.vn", "baobackan.com.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"-post\d+\.html$",
            selectors=FAMILY_C_SELECTORS,
            lead_code="BBK",
            status="merged",
            merged_into="baothainguyen",
            unverified=("feeds", "site still online"),
        ),
        SiteProfile(
            name="baoyenbai",
            title="Báo Yên Bái",
            province="Yên Bái",
            family="C",
            homepage="https://baoyenbai.com.vn/",
            domains=("baoyenbai.com.vn", "baoyenbai.vn"),
            feeds=("/rss/home.rss",),
            selectors=FAMILY_C_SELECTORS,
            lead_code="YBĐT",
            article_url=r"-post\d+\.html$",
            status="merged",
            merged_into="baolaocai",
            unverified=("feeds", "selectors", "article URLs", "site still online"),
        ),
        SiteProfile(
            name="baophutho",
            title="Báo và Phát thanh, Truyền hình Phú Thọ",
            province="Phú Thọ",
            family="E",
            homepage="https://baophutho.vn/",
            domains=("baophutho.vn",),
            feeds=("/rss/home.rss",),
            article_url=r"-\d{4,}\.htm$",
            selectors=FAMILY_E_SELECTORS,
            unverified=("feeds",),
        ),
        SiteProfile(
            name="baovinhphuc",
            title="Báo Vĩnh Phúc",
            province="Vĩnh Phúc",
            family="E",
            homepage="https://baovinhphuc.com.vn/",
            domains=("baovinhphuc.com.vn", "baovinhphuc.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"-\d{4,}\.htm$",
            selectors=FAMILY_E_SELECTORS,
            status="merged",
            merged_into="baophutho",
            unverified=("feeds", "selectors", "article URLs", "site still online"),
        ),
        SiteProfile(
            name="baohoabinh",
            title="Báo Hòa Bình",
            province="Hòa Bình",
            family="E",
            homepage="https://baohoabinh.com.vn/",
            domains=("baohoabinh.com.vn", "baohoabinh.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"-\d{4,}\.htm$",
            selectors=FAMILY_E_SELECTORS,
            status="merged",
            merged_into="baophutho",
            unverified=("feeds", "selectors", "article URLs", "site still online"),
        ),
        SiteProfile(
            name="baophuyen",
            title="Báo Phú Yên",
            province="Phú Yên",
            family="B",
            homepage="https://baophuyen.vn/",
            domains=("baophuyen.vn", "baophuyen.com.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"^/[^/]+/\d{6}/[^/]+-[0-9a-f]+/?$",
            selectors=FAMILY_B_SELECTORS,
            status="merged",
            merged_into="baodaklak",
            unverified=("feeds", "selectors", "article URLs", "site still online"),
        ),
        SiteProfile(
            name="baosonla",
            title="Báo Sơn La",
            province="Sơn La",
            homepage="https://baosonla.vn/",
            domains=("baosonla.vn", "baosonla.org.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"^/[^/]+/[^/]+-\d{4,}\.html$",
            selectors={"body": "div#editor-detail"},
            unverified=("feeds", "selectors except body"),
            note="own CMS: /{category}/{slug}-{id}.html, body in div#editor-detail",
        ),
        SiteProfile(
            name="baodienbienphu",
            title="Báo Điện Biên Phủ",
            province="Điện Biên",
            homepage="https://baodienbienphu.vn/",
            domains=("baodienbienphu.vn", "baodienbienphu.info.vn"),
            feeds=("/rss/home.rss",),
            article_url=r"^/tin-bai/[^/]+/[^/]+$",
            sitemaps=("/sitemap.xml",),
            unverified=("feeds", "sitemaps", "selectors"),
            note="own CMS: /tin-bai/{category}/{slug}; category pages are rendered by "
            "JavaScript, so feeds and sitemaps are the way in",
        ),
        SiteProfile(
            name="baolaichau",
            title="Báo Lai Châu",
            province="Lai Châu",
            homepage="https://baolaichau.vn/",
            domains=("baolaichau.vn",),
            feeds=("/rss/home.rss",),
            # Slugs are raw Vietnamese, percent-encoded, with no id: a slug of several words.
            article_url=r"^/([^/]+/)?[^/]+(-[^/]+){3,}/?$",
            unverified=("feeds", "selectors", "article URLs"),
            note="own CMS: percent-encoded Vietnamese slugs without an id; the page header "
            "shows today's date above the article",
        ),
    ]
}


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
