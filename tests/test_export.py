"""`vnnews export`: what researchers take away must equal what the archive holds."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive import store
from archive.models import Article

VNNEWS = str(Path(sys.executable).with_name("vnnews"))
ARTICLES = [
    Article(url="https://baocaobang.vn/a-10001.html", site="baocaobang", title="Đàm Thủy đón khách",
            body="Xã Đàm Thủy có thác Bản Giốc.", author="Bảo Bình", published_at="2023-05-30T21:42:00+07:00",
            category="Văn hóa", tags=["du lịch", "Bản Giốc"]),
    Article(url="https://baocaobang.vn/b-10002.html", site="baocaobang", title="Hà Quảng làm đường",
            body="Huyện Hà Quảng nâng cấp đường.", published_at="2025-02-01T08:00:00+07:00", category="Kinh tế"),
    Article(url="https://baolaocai.vn/c-post3.html", site="baolaocai", title="Sa Pa mùa mây",
            body="Du khách đến Sa Pa.", published_at=None, category="Du lịch"),
]  # fmt: skip


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "archive.db"
    db = store.open_db(path)
    for article in ARTICLES:
        store.save_article(db, article, "2026-11-25T00:00:00+00:00")
    db.close()
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([VNNEWS, "export", *args], capture_output=True, text=True)


def test_jsonl_is_every_article_with_its_fields(db_path):
    result = run("--db", str(db_path))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["url"] for r in rows] == [
        ARTICLES[2].url,
        ARTICLES[0].url,
        ARTICLES[1].url,
    ]  # unknown dates first
    first = rows[1]
    assert {k: first[k] for k in ("title", "author", "published_at", "published_date", "tags")} == {
        "title": "Đàm Thủy đón khách",
        "author": "Bảo Bình",
        "published_at": "2023-05-30T21:42:00+07:00",
        "published_date": "2023-05-30",  # the paper's own day, not UTC's
        "tags": ["du lịch", "Bản Giốc"],
    }
    assert "3 articles exported" in result.stderr


def test_filters(db_path):
    def urls(*args):
        return [
            json.loads(line)["url"] for line in run("--db", str(db_path), *args).stdout.splitlines()
        ]

    assert urls("--site", "baolaocai") == [ARTICLES[2].url]
    assert urls("--since", "2024-01-01") == [ARTICLES[1].url]
    assert urls("--until", "2023-05-30") == [ARTICLES[0].url]
    assert urls("--category", "Kinh tế") == [ARTICLES[1].url]
    assert urls("--search", "dam thuy") == [ARTICLES[0].url]  # no diacritics, no đ


def test_csv_and_parquet(db_path, tmp_path):
    out = tmp_path / "a.csv"
    assert run("--db", str(db_path), "--format", "csv", "-o", str(out)).returncode == 0
    assert out.read_bytes().startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 3 and json.loads(rows[1]["tags"]) == ["du lịch", "Bản Giốc"]

    import pyarrow.parquet as pq

    out = tmp_path / "a.parquet"
    assert (
        run(
            "--db", str(db_path), "--format", "parquet", "-o", str(out), "--site", "baocaobang"
        ).returncode
        == 0
    )
    table = pq.read_table(out).to_pylist()
    assert [r["title"] for r in table] == ["Đàm Thủy đón khách", "Hà Quảng làm đường"]
    assert table[0]["tags"] == ["du lịch", "Bản Giốc"]


def test_bad_arguments_are_usage_errors(db_path):
    assert run("--db", str(db_path), "--format", "parquet").returncode == 2  # needs -o
    assert run("--db", str(db_path), "--since", "30/05/2023").returncode == 2
