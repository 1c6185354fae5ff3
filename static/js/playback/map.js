// The playback map, two canvases: underneath, the basemap (raster tiles from a tile server when one is
// configured), the roads the dataset knows, or, for data without a road graph, the density of its tracks;
// on top, everything that moves — markers with fading trails, the round under the playhead, pickup and
// dropoff, anomaly marks — redrawn every animation frame. No WebGL and no map library, so the first frame
// needs neither, and panning and zooming stay smooth on a software renderer.

import { MapView } from "./mapview.js";
import { E7, haversineM } from "./tracks.js";
import { FLAG_GAP, FLAG_JUMP, FLAG_STALE } from "./chunk.js";

export const ROLE_COLOURS = {
  subject: "#4f46e5",
  assigned: "#4f46e5",
  offered: "#0d9488",
  excluded: "#94a3b8",
};
const ROAD_COLOURS = {
  arterial: "#c3ccd9",
  primary: "#c3ccd9",
  bridge: "#94a3b8",
  secondary: "#d6dde8",
  local: "#e2e8f0",
  tertiary: "#e2e8f0",
};
const ROAD_WIDTHS = { arterial: 3, primary: 3, bridge: 3.5, secondary: 2 };
const TRAIL_MS = 90_000;
const TRAIL_BANDS = 6;

/**
 * A score in [lo, hi] as a shade from light (lowest) to dark (highest) teal. Strategies disagree on whether
 * a high score is good (a utility) or bad (a cost), so the scale says only "low → high"; the chosen
 * candidate is drawn apart, in the assigned colour.
 */
export function scoreColour(score, lo, hi) {
  if (score === null || score === undefined) return "#94a3b8";
  const f = hi > lo ? Math.min(1, Math.max(0, (score - lo) / (hi - lo))) : 0.5;
  const light = 72 - f * 46;
  return `hsl(178 70% ${light.toFixed(0)}%)`;
}

export class PlaybackMap {
  constructor(container, { tiles, manifest, onEntityClick }) {
    this.container = container;
    this.tileUrl = tiles || "";
    this.manifest = manifest;
    this.onEntityClick = onEntityClick;
    this.baseCanvas = container.querySelector("[data-map-base]");
    this.base = this.baseCanvas.getContext("2d");
    this.canvas = container.querySelector("[data-map-canvas]");
    this.ctx = this.canvas.getContext("2d");
    this.view = new MapView();
    this.follow = null;
    this.highlight = null;
    this.lastDraw = null;
    this.hitTargets = [];
    this.roads = null;
    this.density = null;
    this.tileImages = new Map();
    this.baseDirty = true;
  }

  init(roads) {
    this.roadsDoc = roads;
    this.roads = roads ? roadSegments(roads) : null;
    this.resize();
    this.view.fit(this.manifest.bounds || roadsBounds(roads));
    this.baseDirty = true;
    new ResizeObserver(() => {
      this.resize();
      this.changed();
    }).observe(this.container);
    this.interactions();
  }

  /** The view moved or a layer changed: redraw the basemap and the moving layer on the next frame. */
  changed() {
    this.baseDirty = true;
    if (this.lastDraw) this.draw(...this.lastDraw);
  }

  interactions() {
    const el = this.canvas;
    let drag = null;
    el.addEventListener("pointerdown", (event) => {
      el.setPointerCapture(event.pointerId);
      drag = { x: event.clientX, y: event.clientY, moved: 0 };
    });
    el.addEventListener("pointermove", (event) => {
      if (!drag) {
        this.hovered(event);
        return;
      }
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      drag.moved += Math.abs(dx) + Math.abs(dy);
      drag.x = event.clientX;
      drag.y = event.clientY;
      this.view.pan(dx, dy);
      this.changed();
    });
    el.addEventListener("pointerup", (event) => {
      if (drag && drag.moved < 5) this.clicked(event);
      drag = null;
    });
    el.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const rect = el.getBoundingClientRect();
        this.view.zoomAround(-event.deltaY * 0.0025, event.clientX - rect.left, event.clientY - rect.top);
        this.changed();
      },
      { passive: false },
    );
    el.addEventListener("dblclick", (event) => {
      const rect = el.getBoundingClientRect();
      this.view.zoomAround(1, event.clientX - rect.left, event.clientY - rect.top);
      this.changed();
    });
    for (const button of this.container.querySelectorAll("[data-zoom]")) {
      button.addEventListener("click", () => {
        const step = Number(button.dataset.zoom);
        if (step === 0) this.view.fit(this.manifest.bounds || roadsBounds(this.roadsDoc));
        else this.view.zoomAround(step, this.view.width / 2, this.view.height / 2);
        this.changed();
      });
    }
  }

  /** Draw the density of the tracks themselves, for datasets without a road graph. */
  showDensity(tracks) {
    if (this.roads) return;
    const lat = [];
    const lon = [];
    for (const track of tracks) {
      const step = Math.max(1, Math.floor(track.n / 3000));
      for (let i = 0; i < track.n; i += step) {
        lat.push(track.lat[i] * E7);
        lon.push(track.lon[i] * E7);
      }
    }
    if (lat.length <= (this.density?.lat.length || 0)) return;
    this.density = { lat, lon };
    this.changed();
  }

  resize() {
    const rect = this.container.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.width = rect.width;
    this.height = rect.height;
    this.view.width = rect.width;
    this.view.height = rect.height;
    for (const [canvas, ctx] of [
      [this.baseCanvas, this.base],
      [this.canvas, this.ctx],
    ]) {
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      canvas.style.width = `${rect.width}px`;
      canvas.style.height = `${rect.height}px`;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    }
    this.baseDirty = true;
  }

  project(lat, lon) {
    return this.view.project(lat, lon);
  }

  centreOn(lat, lon) {
    this.view.lat = lat;
    this.view.lon = lon;
    this.baseDirty = true;
  }

  drawBase() {
    const ctx = this.base;
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.fillStyle = "#f8fafc";
    ctx.fillRect(0, 0, this.width, this.height);
    if (this.tileUrl) this.drawTiles(ctx);
    if (this.roads) {
      for (const [cls, segments] of this.roads) {
        ctx.strokeStyle = ROAD_COLOURS[cls] || "#e2e8f0";
        ctx.lineWidth = (ROAD_WIDTHS[cls] || 1.2) * Math.max(0.5, Math.min(1.6, (this.view.zoom - 11) / 3));
        ctx.lineCap = "round";
        ctx.beginPath();
        for (let i = 0; i < segments.length; i += 4) {
          const p = this.view.project(segments[i], segments[i + 1]);
          const q = this.view.project(segments[i + 2], segments[i + 3]);
          ctx.moveTo(p.x, p.y);
          ctx.lineTo(q.x, q.y);
        }
        ctx.stroke();
      }
    } else if (this.density) {
      ctx.fillStyle = "rgba(100, 116, 139, 0.16)";
      const { lat, lon } = this.density;
      for (let i = 0; i < lat.length; i++) {
        const p = this.view.project(lat[i], lon[i]);
        ctx.fillRect(p.x - 2, p.y - 2, 4, 4);
      }
    }
    this.baseDirty = false;
  }

  drawTiles(ctx) {
    for (const tile of this.view.tiles()) {
      const key = `${tile.z}/${tile.x}/${tile.y}`;
      let image = this.tileImages.get(key);
      if (!image) {
        image = new Image();
        image.crossOrigin = "anonymous";
        image.onload = () => this.changed();
        image.src = this.tileUrl.replace("{z}", tile.z).replace("{x}", tile.x).replace("{y}", tile.y);
        this.tileImages.set(key, image);
      }
      if (image.complete && image.naturalWidth) ctx.drawImage(image, tile.left, tile.top, tile.size, tile.size);
    }
  }

  /** Everything that moves, at playhead `t`. `scene` holds the tracks, the entities and the round to show. */
  draw(t, scene) {
    this.lastDraw = [t, scene];
    if (this.baseDirty) this.drawBase();
    const ctx = this.ctx;
    ctx.clearRect(0, 0, this.width, this.height);
    this.hitTargets = [];
    const { tracks, entities, round, job, maxInterpolateMs } = scene;

    if (job) this.drawJob(job, t);

    const positions = new Map();
    entities.forEach((entity, index) => {
      const track = tracks[index];
      if (!track || !track.n || entity.hidden) return;
      const here = track.positionAt(t, maxInterpolateMs);
      if (!here) return;
      positions.set(index, here);
      this.drawTrail(track, t, here, ROLE_COLOURS[entity.role] || ROLE_COLOURS.offered);
    });

    if (round) this.drawRound(round, t, positions, tracks, job, maxInterpolateMs);

    entities.forEach((entity, index) => {
      const here = positions.get(index);
      if (!here || entity.hidden) return;
      this.drawMarker(entity, index, here, tracks[index]);
    });

    if (this.follow !== null && positions.has(this.follow)) {
      const here = positions.get(this.follow);
      const p = this.project(here.lat, here.lon);
      const margin = Math.min(this.width, this.height) * 0.25;
      if (p.x < margin || p.y < margin || p.x > this.width - margin || p.y > this.height - margin) {
        this.centreOn(here.lat, here.lon);
      }
    }
    return positions;
  }

  drawTrail(track, t, here, colour) {
    const ctx = this.ctx;
    const [from] = track.range(t - TRAIL_MS, t);
    const to = here.index;
    if (to < from) return;
    const points = [];
    for (let i = from; i <= to; i++) points.push([track.ts[i], track.lat[i] * E7, track.lon[i] * E7]);
    points.push([t, here.lat, here.lon]);
    const projected = points.map(([ts, lat, lon]) => [ts, this.project(lat, lon)]);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = colour;
    for (let band = 0; band < TRAIL_BANDS; band++) {
      const bandStart = t - TRAIL_MS * (1 - band / TRAIL_BANDS);
      const bandEnd = t - TRAIL_MS * (1 - (band + 1) / TRAIL_BANDS);
      ctx.globalAlpha = 0.08 + (0.6 * (band + 1)) / TRAIL_BANDS;
      ctx.lineWidth = 1.5 + (2 * (band + 1)) / TRAIL_BANDS;
      ctx.beginPath();
      let open = false;
      for (let k = 1; k < projected.length; k++) {
        const [ts, p] = projected[k];
        if (ts < bandStart || projected[k - 1][0] > bandEnd) continue;
        const q = projected[k - 1][1];
        if (!open) {
          ctx.moveTo(q.x, q.y);
          open = true;
        }
        ctx.lineTo(p.x, p.y);
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  drawMarker(entity, index, here, track) {
    const ctx = this.ctx;
    const p = this.project(here.lat, here.lon);
    const colour = ROLE_COLOURS[entity.role] || ROLE_COLOURS.offered;
    const big = entity.role === "assigned" || entity.role === "subject" || index === this.highlight;
    const r = big ? 7 : 5;
    const flags = here.index >= 0 && track ? track.flags[here.index] : 0;
    ctx.beginPath();
    ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
    if (here.kind === "fix") {
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#fff";
      ctx.stroke();
    } else if (here.kind === "interpolated") {
      // Between two fixes: a ring, so nobody mistakes an interpolated position for a logged one.
      ctx.fillStyle = "#ffffff";
      ctx.fill();
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = colour;
      ctx.stroke();
    } else {
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = 2;
      ctx.strokeStyle = colour;
      ctx.fillStyle = "rgba(255,255,255,0.7)";
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (flags & (FLAG_JUMP | FLAG_STALE | FLAG_GAP)) {
      ctx.fillStyle = "#b91c1c";
      ctx.font = "bold 11px system-ui, sans-serif";
      ctx.fillText("!", p.x + r + 2, p.y - r);
    }
    if (index === this.highlight || entity.role === "assigned" || entity.role === "subject") {
      ctx.font = "600 11px system-ui, sans-serif";
      const label = entity.id.split(":").slice(1).join(":");
      const w = ctx.measureText(label).width;
      ctx.fillStyle = "rgba(255,255,255,0.92)";
      ctx.fillRect(p.x + r + 3, p.y - 7, w + 6, 15);
      ctx.fillStyle = "#0f172a";
      ctx.fillText(label, p.x + r + 6, p.y + 4);
    }
    this.hitTargets.push({ x: p.x, y: p.y, r: r + 4, index, entity, here });
  }

  drawJob(job, t) {
    const ctx = this.ctx;
    const marker = (point, text, colour, done) => {
      if (!point) return;
      const p = this.project(point.lat, point.lon);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.arc(p.x, p.y - 16, 9, Math.PI * 0.8, Math.PI * 2.2);
      ctx.closePath();
      ctx.fillStyle = done ? "#94a3b8" : colour;
      ctx.fill();
      ctx.fillStyle = "#fff";
      ctx.font = "bold 11px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText(text, p.x, p.y - 12);
      ctx.textAlign = "start";
    };
    const pickedUp = job.picked_up_ts !== null && t >= job.picked_up_ts;
    const delivered = job.delivered_ts !== null && t >= job.delivered_ts;
    marker(job.pickup, "P", "#d97706", pickedUp);
    marker(job.dropoff, "D", "#4f46e5", delivered);
  }

  drawRound(round, t, positions, tracks, job, maxInterpolateMs) {
    if (!job || !job.pickup) return;
    const ctx = this.ctx;
    const origin = this.project(job.pickup.lat, job.pickup.lon);
    const scores = round.candidates.map((c) => c.score).filter((s) => s !== null && s !== undefined);
    const lo = Math.min(...scores);
    const hi = Math.max(...scores);
    const fade = Math.max(0.25, 1 - (t - round.ts) / 120_000);
    for (const candidate of [...round.candidates].sort((a, b) => Number(a.chosen) - Number(b.chosen))) {
      let at = candidate.pos;
      if (!at && candidate.index !== null && tracks[candidate.index]) {
        at = tracks[candidate.index].positionAt(round.ts, maxInterpolateMs);
      }
      if (!at) continue;
      const p = this.project(at.lat, at.lon);
      ctx.globalAlpha = fade * (candidate.chosen ? 1 : 0.8);
      ctx.strokeStyle = candidate.chosen ? ROLE_COLOURS.assigned : scoreColour(candidate.score, lo, hi);
      ctx.lineWidth = candidate.chosen ? 4 : 2;
      ctx.setLineDash(candidate.chosen ? [] : [6, 4]);
      ctx.beginPath();
      ctx.moveTo(origin.x, origin.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.arc(p.x, p.y, candidate.chosen ? 4 : 3, 0, Math.PI * 2);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  hit(event) {
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    return this.hitTargets.find((target) => (target.x - x) ** 2 + (target.y - y) ** 2 <= target.r ** 2);
  }

  clicked(event) {
    const target = this.hit(event);
    if (target && this.onEntityClick) this.onEntityClick(target.index);
  }

  hovered(event) {
    const target = this.hit(event);
    this.canvas.style.cursor = target ? "pointer" : "grab";
    this.canvas.title = target
      ? `${target.entity.id} (${target.entity.role}) — ${target.here.kind === "fix" ? "at a logged fix" : target.here.kind === "interpolated" ? "between fixes (interpolated)" : "no fix: last position held"}`
      : "";
  }
}

/** The road graph as flat [lat1, lon1, lat2, lon2, …] segments per road class. */
export function roadSegments(roads) {
  const byClass = new Map();
  for (const [a, b, cls] of roads.edges) {
    const key = roads.classes ? (roads.classes[cls] ?? cls) : cls;
    const p = roads.nodes[a];
    const q = roads.nodes[b];
    if (!p || !q) continue;
    if (!byClass.has(key)) byClass.set(key, []);
    byClass.get(key).push(p[0], p[1], q[0], q[1]);
  }
  // Minor roads first, so the arterials and bridges are drawn over them.
  const order = (cls) => (ROAD_WIDTHS[cls] || 1);
  return [...byClass.entries()].sort((x, y) => order(x[0]) - order(y[0]));
}

function roadsBounds(roads) {
  if (!roads || !roads.nodes?.length) return null;
  let latMin = Infinity;
  let latMax = -Infinity;
  let lonMin = Infinity;
  let lonMax = -Infinity;
  for (const [lat, lon] of roads.nodes) {
    latMin = Math.min(latMin, lat);
    latMax = Math.max(latMax, lat);
    lonMin = Math.min(lonMin, lon);
    lonMax = Math.max(lonMax, lon);
  }
  return { lat_min: latMin, lat_max: latMax, lon_min: lonMin, lon_max: lonMax };
}

export { haversineM };
