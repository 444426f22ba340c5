/**
 * The fuzzing of the client's response parser, as properties: random
 * bytes, mutations of valid responses, every split point. Each input is fed
 * to `ResponseParser` and both decoders and must end as parsed results or
 * `ClientError`s, never another exception; the outcome must match a small
 * reference decoder written from docs/protocol.md, however the bytes are split.
 *
 * Runs inside `fuzz_client_worker.ts`, so a hang can be caught from outside.
 *
 * @module
 */

import fc from "../helpers/fast_check.ts";
import { ClientError } from "../../src/client/errors.ts";
import {
  decodeGetResponse,
  decodePutResponse,
} from "../../src/client/codec.ts";
import { ResponseParser } from "../../src/client/response_parser.ts";

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** One decoded frame: the put and the get reading of it. */
type FrameOutcome = { put: string; get: string };
/** The outcomes of a stream: frames, then maybe how the parser gave up. */
export interface Trace {
  frames: FrameOutcome[];
  /** Set when `next()` threw (the client drops the connection there). */
  parserError: string | undefined;
}

/** Counts inputs fed, for the figures and the progress reports. */
export const counter = { inputs: 0, frames: 0, clientErrors: 0 };

/** `ok`, `ok {json}` or the `ClientError` kind; anything else throws. */
function classify(run: () => unknown): string {
  try {
    const result = run();
    return result === undefined ? "ok" : `ok ${canonical(result)}`;
  } catch (error) {
    if (error instanceof ClientError) {
      counter.clientErrors++;
      return error.kind;
    }
    throw new Error(`not a ClientError: ${error}`, { cause: error });
  }
}

/** Metrics as JSON with -0, NaN and the infinities kept apart. */
function canonical(metrics: unknown): string {
  const entries = Object.entries(metrics as Record<string, number[][]>);
  return JSON.stringify(
    entries.map(([key, points]) => [
      key,
      points.map((p) =>
        p.map((n) => Object.is(n, -0) || !Number.isFinite(n) ? String(n) : n)
      ),
    ]),
  );
}

/**
 * Feeds `bytes` to a parser cut at `cuts` (offsets), decoding each frame
 * both ways, stopping where the parser throws, as the client does.
 */
export function feed(
  bytes: Uint8Array,
  cuts: readonly number[],
  maxResponseBytes: number,
): Trace {
  counter.inputs++;
  const parser = new ResponseParser(maxResponseBytes);
  const trace: Trace = { frames: [], parserError: undefined };
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
    .sort((a, b) => a - b);
  points.push(bytes.length);
  let from = 0;
  for (const to of points) {
    if (to < from) continue;
    parser.push(bytes.subarray(from, to));
    from = to;
    for (;;) {
      let frame;
      try {
        frame = parser.next();
      } catch (error) {
        if (!(error instanceof ClientError)) {
          throw new Error(`next() threw a non-ClientError: ${error}`);
        }
        counter.clientErrors++;
        trace.parserError = error.kind;
        return trace;
      }
      if (frame === undefined) break;
      counter.frames++;
      trace.frames.push({
        put: classify(() => decodePutResponse(frame)),
        get: classify(() => decodeGetResponse(frame)),
      });
    }
    if (parser.buffered > maxResponseBytes) {
      throw new Error(
        `${parser.buffered} bytes buffered, over maxResponseBytes`,
      );
    }
  }
  return trace;
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** What Python's float() also reads, which peers' servers store. */
const SPECIAL = /^[+-]?(?:nan|inf|infinity)$/i;
const INTEGER = /^[+-]?\d+$/;

/** A value as docs/protocol.md says the client reads it. */
function readValue(text: string): number | undefined {
  if (FLOAT.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? value : undefined;
  }
  if (!SPECIAL.test(text)) return undefined;
  if (/nan/i.test(text)) return NaN;
  return text.startsWith("-") ? -Infinity : Infinity;
}

/** docs/protocol.md's get data, decoded the slow, obvious way. */
function referenceGet(body: string): string {
  const metrics = new Map<string, number[][]>();
  for (const line of body.split("\n").slice(0, -1)) {
    // Runs of spaces and tabs separate fields; one trailing \r is dropped.
    const fields = line.replace(/\r$/, "").split(/[ \t]+/).filter((f) =>
      f !== ""
    );
    if (fields.length !== 3) return "malformed_response";
    // Any key, any integer timestamp: what real servers hold is read.
    const [key, valueText, timeText] = fields;
    const value = readValue(valueText);
    const time = Number(timeText);
    if (value === undefined || !INTEGER.test(timeText)) {
      return "malformed_response";
    }
    const points = metrics.get(key) ?? [];
    metrics.set(key, points);
    points.push([time, value]);
  }
  for (const points of metrics.values()) points.sort((a, b) => a[0] - b[0]);
  return `ok ${canonical(Object.fromEntries(metrics))}`;
}

/** The reference: what docs/protocol.md says each frame of `bytes` means. */
export function reference(bytes: Uint8Array, max: number): Trace {
  const trace: Trace = { frames: [], parserError: undefined };
  let pos = 0;
  for (;;) {
    // An answer ends with an empty line: `\n\n`, or `\n\r\n`.
    let blank = -1;
    let close = 0;
    for (let i = pos; i + 1 < bytes.length; i++) {
      if (bytes[i] !== 0x0a) continue;
      if (bytes[i + 1] === 0x0a) close = 2;
      else if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) close = 3;
      else continue;
      blank = i;
      break;
    }
    // The first bytes of an answer must begin a status line (`ok` or
    // `error`, ended by `\n` or `\r\n`), or could still become one.
    const head = String.fromCharCode(...bytes.subarray(pos, pos + 7));
    const fits = (line: string): boolean =>
      head.startsWith(line) || line.startsWith(head);
    const STATUS = ["ok\n", "ok\r\n", "error\n", "error\r\n"];
    if (blank === -1) {
      if (bytes.length - pos > max || !STATUS.some(fits)) {
        trace.parserError = "malformed_response";
      }
      return trace;
    }
    if (blank + close - pos > max) {
      trace.parserError = "malformed_response";
      return trace;
    }
    const statusEnd = bytes.indexOf(0x0a, pos);
    // Seven bytes tell `ok` and `error` (with a `\r`) from anything else
    // (and a long line would overflow the spread).
    const status = String.fromCharCode(
      ...bytes.subarray(pos, Math.min(statusEnd, pos + 7)),
    ).replace(/\r$/, "");
    if (status !== "ok" && status !== "error") {
      trace.parserError = "malformed_response";
      return trace;
    }
    let body: string | undefined;
    try {
      body = utf8.decode(bytes.subarray(statusEnd + 1, blank + 1));
    } catch {
      body = undefined;
    }
    const notOk = body !== undefined ? "server_error" : "malformed_response";
    trace.frames.push({
      put: status !== "ok" ? notOk : body === "" ? "ok" : "malformed_response",
      get: status !== "ok"
        ? notOk
        : body === undefined
        ? "malformed_response"
        : referenceGet(body),
    });
    pos = blank + close;
  }
}

/** Formats a value as the server does (`12.0`, `0.5`, `-0.0`, `1e+21`). */
function formatValue(value: number): string {
  if (!Number.isInteger(value) || Math.abs(value) >= 1e21) return `${value}`;
  return Object.is(value, -0) ? "-0.0" : `${value}.0`;
}

/** Keys the generator writes: no whitespace or control bytes, as ours store. */
const KEY = /^[^\s\p{Cc}]+$/u;

const keyArb = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }).filter((k) =>
    KEY.test(k)
  ),
  fc.constantFrom("__proto__", "constructor", "toString", "*"),
);
const valueArb = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(
    0,
    -0,
    0.5,
    1e-7,
    1e21,
    -1e21,
    5e-324,
    1.7976931348623157e308,
  ),
);
const timeArb = fc.oneof(
  fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }),
  fc.maxSafeInteger(),
);

/** One well-formed response, as the server would write it. */
const responseArb = fc.oneof(
  fc.constant("ok\n\n"),
  fc.constant("error\nwrong command\n\n"),
  fc.array(fc.tuple(keyArb, valueArb, timeArb), { maxLength: 6 }).map(
    (points) =>
      `ok\n${
        points.map(([k, v, t]) => `${k} ${formatValue(v)} ${t}\n`).join("")
      }\n`,
  ),
);

/** A stream of well-formed responses. */
export const streamArb: fc.Arbitrary<Uint8Array> = fc
  .array(responseArb, { minLength: 1, maxLength: 5 })
  .map((responses) => encoder.encode(responses.join("")));

const TOKENS = [
  "nan",
  "inf",
  "-Infinity",
  "1e999",
  "0,5",
  "0x10",
  "1_0",
  "ok",
  "error",
  "\n",
  "\n\n",
  "  ",
  " ",
  "\t",
  "\r",
  "\r\n",
  "\u0000",
  "𝔘",
  "é",
  "1.5",
  "9007199254740993",
  "-0",
  ".",
  "e5",
  "+",
  "ok\n\n",
  "error\n\n",
].map((t) => encoder.encode(t));
const INVALID_UTF8 = [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80]]
  .map((b) => new Uint8Array(b));

const mutationArb = fc.record({
  op: fc.constantFrom(
    "flip",
    "insert",
    "delete",
    "duplicate",
    "token",
    "invalid",
    "truncate",
  ),
  at: fc.nat(),
  length: fc.integer({ min: 1, max: 12 }),
  byte: fc.nat(255),
  bit: fc.nat(7),
  token: fc.nat(TOKENS.length - 1),
});

/** One edit of a byte stream. */
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

/** Applies `mutations` to `bytes`, positions taken modulo the length. */
export function mutate(
  bytes: Uint8Array,
  mutations: readonly Mutation[],
): Uint8Array {
  let out = bytes;
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    const head = out.subarray(0, at);
    const tail = out.subarray(at);
    const join = (...parts: Uint8Array[]): Uint8Array => {
      const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) joined.set(p, (off += p.length) - p.length);
      return joined;
    };
    switch (m.op) {
      case "flip":
        if (tail.length > 0) {
          out = out.slice();
          out[at] ^= 1 << m.bit;
        }
        break;
      case "insert":
        out = join(head, new Uint8Array([m.byte]), tail);
        break;
      case "delete":
        out = join(head, tail.subarray(m.length));
        break;
      case "duplicate":
        out = join(head, tail.subarray(0, m.length), tail);
        break;
      case "token":
        out = join(head, TOKENS[m.token], tail.subarray(m.length % 4));
        break;
      case "invalid":
        out = join(head, INVALID_UTF8[m.byte % INVALID_UTF8.length], tail);
        break;
      case "truncate":
        out = head;
        break;
    }
  }
  return out;
}

/** Mutated streams: 1 to 4 mutations of a well-formed stream. */
export const mutatedArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(streamArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
  .map(([bytes, mutations]) => mutate(bytes, mutations));

/** A get answer of 500 to 3,000 lines (about 20 KB to 150 KB). */
const bigResponseArb = fc.tuple(
  fc.integer({ min: 500, max: 3000 }),
  keyArb,
  valueArb,
  timeArb,
).map(([count, key, value, time]) => {
  const lines = Array.from(
    { length: count },
    (_, i) => `${key}${i % 7} ${formatValue(value + i)} ${time - i}\n`,
  );
  return `ok\n${lines.join("")}\n`;
});

/**
 * Streams of 64 KiB to a few MiB: big get answers among small answers, so
 * the parser's buffer grows and compacts; maybe mutated.
 */
export const largeArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.array(fc.oneof(responseArb, bigResponseArb), {
      minLength: 2,
      maxLength: 12,
    }),
    fc.array(mutationArb, { maxLength: 2 }),
  )
  .map(([responses, mutations]) =>
    mutate(encoder.encode(responses.join("")), mutations)
  )
  .filter((bytes) => bytes.length > 64 * 1024);

/** Random bytes, biased toward the protocol's own characters. */
export const randomArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(
    fc.oneof(
      fc.constantFrom(..."ok\nerror 0123456789.-+eE\t\r*".split("")),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 120 },
  ).map((parts) => encoder.encode(parts.join(""))),
);

/** Limits to fuzz with: tiny ones make the size checks fire. */
export const maxArb: fc.Arbitrary<number> = fc.constantFrom(
  16,
  64,
  256,
  1 << 20,
);

/** Feeds split at random points; the trace must equal the reference. */
export function checkAgainstReference(
  bytes: Uint8Array,
  cuts: readonly number[],
  max: number,
): void {
  const got = feed(bytes, cuts, max);
  const expected = reference(bytes, max);
  const a = JSON.stringify(got);
  const b = JSON.stringify(expected);
  if (a !== b) {
    throw new Error(
      `parser and reference disagree on ${
        JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 2000)))
      } (${bytes.length} bytes, max ${max}, cuts ${
        JSON.stringify(cuts)
      }):\n parser:    ${a.slice(0, 2000)}\n reference: ${b.slice(0, 2000)}`,
    );
  }
}

/** Every split point of `bytes`, and one byte at a time, give one trace. */
export function checkEverySplit(bytes: Uint8Array, max: number): number {
  const whole = JSON.stringify(feed(bytes, [], max));
  let inputs = 1;
  for (let at = 0; at <= bytes.length; at++) {
    const split = JSON.stringify(feed(bytes, [at], max));
    inputs++;
    if (split !== whole) {
      throw new Error(
        `split at ${at} changed the outcome of ${
          JSON.stringify(new TextDecoder().decode(bytes))
        }:\n whole: ${whole}\n split: ${split}`,
      );
    }
  }
  const bytewise = JSON.stringify(
    feed(bytes, Array.from({ length: bytes.length }, (_, i) => i), max),
  );
  inputs++;
  if (bytewise !== whole) {
    throw new Error(`1-byte chunks changed the outcome:\n${bytewise}`);
  }
  return inputs;
}
