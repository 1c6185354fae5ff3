"""The track store: GPS fixes and dispatch events over a sorted key-value backend (LMDB or HBase).

Rooms, each owning one idea (the key layout of every table is in storage/keys.py, the block codec in
storage/track_codec.py):

    types        values that cross layers (PointBatch, StoredEvent, EntityTrack, BoxTracks, Box, …)
    store        TrackStore, the facade domain code holds
    points       writing fixes: dedupe inside a batch and against the store, encode track and cell rows
    windows      reading fixes: one entity over a window, every entity in a box
    merge        merging a bucket's parts, the rule reads and compaction share
    compaction   folding a bucket's parts back into one block
    event_codec  the stored bytes of an event and its digest
    events       writing events and their indexes, reading a job's flow and an entity's jobs
    layout       the layout record every process of a store must agree on
    counters     per-dataset counts of points and events
    city         a dataset's city document (road graph, time zone)
"""

from storage.tracks.store import TrackStore
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

__all__ = [
    "Box",
    "BoxTracks",
    "DatasetCounts",
    "EntitySpan",
    "EntityTrack",
    "EventWriteResult",
    "JobLink",
    "PointBatch",
    "PointWriteResult",
    "StoredEvent",
    "TrackStore",
]
