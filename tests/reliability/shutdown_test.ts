/**
 * `metrics serve --data` as operators meet it: a second server on the same
 * directory, and SIGTERM while a peer has stopped reading.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  exchange,
  RawSocket,
  runCli,
  ServerProcess,
  tempDir,
} from "../helpers/server.ts";
import { assertSameLines } from "../helpers/same_lines.ts";
import { sleep } from "./config.ts";

Deno.test("shutdown: a second server on the same --data directory refuses to start, naming it", async () => {
  await using dir = await tempDir();
  await using first = await ServerProcess.start(["--data", dir.path]);
  const second = await runCli(["serve", "--port", "0", "--data", dir.path]);
  assertEquals(second.code, 1);
  assertEquals(second.stdout, "");
  const lines = second.stderr.trim().split("\n");
  assertEquals(lines.length, 1, second.stderr);
  assertMatch(lines[0], new RegExp(`${dir.path} is in use`));
  // The first one is untouched.
  assertEquals(await exchange(first.port, "put a 1 1\n", 1), "ok\n\n");
});

/**
 * The lines of `count` points of `key`: point `i` is `i + 0.5` at second
 * `i`, spelled the same in a put and in an answer.
 */
function pointLines(key: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${key} ${i + 0.5} ${i}`);
}

/** Puts `count` points of `key` on one connection; all acknowledged. */
async function putAll(port: number, key: string, count: number) {
  const lines = pointLines(key, count).map((line) => `put ${line}\n`);
  const answers = await exchange(port, lines.join(""), count);
  assertEquals(answers, "ok\n\n".repeat(count));
}

/** Starts a server with a 50,000-point key and a peer that stopped reading. */
async function stuckServer(dir: string, timeout: number) {
  const server = await ServerProcess.start([
    "--data",
    dir,
    "--idle-timeout",
    "0",
    "--shutdown-timeout",
    String(timeout),
  ]);
  await putAll(server.port, "big", 50_000);
  const stuck = await RawSocket.connect(server.port);
  await stuck.send("get *\n".repeat(40));
  await putAll(server.port, "acked", 500);
  await sleep(100);
  return { server, stuck };
}

/** Restarts on `dir` and checks every acknowledged point is there, exactly. */
async function assertAllThere(dir: string): Promise<void> {
  await using again = await ServerProcess.start(["--data", dir]);
  const answer = await exchange(again.port, "get big\nget acked\n", 2);
  const expected = [pointLines("big", 50_000), pointLines("acked", 500)]
    .map((lines) => `ok\n${lines.join("\n")}\n\n`).join("");
  assertSameLines(answer.split("\n"), expected.split("\n"), "after restart");
  // The stop wrote a checkpoint: the start replays nothing.
  assertMatch(again.stderr, /replayed 0 puts .*\(50500 points of 2 keys\)/);
}

Deno.test("shutdown: SIGTERM with a peer that stopped reading exits within --shutdown-timeout, nothing acknowledged lost", async () => {
  await using dir = await tempDir();
  const { server, stuck } = await stuckServer(dir.path, 1);
  await using _server = server;
  await using _stuck = stuck;
  const started = performance.now();
  const status = await server.stop("SIGTERM");
  const took = performance.now() - started;
  console.log(`exited ${status.code} in ${took.toFixed(0)} ms (timeout 1 s)`);
  assertEquals(status.code, 0);
  // Only a wait for the peer that never reads (60 s, or forever) fails.
  assert(took < 15_000, `took ${took} ms`);
  await assertAllThere(dir.path);
});

Deno.test("shutdown: a second SIGTERM disconnects at once, still after the fsync", async () => {
  await using dir = await tempDir();
  const { server, stuck } = await stuckServer(dir.path, 60);
  await using _server = server;
  await using _stuck = stuck;
  const started = performance.now();
  const stopping = server.stop("SIGTERM");
  await sleep(300);
  const status = await server.stop("SIGTERM");
  await stopping;
  const took = performance.now() - started;
  console.log(
    `exited ${status.code} in ${took.toFixed(0)} ms after two signals`,
  );
  assertEquals(status.code, 0);
  // Only a wait for the peer that never reads (60 s, or forever) fails.
  assert(took < 15_000, `took ${took} ms`);
  assertMatch(server.stderr, /disconnecting every peer now/);
  await assertAllThere(dir.path);
});
