"""What a page says about itself: Open Graph, ``article:*``, itemprop, ``<time>``,
JSON-LD and ``<title>``, read into one flat dict."""

from __future__ import annotations

import json
from collections.abc import Iterator

import lxml.html

from archive.html import clean


def read_metadata(tree: lxml.html.HtmlElement) -> dict:
    """Open Graph, article:*, itemprop, JSON-LD and <title> in one flat dict."""
    meta: dict = {"tags": []}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = clean(el.get("content"))
        if not key or not value:
            continue
        if key == "article:tag":
            meta["tags"].append(value)
        elif key in ("og:title", "twitter:title"):
            meta.setdefault("og_title", value)
        elif key == "og:type":
            meta["og_type"] = value.lower()
        elif key in ("og:description", "description", "twitter:description"):
            meta.setdefault("description", value)
        elif key in (
            "article:published_time",
            "datepublished",
            "pubdate",
            "publishdate",
            "dc.date.issued",
            "article:published",
            "og:published_time",
            "date",
        ):
            meta.setdefault("published", value)
        elif key in ("article:modified_time", "datemodified", "og:updated_time"):
            meta.setdefault("modified", value)
        elif key == "article:section":
            meta.setdefault("section", value)
        elif key in ("author", "article:author", "dc.creator"):
            meta.setdefault("author", value)
        elif key in ("og:image", "twitter:image"):
            meta.setdefault("image", el.get("content"))
        elif key == "og:site_name":
            meta["site_name"] = value
    for el in tree.xpath("//*[@itemprop='datePublished'][@datetime or @content]"):
        meta.setdefault("published", el.get("datetime") or el.get("content"))
    for node in json_ld_articles(tree):
        meta["jsonld_article"] = True
        for key, field in (
            ("headline", "ld_title"),
            ("datePublished", "ld_published"),
            ("dateModified", "modified"),
            ("articleSection", "section"),
            ("articleBody", "ld_body"),
        ):
            value = node.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, str) and value.strip():
                meta.setdefault(field, clean(value))
        author = node.get("author")
        names = [
            a.get("name") if isinstance(a, dict) else a
            for a in (author if isinstance(author, list) else [author])
        ]
        names = [clean(n) for n in names if isinstance(n, str) and n.strip()]
        if names:
            meta.setdefault("ld_author", ", ".join(names))
        keywords = node.get("keywords")
        if isinstance(keywords, str) and keywords.strip():
            meta.setdefault("ld_keywords", [clean(k) for k in keywords.split(",") if k.strip()])
        elif isinstance(keywords, list):
            meta.setdefault("ld_keywords", [clean(k) for k in keywords if isinstance(k, str)])
    meta["ld_breadcrumb"] = json_ld_breadcrumb(tree)
    title = tree.find(".//title")
    meta["html_title"] = clean(title.text_content()) if title is not None else ""
    meta["title"] = meta.get("og_title") or meta.get("ld_title") or meta["html_title"] or None
    return meta


def json_ld_articles(tree: lxml.html.HtmlElement) -> Iterator[dict]:
    """JSON-LD nodes whose @type is an article type (NewsArticle, Article, ...)."""
    return json_ld_nodes(tree, lambda kind: kind.endswith("Article"))


def json_ld_breadcrumb(tree: lxml.html.HtmlElement) -> list[str]:
    """The names of a JSON-LD BreadcrumbList, in position order ([] when none)."""
    for node in json_ld_nodes(tree, lambda kind: kind == "BreadcrumbList"):
        items = [i for i in node.get("itemListElement") or [] if isinstance(i, dict)]
        items.sort(key=lambda i: i.get("position") if isinstance(i.get("position"), int) else 0)
        names = []
        for item in items:
            name = item.get("name")
            inner = item.get("item")
            if not name and isinstance(inner, dict):
                name = inner.get("name")
            if isinstance(name, str) and clean(name):
                names.append(clean(name))
        if names:
            return names
    return []


def json_ld_nodes(tree: lxml.html.HtmlElement, wanted) -> Iterator[dict]:
    """JSON-LD nodes (top level, lists and @graph) whose @type satisfies `wanted`."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text_content() or "null")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            node = stack.pop(0)
            if not isinstance(node, dict):
                continue
            stack.extend(node.get("@graph") or [])
            kinds = node.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and wanted(k) for k in kinds):
                yield node
