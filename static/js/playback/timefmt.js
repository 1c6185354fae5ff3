// Times as people read them: the city's local time with UTC beside it.

const cache = new Map();

function formatter(timeZone, withDate) {
  const key = `${timeZone}|${withDate}`;
  if (!cache.has(key)) {
    const options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone };
    if (withDate) Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
    cache.set(key, new Intl.DateTimeFormat("en-CA", options));
  }
  return cache.get(key);
}

/** "12:03:07" in `timeZone` (an IANA name; "UTC" when the city's is unknown). */
export function clockText(ts, timeZone) {
  return formatter(timeZone, false).format(new Date(ts));
}

/** "2026-03-14 12:03:07" in `timeZone`. */
export function dateTimeText(ts, timeZone) {
  return formatter(timeZone, true).format(new Date(ts)).replace(",", "");
}

/** "12:03:07 local · 04:03:07 UTC", or just the UTC time when the city's zone is UTC. */
export function dualTimeText(ts, timeZone) {
  const utc = clockText(ts, "UTC");
  if (!timeZone || timeZone === "UTC") return `${utc} UTC`;
  return `${clockText(ts, timeZone)} local · ${utc} UTC`;
}

/** "4 min 05 s", "1 h 02 min", "12 s" — a duration in ms; negative durations keep their sign. */
export function durationText(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  const sign = ms < 0 ? "−" : "";
  let s = Math.round(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) return `${sign}${h} h ${String(m).padStart(2, "0")} min`;
  if (m) return `${sign}${m} min ${String(s).padStart(2, "0")} s`;
  return `${sign}${s} s`;
}

/** "×10", "×0.25". */
export function speedText(speed) {
  return `×${speed}`;
}
