"""Sample ratio mismatch: does the observed split of units match the designed traffic weights?

Pearson's χ² goodness of fit, X² = Σ (O_v − E_v)² / E_v with E_v = N·w_v/Σw, on k − 1 degrees of freedom
over the k variants with positive weight. A p-value below the threshold (0.001 by default, so that a
scorecard with many metrics does not cry wolf) flags the experiment: when assignment or logging loses
units unevenly, every comparison is biased and no test can correct it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from experiments.stats.arrays import FloatArray
from experiments.stats.flags import Flag, FlagCode, flag_make


@dataclass(frozen=True, slots=True)
class SrmResult:
    """The χ² check of the split; `p_value` is None (with a flag) when there is nothing to test."""

    p_value: float | None
    chi_squared: float | None
    dof: int
    observed: tuple[tuple[str, int], ...]
    expected: tuple[tuple[str, float], ...]
    mismatch: bool
    flags: tuple[Flag, ...]


def srm_p_values(counts: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """χ² statistics and p-values of many splits: `counts` is (splits × variants), weights positive."""
    total = counts.sum(axis=-1, keepdims=True)
    expected = weights / weights.sum() * total
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        chi_squared = ((counts - expected) ** 2 / expected).sum(axis=-1)
    p_value = special.chdtrc(counts.shape[-1] - 1, chi_squared)
    return chi_squared, p_value


def srm_results(
    *,
    names: Sequence[str],
    counts: FloatArray,
    weights: Mapping[str, float] | None = None,
    threshold: float = 0.001,
) -> list[SrmResult]:
    """`srm_check` for many splits over the same variants (rows of `counts`), vectorised."""
    keep = [i for i, name in enumerate(names) if weights is None or weights.get(name, 0.0) > 0]
    kept_names = [names[i] for i in keep]
    w = np.array([1.0 if weights is None else weights[names[i]] for i in keep], dtype=np.float64)
    sub = counts[:, keep]
    if len(keep) < 2:
        return [
            srm_check(counts=dict(zip(names, row, strict=True)), weights=weights, threshold=threshold)
            for row in counts.astype(int).tolist()
        ]
    chi_squared, p_values = srm_p_values(sub, w)
    totals = sub.sum(axis=1)
    share = (w / w.sum()).tolist()
    out = []
    for row, total, chi, p in zip(
        sub.astype(int).tolist(), totals.tolist(), chi_squared.tolist(), p_values.tolist(), strict=True
    ):
        if total == 0:
            out.append(
                srm_check(
                    counts=dict(zip(kept_names, row, strict=True)), weights=weights, threshold=threshold
                )
            )
            continue
        mismatch = p < threshold
        out.append(
            SrmResult(
                p_value=p,
                chi_squared=chi,
                dof=len(keep) - 1,
                observed=tuple(zip(kept_names, row, strict=True)),
                expected=tuple((name, f * total) for name, f in zip(kept_names, share, strict=True)),
                mismatch=mismatch,
                flags=(flag_make(FlagCode.SAMPLE_RATIO_MISMATCH, p_value=p, threshold=threshold),)
                if mismatch
                else (),
            )
        )
    return out


def srm_check(
    *, counts: Mapping[str, int], weights: Mapping[str, float] | None = None, threshold: float = 0.001
) -> SrmResult:
    """χ² test of `counts` against `weights` (equal when omitted); flags a mismatch when p < `threshold`."""
    names = [name for name in counts if (weights is None or weights.get(name, 0.0) > 0)]
    total_weight = sum(1.0 if weights is None else weights[name] for name in names)
    total = sum(counts[name] for name in names)
    observed = tuple((name, int(counts[name])) for name in names)
    if total == 0 or len(names) < 2:
        flags: tuple[Flag, ...] = (
            (flag_make(FlagCode.NO_UNITS, variant="The experiment"),) if total == 0 else ()
        )
        return SrmResult(
            p_value=None, chi_squared=None, dof=0, observed=observed, expected=(), mismatch=False, flags=flags
        )
    expected = tuple(
        (name, (1.0 if weights is None else weights[name]) / total_weight * total) for name in names
    )
    chi_squared = sum((counts[name] - e) ** 2 / e for name, e in expected)
    dof = len(names) - 1
    p_value = float(special.chdtrc(dof, chi_squared))
    mismatch = p_value < threshold
    flags = (
        (flag_make(FlagCode.SAMPLE_RATIO_MISMATCH, p_value=p_value, threshold=threshold),) if mismatch else ()
    )
    return SrmResult(
        p_value=p_value,
        chi_squared=chi_squared,
        dof=dof,
        observed=observed,
        expected=expected,
        mismatch=mismatch,
        flags=flags,
    )
