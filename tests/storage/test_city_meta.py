"""A dataset's city document in the meta table: the same bytes on every backend, re-writes are no-ops."""

import orjson
import pytest
import zstandard

from storage.keys import city_key
from storage.kv.base import SortedKV
from storage.tracks import TrackStore

DOCUMENT = orjson.dumps(
    {
        "city": "riverside",
        "classes": ["primary"],
        "edges": [[0, 1, "primary"]],
        "nodes": [[31.2, 121.4], [31.3, 121.5]],
        "timezone": "Asia/Shanghai",
    },
    option=orjson.OPT_SORT_KEYS,
)


def stored_value(kv: SortedKV, dataset: str) -> bytes | None:
    return kv.get("meta", city_key(dataset))


def test_the_city_document_round_trips_zstd_compressed(track_store: TrackStore, kv: SortedKV):
    assert track_store.city_get(dataset="demo") is None
    assert track_store.city_put(dataset="demo", document=DOCUMENT) is True
    assert track_store.city_get(dataset="demo") == DOCUMENT
    value = stored_value(kv, "demo")
    assert value is not None
    assert zstandard.ZstdDecompressor().decompress(value) == DOCUMENT
    # The same value whichever backend holds it: it is built above the backend.
    assert value == zstandard.ZstdCompressor(level=1).compress(DOCUMENT)


def test_writing_the_same_document_again_writes_nothing(track_store: TrackStore, kv: SortedKV):
    track_store.city_put(dataset="demo", document=DOCUMENT)
    puts: list[str] = []
    original = kv.put_many

    def counting(table, items):
        puts.append(table)
        return original(table, items)

    kv.put_many = counting  # type: ignore[method-assign]
    assert track_store.city_put(dataset="demo", document=DOCUMENT) is False
    assert puts == []
    other = DOCUMENT.replace(b"riverside", b"harbour")
    assert track_store.city_put(dataset="demo", document=other) is True
    assert track_store.city_get(dataset="demo") == other


def test_datasets_keep_their_own_documents_and_do_not_appear_as_counted_datasets(track_store: TrackStore):
    track_store.city_put(dataset="d1", document=DOCUMENT)
    assert track_store.city_get(dataset="d10") is None
    assert track_store.city_get(dataset="d") is None
    assert track_store.datasets() == []


def test_a_bad_dataset_name_is_refused(track_store: TrackStore):
    with pytest.raises(ValueError, match="dataset name"):
        track_store.city_put(dataset="../x", document=DOCUMENT)
