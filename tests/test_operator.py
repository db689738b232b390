"""Operator mistakes and archives that cannot be written: every mistake is one line
with the exit status the README documents (2: usage, 1: the archive cannot be used),
no traceback, and nothing written; `sites`, `check` and `export` read an archive on a
read-only file or medium without writing to it."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from archive import store
from archive.models import Article
from tests.faultserver import VNNEWS
from vnnews.localsite import free_port as free_port_number

PORT = free_port_number()

# (arguments, exit status, words the one line must hold). {db}: a sound archive,
# {empty}: a 0-byte file, {new}: a path where no file exists.
MISUSES = [
    (["crawl", "http://127.0.0.1:9/", "--max-articles", "-1"], 2, "--max-articles"),
    (["crawl", "http://127.0.0.1:9/", "--max-pages", "-5"], 2, "--max-pages"),
    (["crawl", "http://127.0.0.1:9/", "--delay", "-1"], 2, "--delay"),
    (["crawl", "http://127.0.0.1:9/", "--concurrency", "0"], 2, "--concurrency"),
    (["crawl", "http://127.0.0.1:9/", "-s", "DOWNLOAD_TIMEOUT=abc"], 2, "DOWNLOAD_TIMEOUT"),
    (["crawl", "http://127.0.0.1:9/", "-s", "DOWNLOAD_TIMOUT=5"], 2, "no such setting"),
    (["crawl", "http://127.0.0.1:9/", "-s", "nonsense"], 2, "NAME=VALUE"),
    (["crawl", "http:///"], 2, "no host"),
    (["crawl", "http://127.0.0.1:99999/"], 2, "invalid port"),
    (["crawl", "ftp://127.0.0.1/"], 2, "http"),
    (["crawl", f"127.0.0.1:{PORT}"], 2, f"did you mean http://127.0.0.1:{PORT}/"),
    (["crawl", "no-such-paper"], 2, "registered sites"),
    (["crawl", "baocaobang", "--base-url", "localhost:8000"], 2, "--base-url"),
    (["export", "--db", "{db}", "--since", "2025-13-45"], 2, "YYYY-MM-DD"),
    (["export", "--db", "{db}", "--site", "typo"], 2, "'typo'"),
    (["sites", "--db", "{new}"], 2, "does not exist"),
    (["export", "--db", "{new}"], 2, "does not exist"),
    (["crawl", "http://127.0.0.1:9/", "--db", "{empty}"], 1, "empty file"),
    (["export", "--db", "{empty}"], 1, "empty file"),
    (["sites", "--db", "{empty}"], 1, "empty file"),
]


def sample(path: Path) -> Path:
    db = store.open_db(path)
    body = "Nội dung bài viết đủ dài để là một bài báo thật sự. " * 20
    store.save_article(db, Article(url="https://baocaobang.vn/a-1234.html", site="baocaobang",
                                   title="Bài một", body=body, published_at="2025-07-01"))  # fmt: skip
    db.close()
    return path


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.mark.parametrize(("args", "status", "words"), MISUSES, ids=lambda v: str(v)[:40])
def test_every_mistake_is_one_line_with_its_exit_status_and_writes_nothing(
    tmp_path, args, status, words
):
    db, empty, new = sample(tmp_path / "a.db"), tmp_path / "empty.db", tmp_path / "new.db"
    empty.write_bytes(b"")
    args = [a.format(db=db, empty=empty, new=new) for a in args]
    if "--db" not in args:
        args += ["--db", str(new)]
    before = {p: digest(p) for p in (db, empty, new)}
    result = subprocess.run([VNNEWS, *args], capture_output=True, text=True, timeout=60)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == status, result.stderr
    assert len(lines) == 1, lines
    assert words in lines[0]
    assert "Traceback" not in result.stderr
    assert {p: digest(p) for p in (db, empty, new)} == before  # no row, no new file


def test_a_refused_connection_prints_no_traceback(tmp_path):
    result = subprocess.run(
        [
            VNNEWS,
            "crawl",
            f"http://127.0.0.1:{free_port_number()}/",
            "--db",
            str(tmp_path / "a.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 4, result.stderr  # "crawling…", the summary
    assert "nothing was fetched" in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = subprocess.run(
        [VNNEWS, "--debug", "sites", "--db", str(empty)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_crawl_never_replaces_a_file_that_is_not_an_archive(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"my notes, not an archive\n" * 100)
    result = subprocess.run(
        [VNNEWS, "crawl", "http://127.0.0.1:9/", "--db", str(junk)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "restore it" in result.stderr
    assert junk.read_bytes() == b"my notes, not an archive\n" * 100


@pytest.fixture
def readonly_archive(tmp_path):
    """A sound archive on a read-only medium (a tmpfs mounted read-only, as root) or,
    for other users, in a read-only file and folder."""
    folder = tmp_path / "ro"
    folder.mkdir()
    source = sample(tmp_path / "archive.db")
    mounted = False
    if os.geteuid() == 0:
        if subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)]
        ).returncode:
            pytest.skip("cannot mount a tmpfs here")
        mounted = True
        shutil.copy(source, folder / "archive.db")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        shutil.copy(source, folder / "archive.db")
        (folder / "archive.db").chmod(0o444)
        folder.chmod(0o555)
    yield folder / "archive.db"
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o755)


@pytest.mark.parametrize(
    "args",
    [["sites", "--db"], ["check", "--db"], ["export", "--site", "baocaobang", "--db"]],
    ids=["sites", "check", "export"],
)
def test_a_read_only_archive_is_read_not_written(readonly_archive, args):
    before = digest(readonly_archive)
    result = subprocess.run(
        [VNNEWS, *args, str(readonly_archive)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert digest(readonly_archive) == before
    if args[0] == "check":
        assert "damaged" not in result.stdout.lower() and "PROBLEMS" not in result.stdout
    if args[0] == "export":
        assert "Bài một" in result.stdout


def test_crawl_on_a_read_only_archive_says_so_in_one_line(readonly_archive):
    result = subprocess.run(
        [VNNEWS, "crawl", "http://127.0.0.1:9/", "--db", str(readonly_archive)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_check_of_an_empty_file_says_what_to_do(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = subprocess.run([VNNEWS, "check", "--db", str(empty)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "empty file" in result.stdout and "backup" in result.stdout
    assert empty.read_bytes() == b""
    assert sqlite3.sqlite_version  # the file was never opened as a new database
