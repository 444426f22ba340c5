/**
 * Reusable columns for synchronous codecs (the chunk codecs, the blocks of
 * VictoriaMetrics' native export). Encoding a 120-point chunk made a dozen
 * typed arrays, each with its own backing store: allocating and collecting
 * them cost more than the encoding itself. The codecs are synchronous, so
 * a column is free again once a call returns. Pure: no I/O.
 *
 * @module
 */

import { withRoom } from "./grow.ts";

/** One reusable column of numbers. */
export class ScratchColumn {
  #buf = new Float64Array(256);

  /**
   * A view of `count` elements, holding whatever was left there: the
   * caller writes each before reading it. Valid until the next `take`.
   */
  take(count: number): Float64Array {
    this.#buf = withRoom(this.#buf, 0, count);
    return this.#buf.subarray(0, count);
  }
}
