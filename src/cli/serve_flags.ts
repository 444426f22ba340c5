/**
 * The flags of `metrics serve`, read into `serve()`'s options: each flag's
 * grammar and the one line a wrong one gets.
 *
 * @module
 */

import type {
  FsyncMode,
  HttpOptions,
  ServerOptions,
  TlsCertificate,
} from "../server/mod.ts";
import {
  durationFlag,
  numberFlag,
  parseFlags,
  sizeFlag,
  UsageError,
} from "./command.ts";

const VALUE_FLAGS = [
  "host",
  "port",
  "data",
  "fsync",
  "fsync-interval",
  "max-line-bytes",
  "max-connections",
  "max-connections-per-peer",
  "max-keys",
  "max-points",
  "retention",
  "max-disk",
  "shutdown-timeout",
  "idle-timeout",
  "storage",
  "http",
  "graphite",
  "http-max-connections",
  "http-max-connections-per-peer",
  "http-head-timeout",
  "http-idle-timeout",
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

/**
 * `--http [HOST:]PORT`: `8080`, `0.0.0.0:8080`, `[::1]:8080`; the host
 * defaults to 127.0.0.1 so the page is not exposed unless asked.
 */
export function httpFlag(text: string | undefined): HttpOptions | undefined {
  return addressFlag("http", text);
}

/** `--NAME [HOST:]PORT`, the host 127.0.0.1 unless given. */
function addressFlag(
  name: string,
  text: string | undefined,
): { hostname: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const match = text.match(/^(?:(\[[^\]]+\]|[^:\s]+):)?(\d{1,5})$/);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    throw new UsageError(
      `--${name} expects [HOST:]PORT with PORT from 0 to 65535, got "${text}"`,
    );
  }
  const host = match[1]?.replace(/^\[(.*)\]$/, "$1");
  return { hostname: host ?? "127.0.0.1", port };
}

/** `--http` and the flags that tune it, which need it. */
function httpOptions(
  flags: Partial<Record<(typeof VALUE_FLAGS)[number], string>>,
): HttpOptions | undefined {
  const tuning = {
    maxConnections: numberFlag(
      "http-max-connections",
      flags["http-max-connections"],
    ),
    maxConnectionsPerPeer: numberFlag(
      "http-max-connections-per-peer",
      flags["http-max-connections-per-peer"],
    ),
    headTimeout: durationFlag("http-head-timeout", flags["http-head-timeout"]),
    idleTimeout: durationFlag("http-idle-timeout", flags["http-idle-timeout"]),
  };
  const http = httpFlag(flags.http);
  const given = Object.entries(tuning).filter(([, v]) => v !== undefined);
  if (http === undefined && given.length > 0) {
    throw new UsageError("the --http-... flags need --http");
  }
  return http && { ...http, ...Object.fromEntries(given) };
}

function fsyncFlag(text: string | undefined): FsyncMode | undefined {
  if (text === undefined || text === "batch" || text === "interval") {
    return text;
  }
  throw new UsageError(`--fsync expects batch or interval, got "${text}"`);
}

/** The TLS flags' files, read; one clear line when they cannot be. */
export async function tlsFlags(
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

export function parseOptions(
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
    fsyncInterval: durationFlag("fsync-interval", flags["fsync-interval"]),
    maxLineBytes: numberFlag("max-line-bytes", flags["max-line-bytes"]),
    maxConnections: numberFlag("max-connections", flags["max-connections"]),
    maxConnectionsPerPeer: numberFlag(
      "max-connections-per-peer",
      flags["max-connections-per-peer"],
    ),
    maxKeys: numberFlag("max-keys", flags["max-keys"]),
    maxPoints: numberFlag("max-points", flags["max-points"]),
    retention: durationFlag("retention", flags.retention),
    maxDisk: sizeFlag("max-disk", flags["max-disk"]),
    shutdownTimeout: durationFlag(
      "shutdown-timeout",
      flags["shutdown-timeout"],
      true,
    ),
    idleTimeout: durationFlag("idle-timeout", flags["idle-timeout"], true),
    victoriaMetrics: storageFlag(flags.storage),
    http: httpOptions(flags),
    graphite: addressFlag("graphite", flags.graphite),
    tlsFiles: [flags["tls-cert"], flags["tls-key"]],
    plainPort: numberFlag("plain-port", flags["plain-port"]),
    allowFrom: flags["allow-from"]?.split(","),
  };
}
