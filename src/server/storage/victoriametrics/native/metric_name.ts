/**
 * The metric name of a VictoriaMetrics series as its native export
 * marshals it (`lib/storage.MetricName.Marshal`), without I/O: the name
 * (`__name__`), then each label's key and value, every one ended by byte 1,
 * with bytes 0, 1 and 2 inside written as 0 followed by `0`, `1` or `2`.
 * Only the name is read: a key of this store is the series' name.
 *
 * @module
 */

import { NativeFormatError } from "./varint.ts";

const ESCAPE = 0;
const SEPARATOR = 1;
const DIGIT_0 = 0x30;
const decoder = new TextDecoder();

/** The name (`__name__`) of the series marshaled in `bytes[start, end)`. */
export function metricGroup(
  bytes: Uint8Array,
  start: number,
  end: number,
): string {
  const stop = bytes.subarray(start, end).indexOf(SEPARATOR);
  if (stop < 0) throw new NativeFormatError("a metric name has no end");
  const raw = bytes.subarray(start, start + stop);
  if (raw.indexOf(ESCAPE) < 0) return decoder.decode(raw);
  const out = new Uint8Array(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== ESCAPE) {
      out[length++] = raw[i];
      continue;
    }
    const code = raw[++i] - DIGIT_0;
    if (!(code >= 0 && code <= 2)) {
      throw new NativeFormatError("a metric name has an unknown escape");
    }
    out[length++] = code;
  }
  return decoder.decode(out.subarray(0, length));
}
