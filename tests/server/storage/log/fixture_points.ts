import type { StoredPoint } from "../../../../src/server/storage/storage.ts";

/**
 * The points in `fixtures/v1.log`, one frame per batch. That file was
 * written by the log format's first CRC-32 code (a lookup table); the test
 * beside it keeps every later build byte-compatible with it.
 */
export const BATCHES: StoredPoint[][] = [
  [
    { key: "palm.cpu", timestamp: 1150864247, value: 0.5 },
    { key: "palm.cpu", timestamp: 1150864248, value: 2 },
  ],
  [{ key: "eardrum.memory", timestamp: 1503320872, value: 4200000 }],
  [
    { key: "ключ", timestamp: -1, value: -0 },
    { key: "emoji.🚀", timestamp: 9007199254740991, value: 1e-7 },
    { key: "big", timestamp: 0, value: 1.7976931348623157e308 },
  ],
  Array.from({ length: 300 }, (_, i) => ({
    key: `series.${i % 7}`,
    timestamp: 1_700_000_000 + i,
    value: i * 0.25 - 20,
  })),
];
