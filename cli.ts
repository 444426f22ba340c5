#!/usr/bin/env -S deno run --allow-net --allow-read --allow-write --allow-env --allow-sys
/**
 * `metrics`: the command-line tool of the metrics protocol. Each subcommand
 * lives in `src/cli/`; this file only dispatches.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage.
 *
 * @example Run a server on a free port
 * ```sh
 * deno run --allow-net --allow-read --allow-write cli.ts serve --port 0
 * ```
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { ClientError } from "./src/client/errors.ts";
import { certCommand } from "./src/cli/cert.ts";
import { collectCommand } from "./src/cli/collect.ts";
import { type Command, UsageError } from "./src/cli/command.ts";
import { demoCommand } from "./src/cli/demo.ts";
import { getCommand } from "./src/cli/get.ts";
import { importCommand } from "./src/cli/import.ts";
import { putCommand } from "./src/cli/put.ts";
import { serveCommand } from "./src/cli/serve.ts";
import { alarm } from "./src/cli/style.ts";

const COMMANDS: readonly Command[] = [
  putCommand,
  getCommand,
  importCommand,
  collectCommand,
  serveCommand,
  demoCommand,
  certCommand,
];

/** Flags every client command takes, also before the command's name. */
const GLOBAL_FLAGS = ["--server", "--timeout"];
const EXAMPLES: Record<string, string> = {
  "--server": "127.0.0.1:8888",
  "--timeout": "10s",
};

const HELP =
  `metrics ${denoJson.version}: store and read measurements over the plain-text metrics protocol

Usage: metrics <command> [options]

Commands:
${
    COMMANDS.map((command) => `  ${command.name.padEnd(10)}${command.summary}`)
      .join("\n")
  }

Options:
  --server HOST:PORT  the server (default $METRICS_SERVER, else 127.0.0.1:8888)
  --timeout DURATION  how long each request may take: 10s, 500ms, 1m
                      (default 10s)
  -h, --help          show this help (metrics help <command>: a command's)
  -V, --version       print the version (also: metrics version)

Examples:
  metrics demo
  metrics serve --data ./data
  metrics put palm.cpu 23.7
  metrics get '*' --chart
  metrics import points.txt
  metrics collect --interval 10s

Exit codes: 0 success, 1 the server or network failed, 2 bad usage, bad
input or a missing permission, 130 stopped by Ctrl-C.
`;

/** Moves global flags given before the command's name to after it. */
function hoistGlobalFlags(args: string[]): string[] {
  const globals: string[] = [];
  let i = 0;
  while (i < args.length) {
    const [name] = args[i].split("=", 1);
    if (!GLOBAL_FLAGS.includes(name)) break;
    const takesNext = !args[i].includes("=");
    if (
      takesNext && (args[i + 1] === undefined || args[i + 1].startsWith("-"))
    ) {
      throw new UsageError(
        `${name} needs a value, e.g. ${name} ${EXAMPLES[name]}`,
      );
    }
    globals.push(...args.slice(i, i + (takesNext ? 2 : 1)));
    i += takesNext ? 2 : 1;
  }
  const [command, ...rest] = args.slice(i);
  return command === undefined ? globals : [command, ...globals, ...rest];
}

/** `metrics help [COMMAND]`, `metrics version`: words for the flags. */
function wordsToFlags(args: string[]): string[] {
  const [first, ...rest] = args;
  if (first === "version") return ["--version", ...rest];
  if (first === "help") {
    return rest.length === 0 ? ["--help"] : [...rest, "--help"];
  }
  return args;
}

/** Runs the tool with `args`; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  let hoisted: string[];
  try {
    hoisted = hoistGlobalFlags(wordsToFlags(args));
  } catch (error) {
    return report(error, undefined);
  }
  const [first, ...rest] = hoisted;
  if (first === "--help" || first === "-h") {
    console.log(HELP);
    return 0;
  }
  if (first === undefined) {
    console.error(HELP);
    return 2;
  }
  if (first === "--version" || first === "-V") {
    console.log(`metrics ${denoJson.version}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  try {
    if (command === undefined) {
      const near = closest(first, COMMANDS.map((c) => c.name));
      throw new UsageError(
        `unknown command "${first}"${near ? `; did you mean "${near}"?` : ""}`,
      );
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(command.help);
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    return report(error, command);
  }
}

/** The name within two edits of `word`, if one is (a typo's fix). */
function closest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const distance = editDistance(word, name);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j] + 1,
        next[j - 1] + 1,
        row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length];
}

/** Prints what went wrong in one line; resolves to the exit code. */
function report(error: unknown, command: Command | undefined): number {
  // The reader of our output went away (`| head`): stop quietly, like
  // every Unix tool.
  if (error instanceof Deno.errors.BrokenPipe) return 0;
  if (error instanceof UsageError) {
    const help = command ? `metrics ${command.name} --help` : "metrics --help";
    console.error(`metrics: ${error.message}\nRun "${help}" for usage.`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`${alarm("metrics:", Deno.stderr)} ${message}`);
  // A missing permission, or a key or value the server could never
  // accept, is a matter of how the tool was run.
  return error instanceof Deno.errors.NotCapable ||
      (error instanceof ClientError && error.kind === "invalid_argument")
    ? 2
    : 1;
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
