"""Event validation and normalisation: every reason code, times, ids, datasets, derived event ids."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.contract import RowError, TimeBounds, check_ts, rfc3339_to_ms
from pipeline.events import event_id_derive, event_normalise
from storage.grammar import id_is_valid
from tests.pipeline.conftest import T0, dispatch_round, job_created

BOUNDS = TimeBounds(start_ms=946_684_800_000, end_ms=T0 + 86_400_000)


def normalise(row: dict[str, Any], dataset: str = "default") -> tuple[str, Any]:
    return event_normalise(row, default_dataset=dataset, bounds=BOUNDS)


def reason_of(row: dict[str, Any]) -> str:
    with pytest.raises(RowError) as caught:
        normalise(row)
    return caught.value.reason


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"type": "job_teleported", "job": "order:1", "ts": T0}, "unknown_type"),
        ({"type": 7, "job": "order:1", "ts": T0}, "unknown_type"),
        ({"job": "order:1", "ts": T0}, "missing_field"),
        ({**job_created("order:1"), "ts": None}, "missing_field"),
        ({k: v for k, v in job_created("order:1").items() if k != "pickup"}, "missing_field"),
        ({k: v for k, v in dispatch_round("round:1").items() if k != "assignments"}, "missing_field"),
        (job_created("order:1", ts="2023-11-14T22:13:20"), "bad_timestamp"),
        (job_created("order:1", ts="yesterday"), "bad_timestamp"),
        (job_created("order:1", ts=1.7e12 + 0.5), "bad_timestamp"),
        (job_created("order:1", ts=True), "bad_timestamp"),
        (job_created("order:1", ts=1_700_000_000), "implausible_timestamp"),  # seconds, not ms
        (job_created("order:1", ts=T0 + 2 * 86_400_000), "implausible_timestamp"),
        (job_created("order:1", ts="1999-12-31T23:59:59Z"), "implausible_timestamp"),
        (job_created("order 1"), "bad_id"),
        (job_created("Order:1"), "bad_id"),
        (job_created("order:"), "bad_id"),
        (job_created("order:a b"), "bad_id"),
        (job_created("order:" + "x" * 129), "bad_id"),
        (job_created(17), "bad_id"),
        ({**job_created("order:1"), "id": "no-kind"}, "bad_id"),
        ({"type": "job_assigned", "job": "order:1", "ts": T0, "entity": "courier"}, "bad_id"),
        ({**dispatch_round("round:1"), "jobs": ["order:1", "nope"]}, "bad_id"),
        ({"type": "experiment_assignment", "experiment": "e1", "unit": "nyc|z1", "variant": "a", "ts": T0},
         "bad_id"),
        ({**job_created("order:1"), "pickup": {"lat": 91.0, "lon": 0.0}}, "bad_coordinate"),
        ({**job_created("order:1"), "dropoff": {"lat": 0.0, "lon": -180.5}}, "bad_coordinate"),
        ({**job_created("order:1"), "pickup": {"lat": "40.7", "lon": 0.0}}, "bad_coordinate"),
        (job_created("order:1", city="New York"), "bad_city"),
        (job_created("order:1", city="x" * 33), "bad_city"),
        (job_created("order:1", zone="z/1"), "bad_zone"),
        ({**job_created("order:1"), "dataset": "../etc"}, "bad_dataset"),
        ({**job_created("order:1"), "kind": "teleport"}, "bad_value"),
        ({"type": "entity_state", "entity": "courier:1", "ts": T0, "state": "asleep"}, "bad_value"),
        ({"type": "entity_state", "entity": "courier:1", "ts": T0, "state": "idle", "capacity": -1},
         "bad_value"),
        ({**dispatch_round("round:1"), "candidates": {"job": "order:1"}}, "bad_value"),
        ({**dispatch_round("round:1"), "assignments": [["order:1", "courier:1"]]}, "bad_value"),
        ({**dispatch_round("round:1"), "latency_ms": float("inf")}, "bad_value"),
        ({**dispatch_round("round:1"), "strategy": ""}, "bad_value"),
        ({**job_created("order:1"), "attrs": [1, 2]}, "bad_value"),
    ],
)  # fmt: skip
def test_each_broken_event_is_rejected_with_its_reason(row: dict[str, Any], reason: str) -> None:
    assert reason_of(row) == reason


def test_a_bad_candidate_names_its_position() -> None:
    row = dispatch_round("round:1")
    row["candidates"][2]["eta_s"] = float("nan")
    with pytest.raises(RowError) as caught:
        normalise(row)
    assert caught.value.reason == "bad_value"
    assert "candidates[2].eta_s" in caught.value.detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-11-14T22:13:20Z", T0),
        ("2023-11-14T22:13:20.123Z", T0 + 123),
        ("2023-11-14T22:13:20.123999Z", T0 + 123),  # sub-ms digits are truncated
        ("2023-11-15T00:13:20+02:00", T0),
        ("2023-11-14T17:43:20-04:30", T0),
        ("2023-11-14 22:13:20z", T0),
        ("2023-11-14t22:13:20+00:00", T0),
    ],
)
def test_rfc3339_with_an_offset_becomes_epoch_ms_utc(text: str, expected: int) -> None:
    assert rfc3339_to_ms(text) == expected
    _, event = normalise(job_created("order:1", ts=text, promised_ts=text))
    assert event.ts == expected
    assert event.body["ts"] == expected
    assert event.body["promised_ts"] == expected


@pytest.mark.parametrize("text", ["2023-11-14T22:13:20", "2023-11-14", "2023-11-14T22:13Z", "1700000000000"])
def test_times_without_an_offset_or_not_rfc3339_are_rejected(text: str) -> None:
    with pytest.raises(RowError) as caught:
        check_ts(text, "ts", BOUNDS)
    assert caught.value.reason == "bad_timestamp"


def test_integral_floats_are_accepted_as_ms() -> None:
    assert check_ts(float(T0), "ts", BOUNDS) == T0


def test_ids_like_c1_and_c10_are_distinct_valid_ids() -> None:
    assert id_is_valid("courier:c1")
    assert id_is_valid("courier:c10")
    _, one = normalise({"type": "entity_state", "entity": "courier:c1", "ts": T0, "state": "idle"})
    _, ten = normalise({"type": "entity_state", "entity": "courier:c10", "ts": T0, "state": "idle"})
    assert one.body["entity"] == "courier:c1"
    assert ten.body["entity"] == "courier:c10"
    assert one.id != ten.id


def test_ids_allow_printable_punctuation_and_unicode_but_not_control_characters() -> None:
    assert id_is_valid("order:A-17/b#3")
    assert id_is_valid("bike:Zürich-7")
    assert not id_is_valid("bike:a\x07b")
    assert not id_is_valid("bike:" + "é" * 128)  # over 255 UTF-8 bytes: keys length-prefix ids in one byte


def test_a_row_level_dataset_wins_over_the_default_and_is_not_in_the_body() -> None:
    dataset, event = normalise({**job_created("order:1"), "dataset": "sim-rush-greedy-7"}, dataset="prod")
    assert dataset == "sim-rush-greedy-7"
    assert "dataset" not in event.body
    dataset, _ = normalise(job_created("order:1"), dataset="prod")
    assert dataset == "prod"


def test_the_derived_id_is_stable_and_independent_of_time_notation_and_key_order() -> None:
    _, as_ms = normalise(job_created("order:1", ts=T0))
    _, as_text = normalise(job_created("order:1", ts="2023-11-15T00:13:20+02:00"))
    reordered = dict(reversed(list(job_created("order:1").items())))
    _, as_reordered = normalise(reordered)
    assert as_ms.id.startswith("ev:")
    assert as_ms.id == as_text.id == as_reordered.id
    _, other = normalise(job_created("order:2"))
    assert other.id != as_ms.id
    assert event_id_derive(as_ms.body) == as_ms.id


def test_a_given_id_is_kept() -> None:
    _, event = normalise({**job_created("order:1"), "id": "ev:abc-1"})
    assert event.id == "ev:abc-1"
    assert event.body["id"] == "ev:abc-1"


def test_normalised_body_has_ms_times_float_coordinates_and_keeps_extra_fields() -> None:
    row = {**job_created("order:1", ready_ts="2023-11-14T22:23:20Z", zone=None), "source": "pos-7"}
    row["pickup"] = {"lat": 40, "lon": -74}
    _, event = normalise(row)
    body = event.body
    assert body["ready_ts"] == T0 + 600_000
    assert body["pickup"] == {"lat": 40.0, "lon": -74.0}
    assert isinstance(body["pickup"]["lat"], float)
    assert "zone" not in body  # null means absent
    assert body["source"] == "pos-7"
    assert body["type"] == "job_created"
    assert event.type == "job_created"


def test_every_event_type_of_the_contract_is_accepted() -> None:
    rows = [
        job_created("order:1", zone="z1", promised_ts=T0 + 1, ready_ts=T0 + 2, attrs={"items": 3}),
        dispatch_round(
            "round:1",
            latency_ms=12.5,
            strategy_version="v2",
            postponed=["order:3"],
            excluded=[{"job": "order:1", "entity": "courier:9", "reason": "full"}],
        ),
        *(
            {"type": t, "job": "order:1", "ts": T0, "entity": "courier:1", "round": "round:1",
             "waybill": "waybill:1", "reason": "declined"}
            for t in ("job_assigned", "job_accepted", "job_rejected", "job_arrived_pickup", "job_picked_up",
                      "job_delivered", "job_cancelled")
        ),
        {"type": "job_cancelled", "job": "order:2", "ts": T0},
        {"type": "entity_state", "entity": "bike:7", "ts": T0, "state": "online", "city": "nyc",
         "capacity": 1},
        {"type": "experiment_assignment", "experiment": "eta-v2", "unit": "order:1", "variant": "b",
         "ts": T0},
        {"type": "experiment_assignment", "experiment": "sb-1", "unit": "nyc|z1|1700000000000",
         "variant": "a", "ts": T0, "city": "nyc"},
    ]  # fmt: skip
    types = [normalise(row)[1].type for row in rows]
    assert len(types) == 13
    round_body = normalise(rows[1])[1].body
    assert round_body["candidates"][0]["eta_s"] == 120.0
    assert round_body["excluded"][0]["reason"] == "full"


def test_candidate_entity_pos_time_is_normalised() -> None:
    row = dispatch_round("round:1")
    row["candidates"][0]["entity_pos"] = {"lat": 40.7, "lon": -74.0, "ts": "2023-11-14T22:13:19Z"}
    _, event = normalise(row)
    assert event.body["candidates"][0]["entity_pos"] == {"lat": 40.7, "lon": -74.0, "ts": T0 - 1000}


def test_every_reason_code_is_documented_with_an_example() -> None:
    import re
    from pathlib import Path

    from pipeline.contract import REASONS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "log-format.md").read_text()
    # Rows of the reason table: | `code` | meaning | example |
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| (.+) \|$", doc, flags=re.MULTILINE)
    assert {code for code, _ in rows} == set(REASONS)
    assert all(example.strip() for _, example in rows)
