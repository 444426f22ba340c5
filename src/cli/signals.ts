/**
 * Ctrl-C and `kill`: an `AbortSignal` that aborts on the first SIGINT or
 * SIGTERM, so long-running commands stop cleanly after flushing.
 *
 * @module
 */

/** An abort signal for SIGINT/SIGTERM; dispose to stop listening. */
export interface StopSignal extends Disposable {
  /** Aborts on the first SIGINT or SIGTERM, with the signal's name. */
  readonly signal: AbortSignal;
}

/** Listens for SIGINT and SIGTERM (SIGINT only on Windows). */
export function stopSignal(): StopSignal {
  const controller = new AbortController();
  const names: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const handlers = names.map((name) => {
    const handler = (): void => controller.abort(name);
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    [Symbol.dispose](): void {
      handlers.forEach(([name, handler]) =>
        Deno.removeSignalListener(name, handler)
      );
    },
  };
}
