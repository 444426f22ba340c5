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
  writePythonFloat,
} from "../../../protocol/number_bytes.ts";
import { withRoom } from "../../../internal/grow.ts";
import type { RequestWrites } from "./batch.ts";
import { slotMs } from "./order.ts";

const encoder = new TextEncoder();
const COMMA = 0x2c;
const MIDDLE = encoder.encode('],"timestamps":[');
const END = encoder.encode("]}\n");
/** A key's line around its numbers, beyond the key itself. */
const LINE_BYTES = 64;

/** The import body for `request` (with its slots planned). */
export function encodeImport(request: RequestWrites): Uint8Array<ArrayBuffer> {
  const { keys, starts, ends, seconds, values, slots } = request;
  // About 30 bytes a point for usual values; grown when a line needs more.
  let buf = new Uint8Array(seconds.length * 32 + keys.length * LINE_BYTES);
  let at = 0;
  for (let k = 0; k < keys.length; k++) {
    const head = `{"metric":{"__name__":${JSON.stringify(keys[k])}},"values":[`;
    const start = starts[k];
    const end = ends[k];
    const room = head.length * 3 + LINE_BYTES +
      (end - start) * 2 * (MAX_NUMBER_BYTES + 1);
    if (at + room > buf.length) buf = withRoom(buf, at, room);
    at += encoder.encodeInto(head, buf.subarray(at)).written;
    for (let i = start; i < end; i++) {
      if (i > start) buf[at++] = COMMA;
      at = writePythonFloat(buf, at, values[i]);
    }
    buf.set(MIDDLE, at);
    at += MIDDLE.length;
    for (let i = start; i < end; i++) {
      if (i > start) buf[at++] = COMMA;
      at = writeInteger(buf, at, slotMs(seconds[i], slots[i]));
    }
    buf.set(END, at);
    at += END.length;
  }
  return buf.subarray(0, at);
}
