"""Degenerate-input flags: a code for programs and a sentence for the screen, never a made-up number.

A blocking flag means the number it concerns is withheld (None); a warning keeps the number and says why it
deserves suspicion. docs/statistics.md lists every code with its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FlagCode(StrEnum):
    NO_UNITS = "NO_UNITS"
    TOO_FEW_UNITS = "TOO_FEW_UNITS"
    ZERO_VARIANCE = "ZERO_VARIANCE"
    ZERO_BASELINE = "ZERO_BASELINE"
    NEGATIVE_BASELINE = "NEGATIVE_BASELINE"
    ZERO_DENOMINATOR = "ZERO_DENOMINATOR"
    NON_FINITE_INPUT = "NON_FINITE_INPUT"
    QUANTILE_UNDERSAMPLED = "QUANTILE_UNDERSAMPLED"
    QUANTILE_BRACKET_COLLAPSED = "QUANTILE_BRACKET_COLLAPSED"
    TOO_FEW_CELLS = "TOO_FEW_CELLS"
    FEW_CELLS = "FEW_CELLS"
    SAMPLE_RATIO_MISMATCH = "SAMPLE_RATIO_MISMATCH"
    UNBALANCED_SCHEDULE = "UNBALANCED_SCHEDULE"
    CUPED_UNAVAILABLE = "CUPED_UNAVAILABLE"
    CUPED_NO_COVARIATE_VARIANCE = "CUPED_NO_COVARIATE_VARIANCE"
    PAIRED_UNSUPPORTED = "PAIRED_UNSUPPORTED"
    NO_PAIRED_DIFFERENCE = "NO_PAIRED_DIFFERENCE"
    NO_TESTS = "NO_TESTS"


MESSAGES: dict[FlagCode, str] = {
    FlagCode.NO_UNITS: "{variant} has no units for this metric, so there is nothing to compare.",
    FlagCode.TOO_FEW_UNITS: "{variant} has only {n} unit; a variance needs at least two.",
    FlagCode.ZERO_VARIANCE: (
        "{variant} shows no variation in this metric (every unit has the same value), "
        "so no interval or p-value can be computed."
    ),
    FlagCode.ZERO_BASELINE: (
        "The baseline mean is zero, so a relative lift is undefined; read the absolute difference instead."
    ),
    FlagCode.NEGATIVE_BASELINE: (
        "The baseline mean is negative, so a relative lift would flip sign; "
        "read the absolute difference instead."
    ),
    FlagCode.ZERO_DENOMINATOR: "{variant}'s denominator sums to zero, so the ratio is undefined.",
    FlagCode.NON_FINITE_INPUT: "{variant}'s statistics contain NaN or infinity; the query result is broken.",
    FlagCode.QUANTILE_UNDERSAMPLED: (
        "{variant} has {n} observations, too few to bracket the P{level} (needs more than {needed})."
    ),
    FlagCode.QUANTILE_BRACKET_COLLAPSED: (
        "{variant}'s confidence bracket around the P{level} collapsed (lower = upper, usually many tied "
        "values), so its variance cannot be estimated."
    ),
    FlagCode.TOO_FEW_CELLS: "{variant} has {cells} cell; cluster-robust errors need at least two cells.",
    FlagCode.FEW_CELLS: (
        "{variant} has only {cells} cells; cluster-robust errors are unreliable below {minimum} cells."
    ),
    FlagCode.SAMPLE_RATIO_MISMATCH: (
        "The traffic split differs from the design (chi-squared p = {p_value:.2g} < {threshold:g}): "
        "assignment or logging is broken, so these results cannot be trusted."
    ),
    FlagCode.UNBALANCED_SCHEDULE: (
        "The switchback schedule is unbalanced: {detail} (chi-squared p = {p_value:.2g} < {threshold:g}), "
        "so strategy effects may be mixed up with {confound}."
    ),
    FlagCode.CUPED_UNAVAILABLE: "CUPED is not available for {reason}; analysed without it.",
    FlagCode.CUPED_NO_COVARIATE_VARIANCE: "The pre-period covariate does not vary; analysed without CUPED.",
    FlagCode.PAIRED_UNSUPPORTED: "Paired analysis supports mean and proportion metrics only, not {kind}.",
    FlagCode.NO_PAIRED_DIFFERENCE: (
        "{variant} and {baseline} gave the same value on every paired unit: the difference is exactly zero "
        "and has no sampling variance to test."
    ),
    FlagCode.NO_TESTS: "No comparison produced a p-value, so there is nothing to correct.",
}

BLOCKING: frozenset[FlagCode] = frozenset(
    {
        FlagCode.NO_UNITS,
        FlagCode.TOO_FEW_UNITS,
        FlagCode.ZERO_VARIANCE,
        FlagCode.ZERO_BASELINE,
        FlagCode.NEGATIVE_BASELINE,
        FlagCode.ZERO_DENOMINATOR,
        FlagCode.NON_FINITE_INPUT,
        FlagCode.QUANTILE_UNDERSAMPLED,
        FlagCode.QUANTILE_BRACKET_COLLAPSED,
        FlagCode.TOO_FEW_CELLS,
        FlagCode.PAIRED_UNSUPPORTED,
        FlagCode.NO_PAIRED_DIFFERENCE,
        FlagCode.NO_TESTS,
    }
)


@dataclass(frozen=True, slots=True)
class Flag:
    """Why a number is missing (blocking) or suspicious (warning), in words a user can act on."""

    code: FlagCode
    reason: str

    @property
    def blocking(self) -> bool:
        """True when the flagged number is withheld."""
        return self.code in BLOCKING


def flag_make(code: FlagCode, **context: object) -> Flag:
    """A flag whose reason is the code's message filled in with `context`."""
    return Flag(code=code, reason=MESSAGES[code].format(**context))


def any_blocking(flags: tuple[Flag, ...]) -> bool:
    """True when at least one of `flags` withholds its number."""
    return any(f.code in BLOCKING for f in flags)
