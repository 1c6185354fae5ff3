// Decoding of the binary position chunks of docs/protocol.md (version 1): typed-array views, no parsing.

export const MAGIC = 0x31505344; // "DSP1" read as a little-endian u32
const HEADER_BYTES = 32;
const RUN_INTS = 6;

function pad8(n) {
  return (n + 7) & ~7;
}

/**
 * Views of one chunk. Returns {requestId, baseTs, resolutionMs, runs, dt, dlat, dlon, flags, nPoints} where
 * `runs` is an Int32Array of 6 ints per run (entity, first point, count, t0 offset ms, lat0 e7, lon0 e7).
 * Throws on a frame that is not a version-1 chunk.
 */
export function chunkViews(buffer) {
  if (buffer.byteLength < HEADER_BYTES) throw new Error(`chunk of ${buffer.byteLength} bytes is too short`);
  const head = new DataView(buffer, 0, HEADER_BYTES);
  if (head.getUint32(0, true) !== MAGIC) throw new Error("not a DSP1 chunk");
  const requestId = head.getUint32(4, true);
  const baseTs = head.getFloat64(8, true);
  const nRuns = head.getUint32(16, true);
  const nPoints = head.getUint32(20, true);
  const resolutionMs = head.getUint32(24, true);
  let offset = HEADER_BYTES;
  const runs = new Int32Array(buffer, offset, nRuns * RUN_INTS);
  offset += pad8(nRuns * RUN_INTS * 4);
  const dt = new Uint16Array(buffer, offset, nPoints);
  offset += pad8(nPoints * 2);
  const dlat = new Int16Array(buffer, offset, nPoints);
  offset += pad8(nPoints * 2);
  const dlon = new Int16Array(buffer, offset, nPoints);
  offset += pad8(nPoints * 2);
  const flags = new Uint8Array(buffer, offset, nPoints);
  offset += pad8(nPoints);
  if (offset > buffer.byteLength) throw new Error("chunk is shorter than its header says");
  return { requestId, baseTs, resolutionMs, runs, dt, dlat, dlon, flags, nPoints, nRuns };
}

/**
 * The chunk's fixes per entity index: Map(entity → {ts: Float64Array, lat: Int32Array, lon: Int32Array,
 * flags: Uint8Array}), positions in 1e-7 degree, times epoch ms, exactly as stored.
 */
export function chunkDecode(buffer) {
  const v = chunkViews(buffer);
  const counts = new Map();
  for (let r = 0; r < v.nRuns; r++) {
    const entity = v.runs[r * RUN_INTS];
    counts.set(entity, (counts.get(entity) || 0) + v.runs[r * RUN_INTS + 2]);
  }
  const out = new Map();
  for (const [entity, n] of counts) {
    out.set(entity, { ts: new Float64Array(n), lat: new Int32Array(n), lon: new Int32Array(n), flags: new Uint8Array(n), n: 0 });
  }
  for (let r = 0; r < v.nRuns; r++) {
    const base = r * RUN_INTS;
    const entity = v.runs[base];
    const first = v.runs[base + 1];
    const count = v.runs[base + 2];
    let t = v.baseTs + v.runs[base + 3];
    let lat = v.runs[base + 4];
    let lon = v.runs[base + 5];
    const target = out.get(entity);
    for (let k = 0; k < count; k++) {
      const i = first + k;
      t += v.dt[i];
      lat += v.dlat[i];
      lon += v.dlon[i];
      const j = target.n++;
      target.ts[j] = t;
      target.lat[j] = lat;
      target.lon[j] = lon;
      target.flags[j] = v.flags[i];
    }
  }
  return { requestId: v.requestId, baseTs: v.baseTs, resolutionMs: v.resolutionMs, nPoints: v.nPoints, entities: out };
}

export const FLAG_JUMP = 1;
export const FLAG_STALE = 2;
export const FLAG_GAP = 4;
export const FLAG_STALL = 8;
