/**
 * Workloads and checks shared by the fault and soak tests: issue puts with
 * a bounded window and record how each ended, read back what the server
 * holds, and compare.
 *
 * @module
 */

import {
  Client,
  ClientError,
  type ClientErrorKind,
  type ClientOptions,
} from "../../mod.ts";
import type { CutKind, ProxyOptions } from "./proxy.ts";
import { Rng } from "./rng.ts";

/** One put to issue. */
export interface PutSpec {
  readonly key: string;
  readonly value: number;
  readonly timestamp: number;
}

/** How a call ended: resolved, rejected with a `ClientError` kind, or not. */
export type Outcome = "ok" | ClientErrorKind | "not_client_error";

/** Every outcome's count, and the first non-`ClientError` seen. */
export interface Tally {
  ok: number;
  rejected: number;
  byKind: Partial<Record<Outcome, number>>;
  foreign: unknown;
}

/** The outcome of a settled call, counted into `tally`. */
export async function outcome(
  call: Promise<unknown>,
  tally: Tally,
): Promise<Outcome> {
  let result: Outcome;
  try {
    await call;
    result = "ok";
    tally.ok++;
  } catch (error) {
    tally.rejected++;
    if (error instanceof ClientError) {
      result = error.kind;
    } else {
      result = "not_client_error";
      tally.foreign ??= error;
    }
  }
  tally.byKind[result] = (tally.byKind[result] ?? 0) + 1;
  return result;
}

/** A fresh tally. */
export function newTally(): Tally {
  return { ok: 0, rejected: 0, byKind: {}, foreign: undefined };
}

/**
 * Issues `puts` in order on `client`, at most `window` unsettled at once,
 * stopping early past `deadline` (`performance.now()` ms); returns each
 * put's outcome (`undefined` for puts not issued).
 */
export async function putAll(
  client: Client,
  puts: readonly PutSpec[],
  window: number,
  tally: Tally,
  deadline = Infinity,
): Promise<(Outcome | undefined)[]> {
  const outcomes: (Outcome | undefined)[] = new Array(puts.length);
  const running = new Set<Promise<void>>();
  for (let i = 0; i < puts.length; i++) {
    if (performance.now() > deadline) break;
    while (running.size >= window) await Promise.race(running);
    const { key, value, timestamp } = puts[i];
    const task = outcome(client.put(key, value, { timestamp }), tally).then(
      (result) => {
        outcomes[i] = result;
        running.delete(task);
      },
    );
    running.add(task);
  }
  await Promise.all(running);
  return outcomes;
}

/** Issues `puts` one after another, awaiting each. */
export async function putSequentially(
  client: Client,
  puts: readonly PutSpec[],
  tally: Tally,
  deadline = Infinity,
): Promise<(Outcome | undefined)[]> {
  const outcomes: (Outcome | undefined)[] = new Array(puts.length);
  for (let i = 0; i < puts.length; i++) {
    if (performance.now() > deadline) break;
    const { key, value, timestamp } = puts[i];
    outcomes[i] = await outcome(client.put(key, value, { timestamp }), tally);
  }
  return outcomes;
}

/** What the server holds: key to (timestamp to value). */
export type Stored = Map<string, Map<number, number>>;

/** Reads every point with `get *` on a fresh, direct connection. */
export async function readAll(
  hostname: string,
  port: number,
  tls?: ClientOptions["tls"],
): Promise<Stored> {
  await using client = new Client(hostname, port, { timeout: 60, tls });
  const all = await client.get("*");
  const stored: Stored = new Map();
  for (const [key, points] of Object.entries(all)) {
    const byTime = new Map<number, number>();
    for (const [timestamp, value] of points) {
      if (byTime.has(timestamp)) {
        throw new Error(`duplicate second ${timestamp} under ${key}`);
      }
      byTime.set(timestamp, value);
    }
    stored.set(key, byTime);
  }
  return stored;
}

/** Counts of a check of unique puts against what the server holds. */
export interface UniqueCheck {
  /** Resolved puts stored with their exact value. */
  verified: number;
  /** Resolved puts missing or stored with another value: must be 0. */
  lost: number;
  /** Rejected puts that were stored anyway (with their exact value). */
  rejectedStored: number;
  /** Rejected puts that were not stored. */
  rejectedMissing: number;
  /** Stored points no put wrote, or rejected ones with a wrong value. */
  foreign: number;
  /** A description of the first lost or foreign point. */
  firstProblem: string | undefined;
}

/**
 * Checks puts that each wrote their own (key, second): every resolved one
 * is stored with its exact value, nothing else is stored.
 */
export function checkUnique(
  puts: readonly PutSpec[],
  outcomes: readonly (Outcome | undefined)[],
  stored: Stored,
): UniqueCheck {
  const check: UniqueCheck = {
    verified: 0,
    lost: 0,
    rejectedStored: 0,
    rejectedMissing: 0,
    foreign: 0,
    firstProblem: undefined,
  };
  let storedCount = 0;
  for (const points of stored.values()) storedCount += points.size;
  let matched = 0;
  for (let i = 0; i < puts.length; i++) {
    const result = outcomes[i];
    if (result === undefined) continue;
    const { key, value, timestamp } = puts[i];
    const got = stored.get(key)?.get(timestamp);
    if (got !== undefined) matched++;
    if (result === "ok") {
      if (Object.is(got, value)) check.verified++;
      else {
        check.lost++;
        check.firstProblem ??= `put #${i} ${key} ${value} ${timestamp} ` +
          `resolved but the server holds ${got}`;
      }
    } else if (got === undefined) check.rejectedMissing++;
    else if (Object.is(got, value)) check.rejectedStored++;
    else {
      check.foreign++;
      check.firstProblem ??= `put #${i} ${key} ${value} ${timestamp} ` +
        `rejected and the server holds another value, ${got}`;
    }
  }
  if (storedCount !== matched) {
    check.foreign += storedCount - matched;
    check.firstProblem ??= `${storedCount - matched} stored points ` +
      `were never put`;
  }
  return check;
}

/**
 * A value that exercises the formats: negative, tiny, huge, integral and
 * not, all distinct for distinct `i`, all exact through text.
 */
export function valueFor(i: number): number {
  const magnitude = 10 ** ((i % 41) - 20);
  // Not -0 at i = 0: the sign of zero has its own test (fuzz_server_test.ts).
  const sign = i % 3 === 0 && i !== 0 ? -1 : 1;
  return i % 5 === 0 ? sign * i : sign * (i / 7) * magnitude;
}

/** Puts that each write their own (key, second), `keys` keys wide. */
export function uniquePuts(
  count: number,
  keys: number,
  prefix: string,
): PutSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}.${i % keys}`,
    value: valueFor(i),
    timestamp: 1_700_000_000 + Math.floor(i / keys),
  }));
}

/**
 * A fault schedule for the proxy: each connection is cut after a random,
 * log-uniform number of bytes (0 to `maxUp` of requests or `maxDown` of
 * responses), with a FIN or an RST. Derived from `seed` and the
 * connection's index, so a run replays.
 */
export function randomCuts(
  seed: number,
  options: { maxUp: number; maxDown: number },
): NonNullable<ProxyOptions["faults"]> {
  return (index) => {
    const rng = Rng.derive(seed, index);
    const cut: CutKind = rng.chance(0.5) ? "rst" : "fin";
    return rng.chance(0.7)
      ? { up: { cutAfter: rng.logInt(options.maxUp) }, cut }
      : { down: { cutAfter: rng.logInt(options.maxDown) }, cut };
  };
}

/** `{ a: 1, b: 2 }` as `a=1 b=2`, for figures lines. */
export function figures(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([name, value]) =>
      `${name}=${
        typeof value === "object" && value !== null
          ? JSON.stringify(value).replaceAll('"', "")
          : value
      }`
    )
    .join(" ");
}

/** Counts of a check of rewrites of the same (key, second). */
export interface RewriteCheck {
  /** (key, second) slots written. */
  slots: number;
  /** Slots holding the value of their last resolved put. */
  lastResolved: number;
  /** Slots holding the value of a later put that rejected (allowed). */
  laterRejected: number;
  /** Slots whose every put rejected, stored or not (allowed). */
  allRejected: number;
  /** Slots holding an older value, another value, or nothing: must be 0. */
  stale: number;
  /** A description of the first stale slot. */
  firstProblem: string | undefined;
}

/**
 * Checks puts that rewrite (key, second) slots, each slot's puts issued in
 * order: a slot holds its last resolved value, or the value of a put after
 * it that rejected (which may or may not have been stored).
 */
export function checkRewrites(
  puts: readonly PutSpec[],
  outcomes: readonly (Outcome | undefined)[],
  stored: Stored,
): RewriteCheck {
  const slots = new Map<string, number[]>();
  for (let i = 0; i < puts.length; i++) {
    if (outcomes[i] === undefined) continue;
    const id = `${puts[i].key} ${puts[i].timestamp}`;
    let list = slots.get(id);
    if (list === undefined) slots.set(id, list = []);
    list.push(i);
  }
  const check: RewriteCheck = {
    slots: slots.size,
    lastResolved: 0,
    laterRejected: 0,
    allRejected: 0,
    stale: 0,
    firstProblem: undefined,
  };
  for (const [id, indices] of slots) {
    const { key, timestamp } = puts[indices[0]];
    const got = stored.get(key)?.get(timestamp);
    let last = -1;
    for (let j = 0; j < indices.length; j++) {
      if (outcomes[indices[j]] === "ok") last = j;
    }
    const later = indices.slice(last + 1).map((i) => puts[i].value);
    if (last >= 0 && Object.is(got, puts[indices[last]].value)) {
      check.lastResolved++;
    } else if (got !== undefined && later.some((v) => Object.is(v, got))) {
      if (last >= 0) check.laterRejected++;
      else check.allRejected++;
    } else if (last < 0 && got === undefined) {
      check.allRejected++;
    } else {
      check.stale++;
      check.firstProblem ??= `slot ${id}: holds ${got}, last resolved ` +
        `${last < 0 ? "none" : puts[indices[last]].value} ` +
        `(put #${indices[last]}), later rejected [${later.join(", ")}]`;
    }
  }
  return check;
}
