"""Publish the archive with Datasette: the command line and a blocking ``serve``.

``datasette_args`` builds a plain ``datasette serve`` command (run with this
interpreter, so the venv's Datasette and our plugin are the ones used); ``serve`` runs
it until Ctrl-C. Everything that makes the site ours lives in configuration:
``metadata.yml``, ``archive/templates`` and the ``archive.datasette_plugin`` entry point
(which also serves the file under the name ``archive``, whatever it is called).

Safe defaults for a public instance: no writes (Datasette 0.65 has no write API and
we define no writable canned queries), every query bounded by ``sql_time_limit_ms``,
no database download, sensitive ``/-/`` pages closed and a disallowing robots.txt
(both in the plugin). The database is never opened immutable (``-i``): a crawler may
be writing to it, and immutable mode then reports "database disk image is malformed".
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import threading
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


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
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
    """Serve the archive until Ctrl-C; return Datasette's exit code.

    ``public`` defaults to "the host is not a loopback address". The schema is
    ensured first (``open_db`` is idempotent) so a fresh or older file serves its
    canned queries without errors.
    """
    from archive.store import open_db  # imported here: publish.datasette_args needs no DB

    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"no archive at {path}: run `vnnews crawl` or `vnnews demo`")
    open_db(path).close()
    if public is None:
        public = not is_loopback(host)
    if public and not os.environ.get("DATASETTE_SECRET"):
        # Datasette then makes a new secret at every start: signed cookies and tokens
        # stop working after a restart. It reads DATASETTE_SECRET from the environment.
        print("note: DATASETTE_SECRET is not set; set it to a fixed random value for a public instance",
              file=sys.stderr)  # fmt: skip
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    url = f"http://{shown_host}:{port}/"
    print(f"Serving {path} at {url}  (Ctrl-C to stop)", flush=True)

    proc = subprocess.Popen(datasette_args(path, host, port, public=public))
    if open_browser:
        # Open only once Datasette answers, so the browser does not show an error page.
        threading.Thread(
            target=lambda: _wait_until_up(url, proc) and webbrowser.open(url), daemon=True
        ).start()
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to Datasette too; give it a moment to shut down.
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            return proc.wait()
