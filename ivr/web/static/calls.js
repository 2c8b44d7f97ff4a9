// The call list: search by caller number, period, queue, agent, outcome and flow (GET /api/calls with
// filters); each row links to the call's timeline (/calls/<id>). The filters live in the address.
import { api, clear, el, fmtDuration, fmtTime, showError } from "/static/common.js";
import { dayValue, periodRange } from "/static/period.js";

const $ = (id) => document.getElementById(id);
const LIMIT = 200;
const FIELDS = ["number", "period", "since", "until", "queue", "agent", "outcome", "flow"];
const input = (name) => $(`f-${name}`);

const seconds = (from, to) => (from && to ? (new Date(to) - new Date(from)) / 1000 : null);

// time in queue: entry → the agent's answer, else → the end of the call
export function waitedS(call) {
  if (!call.queued_at) return null;
  const answered = (call.offers ?? []).find((o) => o.answered_at);
  return seconds(call.queued_at, answered ? answered.answered_at : call.ended_at);
}

function ensureOption(select, value) {
  if (value && ![...select.options].some((o) => o.value === value)) select.append(el("option", { value }, value));
}

async function fillChoices() {
  const [queues, agents, flows] = await Promise.all([
    api("/api/queues").catch(() => []),
    api("/api/agents").catch(() => []),
    api("/api/flows").catch(() => ({ flows: [] })),
  ]);
  const add = (select, value, label) => {
    // the address may already have added this value: keep one option, and keep what is selected
    if (![...select.options].some((o) => o.value === value)) select.append(el("option", { value }, label));
  };
  for (const q of queues) add(input("queue"), q.name, q.name);
  for (const a of agents) add(input("agent"), a.id, a.name && a.name !== a.id ? `${a.id} ${a.name}` : a.id);
  for (const f of flows.flows ?? []) add(input("flow"), f.name, f.name);
}

function readAddress() {
  const q = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    const value = q.get(name) ?? "";
    if (input(name).tagName === "SELECT") ensureOption(input(name), value);
    input(name).value = value;
  }
}

function writeAddress() {
  const q = new URLSearchParams();
  for (const name of FIELDS) {
    const value = input(name).value.trim();
    if (!value || ((name === "since" || name === "until") && input("period").value !== "custom")) continue;
    q.set(name, value);
  }
  history.replaceState(null, "", `${location.pathname}${q.size ? `?${q}` : ""}`);
}

function toggleCustom() {
  for (const label of document.querySelectorAll(".custom-range")) label.hidden = input("period").value !== "custom";
}

function apiQuery() {
  const q = new URLSearchParams({ limit: String(LIMIT) });
  for (const name of ["number", "queue", "agent", "outcome", "flow"]) {
    const value = input(name).value.trim();
    if (value) q.set(name, value);
  }
  const { since, until } = periodRange(input("period").value, input("since").value, input("until").value);
  if (since) q.set("since", since.toISOString());
  if (until) q.set("until", until.toISOString());
  return q;
}

function row(call) {
  const href = `/calls/${encodeURIComponent(call.id)}`;
  const waited = waitedS(call);
  return el(
    "tr",
    { dataset: { call: call.id, outcome: call.outcome ?? "" } },
    el("td", {}, el("a", { href, class: "call-link" }, fmtTime(call.started_at))),
    el(
      "td",
      { class: "caller" },
      el("span", { class: "number" }, call.caller?.number ?? "unknown"),
      call.caller?.name ? el("span", { class: "name" }, call.caller.name) : null,
    ),
    el("td", {}, call.flow ?? "–"),
    el("td", {}, call.queue ?? "–"),
    el("td", {}, call.agent ?? "–"),
    el("td", { class: "num" }, waited === null ? "–" : fmtDuration(waited)),
    el("td", { class: "num" }, call.rings === null || call.rings === undefined ? "–" : String(call.rings)),
    el("td", {}, el("span", { class: "pill" }, call.outcome ?? (call.ended_at ? "–" : "in progress"))),
    el("td", { class: "num" }, call.csat === null || call.csat === undefined ? "–" : String(call.csat)),
    el("td", { class: "num" }, fmtDuration(seconds(call.started_at, call.ended_at))),
  );
}

async function search() {
  showError("");
  writeAddress();
  const count = $("calls-count");
  count.dataset.loaded = "false";
  try {
    const calls = await api(`/api/calls?${apiQuery()}`);
    const body = clear($("calls").tBodies[0]);
    if (!calls.length) body.append(el("tr", {}, el("td", { colspan: 10, class: "muted" }, "No calls match.")));
    else body.append(...calls.map(row));
    count.textContent = calls.length >= LIMIT ? `Newest ${LIMIT} matching calls` : `${calls.length} call(s)`;
    count.dataset.count = String(calls.length);
    count.dataset.loaded = "true";
  } catch (err) {
    count.textContent = "";
    showError(`Search failed: ${err.message}`);
  }
}

$("call-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
$("call-filters").addEventListener("reset", () => {
  setTimeout(() => {
    toggleCustom();
    search();
  });
});
input("period").addEventListener("change", () => {
  toggleCustom();
  if (input("period").value === "custom" && !input("since").value) {
    input("since").value = dayValue(new Date());
    input("until").value = dayValue(new Date());
  }
});

// The address fills the filters at once, before the choices load, so nothing typed meanwhile is undone.
readAddress();
toggleCustom();
search();
fillChoices();
