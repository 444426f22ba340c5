/**
 * Probe: the bounded soak. The server runs in a worker; many clients in
 * this isolate put and get through a proxy that cuts connections at random
 * points and every `cutEveryMs`. Samples throughput and the retained heap
 * of both isolates each second, then verifies the final state exactly.
 * Started by soak_test.ts.
 *
 * @module
 */

import { Client } from "../../mod.ts";
import { median, probeOptions, report, retainedHeapMiB } from "./probe.ts";
import { FaultProxy } from "./proxy.ts";
import { Rng } from "./rng.ts";
import { newTally, outcome, randomCuts, readAll } from "./workload.ts";

const options = probeOptions<{
  seed: number;
  durationMs: number;
  clients: number;
  keys: number;
  seconds: number;
  cutEveryMs: number;
  randomCuts?: boolean;
  timerCuts?: boolean;
}>();

const worker = new Worker(new URL("./server_worker.ts", import.meta.url), {
  type: "module",
});
function ask<T>(message: string): Promise<T> {
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<T>) => resolve(event.data);
    worker.postMessage(message);
  });
}
const { port } = await ask<{ port: number }>("start");
const proxy = await FaultProxy.start({
  targetPort: port,
  faults: options.randomCuts === false
    ? () => ({})
    : randomCuts(options.seed, { maxUp: 256 * 1024, maxDown: 64 * 1024 }),
});

/** Per (key, second): the last resolved version and later rejected ones. */
interface Slot {
  issued: number;
  resolved: number;
  rejectedAfter: number[];
}

const tally = newTally();
const counts = { puts: 0, gets: 0, getChecks: 0, staleReads: 0 };
let completed = 0;
let problem: string | undefined;
const started = performance.now();
const deadline = started + options.durationMs;

async function runClient(c: number): Promise<Map<string, Slot>> {
  const slots = new Map<string, Slot>();
  const rng = new Rng(options.seed + c);
  await using client = new Client("127.0.0.1", proxy.port, {
    timeout: 30,
    maxInFlight: 8,
    retries: 6,
    retryDelay: 0.002,
    maxRetryDelay: 0.05,
  });
  const running = new Set<Promise<void>>();
  while (performance.now() < deadline) {
    while (running.size >= 32) await Promise.race(running);
    const key = `soak.c${c}.k${rng.int(0, options.keys - 1)}`;
    const second = rng.int(0, options.seconds - 1);
    const id = `${key} ${second}`;
    let task: Promise<void>;
    if (rng.chance(0.8)) {
      let slot = slots.get(id);
      if (slot === undefined) {
        slots.set(id, slot = { issued: 0, resolved: -1, rejectedAfter: [] });
      }
      const version = slot.issued++;
      const s = slot;
      counts.puts++;
      task = outcome(client.put(key, version, { timestamp: second }), tally)
        .then((result) => {
          if (result === "ok") {
            if (version > s.resolved) {
              s.resolved = version;
              s.rejectedAfter = s.rejectedAfter.filter((v) => v > version);
            }
          } else if (version > s.resolved) s.rejectedAfter.push(version);
        });
    } else {
      // Read your writes: a get sees at least what resolved before it.
      const floor = new Map(
        [...slots].filter(([k]) => k.startsWith(`${key} `)).map((
          [k, s],
        ) => [Number(k.split(" ")[1]), { min: s.resolved, max: s.issued - 1 }]),
      );
      counts.gets++;
      task = client.get(key).then((metrics) => {
        counts.getChecks++;
        for (const [second, value] of metrics[key] ?? []) {
          const bounds = floor.get(second);
          if (bounds && (value < bounds.min || value > bounds.max + 1e9)) {
            counts.staleReads++;
            problem ??= `get ${key} at ${second}: ${value}, resolved ` +
              `${bounds.min} before the get`;
          }
        }
        tally.ok++;
      }, () => {
        tally.rejected++;
      });
    }
    const tracked: Promise<void> = task.then(() => {
      completed++;
      running.delete(tracked);
    });
    running.add(tracked);
  }
  await Promise.all(running);
  const stats = client.stats();
  if (stats.called !== stats.acknowledged + stats.failed + stats.pending) {
    problem ??= `client ${c}: counts do not add up: ${JSON.stringify(stats)}`;
  }
  return slots;
}

const throughput: number[] = [];
const clientHeap: number[] = [];
const serverHeap: number[] = [];
let cutsByTimer = 0;
let last = 0;
const sampler = (async () => {
  for (let tick = 0; performance.now() < deadline; tick++) {
    await new Promise((resolve) => setTimeout(resolve, options.cutEveryMs));
    if (options.timerCuts !== false) {
      cutsByTimer += proxy.cutAll(tick % 2 ? "rst" : "fin");
    }
    if ((tick + 1) * options.cutEveryMs % 1000 < options.cutEveryMs) {
      throughput.push(completed - last);
      last = completed;
      clientHeap.push(retainedHeapMiB());
      serverHeap.push((await ask<{ heap: number }>("heap")).heap);
    }
  }
})();

const slotMaps = await Promise.all(
  Array.from({ length: options.clients }, (_, c) => runClient(c)),
);
await sampler;
const elapsed = (performance.now() - started) / 1000;
await proxy.close();

// Final state: each slot holds its last resolved version, or a later
// version whose put rejected (it may have been stored anyway).
const stored = await readAll("127.0.0.1", port);
let verified = 0;
let lost = 0;
let storedPoints = 0;
for (const points of stored.values()) storedPoints += points.size;
let expectedPoints = 0;
for (const slots of slotMaps) {
  for (const [id, slot] of slots) {
    const [key, second] = id.split(" ");
    const got = stored.get(key)?.get(Number(second));
    if (got !== undefined) expectedPoints++;
    if (slot.resolved >= 0 && got === slot.resolved) verified++;
    else if (got !== undefined && slot.rejectedAfter.includes(got)) verified++;
    else if (slot.resolved < 0 && got === undefined) verified++;
    else {
      lost++;
      problem ??= `slot ${id}: holds ${got}, last resolved ${slot.resolved}`;
    }
  }
}
const { logged } = await ask<{
  logged: { count: number; first: string[] };
}>("close");
worker.terminate();
const stats = proxy.stats();
report({
  seconds: elapsed,
  ops: completed,
  puts: counts.puts,
  gets: counts.gets,
  getChecks: counts.getChecks,
  staleReads: counts.staleReads,
  acked: tally.ok,
  rejected: tally.rejected,
  byKind: tally.byKind,
  foreign: tally.foreign === undefined ? null : String(tally.foreign),
  connections: stats.connections,
  cuts: stats.finCuts + stats.rstCuts,
  cutsByTimer,
  slots: slotMaps.reduce((n, s) => n + s.size, 0),
  verified,
  lost,
  extraPoints: storedPoints - expectedPoints,
  throughput,
  throughputMedian: median(throughput),
  clientHeap,
  serverHeap,
  serverLogged: logged.count,
  serverLogFirst: logged.first,
  problem: problem ?? null,
});
