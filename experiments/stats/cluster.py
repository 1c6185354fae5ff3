"""Cluster-level analysis (switchback cells): the cell-sum ratio with its cluster-robust variance.

Orders in one zone × time slot share couriers, traffic and weather, so they are not independent; the cell
is the unit of randomisation and the unit of analysis. For a variant with G cells, cell totals m_c (metric)
and d_c (orders, or the ratio's denominator), the estimate is the cell-sum ratio R = Σm_c / Σd_c and its
cluster-robust variance is the delta method with cells as units:
    Var_CR(R) = [s²_m − 2R·s_md + R²·s²_d] / (G·d̄²),  d̄ = Σd_c/G,  s² with divisor G − 1,
      = G/(G−1) · Σ_c (m_c − R·d_c)² / (Σd_c)²       (CR0 with the G/(G−1) small-sample factor, per variant).
The naive order-level variance treats the N = Σd_c orders as independent (the same formula with orders as
units). Their ratio is the design effect deff = Var_CR / Var_order, and N / deff is the effective number
of independent orders. With strong cell effects deff reaches 10–20: order-level standard errors are then a
quarter of the correct ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.stats.arrays import FloatArray, safe_divide
from experiments.stats.moments import Moments
from experiments.stats.ratio import ratio_moments


@dataclass(frozen=True, slots=True)
class ClusterSums:
    """Per-variant sums over cells (of cell totals) and over orders (of order values)."""

    cells: FloatArray
    orders: FloatArray
    main_sum: FloatArray
    denominator_sum: FloatArray
    cell_main_squares: FloatArray
    cell_denominator_squares: FloatArray
    cell_main_denominator_product: FloatArray
    order_main_squares: FloatArray
    order_denominator_squares: FloatArray
    order_main_denominator_product: FloatArray


@dataclass(frozen=True, slots=True)
class ClusterMoments:
    """Cell-level moments (cells as units), order-level moments, design effect and effective n."""

    cell: Moments
    order: Moments
    design_effect: FloatArray
    effective_n: FloatArray


def cluster_moments(sums: ClusterSums) -> ClusterMoments:
    """Cluster-robust and naive order-level moments of each variant's cell-sum ratio."""
    cell = ratio_moments(
        n=sums.cells,
        main_sum=sums.main_sum,
        main_sum_squares=sums.cell_main_squares,
        denominator_sum=sums.denominator_sum,
        denominator_sum_squares=sums.cell_denominator_squares,
        main_denominator_sum_product=sums.cell_main_denominator_product,
    )
    order = ratio_moments(
        n=sums.orders,
        main_sum=sums.main_sum,
        main_sum_squares=sums.order_main_squares,
        denominator_sum=sums.denominator_sum,
        denominator_sum_squares=sums.order_denominator_squares,
        main_denominator_sum_product=sums.order_main_denominator_product,
    )
    design_effect = safe_divide(
        safe_divide(cell.variance, sums.cells), safe_divide(order.variance, sums.orders)
    )
    return ClusterMoments(
        cell=cell,
        order=order,
        design_effect=design_effect,
        effective_n=safe_divide(sums.orders, design_effect),
    )
