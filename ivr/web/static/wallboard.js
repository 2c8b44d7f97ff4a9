// Wallboard (supervisors, admins): queues, agents and calls in progress, pushed by the server over a
// WebSocket (/api/wallboard/ws) — no polling. Reconnects with backoff and says so while down.
// Rows are kept by id and updated in place (a button under the pointer is never replaced); every value
// is set with textContent, so a caller's name is text whatever it contains.
import { api, clear, el, fmtDuration, fmtPercent, levelClass, showError } from "/static/common.js";

const SOCKET_PATH = "/api/wallboard/ws";
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const ENDPOINT_KEY = "ivr.listen.endpoint";

const queuesBox = document.getElementById("wb-queues");
const agentsBody = document.querySelector("#wb-agents tbody");
const callsBody = document.querySelector("#wb-calls tbody");
const status = document.getElementById("wb-status");
const summary = document.getElementById("wb-summary");
const endpointInput = document.getElementById("listen-endpoint");
const modeSelect = document.getElementById("listen-mode");
const listenStatus = document.getElementById("listen-status");

const label = (state) => String(state ?? "").replaceAll("_", " ");
const queueTitle = (q) => q.display?.en || q.name;
const seconds = (value) => (value === null || value === undefined ? "–" : fmtDuration(value));

// --- keyed rows -------------------------------------------------------------------------------

// Make `parent`'s children match `items` in order: one child per key, created once, updated each time.
function sync(parent, items, key, create, update) {
  const existing = new Map();
  for (const child of parent.children) existing.set(child.dataset.key, child);
  let previous = null;
  for (const item of items) {
    const id = String(key(item));
    let node = existing.get(id);
    if (node) existing.delete(id);
    else {
      node = create(item);
      node.dataset.key = id;
    }
    update(node, item);
    const wanted = previous ? previous.nextSibling : parent.firstChild;
    if (node !== wanted) parent.insertBefore(node, wanted);
    previous = node;
  }
  for (const stale of existing.values()) stale.remove();
}

function setText(node, text) {
  const value = String(text ?? "");
  if (node.textContent !== value) node.textContent = value;
}

const part = (node, name) => node.querySelector(`[data-part="${name}"]`);

// --- queues -----------------------------------------------------------------------------------

function figure(name, caption, extra = "") {
  return el(
    "div",
    { class: `wb-figure ${extra}`.trim() },
    el("span", { class: "wb-value", dataset: { part: name } }),
    el("span", { class: "wb-caption", dataset: { part: `${name}-caption` } }, caption),
  );
}

function createQueue() {
  return el(
    "article",
    { class: "wb-queue card" },
    el("h2", { class: "wb-queue-name", dataset: { part: "name" } }),
    el(
      "div",
      { class: "wb-main" },
      figure("waiting", "waiting", "wb-big"),
      figure("longest", "longest wait", "wb-big"),
    ),
    el(
      "div",
      { class: "wb-figures" },
      figure("share", "within target"),
      figure("asa", "ASA today"),
      figure("abandoned", "abandons today"),
      figure("callbacks", "callbacks pending"),
    ),
    el("p", { class: "wb-agents-line muted", dataset: { part: "agents" } }),
  );
}

function updateQueue(node, q) {
  const level = levelClass(q.within_target_today, q.target_share);
  node.dataset.queue = q.name;
  node.dataset.waiting = String(q.waiting);
  node.dataset.level = level || "none";
  node.className = `wb-queue card${level ? ` wb-level-${level}` : ""}${q.waiting > 0 ? " wb-has-waiting" : ""}`;
  setText(part(node, "name"), queueTitle(q));
  setText(part(node, "waiting"), q.waiting);
  setText(part(node, "longest"), q.waiting > 0 ? fmtDuration(q.longest_wait_s) : "–");
  const share = part(node, "share");
  setText(share, fmtPercent(q.within_target_today));
  share.className = `wb-value ${level}`.trim();
  setText(
    part(node, "share-caption"),
    `in ${q.target_rings} rings (${Math.round(q.target_s)} s) · target ${fmtPercent(q.target_share)}`,
  );
  setText(part(node, "asa"), q.asa_s_today === null ? "–" : `${Math.round(q.asa_s_today)} s`);
  setText(part(node, "abandoned"), q.abandoned_today);
  setText(part(node, "callbacks"), q.callbacks_pending);
  const a = q.agents;
  setText(part(node, "agents"), `agents: ${a.available} free · ${a.busy} busy · ${a.paused} paused · ${a.logged_in} in`);
}

// --- agents -----------------------------------------------------------------------------------

function createAgent() {
  return el(
    "tr",
    {},
    el("td", {}, el("span", { class: "wb-name", dataset: { part: "name" } }), " ", el("span", { class: "muted", dataset: { part: "id" } })),
    el("td", {}, el("span", { class: "pill", dataset: { part: "state" } }), " ", el("span", { class: "muted", dataset: { part: "reason" } })),
    el("td", { class: "num", dataset: { part: "time" } }),
    el("td", { dataset: { part: "call" } }),
  );
}

function updateAgent(node, a) {
  node.dataset.agentId = a.id;
  node.dataset.state = a.state;
  setText(part(node, "name"), a.name);
  setText(part(node, "id"), a.id);
  const state = part(node, "state");
  setText(state, label(a.state));
  state.className = `pill state-${a.state}`;
  setText(part(node, "reason"), a.reason ?? "");
  setText(part(node, "time"), seconds(a.seconds_in_state));
  setText(part(node, "call"), a.call ? [a.queue, a.call].filter(Boolean).join(" · ") : "");
}

// --- calls ------------------------------------------------------------------------------------

function whereText(c) {
  if (c.where === "agent") return `with agent ${c.agent}${c.queue ? ` (${c.queue})` : ""}`;
  if (c.where === "queue") return `waiting in ${c.queue}`;
  return [c.flow, c.node].filter(Boolean).join(" · ") || "starting";
}

function createCall(c) {
  return el(
    "tr",
    {},
    el(
      "td",
      {},
      el("span", { class: "wb-number", dataset: { part: "number" } }),
      " ",
      el("span", { class: "wb-caller-name", dataset: { part: "caller-name" } }),
    ),
    el("td", { dataset: { part: "where" } }),
    el("td", { class: "num", dataset: { part: "time" } }),
    el(
      "td",
      {},
      el("button", { type: "button", dataset: { action: "listen" }, onclick: () => listen(c.id) }, "Listen"),
    ),
  );
}

function updateCall(node, c) {
  node.dataset.callId = c.id;
  node.dataset.where = c.where;
  setText(part(node, "number"), c.caller?.number || "unknown");
  setText(part(node, "caller-name"), c.caller?.name ?? "");
  setText(part(node, "where"), whereText(c));
  setText(part(node, "time"), seconds(c.seconds));
  node.querySelector("button[data-action=listen]").hidden = c.where !== "agent";
}

// --- listening in -----------------------------------------------------------------------------

async function listen(callId) {
  const endpoint = endpointInput.value.trim();
  if (!endpoint) {
    listenStatus.textContent = "Enter your phone (e.g. PJSIP/9001) first.";
    endpointInput.focus();
    return;
  }
  localStorage.setItem(ENDPOINT_KEY, endpoint);
  const mode = modeSelect.value;
  listenStatus.textContent = `Ringing ${endpoint}…`;
  try {
    const session = await api(`/api/calls/${encodeURIComponent(callId)}/listen`, {
      method: "POST",
      body: { mode, endpoint },
    });
    listenStatus.textContent = `${session.mode ?? mode}: ringing ${session.endpoint ?? endpoint} for call ${callId}`;
  } catch (error) {
    listenStatus.textContent = `Could not listen in: ${error.message}`;
  }
}

endpointInput.value = localStorage.getItem(ENDPOINT_KEY) ?? "";
document.getElementById("listen-form").addEventListener("submit", (event) => event.preventDefault());

// --- the snapshot -----------------------------------------------------------------------------

function render(snapshot) {
  sync(queuesBox, snapshot.queues ?? [], (q) => q.name, createQueue, updateQueue);
  sync(agentsBody, snapshot.agents ?? [], (a) => a.id, createAgent, updateAgent);
  sync(callsBody, snapshot.calls ?? [], (c) => c.id, createCall, updateCall);
  document.getElementById("wb-agents-empty").hidden = (snapshot.agents ?? []).length > 0;
  document.getElementById("wb-calls-empty").hidden = (snapshot.calls ?? []).length > 0;
  setText(document.getElementById("wb-calls-count"), (snapshot.calls ?? []).length);
  const states = snapshot.agent_states ?? {};
  clear(summary).append(
    ...Object.entries(states)
      .filter(([state]) => state !== "logged_out")
      .map(([state, n]) => el("span", { class: `pill state-${state}`, dataset: { count: state } }, `${n} ${label(state)}`)),
  );
  if (snapshot.today && !snapshot.today.available) showError("Today's figures are unavailable (store unreachable); live counts are current.");
  else showError("");
}

// --- the socket -------------------------------------------------------------------------------

let attempt = 0;

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${SOCKET_PATH}`);
  socket.addEventListener("open", () => {
    attempt = 0;
    setStatus("live", "live");
  });
  socket.addEventListener("message", (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (data.type === "snapshot") render(data);
  });
  socket.addEventListener("close", () => {
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4);
    attempt += 1;
    setStatus("reconnecting", "reconnecting…");
    // a signed-out session cannot reopen the socket: api() sends the browser to the sign-in page
    if (attempt === 2) api("/api/me").catch(() => {});
    setTimeout(connect, delay);
  });
}

connect();
