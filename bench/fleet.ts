/**
 * The fleet data set of `bench/victoriametrics.ts`: 1,000 keys (100 hosts ×
 * 10 metrics), each with one point every 10 s and values of one or two
 * decimals, sent interleaved by timestamp as a fleet of agents would. Also
 * what sends it: the protocol over one pipelined connection, or
 * VictoriaMetrics' own `/api/v1/import`, and timed reads of both.
 *
 * @module
 */

import { Client } from "../mod.ts";
import { HOST } from "./common.ts";

/** Keys of the data set. */
export const FLEET_KEYS = 1000;
/** Seconds between two points of a key. */
export const FLEET_STEP = 10;
const METRICS = [
  "cpu",
  "mem",
  "disk",
  "load",
  "temp",
  "net.in",
  "net.out",
  "iops",
  "errors",
  "fan",
];
const NAMES = Array.from(
  { length: FLEET_KEYS },
  (_, k) =>
    `host${String(Math.floor(k / 10)).padStart(3, "0")}.${METRICS[k % 10]}`,
);
const NL = 0x0a;
const LETTER_E = 0x65;
/** Lines per chunk the raw writer writes. */
export const CHUNK_LINES = 8192;
/** The raw writer stops writing while this many answers are outstanding. */
const MAX_UNANSWERED = 256 * 1024;
const encoder = new TextEncoder();

/** Which points: `perKey` points of each of `keys`, from second `base`. */
export interface FleetSlice {
  /** Timestamp of every key's first point (Unix seconds). */
  readonly base: number;
  /** Points of each key. */
  readonly perKey: number;
  /** Key numbers, each in `[0, FLEET_KEYS)`. */
  readonly keys: readonly number[];
}

/** The name of key `k`. */
export function fleetKey(k: number): string {
  return NAMES[k];
}

/** The value of key `k`'s `i`-th point: 0.01 to 99.99. */
export function fleetValue(k: number, i: number): number {
  return ((k * 7919 + i * 104_729) % 9999 + 1) / 100;
}

/** The points of `slice`, interleaved by timestamp, as `put` lines in chunks. */
export function fleetLines(slice: FleetSlice): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let text = "";
  let lines = 0;
  for (let i = 0; i < slice.perKey; i++) {
    const timestamp = slice.base + i * FLEET_STEP;
    for (const k of slice.keys) {
      text += `put ${NAMES[k]} ${fleetValue(k, i)} ${timestamp}\n`;
      if (++lines === CHUNK_LINES) {
        chunks.push(encoder.encode(text));
        text = "";
        lines = 0;
      }
    }
  }
  if (text !== "") chunks.push(encoder.encode(text));
  return chunks;
}

/**
 * The same points as `/api/v1/import` bodies of `batch` points each (taken
 * in the interleaved order, one JSON line per key of the batch), timestamps
 * in whole seconds' milliseconds.
 */
export function fleetImportBodies(
  slice: FleetSlice,
  batch: number,
): Uint8Array<ArrayBuffer>[] {
  const bodies: Uint8Array<ArrayBuffer>[] = [];
  const values = new Map<number, number[]>();
  const times = new Map<number, number[]>();
  let points = 0;
  const flush = () => {
    let body = "";
    for (const [k, vs] of values) {
      body += `{"metric":{"__name__":${JSON.stringify(NAMES[k])}},"values":[${
        vs.join(",")
      }],"timestamps":[${(times.get(k) as number[]).join(",")}]}\n`;
    }
    bodies.push(encoder.encode(body));
    values.clear();
    times.clear();
    points = 0;
  };
  for (let i = 0; i < slice.perKey; i++) {
    for (const k of slice.keys) {
      let vs = values.get(k);
      if (vs === undefined) {
        values.set(k, vs = []);
        times.set(k, []);
      }
      vs.push(fleetValue(k, i));
      (times.get(k) as number[]).push((slice.base + i * FLEET_STEP) * 1000);
      if (++points === batch) flush();
    }
  }
  if (points > 0) flush();
  return bodies;
}

/**
 * Writes `chunks` (`lines` put lines) over one connection to the server at
 * `port` while reading the answers; returns the seconds from the first
 * write to the last answer. Throws on an `error` answer or a closed
 * connection.
 */
export async function sendPipelined(
  port: number,
  chunks: readonly Uint8Array[],
  lines: number,
): Promise<number> {
  const conn = await Deno.connect({ hostname: HOST, port });
  conn.setNoDelay(true);
  let answered = 0;
  let wake: (() => void) | undefined;
  const reading = (async (): Promise<void> => {
    const buf = new Uint8Array(1024 * 1024);
    let newlines = 0;
    while (answered < lines) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("the server closed the connection");
      const read = buf.subarray(0, n);
      // `ok\n\n` holds no "e": an answer with one is an error.
      if (read.includes(LETTER_E)) {
        throw new Error(
          `the server answered an error: ${
            new TextDecoder().decode(read.subarray(read.indexOf(LETTER_E)))
              .slice(0, 200)
          }`,
        );
      }
      for (
        let at = read.indexOf(NL);
        at !== -1;
        at = read.indexOf(NL, at + 1)
      ) {
        newlines++;
      }
      answered = newlines >> 1;
      wake?.();
    }
  })();
  const failed = reading.then(() => false, (error) => {
    wake?.();
    throw error;
  });
  const started = performance.now();
  try {
    let sent = 0;
    for (const chunk of chunks) {
      while (sent - answered >= MAX_UNANSWERED) {
        await Promise.race([
          new Promise<void>((resolve) => wake = resolve),
          failed,
        ]);
      }
      for (let at = 0; at < chunk.length;) {
        at += await conn.write(chunk.subarray(at));
      }
      sent += CHUNK_LINES;
    }
    await failed;
    return (performance.now() - started) / 1000;
  } finally {
    conn.close();
    await reading.catch(() => {});
  }
}

/**
 * POSTs `bodies` to VictoriaMetrics' `/api/v1/import` at `url` over
 * `connections` connections; returns the seconds until the last 2xx.
 */
export async function importDirect(
  url: string,
  bodies: readonly Uint8Array<ArrayBuffer>[],
  connections: number,
): Promise<number> {
  using client = Deno.createHttpClient({});
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const response = await fetch(`${url}/api/v1/import`, {
          method: "POST",
          body,
          client,
        });
        const text = await response.text();
        if (!response.ok) {
          throw new Error(`import: HTTP ${response.status}: ${text}`);
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * The median of `runs` timings of `read` (milliseconds), after `warmUps`
 * untimed calls: a server that has been answering for a while, as users
 * meet it, not the first answers V8 runs before it compiled the read path.
 */
export async function medianMs(
  runs: number,
  read: () => Promise<void>,
  warmUps = 0,
): Promise<number> {
  for (let w = 0; w < warmUps; w++) await read();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await read();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * A connection that sends `get` requests and reads each whole answer
 * (bytes only, up to its closing empty line): the time a server takes
 * to answer, without a client's parsing.
 */
export class RawGetter implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  readonly #buf = new Uint8Array(1024 * 1024);

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to the server at `port`. */
  static async connect(port: number): Promise<RawGetter> {
    const conn = await Deno.connect({ hostname: HOST, port });
    conn.setNoDelay(true);
    return new RawGetter(conn);
  }

  /** Sends `get key` and reads the answer; returns its data lines. */
  async get(key: string): Promise<number> {
    await this.#conn.write(encoder.encode(`get ${key}\n`));
    let lines = -1;
    let last = 0;
    let beforeLast = 0;
    for (;;) {
      const n = await this.#conn.read(this.#buf);
      if (n === null) throw new Error("the server closed the connection");
      const read = this.#buf.subarray(0, n);
      for (
        let at = read.indexOf(NL);
        at !== -1;
        at = read.indexOf(NL, at + 1)
      ) {
        lines++;
      }
      beforeLast = n > 1 ? read[n - 2] : last;
      last = read[n - 1];
      if (last === NL && beforeLast === NL) return lines - 1;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#conn.close();
    return Promise.resolve();
  }
}

/**
 * Reads VictoriaMetrics' export of `selector` from `url` to its end;
 * returns its bytes (decompressed).
 */
export async function exportBytes(
  client: Deno.HttpClient,
  url: string,
  selector: string,
  gzip = false,
): Promise<number> {
  const query = new URLSearchParams({ "match[]": selector, start: "0" });
  // Uncompressed, as the front-end asks for it; or gzip, as fetch asks by
  // default (VictoriaMetrics then compresses, fetch decompresses).
  const response = await fetch(`${url}/api/v1/export?${query}`, {
    client,
    headers: gzip ? {} : { "accept-encoding": "identity" },
  });
  if (!response.ok || response.body === null) {
    throw new Error(`export: HTTP ${response.status}`);
  }
  let bytes = 0;
  for await (const chunk of response.body) bytes += chunk.length;
  return bytes;
}

/**
 * Reads back every point of `sample` keys of `slice` through the server at
 * `port` and throws on any difference. Points of keys put through another
 * front-end show once VictoriaMetrics makes them searchable, so a short
 * read is retried for up to `patience` ms.
 */
export async function readBackFleet(
  port: number,
  slice: FleetSlice,
  sample: readonly number[],
  patience = 0,
): Promise<void> {
  await using client = new Client(HOST, port, {
    timeout: 60,
    maxResponseBytes: 2 ** 30,
  });
  const deadline = performance.now() + patience;
  for (const k of sample) {
    const key = NAMES[k];
    let got = (await client.get(key))[key] ?? [];
    while (got.length < slice.perKey && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      got = (await client.get(key))[key] ?? [];
    }
    if (got.length !== slice.perKey) {
      throw new Error(
        `read back ${got.length} points of ${key}, put ${slice.perKey}`,
      );
    }
    for (let i = 0; i < got.length; i++) {
      const [timestamp, value] = got[i];
      const expected = [slice.base + i * FLEET_STEP, fleetValue(k, i)];
      if (timestamp !== expected[0] || value !== expected[1]) {
        throw new Error(
          `read back ${key} ${value} at ${timestamp}, put ${expected[1]} at ${
            expected[0]
          }`,
        );
      }
    }
  }
}
