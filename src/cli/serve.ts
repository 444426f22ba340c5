/**
 * `metrics serve`: runs the embedded server until SIGINT or SIGTERM.
 *
 * @module
 */

import { formatAddress } from "../internal/address.ts";
import { formatDuration } from "../internal/duration.ts";
import { formatSize } from "../internal/size.ts";
import {
  AddressInUseError,
  serve,
  type ServerOptions,
  VictoriaMetricsStore,
} from "../server/mod.ts";
import { type Command, UsageError } from "./command.ts";
import { parseOptions, tlsFlags } from "./serve_flags.ts";
import { stopSignal } from "./signals.ts";

const HELP = `Usage: metrics serve [options]

Runs the metrics server until SIGINT or SIGTERM, then stops gracefully:
stops accepting, answers what was received, writes what --data holds to
disk, exits 0. Peers still busy after --shutdown-timeout are disconnected;
a second signal disconnects them at once. The data is written either way.
Prints "listening on HOST:PORT" on stdout once it accepts connections,
then "page on URL" when --http is given.

Options:
  --host HOST           address to listen on (default 127.0.0.1)
  --port PORT           TCP port; 0 picks a free one (default 8888)
  --data DIR            keep points in DIR: compressed segments and a
                        write-ahead log, read back at start (default: in
                        memory only, lost on exit)
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
  --max-connections-per-peer N
                        connections served at once from one address
                        (default: a quarter of --max-connections)
  --max-keys N          most keys kept; a put of a new key past it is
                        answered "error: too many keys" (default 1000000)
  --max-points N        most points kept; a put of a new point past it is
                        answered "error: too many points" (default
                        100000000, about 1.6 GB of memory); to keep
                        a long-running server taking puts, set
                        --retention, and with --data also --max-disk
  --retention DURATION  keep points this long, counted back from now: 30d,
                        12h, 1y; an older put is answered "error: older
                        than retention", older points are deleted within a
                        minute (default: keep everything)
  --max-disk SIZE       with --data: most disk space for its segments and
                        checkpoint: 500MB, 10GB, 1.5GiB (KB = 1000 bytes,
                        KiB = 1024); past it the oldest days are deleted, a
                        day at a time; plan for the write-ahead log and one
                        day more; when the newest day alone needs more,
                        puts are answered "error: storage full" (default:
                        no limit)
  --shutdown-timeout DURATION
                        time to wait on peers when stopping: 10s, 1m
                        (default 10s)
  --idle-timeout DURATION
                        time before an idle connection is closed: 30s,
                        5m; 0 never (default 5m)
  --storage victoriametrics=URL[,URL]
                        keep points in VictoriaMetrics instead, as a
                        stateless front-end: one single-node URL, or a
                        vminsert and a vmselect URL; it must run with
                        -dedup.minScrapeInterval=1s (checked at start)
  --http [HOST:]PORT    also serve a live page of every key, a JSON API
                        and /metrics (Prometheus) over HTTP on PORT
                        (HOST defaults to 127.0.0.1; off unless given;
                        see docs/dashboard.md)
  --graphite [HOST:]PORT
                        also take carbon's plaintext protocol (path value
                        timestamp lines: collectd, Telegraf, Netdata) on
                        PORT, and serve Graphite's /render and
                        /metrics/find on the --http port (HOST defaults to
                        127.0.0.1; carbon's port is 2003; see
                        docs/graphite.md)
  --http-max-connections N
                        HTTP connections served at once (default 256)
  --http-max-connections-per-peer N
                        HTTP connections served at once from one address
                        (default: a quarter of --http-max-connections)
  --http-head-timeout DURATION
                        time a request's head may take to arrive; then its
                        connection is closed (default 10s)
  --http-idle-timeout DURATION
                        time a kept-alive HTTP connection may wait for its
                        next request (default 30s)
  --tls-cert FILE       speak TLS on --host:--port with this PEM certificate
                        chain (give --tls-key too); plain-TCP clients are
                        refused after a failed handshake
  --tls-key FILE        the certificate's PEM private key
  --plain-port PORT     with TLS: also serve plain TCP on 127.0.0.1:PORT only,
                        for local clients (default: no plain port)
  --allow-from CIDR[,CIDR]
                        accept only peers in these blocks (IPv4 or IPv6,
                        e.g. 10.0.0.0/8,::1); others are closed at accept,
                        logged at most once a minute per address
  -h, --help            show this help

Examples:
  metrics serve
  metrics serve --http 8080
  metrics serve --http 8080 --graphite 2003
  metrics serve --port 0 --data ./data --fsync interval --fsync-interval 200ms
  metrics serve --storage victoriametrics=http://127.0.0.1:8428
  metrics serve --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --allow-from 10.0.0.0/8
  metrics serve --storage victoriametrics=http://vminsert:8480/insert/0/prometheus,http://vmselect:8481/select/0/prometheus
`;

/**
 * The flag of each option `serve()` may name in a `RangeError` or an
 * {@link AddressInUseError}.
 */
const OPTION_FLAGS: Record<string, string> = {
  port: "--port",
  plainPort: "--plain-port",
  http: "--http",
  graphite: "--graphite",
  fsyncInterval: "--fsync-interval",
  maxLineBytes: "--max-line-bytes",
  maxConnections: "--max-connections",
  idleTimeout: "--idle-timeout",
  retention: "--retention",
  maxDisk: "--max-disk",
  "http.maxConnections": "--http-max-connections",
  "http.maxConnectionsPerPeer": "--http-max-connections-per-peer",
  "http.headTimeout": "--http-head-timeout",
  "http.idleTimeout": "--http-idle-timeout",
};

/**
 * A taken address in the words of the command line: the flag that chose it,
 * and what to do.
 */
export function addressInUse(error: AddressInUseError): Error {
  const flag = OPTION_FLAGS[error.option] ?? error.option;
  return new Error(
    `cannot listen on ${
      formatAddress(error.hostname, error.port)
    } (${flag}): the address is in use (another server?); pick another port for ${flag} (0 picks a free one)`,
    { cause: error },
  );
}

/** `serve()`'s error in the words of the command line. */
function inFlagTerms(
  error: unknown,
  options: ServerOptions,
): unknown {
  if (error instanceof RangeError) {
    const message = error.message.replace(
      /^invalid ([\w.]+)/,
      (text, option) =>
        option in OPTION_FLAGS ? `invalid ${OPTION_FLAGS[option]}` : text,
    );
    return new UsageError(message);
  }
  const problem = options.dataDir === undefined
    ? undefined
    : dataDirProblem(error);
  if (problem !== undefined) return dataDirError(options.dataDir!, problem);
  if (error instanceof AddressInUseError) return addressInUse(error);
  const address = formatAddress(
    options.hostname ?? "127.0.0.1",
    options.port ?? 8888,
  );
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new Error(
      `cannot listen on ${address}: no such address on this machine; check --host`,
      { cause: error },
    );
  }
  return error;
}

/** Every `--data` problem in one shape, exit 2. */
function dataDirError(dir: string, problem: string): UsageError {
  return new UsageError(
    `cannot keep points in --data ${dir}: ${problem}; pick another directory`,
  );
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
  if (error instanceof Error && /\(os error 30\)/.test(error.message)) {
    return "the file system is read-only";
  }
  // /proc and /sys refuse new files with ENOENT even where the directory is.
  if (error instanceof Deno.errors.NotFound) {
    return "files cannot be created there";
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
  if (problem !== undefined) throw dataDirError(dir, problem);
}

async function run(args: string[]): Promise<number> {
  const { victoriaMetrics, tlsFiles, ...options } = parseOptions(args);
  if (victoriaMetrics !== undefined && options.dataDir !== undefined) {
    throw new UsageError("give --storage or --data, not both");
  }
  if (victoriaMetrics !== undefined && options.retention !== undefined) {
    throw new UsageError(
      "--retention does not apply to --storage victoriametrics: VictoriaMetrics keeps its own (its -retentionPeriod flag)",
    );
  }
  if (victoriaMetrics !== undefined && options.maxDisk !== undefined) {
    throw new UsageError(
      "--max-disk does not apply to --storage victoriametrics: VictoriaMetrics manages its own disk (its -retentionPeriod and -storage.minFreeDiskSpaceBytes flags)",
    );
  }
  if (options.maxDisk !== undefined && options.dataDir === undefined) {
    throw new UsageError(
      "--max-disk limits the disk space of --data DIR: give --data too (without it points are kept in memory only)",
    );
  }
  if (options.dataDir !== undefined) await checkDataDir(options.dataDir);
  options.tls = await tlsFlags(...tlsFiles);
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
  console.log(`listening on ${formatAddress(server.hostname, server.port)}`);
  if (server.http !== undefined) console.log(`page on ${server.http.url}`);
  if (server.graphite !== undefined) {
    const { hostname, port } = server.graphite;
    console.log(`carbon plaintext on ${formatAddress(hostname, port)}`);
  }
  if (options.tls) {
    console.error(
      `TLS on ${formatAddress(server.hostname, server.port)}; plain TCP ${
        server.plainPort === undefined
          ? "off"
          : `on 127.0.0.1:${server.plainPort}`
      }`,
    );
  }
  console.error(
    options.storage instanceof VictoriaMetricsStore
      ? `storage: VictoriaMetrics (${options.storage.urls.kind}), import ${options.storage.urls.importUrl}, export ${options.storage.urls.exportUrl}; durability and one value per second come from VictoriaMetrics, last write wins from millisecond slots (docs/scaling.md)`
      : options.dataDir === undefined
      ? "storage: in memory only; points are lost when the server stops (keep them with --data DIR)"
      : `storage: storage engine in ${options.dataDir}: compressed segments and a write-ahead log (fsync: ${
        options.fsync ?? "batch"
      })`,
  );
  if (!(options.storage instanceof VictoriaMetricsStore)) {
    console.error(
      options.retention === undefined
        ? "retention: every point is kept (set --retention 30d to delete older ones)"
        : `retention: ${
          formatDuration(options.retention)
        }; older puts are refused and older points deleted`,
    );
  }
  if (options.dataDir !== undefined) {
    console.error(
      options.maxDisk === undefined
        ? "disk budget: none (set --max-disk 10GB to delete the oldest days past a size)"
        : `disk budget: ${
          formatSize(options.maxDisk)
        } for the segments and checkpoint in ${options.dataDir}; past it the oldest days are deleted`,
    );
  }
  using stop = stopSignal();
  await new Promise((resolve) =>
    stop.signal.addEventListener("abort", resolve)
  );
  console.error(`${stop.signal.reason}: shutting down`);
  // A second signal: disconnect every peer now; the data is still written.
  using again = stopSignal();
  again.signal.addEventListener("abort", () => {
    console.error(`${again.signal.reason}: disconnecting every peer now`);
    server.terminate();
  });
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
