// The metrics page: a key list with sparklines, a uPlot chart of the chosen
// key, a range picker and live updates from /api/events. Served by the
// metrics server itself; talks only to it.
"use strict";

(() => {
  /** Sparkline points per key. */
  const SPARK_POINTS = 40;
  /** Keys listed at once; the filter narrows the rest. */
  const KEY_LIMIT = 1000;
  /** Fewest milliseconds between two refreshes of the same thing. */
  const KEYS_EVERY_MS = 1000;
  const SERIES_EVERY_MS = 250;

  const $ = (id) => document.getElementById(id);
  const RANGE_NAMES = { 300: "5 min", 3600: "1 h", 86400: "24 h" };
  const SI = ["", "k", "M", "G", "T", "P", "E"];

  /** A value in 4 significant digits with an SI prefix: 430 M, 5.039 G. */
  function short(value) {
    const abs = Math.abs(value);
    if (abs < 1000) return String(Number(value.toPrecision(4)));
    const power = Math.min(SI.length - 1, Math.floor(Math.log10(abs) / 3));
    if (abs >= 1e21) return value.toExponential(3);
    return `${Number((value / 1000 ** power).toPrecision(4))} ${SI[power]}`;
  }

  /** A Unix time as ISO 8601 in UTC, to the second: no zone to guess. */
  function when(seconds) {
    return new Date(seconds * 1000).toISOString().replace("T", " ")
      .replace(/\.\d+Z$/, " UTC");
  }

  /** Time-axis labels in UTC, 24-hour, as fine as the span needs. */
  function timeLabels(_u, splits) {
    const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    const [from, to] = span >= 3 * 86400
      ? [0, 10]
      : span >= 86400
      ? [5, 16]
      : span >= 600
      ? [11, 16]
      : [11, 19];
    return splits.map((t) =>
      new Date(t * 1000).toISOString().replace("T", " ").slice(from, to)
    );
  }

  /** `#key=...&range=...` (or a bare `#key`, as older links have it). */
  function fromHash() {
    const hash = location.hash.slice(1);
    if (!hash.includes("=")) {
      return { key: decodeURIComponent(hash) || undefined };
    }
    const params = new URLSearchParams(hash);
    const range = Number(params.get("range"));
    return {
      key: params.get("key") || undefined,
      range: params.has("range") && range >= 0 ? range : undefined,
    };
  }

  function toHash() {
    const params = new URLSearchParams();
    if (state.key !== undefined) params.set("key", state.key);
    params.set("range", String(state.range));
    history.replaceState(null, "", `#${params}`);
  }

  const linked = fromHash();
  const state = {
    range: linked.range ?? 3600,
    filter: "",
    key: linked.key,
    /** Server clock minus this browser's, in seconds. */
    skew: 0,
    /** Each listed key's last point, for a range that holds none. */
    last: new Map(),
  };
  let chart;

  const now = () => Math.floor(Date.now() / 1000 + state.skew);
  const from = () => state.range === 0 ? undefined : now() - state.range;

  async function getJson(path, params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined) query.set(name, String(value));
    }
    const response = await fetch(`${path}?${query}`);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error);
    return body;
  }

  function sparkline(values) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 80 20");
    svg.setAttribute("preserveAspectRatio", "none");
    const line = document.createElementNS(svg.namespaceURI, "polyline");
    let low = Infinity;
    let high = -Infinity;
    for (const value of values) {
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
    const span = high - low || 1;
    const step = values.length > 1 ? 80 / (values.length - 1) : 0;
    line.setAttribute(
      "points",
      values.map((value, i) =>
        `${(i * step).toFixed(1)},${
          (18 - ((value - low) / span) * 16).toFixed(1)
        }`
      ).join(" "),
    );
    svg.append(line);
    return svg;
  }

  function keyRow(entry) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.key = entry.key;
    if (entry.key === state.key) button.setAttribute("aria-current", "true");
    if (entry.last) state.last.set(entry.key, entry.last);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = entry.key;
    name.title = entry.key;
    const last = document.createElement("span");
    last.className = "last";
    last.textContent = entry.last ? short(entry.last.value) : "";
    button.append(name, sparkline(entry.spark), last);
    const item = document.createElement("li");
    item.append(button);
    return item;
  }

  async function loadKeys() {
    const body = await getJson("/api/keys", {
      match: state.filter || undefined,
      limit: KEY_LIMIT,
      from: from(),
      points: SPARK_POINTS,
    });
    state.skew = body.now - Date.now() / 1000;
    $("keys").replaceChildren(...body.keys.map(keyRow));
    $("summary").textContent = body.truncated
      ? `${body.keys.length} of ${body.total} keys: filter to see others`
      : body.total === 0 && state.filter === ""
      ? "no keys yet"
      : `${body.total} keys`;
    $("empty").hidden = body.total > 0 || state.filter !== "";
    if (state.key === undefined && body.keys.length > 0) {
      choose(body.keys[0].key);
    }
  }

  function colors() {
    const style = getComputedStyle(document.documentElement);
    const color = (name) => style.getPropertyValue(name).trim();
    return {
      fg: color("--fg"),
      line: color("--line"),
      accent: color("--accent"),
      band: color("--band"),
      muted: color("--muted"),
    };
  }

  function makeChart() {
    chart?.destroy();
    const c = colors();
    const axis = {
      stroke: c.fg,
      grid: { stroke: c.line },
      ticks: { stroke: c.line },
    };
    const edge = { stroke: c.muted, width: 1, dash: [4, 4] };
    chart = new uPlot(
      {
        width: $("chart").clientWidth || 600,
        height: 320,
        scales: {
          x: {
            time: true,
            range: (_u, low, high) =>
              state.range === 0 ? [low, high] : [now() - state.range, now()],
          },
        },
        series: [
          { value: (_u, t) => t == null ? "--" : when(t) },
          { label: "min", ...edge },
          { label: "value", stroke: c.accent, width: 2 },
          { label: "max", ...edge },
        ],
        bands: [{ series: [3, 1], fill: c.band }],
        axes: [{ ...axis, label: "UTC", values: timeLabels }, {
          ...axis,
          values: (_u, splits) => splits.map(short),
          // Wide enough for the longest label, so none is cut.
          size: (_u, values) =>
            values ? 16 + 8 * Math.max(...values.map((v) => v.length)) : 50,
        }],
      },
      [[], [], [], []],
      $("chart"),
    );
  }

  async function loadSeries() {
    if (state.key === undefined) return;
    const key = state.key;
    const width = $("chart").clientWidth || 600;
    const body = await getJson("/api/series", {
      key,
      from: from(),
      points: Math.max(100, Math.min(4000, Math.round(width))),
    });
    if (key !== state.key) return;
    chart.setData([body.timestamps, body.min, body.values, body.max]);
    const lastAt = body.timestamps.length - 1;
    if (lastAt >= 0) {
      // The exact value, as stored: no rounding that looks exact.
      $("info").textContent =
        `${body.count} points in range, shown as ${body.timestamps.length}; ` +
        `last ${body.values[lastAt]} at ${when(body.timestamps[lastAt])}`;
      return;
    }
    const last = state.last.get(key);
    const name = RANGE_NAMES[state.range] ?? "this range";
    $("info").textContent = last === undefined
      ? `no points in ${name === "this range" ? name : `the last ${name}`}`
      : `no points in the last ${name}; the last is ${last.value} at ` +
        `${when(last.timestamp)} `;
    if (last !== undefined) {
      const all = document.createElement("button");
      all.type = "button";
      all.id = "show-all";
      all.textContent = "show all";
      all.addEventListener("click", () => pickRange(0));
      $("info").append(all);
    }
  }

  function choose(key) {
    state.key = key;
    toHash();
    $("title").textContent = key;
    for (const button of $("keys").querySelectorAll("button")) {
      if (button.dataset.key === key) {
        button.setAttribute("aria-current", "true");
      } else button.removeAttribute("aria-current");
    }
    throttled.series.now();
  }

  /** Runs `task` at most once per `everyMs`, never two at a time. */
  function throttle(task, everyMs) {
    let running = false;
    let again = false;
    let last = 0;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      const wait = last + everyMs - Date.now();
      if (wait > 0) {
        running = true;
        setTimeout(() => {
          running = false;
          run();
        }, wait);
        return;
      }
      running = true;
      last = Date.now();
      try {
        await task();
      } catch (error) {
        $("status").textContent = `error: ${error.message}`;
        $("status").className = "";
      } finally {
        running = false;
        if (again) {
          again = false;
          run();
        }
      }
    };
    return { now: run };
  }

  const throttled = {
    keys: throttle(loadKeys, KEYS_EVERY_MS),
    series: throttle(loadSeries, SERIES_EVERY_MS),
  };

  function pickRange(range) {
    state.range = range;
    toHash();
    for (const button of $("ranges").querySelectorAll("button")) {
      button.setAttribute(
        "aria-pressed",
        String(Number(button.dataset.range) === range),
      );
    }
    throttled.keys.now();
    throttled.series.now();
  }

  function listen() {
    const events = new EventSource("/api/events");
    events.addEventListener("open", () => {
      $("status").textContent = "live";
      $("status").className = "live";
    });
    events.addEventListener("stored", () => {
      throttled.keys.now();
      throttled.series.now();
    });
    events.addEventListener("error", () => {
      $("status").textContent = "reconnecting";
      $("status").className = "";
    });
  }

  $("keys").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button) choose(button.dataset.key);
  });
  $("ranges").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button) pickRange(Number(button.dataset.range));
  });
  let typing;
  $("filter").addEventListener("input", (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.filter = event.target.value;
      throttled.keys.now();
    }, 150);
  });
  addEventListener("resize", () => {
    chart.setSize({ width: $("chart").clientWidth, height: 320 });
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    makeChart();
    throttled.series.now();
  });

  makeChart();
  // For the console, and the browser tests that read its axis labels.
  globalThis.metricsChart = () => chart;
  if (state.key !== undefined) $("title").textContent = state.key;
  pickRange(state.range);
  listen();
})();
