"""The columnar track block: many GPS fixes in one value, exact to the millisecond and 1e-7 degree.

Layout (little-endian): a 40-byte header, then one zstd frame holding byte-shuffled columns.

    header: magic "DS" | version u8 | flags u8 | n u32 | n_runs u32 | t_first i64 | t_last i64
            | lat_first i32 | lon_first i32 | width u8 | pad 3
    payload (zstd): [run names, '\n'-joined | run lengths u32 × n_runs]   (only when n_runs > 0)
                    | ts deltas | lat deltas | lon deltas                     (zigzag, byte planes)
                    | speed u16 | heading u16 | accuracy u16                  (each only if its flag is set)

Times and positions are delta-encoded over the whole block in storage order, so decoding is one cumulative
sum per column; a block that holds several entities (a cell block) stores them as runs, each run's rows
sorted by time. The three delta columns are zigzag-coded into the narrowest of 1, 2, 4 or 8 bytes that
holds them (`width`), then split into byte planes so zstd sees the mostly-zero high bytes together; the
three share one width so a reader decodes them as one (3, n) array. The header stays uncompressed so a
reader learns a block's count and time span without decompressing it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import zstandard

MAGIC = b"DS"
VERSION = 1
HEADER = struct.Struct("<2sBBIIqqiiB3x")
HEADER_SIZE = HEADER.size
FLAG_SPEED = 1
FLAG_HEADING = 2
FLAG_ACCURACY = 4
FIXED_POINT = 10_000_000  # 1e-7 degree
NO_VALUE_U16 = 0xFFFF
SPEED_STEP = 0.01  # m/s
HEADING_STEP = 0.01  # degrees
ACCURACY_STEP = 0.1  # metres
ZSTD_LEVEL = 3

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]

_compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
_decompressor = zstandard.ZstdDecompressor()


class TrackCodecError(ValueError):
    """A block is not a valid track block (wrong magic, version or size)."""


@dataclass(frozen=True)
class BlockHeader:
    """What a block's header says, readable without decompressing the payload."""

    n: int
    n_runs: int
    t_first: int
    t_last: int
    flags: int


@dataclass(frozen=True)
class TrackColumns:
    """Decoded fixes in storage order; optional columns are None when the block has none."""

    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    speed_mps: FloatArray | None = None
    heading_deg: FloatArray | None = None
    accuracy_m: FloatArray | None = None
    run_names: tuple[str, ...] = ()
    run_lengths: npt.NDArray[np.uint32] | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def degrees_to_e7(values: npt.ArrayLike) -> Int32Array:
    """Degrees as int32 fixed point (1e-7 degree), rounded half to even."""
    return np.rint(np.asarray(values, dtype=np.float64) * FIXED_POINT).astype(np.int32)


def e7_to_degrees(values: Int32Array) -> FloatArray:
    """Fixed point back to float degrees (the double nearest to value / 1e7)."""
    return values / float(FIXED_POINT)


WIDTH_DTYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _zigzag_planes(deltas: Int64Array) -> tuple[bytes, int]:
    """Zigzag-code a (columns, n) array of deltas into byte planes of the narrowest common width."""
    encoded = ((deltas << 1) ^ (deltas >> 63)).view(np.uint64)
    top = int(encoded.max())
    width = next(w for w in (1, 2, 4, 8) if top < 1 << (8 * w))
    narrow = encoded.astype(WIDTH_DTYPES[width])
    return narrow.view(np.uint8).reshape(deltas.shape[0], -1, width).transpose(0, 2, 1).tobytes(), width


def _unzigzag_planes(buffer: bytes, offset: int, columns: int, n: int, width: int) -> tuple[Int64Array, int]:
    size = columns * n * width
    planes = np.frombuffer(buffer, dtype=np.uint8, count=size, offset=offset).reshape(columns, width, n)
    # Reassembling with shifts is several times faster than a transposed copy of the byte planes.
    encoded = planes[:, 0].astype(np.int64)
    for k in range(1, width):
        encoded |= planes[:, k].astype(np.int64) << (8 * k)
    return (encoded >> 1) ^ -(encoded & 1), offset + size


def _quantise(values: FloatArray | None, step: float, top: float) -> bytes:
    assert values is not None
    clipped = np.clip(values, 0.0, top)
    q = np.where(np.isfinite(values), np.rint(clipped / step), NO_VALUE_U16).astype(np.uint16)
    return q.view(np.uint8).reshape(-1, 2).T.tobytes()


def _unquantise(buffer: bytes, offset: int, n: int, step: float) -> tuple[FloatArray, int]:
    planes = np.frombuffer(buffer, dtype=np.uint8, count=2 * n, offset=offset).reshape(2, n)
    q = planes.T.copy().view(np.uint16).ravel()
    out = q.astype(np.float64) * step
    out[q == NO_VALUE_U16] = np.nan
    return out, offset + 2 * n


def block_encode(
    ts: Int64Array,
    lat_e7: Int32Array,
    lon_e7: Int32Array,
    *,
    speed_mps: FloatArray | None = None,
    heading_deg: FloatArray | None = None,
    accuracy_m: FloatArray | None = None,
    run_names: tuple[str, ...] = (),
    run_lengths: npt.ArrayLike | None = None,
) -> bytes:
    """Encode fixes (already in storage order) into one block; `decode(encode(x))` returns x exactly.

    Positions must already be fixed point; optional columns are quantised (speed 0.01 m/s, heading 0.01°,
    accuracy 0.1 m) and NaN survives as "no value".
    """
    n = int(ts.shape[0])
    if n == 0:
        raise ValueError("a track block holds at least one fix")
    ts = np.asarray(ts, dtype=np.int64)
    stacked = np.stack([ts, lat_e7.astype(np.int64), lon_e7.astype(np.int64)])
    deltas = np.diff(stacked, axis=1, prepend=stacked[:, :1])
    planes, width = _zigzag_planes(deltas)
    parts: list[bytes] = []
    if run_names:
        lengths = np.asarray(run_lengths, dtype=np.uint32)
        if lengths.shape[0] != len(run_names) or int(lengths.sum()) != n:
            raise ValueError("run lengths must match run names and add up to the number of fixes")
        names = "\n".join(run_names).encode()
        parts += [struct.pack("<I", len(names)), names, lengths.tobytes()]
    parts.append(planes)
    flags = 0
    for flag, values, step, top in (
        (FLAG_SPEED, speed_mps, SPEED_STEP, 655.0),
        (FLAG_HEADING, heading_deg, HEADING_STEP, 359.99),
        (FLAG_ACCURACY, accuracy_m, ACCURACY_STEP, 6553.0),
    ):
        if values is not None and bool(np.isfinite(values).any()):
            flags |= flag
            parts.append(_quantise(values, step, top))
    header = HEADER.pack(
        MAGIC, VERSION, flags, n, len(run_names), int(ts[0]), int(ts.max()),
        int(lat_e7[0]), int(lon_e7[0]), width,
    )  # fmt: skip
    return header + _compressor.compress(b"".join(parts))


def block_header(block: bytes) -> BlockHeader:
    """The header of a block, without touching its payload."""
    if len(block) < HEADER_SIZE:
        raise TrackCodecError(f"track block too short ({len(block)} bytes)")
    magic, version, flags, n, n_runs, t_first, t_last, _, _, width = HEADER.unpack_from(block)
    if magic != MAGIC or version != VERSION or width not in WIDTH_DTYPES:
        raise TrackCodecError(f"not a version-{VERSION} track block (magic {magic!r}, version {version})")
    return BlockHeader(n=n, n_runs=n_runs, t_first=t_first, t_last=t_last, flags=flags)


def block_decode(block: bytes) -> TrackColumns:
    """Decode a block into columns, in the order they were encoded."""
    header = block_header(block)
    n = header.n
    _, _, flags, _, n_runs, t_first, _, lat_first, lon_first, width = HEADER.unpack_from(block)
    try:
        raw = _decompressor.decompress(block[HEADER_SIZE:])
    except zstandard.ZstdError as exc:
        raise TrackCodecError(f"corrupt track block payload: {exc}") from None
    offset = 0
    run_names: tuple[str, ...] = ()
    run_lengths = None
    if n_runs:
        (names_size,) = struct.unpack_from("<I", raw, 0)
        run_names = tuple(raw[4 : 4 + names_size].decode().split("\n"))
        offset = 4 + names_size
        run_lengths = np.frombuffer(raw, dtype=np.uint32, count=n_runs, offset=offset)
        offset += 4 * n_runs
    deltas, offset = _unzigzag_planes(raw, offset, 3, n, width)
    deltas[:, 0] += (t_first, lat_first, lon_first)
    values = np.cumsum(deltas, axis=1)
    ts = values[0]
    lat = values[1].astype(np.int32)
    lon = values[2].astype(np.int32)
    optional: list[FloatArray | None] = []
    for flag, step in (
        (FLAG_SPEED, SPEED_STEP),
        (FLAG_HEADING, HEADING_STEP),
        (FLAG_ACCURACY, ACCURACY_STEP),
    ):
        if flags & flag:
            column, offset = _unquantise(raw, offset, n, step)
            optional.append(column)
        else:
            optional.append(None)
    if offset != len(raw):
        raise TrackCodecError(f"track block payload has {len(raw) - offset} unexpected trailing bytes")
    return TrackColumns(
        ts=ts, lat_e7=lat, lon_e7=lon, speed_mps=optional[0], heading_deg=optional[1],
        accuracy_m=optional[2], run_names=run_names, run_lengths=run_lengths,
    )  # fmt: skip
