/**
 * Child processes of the bench: a server (`bench/server.ts`) whose memory
 * and CPU time can be asked for, and the line reader their stdout needs.
 *
 * @module
 */

import type { MemoryReport } from "./common.ts";

const SERVER_SCRIPT = new URL("server.ts", import.meta.url).pathname;
/** The lock file of tests and bench, so deno.lock keeps runtime packages only. */
export const TEST_LOCK = `--lock=${
  new URL("../tests/deno.lock", import.meta.url).pathname
}`;
/** Longest a bench child may run before it is killed. */
export const CHILD_DEADLINE_MS = 120_000;

/** `deno run` arguments for a bench child that gets `task` as JSON. */
export function denoArgs(
  script: string,
  task: unknown,
  extra: readonly string[],
): string[] {
  return [
    "run",
    "--quiet",
    TEST_LOCK,
    "--allow-net=127.0.0.1",
    "--v8-flags=--expose-gc,--max-old-space-size=4096",
    ...extra,
    script,
    JSON.stringify(task),
  ];
}

/** A server process; `stop()` ends it. */
export class ServerProcess {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(
    child: Deno.ChildProcess,
    lines: AsyncIterator<string>,
    port: number,
  ) {
    this.#child = child;
    this.#lines = lines;
    this.#stdin = child.stdin.getWriter();
    this.port = port;
  }

  /**
   * Starts `bench/server.ts` with `task`; `extra` goes before the script
   * (permissions, `--cpu-prof`).
   */
  static async start(
    task: unknown,
    extra: readonly string[] = [],
  ): Promise<ServerProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: denoArgs(SERVER_SCRIPT, task, extra),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      signal: AbortSignal.timeout(CHILD_DEADLINE_MS * 3),
    }).spawn();
    const lines = readLines(child.stdout);
    const first = await lines.next();
    const match = first.done
      ? null
      : /listening on .*:(\d+)$/.exec(first.value);
    if (match === null) {
      throw new Error(`bench server did not start: ${first.value}`);
    }
    return new ServerProcess(child, lines, Number(match[1]));
  }

  /** Heap and external bytes of the server after a full GC. */
  async memory(): Promise<MemoryReport> {
    await this.#stdin.write(new TextEncoder().encode("mem\n"));
    const line = await this.#lines.next();
    if (line.done) throw new Error("bench server exited");
    return JSON.parse(line.value) as MemoryReport;
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** CPU seconds (user and system) the process used so far. */
  cpuSeconds(): Promise<number> {
    return cpuSecondsOf(this.pid);
  }

  /** Ends it (end of stdin) and waits for it to exit. */
  async stop(): Promise<void> {
    await this.#stdin.close();
    const status = await this.#child.status;
    if (!status.success) throw new Error(`bench server failed: ${status.code}`);
  }
}

/**
 * CPU seconds (user and system) process `pid` used so far, from
 * `/proc/PID/stat` (Linux; `NaN` elsewhere).
 */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await procFile(pid, "stat");
  if (stat === undefined) return NaN;
  // Fields after the command name (which may hold spaces) start at ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks
  // (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Resident set size of process `pid` in bytes, from `/proc/PID/status`
 * (Linux; `NaN` elsewhere).
 */
export async function rssOf(pid: number): Promise<number> {
  const status = await procFile(pid, "status");
  const match = status?.match(/^VmRSS:\s+(\d+) kB$/m);
  return match ? Number(match[1]) * 1024 : NaN;
}

/**
 * The text of `/proc/PID/NAME`, or `undefined` where there is none. Read
 * by `cat`: Deno lets only `--allow-all` read `/proc` itself.
 */
async function procFile(
  pid: number,
  name: string,
): Promise<string | undefined> {
  const output = await new Deno.Command("cat", {
    args: [`/proc/${pid}/${name}`],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  if (output === undefined || !output.success) return undefined;
  return new TextDecoder().decode(output.stdout);
}

/** The lines of a child's stdout. */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
  if (pending !== "") yield pending;
}
