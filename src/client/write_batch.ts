/**
 * Which request lines the client writes next: the queued calls' lines in
 * call order, up to the room on the connection, as one list of parts for
 * one write. No I/O.
 *
 * @module
 */

import type { Call } from "./call.ts";
import type { Fifo } from "../internal/fifo.ts";

/** The counts a batch adds to. */
export interface SendCounts {
  /** Request lines written, resends included. */
  sent: number;
  /** Request lines written again after a lost connection. */
  resent: number;
}

/** What to write: text of puts and gets joined, a putMany's bytes as they are. */
export interface WriteBatch {
  /** The parts of one write, in order. */
  readonly parts: (string | Uint8Array)[];
  /** Request lines in `parts`. */
  readonly lines: number;
}

/**
 * Takes up to `room` request lines from the calls of `queue`: skips calls
 * settled while queued, moves each call with a line taken into `inFlight`
 * once, and leaves a call written in part at the front of `queue`.
 */
export function takeBatch(
  queue: Fifo<Call>,
  inFlight: Fifo<Call>,
  room: number,
  counts: SendCounts,
): WriteBatch {
  const parts: (string | Uint8Array)[] = [];
  let text = "";
  let lines = 0;
  for (let call = queue.peek(); call && lines < room;) {
    if (call.settled) { // timed out or aborted while queued
      queue.shift();
      call = queue.peek();
      continue;
    }
    const from = call.sent;
    const to = Math.min(call.size, from + room - lines);
    if (from === call.acked) {
      call.writes++;
      inFlight.push(call);
    }
    counts.sent += to - from;
    counts.resent += Math.max(0, Math.min(to, call.written) - from);
    call.written = Math.max(call.written, to);
    call.sent = to;
    lines += to - from;
    const taken = call.lines(from, to);
    if (typeof taken === "string") {
      text += taken;
    } else {
      if (text !== "") parts.push(text);
      parts.push(taken);
      text = "";
    }
    if (to < call.size) break;
    queue.shift();
    call = queue.peek();
  }
  if (text !== "") parts.push(text);
  return { parts, lines };
}
