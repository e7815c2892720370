"""The live console's garbage-collector settings are applied while it runs and fully undone after."""

from __future__ import annotations

import gc

from console.gc_policy import FRAME_THRESHOLDS, FrameGarbagePolicy


def test_start_freezes_the_heap_and_spaces_collections_and_stop_restores_everything():
    before_thresholds, before_frozen = gc.get_threshold(), gc.get_freeze_count()
    policy = FrameGarbagePolicy()
    policy.start()
    try:
        assert policy.active
        assert gc.get_threshold() == FRAME_THRESHOLDS
        assert gc.get_freeze_count() > before_frozen
        policy.start()  # a second start changes nothing
        assert gc.get_threshold() == FRAME_THRESHOLDS
    finally:
        policy.stop()
    assert not policy.active
    assert gc.get_threshold() == before_thresholds
    assert gc.get_freeze_count() == 0
    policy.stop()  # stopping twice is harmless
    assert gc.get_threshold() == before_thresholds
