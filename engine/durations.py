"""Durations as people write them: ``90s``, ``15m``, ``6h``, ``2d``, ``1h30m`` or ``01:30:00``.

The same parser serves mission files and the command line, so a duration means the same thing
everywhere. Values are returned in seconds as floats.
"""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_COMPOUND = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_CLOCK = re.compile(r"^(?:(\d+)\s*d\s*)?(\d+):([0-5]?\d)(?::([0-5]?\d(?:\.\d+)?))?$")


def parse_duration(text: str) -> float:
    """Seconds in a duration string; raises ValueError with an example of the accepted forms."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration such as '90s', '15m', '6h', '2d' or '01:30:00', got {text!r}")
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("empty duration; write e.g. '90s', '15m', '6h', '2d' or '01:30:00'")
    clock = _CLOCK.match(cleaned)
    if clock:
        days, hours, minutes, seconds = clock.groups()
        return (
            int(days or 0) * 86400.0
            + int(hours) * 3600.0
            + int(minutes) * 60.0
            + float(seconds or 0.0)
        )
    position = 0
    total = 0.0
    compact = cleaned.replace(" ", "")
    for match in _COMPOUND.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(compact):
        raise ValueError(
            f"cannot read duration {text!r}; write e.g. '90s', '15m', '6h', '2d', '1h30m' or '01:30:00'"
        )
    return total


def format_duration(seconds: float) -> str:
    """Compact human form: ``45s``, ``12m30s``, ``6h``, ``2d03h``; negative values get a sign."""
    sign = "-" if seconds < 0 else ""
    remaining = int(round(abs(seconds)))
    days, remaining = divmod(remaining, 86400)
    hours, remaining = divmod(remaining, 3600)
    minutes, secs = divmod(remaining, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m" if minutes else f"{sign}{hours}h"
    if minutes:
        return f"{sign}{minutes}m{secs:02d}s" if secs else f"{sign}{minutes}m"
    return f"{sign}{secs}s"


def format_clock(seconds: float) -> str:
    """Mission elapsed time as ``[D+]HH:MM:SS``."""
    sign = "-" if seconds < 0 else ""
    remaining = int(abs(seconds) // 1)
    days, remaining = divmod(remaining, 86400)
    hours, remaining = divmod(remaining, 3600)
    minutes, secs = divmod(remaining, 60)
    prefix = f"{days}d+" if days else ""
    return f"{sign}{prefix}{hours:02d}:{minutes:02d}:{secs:02d}"


def format_delay(seconds: float) -> str:
    """A delay for event messages: '45 s', '12 min', '3.2 h'."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
