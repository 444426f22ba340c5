/**
 * Memory needs a garbage collection before each sample to mean anything,
 * and `deno test` cannot expose `gc()`. So the memory-measuring scenarios
 * run as child processes (`deno run --v8-flags=--expose-gc`), print one
 * `RESULT <json>` line, and the test asserts on it.
 *
 * @module
 */

const decoder = new TextDecoder();

/** Runs `file` (beside this one) with `options`; returns its result. */
export async function runProbe<T>(
  file: string,
  options: Record<string, unknown>,
): Promise<T> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      // Test scripts keep to the tests' lock file, not the runtime's.
      `--lock=${new URL("../deno.lock", import.meta.url).pathname}`,
      "--v8-flags=--expose-gc",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      new URL(file, import.meta.url).pathname,
      JSON.stringify(options),
    ],
    stdin: "null",
  }).output();
  const out = decoder.decode(stdout);
  const line = out.split("\n").find((l) => l.startsWith("RESULT "));
  if (code !== 0 || line === undefined) {
    throw new Error(
      `probe ${file} exited with ${code}\nstdout: ${out}\nstderr: ${
        decoder.decode(stderr)
      }`,
    );
  }
  return JSON.parse(line.slice("RESULT ".length)) as T;
}

/** The options a probe was started with. */
export function probeOptions<T>(): T {
  return JSON.parse(Deno.args[0] ?? "{}") as T;
}

/** Prints the result line a probe ends with. */
export function report(result: unknown): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** Heap in use after a full collection, in MiB (needs `--expose-gc`). */
export function retainedHeapMiB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  gc();
  return Deno.memoryUsage().heapUsed / 2 ** 20;
}

/** The median of `xs`. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** The median of the first and of the last third of `samples`. */
export function trend(samples: readonly number[]): {
  early: number;
  late: number;
} {
  const third = Math.max(1, Math.floor(samples.length / 3));
  return {
    early: median(samples.slice(0, third)),
    late: median(samples.slice(-third)),
  };
}
