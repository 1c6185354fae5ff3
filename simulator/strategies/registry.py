"""Named strategies: the five built-in families at their defaults plus parameter grids (104 variants).

Variant names spell their parameters, e.g. `hungarian-r3-lp60-lw1` (radius 3 km, load penalty 60 s,
lateness weight 1). `strategy_register` adds a user strategy under a new name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from itertools import product

from simulator.strategies.base import Strategy
from simulator.strategies.greedy import GreedyEtaStrategy
from simulator.strategies.hungarian import HungarianBundleStrategy, HungarianStrategy
from simulator.strategies.nearest import NearestStrategy
from simulator.strategies.postponement import PostponeStrategy

StrategyFactory = Callable[[], Strategy]


class UnknownStrategyError(KeyError):
    """A strategy name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


def _num(value: float) -> str:
    return f"{value:g}".replace(".", "p")


def _named(strategy: Strategy, name: str) -> StrategyFactory:
    named = dataclasses.replace(strategy, name=name)  # type: ignore[type-var]
    return lambda: named


def _builtin() -> dict[str, StrategyFactory]:
    table: dict[str, StrategyFactory] = {
        "nearest": lambda: NearestStrategy(),
        "greedy": lambda: GreedyEtaStrategy(),
        "hungarian": lambda: HungarianStrategy(),
        "hungarian-bundle": lambda: HungarianBundleStrategy(),
        "postpone": lambda: PostponeStrategy(),
    }
    for r in (1.5, 2.0, 3.0, 4.0, 6.0):
        name = f"nearest-r{_num(r)}"
        table[name] = _named(NearestStrategy(radius_km=r), name)
    for r, lp in product((2.0, 3.0, 4.0, 6.0), (0.0, 60.0, 120.0)):
        name = f"greedy-r{_num(r)}-lp{_num(lp)}"
        table[name] = _named(GreedyEtaStrategy(radius_km=r, load_penalty_s=lp), name)
    for r, lp, lw in product((2.0, 3.0, 4.0, 6.0), (0.0, 60.0, 120.0), (0.0, 1.0)):
        name = f"hungarian-r{_num(r)}-lp{_num(lp)}-lw{_num(lw)}"
        table[name] = _named(HungarianStrategy(radius_km=r, load_penalty_s=lp, lateness_weight=lw), name)
    for r, br, mb, lp in product((2.0, 3.0, 4.0), (200.0, 400.0, 800.0), (2, 3), (0.0, 60.0)):
        name = f"hungarian-bundle-r{_num(r)}-b{_num(br)}-k{mb}-lp{_num(lp)}"
        table[name] = _named(
            HungarianBundleStrategy(radius_km=r, bundle_radius_m=br, max_bundle=mb, load_penalty_s=lp), name
        )
    for r, th, hold in product((2.0, 3.0, 4.0), (120.0, 300.0, 600.0), (60.0, 180.0, 300.0)):
        name = f"postpone-r{_num(r)}-t{_num(th)}-h{_num(hold)}"
        table[name] = _named(PostponeStrategy(radius_km=r, threshold_s=th, hold_max_s=hold), name)
    return table


_REGISTRY: dict[str, StrategyFactory] = _builtin()
DEFAULT_STRATEGIES: tuple[str, ...] = ("nearest", "greedy", "hungarian", "hungarian-bundle", "postpone")
_VARIANTS: tuple[str, ...] = tuple(n for n in _REGISTRY if n not in DEFAULT_STRATEGIES)


def strategy_register(*, name: str, factory: StrategyFactory) -> None:
    """Make `factory()` available as strategy `name` (a name may be registered once)."""
    if name in _REGISTRY:
        raise ValueError(f"strategy {name!r} is already registered")
    _REGISTRY[name] = factory


def strategy_build(name: str) -> Strategy:
    """A fresh strategy object for `name`; UnknownStrategyError lists the families when it is unknown."""
    factory = _REGISTRY.get(name)
    if factory is None:
        raise UnknownStrategyError(
            f"unknown strategy {name!r}; built-in families: {', '.join(DEFAULT_STRATEGIES)} "
            f"({len(_REGISTRY)} names in all, see `simulate --list`)"
        )
    return factory()


def strategy_names() -> tuple[str, ...]:
    """Registered names: the defaults first, then every grid variant and user strategy."""
    return DEFAULT_STRATEGIES + tuple(n for n in _REGISTRY if n not in DEFAULT_STRATEGIES)


def strategy_variants() -> tuple[str, ...]:
    """The grid variants only (104 names), the set `--strategies all-variants` runs."""
    return _VARIANTS
