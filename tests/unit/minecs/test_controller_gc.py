"""The controller settles the garbage collector once started: start-up's objects frozen out of every
collection, the young generation collected every YOUNG_COLLECTION net allocations."""

from __future__ import annotations

import gc

from minecs.controller import YOUNG_COLLECTION, settle_garbage_collector


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
