/**
 * The general-purpose compressors a chunk body may go through, all from
 * `node:zlib` (built into Deno, no native dependency of ours). Each has a
 * fixed id stored in the chunk; the level is the writer's choice and not
 * needed to decompress. Pure computation: no I/O.
 *
 * @module
 */

import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  deflateRawSync,
  inflateRawSync,
  zstdCompressSync,
  zstdDecompressSync,
} from "node:zlib";
import { ChunkError } from "./bytes.ts";

/** A compressor's name, as the options and the bench spell it. */
export type CompressorName = "none" | "deflate" | "brotli" | "zstd";

/** A general-purpose compressor with its id in the chunk format. */
export interface Compressor {
  /** Stored in the chunk's encoding byte (0..3). */
  readonly id: number;
  /** Its name. */
  readonly name: CompressorName;
  /** Compresses `body`; `level` is on the compressor's own scale, `undefined` its default. */
  compress(body: Uint8Array, level?: number): Uint8Array;
  /**
   * The bytes `bytes` decompress to.
   * @throws {ChunkError} when they do not decompress to at most `limit` bytes.
   */
  decompress(bytes: Uint8Array, limit: number): Uint8Array;
}

/** Runs a `node:zlib` decompressor; its errors become {@link ChunkError}s. */
function guarded(
  name: string,
  run: (bytes: Uint8Array, limit: number) => Uint8Array,
): (bytes: Uint8Array, limit: number) => Uint8Array {
  return (bytes, limit) => {
    try {
      return run(bytes, limit);
    } catch (error) {
      throw new ChunkError(`${name} cannot decompress a chunk: ${error}`);
    }
  };
}

/** Every compressor, by id. */
export const COMPRESSORS: readonly Compressor[] = [
  {
    id: 0,
    name: "none",
    compress: (body) => body,
    decompress: (bytes) => bytes,
  },
  {
    id: 1,
    name: "deflate",
    compress: (body, level = 6) => deflateRawSync(body, { level }),
    decompress: guarded(
      "deflate",
      (bytes, limit) => inflateRawSync(bytes, { maxOutputLength: limit }),
    ),
  },
  {
    id: 2,
    name: "brotli",
    compress: (body, level = 5) =>
      brotliCompressSync(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: level,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
    decompress: guarded(
      "brotli",
      (bytes, limit) => brotliDecompressSync(bytes, { maxOutputLength: limit }),
    ),
  },
  {
    id: 3,
    name: "zstd",
    compress: (body, level = 3) => {
      // node:zlib cannot tell zstd the body's size, so zstd would size its
      // tables for a large input: 1 s a call at level 19. Chunks are small.
      const log = Math.min(24, Math.max(10, Math.ceil(Math.log2(body.length))));
      return zstdCompressSync(body, {
        params: {
          [constants.ZSTD_c_compressionLevel]: level,
          [constants.ZSTD_c_windowLog]: log,
          [constants.ZSTD_c_hashLog]: log + 1,
          [constants.ZSTD_c_chainLog]: log,
        },
      });
    },
    decompress: guarded(
      "zstd",
      (bytes, limit) => zstdDecompressSync(bytes, { maxOutputLength: limit }),
    ),
  },
];

/** The compressor called `name`. */
export function compressorNamed(name: CompressorName): Compressor {
  const found = COMPRESSORS.find((c) => c.name === name);
  if (found === undefined) throw new RangeError(`no compressor ${name}`);
  return found;
}
