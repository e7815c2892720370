"""Garbage-collector settings for a console that redraws many times a second.

Every frame allocates thousands of short-lived objects (strips, segments, messages). With CPython's
default thresholds that triggers about nine young collections a frame and, every second or so, a full
collection that walks every object the process holds (the mission, the ephemeris, the widget tree:
about 100,000 objects), a 50-100 ms stall. Measured at 1,000 satellites (see bench/console_frame.py),
garbage collection was a quarter of the screen-update time.

While the console runs, the objects that exist once it is up are frozen (never scanned again, never
freed: they live as long as the app) and young collections run less often. Both are undone when the
console stops, so a process that opens several consoles (the test suite) is left as it was.
"""

from __future__ import annotations

import gc

FRAME_THRESHOLDS = (10_000, 20, 20)
"""Young-generation allocations between collections, and the two older generations' ratios."""


class FrameGarbagePolicy:
    """Freeze the startup heap and space out collections while the console runs (reversible)."""

    def __init__(self, thresholds: tuple[int, int, int] = FRAME_THRESHOLDS) -> None:
        self.thresholds = thresholds
        self._saved: tuple[int, int, int] | None = None

    @property
    def active(self) -> bool:
        return self._saved is not None

    def start(self) -> None:
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.collect()  # free startup garbage first, so that only live objects are frozen
        gc.freeze()
        gc.set_threshold(*self.thresholds)

    def stop(self) -> None:
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        gc.unfreeze()
        self._saved = None
