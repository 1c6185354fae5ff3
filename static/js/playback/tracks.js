// Every entity's stored fixes as they arrive from chunks, and the position shown at any playhead time.
//
// Fixes are kept exactly as stored (1e-7 degree, epoch ms). Between two fixes the shown position is a
// linear interpolation and is marked as such; across a gap longer than `maxInterpolateMs` the last fix is
// held (marked held), so a dropout never turns into a straight line across the city.

export const E7 = 1e-7;

function lowerBound(values, n, x) {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of the last value ≤ x in a sorted array of length n, or -1. */
export function lastAtOrBefore(values, n, x) {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export class Track {
  constructor() {
    this.n = 0;
    this.ts = new Float64Array(0);
    this.lat = new Int32Array(0);
    this.lon = new Int32Array(0);
    this.flags = new Uint8Array(0);
  }

  /** Merge a time-sorted piece {ts, lat, lon, flags, n}; a fix already held (same ts) is kept once. */
  add(piece) {
    const m = piece.n;
    if (!m) return 0;
    const n = this.n;
    const ts = new Float64Array(n + m);
    const lat = new Int32Array(n + m);
    const lon = new Int32Array(n + m);
    const flags = new Uint8Array(n + m);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < n || j < m) {
      const takeOld = j >= m || (i < n && this.ts[i] <= piece.ts[j]);
      if (takeOld) {
        if (j < m && this.ts[i] === piece.ts[j]) j++; // the same fix again from an overlapping window
        ts[k] = this.ts[i];
        lat[k] = this.lat[i];
        lon[k] = this.lon[i];
        flags[k] = this.flags[i];
        i++;
      } else {
        ts[k] = piece.ts[j];
        lat[k] = piece.lat[j];
        lon[k] = piece.lon[j];
        flags[k] = piece.flags[j];
        j++;
      }
      k++;
    }
    const added = k - n;
    this.n = k;
    this.ts = ts.subarray(0, k);
    this.lat = lat.subarray(0, k);
    this.lon = lon.subarray(0, k);
    this.flags = flags.subarray(0, k);
    return added;
  }

  /** Index of the last fix at or before `t`, or -1. */
  indexAt(t) {
    return lastAtOrBefore(this.ts, this.n, t);
  }

  /**
   * The position shown at `t`: {lat, lon (degrees), ts of the fix, kind: "fix" | "interpolated" | "held",
   * index} or null before the first fix. `fix` only when a stored fix has exactly this time.
   */
  positionAt(t, maxInterpolateMs) {
    const i = this.indexAt(t);
    if (i < 0) return null;
    const t0 = this.ts[i];
    if (t0 === t || i === this.n - 1) {
      return { lat: this.lat[i] * E7, lon: this.lon[i] * E7, ts: t0, kind: t0 === t ? "fix" : "held", index: i };
    }
    const t1 = this.ts[i + 1];
    if (t1 - t0 > maxInterpolateMs) {
      return { lat: this.lat[i] * E7, lon: this.lon[i] * E7, ts: t0, kind: "held", index: i };
    }
    const f = (t - t0) / (t1 - t0);
    const lat = (this.lat[i] + (this.lat[i + 1] - this.lat[i]) * f) * E7;
    const lon = (this.lon[i] + (this.lon[i + 1] - this.lon[i]) * f) * E7;
    return { lat, lon, ts: t, kind: "interpolated", index: i };
  }

  /** Indexes [from, to) of the fixes with start ≤ ts ≤ end. */
  range(start, end) {
    return [lowerBound(this.ts, this.n, start), lastAtOrBefore(this.ts, this.n, end) + 1];
  }

  /** Time of the first fix held, or null. */
  get first() {
    return this.n ? this.ts[0] : null;
  }

  /** Time of the last fix held, or null. */
  get last() {
    return this.n ? this.ts[this.n - 1] : null;
  }
}

/** Speeds in m/s between consecutive fixes (0 for the first), for the timeline's speed lane. */
export function speeds(track) {
  const out = new Float64Array(track.n);
  for (let i = 1; i < track.n; i++) {
    const dt = (track.ts[i] - track.ts[i - 1]) / 1000;
    if (dt <= 0) continue;
    out[i] = haversineM(track.lat[i - 1] * E7, track.lon[i - 1] * E7, track.lat[i] * E7, track.lon[i] * E7) / dt;
  }
  return out;
}

/** Great-circle distance in metres. */
export function haversineM(lat1, lon1, lat2, lon2) {
  const r = 6_371_008.8;
  const p1 = (lat1 * Math.PI) / 180;
  const p2 = (lat2 * Math.PI) / 180;
  const dp = p2 - p1;
  const dl = ((lon2 - lon1) * Math.PI) / 180;
  const a = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Windows already fetched, merged; `missing(start, end)` gives the parts still to fetch. */
export class Coverage {
  constructor() {
    this.spans = [];
  }

  add(start, end) {
    const spans = [...this.spans, [start, end]].sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const span of spans) {
      const lastSpan = merged[merged.length - 1];
      if (lastSpan && span[0] <= lastSpan[1] + 1) lastSpan[1] = Math.max(lastSpan[1], span[1]);
      else merged.push([span[0], span[1]]);
    }
    this.spans = merged;
  }

  missing(start, end) {
    const out = [];
    let cursor = start;
    for (const [a, b] of this.spans) {
      if (b < cursor) continue;
      if (a > end) break;
      if (a > cursor) out.push([cursor, Math.min(end, a - 1)]);
      cursor = Math.max(cursor, b + 1);
      if (cursor > end) break;
    }
    if (cursor <= end) out.push([cursor, end]);
    return out;
  }

  covers(start, end) {
    return this.missing(start, end).length === 0;
  }
}
