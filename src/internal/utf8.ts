/**
 * Short UTF-8 strings (metric keys) read from bytes and written into them:
 * an ASCII key, the usual one, is made or written without a `TextDecoder`
 * or `TextEncoder` call, which costs an op call each (about a third of a
 * WAL replay's time went there, and a sixth of a WAL write's).
 *
 * @module
 */

/** Longest string made without the decoder when it is ASCII. */
const SHORT = 64;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** Char codes of the string being made: `apply` takes a plain array fastest. */
const codes: number[] = [];

/**
 * `bytes[start, end)` as a string, exactly as a fatal UTF-8 `TextDecoder`
 * gives it (no view of the bytes is made for an ASCII string).
 *
 * @throws {TypeError} when `bytes` is not UTF-8.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./utf8.ts";
 *
 * decodeUtf8(new TextEncoder().encode("cpu.load")); // "cpu.load"
 * ```
 */
export function decodeUtf8(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): string {
  const length = end - start;
  if (length > SHORT) return utf8.decode(bytes.subarray(start, end));
  codes.length = length;
  for (let i = 0; i < length; i++) {
    const byte = bytes[start + i];
    if (byte >= 0x80) return utf8.decode(bytes.subarray(start, end));
    codes[i] = byte;
  }
  // One flat string: ASCII is its own UTF-8.
  return String.fromCharCode.apply(null, codes);
}

/**
 * Writes `text` at `buf[at]` when it is all ASCII (its own UTF-8, one byte
 * a character) and says whether it did; otherwise the bytes written there
 * are to be overwritten. `buf` has room for `text.length` bytes at `at`.
 *
 * @example
 * ```ts
 * import { writeAscii } from "./utf8.ts";
 *
 * const buf = new Uint8Array(8);
 * writeAscii("cpu", buf, 0); // true: buf starts with 99, 112, 117
 * writeAscii("é", buf, 0); // false
 * ```
 */
export function writeAscii(text: string, buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return false;
    buf[at + i] = code;
  }
  return true;
}
