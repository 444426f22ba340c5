/**
 * `Client.record`: points taken synchronously into a bounded buffer and
 * sent in the background as batches, one batch in flight at a time so a
 * resend can never land after a newer write. A batch whose delivery failed
 * goes back to the front of the buffer, whole and in order; past
 * `maxBuffered` points the oldest are dropped and counted.
 *
 * @module
 */

import { appendPutLine, checkPut, checkValueAndTimestamp } from "./codec.ts";
import { ClientError } from "./errors.ts";
import { LineBytes } from "./line_bytes.ts";
import { PointRing } from "./point_ring.ts";

/** What the recorder needs of the client: a `putMany` of encoded lines. */
export interface BatchSender {
  /** Sends lines (`ends`: offset past each) as one `putMany` call. */
  send(bytes: Uint8Array, ends: Uint32Array): Promise<void>;
  /** How many more request lines the client takes now (`maxPending`). */
  readonly room: number;
}

/** The recorder's options, checked, durations in milliseconds. */
export interface RecorderSettings {
  readonly flushIntervalMs: number;
  readonly flushSize: number;
  readonly maxBuffered: number;
  readonly onError: ((error: ClientError) => void) | undefined;
}

/** Counts of recorded points since the client was created. */
export interface RecorderStats {
  /** Points taken by `record`. */
  recorded: number;
  /** Points written to the server, resends included. */
  sent: number;
  /** Points the server answered `ok`. */
  acknowledged: number;
  /** Points dropped: the oldest past `maxBuffered`, or left at `close()`. */
  dropped: number;
  /** Points the server refused (`error`); they are not sent again. */
  failed: number;
  /** Points waiting to be sent or acknowledged now. */
  buffered: number;
}

/** The counts of a recorder that has taken no point. */
export function noneRecorded(): RecorderStats {
  return {
    recorded: 0,
    sent: 0,
    acknowledged: 0,
    dropped: 0,
    failed: 0,
    buffered: 0,
  };
}

/** A batch on its way: its lines, and each point's sequence number. */
interface Batch {
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  /** Record order of each point: which `flush()` it belongs to. */
  readonly seqs: Float64Array;
}

/**
 * Most keys remembered as valid. Past it the set starts again: a program
 * records few distinct keys in its hot paths, and one that records many
 * only checks each key again.
 */
const KNOWN_KEYS = 1024;

/** A `flush()` waiting: points below `target` it could not store. */
interface Waiter {
  readonly target: number;
  notStored: number;
}

/** The recorder behind `Client.record` and `Client.flush`. */
export class Recorder {
  readonly #sender: BatchSender;
  readonly #settings: RecorderSettings;
  readonly #ring: PointRing;
  /** A batch whose delivery failed, oldest points of all; sent first. */
  #retry: Batch | undefined;
  /** The batch being sent; settles to whether it was delivered. */
  #sending: Promise<boolean> | undefined;
  #sendingBatch: Batch | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #kickQueued = false;
  #closed = false;
  readonly #waiters = new Set<Waiter>();
  /** Drops not yet told to `onError`. */
  #untoldDrops = 0;
  #lastFailure: ClientError | undefined;
  readonly #stats: RecorderStats = noneRecorded();
  /**
   * Keys that passed the key check: looking one up costs a third of
   * checking it again (measured, 9-character keys).
   */
  readonly #validKeys = new Set<string>();

  /** @param sender The client's `putMany` path. */
  constructor(sender: BatchSender, settings: RecorderSettings) {
    this.#sender = sender;
    this.#settings = settings;
    this.#ring = new PointRing(settings.maxBuffered);
  }

  /** A snapshot of the counts. */
  stats(): RecorderStats {
    const buffered = this.#ring.length + count(this.#retry) +
      count(this.#sendingBatch);
    return { ...this.#stats, buffered };
  }

  /**
   * Takes a point; throws only for the caller's mistakes (an invalid point,
   * a closed client), never for the server's state.
   */
  record(key: string, value: number, timestamp: number): void {
    if (this.#closed) {
      throw new ClientError(
        "closed",
        `record("${key}") after close(): the point was not taken`,
      );
    }
    if (this.#validKeys.has(key)) {
      checkValueAndTimestamp(key, value, timestamp);
    } else {
      checkPut(key, value, timestamp);
      if (this.#validKeys.size === KNOWN_KEYS) this.#validKeys.clear();
      this.#validKeys.add(key);
    }
    this.#stats.recorded++;
    // The buffer's bound covers the batch waiting for a resend too.
    if (this.#ring.length + count(this.#retry) >= this.#settings.maxBuffered) {
      this.#dropOldest();
    }
    this.#ring.push(key, value, timestamp);
    if (this.#ring.length < this.#settings.flushSize) {
      if (this.#timer === undefined) this.#arm();
    } else if (!this.#kickQueued && this.#sending === undefined) {
      // Points recorded in the same synchronous run share the batch.
      this.#kickQueued = true;
      queueMicrotask(() => {
        this.#kickQueued = false;
        this.#kick();
      });
    }
  }

  /**
   * Sends every point recorded so far; resolves once all are acknowledged,
   * or rejects with a `ClientError` saying how many were not stored (a
   * failed delivery leaves them buffered, to be sent again).
   */
  async flush(): Promise<void> {
    const waiter: Waiter = { target: this.#stats.recorded, notStored: 0 };
    this.#waiters.add(waiter);
    try {
      for (;;) {
        const sending = this.#sending ?? this.#sendNext(waiter.target);
        if (sending === undefined) break;
        if (!await sending) break;
      }
      const notStored = waiter.notStored + this.#bufferedBelow(waiter.target);
      if (notStored > 0) {
        const failure = this.#lastFailure;
        throw new ClientError(
          failure?.kind ?? "connection",
          `${notStored} of the points recorded before flush() ${
            notStored === 1 ? "was" : "were"
          } not stored (${
            failure?.message ?? "dropped"
          }); those still buffered are sent again every flushInterval`,
          { cause: failure },
        );
      }
    } finally {
      this.#waiters.delete(waiter);
    }
  }

  /**
   * Flushes within `timeoutMs`, then stops: points still buffered are
   * dropped, counted and told to `onError`.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([this.flush().catch(() => {}), expired]);
    } finally {
      clearTimeout(timer);
      this.#stop("the client closed before the server acknowledged them");
    }
  }

  /** Stops for good: drops what is buffered, telling `onError` once. */
  #stop(why: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const left = this.#ring.length + count(this.#retry);
    this.#ring.shift(this.#ring.length);
    this.#retry = undefined;
    this.#stats.dropped += left;
    if (left > 0) {
      this.#tell(
        new ClientError(
          "closed",
          `${left} recorded points were not stored: ${why}`,
        ),
      );
    }
  }

  /** Arms the flush timer while points wait; it does not keep the process alive. */
  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, this.#settings.flushIntervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Sends the next batch in the background, unless one is on its way. */
  #kick(): void {
    if (this.#sending !== undefined || this.#closed) return;
    this.#reportDrops();
    this.#sendNext(Infinity);
  }

  /** After a batch: a full batch waiting goes at once, else on the timer. */
  #next(delivered: boolean): void {
    if (this.#closed) return;
    if (delivered && this.#ring.length >= this.#settings.flushSize) {
      this.#kick();
    } else if (this.#ring.length + count(this.#retry) > 0) this.#arm();
  }

  /**
   * Starts sending the oldest points (the failed batch first), if any were
   * recorded below `target`; returns whether they were delivered.
   */
  #sendNext(target: number): Promise<boolean> | undefined {
    const batch = this.#retry ?? this.#takeBatch(target);
    if (batch === undefined) return undefined;
    this.#retry = undefined;
    this.#sendingBatch = batch;
    this.#stats.sent += batch.ends.length;
    const sending = this.#sender.send(batch.bytes, batch.ends).then(
      () => this.#settled(batch, undefined),
      (error: ClientError) => this.#settled(batch, error),
    ).then((delivered) => {
      this.#sending = undefined;
      this.#sendingBatch = undefined;
      this.#next(delivered);
      return delivered;
    });
    this.#sending = sending;
    return sending;
  }

  /** The oldest ring points below `target` as one batch, if room allows. */
  #takeBatch(target: number): Batch | undefined {
    const first = this.#stats.recorded - this.#ring.length;
    const size = Math.min(
      this.#ring.length,
      Math.max(0, target - first),
      this.#settings.flushSize,
      this.#sender.room,
    );
    if (size === 0) return undefined;
    // About a line's bytes for short keys, so most batches never regrow.
    const out = new LineBytes(size * 48);
    const ends = new Uint32Array(size);
    const seqs = new Float64Array(size);
    let n = 0;
    this.#ring.take(size, (key, value, timestamp) => {
      appendPutLine(out, key, value, timestamp);
      seqs[n] = first + n;
      ends[n++] = out.length;
    });
    return { bytes: out.bytes(), ends, seqs };
  }

  /** Counts a batch's outcome; returns whether it was delivered. */
  #settled(batch: Batch, error: ClientError | undefined): boolean {
    const size = batch.ends.length;
    if (error === undefined) {
      this.#stats.acknowledged += size;
      return true;
    }
    this.#lastFailure = error;
    this.#tell(error);
    // Points the server refused are not sent again; the rest are, in order.
    const refused = new Set<number>();
    const again: number[] = [];
    for (const { index, kind } of error.failures ?? everyPoint(size, error)) {
      if (kind === "server_error") refused.add(index);
      else again.push(index);
    }
    for (const index of refused) this.#notStored(batch.seqs[index]);
    this.#stats.failed += refused.size;
    this.#stats.acknowledged += size - refused.size - again.length;
    if (error.kind === "closed") {
      for (const index of again) this.#notStored(batch.seqs[index]);
      this.#stats.dropped += again.length;
      this.#stop("the client was closed");
      return false;
    }
    if (again.length > 0) this.#retry = subBatch(batch, again);
    return again.length === 0;
  }

  /** Drops the oldest buffered point (of the failed batch, else the ring). */
  #dropOldest(): void {
    const retry = this.#retry;
    if (retry !== undefined) {
      this.#notStored(retry.seqs[0]);
      this.#retry = retry.ends.length === 1
        ? undefined
        : subBatch(retry, range(1, retry.ends.length));
    } else {
      this.#notStored(this.#stats.recorded - this.#ring.length);
      this.#ring.shift(1);
    }
    this.#stats.dropped++;
    this.#untoldDrops++;
  }

  #reportDrops(): void {
    if (this.#untoldDrops === 0) return;
    const dropped = this.#untoldDrops;
    this.#untoldDrops = 0;
    this.#tell(
      new ClientError(
        "queue_full",
        `dropped the ${dropped} oldest recorded points: ${this.#settings.maxBuffered} (maxBuffered) waited for the server`,
      ),
    );
  }

  /** Counts point `seq` as not stored for every `flush()` waiting for it. */
  #notStored(seq: number): void {
    for (const waiter of this.#waiters) {
      if (seq < waiter.target) waiter.notStored++;
    }
  }

  /** Points below `target` still buffered (not on their way). */
  #bufferedBelow(target: number): number {
    const ringFirst = this.#stats.recorded - this.#ring.length;
    const inRing = Math.max(0, Math.min(this.#ring.length, target - ringFirst));
    let inRetry = 0;
    for (const seq of this.#retry?.seqs ?? []) if (seq < target) inRetry++;
    return inRing + inRetry;
  }

  /** Tells `onError`; a callback that throws changes nothing here. */
  #tell(error: ClientError): void {
    try {
      this.#settings.onError?.(error);
    } catch {
      // The callback's own failure is the caller's; recording goes on.
    }
  }
}

/** The points of `batch` at `indexes` (ascending) as a batch of their own. */
function subBatch(batch: Batch, indexes: readonly number[]): Batch {
  const out = new LineBytes();
  const ends = new Uint32Array(indexes.length);
  const seqs = new Float64Array(indexes.length);
  indexes.forEach((i, n) => {
    out.ascii(
      batch.bytes.subarray(i === 0 ? 0 : batch.ends[i - 1], batch.ends[i]),
    );
    ends[n] = out.length;
    seqs[n] = batch.seqs[i];
  });
  return { bytes: out.bytes(), ends, seqs };
}

/** A failure of every point of a call refused as a whole. */
function everyPoint(
  size: number,
  error: ClientError,
): { index: number; kind: ClientError["kind"] }[] {
  return Array.from(
    { length: size },
    (_, index) => ({ index, kind: error.kind }),
  );
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function count(batch: Batch | undefined): number {
  return batch?.ends.length ?? 0;
}
