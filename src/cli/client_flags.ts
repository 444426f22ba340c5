/**
 * The flags every client command shares: `--server HOST:PORT` (default
 * `$METRICS_SERVER`, else `127.0.0.1:8888`) and `--timeout DURATION`, and
 * TLS: `--tls`, `--ca FILE`, or a `tls://HOST:PORT` server.
 *
 * @module
 */

import { Client } from "../client/client.ts";
import type { ClientOptions } from "../client/options.ts";
import { durationFlag, UsageError } from "./command.ts";
import { requirePermission } from "./permissions.ts";

/** Value flags of every client command. */
export const CLIENT_FLAGS = ["server", "timeout", "ca"] as const;

/** Boolean flags of every client command. */
export const CLIENT_BOOLEAN_FLAGS = ["tls"] as const;

/** The CLI's timeout when `--timeout` is not given: a CLI never hangs. */
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** Help lines for {@link CLIENT_FLAGS}. */
export const CLIENT_FLAGS_HELP =
  `  --server HOST:PORT  the server (default $METRICS_SERVER, else 127.0.0.1:8888)
  --timeout DURATION  how long each request may take: 10s, 500ms, 1m
                      (default ${DEFAULT_TIMEOUT_SECONDS}s)
  --tls               speak TLS (also: --server tls://HOST:PORT); the server's
                      certificate must be valid for HOST
  --ca FILE           trust the PEM CA certificate(s) in FILE (implies --tls)`;

/** Where to connect. */
export interface ServerAddress {
  /** Host name or address, without brackets. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Given as `tls://HOST:PORT`. */
  tls: boolean;
}

/** Parses `host:port` or `[v6addr]:port`, either after `tls://`. */
export function parseServerAddress(
  text: string,
  source = "--server",
): ServerAddress {
  const match = text.match(
    /^(tls:\/\/)?(?:\[([^\]]+)\]|([^:\s/]+)):(\d{1,5})$/,
  );
  const port = Number(match?.[4]);
  if (!match || port < 1 || port > 65535) {
    throw new UsageError(
      `${source} expects HOST:PORT or tls://HOST:PORT (e.g. 127.0.0.1:8888), got "${text}"`,
    );
  }
  return { hostname: match[2] ?? match[3], port, tls: match[1] !== undefined };
}

function serverFromEnv(): string | undefined {
  requirePermission(
    { name: "env", variable: "METRICS_SERVER" },
    "read $METRICS_SERVER",
    "--allow-env=METRICS_SERVER, or give --server HOST:PORT",
  );
  return Deno.env.get("METRICS_SERVER") || undefined;
}

/**
 * The address from `--server`, `$METRICS_SERVER`, or the default.
 *
 * @throws {Deno.errors.NotCapable} when `$METRICS_SERVER` may not be read.
 */
export function serverAddress(flag: string | undefined): ServerAddress {
  if (flag !== undefined) return parseServerAddress(flag);
  const env = serverFromEnv();
  return env === undefined
    ? parseServerAddress("127.0.0.1:8888")
    : parseServerAddress(env, "$METRICS_SERVER");
}

/**
 * A client for the flags' server, timeout and any further options. Without
 * permission to connect it fails at once, naming the flag, rather than
 * retrying as if the server were down.
 */
export function clientFromFlags(
  flags: { server?: string; timeout?: string; ca?: string; tls?: boolean },
  options: ClientOptions = {},
): Client {
  const timeout = durationFlag("timeout", flags.timeout) ??
    DEFAULT_TIMEOUT_SECONDS;
  const { hostname, port, tls } = serverAddress(flags.server);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  requirePermission(
    { name: "net", host: `${host}:${port}` },
    `connect to ${host}:${port}`,
    `--allow-net (or --allow-net=${host}:${port})`,
  );
  return new Client(hostname, port, {
    timeout,
    tls: tlsFromFlags(tls || flags.tls === true, flags.ca),
    ...options,
  });
}

/** `--tls` and `--ca FILE` (read here: one clear line when it cannot be). */
function tlsFromFlags(
  tls: boolean,
  caFile: string | undefined,
): ClientOptions["tls"] {
  if (caFile === undefined) return tls;
  try {
    return { caCerts: [Deno.readTextFileSync(caFile)] };
  } catch (error) {
    throw new Error(`cannot read --ca ${caFile}: ${(error as Error).message}`);
  }
}
