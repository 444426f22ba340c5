/**
 * The storage interface the network code talks to, so another backend (a
 * remote time-series database) can replace the built-in ones.
 *
 * @module
 */

/** One measurement to store: `value` at `timestamp` (Unix seconds). */
export interface StoredPoint {
  /** Metric name: valid on the wire and never `*`. */
  readonly key: string;
  /** Unix time in whole seconds, a safe integer. */
  readonly timestamp: number;
  /** A finite float. */
  readonly value: number;
}

/**
 * The points of one key, sorted by timestamp ascending, one value per
 * timestamp. `timestamps[i]` belongs with `values[i]`.
 */
export interface Series {
  /** Metric name. */
  readonly key: string;
  /** Unix seconds, strictly ascending. */
  readonly timestamps: ArrayLike<number>;
  /** Values, as long as `timestamps`. */
  readonly values: ArrayLike<number>;
}

/**
 * Points in columns, as the server hands them to
 * {@link Storage.putColumns}: point `i` is `keys[i]` at `timestamps[i]`
 * with `values[i]`, for `i < length`, in the order they were put.
 */
export interface PointBatch {
  /** Points in the batch. */
  readonly length: number;
  /** Each point's key (valid on the wire, never `*`). */
  readonly keys: ArrayLike<string>;
  /** Each point's Unix seconds, a safe integer. */
  readonly timestamps: ArrayLike<number>;
  /** Each point's value, a finite float. */
  readonly values: ArrayLike<number>;
}

/** Counts of what a {@link Storage} holds. */
export interface StorageSize {
  /** Distinct keys. */
  readonly keys: number;
  /** Distinct (key, timestamp) points. */
  readonly points: number;
}

/**
 * A batch this storage will not take now, or a read it will not answer,
 * for a reason the peer should read: `storage full`, `too many keys`, an
 * answer too large. Thrown (rejected) by {@link Storage.put} or a read;
 * the message is one short line.
 *
 * @example
 * ```ts
 * import { StorageRefusal } from "./storage.ts";
 *
 * const refusal = new StorageRefusal("storage full");
 * console.log(refusal.message); // "storage full"
 * ```
 */
export class StorageRefusal extends Error {
  /**
   * Makes a refusal.
   * @param reason One line: what the peer is told after `error`.
   * @param options `cause`: the failure behind the refusal.
   */
  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = "StorageRefusal";
  }
}

/**
 * Where the server keeps points. Every method may answer synchronously or
 * with a promise. The server answers `ok` to a put only after `put`
 * settled, and calls `put` with each batch of puts read together, in order;
 * a connection may call `put` again before its previous call settled.
 *
 * A returned {@link Series} may be a live view of the backend's memory: the
 * server reads it synchronously, before it awaits anything else.
 *
 * A read (`get`, `getRange`, `getAll`) that rejects with a
 * {@link StorageRefusal} (an answer too large to take) is answered `error`
 * with the refusal's message; with any other error the server closes the
 * connection.
 */
export interface Storage {
  /**
   * Stores a batch; within it and across batches the last write of a
   * (key, timestamp) wins. Rejecting fails the whole batch: with a
   * {@link StorageRefusal} the server answers each of its puts `error` with
   * the refusal's message and keeps the connection; with any other error
   * it closes the connection without acknowledging any of it (so a client
   * resends on a new one).
   */
  put(points: readonly StoredPoint[]): Promise<void> | void;
  /**
   * Stores a batch given in columns, exactly as {@link Storage.put} stores
   * the same points (and fails the same ways). Optional: the server uses
   * it when present, and otherwise hands `put` an object per point. The
   * server reuses `batch` once this returns, so keep nothing of it but
   * copies (a returned promise may settle later).
   */
  putColumns?(batch: PointBatch): Promise<void> | void;
  /**
   * Points the server may hand over before their puts settled, across
   * every connection (a connection may always have one batch pending). A
   * backend that acknowledges after a network round trip is kept busy
   * only with its whole buffer handed over: set this to that buffer.
   * @default {65536}
   */
  readonly pendingPoints?: number;
  /**
   * Why `point` can never be stored here, or `undefined` (a backend with
   * narrower limits than the protocol's). Asked before a put joins a
   * batch; the server answers such a put `error` instead of storing it.
   * `nowMs` is when the put was read (`Date.now()`, read once for many
   * puts); without it the backend reads the clock. The server may reuse
   * `point` once this returns.
   */
  refusal?(point: StoredPoint, nowMs?: number): string | undefined;
  /** The points of `key`, or `undefined` when none were stored. */
  get(key: string): Series | undefined | Promise<Series | undefined>;
  /**
   * The points of `key` with `from <= timestamp <= to` (Unix seconds, both
   * inclusive); `undefined` or empty columns when there are none (a
   * backend need not tell an unknown key from an empty range). Optional:
   * without it the server reads the whole series with {@link Storage.get}
   * and cuts the range itself, so a backend that can read less (a view of
   * a sorted column, a remote query with a time range) should offer it.
   */
  getRange?(
    key: string,
    from: number,
    to: number,
  ): Series | undefined | Promise<Series | undefined>;
  /** Every key's points, keys in the order they were first stored. */
  getAll(): Iterable<Series> | Promise<Iterable<Series>>;
  /**
   * What {@link Storage.getAll} answers, as it is read: a backend that
   * reads keys in parts (a remote store) offers it, so an answer starts
   * before the last key was read and only a part is held at once.
   * Optional: the server uses it for `get *` when present, else
   * {@link Storage.getAll}. A yielded {@link Series} is read before the
   * next one is asked for. A first step that rejects with a
   * {@link StorageRefusal} is answered `error`; once the answer began,
   * any failure (a refusal too) closes the connection, so the client
   * sees a failed read, never a short answer.
   */
  streamAll?(): AsyncIterable<Series>;
  /**
   * How many keys and points are stored, if the backend knows without
   * reading them (for the server's `/metrics` page).
   */
  size?(): StorageSize;
  /**
   * Deletes every point older than `before` (Unix seconds) and returns how
   * many went: what a retention asks of the store. Optional: without it a
   * retention still refuses and hides older points, but the store keeps
   * them.
   */
  expire?(before: number): number | Promise<number>;
  /** Makes everything stored durable (if it can) and releases resources. */
  close(): Promise<void> | void;
}
