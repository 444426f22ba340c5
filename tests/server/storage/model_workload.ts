/**
 * A seeded random sequence of storage operations for the model-based test:
 * new keys, rewrites of stored (key, timestamp)s, out-of-order and duplicate
 * timestamps (also within one batch), keys that grow from one point to many,
 * reads of every kind, restarts, and bursts that rewrite every stored
 * point before a restart. The sequence depends
 * only on the seed, the profile and the model's state, so a seed replays it.
 *
 * Its phases cross the memory store's growth boundaries on purpose: a
 * warm-up grows a few hot keys to thousands of points (their columns grow
 * by half from 4), bulk phases create one-point keys by the hundred
 * thousand (the shared one-point column grows by half from 1024 slots),
 * then a share of them grow a second point (freeing slots) and new
 * one-point keys refill those slots and go past them.
 *
 * @module
 */

import type { StoredPoint } from "../../../src/server/storage/storage.ts";
import { Rng } from "../../reliability/rng.ts";
import type { StorageModel } from "./model.ts";

/** One operation, applied to the model and the store alike. */
export type ModelOp =
  | { readonly kind: "put"; readonly points: readonly StoredPoint[] }
  | { readonly kind: "get"; readonly key: string }
  | {
    readonly kind: "getRange";
    readonly key: string;
    readonly from: number;
    readonly to: number;
  }
  | { readonly kind: "getAll" }
  | { readonly kind: "size" }
  /** Close the store and open it again on the same data. */
  | { readonly kind: "restart" };

/** What a workload does and how much of it. */
export interface WorkloadProfile {
  /** Mixed operations over a few hundred keys, some of them hot. */
  readonly warmOps: number;
  /** One-point keys created in bulk. */
  readonly bulkKeys: number;
  /** Share of the bulk keys that then get a second point. */
  readonly growShare: number;
  /** New one-point keys after that, beyond the freed slots, as a share of `bulkKeys`. */
  readonly refillShare: number;
  /** Mixed operations over every key. */
  readonly mixedOps: number;
  /** Points in one put of the bulk phases. */
  readonly bulkBatch: number;
  /** Most points in one put of the mixed phases. */
  readonly maxBatch: number;
  /** A `get *` every this many mixed operations. */
  readonly allEvery: number;
  /** A restart every this many mixed operations (not at a phase's end); 0 for none. */
  readonly restartEvery: number;
  /** A restart at the end, with nothing written after it. */
  readonly finalRestart: boolean;
  /**
   * Bursts that rewrite stored points until twice the live points were
   * written, each followed by a restart: rewrites of sealed chunks, which
   * must win over the chunks they replace.
   */
  readonly rewriteBursts: boolean;
  /**
   * `"protocol"`: any value and timestamp the protocol allows (±2⁵³
   * seconds, `-0`, subnormals, huge values). `"victoriametrics"`: seconds
   * of the last 20 days and values of at most 11 significant digits, which
   * VictoriaMetrics stores exactly.
   */
  readonly domain: "protocol" | "victoriametrics";
  /**
   * Seconds between a key's neighbouring offsets; a large one spreads each
   * key over many UTC days (the chunk store seals at every midnight).
   * @default {1}
   */
  readonly spacing?: number;
}

/** Few keys take most of the warm-up's points, so their series grow long. */
const HOT_KEYS = 16;
/** Recently written points, for rewrites soon after the write. */
const RECENT = 64;
const MAX = Number.MAX_SAFE_INTEGER;

/** Every key a workload can use, by index; all distinct. */
export function keyName(index: number): string {
  switch (index % 5) {
    case 0:
      return `k${index}`;
    case 1:
      // Past 12 characters: the memory store copies such keys flat.
      return `many.grp${index % 200}.key${index}`;
    case 2:
      return `ключ.${index}`;
    case 3:
      return `a:b_c-d/e${index}`;
    default:
      return `${"x".repeat(index % 40)}${index}`;
  }
}

/** The index a key name was made from (for `no.such.key.N`, N). */
function indexOf(key: string): number {
  return Number(key.match(/(\d+)$/)?.[1] ?? 0);
}

/** A fixed pseudo-random spread of `index` (a hash, not the rng). */
function spread(index: number, range: number): number {
  return (Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) >>> 0) % range;
}

/** The operations of one run; see the module documentation. */
export class Workload {
  readonly #rng: Rng;
  readonly #model: StorageModel;
  readonly #profile: WorkloadProfile;
  readonly #nowS = Math.floor(Date.now() / 1000);
  /** Keys created so far are `keyName(0)` to `keyName(#keyCount - 1)`. */
  #keyCount = 0;
  #hotShare = 0.5;
  readonly #recent: StoredPoint[] = [];

  /** @param model The model the runner applies each op to before the next. */
  constructor(seed: number, model: StorageModel, profile: WorkloadProfile) {
    this.#rng = new Rng(seed);
    this.#model = model;
    this.#profile = profile;
  }

  /** The whole sequence, generated as it is consumed. */
  *ops(): Generator<ModelOp> {
    const profile = this.#profile;
    yield* this.#mixed(profile.warmOps, 400);
    if (profile.rewriteBursts) yield* this.#rewriteBurst();
    yield* this.#newKeys(profile.bulkKeys);
    yield* this.#growSome(Math.round(profile.bulkKeys * profile.growShare));
    yield* this.#newKeys(
      Math.round(profile.bulkKeys * (profile.growShare + profile.refillShare)),
    );
    if (profile.rewriteBursts) yield* this.#rewriteBurst();
    this.#hotShare = 0.05;
    yield* this.#mixed(profile.mixedOps, Infinity);
    yield { kind: "size" };
    if (profile.finalRestart) yield { kind: "restart" };
  }

  /** `count` random operations; puts make new keys up to `maxKeys`. */
  *#mixed(count: number, maxKeys: number): Generator<ModelOp> {
    const { allEvery, restartEvery } = this.#profile;
    for (let i = 1; i <= count; i++) {
      const r = this.#rng.next();
      if (r < 0.45 || this.#keyCount === 0) yield this.#mixedPut(maxKeys);
      else if (r < 0.7) yield { kind: "get", key: this.#readKey() };
      else if (r < 0.95) yield this.#range();
      else yield { kind: "size" };
      if (i % allEvery === 0) yield { kind: "getAll" };
      if (restartEvery > 0 && i % restartEvery === 0 && i < count) {
        yield { kind: "restart" };
      }
    }
    if (count % allEvery !== 0) yield { kind: "getAll" };
  }

  #mixedPut(maxKeys: number): ModelOp {
    const rng = this.#rng;
    const known = this.#keyCount;
    const points: StoredPoint[] = [];
    const count = 1 + rng.logInt(this.#profile.maxBatch - 1);
    while (points.length < count) {
      const r = rng.next();
      if (known === 0 || (this.#keyCount < maxKeys && rng.chance(0.1))) {
        const index = this.#keyCount++;
        const point = this.#point(index, 0);
        points.push(point);
        // A new key written twice in its first batch: same second or not.
        if (rng.chance(0.2)) points.push(this.#again(point));
        if (rng.chance(0.1)) points.push(this.#point(index, 1));
      } else if (r < 0.45) {
        const index = this.#pickKey(known);
        points.push(this.#point(index, this.#model.pointCount(keyName(index))));
      } else if (r < 0.7) {
        points.push(this.#rewrite(this.#pickKey(known)));
      } else if (r < 0.85 && points.length > 0) {
        points.push(this.#again(rng.pick(points)));
      } else if (this.#recent.length > 0) {
        points.push(this.#again(rng.pick(this.#recent)));
      }
    }
    return this.#put(points);
  }

  /** `count` new one-point keys in bulk puts, each put followed by reads of its newest key and of another. */
  *#newKeys(count: number): Generator<ModelOp> {
    const rng = this.#rng;
    const first = this.#keyCount;
    for (let done = 0; done < count;) {
      const points: StoredPoint[] = [];
      const batch = Math.min(this.#profile.bulkBatch, count - done);
      for (let i = 0; i < batch; i++) {
        const index = this.#keyCount++;
        const point = this.#pointAt(index, rng.int(0, 3));
        points.push(point);
        // Rarely, a second write in the same batch: same second, or another.
        if (rng.chance(0.002)) points.push(this.#again(point));
        if (rng.chance(0.001)) points.push(this.#pointAt(index, rng.int(4, 9)));
      }
      done += batch;
      yield this.#put(points);
      yield { kind: "get", key: keyName(this.#keyCount - 1) };
      yield { kind: "get", key: keyName(rng.int(first, this.#keyCount - 1)) };
      yield { kind: "size" };
    }
    yield { kind: "getAll" };
  }

  /** A second point (or a rewrite) for `count` random keys of the bulk. */
  *#growSome(count: number): Generator<ModelOp> {
    const rng = this.#rng;
    for (let done = 0; done < count;) {
      const points: StoredPoint[] = [];
      const batch = Math.min(this.#profile.bulkBatch, count - done);
      for (let i = 0; i < batch; i++) {
        // Bulk keys sit at offsets 0 to 3: a new point goes before or after.
        const index = rng.int(HOT_KEYS, this.#keyCount - 1);
        const offset = rng.chance(0.5) ? rng.int(-50, -1) : rng.int(4, 500);
        points.push(
          rng.chance(0.2) ? this.#rewrite(index) : this.#pointAt(index, offset),
        );
      }
      done += batch;
      yield this.#put(points);
      yield { kind: "get", key: rng.pick(points).key };
      yield this.#range();
      yield { kind: "size" };
    }
  }

  /**
   * Rewrites stored points, round the keys, until it wrote more than twice
   * the live points, then restarts.
   */
  *#rewriteBurst(): Generator<ModelOp> {
    const live = this.#model.size().points;
    let index = 0;
    for (let written = 0; written <= 2 * live + 1;) {
      const points: StoredPoint[] = [];
      for (let i = 0; i < this.#profile.bulkBatch; i++) {
        points.push(this.#rewrite(index));
        index = (index + 1) % this.#keyCount;
      }
      written += points.length;
      yield this.#put(points);
    }
    yield { kind: "restart" };
  }

  #put(points: StoredPoint[]): ModelOp {
    for (const point of points.slice(-RECENT)) {
      if (this.#recent.length === RECENT) {
        this.#recent[this.#rng.int(0, RECENT - 1)] = point;
      } else this.#recent.push(point);
    }
    return { kind: "put", points };
  }

  /**
   * A key for a mixed op: a hot one (with chance `hotShare`) or any one
   * created so far.
   */
  #pickKey(known: number, hotShare = this.#hotShare): number {
    const rng = this.#rng;
    if (rng.chance(hotShare)) {
      const hot = Math.floor(HOT_KEYS * rng.next() ** 2);
      if (hot < known) return hot;
    }
    return rng.int(0, known - 1);
  }

  /** A stored key, a key to be created later, or one never created. */
  #readKey(): string {
    const rng = this.#rng;
    const r = rng.next();
    // Reads of hot keys are few: the model sorts a key's points per read.
    if (r < 0.85) return keyName(this.#pickKey(this.#keyCount, 0.03));
    if (r < 0.93) return keyName(this.#keyCount + rng.int(0, 1000));
    return `no.such.key.${rng.uint32()}`;
  }

  /** A range read: around stored points, empty, off by one, outside, all. */
  #range(): ModelOp {
    const rng = this.#rng;
    const key = this.#readKey();
    const base = this.#base(indexOf(key));
    const at = () => this.#near(key, base);
    let from: number;
    let to: number;
    switch (rng.int(0, 7)) {
      case 0: {
        const [a, b] = [at(), at()];
        [from, to] = [Math.min(a, b), Math.max(a, b)];
        break;
      }
      case 1:
        from = to = at();
        break;
      case 2: {
        const t = at();
        [from, to] = rng.chance(0.5) ? [t + 1, t - 1] : [t, t - 1];
        break;
      }
      case 3: {
        const t = at();
        [from, to] = rng.chance(0.5) ? [t - 1, t] : [t, t + 1];
        break;
      }
      case 4:
        [from, to] = [base - 1000, base - 1];
        break;
      case 5:
        [from, to] = [at() + 1, at() + rng.int(1, 100_000)];
        break;
      case 6:
        [from, to] = [-MAX, MAX];
        break;
      default:
        [from, to] = rng.chance(0.5)
          ? [-Infinity, Infinity]
          : [at() - rng.int(0, 20), Infinity];
    }
    return { kind: "getRange", key, from, to };
  }

  /**
   * A stored timestamp of `key` (one of the first 32 it stored: finding a
   * later one walks the whole map), or a plausible one if it has none.
   */
  #storedOr(key: string, base: number): number {
    const count = this.#model.pointCount(key);
    if (count === 0) return base + this.#rng.int(0, 10);
    const n = this.#rng.int(0, Math.min(count, 32) - 1);
    return this.#model.nthStored(key, n) as number;
  }

  /** Anywhere among the points of `key`: stored or not. */
  #near(key: string, base: number): number {
    const count = this.#model.pointCount(key);
    return this.#rng.chance(0.5)
      ? this.#storedOr(key, base)
      : base + this.#rng.int(-4, 2 * count + 8) * (this.#profile.spacing ?? 1);
  }

  /** A rewrite of a stored point of key `index` with a new value. */
  #rewrite(index: number): StoredPoint {
    const key = keyName(index);
    const timestamp = this.#storedOr(key, this.#base(index));
    return { key, timestamp, value: this.#value() };
  }

  /** The same (key, timestamp) again: mostly a new value, sometimes the same. */
  #again(point: StoredPoint): StoredPoint {
    return this.#rng.chance(0.8) ? { ...point, value: this.#value() } : point;
  }

  /**
   * A point of key `index` that has about `count` points: near its
   * stored ones (a rewrite or an out-of-order insert) or just after them.
   */
  #point(index: number, count: number): StoredPoint {
    const rng = this.#rng;
    return this.#pointAt(
      index,
      rng.chance(0.6)
        ? rng.int(-4, 2 * count + 8)
        : 2 * count + 8 + rng.int(0, 3),
    );
  }

  /** A point of key `index` at `offset` seconds from its base second. */
  #pointAt(index: number, offset: number): StoredPoint {
    // Within ±(2⁵³ - 1), the protocol's timestamps.
    const timestamp = Math.max(
      -MAX,
      Math.min(MAX, this.#base(index) + offset * (this.#profile.spacing ?? 1)),
    );
    return { key: keyName(index), timestamp, value: this.#value() };
  }

  /** The second key `index`'s points gather around. */
  #base(index: number): number {
    if (this.#profile.domain === "victoriametrics") {
      return this.#nowS - 20 * 86_400 + spread(index, 19 * 86_400);
    }
    switch (index % 101) {
      case 50:
        return MAX - 20_000;
      case 51:
        return -MAX;
      case 52:
        return -6;
      default:
        return 1_150_000_000 + spread(index, 50_000_000);
    }
  }

  #value(): number {
    const rng = this.#rng;
    if (this.#profile.domain === "victoriametrics") {
      return Math.round(rng.next() * 2e10 - 1e10) / 1000 + 0;
    }
    switch (rng.int(0, 9)) {
      case 0:
        return rng.pick([0, -0, 5e-324, -2.2e-308, 1.7976931348623157e308]);
      case 1:
        return (rng.next() - 0.5) * 2 ** rng.int(-1070, 1023);
      case 2:
        return 2 ** 53 + rng.int(0, 1000) * 2;
      case 3:
      case 4:
        return rng.int(-1000, 1000);
      default:
        return rng.next() * 2e6 - 1e6;
    }
  }
}
