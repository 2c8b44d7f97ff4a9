// One call: GET /api/calls/{id} as a summary, a timeline (flow steps, inputs, queue, offers, recording
// pauses, survey, end), the flow path with times, inputs (sensitive values arrive masked: shown as
// given), queue wait and offers with ring times, CSAT, and a player per recording.
import { api, clear, el, fmtDuration, fmtTime, showError } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const callId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");

const ms = (iso) => (iso ? new Date(iso).getTime() : null);
const seconds = (from, to) => (from && to ? (ms(to) - ms(from)) / 1000 : null);
const dash = (v) => (v === null || v === undefined || v === "" ? "–" : String(v));

function offset(start, iso) {
  const s = seconds(start, iso);
  return s === null ? "" : `+${fmtDuration(s)}`;
}

const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "?");

function ringText(offer) {
  if (offer.rings === null || offer.rings === undefined) return "ringing";
  return `${offer.rings} ring${offer.rings === 1 ? "" : "s"}`;
}

export function queueWaitS(call) {
  if (!call.queued_at) return null;
  const answered = (call.offers ?? []).find((o) => o.answered_at);
  return seconds(call.queued_at, answered ? answered.answered_at : call.ended_at);
}

function summary(call) {
  const pairs = [
    ["Caller number", dash(call.caller?.number)],
    ["Caller name", dash(call.caller?.name)],
    ["Dialed", dash(call.dialed)],
    ["Flow", dash(call.flow)],
    ["Started", fmtTime(call.started_at)],
    ["Answered by IVR", fmtTime(call.answered_at)],
    ["Ended", call.ended_at ? fmtTime(call.ended_at) : "in progress"],
    ["Length", fmtDuration(seconds(call.started_at, call.ended_at))],
    ["Queue", dash(call.queue)],
    ["Waited in queue", fmtDuration(queueWaitS(call))],
    ["Agent", dash(call.agent)],
    ["Rings to answer", dash(call.rings)],
    ["Outcome", dash(call.outcome)],
    ["Hang-up cause", dash(call.hangup_cause)],
    ["CSAT", dash(call.csat)],
  ];
  const list = clear($("call-summary"));
  for (const [term, value] of pairs) {
    const key = term.toLowerCase().replace(/[^a-z]+/g, "-");
    list.append(el("dt", {}, term), el("dd", { dataset: { field: key } }, value));
  }
}

// every event of the call, oldest first: [{at, kind, text}]
export function timelineEvents(call) {
  const events = [{ at: call.started_at, kind: "start", text: `Call from ${dash(call.caller?.number)} to ${dash(call.dialed)}` }];
  if (call.answered_at) events.push({ at: call.answered_at, kind: "answer", text: "IVR answered" });
  const steps = call.steps ?? (call.path ?? []).map((node) => ({ node, at: null }));
  for (const step of steps) events.push({ at: step.at, kind: "node", text: `Flow node ${step.node}` });
  for (const input of call.inputs ?? []) {
    events.push({
      at: input.at,
      kind: "input",
      text: `${input.kind === "speech" ? "Said" : "Pressed"} at ${input.node}: `,
      value: input.value,
      sensitive: input.sensitive,
    });
  }
  if (call.queued_at) events.push({ at: call.queued_at, kind: "queue", text: `Entered queue ${call.queue ?? ""}` });
  for (const offer of call.offers ?? []) {
    events.push({ at: offer.ring_started_at, kind: "offer", text: `Rang agent ${offer.agent}` });
    if (offer.answered_at) {
      events.push({ at: offer.answered_at, kind: "agent-answer", text: `Agent ${offer.agent} answered after ${ringText(offer)}` });
    } else if (offer.ended_at) {
      events.push({ at: offer.ended_at, kind: "offer-end", text: `Agent ${offer.agent}: ${dash(offer.outcome)} after ${ringText(offer)}` });
    }
  }
  for (const rec of call.recordings ?? []) {
    events.push({ at: rec.started_at, kind: "recording", text: "Recording started" });
    for (const pause of rec.pauses ?? []) {
      const why = [pause.reason, pause.by].filter(Boolean).join(", ");
      events.push({ at: pause.paused_at ?? pause.started_at, kind: "pause", text: `Recording paused${why ? ` (${why})` : ""}` });
      const resumed = pause.resumed_at ?? pause.ended_at;
      if (resumed) events.push({ at: resumed, kind: "resume", text: "Recording resumed" });
    }
    if (rec.ended_at) events.push({ at: rec.ended_at, kind: "recording-end", text: "Recording stopped" });
  }
  for (const survey of call.surveys ?? []) {
    events.push({ at: survey.at, kind: "survey", text: `Survey${survey.question ? ` ${survey.question}` : ""}: ${survey.score} of 5` });
  }
  if (call.ended_at) events.push({ at: call.ended_at, kind: "end", text: `Call ended: ${dash(call.outcome)}` });
  // stable sort by time; events without a time keep their place after the previous one
  let last = ms(call.started_at) ?? 0;
  const keyed = events.map((e, i) => {
    last = ms(e.at) ?? last;
    return { e, t: last, i };
  });
  keyed.sort((a, b) => a.t - b.t || a.i - b.i);
  return keyed.map((k) => k.e);
}

function timeline(call) {
  const list = clear($("call-timeline"));
  for (const event of timelineEvents(call)) {
    list.append(
      el(
        "li",
        { dataset: { kind: event.kind, at: event.at ?? "" } },
        el("span", { class: "offset" }, offset(call.started_at, event.at)),
        el("span", { class: "when" }, event.at ? new Date(event.at).toLocaleTimeString() : ""),
        el(
          "span",
          { class: "what" },
          event.text,
          event.value !== undefined ? el("span", { class: "value" }, event.value) : null,
          event.sensitive ? el("span", { class: "pill", title: "masked: a sensitive node" }, "masked") : null,
        ),
      ),
    );
  }
}

function fillTable(id, rows, empty) {
  const body = clear($(id).tBodies[0]);
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: $(id).tHead.rows[0].cells.length, class: "muted" }, empty)));
  else body.append(...rows);
}

function path(call) {
  const steps = call.steps ?? (call.path ?? []).map((node) => ({ node, at: null }));
  fillTable(
    "call-path",
    steps.map((step, i) => {
      const next = steps[i + 1]?.at ?? call.ended_at;
      return el(
        "tr",
        { dataset: { node: step.node } },
        el("td", { class: "num" }, String(i + 1)),
        el("td", {}, el("code", {}, step.node)),
        el("td", {}, step.at ? new Date(step.at).toLocaleTimeString() : "–"),
        el("td", { class: "num" }, offset(call.started_at, step.at) || "–"),
        el("td", { class: "num" }, fmtDuration(seconds(step.at, next))),
      );
    }),
    "The call did not reach a flow node.",
  );
}

function inputs(call) {
  fillTable(
    "call-inputs",
    (call.inputs ?? []).map((input) =>
      el(
        "tr",
        { dataset: { node: input.node, sensitive: String(Boolean(input.sensitive)) } },
        el("td", {}, el("code", {}, input.node)),
        el("td", {}, input.kind),
        el("td", { class: "value" }, input.value, input.sensitive ? el("span", { class: "pill" }, " masked") : null),
        el("td", {}, input.at ? new Date(input.at).toLocaleTimeString() : "–"),
      ),
    ),
    "No inputs.",
  );
}

function queueAndOffers(call) {
  const wait = queueWaitS(call);
  $("call-queue").textContent = call.queued_at
    ? `Queue ${dash(call.queue)}: entered ${new Date(call.queued_at).toLocaleTimeString()}, waited ${fmtDuration(wait)}${call.agent ? `, answered by ${call.agent}` : ""}.`
    : "The call did not wait in a queue.";
  $("call-queue").dataset.waited = wait === null ? "" : String(wait);
  fillTable(
    "call-offers",
    (call.offers ?? []).map((offer) =>
      el(
        "tr",
        { dataset: { agent: offer.agent, rings: offer.rings ?? "" } },
        el("td", {}, offer.agent),
        el("td", {}, new Date(offer.ring_started_at).toLocaleTimeString()),
        el("td", { class: "num" }, offer.ring_s === null || offer.ring_s === undefined ? "–" : `${offer.ring_s} s`),
        el("td", { class: "num" }, dash(offer.rings)),
        el("td", {}, offer.answered_at ? "answered" : dash(offer.outcome)),
      ),
    ),
    "No agent was rung.",
  );
}

function csat(call) {
  const box = $("call-csat");
  const surveys = call.surveys ?? [];
  box.textContent = surveys.length
    ? surveys.map((s) => `${s.question ? `${s.question}: ` : ""}${s.score} of 5`).join(" · ")
    : "No survey answer.";
  box.dataset.csat = call.csat === null || call.csat === undefined ? "" : String(call.csat);
}

function recordings(call) {
  const recs = call.recordings ?? [];
  $("call-recordings").hidden = recs.length === 0;
  const list = clear($("recording-list"));
  for (const rec of recs) {
    const src = `/api/recordings/${encodeURIComponent(rec.id)}`;
    const pauses = (rec.pauses ?? []).map((p) => {
      const from = p.paused_at ?? p.started_at;
      const to = p.resumed_at ?? p.ended_at;
      const why = [p.reason, p.by].filter(Boolean).join(", ");
      return el(
        "li",
        { dataset: { pause: "" } },
        `paused ${clock(from)} → ${to ? clock(to) : "the end"} `,
        `(${offset(rec.started_at, from) || "?"} → ${to ? offset(rec.started_at, to) : "end"} into the recording)`,
        why ? ` (${why})` : "",
      );
    });
    list.append(
      el(
        "figure",
        { class: "card recording", dataset: { recording: rec.id } },
        el("figcaption", {}, `Recording ${fmtTime(rec.started_at)} – ${rec.ended_at ? new Date(rec.ended_at).toLocaleTimeString() : "in progress"}`),
        el("audio", { controls: true, preload: "none", src }),
        pauses.length ? el("ul", { class: "pauses" }, pauses) : el("p", { class: "muted" }, "Not paused."),
      ),
    );
  }
}

async function load() {
  $("call-id").textContent = callId;
  try {
    const call = await api(`/api/calls/${encodeURIComponent(callId)}`);
    document.body.dataset.call = call.id;
    summary(call);
    recordings(call);
    timeline(call);
    path(call);
    inputs(call);
    queueAndOffers(call);
    csat(call);
  } catch (err) {
    showError(err.status === 404 ? `No call ${callId}.` : `Call unavailable: ${err.message}`);
  }
}

load();
