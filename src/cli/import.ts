/**
 * `metrics import [FILE|-]`: bulk load of `key value [timestamp]` lines,
 * pipelined, with a progress bar on a terminal and an exact summary.
 *
 * @module
 */

import type { ClientError } from "../client/errors.ts";
import {
  CLIENT_BOOLEAN_FLAGS,
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  clientFromFlags,
} from "./client_flags.ts";
import { type Command, numberFlag, parseFlags, UsageError } from "./command.ts";
import { type ImportBatch, ImportReader } from "./import_lines.ts";
import { wholeLines } from "./import_text.ts";
import { stopSignal } from "./signals.ts";
import { alarm } from "./style.ts";

const HELP = `Usage: metrics import [FILE|-] [options]

Loads points from FILE, or standard input (- or no FILE), one per line in
the Graphite plaintext shape: KEY VALUE [TIMESTAMP] (Unix seconds; default
now). Blank lines and # comments are skipped; a bad line is reported with
its number and skipped. Prints a summary: points acknowledged, rejected by the server,
and not acknowledged (the server could not be reached; they may or may not
be stored). Exits 0 when every line landed, 1 when the server rejected a
point or could not be reached (the import stops there), 2 when the input
had bad lines, 130 on Ctrl-C (after the summary).

Options:
  --pipeline N        requests in flight at once (default 4096)
${CLIENT_FLAGS_HELP}
  -h, --help          show this help

Examples:
  metrics import points.txt
  printf 'palm.cpu 0.5 1150864247\\npalm.cpu 2.0 1150864248\\n' | metrics import -
`;

/** Points per `putMany` call. */
const BATCH = 4096;
/** Batches sent before the first is awaited: reading overlaps sending. */
const BATCHES_IN_FLIGHT = 2;

/** At most this many line numbers are listed in the summary. */
const LISTED_LINES = 20;

function lineList(lines: number[]): string {
  const shown = lines.slice(0, LISTED_LINES).join(", ");
  return lines.length > LISTED_LINES ? `${shown}, ...` : shown;
}

/** A one-line progress bar on stderr, redrawn at most 10 times a second. */
class Progress {
  readonly #total: number | undefined;
  readonly #started = performance.now();
  readonly #enabled = Deno.stderr.isTerminal();
  #drawn = 0;
  #shown = false;

  constructor(total: number | undefined) {
    this.#total = total;
  }

  update(points: number, bytes: number): void {
    const now = performance.now();
    if (!this.#enabled || now - this.#drawn < 100) return;
    this.#drawn = now;
    const rate = Math.round(points / ((now - this.#started) / 1000));
    let bar = "";
    if (this.#total) {
      const done = Math.min(1, bytes / this.#total);
      const filled = Math.round(done * 30);
      bar = ` [${"#".repeat(filled)}${".".repeat(30 - filled)}] ${
        Math.round(done * 100)
      }%`;
    }
    this.#write(`\r${points} points${bar} ${rate} points/s\x1b[K`);
    this.#shown = true;
  }

  /** Erases the bar, so other text gets a line of its own. */
  clear(): void {
    if (this.#enabled && this.#shown) this.#write("\r\x1b[K");
    this.#shown = false;
  }

  #write(text: string): void {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  }
}

async function openInput(
  file: string,
): Promise<{ stream: ReadableStream<Uint8Array>; size?: number }> {
  if (file === "-") return { stream: Deno.stdin.readable };
  try {
    const handle = await Deno.open(file);
    return { stream: handle.readable, size: (await handle.stat()).size };
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** What an import did, for its summary line. */
interface Tally {
  acknowledged: number;
  /** Line numbers of points the server rejected. */
  rejected: number[];
  /** Points the server could not be asked about (down, or timed out). */
  unacknowledged: number;
  /** Line numbers of lines that are not points. */
  bad: number[];
}

function summary(tally: Tally, seconds: number): string {
  const { acknowledged, rejected, unacknowledged, bad } = tally;
  rejected.sort((a, b) => a - b);
  return `acknowledged ${acknowledged}, rejected ${rejected.length}` +
    (rejected.length ? ` (lines ${lineList(rejected)})` : "") +
    `, not acknowledged ${unacknowledged}, bad lines ${bad.length}` +
    (bad.length ? ` (lines ${lineList(bad)})` : "") +
    ` in ${seconds.toFixed(2)} s (${
      Math.round(acknowledged / seconds)
    } points/s)`;
}

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: [...CLIENT_FLAGS, "pipeline"],
    boolean: CLIENT_BOOLEAN_FLAGS,
  });
  const [file = "-", ...extra] = flags._;
  if (extra.length > 0) {
    throw new UsageError(`unexpected argument "${extra[0]}"`);
  }
  const pipeline = numberFlag("pipeline", flags.pipeline) ?? 4096;
  if (!Number.isInteger(pipeline) || pipeline < 1 || pipeline > 65536) {
    throw new UsageError(
      `--pipeline expects a whole number from 1 to 65536, got ${pipeline}`,
    );
  }
  await using client = clientFromFlags(flags, {
    maxInFlight: pipeline,
    maxPending: BATCHES_IN_FLIGHT * BATCH,
  });
  const input = await openInput(file);
  const progress = new Progress(input.size);
  const warn = (line: number, message: string): void => {
    progress.clear();
    console.error(`line ${line}: ${message}`);
  };
  using stop = stopSignal();
  const now = Math.floor(Date.now() / 1000);
  const started = performance.now();
  const tally: Tally = {
    acknowledged: 0,
    rejected: [],
    unacknowledged: 0,
    bad: [],
  };
  let stoppedBy: { line: number; message: string } | undefined;
  /** Sends one batch; its outcome lands in the tally, by line number. */
  const send = ({ points, lines }: ImportBatch): Promise<void> =>
    client.putMany(points).then(
      () => void (tally.acknowledged += points.length),
      (error: ClientError) => {
        const failures = error.failures ??
          points.map((_, index) => ({
            index,
            kind: error.kind,
            message: error.message,
          }));
        tally.acknowledged += points.length - failures.length;
        for (const { index, kind, message } of failures) {
          if (kind === "server_error") {
            tally.rejected.push(lines[index]);
            warn(lines[index], message);
          } else {
            tally.unacknowledged++;
            stoppedBy ??= { line: lines[index], message };
          }
        }
      },
    );
  // Batches go out while the next one is read; calls keep their order.
  const window: Promise<void>[] = [];
  const reader = new ImportReader(BATCH, now, (line, error) => {
    tally.bad.push(line);
    warn(line, error);
  });
  let bytes = 0;
  reading: for await (const text of wholeLines(input.stream, stop.signal)) {
    for (let from = 0; from < text.length;) {
      const to = reader.read(text, from);
      bytes += to - from;
      from = to;
      if (!reader.full) continue;
      window.push(send(reader.take()));
      if (window.length >= BATCHES_IN_FLIGHT) await window.shift();
      progress.update(tally.acknowledged, bytes);
      if (stoppedBy || stop.signal.aborted) break reading;
    }
  }
  const rest = reader.take();
  if (rest.points.length > 0 && !stoppedBy) window.push(send(rest));
  await Promise.all(window);
  progress.clear();
  console.log(summary(tally, (performance.now() - started) / 1000));
  if (stop.signal.aborted) {
    console.error(`${stop.signal.reason}: stopped after line ${reader.lineNo}`);
    return 130;
  }
  if (stoppedBy) {
    console.error(
      `${
        alarm("stopped", Deno.stderr)
      } at line ${stoppedBy.line}: ${stoppedBy.message}`,
    );
    return 1;
  }
  return tally.rejected.length > 0 ? 1 : tally.bad.length > 0 ? 2 : 0;
}

/** `metrics import`. */
export const importCommand: Command = {
  name: "import",
  summary: "bulk load 'key value [timestamp]' lines from a file or stdin",
  help: HELP,
  run,
};
