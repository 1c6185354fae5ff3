"""What the engine hands to pages: frozen results, numbers None exactly when a blocking flag says why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from experiments.stats.flags import Flag
from experiments.stats.inputs import Difference, GaussianPrior, MetricSpec
from experiments.stats.srm import SrmResult

Outcome = Literal["better", "worse", "inconclusive"]
Verdict = Literal["pass", "fail", "inconclusive", "unavailable"]


@dataclass(frozen=True, slots=True)
class Posterior:
    """Bayesian read-out of one lift: posterior, chance to win and the expected loss of each choice."""

    prior: GaussianPrior
    mean: float | None
    std_dev: float | None
    ci_low: float | None
    ci_high: float | None
    chance_to_win: float | None
    risk_variant: float | None
    risk_baseline: float | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One variant against the baseline on one scale (absolute or relative lift)."""

    difference: Difference
    method: str
    estimate: float | None
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    dof: float | None
    significant: bool | None
    outcome: Outcome | None
    posterior: Posterior
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class GuardrailVerdict:
    """Non-inferiority read-out of a guardrail on the relative lift.

    pass: the whole 1 − α bound on the harmful side is within the margin; fail: the whole interval is beyond
    it; inconclusive: the interval straddles the margin; unavailable: the relative lift is withheld.
    """

    verdict: Verdict
    margin: float
    bound: float | None
    p_value: float | None
    method: str
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class VariantResult:
    """One variant's read-out on one metric, on both scales."""

    variant: str
    n: int
    mean: float | None
    absolute: Comparison
    relative: Comparison
    guardrail: GuardrailVerdict | None
    cuped_theta: float | None


@dataclass(frozen=True, slots=True)
class BaselineSummary:
    """The baseline's size and (unadjusted) mean on one metric."""

    variant: str
    n: int
    mean: float | None


@dataclass(frozen=True, slots=True)
class MetricResult:
    """A metric's read-out: every variant against the baseline, the split check and metric-level warnings."""

    spec: MetricSpec
    baseline: BaselineSummary
    variants: tuple[VariantResult, ...]
    srm: SrmResult | None
    flags: tuple[Flag, ...]

    def variant(self, name: str) -> VariantResult:
        """The read-out of the variant called `name`."""
        for result in self.variants:
            if result.variant == name:
                return result
        raise KeyError(name)
