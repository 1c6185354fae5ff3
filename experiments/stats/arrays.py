"""Array conventions of the statistics kernels: float64 arrays, NaN wherever a value is undefined.

Kernels take and return whole arrays (one element per comparison) so that a scorecard of thousands of
comparisons costs a few dozen numpy calls; result dataclasses turn NaN into None at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


def floats_from(values: Sequence[float | None] | FloatArray) -> FloatArray:
    """A float64 array of `values`, with None turned into NaN."""
    return np.array(values, dtype=np.float64)


def optional_floats(values: FloatArray) -> list[float | None]:
    """Python floats of `values`, with NaN turned into None so that no undefined number reaches a page."""
    out: list[float | None] = values.tolist()
    if np.isnan(values).any():
        out = [None if v != v else v for v in out]
    return out


def safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator / denominator element-wise, NaN where the denominator is zero or either side is NaN."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.divide(numerator, denominator)
    out[denominator == 0] = np.nan
    return out
