/**
 * What the turn tests share: a prober that puts one point again and again
 * on its own connection and times each answer, a pipelined filler, and a
 * reader that checks every byte of `get` answers against an oracle written
 * from the points sent.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { exchange, RawSocket, ServerProcess } from "../helpers/server.ts";
import { nextTurn } from "../../src/internal/turn.ts";
import { sleep } from "./config.ts";

const encoder = new TextEncoder();

/** The prober's point: stored once before anything else, then rewritten. */
const PROBE_LINE = "probe 1.0 1\n";

/**
 * Puts the same point again and again on its own connection until
 * stopped, pausing `pauseMs` between puts; returns the slowest answer in
 * ms and how many were answered.
 */
export function prober(port: number, pauseMs = 10): {
  stop(): Promise<{ worstMs: number; count: number }>;
} {
  let stopping = false;
  const done = (async () => {
    await using socket = await RawSocket.connect(port);
    let worstMs = 0;
    let count = 0;
    while (!stopping) {
      const started = performance.now();
      await socket.send("put probe 1 1\n");
      assertEquals(await socket.responses(1), ["ok\n\n"]);
      worstMs = Math.max(worstMs, performance.now() - started);
      count++;
      await sleep(pauseMs);
    }
    return { worstMs, count };
  })();
  return {
    stop() {
      stopping = true;
      return done;
    },
  };
}

/** The data lines of `key` holding value `i` at second `i`, `i < count`. */
export function pointLines(key: string, count: number): string {
  const lines: string[] = [];
  // The protocol writes an integral value with `.0`.
  for (let i = 0; i < count; i++) lines.push(`${key} ${i}.0 ${i}\n`);
  return lines.join("");
}

/** The bytes one answer must hold, in pieces, made afresh for each answer. */
export type Oracle = () => Iterable<Uint8Array>;

/** The oracle of `get` or `get *` over `keys` of `count` points each. */
export function answerOf(keys: readonly string[], count: number): Oracle {
  return function* () {
    yield encoder.encode(`ok\n${keys.includes("probe") ? PROBE_LINE : ""}`);
    for (const key of keys) {
      if (key !== "probe") yield encoder.encode(pointLines(key, count));
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
          // event loop: without this, the prober in this process starves.
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
        for (let i = 0; i < count; i++) text += `put ${key} ${i} ${i}\n`;
        if (text.length >= 4 * 1024 * 1024) {
          await sendAll(conn, text);
          text = "";
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
