import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  exchange,
  RawSocket,
  runCli,
  ServerProcess,
} from "../../../helpers/server.ts";

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
    assertMatch(server.stderr, /storage: append-only log in /);
  }
  await using restarted = await ServerProcess.start(["--data", dir.path]);
  assertEquals(await allLines(restarted.port), ["k 1.0 1", "k 2.0 2"]);
});

Deno.test("SIGINT stops gracefully with exit 0", async () => {
  await using server = await ServerProcess.start();
  assertEquals(await exchange(server.port, "get k\n", 1), OK);
  assertEquals((await server.stop("SIGINT")).code, 0);
  assertMatch(server.stderr, /in memory only/);
});

/** Stores `before` in separate batches, stops, damages the log, restarts. */
async function damagedRestart(
  dir: string,
  damage: (log: Uint8Array) => Uint8Array,
): Promise<ServerProcess> {
  {
    await using server = await ServerProcess.start(["--data", dir]);
    for (const request of ["put a 1 1\n", "put b 2 2\n"]) {
      assertEquals(await exchange(server.port, request, 1), OK);
    }
    assertEquals((await server.stop("SIGTERM")).code, 0);
  }
  const path = `${dir}/metrics.log`;
  await Deno.writeFile(path, damage(await Deno.readFile(path)));
  return await ServerProcess.start(["--data", dir]);
}

Deno.test("a torn last record is dropped with a warning and the server starts", async () => {
  await using dir = await dataDir();
  await using server = await damagedRestart(
    dir.path,
    (log) => log.subarray(0, -5),
  );
  assertEquals(await allLines(server.port), ["a 1.0 1"]);
  assertMatch(
    server.stderr,
    /warning: .*metrics\.log: .* cut off the last \d+ bytes .*kept as .*metrics\.log\.damaged-/,
  );
});

Deno.test("a corrupt last record (a flipped byte) is dropped and the server starts", async () => {
  await using dir = await dataDir();
  await using server = await damagedRestart(dir.path, (log) => {
    const copy = log.slice();
    copy[copy.length - 3] ^= 0xff;
    return copy;
  });
  assertEquals(await allLines(server.port), ["a 1.0 1"]);
  assertMatch(server.stderr, /CRC-32/);
});

Deno.test("garbage appended to the log is dropped and later puts are kept", async () => {
  await using dir = await dataDir();
  {
    await using server = await damagedRestart(
      dir.path,
      (log) => new Uint8Array([...log, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2]),
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

Deno.test("a data file that is not a log stops start-up with exit 1, untouched", async () => {
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
  assertMatch(stderr, /cannot open the metrics log .*metrics\.log/);
  assertEquals(
    await Deno.readTextFile(`${dir.path}/metrics.log`),
    "not a log\n",
  );
});
