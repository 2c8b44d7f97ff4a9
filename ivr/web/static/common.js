// Shared helpers for every page: the JSON API with the session's CSRF token, safe DOM building
// (text only: never innerHTML with data), and the formats the pages show.

export const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const userMeta = () => document.querySelector('meta[name="ivr-user"]');
export const me = () => ({
  user: userMeta()?.content ?? "",
  role: userMeta()?.dataset.role ?? "",
  agent: userMeta()?.dataset.agent ?? "",
});

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// fetch a JSON API route; throws ApiError with the server's {"error": ...} message.
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, "signed out");
  }
  const type = response.headers.get("Content-Type") ?? "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, data?.error ?? `${response.status}`, data);
  return data;
}

// el("td", {class: "num"}, "12") — children are strings (made text) or nodes.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function showError(message) {
  const box = document.getElementById("error");
  if (!box) return;
  box.textContent = message ?? "";
  box.hidden = !message;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function fmtPercent(share) {
  return share === null || share === undefined ? "–" : `${Math.round(share * 100)} %`;
}

// green at or above target, amber within 10 points below it, red further down
export function levelClass(share, target) {
  if (share === null || share === undefined) return "";
  if (share >= target - 1e-9) return "ok";
  return share >= target - 0.1 - 1e-9 ? "warn" : "bad";  // the server's acd.wallboard.level, float-safe
}
