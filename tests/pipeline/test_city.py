"""City documents (road graphs) through ingest: detection, validation, storage with the dataset, re-runs."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.city import city_document_parse
from pipeline.contract import RowError
from pipeline.ingest import ingest_paths
from pipeline.readers import format_detect
from storage.tracks import TrackStore
from tests.pipeline.conftest import T0, job_created, jsonl_write, quarantine_read


def city(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "city": "riverside",
        "timezone": "Asia/Shanghai",
        "classes": ["primary", "residential"],
        "nodes": [[31.2, 121.4], [31.21, 121.41], [31.22, 121.40]],
        "edges": [[0, 1, "primary"], [1, 2, 1]],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def write(path: Path, doc: Any, *, pretty: bool = False) -> Path:
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 if pretty else 0))
    return path


@pytest.mark.parametrize("name", ["roads.json", "sim-1.roads.json", "ROADS.json", "roads.json.gz"])
def test_road_files_are_city_documents_by_name(name: str) -> None:
    assert format_detect(Path(name)) == "city"


def test_a_json_file_is_a_city_document_by_content(tmp_path: Path) -> None:
    assert format_detect(write(tmp_path / "graph.json", city())) == "city"
    assert format_detect(write(tmp_path / "pretty.json", city(), pretty=True)) == "city"
    lines = jsonl_write(tmp_path / "events.json", [job_created("order:1")])
    assert format_detect(lines) == "jsonl"
    assert format_detect(lines, "city") == "city"


def test_the_time_zone_is_optional_and_other_keys_are_kept() -> None:
    doc = city(timezone=None, bounds={"south": 31.2, "west": 121.4, "north": 31.22, "east": 121.41})
    parsed = city_document_parse(orjson.dumps(doc))
    assert parsed.timezone is None
    assert orjson.loads(parsed.canonical)["bounds"] == doc["bounds"]


def test_the_canonical_form_sorts_keys_and_drops_the_dataset() -> None:
    one = city_document_parse(orjson.dumps(city(dataset="demo")))
    two = city_document_parse(orjson.dumps(dict(reversed(list(city().items())))))
    assert one.canonical == two.canonical
    assert (one.dataset, one.city, one.timezone, one.nodes, one.edges) == (
        "demo",
        "riverside",
        "Asia/Shanghai",
        3,
        2,
    )
    assert b"dataset" not in one.canonical


@pytest.mark.parametrize(
    ("doc", "reason", "words"),
    [
        (city(timezone="Mars/Olympus"), "bad_value", "IANA"),
        (city(city="River side"), "bad_city", "short name"),
        (city(nodes=[[31.2, 121.4], [95.0, 121.4], [0, 0]]), "bad_coordinate", "nodes[1]"),
        (city(nodes=[[31.2, 121.4], [31.2]]), "bad_value", "nodes[1]"),
        (city(edges=[[0, 3, "primary"]]), "bad_value", "node 3"),
        (city(edges=[[0, 1, "motorway"]]), "bad_value", "class 'motorway'"),
        (city(classes=["a", "a"]), "bad_value", "repeat"),
        (city(nodes=None), "missing_field", "nodes"),
        (city(timezone=""), "bad_value", "IANA"),
        (city(dataset="../x"), "bad_dataset", "dataset"),
        ([1, 2], "invalid_json", "one JSON object"),
    ],
)
def test_a_bad_document_says_what_is_wrong(doc: Any, reason: str, words: str) -> None:
    with pytest.raises(RowError) as caught:
        city_document_parse(orjson.dumps(doc))
    assert caught.value.reason == reason
    assert words in caught.value.detail


def test_ingest_keeps_the_document_with_the_dataset_once(tmp_path: Path, stores: dict[str, Any]) -> None:
    store: TrackStore = stores["track_store"]
    path = write(tmp_path / "roads.json", city())
    first = ingest_paths([path], dataset="demo", **stores)
    (summary,) = first.files
    assert (summary.kind, summary.read, summary.stored, summary.duplicates, summary.quarantined) == (
        "city",
        1,
        1,
        0,
        0,
    )
    assert store.city_get(dataset="demo") == city_document_parse(path.read_bytes()).canonical
    again = ingest_paths([path], dataset="demo", **stores).files[0]
    assert (again.stored, again.duplicates) == (0, 1)


def test_a_dataset_field_wins_and_gzip_is_read(tmp_path: Path, stores: dict[str, Any]) -> None:
    path = tmp_path / "roads.json.gz"
    path.write_bytes(gzip.compress(orjson.dumps(city(dataset="sim-a"))))
    ingest_paths([path], dataset="demo", **stores)
    assert stores["track_store"].city_get(dataset="demo") is None
    assert stores["track_store"].city_get(dataset="sim-a") is not None


def test_a_bad_document_is_quarantined_whole_and_the_load_goes_on(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    bad = write(tmp_path / "roads.json", city(edges=[[0, 9, "primary"]]))
    events = jsonl_write(tmp_path / "events.jsonl", [job_created("order:1", ts=T0)])
    summary = ingest_paths([bad, events], dataset="demo", **stores)
    assert [(f.kind, f.read, f.stored, f.quarantined) for f in summary.files] == [
        ("city", 1, 0, 1),
        ("events", 1, 1, 0),
    ]
    written = summary.files[0].quarantine_path
    assert written is not None
    (reject,) = quarantine_read(written)
    assert (reject["line"], reject["reason"]) == (1, "bad_value")
    assert stores["track_store"].city_get(dataset="demo") is None
