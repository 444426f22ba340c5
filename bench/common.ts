/**
 * What the bench processes share: the workload (which points are put), the
 * messages they exchange, and small helpers.
 *
 * @module
 */

/** Every bench socket is on the loopback interface. */
export const HOST = "127.0.0.1";
/** Points are spread over this many keys, each in time order. */
export const KEYS = 100;
/** Timestamp of the first point of each key (Unix seconds). */
export const BASE_TIMESTAMP = 1_700_000_000;

const KEY_NAMES = Array.from({ length: KEYS }, (_, k) => `bench.k${k}`);

/** The key of the `i`-th point of the workload (a program's constant). */
export function keyOf(i: number): string {
  return KEY_NAMES[i % KEYS];
}

/** The timestamp of the `i`-th point: each key's points one second apart. */
export function timestampOf(i: number): number {
  return BASE_TIMESTAMP + Math.floor(i / KEYS);
}

/** The value of the `i`-th point: short decimals such as `249.75`. */
export function valueOf(i: number): number {
  return (i % 1000) / 4;
}

/**
 * Why `value` at `timestamp` under `key` is not the workload's point for
 * that key and second, or `undefined` when it is.
 */
export function wrongPoint(
  key: string,
  timestamp: number,
  value: number,
): string | undefined {
  const k = KEY_NAMES.indexOf(key);
  if (k === -1) return `unexpected key ${key}`;
  const i = (timestamp - BASE_TIMESTAMP) * KEYS + k;
  if (!Number.isSafeInteger(i) || i < 0) {
    return `unexpected timestamp ${timestamp} under ${key}`;
  }
  const expected = valueOf(i);
  return value === expected
    ? undefined
    : `${key} at ${timestamp} holds ${value}, not ${expected}`;
}

/** The request line of the `i`-th point, `\n` included. */
export function putLine(i: number): string {
  return `put ${keyOf(i)} ${valueOf(i)} ${timestampOf(i)}\n`;
}

/** What a client child is asked to do (passed as JSON in `Deno.args[0]`). */
export interface ClientTask {
  /** Which loop to run; see `bench/client.ts`. */
  readonly mode: ClientMode;
  /** Port of the server to talk to, on {@link HOST}. */
  readonly port: number;
  /** Most points to send (or to load first, for `get-all`). */
  readonly count: number;
  /** Stop starting new work after this many seconds. */
  readonly seconds: number;
  /** Index of the first point, so later stages store new points. */
  readonly first?: number;
  /** Connections, for `many-*` modes. */
  readonly connections?: number;
  /** Raw writers only: send distinct lines rather than one repeated chunk. */
  readonly fresh?: boolean;
  /** `client-pipelined` only: speak TLS, trusting these CA certificates. */
  readonly caCerts?: string[];
  /** `Client` modes: the `timeout` option in seconds; none when absent. */
  readonly timeout?: number;
  /**
   * `verify` only: read back this many of the {@link KEYS} keys, assuming
   * the workload's points `[0, count)` were stored; without it `get *`
   * reads back every point.
   */
  readonly sampleKeys?: number;
}

/** The loops a client child can run. */
export type ClientMode =
  | "raw-pipelined"
  | "raw-sequential"
  | "client-pipelined"
  | "client-put-many"
  | "client-sequential"
  | "naive-sequential"
  | "naive-connect"
  | "raw-many"
  | "client-many"
  | "get-all"
  | "sequential-compare"
  | "client-record"
  | "record-cost"
  | "verify";

/** What a client child prints as its last stdout line (JSON). */
export interface ClientResult {
  /** Requests answered. */
  readonly points: number;
  /** Seconds from the first write to the last answer. */
  readonly seconds: number;
  /** `get-all` only: client heap bytes held by the parsed result. */
  readonly heapBytes?: number;
  /** `get-all` only: points in the parsed result. */
  readonly gotPoints?: number;
  /** Further figures of some modes, by name. */
  readonly extra?: Record<string, number>;
}

/** What a server child prints for `mem` (JSON). */
export interface MemoryReport {
  /** V8 heap in use, after a full GC. */
  readonly heapUsed: number;
  /** Memory outside the V8 heap (typed-array buffers), after a full GC. */
  readonly external: number;
  /** Resident set size of the process. */
  readonly rss: number;
  /** A VictoriaMetrics front-end's: the writes it remembers. */
  readonly recent?: number;
}

/** Heap and external memory after a full GC (needs `--expose-gc`). */
export function memoryNow(): MemoryReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  gc();
  gc();
  const { heapUsed, external, rss } = Deno.memoryUsage();
  return { heapUsed, external, rss };
}

/** Heap plus external bytes: what stored data costs, typed arrays included. */
export function retained(report: MemoryReport): number {
  return report.heapUsed + report.external;
}

/** One figure of a bench table, the same in every script that prints one. */
export interface RowFigure {
  /** What was measured. */
  readonly name: string;
  /** The measured number, in `unit`. */
  readonly value: number;
  /** `puts/s`, `points/s`, `µs`, `ms`, `s`, `MB`, `B/point`, `x`. */
  readonly unit: string;
  /** `value` divided by the figure named in `floor`, if compared. */
  readonly ratio?: number;
  /** What `ratio` compares with. */
  readonly floor?: string;
  /** The bound the figure is held to, in words (`>= 0.30`). */
  readonly target?: string;
  /** Whether the figure is within its bound. */
  readonly met?: boolean;
}

/** `rows` (the first one the header) as a Markdown table, columns padded. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map((row) => row[c].length))
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  return [
    line(rows[0]),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.slice(1).map(line),
  ].join("\n");
}
