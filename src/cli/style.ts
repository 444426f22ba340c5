/**
 * Colour only where a person reads it: never when `NO_COLOR` is set or the
 * stream is not a terminal.
 *
 * @module
 */

import { bold, red } from "@std/fmt/colors";

/** Whether to colour text written to `stream`. */
export function colorFor(stream: { isTerminal(): boolean }): boolean {
  return !Deno.noColor && stream.isTerminal();
}

/** `text` in bold when writing to a terminal that allows colour. */
export function strong(
  text: string,
  stream: { isTerminal(): boolean },
): string {
  return colorFor(stream) ? bold(text) : text;
}

/** `text` in red when writing to a terminal that allows colour. */
export function alarm(text: string, stream: { isTerminal(): boolean }): string {
  return colorFor(stream) ? red(text) : text;
}
