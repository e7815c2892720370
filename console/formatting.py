"""Number formatting for the console: powers, temperatures, countdowns and sparklines, in fixed widths."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def power(watts: float) -> str:
    """'950 W', '12.4 kW', '—' for a missing value."""
    if not math.isfinite(watts):
        return "—"
    if abs(watts) >= 10_000:
        return f"{watts / 1000:.1f} kW"
    if abs(watts) >= 1000:
        return f"{watts / 1000:.2f} kW"
    return f"{watts:.0f} W"


def signed_power(watts: float) -> str:
    """Like ``power`` with an explicit sign: '+320 W', '-1.20 kW'."""
    text = power(abs(watts))
    return text if text == "—" else ("+" if watts >= 0 else "-") + text


def temperature(celsius: float) -> str:
    return "—" if not math.isfinite(celsius) else f"{celsius:.1f} °C"


def countdown(seconds: float | None) -> str:
    """A compact time span: '45s', '12m30s', '3h05m', '2d04h'; '—' for None."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def utc_clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def sparkline(values: np.ndarray, width: int, low: float | None = None, high: float | None = None) -> str:
    """Samples as block characters, newest on the right, scaled to [low, high] (default: the range of the
    samples). More samples than columns are averaged in equal consecutive groups, so the whole history
    fits; missing samples show as spaces."""
    if width <= 0:
        return ""
    shown = np.asarray(values, dtype=float)
    if len(shown) > width:
        starts = np.linspace(0, len(shown), width + 1).astype(int)[:-1]
        finite_values = np.isfinite(shown)
        sums = np.add.reduceat(np.where(finite_values, shown, 0.0), starts)
        counts = np.add.reduceat(finite_values.astype(int), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    finite = np.isfinite(shown)
    if not finite.any():
        return " " * width
    bottom = float(np.min(shown[finite])) if low is None else low
    top = float(np.max(shown[finite])) if high is None else high
    span = top - bottom
    if span <= 1e-12:
        levels = np.full(len(shown), 3)
    else:
        scaled = np.where(finite, (shown - bottom) / span * (len(SPARK_BLOCKS) - 1), 0.0)
        levels = np.clip(np.rint(scaled), 0, len(SPARK_BLOCKS) - 1).astype(int)
    text = "".join(SPARK_BLOCKS[level] if ok else " " for level, ok in zip(levels, finite))
    return text.rjust(width)
