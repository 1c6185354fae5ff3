// The side panel: the order's lifecycle against its promise, the dispatch round inspector (candidates,
// decision, why not X, logged ETA against actual), and the incident summary to paste into a ticket.

import { dualTimeText, durationText, clockText } from "./timefmt.js";

const esc = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const REASONS = {
  outside_radius_by_road: "outside the search radius by road",
  at_capacity: "already carrying as many orders as allowed",
  offline: "offline",
  declined_before: "declined this order earlier",
  ranked_below_top_k: "ranked below the candidates the round kept",
};

export function reasonText(reason) {
  return REASONS[reason] || (reason ? reason.replaceAll("_", " ") : "no reason logged");
}

function num(value, digits = 0, unit = "") {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return `${Number(value).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })}${unit}`;
}

function featuresText(features) {
  if (!features) return "";
  const entries = Object.entries(features);
  if (!entries.length) return "";
  return entries
    .slice(0, 6)
    .map(([k, v]) => `${k}=${typeof v === "number" ? (Number.isInteger(v) ? v : v.toFixed(2)) : Array.isArray(v) ? `[${v.length}]` : v}`)
    .join(" · ");
}

/** The round shown at playhead `t`: the latest round at or before `t`, else the first. */
export function roundAt(rounds, t) {
  let found = null;
  for (const round of rounds) {
    if (round.ts <= t) found = round;
  }
  return found;
}

export class Inspector {
  constructor(root, { manifest, onSeek, onHighlight }) {
    this.root = root;
    this.manifest = manifest;
    this.zone = manifest.city?.timezone || "UTC";
    this.onSeek = onSeek;
    this.onHighlight = onHighlight;
    this.pinned = null;
    this.shownRound = undefined;
    root.addEventListener("click", (event) => {
      const seek = event.target.closest("[data-seek]");
      if (seek) this.onSeek(Number(seek.dataset.seek));
      const pin = event.target.closest("[data-round-pick]");
      if (pin) {
        const round = this.manifest.rounds.find((r) => r.round === pin.dataset.roundPick);
        this.pinned = round || null;
        if (round) this.onSeek(round.ts);
      }
    });
    root.addEventListener("mouseover", (event) => {
      const row = event.target.closest("[data-entity-index]");
      this.onHighlight(row ? Number(row.dataset.entityIndex) : null);
    });
  }

  time(ts) {
    return ts === null || ts === undefined ? "–" : `<button type="button" class="linklike mono" data-seek="${ts}">${esc(clockText(ts, this.zone))}</button>`;
  }

  renderLifecycle() {
    const job = this.manifest.job;
    const box = this.root.querySelector("[data-lifecycle]");
    if (!box) return;
    if (!job) {
      box.innerHTML = this.entityJobs();
      return;
    }
    const rows = [
      ["Created", job.created_ts],
      ["Ready", job.ready_ts],
      ["Assigned", job.assigned_ts],
      ["Accepted", job.accepted_ts],
      ["At pickup", job.arrived_pickup_ts],
      ["Picked up", job.picked_up_ts],
      ["Delivered", job.delivered_ts],
      ["Cancelled", job.cancelled_ts],
      ["Promised", job.promised_ts],
    ].filter(([, ts]) => ts !== null && ts !== undefined);
    const late = job.late_s;
    const verdict =
      late === null || late === undefined
        ? ""
        : late > 0
          ? `<span class="badge badge--danger">late by ${esc(durationText(late * 1000))}</span>`
          : `<span class="badge badge--ok">on time (${esc(durationText(-late * 1000))} early)</span>`;
    const d = job.durations || {};
    const waybills = (job.waybills || [])
      .map(
        (w) => `<li><span class="mono">${esc(w.entity || "–")}</span> <span class="muted">assigned</span> ${this.time(w.assigned_ts)}
          · <span class="outcome outcome--${esc(w.outcome)}">${esc(w.outcome || "")}</span>${w.reason ? ` <span class="muted">(${esc(reasonText(w.reason))})</span>` : ""}
          ${w.outcome_ts ? this.time(w.outcome_ts) : ""}<div class="muted small mono">${esc(w.waybill || "")}</div></li>`,
      )
      .join("");
    box.innerHTML = `
      <div class="lifecycle__verdict">${verdict}<span class="muted">${esc(job.kind || "")} ${job.zone ? `· zone ${esc(job.zone)}` : ""}</span></div>
      <dl class="lifecycle__times">${rows.map(([label, ts]) => `<div><dt>${label}</dt><dd>${this.time(ts)}</dd></div>`).join("")}</dl>
      <dl class="lifecycle__durations">
        <div><dt>Waiting for a courier</dt><dd>${esc(durationText((d.wait_s ?? NaN) * 1000))}</dd></div>
        <div><dt>To pickup</dt><dd>${esc(durationText((d.to_pickup_s ?? NaN) * 1000))}</dd></div>
        <div><dt>At pickup</dt><dd>${esc(durationText((d.at_pickup_s ?? NaN) * 1000))}</dd></div>
        <div><dt>To the door</dt><dd>${esc(durationText((d.to_dropoff_s ?? NaN) * 1000))}</dd></div>
        <div class="lifecycle__total"><dt>Order to door</dt><dd>${esc(durationText((d.total_s ?? NaN) * 1000))}</dd></div>
      </dl>
      ${waybills ? `<h4 class="subhead">Waybills</h4><ol class="waybills">${waybills}</ol>` : ""}`;
  }

  /** For an entity replay: the orders it carried in the window, each a link to its own replay. */
  entityJobs() {
    const byJob = new Map();
    for (const event of this.manifest.events) {
      if (!event.job) continue;
      const row = byJob.get(event.job) || { job: event.job, first: event.ts, last: event.ts, label: "" };
      row.first = Math.min(row.first, event.ts);
      if (event.ts >= row.last) {
        row.last = event.ts;
        row.label = event.label || event.type;
      }
      byJob.set(event.job, row);
    }
    if (!byJob.size) return `<p class="muted">No order in this window.</p>`;
    const dataset = this.manifest.scope.dataset;
    const rows = [...byJob.values()]
      .sort((a, b) => a.first - b.first)
      .map((r) => {
        const href = `?${new URLSearchParams({ dataset, job: r.job, t: String(r.first) })}`;
        return `<li><a class="mono" href="${esc(href)}">${esc(r.job)}</a> ${this.time(r.first)}–${this.time(r.last)}
          <div class="muted small">${esc(r.label)}</div></li>`;
      })
      .join("");
    return `<p class="muted small">${byJob.size} order${byJob.size === 1 ? "" : "s"} in this window; each opens its own replay.</p><ol class="entity-jobs">${rows}</ol>`;
  }

  renderRoundChips(current) {
    const list = this.root.querySelector("[data-round-list]");
    if (!list) return;
    list.innerHTML = this.manifest.rounds
      .map(
        (r) => `<li><button type="button" class="round-chip round-chip--${esc(r.decision)}${current && r.round === current.round ? " is-current" : ""}"
          data-round-pick="${esc(r.round)}" title="${esc(r.round)} at ${esc(dualTimeText(r.ts, this.zone))}">${esc(clockText(r.ts, this.zone))}</button></li>`,
      )
      .join("");
  }

  /** Show the round under the playhead (or the one picked) when it changes. */
  update(t) {
    const round = this.pinned && Math.abs(t - this.pinned.ts) < 1 ? this.pinned : roundAt(this.manifest.rounds, t);
    if (round === this.shownRound) return round;
    this.shownRound = round;
    this.pinned = null;
    this.renderRoundChips(round);
    const box = this.root.querySelector("[data-round]");
    if (!box) return round;
    if (!this.manifest.rounds.length) {
      box.closest(".inspector__section").hidden = true;
      return round;
    }
    if (!round) {
      box.innerHTML = `<p class="muted">No dispatch round yet at this moment. The first is at ${this.manifest.rounds[0] ? this.time(this.manifest.rounds[0].ts) : "–"}.</p>`;
      return round;
    }
    const chosen = round.candidates.find((c) => c.chosen);
    const declined = (this.manifest.job?.waybills || []).find(
      (w) => w.round === round.round && w.entity === round.assigned_to && w.outcome === "rejected",
    );
    const decision =
      round.decision === "assigned"
        ? `Assigned to <strong class="mono">${esc(round.assigned_to)}</strong>`
        : round.decision === "postponed"
          ? "Postponed to a later round (held to build a bundle)"
          : "Not assigned in this round";
    const eta =
      chosen && chosen.eta_s !== null && chosen.eta_s !== undefined
        ? `<p class="eta-check">Logged ETA <strong>${esc(durationText(chosen.eta_s * 1000))}</strong>${
            chosen.actual_s !== null && chosen.actual_s !== undefined
              ? ` · actual <strong>${esc(durationText(chosen.actual_s * 1000))}</strong> <span class="${chosen.actual_s > chosen.eta_s * 1.25 ? "text-danger" : "muted"}">(${chosen.actual_s >= chosen.eta_s ? "+" : ""}${esc(durationText((chosen.actual_s - chosen.eta_s) * 1000))})</span>`
              : declined
                ? ` · <span class="text-danger">declined${declined.reason ? ` (${esc(reasonText(declined.reason))})` : ""}</span>: the order went back to dispatch`
                : ` · arrival at the pickup not logged`
          }</p>`
        : "";
    const rows = round.candidates
      .map(
        (c, i) => `<tr class="${c.chosen ? "is-chosen" : ""}" ${c.index !== null && c.index !== undefined ? `data-entity-index="${c.index}"` : ""}>
          <td class="num">${i + 1}</td>
          <td class="mono">${esc(c.entity)}${c.chosen ? ' <span class="badge badge--accent">chosen</span>' : ""}</td>
          <td class="num">${num(c.score, 3)}</td>
          <td class="num">${c.eta_s === null || c.eta_s === undefined ? "–" : esc(durationText(c.eta_s * 1000))}</td>
          <td class="num">${num(c.distance_m === null || c.distance_m === undefined ? null : c.distance_m / 1000, 2, " km")}</td>
          <td class="num ${c.pos_age_s > 30 ? "text-danger" : ""}">${c.pos_age_s === null || c.pos_age_s === undefined ? "–" : `${num(c.pos_age_s, 0)} s`}${c.pos_error_m > 50 ? ` <span class="text-danger" title="the fix the dispatcher used was ${num(c.pos_error_m, 0)} m from the track">±${num(c.pos_error_m, 0)} m</span>` : ""}</td>
        </tr>
        ${featuresText(c.features) ? `<tr class="features"><td></td><td colspan="5" class="muted mono">${esc(featuresText(c.features))}</td></tr>` : ""}`,
      )
      .join("");
    const excluded = round.excluded || [];
    const whyNot = excluded
      .map(
        (x) => `<li ${x.index !== null && x.index !== undefined ? `data-entity-index="${x.index}"` : ""}><span class="mono">${esc(x.entity)}</span> — ${esc(reasonText(x.reason))}</li>`,
      )
      .join("");
    box.innerHTML = `
      <header class="round__head">
        <h3 class="mono">${esc(round.round)}</h3>
        <p class="muted">${this.time(round.ts)} · ${esc(round.strategy)}${round.strategy_version && !round.strategy_version.startsWith(round.strategy) ? ` ${esc(round.strategy_version)}` : ""} · ${num(round.jobs_in_round)} order${round.jobs_in_round === 1 ? "" : "s"} in the round${round.latency_ms !== null && round.latency_ms !== undefined ? ` · decided in ${num(round.latency_ms, 0)} ms` : ""}</p>
        ${round.error ? `<p class="text-danger small">The round failed: ${esc(round.error)}</p>` : ""}
      </header>
      <p class="round__decision">${decision}</p>
      ${eta}
      <p class="muted small" data-testid="candidates-logged">${round.candidates_logged ?? round.candidates.length} candidate${(round.candidates_logged ?? round.candidates.length) === 1 ? "" : "s"} logged for this order${excluded.length ? `, ${excluded.length} nearby excluded` : ""}</p>
      <div class="table-scroll"><table class="table table--compact candidates">
        <thead><tr><th class="num">#</th><th>Candidate</th><th class="num">Score</th><th class="num">ETA</th><th class="num" title="Distance to the pickup">Dist.</th><th class="num" title="Age of the position the dispatcher used">Fix</th></tr></thead>
        <tbody>${rows || '<tr><td colspan="6" class="muted">No candidate was logged for this order.</td></tr>'}</tbody>
      </table></div>
      ${whyNot ? `<h4 class="subhead">Why not…</h4><ul class="why-not">${whyNot}</ul>` : `<p class="muted small">No nearby courier was logged as excluded in this round.</p>`}`;
    return round;
  }
}

/** The few lines an ops person pastes into an incident ticket. */
export function incidentSummary(manifest, link) {
  const zone = manifest.city?.timezone || "UTC";
  const job = manifest.job;
  const lines = [];
  if (job) {
    const late = job.late_s;
    const outcome = job.delivered_ts
      ? `delivered ${dualTimeText(job.delivered_ts, zone)}${late !== null && late !== undefined ? (late > 0 ? `, ${durationText(late * 1000)} late` : ", on time") : ""}`
      : job.cancelled_ts
        ? `cancelled ${dualTimeText(job.cancelled_ts, zone)}`
        : "not delivered in the logs";
    lines.push(`${job.id} (${manifest.scope.dataset}): ${outcome}.`);
    lines.push(`Created ${dualTimeText(job.created_ts, zone)}${job.promised_ts ? `, promised ${clockText(job.promised_ts, zone)}` : ""}.`);
    const rejected = (job.waybills || []).filter((w) => w.outcome === "rejected");
    if (rejected.length) {
      lines.push(`Declined ${rejected.length}× (${rejected.map((w) => `${w.entity}${w.reason ? `: ${reasonText(w.reason)}` : ""}`).join("; ")}); re-dispatched under a new waybill.`);
    }
    const final = manifest.rounds.filter((r) => r.decision === "assigned").at(-1);
    if (final) {
      const chosen = final.candidates.find((c) => c.chosen);
      const eta = chosen && chosen.eta_s !== null ? `, logged ETA ${durationText(chosen.eta_s * 1000)}` : "";
      const actual = chosen && chosen.actual_s !== null && chosen.actual_s !== undefined ? ` vs actual ${durationText(chosen.actual_s * 1000)}` : "";
      lines.push(`Assigned in ${final.round} at ${clockText(final.ts, zone)} (${final.strategy}) to ${final.assigned_to}${eta}${actual}; ${final.candidates.length} candidates logged.`);
    }
    if (manifest.rounds.length > 1) lines.push(`In ${manifest.rounds.length} dispatch rounds.`);
  } else {
    const subject = manifest.entities.find((e) => e.role === "subject");
    lines.push(`${subject ? subject.id : "entity"} (${manifest.scope.dataset}) from ${dualTimeText(manifest.range.start, zone)} to ${clockText(manifest.range.end, zone)}.`);
  }
  const anomalies = manifest.anomalies || [];
  if (anomalies.length) {
    const kinds = {};
    for (const a of anomalies) kinds[a.kind] = (kinds[a.kind] || 0) + 1;
    lines.push(`GPS: ${Object.entries(kinds).map(([k, n]) => `${n} ${k}${n === 1 ? "" : "s"}`).join(", ")}.`);
  }
  lines.push(`Replay: ${link}`);
  return lines.join("\n");
}
