"""The Arrow columns of completed invocations, computed once and reused by every later snapshot."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from restate_lab.runtime.invocation import Invocation


class CompletedColumns:
    """Arrow columns over one engine's completed invocations, kept from query to query.

    A completed invocation no longer changes (until it is purged or expires, which takes it out of the
    engine), so its values are computed once: each query appends the invocations completed since the last
    one and reuses the rest. Losing any cached invocation (purge, expiry, a restart) drops the cache.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.invocations: list[Invocation] = []
        self._members: set[int] = set()  # id() of the cached invocations, which the list keeps alive
        self._chunks: dict[tuple[str, str], tuple[int, list[pa.Array]]] = {}

    def sync(self, completed: list[Invocation]) -> None:
        """Make :attr:`invocations` the engine's completed invocations (``completed``), in any order."""
        current = {id(i) for i in completed}
        if not self._members <= current:
            self._reset()
        fresh = [i for i in completed if id(i) not in self._members]
        self.invocations.extend(fresh)
        self._members.update(id(i) for i in fresh)

    def column(
        self, key: tuple[str, str], dtype: pa.DataType, values: Callable[[list[Invocation]], list[Any]]
    ) -> list[pa.Array]:
        """The chunks of one column over :attr:`invocations`, computing only the part not cached yet."""
        import pyarrow as pa

        built, chunks = self._chunks.get(key, (0, []))
        if built < len(self.invocations):
            chunks = [*chunks, pa.array(values(self.invocations[built:]), type=dtype)]
            if len(chunks) > 16:
                chunks = [pa.concat_arrays(chunks)]
            self._chunks[key] = (len(self.invocations), chunks)
        return chunks


#: One cache per engine, dropped with it.
_CACHES: weakref.WeakKeyDictionary[Any, CompletedColumns] = weakref.WeakKeyDictionary()


def cache_for(engine: Any) -> CompletedColumns:
    """The cache of ``engine`` (made on first use)."""
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = CompletedColumns()
    return cache
