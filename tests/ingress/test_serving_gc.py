"""``restate-lab serve``'s collector policy (``restate_lab.cli.ServingCollector``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from restate_lab.cli import SERVE_GC_THRESHOLDS, ServingCollector


class _Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture
def collector() -> Iterator[ServingCollector]:
    thresholds = gc.get_threshold()
    installed = ServingCollector().install()
    try:
        yield installed
    finally:
        installed.uninstall()
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.collect()


def test_install_sets_the_serving_thresholds_and_freezes_start_up(collector: ServingCollector) -> None:
    """Start-up's heap is frozen and young collections come every 2 000 allocations."""
    assert gc.get_threshold() == SERVE_GC_THRESHOLDS
    assert gc.get_freeze_count() > 0


def test_survivors_of_a_middle_collection_are_frozen(collector: ServingCollector) -> None:
    """What a generation-1 collection leaves alive moves out of every later collection."""
    before = gc.get_freeze_count()
    kept = [[i] for i in range(5_000)]
    gc.collect(1)
    assert gc.get_freeze_count() >= before + len(kept)


def test_tick_frees_frozen_cycles_once_the_frozen_heap_grew(collector: ServingCollector) -> None:
    """A cycle that became garbage while frozen is freed by the full collection ``tick`` runs."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    watch = weakref.ref(a)
    gc.collect(1)  # frozen with everything else alive
    del a, b
    gc.collect()  # a collection does not look at frozen objects
    assert watch() is not None
    collector.tick()  # the frozen heap has not grown enough
    assert watch() is not None
    for _ in range(collector._freezes_allowed + 1):
        gc.collect(1)  # each middle collection may have grown the frozen heap
    gc.collect(0)
    collector.tick()  # a young collection since the last tick: busy, no full collection now
    assert watch() is not None
    collector.tick()  # quiet since the last tick
    assert watch() is None
