/**
 * Fuzzing of the server over real sockets: random and mutated requests,
 * split at random points. Every complete line gets exactly the answer a
 * reference model written from docs/protocol.md and README expects (`ok` with
 * the model's data, or `error`), the server never crashes, and a
 * well-formed client connected beside the fuzzer keeps working. Replay a
 * failure with `RELIABILITY_SEED=<seed>`.
 */

import { assert, assertEquals } from "@std/assert";
import fc from "../helpers/fast_check.ts";
import { Client, ClientError } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { RawSocket } from "../helpers/server.ts";
import { noUnhandledRejections, scale, seed, sleep } from "./config.ts";
import { figures } from "./workload.ts";

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ERROR = "error\nwrong command\n\n";
/** The prefix of the keys of the well-formed client beside the fuzzer. */
const WELL_FORMED = "well_formed_client";

const KEY = /^[^\s\p{Cc}]+$/u;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

type Parsed =
  | { kind: "blank" }
  | { kind: "error" }
  | { kind: "get"; key: string }
  | { kind: "put"; key: string; value: number; time: number };

/** What one request line means, read straight from docs/protocol.md. */
function referenceRequest(line: Uint8Array): Parsed {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return { kind: "error" };
  }
  // Spaces and tabs separate fields; only a `\r` ending the line is dropped.
  const fields = text.replace(/\r$/, "").split(/[ \t]+/).filter((f) =>
    f !== ""
  );
  if (fields.length === 0) return { kind: "blank" };
  const [command, key, valueText, timeText] = fields;
  if (!KEY.test(key ?? "")) return { kind: "error" };
  if (command === "get" && fields.length === 2) return { kind: "get", key };
  if (command !== "put" || fields.length !== 4 || key === "*") {
    return { kind: "error" };
  }
  const value = Number(valueText);
  const time = Number(timeText);
  if (
    !FLOAT.test(valueText) || !Number.isFinite(value) ||
    !INTEGER.test(timeText) || !Number.isSafeInteger(time)
  ) {
    return { kind: "error" };
  }
  return { kind: "put", key, value, time };
}

/**
 * docs/protocol.md: values print as Python's repr(float). Worked out here
 * apart from the server's code: the shortest digits from `String()`, then
 * Python's notation rule.
 */
function formatValue(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  const [mantissa, exp = "0"] = String(Math.abs(value)).split("e");
  const [whole, fraction = ""] = mantissa.split(".");
  // Digits without leading zeros, and the exponent of the first digit.
  const raw = whole + fraction;
  const lead = raw.length - raw.replace(/^0+/, "").length;
  const digits = raw.slice(lead).replace(/0+$/, "") || "0";
  const exponent = Number(exp) + whole.length - 1 - lead;
  const sign = value < 0 ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    const tail = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const size = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${digits[0]}${tail}e${exponent < 0 ? "-" : "+"}${size}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const int = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  return `${sign}${int}.${digits.slice(exponent + 1) || "0"}`;
}

/** The server as a model: key to (second to value). */
class Model {
  readonly data = new Map<string, Map<number, number>>();

  /** The expected answer to `request`, updating the model for a put. */
  answer(request: Parsed): string | undefined {
    switch (request.kind) {
      case "blank":
        return undefined;
      case "error":
        return ERROR;
      case "put": {
        let series = this.data.get(request.key);
        if (series === undefined) {
          this.data.set(request.key, series = new Map());
        }
        series.set(request.time, request.value);
        return "ok\n\n";
      }
      case "get": {
        const keys = request.key === "*"
          ? [...this.data.keys()]
          : [request.key];
        return `ok\n${keys.map((key) => this.#lines(key)).join("")}\n`;
      }
    }
  }

  /** The data lines of `key`, by timestamp. */
  #lines(key: string): string {
    const series = [...(this.data.get(key) ?? new Map())]
      .sort((a, b) => a[0] - b[0]);
    return series.map(([t, v]) => `${key} ${formatValue(v)} ${t}\n`).join("");
  }
}

/**
 * An answer to `get *` without the lines of the well-formed client's keys:
 * they change beside the fuzzer, and that client checks them itself.
 */
function withoutWellFormed(answer: string): string {
  return answer.split("\n").filter((line) =>
    !line.startsWith(`${WELL_FORMED}.`)
  ).join("\n");
}

/** Splits `bytes` into complete lines (without `\n`) and the rest. */
function completeLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, i));
    start = i + 1;
  }
  return lines;
}

// Generators: mostly keys of a small pool, so puts and gets meet.
const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("k0", "k1", "k.2", "ключ", "𝔘") },
  { weight: 1, arbitrary: fc.constantFrom("*", "__proto__", "", "a\u00a0b") },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);
const sepArb = fc.constantFrom(" ", " ", " ", "  ", "\t", " \t ");
const valueTextArb = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.constantFrom(
    "0.5",
    ".5",
    "5.",
    "+1",
    "-0",
    "1e-7",
    "1E5",
    "nan",
    "inf",
    "0,5",
    "1e999",
    "0x10",
    "",
  ),
);
const timeTextArb = fc.oneof(
  fc.integer({ min: 0, max: 50 }).map(String),
  fc.constantFrom("1.5", "-1", "+7", "9007199254740993", "1e3", "abc"),
);
const commandArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("put", "get") },
  { weight: 1, arbitrary: fc.constantFrom("got", "GET", "PUT", "", "put*") },
);

/** A request line, well-formed or nearly so, maybe with telnet's `\r`. */
const lineArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(
      commandArb,
      sepArb,
      keyArb,
      sepArb,
      valueTextArb,
      sepArb,
      timeTextArb,
    ).map((parts) => parts.join("")),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(commandArb, sepArb, keyArb).map((p) => p.join("")),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\r", "get *") },
).chain((line) =>
  fc.tuple(fc.constantFrom("", "", "", " ", "\r"), fc.constantFrom("", "", " "))
    .map(([end, start]) => `${start}${line}${end}`)
);

/** A byte-level edit: mutates a request stream beyond what lines cover. */
const editArb = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("flip", "insert", "delete", "invalid"),
  byte: fc.nat(255),
});

/**
 * A put line of 1,000 to 60,000 bytes, within the server's 64 KiB limit,
 * so a batch crosses its read buffer's edges: long runs of separators, a
 * value of many digits, or one long key (few points, so `get *` answers
 * stay small).
 */
const longLineArb = fc.tuple(
  fc.integer({ min: 1000, max: 60_000 }),
  fc.constantFrom("spaces", "digits", "key"),
  fc.integer({ min: 0, max: 50 }),
).map(([length, kind, time]) =>
  kind === "spaces"
    ? `put k0${" \t".repeat(length >> 1)}${length} ${time}`
    : kind === "digits"
    ? `put k1 1.${"0".repeat(length)}1 ${time}`
    : `put long.${"x".repeat(10_000)} ${length} ${time % 2}`
);

/** Any line but `get *`, whose answer grows with everything stored. */
const noGetAllArb = lineArb.filter((line) => !/^\s*get[ \t]+\*\s*$/.test(line));

/**
 * The lines of a batch: mostly up to 12, sometimes up to 3,000 (a batch
 * past 64 KiB), sometimes with lines of up to 60,000 bytes.
 */
const linesArb = fc.oneof(
  { weight: 8, arbitrary: fc.array(lineArb, { minLength: 1, maxLength: 12 }) },
  {
    weight: 1,
    // A drawn length: fast-check's own sizes stay near the minimum.
    arbitrary: fc.integer({ min: 13, max: 3000 }).chain((length) =>
      fc.array(noGetAllArb, { minLength: length, maxLength: length })
    ),
  },
  {
    weight: 1,
    arbitrary: fc.array(fc.oneof(lineArb, longLineArb), {
      minLength: 2,
      maxLength: 12,
    }),
  },
);

/** A batch of request bytes: lines joined by `\n`, maybe edited, maybe
 * ending in an unfinished line. */
const batchArb = fc.tuple(
  linesArb,
  fc.array(editArb, { maxLength: 3 }),
  fc.boolean(),
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(new Uint8Array()) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  ),
).map(([lines, edits, finished, junk]) => {
  let bytes = encoder.encode(lines.join("\n") + (finished ? "\n" : ""));
  const joined = new Uint8Array(bytes.length + junk.length);
  joined.set(bytes);
  joined.set(junk, bytes.length);
  bytes = joined;
  for (const edit of edits) {
    const at = edit.at % (bytes.length + 1);
    const head = bytes.subarray(0, at);
    const tail = bytes.subarray(at);
    const insert = edit.op === "insert"
      ? [edit.byte]
      : edit.op === "invalid"
      ? [0xc3, 0x28]
      : [];
    const skip = edit.op === "delete" || edit.op === "flip" ? 1 : 0;
    const replaced = edit.op === "flip" && tail.length > 0
      ? [tail[0] ^ (1 << (edit.byte % 8))]
      : [];
    const next = new Uint8Array([
      ...head,
      ...insert,
      ...replaced,
      ...tail.subarray(skip),
    ]);
    bytes = next;
  }
  return bytes;
});

/** A well-formed client that keeps putting and checking until stopped. */
async function wellFormedClient(
  port: number,
  stop: { done: boolean },
): Promise<{ ops: number }> {
  await using client = new Client("127.0.0.1", port, {
    timeout: 10,
    maxInFlight: 8,
  });
  let ops = 0;
  for (let round = 0; !stop.done && round < 1_000_000; round++) {
    const key = `${WELL_FORMED}.${round % 10}`;
    // Seconds reused every 160 rounds: each key holds at most 128 points,
    // so `get *` answers stay small however long the fuzzer runs.
    const second = (i: number): number => (Math.floor(round / 10) % 16) * 8 + i;
    await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => client.put(key, round + i / 8, { timestamp: second(i) }),
      ),
    );
    const got = await client.get(key);
    const points = new Map(got[key]);
    assertEquals(
      Array.from({ length: 8 }, (_, i) => points.get(second(i))),
      Array.from({ length: 8 }, (_, i) => round + i / 8),
      `${key} after round ${round}`,
    );
    ops += 9;
    await sleep(1);
  }
  return { ops };
}

Deno.test("fuzz: the server answers every complete line per docs/protocol.md while a well-formed client keeps working", async () => {
  const runSeed = seed();
  // Printed before anything can fail, so every failure can be replayed.
  console.log(`fuzz server: seed ${runSeed}`);
  await using _guard = noUnhandledRejections();
  const messages: string[] = [];
  await using server = await serve({ port: 0, log: (m) => messages.push(m) });
  const model = new Model();
  const stop = { done: false };
  const beside = wellFormedClient(server.port, stop);
  const counts = {
    connections: 0,
    bytes: 0,
    ok: 0,
    error: 0,
    blank: 0,
    unfinished: 0,
  };
  const started = performance.now();
  let details;
  try {
    details = await fc.check(
      fc.asyncProperty(
        batchArb,
        fc.array(fc.nat(), { maxLength: 5 }),
        async (bytes, cuts) => {
          const lines = completeLines(bytes);
          const expected: string[] = [];
          /** The key of each get, to tell `get *` apart. */
          const requests: (string | undefined)[] = [];
          for (const line of lines) {
            const request = referenceRequest(line);
            const answer = model.answer(request);
            if (answer === undefined) counts.blank++;
            else {
              expected.push(answer);
              requests.push(request.kind === "get" ? request.key : undefined);
            }
          }
          if (bytes.length > 0 && bytes.at(-1) !== 0x0a) counts.unfinished++;
          counts.connections++;
          counts.bytes += bytes.length;
          await using socket = await RawSocket.connect(server.port);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
            .sort((a, b) => a - b);
          let from = 0;
          for (const to of [...points, bytes.length]) {
            if (to <= from) continue;
            await socket.send(bytes.subarray(from, to));
            from = to;
            await sleep(0);
          }
          const answers = await socket.responses(expected.length);
          for (let i = 0; i < expected.length; i++) {
            const answer = requests[i] === "*"
              ? withoutWellFormed(answers[i])
              : answers[i];
            if (answer !== expected[i]) {
              assertEquals(
                answer,
                expected[i],
                `answer ${i} to ${
                  JSON.stringify(new TextDecoder().decode(bytes).slice(0, 2000))
                }`,
              );
            }
            if (answers[i] === ERROR) counts.error++;
            else counts.ok++;
          }
        },
      ),
      { seed: runSeed, numRuns: scale(600, 8000), endOnFailure: true },
    );
  } finally {
    stop.done = true;
  }
  const { ops } = await beside;
  // The server still serves after all of it.
  await using after = new Client("127.0.0.1", server.port, { timeout: 5 });
  await after.put("after.fuzz", 1, { timestamp: 1 });
  assertEquals(await after.get("after.fuzz"), { "after.fuzz": [[1, 1]] });
  console.log(
    `fuzz server: ${
      figures({
        seed: runSeed,
        ...counts,
        requests: counts.ok + counts.error,
        wellFormedOps: ops,
        serverErrorsLogged: messages.filter((m) =>
          m.startsWith("closing")
        ).length,
        seconds: ((performance.now() - started) / 1000).toFixed(1),
      })
    }`,
  );
  assertEquals(
    details.failed,
    false,
    `${details.errorInstance}\n${fc.defaultReportMessage(details)}`,
  );
  assert(ops > 0, "the well-formed client did nothing");
});

Deno.test("fuzz: a put of negative zero is read back as negative zero", async () => {
  // Known bug (reported): the client writes `${-0}`, which is "0".
  await using _guard = noUnhandledRejections();
  await using server = await serve({ port: 0 });
  await using client = new Client("127.0.0.1", server.port, { timeout: 5 });
  await client.put("negative.zero", -0, { timestamp: 1 });
  const [[, stored]] = (await client.get("negative.zero"))["negative.zero"];
  assert(Object.is(stored, -0), `put -0, read back ${stored}`);
});

Deno.test("fuzz: every finite value put by the client is read back exactly", async () => {
  const runSeed = seed();
  console.log(`fuzz roundtrip: seed ${runSeed}`);
  await using _guard = noUnhandledRejections();
  await using server = await serve({ port: 0 });
  await using client = new Client("127.0.0.1", server.port, { timeout: 5 });
  let time = 0;
  const details = await fc.check(
    fc.asyncProperty(
      // -0 has its own test above.
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) =>
        !Object.is(v, -0)
      ),
      async (value) => {
        time++;
        await client.put("roundtrip", value, { timestamp: time });
        const got = await client.get("roundtrip");
        const stored = got.roundtrip?.find(([t]) => t === time)?.[1];
        assert(
          Object.is(stored, value),
          `put ${Object.is(value, -0) ? "-0" : value}, read back ${
            Object.is(stored, -0) ? "-0" : stored
          }`,
        );
      },
    ),
    { seed: runSeed, numRuns: scale(2000, 20_000) },
  );
  console.log(
    `fuzz roundtrip: ${
      figures({
        seed: runSeed,
        values: details.numRuns,
        failed: details.failed,
      })
    }`,
  );
  assertEquals(
    details.failed,
    false,
    `${details.errorInstance}\n${fc.defaultReportMessage(details)}`,
  );
});

Deno.test("fuzz: every valid key put by the client is read back under the same name", async () => {
  const runSeed = seed();
  console.log(`fuzz keys: seed ${runSeed}`);
  await using _guard = noUnhandledRejections();
  await using server = await serve({ port: 0 });
  await using client = new Client("127.0.0.1", server.port, { timeout: 5 });
  let rejected = 0;
  const stored = new Set<string>();
  const details = await fc.check(
    fc.asyncProperty(
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
      async (key) => {
        try {
          await client.put(key, 1.5, { timestamp: 7 });
        } catch (error) {
          // The client refuses keys the protocol cannot carry, up front.
          if (!(error instanceof ClientError)) throw error;
          assertEquals(error.kind, "invalid_argument");
          assert(!KEY.test(key) || key === "*", `refused valid key ${key}`);
          rejected++;
          return;
        }
        assert(KEY.test(key), `accepted invalid key ${JSON.stringify(key)}`);
        assertEquals(await client.get(key), { [key]: [[7, 1.5]] });
        stored.add(key);
      },
    ),
    // Past 1,024 keys: the server's column of one-point keys grows.
    { seed: runSeed, numRuns: scale(3000, 20_000) },
  );
  // Every key, read back together once all are stored.
  const all = await client.get("*");
  assertEquals(
    Object.keys(all).filter((key) => !stored.has(key)),
    [],
    "keys never put",
  );
  for (const key of stored) assertEquals(all[key], [[7, 1.5]], key);
  console.log(
    `fuzz keys: ${
      figures({
        seed: runSeed,
        keys: details.numRuns,
        distinct: stored.size,
        refusedUpFront: rejected,
        failed: details.failed,
      })
    }`,
  );
  assertEquals(
    details.failed,
    false,
    `${details.errorInstance}\n${fc.defaultReportMessage(details)}`,
  );
});
