/**
 * The flags every client command shares: `--server HOST:PORT` (default
 * `$METRICS_SERVER`, else `127.0.0.1:8888`) and `--timeout SECONDS`.
 *
 * @module
 */

import { Client } from "../client/client.ts";
import type { ClientOptions } from "../client/options.ts";
import { numberFlag, UsageError } from "./command.ts";

/** Value flags of every client command. */
export const CLIENT_FLAGS = ["server", "timeout"] as const;

/** The CLI's timeout when `--timeout` is not given: a CLI never hangs. */
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** Help lines for {@link CLIENT_FLAGS}. */
export const CLIENT_FLAGS_HELP =
  `  --server HOST:PORT  the server (default $METRICS_SERVER, else 127.0.0.1:8888)
  --timeout SECONDS   how long each request may take (default ${DEFAULT_TIMEOUT_SECONDS})`;

/** Where to connect. */
export interface ServerAddress {
  /** Host name or address, without brackets. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** Parses `host:port` or `[v6addr]:port`. */
export function parseServerAddress(text: string): ServerAddress {
  const match = text.match(/^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    throw new UsageError(
      `--server expects HOST:PORT (e.g. 127.0.0.1:8888), got "${text}"`,
    );
  }
  return { hostname: match[1] ?? match[2], port };
}

function serverFromEnv(): string | undefined {
  try {
    return Deno.env.get("METRICS_SERVER") || undefined;
  } catch {
    return undefined; // no permission to read it: use the default
  }
}

/** The address from `--server`, `$METRICS_SERVER`, or the default. */
export function serverAddress(flag: string | undefined): ServerAddress {
  return parseServerAddress(flag ?? serverFromEnv() ?? "127.0.0.1:8888");
}

/** A client for the flags' server, timeout and any further options. */
export function clientFromFlags(
  flags: { server?: string; timeout?: string },
  options: ClientOptions = {},
): Client {
  const { hostname, port } = serverAddress(flags.server);
  const timeout = numberFlag("timeout", flags.timeout) ??
    DEFAULT_TIMEOUT_SECONDS;
  if (!(timeout > 0)) {
    throw new UsageError(`--timeout expects seconds above 0, got ${timeout}`);
  }
  return new Client(hostname, port, { timeout, ...options });
}
