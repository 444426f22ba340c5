/**
 * The bounded soak: many clients, mixed puts and gets, connections cut at
 * random points and on a timer; server and client memory stay flat,
 * throughput stays steady, and the final state is verified exactly.
 * Seconds by default, minutes with `RELIABILITY_LONG=1`.
 */

import { assert, assertEquals } from "@std/assert";
import { noUnhandledRejections, scale, seed } from "./config.ts";
import { median, runProbe, trend } from "./probe.ts";
import { figures } from "./workload.ts";

interface SoakResult {
  seconds: number;
  ops: number;
  puts: number;
  gets: number;
  getChecks: number;
  staleReads: number;
  acked: number;
  rejected: number;
  byKind: Record<string, number>;
  foreign: string | null;
  connections: number;
  cuts: number;
  cutsByTimer: number;
  slots: number;
  verified: number;
  lost: number;
  extraPoints: number;
  throughput: number[];
  throughputMedian: number;
  clientHeap: number[];
  serverHeap: number[];
  serverLogged: number;
  serverLogFirst: string[];
  problem: string | null;
}

Deno.test("soak: many clients through cut connections keep memory flat, throughput steady and every point", async () => {
  await using _guard = noUnhandledRejections();
  const runSeed = seed();
  const r = await runProbe<SoakResult>("./soak_probe.ts", {
    seed: runSeed,
    durationMs: scale(8_000, 180_000),
    clients: scale(8, 32),
    keys: 10,
    seconds: 50,
    cutEveryMs: 250,
  });
  const client = trend(r.clientHeap);
  const server = trend(r.serverHeap);
  const mib = (t: { early: number; late: number }): string =>
    `${t.early.toFixed(1)}->${t.late.toFixed(1)}`;
  console.log(
    `soak: ${
      figures({
        seed: runSeed,
        seconds: r.seconds.toFixed(1),
        ops: r.ops,
        puts: r.puts,
        gets: r.gets,
        acked: r.acked,
        rejected: r.rejected,
        kinds: r.byKind,
        connections: r.connections,
        cuts: r.cuts,
        slots: r.slots,
        verified: r.verified,
        staleReads: r.staleReads,
        lost: r.lost,
        opsPerSecond: `${Math.min(...r.throughput)}/${r.throughputMedian}/${
          Math.max(...r.throughput)
        }`,
        clientHeapMiB: mib(client),
        serverHeapMiB: mib(server),
        serverLogged: r.serverLogged,
      })
    }`,
  );
  assertEquals(r.problem, null);
  assertEquals(r.foreign, null, "a call rejected with a non-ClientError");
  assertEquals(r.lost, 0);
  assertEquals(r.staleReads, 0);
  assertEquals(r.extraPoints, 0, "points stored that no client put");
  assertEquals(r.verified, r.slots);
  assert(r.cuts >= 10, `only ${r.cuts} cuts`);
  assert(r.throughput.length >= 6, `${r.throughput.length} samples`);
  // Steady: no full second falls below a tenth of the best one. The first
  // second warms up (compiling, connecting) and the last may be cut short;
  // a busy machine slows a second by 5x, only a stall by 10x.
  const seconds = r.throughput.slice(1, -1);
  const best = Math.max(...seconds);
  const worst = Math.min(...seconds);
  assert(
    worst >= best / 10,
    `throughput fell to ${worst} ops/s (best ${best}); per second: ${
      seconds.join(", ")
    }; server said (${r.serverLogged}): ${r.serverLogFirst.join(" | ")}`,
  );
  assert(median(r.throughput) > 0);
  // Flat: the retained heap of each side grows by less than 8 MiB.
  assert(client.late - client.early < 8, `client heap ${mib(client)} MiB`);
  assert(server.late - server.early < 8, `server heap ${mib(server)} MiB`);
});
