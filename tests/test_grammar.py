"""One grammar: every entry point taking a dataset, an id or a city gives the same verdict on a name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.contract import RowError, check_dataset, check_id, check_short_name, time_bounds_now
from pipeline.events import event_normalise
from pipeline.ingest import IngestError, ingest_paths
from playback.services import IncidentError, incidents_record
from storage import grammar
from storage.connections import track_stores
from storage.keys import dataset_prefix, lp
from storage.warehouse.parquet import partition_value_check

DATASETS = [
    "a",
    "prod",
    "sim-food-delivery-hungarian-bundle-r1p5-b0p5-k3-lp60-1",
    "A" * 96,
    "A" * 97,
    "x.y_z-1",
    ".hidden",
    "-dash",
    "_under",
    "..",
    ".",
    "",
    "x/y",
    "x y",
    "zürich",
    "x|y",
]

IDS = [
    "courier:c1",
    "order:A-17/b#3",
    "bike:Zürich-7",
    "k" + "x" * 31 + ":1",
    "k" + "x" * 32 + ":1",
    "courier:" + "c" * 128,
    "courier:" + "c" * 129,
    "bike:" + "é" * 128,
    "Courier:c1",
    "courier:",
    ":c1",
    "courier:c 1",
    "courier:c\x07",
    "c1",
    "1courier:c1",
]

SHORT_NAMES = ["riverside", "Z-1_a", "a" * 32, "a" * 33, "", "a.b", "a b", "ü"]


def _accepts(check: Callable[[], object]) -> bool:
    try:
        check()
    except (RowError, ValueError, IngestError, IncidentError):
        return False
    return True


def _event(dataset: str) -> dict[str, object]:
    return {
        "type": "entity_state",
        "entity": "courier:c1",
        "ts": 1_700_000_000_000,
        "state": "idle",
        "dataset": dataset,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", DATASETS)
def test_every_entry_point_agrees_on_a_dataset_name(name: str, tmp_path: Path) -> None:
    expected = grammar.dataset_is_valid(name)
    source = tmp_path / "empty.jsonl"
    source.write_text("")
    verdicts = {
        "contract": _accepts(lambda: check_dataset(name)),
        "event row": _accepts(
            lambda: event_normalise(_event(name), default_dataset="d", bounds=time_bounds_now())
        ),
        "keys": _accepts(lambda: dataset_prefix(name)),
        "warehouse path": _accepts(lambda: partition_value_check(column="dataset", value=name)),
        "ingest": _accepts(
            lambda: ingest_paths(
                [source],
                dataset=name,
                track_store=track_stores["default"],
                warehouse_root=tmp_path / "w",
                quarantine_dir=tmp_path / "q",
            )
        ),
        "incidents": _accepts(lambda: incidents_record(dataset=name, incidents=[])),
    }
    assert verdicts == dict.fromkeys(verdicts, expected), name


@pytest.mark.parametrize("ident", IDS)
def test_every_entry_point_agrees_on_an_id(ident: str) -> None:
    expected = grammar.id_is_valid(ident)
    event = {"type": "entity_state", "entity": ident, "ts": 1_700_000_000_000, "state": "idle"}
    verdicts = {
        "contract": _accepts(lambda: check_id(ident, "entity")),
        "event row": _accepts(lambda: event_normalise(event, default_dataset="d", bounds=time_bounds_now())),
    }
    assert verdicts == dict.fromkeys(verdicts, expected), ident
    if expected:
        assert _accepts(lambda: lp(ident)), "every valid id fits the one-byte length prefix of the keys"


@pytest.mark.parametrize("name", SHORT_NAMES)
def test_every_entry_point_agrees_on_a_city(name: str) -> None:
    expected = grammar.short_name_is_valid(name)
    verdicts = {
        "contract": _accepts(lambda: check_short_name(name, "city", "bad_city")),
        "warehouse path": _accepts(lambda: partition_value_check(column="city", value=name)),
    }
    assert verdicts == dict.fromkeys(verdicts, expected), name


def test_the_grammar_says_what_its_patterns_check() -> None:
    assert grammar.dataset_is_valid("A" * grammar.DATASET_MAX_LENGTH)
    assert not grammar.dataset_is_valid("A" * (grammar.DATASET_MAX_LENGTH + 1))
    assert "1-96" in grammar.DATASET_GRAMMAR
    assert grammar.short_name_is_valid("a" * grammar.SHORT_NAME_MAX_LENGTH)
    assert not grammar.short_name_is_valid("a" * (grammar.SHORT_NAME_MAX_LENGTH + 1))
    assert grammar.switchback_cell_is_valid("riverside|z3|1700000000000")
    assert not grammar.switchback_cell_is_valid("riverside|z3")
