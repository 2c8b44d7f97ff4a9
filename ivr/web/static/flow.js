// One flow: the YAML editor (line numbers, errors marked at their line), check and publish (admins),
// its versions with a diff against the current file, roll back, and its graph.
import { ApiError, api, clear, el, fmtTime, me, showError } from "/static/common.js";

const name = decodeURIComponent(location.pathname.replace(/^\/flows\//, ""));
const base = `/api/flows/${encodeURIComponent(name)}`;
const isAdmin = me().role === "admin";

const editor = document.getElementById("editor");
const gutterLines = document.getElementById("gutter-lines");
const marksLines = document.getElementById("marks-lines");
const problemsList = document.getElementById("problems");
const publishResult = document.getElementById("publish-result");

let problems = []; // [{line, column, message, severity}]
let selectedVersion = null;

// --- the editor: gutter, marks at error lines ---------------------------------------------------

function lineHeight() {
  return parseFloat(getComputedStyle(editor).lineHeight) || 20;
}

function renderGutter() {
  const count = editor.value.split("\n").length;
  const byLine = new Map();
  for (const p of problems) {
    if (!byLine.has(p.line) || p.severity !== "warning") byLine.set(p.line, p);
  }
  clear(gutterLines);
  for (let n = 1; n <= count; n += 1) {
    const p = byLine.get(n);
    const cls = p ? (p.severity === "warning" ? "ln has-warning" : "ln has-error") : "ln";
    gutterLines.append(el("div", { class: cls, dataset: { line: n }, title: p ? p.message : undefined }, String(n)));
  }
  const h = lineHeight();
  clear(marksLines);
  for (const [line, p] of byLine) {
    const kind = p.severity === "warning" ? "line-warning" : "line-error";
    const mark = el(
      "div",
      { class: `mark ${kind}`, dataset: { line } },
      el("span", { class: "line-message" }, `${p.line}:${p.column} ${p.message}`),
    );
    mark.style.top = `${(line - 1) * h}px`;
    mark.style.height = `${h}px`;
    marksLines.append(mark);
  }
  syncScroll();
}

function syncScroll() {
  gutterLines.style.transform = `translateY(${-editor.scrollTop}px)`;
  marksLines.style.transform = `translateY(${-editor.scrollTop}px)`;
}

function goToLine(line, column = 1) {
  const lines = editor.value.split("\n");
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) offset += lines[i].length + 1;
  offset += Math.max(0, column - 1);
  editor.focus();
  editor.setSelectionRange(offset, offset);
  editor.scrollTop = Math.max(0, (line - 3) * lineHeight());
  syncScroll();
}

function showProblems(errors, warnings = []) {
  problems = [
    ...errors.map((e) => ({ ...e, severity: "error" })),
    ...warnings.map((e) => ({ ...e, severity: "warning" })),
  ].sort((a, b) => a.line - b.line || a.column - b.column);
  clear(problemsList);
  for (const p of problems) {
    problemsList.append(
      el(
        "li",
        { class: `problem ${p.severity === "warning" ? "warn" : "bad"}`, dataset: { line: p.line } },
        el("button", { type: "button", class: "link", onclick: () => goToLine(p.line, p.column) }, `Line ${p.line}:${p.column}`),
        " ",
        p.severity === "warning" ? "warning: " : "",
        p.node_path ? `${p.node_path}: ` : "",
        p.message,
      ),
    );
  }
  renderGutter();
}

editor.addEventListener("scroll", syncScroll);
editor.addEventListener("input", renderGutter);
editor.addEventListener("keydown", (event) => {
  if (event.key !== "Tab" || editor.readOnly) return;
  event.preventDefault(); // YAML is indented with spaces
  editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
  renderGutter();
});

// --- the flow, its versions, its graph ------------------------------------------------------------

function setResult(node, text, cls) {
  node.textContent = text;
  node.className = cls ?? "";
}

async function loadFlow() {
  const flow = await api(base);
  document.getElementById("flow-name").textContent = flow.name;
  document.title = `Flow ${flow.name} · IVR`;
  const parts = [
    flow.origin === "site" ? "site flow" : "shipped flow",
    flow.file,
    flow.overrides ? `overrides ${flow.overrides}` : null,
    flow.version ? `live version ${flow.version}` : "no live version",
    flow.live ? null : "the file is not what is live (see the errors)",
    flow.revision ? `published v${flow.revision}` : null,
    flow.numbers?.length ? `numbers ${flow.numbers.join(", ")}` : null,
  ];
  document.getElementById("flow-meta").textContent = parts.filter(Boolean).join(" · ");
  editor.value = flow.source;
  editor.scrollTop = 0;
  showProblems(flow.errors ?? [], flow.warnings ?? []);
  const graph = document.getElementById("graph");
  graph.alt = `Graph of flow ${flow.name}`;
  graph.hidden = !flow.version;
  if (flow.version) graph.src = `${base}/graph.svg?v=${encodeURIComponent(flow.version)}`;
}

function versionRow(v) {
  return el(
    "tr",
    { dataset: { version: v.version }, class: v.version === selectedVersion ? "selected" : undefined },
    el("td", {}, `v${v.version}`),
    el("td", {}, fmtTime(v.at)),
    el("td", { class: "author" }, v.author),
    el("td", { class: "note" }, v.note ?? ""),
    el("td", {}, el("button", { type: "button", class: "view-diff", onclick: () => showVersion(v.version) }, "Diff")),
  );
}

async function loadVersions() {
  const rows = await api(`${base}/versions`);
  const body = clear(document.querySelector("#versions tbody"));
  for (const v of rows) body.append(versionRow(v));
  document.getElementById("no-versions").hidden = rows.length > 0;
}

function diffLine(line) {
  let cls = "ctx";
  if (line.startsWith("+++") || line.startsWith("---")) cls = "file";
  else if (line.startsWith("@@")) cls = "hunk";
  else if (line.startsWith("+")) cls = "add";
  else if (line.startsWith("-")) cls = "del";
  return el("span", { class: cls }, line || " ");
}

async function showVersion(version) {
  try {
    const v = await api(`${base}/versions/${version}`);
    selectedVersion = v.version;
    document.getElementById("diff-section").hidden = false;
    document.getElementById("diff-version").textContent = `v${v.version}`;
    const pre = clear(document.getElementById("diff"));
    if (!v.diff) pre.append(el("span", { class: "ctx" }, "Same as the current file."));
    else for (const line of v.diff.replace(/\n$/, "").split("\n")) pre.append(diffLine(line));
    document.getElementById("rollback").hidden = !isAdmin;
    setResult(document.getElementById("rollback-result"), "");
    for (const tr of document.querySelectorAll("#versions tbody tr")) {
      tr.classList.toggle("selected", Number(tr.dataset.version) === v.version);
    }
  } catch (err) {
    showError(`Cannot load version ${version}: ${err.message}`);
  }
}

// --- check, publish, roll back (admins) -------------------------------------------------------------

function refusal(err) {
  const errors = err instanceof ApiError ? err.body?.errors ?? [] : [];
  showProblems(errors);
  return errors.length ? `${err.message} (${errors.length} error(s))` : err.message;
}

async function check() {
  setResult(publishResult, "Checking…");
  try {
    const result = await api(`${base}/check`, { method: "POST", body: { source: editor.value } });
    showProblems(result.errors, result.warnings);
    if (result.ok) setResult(publishResult, "No errors.", "ok");
    else setResult(publishResult, `${result.errors.length} error(s): nothing published.`, "bad");
  } catch (err) {
    setResult(publishResult, refusal(err), "bad");
  }
}

async function publish() {
  const button = document.getElementById("publish");
  button.disabled = true;
  setResult(publishResult, "Publishing…");
  try {
    const note = document.getElementById("note").value.trim();
    const result = await api(base, { method: "PUT", body: { source: editor.value, note: note || undefined } });
    document.getElementById("note").value = "";
    await refresh();
    setResult(publishResult, `Published as v${result.version} (live version ${result.flow_version}).`, "ok");
  } catch (err) {
    setResult(publishResult, `Not published: ${refusal(err)}`, "bad");
  } finally {
    button.disabled = false;
  }
}

async function rollback() {
  if (selectedVersion === null) return;
  if (!window.confirm(`Publish v${selectedVersion} again as the newest version?`)) return;
  const out = document.getElementById("rollback-result");
  try {
    const result = await api(`${base}/rollback`, { method: "POST", body: { version: selectedVersion } });
    await refresh();
    setResult(out, `Rolled back: published as v${result.version}.`, "ok");
    setResult(publishResult, "");
  } catch (err) {
    setResult(out, `Not rolled back: ${refusal(err)}`, "bad");
  }
}

async function refresh() {
  await loadFlow();
  await loadVersions();
  if (selectedVersion !== null) await showVersion(selectedVersion);
}

editor.readOnly = !isAdmin;
document.getElementById("readonly-note").hidden = isAdmin;
document.getElementById("edit-actions").hidden = !isAdmin;
document.getElementById("check").addEventListener("click", check);
document.getElementById("publish").addEventListener("click", publish);
document.getElementById("rollback").addEventListener("click", rollback);

refresh().catch((err) => showError(`Cannot load flow ${name}: ${err.message}`));
