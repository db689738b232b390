"""The stored copy of an article page, as a reader may safely see it, and the word diff
between two versions of an article.

A capture is the page as the paper served it, scripts and trackers included. It is
shown sanitised (lxml_html_clean drops scripts, event handlers, javascript: links,
frames, forms and embedded objects) inside an ``<iframe sandbox>`` without
``allow-scripts`` or ``allow-same-origin``, under a Content-Security-Policy that lets
nothing load from elsewhere (images from the paper would tell it who reads the
archive), below a banner saying what it is and when it was fetched.
"""

from __future__ import annotations

import difflib
import re
from html import escape

from lxml import etree
from lxml_html_clean import Cleaner

from archive.html import decode_html

CLEANER = Cleaner(
    scripts=True,
    javascript=True,
    comments=True,
    style=False,
    inline_style=False,
    links=True,
    meta=True,
    page_structure=False,
    processing_instructions=True,
    embedded=True,
    frames=True,
    forms=True,
    annoying_tags=True,
    safe_attrs_only=True,
)
# Nothing of the copy may run or load: only its own inline styles and data: images.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)


def sanitise(body: bytes, encoding: str | None) -> str:
    """The page's HTML with nothing that runs, loads a frame or submits a form."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", decode_html(body, encoding))
    try:
        return CLEANER.clean_html(text or "<p></p>")
    except (etree.ParserError, ValueError):
        return f"<pre>{escape(text)}</pre>"


def render(capture: dict, body: bytes) -> str:
    """A whole page: the banner, then the sanitised copy in a sandboxed frame."""
    copy = sanitise(body, capture.get("encoding"))
    fetched = capture.get("fetch_url")
    source = f" (tải từ {escape(fetched)})" if fetched else ""
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Bản lưu: {escape(capture["url"])}</title>
<style>body{{margin:0;font-family:sans-serif}} .banner{{background:#fff3cd;border-bottom:2px solid #c9a227;padding:.6em 1em}}
iframe{{border:0;width:100%;height:calc(100vh - 5em)}}</style></head><body>
<div class="banner" role="note"><strong>Bản lưu trong kho lưu trữ</strong>, không phải trang báo
đang hoạt động: trang <a href="{escape(capture["url"])}" rel="noopener noreferrer nofollow">{escape(capture["url"])}</a>
như tải về lúc {escape(capture["fetched_at"] or "?")} (UTC){source}, HTTP {capture.get("status") or "?"}.
Mã kịch bản đã bị gỡ, ảnh và tài nguyên bên ngoài không được tải. /
<span lang="en">Archived copy, fetched {escape(capture["fetched_at"] or "?")} UTC; scripts removed, nothing external loaded.</span></div>
<iframe sandbox="" referrerpolicy="no-referrer" title="Bản lưu" srcdoc="{escape(copy, quote=True)}"></iframe>
</body></html>"""


def word_diff(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """(op, text) runs from one text to the next, word by word: op is "same", "del"
    or "ins"; paragraph breaks are kept as words of their own."""
    a = re.findall(r"\n\s*\n|\S+", old or "")
    b = re.findall(r"\n\s*\n|\S+", new or "")
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("del", " ".join(a[i1:i2])))
        if j2 > j1:
            runs.append(("ins", " ".join(b[j1:j2])))
    return runs
