from simulator.batch import simulate
from tests.simulator.conftest import SMALL


def _files(out):
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_logs(tmp_path, small_run):
    again = simulate(
        scenario="food-delivery", strategies=["nearest", "hungarian"], out_dir=tmp_path, overrides=SMALL
    )
    first, second = _files(small_run.out_dir), _files(again.out_dir)
    assert first.keys() == second.keys()
    assert len(first) == 9  # 2 datasets × (events, gps, incidents, roads) + summary
    for name in first:
        assert first[name] == second[name], name


def test_two_workers_write_the_same_bytes_as_one(tmp_path):
    overrides = {"hours": 0.5, "couriers": 30, "merchants": 40, "seed": 4}
    one = simulate(
        scenario="food-delivery",
        strategies=["greedy", "postpone"],
        out_dir=tmp_path / "a",
        overrides=overrides,
    )
    two = simulate(
        scenario="food-delivery",
        strategies=["greedy", "postpone"],
        out_dir=tmp_path / "b",
        overrides=overrides,
        workers=2,
    )
    assert _files(one.out_dir) == _files(two.out_dir)


def test_another_seed_gives_other_demand(tmp_path, small_run):
    other = simulate(
        scenario="food-delivery", strategies=["nearest"], out_dir=tmp_path, overrides={**SMALL, "seed": 2}
    )
    mine = small_run.out_dir / "sim-food-delivery-nearest-1" / "events.jsonl"
    assert other.runs[0].events_path.read_bytes() != mine.read_bytes()
