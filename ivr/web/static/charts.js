// Small SVG charts, hand-written (no library): a bar chart with a target line, a histogram with a
// vertical marker line, and grouped bars. DOM only through createElementNS and textContent: labels
// (queue and agent names) always stay text.
//
// Every chart is an <svg> with the given id, role="img", an aria-label, and one element per bar
// carrying data-label / data-value, so browser tests can read what is drawn.

const NS = "http://www.w3.org/2000/svg";
const W = 640;
const H = 260;
const M = { top: 16, right: 16, bottom: 52, left: 52 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    } else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function frame(id, label, points) {
  return svg("svg", {
    id,
    class: "chart",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": label,
    preserveAspectRatio: "xMidYMid meet",
    dataset: { points },
  });
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

// counts: a top that is a multiple of 4, so the 5 ticks are whole numbers
const countMax = (value) => Math.max(4, Math.ceil(niceMax(value) / 4) * 4);

const y = (value, max) => M.top + PLOT_H - (Math.max(0, value) / max) * PLOT_H;

// y axis with 5 ticks, grid lines and the axis title; x axis line and title
function axes(root, { max, yFormat, yLabel, xLabel }) {
  for (let i = 0; i <= 4; i += 1) {
    const value = (max * i) / 4;
    const at = y(value, max);
    root.append(
      svg("line", { class: "grid", x1: M.left, x2: W - M.right, y1: at, y2: at }),
      svg("text", { class: "tick", x: M.left - 6, y: at + 4, "text-anchor": "end" }, yFormat(value)),
    );
  }
  root.append(
    svg("line", { class: "axis", x1: M.left, x2: W - M.right, y1: M.top + PLOT_H, y2: M.top + PLOT_H }),
    svg("line", { class: "axis", x1: M.left, x2: M.left, y1: M.top, y2: M.top + PLOT_H }),
    svg("text", { class: "axis-title", x: M.left + PLOT_W / 2, y: H - 6, "text-anchor": "middle" }, xLabel ?? ""),
    svg(
      "text",
      {
        class: "axis-title",
        x: 14,
        y: M.top + PLOT_H / 2,
        "text-anchor": "middle",
        transform: `rotate(-90 14 ${M.top + PLOT_H / 2})`,
      },
      yLabel ?? "",
    ),
  );
}

function empty(root, message) {
  root.append(
    svg("text", { class: "empty", x: M.left + PLOT_W / 2, y: M.top + PLOT_H / 2, "text-anchor": "middle" }, message),
  );
  root.dataset.empty = "true";
}

const pct = (v) => `${Math.round(v * 100)}%`;

// bars: [{label, value (0..max or null), title?, level? ("ok"|"warn"|"bad")}]; target: a y value
export function barChart({ id, label, bars, max = 1, target = null, targetLabel = "", yFormat = pct, yLabel, xLabel }) {
  const root = frame(id, label, bars.length);
  const top = max ?? niceMax(Math.max(0, ...bars.map((b) => b.value ?? 0)));
  axes(root, { max: top, yFormat, yLabel, xLabel });
  if (!bars.length) {
    empty(root, "no calls in this period");
    return root;
  }
  const slot = PLOT_W / bars.length;
  const width = Math.max(2, Math.min(48, slot * 0.7));
  const every = Math.ceil(bars.length / 12); // at most 12 x labels
  bars.forEach((bar, i) => {
    const cx = M.left + slot * (i + 0.5);
    const hasValue = bar.value !== null && bar.value !== undefined;
    // a zero still shows as a thin bar (a missing value shows nothing)
    const top_ = hasValue ? Math.min(y(bar.value, top), M.top + PLOT_H - 2) : M.top + PLOT_H;
    root.append(
      svg(
        "rect",
        {
          class: `bar ${bar.level ?? ""}`.trim(),
          x: cx - width / 2,
          y: top_,
          width,
          height: M.top + PLOT_H - top_,
          dataset: { label: bar.label, value: hasValue ? bar.value : "" },
        },
        svg("title", {}, bar.title ?? `${bar.label}: ${hasValue ? yFormat(bar.value) : "–"}`),
      ),
    );
    if (i % every === 0) {
      root.append(svg("text", { class: "tick", x: cx, y: M.top + PLOT_H + 16, "text-anchor": "middle" }, bar.label));
    }
  });
  if (target !== null && target !== undefined) {
    const at = y(target, top);
    root.append(
      svg("line", { class: "target-line", x1: M.left, x2: W - M.right, y1: at, y2: at, dataset: { target } }),
      svg("text", { class: "target-label", x: W - M.right, y: at - 4, "text-anchor": "end" }, targetLabel),
    );
  }
  return root;
}

// bins: [{from, to (null: open), count}] contiguous from 0; line: x value (same unit as from/to)
export function histogram({ id, label, bins, line = null, lineLabel = "", xLabel, yLabel, xFormat = String }) {
  const root = frame(id, label, bins.length);
  const total = bins.reduce((sum, b) => sum + b.count, 0);
  const top = countMax(Math.max(1, ...bins.map((b) => b.count)));
  axes(root, { max: top, yFormat: (v) => String(Math.round(v)), yLabel, xLabel });
  const width = PLOT_W / Math.max(1, bins.length);
  const xOf = (index) => M.left + index * width;
  bins.forEach((bin, i) => {
    const at = y(bin.count, top);
    const within = line === null || (bin.to !== null && bin.to <= line);
    const name = bin.to === null ? `> ${xFormat(bin.from)}` : `${xFormat(bin.from)}–${xFormat(bin.to)}`;
    root.append(
      svg(
        "rect",
        {
          class: `bar ${within ? "ok" : "bad"}`,
          x: xOf(i) + 1,
          y: at,
          width: Math.max(1, width - 2),
          height: M.top + PLOT_H - at,
          dataset: { label: name, value: bin.count },
        },
        svg("title", {}, `${name}: ${bin.count}`),
      ),
      svg("text", { class: "tick", x: xOf(i), y: M.top + PLOT_H + 16, "text-anchor": "middle" }, xFormat(bin.from)),
    );
  });
  const last = bins[bins.length - 1];
  if (last && last.to === null) {
    root.append(
      svg("text", { class: "tick", x: xOf(bins.length - 0.5), y: M.top + PLOT_H + 30, "text-anchor": "middle" }, "more"),
    );
  }
  if (line !== null) {
    const index = bins.findIndex((b) => b.from >= line);
    const at = index < 0 ? xOf(bins.length) : xOf(index);
    root.append(
      svg("line", { class: "target-line", x1: at, x2: at, y1: M.top, y2: M.top + PLOT_H, dataset: { target: line } }),
      svg("text", { class: "target-label", x: at + 4, y: M.top + 12 }, lineLabel),
    );
  }
  if (!total) empty(root, "nothing to count in this period");
  return root;
}

// groups: [{label, values: [number per series]}]; series: names (one colour class each: s0, s1, …)
export function groupedBars({ id, label, groups, series, xLabel, yLabel }) {
  const root = frame(id, label, groups.length);
  const top = countMax(Math.max(1, ...groups.flatMap((g) => g.values)));
  axes(root, { max: top, yFormat: (v) => String(Math.round(v)), yLabel, xLabel });
  if (!groups.length) {
    empty(root, "no answers in this period");
    return root;
  }
  const slot = PLOT_W / groups.length;
  const width = Math.max(2, Math.min(18, (slot * 0.8) / series.length));
  groups.forEach((group, g) => {
    const start = M.left + slot * (g + 0.5) - (width * series.length) / 2;
    group.values.forEach((value, s) => {
      const at = y(value, top);
      root.append(
        svg(
          "rect",
          {
            class: `bar s${s}`,
            x: start + s * width,
            y: at,
            width: width - 1,
            height: M.top + PLOT_H - at,
            dataset: { label: `${group.label} ${series[s]}`, value, group: group.label, series: series[s] },
          },
          svg("title", {}, `${group.label}, ${series[s]}: ${value}`),
        ),
      );
    });
    root.append(
      svg("text", { class: "tick", x: M.left + slot * (g + 0.5), y: M.top + PLOT_H + 16, "text-anchor": "middle" }, group.label),
    );
  });
  const legend = svg("g", { class: "legend" });
  series.forEach((name, s) => {
    const x = W - M.right - (series.length - s) * 40;
    legend.append(
      svg("rect", { class: `bar s${s}`, x, y: M.top, width: 10, height: 10 }),
      svg("text", { class: "tick", x: x + 14, y: M.top + 9 }, name),
    );
  });
  root.append(legend);
  return root;
}
