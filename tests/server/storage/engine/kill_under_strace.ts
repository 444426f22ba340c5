/**
 * kill -9 of a real server process on the storage engine at a chosen
 * system call: strace holds the Nth successful call of some kind for 200
 * ms, and the process is killed in that window. Used by the tests of
 * checkpoints, conversions and the disk budget's deletions.
 *
 * @module
 */

import { TextLineStream } from "@std/streams/text-line-stream";
import { ROOT } from "../../../helpers/server.ts";

const SCRIPT = `${ROOT}tests/server/storage/engine/engine_server.ts`;
const OK = "ok\n\n";

// Compiled once, so the runs under strace make no renames of their own.
await new Deno.Command(Deno.execPath(), { args: ["cache", SCRIPT] }).output();

/** Why strace cannot hold calls here, or `undefined` when it can. */
export const STRACE_SKIP: string | undefined = await new Deno.Command(
  "strace",
  {
    args: ["-f", "-qq", "-e", "trace=none", "true"],
    stdout: "null",
    stderr: "null",
  },
).output().then(
  ({ success }) => success ? undefined : "strace cannot trace here",
  () => "strace is not installed",
);

/** How `engine_server.ts` is started. */
export interface ServerScript {
  /** Its `checkpointPoints`. */
  readonly checkpointPoints: number;
  /** Its chunk store's `headPoints`. */
  readonly headPoints: number;
  /** Its disk budget in bytes, if any. */
  readonly maxDisk?: number;
  /** Its compaction clock in Unix seconds (0: no day is over), else the wall clock. */
  readonly compactionClock?: number;
}

/**
 * Runs the server on `dir` under strace, which holds each call of
 * `syscalls` for 200 ms after it returns, and kills it with SIGKILL in
 * that window of the `n`th successful one on a path in `dir`: during
 * start-up, while `work`
 * runs against its port, or after (if there are fewer calls). Returns the
 * puts `work` saw acknowledged, and whether the kill came at the `n`th
 * call. `script` is what `engine_server.ts` is started with.
 */
export async function runUntilKilled(
  dir: string,
  syscalls: string,
  n: number,
  work: (port: number, died: Promise<Deno.CommandStatus>) => Promise<number>,
  script: ServerScript = { checkpointPoints: 500, headPoints: 8 },
): Promise<{ acknowledged: number; reached: boolean }> {
  const child = new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-y", // paths for file descriptors: fsync(5</tmp/x/wal>)
      `-etrace=${syscalls}`,
      `-einject=${syscalls}:delay_exit=200000`,
      Deno.execPath(),
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      SCRIPT,
      dir,
      String(script.checkpointPoints),
      String(script.headPoints),
      String(script.maxDisk ?? "none"),
      String(script.compactionClock ?? "now"),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream() as TransformStream<string, string>,
    );
  let pid: number | undefined;
  let calls = 0;
  const kill = () => {
    if (pid === undefined) return;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already dead */ }
  };
  const watching = (async () => {
    for await (const line of lines(child.stderr)) {
      // Only calls on the data directory count: Deno's own caches under
      // ~/.cache/deno fsync and rename too, at moments of their own.
      if (
        line.includes(dir) && / = 0 \(DELAYED\)$/.test(line) && ++calls === n
      ) kill();
    }
  })();
  let port: number | undefined;
  for await (const line of lines(child.stdout)) {
    pid ??= Number(/^pid (\d+)$/.exec(line)?.[1]) || undefined;
    if (calls >= n) kill(); // the call came before the pid
    port = Number(/listening on [^\s]+:(\d+)$/.exec(line)?.[1]) || undefined;
    if (port !== undefined) break;
  }
  const acknowledged = port === undefined ? 0 : await work(port, child.status);
  // A checkpoint may still be running after the last put: give it time.
  for (let i = 0; i < 40 && calls < n; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const reached = calls >= n;
  kill();
  await child.status;
  await watching;
  return { acknowledged, reached };
}

/**
 * Sends `lines` (protocol requests answered `ok`) in waves of `wave`,
 * each pipelined, with a pause after each so checkpoints run between
 * them; resolves with the `ok`s counted until all came or the server
 * died.
 */
export async function sendPuts(
  port: number,
  died: Promise<Deno.CommandStatus>,
  lines: readonly string[],
  wave: number,
): Promise<number> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let dead = false;
  died.then(() => dead = true);
  const decoder = new TextDecoder();
  const buf = new Uint8Array(64 * 1024);
  let answers = "";
  const acknowledged = () => answers.split(OK).length - 1;
  for (let from = 0; from < lines.length && !dead; from += wave) {
    const to = Math.min(lines.length, from + wave);
    const requests = lines.slice(from, to).join("");
    const sending = conn.write(new TextEncoder().encode(requests)).catch(() =>
      0
    );
    // Bounded: the server answers every put, or dies and the read ends.
    while (acknowledged() < to) {
      const count = await conn.read(buf).catch(() => null);
      if (count === null) {
        dead = true;
        break;
      }
      answers += decoder.decode(buf.subarray(0, count));
    }
    await sending;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return acknowledged();
}
