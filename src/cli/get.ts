/**
 * `metrics get KEY|'*'`: prints stored points as a table, JSON or CSV, or
 * draws them as sparklines.
 *
 * @module
 */

import { chartMetrics } from "./chart.ts";
import {
  CLIENT_BOOLEAN_FLAGS,
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  clientFromFlags,
} from "./client_flags.ts";
import { type Command, parseFlags, UsageError } from "./command.ts";
import { type Format, formatMetrics, FORMATS } from "./format.ts";
import { strong } from "./style.ts";
import { writeAll } from "../internal/write_all.ts";

const HELP = `Usage: metrics get KEY|'*' [options]

Prints the points stored under KEY ('*' for every key), sorted by time.

Options:
  --format FORMAT     table (default: key, ISO-8601 time, Unix seconds,
                      value), json or csv
  --chart             draw each series as a sparkline instead (not with
                      --format)
${CLIENT_FLAGS_HELP}
  -h, --help          show this help

Examples:
  metrics get palm.cpu
  metrics get '*' --format csv > metrics.csv
  metrics get '*' --chart
`;

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: [...CLIENT_FLAGS, "format"],
    boolean: [...CLIENT_BOOLEAN_FLAGS, "chart"],
  });
  if (flags.help) return console.log(HELP), 0;
  const [key, ...extra] = flags._;
  if (key === undefined || extra.length > 0) {
    throw new UsageError("expected one KEY, or '*' for every key");
  }
  if (flags.chart && flags.format !== undefined) {
    throw new UsageError(
      "--chart draws sparklines for people; it takes no --format",
    );
  }
  const format = (flags.format ?? "table") as Format;
  if (!FORMATS.includes(format)) {
    throw new UsageError(
      `--format expects ${FORMATS.join(", ")}, got "${flags.format}"`,
    );
  }
  await using client = clientFromFlags(flags);
  const metrics = await client.get(key);
  const text = flags.chart
    ? chartMetrics(metrics)
    : formatMetrics(metrics, format);
  // Bold the table's header line for people; scripts get plain text.
  const headEnd = text.indexOf("\n");
  const out = format === "table" && !flags.chart && headEnd < text.length - 1
    ? strong(text.slice(0, headEnd), Deno.stdout) + text.slice(headEnd)
    : text;
  await writeAll(Deno.stdout, new TextEncoder().encode(out));
  return 0;
}

/** `metrics get`. */
export const getCommand: Command = {
  name: "get",
  summary: "print stored points: KEY or '*' as a table, json, csv or chart",
  help: HELP,
  run,
};
