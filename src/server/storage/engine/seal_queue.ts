/**
 * The main side of the seal worker (`seal_worker.ts`): full heads are
 * encoded into chunks on a second thread. A head sent stays with its key
 * (`KeySeries`) until its chunk comes back, so reads and every other change
 * of that key see its points; a key that needs its chunks before then
 * (a read, a rewrite, a checkpoint) takes its heads back and encodes them
 * itself, and the worker's chunks for them are dropped when they arrive.
 * So nothing waits on the worker, and a worker that fails loses nothing:
 * its heads are encoded here.
 *
 * @module
 */

import { withRoom } from "../../../internal/grow.ts";
import { Head } from "./head.ts";

/**
 * Heads sent in one message: their points, each run's end, in columns on
 * `SharedArrayBuffer`s, so a message moves no bytes and detaches no
 * buffer. Detaching any buffer (a transfer) would make V8 throw away the
 * main thread's optimized code that reads typed arrays and check every
 * such read from then on: about a tenth of an ingest's CPU.
 */
export interface SealJob {
  /** The number of the first run; the others follow. */
  readonly first: number;
  readonly timestamps: Float64Array<SharedArrayBuffer>;
  readonly values: Float64Array<SharedArrayBuffer>;
  /** Where each run's points end. */
  readonly ends: Uint32Array<SharedArrayBuffer>;
}

/** The chunks of a {@link SealJob}, one after another. */
export interface SealReply {
  /** The job's first run. */
  readonly first: number;
  readonly bytes: Uint8Array;
  /** Where each chunk's bytes end. */
  readonly ends: Uint32Array;
  /** The job, given back once read: its columns carry a later job. */
  readonly spent: SealJob;
}

/** A head being encoded on the worker, with the key it seals. */
export interface SealingRun {
  /** Its number, in the order sent. */
  readonly id: number;
  /** The key's series, told when the chunk comes back. */
  readonly owner: SealOwner;
  /** The points; left alone until the run is done. */
  readonly head: Head;
}

/** What a key does with its chunk once the worker encoded it. */
export interface SealOwner {
  /** The chunk of `run`, the key's oldest run sent. */
  sealed(run: SealingRun, bytes: Uint8Array): void;
  /** Encodes every run of the key still sent, here and now. */
  settle(): void;
}

/** Points of heads on their way: past it, heads are encoded on the main thread. */
const MAX_POINTS_SENT = 128 * 1024;
/**
 * The worker is ended after this long without a head to seal, and started
 * again with the next: a thread and its JS heap are not kept for an
 * ingest that is over.
 */
const IDLE_MS = 2000;
/** Heads sealed in one task that start the worker (fewer are sealed here). */
const START_RUNS = 8;
/** Columns of spent jobs kept for the next ones. */
const MAX_SPARES = 4;
/** Emptied heads kept for the next full ones sent. */
const SPARE_HEADS = 1024;
const WORKER = new URL("./seal_worker.ts", import.meta.url).href;

/** Sends full heads to the seal worker; see the module documentation. */
export class SealQueue {
  #worker: Worker | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the worker failed: every head is then encoded on the main thread. */
  #failed = false;
  /** Runs sent and not done, by number, in the order sent. */
  readonly #runs = new Map<number, SealingRun>();
  #nextId = 0;
  #pointsSent = 0;
  /** The next message: runs from `#firstQueued` on. */
  #firstQueued = 0;
  #timestamps!: Float64Array<SharedArrayBuffer>;
  #values!: Float64Array<SharedArrayBuffer>;
  #ends!: Uint32Array<SharedArrayBuffer>;
  #queuedRuns = 0;
  #queuedPoints = 0;
  /**
   * Columns the worker gave back: a job's columns stay the worker's until
   * it answers, and a spare takes their place, so an ingest does not
   * zero-fill fresh buffers for every message.
   */
  readonly #spares: SealJob[] = [];
  /** Heads emptied after their seal, for keys whose head was sent. */
  readonly #spareHeads: Head[] = [];
  readonly #startAfter: number;
  /** Points sealed here under a steady load since it last paused (`#post`). */
  #steadyPoints = 0;
  #lastSteady = -Infinity;

  /**
   * @param startAfter Points sealed on the main thread under a steady
   * load (heads filling in batches, no pause of `IDLE_MS`) before the
   * worker is started: a worker is a JS runtime of its own, whose start
   * and warm-up (about 0.3 s of CPU) a short ingest does not pay back.
   */
  constructor(startAfter: number) {
    this.#startAfter = startAfter;
    this.#take(freshColumns());
  }

  /** Whether a head of `points` points can be sent now. */
  hasRoom(points: number): boolean {
    return !this.#failed && this.#pointsSent + points <= MAX_POINTS_SENT;
  }

  /**
   * Sends `head`'s points (copied now) to be encoded: the message goes
   * once the current task ends, with every head sent by then.
   */
  send(owner: SealOwner, head: Head): SealingRun {
    const length = head.length;
    if (this.#queuedRuns === 0) {
      this.#firstQueued = this.#nextId;
      queueMicrotask(() => this.#post());
      clearTimeout(this.#idleTimer);
    }
    const points = this.#queuedPoints;
    this.#timestamps = withRoom(this.#timestamps, points, length);
    this.#values = withRoom(this.#values, points, length);
    head.copyTo(this.#timestamps, this.#values, points);
    this.#queuedPoints += length;
    this.#ends = withRoom(this.#ends, this.#queuedRuns, 1);
    this.#ends[this.#queuedRuns++] = this.#queuedPoints;
    const run = { id: this.#nextId++, owner, head };
    this.#runs.set(run.id, run);
    this.#pointsSent += length;
    return run;
  }

  /** An empty head, in place of one sent (`limit`: the seal size). */
  takeHead(limit: number): Head {
    return this.#spareHeads.pop() ?? new Head(limit);
  }

  /** Takes back a head whose points are sealed. */
  giveHead(head: Head): void {
    head.clear();
    if (this.#spareHeads.length < SPARE_HEADS) this.#spareHeads.push(head);
  }

  /** Forgets `run`: its key encoded it itself. */
  forget(run: SealingRun): void {
    if (this.#runs.delete(run.id)) this.#pointsSent -= run.head.length;
  }

  /** Has every key with a run sent encode it now (before a checkpoint takes chunks). */
  settleAll(): void {
    for (const run of this.#runs.values()) run.owner.settle();
  }

  /** Settles every run and ends the worker; heads are then encoded on the main thread. */
  close(): void {
    this.#failed = true;
    this.settleAll();
    this.#end();
  }

  /**
   * Ends the worker and lets go of what an ingest grew for it: the spare
   * heads (about 2 KB each, one per key) and columns grown to the largest
   * message (up to 1 MB each). Nothing is on its way by then.
   */
  #end(): void {
    clearTimeout(this.#idleTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#spares.length = 0;
    this.#spareHeads.length = 0;
    if (this.#queuedRuns === 0) this.#take(freshColumns());
  }

  #post(): void {
    const runs = this.#queuedRuns;
    const points = this.#queuedPoints;
    this.#queuedRuns = this.#queuedPoints = 0;
    if (this.#failed || runs === 0) return;
    if (this.#worker === undefined && !this.#steady(runs, points)) {
      // A light load or a short one: sealed here, no thread started for it.
      for (let id = this.#firstQueued; id < this.#firstQueued + runs; id++) {
        this.#runs.get(id)?.owner.settle();
      }
      return;
    }
    const job: SealJob = {
      first: this.#firstQueued,
      timestamps: this.#timestamps.subarray(0, points),
      values: this.#values.subarray(0, points),
      ends: this.#ends.subarray(0, runs),
    };
    const worker = this.#worker ??= this.#start();
    worker.postMessage(job);
    // The worker reads the columns until it answers: a spare takes their
    // place when there is one (grown again if a later job needs more).
    this.#take(this.#spares.pop() ?? freshColumns());
  }

  /** Gathers the next message in the whole of `columns`' buffers. */
  #take(columns: SealJob): void {
    this.#timestamps = new Float64Array(columns.timestamps.buffer);
    this.#values = new Float64Array(columns.values.buffer);
    this.#ends = new Uint32Array(columns.ends.buffer);
  }

  /** Whether heads are sealed steadily enough to start the worker. */
  #steady(runs: number, points: number): boolean {
    if (runs < START_RUNS) return false;
    const now = performance.now();
    if (now - this.#lastSteady > IDLE_MS) this.#steadyPoints = 0;
    this.#lastSteady = now;
    this.#steadyPoints += points;
    return this.#steadyPoints > this.#startAfter;
  }

  #start(): Worker {
    const worker = new Worker(WORKER, { type: "module" });
    worker.onmessage = (event: MessageEvent<SealReply>) => {
      const { first, bytes, ends, spent } = event.data;
      if (this.#spares.length < MAX_SPARES) this.#spares.push(spent);
      for (let i = 0; i < ends.length; i++) {
        const run = this.#runs.get(first + i);
        if (run === undefined) continue;
        this.forget(run);
        run.owner.sealed(
          run,
          bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]),
        );
      }
      if (this.#runs.size === 0) {
        clearTimeout(this.#idleTimer);
        const timer = setTimeout(() => {
          // Runs queued meanwhile are settled by their keys when needed.
          if (this.#runs.size === 0) this.#end();
        }, IDLE_MS);
        Deno.unrefTimer(timer);
        this.#idleTimer = timer;
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.close();
    };
    return worker;
  }
}

/** New columns for the queue's next message, on shared buffers. */
function freshColumns(): SealJob {
  return {
    first: 0,
    timestamps: new Float64Array(new SharedArrayBuffer(8 * 4096)),
    values: new Float64Array(new SharedArrayBuffer(8 * 4096)),
    ends: new Uint32Array(new SharedArrayBuffer(4 * 64)),
  };
}
