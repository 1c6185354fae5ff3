"""Dispatch strategies: one module per family, `registry` names them."""

from simulator.strategies.base import (
    Candidate,
    CourierView,
    Decision,
    EtaBudgetExceeded,
    EtaOracle,
    JobView,
    RoundState,
    Strategy,
)
from simulator.strategies.registry import strategy_build, strategy_names, strategy_register

__all__ = [
    "Candidate",
    "CourierView",
    "Decision",
    "EtaBudgetExceeded",
    "EtaOracle",
    "JobView",
    "RoundState",
    "Strategy",
    "strategy_build",
    "strategy_names",
    "strategy_register",
]
