/**
 * `metrics put KEY VALUE [TIMESTAMP]`: stores one point.
 *
 * @module
 */

import { parseFloatText } from "../protocol/grammar.ts";
import { parseTimestamp } from "./import_lines.ts";
import {
  CLIENT_BOOLEAN_FLAGS,
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  clientFromFlags,
} from "./client_flags.ts";
import { type Command, parseFlags, UsageError } from "./command.ts";

const HELP = `Usage: metrics put KEY VALUE [TIMESTAMP] [options]

Stores one point and exits 0 once the server acknowledged it. TIMESTAMP is
Unix time in whole seconds (default: now); one past year 9999 is taken for
milliseconds and refused.

Options:
${CLIENT_FLAGS_HELP}
  -h, --help          show this help

Examples:
  metrics put palm.cpu 23.7
  metrics put palm.cpu 0.5 1150864247 --server 127.0.0.1:8888
`;

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: CLIENT_FLAGS,
    boolean: CLIENT_BOOLEAN_FLAGS,
  });
  if (flags.help) return console.log(HELP), 0;
  const [key, valueText, tsText, ...extra] = flags._;
  if (valueText === undefined || extra.length > 0) {
    throw new UsageError("expected KEY VALUE [TIMESTAMP]");
  }
  const value = parseFloatText(valueText);
  if (value === undefined) {
    throw new UsageError(`VALUE must be a number, got "${valueText}"`);
  }
  const timestamp = tsText === undefined ? undefined : parseTimestamp(tsText);
  if (typeof timestamp === "object") throw new UsageError(timestamp.error);
  await using client = clientFromFlags(flags);
  await client.put(key, value, { timestamp });
  return 0;
}

/** `metrics put`. */
export const putCommand: Command = {
  name: "put",
  summary: "store one point: KEY VALUE [TIMESTAMP]",
  help: HELP,
  run,
};
