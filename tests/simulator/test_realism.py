"""Realism of the default scenarios (DESIGN §10): the ranges come from the issue; a failing range means the
scenario needs fixing, not the range."""

import numpy as np
import pytest

from simulator import bike_sharing, food_delivery
from simulator.metrics import summary_rows
from simulator.scenarios import BikeSharingParams, FoodDeliveryParams, scenario_params_build
from simulator.strategies.registry import strategy_build


def _food(seed: int, name: str):
    params = scenario_params_build(
        name="food-delivery", overrides={"seed": seed, "hours": 2, "couriers": 300}
    )
    assert isinstance(params, FoodDeliveryParams)
    result = food_delivery.run(
        params=params,
        strategies={name: strategy_build(name)},
        design="paired",
        dataset=f"sim-food-delivery-{name}-{seed}",
    )
    return result, summary_rows(result=result, gps_points=0)[0]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_food_delivery_is_realistic_and_hungarian_beats_nearest(seed):
    _, hungarian = _food(seed, "hungarian")
    assert 12 <= hungarian.moving_speed_kmh <= 25
    assert 20 <= hungarian.mean_delivery_min <= 45
    assert 0.02 <= hungarian.late_share <= 0.20
    assert 0.40 <= hungarian.utilisation <= 0.90
    assert 0.01 <= hungarian.decline_rate <= 0.10
    assert hungarian.failed_rounds == 0
    assert hungarian.delivered >= 0.95 * hungarian.jobs
    _, nearest = _food(seed, "nearest")
    assert nearest.jobs == hungarian.jobs  # same demand
    assert hungarian.mean_delivery_min <= 0.97 * nearest.mean_delivery_min


def test_bike_sharing_trips_and_morning_dry_areas_get_rebalanced():
    params = scenario_params_build(name="bike-sharing", overrides={"seed": 1})
    assert isinstance(params, BikeSharingParams)
    result = bike_sharing.run(
        params=params,
        strategies={"hungarian": strategy_build("hungarian")},
        design="paired",
        dataset="sim-bike-sharing-hungarian-1",
    )
    row = summary_rows(result=result, gps_points=0)[0]
    assert row.median_trip_min is not None
    assert 5 <= row.median_trip_min <= 25
    local_hour = [((i["ts"] / 3_600_000) + result.city.utc_offset_h) % 24 for i in result.extra_incidents]
    morning = [i for i, h in zip(result.extra_incidents, local_hour, strict=True) if 7 <= h <= 9.5]
    assert morning, "an area should run dry at the morning peak"
    assert any("task" in i for i in morning), "a dry area should get a rebalancing task"
    tasks = {j.job: j for j in result.jobs if j.kind == "rebalance"}
    done = [i for i in morning if i.get("task") in tasks and tasks[i["task"]].delivered_ts is not None]
    assert done, "a truck should complete a rebalancing task for a dry area"
    trucks = {j.entity for j in tasks.values() if j.entity}
    assert trucks
    assert all(t.startswith("truck:") for t in trucks)


def test_couriers_wait_at_merchants_and_carry_several_orders():
    result, _ = _food(1, "hungarian-bundle")
    pick = {j.job: j for j in result.jobs}
    assert pick
    # at some moment a courier holds more than one undelivered order
    by_entity: dict[str, list[tuple[int, int]]] = {}
    for j in result.jobs:
        if j.entity and j.picked_up_ts and j.delivered_ts:
            by_entity.setdefault(j.entity, []).append((j.picked_up_ts, j.delivered_ts))
    overlapping = sum(
        1 for spans in by_entity.values() for a in spans for b in spans if a < b and b[0] < a[1]
    )
    assert overlapping > 20
    arrived = {e["job"]: e["ts"] for e in result.events if e["type"] == "job_arrived_pickup"}
    waits = [pick[job].picked_up_ts - ts for job, ts in arrived.items() if pick[job].picked_up_ts]
    assert sum(w > 120_000 for w in waits) > 0.1 * len(waits), "couriers should often wait for the meal"
    speeds = np.array([c.moving_m / c.moving_s * 3.6 for c in result.couriers if c.moving_s > 600])
    assert 12 <= float(np.median(speeds)) <= 25
