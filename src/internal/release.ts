/**
 * Frees a large buffer at once rather than at the next garbage
 * collection: a server gone quiet after a burst runs none, so every
 * megabyte not yet collected stays resident, and the allocator keeps the
 * room of each for good once it was freed late and out of order.
 *
 * @module
 */

/**
 * Frees the `ArrayBuffer` under `bytes` now, by detaching it: `bytes` and
 * every other view of that buffer read as empty afterwards. Only for a
 * buffer nothing reads any more (a file written, a frame let go).
 *
 * @example
 * ```ts
 * import { releaseBuffer } from "./release.ts";
 *
 * const segment = new Uint8Array(8 * 1024 * 1024);
 * releaseBuffer(segment);
 * console.log(segment.length); // 0
 * ```
 */
export function releaseBuffer(bytes: Uint8Array<ArrayBuffer>): void {
  bytes.buffer.transfer(0);
}
