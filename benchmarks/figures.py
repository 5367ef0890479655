"""Timing figures as the benchmark computes and prints them (shared by ``compare`` and ``report``)."""

from __future__ import annotations


def p99(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


def ms(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    if x < 1e-4:
        return f"{x * 1e6:.1f} µs"
    return f"{x * 1000:.3f} ms" if x < 0.01 else f"{x * 1000:.2f} ms" if x < 1 else f"{x * 1000:,.0f} ms"


def ratio(x: float, ref: float) -> str:
    r = x / ref
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.3f}x"
