/**
 * The embedded metrics server: speaks the plain-text protocol of
 * docs/protocol.md (`put key value timestamp`, `get key`, `get *`), keeps points
 * in memory or in an append-only log that survives crashes, and stays up
 * under any input.
 *
 * Storage sits behind the {@link Storage} interface, so another backend
 * can take the place of memory or the log.
 *
 * @example Start a server on a free port, then close it
 * ```ts
 * import { serve } from "@metrics/client/server";
 *
 * await using server = await serve({ port: 0 });
 * console.log(`listening on ${server.hostname}:${server.port}`);
 * ```
 *
 * @example Keep points across restarts, forced to disk every second
 * ```ts ignore
 * import { serve } from "@metrics/client/server";
 *
 * const server = await serve({
 *   dataDir: "./metrics-data",
 *   fsync: "interval",
 *   fsyncInterval: 1,
 * });
 * Deno.addSignalListener("SIGINT", () => server.close());
 * ```
 *
 * @module
 */

export { serve } from "./server.ts";
export type { HttpAddress, MetricsServer } from "./server.ts";
export type { GraphiteOptions, ServerOptions } from "./options.ts";
export type { HttpOptions } from "./http/server.ts";
export type { AccessStats } from "./access.ts";
export type { TlsCertificate } from "./listeners.ts";
export { AddressInUseError } from "./listeners.ts";
export type { FsyncMode } from "./storage/log/commits.ts";
export type {
  PointBatch,
  Series,
  Storage,
  StorageSize,
  StoredPoint,
} from "./storage/storage.ts";
export { StorageRefusal } from "./storage/storage.ts";
export { VictoriaMetricsStore } from "./storage/victoriametrics/store.ts";
export type {
  VictoriaMetricsOptions,
  VictoriaMetricsStats,
} from "./storage/victoriametrics/options.ts";
export type { VictoriaMetricsUrls } from "./storage/victoriametrics/wire.ts";
