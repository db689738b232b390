"""Extraction: one pure function from a fetched page to an Article.

``extract(html, url, profile)`` imports no Scrapy and touches no network, so it runs
on saved pages in tests and over stored raw pages in ``vnnews reextract``.

The order for every field is the same: the profile's selector when it has one, then
the page's own metadata (JSON-LD, Open Graph, ``article:*``, ``<time>``), then layout
heuristics that survive the traps of Vietnamese provincial sites (docs/domain.md): the
header's "today" date, two ``<h1>``, the portal name as ``<title>``, related-link boxes
inside the body, bylines and reprint credits as the last paragraph, paper codes in front
of the lead. The body comes from the profile's or a well-known article container,
else from a text-density search, else from trafilatura.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from urllib.parse import urlsplit

import lxml.html

from archive.body import (
    BODY_WORDS,
    TEMPLATE_TEXT,
    TODAY_CLASS,
    Block,
    Body,
    find_container,
    in_box,
    looks_like_caption_line,
    read_body,
    trafilatura_blocks,
    word_count,
)
from archive.crosscheck import cross_check, their_paragraphs
from archive.dates import VN_TZ, FoundDate, find_date, to_iso
from archive.html import (
    absolute,
    class_words,
    clean,
    decode_html,
    in_chrome,
    label,
    labelled_as,
    lineage,
    page_index,
    parse_html,
    select_one,
)
from archive.metadata import read_metadata
from archive.models import Article
from archive.sites import SiteProfile, generic_profile, site_for_url
from archive.urls import NON_ARTICLE_PATH as NON_ARTICLE_URL
from archive.urls import looks_like_article

# Class/id words that mark a lead (sapo), a byline and a headline on CMSs we have not
# seen: matched as patterns, since every vendor spells them differently
# (sapo_detail, NewsSummary, pHead, author_detail, lblTitle...).
LEAD_CLASS = re.compile(
    r"sapo|summary|chapeau|tomtat|tom-tat|(^|[\s_-])lead|phead|description|intro|excerpt", re.I
)

AUTHOR_CLASS = re.compile(
    r"author|pseudonym|byline|tacgia|tac-gia|butdanh|but-danh|writer|signature", re.I
)

TITLE_CLASS = re.compile(r"title|tieude|tieu-de|headline|(^|[\s_-])head($|[\s_-])|heading", re.I)

DATE_CLASS = re.compile(
    r"date|time|publish|ngay|thoigian|created|posted|pubdate|datetime|meta|update", re.I
)

# Leads often open with the paper's code: "BHG - ", "(CTO) - ", "YBĐT - ", "CBO – ".
LEAD_CODE = re.compile(r"^\s*\(?[A-ZĐ]{2,6}\)?\s*[-–—:]\s+")

ROLE_PREFIX = re.compile(
    r"^\s*((bài|tin|ảnh|video|clip|thực hiện|nhóm thực hiện|bài và ảnh|bài, ảnh|tin, ảnh|"
    r"bài và ảnh|tin và ảnh|bài/ảnh|tin/ảnh|bài - ảnh|tin - ảnh|ghi chép|phóng sự)"
    r"(\s*[,/&-]\s*(ảnh|video|clip))?)\s*:\s*",
    re.I,
)

WIRE_SOURCE = re.compile(r"^\s*\(?\s*theo\s+(?P<source>[^()]{2,60}?)\s*\)?\s*\.?\s*$", re.I)

CREDIT = re.compile(
    r"^\s*(?P<name>[^()\n]{2,60}?)\s*\(\s*(?P<outlet>[\w.-]+\.(?:vn|com|net|org|info)(?:\.vn)?)\s*\)\s*\.?\s*$",
    re.I,
)

# A byline with an editor's note: "Hà Thu (tổng hợp)", "Minh Anh (theo Reuters)".
NOTED_NAME = re.compile(
    r"^\s*(?P<name>[^()]{2,60}?)\s*\(\s*(?P<note>tổng hợp|lược dịch|biên dịch|dịch|"
    r"theo\s+[^()]{2,40}|tổng hợp từ\s+[^()]{2,40})\s*\)\s*\.?\s*$",
    re.I,
)

NAME_WORD = re.compile(r"^\w[\w.'’-]*$")


def extract(
    html: str | bytes,
    url: str,
    profile: SiteProfile | None = None,
    encoding: str | None = None,
    tree: lxml.html.HtmlElement | None = None,
) -> Article:
    """Extract an Article from a page. Pure: no network, no clock, no Scrapy. ``tree``:
    the page already parsed by ``archive.html.parse_html`` (which extraction never
    changes), else it is parsed here."""
    profile = profile or site_for_url(url) or generic_profile(url)
    if tree is None:
        # No whole-page NFC here: every string taken from the page goes through clean().
        text = decode_html(html, encoding, normalize=False) if isinstance(html, bytes) else html
        tree = parse_html(text, url)
    meta = read_metadata(tree)
    article = Article(url=url, site=profile.name)

    title_el = find_title_element(tree, meta, profile)
    article.title = clean(title_el.text_content()) if title_el is not None else None
    article.title = article.title or meta.get("title")

    keep = lineage(title_el)  # the headline's regions are never chrome
    container, found_by = find_container(tree, profile, keep)
    body = read_body(container, keep, found_by) if container is not None else Body()
    if word_count(body.blocks) < 30:
        fallback = trafilatura_blocks(tree, url)
        if word_count(fallback) > word_count(body.blocks):
            body = Body(fallback, None, body.captions, found_by="trafilatura")

    blocks = [b for b in body.blocks if article.title is None or b.text != article.title]
    lead, blocks = find_lead(tree, blocks, profile, meta, title_el)
    region = article_region(tree, title_el, body.container)
    column = None if region is tree else region
    author, source, blocks = find_byline(tree, blocks, profile, meta, title_el, keep, column)
    article.lead = strip_lead_code(lead, profile.lead_code) if lead else None
    article.author = author
    article.source = source
    paragraphs = [b.text for b in blocks]
    kept_words = sum(len(p.split()) for p in paragraphs)
    # A box left out on evidence is no loss, unless it is as big as what we kept.
    boxes = [t for t in body.set_aside if len(t.split()) < 0.5 * kept_words]
    if paragraphs or article.lead:
        verdict = cross_check(
            [article.lead or "", *paragraphs],
            their_paragraphs(region, url),
            meta.get("ld_body"),
            seen=[article.title or "", *body.captions, author or "", *boxes],
        )
        article.lead = verdict.paragraphs[0] or None
        paragraphs = verdict.paragraphs[1:]
        article.warnings = verdict.warnings
    article.body = "\n\n".join(paragraphs) or None

    body_start = blocks[0].element if blocks else None
    found = find_published(
        tree,
        meta,
        profile,
        title_el if title_el is not None else container,
        keep,
        body_start,
        column,
    )
    article.published_at = stored_date(found)
    modified = meta.get("modified")
    mod = find_date(modified, profile.timezone) if modified else None
    article.modified_at = to_iso(mod.value) if mod and mod.has_time else None
    article.category = find_category(tree, meta, profile, article.title, title_el)
    article.tags = find_tags(tree, meta, profile)
    article.image, article.image_caption = find_image(meta, body)
    container_words = class_words(container) if container is not None else set()
    article.signals = {
        "og_type": meta.get("og_type"),
        "jsonld_article": meta.get("jsonld_article", False),
        "has_date": found is not None,
        "container": found_by in ("profile", "schema") or bool(BODY_WORDS & container_words),
        "teasers": body.teasers,
        "teaser_share": body.teaser_share,
        "figures": body.figures,
        "caption_words": sum(len(c.split()) for c in body.captions),
    }
    return article


def article_region(tree, title_el, container):
    """The smallest element that holds the headline and the text container: the
    article's own column, where a second reading looks for what we may have dropped."""
    if container is None:
        return tree
    if title_el is None:
        return container.getparent() if container.getparent() is not None else container
    ancestors = lineage(container)
    for el in [title_el, *title_el.iterancestors()]:
        if el in ancestors:
            return tree if el.tag in ("body", "html") else el
    return tree


def similarity(a: str, b: str) -> float:
    """Word overlap of a against b (how much of a's words are in b)."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return len(wa & wb) / len(wa) if wa else 0.0


def find_title_element(tree, meta: dict, profile: SiteProfile):
    """The headline element: the profile's, else the <h1> or title-classed element that
    best matches the page's metadata title, skipping category h1s, logos, link lists
    and the page chrome (portals put their own name in <title>)."""
    chosen = select_one(tree, profile.selectors.get("title"))
    if chosen is not None and clean(chosen.text_content()):
        return chosen
    reference = meta.get("og_title") or meta.get("ld_title") or meta.get("html_title") or ""
    if reference.lower().startswith(("cổng thông tin", "trang thông tin", "website")):
        reference = ""  # a portal's own name says nothing about the article
    candidates = []
    index = page_index(tree)
    headings = {el for el in tree.iter("h1")}
    titled = {el for _, el, text in index.labelled if TITLE_CLASS.search(text)}
    for el in sorted(headings | titled, key=index.order.__getitem__):
        if el.tag in ("head", "title", "meta", "a", "script", "style"):
            continue
        is_h1 = el.tag == "h1"
        n = len(clean(el.text_content()).split())
        if (is_h1 and n >= 2) or 4 <= n <= 40:
            candidates.append(el)
    if not candidates:
        return None

    def score(el) -> float:
        text = clean(el.text_content())
        s = similarity(text, reference) if reference else 0.0
        s += min(len(text.split()), 25) / 100  # a headline is longer than a section name
        s += 0.3 if el.tag == "h1" else 0.0
        if in_chrome(el) or el.xpath("ancestor::a|.//a") or el.find(".//img") is not None:
            s -= 1
        if el.xpath("ancestor::li|ancestor::ul"):
            s -= 0.5  # headline lists ("Tin khác", "Đọc nhiều")
        return s

    return max(candidates, key=score)


def classed(
    tree,
    pattern: re.Pattern,
    after=None,
    max_words: int = 40,
    keep: set | None = None,
    links: bool = False,
    region=None,
) -> Iterator:
    """Elements whose class or id matches `pattern`, in document order, after the
    headline when one is known, outside the page chrome and outside link lists; links
    themselves only with `links` (a byline is often an <a class="author">)."""
    keep = lineage(after) if keep is None else keep
    index = page_index(tree)
    start = index.order.get(after, -1) if after is not None else -1
    skipped_tags = (
        ("meta", "script", "body", "html") if links else ("meta", "script", "a", "body", "html")
    )
    for position, el, text in index.labelled:
        if position <= start or el.tag in skipped_tags or not pattern.search(text):
            continue
        n = len(el.text_content().split())
        if (
            0 < n <= max_words
            and len(el.findall(".//p")) <= 2
            and not in_chrome(el, keep, region)
            and not el.xpath("ancestor::a|ancestor::li")
        ):
            yield el


def find_lead(
    tree, blocks: list[Block], profile: SiteProfile, meta: dict, title_el=None
) -> tuple[str | None, list[Block]]:
    """The sapo: the profile's or a lead-classed element after the headline, else a bold
    first paragraph, else a first paragraph that the page's own description repeats."""
    el = select_one(tree, profile.selectors.get("lead"))
    if el is None:
        el = next(classed(tree, LEAD_CLASS, after=title_el, max_words=150), None)
    if el is not None:
        text = clean(TEMPLATE_TEXT.sub("", el.text_content()))
        if len(text.split()) >= 5:
            code_free = strip_lead_code(text)
            return text, [b for b in blocks if strip_lead_code(b.text) != code_free]
    if not blocks:
        return None, blocks
    first = blocks[0]
    description = meta.get("description") or ""
    repeated = shown_description(title_el, first.element, description)
    if repeated is not None:
        text = clean(repeated.text_content())
        return text, [b for b in blocks if b.text != text]
    if (first.bold and len(first.text.split()) >= 8) or (
        description
        and len(first.text.split()) >= 8
        and similarity(strip_lead_code(first.text), description) > 0.8
        and similarity(description, first.text) > 0.8
    ):
        return first.text, blocks[1:]
    # A bold code-prefixed opening ("BHG - ...") inside the first body paragraph.
    if LEAD_CODE.match(first.text) and first.element.xpath(".//strong|.//b"):
        bold = clean(" ".join(b.text_content() for b in first.element.xpath(".//strong|.//b")))
        if first.text.startswith(bold) and len(bold.split()) >= 8:
            rest_text = clean(first.text[len(bold) :])
            rest = (
                [
                    Block(
                        rest_text,
                        first.element,
                        first.link_ratio,
                        known_bold=False,
                        known_right=first.right,
                    )
                ]
                if rest_text
                else []
            )
            return bold, rest + blocks[1:]
    return None, blocks


def following(el) -> Iterator:
    """The elements after `el` in document order (not its own descendants)."""
    for node in [el, *el.iterancestors()]:
        for sibling in node.itersiblings():
            yield from sibling.iter()


def shown_description(title_el, text_start, description: str):
    """The element between the headline and the article text that shows the page's own
    description: the sapo, however it is marked up (an <h2>, a bare <div>)."""
    if title_el is None or len(description.split()) < 8:
        return None
    found = None
    for node in following(title_el):
        if node is text_start or (found is not None and found not in lineage(node)):
            break
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "a"):
            continue
        text = clean(node.text_content())
        if not 0.6 * len(description) <= len(text) <= 1.6 * len(description):
            continue
        if similarity(text, description) > 0.8 and similarity(description, text) > 0.8:
            found = node  # the innermost element that still holds it all
    return found


def strip_lead_code(text: str, code: str | None = None) -> str:
    """The lead without the paper's code in front ("BHG - ", "(CTO) - "): the generic
    shape, or the profile's own code when it is written some other way."""
    if code:
        text = re.sub(rf"^\s*\(?{re.escape(code)}\)?\s*[-–—:]\s*", "", text, count=1)
    return LEAD_CODE.sub("", text, count=1).strip()


def find_byline(
    tree,
    blocks: list[Block],
    profile: SiteProfile,
    meta: dict,
    title_el=None,
    keep=None,
    region=None,
):
    """Author and original outlet, from a byline element or the last body lines.
    Returns (author, source, blocks without the byline lines)."""
    author: str | None = None
    source: str | None = None
    # Credits and bylines sit at the end of the body: look at the last two lines.
    for _ in range(2):
        if not blocks:
            break
        last = blocks[-1]
        parsed = parse_byline_line(last)
        if parsed is None:
            break
        name, outlet = parsed
        author = author or name
        source = source or outlet
        blocks = blocks[:-1]
    if author is None:
        tz = profile.timezone or VN_TZ
        el = select_one(tree, profile.selectors.get("author"))
        if el is not None:
            candidates = [(el, *byline_element(el, tz))]
        else:
            # Byline boxes come several to a page (one with the date under the headline,
            # one with the name after the text): the first that names someone.
            boxes = classed(
                tree, AUTHOR_CLASS, after=title_el, max_words=40, keep=keep, links=True,
                region=region,
            )  # fmt: skip
            candidates = [(box, *byline_element(box, tz)) for box in islice(boxes, 8)]
            candidates = [c for c in candidates if c[2] or (c[1] and looks_like_name(c[1]))]
        credited = source_box(tree, title_el, keep, region)
        if candidates:
            el, name, outlet = candidates[0]
            if credited and outlet and not name and looks_like_name(outlet):
                # "Theo Hồ Hương" beside a source box ("Đại Đoàn kết"): the page names
                # the outlet apart, so the one after "Theo" is the writer.
                name, outlet = outlet, None
            author, source = name or author, source or outlet
            shown = clean(el.text_content())
            blocks = [b for b in blocks if b.text != shown]
        source = source or credited
    if author is None:
        candidate = meta.get("ld_author") or meta.get("author")
        if candidate and not looks_like_site_name(candidate, meta, profile):
            name, outlet = split_credit(candidate)
            author = name or (outlet if source and looks_like_name(outlet or "") else None)
    return author or None, source, blocks


SOURCE_CLASS = re.compile(r"(^|[\s_-])(source|nguon|nguon-?tin)($|[\s_-])", re.I)


def source_box(tree, title_el, keep, region) -> str | None:
    """The outlet a page credits in a box of its own ("Nguồn: Đại Đoàn kết")."""
    for box in islice(classed(tree, SOURCE_CLASS, after=title_el, max_words=8, keep=keep,
                              region=region), 3):  # fmt: skip
        inner = (f"{d.get('class', '')} {d.get('id', '')}" for d in box.iterdescendants())
        if any(SOURCE_CLASS.search(cls) for cls in inner):
            continue  # the innermost box holds the outlet alone
        text = clean(TEMPLATE_TEXT.sub("", box.text_content()))
        text = re.sub(r"^\s*(nguồn|source)\s*:?\s*", "", text, flags=re.I)
        if text and "http" not in text and "/" not in text and "{" not in text:
            return text.strip(" .")
    return None


# Links to an author's page: the names a byline box lists, however many it shows.
AUTHOR_HREF = re.compile(r"tac-?gia|author|but-?danh|/tg/|nguoi-?viet|phong-?vien|/profile/", re.I)

# What byline widgets print around the names: "và 1 tác giả khác", "Xem các bài viết
# của tác giả", "Theo dõi", "Tác giả:", "(120 bài viết)".
WIDGET_LABEL = re.compile(
    r"và\s+\d+\s+tác giả khác|xem\s+(thêm\s+)?(tất cả\s+)?(các\s+)?bài(\s+viết)?"
    r"(\s+của)?(\s+tác giả)?|theo dõi|follow|(tác giả|người viết|phóng viên)\s*:|"
    r"\(?\d+\s+bài viết\)?",
    re.I,
)


# What is left of a dateline once its date is cut out: weekday, "Cập nhật", "lúc".
DATE_WORDS = re.compile(
    r"(?<!\w)(thứ\s*(hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|cập nhật|đăng lúc|"
    r"đăng ngày|ngày đăng|lúc|gmt\s*[+-]\s*\d+|ngày)(?!\w)\s*:?",
    re.I,
)


def byline_element(el, tz: str) -> tuple[str | None, str | None]:
    """(author, source) from a byline box: the names its author links give, joined as
    printed ("NHẬT XUÂN - NGHI VŨ"), else its text without the date, the time and the
    widget's labels."""
    linked: list[str] = []
    for a in el.iter("a"):
        if not AUTHOR_HREF.search(a.get("href") or ""):
            continue
        name = clean(a.text_content()) or clean(a.get("title"))
        known = {n.lower() for n in linked}
        if name and 1 <= len(name.split()) <= 6 and not re.search(r"\d", name):
            linked += [] if name.lower() in known else [name]
    if linked:
        return " - ".join(linked), None
    text = clean(el.text_content())
    found = find_date(text, tz)
    if found:
        text = text.replace(found.phrase, " ")
    text = DATE_WORDS.sub(" ", WIDGET_LABEL.sub(" ", text))
    text = clean(text).strip(" -–—|,·:")
    if not text or len(text) > 80:
        return None, None
    return split_credit(text)


def parse_byline_line(block: Block) -> tuple[str | None, str | None] | None:
    """(author, source) when a body line is a byline or credit, else None."""
    text = block.text.strip()
    if len(text) > 90 or len(text.split()) > 12:
        return None
    credit = CREDIT.match(text)
    if credit:
        name, _ = split_credit(credit.group("name"))
        return name, credit.group("outlet")
    wire = WIRE_SOURCE.match(text)
    if wire:
        return None, wire.group("source").strip()
    noted = NOTED_NAME.match(text)
    if noted and looks_like_name(noted.group("name")):
        note = noted.group("note")
        source = re.sub(r"^(tổng hợp từ|theo)\s+", "", note, flags=re.I) if " " in note else None
        return noted.group("name").strip(), source
    if ROLE_PREFIX.match(text):
        name, outlet = split_credit(ROLE_PREFIX.sub("", text))
        return name, outlet
    if (block.right or block.bold or looks_like_name(text)) and looks_like_name(text):
        return text.rstrip("."), None
    return None


def split_credit(text: str) -> tuple[str | None, str | None]:
    """'Bài, ảnh: Minh Hòa (baocaobang.vn)' -> ('Minh Hòa', 'baocaobang.vn')."""
    text = ROLE_PREFIX.sub("", clean(text))
    credit = CREDIT.match(text)
    if credit:
        return credit.group("name").strip(" -–,"), credit.group("outlet")
    wire = WIRE_SOURCE.match(text)
    if wire:
        return None, wire.group("source").strip()
    return (text.strip(" -–,.") or None), None


def looks_like_name(text: str) -> bool:
    """A short line of capitalised words (a person, initials like 'P.Y', or 'Nhóm PV')."""
    text = text.strip().rstrip(".")
    if not text or len(text) > 60 or text.endswith((":", "?", "!")):
        return False
    words = re.split(r"\s+|\s*[-–,&]\s*", text)
    words = [w for w in words if w]
    if not 1 <= len(words) <= 7:
        return False
    # Every word capitalised (Unicode-aware: "Đình", "Ánh"), as Vietnamese names are.
    return all(NAME_WORD.match(w) and w[0].isupper() for w in words)


def looks_like_site_name(value: str, meta: dict, profile: SiteProfile) -> bool:
    low = value.lower()
    site = (meta.get("site_name") or profile.title or "").lower()
    return (
        bool(site and (low in site or site in low))
        or low.startswith(("báo ", "tạp chí", "cổng"))
        or "." in low
    )


# An explicit UTC offset at the end of a machine-readable time: "Z", "+07:00", "+0700".
OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)\s*$", re.I)


def stored_date(found: FoundDate | None) -> str | None:
    """How a publication date is stored: ISO 8601 with its offset when the page gives the
    time, the bare day ('2026-01-08') when it gives only the day: never an invented
    midnight."""
    if found is None:
        return None
    return to_iso(found.value) if found.has_time else found.value.date().isoformat()


def find_published(
    tree, meta: dict, profile: SiteProfile, anchor, keep: set, body_start=None, region=None
) -> FoundDate | None:
    """Publication time: the profile's element, then metadata with a time, then the
    visible date nearest after the headline (never the header's "today"). A visible
    time on the metadata's day beats date-only metadata."""
    tz = profile.timezone or VN_TZ
    el = select_one(tree, profile.selectors.get("date"))
    if el is not None:
        found = find_date(clean(el.text_content()) or el.get("datetime") or "", tz)
        if found:
            return found
    date_only: FoundDate | None = None
    visible = visible_dates(tree, tz, anchor, keep, body_start, region)
    for key in ("published", "ld_published"):
        value = meta.get(key)
        found = find_date(value, tz) if value else None
        if found and found.has_time:
            shown = next((f for f in visible if f.has_time), None)
            if shown and not OFFSET.search(value) and shown.value != found.value:
                # A time without its offset is a guess about the zone (some CMSs write
                # UTC that way); the time the page shows under the headline is not.
                return shown
            return found
        date_only = date_only or found
    if date_only:
        # JSON-LD with a date but no time: the visible byline often has the time.
        for found in visible:
            if found.value.date() == date_only.value.date() and found.has_time:
                return found
        return date_only
    timed = [f for f in visible if f.has_time]
    return (timed or visible or [None])[0]


def in_link_list(el) -> bool:
    """Dates next to other articles' headlines ("Các tin khác (15/01/2024)") belong to
    those articles: inside a list item with a link, a list of links, or a widget that
    shows today's date."""
    for depth, anc in enumerate([el, *el.iterancestors()]):
        if depth > 4 or anc.tag in ("body", "html"):
            break
        if anc.tag == "li" and anc.find(".//a") is not None:
            return True
        if anc.tag in ("ul", "ol") and len(anc.findall(".//a")) >= 2:
            return True
        if labelled_as(TODAY_CLASS, label(anc)):
            return True
    return False


# How far before the headline a date line may sit (elements in document order): a
# date just above the title is a byline; one further up is the header's "today".
MAX_DATE_LEAD = 12
# How far after the headline the date search looks: bylines sit just under the title
# or at the end of the article, never thousands of elements away.
MAX_DATE_TRAIL = 1500

DIGIT = re.compile(r"\d")

SKIP_FOR_DATES = {"script", "style", "title", "head", "meta", "option", "html", "body"}


def visible_dates(
    tree, tz: str, anchor, keep: set, body_start=None, region=None
) -> list[FoundDate]:
    """Date phrases in short text elements, nearest after the headline first. Dates in
    the page chrome, in lists of other headlines, well above the headline, or in a
    related/share box past the start of the article text are never taken: that is
    where the header's "today" and other articles' dates live. A byline box whose class
    says "share" (``div.author-share-top``) still counts when it sits between the
    headline and the text."""
    index = page_index(tree)
    elements, order = index.elements, index.order
    at = order.get(anchor, 0) if anchor is not None else 0
    text_start = order.get(body_start, len(elements)) if body_start is not None else len(elements)
    scored = []
    seen = set()
    for i in range(max(0, at - MAX_DATE_LEAD), min(len(elements), at + MAX_DATE_TRAIL)):
        el = elements[i]
        if el.tag in SKIP_FOR_DATES:
            continue
        raw = el.text_content()
        # Cheap tests on the raw text first: most elements hold no digit, or a whole
        # article; cleaning those strings was most of this function's time.
        stamped = el.tag == "time" and el.get("datetime")
        if (len(raw) > 2000 or not DIGIT.search(raw)) and not stamped:
            continue
        text = clean(raw)
        if stamped:
            # A <time> says exactly what it shows (unless its attribute has no time and
            # its text has); where it stands decides whose it is.
            attribute = clean(el.get("datetime"))
            exact = find_date(attribute, tz)
            text = attribute if exact and (exact.has_time or not find_date(text, tz)) else text
        if not text or len(text) > 160 or not re.search(r"\d", text) or text in seen:
            continue
        # Only the innermost element carrying the phrase: parents repeat it.
        if any(clean(c.text_content()) == text for c in el if isinstance(c.tag, str)):
            continue
        distance = i - at
        if in_link_list(el):
            continue
        # Between the headline and the text sits the byline, whatever its wrapper is
        # called ("author-share-top"); elsewhere a chrome or box class rules a date out.
        if not at < i < text_start and (in_chrome(el, keep, region) or in_box(el, keep)):
            continue
        found = find_date(text, tz)
        if not found or (distance < 0 and not found.has_time):
            continue  # a bare date above the headline is the header's "today"
        if (
            i > text_start
            and len(found.phrase) < 0.5 * len(text)
            and not labelled_as(DATE_CLASS, label(el))
        ):
            continue  # in the text: an event's date in a sentence, not a dateline
        seen.add(text)
        if distance < 0:
            distance = 1000 - distance  # above the headline: only when nothing is below
        if labelled_as(DATE_CLASS, label(el)):
            distance -= 5
        scored.append((distance, found))
    scored.sort(key=lambda pair: pair[0])
    return [f for _, f in scored]


CATEGORY_WORDS = {"breadcrumb", "breadcrumbs", "crumb", "crumbs", "duongdan", "cate", "category",
                  "categories", "chuyenmuc", "cat"}  # fmt: skip

# A quick look at the raw class and id before splitting them into words.
CATEGORY_HINT = re.compile(r"crumb|cat|chuyenmuc|duongdan", re.I)

CRUMB_WORDS = {"breadcrumb", "breadcrumbs", "crumb", "crumbs", "duongdan"}

HOME_WORDS = {"trang chủ", "home", "trang chu", "trang nhất"}

CRUMB_SEPARATOR = re.compile(r"[»›>/|→]")

TAG_HINT = re.compile(r"tag|keyword|tukhoa", re.I)

TAG_WORDS = {"tag", "tags", "keyword", "keywords", "tukhoa", "taglist"}


def find_category(
    tree, meta: dict, profile: SiteProfile, title: str | None, title_el=None
) -> str | None:
    """The section: profile, else the last item of the breadcrumb or category label
    nearest the headline (not "Trang chủ", not the headline; a header widget far above
    it is not the article's), else article:section."""
    el = select_one(tree, profile.selectors.get("category"))
    if el is not None and clean(el.text_content()):
        return clean(el.text_content())
    trail = [
        name
        for name in meta.get("ld_breadcrumb") or []
        if name.lower() not in HOME_WORDS and name != title and len(name.split()) <= 8
    ]
    shaped = breadcrumb_shaped(tree)
    found: list[tuple[int, str, bool]] = []
    index = page_index(tree)
    at = index.order.get(title_el) if title_el is not None else None
    hinted = {el for _, el, text in index.labelled if CATEGORY_HINT.search(text)}
    for crumb in sorted(hinted | shaped, key=index.order.__getitem__):
        i = index.order[crumb]
        if crumb.tag in ("html", "body"):
            continue
        words = class_words(crumb) if crumb in hinted else set()
        if not (CATEGORY_WORDS & words or crumb in shaped):
            continue
        if in_chrome(crumb) and not CRUMB_WORDS & words:
            continue
        if crumb.xpath("ancestor::li"):
            continue  # a category label on a headline in a list
        items = [clean(a.text_content()) for a in crumb.xpath(".//a|.//li[not(.//a)]")] or [
            clean(crumb.text_content())
        ]
        items = [i for i in items if i and i.lower() not in HOME_WORDS and i != title]
        if len(clean(crumb.text_content())) > 160:
            continue  # a wrapper holding a menu or the article, not a label
        # A section's name: a few words, not a date or a time.
        items = [i for i in items if len(i.split()) <= 8 and "{{" not in i]
        items = [i for i in items if not re.search(r"\d{1,2}\s*[/:.-]\s*\d{1,2}", i)]
        if items:
            found.append((i, items[-1], crumb in shaped))
            if at is None:
                break  # no headline to be near: the first one, as a reader meets it
    if found:
        at = at if at is not None else found[0][0]
        found.sort(key=lambda pair: abs(pair[0] - at))
        shaped_found = [f for f in found if f[2]]
        if shaped_found:
            return shaped_found[0][1]  # a visible trail: "Trang chủ » Kinh tế"
        if trail:
            return trail[-1]  # the page's own JSON-LD trail beats a label found by its class
        return found[0][1]
    return trail[-1] if trail else meta.get("section")


def breadcrumb_shaped(tree) -> set:
    """Elements shaped like a trail, found from their "Trang chủ" link up (a page has a
    few home links, and thousands of elements)."""
    shaped = set()
    for a in tree.iter("a"):
        if clean(a.text_content()).lower() not in HOME_WORDS:
            continue
        for depth, anc in enumerate(a.iterancestors()):
            if depth >= 3 or anc.tag in ("body", "html"):
                break
            if looks_like_breadcrumb(anc):
                shaped.add(anc)
    return shaped


def looks_like_breadcrumb(el) -> bool:
    """A trail by its shape, whatever its class: "Trang chủ » Section » Subsection"."""
    first = el.find(".//a")  # cheap test first: this runs on every element of the page
    if first is None or clean(first.text_content()).lower() not in HOME_WORDS:
        return False
    links = el.findall(".//a")
    if not 2 <= len(links) <= 5:
        return False
    text = clean(el.text_content())
    return len(text) <= 120 and bool(CRUMB_SEPARATOR.search(text) or el.tag in ("ol", "ul"))


def find_tags(tree, meta: dict, profile: SiteProfile) -> list[str]:
    """Tags: profile, else article:tag metadata, else the links of a tag-classed box."""
    found: list[str] = []
    selector = profile.selectors.get("tags")
    if selector:
        try:
            found = [clean(a.text_content()) for a in tree.cssselect(selector)]
        except Exception:
            found = []
    if not found and meta["tags"]:
        found = meta["tags"]
    if not found:
        for _, box, text in page_index(tree).labelled:
            if not TAG_HINT.search(text):
                continue
            if TAG_WORDS & class_words(box) and not in_chrome(box):
                found = [clean(a.text_content()).lstrip("#").strip() for a in box.iter("a")]
                if found:
                    break
    found = [t for t in found if t and len(t) <= 60 and "{{" not in t]
    return list(dict.fromkeys(found))


def find_image(meta: dict, body: Body) -> tuple[str | None, str | None]:
    """The main image and its caption: the first picture in the article text (the one a
    reader sees under the headline), else the page's og:image without a caption."""
    content = body.container
    img = (
        next((i for i in content.iter("img") if i.get("src") and not i.xpath("ancestor::a")), None)
        if content is not None
        else None
    )
    if img is None:
        return meta.get("image"), None
    return absolute(img, img.get("src")), image_caption(img)


def image_caption(img) -> str | None:
    """A caption by where CMSs put it: <figcaption>, the rest of the image's table, the
    short centred or italic line right after it, else a descriptive alt text."""
    figure = next(img.iterancestors("figure"), None)
    if figure is not None and figure.find(".//figcaption") is not None:
        return clean(figure.find(".//figcaption").text_content()) or None
    table = next(img.iterancestors("table"), None)
    if table is not None and 0 < len(clean(table.text_content()).split()) <= 50:
        return clean(table.text_content())
    holder = img.getparent()
    following = holder.getnext() if holder is not None else None
    if following is not None and isinstance(following.tag, str):
        text = clean(following.text_content())
        captioned = "caption" in class_words(following) or looks_like_caption_line(following)
        if text and len(text.split()) <= 40 and captioned:
            return text
    alt = clean(img.get("alt"))
    return alt if len(alt.split()) >= 4 else None


MIN_ARTICLE_WORDS = 40

# Running text (captions aside) below which a page of four or more photos is a gallery.
GALLERY_TEXT_WORDS = 150

# "[Ảnh] Sắc màu lễ hội", "Video: ...", "Infographic | ...": media pages, not articles.
MEDIA_WORDS = r"(ảnh|photo|video|clip|infographic|podcast|phóng sự ảnh)"

MEDIA_TITLE = re.compile(
    rf"^\s*(\[\s*{MEDIA_WORDS}\s*\]|\(\s*{MEDIA_WORDS}\s*\)|{MEDIA_WORDS}\s*[:|–-])", re.I
)


def article_verdict(article: Article, profile: SiteProfile) -> tuple[bool, str]:
    """Whether an extracted page is a news article worth storing, with the reason.

    Sections, tag pages, galleries, video pages and error pages served with 200 must
    never become articles: we need a headline, real running text, and at least one
    sign from the page or its URL that it is an article.
    """
    url = article.url
    by_profile = profile.is_article_url(url)
    if by_profile is False:
        return False, "not an article URL for this site"
    path = urlsplit(url).path
    if NON_ARTICLE_URL.search(path):
        return False, "section, tag, media or search page"
    if not article.title:
        return False, "no headline"
    if article.word_count < MIN_ARTICLE_WORDS:
        return False, f"too little text ({article.word_count} words)"
    signals = article.signals
    if MEDIA_TITLE.match(article.title):
        return False, "photo, video or infographic page"
    marked = bool(signals.get("jsonld_article")) or signals.get("og_type") == "article"
    teasers = signals.get("teasers", 0)
    if teasers >= 4 and signals.get("teaser_share", 0) >= 0.5:
        # Linked headlines with their sapos: a section page, however many words they make.
        return False, f"section page ({teasers} headlines)"
    if signals.get("figures", 0) >= 4 and (
        article.word_count < GALLERY_TEXT_WORDS
        or (signals.get("caption_words", 0) > article.word_count and not marked)
    ):
        # A photo report with a long text is an article; a gallery's text is short.
        return False, "photo gallery"
    if signals.get("og_type") in ("website", "video.other", "video", "profile") and not (
        by_profile or looks_like_article(url) or signals.get("jsonld_article")
    ):
        return False, f"og:type is {signals['og_type']}"
    if by_profile or marked:
        return True, "article"
    if looks_like_article(url) and (
        signals.get("has_date")
        or signals.get("container")
        or article.word_count >= 3 * MIN_ARTICLE_WORDS
    ):
        return True, "article"
    if signals.get("has_date") and signals.get("container"):
        return True, "article"
    return False, "no sign of an article (no date, article markup or article URL)"
