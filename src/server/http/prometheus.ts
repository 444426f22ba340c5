/**
 * The server's counters in the Prometheus text exposition format (version
 * 0.0.4), for `/metrics`. Pure: the caller gathers the numbers.
 *
 * @module
 */

import type { ServerCounters } from "../counters.ts";
import type { StorageSize } from "../storage/storage.ts";

/** Content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/** What `/metrics` shows besides the counters. */
export interface Gauges {
  /** Keys and points stored, when the backend knows them cheaply. */
  readonly size?: StorageSize;
  /** Bytes of the data directory, when there is one. */
  readonly dataBytes?: number;
  /** Chunks found damaged in the data directory at start-up, when there is one. */
  readonly damagedChunks?: number;
  /** UTC days whose segments were compacted since start, when there is a data directory. */
  readonly compactions?: number;
  /** UTC days due for a compaction now, when there is a data directory. */
  readonly compactionsDue?: number;
  /** Puts stored per second, recent average. */
  readonly putsPerSecond: number;
  /** With a retention or a disk budget, the oldest timestamp kept (Unix seconds). */
  readonly retentionCutoff?: number;
}

/** A number as Prometheus writes it. */
function sample(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return `${value}`;
}

/** `# HELP` and `# TYPE` lines, then one sample line per entry. */
function family(
  name: string,
  type: "counter" | "gauge",
  help: string,
  samples: readonly (readonly [labels: string, value: number])[],
): string {
  let text = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const [labels, value] of samples) {
    text += `${name}${labels} ${sample(value)}\n`;
  }
  return text;
}

/** Samples of one labelled counter: `{label="key"} value` per entry. */
function labelled(
  label: string,
  record: Readonly<Record<string, number>>,
): [string, number][] {
  return Object.entries(record).map((
    [name, value],
  ) => [`{${label}="${name}"}`, value]);
}

/**
 * Formats `counters` and `gauges` as Prometheus text.
 *
 * @example
 * ```ts
 * import { ServerCounters } from "../counters.ts";
 * import { formatPrometheus } from "./prometheus.ts";
 *
 * const text = formatPrometheus(new ServerCounters(), { putsPerSecond: 0 });
 * text.includes("metrics_connections_open 0\n"); // true
 * ```
 */
export function formatPrometheus(
  counters: ServerCounters,
  gauges: Gauges,
): string {
  const fsync = counters.fsync;
  let cumulative = 0;
  const buckets = fsync.counts.map((count, i): string => {
    cumulative += count;
    const le = i < fsync.bounds.length ? `${fsync.bounds[i]}` : "+Inf";
    return `metrics_fsync_duration_seconds_bucket{le="${le}"} ${cumulative}\n`;
  });
  const parts = [
    family("metrics_connections_open", "gauge", "Connections served now.", [
      ["", counters.connectionsOpen],
    ]),
    family(
      "metrics_connections_accepted_total",
      "counter",
      "Connections accepted and served.",
      [["", counters.connectionsAccepted]],
    ),
    family(
      "metrics_connections_refused_total",
      "counter",
      "Connections closed as soon as accepted, by reason.",
      labelled("reason", counters.connectionsRefused),
    ),
    family(
      "metrics_tls_handshake_failures_total",
      "counter",
      "TLS handshakes that failed (plain-TCP clients, untrusted certificates).",
      [["", counters.tlsHandshakeFailures]],
    ),
    family(
      "metrics_http_requests_open",
      "gauge",
      "HTTP requests being answered now.",
      [["", counters.httpRequestsOpen]],
    ),
    family(
      "metrics_http_requests_refused_total",
      "counter",
      "HTTP requests answered 503 because maxRequests were being answered.",
      [["", counters.httpRequestsRefused]],
    ),
    family(
      "metrics_http_connections_open",
      "gauge",
      "HTTP connections served now.",
      [["", counters.httpConnectionsOpen]],
    ),
    family(
      "metrics_http_connections_refused_total",
      "counter",
      "HTTP connections closed as soon as accepted, by cap.",
      labelled("reason", counters.httpConnectionsRefused),
    ),
    family(
      "metrics_http_connections_timed_out_total",
      "counter",
      "HTTP connections closed unanswered by a timeout, by which.",
      labelled("reason", counters.httpTimeouts),
    ),
    family(
      "metrics_http_bad_requests_total",
      "counter",
      "HTTP requests that could not be read, answered 4xx and closed.",
      [["", counters.httpBadRequests]],
    ),
    family(
      "metrics_http_reads_refused_total",
      "counter",
      "HTTP store reads answered 429: the line of waiting reads was full.",
      [["", counters.httpReadsRefused]],
    ),
    family(
      "metrics_requests_total",
      "counter",
      "Request lines by command.",
      labelled("command", counters.requests),
    ),
    family(
      "metrics_errors_total",
      "counter",
      "Error answers and connections closed by an error, by kind.",
      labelled("kind", counters.errors),
    ),
    family(
      "metrics_graphite_lines_total",
      "counter",
      "Carbon lines on the --graphite port, by what became of them.",
      labelled("result", counters.graphiteLines),
    ),
    family(
      "metrics_puts_stored_total",
      "counter",
      "Points stored: puts acknowledged, and carbon lines stored.",
      [["", counters.pointsPut]],
    ),
    family(
      "metrics_puts_per_second",
      "gauge",
      "Puts stored per second, averaged over the last 10 s.",
      [["", gauges.putsPerSecond]],
    ),
  ];
  if (gauges.size !== undefined) {
    parts.push(
      family("metrics_keys_stored", "gauge", "Distinct keys stored.", [
        ["", gauges.size.keys],
      ]),
      family(
        "metrics_points_stored",
        "gauge",
        "Distinct (key, timestamp) points stored.",
        [["", gauges.size.points]],
      ),
    );
  }
  parts.push(family(
    "metrics_retention_deleted_points_total",
    "counter",
    "Points deleted by the retention (reason age) and the disk budget (reason size).",
    labelled("reason", counters.retentionDeleted),
  ));
  if (gauges.retentionCutoff !== undefined) {
    parts.push(family(
      "metrics_retention_cutoff_seconds",
      "gauge",
      "Oldest timestamp kept (Unix seconds): a retention's cut-off, or the end of the last day a disk budget deleted; older points are deleted.",
      [["", gauges.retentionCutoff]],
    ));
  }
  if (gauges.dataBytes !== undefined) {
    parts.push(
      family(
        "metrics_data_bytes",
        "gauge",
        "Bytes of the files in the data directory.",
        [["", gauges.dataBytes]],
      ),
    );
  }
  if (gauges.damagedChunks !== undefined) {
    parts.push(
      family(
        "metrics_storage_damaged_chunks_total",
        "counter",
        "Chunks and stretches of WAL files found damaged at start-up and skipped.",
        [["", gauges.damagedChunks]],
      ),
    );
  }
  if (gauges.compactions !== undefined) {
    parts.push(family(
      "metrics_compactions_total",
      "counter",
      "UTC days whose segments were merged into one since the server started.",
      [["", gauges.compactions]],
    ));
  }
  if (gauges.compactionsDue !== undefined) {
    parts.push(family(
      "metrics_compactions_due",
      "gauge",
      "UTC days whose segments wait for a compaction.",
      [["", gauges.compactionsDue]],
    ));
  }
  parts.push(
    "# HELP metrics_fsync_duration_seconds Time each fsync of the log took.\n" +
      "# TYPE metrics_fsync_duration_seconds histogram\n" +
      buckets.join("") +
      `metrics_fsync_duration_seconds_sum ${sample(fsync.sum)}\n` +
      `metrics_fsync_duration_seconds_count ${fsync.count}\n`,
  );
  return parts.join("");
}
