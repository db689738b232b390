"""A news site on loopback that misbehaves on purpose, for the reliability tests.

``FaultSite`` serves a snapshot folder (``tests.sitegen.build_site`` output) exactly as
``vnnews.localsite.LocalSite`` does, except for the paths given a ``Fault``: those
answer 503 or 429 with ``Retry-After`` a few times and then recover, fail for good
with 500, hang past the client's timeout, drop the connection before or in the middle
of the body, loop redirects, stream 20 MB, serve PNG bytes as ``text/html``, an empty
200, an error page with 200, or any bytes under any ``Content-Type``. Every request is
logged with its arrival time.

Standard library only; quiet; bounded: a hang sleeps at most ``Fault.seconds`` and is
cut short when the server stops, large bodies are written in chunks and abandoned when
the client goes away.

    >>> faults = {"/a-1.html": unavailable_once(), "/slow.html": hang(5)}
    >>> with FaultSite(root, faults) as site:  # doctest: +SKIP
    ...     run_crawl(site.url + "/", db, DOWNLOAD_TIMEOUT=1)
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.sitegen import golden  # noqa: F401  (the fault tests' golden records)
from vnnews.localsite import LocalSite, _Answer

LINGER_RESET = struct.pack("ii", 1, 0)  # close with RST
REPO = Path(__file__).resolve().parent.parent
VNNEWS = str(Path(sys.executable).with_name("vnnews"))

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    + bytes(range(256)) * 8
)
ZIP_BYTES = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(255, -1, -1)) * 8
SOFT_404_HTML = (
    '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
    "<title>Không tìm thấy trang - Báo Thử Nghiệm</title></head><body>"
    '<header><a href="/">Báo Thử Nghiệm</a></header><main><h1>404 Not Found</h1>'
    "<p>Không tìm thấy trang bạn yêu cầu. Trang có thể đã bị xóa, đổi tên hoặc tạm thời "
    "không truy cập được. Mời bạn quay lại trang chủ hoặc dùng ô tìm kiếm để tìm bài viết "
    "mình cần trong kho lưu trữ của báo, nơi có hàng chục nghìn bài viết về đời sống, kinh "
    "tế, văn hóa và xã hội của tỉnh từ nhiều năm nay.</p></main></body></html>"
)


def nested_html(depth: int = 5000) -> str:
    """A page whose text sits under `depth` nested <div>s (parsers cap their depth)."""
    text = "Nội dung nằm rất sâu trong trang, dưới hàng nghìn thẻ lồng nhau. " * 20
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Trang lồng sâu'
        "</title></head><body><h1>Trang lồng sâu</h1>"
        + "<div>" * depth
        + f"<p>{text}</p>"
        + "</div>" * depth
        + "</body></html>"
    )


def malformed_html() -> str:
    """Tags never closed, closed twice, attributes without quotes, stray '<' and '&'."""
    return (
        '<html><head><meta charset=utf-8><title>Trang hỏng<title></head><body><h1 class=x y="'
        "<div><p>Đoạn một <b>đậm <i>nghiêng</b> & < > &&& <table><tr><td>ô<td>ô</tr></table>"
        "</div></div></div></span><p>Đoạn hai <a href='/x>liên kết</a> <script>if (a < b) {"
        "</body></html><p>sau cả thẻ đóng html"
    )


@dataclass
class Fault:
    """How one path misbehaves. `times`: how many requests get the fault before the path
    answers normally (None: every request)."""

    kind: str
    times: int | None = None
    status: int = 200
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None
    size: int = 0
    chunked: bool = False


def unavailable_once(retry_after: str = "1") -> Fault:
    """503 with Retry-After the first time, then the real page."""
    return Fault("status", times=1, status=503, headers={"Retry-After": retry_after})


def throttled_once(retry_after: str = "1") -> Fault:
    """429 Too Many Requests with Retry-After once, then the real page."""
    return Fault("status", times=1, status=429, headers={"Retry-After": retry_after})


def server_error(times: int | None = None) -> Fault:
    """500, every time (or the first `times` times)."""
    return Fault("status", times=times, status=500)


def hang(seconds: float = 5.0, times: int | None = None) -> Fault:
    """Say nothing for `seconds` (bounded; cut short when the server stops), then answer."""
    return Fault("hang", times=times, seconds=seconds)


def reset(times: int | None = None) -> Fault:
    """Read the request, then reset the connection without a word."""
    return Fault("reset", times=times)


def truncated() -> Fault:
    """Headers with the full Content-Length, half the body, then close."""
    return Fault("truncate")


def redirect_loop(to: str) -> Fault:
    """302 to `to` (point two paths at each other, or one at itself)."""
    return Fault("status", status=302, headers={"Location": to})


def huge(size: int = 20 * 1024 * 1024, chunked: bool = False) -> Fault:
    """A `size`-byte HTML page, with its Content-Length or streamed without one."""
    return Fault("huge", size=size, chunked=chunked)


def serve(body: bytes | str, content_type: str = "text/html", status: int = 200) -> Fault:
    """These bytes under this Content-Type, instead of the file."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Fault("body", body=data, content_type=content_type, status=status)


def binary(data: bytes = PNG_BYTES) -> Fault:
    """Image or archive bytes that claim to be HTML."""
    return serve(data, "text/html; charset=utf-8")


def empty() -> Fault:
    """200 with nothing in it."""
    return serve(b"", "text/html; charset=utf-8")


def soft_404() -> Fault:
    """An error page served with 200."""
    return serve(SOFT_404_HTML, "text/html; charset=utf-8")


class FaultSite(LocalSite):
    """A LocalSite whose listed paths misbehave. ``log`` holds (path, monotonic time) of
    every request; ``hits(path)`` counts them. Faults may be changed between runs
    (``site.faults.pop(path)`` heals a page)."""

    def __init__(
        self,
        root: Path,
        faults: dict[str, Fault] | None = None,
        validators: set[str] | None = None,
        **kwargs,
    ):
        super().__init__(Path(root), **kwargs)
        self.faults: dict[str, Fault] = dict(faults or {})
        # Paths answered with an ETag (a digest of the body), and 304 with no body to a
        # request whose If-None-Match names the current one; those 304s are logged.
        self.validators: set[str] = set(validators or ())
        self.not_modified: list[str] = []
        self.log: list[tuple[str, float]] = []
        self._hits: dict[str, int] = {}
        self._stopping = threading.Event()

    def start(self) -> FaultSite:
        if self._server is not None:
            return self
        self._load_routes()
        self._stopping.clear()
        server = _QuietServer((self.host, self.port), _fault_handler(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"FaultSite:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wake sleeping hangs, end streaming bodies
        super().stop()

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits.get(path, 0)

    def paths(self) -> list[str]:
        """Paths requested, in arrival order (no query string)."""
        with self._lock:
            return [p for p, _ in self.log]

    def _arrive(self, target: str) -> tuple[str, Fault | None]:
        """Log a request; return its path and the fault that applies to this hit."""
        path = unicodedata.normalize("NFC", unquote(urlsplit(target).path or "/"))
        with self._lock:
            self.requests.append(target)
            self.log.append((path, time.monotonic()))
            count = self._hits[path] = self._hits.get(path, 0) + 1
        fault = self.faults.get(path)
        if fault is not None and fault.times is not None and count > fault.times:
            fault = None
        return path, fault


class _QuietServer(ThreadingHTTPServer):
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # clients hang up on purpose
        pass


def _fault_handler(site: FaultSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "vnnews-faultsite/1"
        timeout = 10  # idle keep-alive connections end

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            try:
                self._respond()
            except OSError:  # the client went away (timeouts, cancelled downloads)
                self.close_connection = True

        def _respond(self) -> None:
            path, fault = site._arrive(self.path)
            if fault is None and path in site.validators:
                return self._send_validated(path, self._normal())
            if fault is None:
                return self._send(self._normal())
            if fault.kind == "hang":
                site._stopping.wait(min(fault.seconds, 30.0))
                return self._send(self._normal())
            if fault.kind == "reset":  # RST, not FIN: "connection reset by peer"
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
                self.connection.close()
                return None
            if fault.kind == "truncate":
                body = self._normal().body
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return None
            if fault.kind == "huge":
                return self._send_huge(fault)
            if fault.kind == "body":
                answer = _Answer(fault.status, fault.body or b"", fault.content_type or "")
                answer.headers.update(fault.headers)
                return self._send(answer)
            # "status": an error or a redirect, with the fault's headers.
            location = fault.headers.get("Location", "")
            headers = dict(fault.headers)
            if location.startswith("/"):
                headers["Location"] = site.url + location
            body = f"<html><body><h1>{fault.status}</h1></body></html>".encode()
            return self._send(_Answer(fault.status, body, "text/html; charset=utf-8", headers))

        def _send_validated(self, path: str, answer: _Answer) -> None:
            etag = '"' + hashlib.sha1(answer.body).hexdigest()[:16] + '"'
            if answer.status == 200 and self.headers.get("If-None-Match") == etag:
                with site._lock:
                    site.not_modified.append(path)
                return self._send(_Answer(304, b"", "", {"ETag": etag}))
            answer.headers["ETag"] = etag
            return self._send(answer)

        def _normal(self) -> _Answer:
            try:
                return site.answer(self.path)
            except Exception as exc:  # a broken snapshot must not kill the server
                return _Answer(500, f"snapshot error: {exc}".encode(), "text/plain")

        def _send(self, answer: _Answer) -> None:
            self.send_response(answer.status)
            if answer.content_type:
                self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        def _send_huge(self, fault: Fault) -> None:
            head = (
                '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Trang lớn</title>'
                "</head><body><h1>Trang rất lớn</h1>"
            ).encode()
            chunk = ("<p>" + "Một đoạn văn rất dài được lặp lại. " * 30 + "</p>\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if fault.chunked:
                self.send_header("Connection", "close")  # the body ends when we close
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(fault.size))
            self.end_headers()
            self.wfile.write(head)
            sent = len(head)
            while sent < fault.size and not site._stopping.is_set():
                piece = chunk[: fault.size - sent]
                self.wfile.write(piece)
                sent += len(piece)

        def log_message(self, format: str, *args) -> None:  # quiet
            pass

    return Handler


# ---------------------------------------------------------------- golden pages


def mojibake(text: str) -> str:
    """Text as a server that decoded UTF-8 as Latin-1 and encoded it again serves it."""
    return text.encode("utf-8").decode("latin-1")


# Windows-1258 writes most Vietnamese letters as a base letter plus a combining tone
# mark (0xCC grave, 0xEC acute, 0xDE tilde, 0xD2 hook, 0xF2 dot below).
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def encode_cp1258(text: str) -> bytes:
    """Text in Windows-1258 the way Vietnamese legacy pages have it: precomposed where
    the code page has the letter, else base letter + tone mark, else an HTML character
    reference (e.g. for emoji)."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
        tone = "".join(c for c in parts if c in TONE_MARKS)
        try:
            out += base.encode("cp1258") + tone.encode("cp1258")
        except UnicodeEncodeError:
            out += f"&#{ord(char)};".encode("ascii")
    return bytes(out)


# ---------------------------------------------------------------- running a crawl


def cli_has_set_option() -> bool:
    """Whether `vnnews crawl` takes ``--set NAME=VALUE`` (Scrapy settings)."""
    from vnnews.cli import crawl

    return any("--set" in getattr(p, "opts", ()) for p in crawl.params)


def crawl_command(url: str, db: Path, **settings) -> list[str]:
    """The command line of a real crawl of `url` into `db` with these Scrapy settings,
    no delay, quiet. Through ``vnnews crawl --set`` when the CLI has it, else through
    ``scrapy crawl news`` from the repository root (same spider, same settings module)."""
    settings = {"VNNEWS_PROGRESS_SECONDS": 0, **settings}
    if cli_has_set_option():
        cmd = [VNNEWS, "crawl", url, "--db", str(db), "--delay", "0"]
        for name, value in settings.items():
            cmd += ["--set", f"{name}={value}"]
        return cmd
    settings = {
        "LOG_LEVEL": "WARNING",
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": "False",
        **settings,
    }
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"site={url}", "-a", f"db={db}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def crawl_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_crawl(url: str, db: Path, timeout: float = 120, **settings) -> subprocess.CompletedProcess:
    """Run a real crawl to the end (bounded by `timeout` seconds)."""
    return subprocess.run(
        crawl_command(url, db, **settings),
        cwd=REPO,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_crawl(url: str, db: Path, **settings) -> subprocess.Popen:
    """Start a real crawl in the background (the caller waits or kills it)."""
    return subprocess.Popen(
        crawl_command(url, db, **settings),
        cwd=REPO,
        env=crawl_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
