/**
 * `metrics collect`: an agent that samples this machine every interval and
 * puts the points, keeping unacknowledged ones across a server restart.
 *
 * @module
 */

import { isValidKey } from "../protocol/grammar.ts";
import {
  CLIENT_BOOLEAN_FLAGS,
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  clientFromFlags,
} from "./client_flags.ts";
import {
  type Command,
  durationFlag,
  numberFlag,
  parseFlags,
  UsageError,
} from "./command.ts";
import { hostPrefix, MachineSampler } from "./machine.ts";
import type { Client } from "../client/client.ts";
import { delay } from "../internal/delay.ts";
import { stopSignal } from "./signals.ts";

const HELP = `Usage: metrics collect [options]

Samples this machine at once, then every interval, and puts the points;
each name ends in its unit:
  PREFIX.cpu_percent     CPU busy, percent (the first sample's over 0.25 s)
  PREFIX.load1           1-minute load average (runnable processes)
  PREFIX.memory_bytes    memory in use, bytes
  PREFIX.memory_percent  memory in use, percent
  PREFIX.disk_percent    disk space in use on /, percent
  PREFIX.net.rx_bytes_per_second, PREFIX.net.tx_bytes_per_second
                         network bytes received and sent per second,
                         loopback excluded (Deno reads /proc/net/dev only
                         with --allow-all: run with -A to include them)
Points the server did not acknowledge are kept (up to --buffer) and sent
again, so a server restart loses nothing; beyond the buffer the oldest are
dropped and counted. Ctrl-C stops after a last flush. Exits 0 when every
sample was acknowledged, 1 otherwise.

Options:
  --interval TIME     time between samples: 10s, 1m, 1m30s; at least 1s, as
                      the server keeps one value per key and second
                      (default 10s)
  --count N           stop after N samples (default: run until Ctrl-C)
  --prefix NAME       metric name prefix (default: this host's name)
  --buffer N          points kept while the server is unreachable
                      (default 10000)
${CLIENT_FLAGS_HELP}
  -h, --help          show this help

Examples:
  metrics collect --interval 10s
  metrics collect --interval 1s --count 5 --prefix palm
`;

/** The window over which the first sample's rates are measured (ms). */
const FIRST_WINDOW_MS = 250;

/** What an agent did: points by outcome, and samples taken. */
export interface CollectResult {
  /** Points the server acknowledged. */
  acknowledged: number;
  /** Points the server rejected (`error`): not sent again. */
  rejected: number;
  /** Oldest points dropped while the server was unreachable. */
  dropped: number;
  /** Points still waiting for the server. */
  waiting: number;
  /** Samples taken. */
  samples: number;
}

/** What {@link collectSamples} needs. */
export interface CollectOptions {
  /**
   * Where points go: a client whose recorder keeps them (`maxBuffered`)
   * until the server acknowledged them.
   */
  client: Pick<Client, "record" | "flush" | "stats">;
  /** Metric name prefix. */
  prefix: string;
  /** Milliseconds between samples. */
  intervalMs: number;
  /** Samples to take; unbounded when undefined. */
  count?: number;
  /** Stops the loop (after a last flush). */
  signal: AbortSignal;
  /** Receives one status line per sample. */
  report: (line: string) => void;
  /**
   * Hears once about a metric that cannot be sampled here (network bytes
   * without all permissions).
   * @default {report}
   */
  onNote?: (note: string) => void;
  /**
   * Number of the first sample in the status lines. 1 is a fresh run, which
   * samples at once; a higher number goes on from an earlier run, and waits
   * one interval before its first sample.
   * @default {1}
   */
  firstSample?: number;
}

/**
 * Takes samples (the first at once) until `count` or `signal`, then
 * flushes once more.
 */
export async function collectSamples(
  options: CollectOptions,
): Promise<CollectResult> {
  const { client, prefix, intervalMs, count, signal, report } = options;
  const sampler = await MachineSampler.start(prefix, options.onNote ?? report);
  const first = options.firstSample ?? 1;
  const result = (): CollectResult => {
    const { acknowledged, failed, dropped, buffered } = client.stats().recorder;
    return {
      acknowledged,
      rejected: failed,
      dropped,
      waiting: buffered,
      samples,
    };
  };
  let samples = 0;
  // A fresh run samples at once, after a short window for its first CPU and
  // network rates; a run going on from an earlier one waits a whole
  // interval, so its first sample does not share the last one's second.
  let wait = first === 1 ? Math.min(FIRST_WINDOW_MS, intervalMs) : intervalMs;
  while (count === undefined || samples < count) {
    await delay(wait, signal);
    wait = intervalMs;
    if (signal.aborted) break;
    const points = await sampler.sample(Math.floor(Date.now() / 1000));
    samples++;
    for (const { key, value, timestamp } of points) {
      client.record(key, value, { timestamp });
    }
    const error = await client.flush().then(() => undefined, (e: Error) => e);
    const { acknowledged, waiting, dropped } = result();
    const number = first + samples - 1;
    report(
      error
        ? `sample ${number}: ${points.length} points; server unreachable (${error.message}); ${waiting} waiting, ${dropped} dropped`
        : `sample ${number}: ${points.length} points; ${acknowledged} acknowledged in all`,
    );
  }
  if (result().waiting > 0) await client.flush().catch(() => {});
  return result();
}

function positiveInteger(
  name: string,
  text: string | undefined,
): number | undefined {
  const value = numberFlag(name, text);
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new UsageError(
      `--${name} expects a whole number above 0, got ${value}`,
    );
  }
  return value;
}

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: [...CLIENT_FLAGS, "interval", "count", "prefix", "buffer"],
    boolean: CLIENT_BOOLEAN_FLAGS,
  });
  if (flags._.length > 0) {
    throw new UsageError(`unexpected argument "${flags._[0]}"`);
  }
  const interval = durationFlag("interval", flags.interval ?? "10s")!;
  if (interval < 1) {
    throw new UsageError(
      `--interval must be at least 1s, got "${flags.interval}": the server keeps one value per key and second, so closer samples would overwrite each other`,
    );
  }
  const count = positiveInteger("count", flags.count);
  const buffer = positiveInteger("buffer", flags.buffer) ?? 10_000;
  const prefix = flags.prefix ?? hostPrefix(Deno.hostname());
  if (!isValidKey(prefix)) {
    throw new UsageError(
      `--prefix must be a metric name without spaces, got "${prefix}"`,
    );
  }
  await using client = clientFromFlags(flags, {
    maxInFlight: 64,
    maxBuffered: buffer,
  });
  using stop = stopSignal();
  const result = await collectSamples({
    client,
    prefix,
    intervalMs: interval * 1000,
    count,
    signal: stop.signal,
    report: (line) => console.error(line),
  });
  console.log(
    `samples ${result.samples}, acknowledged ${result.acknowledged}, rejected ${result.rejected}, ` +
      `dropped ${result.dropped}, not delivered ${result.waiting}`,
  );
  return result.rejected + result.dropped + result.waiting === 0 ? 0 : 1;
}

/** `metrics collect`. */
export const collectCommand: Command = {
  name: "collect",
  summary: "sample this machine (cpu, memory, disk, network) every interval",
  help: HELP,
  run,
};
