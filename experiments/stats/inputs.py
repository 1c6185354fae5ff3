"""What the metric SQL returns and what the analyst chose: sufficient statistics in GrowthBook's row shape.

One `VariantStats` row per variant and metric (sums over units; a unit is an order, a courier or a cell):
    n, main_sum, main_sum_squares                         every metric
    denominator_sum, denominator_sum_squares,
    main_denominator_sum_product                          ratio metrics (and switchback cells)
    covariate_sum, covariate_sum_squares,
    main_covariate_sum_product                            CUPED (pre-period value of the same unit), or, in a
                                                          paired design, the baseline's value of the same unit
One `QuantileStats` row per variant for quantile metrics, one `CellStats` row per switchback cell segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

MetricKind = Literal["mean", "proportion", "ratio", "quantile"]
Direction = Literal["increase", "decrease"]
Difference = Literal["absolute", "relative"]

_NUMBER_COLUMNS = (
    "main_sum",
    "main_sum_squares",
    "denominator_sum",
    "denominator_sum_squares",
    "main_denominator_sum_product",
    "covariate_sum",
    "covariate_sum_squares",
    "main_covariate_sum_product",
)


def _number(value: object, key: str) -> float:
    if isinstance(value, int | float | str):
        return float(value)
    raise ValueError(f"column {key!r} holds {value!r}, not a number")


def _optional_float(row: Mapping[str, object], key: str) -> float | None:
    value = row.get(key)
    return None if value is None else _number(value, key)


def _variant_name(row: Mapping[str, object]) -> str:
    name = row.get("variant", row.get("variation"))
    if name is None:
        raise ValueError("a statistics row needs a 'variant' (or GrowthBook's 'variation') column")
    return str(name)


def _unit_count(row: Mapping[str, object], key: str = "n") -> int:
    value = row.get(key, row.get("users"))
    if value is None:
        raise ValueError(f"a statistics row needs an '{key}' (or GrowthBook's 'users') column")
    return int(_number(value, key))


@dataclass(frozen=True, slots=True)
class VariantStats:
    """One variant's sufficient statistics for one metric; sums run over its units."""

    variant: str
    n: int
    main_sum: float
    main_sum_squares: float
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    main_denominator_sum_product: float | None = None
    covariate_sum: float | None = None
    covariate_sum_squares: float | None = None
    main_covariate_sum_product: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> VariantStats:
        """The statistics of one SQL row; accepts GrowthBook's `variation`/`users` names too."""
        main, squares, *optional = (_optional_float(row, key) for key in _NUMBER_COLUMNS)
        return cls(_variant_name(row), _unit_count(row), main or 0.0, squares or 0.0, *optional)

    @property
    def has_denominator(self) -> bool:
        """True when the ratio columns are present."""
        return (
            self.denominator_sum is not None
            and self.denominator_sum_squares is not None
            and self.main_denominator_sum_product is not None
        )

    @property
    def has_covariate(self) -> bool:
        """True when the CUPED (or paired) covariate columns are present."""
        return (
            self.covariate_sum is not None
            and self.covariate_sum_squares is not None
            and self.main_covariate_sum_product is not None
        )


@dataclass(frozen=True, slots=True)
class QuantileStats:
    """One variant's inputs for a quantile metric, as gbstats takes them.

    `quantile_n` values were ranked; `quantile` is their sample quantile at the metric's level ν, and
    `quantile_lower`/`quantile_upper` are the sample quantiles at ν ∓ z·sqrt(ν(1−ν)/quantile_nstar)
    (z = Φ⁻¹(0.975), levels clipped to [1e-8, 1 − 1e-8]). For clustered variance (orders within cells,
    events within couriers) add `n` clusters and, per cluster c, sums of a_c = values ≤ `quantile` and
    b_c = values in the cluster: main_sum = Σa_c, main_sum_squares = Σa_c², denominator_sum = Σb_c,
    denominator_sum_squares = Σb_c², main_denominator_sum_product = Σa_c·b_c.
    """

    variant: str
    quantile_n: int
    quantile_nstar: int
    quantile: float
    quantile_lower: float
    quantile_upper: float
    n: int | None = None
    main_sum: float | None = None
    main_sum_squares: float | None = None
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    main_denominator_sum_product: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> QuantileStats:
        """The quantile inputs of one SQL row in GrowthBook's column names."""
        clusters = row.get("n", row.get("users"))
        return cls(
            variant=_variant_name(row),
            quantile_n=int(_number(row["quantile_n"], "quantile_n")),
            quantile_nstar=int(_number(row["quantile_nstar"], "quantile_nstar")),
            quantile=_number(row["quantile"], "quantile"),
            quantile_lower=_number(row["quantile_lower"], "quantile_lower"),
            quantile_upper=_number(row["quantile_upper"], "quantile_upper"),
            n=None if clusters is None else int(_number(clusters, "n")),
            main_sum=_optional_float(row, "main_sum"),
            main_sum_squares=_optional_float(row, "main_sum_squares"),
            denominator_sum=_optional_float(row, "denominator_sum"),
            denominator_sum_squares=_optional_float(row, "denominator_sum_squares"),
            main_denominator_sum_product=_optional_float(row, "main_denominator_sum_product"),
        )

    @property
    def clustered(self) -> bool:
        """True when the per-cluster sums for the clustered variance are present."""
        return (
            self.n is not None
            and self.main_sum is not None
            and self.main_sum_squares is not None
            and self.denominator_sum is not None
            and self.denominator_sum_squares is not None
            and self.main_denominator_sum_product is not None
        )


@dataclass(frozen=True, slots=True)
class CellStats:
    """One switchback cell (zone × time slot), or one segment of it, with order-level sums.

    `offset_ms` is where the segment starts inside its slot; the SQL may split each cell into segments
    (e.g. 5-minute buckets from the slot start) so that the burn-in after a switch can be dropped. Without
    a denominator the metric is a mean per order (denominator = n orders).
    """

    variant: str
    zone: str
    slot_start_ms: int
    n: int
    main_sum: float
    main_sum_squares: float
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    main_denominator_sum_product: float | None = None
    offset_ms: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> CellStats:
        """The cell statistics of one SQL row."""
        return cls(
            variant=_variant_name(row),
            zone=str(row["zone"]),
            slot_start_ms=int(_number(row["slot_start_ms"], "slot_start_ms")),
            n=_unit_count(row),
            main_sum=_number(row["main_sum"], "main_sum"),
            main_sum_squares=_number(row["main_sum_squares"], "main_sum_squares"),
            denominator_sum=_optional_float(row, "denominator_sum"),
            denominator_sum_squares=_optional_float(row, "denominator_sum_squares"),
            main_denominator_sum_product=_optional_float(row, "main_denominator_sum_product"),
            offset_ms=int(_number(row.get("offset_ms", 0), "offset_ms")),
        )


@dataclass(frozen=True, slots=True)
class GaussianPrior:
    """Normal prior on the relative lift (rescaled by the baseline mean for absolute differences).

    `proper=False` (the default, as in gbstats) is the flat improper prior: the posterior is then the
    normal likelihood of the lift itself.
    """

    mean: float = 0.0
    std_dev: float = 0.1
    proper: bool = False


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """How one metric is read: its kind, which direction is good, and the analyst's toggles.

    `non_inferiority_margin` is a relative lift (0.02 = 2 %) a guardrail may worsen by and still pass.
    `quantile_level` is ν for quantile metrics (0.5 = P50, 0.9 = P90).
    """

    key: str
    kind: MetricKind
    direction: Direction = "increase"
    guardrail: bool = False
    non_inferiority_margin: float | None = None
    cuped: bool = False
    sequential: bool = False
    quantile_level: float | None = None

    def __post_init__(self) -> None:
        if self.kind == "quantile" and (self.quantile_level is None or not 0 < self.quantile_level < 1):
            raise ValueError(f"metric {self.key!r}: a quantile metric needs 0 < quantile_level < 1")
        if self.non_inferiority_margin is not None and self.non_inferiority_margin < 0:
            raise ValueError(f"metric {self.key!r}: the non-inferiority margin is a magnitude, not negative")


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """Choices shared by every metric of one analysis.

    `sequential_tuning` is the total sample size at which the always-valid interval is narrowest (gbstats'
    `sequential_tuning_parameter`); `srm_threshold` is the p-value below which the split is flagged.
    """

    alpha: float = 0.05
    sequential_tuning: float = 5000.0
    prior: GaussianPrior = field(default_factory=GaussianPrior)
    srm_threshold: float = 0.001

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must lie strictly between 0 and 1")
        if self.sequential_tuning <= 0:
            raise ValueError("sequential_tuning must be positive")
