/**
 * `metrics serve`: runs the embedded server until SIGINT or SIGTERM.
 *
 * @module
 */

import {
  type FsyncMode,
  serve,
  type ServerOptions,
  type TlsCertificate,
  VictoriaMetricsStore,
} from "../server/mod.ts";
import { type Command, numberFlag, parseFlags, UsageError } from "./command.ts";
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
                        interval: fsync every --fsync-interval ms, an
                        acknowledged put survives a crash of the process
  --fsync-interval MS   milliseconds between fsyncs in interval mode
                        (default 1000)
  --max-line-bytes N    longest request line; a longer one gets an error
                        and its connection is closed (default 65536)
  --max-connections N   connections served at once (default 1024)
  --idle-timeout S      seconds before an idle connection is closed;
                        0 never (default 300)
  --storage victoriametrics=URL[,URL]
                        keep points in VictoriaMetrics instead, as a
                        stateless front-end: one single-node URL, or a
                        vminsert and a vmselect URL; it must run with
                        -dedup.minScrapeInterval=1s (checked at start)
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
  metrics serve --port 0 --data ./data --fsync interval --fsync-interval 200
  metrics serve --storage victoriametrics=http://127.0.0.1:8428
  metrics serve --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --allow-from 10.0.0.0/8
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
  "tls-cert",
  "tls-key",
  "plain-port",
  "allow-from",
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

/** The TLS flags' files, read; one clear line when they cannot be. */
async function tlsFlags(
  certFile: string | undefined,
  keyFile: string | undefined,
): Promise<TlsCertificate | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError("give --tls-cert and --tls-key together");
  }
  const read = async (flag: string, path: string): Promise<string> => {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new Error(
        `cannot read ${flag} ${path}: ${(error as Error).message}`,
      );
    }
  };
  return {
    cert: await read("--tls-cert", certFile),
    key: await read("--tls-key", keyFile),
  };
}

function parseOptions(
  args: string[],
): ServerOptions & {
  victoriaMetrics?: string[];
  tlsFiles: [string | undefined, string | undefined];
} {
  const flags = parseFlags(args, { string: VALUE_FLAGS });
  if (flags._.length > 0) {
    throw new UsageError(`unexpected argument "${flags._[0]}"`);
  }
  return {
    hostname: flags.host,
    port: numberFlag("port", flags.port),
    dataDir: flags.data,
    fsync: fsyncFlag(flags.fsync),
    fsyncInterval: numberFlag("fsync-interval", flags["fsync-interval"]),
    maxLineBytes: numberFlag("max-line-bytes", flags["max-line-bytes"]),
    maxConnections: numberFlag("max-connections", flags["max-connections"]),
    idleTimeout: numberFlag("idle-timeout", flags["idle-timeout"]),
    victoriaMetrics: storageFlag(flags.storage),
    tlsFiles: [flags["tls-cert"], flags["tls-key"]],
    plainPort: numberFlag("plain-port", flags["plain-port"]),
    allowFrom: flags["allow-from"]?.split(","),
  };
}

async function run(args: string[]): Promise<number> {
  const { victoriaMetrics, tlsFiles, ...options } = parseOptions(args);
  if (victoriaMetrics !== undefined && options.dataDir !== undefined) {
    throw new UsageError("give --storage or --data, not both");
  }
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
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  console.log(`listening on ${server.hostname}:${server.port}`);
  if (options.tls) {
    console.error(
      `TLS on ${server.hostname}:${server.port}; plain TCP ${
        server.plainPort === undefined
          ? "off"
          : `on 127.0.0.1:${server.plainPort}`
      }`,
    );
  }
  console.error(
    options.storage instanceof VictoriaMetricsStore
      ? `storage: VictoriaMetrics (${options.storage.urls.kind}), import ${options.storage.urls.importUrl}, export ${options.storage.urls.exportUrl}; durability and one value per second come from VictoriaMetrics, last write wins from millisecond slots (README: Scaling out)`
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
