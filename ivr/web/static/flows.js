// The flow list: every live flow with its numbers, version and problems, and a picture of each.
import { api, clear, el, showError } from "/static/common.js";

const href = (name) => `/flows/${encodeURIComponent(name)}`;

function problemsOf(flow, errors) {
  return errors.filter((e) => e.file === flow.file);
}

function row(flow, errors) {
  const mine = problemsOf(flow, errors);
  return el(
    "tr",
    { dataset: { flow: flow.name } },
    el("td", {}, el("a", { href: href(flow.name), class: "flow-link" }, flow.name)),
    el("td", { class: "numbers" }, (flow.numbers ?? []).join(", ") || "–"),
    el("td", {}, (flow.languages ?? []).join(", ")),
    el("td", { class: "num" }, String(flow.nodes ?? "")),
    el("td", {}, el("code", {}, String(flow.version ?? ""))),
    el("td", { class: "muted file" }, flow.file ?? ""),
    el("td", { class: mine.length ? "bad" : "ok" }, mine.length ? `${mine.length} error(s)` : "none"),
  );
}

function graph(flow) {
  const src = `/api/flows/${encodeURIComponent(flow.name)}/graph.svg?v=${encodeURIComponent(flow.version ?? "")}`;
  return el(
    "figure",
    { class: "card graph", dataset: { flow: flow.name } },
    el("figcaption", {}, el("a", { href: href(flow.name) }, flow.name)),
    el("a", { href: src, title: "Open the full-size picture" }, el("img", { src, alt: `Graph of flow ${flow.name}`, loading: "lazy" })),
  );
}

async function load() {
  try {
    const status = await api("/api/flows");
    const flows = status.flows ?? [];
    const errors = status.errors ?? [];
    const body = clear(document.querySelector("#flows tbody"));
    for (const flow of flows) body.append(row(flow, errors));
    const list = clear(document.getElementById("flow-errors"));
    for (const e of errors) list.append(el("li", {}, e.text ?? e.message));
    document.getElementById("flow-errors-section").hidden = errors.length === 0;
    const graphs = clear(document.getElementById("graphs"));
    for (const flow of flows) graphs.append(graph(flow));
    showError("");
  } catch (err) {
    showError(`Cannot load the flows: ${err.message}`);
  }
}

load();
