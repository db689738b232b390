"""Records that flow from extraction to storage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Article:
    """One news article as the archive stores it.

    Text fields are Unicode NFC with HTML entities decoded, control characters
    removed. ``body`` holds the article's paragraphs in reading order joined by a blank
    line, without the lead, photo captions (the main photo's is ``image_caption``),
    the byline, a reprint credit or site chrome.
    ``published_at`` is ISO 8601 with its UTC offset (``2023-05-30T09:42:00+07:00``)
    when the page gives the time, the bare day (``2023-05-30``) when it gives only the
    day, or ``None`` when it says nothing; it is never guessed from "now" and no
    midnight is invented. ``warnings`` records where the second opinion
    (``archive.crosscheck``) disagreed with the extraction.
    """

    url: str
    site: str = ""
    title: str | None = None
    lead: str | None = None
    body: str | None = None
    author: str | None = None
    published_at: str | None = None
    modified_at: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    source: str | None = None  # original outlet of a reprint, e.g. "baocaobang.vn"
    image: str | None = None
    image_caption: str | None = None
    language: str = "vi"
    warnings: list[str] = field(default_factory=list)
    # Provinces, districts and communes the text names (archive.places.Place), set by
    # acceptance; stored in article_places.
    places: list = field(default_factory=list, compare=False)
    # What the page itself said about its kind (og:type, JSON-LD, a date, a known
    # container): used to tell articles from other pages, never stored.
    signals: dict = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("signals")
        data.pop("places")
        return data

    @property
    def word_count(self) -> int:
        return len(((self.lead or "") + " " + (self.body or "")).split())
