/**
 * Puts/s through one and two `metrics serve` front-ends on a real
 * VictoriaMetrics (`/usr/bin/victoria-metrics`), next to the embedded
 * in-memory store in the same run, as a ratio.
 *
 * Every figure runs the front-ends in this process and the load in
 * `CLIENTS` project Clients (pipelined, `maxInFlight` 256), each putting
 * its share of `POINTS` points; a front-end holds every point until
 * VictoriaMetrics accepted the import request that carries it.
 *
 * Flags: `--json` prints the figures as JSON on stdout (the table goes to
 * stderr); `--quick` uses a tenth of the points.
 *
 * Run: `deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-write
 * --allow-env bench/victoriametrics.ts [--json] [--quick]`
 *
 * @module
 */

import { Client } from "../mod.ts";
import {
  type MetricsServer,
  serve,
  VictoriaMetricsStore,
} from "../src/server/mod.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../tests/helpers/victoriametrics.ts";

/** One measured figure. */
export interface VictoriaMetricsFigure {
  /** What was measured. */
  readonly name: string;
  /** Puts acknowledged per second. */
  readonly value: number;
  /** Always `puts/s`. */
  readonly unit: "puts/s";
  /** `value` divided by the embedded store's figure of the same run. */
  readonly ratio: number;
  /** What `ratio` compares with. */
  readonly floor: string;
}

const JSON_OUT = Deno.args.includes("--json");
const POINTS = Deno.args.includes("--quick") ? 20_000 : 200_000;
const CLIENTS = 4;
const BASE_TIMESTAMP = Math.floor(Date.now() / 1000) - 86_400;

/** Puts `POINTS` points through `servers` (clients spread over them). */
async function measure(servers: readonly MetricsServer[]): Promise<number> {
  const clients = Array.from(
    { length: CLIENTS },
    (_, i) =>
      new Client("127.0.0.1", servers[i % servers.length].port, {
        timeout: 60,
        maxInFlight: 256,
      }),
  );
  try {
    const start = performance.now();
    await Promise.all(clients.map(async (client, c) => {
      const share = POINTS / CLIENTS;
      const window: Promise<void>[] = [];
      for (let i = 0; i < share; i++) {
        const n = c * share + i;
        window.push(
          client.put(`bench.${n % 100}`, n % 1000, {
            timestamp: BASE_TIMESTAMP + Math.floor(n / 100),
          }),
        );
        if (window.length === 1024) await Promise.all(window.splice(0));
      }
      await Promise.all(window);
    }));
    return POINTS / ((performance.now() - start) / 1000);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/**
 * Reads back a sample of what {@link measure} stored through `server`:
 * every tenth key, each with all of its points and their values; throws
 * on a difference, so no figure comes from a store that lost points.
 * Points put through another front-end show once VictoriaMetrics makes
 * them searchable (docs/scaling.md: about 1 s, ~10 s for a new key), so a
 * short read is retried for up to 15 s before it counts as lost.
 */
async function readBack(server: MetricsServer): Promise<void> {
  await using client = new Client("127.0.0.1", server.port, { timeout: 60 });
  const deadline = performance.now() + 15_000;
  for (let k = 0; k < 100; k += 10) {
    const key = `bench.${k}`;
    let got = (await client.get(key))[key] ?? [];
    while (got.length < POINTS / 100 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      got = (await client.get(key))[key] ?? [];
    }
    if (got.length !== POINTS / 100) {
      throw new Error(
        `read back ${got.length} points of ${key}, put ${POINTS / 100}`,
      );
    }
    for (const [timestamp, value] of got) {
      const n = (timestamp - BASE_TIMESTAMP) * 100 + k;
      if (value !== n % 1000) {
        throw new Error(
          `read back ${key} at ${timestamp}: ${value}, put ${n % 1000}`,
        );
      }
    }
  }
}

async function frontEnds(
  vm: VictoriaMetricsProcess,
  count: number,
): Promise<MetricsServer[]> {
  return await Promise.all(
    Array.from({ length: count }, async () =>
      serve({
        port: 0,
        log: () => {},
        storage: await VictoriaMetricsStore.open({
          urls: [vm.url],
          log: console.error,
        }),
      })),
  );
}

async function main(): Promise<number> {
  if (VM_SKIP_REASON !== undefined) {
    console.error(`bench/victoriametrics.ts skipped: ${VM_SKIP_REASON}`);
    if (JSON_OUT) console.log("[]");
    return 0;
  }
  let embedded: number;
  {
    await using server = await serve({ port: 0, log: () => {} });
    embedded = await measure([server]);
    await readBack(server);
  }
  const figures: VictoriaMetricsFigure[] = [];
  const floor = "embedded memory store";
  figures.push({
    name: "embedded memory store, 1 server",
    value: embedded,
    unit: "puts/s",
    ratio: 1,
    floor,
  });
  for (const count of [1, 2]) {
    await using vm = await VictoriaMetricsProcess.start();
    const servers = await frontEnds(vm, count);
    try {
      const value = await measure(servers);
      await readBack(servers[servers.length - 1]);
      figures.push({
        name: `VictoriaMetrics, ${count} front-end${count > 1 ? "s" : ""}`,
        value,
        unit: "puts/s",
        ratio: value / embedded,
        floor,
      });
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  }
  const table = [
    `puts through front-ends (${POINTS} points, ${CLIENTS} pipelined clients)`,
    ...figures.map((f) =>
      `  ${f.name.padEnd(36)} ${
        Math.round(f.value).toLocaleString("en-US").padStart(10)
      } puts/s  x${f.ratio.toFixed(2)} of the embedded store`
    ),
  ].join("\n");
  if (JSON_OUT) {
    console.error(table);
    console.log(JSON.stringify(figures, null, 2));
  } else {
    console.log(table);
  }
  return 0;
}

if (import.meta.main) Deno.exitCode = await main();
