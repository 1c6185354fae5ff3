"""`TrackStore`: the one object domain code holds, over one SortedKV backend (LMDB or HBase).

It owns the store's layout and the buckets written since the last compaction, and delegates each
operation to the module that owns it; the key layout of every table is in storage/keys.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.keys import Layout
from storage.kv.base import SortedKV
from storage.tracks import events as _events
from storage.tracks import windows
from storage.tracks.city import city_get, city_put
from storage.tracks.compaction import TouchedBuckets
from storage.tracks.counters import counters_add, datasets_read
from storage.tracks.layout import layout_open
from storage.tracks.points import points_write
from storage.tracks.types import (
    Box,
    BoxTracks,
    DatasetCounts,
    EntitySpan,
    EntityTrack,
    EventWriteResult,
    JobLink,
    PointBatch,
    PointWriteResult,
    StoredEvent,
)


class TrackStore:
    """Tracks, events and their indexes over one SortedKV backend."""

    def __init__(self, kv: SortedKV, *, layout: Layout | None = None) -> None:
        self.kv = kv
        self.layout = layout_open(kv, layout)
        self._touched = TouchedBuckets()

    @property
    def engine(self) -> str:
        """The backend's engine name."""
        return self.kv.engine

    def close(self) -> None:
        """Release the backend's handles."""
        self.kv.close()

    # ---- writes ---------------------------------------------------------------------------------

    def points_write(self, *, dataset: str, batch: PointBatch) -> PointWriteResult:
        """Store the new fixes of a batch; count duplicates and report conflicting rows (first stays)."""
        written = points_write(self.kv, self.layout, dataset=dataset, batch=batch)
        for table, rows in written.rows.items():
            self._touched.touch(table, rows)
        if written.result.stored:
            counters_add(self.kv, dataset, points=written.result.stored)
        return written.result

    def events_write(self, *, dataset: str, events: Sequence[StoredEvent]) -> EventWriteResult:
        """Store new events and index them; same id + same body is a duplicate, another body a conflict."""
        result = _events.events_write(self.kv, self.layout, dataset=dataset, events=events)
        if result.stored:
            counters_add(self.kv, dataset, events=result.stored)
        return result

    def city_put(self, *, dataset: str, document: bytes) -> bool:
        """Keep `document` (the dataset's city metadata as canonical JSON) with the dataset; False, writing
        nothing, when the same document is stored already."""
        return city_put(self.kv, dataset=dataset, document=document)

    def compact_touched(self) -> int:
        """Fold the track buckets and cells written since the last call that now hold several parts.

        A load written in batches leaves one part per batch in every cell it touched, and a box query pays
        per part; the pipeline calls this after each input so reads see one block per cell again.
        """
        return self._touched.compact(self.kv)

    # ---- reads ----------------------------------------------------------------------------------

    def datasets(self) -> list[DatasetCounts]:
        """Every dataset written to this store, by name."""
        return datasets_read(self.kv)

    def city_get(self, *, dataset: str) -> bytes | None:
        """The dataset's city document as stored by `city_put`, or None."""
        return city_get(self.kv, dataset=dataset)

    def entity_window(self, *, dataset: str, entity: str, start: int, end: int) -> EntityTrack:
        """One entity's fixes with start <= ts <= end, time-sorted and deduplicated."""
        return windows.entity_window(
            self.kv, self.layout, dataset=dataset, entity=entity, start=start, end=end
        )

    def entity_span(self, *, dataset: str, entity: str) -> EntitySpan:
        """First and last fix time and the point count of an entity, from block headers only."""
        return windows.entity_span(self.kv, self.layout, dataset=dataset, entity=entity)

    def box_window(
        self, *, dataset: str, box: Box, start: int, end: int, interval_ms: int | None = None
    ) -> BoxTracks:
        """Every fix inside `box` with start <= ts <= end; with `interval_ms`, the first fix of each
        entity in each interval."""
        return windows.box_window(
            self.kv, self.layout, dataset=dataset, box=box, start=start, end=end, interval_ms=interval_ms
        )

    def job_events(self, *, dataset: str, job: str) -> list[StoredEvent]:
        """A job's events in time order, the dispatch rounds it took part in included."""
        return _events.job_events(self.kv, self.layout, dataset=dataset, job=job)

    def rounds_get(self, *, dataset: str, rounds: Sequence[str]) -> list[StoredEvent | None]:
        """The dispatch_round events with these round ids, in order; None where unknown."""
        return _events.rounds_get(self.kv, self.layout, dataset=dataset, rounds=rounds)

    def entity_jobs(
        self, *, dataset: str, entity: str, start: int | None = None, end: int | None = None
    ) -> list[JobLink]:
        """The jobs an entity touched, in time order, optionally within start <= ts <= end."""
        return _events.entity_jobs(self.kv, self.layout, dataset=dataset, entity=entity, start=start, end=end)
