"""URL rules: one canonical form per article, and which URLs can be articles at all."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Query parameters that only say where a click came from; the same article must not be
# stored twice because a feed or a share button appended them.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|gclsrc|dclid|msclkid|zarsrc|zalo_source|_ga|mc_cid|mc_eid|"
    r"ref|ref_src|rss|src|source|from|cmpid|share|sharetype|itm_\w+|vn_source|vn_medium)$",
    re.I,
)

# Paths that are never articles, whatever their shape: sections, tags, search, media.
NON_ARTICLE_PATH = re.compile(
    r"(^|/)(tag|tags|tu-khoa|chu-de|topic|search|tim-kiem|timkiem|video|videos|media|"
    r"photo|photos|anh|gallery|galleries|multimedia|podcast|emagazine-list|rss|feed|"
    r"login|dang-nhap|dang-ky|register|lien-he|contact|gioi-thieu|about|author|tac-gia|"
    r"page|trang|print|in-bai|comment|binh-luan|category|chuyen-muc|danh-muc|admin|"
    r"wp-admin|wp-login|cdn-cgi|static|assets|uploads|images|img|css|js)(/|$|\.)",
    re.I,
)
NON_HTML_EXT = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|bmp|tiff?|pdf|docx?|xlsx?|pptx?|zip|rar|7z|gz|mp3|mp4|"
    r"m4a|avi|mov|wmv|flv|webm|css|js|json|xml|rss|txt|woff2?|ttf|eot|apk|exe)$",
    re.I,
)
# Article URLs on Vietnamese news sites end in a numeric or hex id, a `post{id}`, or an
# `.html/.htm/.aspx` page whose slug has several words.
ARTICLE_ID = re.compile(
    r"(-|/|post|_)(\d{4,}|[0-9a-f]{6,})(\.html?|\.aspx|\.htm|\.vnp|\.tpo)?/?$", re.I
)
# \w, not [a-z]: slugs may be raw Vietnamese ("/tân-uyên-thu-hoạch-chè").
SLUG_PAGE = re.compile(r"/[^/]*\w+(-[\w%]+){3,}(\.html?|\.aspx)?/?$", re.I)
DAY_ARCHIVE_PARAM = re.compile(r"(^|&)(date|ngay|day|d|from|to)=", re.I)


def host_of(url: str) -> str:
    """Host without `www.`/`m.` prefixes and port-free, lower case."""
    host = (urlsplit(url).hostname or "").lower()
    for prefix in ("www.", "m.", "amp."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    return host


# Memoised: the same menu, footer and related links come back on every page of a site,
# and each would be parsed and re-encoded again. 64k entries cost about 20 MB at most.
@lru_cache(maxsize=65536)
def canonicalize(url: str) -> str:
    """One spelling per page: NFC, no fragment, no tracking parameters, sorted query, no
    default port."""
    # NFC before percent-encoding: "ệ" typed as e + two marks would otherwise encode
    # as another address than the same letter typed whole.
    url = safe_url_string(unicodedata.normalize("NFC", url.strip()))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = (parts.hostname or "").lower()
    if parts.port and not (
        (scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)
    ):
        netloc += f":{parts.port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def looks_like_article(url: str) -> bool:
    """A cheap guess from the URL alone, used to order the crawl, not to decide storage."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if not path or path == "/" or NON_HTML_EXT.search(path) or NON_ARTICLE_PATH.search(path):
        return False
    if DAY_ARCHIVE_PARAM.search(parts.query) or "page=" in parts.query.lower():
        return False
    return bool(ARTICLE_ID.search(path) or SLUG_PAGE.search(path))


def is_crawlable(url: str) -> bool:
    """Whether a link is worth requesting at all (HTML-ish, http(s), not a media file)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    path = unquote(parts.path)
    return not NON_HTML_EXT.search(path)
