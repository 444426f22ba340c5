/**
 * `metrics serve`: runs the embedded server until SIGINT or SIGTERM.
 *
 * @module
 */

import {
  type FsyncMode,
  serve,
  type ServerOptions,
  VictoriaMetricsStore,
} from "../server/mod.ts";
import {
  type Command,
  durationFlag,
  numberFlag,
  parseFlags,
  UsageError,
} from "./command.ts";
import { stopSignal } from "./signals.ts";

const HELP = `Usage: metrics serve [options]

Runs the metrics server until SIGINT or SIGTERM, then stops gracefully:
stops accepting, answers what was received, flushes the log, exits 0.
Prints "listening on HOST:PORT" on stdout once it accepts connections.

Options:
  --host HOST           address to listen on (default 127.0.0.1)
  --port PORT           TCP port; 0 picks a free one (default 8888)
  --data DIR            keep points in an append-only log in DIR, replayed
                        at start (default: in memory only, lost on exit)
  --fsync MODE          batch: fsync before acknowledging each batch, an
                        acknowledged put survives power loss (default);
                        interval: fsync every --fsync-interval, an
                        acknowledged put survives a crash of the process
  --fsync-interval DURATION
                        time between fsyncs in interval mode: 200ms, 1s
                        (default 1s)
  --max-line-bytes N    longest request line; a longer one gets an error
                        and its connection is closed (default 65536)
  --max-connections N   connections served at once (default 1024)
  --idle-timeout DURATION
                        time before an idle connection is closed: 30s,
                        5m; 0 never (default 5m)
  --storage victoriametrics=URL[,URL]
                        keep points in VictoriaMetrics instead, as a
                        stateless front-end: one single-node URL, or a
                        vminsert and a vmselect URL; it must run with
                        -dedup.minScrapeInterval=1s (checked at start)
  -h, --help            show this help

Examples:
  metrics serve
  metrics serve --port 0 --data ./data --fsync interval --fsync-interval 200ms
  metrics serve --storage victoriametrics=http://127.0.0.1:8428
  metrics serve --storage victoriametrics=http://vminsert:8480/insert/0/prometheus,http://vmselect:8481/select/0/prometheus
`;

const VALUE_FLAGS = [
  "host",
  "port",
  "data",
  "fsync",
  "fsync-interval",
  "max-line-bytes",
  "max-connections",
  "idle-timeout",
  "storage",
] as const;

/** `--storage victoriametrics=URL[,URL]`: the URLs, or undefined. */
function storageFlag(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const match = text.match(/^victoriametrics=(.+)$/);
  if (!match) {
    throw new UsageError(
      `--storage expects victoriametrics=URL[,URL], got "${text}"`,
    );
  }
  return match[1].split(",");
}

function fsyncFlag(text: string | undefined): FsyncMode | undefined {
  if (text === undefined || text === "batch" || text === "interval") {
    return text;
  }
  throw new UsageError(`--fsync expects batch or interval, got "${text}"`);
}

function parseOptions(
  args: string[],
): ServerOptions & { victoriaMetrics?: string[] } {
  const flags = parseFlags(args, { string: VALUE_FLAGS });
  if (flags._.length > 0) {
    throw new UsageError(`unexpected argument "${flags._[0]}"`);
  }
  return {
    hostname: flags.host,
    port: numberFlag("port", flags.port),
    dataDir: flags.data,
    fsync: fsyncFlag(flags.fsync),
    fsyncInterval: durationFlag("fsync-interval", flags["fsync-interval"]),
    maxLineBytes: numberFlag("max-line-bytes", flags["max-line-bytes"]),
    maxConnections: numberFlag("max-connections", flags["max-connections"]),
    idleTimeout: durationFlag("idle-timeout", flags["idle-timeout"], true),
    victoriaMetrics: storageFlag(flags.storage),
  };
}

/** The flag of each option `serve()` may name in a `RangeError`. */
const OPTION_FLAGS: Record<string, string> = {
  port: "--port",
  fsyncInterval: "--fsync-interval",
  maxLineBytes: "--max-line-bytes",
  maxConnections: "--max-connections",
  idleTimeout: "--idle-timeout",
};

/** `serve()`'s error in the words of the command line. */
function inFlagTerms(
  error: unknown,
  options: ServerOptions,
): unknown {
  if (error instanceof RangeError) {
    const message = error.message.replace(
      /^invalid (\w+)/,
      (text, option) =>
        option in OPTION_FLAGS ? `invalid ${OPTION_FLAGS[option]}` : text,
    );
    return new UsageError(message);
  }
  const problem = options.dataDir === undefined
    ? undefined
    : dataDirProblem(error);
  if (problem !== undefined) {
    return new Error(
      `cannot keep points in --data ${options.dataDir}: ${problem}`,
      { cause: error },
    );
  }
  const address = `${options.hostname ?? "127.0.0.1"}:${options.port ?? 8888}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return new Error(
      `cannot listen on ${address}: the address is in use (another server?); pick another --port`,
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new Error(
      `cannot listen on ${address}: no such address on this machine; check --host`,
      { cause: error },
    );
  }
  return error;
}

/** Why `--data DIR` cannot be used, for the errors a path can give. */
function dataDirProblem(error: unknown): string | undefined {
  if (error instanceof Deno.errors.NotADirectory) {
    return "part of the path is a file, not a directory";
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return "permission denied";
  }
  if (error instanceof Deno.errors.AlreadyExists) {
    return "it is a file, not a directory";
  }
  return undefined;
}

/** `--data DIR` must be a directory, or a path one can be made at. */
async function checkDataDir(dir: string): Promise<void> {
  let problem;
  try {
    if (!(await Deno.stat(dir)).isDirectory) {
      problem = "it is a file, not a directory";
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // serve creates it
    problem = dataDirProblem(error);
    if (problem === undefined) throw error;
  }
  if (problem !== undefined) {
    throw new UsageError(`cannot keep points in --data ${dir}: ${problem}`);
  }
}

async function run(args: string[]): Promise<number> {
  const { victoriaMetrics, ...options } = parseOptions(args);
  if (victoriaMetrics !== undefined && options.dataDir !== undefined) {
    throw new UsageError("give --storage or --data, not both");
  }
  if (options.dataDir !== undefined) await checkDataDir(options.dataDir);
  let server;
  try {
    if (victoriaMetrics !== undefined) {
      options.storage = await VictoriaMetricsStore.open({
        urls: victoriaMetrics,
      });
    }
    server = await serve(options);
  } catch (error) {
    throw inFlagTerms(error, options);
  }
  console.log(`listening on ${server.hostname}:${server.port}`);
  console.error(
    options.storage instanceof VictoriaMetricsStore
      ? `storage: VictoriaMetrics (${options.storage.urls.kind}), import ${options.storage.urls.importUrl}, export ${options.storage.urls.exportUrl}; durability and one value per second come from VictoriaMetrics, last write wins from millisecond slots (docs/scaling.md)`
      : options.dataDir === undefined
      ? "storage: in memory only; points are lost when the server stops (keep them with --data DIR)"
      : `storage: append-only log in ${options.dataDir} (fsync: ${
        options.fsync ?? "batch"
      })`,
  );
  using stop = stopSignal();
  await new Promise((resolve) =>
    stop.signal.addEventListener("abort", resolve)
  );
  console.error(`${stop.signal.reason}: shutting down`);
  await server.close();
  return 0;
}

/** `metrics serve`. */
export const serveCommand: Command = {
  name: "serve",
  summary: "run the metrics server (in memory, or durable with --data DIR)",
  help: HELP,
  run,
};
