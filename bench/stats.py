"""The arithmetic every figure shares: percentiles and the rounding of the JSON line."""

from __future__ import annotations

import math


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def r(value: float, digits: int = 3) -> float:
    return round(value, digits)
