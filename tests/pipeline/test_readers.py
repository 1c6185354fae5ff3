"""Format detection and the readers' line numbering."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pipeline.readers import InputError, csv_batches, format_detect, jsonl_batches


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "jsonl"),
        ("a.JSONL.gz", "jsonl"),
        ("a.csv", "csv"),
        ("a.csv.gz", "csv"),
        ("a.parquet", "parquet"),
    ],
)
def test_the_format_comes_from_the_extension(name: str, fmt: str) -> None:
    assert format_detect(Path(name)) == fmt


def test_an_unknown_extension_needs_an_explicit_format() -> None:
    with pytest.raises(InputError, match="--format"):
        format_detect(Path("fixes.txt"))
    assert format_detect(Path("fixes.txt"), "csv") == "csv"


def test_csv_rows_carry_their_physical_line_and_malformed_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "fixes.csv"
    path.write_text(
        "entity,ts,lat,lon\n"
        "courier:1,1700000000000,1.0,2.0\n"  # line 2
        "courier:2,1700000000000,1.0\n"  # line 3: a field short
        "\n"  # line 4: blank, skipped
        "courier:3,1700000000000,1.0,2.0\n"  # line 5
        "courier:4,1700000000000,1.0,2.0,9\n"  # line 6: a field too many
        "courier:5,1700000000000,1.0,2.0\n"  # line 7
    )
    batches = list(csv_batches(path, block_bytes=64))  # tiny blocks: several batches
    lines = [int(line) for batch in batches for line in batch.lines]
    entities = [e for batch in batches for e in batch.table.column("entity").to_pylist()]
    rejects = [r for batch in batches for r in batch.rejects]
    assert list(zip(lines, entities, strict=True)) == [(2, "courier:1"), (5, "courier:3"), (7, "courier:5")]
    assert [(r.line, r.reason) for r in rejects] == [(3, "malformed_row"), (6, "malformed_row")]
    assert rejects[0].row == "courier:2,1700000000000,1.0"
    assert sum(batch.progress for batch in batches) == path.stat().st_size


def test_gzipped_jsonl_lines_are_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b'{"a": 1}\n\n{"b": 2}\n')
    lines = [pair for batch in jsonl_batches(path) for pair in batch.lines]
    assert [(n, text.strip()) for n, text in lines] == [(1, b'{"a": 1}'), (2, b""), (3, b'{"b": 2}')]
