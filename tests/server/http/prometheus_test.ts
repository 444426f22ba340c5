import { assertEquals, assertStringIncludes } from "@std/assert";
import { ServerCounters } from "../../../src/server/counters.ts";
import { formatPrometheus } from "../../../src/server/http/prometheus.ts";

Deno.test("counters print as Prometheus families with HELP and TYPE", () => {
  const counters = new ServerCounters();
  counters.connectionsAccepted = 3;
  counters.connectionsOpen = 2;
  counters.requests.put = 5;
  counters.errors.invalid = 1;
  const text = formatPrometheus(counters, { putsPerSecond: 0.5 });
  assertStringIncludes(
    text,
    "# HELP metrics_connections_open Connections served now.\n" +
      "# TYPE metrics_connections_open gauge\n" +
      "metrics_connections_open 2\n",
  );
  assertStringIncludes(
    text,
    "# TYPE metrics_connections_accepted_total counter\n" +
      "metrics_connections_accepted_total 3\n",
  );
  assertStringIncludes(text, 'metrics_requests_total{command="put"} 5\n');
  assertStringIncludes(text, 'metrics_errors_total{kind="invalid"} 1\n');
  assertStringIncludes(text, "metrics_puts_per_second 0.5\n");
  assertEquals(text.endsWith("\n"), true);
});

Deno.test("the fsync histogram is cumulative and ends in +Inf, sum and count", () => {
  const counters = new ServerCounters();
  for (const seconds of [0.0001, 0.003, 0.003, 7]) {
    counters.fsync.observe(seconds);
  }
  const text = formatPrometheus(counters, { putsPerSecond: 0 });
  assertStringIncludes(
    text,
    "# TYPE metrics_fsync_duration_seconds histogram\n" +
      'metrics_fsync_duration_seconds_bucket{le="0.0005"} 1\n' +
      'metrics_fsync_duration_seconds_bucket{le="0.001"} 1\n' +
      'metrics_fsync_duration_seconds_bucket{le="0.0025"} 1\n' +
      'metrics_fsync_duration_seconds_bucket{le="0.005"} 3\n',
  );
  assertStringIncludes(
    text,
    'metrics_fsync_duration_seconds_bucket{le="2.5"} 3\n' +
      'metrics_fsync_duration_seconds_bucket{le="+Inf"} 4\n' +
      "metrics_fsync_duration_seconds_sum 7.0061\n" +
      "metrics_fsync_duration_seconds_count 4\n",
  );
});

Deno.test("stored keys, points, data bytes and damaged chunks appear only when known", () => {
  const counters = new ServerCounters();
  const bare = formatPrometheus(counters, { putsPerSecond: 0 });
  assertEquals(bare.includes("metrics_keys_stored"), false);
  assertEquals(bare.includes("metrics_data_bytes"), false);
  assertEquals(bare.includes("metrics_storage_damaged_chunks_total"), false);
  const full = formatPrometheus(counters, {
    putsPerSecond: 0,
    size: { keys: 2, points: 9 },
    dataBytes: 4096,
    damagedChunks: 3,
  });
  assertStringIncludes(full, "metrics_keys_stored 2\n");
  assertStringIncludes(full, "metrics_points_stored 9\n");
  assertStringIncludes(
    full,
    "# TYPE metrics_data_bytes gauge\nmetrics_data_bytes 4096\n",
  );
  assertStringIncludes(
    full,
    "# TYPE metrics_storage_damaged_chunks_total counter\nmetrics_storage_damaged_chunks_total 3\n",
  );
});

Deno.test("puts per second average the last 10 whole seconds", () => {
  const counters = new ServerCounters();
  const t0 = 1_000_000_000;
  counters.stored(50, t0);
  counters.stored(50, t0 + 500);
  counters.stored(30, t0 + 1000);
  // The current second is left out: 100 puts in second 0, over 10 s.
  assertEquals(counters.putsPerSecond(t0 + 1500), 10);
  assertEquals(counters.putsPerSecond(t0 + 2000), 13);
  // Once both seconds are older than the window, the rate is 0 again.
  assertEquals(counters.putsPerSecond(t0 + 12_000), 0);
  assertEquals(counters.pointsPut, 130);
});
