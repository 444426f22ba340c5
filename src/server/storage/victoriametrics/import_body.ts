/**
 * The `/api/v1/import` body of one request, without I/O: one JSON line per
 * key (`{"metric":{"__name__":KEY},"values":[...],"timestamps":[...]}`),
 * each second at its slot's millisecond (see `order.ts`), written straight
 * into bytes with no string per number. Of the formats VictoriaMetrics
 * imports, JSON lines names each key once per request and takes any key
 * exactly (see docs/scaling.md).
 *
 * @module
 */

import {
  MAX_NUMBER_BYTES,
  writeInteger,
  writeShortest,
} from "../../../internal/decimal.ts";
import { withRoom } from "../../../internal/grow.ts";
import type { KeyBatch } from "./batch.ts";
import { slotMs } from "./order.ts";

const encoder = new TextEncoder();
const COMMA = 0x2c;
const MIDDLE = encoder.encode('],"timestamps":[');
const END = encoder.encode("]}\n");
/** A key's line around its numbers, beyond the key itself. */
const LINE_BYTES = 64;

/** The import body for `batches` (with their slots planned). */
export function encodeImport(
  batches: readonly KeyBatch[],
): Uint8Array<ArrayBuffer> {
  let points = 0;
  for (const batch of batches) points += batch.seconds.length;
  // About 30 bytes a point for usual values; grown when a line needs more.
  let buf = new Uint8Array(points * 32 + batches.length * LINE_BYTES);
  let at = 0;
  for (const { key, seconds, values, slots } of batches) {
    const head = `{"metric":{"__name__":${JSON.stringify(key)}},"values":[`;
    buf = withRoom(
      buf,
      at,
      head.length * 3 + LINE_BYTES +
        seconds.length * 2 * (MAX_NUMBER_BYTES + 1),
    );
    at += encoder.encodeInto(head, buf.subarray(at)).written;
    for (let i = 0; i < values.length; i++) {
      if (i > 0) buf[at++] = COMMA;
      at = writeShortest(buf, at, values[i]);
    }
    buf.set(MIDDLE, at);
    at += MIDDLE.length;
    for (let i = 0; i < seconds.length; i++) {
      if (i > 0) buf[at++] = COMMA;
      at = writeInteger(buf, at, slotMs(seconds[i], slots[i]));
    }
    buf.set(END, at);
    at += END.length;
  }
  return buf.subarray(0, at);
}
