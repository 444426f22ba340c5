/**
 * `metrics demo`: the whole job on embedded defaults, in one command. It
 * starts a server in this process on a free port (in memory), collects a few
 * samples of this machine, reads them back and prints them with a chart,
 * and serves the live page (docs/dashboard.md) while it runs.
 *
 * @module
 */

import { formatAddress } from "../internal/address.ts";
import { Client } from "../client/client.ts";
import { AddressInUseError, serve } from "../server/mod.ts";
import { chartMetrics } from "./chart.ts";
import { collectSamples } from "./collect.ts";
import { type Command, parseFlags, UsageError } from "./command.ts";
import { formatMetrics } from "./format.ts";
import { hostPrefix } from "./machine.ts";
import { addressInUse } from "./serve.ts";
import { httpFlag } from "./serve_flags.ts";
import { stopSignal } from "./signals.ts";

const SAMPLES = 3;

const HELP = `Usage: metrics demo [options]

Starts a metrics server in this process on a free port (in memory),
collects ${SAMPLES} samples of this machine one second apart, reads them back
with get '*' and prints them as a table and a chart. Nothing to set up.
The server's live page (every key, a chart, live updates) is served over
HTTP meanwhile; its URL is printed first. On a terminal the demo then
keeps sampling every second and serving the page until Ctrl-C; elsewhere
(a pipe, a script) it exits once the chart is printed. Network bytes are
sampled only with all permissions (deno run -A cli.ts demo).

Options:
  --http [HOST:]PORT  where the page is served (default 127.0.0.1:0, a
                      free port)
  --keep              keep sampling and serving until Ctrl-C, even when
                      not on a terminal
  --once              exit once the chart is printed, even on a terminal
  -h, --help          show this help

Examples:
  metrics demo
  metrics demo --http 8080
  metrics demo --once
`;

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: ["http"],
    boolean: ["keep", "once"],
  });
  if (flags._.length > 0) {
    throw new UsageError(`unexpected argument "${flags._[0]}"`);
  }
  await using server = await serve({
    port: 0,
    log: () => {},
    http: httpFlag(flags.http ?? "0"),
  }).catch((error) => {
    throw error instanceof AddressInUseError ? addressInUse(error) : error;
  });
  console.error(
    `demo: server listening on ${
      formatAddress(server.hostname, server.port)
    } (in memory); ` +
      `page on ${server.http?.url}; ` +
      `collecting ${SAMPLES} samples of this machine, 1 s apart`,
  );
  await using client = new Client(server.hostname, server.port, {
    timeout: 10,
    maxInFlight: 64,
    maxBuffered: 1000,
  });
  using stop = stopSignal();
  const collect = (count: number | undefined, firstSample = 1) =>
    collectSamples({
      client,
      prefix: hostPrefix(Deno.hostname()),
      intervalMs: 1000,
      count,
      signal: stop.signal,
      report: (line) => console.error(line),
      // The help says when network bytes are sampled; no warning here.
      onNote: () => {},
      firstSample,
    });
  const result = await collect(SAMPLES);
  const metrics = await client.get("*");
  console.log(formatMetrics(metrics, "table"));
  console.log(chartMetrics(metrics, 30));
  const ok = result.acknowledged > 0 && result.waiting === 0;
  const keep = flags.keep ||
    (!flags.once && Deno.stdin.isTerminal() && Deno.stderr.isTerminal());
  if (!keep || stop.signal.aborted) return ok ? 0 : 1;
  console.error(
    `demo: sampling every second; page on ${server.http?.url}; Ctrl-C to stop`,
  );
  const kept = await collect(undefined, SAMPLES + 1);
  console.error(
    `demo: stopped after ${
      kept.samples + SAMPLES
    } samples; ${kept.acknowledged} points acknowledged`,
  );
  return 130; // stopped by Ctrl-C, as every command is
}

/** `metrics demo`. */
export const demoCommand: Command = {
  name: "demo",
  summary: "serve in memory, collect this machine's metrics, print them",
  help: HELP,
  run,
};
