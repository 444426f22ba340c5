/**
 * A bench client process: runs one {@link ClientTask} (JSON in
 * `Deno.args[0]`) and prints a {@link ClientResult} as JSON on stdout.
 * Every loop stops at `count` points or after `seconds`, whichever first.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { Client } from "../mod.ts";
import {
  type ClientResult,
  type ClientTask,
  HOST,
  keyOf,
  KEYS,
  memoryNow,
  putLine,
  retained,
  timestampOf,
  valueOf,
  wrongPoint,
} from "./common.ts";

const NL = 0x0a;
const encoder = new TextEncoder();
/** Lines per chunk written by the raw writer. */
const CHUNK_LINES = 8192;
/** The raw writer stops writing while this many answers are outstanding. */
const MAX_UNANSWERED = 256 * 1024;
/**
 * `Client` pipelined: puts started together, then awaited together. Past
 * about 8192 outstanding calls their objects outlive V8's young generation
 * and garbage collection costs 2-3x the throughput (measured), so 4096.
 */
const WINDOW = 4096;
/** Points per `putMany` call. */
const BATCH = 8192;

async function connect(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: HOST, port });
  conn.setNoDelay(true);
  return conn;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
}

function countNewlines(buf: Uint8Array, n: number): number {
  const read = buf.subarray(0, n);
  let count = 0;
  for (let at = read.indexOf(NL); at !== -1; at = read.indexOf(NL, at + 1)) {
    count++;
  }
  return count;
}

/**
 * The floor: pre-encoded lines written in large chunks while a read loop
 * counts answers (`ok\n\n` is two `\n`). `fresh` encodes distinct points
 * for each chunk (the embedded server then stores new points); otherwise
 * one chunk is encoded once and sent again and again.
 */
async function rawPipelined(task: ClientTask): Promise<ClientResult> {
  const conn = await connect(task.port);
  const first = task.first ?? 0;
  const encodeChunk = (from: number, lines: number): Uint8Array => {
    let text = "";
    for (let i = from; i < from + lines; i++) text += putLine(i);
    return encoder.encode(text);
  };
  const repeated = task.fresh ? undefined : encodeChunk(first, CHUNK_LINES);
  let answered = 0;
  let wake: (() => void) | undefined;
  const reading = (async (): Promise<void> => {
    const buf = new Uint8Array(1024 * 1024);
    let newlines = 0;
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("the server closed the connection");
      newlines += countNewlines(buf, n);
      answered = newlines >> 1;
      wake?.();
      if (answered >= task.count) return;
    }
  })();
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let sent = 0;
  while (sent < task.count && performance.now() < deadline) {
    if (sent - answered >= MAX_UNANSWERED) {
      await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
      continue;
    }
    const lines = Math.min(CHUNK_LINES, task.count - sent);
    const chunk = repeated === undefined
      ? encodeChunk(first + sent, lines)
      : repeated.subarray(
        0,
        lines === CHUNK_LINES ? undefined : lineEnd(repeated, lines),
      );
    await writeAll(conn, chunk);
    sent += lines;
  }
  // Stopped early by the deadline: wait for what was sent.
  while (answered < sent) {
    await new Promise<void>((resolve) => wake = resolve);
    wake = undefined;
  }
  const seconds = (performance.now() - started) / 1000;
  conn.close();
  await reading.catch(() => {});
  return { points: sent, seconds };
}

/** Offset just past the `lines`-th `\n` of `chunk`. */
function lineEnd(chunk: Uint8Array, lines: number): number {
  let at = -1;
  for (let i = 0; i < lines; i++) at = chunk.indexOf(NL, at + 1);
  return at + 1;
}

/** The floor for latency: one pre-encoded line, then wait for its answer. */
async function rawSequential(task: ClientTask): Promise<ClientResult> {
  const conn = await connect(task.port);
  const lines = Array.from(
    { length: 1000 },
    (_, i) => encoder.encode(putLine(i)),
  );
  const buf = new Uint8Array(64 * 1024);
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let points = 0;
  while (points < task.count && performance.now() < deadline) {
    await writeAll(conn, lines[points % lines.length]);
    for (let newlines = 0; newlines < 2;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("the server closed the connection");
      newlines += countNewlines(buf, n);
    }
    points++;
  }
  const seconds = (performance.now() - started) / 1000;
  conn.close();
  return { points, seconds };
}

/**
 * Runs `send(from, n)` on a connected `Client` for points `from` to
 * `from + n`, `window` points at a time, until `count` points or `seconds`.
 */
async function clientWindows(
  task: ClientTask,
  window: number,
  send: (client: Client, from: number, n: number) => Promise<unknown>,
): Promise<ClientResult> {
  const client = await Client.connect(HOST, task.port, {
    maxInFlight: window,
    maxPending: window,
    timeout: task.timeout,
    tls: task.caCerts && { caCerts: task.caCerts },
  });
  const first = task.first ?? 0;
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let points = 0;
  while (points < task.count && performance.now() < deadline) {
    const n = Math.min(window, task.count - points);
    await send(client, first + points, n);
    points += n;
  }
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return { points, seconds };
}

/** `Client.put` pipelined: windows of puts started at once, then awaited. */
function clientPipelined(task: ClientTask): Promise<ClientResult> {
  return clientWindows(task, WINDOW, (client, from, n) => {
    const puts: Promise<void>[] = [];
    for (let i = from; i < from + n; i++) {
      puts.push(
        client.put(keyOf(i), valueOf(i), { timestamp: timestampOf(i) }),
      );
    }
    return Promise.all(puts);
  });
}

/** `Client.putMany`: calls of {@link BATCH} points, each awaited. */
function clientPutMany(task: ClientTask): Promise<ClientResult> {
  return clientWindows(task, BATCH, (client, from, n) => {
    const batch = [];
    for (let i = from; i < from + n; i++) {
      batch.push({
        key: keyOf(i),
        value: valueOf(i),
        timestamp: timestampOf(i),
      });
    }
    return client.putMany(batch);
  });
}

/** `Client.put` sequential: await each put. */
async function clientSequential(task: ClientTask): Promise<ClientResult> {
  const client = await Client.connect(HOST, task.port, {
    timeout: task.timeout,
  });
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let points = 0;
  while (points < task.count && performance.now() < deadline) {
    await client.put(keyOf(points), valueOf(points), {
      timestamp: timestampOf(points),
    });
    points++;
  }
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return { points, seconds };
}

/**
 * The naive way: string concatenation, `conn.write` per request, and a
 * fresh buffer and decode per read until the answer is complete.
 */
async function naivePut(conn: Deno.Conn, i: number): Promise<void> {
  const line = "put " + keyOf(i) + " " + valueOf(i) + " " + timestampOf(i) +
    "\n";
  await conn.write(new TextEncoder().encode(line));
  let answer = "";
  while (!answer.endsWith("\n\n")) {
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    if (n === null) throw new Error("the server closed the connection");
    answer += new TextDecoder().decode(buf.subarray(0, n));
  }
  if (answer !== "ok\n\n") throw new Error(`unexpected answer ${answer}`);
}

/** Naive: one connection, await each put. */
async function naiveSequential(task: ClientTask): Promise<ClientResult> {
  const conn = await Deno.connect({ hostname: HOST, port: task.port });
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let points = 0;
  while (points < task.count && performance.now() < deadline) {
    await naivePut(conn, points);
    points++;
  }
  const seconds = (performance.now() - started) / 1000;
  conn.close();
  return { points, seconds };
}

/** Naive: a new connection for every put. */
async function naiveConnect(task: ClientTask): Promise<ClientResult> {
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let points = 0;
  while (points < task.count && performance.now() < deadline) {
    const conn = await Deno.connect({ hostname: HOST, port: task.port });
    try {
      await naivePut(conn, points);
    } finally {
      conn.close();
    }
    points++;
  }
  return { points, seconds: (performance.now() - started) / 1000 };
}

/**
 * Round-trip latency of the raw floor, `Client.put` and the naive way,
 * interleaved in short rounds on the same server so that a noisy neighbour
 * slows all three alike. Reports the median round of each, in seconds per
 * put (`points` and `seconds` are the Client's).
 */
async function sequentialCompare(task: ClientTask): Promise<ClientResult> {
  const ROUND = 200;
  const conn = await connect(task.port);
  const naive = await Deno.connect({ hostname: HOST, port: task.port });
  const client = await Client.connect(HOST, task.port, {
    timeout: task.timeout,
  });
  const lines = Array.from(
    { length: ROUND },
    (_, i) => encoder.encode(putLine(i)),
  );
  const buf = new Uint8Array(64 * 1024);
  const raw = async (i: number): Promise<void> => {
    await writeAll(conn, lines[i % ROUND]);
    for (let newlines = 0; newlines < 2;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("the server closed the connection");
      newlines += countNewlines(buf, n);
    }
  };
  const ways: ((i: number) => Promise<void>)[] = [
    raw,
    (i) => client.put(keyOf(i), valueOf(i), { timestamp: timestampOf(i) }),
    (i) => naivePut(naive, i),
  ];
  const rounds: number[][] = [[], [], []];
  const deadline = performance.now() + task.seconds * 1000;
  for (
    let r = 0;
    r * ROUND * 3 < task.count && performance.now() < deadline;
    r++
  ) {
    for (let w = 0; w < ways.length; w++) {
      const started = performance.now();
      for (let i = 0; i < ROUND; i++) await ways[w](r * ROUND + i);
      rounds[w].push((performance.now() - started) / 1000 / ROUND);
    }
  }
  conn.close();
  naive.close();
  await client.close();
  const [rawSeconds, clientSeconds, naiveSeconds] = rounds.map(median);
  return {
    points: rounds[1].length * ROUND,
    seconds: clientSeconds * rounds[1].length * ROUND,
    extra: {
      rawSeconds,
      clientSeconds,
      naiveSeconds,
      rounds: rounds[1].length,
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Many connections, each awaiting one put after another. */
async function many(
  task: ClientTask,
  open: (port: number) => Promise<(i: number) => Promise<void>>,
  close: (put: (i: number) => Promise<void>) => Promise<void>,
): Promise<ClientResult> {
  const connections = task.connections ?? 100;
  const puts = await Promise.all(
    Array.from({ length: connections }, () => open(task.port)),
  );
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let points = 0;
  await Promise.all(puts.map(async (put, c) => {
    for (
      let i = c;
      points < task.count && performance.now() < deadline;
      i += connections
    ) {
      await put(i);
      points++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(puts.map(close));
  return { points, seconds };
}

const rawConns = new Map<(i: number) => Promise<void>, Deno.TcpConn>();
const clients = new Map<(i: number) => Promise<void>, Client>();

/** Many raw connections: the floor for many connections. */
function rawMany(task: ClientTask): Promise<ClientResult> {
  const lines = Array.from(
    { length: 1000 },
    (_, i) => encoder.encode(putLine(i)),
  );
  return many(task, async (port) => {
    const conn = await connect(port);
    const buf = new Uint8Array(1024);
    const put = async (i: number): Promise<void> => {
      await writeAll(conn, lines[i % lines.length]);
      for (let newlines = 0; newlines < 2;) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("the server closed the connection");
        newlines += countNewlines(buf, n);
      }
    };
    rawConns.set(put, conn);
    return put;
  }, (put) => {
    rawConns.get(put)?.close();
    return Promise.resolve();
  });
}

/** Many `Client`s, each awaiting one put after another. */
function clientMany(task: ClientTask): Promise<ClientResult> {
  return many(task, async (port) => {
    const client = await Client.connect(HOST, port, { timeout: task.timeout });
    const put = (i: number): Promise<void> =>
      client.put(keyOf(i), valueOf(i), { timestamp: timestampOf(i) });
    clients.set(put, client);
    return put;
  }, (put) => clients.get(put)?.close() ?? Promise.resolve());
}

/**
 * Loads `count` points with the raw writer, then times `get *` with a
 * `Client` and measures the heap its answer holds.
 */
async function getAll(task: ClientTask): Promise<ClientResult> {
  const loaded = await rawPipelined({ ...task, fresh: true, seconds: 600 });
  const client = await Client.connect(HOST, task.port, {
    maxResponseBytes: 1024 * 1024 * 1024,
    timeout: task.timeout,
  });
  const before = retained(memoryNow());
  const started = performance.now();
  const metrics = await client.get("*");
  const seconds = (performance.now() - started) / 1000;
  const heapBytes = retained(memoryNow()) - before;
  let gotPoints = 0;
  for (const key in metrics) gotPoints += metrics[key].length;
  await client.close();
  return { points: loaded.points, seconds, heapBytes, gotPoints };
}

/**
 * `Client.record` end to end: every point recorded in one synchronous run
 * per window of {@link BATCH}, sent in the background, then `flush()`
 * awaited; the time runs from the first record to the last ack.
 */
async function clientRecord(task: ClientTask): Promise<ClientResult> {
  const client = await Client.connect(HOST, task.port, {
    maxInFlight: BATCH,
    maxPending: 2 * BATCH,
    flushSize: BATCH,
    maxBuffered: task.count,
    timeout: task.timeout,
  });
  const first = task.first ?? 0;
  const started = performance.now();
  const deadline = started + task.seconds * 1000;
  let points = 0;
  while (points < task.count && performance.now() < deadline) {
    const n = Math.min(BATCH, task.count - points);
    for (let i = first + points; i < first + points + n; i++) {
      client.record(keyOf(i), valueOf(i), { timestamp: timestampOf(i) });
    }
    points += n;
    // Let the background batches go, as code between records would.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await client.flush();
  const seconds = (performance.now() - started) / 1000;
  const { recorder } = client.stats();
  await client.close();
  if (recorder.acknowledged !== points || recorder.dropped !== 0) {
    throw new Error(`record: ${JSON.stringify(recorder)} of ${points}`);
  }
  return { points, seconds };
}

/** Rounds of {@link recordCost}; the median round is reported. */
const RECORD_COST_ROUNDS = 5;

/**
 * The cost of one `record` call alone: `count` points recorded in one
 * synchronous run into a buffer that holds them all, timed, then flushed.
 * Five rounds, each on a new client, and the median round reported: on a
 * shared machine a neighbour's burst slows one round, not the figure.
 * `extra.cpuSeconds` is the median of the rounds' CPU time, whole process
 * (V8's compiler and GC threads included), which other processes on the
 * cores do not inflate as they do the wall-clock time.
 */
async function recordCost(task: ClientTask): Promise<ClientResult> {
  const rounds: number[] = [];
  const cpuRounds: number[] = [];
  for (let round = 0; round < RECORD_COST_ROUNDS; round++) {
    const client = await Client.connect(HOST, task.port, {
      maxInFlight: BATCH,
      maxPending: 2 * BATCH,
      flushSize: task.count,
      maxBuffered: task.count,
      timeout: task.timeout,
    });
    // Warm the path first, as a hot loop would be.
    for (let i = 0; i < 10_000; i++) {
      client.record(keyOf(i), valueOf(i), { timestamp: timestampOf(i) });
    }
    await client.flush();
    const cpuBefore = cpuUsage();
    const started = performance.now();
    for (let i = 0; i < task.count; i++) {
      client.record(keyOf(i), valueOf(i), { timestamp: timestampOf(i) });
    }
    rounds.push((performance.now() - started) / 1000);
    const cpu = cpuUsage(cpuBefore);
    cpuRounds.push((cpu.user + cpu.system) / 1e6);
    await client.flush();
    const { recorder } = client.stats();
    await client.close();
    if (recorder.acknowledged !== task.count + 10_000) {
      throw new Error(`record cost: ${JSON.stringify(recorder)}`);
    }
  }
  return {
    points: task.count,
    seconds: median(rounds),
    extra: { rounds: rounds.length, cpuSeconds: median(cpuRounds) },
  };
}

/**
 * Reads back what a loop stored, so no figure comes from a store that lost
 * points: every point read must be the workload's point for its key and
 * second, and there must be `count` of them. With `sampleKeys`, only that
 * many keys are read, each holding every point of `[0, count)` that falls
 * to it. Throws on the first difference.
 */
async function verify(task: ClientTask): Promise<ClientResult> {
  const client = await Client.connect(HOST, task.port, {
    maxResponseBytes: 2 ** 30,
    timeout: 120,
  });
  const started = performance.now();
  try {
    const sample = task.sampleKeys;
    const keys = sample === undefined
      ? undefined
      : Array.from({ length: sample }, (_, j) => Math.floor(j * KEYS / sample));
    let points = 0;
    const check = (key: string, got: readonly [number, number][]): void => {
      for (const [timestamp, value] of got) {
        const wrong = wrongPoint(key, timestamp, value);
        if (wrong !== undefined) throw new Error(`read back: ${wrong}`);
      }
      points += got.length;
    };
    if (keys === undefined) {
      const all = await client.get("*");
      for (const key in all) check(key, all[key]);
      if (points !== task.count) {
        throw new Error(`read back ${points} points of ${task.count} stored`);
      }
    } else {
      for (const k of keys) {
        const key = keyOf(k);
        const got = (await client.get(key))[key] ?? [];
        check(key, got);
        const expected = Math.max(0, Math.ceil((task.count - k) / KEYS));
        if (got.length !== expected) {
          throw new Error(
            `read back ${got.length} points of ${key}, ${expected} stored`,
          );
        }
      }
    }
    return { points, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.close();
  }
}

const MODES: Record<
  ClientTask["mode"],
  (task: ClientTask) => Promise<ClientResult>
> = {
  "raw-pipelined": rawPipelined,
  "raw-sequential": rawSequential,
  "client-pipelined": clientPipelined,
  "client-put-many": clientPutMany,
  "client-sequential": clientSequential,
  "naive-sequential": naiveSequential,
  "naive-connect": naiveConnect,
  "raw-many": rawMany,
  "client-many": clientMany,
  "get-all": getAll,
  "sequential-compare": sequentialCompare,
  "client-record": clientRecord,
  "record-cost": recordCost,
  verify,
};

const task = JSON.parse(Deno.args[0]) as ClientTask;
console.log(JSON.stringify(await MODES[task.mode](task)));
