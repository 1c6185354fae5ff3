// The playback page: opens the scope over the socket, fetches positions ahead of the playhead under the
// server's credit limit, and keeps the map, the timeline, the inspector and the URL at the same moment.

import { Clock, SPEEDS } from "./clock.js";
import { Inspector, incidentSummary } from "./inspector.js";
import { PlaybackMap } from "./map.js";
import { PlaybackSocket } from "./socket.js";
import { Timeline } from "./timeline.js";
import { dualTimeText, speedText } from "./timefmt.js";
import { Coverage, Track } from "./tracks.js";

const config = JSON.parse(document.getElementById("playback-config").textContent);
const page = document.querySelector("[data-playback]");
const state = { manifest: null, tracks: [], coverage: new Coverage(), firstFrameAt: null, chunks: 0, bytes: 0, marks: {} };
/** Milliseconds since navigation at each step of opening the page (read by benchmarks/playback_page.py). */
const mark = (name) => {
  state.marks[name] = Math.round(performance.now());
};
mark("module");
window.dispatchscope = { playback: state };

function status(text, tone = "info") {
  const box = page.querySelector("[data-status]");
  box.hidden = !text;
  box.className = `playback-status playback-status--${tone}`;
  box.textContent = text || "";
}

function fail(title, detail, suggestions = []) {
  const box = page.querySelector("[data-failure]");
  box.hidden = false;
  box.querySelector("[data-failure-title]").textContent = title;
  box.querySelector("[data-failure-detail]").textContent = detail || "";
  const list = box.querySelector("[data-failure-suggestions]");
  list.innerHTML = "";
  for (const s of suggestions) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = s.url || suggestionUrl(s);
    a.textContent = s.label || s.id || s;
    a.className = "mono";
    li.append(a);
    list.append(li);
  }
  page.querySelector("[data-workspace]").hidden = true;
  status("");
}

/** The page of a `not_found` suggestion ({scope, id, label}): its replay, or a search for its id. */
function suggestionUrl(suggestion) {
  const scope = suggestion.scope;
  if (!scope) return `${config.searchUrl}?q=${encodeURIComponent(suggestion.id || suggestion)}`;
  const url = new URL(config.entityUrl, window.location.origin);
  url.searchParams.set("dataset", scope.dataset);
  if (scope.kind === "job") url.searchParams.set("job", scope.job);
  else url.searchParams.set("entity", scope.entity);
  return url.toString();
}

function piecesFromSnapshot(snapshot) {
  for (const p of snapshot.positions || []) {
    const track = state.tracks[p.entity];
    if (!track) continue;
    track.add({
      n: 1,
      ts: Float64Array.of(p.ts),
      lat: Int32Array.of(Math.round(p.lat * 1e7)),
      lon: Int32Array.of(Math.round(p.lon * 1e7)),
      flags: Uint8Array.of(0),
    });
  }
}

function chunkArrived(chunk) {
  state.chunks += 1;
  state.bytes += chunk.bytes;
  for (const [index, piece] of chunk.entities) {
    const track = state.tracks[index];
    if (track) track.add(piece);
  }
}

class Prefetcher {
  constructor(socket, manifest, clock) {
    this.socket = socket;
    this.window = Math.min(manifest.chunk_ms || 300_000, manifest.limits?.fetch_window_ms || 3_600_000);
    this.range = manifest.range;
    this.clock = clock;
    this.requested = new Coverage();
    this.onChunk = null;
  }

  /** Ask for the windows around `t` that are neither held nor asked for: ahead first, then behind. */
  around(t, aheadMs) {
    const from = Math.max(this.range.start, t - this.window);
    const to = Math.min(this.range.end, t + Math.max(aheadMs, this.window));
    for (const [a, b] of [
      ...this.requested.missing(Math.max(this.range.start, t), to),
      ...this.requested.missing(from, t),
    ]) {
      for (let s = a; s <= b; s += this.window) {
        const e = Math.min(b, s + this.window - 1);
        this.requested.add(s, e);
        this.socket.fetch(s, e).then(
          (chunk) => {
            state.coverage.add(s, e);
            chunkArrived(chunk);
            if (this.onChunk) this.onChunk();
          },
          (error) => {
            if (error.code !== "replaced") {
              const zone = state.manifest.city?.timezone || "UTC";
              status(`Positions from ${dualTimeText(s, zone)} to ${dualTimeText(e, zone)} could not be loaded: ${error.message}`, "error");
            }
          },
        );
      }
    }
  }

  all() {
    this.around(this.clock.time(), this.range.end - this.range.start);
  }
}

function currentUrl(clock, follow) {
  const url = new URL(window.location.href);
  url.searchParams.set("t", String(Math.round(clock.time())));
  url.searchParams.set("speed", String(clock.speed));
  if (follow !== null) url.searchParams.set("follow", state.manifest.entities[follow].id);
  else url.searchParams.delete("follow");
  if (clock.loop) url.searchParams.set("loop", `${clock.loop[0]}-${clock.loop[1]}`);
  else url.searchParams.delete("loop");
  return url;
}

async function main() {
  status("Connecting…");
  const socket = new PlaybackSocket(config.wsUrl);
  socket.onClose = (error) => {
    if (error.code === "forbidden") fail("Playback is not allowed for this account", error.message);
    else status(`${error.message} Reload the page to reconnect.`, "error");
  };
  try {
    await socket.connect();
    mark("connected");
  } catch (error) {
    fail("The playback connection could not be opened", error.message);
    return;
  }
  status("Loading the scope…");
  let manifest;
  try {
    manifest = await socket.open(config.scope);
    mark("manifest");
  } catch (error) {
    const frame = error.frame || {};
    const title = frame.code === "not_found" ? "Nothing to replay for this id" : "This replay could not be opened";
    fail(title, error.message, frame.suggestions || []);
    return;
  }
  state.manifest = manifest;
  state.tracks = manifest.entities.map(() => new Track());
  const zone = manifest.city?.timezone || "UTC";
  page.querySelector("[data-zone]").textContent =
    zone === "UTC" ? "UTC (the city's time zone is not known)" : `city time (${offsetLabel(zone, manifest.range.start)}) · UTC beside`;

  const clock = new Clock({ start: manifest.range.start, end: manifest.range.end });
  const initialT = Number.isFinite(config.t) ? config.t : manifest.job?.created_ts ?? manifest.range.start;
  clock.seek(initialT);
  if (config.speed && SPEEDS.includes(config.speed)) clock.speed = config.speed;
  else clock.speed = 10;
  if (config.loop) clock.setLoop(config.loop);

  const followSelect = page.querySelector("[data-follow]");
  let follow = null;
  manifest.entities.forEach((entity, index) => {
    const option = document.createElement("option");
    option.value = String(index);
    option.textContent = `${entity.id} (${entity.role})`;
    followSelect.append(option);
    if (config.follow === entity.id) follow = index;
  });

  const map = new PlaybackMap(page.querySelector("[data-map]"), {
    tiles: config.basemapTiles,
    manifest,
    onEntityClick: (index) => {
      const entity = manifest.entities[index];
      const url = new URL(config.entityUrl, window.location.origin);
      url.searchParams.set("dataset", manifest.scope.dataset);
      url.searchParams.set("entity", entity.id);
      url.searchParams.set("start", String(manifest.range.start));
      url.searchParams.set("end", String(manifest.range.end));
      url.searchParams.set("t", String(Math.round(clock.time())));
      url.searchParams.set("speed", String(clock.speed));
      window.location.assign(url);
    },
  });
  // The first frame needs the snapshot and the map: ask for both at once, and the first positions too.
  const snapshotAsked = socket.seek(clock.time());
  const roadsAsked = roadsFetch(manifest.roads);
  const roads = await roadsAsked;
  mark("roads");
  const mapReady = map.init(roads);
  map.follow = follow;
  followSelect.value = follow === null ? "" : String(follow);

  const timeline = new Timeline(page.querySelector("[data-timeline]"), {
    manifest,
    onSeek: (ts) => seek(ts),
    onLoop: (range) => {
      clock.setLoop(range);
      syncControls();
    },
  });
  const inspector = new Inspector(page.querySelector("[data-inspector]"), {
    manifest,
    onSeek: (ts) => seek(ts),
    onHighlight: (index) => {
      map.highlight = index;
      dirty = true;
    },
  });
  inspector.renderLifecycle();
  const prefetch = new Prefetcher(socket, manifest, clock);
  state.clock = clock;
  state.seek = (ts) => seek(ts);
  let dirty = true;
  prefetch.onChunk = () => {
    dirty = true;
    if (timeline.plot._fullLayout) state.tracks.forEach((track, index) => timeline.addSpeedLane(index, track));
    if (!roads) map.showDensity(state.tracks);
  };

  async function seek(ts) {
    clock.seek(ts);
    dirty = true;
    prefetch.around(clock.time(), 120_000 * clock.speed);
    try {
      const { snapshot } = await socket.seek(clock.time());
      piecesFromSnapshot(snapshot);
      dirty = true;
    } catch (error) {
      if (error.code !== "replaced") status(`Seek failed: ${error.message}`, "error");
    }
    scheduleUrl();
  }

  // The controls.
  const playButton = page.querySelector("[data-play]");
  const speedSelect = page.querySelector("[data-speed]");
  const loopButton = page.querySelector("[data-loop]");
  const timeText = page.querySelector("[data-time]");
  for (const speed of SPEEDS) {
    const option = document.createElement("option");
    option.value = String(speed);
    option.textContent = speedText(speed);
    speedSelect.append(option);
  }
  const moments = [
    ...manifest.events.filter((e) => e.type !== "dispatch_round").map((e) => e.ts),
    ...manifest.rounds.map((r) => r.ts),
    ...(manifest.anomalies || []).map((a) => a.ts),
  ].sort((a, b) => a - b);
  const step = (direction) => {
    const t = clock.time();
    const next = direction > 0 ? moments.find((m) => m > t + 500) : [...moments].reverse().find((m) => m < t - 500);
    if (next !== undefined) seek(next);
  };
  function syncControls() {
    playButton.setAttribute("aria-pressed", String(clock.playing));
    playButton.querySelector("[data-play-label]").textContent = clock.playing ? "Pause" : "Play";
    playButton.dataset.state = clock.playing ? "playing" : "paused";
    speedSelect.value = String(clock.speed);
    loopButton.setAttribute("aria-pressed", String(Boolean(clock.loop)));
    timeline.setLoop(clock.loop);
  }
  clock.onChange((_, reason) => {
    syncControls();
    if (reason !== "seek") scheduleUrl();
  });
  playButton.addEventListener("click", () => clock.toggle());
  // A choice made, focus leaves the select so the keyboard shortcuts work again at once.
  speedSelect.addEventListener("change", () => {
    clock.setSpeed(Number(speedSelect.value));
    speedSelect.blur();
  });
  page.querySelector("[data-prev]").addEventListener("click", () => step(-1));
  page.querySelector("[data-next]").addEventListener("click", () => step(1));
  loopButton.addEventListener("click", () => {
    if (clock.loop) clock.setLoop(null);
    else {
      const t = clock.time();
      clock.setLoop([Math.max(manifest.range.start, t - 60_000), Math.min(manifest.range.end, t + 240_000)]);
    }
  });
  followSelect.addEventListener("change", () => {
    followSelect.blur();
    follow = followSelect.value === "" ? null : Number(followSelect.value);
    map.follow = follow;
    dirty = true;
    scheduleUrl();
  });
  let loopStart = null;
  const help = page.querySelector("[data-help]");
  page.querySelector("[data-help-open]").addEventListener("click", () => help.showModal());
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea") || event.metaKey || event.ctrlKey || event.altKey) return;
    const key = event.key;
    if (key === " ") clock.toggle();
    else if (key === "ArrowRight") seek(clock.time() + (event.shiftKey ? 60_000 : 5_000));
    else if (key === "ArrowLeft") seek(clock.time() - (event.shiftKey ? 60_000 : 5_000));
    else if (key === "ArrowUp") clock.stepSpeed(1);
    else if (key === "ArrowDown") clock.stepSpeed(-1);
    else if (key === "." || key === "n") step(1);
    else if (key === "," || key === "p") step(-1);
    else if (key === "[") loopStart = clock.time();
    else if (key === "]") clock.setLoop(loopStart !== null ? [Math.min(loopStart, clock.time()), Math.max(loopStart, clock.time())] : null);
    else if (key === "\\") clock.setLoop(null);
    else if (key === "?") help.open ? help.close() : help.showModal();
    else return;
    event.preventDefault();
  });

  // Deep link: the URL always says where the playhead is.
  let urlTimer = null;
  function scheduleUrl() {
    clearTimeout(urlTimer);
    urlTimer = setTimeout(() => {
      window.history.replaceState(null, "", currentUrl(clock, follow));
    }, 250);
  }
  page.querySelector("[data-copy-link]").addEventListener("click", async (event) => {
    const url = currentUrl(clock, follow).toString();
    window.history.replaceState(null, "", url);
    await copyText(url, event.currentTarget);
  });
  const summaryBox = page.querySelector("[data-summary]");
  page.querySelector("[data-summary-open]").addEventListener("click", () => {
    summaryBox.querySelector("textarea").value = incidentSummary(manifest, currentUrl(clock, follow).toString());
    summaryBox.showModal();
  });
  summaryBox.querySelector("[data-summary-copy]").addEventListener("click", async (event) => {
    await copyText(summaryBox.querySelector("textarea").value, event.currentTarget);
  });

  prefetch.around(clock.time(), 600_000);
  await mapReady;
  mark("map");
  syncControls();
  if (manifest.empty) {
    status("No position was logged in this window: the map is empty. The events and rounds are still listed.", "warn");
  } else {
    status("");
  }

  // The first frame: the snapshot at the playhead; everything else streams in behind it.
  try {
    const { snapshot } = await snapshotAsked;
    mark("snapshot");
    piecesFromSnapshot(snapshot);
  } catch (error) {
    status(`The moment could not be loaded: ${error.message}`, "error");
  }

  let lastT = null;
  let roundShown = null;
  function frame() {
    const t = clock.time();
    if (t !== lastT || dirty || clock.playing) {
      roundShown = inspector.update(t);
      const positions = map.draw(t, {
        tracks: state.tracks,
        entities: manifest.entities,
        round: roundShown && t - roundShown.ts < 180_000 ? roundShown : null,
        job: manifest.job,
        maxInterpolateMs: Math.max(10_000, 10 * (manifest.median_interval_ms || 1000)),
      });
      if (state.firstFrameAt === null && positions.size) {
        state.firstFrameAt = performance.now();
        page.dataset.firstFrame = "drawn";
      }
      timeline.setPlayhead(t);
      timeText.textContent = dualTimeText(t, zone);
      lastT = t;
      dirty = false;
      if (clock.playing) prefetch.around(t, 60_000 * clock.speed);
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  // The timeline once the map moves: give the first frame its turn before plotly takes the main thread.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  try {
    await plotlyLoaded();
    mark("plotly");
    await timeline.init();
  } catch (error) {
    status(`The timeline could not be drawn: ${error.message}`, "error");
  }
  dirty = true;
  state.tracks.forEach((track, index) => timeline.addSpeedLane(index, track));
  // Everything else in the background, so a seek anywhere in the flow is instant.
  setTimeout(() => prefetch.all(), 300);
  page.dataset.ready = "true";
}

/**
 * plotly.js, loaded once the map's first frame is drawn: its 4.8 MB take the main thread for a second or
 * two, and only the timeline needs it.
 */
function plotlyLoaded() {
  if (window.Plotly) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = config.plotlyUrl;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error("plotly.js could not be loaded"));
    document.head.append(script);
  });
}

/** The dataset's road graph, or null when it has none or it cannot be read. */
async function roadsFetch(url) {
  if (!url) return null;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/** "UTC+8" for a zone at a moment (IANA `Etc/GMT-8` names are sign-inverted, so people read this). */
function offsetLabel(zone, ts) {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" })
    .formatToParts(new Date(ts))
    .find((p) => p.type === "timeZoneName");
  return part ? part.value.replace("GMT", "UTC") : zone;
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    flash(button, "Copied");
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    flash(button, "Copied");
  }
}

function flash(button, text) {
  const label = button.querySelector("[data-label]") || button;
  const before = label.textContent;
  label.textContent = text;
  setTimeout(() => {
    label.textContent = before;
  }, 1400);
}

main();
