"""A dataset's city document (road graph, time zone) kept with the dataset in the meta table.

    meta  b"city:" dataset  ->  zstd(canonical JSON)   (pipeline/city.py makes the canonical bytes)

The value is built above the backend, so LMDB and HBase hold the same bytes; writing the document a
dataset already has writes nothing.
"""

from __future__ import annotations

from storage import keys
from storage.compression import zstd_compress, zstd_decompress
from storage.kv.base import SortedKV


def city_put(kv: SortedKV, *, dataset: str, document: bytes) -> bool:
    """Keep `document` with `dataset`; False, writing nothing, when it is the one stored already."""
    key = keys.city_key(dataset)
    stored = kv.get("meta", key)
    if stored is not None and zstd_decompress(stored) == document:
        return False
    kv.put_many("meta", [(key, zstd_compress(document, level=1))])
    return True


def city_get(kv: SortedKV, *, dataset: str) -> bytes | None:
    """The dataset's city document as `city_put` was given it, or None."""
    stored = kv.get("meta", keys.city_key(dataset))
    return None if stored is None else zstd_decompress(stored)
