/**
 * `metrics serve --data DIR` as a process: every acknowledged put survives
 * kill -9 and a graceful stop, damage found at start is reported on
 * stderr, counted on `/metrics` and costs only what it covers, and a 0.2
 * data directory is converted.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  exchange,
  RawSocket,
  runCli,
  ServerProcess,
} from "../../helpers/server.ts";
import { decodeSegment } from "../../../src/server/storage/engine/segment_format.ts";
import { writeLegacyLog } from "../storage/engine/legacy_log.ts";

const OK = "ok\n\n";

/** A temporary data directory, removed on dispose. */
async function dataDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "metrics-data-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Every data line of `get *`, without the status and the blank end. */
async function allLines(port: number): Promise<string[]> {
  const answer = await exchange(port, "get *\n", 1);
  return answer.split("\n").slice(1, -2);
}

/**
 * Pipelines puts, kills the server with SIGKILL once some were acknowledged
 * and more are in flight, restarts it, and checks every acknowledged put.
 */
async function killWhilePutting(args: string[]): Promise<void> {
  await using dir = await dataDir();
  const total = 20_000;
  let acknowledged = 0;
  {
    await using server = await ServerProcess.start([
      "--data",
      dir.path,
      ...args,
    ]);
    await using socket = await RawSocket.connect(server.port);
    let requests = "";
    for (let i = 0; i < total; i++) requests += `put crash.test ${i} ${i}\n`;
    const sending = socket.send(requests).catch(() => {});
    acknowledged = (await socket.responses(1000)).length;
    await server.stop("SIGKILL");
    acknowledged += (await socket.rest()).split(OK).length - 1;
    await sending;
  }
  assert(acknowledged >= 1000 && acknowledged < total, `${acknowledged} acks`);
  await using restarted = await ServerProcess.start(["--data", dir.path]);
  const lines = await allLines(restarted.port);
  assert(lines.length >= acknowledged, `${lines.length} < ${acknowledged}`);
  for (let i = 0; i < acknowledged; i++) {
    assertEquals(lines[i], `crash.test ${i}.0 ${i}`);
  }
}

Deno.test("every acknowledged put survives kill -9 (fsync batch)", async () => {
  await killWhilePutting([]);
});

Deno.test("every acknowledged put survives kill -9 (fsync interval)", async () => {
  await killWhilePutting(["--fsync", "interval", "--fsync-interval", "60s"]);
});

Deno.test("SIGTERM stops gracefully with exit 0 and keeps the points", async () => {
  await using dir = await dataDir();
  {
    await using server = await ServerProcess.start(["--data", dir.path]);
    assertEquals(
      await exchange(server.port, "put k 1 1\nput k 2 2\n", 2),
      OK + OK,
    );
    const status = await server.stop("SIGTERM");
    assertEquals(status.code, 0);
    assertMatch(server.stderr, /SIGTERM: shutting down/);
    assertMatch(
      server.stderr,
      /storage: storage engine in .*: compressed segments and a write-ahead log \(fsync: batch\)/,
    );
  }
  await using restarted = await ServerProcess.start(["--data", dir.path]);
  assertEquals(await allLines(restarted.port), ["k 1.0 1", "k 2.0 2"]);
  // A graceful stop wrote a checkpoint: nothing is replayed.
  assertMatch(restarted.stderr, /replayed 0 puts .*\(2 points of 1 key\)/);
});

Deno.test("SIGINT stops gracefully with exit 0", async () => {
  await using server = await ServerProcess.start();
  assertEquals(await exchange(server.port, "get k\n", 1), OK);
  assertEquals((await server.stop("SIGINT")).code, 0);
  assertMatch(server.stderr, /in memory only/);
});

/**
 * Stores two puts in separate batches, kills the server with SIGKILL (so
 * the WAL holds them), damages the WAL file, restarts.
 */
async function damagedRestart(
  dir: string,
  damage: (wal: Uint8Array) => Uint8Array,
): Promise<ServerProcess> {
  {
    await using server = await ServerProcess.start(["--data", dir]);
    for (const request of ["put a 1 1\n", "put b 2 2\n"]) {
      assertEquals(await exchange(server.port, request, 1), OK);
    }
    await server.stop("SIGKILL");
  }
  const path = `${dir}/wal/00000001`;
  await Deno.writeFile(path, damage(await Deno.readFile(path)));
  return await ServerProcess.start(["--data", dir]);
}

Deno.test("a torn last WAL frame is skipped with a warning, the file kept aside, and the server starts", async () => {
  await using dir = await dataDir();
  await using server = await damagedRestart(
    dir.path,
    (wal) => wal.subarray(0, -5),
  );
  assertEquals(await allLines(server.port), ["a 1.0 1"]);
  assertMatch(
    server.stderr,
    /warning: .*wal\/00000001: .* skipped \d+ bytes in 1 place\(s\) and replayed every good frame around them; the file is kept as .*00000001\.damaged-/,
  );
});

Deno.test("a corrupt last WAL frame (a flipped byte) is skipped and the server starts", async () => {
  await using dir = await dataDir();
  await using server = await damagedRestart(dir.path, (wal) => {
    const copy = wal.slice();
    copy[copy.length - 3] ^= 0xff;
    return copy;
  });
  assertEquals(await allLines(server.port), ["a 1.0 1"]);
  assertMatch(server.stderr, /CRC-32/);
});

Deno.test("garbage appended to a WAL file is skipped and later puts are kept", async () => {
  await using dir = await dataDir();
  {
    await using server = await damagedRestart(
      dir.path,
      (wal) => new Uint8Array([...wal, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2]),
    );
    assertEquals(await exchange(server.port, "put c 3 3\n", 1), OK);
    await server.stop("SIGKILL");
  }
  await using restarted = await ServerProcess.start(["--data", dir.path]);
  assertEquals(await allLines(restarted.port), [
    "a 1.0 1",
    "b 2.0 2",
    "c 3.0 3",
  ]);
});

Deno.test("a metrics.log that is not a metrics log stops start-up with exit 1, untouched", async () => {
  await using dir = await dataDir();
  await Deno.writeTextFile(`${dir.path}/metrics.log`, "not a log\n");
  const { code, stderr } = await runCli([
    "serve",
    "--port",
    "0",
    "--data",
    dir.path,
  ]);
  assertEquals(code, 1);
  assertMatch(
    stderr,
    /cannot open the metrics data in .*: .*metrics\.log is not a metrics log; move it away/,
  );
  assertEquals(
    await Deno.readTextFile(`${dir.path}/metrics.log`),
    "not a log\n",
  );
});

/** The `/metrics` text of a server started with `--http 0`. */
async function metricsOf(server: ServerProcess): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
  return await response.text();
}

Deno.test("a flipped byte in a segment costs its chunk only: reported on stderr, counted on /metrics, the file kept aside", async () => {
  await using dir = await dataDir();
  const keys = ["a", "b", "c"];
  {
    await using server = await ServerProcess.start(["--data", dir.path]);
    let requests = "";
    for (const key of keys) {
      for (let i = 0; i < 300; i++) requests += `put ${key} ${i} ${i}\n`;
    }
    await exchange(server.port, requests, 900);
    assertEquals((await server.stop("SIGTERM")).code, 0);
  }
  const segments = `${dir.path}/segments`;
  const [name] = [...Deno.readDirSync(segments)].map((e) => e.name);
  const bytes = await Deno.readFile(`${segments}/${name}`);
  // A byte inside the first chunk of key b (its points 0 to 119).
  const record = decodeSegment(bytes).records.find((r) => r.key === "b")!;
  assertEquals([record.first, record.last], [0, 119]);
  bytes[record.bytes.byteOffset + 5] ^= 0x20;
  await Deno.writeFile(`${segments}/${name}`, bytes);
  await using server = await ServerProcess.start([
    "--data",
    dir.path,
    "--http",
    "0",
  ]);
  assertMatch(
    server.stderr,
    /warning: .*\.seg: a chunk fails its CRC-32 check at byte \d+ \(key b\); kept \d+ sound chunks .*kept as .*\.seg\.damaged-/,
  );
  assertMatch(
    await metricsOf(server),
    /\nmetrics_storage_damaged_chunks_total 1\n/,
  );
  const lines = await allLines(server.port);
  const of = (key: string) => lines.filter((l) => l.startsWith(`${key} `));
  assertEquals(of("a").length, 300);
  assertEquals(of("c").length, 300);
  assertEquals(
    of("b"),
    Array.from({ length: 180 }, (_, i) => `b ${i + 120}.0 ${i + 120}`),
  );
  const kept = [...Deno.readDirSync(segments)].map((e) => e.name);
  assert(kept.some((n) => n.startsWith(`${name}.damaged-`)), `${kept}`);
});

Deno.test("a 0.2 data directory is converted on the first start, its log kept aside; later starts read segments", async () => {
  await using dir = await dataDir();
  const batches = [0, 1, 2].map((b) =>
    Array.from({ length: 100 }, (_, i) => ({
      key: `k${i % 4}`,
      timestamp: 1_700_000_000 + b * 100 + i,
      value: b * 100 + i,
    }))
  );
  await writeLegacyLog(dir.path, batches);
  const expected = ["k0", "k1", "k2", "k3"].flatMap((key) =>
    batches.flat().filter((p) => p.key === key).map((p) =>
      `${key} ${p.value}.0 ${p.timestamp}`
    )
  );
  {
    await using server = await ServerProcess.start(["--data", dir.path]);
    assertMatch(
      server.stderr,
      /converted .*metrics\.log to segments; the 0\.2 log is kept as .*metrics\.log\.v0\.2-.*, to delete by hand/,
    );
    assertEquals(await allLines(server.port), expected);
  }
  const names = [...Deno.readDirSync(dir.path)].map((e) => e.name);
  assert(!names.includes("metrics.log"), `${names}`);
  await using again = await ServerProcess.start(["--data", dir.path]);
  assert(!again.stderr.includes("convert"), again.stderr);
  assertEquals(await allLines(again.port), expected);
});
