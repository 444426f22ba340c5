/**
 * Writes VictoriaMetrics' native export format (1.79) for tests, the
 * inverse of `src/server/storage/victoriametrics/native/`: the time range,
 * then frames of a series name and a block whose two columns are encoded
 * as "nearest delta" (marshal type 6, uncompressed zigzag varint deltas).
 *
 * @module
 */

const encoder = new TextEncoder();

/** `u` as an unsigned LEB128 varint. */
export function uvarint(u: bigint): number[] {
  const out: number[] = [];
  let rest = BigInt.asUintN(64, u);
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}

/** `n` zigzag-encoded, then as a varint. */
export function varint(n: bigint): number[] {
  return uvarint(n >= 0n ? n << 1n : ((-n) << 1n) - 1n);
}

/** The body's start: `fromMs` and `toMs` zigzag-encoded, big-endian. */
export function nativeRange(fromMs: number, toMs: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  const zigzag = (n: bigint) => n >= 0n ? n << 1n : ((-n) << 1n) - 1n;
  view.setBigUint64(0, zigzag(BigInt(fromMs)));
  view.setBigUint64(8, zigzag(BigInt(toMs)));
  return out;
}

/**
 * A block of `ms` (not decreasing) and the int64 `mantissas` at decimal
 * `scale`, both columns in marshal type 6.
 */
export function nearestDeltaBlock(
  ms: readonly number[],
  mantissas: readonly bigint[],
  scale = 0,
): Uint8Array {
  const deltas = (column: readonly bigint[]) =>
    column.slice(1).flatMap((v, i) => varint(BigInt.asIntN(64, v - column[i])));
  const msData = deltas(ms.map(BigInt));
  const valueData = deltas(mantissas);
  return Uint8Array.from([
    ...varint(BigInt(ms[0])),
    ...varint(mantissas[0]),
    ...uvarint(BigInt(ms.length)),
    ...varint(BigInt(scale)),
    6,
    6,
    ...uvarint(BigInt(msData.length)),
    ...msData,
    ...uvarint(BigInt(valueData.length)),
    ...valueData,
  ]);
}

/** One frame: the series' marshaled name (no labels), then `block`. */
export function nativeFrame(name: string, block: Uint8Array): Uint8Array {
  const escaped: number[] = [];
  for (const byte of encoder.encode(name)) {
    if (byte <= 2) escaped.push(0, 0x30 + byte);
    else escaped.push(byte);
  }
  escaped.push(1);
  const out = new Uint8Array(8 + escaped.length + block.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, escaped.length);
  out.set(escaped, 4);
  view.setUint32(4 + escaped.length, block.length);
  out.set(block, 8 + escaped.length);
  return out;
}

/** A whole body: the range, then `frames`. */
export function nativeBody(
  fromMs: number,
  toMs: number,
  frames: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  const parts = [nativeRange(fromMs, toMs), ...frames];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Each key an export read, with copies of its points, in key order. */
export function exportedSeries(
  exported: {
    readonly keys: readonly string[];
    series(i: number): {
      readonly key: string;
      readonly ms: Float64Array;
      readonly values: Float64Array;
    };
  },
): { key: string; ms: Float64Array; values: Float64Array }[] {
  return exported.keys.map((_, i) => {
    const { key, ms, values } = exported.series(i);
    return { key, ms: ms.slice(), values: values.slice() };
  });
}
