// Adds "3 days ago" as the tooltip of every <time data-relative>; the visible text stays the exact UTC time.

const UNITS = [
  ["year", 365 * 86400e3],
  ["month", 30 * 86400e3],
  ["day", 86400e3],
  ["hour", 3600e3],
  ["minute", 60e3],
  ["second", 1e3],
];

export function relativeText(thenMs, nowMs) {
  const delta = thenMs - nowMs;
  const format = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size || unit === "second") {
      return format.format(Math.round(delta / size), unit);
    }
  }
  return "";
}

export function annotateRelativeTimes(root, nowMs) {
  for (const element of root.querySelectorAll("time[data-relative]")) {
    const thenMs = Date.parse(element.getAttribute("datetime") || "");
    if (Number.isNaN(thenMs)) continue;
    element.title = `${relativeText(thenMs, nowMs)} · ${element.dateTime}`;
  }
}
