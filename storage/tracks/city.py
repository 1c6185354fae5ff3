"""A dataset's city document (road graph, time zone) kept with the dataset in the meta table.

    meta  b"city:" dataset  ->  zstd(canonical JSON)   (pipeline/city.py makes the canonical bytes)

The value is built above the backend, so LMDB and HBase hold the same bytes; writing the document a
dataset already has writes nothing.
"""

from __future__ import annotations

import zstandard

from storage import keys
from storage.kv.base import SortedKV

_compress = zstandard.ZstdCompressor(level=1)
_decompress = zstandard.ZstdDecompressor()


def city_put(kv: SortedKV, *, dataset: str, document: bytes) -> bool:
    """Keep `document` with `dataset`; False, writing nothing, when it is the one stored already."""
    key = keys.city_key(dataset)
    stored = kv.get("meta", key)
    if stored is not None and _decompress.decompress(stored) == document:
        return False
    kv.put_many("meta", [(key, _compress.compress(document))])
    return True


def city_get(kv: SortedKV, *, dataset: str) -> bytes | None:
    """The dataset's city document as `city_put` was given it, or None."""
    stored = kv.get("meta", keys.city_key(dataset))
    return None if stored is None else _decompress.decompress(stored)
