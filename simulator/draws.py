"""Common random numbers: draws that depend only on what they are about (seed, stream, job, courier, …),
never on the order a strategy asks for them, so every strategy of a paired run meets the same behaviour.
"""

from __future__ import annotations

_MASK64 = (1 << 64) - 1


def unit_draw(*parts: int) -> float:
    """A uniform [0, 1) number that depends only on `parts` (splitmix64), so paired runs share it."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & _MASK64)) & _MASK64
        h = (h + 0x9E3779B97F4A7C15) & _MASK64
        z = h
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        h = z ^ (z >> 31)
    return h / 2.0**64
