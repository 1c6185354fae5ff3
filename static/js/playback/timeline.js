// The timeline (plotly): lanes for the job's lifecycle, its dispatch rounds, and each entity's speed and
// state, in the city's local time; the promised time marked; a playhead kept in step with the map; click or
// drag anywhere on the lanes to seek, shift-drag to set a loop.

import { speeds } from "./tracks.js";

const LIFECYCLE_COLOURS = {
  waiting: "#f59e0b",
  to_pickup: "#6366f1",
  at_pickup: "#d97706",
  to_dropoff: "#0d9488",
};
const STATE_COLOURS = { online: "#e0e7ff", idle: "#e2e8f0", busy: "#c7d2fe", offline: "#f1f5f9" };
const DECISION_COLOURS = { assigned: "#4f46e5", postponed: "#f59e0b", none: "#94a3b8" };

/** The UTC offset (ms) of `timeZone` at `ts`. */
export function zoneOffsetMs(ts, timeZone) {
  if (!timeZone || timeZone === "UTC") return 0;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ts));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(ts / 1000) * 1000;
}

export class Timeline {
  constructor(element, { manifest, onSeek, onLoop }) {
    this.el = element;
    this.plot = element.querySelector("[data-timeline-plot]");
    this.head = element.querySelector("[data-timeline-head]");
    this.loopBand = element.querySelector("[data-timeline-loop]");
    this.manifest = manifest;
    this.onSeek = onSeek;
    this.onLoop = onLoop;
    this.offset = zoneOffsetMs(manifest.range.start, manifest.city?.timezone);
    this.speedLanes = new Set();
  }

  /** An epoch-ms time as the axis value (local wall-clock time as a naive date string). */
  x(ts) {
    return new Date(ts + this.offset).toISOString().replace("T", " ").replace("Z", "");
  }

  lanes() {
    const m = this.manifest;
    const lanes = [];
    if (m.job) lanes.push("Order");
    else if (m.events?.some((e) => e.job)) lanes.push("Orders");
    if (m.rounds?.length) lanes.push("Rounds");
    for (const entity of m.entities.filter((e) => e.role !== "excluded").slice(0, 6)) {
      lanes.push(entity.id);
    }
    return lanes;
  }

  async init() {
    const m = this.manifest;
    const lanes = this.lanes();
    this.laneNames = lanes;
    const traces = [];
    const shapes = [];
    const y = (lane) => lanes.length - 1 - lanes.indexOf(lane);
    if (m.job) {
      for (const [phase, from, to] of jobPhases(m.job)) {
        if (from === null || to === null) continue;
        shapes.push(bar(this.x(from), this.x(to), y("Order"), LIFECYCLE_COLOURS[phase]));
      }
      const events = m.events.filter((e) => e.type !== "dispatch_round");
      traces.push({
        type: "scatter",
        mode: "markers",
        x: events.map((e) => this.x(e.ts)),
        y: events.map(() => y("Order")),
        marker: { size: 9, symbol: "diamond", color: "#0f172a", line: { color: "#fff", width: 1 } },
        text: events.map((e) => e.label || e.type),
        hovertemplate: "%{text}<br>%{x}<extra></extra>",
        name: "events",
      });
      if (m.job.promised_ts) {
        const px = this.x(m.job.promised_ts);
        shapes.push({
          type: "line",
          x0: px,
          x1: px,
          yref: "paper",
          y0: 0,
          y1: 1,
          line: { color: "#b91c1c", width: 1.5, dash: "dash" },
        });
      }
    }
    if (!m.job && lanes.includes("Orders")) {
      const events = m.events.filter((e) => e.job);
      traces.push({
        type: "scatter",
        mode: "markers",
        x: events.map((e) => this.x(e.ts)),
        y: events.map(() => y("Orders")),
        marker: { size: 8, symbol: "diamond", color: "#0f172a", line: { color: "#fff", width: 1 } },
        text: events.map((e) => `${e.job} · ${e.label || e.type}`),
        hovertemplate: "%{text}<br>%{x}<extra></extra>",
        name: "orders",
      });
    }
    if (m.rounds?.length) {
      traces.push({
        type: "scatter",
        mode: "markers",
        x: m.rounds.map((r) => this.x(r.ts)),
        y: m.rounds.map(() => y("Rounds")),
        marker: { size: 11, symbol: "circle", color: m.rounds.map((r) => DECISION_COLOURS[r.decision] || "#94a3b8") },
        text: m.rounds.map((r) => `${r.round} · ${r.decision}${r.assigned_to ? ` → ${r.assigned_to}` : ""}`),
        hovertemplate: "%{text}<br>%{x}<extra></extra>",
        name: "rounds",
      });
    }
    for (const state of m.states || []) {
      const entity = m.entities[state.entity];
      if (!entity || !lanes.includes(entity.id)) continue;
      const next = (m.states || []).find((s) => s.entity === state.entity && s.ts > state.ts);
      shapes.push(bar(this.x(state.ts), this.x(next ? next.ts : m.range.end), y(entity.id), STATE_COLOURS[state.state] || "#f1f5f9", 0.36));
    }
    const layout = {
      margin: { l: 118, r: 16, t: 6, b: 28 },
      height: this.plot.clientHeight || 190,
      showlegend: false,
      hovermode: "closest",
      dragmode: false,
      xaxis: {
        type: "date",
        range: [this.x(m.range.start), this.x(m.range.end)],
        showgrid: true,
        gridcolor: "#eef2f7",
        tickformat: "%H:%M",
        fixedrange: true,
      },
      yaxis: {
        tickvals: lanes.map((_, i) => i),
        ticktext: [...lanes].reverse().map(shortLane),
        range: [-0.6, lanes.length - 0.4],
        fixedrange: true,
        showgrid: false,
        zeroline: false,
      },
      shapes,
      plot_bgcolor: "#ffffff",
      paper_bgcolor: "#ffffff",
      font: { family: "system-ui, sans-serif", size: 11, color: "#334155" },
    };
    await window.Plotly.newPlot(this.plot, traces, layout, { displayModeBar: false, responsive: true });
    this.plot.on("plotly_click", (event) => {
      const point = event.points?.[0];
      if (point) this.onSeek(this.ts(point.x));
    });
    this.scrubbing();
  }

  /** The epoch ms of an axis value (a local wall-clock date string or a number). */
  ts(value) {
    const local = typeof value === "number" ? value : Date.parse(`${String(value).replace(" ", "T")}Z`);
    return local - this.offset;
  }

  /** The speed lane of an entity, once its track is loaded (drawn normalised inside its lane). */
  addSpeedLane(index, track) {
    const entity = this.manifest.entities[index];
    if (!entity || !this.laneNames.includes(entity.id) || this.speedLanes.has(index) || track.n < 2) return;
    this.speedLanes.add(index);
    const v = speeds(track);
    const step = Math.max(1, Math.floor(track.n / 1500));
    const xs = [];
    const ys = [];
    const base = this.laneNames.length - 1 - this.laneNames.indexOf(entity.id);
    let peak = 1;
    for (let i = 0; i < track.n; i++) peak = Math.max(peak, Math.min(v[i], 25));
    for (let i = 0; i < track.n; i += step) {
      // A dropout breaks the line instead of bridging it.
      if (i >= step && track.ts[i] - track.ts[i - step] > 60_000 * step) {
        xs.push(null);
        ys.push(null);
      }
      xs.push(this.x(track.ts[i]));
      ys.push(base - 0.32 + (0.64 * Math.min(v[i], 25)) / peak);
    }
    window.Plotly.addTraces(this.plot, {
      type: "scatter",
      mode: "lines",
      x: xs,
      y: ys,
      line: { color: "#4f46e5", width: 1.2 },
      hoverinfo: "skip",
      name: `${entity.id} speed`,
    });
  }

  /** Pixel x of a time inside the timeline element, or null before the plot is drawn. */
  px(ts) {
    const axis = this.plot._fullLayout?.xaxis;
    if (!axis) return null;
    return axis._offset + axis.l2p(axis.d2l(this.x(ts)));
  }

  setPlayhead(ts) {
    const x = this.px(ts);
    if (x === null) return;
    this.head.style.transform = `translateX(${x}px)`;
  }

  setLoop(range) {
    if (!range) {
      this.loopBand.hidden = true;
      return;
    }
    const a = this.px(range[0]);
    const b = this.px(range[1]);
    if (a === null || b === null) return;
    this.loopBand.hidden = false;
    this.loopBand.style.left = `${a}px`;
    this.loopBand.style.width = `${Math.max(2, b - a)}px`;
  }

  scrubbing() {
    const strip = this.el.querySelector("[data-timeline-scrub]");
    const tsAt = (event) => {
      const axis = this.plot._fullLayout.xaxis;
      const rect = this.plot.getBoundingClientRect();
      const px = event.clientX - rect.left - axis._offset;
      return this.ts(axis.p2d(Math.min(axis._length, Math.max(0, px))));
    };
    let start = null;
    strip.addEventListener("pointerdown", (event) => {
      strip.setPointerCapture(event.pointerId);
      start = { ts: tsAt(event), shift: event.shiftKey };
      if (!start.shift) this.onSeek(start.ts);
    });
    strip.addEventListener("pointermove", (event) => {
      if (!start) return;
      const ts = tsAt(event);
      if (start.shift) this.setLoop([Math.min(start.ts, ts), Math.max(start.ts, ts)]);
      else this.onSeek(ts);
    });
    strip.addEventListener("pointerup", (event) => {
      if (start?.shift) {
        const ts = tsAt(event);
        this.onLoop(Math.abs(ts - start.ts) > 1000 ? [Math.min(start.ts, ts), Math.max(start.ts, ts)] : null);
      }
      start = null;
    });
  }
}

function bar(x0, x1, lane, colour, half = 0.22) {
  return {
    type: "rect",
    x0,
    x1,
    y0: lane - half,
    y1: lane + half,
    fillcolor: colour,
    line: { width: 0 },
    layer: "below",
  };
}

function shortLane(lane) {
  return lane.length > 16 ? `${lane.slice(0, 15)}…` : lane;
}

/** The job's phases as [name, from, to]: waiting for a courier, riding to pickup, at pickup, to the door. */
export function jobPhases(job) {
  const end = job.delivered_ts ?? job.cancelled_ts;
  return [
    ["waiting", job.created_ts, job.accepted_ts ?? job.assigned_ts ?? end],
    ["to_pickup", job.accepted_ts ?? job.assigned_ts, job.arrived_pickup_ts ?? job.picked_up_ts],
    ["at_pickup", job.arrived_pickup_ts, job.picked_up_ts],
    ["to_dropoff", job.picked_up_ts, job.delivered_ts],
  ];
}
