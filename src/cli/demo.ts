/**
 * `metrics demo`: the whole job on embedded defaults, in one command. It
 * starts a server in this process on a free port (in memory), collects a few
 * samples of this machine, reads them back and prints them with a chart.
 *
 * @module
 */

import { Client } from "../client/client.ts";
import { serve } from "../server/mod.ts";
import { chartMetrics } from "./chart.ts";
import { collectSamples } from "./collect.ts";
import { type Command, parseFlags, UsageError } from "./command.ts";
import { formatMetrics } from "./format.ts";
import { hostPrefix } from "./machine.ts";
import { stopSignal } from "./signals.ts";

const SAMPLES = 3;

const HELP = `Usage: metrics demo

Starts a metrics server in this process on a free port (in memory),
collects ${SAMPLES} samples of this machine one second apart, reads them back
with get '*' and prints them as a table and a chart. Nothing to set up.

Example:
  metrics demo
`;

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, { string: [] });
  if (flags._.length > 0) {
    throw new UsageError(`unexpected argument "${flags._[0]}"`);
  }
  await using server = await serve({ port: 0, log: () => {} });
  console.error(
    `demo: server listening on ${server.hostname}:${server.port} (in memory); ` +
      `collecting ${SAMPLES} samples of this machine, 1 s apart`,
  );
  await using client = new Client(server.hostname, server.port, {
    timeout: 10,
    maxInFlight: 64,
  });
  using stop = stopSignal();
  const result = await collectSamples({
    sink: client,
    prefix: hostPrefix(Deno.hostname()),
    intervalMs: 1000,
    count: SAMPLES,
    buffer: 1000,
    signal: stop.signal,
    report: (line) => console.error(line),
  });
  const metrics = await client.get("*");
  console.log(formatMetrics(metrics, "table"));
  console.log(chartMetrics(metrics, 30));
  return result.acknowledged > 0 && result.waiting === 0 ? 0 : 1;
}

/** `metrics demo`. */
export const demoCommand: Command = {
  name: "demo",
  summary: "serve in memory, collect this machine's metrics, print them",
  help: HELP,
  run,
};
