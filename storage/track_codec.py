"""The columnar track block: many GPS fixes in one value, exact to the millisecond and 1e-7 degree.

Layout (little-endian): a 40-byte header, then one zstd frame (with checksum) holding the columns.

    header: magic "DS" | version u8 | flags u8 | n u32 | n_runs u32 | t_first i64 | t_last i64
            | lat_first i32 | lon_first i32 | width u8 | pad 3
    payload (zstd): [run names, '\n'-joined | run lengths u32 × n_runs]   (only when n_runs > 0)
                    | ts deltas | lat deltas | lon deltas                     (zigzag, `width` bytes)
                    | speed u16 | heading u16 | accuracy u16                  (each only if its flag is set)

An index block (the cell table's) trades size for read speed: its payload is not compressed and its deltas
are plain int16, with the few that do not fit (at run boundaries, after gaps) patched from an exception
list — `count u32 | positions u32 × count | values i32 × count` after the deltas — so a reader decodes a
whole box of blocks with one conversion and one cumulative sum, no decompression and no zigzag.

Times and positions are delta-encoded over the whole block in storage order, so decoding is one cumulative
sum per column; a block that holds several entities (a cell block) stores them as runs, each run's rows
sorted by time. The three delta columns are zigzag-coded into the narrowest of 1, 2, 4 or 8 bytes that
holds them all (`width`), so the always-zero high bytes are never stored at all; that does what a byte
shuffle would (measured: the same size within 0.1 %) while letting a reader view the payload as a (3, n)
array without copying it. The header stays uncompressed so a reader learns a block's count and time span
without decompressing it. `blocks_decode` decodes many blocks in one vectorised pass.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import zstandard

from storage.compression import zstd_compress, zstd_decompress

MAGIC = b"DS"
VERSION = 1
HEADER = struct.Struct("<2sBBIIqqiiB3x")
HEADER_SIZE = HEADER.size
FLAG_SPEED = 1
FLAG_HEADING = 2
FLAG_ACCURACY = 4
FLAG_INDEX = 8  # uncompressed payload, int16 deltas patched from an exception list
OPTIONAL_FLAGS = FLAG_SPEED | FLAG_HEADING | FLAG_ACCURACY
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
FIXED_POINT = 10_000_000  # 1e-7 degree
NO_VALUE_U16 = 0xFFFF
SPEED_STEP = 0.01  # m/s
HEADING_STEP = 0.01  # degrees
ACCURACY_STEP = 0.1  # metres
ZSTD_LEVEL = 3

# The array types of the whole track store (storage.tracks.types re-exports them for the layers above).
Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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


WIDTH_DTYPES: dict[int, np.dtype[Any]] = {
    1: np.dtype("<u1"),
    2: np.dtype("<u2"),
    4: np.dtype("<u4"),
    8: np.dtype("<u8"),
}


def _unzigzag(encoded: npt.NDArray[np.unsignedinteger[Any]], dtype: type[np.signedinteger[Any]]) -> Any:
    wide = encoded.astype(dtype)
    return (wide >> 1) ^ -(wide & 1)


def _unquantise(buffer: bytes, offset: int, n: int, step: float) -> tuple[FloatArray, int]:
    q = np.frombuffer(buffer, dtype="<u2", count=n, offset=offset)
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
    index: bool = False,
) -> bytes:
    """Encode fixes (already in storage order) into one block; `decode(encode(x))` returns x exactly.

    Positions must already be fixed point; optional columns are quantised (speed 0.01 m/s, heading 0.01°,
    accuracy 0.1 m) and NaN survives as "no value".
    """
    n = int(np.asarray(ts).shape[0])
    runs = None
    if run_names:
        lengths = np.asarray(run_lengths, dtype=np.int64)
        if lengths.shape[0] != len(run_names) or int(lengths.sum()) != n:
            raise ValueError("run lengths must match run names and add up to the number of fixes")
        runs = (np.concatenate(([0], np.cumsum(lengths)[:-1])), list(run_names))
    bounds = np.array([0, n], dtype=np.int64)
    return blocks_encode(
        ts, lat_e7, lon_e7, bounds, speed_mps=speed_mps, heading_deg=heading_deg, accuracy_m=accuracy_m,
        runs=runs, index=index,
    )[0]  # fmt: skip


def blocks_encode(
    ts: Int64Array,
    lat_e7: Int32Array,
    lon_e7: Int32Array,
    bounds: Int64Array,
    *,
    speed_mps: FloatArray | None = None,
    heading_deg: FloatArray | None = None,
    accuracy_m: FloatArray | None = None,
    runs: tuple[Int64Array, list[str]] | None = None,
    index: bool = False,
) -> list[bytes]:
    """Encode consecutive slices `bounds[i]:bounds[i+1]` of the columns into one block each.

    With `index`, blocks are index blocks (see the module notes) wherever their exceptions fit int32.

    The column work (deltas, zigzag, quantising) is done once for all blocks, so many small blocks cost
    little more than one big one. `runs` gives the start row and the name of every run (entity) when the
    blocks hold several entities; runs never cross a block boundary.
    """
    ts = np.asarray(ts, dtype=np.int64)
    bounds = np.asarray(bounds, dtype=np.int64)
    starts, ends = bounds[:-1], bounds[1:]
    if ts.shape[0] == 0:
        raise ValueError("a track block holds at least one fix")
    if bool(np.any(ends <= starts)):
        raise ValueError("a track block holds at least one fix")
    stacked = np.stack([ts, lat_e7.astype(np.int64), lon_e7.astype(np.int64)])
    deltas = np.diff(stacked, axis=1, prepend=stacked[:, :1])
    deltas[:, starts] = 0  # each block's first values live in its header
    zigzag = ((deltas << 1) ^ (deltas >> 63)).view(np.uint64)
    block_max = np.maximum.reduceat(zigzag.max(axis=0), starts)
    widths = np.select([block_max < 1 << 8, block_max < 1 << 16, block_max < 1 << 32], [1, 2, 4], 8)
    narrow = {int(w): zigzag.astype(WIDTH_DTYPES[int(w)]) for w in np.unique(widths)}
    t_last = np.maximum.reduceat(ts, starts)
    if index:
        outside = (deltas < INT16_MIN) | (deltas > INT16_MAX)
        huge = np.logical_or.reduceat(((deltas < INT32_MIN) | (deltas > INT32_MAX)).any(axis=0), starts)
        plain16 = np.where(outside, 0, deltas).astype("<i2")
        # Every exception at once, in row order, so each block takes a slice: position within the block's
        # (3, n) array and value.
        row, column = np.nonzero(outside.T)
        block_of = np.searchsorted(starts, row, side="right") - 1
        exception_at = (column * (ends - starts)[block_of] + row - starts[block_of]).astype("<u4")
        exception_value = deltas[column, row].astype("<i4")
        cuts = np.searchsorted(row, bounds)
    optional: list[tuple[int, npt.NDArray[np.uint16], BoolArray]] = []
    for flag, values, step, top in (
        (FLAG_SPEED, speed_mps, SPEED_STEP, 655.0),
        (FLAG_HEADING, heading_deg, HEADING_STEP, 359.99),
        (FLAG_ACCURACY, accuracy_m, ACCURACY_STEP, 6553.0),
    ):
        if values is None:
            continue
        finite = np.isfinite(values)
        present = np.logical_or.reduceat(finite, starts)
        if bool(present.any()):
            q = np.where(finite, np.rint(np.clip(np.nan_to_num(values), 0.0, top) / step), NO_VALUE_U16)
            optional.append((flag, q.astype(np.uint16), present))
    run_starts = runs[0] if runs is not None else None
    run_at = run_lengths = None
    if run_starts is not None:
        run_at = np.searchsorted(run_starts, bounds)
        run_lengths = np.diff(np.append(run_starts, ts.shape[0])).astype(np.uint32)
    out: list[bytes] = []
    for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        width = int(widths[i])
        parts: list[bytes] = []
        n_runs = 0
        if runs is not None and run_at is not None and run_lengths is not None:
            ra, rb = int(run_at[i]), int(run_at[i + 1])
            n_runs = rb - ra
            names = "\n".join(runs[1][ra:rb]).encode()
            parts += [struct.pack("<I", len(names)), names, run_lengths[ra:rb].tobytes()]
        flags = 0
        if index and not huge[i]:
            flags |= FLAG_INDEX
            width = 2
            lo, hi = int(cuts[i]), int(cuts[i + 1])
            parts += [
                plain16[:, a:b].tobytes(),
                struct.pack("<I", hi - lo),
                exception_at[lo:hi].tobytes(),
                exception_value[lo:hi].tobytes(),
            ]
        else:
            parts.append(narrow[width][:, a:b].tobytes())
        for flag, q, present in optional:
            if present[i]:
                flags |= flag
                parts.append(q[a:b].tobytes())
        header = HEADER.pack(
            MAGIC, VERSION, flags, b - a, n_runs, int(stacked[0, a]), int(t_last[i]),
            int(stacked[1, a]), int(stacked[2, a]), width,
        )  # fmt: skip
        payload = b"".join(parts)
        out.append(
            header
            + (payload if flags & FLAG_INDEX else zstd_compress(payload, level=ZSTD_LEVEL, checksum=True))
        )
    return out


def block_header(block: bytes) -> BlockHeader:
    """The header of a block, without touching its payload."""
    if len(block) < HEADER_SIZE:
        raise TrackCodecError(f"track block too short ({len(block)} bytes)")
    magic, version, flags, n, n_runs, t_first, t_last, _, _, width = HEADER.unpack_from(block)
    if magic != MAGIC or version != VERSION or width not in WIDTH_DTYPES:
        raise TrackCodecError(f"not a version-{VERSION} track block (magic {magic!r}, version {version})")
    return BlockHeader(n=n, n_runs=n_runs, t_first=t_first, t_last=t_last, flags=flags)


def _payload(block: bytes) -> tuple[BlockHeader, int, int, int, bytes]:
    header = block_header(block)
    _, _, _, _, _, _, _, lat_first, lon_first, width = HEADER.unpack_from(block)
    if header.flags & FLAG_INDEX:
        return header, lat_first, lon_first, width, block[HEADER_SIZE:]
    try:
        raw = zstd_decompress(block[HEADER_SIZE:])
    except zstandard.ZstdError as exc:
        raise TrackCodecError(f"corrupt track block payload: {exc}") from None
    return header, lat_first, lon_first, width, raw


def _runs(raw: bytes, n_runs: int) -> tuple[list[str], npt.NDArray[np.uint32], int]:
    if not n_runs:
        return [], np.empty(0, dtype=np.uint32), 0
    (names_size,) = struct.unpack_from("<I", raw, 0)
    names = raw[4 : 4 + names_size].decode().split("\n")
    lengths = np.frombuffer(raw, dtype="<u4", count=n_runs, offset=4 + names_size)
    return names, lengths, 4 + names_size + 4 * n_runs


def _raw_deltas(
    raw: bytes, offset: int, header: BlockHeader, width: int, *, wrapping: bool = False
) -> tuple[Any, npt.NDArray[np.uint32] | None, npt.NDArray[np.int32] | None, int]:
    """The block's (3, n) deltas as stored (int16 for index blocks, else zigzag-decoded int64, or int32
    modulo 2**32 when `wrapping`), plus the exception positions and values an index block patches in, and
    the offset past them."""
    n = header.n
    if header.flags & FLAG_INDEX:
        plain = np.frombuffer(raw, dtype="<i2", count=3 * n, offset=offset).reshape(3, n)
        offset += 6 * n
        (count,) = struct.unpack_from("<I", raw, offset)
        positions = np.frombuffer(raw, dtype="<u4", count=count, offset=offset + 4)
        values = np.frombuffer(raw, dtype="<i4", count=count, offset=offset + 4 + 4 * count)
        return plain, positions, values, offset + 4 + 8 * count
    encoded = np.frombuffer(raw, dtype=WIDTH_DTYPES[width], count=3 * n, offset=offset)
    if wrapping and width <= 2:
        deltas = _unzigzag(encoded, np.int32)  # exact: a 16-bit zigzag code decodes within int32
    else:
        deltas = _unzigzag(encoded, np.int64)
        if wrapping:
            deltas = deltas.astype(np.int32)
    return deltas.reshape(3, n), None, None, offset + 3 * n * width


def block_decode(block: bytes) -> TrackColumns:
    """Decode a block into columns, in the order they were encoded."""
    header, lat_first, lon_first, width, raw = _payload(block)
    n = header.n
    names, lengths, offset = _runs(raw, header.n_runs)
    stored, positions, values, offset = _raw_deltas(raw, offset, header, width)
    deltas = stored.astype(np.int64)
    if positions is not None and values is not None:
        deltas.ravel()[positions] = values
    deltas[:, 0] = (header.t_first, lat_first, lon_first)
    columns = np.cumsum(deltas, axis=1)
    optional: list[FloatArray | None] = []
    quantised = ((FLAG_SPEED, SPEED_STEP), (FLAG_HEADING, HEADING_STEP), (FLAG_ACCURACY, ACCURACY_STEP))
    for flag, step in quantised:
        if header.flags & flag:
            column, offset = _unquantise(raw, offset, n, step)
            optional.append(column)
        else:
            optional.append(None)
    if offset != len(raw):
        raise TrackCodecError(f"track block payload has {len(raw) - offset} unexpected trailing bytes")
    return TrackColumns(
        ts=columns[0], lat_e7=columns[1].astype(np.int32), lon_e7=columns[2].astype(np.int32),
        speed_mps=optional[0], heading_deg=optional[1], accuracy_m=optional[2],
        run_names=tuple(names), run_lengths=lengths if header.n_runs else None,
    )  # fmt: skip


@dataclass(frozen=True)
class DecodedBlocks:
    """Fixes of many blocks, concatenated in block order; optional columns are not decoded here.

    `starts[i]` is where block i begins; `run_names`/`run_lengths` list every run of every block in order.
    """

    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    starts: Int64Array
    run_names: list[str]
    run_lengths: npt.NDArray[np.uint32]

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def blocks_decode(blocks: Sequence[bytes]) -> DecodedBlocks:
    """Decode positions and times of many blocks in one vectorised pass (the box query's hot path)."""
    arrays: list[Any] = []
    patches: list[tuple[int, int, npt.NDArray[np.uint32], npt.NDArray[np.int32]]] = []
    firsts: list[tuple[int, int, int]] = []
    counts: list[int] = []
    names: list[str] = []
    lengths: list[npt.NDArray[np.uint32]] = []
    start = 0
    for block in blocks:
        fields = HEADER.unpack_from(block)
        if fields[2] & FLAG_INDEX and fields[0] == MAGIC and fields[1] == VERSION:
            # The box query's hot loop: index blocks are read in place, without building a header object.
            _, _, _, n, n_runs, t_first, _, lat_first, lon_first, _ = fields
            offset = HEADER_SIZE
            if n_runs:
                (names_size,) = struct.unpack_from("<I", block, offset)
                names += block[offset + 4 : offset + 4 + names_size].decode().split("\n")
                offset += 4 + names_size
                lengths.append(np.frombuffer(block, dtype="<u4", count=n_runs, offset=offset))
                offset += 4 * n_runs
            arrays.append(np.frombuffer(block, dtype="<i2", count=3 * n, offset=offset).reshape(3, n))
            offset += 6 * n
            (count,) = struct.unpack_from("<I", block, offset)
            if count:
                patches.append(
                    (
                        start,
                        n,
                        np.frombuffer(block, dtype="<u4", count=count, offset=offset + 4),
                        np.frombuffer(block, dtype="<i4", count=count, offset=offset + 4 + 4 * count),
                    )
                )
            firsts.append((t_first, lat_first, lon_first))
            counts.append(n)
            start += n
            continue
        header, lat_first, lon_first, width, raw = _payload(block)
        block_names, block_lengths, offset = _runs(raw, header.n_runs)
        names += block_names
        lengths.append(block_lengths)
        stored, positions, values, _ = _raw_deltas(raw, offset, header, width, wrapping=True)
        if positions is not None and values is not None and positions.size:
            patches.append((start, header.n, positions, values))
        # int16 index deltas and int32 values concatenate into int32; wider zigzag deltas stay exact
        # modulo 2**32, which is all the wrapping sums below need.
        arrays.append(stored)
        firsts.append((header.t_first, lat_first, lon_first))
        counts.append(header.n)
        start += header.n
    if not arrays:
        empty = np.empty(0, dtype=np.int64)
        none32 = empty.astype(np.int32)
        return DecodedBlocks(empty, none32, none32, empty, [], np.empty(0, np.uint32))
    deltas = np.concatenate(arrays, axis=1, dtype=np.int32)
    total = deltas.shape[1]
    if patches:
        sizes = [len(p[2]) for p in patches]
        positions = np.concatenate([p[2] for p in patches]).astype(np.int64)
        block_n = np.repeat(np.array([p[1] for p in patches], dtype=np.int64), sizes)
        block_start = np.repeat(np.array([p[0] for p in patches], dtype=np.int64), sizes)
        flat = deltas.ravel()
        flat[(positions // block_n) * total + block_start + positions % block_n] = np.concatenate(
            [p[3] for p in patches]
        )
    # Each block's first delta is zero and its first values are in `firsts`. int32 arithmetic wraps, but
    # every true value fits in int32 and is recovered exactly.
    running = np.cumsum(deltas, axis=1, dtype=np.int32)
    size = np.array(counts, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(size)[:-1]))
    base = np.array(firsts, dtype=np.int64).T
    shift = np.repeat(base[1:] - running[1:, starts], size, axis=1).astype(np.int32)
    lat_lon = running[1:] + shift
    offsets = running[0] - np.repeat(running[0, starts], size)  # wraps like the sums, exact once subtracted
    ts = np.repeat(base[0], size) + offsets.astype(np.int64)
    return DecodedBlocks(
        ts=ts, lat_e7=lat_lon[0], lon_e7=lat_lon[1], starts=starts, run_names=names,
        run_lengths=np.concatenate(lengths) if lengths else np.empty(0, np.uint32),
    )  # fmt: skip
