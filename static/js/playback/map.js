// The playback map: a plotly `scattermap` underneath (the basemap style from settings, the roads the
// dataset knows, or the density of its tracks), and a canvas above it for everything that moves — markers
// with fading trails, the round under the playhead, pickup and dropoff, anomalies — projected with the
// map's own Web Mercator view and redrawn every animation frame.

import { E7, haversineM } from "./tracks.js";
import { FLAG_GAP, FLAG_JUMP, FLAG_STALE } from "./chunk.js";

export const ROLE_COLOURS = {
  subject: "#4f46e5",
  assigned: "#4f46e5",
  offered: "#0d9488",
  excluded: "#94a3b8",
};
const ROAD_COLOURS = { primary: "#cbd5e1", secondary: "#d6dde8", tertiary: "#e2e8f0" };
const TRAIL_MS = 90_000;
const TRAIL_BANDS = 6;

/** A score in [lo, hi] as a colour from red (worst) through amber to green (best). */
export function scoreColour(score, lo, hi) {
  if (score === null || score === undefined || !(hi > lo)) return "#64748b";
  const f = Math.min(1, Math.max(0, (score - lo) / (hi - lo)));
  const hue = 8 + f * 122;
  return `hsl(${hue.toFixed(0)} 70% 42%)`;
}

function zoomFor(bounds, width, height) {
  if (!bounds) return 12;
  const latSpan = Math.max(1e-4, bounds.lat_max - bounds.lat_min);
  const lonSpan = Math.max(1e-4, bounds.lon_max - bounds.lon_min);
  const worldPx = 512;
  const zx = Math.log2((width * 0.82 * 360) / (worldPx * lonSpan));
  const latRad = (((bounds.lat_max + bounds.lat_min) / 2) * Math.PI) / 180;
  const zy = Math.log2((height * 0.82 * 360 * Math.cos(latRad)) / (worldPx * latSpan));
  return Math.max(2, Math.min(18, Math.min(zx, zy)));
}

export class PlaybackMap {
  constructor(container, { style, manifest, onEntityClick }) {
    this.container = container;
    this.style = style || "white-bg";
    this.manifest = manifest;
    this.onEntityClick = onEntityClick;
    this.plot = container.querySelector("[data-map-plot]");
    this.canvas = container.querySelector("[data-map-canvas]");
    this.ctx = this.canvas.getContext("2d");
    this.follow = null;
    this.highlight = null;
    this.lastDraw = null;
    this.hitTargets = [];
  }

  async init(roads) {
    const rect = this.plot.getBoundingClientRect();
    const b = this.manifest.bounds;
    const center = b ? { lat: (b.lat_min + b.lat_max) / 2, lon: (b.lon_min + b.lon_max) / 2 } : { lat: 0, lon: 0 };
    const traces = [];
    if (roads) traces.push(...roadTraces(roads));
    this.roadsShown = Boolean(roads);
    const layout = {
      map: { style: this.style, center, zoom: zoomFor(b, rect.width, rect.height) },
      margin: { l: 0, r: 0, t: 0, b: 0 },
      showlegend: false,
      dragmode: "pan",
      paper_bgcolor: "#f8fafc",
    };
    if (!traces.length) traces.push({ type: "scattermap", lat: [], lon: [], mode: "markers", hoverinfo: "skip" });
    await window.Plotly.newPlot(this.plot, traces, layout, {
      displaylogo: false,
      scrollZoom: true,
      responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"],
    });
    this.map = this.plot._fullLayout?.map?._subplot?.map || null;
    const redraw = () => this.lastDraw && this.draw(...this.lastDraw);
    if (this.map) {
      this.map.on("move", redraw);
      this.map.on("resize", () => {
        this.resize();
        redraw();
      });
    }
    this.plot.on?.("plotly_relayout", redraw);
    this.resize();
    new ResizeObserver(() => {
      this.resize();
      redraw();
    }).observe(this.container);
    // The canvas lets pointer events through to the map (pan, zoom); clicks that did not drag pick an entity.
    let down = null;
    this.container.addEventListener("pointerdown", (event) => {
      down = [event.clientX, event.clientY];
    });
    this.container.addEventListener("click", (event) => {
      if (down && Math.hypot(event.clientX - down[0], event.clientY - down[1]) > 4) return;
      this.clicked(event);
    });
    this.container.addEventListener("mousemove", (event) => this.hovered(event));
  }

  /** Draw the density of the tracks themselves, for datasets without a road graph. */
  showDensity(tracks) {
    if (this.roadsShown || this.densityShown) return;
    const lat = [];
    const lon = [];
    for (const track of tracks) {
      const step = Math.max(1, Math.floor(track.n / 2000));
      for (let i = 0; i < track.n; i += step) {
        lat.push(track.lat[i] * E7);
        lon.push(track.lon[i] * E7);
      }
    }
    if (!lat.length) return;
    this.densityShown = true;
    window.Plotly.addTraces(this.plot, {
      type: "densitymap",
      lat,
      lon,
      radius: 6,
      opacity: 0.45,
      showscale: false,
      hoverinfo: "skip",
      colorscale: [
        [0, "rgba(148,163,184,0)"],
        [1, "rgba(100,116,139,0.9)"],
      ],
    });
  }

  resize() {
    const rect = this.plot.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.width = rect.width;
    this.height = rect.height;
    this.canvas.width = Math.round(rect.width * ratio);
    this.canvas.height = Math.round(rect.height * ratio);
    this.canvas.style.width = `${rect.width}px`;
    this.canvas.style.height = `${rect.height}px`;
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  project(lat, lon) {
    if (this.map) return this.map.project([lon, lat]);
    // Web Mercator from the layout's centre and zoom (512-pixel world at zoom 0, as MapLibre).
    const view = this.plot._fullLayout.map;
    const scale = 512 * 2 ** view.zoom;
    const mx = (l) => ((l + 180) / 360) * scale;
    const my = (p) => {
      const s = Math.sin((p * Math.PI) / 180);
      return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale;
    };
    return { x: this.width / 2 + mx(lon) - mx(view.center.lon), y: this.height / 2 + my(lat) - my(view.center.lat) };
  }

  centreOn(lat, lon) {
    if (this.map) this.map.jumpTo({ center: [lon, lat] });
  }

  /** Everything that moves, at playhead `t`. `scene` holds the tracks, the entities and the round to show. */
  draw(t, scene) {
    this.lastDraw = [t, scene];
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
      ctx.globalAlpha = fade * (candidate.chosen ? 1 : 0.75);
      ctx.strokeStyle = scoreColour(candidate.score, lo, hi);
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
    this.plot.style.cursor = target ? "pointer" : "";
    this.container.title = target
      ? `${target.entity.id} (${target.entity.role}) — ${target.here.kind === "fix" ? "at a logged fix" : target.here.kind === "interpolated" ? "between fixes (interpolated)" : "no fix: last position held"}`
      : "";
  }
}

function roadTraces(roads) {
  const byClass = new Map();
  for (const [a, b, cls] of roads.edges) {
    const key = roads.classes ? roads.classes[cls] ?? cls : cls;
    if (!byClass.has(key)) byClass.set(key, { lat: [], lon: [] });
    const line = byClass.get(key);
    const p = roads.nodes[a];
    const q = roads.nodes[b];
    if (!p || !q) continue;
    line.lat.push(p[0], q[0], null);
    line.lon.push(p[1], q[1], null);
  }
  return [...byClass.entries()].map(([cls, line]) => ({
    type: "scattermap",
    mode: "lines",
    lat: line.lat,
    lon: line.lon,
    hoverinfo: "skip",
    line: { color: ROAD_COLOURS[cls] || "#e2e8f0", width: cls === "primary" ? 3 : cls === "secondary" ? 2 : 1.2 },
    name: String(cls),
  }));
}

export { haversineM };
