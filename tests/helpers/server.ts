/**
 * Test helpers: a raw socket that sends exact bytes and reads whole
 * responses, and a spawner for `cli.ts serve` as a child process.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How long a helper waits for bytes before failing the test. */
const WAIT_MS = 10_000;

/** A TCP connection that speaks raw bytes, for byte-exact assertions. */
export class RawSocket implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  /** Streaming: a character may arrive split across two reads. */
  readonly #decoder = new TextDecoder();
  #received = "";
  #closed = false;
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `127.0.0.1:port`. */
  static async connect(port: number): Promise<RawSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RawSocket(conn);
  }

  /** Writes `data` (text as UTF-8) in one write. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let at = 0; at < bytes.length;) {
      at += await this.#conn.write(bytes.subarray(at));
    }
  }

  /**
   * Reads until `count` whole responses (each ended by an empty line)
   * arrived; returns them, each with its closing `\n\n`.
   */
  async responses(count: number): Promise<string[]> {
    const found: string[] = [];
    // Offsets into #received, so megabytes of answers are not copied or
    // scanned again at every read.
    let start = 0;
    let scan = 0;
    try {
      await this.#readUntil(() => {
        for (;;) {
          if (found.length === count) return true;
          const end = this.#received.indexOf("\n\n", scan);
          if (end === -1) {
            scan = Math.max(start, this.#received.length - 1);
            return false;
          }
          found.push(this.#received.slice(start, end + 2));
          start = scan = end + 2;
        }
      }, `${count} responses`);
    } finally {
      this.#received = this.#received.slice(start);
    }
    return found;
  }

  /** Reads until the server closes; returns the bytes left, as text. */
  async rest(): Promise<string> {
    await this.#readUntil(() => this.#eof, "the server to close");
    const rest = this.#received;
    this.#received = "";
    return rest;
  }

  async #readUntil(done: () => boolean, what: string): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    const timer = setTimeout(() => this.close(), WAIT_MS);
    try {
      while (!done()) {
        if (this.#eof) {
          throw new Error(`connection closed while waiting for ${what}`);
        }
        let count: number | null;
        try {
          count = await this.#conn.read(buf);
        } catch (error) {
          if (this.#closed) {
            throw new Error(
              `timed out waiting for ${what}; got ${
                JSON.stringify(this.#received.slice(-2000))
              } (the last 2,000 characters of ${this.#received.length})`,
            );
          }
          // A reset by the server counts as its close.
          if (error instanceof Deno.errors.ConnectionReset) count = null;
          else throw error;
        }
        if (count === null) this.#eof = true;
        else {
          this.#received += this.#decoder.decode(buf.subarray(0, count), {
            stream: true,
          });
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection (once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  /** Same as `close`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Sends `requests` on a fresh connection; returns the responses, joined. */
export async function exchange(
  port: number,
  requests: string,
  count: number,
): Promise<string> {
  await using socket = await RawSocket.connect(port);
  await socket.send(requests);
  return (await socket.responses(count)).join("");
}

/** The project root, and `cli.ts` in it. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;
export const CLI: string = `${ROOT}cli.ts`;
/**
 * The permissions the compiled binary gets (`deno task compile`), so the
 * tests run `cli.ts` exactly as the binary would run.
 */
export const CLI_PERMISSIONS: string[] = denoJson.tasks.compile.command.split(
  " ",
)
  .filter((arg) => arg.startsWith("--allow-"));
/** `deno run` with the binary's permissions: prefix of every CLI spawn. */
export const DENO_RUN: string[] = ["run", ...CLI_PERMISSIONS];

/** A `cli.ts serve --port 0` child process. */
export class ServerProcess implements AsyncDisposable {
  /** The port it printed on stdout. */
  readonly port: number;
  /** The HTTP port of its page, when started with `--http`. */
  readonly httpPort: number | undefined;
  readonly #child: Deno.ChildProcess;
  readonly #stderr: { text: string };
  readonly #drained: Promise<void>;

  private constructor(
    child: Deno.ChildProcess,
    ports: [number, number | undefined],
    stderr: { text: string },
    drained: Promise<void>,
  ) {
    this.#child = child;
    [this.port, this.httpPort] = ports;
    this.#stderr = stderr;
    this.#drained = drained;
  }

  /**
   * Starts `cli.ts serve --port 0 ...args` and waits for its port (and the
   * page's, with `--http`). `wrap` goes before `deno` (`prlimit ...`).
   */
  static async start(
    args: string[] = [],
    wrap: string[] = [],
  ): Promise<ServerProcess> {
    const command = [
      ...wrap,
      Deno.execPath(),
      ...DENO_RUN,
      CLI,
      "serve",
      "--port",
      "0",
      ...args,
    ];
    const child = new Deno.Command(command[0], {
      args: command.slice(1),
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = { text: "" };
    const stderrDone = collect(child.stderr, (text) => stderr.text += text);
    let stdout = "";
    const { promise: portKnown, resolve, reject } = Promise.withResolvers<
      [number, number | undefined]
    >();
    const http = args.includes("--http");
    const stdoutDone = collect(child.stdout, (text) => {
      stdout += text;
      const match = stdout.match(/listening on [^\s]+:(\d+)\n/);
      const page = stdout.match(/page on http:\/\/[^\s]+:(\d+)\/\n/);
      if (match && (!http || page)) {
        resolve([Number(match[1]), page ? Number(page[1]) : undefined]);
      }
    }).then(() => reject(new Error(`no port printed; stderr: ${stderr.text}`)));
    const drained = Promise.all([stderrDone, stdoutDone]).then(() => {});
    try {
      return new ServerProcess(child, await portKnown, stderr, drained);
    } catch (error) {
      await drained;
      await child.status;
      throw error;
    }
  }

  /** The process id, to measure its memory. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Resident memory of the process now, in MiB (from `ps`). */
  async rssMiB(): Promise<number> {
    const { stdout } = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(this.pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    return Number(decoder.decode(stdout).trim()) / 1024;
  }

  /**
   * Resident memory now and its peak since {@link resetPeakRss}, in MiB,
   * from `/proc` (Linux): the kernel keeps the peak, so no sample misses it.
   */
  async residentMiB(): Promise<{ now: number; peak: number }> {
    // Deno lets only --allow-all read /proc of another process: ask cat.
    const status = await shell(`cat /proc/${this.pid}/status`);
    const kib = (field: string): number =>
      Number(status.match(new RegExp(`\\n${field}:\\s+(\\d+) kB`))?.[1]);
    return { now: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
  }

  /** Sets the peak of {@link residentMiB} to the memory resident now. */
  async resetPeakRss(): Promise<void> {
    await shell(`echo 5 > /proc/${this.pid}/clear_refs`);
  }

  /** Everything written to stderr so far. */
  get stderr(): string {
    return this.#stderr.text;
  }

  /** Sends `signal` and resolves with the exit status once output ended. */
  async stop(signal: Deno.Signal): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
    const status = await this.#child.status;
    await this.#drained;
    return status;
  }

  /** Kills it (SIGKILL) unless it exited, and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop("SIGKILL");
  }
}

/** Runs `script` with `sh -c`; returns its stdout, fails on failure. */
async function shell(script: string): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("sh", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`${script}: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

/** Reads a stream to its end as text, handing each piece to `onText`. */
export async function collect(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<void> {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    onText(text);
  }
}

/** What `runCli` may give the child besides its arguments. */
export interface CliInput {
  /** Written to its standard input, then closed. */
  stdin?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Deno permission flags instead of the binary's ({@link CLI_PERMISSIONS}). */
  permissions?: string[];
}

/** Runs `cli.ts ...args` to completion; returns code, stdout and stderr. */
export async function runCli(
  args: string[],
  input: CliInput = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...input.permissions ?? CLI_PERMISSIONS, CLI, ...args],
    cwd: ROOT,
    env: input.env,
    stdin: input.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** A temporary directory, removed with all it holds when disposed. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir();
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}
