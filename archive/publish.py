"""Publish the archive with Datasette: the command line and a blocking ``serve``.

``datasette_args`` builds a plain ``datasette serve`` command (run with this
interpreter, so the venv's Datasette and our plugin are the ones used); ``serve`` runs
it until stopped, refusing to start on a taken port and passing stop signals on.
Everything that makes the site ours lives in configuration: ``metadata.yml``,
``archive/templates`` and the ``archive.datasette_plugin`` entry point (which also
serves the file under the name ``archive``, whatever it is called).

Safe defaults for a public instance: no writes (Datasette 0.65 has no write API and
we define no writable canned queries), every query bounded by ``sql_time_limit_ms``,
no database download, sensitive ``/-/`` pages closed, a disallowing robots.txt, and
bounded memory and threads for user SQL (all three in the plugin). The database is
never opened immutable (``-i``): a crawler may be writing to it, and immutable mode
then reports "database disk image is malformed".
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import webbrowser
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"

# Settings for every instance. Facets get half a second each: on a large archive a
# slow facet shows "timed out" rather than holding a SQL thread (there are only
# num_sql_threads of them for everyone; user SQL and canned queries may each hold a
# third of them, see the plugin's query_kind). Suggested facets are off: they try a
# GROUP BY on every column of every table page, which made a 20,000-article search
# page take 1.0 s instead of 0.13 s (bench/search.py); the useful facets are
# configured in metadata.yml. Table cells show 200 characters of an article body,
# not Datasette's 2,000 (the article page and JSON still have the whole text).
SETTINGS: dict[str, str] = {
    "sql_time_limit_ms": "3000",
    "default_page_size": "50",
    "facet_time_limit_ms": "500",
    "num_sql_threads": "6",
    "allow_download": "off",
    "suggest_facets": "off",
    "truncate_cells_html": "200",
}
# Added when the instance faces the internet: `?_stream=on` exports a whole table
# as CSV in one request, for anyone, as often as they like.
PUBLIC_SETTINGS: dict[str, str] = {
    "allow_csv_stream": "off",
}


def find_metadata() -> Path:
    """Locate ``metadata.yml``: the repository root (source or editable install),
    next to the package, or the current directory."""
    for candidate in (
        PACKAGE_DIR.parent / "metadata.yml",
        PACKAGE_DIR / "metadata.yml",
        Path.cwd() / "metadata.yml",
    ):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "metadata.yml not found next to the archive package or in the current directory"
    )


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (``localhost``, 127.x, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def datasette_args(
    db_path: str | Path,
    host: str,
    port: int,
    *,
    metadata: str | Path | None = None,
    public: bool = False,
) -> list[str]:
    """The ``datasette serve`` command line that publishes the archive at ``db_path``.

    ``public=True`` adds the settings meant for an instance reachable by anyone.
    """
    settings = {**SETTINGS, **(PUBLIC_SETTINGS if public else {})}
    args = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(Path(db_path)),
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(Path(metadata) if metadata else find_metadata()),
        "--template-dir",
        str(TEMPLATES_DIR),
    ]
    for name, value in settings.items():
        args += ["--setting", name, value]
    return args


class CannotServe(RuntimeError):
    """Datasette could not start serving; the message says why, in one line."""


# Signals that stop `vnnews serve`, and what Datasette gets for each. Datasette runs
# in its own session, so a Ctrl-C in the terminal reaches it once, through us
# (twice would make uvicorn skip its graceful shutdown), and it never outlives us.
FORWARDED_SIGNALS = {
    signal.SIGINT: signal.SIGINT,
    signal.SIGTERM: signal.SIGTERM,
    signal.SIGHUP: signal.SIGTERM,
}
STOP_GRACE_SECONDS = 10.0  # then Datasette is killed
# prctl(2): the signal a process gets when the one that started it dies.
PR_SET_PDEATHSIG = 1


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`CannotServe` unless ``host:port`` can be listened on.

    Binds as uvicorn will (SO_REUSEADDR, IPv6 when the host has a colon), so a port
    merely in TIME_WAIT passes and one another server listens on does not. Checked
    before starting Datasette: once it runs, whatever owns the port answers too.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            reason = error.strerror or str(error)
            raise CannotServe(
                f"cannot listen on {host}:{port}: {reason}"
                " (another server may be using it: stop it or choose another --port)"
            ) from None


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with opener.open(url, timeout=2):
            return True
    except OSError:
        return False


def _wait_until_up(url: str, proc: subprocess.Popen) -> bool:
    """Wait until Datasette answers at ``url`` (True) or exits (False)."""
    while proc.poll() is None:
        if _answers(url):
            return proc.poll() is None
        time.sleep(0.2)
    return False


def serve(
    db_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    open_browser: bool = False,
    *,
    public: bool | None = None,
) -> int:
    """Serve the archive until stopped; return Datasette's exit code.

    Raises :class:`CannotServe` when the port is taken or Datasette exits before it
    answers; the address is printed only once Datasette answers there. SIGINT,
    SIGTERM and SIGHUP are passed on to Datasette, which is waited for (killed after
    STOP_GRACE_SECONDS). ``public`` defaults to "the host is not a loopback address".
    The schema is ensured first (``open_db`` is idempotent) so a fresh or older file
    serves its canned queries without errors.
    """
    from archive.store import open_readonly  # here: publish.datasette_args needs no DB

    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"no archive at {path}: run `vnnews crawl` or `vnnews demo`")
    open_readonly(path).close()  # one clear line for a damaged file; schema: `crawl`
    if public is None:
        public = not is_loopback(host)
    if public and not os.environ.get("DATASETTE_SECRET"):
        # Datasette then makes a new secret at every start: signed cookies and tokens
        # stop working after a restart. It reads DATASETTE_SECRET from the environment.
        print("note: DATASETTE_SECRET is not set; set it to a fixed random value for a public instance",
              file=sys.stderr)  # fmt: skip
    check_port_free(host, port)
    shown_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    url = f"http://{shown_host}:{port}/"

    stop_asked: list[float] = []  # when the first stop signal came
    proc: subprocess.Popen | None = None

    def forward(signum: int, _frame: object) -> None:
        stop_asked.append(time.monotonic())
        if proc is not None and proc.poll() is None:
            proc.send_signal(FORWARDED_SIGNALS[signal.Signals(signum)])

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        proc = subprocess.Popen(
            datasette_args(path, host, port, public=public),
            start_new_session=True,
            preexec_fn=die_with(os.getpid()),
        )
        if stop_asked:  # a signal came before Popen returned
            proc.send_signal(signal.SIGTERM)
        # robots.txt is ours (the plugin's) and cheap, unlike the front page's counts.
        if not _wait_until_up(url + "robots.txt", proc) and not stop_asked:
            raise CannotServe(
                f"Datasette stopped before serving {url} (exit status {proc.wait()}); "
                "see its messages above"
            )
        if not stop_asked:
            print(f"Search the archive at {url}  (Ctrl-C to stop)", flush=True)
            if open_browser:
                webbrowser.open(url)
        return _wait_for_exit(proc, stop_asked)
    finally:
        if proc is not None and proc.poll() is None:  # an exception of ours: no orphan
            proc.kill()
            proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def die_with(parent: int):
    """What Datasette's process runs before it starts: on Linux, ask the kernel for a
    SIGTERM when ``vnnews serve`` dies, even by SIGKILL, which it cannot forward (else
    Datasette stays behind, holding the port). Elsewhere it does nothing."""

    def arm() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # it died before the request was made
            os._exit(1)

    return arm


def _wait_for_exit(proc: subprocess.Popen, stop_asked: list[float]) -> int:
    """Datasette's exit status, as a shell would give it; 0 when it stopped because we
    asked (uvicorn ends by re-raising the signal it was sent). Killed when it outlasts
    STOP_GRACE_SECONDS after a stop."""
    while True:
        try:
            code = proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            if stop_asked and time.monotonic() - stop_asked[0] > STOP_GRACE_SECONDS:
                proc.kill()
            continue
        if stop_asked and -code in set(FORWARDED_SIGNALS.values()):
            return 0
        return 128 - code if code < 0 else code
