"""Serve a site snapshot folder over HTTP on loopback.

Used by ``vnnews demo``, the end-to-end tests and the benchmarks: a crawl runs against
a local copy of a newspaper site instead of the internet. Standard library only.

A snapshot is a folder of files laid out like the site's URLs::

    index.html                   ->  /
    thoi-su/index.html           ->  /thoi-su  and  /thoi-su/
    Slug-Words-61873.html        ->  /Slug-Words-61873.html  (any query string)
    tag/hà-quảng/index.html      ->  /tag/h%C3%A0-qu%E1%BA%A3ng/
    404.html                     ->  body of every 404
    _routes.json                 ->  special answers (optional, see below)

``_routes.json`` maps a path with its query (``"/list-post-by-category?page=2&limit=12&
category_id=57"``) or a bare path (``"/old-url.html"``) to an answer::

    {"file": "relative/file", "status": 200, "content_type": "...",
     "redirect": "/new.html", "headers": {"X-Name": "value"}}

Lookup order: the exact path+query, then the same query with its parameters in sorted
order (so a client that orders parameters differently still matches), then the path
alone, then a file under the root (the query string is ignored, so ``?utm_source=rss``
serves the same page). ``redirect`` answers 301 unless ``status`` says otherwise, with
an absolute ``Location`` on this server. Paths with a segment starting with ``_`` (the
snapshot's own metadata such as ``_routes.json`` and ``_expected.json``) are never
served directly, only through a route.

Text files may carry the placeholder ``@@ORIGIN@@``, replaced on the fly by this
server's origin (``http://127.0.0.1:PORT``), so feeds, sitemaps and canonical links can
hold absolute URLs that point back here.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import socket
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshot"
"""The snapshot bundled with the package (one folder per site)."""

ORIGIN_PLACEHOLDER = "@@ORIGIN@@"
ROUTES_FILE = "_routes.json"
EXPECTED_FILE = "_expected.json"

HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {
    ".html": HTML,
    ".htm": HTML,
    ".aspx": HTML,
    ".php": HTML,
    ".rss": "application/xml",
    ".xml": "application/xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
}
TEXT_SUFFIXES = frozenset({".html", ".htm", ".aspx", ".php", ".rss", ".xml", ".json", ".txt"})
TEXT_SUFFIXES |= {".css", ".js", ".csv", ".svg", ".atom"}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at ``host`` now (for a server started next: the
    tests' Datasette, the search benchmark's)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", seconds: float = 30.0) -> bool:
    """Whether something listens on ``host:port`` within ``seconds`` (a server started
    in another process: the crawl bench's site, the tests' Redis)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def content_type_for(path: Path) -> str:
    """The Content-Type a snapshot file is served with, from its extension."""
    suffix = path.suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _sorted_query(query: str) -> str:
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LocalSite:
    """A snapshot folder served on loopback in a daemon thread.

    >>> with LocalSite(SNAPSHOT_DIR / "baocaobang") as site:  # doctest: +SKIP
    ...     urllib.request.urlopen(site.url + "/rss/home.rss")

    ``requests`` lists every path+query asked for, in arrival order.
    """

    root: Path
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[str] = field(default_factory=list, init=False, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _routes: dict[str, dict] = field(default_factory=dict, init=False, repr=False)
    _sorted_routes: dict[str, dict] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> LocalSite:
        """Bind (port 0 picks a free one), serve in a daemon thread, return self."""
        if self._server is not None:
            return self
        if not self.root.is_dir():
            raise FileNotFoundError(f"snapshot folder not found: {self.root}")
        self._load_routes()
        server = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"LocalSite:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("LocalSite is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- snapshot metadata -----------------------------------------------------------
    def expected(self) -> list[dict]:
        """The snapshot's ground truth (``_expected.json``), or ``[]`` if it has none."""
        path = self.root / EXPECTED_FILE
        if not path.is_file():
            return []
        return json.loads(path.read_text(encoding="utf-8"))

    def _load_routes(self) -> None:
        path = self.root / ROUTES_FILE
        routes = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        self._routes = {unicodedata.normalize("NFC", key): value for key, value in routes.items()}
        self._sorted_routes = {}
        for key, value in self._routes.items():
            if "?" in key:
                route_path, _, query = key.partition("?")
                self._sorted_routes.setdefault(f"{route_path}?{_sorted_query(query)}", value)

    def _record(self, target: str) -> None:
        with self._lock:
            self.requests.append(target)

    # -- answering ---------------------------------------------------------------------
    def answer(self, target: str) -> _Answer:
        """The response to a request target (path and query, as sent on the wire)."""
        parts = urlsplit(target)
        path = unicodedata.normalize("NFC", unquote(parts.path or "/"))
        query = parts.query
        route = None
        if query:
            route = self._routes.get(f"{path}?{unquote(query)}") or self._routes.get(
                f"{path}?{query}"
            )
            if route is None:
                route = self._sorted_routes.get(f"{path}?{_sorted_query(query)}")
        if route is None:
            route = self._routes.get(path)
        if route is not None:
            return self._answer_route(route)
        file = self._resolve(path)
        if file is None:
            return self._not_found()
        return _Answer(200, self._read(file), content_type_for(file))

    def _answer_route(self, route: dict) -> _Answer:
        headers = dict(route.get("headers") or {})
        if route.get("redirect"):
            location = self._substitute(str(route["redirect"]))
            if location.startswith("/"):
                location = self.url + location
            headers["Location"] = location
            status = int(route.get("status", 301))
            body = f'<html><body>Moved to <a href="{location}">{location}</a></body></html>'
            return _Answer(status, body.encode(), HTML, headers)
        status = int(route.get("status", 200))
        if route.get("file"):
            file = self._inside_root(route["file"])
            if file is None or not file.is_file():
                return self._not_found()
            content_type = route.get("content_type") or content_type_for(file)
            return _Answer(status, self._read(file), content_type, headers)
        if status == 404:
            answer = self._not_found()
            answer.headers.update(headers)
            return answer
        content_type = route.get("content_type", "text/plain; charset=utf-8")
        return _Answer(status, route.get("body", "").encode(), content_type, headers)

    def _not_found(self) -> _Answer:
        page = self.root / "404.html"
        body = self._read(page) if page.is_file() else b"<h1>404 Not Found</h1>"
        return _Answer(404, body, HTML)

    def _inside_root(self, relative: str) -> Path | None:
        candidate = (self.root / relative.lstrip("/")).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None
        return candidate

    def _resolve(self, path: str) -> Path | None:
        if any(segment.startswith("_") for segment in path.split("/") if segment):
            return None
        relative = path.lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        candidate = self._inside_root(relative)
        if candidate is None:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_file():
            # a client may send decomposed (NFD) letters; files are stored in NFC
            alt = self._inside_root(unicodedata.normalize("NFD", relative))
            if alt is not None and alt.is_file():
                return alt
            return None
        return candidate

    def _read(self, file: Path) -> bytes:
        data = file.read_bytes()
        if file.suffix.lower() in TEXT_SUFFIXES and ORIGIN_PLACEHOLDER.encode() in data:
            data = data.replace(ORIGIN_PLACEHOLDER.encode(), self.url.encode())
        return data

    def _substitute(self, text: str) -> str:
        return text.replace(ORIGIN_PLACEHOLDER, self.url)


def _make_handler(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "vnnews-localsite/1"
        timeout = 30  # idle keep-alive connections end eventually

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self._respond(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(send_body=False)

        def _respond(self, send_body: bool) -> None:
            site._record(self.path)
            try:
                answer = site.answer(self.path)
            except Exception as exc:  # a broken snapshot must not kill the server
                answer = _Answer(500, f"snapshot error: {exc}".encode(), "text/plain")
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(answer.body)

        def log_message(self, format: str, *args) -> None:  # quiet
            pass

    return Handler


def serve_snapshot(root: Path, host: str = "127.0.0.1", port: int = 0) -> LocalSite:
    """Start serving ``root`` and return the running :class:`LocalSite`."""
    return LocalSite(Path(root), host=host, port=port).start()


def main(argv: list[str] | None = None) -> None:
    """``python -m vnnews.localsite [FOLDER ...]``: serve snapshot folders until Ctrl-C."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folders", nargs="*", type=Path, help="default: every bundled site")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="first port (0 = any free)")
    args = parser.parse_args(argv)
    folders = args.folders or sorted(p for p in SNAPSHOT_DIR.iterdir() if p.is_dir())
    sites = []
    for number, folder in enumerate(folders):
        port = args.port + number if args.port else 0
        sites.append(serve_snapshot(folder, args.host, port))
        print(f"{folder.name}: {sites[-1].url}/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for site in sites:
            site.stop()


if __name__ == "__main__":
    main()
