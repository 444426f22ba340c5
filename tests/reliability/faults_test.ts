/**
 * Fault injection between a real client and a real server: connections cut
 * at random points (FIN and RST, requests and responses), a server killed
 * with SIGKILL and restarted, a stalled server. Every test prints one line
 * of figures; `lost` must be 0.
 */

import { assert, assertEquals } from "@std/assert";
import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { ServerProcess } from "../helpers/server.ts";
import type { ClientStats } from "../../mod.ts";
import { runProbe, trend } from "./probe.ts";
import {
  noUnhandledRejections,
  scale,
  seed,
  sleep,
  STARVED_MS,
  within,
} from "./config.ts";
import { FaultProxy } from "./proxy.ts";
import { Rng } from "./rng.ts";
import { certFiles, certs, OPENSSL_MISSING } from "../helpers/certs.ts";
import type { TlsCertificate } from "../../src/server/mod.ts";
import {
  checkRewrites,
  checkUnique,
  figures,
  newTally,
  type Outcome,
  outcome,
  putAll,
  putSequentially,
  type PutSpec,
  randomCuts,
  readAll,
  type Tally,
  uniquePuts,
} from "./workload.ts";

const PUTS = scale(100_000, 1_000_000);
const quiet = (): void => {};

/** Client options for runs through a cutting proxy. */
const THROUGH_CUTS = {
  timeout: 30,
  retries: 4,
  retryDelay: 0.002,
  maxRetryDelay: 0.05,
} as const;

/** The counts every client run must satisfy. */
function assertCounts(client: Client, issued: number): void {
  const stats = client.stats();
  assertEquals(stats.called, issued, "calls counted");
  assertEquals(
    stats.called,
    stats.acknowledged + stats.failed + stats.pending,
    "called === acknowledged + failed + pending",
  );
  assertEquals(stats.pending, 0, "calls still pending");
}

/** The wire between client and server: plain TCP, or TLS over it. */
type Transport = "tcp" | "tls";

/** Each end's TLS settings for a run over `transport`. */
async function tlsEnds(transport: Transport): Promise<{
  server?: TlsCertificate;
  client?: { caCerts: string[] };
}> {
  if (transport === "tcp") return {};
  const { server, ca } = await certs();
  return { server, client: { caCerts: [ca] } };
}

/** Runs over TLS are skipped, with the reason printed, without openssl. */
const ignoreTls = (transport: Transport): boolean =>
  transport === "tls" && OPENSSL_MISSING !== undefined;

/** How puts are issued: one pipelining client, or many sequential ones. */
type Mode = "pipelined" | "sequential";
const SEQUENTIAL_CLIENTS = 16;

/**
 * Runs `puts` through a proxy cutting every connection at a random point
 * and returns each put's outcome and what the server holds afterwards.
 */
async function throughCuts(
  name: string,
  mode: Mode,
  puts: readonly PutSpec[],
  /** Which client issues put `i`, so each (key, second) stays with one. */
  owner: (i: number) => number,
  transport: Transport = "tcp",
): Promise<{
  outcomes: (Outcome | undefined)[];
  stored: Awaited<ReturnType<typeof readAll>>;
  line: Record<string, unknown>;
}> {
  const runSeed = seed();
  const tls = await tlsEnds(transport);
  await using server = await serve({ port: 0, log: quiet, tls: tls.server });
  await using proxy = await FaultProxy.start({
    targetPort: server.port,
    faults: randomCuts(runSeed, { maxUp: 64 * 1024, maxDown: 8 * 1024 }),
  });
  const tally = newTally();
  const started = performance.now();
  const outcomes: (Outcome | undefined)[] = new Array(puts.length);
  const clients = mode === "pipelined" ? 1 : SEQUENTIAL_CLIENTS;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const mine = puts.flatMap((_, i) => owner(i) % clients === c ? [i] : []);
      await using client = new Client("127.0.0.1", proxy.port, {
        ...THROUGH_CUTS,
        maxInFlight: mode === "pipelined" ? 64 : 1,
        tls: tls.client,
      });
      const specs = mine.map((i) => puts[i]);
      const results = mode === "pipelined"
        ? await putAll(client, specs, 2000, tally)
        : await putSequentially(client, specs, tally);
      mine.forEach((i, j) => outcomes[i] = results[j]);
      assertCounts(client, specs.length);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = proxy.stats();
  assertEquals(
    tally.foreign,
    undefined,
    "a put rejected with a non-ClientError",
  );
  assertEquals(tally.ok + tally.rejected, puts.length);
  assert(stats.finCuts >= 10 && stats.rstCuts >= 10, "too few cuts injected");
  return {
    outcomes,
    stored: await readAll(server.hostname, server.port, tls.client),
    line: {
      test: name,
      transport,
      seed: runSeed,
      puts: puts.length,
      clients,
      acked: tally.ok,
      rejected: tally.rejected,
      kinds: tally.byKind,
      connections: stats.connections,
      cutsFin: stats.finCuts,
      cutsRst: stats.rstCuts,
      seconds: seconds.toFixed(1),
    },
  };
}

/**
 * Mode, transport, puts. Over TLS every reconnect costs a handshake that
 * cuts land in too, so fewer puts keep the run near the others' time.
 */
const CUT_RUNS: readonly [Mode, Transport, number][] = [
  ["pipelined", "tcp", PUTS],
  ["sequential", "tcp", PUTS],
  ["pipelined", "tls", Math.round(PUTS * 0.3)],
];

for (const [mode, transport, count] of CUT_RUNS) {
  Deno.test({
    name:
      `faults: every resolved put is stored exactly through random cuts (${mode}${
        transport === "tls" ? ", over TLS" : ""
      })`,
    ignore: ignoreTls(transport),
  }, async () => {
    await using _guard = noUnhandledRejections();
    const puts = uniquePuts(count, 1000, `${mode}.${transport}`);
    const { outcomes, stored, line } = await throughCuts(
      `unique-${mode}`,
      mode,
      puts,
      (i) => i % 1000,
      transport,
    );
    const check = checkUnique(puts, outcomes, stored);
    console.log(
      `faults: ${
        figures({
          ...line,
          verified: check.verified,
          rejectedStored: check.rejectedStored,
          rejectedNotStored: check.rejectedMissing,
          lost: check.lost,
          foreign: check.foreign,
        })
      }`,
    );
    assertEquals(check.lost, 0, check.firstProblem);
    assertEquals(check.foreign, 0, check.firstProblem);
    assertEquals(check.verified, line.acked);
  });
}

Deno.test("faults: rewrites of one (key, second) keep the last resolved value through random cuts", async () => {
  await using _guard = noUnhandledRejections();
  const slots = 1000;
  const puts: PutSpec[] = Array.from({ length: PUTS }, (_, i) => {
    const slot = i % slots;
    const version = Math.floor(i / slots);
    return {
      key: `rewrite.${slot % 200}`,
      value: version + (slot % 7) / 8,
      timestamp: 1_700_000_000 + Math.floor(slot / 200),
    };
  });
  const { outcomes, stored, line } = await throughCuts(
    "rewrites-pipelined",
    "pipelined",
    puts,
    () => 0,
  );
  const check = checkRewrites(puts, outcomes, stored);
  console.log(
    `faults: ${
      figures({
        ...line,
        slots: check.slots,
        rewritesPerSlot: PUTS / slots,
        lastResolved: check.lastResolved,
        laterRejected: check.laterRejected,
        allRejected: check.allRejected,
        stale: check.stale,
        lost: check.stale,
      })
    }`,
  );
  assertEquals(check.slots, slots);
  assertEquals(check.stale, 0, check.firstProblem);
});

/** A temporary data directory, removed on dispose. */
async function dataDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "metrics-reliability-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

const KILL_RUNS: readonly ["batch" | "interval", Transport][] = [
  ["batch", "tcp"],
  ["interval", "tcp"],
  ["batch", "tls"],
];

for (const [fsync, transport] of KILL_RUNS) {
  Deno.test({
    name:
      `faults: no acknowledged put is lost when the server is killed with SIGKILL and restarted (fsync ${fsync}${
        transport === "tls" ? ", over TLS" : ""
      })`,
    ignore: ignoreTls(transport),
  }, async () => {
    await using _guard = noUnhandledRejections();
    await using dir = await dataDir();
    const tls = await tlsEnds(transport);
    await using files = await certFiles(
      tls.server
        ? { "cert.pem": tls.server.cert, "key.pem": tls.server.key }
        : {},
    );
    const args = ["--data", dir.path, "--fsync", fsync];
    if (fsync === "interval") args.push("--fsync-interval", "60s");
    if (tls.server) {
      args.push("--tls-cert", files.path("cert.pem"));
      args.push("--tls-key", files.path("key.pem"));
    }
    const total = scale(40_000, 400_000);
    const kills = scale(3, 10);
    const puts = uniquePuts(total, 100, `crash.${fsync}.${transport}`);
    const tally = newTally();
    let server = await ServerProcess.start(args);
    const port = server.port;
    let restarts = 0;
    let outcomes: (Outcome | undefined)[];
    const started = performance.now();
    try {
      await using client = new Client("127.0.0.1", port, {
        timeout: 60,
        maxInFlight: 64,
        retries: 30,
        retryDelay: 0.01,
        maxRetryDelay: 0.2,
        tls: tls.client,
      });
      const run = putAll(client, puts, 1000, tally);
      for (let k = 1; k <= kills; k++) {
        const target = (total * k) / (kills + 1);
        for (let i = 0; i < 3000 && tally.ok + tally.rejected < target; i++) {
          await sleep(5);
        }
        await server.stop("SIGKILL");
        server = await ServerProcess.start([...args, "--port", String(port)]);
        restarts++;
      }
      outcomes = await within(120_000, "the stream", run);
      assertCounts(client, total);
    } finally {
      await server[Symbol.asyncDispose]();
    }
    const seconds = (performance.now() - started) / 1000;
    await using restarted = await ServerProcess.start([
      ...args,
      "--port",
      String(port),
    ]);
    const check = checkUnique(
      puts,
      outcomes,
      await readAll("127.0.0.1", restarted.port, tls.client),
    );
    console.log(
      `faults: ${
        figures({
          test: `kill9-${fsync}`,
          transport,
          puts: total,
          kills: restarts,
          acked: tally.ok,
          rejected: tally.rejected,
          kinds: tally.byKind,
          verified: check.verified,
          rejectedStored: check.rejectedStored,
          lost: check.lost,
          foreign: check.foreign,
          seconds: seconds.toFixed(1),
        })
      }`,
    );
    assertEquals(
      tally.foreign,
      undefined,
      "a put rejected with a non-ClientError",
    );
    assertEquals(restarts, kills);
    assertEquals(check.lost, 0, check.firstProblem);
    assertEquals(check.foreign, 0, check.firstProblem);
    assert(tally.ok > 0);
  });
}

Deno.test("faults: every call to a stalled server fails with a timeout, none left hanging", async () => {
  await using _guard = noUnhandledRejections();
  await using server = await serve({ port: 0, log: quiet });
  await using proxy = await FaultProxy.start({ targetPort: server.port });
  proxy.stall("both", true);
  const timeoutMs = 500;
  // Timers fire late on a busy machine: only a timeout that never fired
  // (a call left hanging) may fail this.
  const marginMs = STARVED_MS;
  await using client = new Client("127.0.0.1", proxy.port, {
    timeout: timeoutMs / 1000,
    maxInFlight: 64,
  });
  const tally = newTally();
  let worst = 0;
  const timed = async (call: Promise<unknown>, at: number): Promise<void> => {
    const result = await outcome(call, tally);
    worst = Math.max(worst, performance.now() - at);
    assertEquals(result, "timeout");
  };
  const concurrent = Array.from({ length: 2000 }, (_, i) => {
    const at = performance.now();
    return timed(
      i % 2 ? client.get(`stalled.${i}`) : client.put(`stalled.${i}`, i),
      at,
    );
  });
  for (let i = 0; i < 3; i++) {
    await timed(client.put("stalled.seq", i), performance.now());
  }
  await Promise.all(concurrent);
  proxy.stall("both", false);
  const recovered = await outcome(client.put("stalled.after", 1), tally);
  console.log(
    `faults: ${
      figures({
        test: "stalled-timeouts",
        calls: 2003,
        timeouts: tally.byKind.timeout ?? 0,
        timeoutMs,
        worstMs: worst.toFixed(0),
        recovered,
        lost: 0,
      })
    }`,
  );
  assertEquals(tally.byKind.timeout, 2003);
  assert(worst <= timeoutMs + marginMs, `a call took ${worst.toFixed(0)} ms`);
  assertEquals(recovered, "ok");
  assertCounts(client, 2004);
});

Deno.test("faults: client memory and pending calls stay bounded while the server is stalled", async () => {
  await using _guard = noUnhandledRejections();
  const maxPending = 5000;
  const result = await runProbe<{
    calls: number;
    unsettled: number;
    worstPending: number;
    startHeap: number;
    endHeap: number;
    heap: number[];
    tally: Tally;
    foreign: string | null;
    stats: ClientStats;
  }>("./stalled_probe.ts", {
    durationMs: scale(3000, 60_000),
    maxPending,
    perTick: 200,
  });
  const { early, late } = trend(result.heap);
  const peak = Math.max(...result.heap);
  const { tally, stats } = result;
  console.log(
    `faults: ${
      figures({
        test: "stalled-memory",
        calls: result.calls,
        timeouts: tally.byKind.timeout ?? 0,
        queueFull: tally.byKind.queue_full ?? 0,
        worstPending: result.worstPending,
        retainedHeapMiB: `${result.startHeap.toFixed(1)}/${early.toFixed(1)}/${
          late.toFixed(1)
        }/${peak.toFixed(1)}/${result.endHeap.toFixed(1)}`,
        samples: result.heap.length,
      })
    }`,
  );
  assertEquals(result.foreign, null, "a call rejected with a non-ClientError");
  assertEquals(result.unsettled, 0, "calls never settled");
  assertEquals(tally.ok, 0);
  assertEquals(tally.rejected, result.calls);
  assertEquals(
    Object.keys(tally.byKind).sort(),
    ["queue_full", "timeout"],
    "only timeouts and queue_full",
  );
  assert(result.worstPending <= maxPending, `${result.worstPending} pending`);
  assertEquals(stats.called, stats.acknowledged + stats.failed + stats.pending);
  // 5,000 pending calls retain a few MiB; without the bound, 3 s of calls
  // at this rate would retain hundreds.
  assert(peak - result.startHeap < 48, `retained heap peaked at ${peak} MiB`);
  assert(late - early < 8, `retained heap grew from ${early} to ${late} MiB`);
  assert(result.endHeap - result.startHeap < 8, "memory kept after the calls");
});

Deno.test("faults: puts and gets survive 1-byte packets and delays in both directions", async () => {
  await using _guard = noUnhandledRejections();
  await using server = await serve({ port: 0, log: quiet });
  const tally = newTally();
  const lines: string[] = [];
  for (
    const faults of [
      { up: { split: true }, down: { split: true } },
      { up: { delayMs: 20 }, down: { delayMs: 20 } },
    ]
  ) {
    await using proxy = await FaultProxy.start({
      targetPort: server.port,
      faults: () => faults,
    });
    await using client = new Client("127.0.0.1", proxy.port, {
      timeout: 30,
      maxInFlight: 16,
    });
    const key = faults.up.split ? "split" : "delayed";
    const rng = new Rng(1);
    const values = Array.from({ length: 15 }, () => rng.next() * 1e6 - 5e5);
    await Promise.all(
      values.map((value, t) =>
        outcome(client.put(key, value, { timestamp: t }), tally)
      ),
    );
    const got = await client.get(key);
    assertEquals(got, { [key]: values.map((value, t) => [t, value]) });
    lines.push(`${key}: bytesUp=${proxy.stats().bytesUp}`);
  }
  console.log(
    `faults: test=split-and-delay puts=${
      tally.ok + tally.rejected
    } acked=${tally.ok} ${lines.join(" ")} lost=${tally.rejected}`,
  );
  assertEquals(tally.rejected, 0);
});
