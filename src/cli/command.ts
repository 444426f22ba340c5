/**
 * What every subcommand of the `metrics` tool provides, the error that
 * means bad usage (exit code 2), and the flag parsing they share.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { parseDuration } from "../internal/duration.ts";
import { parseSize } from "../internal/size.ts";

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

/** Parsed flags: each value flag as a string, each boolean as a boolean. */
export type Flags<S extends string, B extends string> =
  & { [K in S]?: string }
  & { [K in B]: boolean }
  & { help: boolean; _: string[] };

/** `-5`, `-0.5`, `-.5`: a value, not a flag. */
const NEGATIVE_NUMBER = /^-\.?\d/;
/** Hides a leading `-` from `parseArgs`; no argument starts with it. */
const ESCAPE = "\u0000";

function unescape(value: unknown): unknown {
  return typeof value === "string" && value.startsWith(ESCAPE)
    ? value.slice(ESCAPE.length)
    : value;
}

/**
 * Parses `args` with `@std/cli`: value flags stay strings (so does every
 * positional argument: `parseArgs` would turn `1e3` into `1000`), a negative
 * number is a value (`parseArgs` would read `-5` as a flag), `-h` is
 * `--help`, and an unknown flag is a {@link UsageError}.
 */
export function parseFlags<S extends string, B extends string = never>(
  args: string[],
  spec: { string: readonly S[]; boolean?: readonly B[] },
): Flags<S, B> {
  const escaped = args.map((arg) =>
    NEGATIVE_NUMBER.test(arg) ? ESCAPE + arg : arg
  );
  const flags = parseArgs(escaped, {
    string: [...spec.string, "_"],
    boolean: [...(spec.boolean ?? []), "help"],
    alias: { h: "help" },
    unknown: (arg: string): boolean => {
      if (arg.startsWith("-") && arg !== "-") {
        throw new UsageError(`unknown option ${arg}`);
      }
      return true;
    },
  });
  for (const [name, value] of Object.entries(flags)) {
    flags[name] = Array.isArray(value) ? value.map(unescape) : unescape(value);
  }
  return flags as Flags<S, B>;
}

/** Reads a numeric flag; the caller checks its range. */
export function numberFlag(
  name: string,
  text: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name} expects a number, got "${text}"`);
  }
  return value;
}

/** Reads a size flag (`500MB`, `10GB`, `1.5GiB`; a bare number is bytes) in bytes, above 0. */
export function sizeFlag(
  name: string,
  text: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSize(text);
  if (bytes === undefined || bytes === 0) {
    throw new UsageError(
      `--${name} expects a size above 0 like 500MB, 10GB or 1.5GiB, got "${text}"`,
    );
  }
  return bytes;
}

/**
 * Reads a duration flag (`500ms`, `10s`, `1m30s`; a bare number is seconds)
 * in seconds: above 0, or from 0 when `zero` allows it.
 */
export function durationFlag(
  name: string,
  text: string | undefined,
  zero = false,
): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError(
      `--${name} expects a duration like 10s, 500ms or 1m, got "${text}"`,
    );
  }
  const seconds = ms / 1000;
  if (!zero && seconds === 0) {
    throw new UsageError(`--${name} expects a duration above 0, got "${text}"`);
  }
  return seconds;
}
