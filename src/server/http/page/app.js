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
  const number = new Intl.NumberFormat("en", { maximumSignificantDigits: 6 });
  const compact = new Intl.NumberFormat("en", {
    notation: "compact",
    maximumSignificantDigits: 4,
  });
  const state = {
    range: 3600,
    filter: "",
    key: decodeURIComponent(location.hash.slice(1)) || undefined,
    /** Server clock minus this browser's, in seconds. */
    skew: 0,
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
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = entry.key;
    name.title = entry.key;
    const last = document.createElement("span");
    last.className = "last";
    last.textContent = entry.last ? compact.format(entry.last.value) : "";
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
      : `${body.total} keys`;
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
          {},
          { label: "min", ...edge },
          { label: "value", stroke: c.accent, width: 2 },
          { label: "max", ...edge },
        ],
        bands: [{ series: [3, 1], fill: c.band }],
        axes: [axis, axis],
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
    $("info").textContent = lastAt < 0
      ? "no points in this range"
      : `${body.count} points in range, shown as ${body.timestamps.length}; ` +
        `last ${number.format(body.values[lastAt])} at ` +
        new Date(body.timestamps[lastAt] * 1000).toLocaleString();
  }

  function choose(key) {
    state.key = key;
    history.replaceState(null, "", `#${encodeURIComponent(key)}`);
    $("title").textContent = key;
    for (const button of $("keys").querySelectorAll("button")) {
      button.toggleAttribute("aria-current", button.dataset.key === key);
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
  if (state.key !== undefined) $("title").textContent = state.key;
  pickRange(state.range);
  listen();
})();
