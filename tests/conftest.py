"""Fixtures shared by the test modules, written once: a free loopback port, a real
Datasette serving an archive, the sample archive served, local sites built from fixture
pages, and the golden records."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from archive.publish import datasette_args
from tests.sample_archive import build_archive
from tests.sitegen import golden as golden_records
from vnnews import localsite
from vnnews.localsite import LocalSite


@pytest.fixture
def free_port() -> int:
    """A TCP port nobody listens on, on 127.0.0.1."""
    return localsite.free_port()


def start_datasette(db_path: Path) -> tuple[subprocess.Popen, str]:
    """Run the real `datasette serve` command and wait until it answers."""
    port = localsite.free_port()
    proc = subprocess.Popen(
        datasette_args(db_path, "127.0.0.1", port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"datasette exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(base + "/archive.json", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("datasette did not start in 30 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def datasette() -> Iterator[Callable[[Path], str]]:
    """Serve an archive file with the real Datasette command; returns its base URL.
    Every server started is stopped at the end of the module."""
    procs = []

    def serve(db_path: Path) -> str:
        proc, base = start_datasette(db_path)
        procs.append(proc)
        return base

    yield serve
    for proc in procs:
        stop(proc)


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory: pytest.TempPathFactory, datasette) -> str:
    """The sample archive (tests/sample_archive.py), in a file deliberately not called
    archive.db, served by Datasette: its base URL."""
    return datasette(build_archive(tmp_path_factory.mktemp("sample") / "my-archive.db"))


@pytest.fixture
def local_site() -> Iterator[Callable[[Path], LocalSite]]:
    """Serve a site folder (tests/sitegen.py builds them) on a free loopback port until
    the test ends."""
    sites = []

    def start(root: Path) -> LocalSite:
        sites.append(LocalSite(root).start())
        return sites[-1]

    yield start
    for site in sites:
        site.stop()


@pytest.fixture(scope="session")
def golden() -> Callable[[str], list[dict]]:
    """The golden records of a site family (tests/fixtures/pages), with their HTML."""
    return golden_records
