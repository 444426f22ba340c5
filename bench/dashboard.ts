/**
 * The HTTP side's speed: `/api/series` of a 10M-point series reduced to
 * 1,000 points against the same call on a 1,000-point series and against
 * a 5-minute range of the big series (a range read), and the
 * page with 1,000 keys loading in headless Chromium until every key is
 * listed and the chart is drawn.
 *
 * Run alone (`deno run -A bench/dashboard.ts [--json] [--quick]`) or from
 * `bench/main.ts`. `--quick` uses 1M points. The page figure is left out
 * when Chromium is missing.
 *
 * @module
 */

import { serve } from "../src/server/mod.ts";
import { MemoryStore } from "../src/server/storage/memory.ts";
import type { Series } from "../src/server/storage/storage.ts";
import { Browser, BROWSER_SKIP_REASON } from "../tests/helpers/browser.ts";
import type { Figure } from "./main.ts";

const QUICK = Deno.args.includes("--quick");
const BIG = QUICK ? 1_000_000 : 10_000_000;
const RUNS = 15;
const PAGE_RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median milliseconds of `RUNS` fetches of `url`, after one warm-up. */
async function timeFetch(url: string): Promise<number> {
  await (await fetch(url)).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await (await fetch(url)).arrayBuffer();
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * Checks that `series` holds `count` points one second apart from
 * 1,700,000,000 with `valueOf(i)` at the `i`-th, so no figure comes from a
 * store that lost points.
 */
function readBack(
  series: Series | undefined,
  count: number,
  valueOf: (i: number) => number,
): void {
  const length = series?.timestamps.length ?? 0;
  if (series === undefined || length !== count) {
    throw new Error(`read back ${length} points, put ${count}`);
  }
  for (let i = 0; i < count; i++) {
    if (
      series.timestamps[i] !== 1_700_000_000 + i ||
      series.values[i] !== valueOf(i)
    ) throw new Error(`read back ${series.key}: point ${i} differs`);
  }
}

async function seriesFigures(): Promise<Omit<Figure, "group">[]> {
  const storage = new MemoryStore();
  const start = 1_700_000_000;
  for (let i = 0; i < BIG; i++) storage.upsert("big", start + i, i % 1000);
  for (let i = 0; i < 1000; i++) storage.upsert("small", start + i, i);
  readBack(storage.get("big"), BIG, (i) => i % 1000);
  readBack(storage.get("small"), 1000, (i) => i);
  await using server = await serve({
    port: 0,
    storage,
    log: () => {},
    http: { port: 0 },
  });
  const api = `${server.http!.url}api/series?points=1000&key=`;
  const small = await timeFetch(`${api}small`);
  const big = await timeFetch(`${api}big`);
  const last = start + BIG - 1;
  const recent = await timeFetch(`${api}big&from=${last - 299}&to=${last}`);
  return [
    {
      name: "/api/series, 1,000 points, as they are",
      value: small,
      unit: "ms",
    },
    {
      name: `/api/series, ${BIG / 1_000_000}M points reduced to 1,000`,
      value: big,
      unit: "ms",
      ratio: big / small,
      floor: "a 1,000-point series",
      target: "under 200 ms",
      met: big < 200,
    },
    {
      name: `/api/series, the last 5 minutes of ${BIG / 1_000_000}M points`,
      value: recent,
      unit: "ms",
      ratio: recent / big,
      floor: `the whole ${BIG / 1_000_000}M-point series reduced to 1,000`,
    },
  ];
}

async function pageFigure(): Promise<Omit<Figure, "group">[]> {
  if (BROWSER_SKIP_REASON !== undefined) {
    console.error(`page figure skipped: ${BROWSER_SKIP_REASON}`);
    return [];
  }
  const storage = new MemoryStore();
  const now = Math.floor(Date.now() / 1000);
  for (let k = 0; k < 1000; k++) {
    for (let t = now - 3000; t <= now; t += 30) {
      storage.upsert(`host${k}.cpu`, t, (k + t) % 100);
    }
  }
  await using server = await serve({
    port: 0,
    storage,
    log: () => {},
    http: { port: 0 },
  });
  await using browser = await Browser.launch();
  const times: number[] = [];
  for (let i = 0; i <= PAGE_RUNS; i++) {
    const started = performance.now();
    const { page } = await browser.open(server.http!.url);
    await page.waitForFunction(
      `document.querySelectorAll("#keys button").length === 1000 &&
        document.getElementById("info").textContent.includes("points")`,
      { timeout: 10_000, polling: "raf" },
    );
    // The first load warms the browser's caches and compiler.
    if (i > 0) times.push(performance.now() - started);
    await page.close();
  }
  const value = median(times);
  return [{
    name: "page with 1,000 keys: listed with sparklines, chart drawn",
    value,
    unit: "ms",
    target: "under 1 s",
    met: value < 1000,
  }];
}

/** Every figure of this file. */
export async function dashboardFigures(): Promise<Omit<Figure, "group">[]> {
  return [...await seriesFigures(), ...await pageFigure()];
}

if (import.meta.main) {
  const figures = await dashboardFigures();
  if (Deno.args.includes("--json")) console.log(JSON.stringify(figures));
  else {
    for (const f of figures) {
      console.log(`${f.name}: ${f.value.toFixed(1)} ${f.unit}`);
    }
  }
}
