/**
 * The options of `serve()`, their defaults and their checks.
 *
 * @module
 */

import type { HttpOptions } from "./http/server.ts";
import type { FsyncMode } from "./storage/log/commits.ts";
import type { Storage } from "./storage/storage.ts";
import type { TlsCertificate } from "./listeners.ts";
import { checkInteger, checkNumber } from "../internal/options.ts";

/** Options of `serve()`. */
export interface ServerOptions {
  /**
   * Address to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * TCP port to listen on; `0` picks a free one (read it from
   * `MetricsServer.port`).
   * @default {8888}
   */
  port?: number;
  /**
   * Directory where the storage engine keeps points across restarts
   * (compressed segments, a write-ahead log and checkpoints; see
   * docs/server.md); created if missing. Without it points live in memory
   * only.
   * @default {undefined} in memory only
   */
  dataDir?: string;
  /**
   * When the write-ahead log is forced to disk (with `dataDir`): `"batch"`
   * before each batch of puts is acknowledged (an acknowledged put survives
   * power loss),
   * `"interval"` every `fsyncInterval` seconds (an acknowledged put survives
   * a crash of the process; power loss may lose the last interval).
   * @default {"batch"}
   */
  fsync?: FsyncMode;
  /**
   * Seconds between forced writes in `"interval"` mode (`0.2` is 200 ms).
   * @default {1}
   */
  fsyncInterval?: number;
  /**
   * Longest request line in bytes, without its `\n`. A longer line is
   * answered with an error and its connection closed.
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * Connections served at once; more are closed as soon as accepted.
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * Connections served at once from one address, so one peer cannot take
   * every slot; more from it are closed as soon as accepted.
   * @default {a quarter of maxConnections}
   */
  maxConnectionsPerPeer?: number;
  /**
   * Seconds `MetricsServer.close` waits for connections to take
   * their answers before it closes them anyway, so a peer that stops
   * reading cannot hold shutdown.
   * @default {10}
   */
  shutdownTimeout?: number;
  /**
   * Most keys the built-in storage holds (in memory or with `dataDir`); a
   * put of a new key past it is answered `error` `too many keys`. A cap can
   * be passed by the puts of one read of each connection.
   * @default {1000000}
   */
  maxKeys?: number;
  /**
   * Most points the built-in storage holds; a put of a new point past it is
   * answered `error` `too many points` (rewriting a stored point is still
   * served). A point takes 16 bytes of memory, plus up to half again of
   * slack as series grow.
   * @default {100000000}
   */
  maxPoints?: number;
  /**
   * Seconds a point is kept, counted back from now (`30 * 86400` keeps 30
   * days). A put older than that is answered `error` `older than
   * retention`, no answer holds an older point, and older points are
   * deleted within a minute of expiring.
   * @default {undefined} every point is kept
   */
  retention?: number;
  /**
   * Most bytes of disk the data directory's segments and checkpoint may
   * take (with `dataDir`; `10e9` is 10 GB), counted in whole blocks as
   * `du` counts them. Past it the oldest UTC days are deleted, one day a
   * step, each step logged; never the newest day, the checkpoint or the
   * write-ahead log, which comes on top (plan for it and one day more).
   * When the newest day and the checkpoint alone need more, puts are
   * answered `error` `storage full`.
   * @default {undefined} no limit
   */
  maxDisk?: number;
  /**
   * Seconds a connection may wait on its peer (for a request, or for the
   * peer to take an answer) before it is closed; `0` never closes one.
   * @default {300}
   */
  idleTimeout?: number;
  /**
   * Another backend to keep points in, instead of memory or `dataDir`.
   * The server closes it on `MetricsServer.close`. `maxKeys` and
   * `maxPoints` do not apply to it.
   * @default {undefined}
   */
  storage?: Storage;
  /**
   * Also serve the page, the JSON API and `/metrics` over HTTP (docs/
   * dashboard.md) at this address; off unless given.
   * @default {undefined}
   */
  http?: HttpOptions;
  /**
   * Also take carbon's plaintext protocol (`path value timestamp` lines,
   * as collectd, Telegraf and Netdata send them) at this address, into the
   * same storage, with the same caps, allow-list and TLS choice
   * (docs/graphite.md); off unless given.
   * @default {undefined}
   */
  graphite?: GraphiteOptions;
  /**
   * Speak TLS on `hostname:port` with this certificate and key (PEM text);
   * a client that does not is closed after a failed handshake.
   * @default {undefined} plain TCP
   */
  tls?: TlsCertificate;
  /**
   * With `tls`: also serve plain TCP on this port of 127.0.0.1 only, for
   * local clients; `0` picks a free one (read it from
   * `MetricsServer.plainPort`).
   * @default {undefined} no plain port
   */
  plainPort?: number;
  /**
   * CIDR blocks of the peers that may connect (`10.0.0.0/8`,
   * `2001:db8::/32`, or one address); others are closed at accept and
   * logged at most once a minute per address.
   * @default {undefined} every peer
   */
  allowFrom?: string[];
  /**
   * Receives diagnostics: storage summary and warnings, closed and refused
   * connections.
   * @default {console.error}
   */
  log?: (message: string) => void;
}

/** Where the carbon plaintext port listens. */
export interface GraphiteOptions {
  /**
   * Address to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** TCP port (carbon's is 2003); `0` picks a free one. */
  port: number;
}

/** {@link ServerOptions}' numbers, checked, with their defaults. */
export interface CheckedServerOptions {
  readonly port: number;
  readonly maxLineBytes: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerPeer: number;
  readonly idleTimeout: number;
  readonly shutdownTimeout: number;
  readonly caps: { readonly maxKeys: number; readonly maxPoints: number };
  readonly fsyncInterval: number;
  readonly plainPort: number | undefined;
  readonly retention: number | undefined;
  readonly maxDisk: number | undefined;
  readonly graphitePort: number | undefined;
}

/**
 * Checks every option of `serve()` before anything is opened.
 *
 * @throws {RangeError} for an invalid option.
 */
export function checkServerOptions(
  options: ServerOptions,
): CheckedServerOptions {
  const port = checkInteger("port", options.port ?? 8888, 0, 65535);
  const maxLineBytes = integer("maxLineBytes", options.maxLineBytes ?? 65536);
  const maxConnections = integer(
    "maxConnections",
    options.maxConnections ?? 1024,
  );
  const maxConnectionsPerPeer = integer(
    "maxConnectionsPerPeer",
    options.maxConnectionsPerPeer ?? Math.max(1, maxConnections >>> 2),
  );
  const idleTimeout = seconds("idleTimeout", options.idleTimeout ?? 300);
  const shutdownTimeout = seconds(
    "shutdownTimeout",
    options.shutdownTimeout ?? 10,
  );
  const caps = {
    maxKeys: integer("maxKeys", options.maxKeys ?? 1_000_000),
    maxPoints: checkInteger("maxPoints", options.maxPoints ?? 100_000_000),
  };
  const fsyncInterval = checkNumber(
    "fsyncInterval",
    options.fsyncInterval ?? 1,
    0.001,
    { max: 2_000_000, unit: "seconds" },
  );
  if (
    options.fsync !== undefined &&
    !["batch", "interval"].includes(options.fsync)
  ) {
    throw new RangeError(
      `invalid fsync ${options.fsync}: use "batch" or "interval"`,
    );
  }
  if (options.storage !== undefined && options.dataDir !== undefined) {
    throw new RangeError("give storage or dataDir, not both");
  }
  const maxDisk = options.maxDisk === undefined
    ? undefined
    : checkInteger("maxDisk", options.maxDisk, 1);
  if (maxDisk !== undefined && options.dataDir === undefined) {
    throw new RangeError(
      "invalid maxDisk: it limits the data directory; give dataDir too",
    );
  }
  return {
    port,
    maxLineBytes,
    maxConnections,
    maxConnectionsPerPeer,
    idleTimeout,
    shutdownTimeout,
    caps,
    fsyncInterval,
    plainPort: options.plainPort === undefined
      ? undefined
      : checkInteger("plainPort", options.plainPort, 0, 65535),
    maxDisk,
    retention: options.retention === undefined
      ? undefined
      : checkNumber("retention", options.retention, 1, {
        max: 1e10,
        unit: "seconds",
      }),
    graphitePort: options.graphite === undefined
      ? undefined
      : checkInteger("graphite.port", options.graphite.port, 0, 65535),
  };
}

/** Server options are whole numbers that fit a timer: below 2^31. */
function integer(name: string, value: number, min = 1): number {
  return checkInteger(name, value, min, 2 ** 31 - 1);
}

/** Seconds from 0 (none) up; timers take up to 2^31-1 ms. */
function seconds(name: string, value: number): number {
  return checkNumber(name, value, 0, { max: 2_000_000, unit: "seconds" });
}
