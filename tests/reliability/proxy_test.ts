/**
 * The fault proxy does what it claims: a fault injector that injects
 * nothing would make every other test in this folder pass for nothing.
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import { type StubConn, StubServer } from "../helpers/stub_server.ts";
import { RawSocket } from "../helpers/server.ts";
import { noUnhandledRejections, sleep } from "./config.ts";
import { FaultProxy } from "./proxy.ts";

const encoder = new TextEncoder();

/** What a server-side script saw: bytes, reads, and how the stream ended. */
interface Seen {
  text: string;
  reads: number;
  end: "eof" | "reset" | "other" | undefined;
}

/** A stub server that answers `ok\n\n` per line and records what it saw. */
function recordingServer(seen: Seen[]): StubServer {
  return new StubServer(async (conn: StubConn, index: number) => {
    const record: Seen = { text: "", reads: 0, end: undefined };
    seen[index] = record;
    try {
      for (let line = await conn.readLine(); line !== null;) {
        await conn.send("ok\n\n");
        line = await conn.readLine();
      }
      record.end = "eof";
    } catch (error) {
      record.end = error instanceof Deno.errors.ConnectionReset
        ? "reset"
        : "other";
    } finally {
      record.text = conn.received;
      record.reads = conn.reads;
    }
  });
}

/** Waits until `check` holds, polling, for at most `ms`. */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await sleep(5);
  }
}

Deno.test("proxy forwards both directions unchanged without faults", async () => {
  await using _guard = noUnhandledRejections();
  const seen: Seen[] = [];
  await using server = recordingServer(seen);
  await using proxy = await FaultProxy.start({ targetPort: server.port });
  await using socket = await RawSocket.connect(proxy.port);
  await socket.send("put a 1 1\nget a\n");
  assertEquals(await socket.responses(2), ["ok\n\n", "ok\n\n"]);
  socket.close();
  await eventually(() => seen[0]?.end !== undefined);
  assertEquals(seen[0], {
    text: "put a 1 1\nget a\n",
    reads: seen[0].reads,
    end: "eof",
  });
  const stats = proxy.stats();
  assertEquals([stats.bytesUp, stats.bytesDown], [16, 8]);
});

Deno.test("proxy cuts with FIN after N bytes up: the server gets exactly N, both see EOF", async () => {
  await using _guard = noUnhandledRejections();
  const seen: Seen[] = [];
  await using server = recordingServer(seen);
  await using proxy = await FaultProxy.start({
    targetPort: server.port,
    faults: () => ({ up: { cutAfter: 13 }, cut: "fin" }),
  });
  await using socket = await RawSocket.connect(proxy.port);
  await socket.send("put a 1 1\nput b 2 2\n");
  const rest = await socket.rest();
  assert(rest === "" || rest === "ok\n\n", JSON.stringify(rest));
  await eventually(() => seen[0]?.end !== undefined);
  assertEquals([seen[0].text, seen[0].end], ["put a 1 1\nput", "eof"]);
  assertEquals(proxy.stats().finCuts, 1);
});

Deno.test("proxy cuts with RST after N bytes down: the client reads N bytes, then ConnectionReset", async () => {
  await using _guard = noUnhandledRejections();
  const seen: Seen[] = [];
  await using server = recordingServer(seen);
  await using proxy = await FaultProxy.start({
    targetPort: server.port,
    faults: () => ({ down: { cutAfter: 6 }, cut: "rst" }),
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    await conn.write(encoder.encode("get a\nget b\n"));
    const buf = new Uint8Array(64);
    let received = "";
    const error = await assertRejects(async () => {
      for (let i = 0; i < 100; i++) {
        const n = await conn.read(buf);
        if (n === null) return;
        received += new TextDecoder().decode(buf.subarray(0, n));
      }
    });
    assert(error instanceof Deno.errors.ConnectionReset, String(error));
    assert("ok\n\nok".startsWith(received), JSON.stringify(received));
  } finally {
    conn.close();
  }
  await eventually(() => seen[0]?.end !== undefined);
  assertEquals(seen[0].end, "reset");
  assertEquals(proxy.stats().rstCuts, 1);
});

Deno.test("proxy splits a stream into 1-byte packets", async () => {
  await using _guard = noUnhandledRejections();
  const seen: Seen[] = [];
  await using server = recordingServer(seen);
  await using proxy = await FaultProxy.start({
    targetPort: server.port,
    faults: () => ({ up: { split: true }, down: { split: true } }),
  });
  await using socket = await RawSocket.connect(proxy.port);
  const requests = "put a 1 1\n".repeat(20);
  await socket.send(requests);
  assertEquals((await socket.responses(20)).join(""), "ok\n\n".repeat(20));
  socket.close();
  await eventually(() => seen[0]?.end !== undefined);
  assertEquals(seen[0].text, requests);
  // One read per byte when the reader keeps up; never one read for all.
  assert(seen[0].reads > requests.length / 4, `${seen[0].reads} reads`);
});

Deno.test("proxy delays each chunk in both directions", async () => {
  await using _guard = noUnhandledRejections();
  const seen: Seen[] = [];
  await using server = recordingServer(seen);
  await using proxy = await FaultProxy.start({
    targetPort: server.port,
    faults: () => ({ up: { delayMs: 60 }, down: { delayMs: 60 } }),
  });
  await using socket = await RawSocket.connect(proxy.port);
  const started = performance.now();
  await socket.send("get a\n");
  assertEquals(await socket.responses(1), ["ok\n\n"]);
  const took = performance.now() - started;
  assert(took >= 115, `round trip took ${took.toFixed(0)} ms`);
});

Deno.test("proxy stalls a direction until resumed, then forwards everything", async () => {
  await using _guard = noUnhandledRejections();
  const seen: Seen[] = [];
  await using server = recordingServer(seen);
  await using proxy = await FaultProxy.start({ targetPort: server.port });
  await using socket = await RawSocket.connect(proxy.port);
  await socket.send("get a\n");
  assertEquals(await socket.responses(1), ["ok\n\n"]);
  proxy.stall("down", true);
  await socket.send("get b\n");
  await eventually(() => server.conns[0]?.received === "get a\nget b\n");
  await sleep(100);
  assertEquals(proxy.stats().bytesDown, 4, "a stalled direction forwarded");
  proxy.stall("down", false);
  assertEquals(await socket.responses(1), ["ok\n\n"]);
});
