// The playback socket of docs/protocol.md: request ids, credit-limited fetches, and binary chunks.

import { chunkDecode } from "./chunk.js";

export class ProtocolError extends Error {
  constructor(frame) {
    super(frame.message || frame.code);
    this.code = frame.code;
    this.frame = frame;
  }
}

export class PlaybackSocket {
  constructor(url) {
    this.url = url;
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, kind}
    this.credits = 4;
    this.inFlight = 0;
    this.queue = []; // fetches waiting for a credit: {message, resolve, reject}
    this.onClose = null;
    this.onUnsolicited = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      ws.addEventListener("open", () => resolve(this), { once: true });
      ws.addEventListener("error", () => reject(new Error("the playback connection could not be opened")), {
        once: true,
      });
      ws.addEventListener("close", (event) => this.closed(event));
      ws.addEventListener("message", (event) => this.received(event.data));
    });
  }

  closed(event) {
    const error = new Error(
      event.code === 4403
        ? "Your account may not replay playback: ask for the ops or analyst role."
        : `The playback connection closed (${event.code}${event.reason ? `: ${event.reason}` : ""}).`,
    );
    error.code = event.code === 4403 ? "forbidden" : "closed";
    for (const waiter of this.pending.values()) waiter.reject(error);
    for (const waiter of this.queue) waiter.reject(error);
    this.pending.clear();
    this.queue = [];
    if (this.onClose) this.onClose(error);
  }

  received(data) {
    if (data instanceof ArrayBuffer) {
      const chunk = chunkDecode(data);
      // Decoded: its credit goes back to the server (docs/protocol.md, flow control by credit).
      this.ws.send(JSON.stringify({ op: "ack", id: chunk.requestId }));
      const waiter = this.pending.get(chunk.requestId);
      if (!waiter) return; // an answer for a scope that was replaced
      this.pending.delete(chunk.requestId);
      this.inFlight -= 1;
      waiter.resolve({ ...chunk, bytes: data.byteLength });
      this.pump();
      return;
    }
    const frame = JSON.parse(data);
    const waiter = frame.id === null || frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (!waiter) {
      if (this.onUnsolicited) this.onUnsolicited(frame);
      return;
    }
    if (frame.op === "error") {
      this.pending.delete(frame.id);
      if (waiter.kind === "fetch") {
        this.inFlight -= 1;
        this.pump();
      }
      waiter.reject(new ProtocolError(frame));
      return;
    }
    if (waiter.kind === "seek" && frame.op === "snapshot") {
      waiter.snapshot = frame; // the state frame that follows completes the seek
      return;
    }
    this.pending.delete(frame.id);
    waiter.resolve(waiter.snapshot ? { snapshot: waiter.snapshot, state: frame } : frame);
  }

  send(message, kind) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, kind });
      this.ws.send(JSON.stringify({ ...message, id }));
    });
  }

  /** Open a scope; resolves with the manifest. Answers still due for the previous scope are dropped. */
  async open(scope) {
    for (const [id, waiter] of this.pending) {
      if (waiter.kind === "fetch") {
        this.pending.delete(id);
        this.inFlight -= 1;
        waiter.reject(Object.assign(new Error("scope replaced"), { code: "replaced" }));
      }
    }
    this.queue = [];
    const manifest = await this.send({ op: "open", scope }, "open");
    this.credits = manifest.limits?.credits || this.credits;
    this.inFlight = Math.max(0, this.inFlight);
    return manifest;
  }

  /** Positions over [start, end]; waits for a credit, never exceeding the server's limit. */
  fetch(start, end, resolutionMs = 0) {
    return new Promise((resolve, reject) => {
      this.queue.push({ message: { op: "fetch", start, end, resolution_ms: resolutionMs }, resolve, reject });
      this.pump();
    });
  }

  pump() {
    while (this.inFlight < this.credits && this.queue.length) {
      const { message, resolve, reject } = this.queue.shift();
      this.inFlight += 1;
      this.send(message, "fetch").then(resolve, reject);
    }
  }

  /** Seek: resolves with {snapshot, state}. */
  seek(ts) {
    return this.send({ op: "control", action: "seek", ts: Math.round(ts) }, "seek");
  }

  control(action, extra = {}) {
    return this.send({ op: "control", action, ...extra }, "control");
  }

  close() {
    if (this.ws) this.ws.close(1000);
  }
}
