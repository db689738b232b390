"""Acceptance: the one decision whether a fetched page is stored as an article.

``accept(raw, url, profile)`` takes a response as it came off the wire and returns the
``Article`` to store or a ``Rejection`` saying why not, with a kind from one
vocabulary (``REJECTION_KINDS``). It imports no Scrapy and touches no database: the
crawl, ``vnnews reextract`` and any future importer call it, so none of them stores what
another would refuse.

The rules, in order:
1. page guard: a 2xx answer that is empty, binary (an image or an archive labelled as
   HTML) or an error page ("Không tìm thấy trang") is no page at all;
2. decoding and extraction (``archive.extract``), with the HTTP header's charset;
3. the address: the page's ``rel=canonical`` when it belongs to the site, one host per
   paper (``www.``/``m.`` folded);
4. the article verdict (``article_verdict``): sections, tags, galleries are skipped;
5. garbage: an error heading as the headline, or garbled text (mojibake).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from archive.extract import article_verdict, extract
from archive.html import content_type_encoding, decode_html
from archive.models import Article
from archive.places import article_text, tag_places
from archive.scope import Scope
from archive.sites import SiteProfile
from archive.urls import canonicalize

# Every reason a fetched page is not stored. The kinds that are failures of the page
# are recorded in the archive's ``failures`` table under the same word.
REJECTION_KINDS = {
    "not_html": "not a web page (a PDF, an image, a feed): ignored",
    "empty": "a 2xx answer with an empty body",
    "binary": "a 2xx answer with image or archive bytes where HTML was promised",
    "soft_404": "an error page served with 200 ('Không tìm thấy trang', '404 Not Found')",
    "not_article": "a page, but not an article (a section, a tag page, a gallery)",
    "mojibake": "the text came out garbled (a wrong or double decoding)",
    "off_site": "the page's final address is outside the crawled paper's origins",
}
# Kinds recorded as failures of a page (not_html and not_article are not failures).
FAILURE_KINDS = ("empty", "binary", "soft_404", "mojibake", "off_site")
# Failure kinds that mean the page is absent (or another paper's) rather than that the
# site failed: counted as missing, not failed.
MISSING_KINDS = ("soft_404", "off_site", "foreign")


@dataclass
class RawResponse:
    """A fetched page as it came off the wire (after redirects and decompression)."""

    url: str  # the final URL, where the body came from
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")

    @property
    def encoding(self) -> str | None:
        """The charset the HTTP header declares, if any."""
        return content_type_encoding(self.content_type)


@dataclass
class Rejection:
    """Why a fetched page is not stored."""

    kind: str  # one of REJECTION_KINDS
    message: str
    url: str
    http_status: int
    # What extraction made of the page, when it got that far (None for a guarded page).
    article: Article | None = None

    @property
    def is_failure(self) -> bool:
        return self.kind in FAILURE_KINDS


def accept(
    raw: RawResponse,
    url: str,
    profile: SiteProfile,
    scope: Scope | None = None,
    tree: etree._Element | None = None,
) -> Article | Rejection:
    """The article to store from a fetched page, or why it is not one.

    ``url`` is the page's address in canonical form (links and the canonical link
    resolve against it); ``scope`` says which URLs belong to the site and where they
    are fetched (a mirror), by default the profile's own domains; ``tree``, the page
    already parsed (``archive.pagework.parse_tree``), saves parsing it again.
    """
    if scope is not None and not scope.owns(url):
        # The crawl of one paper stores only what lives at its origins (archive/scope.py):
        # whatever led elsewhere, the page is not this paper's.
        return Rejection("off_site", f"{url} is outside {profile.name}", raw.url, raw.status)
    scope = scope or Scope.of(profile)
    guarded = page_guard(raw)
    if guarded is not None:
        return guarded
    content_type = raw.content_type
    if "html" not in (content_type or "html"):
        return Rejection("not_html", f"served as {content_type}", raw.url, raw.status)
    article = extract(raw.body, url, profile, encoding=raw.encoding, tree=tree)
    canonical = rel_canonical(raw.body, raw.encoding, url, tree)
    if canonical and scope.owns(canonical) and canonical != url:
        article.url = scope.fetch_url(canonicalize(canonical))
    # A mirror's address is where the page was fetched, never what it is archived under.
    article.url = profile.fold_alias(scope.paper_url(article.url))
    if article.image:
        article.image = scope.paper_url(article.image)
    ok, reason = article_verdict(article, profile)
    if not ok:
        return Rejection("not_article", reason, article.url, raw.status, article)
    garbage = garbage_kind(article)
    if garbage:
        kind, message = garbage
        return Rejection(kind, message, article.url, raw.status, article)
    # The paper's province settles names several provinces share (archive/places.py).
    article.places = tag_places(
        article_text(article.title, article.lead, article.body), profile.province
    )
    return article


# ---------------------------------------------------------------- page guard


def page_guard(raw: RawResponse) -> Rejection | None:
    """A 2xx answer that is no page (empty, binary, an error page), or None.

    Other content types (a PDF or image link) pass: they are not pages, and ``accept``
    ignores them without calling them failures.
    """
    content_type = raw.content_type.lower()
    if not 200 <= raw.status < 300:
        return None
    if content_type and "html" not in content_type and not content_type.startswith("text/"):
        return Rejection("not_html", f"served as {content_type}", raw.url, raw.status)
    body = raw.body
    if not body.strip():
        return Rejection("empty", f"{raw.status} with an empty body", raw.url, raw.status)
    kind = binary_kind(body)
    if kind:
        served_as = content_type or "no Content-Type"
        return Rejection("binary", f"{kind} served as {served_as}", raw.url, raw.status)
    heading = error_page_heading(head_text(body, content_type_encoding(content_type)))
    if heading:
        message = f"error page served with {raw.status}: {heading!r}"
        return Rejection("soft_404", message, raw.url, raw.status)
    return None


# Signatures of files that are never HTML, whatever the Content-Type says.
BINARY_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG image",
    b"GIF87a": "GIF image",
    b"GIF89a": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"RIFF": "RIFF (WebP, WAV, AVI)",
    b"PK\x03\x04": "ZIP archive (or DOCX/XLSX)",
    b"%PDF-": "PDF document",
    b"\x1f\x8b": "gzip data",
    b"Rar!\x1a\x07": "RAR archive",
    b"7z\xbc\xaf\x27\x1c": "7-Zip archive",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "MS Office document",
    b"ID3": "MP3 audio",
    b"OggS": "Ogg media",
    b"\x00\x00\x01\x00": "icon",
    b"\x7fELF": "executable",
    b"MZ": "executable",
}
# Two-byte signatures are too short to trust alone; they also need control bytes.
WEAK_SIGNATURES = {b"MZ", b"\x1f\x8b"}
TEXT_CONTROL = set(b"\t\n\r\f\x1b")
UNICODE_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

# Headings of error pages ("Không tìm thấy trang", "404 Not Found", "Trang không tồn
# tại", "Bài viết đã bị xóa"): the whole <h1>, or the <title> before its " - Site".
ERROR_HEADING = re.compile(
    r"""^(?:(?:lỗi|error|http)\s*)?(?:404|410)?[\s:.!–—-]*
    (?:
      (?:page\s+|trang\s+)?not\s+found
      | không\s+tìm\s+thấy(?:\s+(?:trang|nội\s+dung|bài\s+viết|dữ\s+liệu|đường\s+dẫn|tin\s+bài|tin))?
        (?:\s+(?:yêu\s+cầu|bạn\s+(?:yêu\s+cầu|tìm|cần)))?
      | (?:trang|nội\s+dung|bài\s+viết|đường\s+dẫn|liên\s+kết|tin\s+bài|tin)
        (?:\s+(?:bạn\s+)?(?:yêu\s+cầu|tìm|truy\s+cập))?\s+(?:không\s+tồn\s+tại|không\s+còn\s+tồn\s+tại)
      | (?:trang|nội\s+dung|bài\s+viết|tin\s+bài)\s+(?:đã\s+bị\s+(?:xóa|xoá|gỡ)|đã\s+bị\s+gỡ\s+bỏ)
    )?[\s.!]*$""",
    re.I | re.X,
)
TITLE_SEPARATOR = re.compile(r"\s+[|–—:-]\s+")
TAG = re.compile(r"<[^>]*>")


def binary_kind(body: bytes) -> str | None:
    """What a body is when it is not text (an image, an archive...), else None."""
    head = body[:4096]
    if head.startswith(UNICODE_BOMS):
        return None
    for signature, name in BINARY_SIGNATURES.items():
        if head.startswith(signature) and (
            signature not in WEAK_SIGNATURES or control_ratio(head) > 0.05
        ):
            return name
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    if control_ratio(head) > 0.1:
        return "binary data (control bytes)"
    return None


def control_ratio(head: bytes) -> float:
    if not head:
        return 0.0
    return sum(1 for b in head if b < 32 and b not in TEXT_CONTROL) / len(head)


def is_error_heading(text: str | None) -> bool:
    """Whether a page heading is an error message rather than a headline."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()
    return bool(text) and len(text) <= 80 and ERROR_HEADING.match(text) is not None


def error_page_heading(text: str) -> str | None:
    """The error heading of an HTML error page (first <h1>, or <title> up to its site
    name), or None for any other page."""
    candidates = []
    for tag in ("h1", "title"):
        match = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}\s*>", text, re.I | re.S)
        if match:
            heading = html.unescape(TAG.sub(" ", match.group(1)))
            candidates.append(heading)
            if tag == "title":
                candidates.append(TITLE_SEPARATOR.split(heading.strip(), maxsplit=1)[0])
    return next((c.strip() for c in candidates if is_error_heading(c)), None)


def head_text(body: bytes, encoding: str | None, limit: int = 256 * 1024) -> str:
    """The first `limit` bytes of a page as text, cut at a tag so that no multi-byte
    character is split, decoded the way the extractor decodes."""
    head = body[:limit]
    if len(body) > limit:
        cut = head.rfind(b"<")
        head = head[:cut] if cut > 0 else head
    return decode_html(head, encoding)


# ---------------------------------------------------------------- the address


def rel_canonical(
    body: bytes, encoding: str | None, url: str, tree: etree._Element | None = None
) -> str | None:
    """The page's ``<link rel=canonical>``, absolute (relative to the page's URL)."""
    if tree is not None:
        return canonical_of(tree, url)
    try:
        tree = lxml.html.document_fromstring(
            re.sub(r"^\s*<\?xml[^>]*\?>", "", decode_html(body, encoding)) or "<html></html>"
        )
    except (etree.ParserError, ValueError):
        return None
    return canonical_of(tree, url)


def canonical_of(tree: etree._Element, url: str) -> str | None:
    hrefs = tree.xpath("//link[@rel='canonical']/@href")
    href = str(hrefs[0]).strip() if hrefs else ""
    return urljoin(url, href) if href else None


# ---------------------------------------------------------------- garbage

# Vietnamese UTF-8 read as Latin-1/Windows-1252 ("Ã¡", "Æ°", "á»", "Ä‘", "â€œ"),
# Windows-1258 read as Latin-1 (its tone marks become "Ò", "Ì", "Þ" after a lower-case
# letter: "QuaÒng", "ðôÌng"), and replacement characters left by a decoding that gave up.
MOJIBAKE = re.compile(
    "[ÃÄÅÆ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
    "|á[\u00ba\u00bb]|â\u20ac|Â[\u00a0-\u00bf]|[a-zà-ỹđ][ÒÌÞ]|Þ|\ufffd"
)
MOJIBAKE_MIN = 3


def garbage_kind(article: Article) -> tuple[str, str] | None:
    """(kind, message) when an extracted article is not text worth keeping."""
    if is_error_heading(article.title):
        return "soft_404", f"error page served as an article: {article.title!r}"
    text = " ".join(filter(None, (article.title, article.lead, article.body)))
    found = MOJIBAKE.findall(text)
    if len(found) >= MOJIBAKE_MIN:
        sample = ", ".join(dict.fromkeys(found[:20]))
        return "mojibake", f"garbled text ({len(found)} sequences such as {sample})"
    return None
