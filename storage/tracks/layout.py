"""The layout record: the parameters every reader and writer of one store must agree on.

meta  b"layout"  ->  JSON of storage.keys.Layout (salts, bucket lengths, cell size)
"""

from __future__ import annotations

import orjson

from storage.keys import Layout
from storage.kv.base import SortedKV, TrackStoreError

LAYOUT_KEY = b"layout"


def layout_open(kv: SortedKV, wanted: Layout | None) -> Layout:
    """The store's recorded layout (recording `wanted`, or the default, in a new store).

    Raises TrackStoreError when `wanted` differs from the recorded layout.
    """
    stored = kv.get("meta", LAYOUT_KEY)
    if stored is not None:
        layout = Layout(**orjson.loads(stored))
        if wanted is not None and wanted != layout:
            raise TrackStoreError(
                f"the track store was created with {layout} but {wanted} was asked for; "
                "check TRACK_STORE (salts) or use a new store"
            )
        return layout
    layout = wanted or Layout()
    kv.put_many("meta", [(LAYOUT_KEY, orjson.dumps(layout.__dict__))])
    return layout
