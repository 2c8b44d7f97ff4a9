// The report page: pick a period and queue/agent, draw the charts, fill the tables, link the CSV export.
// Data: GET /api/report/charts (shape in docs/web.md "Reports"); queue and agent names from /api/queues
// and /api/agents. The chosen filters live in the address (?period=&since=&until=&queue=&agent=).
import { api, clear, el, fmtDuration, fmtPercent, levelClass, showError } from "/static/common.js";
import { barChart, groupedBars, histogram } from "/static/charts.js";
import { dayValue, periodRange } from "/static/period.js";

const $ = (id) => document.getElementById(id);
const form = $("report-filters");
const PERIODS = ["today", "yesterday", "last7", "custom"];
const SCORES = ["1", "2", "3", "4", "5"];

const num = (v, digits = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
const cell = (text, cls) => el("td", { class: cls }, text);
const numCell = (text, cls = "") => el("td", { class: `num ${cls}`.trim() }, text);

function hourLabel(iso, multiDay) {
  const d = new Date(iso);
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return multiDay ? `${d.toLocaleDateString([], { month: "numeric", day: "numeric" })} ${time}` : time;
}

function readAddress() {
  const q = new URLSearchParams(location.search);
  $("period").value = PERIODS.includes(q.get("period")) ? q.get("period") : "today";
  $("since").value = q.get("since") ?? dayValue(new Date());
  $("until").value = q.get("until") ?? dayValue(new Date());
  return { queue: q.get("queue") ?? "", agent: q.get("agent") ?? "" };
}

function writeAddress() {
  const q = new URLSearchParams({ period: $("period").value });
  if ($("period").value === "custom") {
    q.set("since", $("since").value);
    q.set("until", $("until").value);
  }
  if ($("queue").value) q.set("queue", $("queue").value);
  if ($("agent").value) q.set("agent", $("agent").value);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

function toggleCustom() {
  for (const label of document.querySelectorAll(".custom-range")) label.hidden = $("period").value !== "custom";
}

async function fillChoices(wanted) {
  const [queues, agents] = await Promise.all([
    api("/api/queues").catch(() => []),
    api("/api/agents").catch(() => []),
  ]);
  const add = (select, value, label) => select.append(el("option", { value }, label));
  for (const q of queues) add($("queue"), q.name, q.name);
  for (const a of agents) add($("agent"), a.id, a.name && a.name !== a.id ? `${a.id} ${a.name}` : a.id);
  // a name in the address that is not configured (any more) still shows
  if (wanted.queue && ![...$("queue").options].some((o) => o.value === wanted.queue)) add($("queue"), wanted.queue, wanted.queue);
  if (wanted.agent && ![...$("agent").options].some((o) => o.value === wanted.agent)) add($("agent"), wanted.agent, wanted.agent);
  $("queue").value = wanted.queue;
  $("agent").value = wanted.agent;
}

function query() {
  const { since, until } = periodRange($("period").value, $("since").value, $("until").value);
  if (!since || !until) throw new Error("pick both days of the custom period");
  const q = new URLSearchParams({ since: since.toISOString(), until: until.toISOString() });
  if ($("queue").value) q.set("queue", $("queue").value);
  if ($("agent").value) q.set("agent", $("agent").value);
  return q;
}

function figures(data) {
  const o = data.figures.overall;
  const box = clear($("figures-overall"));
  const item = (label, value, cls, key) =>
    el("div", { class: "figure", dataset: { figure: key } }, el("span", { class: `value ${cls ?? ""}` }, value), el("span", { class: "label" }, label));
  box.append(
    item("offered", String(o.offered), "", "offered"),
    item("answered", String(o.answered), "", "answered"),
    item(`SL (≤ ${data.target_s} s)`, fmtPercent(o.sl), levelClass(o.sl, data.target_share), "sl"),
    item(`within ${data.target_rings} rings`, fmtPercent(o.share_within_target), levelClass(o.share_within_target, data.target_share), "within-rings"),
    item("ASA", fmtDuration(o.asa_s), "", "asa"),
    item("AHT", fmtDuration(o.aht_s), "", "aht"),
    item("abandoned", `${o.abandoned} (${fmtPercent(o.abandonment_rate)})`, "", "abandoned"),
    item("CSAT", o.csat.mean === null ? "–" : `${num(o.csat.mean)} / 5`, "", "csat"),
  );
}

function charts(data, multiDay) {
  const target = data.target_share;
  clear($("slot-sl-by-hour")).append(
    barChart({
      id: "chart-sl-by-hour",
      label: "Service level by hour",
      bars: data.sl_by_hour.map((h) => ({
        label: hourLabel(h.hour, multiDay),
        value: h.sl,
        level: levelClass(h.sl, target),
        title: `${hourLabel(h.hour, true)}: SL ${fmtPercent(h.sl)}, ${h.answered} of ${h.offered} answered`,
      })),
      target,
      targetLabel: `target ${fmtPercent(target)}`,
      yLabel: `answered within ${data.target_s} s`,
      xLabel: "hour",
    }),
  );
  $("sl-target-note").textContent = `(target ${fmtPercent(target)} within ${data.target_s} s)`;
  const rings = data.rings;
  clear($("slot-rings")).append(
    histogram({
      id: "chart-rings",
      label: "Rings to answer",
      bins: rings.bins.map((b) => ({ from: b.from_rings, to: b.to_rings, count: b.count })),
      line: rings.target_rings,
      lineLabel: `${rings.target_rings} rings`,
      xLabel: `rings before the agent answered (${data.ring_cycle_s} s a ring)`,
      yLabel: "calls",
    }),
  );
  $("rings-note").textContent = `(${fmtPercent(rings.share_within_target)} of ${rings.answered} within ${rings.target_rings} rings)`;
  const ab = data.abandons;
  clear($("slot-abandons")).append(
    histogram({
      id: "chart-abandons",
      label: "Abandons by time waited",
      bins: ab.buckets.map((b) => ({ from: b.from_s, to: b.to_s, count: b.count })),
      line: ab.buckets.find((b) => b.short)?.to_s ?? null,
      lineLabel: "short abandon limit",
      xLabel: "seconds waited in queue",
      yLabel: "abandons",
    }),
  );
  $("abandons-note").textContent = `(${ab.abandons} abandons, ${ab.short_abandons} short)`;
  const csat = (id, rows) =>
    groupedBars({
      id,
      label: id === "chart-csat-queue" ? "Satisfaction by queue" : "Satisfaction by agent",
      groups: rows.map((r) => ({ label: r.name, values: SCORES.map((s) => r.scores[s]) })),
      series: SCORES,
      yLabel: "answers",
      xLabel: "score 1 (bad) to 5 (good)",
    });
  clear($("slot-csat-queue")).append(csat("chart-csat-queue", data.csat.by_queue));
  clear($("slot-csat-agent")).append(csat("chart-csat-agent", data.csat.by_agent.filter((a) => a.responses > 0)));
}

function fillTable(id, rows) {
  const body = clear($(id).tBodies[0]);
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: $(id).tHead.rows[0].cells.length, class: "muted" }, "nothing in this period")));
  else body.append(...rows);
}

function tables(data, multiDay) {
  const target = data.target_share;
  fillTable(
    "table-sl-by-hour",
    data.sl_by_hour.map((h) =>
      el(
        "tr",
        { dataset: { hour: h.hour } },
        cell(hourLabel(h.hour, multiDay)),
        numCell(String(h.offered)),
        numCell(String(h.answered)),
        numCell(String(h.abandoned)),
        numCell(fmtPercent(h.sl), levelClass(h.sl, target)),
        numCell(fmtPercent(h.share_within_target), levelClass(h.share_within_target, target)),
        numCell(fmtDuration(h.asa_s)),
      ),
    ),
  );
  fillTable(
    "table-queues",
    Object.entries(data.figures.queues).map(([name, q]) =>
      el(
        "tr",
        { dataset: { queue: name } },
        cell(name),
        numCell(String(q.offered)),
        numCell(String(q.answered)),
        numCell(String(q.abandoned)),
        numCell(fmtPercent(q.sl), levelClass(q.sl, target)),
        numCell(fmtPercent(q.share_within_target), levelClass(q.share_within_target, target)),
        numCell(fmtDuration(q.asa_s)),
        numCell(fmtDuration(q.aht_s)),
        numCell(fmtDuration(q.longest_wait_s)),
        numCell(num(q.csat.mean)),
        numCell(String(q.csat.responses)),
      ),
    ),
  );
  fillTable(
    "table-agents",
    Object.entries(data.figures.agents).map(([name, a]) =>
      el(
        "tr",
        { dataset: { agent: name } },
        cell(name),
        numCell(String(a.offered)),
        numCell(String(a.answered)),
        numCell(String(a.no_answer)),
        numCell(a.ring_to_answer_s_mean === null ? "–" : `${num(a.ring_to_answer_s_mean)} s`),
        numCell(fmtPercent(a.share_within_target), levelClass(a.share_within_target, target)),
        numCell(fmtDuration(a.aht_s)),
        numCell(fmtPercent(a.occupancy)),
        numCell(num(a.csat.mean)),
        numCell(String(a.csat.responses)),
      ),
    ),
  );
}

function verdict(needed, loggedIn) {
  if (needed === null) return ["more than the model can staff", "bad"];
  if (loggedIn === null) return ["no agent log", ""];
  if (loggedIn + 1e-9 >= needed) return ["enough", "ok"];
  return [`short by ${num(needed - loggedIn)}`, needed - loggedIn <= 1 ? "warn" : "bad"];
}

function staffing(data, multiDay) {
  fillTable(
    "table-staffing",
    data.staffing.by_hour.map((h) => {
      const [text, cls] = verdict(h.agents_needed, h.agents_logged_in);
      return el(
        "tr",
        { dataset: { hour: h.hour, needed: h.agents_needed ?? "", loggedIn: h.agents_logged_in ?? "" } },
        cell(hourLabel(h.hour, multiDay)),
        numCell(num(h.calls_per_h)),
        numCell(fmtDuration(h.aht_s)),
        numCell(h.agents_needed === null ? "–" : String(h.agents_needed), "needed"),
        numCell(num(h.agents_logged_in), "logged-in"),
        cell(text, `verdict ${cls}`),
      );
    }),
  );
  fillTable(
    "table-staffing-queues",
    data.staffing.rows.map((r) =>
      el(
        "tr",
        { dataset: { queue: r.queue, hour: r.hour } },
        cell(r.queue),
        cell(hourLabel(r.hour, multiDay)),
        numCell(String(r.offered)),
        numCell(num(r.arrival_rate_per_h)),
        numCell(fmtDuration(r.aht_s)),
        numCell(fmtPercent(r.measured_sl), levelClass(r.measured_sl, data.target_share)),
        numCell(r.agents_needed_erlang === null ? "–" : String(r.agents_needed_erlang)),
        numCell(fmtPercent(r.simulated_sl_at_that_n)),
        numCell(fmtPercent(r.simulated_abandon_rate)),
      ),
    ),
  );
}

async function load() {
  showError("");
  const status = $("report-status");
  let q;
  try {
    q = query();
  } catch (err) {
    showError(err.message);
    return;
  }
  writeAddress();
  $("export-csv").href = `/api/report/export.csv?${q}`;
  status.textContent = "Loading…";
  status.dataset.loaded = "false";
  try {
    const data = await api(`/api/report/charts?${q}`);
    const multiDay = new Date(data.until) - new Date(data.since) > 86400000;
    figures(data);
    charts(data, multiDay);
    tables(data, multiDay);
    staffing(data, multiDay);
    const scope = [data.queue && `queue ${data.queue}`, data.agent && `agent ${data.agent}`].filter(Boolean).join(", ");
    status.textContent = `${new Date(data.since).toLocaleString()} – ${new Date(data.until).toLocaleString()}${scope ? ` · ${scope}` : ""} · ${data.figures.overall.offered} calls offered`;
    status.dataset.loaded = "true";
    status.dataset.offered = String(data.figures.overall.offered);
  } catch (err) {
    status.textContent = "";
    showError(`Report unavailable: ${err.message}`);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
$("period").addEventListener("change", () => {
  toggleCustom();
  if ($("period").value !== "custom") load();
});
for (const id of ["queue", "agent"]) $(id).addEventListener("change", load);

const wanted = readAddress();
toggleCustom();
fillChoices(wanted).finally(load);
