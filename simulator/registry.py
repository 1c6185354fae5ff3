"""Scenarios by name: each one's parameters class and the `run` of its module.

A new scenario is a module with a `run(*, params, strategies, design, dataset, city, progress)` returning
a `RunResult`, a parameters dataclass in `scenarios.py` naming it (`scenario: ClassVar`), and a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator import bike_sharing, food_delivery
from simulator.city import City
from simulator.designs import Design
from simulator.results import RunResult
from simulator.runs import Progress
from simulator.scenarios import BikeSharingParams, FoodDeliveryParams, ScenarioParams
from simulator.strategies.base import Strategy


@dataclass(frozen=True)
class Scenario:
    """A scenario: its parameters class and the function that runs it on those parameters."""

    params: type[ScenarioParams]
    run: Callable[..., RunResult]

    @property
    def name(self) -> str:
        """The scenario's name, as its parameters class spells it."""
        return self.params.scenario


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(params=FoodDeliveryParams, run=food_delivery.run),
        Scenario(params=BikeSharingParams, run=bike_sharing.run),
    )
}


def scenario_run(
    *,
    params: ScenarioParams,
    strategies: dict[str, Strategy],
    design: Design,
    dataset: str,
    city: City | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run the scenario that `params` belong to."""
    return SCENARIOS[params.scenario].run(
        params=params, strategies=strategies, design=design, dataset=dataset, city=city, progress=progress
    )
