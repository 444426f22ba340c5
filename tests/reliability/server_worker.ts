/**
 * Worker: hosts the embedded server in its own isolate, so its heap can be
 * measured apart from the clients'. Messages in: `"start"`, `"heap"`,
 * `"close"`; each is answered with `{ port }`, `{ heap }` or
 * `{ closed, logged }` (the server's diagnostics).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type MetricsServer, serve } from "../../src/server/mod.ts";
import { retainedHeapMiB } from "./probe.ts";

let server: MetricsServer | undefined;
/** The server's diagnostics: a count and the first few. */
const logged = { count: 0, first: [] as string[] };

self.onmessage = async (event: MessageEvent<string>) => {
  if (event.data === "start") {
    server = await serve({
      port: 0,
      log: (message) => {
        if (logged.count++ < 5) logged.first.push(message);
      },
    });
    self.postMessage({ port: server.port });
  } else if (event.data === "heap") {
    self.postMessage({ heap: retainedHeapMiB() });
  } else if (event.data === "close") {
    await server?.close();
    self.postMessage({ closed: true, logged });
  }
};
