/**
 * Starts and stops a real single-node VictoriaMetrics
 * (`/usr/bin/victoria-metrics`, Debian's package) on a free port of
 * 127.0.0.1 with a temporary data folder, for tests and the bench.
 *
 * @module
 */

import { skipped } from "./skip.ts";

/** Where Debian's `victoria-metrics` package puts the binary. */
export const VM_BINARY = "/usr/bin/victoria-metrics";

/** Why the VictoriaMetrics tests are skipped, or undefined when they run. */
export const VM_SKIP_REASON: string | undefined = (() => {
  try {
    Deno.statSync(VM_BINARY);
    return undefined;
  } catch {
    return `${VM_BINARY} is missing (install Debian's victoria-metrics package; .ci/run does)`;
  }
})();

skipped("VictoriaMetrics tests", VM_SKIP_REASON);

/** How long VictoriaMetrics may take to answer /health after start. */
const START_TIMEOUT_MS = 20_000;
/** How long it may take to stop on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** Options of {@link VictoriaMetricsProcess.start}. */
export interface VmProcessOptions {
  /** `-dedup.minScrapeInterval`; `undefined` leaves the flag out. */
  dedup?: string | undefined;
  /** Extra command-line flags. */
  args?: string[];
}

/** A running `victoria-metrics`; `await using` stops it and removes its data. */
export class VictoriaMetricsProcess implements AsyncDisposable {
  /** Its base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly #dataDir: string;
  readonly #args: string[];
  #child: Deno.ChildProcess | undefined;
  #drained: Promise<void> = Promise.resolve();
  #output = "";
  /** The helper's own connections, closed whenever it stops. */
  #http: Deno.HttpClient | undefined;

  private constructor(port: number, dataDir: string, args: string[]) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#dataDir = dataDir;
    this.#args = args;
  }

  /** Starts it with `-retentionPeriod=100y` and `-dedup.minScrapeInterval=1s`. */
  static async start(
    options: VmProcessOptions = { dedup: "1s" },
  ): Promise<VictoriaMetricsProcess> {
    const dataDir = await Deno.makeTempDir({ prefix: "metrics-vm-" });
    const args = [
      "-retentionPeriod=100y",
      ...(options.dedup === undefined
        ? []
        : [`-dedup.minScrapeInterval=${options.dedup}`]),
      ...(options.args ?? []),
    ];
    // The port is picked free, then handed over; a clash shows at /health.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const vm = new VictoriaMetricsProcess(port, dataDir, args);
    try {
      await vm.#spawn();
    } catch (error) {
      await vm[Symbol.asyncDispose]();
      throw error;
    }
    return vm;
  }

  /** Its process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Its `-storageDataPath`, removed when it is disposed. */
  get dataDir(): string {
    return this.#dataDir;
  }

  /** Everything it printed (stdout and stderr). */
  get output(): string {
    return this.#output;
  }

  /** Stops it (SIGTERM: it flushes to disk) and starts it on the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  /** Stops it with `signal` and waits for it; safe when already stopped. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }, STOP_TIMEOUT_MS);
    await child.status;
    clearTimeout(killer);
    await this.#drained;
    this.#http?.close();
    this.#http = undefined;
  }

  /** Starts the stopped process again on the same port and data. */
  async start(): Promise<void> {
    if (this.#child === undefined) await this.#spawn();
  }

  /** Makes accepted points searchable now (`/internal/force_flush`). */
  forceFlush(): Promise<void> {
    return this.#internal("force_flush", 10_000);
  }

  /** Asks it to merge its parts now (`/internal/force_merge`). */
  forceMerge(): Promise<void> {
    return this.#internal("force_merge", 60_000);
  }

  async #internal(name: string, timeout: number): Promise<void> {
    const response = await fetch(`${this.url}/internal/${name}`, {
      client: this.#client(),
      signal: AbortSignal.timeout(timeout),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  }

  #client(): Deno.HttpClient {
    return this.#http ??= Deno.createHttpClient({});
  }

  async #spawn(): Promise<void> {
    const child = new Deno.Command(VM_BINARY, {
      args: [
        `-storageDataPath=${this.#dataDir}`,
        `-httpListenAddr=127.0.0.1:${this.port}`,
        ...this.#args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        this.#output = (this.#output + text).slice(-100_000);
      }
    };
    this.#drained = Promise.all([collect(child.stdout), collect(child.stderr)])
      .then(() => {});
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${this.url}/health`, {
          client: this.#client(),
          signal: AbortSignal.timeout(1000),
        });
        const text = await response.text();
        if (response.ok && text.trim() === "OK") return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `VictoriaMetrics did not start within ${START_TIMEOUT_MS} ms: ${
        this.#output.slice(-2000)
      }`,
    );
  }

  /** Stops it and removes its data folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.#dataDir, { recursive: true }).catch(() => {});
  }
}
