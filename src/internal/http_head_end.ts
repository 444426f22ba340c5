/**
 * Where an HTTP/1.x head ends, for requests and responses alike. Pure: no
 * I/O.
 *
 * @module
 */

/**
 * Where the head that starts at `from` ends in `bytes[from, to)`: the
 * index just past its blank line (`\r\n\r\n`, or bare `\n\n`), or -1.
 */
export function headEnd(bytes: Uint8Array, from: number, to: number): number {
  for (let i = bytes.indexOf(0x0a, from); i !== -1 && i < to;) {
    if (bytes[i + 1] === 0x0a && i + 1 < to) return i + 2;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a && i + 2 < to) {
      return i + 3;
    }
    i = bytes.indexOf(0x0a, i + 1);
  }
  return -1;
}
