// Agents (supervisors, admins): every agent's skills, languages, state and call, refreshed every 2 s;
// log out / unpause buttons; an inline skills editor that writes the agents file (PUT .../skills).
import { api, clear, el, fmtDuration, showError } from "/static/common.js";

const REFRESH_MS = 2000;
const PROFICIENCIES = [1, 2, 3, 4, 5];

const tbody = document.querySelector("#agents tbody");
const editor = document.getElementById("skills-editor");
const fields = document.getElementById("skills-fields");
const languagesInput = document.getElementById("edit-languages");
const errorsList = document.getElementById("skills-errors");
const saved = document.getElementById("skills-saved");

let knownSkills = [];
let rows = [];

// an agent never seen since the store began has no real "since" (the epoch): show "–"
const secondsSince = (iso) => {
  const at = new Date(iso).getTime();
  return Number.isNaN(at) || at < Date.UTC(2000, 0, 1) ? null : (Date.now() - at) / 1000;
};
const label = (state) => String(state).replace("_", " ");

function skillPills(skills) {
  return Object.entries(skills).map(([name, level]) =>
    el("span", { class: "pill", dataset: { skill: name } }, `${name} ${level}`),
  );
}

function actions(agent) {
  return el(
    "td",
    { class: "actions" },
    el(
      "button",
      {
        type: "button",
        dataset: { action: "logout" },
        disabled: agent.state === "logged_out",
        onclick: () => setState(agent.id, "logged_out", "logged out by a supervisor"),
      },
      "Log out",
    ),
    el(
      "button",
      {
        type: "button",
        dataset: { action: "unpause" },
        disabled: agent.state !== "paused",
        onclick: () => setState(agent.id, "available"),
      },
      "Unpause",
    ),
    el("button", { type: "button", dataset: { action: "edit-skills" }, onclick: () => openEditor(agent) }, "Skills…"),
  );
}

function row(agent) {
  const call = agent.current_call
    ? el("a", { href: `/calls/${encodeURIComponent(agent.current_call)}` }, agent.current_call)
    : "–";
  return el(
    "tr",
    { dataset: { agent: agent.id, state: agent.state } },
    el("td", { class: "name" }, el("div", {}, agent.name), el("div", { class: "muted" }, agent.id)),
    el("td", { class: "skills" }, skillPills(agent.skills)),
    el("td", { class: "languages" }, agent.languages.join(", ")),
    el(
      "td",
      { class: "state" },
      el("span", { class: `pill state-${agent.state}` }, label(agent.state)),
      agent.reason ? el("span", { class: "muted reason" }, ` ${agent.reason}`) : null,
    ),
    el("td", { class: "num since", dataset: { since: agent.state_since } }, fmtDuration(secondsSince(agent.state_since))),
    el("td", { class: agent.registered ? "registered ok" : "registered muted" }, agent.registered ? "registered" : "offline"),
    el("td", { class: "call" }, call),
    actions(agent),
  );
}

function render() {
  clear(tbody);
  for (const agent of rows) tbody.append(row(agent));
  document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString()}.`;
}

async function refresh() {
  try {
    rows = await api("/api/agents");
    render();
    showError("");
  } catch (err) {
    showError(`Agents unavailable: ${err.message}`);
  }
}

async function setState(agentId, state, reason) {
  try {
    await api(`/api/agents/${encodeURIComponent(agentId)}/state`, {
      method: "POST",
      body: reason ? { state, reason } : { state },
    });
    showError("");
  } catch (err) {
    showError(`Agent ${agentId}: ${err.message}`);
  }
  await refresh();
}

// --- skills editor -------------------------------------------------------------------------------

function skillField(name, level) {
  const select = el(
    "select",
    { name: `skill-${name}`, dataset: { skill: name } },
    el("option", { value: "" }, "–"),
    PROFICIENCIES.map((p) => el("option", { value: String(p), selected: p === level }, String(p))),
  );
  return el("label", { class: "skill" }, name, select);
}

function showErrors(messages) {
  clear(errorsList);
  for (const message of messages) errorsList.append(el("li", {}, message));
  errorsList.hidden = messages.length === 0;
}

function openEditor(agent) {
  editor.dataset.agent = agent.id;
  document.getElementById("editor-agent").textContent = `${agent.name} (${agent.id})`;
  clear(fields);
  const others = knownSkills.filter((name) => !(name in agent.skills)).sort();
  const names = [...Object.keys(agent.skills), ...others]; // the agent's own skills first, in their order
  for (const name of names) fields.append(skillField(name, agent.skills[name]));
  languagesInput.value = agent.languages.join(", ");
  showErrors([]);
  saved.hidden = true;
  editor.hidden = false;
}

async function save(event) {
  event.preventDefault();
  const agentId = editor.dataset.agent;
  const skills = {};
  for (const select of fields.querySelectorAll("select[data-skill]")) {
    if (select.value) skills[select.dataset.skill] = Number(select.value);
  }
  const languages = languagesInput.value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  saved.hidden = true;
  try {
    await api(`/api/agents/${encodeURIComponent(agentId)}/skills`, { method: "PUT", body: { skills, languages } });
    showErrors([]);
    saved.hidden = false;
    await refresh();
  } catch (err) {
    const details = Array.isArray(err.body?.errors) ? err.body.errors : [];
    const where = err.body?.field ? ` (${err.body.field})` : "";
    showErrors([`${err.message}${where}`, ...details]);
  }
}

document.getElementById("skills-form").addEventListener("submit", save);
document.getElementById("btn-cancel-skills").addEventListener("click", () => {
  editor.hidden = true;
});

// --- start ---------------------------------------------------------------------------------------

async function loadSkills() {
  try {
    knownSkills = (await api("/api/acd")).skills ?? [];
  } catch (err) {
    showError(`Queue skills unavailable: ${err.message}`);
  }
}

function tick() {
  for (const cell of tbody.querySelectorAll("td.since")) {
    cell.textContent = fmtDuration(secondsSince(cell.dataset.since));
  }
}

async function loop() {
  await refresh();
  setTimeout(loop, REFRESH_MS);
}

await loadSkills();
loop();
setInterval(tick, 1000);
