/**
 * Probe: a client keeps calling a stalled server (through a stalled proxy)
 * for `durationMs`; samples the retained heap and the pending calls.
 * Started by faults_test.ts.
 *
 * @module
 */

import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { probeOptions, report, retainedHeapMiB } from "./probe.ts";
import { FaultProxy } from "./proxy.ts";
import { newTally, outcome } from "./workload.ts";

const { durationMs, maxPending, perTick } = probeOptions<{
  durationMs: number;
  maxPending: number;
  perTick: number;
}>();

const server = await serve({ port: 0, log: () => {} });
const proxy = await FaultProxy.start({ targetPort: server.port });
proxy.stall("both", true);
const client = new Client("127.0.0.1", proxy.port, {
  timeout: 1,
  maxInFlight: 64,
  maxPending,
});
const tally = newTally();
let unsettled = 0;
let calls = 0;
let worstPending = 0;
const heap: number[] = [];
const startHeap = retainedHeapMiB();
const started = performance.now();
let nextSample = started;
while (performance.now() - started < durationMs) {
  for (let i = 0; i < perTick; i++, calls++) {
    unsettled++;
    outcome(client.put(`down.${calls % 100}`, calls), tally).finally(() =>
      unsettled--
    );
  }
  worstPending = Math.max(worstPending, client.stats().pending);
  if (performance.now() >= nextSample) {
    heap.push(retainedHeapMiB());
    nextSample += 250;
  }
  await new Promise((resolve) => setTimeout(resolve, 2));
}
for (let i = 0; i < 1000 && unsettled > 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const stats = client.stats();
await client.close();
await proxy.close();
await server.close();
report({
  calls,
  unsettled,
  worstPending,
  startHeap,
  endHeap: retainedHeapMiB(),
  heap,
  tally: { ok: tally.ok, rejected: tally.rejected, byKind: tally.byKind },
  foreign: tally.foreign === undefined ? null : String(tally.foreign),
  stats,
});
