"""Reading a fetched page: bytes to text, text to a tree, and the small questions
every extractor asks of an element (its class words, whether it is page chrome)."""

from __future__ import annotations

import codecs
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

import lxml.html
from charset_normalizer import from_bytes
from lxml import etree
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

# Page regions that are never the article: the page header (not an article header),
# menus, banners, side columns, footers.
CHROME_CLASS = re.compile(
    r"(^|[\s_-])(header|footer|nav|top|bottom)($|[\s_-])|menu|navbar|sidebar|banner|topbar|top-bar|"
    r"leftpane|rightpane|left-pane|right-pane|site-header|site-footer|masthead",
    re.I,
)

# Labels that cannot spell Vietnamese: servers send them as a default, not a fact,
# so they only win when detection agrees nothing better fits.
WESTERN_CODECS = {"iso8859-1", "cp1252", "ascii"}  # codecs.lookup() names


def decode_html(body: bytes, header_encoding: str | None = None, normalize: bool = True) -> str:
    """Bytes to NFC text: strict UTF-8 when it decodes (mislabelled UTF-8 pages are
    common), else the HTTP header's charset, then ``<meta charset>``, then detection;
    a Western label (Latin-1, Windows-1252) loses to detection, since Vietnamese pages
    that carry one are really Windows-1258 or UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        head = body[:4096].decode("ascii", "replace")
        labels = [e for e in (header_encoding, html_body_declared_encoding(head)) if e]
        strong = [e for e in labels if not is_western(e)]
        weak = [e for e in labels if is_western(e)]
        text = first_decoding(body, strong)
        if text is None:
            # preemptive_behaviour=False: otherwise the page's own (wrong) label wins.
            best = from_bytes(body, preemptive_behaviour=False).best()
            if best is not None and (not weak or best.encoding == "cp1258"):
                text = str(best)
            else:
                text = first_decoding(body, weak) or (
                    str(best) if best else body.decode("utf-8", "replace")
                )
    return nfc(text) if normalize else text


def nfc(text: str) -> str:
    """Unicode NFC; the check alone is several times cheaper than normalising."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def is_western(label: str) -> bool:
    try:
        return codecs.lookup(label).name in WESTERN_CODECS
    except LookupError:
        return False


def first_decoding(body: bytes, labels: list[str]) -> str | None:
    for label in labels:
        try:
            return body.decode(label)
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def content_type_encoding(content_type: str | None) -> str | None:
    return http_content_type_encoding(content_type) if content_type else None


def parse_html(text: str, url: str) -> lxml.html.HtmlElement:
    # lxml refuses str input that carries an XML encoding declaration.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        tree = lxml.html.document_fromstring(text or "<html></html>")
    except (etree.ParserError, ValueError):
        tree = lxml.html.document_fromstring("<html></html>")
    # Links resolve as a browser would: relative to <base href> when there is one.
    base = tree.find(".//base[@href]")
    # Links are not rewritten in the tree (that costs a quarter of the extraction on a
    # large page): the base URL is kept with the document, and `absolute()` resolves the
    # few links extraction needs, as a browser would (relative to <base href>).
    tree.getroottree().docinfo.URL = urljoin(url, base.get("href")) if base is not None else url
    return tree


def absolute(el, href: str | None) -> str:
    """A link of an element resolved against its document's base URL."""
    href = (href or "").strip()
    try:
        return urljoin(el.base_url or "", href)
    except ValueError:  # a malformed link ("http://[x") must not kill the page
        return href


# Control characters (C0 but whitespace, DEL, C1) and the bidi embeddings, overrides
# and isolates: a stored title must read as the page shows it, never "exe.gpj" shown as
# "jpg.exe" by a hidden U+202E.
INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\ufeff]"
)


def clean(text: str | None) -> str:
    """NFC, entities already decoded by lxml, whitespace collapsed, đ for ð, control
    and bidi-override characters removed."""
    if not text:
        return ""
    if not text.isascii():
        # One national site writes &#240; (ð) for đ; eth never occurs in Vietnamese.
        text = nfc(text).replace("ð", "đ").replace("Ð", "Đ")
    text = INVISIBLE.sub("", text)
    # str.split() splits on every Unicode space (no-break space included), faster than
    # a regular expression on the long strings extraction cleans.
    return " ".join(text.split())


def select_one(tree: lxml.html.HtmlElement, selector: str | None) -> lxml.html.HtmlElement | None:
    """The first element for a CSS selector. Alternatives ("#content-detail, div.detail")
    are tried in the order written, not document order: the first is the better one,
    and the second often wraps it (with the title and date inside)."""
    for alternative in (selector or "").split(","):
        if not alternative.strip():
            continue
        try:
            found = tree.cssselect(alternative.strip())
        except Exception:  # a bad selector in a profile must not kill the crawl
            continue
        if found:
            return found[0]
    return None


def in_chrome(el, keep: set | frozenset = frozenset(), region=None) -> bool:
    """Whether an element sits in the page's header, navigation, sidebar or footer.

    A class word is weak evidence: real CMSs wrap the whole article column in
    "sidebar-1" or "top-content", and the byline under the headline in
    "article-share-top". So a region in `keep` (the headline's ancestors, see
    `lineage`) is never chrome, nor is anything inside `region`, the article's own
    column (the smallest element holding the headline and the text)."""
    if region is not None and any(anc is region for anc in el.iterancestors()):
        return False
    for anc in el.iterancestors():
        if anc in keep:
            return False
        if anc.tag in ("header", "nav", "footer", "aside"):
            return True
        if labelled_as(CHROME_CLASS, label(anc)):
            return True
    return False


def lineage(el) -> set:
    """An element and all its ancestors (empty for None): the regions that hold it."""
    return set() if el is None else {el, *el.iterancestors()}


# Elements that live inside a sentence: whatever their class says, removing one deletes
# words from the middle of a sentence (a price in <abbr class="rate-usd">).
INLINE_TAGS = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i",
               "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time",
               "u", "var", "wbr", "br", "strike", "big", "tt", "label"}  # fmt: skip


def class_words(el) -> set[str]:
    """The words of an element's class and id, split on separators and camelCase:
    'pTag' -> {'p', 'tag'}, 'cate_title_1' -> {'cate', 'title', '1'}."""
    raw = f"{el.get('class', '')} {el.get('id', '')}"
    raw = re.sub(r"([a-z])([A-Z])", r"\1 \2", raw)
    return set(re.split(r"[\s_\-]+", raw.lower())) - {""}


@dataclass
class PageIndex:
    """A parsed page's elements in document order, listed once: every search for a
    headline, a byline, a section or a date walks these lists instead of the tree."""

    elements: list  # element nodes in document order
    order: dict  # element -> its position in `elements`
    labelled: list  # (position, element, "class id") for elements that have either


# The last page's index only, one per thread. A weak-keyed map cannot hold these: the
# index lists the root element itself, so every tree it had seen stayed alive (a crawl
# worker grew by about 1.3 MB a page, over 1 GB in a 600-page crawl).
_LAST = threading.local()


def page_index(tree) -> PageIndex:
    """The index of a parsed page, built on first use (the page must not change after).
    Only the most recent page's index is kept, so at most one tree outlives its reader."""
    if getattr(_LAST, "tree", None) is tree:
        return _LAST.index
    elements = [el for el in tree.iter() if isinstance(el.tag, str)]
    labelled = []
    for i, el in enumerate(elements):
        cls, ident = el.get("class"), el.get("id")
        if cls or ident:
            labelled.append((i, el, f"{cls or ''} {ident or ''}"))
    index = PageIndex(elements, {el: i for i, el in enumerate(elements)}, labelled)
    _LAST.tree, _LAST.index = tree, index
    return index


def label(el) -> str:
    """An element's class and id as one string ("" when it has neither)."""
    cls, ident = el.get("class"), el.get("id")
    return f"{cls or ''} {ident or ''}" if cls or ident else ""


@lru_cache(maxsize=8192)
def labelled_as(pattern: re.Pattern, text: str) -> bool:
    """Whether a class/id string matches a pattern; pages repeat the same few class
    strings thousands of times, and these patterns are long alternations."""
    return bool(text.strip()) and pattern.search(text) is not None
