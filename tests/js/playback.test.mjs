// Unit tests of the playback page's pure modules: `node --test tests/js` (run by `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { chunkDecode, MAGIC } from "../../static/js/playback/chunk.js";
import { Clock } from "../../static/js/playback/clock.js";
import { dualTimeText, durationText } from "../../static/js/playback/timefmt.js";
import { Coverage, Track } from "../../static/js/playback/tracks.js";

const pad8 = (n) => (n + 7) & ~7;

/** A chunk laid out as docs/protocol.md says, from runs of [entity, [[ts, latE7, lonE7, flags], ...]]. */
function chunkEncode(requestId, baseTs, runs) {
  const nRuns = runs.length;
  const nPoints = runs.reduce((a, [, pts]) => a + pts.length, 0);
  const size = 32 + pad8(nRuns * 24) + 3 * pad8(nPoints * 2) + pad8(nPoints);
  const buffer = new ArrayBuffer(size);
  const head = new DataView(buffer);
  head.setUint32(0, MAGIC, true);
  head.setUint32(4, requestId, true);
  head.setFloat64(8, baseTs, true);
  head.setUint32(16, nRuns, true);
  head.setUint32(20, nPoints, true);
  const runInts = new Int32Array(buffer, 32, nRuns * 6);
  let offset = 32 + pad8(nRuns * 24);
  const dt = new Uint16Array(buffer, offset, nPoints);
  offset += pad8(nPoints * 2);
  const dlat = new Int16Array(buffer, offset, nPoints);
  offset += pad8(nPoints * 2);
  const dlon = new Int16Array(buffer, offset, nPoints);
  offset += pad8(nPoints * 2);
  const flags = new Uint8Array(buffer, offset, nPoints);
  let first = 0;
  runs.forEach(([entity, pts], r) => {
    runInts.set([entity, first, pts.length, pts[0][0] - baseTs, pts[0][1], pts[0][2]], r * 6);
    pts.forEach((p, k) => {
      const prev = k ? pts[k - 1] : p;
      dt[first + k] = p[0] - prev[0];
      dlat[first + k] = p[1] - prev[1];
      dlon[first + k] = p[2] - prev[2];
      flags[first + k] = p[3];
    });
    first += pts.length;
  });
  return buffer;
}

test("a chunk decodes to the exact stored fixes per entity", () => {
  const base = 1_748_919_600_000;
  const buffer = chunkEncode(7, base, [
    [0, [[base + 1000, 312_000_000, 1_214_000_000, 0], [base + 2000, 312_000_045, 1_214_000_030, 0]]],
    [0, [[base + 90_000, 312_100_000, 1_214_100_000, 4]]],
    [3, [[base, -1, 5, 1]]],
  ]);
  const chunk = chunkDecode(buffer);
  assert.equal(chunk.requestId, 7);
  assert.equal(chunk.nPoints, 4);
  const a = chunk.entities.get(0);
  assert.deepEqual(Array.from(a.ts), [base + 1000, base + 2000, base + 90_000]);
  assert.deepEqual(Array.from(a.lat), [312_000_000, 312_000_045, 312_100_000]);
  assert.deepEqual(Array.from(a.lon), [1_214_000_000, 1_214_000_030, 1_214_100_000]);
  assert.deepEqual(Array.from(a.flags), [0, 0, 4]);
  assert.deepEqual(Array.from(chunk.entities.get(3).lat), [-1]);
});

test("a frame that is not a chunk is refused", () => {
  assert.throws(() => chunkDecode(new ArrayBuffer(40)), /DSP1/);
  assert.throws(() => chunkDecode(new ArrayBuffer(8)), /too short/);
});

function piece(rows) {
  return {
    n: rows.length,
    ts: Float64Array.from(rows.map((r) => r[0])),
    lat: Int32Array.from(rows.map((r) => r[1])),
    lon: Int32Array.from(rows.map((r) => r[2])),
    flags: new Uint8Array(rows.length),
  };
}

test("tracks merge overlapping pieces once and mark interpolated and held positions", () => {
  const track = new Track();
  assert.equal(track.add(piece([[1000, 100, 200], [2000, 200, 400]])), 2);
  assert.equal(track.add(piece([[2000, 200, 400], [3000, 300, 600], [60_000, 900, 900]])), 2);
  assert.deepEqual(Array.from(track.ts), [1000, 2000, 3000, 60_000]);
  assert.equal(track.positionAt(500, 10_000), null);
  const exact = track.positionAt(2000, 10_000);
  assert.equal(exact.kind, "fix");
  assert.equal(Math.round(exact.lat / 1e-7), 200);
  const between = track.positionAt(2500, 10_000);
  assert.equal(between.kind, "interpolated");
  assert.ok(Math.abs(between.lat / 1e-7 - 250) < 1e-6);
  const gap = track.positionAt(30_000, 10_000);
  assert.equal(gap.kind, "held");
  assert.equal(gap.ts, 3000);
  assert.deepEqual(track.range(1500, 3000), [1, 3]);
});

test("coverage says which parts of a window are still to fetch", () => {
  const coverage = new Coverage();
  coverage.add(0, 99);
  coverage.add(200, 299);
  assert.deepEqual(coverage.missing(50, 250), [[100, 199]]);
  assert.deepEqual(coverage.missing(0, 400), [[100, 199], [300, 400]]);
  coverage.add(100, 199);
  assert.ok(coverage.covers(0, 299));
});

test("the clock runs at speed times real time, stops at the end, and loops a selection", () => {
  let wall = 0;
  const clock = new Clock({ start: 0, end: 100_000, now: () => wall });
  clock.setSpeed(10);
  clock.play();
  wall = 1000;
  assert.equal(clock.time(), 10_000);
  wall = 20_000;
  assert.equal(clock.time(), 100_000);
  assert.equal(clock.playing, false);
  clock.setLoop([10_000, 20_000]);
  clock.play();
  wall += 1500;
  assert.equal(clock.time(), 15_000);
  wall += 1000;
  assert.equal(clock.time(), 15_000); // 25 s wraps to 15 s inside [10 s, 20 s]
  clock.seek(-5);
  assert.equal(clock.t, 0);
  clock.stepSpeed(1);
  assert.equal(clock.speed, 30);
});

test("times read as local with UTC beside, durations as people say them", () => {
  const ts = Date.UTC(2026, 2, 14, 4, 3, 7);
  assert.equal(dualTimeText(ts, "Asia/Shanghai"), "12:03:07 local · 04:03:07 UTC");
  assert.equal(dualTimeText(ts, "UTC"), "04:03:07 UTC");
  assert.equal(durationText(245_000), "4 min 05 s");
  assert.equal(durationText(3_720_000), "1 h 02 min");
  assert.equal(durationText(-12_000), "−12 s");
});

import { MapView } from "../../static/js/playback/mapview.js";

test("the map view projects both ways, pans, zooms around a point and fits a box", () => {
  const view = new MapView({ width: 800, height: 600, lat: 31.2, lon: 121.4, zoom: 13 });
  const centre = view.project(31.2, 121.4);
  assert.deepEqual([Math.round(centre.x), Math.round(centre.y)], [400, 300]);
  const p = view.project(31.25, 121.45);
  const back = view.unproject(p.x, p.y);
  assert.ok(Math.abs(back.lat - 31.25) < 1e-9 && Math.abs(back.lon - 121.45) < 1e-9);
  assert.ok(p.x > 400 && p.y < 300, "north-east is up and to the right");
  const under = view.unproject(100, 100);
  view.zoomAround(1.5, 100, 100);
  const still = view.project(under.lat, under.lon);
  assert.ok(Math.abs(still.x - 100) < 1e-6 && Math.abs(still.y - 100) < 1e-6);
  view.pan(50, 0);
  assert.ok(Math.abs(view.project(under.lat, under.lon).x - 150) < 1e-6);
  view.fit({ lat_min: 31.1, lon_min: 121.3, lat_max: 31.3, lon_max: 121.5 });
  for (const [lat, lon] of [[31.1, 121.3], [31.3, 121.5]]) {
    const q = view.project(lat, lon);
    assert.ok(q.x >= 0 && q.x <= 800 && q.y >= 0 && q.y <= 600);
  }
  const tiles = view.tiles();
  assert.ok(tiles.length > 0 && tiles.every((t) => t.z === Math.round(view.zoom)));
});
