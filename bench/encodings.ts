/**
 * Chunk encodings on the storage engine's workloads (issue 21): bytes per
 * point, and encode and decode speed, for each codec and compressor at
 * chunk sizes of 120, 512 and 2,000 points. Every chunk is decoded and
 * compared value by value (`Object.is`) with the generated points before a
 * figure is printed.
 *
 * Sizes count whole chunks: header, payload and CRC-32, but not what a
 * segment adds (key names, the index). Speeds are points per CPU second
 * of this process on the fleet workload (CPU time rather than wall time,
 * so that other processes on a shared machine do not count; the figures
 * still move by tens of percent from run to run); each is the faster of
 * two runs.
 *
 * Flags: `--quick` uses a tenth of the keys.
 *
 * Run: `deno task bench:encodings`
 *
 * @module
 */

import {
  type ChunkOptions,
  decodeChunk,
  type DecodedChunk,
  encodeChunk,
} from "../src/server/storage/chunk/chunk.ts";
import {
  decodeDecimal,
  encodeDecimal,
} from "../src/server/storage/chunk/decimal.ts";
import { ByteReader, ByteWriter } from "../src/server/storage/chunk/bytes.ts";
import { crc32 } from "node:zlib";
import process from "node:process";
import { type Workload, workload, WORKLOAD_NAMES } from "./workloads.ts";

const QUICK = Deno.args.includes("--quick");
const KEYS = QUICK ? 100 : 1000;
/** The other workloads only show bytes per point, which key count does not change. */
const OTHER_KEYS = QUICK ? 50 : 200;
const POINTS = 2000;
const CHUNK_SIZES = [120, 512, 2000];

/** One way to turn a run of points into bytes and back. */
interface Variant {
  readonly name: string;
  encode(
    timestamps: Float64Array,
    values: Float64Array,
  ): Uint8Array | Promise<Uint8Array>;
  decode(bytes: Uint8Array): DecodedChunk | Promise<DecodedChunk>;
}

function chunkVariant(name: string, options: ChunkOptions): Variant {
  return {
    name,
    encode: (timestamps, values) => encodeChunk(timestamps, values, options),
    decode: decodeChunk,
  };
}

async function pipe(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const piped = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(stream);
  return new Uint8Array(await new Response(piped).arrayBuffer());
}

/** Encoding byte of a chunk: decimal codec (2), deflate compressor (1). */
const DECIMAL_DEFLATE = 0x12;

/**
 * The decimal body through the web platform's CompressionStream and
 * DecompressionStream: the same raw DEFLATE as node:zlib's, so the chunk
 * is a regular one (`decodeChunk` reads it), but one async stream per
 * chunk.
 */
const compressionStream: Variant = {
  name: "decimal + deflate, CompressionStream",
  async encode(timestamps, values) {
    const body = encodeDecimal(timestamps, values);
    const out = new ByteWriter();
    out.byte(DECIMAL_DEFLATE);
    out.varint(timestamps.length);
    out.signed(timestamps[0]);
    out.append(await pipe(body, new CompressionStream("deflate-raw")));
    out.uint32(crc32(out.bytes()));
    return out.bytes();
  },
  async decode(bytes) {
    const end = bytes.length - 4;
    const crc = new DataView(bytes.buffer, bytes.byteOffset + end, 4);
    if (crc32(bytes.subarray(0, end)) !== crc.getUint32(0, true)) {
      throw new Error("a chunk fails its CRC-32 check");
    }
    const reader = new ByteReader(bytes.subarray(0, end));
    if (reader.byte() !== DECIMAL_DEFLATE) {
      throw new Error("not decimal+deflate");
    }
    const timestamps = new Float64Array(reader.varint());
    const values = new Float64Array(timestamps.length);
    timestamps[0] = reader.signed();
    const body = await pipe(
      reader.rest(),
      new DecompressionStream("deflate-raw"),
    );
    decodeDecimal(body, timestamps, values);
    return { timestamps, values };
  },
};

const VARIANTS: readonly Variant[] = [
  chunkVariant("gorilla", { codec: "gorilla", compressor: "none" }),
  chunkVariant("gorilla + zstd 3", { codec: "gorilla", compressor: "zstd" }),
  chunkVariant("decimal", { codec: "decimal", compressor: "none" }),
  chunkVariant("decimal + deflate 6", {
    codec: "decimal",
    compressor: "deflate",
  }),
  compressionStream,
  chunkVariant("decimal + brotli 5", {
    codec: "decimal",
    compressor: "brotli",
  }),
  chunkVariant("decimal + zstd 3", { codec: "decimal", compressor: "zstd" }),
  chunkVariant("decimal + zstd 19", {
    codec: "decimal",
    compressor: "zstd",
    level: 19,
  }),
  chunkVariant("packed", { codec: "packed", compressor: "none" }),
  chunkVariant("packed + deflate 6", {
    codec: "packed",
    compressor: "deflate",
  }),
  chunkVariant("packed + zstd 3", { codec: "packed", compressor: "zstd" }),
];

/** One variant on one workload at one chunk size. */
interface Figure {
  readonly bytesPerPoint: number;
  readonly encodePerSecond: number;
  readonly decodePerSecond: number;
}

/** The chunks of every series of `load`, `size` points each (the last shorter). */
function* runs(
  load: Workload,
  size: number,
): Generator<[Float64Array, Float64Array]> {
  for (const { timestamps, values } of load.series) {
    for (let from = 0; from < timestamps.length; from += size) {
      const to = Math.min(from + size, timestamps.length);
      yield [timestamps.subarray(from, to), values.subarray(from, to)];
    }
  }
}

/** CPU seconds (user and system) this process spent since `since`. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
}

/** Encodes and decodes every chunk of `load` once; returns CPU seconds of each. */
async function roundTrip(
  variant: Variant,
  inputs: readonly [Float64Array, Float64Array][],
): Promise<[Uint8Array[], DecodedChunk[], number, number]> {
  const chunks: Uint8Array[] = [];
  let started = process.cpuUsage();
  for (const [timestamps, values] of inputs) {
    chunks.push(await variant.encode(timestamps, values));
  }
  const encodeSeconds = cpuSeconds(started);
  const decoded: DecodedChunk[] = [];
  started = process.cpuUsage();
  for (const chunk of chunks) decoded.push(await variant.decode(chunk));
  return [chunks, decoded, encodeSeconds, cpuSeconds(started)];
}

/** The variant on the workload: sizes, and the faster of two timed runs. */
async function measure(
  variant: Variant,
  load: Workload,
  size: number,
): Promise<Figure> {
  const inputs = [...runs(load, size)];
  const [chunks, decoded, encode1, decode1] = await roundTrip(variant, inputs);
  const [, , encode2, decode2] = await roundTrip(variant, inputs);
  let points = 0;
  let bytes = 0;
  inputs.forEach(([timestamps, values], c) => {
    const back = decoded[c];
    if (back.timestamps.length !== timestamps.length) {
      throw new Error(
        `${variant.name} on ${load.name}: chunk ${c} lost points`,
      );
    }
    for (let i = 0; i < timestamps.length; i++) {
      if (
        back.timestamps[i] !== timestamps[i] ||
        !Object.is(back.values[i], values[i])
      ) {
        throw new Error(
          `${variant.name} on ${load.name}: chunk ${c} point ${i} came back wrong`,
        );
      }
    }
    points += timestamps.length;
    bytes += chunks[c].length;
  });
  return {
    bytesPerPoint: bytes / points,
    encodePerSecond: points / Math.min(encode1, encode2),
    decodePerSecond: points / Math.min(decode1, decode2),
  };
}

function millions(perSecond: number): string {
  return (perSecond / 1e6).toFixed(perSecond < 1e6 ? 2 : 1);
}

async function main(): Promise<void> {
  const loads = WORKLOAD_NAMES.map((name) =>
    workload(name, name === "fleet" ? KEYS : OTHER_KEYS, POINTS)
  );
  // Warm every code path up before timing anything.
  const warm = workload("fleet", 20, POINTS);
  for (const variant of VARIANTS) await measure(variant, warm, 512);

  const others = loads.slice(1);
  const rows: string[] = [
    `| encoding | points per chunk | fleet: B/point | fleet: encode, M points/CPU-s | fleet: decode, M points/CPU-s | ${
      others.map((l) => `${l.name}: B/point`).join(" | ")
    } |`,
    `|---|--:|--:|--:|--:|${others.map(() => "--:").join("|")}|`,
  ];
  for (const size of CHUNK_SIZES) {
    for (const variant of VARIANTS) {
      const figures: Figure[] = [];
      for (const load of loads) {
        figures.push(await measure(variant, load, size));
      }
      const [fleet, ...rest] = figures;
      rows.push(
        `| ${variant.name} | ${size} | ${fleet.bytesPerPoint.toFixed(3)} | ${
          millions(fleet.encodePerSecond)
        } | ${millions(fleet.decodePerSecond)} | ${
          rest.map((f) => f.bytesPerPoint.toFixed(3)).join(" | ")
        } |`,
      );
      console.error(rows.at(-1));
    }
  }
  console.log(
    [
      `Workloads: ${
        loads.map((l) =>
          `${l.name} (${l.description}, ${l.series.length} keys × ${POINTS} points)`
        ).join("; ")
      }.`,
      "Raw: 16 B/point. VictoriaMetrics on the same fleet data: bench/vm_disk.ts.",
      "",
      ...rows,
    ].join("\n"),
  );
}

await main();
