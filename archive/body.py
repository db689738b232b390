"""The article text: find the container, walk it into paragraphs, and drop what sits
inside article containers without being the article (related boxes, share buttons,
template text, view counters). For layouts with no known container, a text-density
search; as a last resort, trafilatura."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import lxml.html
from lxml import etree

from archive.html import class_words, clean, select_one
from archive.sites import SiteProfile
from archive.urls import looks_like_article

# Containers that well-known Vietnamese CMSs (and schema.org) put the article text in.
BODY_SELECTORS = [
    "[itemprop=articleBody]",
    "#content-detail",
    "div.article__body",
    "div.article_content div#content",
    "#dcontent",
    "div#editor-detail",
    "div.detail-content",
    "div.content-detail",
    "div.article-content",
    "div.article-body",
    "div.article_body",
    "div.news-content",
    "div.entry-content",
    "div.post-content",
    "div.td-post-content",
    "div.detail__content",
    "div.noidung",
    "div.chitiet",
    "div.detail",
    "article .content",
]

# Class/id words of boxes that sit inside article containers but are not the article.
BOILERPLATE_CLASS = re.compile(
    r"related|lien-?quan|lienquan|cung-?chuyen-?muc|same-?cat|share|social|print|comment|"
    r"binh-?luan|rating|banner|advert|(^|[\s_-])ads?($|[\s_-])|quang-?cao|toolbar|sidebar|"
    r"widget|popup|newsletter|facebook|zalo|read-?more|xem-?them|doc-?them|box-?news|"
    r"tin-?khac|other-?news|most-?read|doc-?nhieu|subscribe|(^|[\s_-])tags?($|[\s_-])|tag_list|"
    r"(^|[\s_-])rate($|[\s_-])|vote|box-?source|news-?other|(^|[\s_-])other($|[\s_-])",
    re.I,
)

# <form> is not here: ASP.NET portals wrap the whole page in one. Small forms (login,
# comments, search) go by size in strip_chrome.
CHROME_TAGS = ["script", "style", "noscript", "iframe", "button", "input", "select", "textarea", "svg",
               "nav", "aside", "object", "embed", "template", "header", "footer"]  # fmt: skip

RELATED_HEADING = re.compile(
    r"^\s*(tin|bài|đọc|xem|tin bài|bài viết|tin tức|các tin|các bài)\s+"
    r"(liên quan|cùng chuyên mục|thêm|khác|mới|cùng|nổi bật|đọc nhiều)|^\s*cùng chuyên mục|"
    r"^\s*(tin|bài) (đã|mới) đăng|^\s*có thể bạn (quan tâm|chưa đọc)|^\s*đọc tiếp",
    re.I,
)

# Widgets that show the current date or time, never the article's.
TODAY_CLASS = re.compile(r"today|hom-?nay|current-?date|curdate|clock|weather|thoi-?tiet", re.I)

TEMPLATE_TEXT = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")

SHARE_TEXT = re.compile(
    r"^(chia sẻ|share|in bài|gửi bài|bản in|lưu bài|tweet|like)\b.{0,40}$", re.I
)

VIEW_COUNTER = re.compile(r"\[?\s*(lượt xem|lượt đọc|views?)\s*:?\s*[\d.,]+\s*\]?", re.I)

BLOCK_TAGS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "figcaption",
    "td",
    "th",
    "pre",
    "section",
    "article",
    "table",
    "tr",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "figure",
    "center",
    "tbody",
    "main",
    "caption",
}


@dataclass
class Block:
    """A paragraph of text as it appears in the page."""

    text: str
    element: etree._Element
    link_ratio: float
    bold: bool
    right: bool


def count_teasers(content) -> int:
    """Headline links to articles inside the text we took as the page's content: a
    section page's "content" is made of them, an article's has a few at most."""
    hrefs = {
        a.get("href")
        for a in content.iter("a")
        if len(a.text_content().split()) >= 5 and looks_like_article(a.get("href") or "")
    }
    return len(hrefs)


def caption_words(body_el) -> int:
    """Words in image captions: a photo gallery's text is nearly all captions."""
    captions = [
        el
        for el in body_el.iter()
        if isinstance(el.tag, str)
        and (
            el.tag == "figcaption"
            or "caption" in class_words(el)
            or "imgcaption" in class_words(el)
        )
    ]
    return sum(len(el.text_content().split()) for el in captions)


def find_body_element(tree, profile: SiteProfile):
    for selector in [profile.selectors.get("body"), *BODY_SELECTORS]:
        if not selector:
            continue
        el = select_one(tree, selector)
        if el is not None and len(el.text_content().split()) >= 30:
            return el
    return None


def strip_chrome(root) -> None:
    """Remove elements that are never article text, in place."""
    for el in list(root.iter(*CHROME_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in list(root.iter("form")):
        if el.getparent() is not None and len(el.text_content()) < 400:
            el.drop_tree()
    for el in list(root.iter(etree.Comment)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        cls = f"{el.get('class', '')} {el.get('id', '')}"
        if cls.strip() and BOILERPLATE_CLASS.search(cls) and el is not root:
            el.drop_tree()


def content_blocks(container) -> list[Block]:
    """The paragraphs of an article container, in order, without boxes that are not the
    article (related links, share buttons, template text, view counters)."""
    root = lxml.html.fromstring(lxml.html.tostring(container, encoding="unicode"))
    strip_chrome(root)
    blocks = []
    for block in iter_blocks(root):
        text = TEMPLATE_TEXT.sub("", block.text)
        text = clean(VIEW_COUNTER.sub("", text)) if VIEW_COUNTER.search(text) else clean(text)
        if not text or SHARE_TEXT.match(text):
            continue
        block.text = text
        blocks.append(block)
    return drop_related(blocks)


def iter_blocks(root) -> Iterator[Block]:
    """Walk a subtree and yield one Block per run of inline text between block edges,
    so bare <div> paragraphs and text next to nested blocks are both kept."""
    parts: list[str] = []
    link_chars = 0
    owner = root

    def flush() -> Block | None:
        nonlocal parts, link_chars
        text = "".join(parts)
        block = None
        if text.strip():
            total = len(text.strip()) or 1
            block = Block(
                text=text,
                element=owner,
                link_ratio=min(1.0, link_chars / total),
                bold=is_bold(owner, text),
                right=is_right(owner),
            )
        parts, link_chars = [], 0
        return block

    def walk(el, in_link: bool) -> Iterator[Block]:
        nonlocal owner, link_chars
        tag = el.tag if isinstance(el.tag, str) else ""
        is_block = tag in BLOCK_TAGS
        if is_block:
            b = flush()
            if b:
                yield b
            owner = el
        if tag == "br":
            parts.append(" ")
        elif tag == "img":
            pass
        if el.text and tag:
            parts.append(el.text)
            if in_link or tag == "a":
                link_chars += len(el.text.strip())
        for child in el:
            yield from walk(child, in_link or tag == "a")
            if child.tail:
                parts.append(child.tail)
                if in_link or tag == "a":
                    link_chars += len(child.tail.strip())
        if is_block:
            b = flush()
            if b:
                yield b
            owner = el.getparent() if el.getparent() is not None else el

    yield from walk(root, False)
    last = flush()
    if last:
        yield last


def is_bold(el, text: str) -> bool:
    """Whether a block's text is all bold (a lead or a byline), judged by its markup."""
    if el.tag in ("strong", "b", "h2", "h3", "h4"):
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    if "font-weight:bold" in style or "font-weight:700" in style:
        return True
    bold_text = "".join(b.text_content() for b in el.xpath(".//strong|.//b"))
    return len(clean(bold_text)) >= 0.9 * len(clean(text)) > 0


def is_right(el) -> bool:
    for node in [el, *el.iterancestors()][:3]:
        style = (node.get("style") or "").replace(" ", "").lower()
        if "text-align:right" in style or (node.get("align") or "").lower() == "right":
            return True
        if re.search(r"(^|\s)(text-right|right|align-right)(\s|$)", node.get("class") or ""):
            return True
    return any(
        "text-align:right" in (c.get("style") or "").replace(" ", "").lower() for c in el.iter()
    )


def drop_related(blocks: list[Block]) -> list[Block]:
    """Drop "Tin liên quan" style boxes: their heading and the link lines that follow,
    and any line that is essentially a link to another page."""
    kept: list[Block] = []
    skipping = False
    for b in blocks:
        if RELATED_HEADING.match(b.text) and len(b.text) < 80:
            skipping = True
            continue
        if b.link_ratio >= 0.6:
            continue
        if skipping and b.link_ratio > 0.3:
            continue
        skipping = False
        kept.append(b)
    return kept


def word_count(blocks: Iterable[Block]) -> int:
    return sum(len(b.text.split()) for b in blocks)


def density_blocks(tree) -> tuple[list[Block], etree._Element | None]:
    """For layouts with no known container (portals, table layouts): pick the element
    that holds the most non-link paragraph text among its children."""
    root = lxml.html.fromstring(lxml.html.tostring(tree, encoding="unicode"))
    strip_chrome(root)
    scores: dict = {}
    for block in iter_blocks(root):
        text = clean(block.text)
        if len(text) < 40 or block.link_ratio > 0.3:
            continue
        el = block.element
        parent = el.getparent()
        weight = len(text)
        for target, share in (
            (el, 0.5),
            (parent, 1.0),
            (parent.getparent() if parent is not None else None, 0.5),
        ):
            if target is not None:
                scores[target] = scores.get(target, 0) + weight * share
    if not scores:
        return [], None
    best = max(scores, key=scores.get)
    blocks = []
    for block in iter_blocks(best):
        text = clean(TEMPLATE_TEXT.sub("", block.text))
        if text and not SHARE_TEXT.match(text):
            block.text = text
            blocks.append(block)
    return drop_related(blocks), best


def trafilatura_blocks(tree, url: str) -> list[Block]:
    """Last resort: trafilatura's main-text extraction, one block per line."""
    import trafilatura  # imported lazily: it is slow to import and rarely needed

    doc = trafilatura.bare_extraction(
        lxml.html.tostring(tree, encoding="unicode"),
        url=url,
        include_comments=False,
        with_metadata=False,
    )
    text = getattr(doc, "text", None) or ""
    return [
        Block(text=clean(line), element=tree, link_ratio=0.0, bold=False, right=False)
        for line in text.splitlines()
        if clean(line)
    ]
