"""The stored bytes of an event, and the digest that tells a duplicate from a conflict.

event value   b"J" + canonical JSON            (sorted keys; bodies up to COMPRESS_OVER bytes)
              b"Z" + zstd(canonical JSON)      (longer bodies)
round marker  b"R" + round id                  (in a job's rows: "this job was in that round")
digest        CRC-32 u32 | Adler-32 u32 of the canonical JSON, big-endian
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import orjson

from storage.compression import zstd_compress, zstd_decompress
from storage.kv.base import TrackStoreError
from storage.tracks.types import StoredEvent

EVENT_PLAIN = b"J"
EVENT_ZSTD = b"Z"
ROUND_MARKER = b"R"
COMPRESS_OVER = 512
DIGEST = struct.Struct(">II")


def event_encode(body: dict[str, Any]) -> tuple[bytes, bytes]:
    """The stored bytes of an event and the digest that decides duplicate versus conflict."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    # Not a security boundary, only duplicate-versus-conflict for one id: two fast 32-bit checksums.
    digest = DIGEST.pack(zlib.crc32(canonical), zlib.adler32(canonical))
    if len(canonical) > COMPRESS_OVER:
        return EVENT_ZSTD + zstd_compress(canonical, level=1), digest
    return EVENT_PLAIN + canonical, digest


def event_decode(value: bytes) -> StoredEvent:
    """The event stored as `value` (not a round marker)."""
    kind, payload = value[:1], value[1:]
    if kind == EVENT_ZSTD:
        payload = zstd_decompress(payload)
    elif kind != EVENT_PLAIN:
        raise TrackStoreError(f"unknown stored event encoding {kind!r}")
    body: dict[str, Any] = orjson.loads(payload)
    return StoredEvent(id=str(body["id"]), type=str(body["type"]), ts=int(body["ts"]), body=body)


def round_marker(round_id: str) -> bytes:
    """The value that stands for a dispatch round in a job's rows."""
    return ROUND_MARKER + round_id.encode()


def round_marker_id(value: bytes) -> str | None:
    """The round id a stored value points to, or None when the value is an event."""
    return value[1:].decode() if value[:1] == ROUND_MARKER else None
