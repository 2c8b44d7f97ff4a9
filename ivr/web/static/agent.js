// The operator's own panel: state and time in state, Available / Pause (with a reason) / End wrap-up,
// the screen pop of the current caller (GET /api/agents/{id}/current, every 1 s while on a call) and
// the Pause / Resume recording button (POST /api/calls/{call_id}/recording).
import { api, clear, el, fmtDuration, me, showError } from "/static/common.js";

const ON_CALL_MS = 1000;
const IDLE_MS = 2000;

const agentId = me().agent;
const $ = (id) => document.getElementById(id);
const stateBox = $("state");
const recordingButton = $("btn-recording");

let since = null;
let callId = null;
let recordingPaused = false;

// an agent never seen since the store began has no real "since" (the epoch): show "–"
const secondsSince = (iso) => {
  const at = new Date(iso).getTime();
  return Number.isNaN(at) || at < Date.UTC(2000, 0, 1) ? null : (Date.now() - at) / 1000;
};

function showState(info) {
  stateBox.textContent = String(info.state).replace("_", " ");
  stateBox.className = `pill state-${info.state}`;
  stateBox.dataset.state = info.state;
  $("state-reason").textContent = info.reason ? `(${info.reason})` : "";
  since = info.state_since ?? null;
  $("state-time").textContent = since ? fmtDuration(secondsSince(since)) : "–";
  const s = info.state;
  $("btn-available").disabled = !["logged_out", "paused"].includes(s);
  $("btn-pause").disabled = !["logged_out", "available", "wrap_up", "paused"].includes(s);
  $("btn-end-wrapup").disabled = s !== "wrap_up";
}

function inputRows(inputs) {
  return inputs.map((input) =>
    el(
      "tr",
      { dataset: { node: input.node ?? "" }, class: input.sensitive ? "sensitive" : undefined },
      el("td", {}, input.node ?? "–"),
      el("td", {}, input.kind ?? ""),
      el("td", { class: "value" }, input.value ?? ""),
    ),
  );
}

function showCall(call) {
  $("screen-pop").hidden = !call;
  $("no-call").hidden = Boolean(call);
  if (!call) {
    callId = null;
    return;
  }
  if (call.id !== callId) {
    callId = call.id;
    recordingPaused = false; // a new call: its recording runs until someone pauses it
    showRecording("");
  }
  $("screen-pop").dataset.call = call.id;
  $("pop-number").textContent = call.caller?.number || "unknown";
  $("pop-name").textContent = call.caller?.name || "–";
  $("pop-language").textContent = call.language || "–";
  $("pop-queue").textContent = call.queue || "–";
  $("pop-waited").textContent = fmtDuration(call.waited_s);
  const collected = Object.entries(call.collected ?? {}).filter(([, value]) => value !== "");
  clear($("pop-collected")).append(
    ...collected.flatMap(([key, value]) => [el("dt", {}, key), el("dd", { dataset: { key } }, value)]),
  );
  clear($("pop-inputs").querySelector("tbody")).append(...inputRows(call.inputs ?? []));
  clear($("pop-path")).append(...(call.path ?? []).map((node) => el("li", {}, node)));
}

function showRecording(message) {
  recordingButton.dataset.paused = String(recordingPaused);
  recordingButton.textContent = recordingPaused ? "Resume recording" : "Pause recording";
  $("recording-status").textContent = message;
}

async function refresh() {
  try {
    const current = await api(`/api/agents/${encodeURIComponent(agentId)}/current`);
    showState(current);
    showCall(current.call);
    showError("");
  } catch (err) {
    showError(`Panel not updated: ${err.message}`);
  }
}

async function requestState(state, reason) {
  try {
    const row = await api(`/api/agents/${encodeURIComponent(agentId)}/state`, {
      method: "POST",
      body: reason ? { state, reason } : { state },
    });
    showState(row);
    showError("");
  } catch (err) {
    showError(`Not changed: ${err.message}`);
  }
}

async function toggleRecording() {
  if (!callId) return;
  const paused = !recordingPaused;
  recordingButton.disabled = true;
  try {
    const answer = await api(`/api/calls/${encodeURIComponent(callId)}/recording`, {
      method: "POST",
      body: { paused },
    });
    recordingPaused = typeof answer?.paused === "boolean" ? answer.paused : paused;
    showRecording(recordingPaused ? "Recording paused." : "Recording resumed.");
  } catch (err) {
    showRecording(`Recording not changed: ${err.message}`);
  } finally {
    recordingButton.disabled = false;
  }
}

async function loop() {
  await refresh();
  setTimeout(loop, callId ? ON_CALL_MS : IDLE_MS);
}

if (!agentId) {
  showError("This user is not an operator: no agent is linked to it.");
} else {
  $("agent-id").textContent = agentId;
  $("btn-available").addEventListener("click", () => requestState("available"));
  $("btn-pause").addEventListener("click", () => requestState("paused", $("pause-reason").value));
  $("btn-end-wrapup").addEventListener("click", () => requestState("available"));
  recordingButton.addEventListener("click", toggleRecording);
  setInterval(() => {
    if (since) $("state-time").textContent = fmtDuration(secondsSince(since));
  }, 1000);
  loop();
}
