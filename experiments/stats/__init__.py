"""Dispatchscope's statistics engine: pure numpy/scipy, frozen dataclasses in and out, no Django.

Entry points: `scorecard_compute` / `metric_analyse` (A/B and offline paired comparisons),
`switchback_analyse` (cell-level analysis), `leaderboard_compute` (ranking with FDR control), `srm_check`,
`p_values_adjust`, and the planning functions `mde_compute`, `power_compute`, `sample_size_compute`.
docs/statistics.md states every formula.
"""

from experiments.stats.flags import Flag, FlagCode
from experiments.stats.inputs import (
    AnalysisSettings,
    CellStats,
    Difference,
    Direction,
    GaussianPrior,
    MetricKind,
    MetricSpec,
    QuantileStats,
    VariantStats,
)
from experiments.stats.leaderboard import Leaderboard, LeaderboardRow, leaderboard_compute
from experiments.stats.multiple import Correction, p_values_adjust
from experiments.stats.power import (
    Mde,
    PlanningBaseline,
    SampleSize,
    mde_compute,
    planning_baseline,
    power_compute,
    sample_size_compute,
)
from experiments.stats.results import (
    BaselineSummary,
    Comparison,
    GuardrailVerdict,
    MetricResult,
    Posterior,
    VariantResult,
)
from experiments.stats.routes import Design
from experiments.stats.schedule import ScheduleBalance, schedule_balance_check
from experiments.stats.scorecard import MetricInput, Scorecard, metric_analyse, scorecard_compute
from experiments.stats.srm import SrmResult, srm_check
from experiments.stats.switchback import ClusterSummary, SwitchbackResult, switchback_analyse

__all__ = [
    "AnalysisSettings",
    "BaselineSummary",
    "CellStats",
    "ClusterSummary",
    "Comparison",
    "Correction",
    "Design",
    "Difference",
    "Direction",
    "Flag",
    "FlagCode",
    "GaussianPrior",
    "GuardrailVerdict",
    "Leaderboard",
    "LeaderboardRow",
    "Mde",
    "MetricInput",
    "MetricKind",
    "MetricResult",
    "MetricSpec",
    "PlanningBaseline",
    "Posterior",
    "QuantileStats",
    "SampleSize",
    "ScheduleBalance",
    "Scorecard",
    "SrmResult",
    "SwitchbackResult",
    "VariantResult",
    "VariantStats",
    "leaderboard_compute",
    "mde_compute",
    "metric_analyse",
    "p_values_adjust",
    "planning_baseline",
    "power_compute",
    "sample_size_compute",
    "schedule_balance_check",
    "scorecard_compute",
    "srm_check",
    "switchback_analyse",
]
