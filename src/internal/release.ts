/**
 * Frees a large buffer at once rather than at the next garbage
 * collection: a worker's isolate that goes on to its next job keeps every
 * megabyte not yet collected, and the allocator keeps the room of each
 * for good once it was freed late and out of order.
 *
 * Only on a worker, never on the main thread: the first buffer detached
 * in an isolate makes V8 drop its optimized code that reads typed arrays
 * and check every such read from then on (about a tenth of an ingest's
 * CPU; `tests/server/storage/engine/no_detach_test.ts`).
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
