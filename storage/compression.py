"""zstd for the stores, safe from any thread: one compressor and one decompressor per thread and level.

python-zstandard's ZstdCompressor and ZstdDecompressor must not be used by two threads at once, and the
socket's reads run on a thread pool, so module-level instances would corrupt concurrent reads.
"""

from __future__ import annotations

import threading

import zstandard

_local = threading.local()


def zstd_compress(data: bytes, *, level: int, checksum: bool = False) -> bytes:
    """`data` as one zstd frame at `level` (with a content checksum when asked)."""
    cache: dict[tuple[int, bool], zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if cache is None:
        cache = _local.compressors = {}
    compressor = cache.get((level, checksum))
    if compressor is None:
        compressor = cache[(level, checksum)] = zstandard.ZstdCompressor(level=level, write_checksum=checksum)
    return compressor.compress(data)


def zstd_decompress(data: bytes) -> bytes:
    """The bytes of one zstd frame (zstandard.ZstdError when it is corrupt)."""
    decompressor: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(data)
