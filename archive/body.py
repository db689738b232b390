"""The article text: find the container, walk it into paragraphs, and leave out what
sits inside article containers without being the article (related boxes, share buttons,
captions, promo boxes, template text, view counters).

Removal goes by evidence, never by a word in a class name alone: real CMSs call the
article column "sidebar-1" and put prices in ``<abbr class="rate-usd">``. So:

- an inline element (``abbr``, ``span``, ``a``…) is never removed: a sentence keeps every
  word it has on the page;
- an element holding the headline, or most of the container's running text, is never
  removed;
- a box whose class or id says "related", "share", "tags"… is removed only when its
  content agrees: mostly links, a few words, or little running text.

With no profile, the container is the element holding the densest run of running text
(paragraphs of real sentences, not links), grown to its parent while the parent adds
running text and not link lists. As a last resort, trafilatura.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lxml import etree

from archive.html import INLINE_TAGS, class_words, clean, label, labelled_as, lineage, select_one
from archive.sites import SiteProfile
from archive.urls import looks_like_article

# schema.org's mark for the article text: generic, unlike any one CMS's class names.
SCHEMA_BODY = "[itemprop=articleBody]"

# Class words that common CMSs give an article's text container: weak evidence that a
# dense region is an article's text rather than a list of teasers.
BODY_WORDS = {"content", "detail", "body", "article", "noidung", "chitiet", "entry", "post",
              "text", "story", "fck", "editor", "maincontent", "news"}  # fmt: skip

# Class/id words of boxes that sit inside article containers but are not the article.
# Weak evidence only: see `removable_box`.
BOILERPLATE_CLASS = re.compile(
    r"related|lien-?quan|lienquan|cung-?chuyen-?muc|same-?cat|share|social|print|comment|"
    r"binh-?luan|rating|banner|advert|(^|[\s_-])ads?($|[\s_-])|quang-?cao|toolbar|sidebar|"
    r"widget|popup|newsletter|facebook|zalo|read-?more|xem-?them|doc-?them|box-?news|"
    r"tin-?khac|other-?news|most-?read|doc-?nhieu|subscribe|(^|[\s_-])tags?($|[\s_-])|tag_list|"
    r"(^|[\s_-])rate($|[\s_-])|vote|box-?source|news-?other|(^|[\s_-])other($|[\s_-])|"
    r"promo|sponsor|tai-?tro|recommend|suggest|de-?xuat",
    re.I,
)

# Never text: skipped wherever they are. <form> is not here: ASP.NET portals wrap the
# whole page in one; small forms go by size in `skipped_boxes`.
CHROME_TAGS = {"script", "style", "noscript", "iframe", "button", "input", "select", "textarea",
               "svg", "nav", "aside", "object", "embed", "template", "header", "footer",
               "head", "title", "meta", "link"}  # fmt: skip

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

# Running text: a paragraph of at least this many characters with few links in it.
RUNNING_CHARS = 40
RUNNING_LINKS = 0.3


@dataclass
class Block:
    """A paragraph of text as it appears in the page. Whether it is bold or right-aligned
    (a lead, a byline) is read from the markup when first asked: most blocks never are."""

    text: str
    element: etree._Element
    link_ratio: float
    known_bold: bool | None = None
    known_right: bool | None = None

    @property
    def bold(self) -> bool:
        if self.known_bold is None:
            self.known_bold = is_bold(self.element, self.text)
        return self.known_bold

    @property
    def right(self) -> bool:
        if self.known_right is None:
            self.known_right = is_right(self.element)
        return self.known_right

    @property
    def running(self) -> bool:
        """Whether this is running text: a sentence-long paragraph, not a link."""
        return len(self.text.strip()) >= RUNNING_CHARS and self.link_ratio <= RUNNING_LINKS


@dataclass
class Body:
    """The article text of a page and what was set aside while reading it."""

    blocks: list[Block] = field(default_factory=list)
    container: etree._Element | None = None
    captions: list[str] = field(default_factory=list)
    # Text of the boxes left out on evidence (related, promo, share): what a second
    # reading may find and we chose not to keep.
    set_aside: list[str] = field(default_factory=list)
    # How the container was found: "profile", "schema", "density", "trafilatura", "".
    found_by: str = ""
    teasers: int = 0
    teaser_share: float = 0.0
    figures: int = 0


def walk_blocks(root, skip: set | frozenset = frozenset()) -> Iterator[Block]:
    """One Block per run of inline text between block edges, so bare <div> paragraphs
    and text next to nested blocks are both kept. Chrome tags and `skip` subtrees are
    passed over; inline elements never end a block."""
    parts: list[str] = []
    link_chars = 0
    owner = root

    def flush() -> Block | None:
        nonlocal parts, link_chars
        text = "".join(parts)
        block = None
        if text.strip():
            total = len(text.strip()) or 1
            block = Block(text, owner, min(1.0, link_chars / total))
        parts, link_chars = [], 0
        return block

    def walk(el, in_link: bool) -> Iterator[Block]:
        nonlocal owner, link_chars
        tag = el.tag if isinstance(el.tag, str) else ""
        # Hidden elements are read like the rest: a "xem thêm" toggle hides the end of
        # an article behind display:none, and losing it is worse than a hidden label.
        if not tag or tag in CHROME_TAGS or el in skip:
            return
        is_block = tag not in INLINE_TAGS
        if is_block:
            b = flush()
            if b:
                yield b
            owner = el
        if tag == "br":
            parts.append(" ")
        in_link = in_link or tag == "a"
        if el.text:
            parts.append(el.text)
            if in_link:
                link_chars += len(el.text.strip())
        for child in el:
            yield from walk(child, in_link)
            if child.tail:
                parts.append(child.tail)
                if in_link:
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


# --- Finding the container -----------------------------------------------------------


def running_text(blocks: Iterable[Block], stop=None, count: bool = False) -> dict:
    """Characters of running text under each element (up to `stop`), from its blocks;
    with `count`, the number of running paragraphs instead."""
    totals: dict = {}
    for block in blocks:
        if not block.running:
            continue
        n = 1 if count else len(block.text.strip())
        el = block.element
        while el is not None:
            totals[el] = totals.get(el, 0) + n
            if el is stop:
                break
            el = el.getparent()
    return totals


def link_density(el) -> float:
    text = len(clean(el.text_content())) or 1
    links = sum(len(clean(a.text_content())) for a in el.iter("a"))
    return min(1.0, links / text)


def densest(tree, keep: set) -> etree._Element | None:
    """The element that holds the densest run of running text: the parent of most
    paragraph text, grown to its ancestors while they add running text (an article
    split over two divs) and not link lists. Blocks inside regions whose class says
    chrome count less, unless the region holds the headline (`keep`)."""
    body = tree.find("body")
    blocks = list(walk_blocks(body if body is not None else tree))
    scores: dict = {}
    for block in blocks:
        if not block.running:
            continue
        weight = len(block.text.strip()) * chrome_penalty(block.element, keep)
        el = block.element
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        for target, share in ((el, 0.5), (parent, 1.0), (grand, 0.5)):
            if target is not None:
                scores[target] = scores.get(target, 0) + weight * share
    if not scores:
        return None
    best = max(scores, key=scores.get)
    totals = running_text(blocks)
    counts = running_text(blocks, count=True)
    while True:
        parent = best.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        # Another part of the same text beside it: a sibling with paragraphs of its own
        # (one line beside it is the date, the sapo or a caption, not more text).
        more = any(
            counts.get(s, 0) >= 2 and totals.get(s, 0) >= 0.25 * totals.get(best, 0)
            for s in parent
            if s is not best
        )
        if not more or link_density(parent) > 0.35:
            break
        best = parent
    return best


def in_box(el, keep: set) -> bool:
    """Whether an element sits in a box whose class says it is not the article (a
    related list, a share bar), below the headline's own regions (`keep`)."""
    for anc in [el, *el.iterancestors()]:
        if anc in keep:
            return False
        if labelled_as(BOILERPLATE_CLASS, label(anc)):
            return True
    return False


def chrome_penalty(el, keep: set) -> float:
    return 0.3 if in_box(el, keep) else 1.0


def find_container(tree, profile: SiteProfile, keep: set) -> tuple[etree._Element | None, str]:
    """The article's text container and how it was found: the profile's selector, else
    schema.org's articleBody when it holds the densest text, else the densest region."""
    chosen = select_one(tree, profile.selectors.get("body"))
    if chosen is not None and len(chosen.text_content().split()) >= 30:
        return chosen, "profile"
    dense = densest(tree, keep)
    schema = select_one(tree, SCHEMA_BODY)
    if (
        schema is not None
        and len(schema.text_content().split()) >= 30
        and (dense is None or dense in lineage(schema) or schema in lineage(dense))
    ):
        return schema, "schema"
    return dense, "density" if dense is not None else ""


# --- Reading the container -----------------------------------------------------------


def read_body(container, keep: set, found_by: str = "") -> Body:
    """The paragraphs of an article container, in order, without what is not the article
    (see the module's docstring), with the captions set aside."""
    raw = list(walk_blocks(container))
    totals = running_text(raw, stop=container)
    skip, captions = skipped_boxes(container, keep, totals)
    blocks = []
    for block in raw:
        if skipped(block.element, skip, container):
            continue
        text = TEMPLATE_TEXT.sub("", block.text)
        text = clean(VIEW_COUNTER.sub("", text)) if VIEW_COUNTER.search(text) else clean(text)
        if not text or SHARE_TEXT.match(text):
            continue
        block.text = text
        blocks.append(block)
    teasers, share = teaser_units(blocks)  # before the link lines are dropped
    blocks = drop_related(blocks)
    figures = sum(1 for el in container.iter("img", "figure") if not skipped(el, skip, container))
    aside = [clean(el.text_content()) for el in skip if el.tag not in ("figure", "figcaption")]
    return Body(blocks, container, captions, [a for a in aside if a], found_by, teasers, share,
                figures)  # fmt: skip


def skipped(el, skip: set, stop) -> bool:
    while el is not None:
        if el in skip:
            return True
        if el is stop:
            return False
        el = el.getparent()
    return False


def skipped_boxes(container, keep: set, totals: dict) -> tuple[set, list[str]]:
    """The elements inside a container that are not article text, and the captions."""
    skip: set = set()
    captions: list[str] = []
    whole = totals.get(container, 0)
    for el in container.iter():
        if el is container or not isinstance(el.tag, str) or el.tag in INLINE_TAGS:
            continue
        if el in keep or skipped(el.getparent(), skip, container):
            continue
        if is_caption(el):
            skip.add(el)
            text = clean(el.text_content())
            if text and el.tag != "figure":
                captions.append(text)
            elif el.tag == "figure" and el.find(".//figcaption") is not None:
                captions.append(clean(el.find(".//figcaption").text_content()))
        elif (
            el.tag == "form"
            and len(el.text_content()) < 400
            or removable_box(el, totals.get(el, 0), whole)
        ):
            skip.add(el)
    skip |= trailing_boxes(container, keep)
    return skip, [c for c in captions if c]


def removable_box(el, running: int, whole: int) -> bool:
    """A box whose class says it is not the article, when its content agrees: it holds
    little of the container's running text and is mostly links, a few words, or has
    little running text of its own."""
    if not labelled_as(BOILERPLATE_CLASS, label(el)):
        return False
    if whole and running >= 0.5 * whole:
        return False  # the box holds the article itself
    text = clean(el.text_content())
    words = len(text.split())
    return words < 30 or link_density(el) >= 0.3 or running < 0.5 * len(text)


CAPTION_WORDS = {"caption", "pcaption", "imgcaption", "image-caption", "chuthich", "chu-thich",
                 "photo-caption", "figcaption", "desc-image", "image-desc"}  # fmt: skip


def is_caption(el) -> bool:
    """Photo captions and the frames that hold a photo with its caption: figures, image
    tables (a table holding a picture and a line or two), caption-classed elements,
    and the short centred or italic line right under a picture."""
    if el.tag in ("figure", "figcaption"):
        return True
    words = class_words(el)
    if words & CAPTION_WORDS or any(w.endswith("caption") for w in words):
        return True
    if el.tag == "table" and el.find(".//img") is not None:
        return len(el.text_content().split()) <= 60
    if el.tag in ("p", "div", "em", "center") and len(el.text_content().split()) <= 40:
        previous = el.getprevious()
        if previous is not None and is_picture_only(previous) and looks_like_caption_line(el):
            return True
    return False


def is_picture_only(el) -> bool:
    """A paragraph or frame that shows a picture and no text."""
    if el.tag == "img":
        return True
    return el.find(".//img") is not None and not clean(el.text_content())


def looks_like_caption_line(el) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return (
        "text-align:center" in style
        or (el.get("align") or "").lower() == "center"
        or el.tag in ("em", "center")
        or el.find(".//em") is not None
        or el.find(".//i") is not None
    )


def trailing_boxes(container, keep: set) -> set:
    """Boxes after the article's last paragraph that link elsewhere: "read also", a
    promo for the site's book series, a sponsor's box. Only where the article's text
    is made of <p> children, so a CMS writing paragraphs as bare <div>s loses nothing."""
    children = [c for c in container if isinstance(c.tag, str)]
    last_p = max((i for i, c in enumerate(children) if c.tag == "p"), default=None)
    if last_p is None:
        return set()
    boxes = set()
    for child in children[last_p + 1 :]:
        if child in keep or child.tag in INLINE_TAGS or child.tag in ("p", "blockquote"):
            continue
        has_blocks = child.find(".//p") is not None or child.find(".//li") is not None
        if child.get("class") and has_blocks and child.find(".//a[@href]") is not None:
            boxes.add(child)
    return boxes


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


def teaser_units(blocks: list[Block]) -> tuple[int, float]:
    """How many other articles' headlines the text links to, and the share of its words
    that sit in headline-led units (a linked headline and the short sapo after it): a
    section page's "text" is made of them, however many words they add up to."""
    hrefs: set[str] = set()
    in_units = 0
    unit_words = 0
    open_unit = False
    total = 0
    for block in blocks:
        n = len(block.text.split())
        total += n
        headline = headline_link(block)
        if headline:
            hrefs.add(headline)
            in_units += unit_words if open_unit else 0
            unit_words, open_unit = n, True
        elif open_unit and unit_words + n <= 80:
            unit_words += n
        else:
            in_units += unit_words if open_unit else 0
            unit_words, open_unit = 0, False
    in_units += unit_words if open_unit else 0
    return len(hrefs), (in_units / total if total else 0.0)


def headline_link(block: Block) -> str | None:
    """The article link a block leads with, when the block is a linked headline."""
    if block.link_ratio < 0.5:
        return None
    for a in block.element.iter("a"):
        href = a.get("href") or ""
        if len(a.text_content().split()) >= 4 and looks_like_article(href):
            return href
    return None


def word_count(blocks: Iterable[Block]) -> int:
    return sum(len(b.text.split()) for b in blocks)


def trafilatura_blocks(tree, url: str) -> list[Block]:
    """Last resort: trafilatura's main-text extraction, one block per line."""
    import lxml.html
    import trafilatura  # imported lazily: it is slow to import and rarely needed

    doc = trafilatura.bare_extraction(
        lxml.html.tostring(tree, encoding="unicode"),
        url=url,
        include_comments=False,
        with_metadata=False,
    )
    text = getattr(doc, "text", None) or ""
    return [
        Block(clean(line), tree, 0.0, known_bold=False, known_right=False)
        for line in text.splitlines()
        if clean(line)
    ]
