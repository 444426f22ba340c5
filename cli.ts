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
import { type Command, UsageError } from "./src/cli/command.ts";
import { serveCommand } from "./src/cli/serve.ts";

const COMMANDS: readonly Command[] = [serveCommand];

const HELP =
  `metrics ${denoJson.version}: store and read measurements over the plain-text metrics protocol

Usage: metrics <command> [options]

Commands:
${
    COMMANDS.map((command) => `  ${command.name.padEnd(10)}${command.summary}`)
      .join("\n")
  }

Options:
  -h, --help      show this help; metrics <command> --help for a command's
  -V, --version   print the version
`;

/** Runs the tool with `args`; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
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
      throw new UsageError(`unknown command "${first}"`);
    }
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = command
        ? `metrics ${command.name} --help`
        : "metrics --help";
      console.error(`metrics: ${error.message}\nRun "${help}" for usage.`);
      return 2;
    }
    console.error(
      `metrics: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
