"""Export articles for researchers: JSON Lines, CSV or Parquet, with filters.

Rows stream from SQLite in batches, so an archive of millions of articles exports in
constant memory (Parquet is written one row group per batch).
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from archive.fts import fts_query
from archive.store import EXPORT_COLUMNS, connect_readonly, select_articles

FORMATS = ("jsonl", "csv", "parquet")
COLUMNS = EXPORT_COLUMNS
BATCH = 2000


@dataclass
class Filters:
    """Which articles to export; every field is optional."""

    sites: tuple[str, ...] = ()
    since: str | None = None  # local publication date, YYYY-MM-DD, inclusive
    until: str | None = None
    category: str | None = None
    search: str | None = None  # full-text query, diacritics ignored (đ included)


def iter_articles(
    conn: sqlite3.Connection, filters: Filters, columns=COLUMNS
) -> Iterator[list[dict]]:
    """Batches of article rows (tags decoded to a list), oldest publication first."""
    cursor = select_articles(
        conn,
        sites=tuple(filters.sites),
        since=filters.since,
        until=filters.until,
        category=filters.category,
        match=fts_query(filters.search) if filters.search else None,
        columns=columns,
    )
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(BATCH):
        rows = [dict(zip(names, row, strict=True)) for row in batch]
        if "tags" in names:
            for row in rows:
                row["tags"] = json.loads(row["tags"] or "[]")
        yield rows


def export(db_path: str | Path, fmt: str, out: str | None, filters: Filters) -> int:
    """Write the filtered articles to `out` (a path, or standard output when None for
    the text formats); return how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "parquet" and not out:
        raise ValueError("parquet is binary: give an output file with -o")
    conn = connect_readonly(db_path)
    batches = iter_articles(conn, filters)
    try:
        if fmt == "parquet":
            return write_parquet(batches, Path(out))  # type: ignore[arg-type]
        write = write_jsonl if fmt == "jsonl" else write_csv
        if not out:
            return write(batches, sys.stdout)
        # A BOM on CSV files: Excel then reads them as UTF-8, not as the system's
        # code page (which turned every Vietnamese letter into two or three).
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        with open(out, "w", encoding=encoding, newline="") as handle:
            return write(batches, handle)
    finally:
        conn.close()


def write_jsonl(batches: Iterator[list[dict]], handle: IO[str]) -> int:
    count = 0
    for rows in batches:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += len(rows)
    return count


def write_csv(batches: Iterator[list[dict]], handle: IO[str]) -> int:
    # Tags as a JSON array in one cell: spreadsheet users see it, scripts can parse it.
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()
    count = 0
    for rows in batches:
        for row in rows:
            writer.writerow({**row, "tags": json.dumps(row["tags"], ensure_ascii=False)})
        count += len(rows)
    return count


def write_parquet(batches: Iterator[list[dict]], path: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # an optional extra: say how to get it
        raise RuntimeError("Parquet export needs pyarrow: pip install 'vnnews[parquet]'") from None
    schema = pa.schema(
        [(c, pa.list_(pa.string()) if c == "tags" else pa.int64() if c == "word_count" else pa.string())
         for c in COLUMNS]
    )  # fmt: skip
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for rows in batches:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            count += len(rows)
        if count == 0:
            writer.write_table(schema.empty_table())
    return count
