"""Multiple-testing corrections: Holm (family-wise error) and Benjamini–Hochberg (false discovery rate).

For m p-values sorted ascending p₍₁₎ ≤ … ≤ p₍ₘ₎ the adjusted values are
    Holm  p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎)     controls P(any false rejection) ≤ α, any dependence;
    BH    p̃₍ᵢ₎ = min(1, min_{j ≥ i} m·p₍ⱼ₎ / j)           controls E[false / all rejections] ≤ α under
                                                          independence or positive regression dependence
                                                          (PRDS); comparisons sharing one baseline are PRDS
                                                          for one-sided tests (see docs/statistics.md).
Rejecting p̃ < α is the corresponding procedure (statsmodels' `multipletests` computes the same numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from experiments.stats.arrays import FloatArray

Correction = Literal["holm", "bh"]


def adjusted_p_values(p_values: FloatArray, *, method: Correction) -> FloatArray:
    """Adjusted p-values along the last axis (each row one family); inputs must be free of NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.shape[-1]
    if m == 0:
        return p.copy()
    order = np.argsort(p, axis=-1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=-1)
    if method == "holm":
        adjusted_sorted = np.maximum.accumulate(sorted_p * np.arange(m, 0, -1), axis=-1)
    elif method == "bh":
        raw = sorted_p / (np.arange(1, m + 1) / m)
        adjusted_sorted = np.flip(np.minimum.accumulate(np.flip(raw, axis=-1), axis=-1), axis=-1)
    else:
        raise ValueError(f"unknown correction {method!r}")
    adjusted_sorted = np.minimum(adjusted_sorted, 1.0)
    out = np.empty_like(adjusted_sorted)
    np.put_along_axis(out, order, adjusted_sorted, axis=-1)
    return out


def p_values_adjust(p_values: Sequence[float | None], *, method: Correction) -> list[float | None]:
    """Adjusted p-values in input order; a None (withheld by a flag) stays None and is not counted."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted = adjusted_p_values(np.array([p_values[i] for i in present], dtype=np.float64), method=method)
    out: list[float | None] = [None] * len(p_values)
    for i, value in zip(present, adjusted.tolist(), strict=True):
        out[i] = value
    return out
