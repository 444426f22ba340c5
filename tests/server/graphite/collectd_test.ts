/**
 * collectd 5.12 as a real carbon client: `collectd -f` with a private
 * config (`cpu`, `load`, `memory`, `write_graphite` over TCP, `Interval 1`)
 * sends to our `--graphite` port through a recording proxy, so the test
 * knows every line it sent. Each point must then read back through the
 * protocol port (`get *`), `/render` and the page's `/api/keys`.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { Client } from "../../../mod.ts";
import { serve } from "../../../src/server/mod.ts";
import {
  Child,
  COLLECTD,
  COLLECTD_SKIP_REASON,
  waitFor,
} from "../../helpers/graphite.ts";
import { skipped } from "../../helpers/skip.ts";

const HOST = "collectd-test";

/** Forwards each connection to `port`, keeping a copy of what it sends. */
class RecordingProxy implements AsyncDisposable {
  readonly port: number;
  readonly #listener: Deno.Listener;
  readonly #pipes: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  #received = "";
  #closed = false;

  constructor(target: number) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.port = listener.addr.port;
    this.#accepting = (async () => {
      for await (const conn of listener) {
        this.#pipes.push(this.#pipe(conn, target));
      }
    })().catch(() => {});
  }

  /** Everything sent so far, decoded. */
  get received(): string {
    return this.#received;
  }

  async #pipe(conn: Deno.Conn, target: number): Promise<void> {
    const upstream = await Deno.connect({
      hostname: "127.0.0.1",
      port: target,
    });
    const decoder = new TextDecoder();
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const count = await conn.read(buf);
        if (count === null) break;
        const bytes = buf.subarray(0, count);
        this.#received += decoder.decode(bytes, { stream: true });
        for (let at = 0; at < count;) {
          at += await upstream.write(bytes.subarray(at));
        }
      }
    } catch {
      // collectd left: what it sent is recorded.
    } finally {
      conn.close();
      upstream.close();
    }
  }

  /** Waits for the connections to end, then stops listening. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    await this.#accepting;
    await Promise.all(this.#pipes);
  }
}

const ignore = skipped("collectd tests", COLLECTD_SKIP_REASON);

Deno.test({
  name:
    "every point collectd sends over write_graphite reads back by get, /render and /api/keys",
  ignore,
  fn: async () => {
    await using server = await serve({
      port: 0,
      graphite: { port: 0 },
      http: { port: 0 },
      log: () => {},
    });
    const proxy = new RecordingProxy(server.graphite!.port);
    const dir = await Deno.makeTempDir({ prefix: "metrics-collectd-" });
    await using client = new Client("127.0.0.1", server.port, { timeout: 10 });
    try {
      await Deno.writeTextFile(
        `${dir}/collectd.conf`,
        `Hostname "${HOST}"
FQDNLookup false
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin write_graphite
<Plugin write_graphite>
  <Node "metrics">
    Host "127.0.0.1"
    Port "${proxy.port}"
    Protocol "tcp"
    StoreRates true
    AlwaysAppendDS false
    EscapeCharacter "_"
  </Node>
</Plugin>
`,
      );
      const collectd = new Child(
        COLLECTD,
        ["-f", "-C", `${dir}/collectd.conf`],
        {},
      );
      try {
        await waitFor(
          `${HOST}.load.load.shortterm from collectd`,
          async () => {
            const got = await client.get(`${HOST}.load.load.shortterm`);
            return (got[`${HOST}.load.load.shortterm`]?.length ?? 0) >= 3;
          },
          () => collectd.output,
          30_000,
        );
      } finally {
        // SIGTERM: collectd flushes what it holds, then closes.
        await collectd.stop();
      }
      await proxy[Symbol.asyncDispose]();

      // The oracle: the lines as sent, last write per (key, second) wins.
      const sent = new Map<string, Map<number, number>>();
      for (const line of proxy.received.split("\n")) {
        if (line.trim() === "") continue;
        const [key, value, time] = line.trim().split(/\s+/);
        // carbon skips NaN (collectd sends `nan` for a rate with one sample).
        if (Number.isNaN(Number(value))) continue;
        const points = sent.get(key) ?? new Map<number, number>();
        points.set(Math.trunc(Number(time)), Number(value));
        sent.set(key, points);
      }
      assert(sent.has(`${HOST}.memory.memory-used`), [...sent.keys()].join());
      assert(sent.size >= 10, `only ${sent.size} keys`);

      // Points land a little after collectd's last write: wait for them.
      let stored = await client.get("*");
      await waitFor(
        "every line in the store",
        async () => {
          stored = await client.get("*");
          return [...sent].every(([key, points]) =>
            (stored[key]?.length ?? 0) >= points.size
          );
        },
        () => "",
        10_000,
      );
      for (const [key, points] of sent) {
        assertEquals(
          new Map(stored[key]),
          points,
          `${key}: what get returns is what collectd sent`,
        );
      }

      const key = `${HOST}.load.load.shortterm`;
      const times = [...sent.get(key)!.keys()];
      const from = Math.min(...times) - 1;
      const until = Math.max(...times);
      const render = await fetch(
        `${
          server.http!.url
        }render?target=${key}&from=${from}&until=${until}&format=json`,
      ).then((r) => r.json());
      assertEquals(render[0].target, key);
      const rendered = new Map(
        (render[0].datapoints as [number | null, number][])
          .filter(([value]) => value !== null)
          .map(([value, time]) => [time, value]),
      );
      assertEquals(rendered, sent.get(key));

      const keys = await fetch(
        `${server.http!.url}api/keys?match=${HOST}.load`,
      ).then((r) => r.json());
      const listed = keys.keys.find((entry: { key: string }) =>
        entry.key === key
      );
      assertEquals(listed?.count, sent.get(key)!.size);
    } finally {
      await proxy[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
