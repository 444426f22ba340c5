/**
 * Worker: the prober's loop on its own thread, so nothing the test does on
 * its own event loop (building an oracle, checking 100 MiB of answers) is
 * counted as the server's delay. Messages in: `{ port, pauseMs }` starts,
 * `"stop"` stops. Out: `{ started }` after the first answer, then
 * `{ worstMs, medianMs, count }` once stopped, or `{ error }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { RawSocket } from "../helpers/server.ts";

let stopping = false;

async function probe(port: number, pauseMs: number): Promise<void> {
  await using socket = await RawSocket.connect(port);
  const times: number[] = [];
  while (!stopping) {
    const started = performance.now();
    await socket.send("put probe 1 1\n");
    const [answer] = await socket.responses(1);
    if (answer !== "ok\n\n") throw new Error(`the prober got ${answer}`);
    times.push(performance.now() - started);
    if (times.length === 1) self.postMessage({ started: true });
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  times.sort((a, b) => a - b);
  self.postMessage({
    worstMs: times[times.length - 1],
    medianMs: times[times.length >>> 1],
    count: times.length,
  });
}

self.onmessage = (
  event: MessageEvent<{ port: number; pauseMs: number } | "stop">,
) => {
  if (event.data === "stop") stopping = true;
  else {
    probe(event.data.port, event.data.pauseMs).catch((error) =>
      self.postMessage({ error: String(error) })
    );
  }
};
