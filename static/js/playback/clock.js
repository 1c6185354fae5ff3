// The playhead: the browser owns the clock. Time advances at `speed` × real time while playing, stays
// inside [start, end], and loops over a selection when one is set.

export const SPEEDS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1000];

export class Clock {
  constructor({ start, end, now = () => performance.now() }) {
    this.start = start;
    this.end = end;
    this.now = now;
    this.t = start;
    this.speed = 1;
    this.playing = false;
    this.loop = null; // [from, to] epoch ms, or null
    this.anchorWall = 0;
    this.anchorT = start;
    this.listeners = new Set();
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(reason) {
    for (const listener of this.listeners) listener(this, reason);
  }

  /** The playhead at this instant (advances while playing, wraps inside a loop, stops at the end). */
  time() {
    if (!this.playing) return this.t;
    let t = this.anchorT + (this.now() - this.anchorWall) * this.speed;
    if (this.loop) {
      const [a, b] = this.loop;
      if (t > b) t = a + ((t - a) % Math.max(1, b - a));
    } else if (t >= this.end) {
      t = this.end;
      this.t = t;
      this.playing = false;
      this.emit("ended");
      return t;
    }
    this.t = t;
    return t;
  }

  play() {
    if (this.playing) return;
    if (this.t >= this.end && !this.loop) this.t = this.start;
    this.anchorWall = this.now();
    this.anchorT = this.t;
    this.playing = true;
    this.emit("play");
  }

  pause() {
    if (!this.playing) return;
    this.t = this.time();
    this.playing = false;
    this.emit("pause");
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  seek(t) {
    const clamped = Math.min(this.end, Math.max(this.start, Math.round(t)));
    this.t = clamped;
    this.anchorT = clamped;
    this.anchorWall = this.now();
    this.emit("seek");
  }

  setSpeed(speed) {
    const t = this.time();
    this.speed = speed;
    this.anchorT = t;
    this.anchorWall = this.now();
    this.emit("speed");
  }

  /** The next faster or slower preset speed. */
  stepSpeed(direction) {
    const i = SPEEDS.findIndex((s) => s >= this.speed);
    const current = i < 0 ? SPEEDS.length - 1 : i;
    const next = Math.min(SPEEDS.length - 1, Math.max(0, current + direction));
    this.setSpeed(SPEEDS[next]);
  }

  setLoop(range) {
    this.loop = range && range[1] > range[0] ? [range[0], range[1]] : null;
    if (this.loop && (this.t < this.loop[0] || this.t > this.loop[1])) this.seek(this.loop[0]);
    this.emit("loop");
  }
}
