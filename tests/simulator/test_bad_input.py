from dataclasses import dataclass

import orjson
import pyarrow.parquet as pq
import pytest

from pipeline.contract import time_bounds_now
from pipeline.events import event_normalise
from simulator.batch import simulate
from simulator.scenarios import ScenarioError, scenario_params_build
from simulator.strategies import Decision, RoundState
from simulator.strategies.registry import UnknownStrategyError, strategy_register

TINY = {"hours": 0.5, "couriers": 20, "merchants": 20}


def test_invalid_parameters_give_one_error_listing_every_problem_and_the_ranges():
    with pytest.raises(ScenarioError) as info:
        scenario_params_build(name="food-delivery", overrides={"couriers": 0, "gps.hz": 100, "nope": 1})
    text = str(info.value)
    assert "couriers=0 (valid 1..20000)" in text
    assert "gps.hz=100" in text
    assert "unknown parameter 'nope'" in text
    assert "valid ranges:" in text
    assert "round_interval_s: 5..600" in text


def test_unknown_scenario_and_strategy_are_named():
    with pytest.raises(ScenarioError, match="food-delivery, bike-sharing"):
        scenario_params_build(name="pizza")
    with pytest.raises(UnknownStrategyError, match="nearest, greedy"):
        simulate(scenario="food-delivery", strategies=["nope"], out_dir=None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Raising:
    name: str = "test-raising"
    version: str = "1"

    def decide(self, state: RoundState) -> Decision:
        if state.ts % 120_000 == 0:
            raise RuntimeError("boom")
        return Decision(
            candidates=(), assignments=((0, int(state.eligible[0][0])),) if state.eligible[0].size else ()
        )


@dataclass(frozen=True)
class Greedy:
    name: str = "test-greedy-eta"
    version: str = "1"

    def decide(self, state: RoundState) -> Decision:
        import numpy as np

        n = len(state.couriers)
        state.eta.pickup_s(np.arange(n), np.zeros(n, dtype=np.int64))
        state.eta.pickup_s(np.arange(n), np.zeros(n, dtype=np.int64))  # the second sweep is over budget
        return Decision(candidates=(), assignments=())


@dataclass(frozen=True)
class Twice:
    name: str = "test-twice"
    version: str = "1"

    def decide(self, state: RoundState) -> Decision:
        allowed = state.eligible[0]
        if allowed.size < 2:
            return Decision(candidates=(), assignments=())
        return Decision(candidates=(), assignments=((0, int(allowed[0])), (0, int(allowed[1]))))


@dataclass(frozen=True)
class Unknown:
    name: str = "test-unknown-courier"
    version: str = "1"

    def decide(self, state: RoundState) -> Decision:
        return Decision(candidates=(), assignments=((0, len(state.couriers) + 5),))


strategy_register(name="test-raising", factory=lambda: Raising())
strategy_register(name="test-greedy-eta", factory=lambda: Greedy())
strategy_register(name="test-twice", factory=lambda: Twice())
strategy_register(name="test-unknown-courier", factory=lambda: Unknown())


@pytest.mark.parametrize(
    ("name", "message", "overrides"),
    [
        ("test-raising", "strategy raised RuntimeError: boom", {}),
        ("test-greedy-eta", "eta budget exceeded", {"eta_budget": 25}),
        ("test-twice", "assigned twice", {}),
        ("test-unknown-courier", "unknown courier index", {}),
    ],
)
def test_a_failing_strategy_fails_its_rounds_not_the_run(tmp_path, name, message, overrides):
    output = simulate(
        scenario="food-delivery", strategies=[name], out_dir=tmp_path, overrides={**TINY, **overrides}
    )
    run = output.runs[0]
    rounds = [orjson.loads(line) for line in run.events_path.read_bytes().splitlines()]
    rounds = [e for e in rounds if e["type"] == "dispatch_round"]
    failed = [r for r in rounds if "error" in r]
    assert failed
    assert all(message in r["error"] for r in failed)
    assert all(r["assignments"] == [] and r["postponed"] == r["jobs"] for r in failed)
    for r in failed:  # a failed round is still a valid dispatch_round for the pipeline
        event_normalise(r, default_dataset=run.dataset, bounds=time_bounds_now())
    summary = pq.read_table(output.summary_path).to_pylist()[0]
    assert summary["failed_rounds"] == len(failed)
    assert message in summary["failures"]
    manifest = orjson.loads(run.incidents_path.read_bytes())
    assert manifest["counts"]["failed_round"] == len(failed)
    if name == "test-raising":
        # rounds that did not raise still dispatched and delivered
        assert len(failed) < len(rounds)
        assert summary["delivered"] > 0
