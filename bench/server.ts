/**
 * A bench server process. `Deno.args[0]` is JSON:
 * - `{"kind":"floor"}`: the minimal server, the fastest thing possible. It
 *   counts `\n` bytes and answers `ok\n\n` for each, nothing else. With
 *   `"closeAfterAnswer": true` it closes each connection after its first
 *   answer, as some servers do.
 * - `{"kind":"metrics", "dataDir"?, "fsync"?}`: the embedded server.
 * - `{"kind":"metrics", "victoriametrics": URL}`: a front-end on the
 *   VictoriaMetrics at URL (`metrics serve --storage victoriametrics=URL`).
 *
 * Prints `listening on HOST:PORT`. Each `mem` line on stdin prints a
 * {@link MemoryReport} as JSON (a front-end's with the writes it
 * remembers); end of stdin stops the server.
 *
 * @module
 */

import {
  serve,
  type VictoriaMetricsOptions,
  VictoriaMetricsStore,
} from "../src/server/mod.ts";
import type { FsyncMode, TlsCertificate } from "../src/server/mod.ts";
import { HOST, memoryNow } from "./common.ts";

interface ServerTask {
  readonly kind: "floor" | "metrics";
  readonly dataDir?: string;
  readonly fsync?: FsyncMode;
  /** `metrics` only: keep points in the VictoriaMetrics at this URL. */
  readonly victoriametrics?: string;
  /** With `victoriametrics`: options of its store besides `urls`. */
  readonly vmOptions?: Omit<VictoriaMetricsOptions, "urls">;
  /** Serve TLS with this certificate. */
  readonly tls?: TlsCertificate;
  /** `floor` only: close each connection once it has been answered. */
  readonly closeAfterAnswer?: boolean;
}

const NL = 0x0a;
/** `ok\n\n` repeated, so many answers leave in one write. */
const ANSWERS = new TextEncoder().encode("ok\n\n".repeat(64 * 1024));

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
}

/** One minimal connection: every `\n` read is one request, answered `ok`. */
async function floorSession(
  conn: Deno.TcpConn,
  closeAfterAnswer: boolean,
): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(1024 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      const read = buf.subarray(0, n);
      let requests = 0;
      for (
        let at = read.indexOf(NL);
        at !== -1;
        at = read.indexOf(NL, at + 1)
      ) {
        requests++;
      }
      if (closeAfterAnswer && requests > 0) {
        await writeAll(conn, ANSWERS.subarray(0, 4));
        break;
      }
      while (requests > 0) {
        const now = Math.min(requests, ANSWERS.length / 4);
        await writeAll(conn, ANSWERS.subarray(0, now * 4));
        requests -= now;
      }
    }
  } catch {
    // The bench client left; nothing to report.
  } finally {
    conn.close();
  }
}

function startFloor(closeAfterAnswer: boolean): () => Promise<void> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const sessions = new Set<Promise<void>>();
  const accepting = (async (): Promise<void> => {
    try {
      for await (const conn of listener) {
        const session = floorSession(conn, closeAfterAnswer);
        sessions.add(session);
        session.finally(() => sessions.delete(session));
      }
    } catch {
      // Listener closed.
    }
  })();
  console.log(`listening on ${HOST}:${listener.addr.port}`);
  return async () => {
    listener.close();
    await accepting;
    await Promise.all(sessions);
  };
}

/** Writes a front-end remembers now, if this is one. */
let recent = (): number | undefined => undefined;

async function main(): Promise<void> {
  const task = JSON.parse(Deno.args[0]) as ServerTask;
  let stop: () => Promise<void>;
  if (task.kind === "floor") {
    stop = startFloor(task.closeAfterAnswer ?? false);
  } else {
    const storage = task.victoriametrics === undefined
      ? undefined
      : await VictoriaMetricsStore.open({
        ...task.vmOptions,
        urls: [task.victoriametrics],
      });
    recent = () => storage?.stats().recent;
    const server = await serve({
      hostname: HOST,
      port: 0,
      dataDir: task.dataDir,
      fsync: task.fsync,
      tls: task.tls,
      storage,
      log: () => {},
    });
    console.log(`listening on ${server.hostname}:${server.port}`);
    stop = () => server.close();
  }
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const text of lines) {
    pending += text;
    for (
      let nl = pending.indexOf("\n");
      nl !== -1;
      nl = pending.indexOf("\n")
    ) {
      const command = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (command === "mem") {
        console.log(JSON.stringify({ ...memoryNow(), recent: recent() }));
      }
    }
  }
  await stop();
}

await main();
