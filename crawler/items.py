"""What the spider hands the pipeline: one dataclass per outcome of a request."""

from __future__ import annotations

from dataclasses import dataclass

from archive.accept import RawResponse, Rejection
from archive.models import Article


@dataclass
class Accepted:
    """An article page that ``accept`` took, with the response it came from."""

    article: Article
    raw: RawResponse
    fetched_at: str


@dataclass
class Refused:
    """A fetched page that ``accept`` refused (not an article, garbage, no page)."""

    rejection: Rejection
    attempts: int = 1


@dataclass
class FetchFailed:
    """A request that failed for good (network, HTTP error, robots.txt, limits)."""

    url: str
    kind: str  # a failure kind (crawler/failures.py)
    http_status: int | None
    message: str
    attempts: int = 1
