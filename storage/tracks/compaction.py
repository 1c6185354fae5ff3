"""Folding a bucket's parts back into one block, for the `track` and `cell` tables.

A load written in batches leaves one part per batch in every bucket and cell it touched, and a read pays
per part; compaction merges a bucket's parts (storage/tracks/merge.py) into one block keyed by its
checksum, writes it, and only then deletes the parts it replaced. It never deletes a key it wrote, and
only deletes parts whose fixes the new block holds, so a compaction that races another writer or
another compaction can leave an extra part behind but never loses a fix.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable, Sequence

from storage import keys
from storage.kv.base import SortedKV, prefix_end
from storage.tracks.merge import cell_parts_fold, track_parts_fold

COMPACTED_TABLES = ("track", "cell")
SCAN_CHUNK = 4096

Rows = Sequence[tuple[bytes, bytes]]


class TouchedBuckets:
    """The buckets written since the last compaction (thread-safe), and their compaction."""

    def __init__(self) -> None:
        # (table, key prefix before the part) of every block written since the last compaction.
        self._touched: set[tuple[str, bytes]] = set()
        self._lock = threading.Lock()

    def touch(self, table: str, rows: Rows) -> None:
        """Remember the buckets of rows just written to `table`."""
        with self._lock:
            self._touched.update((table, key[:-4]) for key, _ in rows)

    def compact(self, kv: SortedKV) -> int:
        """Fold every touched bucket that now holds several parts; returns how many were folded."""
        with self._lock:
            touched, self._touched = sorted(self._touched), set()
        folded = 0
        for table in COMPACTED_TABLES:
            prefixes = [prefix for t, prefix in touched if t == table]
            for at in range(0, len(prefixes), SCAN_CHUNK):
                chunk = prefixes[at : at + SCAN_CHUNK]
                found = kv.scan_many(table, [(p, prefix_end(p)) for p in chunk])
                folded += parts_fold(kv, table, zip(chunk, found, strict=True))
        return folded


def parts_fold(kv: SortedKV, table: str, groups: Iterable[tuple[bytes, list[tuple[bytes, bytes]]]]) -> int:
    """Replace each group of two or more parts by one block (put first; never delete a key it wrote)."""
    folded = 0
    for prefix, parts in groups:
        if len(parts) < 2:
            continue
        block = (track_parts_fold if table == "track" else cell_parts_fold)([v for _, v in parts])
        key = prefix + keys.U32.pack(zlib.crc32(block))
        kv.put_many(table, [(key, block)])
        kv.delete_many(table, [k for k, _ in parts if k != key])
        folded += 1
    return folded
