/**
 * `get *` through a front-end on a real VictoriaMetrics, read a range of
 * keys at a time (`streamAll`), over real sockets: every point of many
 * keys across several ranges, keys VictoriaMetrics does not list yet, and
 * failures before and after the answer began.
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import { Client, ClientError } from "../../../../mod.ts";
import type { MetricsServer } from "../../../../src/server/mod.ts";
import { RawSocket } from "../../../helpers/server.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../../../helpers/victoriametrics.ts";
import { FaultyVictoriaMetrics } from "../../../helpers/vm_faults.ts";
import { frontEnd } from "./front_end.ts";

const ignore = VM_SKIP_REASON !== undefined;
/** Keys written: several ranges' worth (see `key_ranges.ts`). */
const KEYS = 120;
const BASE = 1150864247;

/** Key `i`'s name; every tenth has characters a regex would read. */
function keyName(i: number): string {
  const n = String(i).padStart(3, "0");
  return i % 10 === 0 ? `odd.(${n})+[a|b]*?{2}^$\\"é` : `k.${n}`;
}

/**
 * `keys` keys of `least` to `least + 39` points each, as
 * `Client.get("*")` answers them; with `least` of 256 or more they are
 * read in ranges, with fewer the keys after the first range at once.
 */
function everyPoint(
  keys: number,
  least: number,
): Record<string, [number, number][]> {
  const all: Record<string, [number, number][]> = {};
  for (let i = 0; i < keys; i++) {
    all[keyName(i)] = Array.from(
      { length: least + (i * 37) % 40 },
      (_, j) => [BASE + j * 10, (i * 1000 + j) / 4],
    );
  }
  return all;
}

/** Puts `points` through the server at `port`. */
async function putAll(
  port: number,
  points: Record<string, [number, number][]>,
): Promise<void> {
  await using client = new Client("127.0.0.1", port, {
    timeout: 10,
    maxInFlight: 64,
  });
  await Promise.all(
    Object.entries(points).flatMap(([key, series]) =>
      series.map(([timestamp, value]) => client.put(key, value, { timestamp }))
    ),
  );
}

/** `get *` through the server at `port`, keys in the order they came. */
async function getAll(port: number): Promise<[string, [number, number][]][]> {
  await using client = new Client("127.0.0.1", port, { timeout: 10 });
  return Object.entries(await client.get("*"));
}

/** `points` as `getAll` answers them: keys sorted by UTF-16 code units. */
function sorted(
  points: Record<string, [number, number][]>,
): [string, [number, number][]][] {
  return Object.entries(points).sort(([a], [b]) => a < b ? -1 : 1);
}

/**
 * A VictoriaMetrics behind a {@link FaultyVictoriaMetrics} and a
 * front-end `a` that wrote {@link everyPoint}`(KEYS, least)` through it,
 * keys `hidden` dropped on the way, then flushed; disposing stops all.
 */
async function written(
  least: number,
  hidden: readonly number[] = [],
): Promise<
  {
    vm: VictoriaMetricsProcess;
    proxy: FaultyVictoriaMetrics;
    a: MetricsServer;
    expected: Record<string, [number, number][]>;
  } & AsyncDisposable
> {
  const vm = await VictoriaMetricsProcess.start();
  const proxy = new FaultyVictoriaMetrics(vm.url);
  const stop = async () => {
    await proxy[Symbol.asyncDispose]();
    await vm[Symbol.asyncDispose]();
  };
  try {
    const a = await frontEnd(proxy.url);
    for (const i of hidden) proxy.hidden.add(keyName(i));
    const expected = everyPoint(KEYS, least);
    await putAll(a.port, expected);
    await vm.forceFlush();
    return {
      vm,
      proxy,
      a,
      expected,
      [Symbol.asyncDispose]: async () => {
        await a.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Sends `get *` on a raw connection to `port` and checks the server
 * closed it with the answer unfinished; then that a Client's `get *`
 * fails.
 */
async function assertClosedMidAnswer(port: number): Promise<void> {
  await using socket = await RawSocket.connect(port);
  await socket.send("get *\n");
  const answer = await socket.rest();
  assert(answer === "" || answer.startsWith("ok\n"), answer.slice(0, 100));
  assert(!answer.endsWith("\n\n"), "a whole answer came");
  await using client = new Client("127.0.0.1", port, {
    timeout: 10,
    retries: 0,
  });
  await assertRejects(() => client.get("*"), ClientError);
}

Deno.test({
  name:
    "get * reads every point of many keys across several ranges, through the front-end that wrote them and through a new one",
  ignore,
  async fn() {
    await using setup = await written(256);
    const { proxy, a, expected } = setup;
    const before = proxy.exports;
    assertEquals(await getAll(a.port), sorted(expected));
    assert(proxy.exports - before >= 3, `${proxy.exports - before} exports`);
    await using b = await frontEnd(proxy.url);
    assertEquals(await getAll(b.port), sorted(expected));
  },
});

Deno.test({
  name:
    "get * of keys of few points reads the keys after the first range in one export, every point back once, keys VictoriaMetrics does not show yet too",
  ignore,
  async fn() {
    // In the first range, and later.
    await using setup = await written(1, [0, 5, 90, KEYS - 1]);
    const { proxy, a, expected } = setup;
    // Listed names without points, after the first range: left out.
    proxy.phantoms.add("k.0505").add("zz");
    const before = proxy.exports;
    assertEquals(await getAll(a.port), sorted(expected));
    assertEquals(proxy.exports - before, 2);
  },
});

Deno.test({
  name:
    "get * answers keys VictoriaMetrics does not show yet from the front-end's recent writes, in their place by name",
  ignore,
  async fn() {
    // In the first range, a later one and the last.
    const hidden = [0, 5, 90, KEYS - 1];
    await using setup = await written(256, hidden);
    const { proxy, a, expected } = setup;
    assertEquals(await getAll(a.port), sorted(expected));
    // A front-end that did not write them does not know them.
    await using b = await frontEnd(proxy.url);
    const notWritten = { ...expected };
    for (const i of hidden) delete notWritten[keyName(i)];
    assertEquals(await getAll(b.port), sorted(notWritten));
  },
});

Deno.test({
  name:
    "a range whose export fails after ok was written closes the connection: the client sees an error, not a short answer",
  ignore,
  async fn() {
    await using setup = await written(256);
    const { proxy } = setup;
    await using b = await frontEnd(proxy.url, { retries: 0 });
    // The third range's export and every later one fail.
    proxy.failExportsFrom = proxy.exports + 3;
    await assertClosedMidAnswer(b.port);
  },
});

Deno.test({
  name:
    "a later range over maxExportPoints closes the connection: the client sees an error, not a short answer",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using a = await frontEnd(vm.url);
    // 16 one-point keys fill the first range; `z` comes in the export of
    // the rest.
    const points: Record<string, [number, number][]> = {};
    for (let i = 0; i < 16; i++) points[`a.${i}`] = [[BASE, i]];
    points.z = Array.from({ length: 100 }, (_, j) => [BASE + j, j]);
    await putAll(a.port, points);
    await vm.forceFlush();
    await using b = await frontEnd(vm.url, { maxExportPoints: 50 });
    await assertClosedMidAnswer(b.port);
  },
});

Deno.test({
  name:
    "a first range over maxExportPoints is answered error before ok, and the connection goes on",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using a = await frontEnd(vm.url);
    await putAll(a.port, everyPoint(KEYS, 1));
    await vm.forceFlush();
    await using b = await frontEnd(vm.url, { maxExportPoints: 10 });
    await using socket = await RawSocket.connect(b.port);
    await socket.send("get *\nget unknown\n");
    assertEquals(await socket.responses(2), [
      "error\nmore than 10 points to read (maxExportPoints)\n\n",
      "ok\n\n",
    ]);
  },
});
