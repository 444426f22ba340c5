/**
 * What every subcommand of the `metrics` tool provides, and the error that
 * means bad usage (exit code 2).
 *
 * @module
 */

/** One subcommand of the `metrics` tool. */
export interface Command {
  /** The word that selects it: `metrics <name>`. */
  readonly name: string;
  /** One line for the tool's help. */
  readonly summary: string;
  /** The full text of `metrics <name> --help`. */
  readonly help: string;
  /** Runs with the arguments after the name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Bad usage: a wrong flag or value. The tool prints it and exits with 2. */
export class UsageError extends Error {
  /** @param message What is wrong and how to fix it. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
