/**
 * A client for the plain-text TCP metrics protocol: `put` measurements,
 * `get` them back. Each `put` is acknowledged by the server; failures of
 * every kind reject with one {@link ClientError} type.
 *
 * Timestamps are Unix time in whole **seconds**.
 *
 * @example Store a point and read it back (needs a server on port 8888,
 * e.g. `deno run -A cli.ts serve`)
 * ```ts ignore
 * import { Client } from "@metrics/client";
 *
 * await using client = new Client("127.0.0.1", 8888, { timeout: 15 });
 * await client.put("palm.cpu", 0.5, { timestamp: 1150864247 });
 * await client.put("palm.cpu", 2.0); // timestamp: now
 * const metrics = await client.get("palm.cpu");
 * console.log(metrics); // { "palm.cpu": [[1150864247, 0.5], [1764115200, 2]] }
 * ```
 *
 * @module
 */

export { Client } from "./src/client/client.ts";
export type { ClientStats } from "./src/client/stats.ts";
export type {
  CallOptions,
  ClientOptions,
  PutManyPoint,
  PutOptions,
  RecordOptions,
} from "./src/client/options.ts";
export type { RecorderStats } from "./src/client/recorder.ts";
export type { TlsOptions } from "./src/client/tls.ts";
export { ClientError } from "./src/client/errors.ts";
export type {
  ClientErrorKind,
  ClientErrorOptions,
  PointFailure,
} from "./src/client/errors.ts";
export type { Metrics, Point } from "./src/protocol/grammar.ts";
