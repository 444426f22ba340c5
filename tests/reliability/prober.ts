/**
 * What the turn tests (and the fairness bench) share: a prober that puts
 * one point again and again on its own connection, from its own thread,
 * and times each answer; a pipelined filler; and a reader that checks
 * every byte of `get` answers against an oracle written from the points
 * sent.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { exchange, ServerProcess } from "../helpers/server.ts";
import { nextTurn } from "../../src/internal/turn.ts";

const encoder = new TextEncoder();

/** The prober's point: stored once before anything else, then rewritten. */
const PROBE_LINE = "probe 1.0 1\n";

/** What a prober measured. */
export interface ProbeResult {
  /** The slowest answer, in ms. */
  readonly worstMs: number;
  /** The median answer, in ms. */
  readonly medianMs: number;
  /** Puts answered. */
  readonly count: number;
}

/**
 * Puts the same point again and again on its own connection, from its own
 * thread (a worker), pausing `pauseMs` between puts; resolves once the
 * first put was answered. `stop()` returns what it measured.
 */
export async function prober(
  port: number,
  pauseMs = 10,
): Promise<{ stop(): Promise<ProbeResult> }> {
  const worker = new Worker(
    new URL("./prober_worker.ts", import.meta.url),
    { type: "module" },
  );
  const started = Promise.withResolvers<void>();
  const result = new Promise<ProbeResult>((resolve, reject) => {
    worker.onmessage = (event) => {
      if (event.data.started) started.resolve();
      else if (event.data.error === undefined) resolve(event.data);
      else reject(new Error(event.data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  }).finally(() => worker.terminate());
  result.catch(started.reject);
  worker.postMessage({ port, pauseMs });
  await started.promise;
  let stopped: Promise<ProbeResult> | undefined;
  return {
    stop() {
      if (stopped === undefined) {
        worker.postMessage("stop");
        stopped = result;
      }
      return stopped;
    },
  };
}

/** Points of one piece of the oracle: small, so building one is quick. */
const ORACLE_PIECE = 8192;

/** The data lines of `key` holding value `i` at second `i`, `from <= i < to`. */
function pointLines(key: string, from: number, to: number): string {
  const lines: string[] = [];
  // The protocol writes an integral value with `.0`.
  for (let i = from; i < to; i++) lines.push(`${key} ${i}.0 ${i}\n`);
  return lines.join("");
}

/** The bytes one answer must hold, in pieces, made afresh for each answer. */
export type Oracle = () => Iterable<Uint8Array>;

/** The oracle of `get` or `get *` over `keys` of `count` points each. */
export function answerOf(keys: readonly string[], count: number): Oracle {
  return function* () {
    yield encoder.encode(`ok\n${keys.includes("probe") ? PROBE_LINE : ""}`);
    for (const key of keys) {
      if (key === "probe") continue;
      for (let from = 0; from < count; from += ORACLE_PIECE) {
        const to = Math.min(count, from + ORACLE_PIECE);
        yield encoder.encode(pointLines(key, from, to));
      }
    }
    yield encoder.encode("\n");
  };
}

/**
 * Reads `count` answers from `conn`, checking every byte against the
 * oracle; returns the bytes read. Fails at the first byte that differs.
 */
export async function readAnswers(
  conn: Deno.Conn,
  oracle: Oracle,
  count: number,
): Promise<number> {
  const buf = new Uint8Array(1024 * 1024);
  let filled = 0;
  let used = 0;
  let bytes = 0;
  for (let answer = 0; answer < count; answer++) {
    let offset = 0;
    for (const piece of oracle()) {
      for (let p = 0; p < piece.length;) {
        if (used === filled) {
          const n = await conn.read(buf);
          if (n === null) {
            throw new Error(`closed in answer ${answer} at byte ${offset + p}`);
          }
          [filled, used, bytes] = [n, 0, bytes + n];
          // A read of bytes already there resolves without a turn of the
          // event loop: let this process's other sockets in.
          await nextTurn();
        }
        const length = Math.min(piece.length - p, filled - used);
        for (let i = 0; i < length; i++) {
          if (buf[used + i] !== piece[p + i]) {
            const got = new TextDecoder().decode(
              buf.subarray(used + i).slice(0, 60),
            );
            throw new Error(
              `answer ${answer} differs at byte ${offset + p + i}: got ${
                JSON.stringify(got)
              }`,
            );
          }
        }
        p += length;
        used += length;
      }
      offset += piece.length;
    }
  }
  if (used < filled) throw new Error("bytes after the last answer");
  return bytes;
}

/** Writes `text` fully. */
export async function sendAll(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
}

/**
 * Stores `count` points (value `i` at second `i`) under each of `keys`
 * through one pipelined connection; every put must be answered `ok`.
 */
export async function fill(
  port: number,
  keys: readonly string[],
  count: number,
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const sending = (async () => {
      let text = "";
      for (const key of keys) {
        for (let i = 0; i < count; i++) {
          text += `put ${key} ${i} ${i}\n`;
          // Small pieces: this loop shares its thread with the reader.
          if (text.length >= 1024 * 1024) {
            await sendAll(conn, text);
            text = "";
          }
        }
      }
      await sendAll(conn, text);
    })();
    const ok = encoder.encode("ok\n\n");
    await readAnswers(conn, () => [ok], keys.length * count);
    await sending;
  } finally {
    conn.close();
  }
}

/** A server with the prober's point stored first, so `get *` is known. */
export async function startServer(args: string[] = []): Promise<ServerProcess> {
  const server = await ServerProcess.start(args);
  assertEquals(await exchange(server.port, "put probe 1 1\n", 1), "ok\n\n");
  return server;
}
