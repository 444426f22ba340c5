/**
 * `get *`'s reading of `/api/v1/export`, as bytes, without I/O: the body
 * split into lines as it arrives, and each line handed over at once when
 * it is the first of its key, so its data lines can be written while
 * VictoriaMetrics still sends the others. A key in several lines, a line
 * not taken, or a line of another shape (read by `ExportParser`) is kept
 * for the end, as numbers.
 *
 * @module
 */

import { slide } from "../../../internal/grow.ts";
import { combineSeries, compareKeys, ExportParser } from "./export.ts";
import type { StoredSeries } from "./export.ts";
import {
  layoutOf,
  type LineLayout,
  scanExportLine,
  scannedSeries,
} from "./export_scan.ts";

/** A key of the export, and its points unless they were handed over. */
export interface ExportedKey {
  /** Metric name. */
  readonly key: string;
  /**
   * Its points, when they were not handed over whole as one line (the key
   * came in several lines, or unordered); `undefined` otherwise.
   */
  readonly series: StoredSeries | undefined;
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/**
 * Hears of a key's first line with it, and returns whether it took it
 * (wrote its data lines); hears of the key again, without a line, if they
 * cannot stand (another line of it came): the end will give its points.
 */
export type HandOver = (
  key: string,
  line?: Uint8Array,
  layout?: LineLayout,
) => boolean;

/** Reads an export body; see the module documentation. */
export class ExportLines {
  readonly #handOver: HandOver;
  /** Each key's lines; those of other shapes go to #others. */
  readonly #keys = new Map<string, Uint8Array[]>();
  /** Keys handed over whole, as long as no other line of them came. */
  readonly #whole = new Set<string>();
  /** Keys with a line of another shape. */
  readonly #otherKeys = new Set<string>();
  readonly #others: ExportParser;
  /** The start of a line the last chunk ended in. */
  #rest = new Uint8Array(0);
  #restLength = 0;

  /** @param handOver Hears of each key's lines; see {@link HandOver}. */
  constructor(handOver: HandOver) {
    this.#handOver = handOver;
    this.#others = new ExportParser((key) => {
      this.#otherKeys.add(key);
      this.#notWhole(key);
      return false;
    });
  }

  /** Takes a chunk of the body, which may end mid-line. */
  push(chunk: Uint8Array): void {
    let start = 0;
    for (
      let nl = chunk.indexOf(NEWLINE);
      nl !== -1;
      nl = chunk.indexOf(NEWLINE, start)
    ) {
      if (this.#restLength === 0) {
        this.#line(chunk.subarray(start, nl));
      } else {
        // A line of its own: a scanned line keeps pointing into it.
        const line = new Uint8Array(this.#restLength + nl);
        line.set(this.#rest.subarray(0, this.#restLength));
        line.set(chunk.subarray(0, nl), this.#restLength);
        this.#restLength = 0;
        this.#line(line);
      }
      start = nl + 1;
    }
    const tail = chunk.length - start;
    if (tail > 0) {
      this.#rest = slide(this.#rest, 0, this.#restLength, tail);
      this.#rest.set(chunk.subarray(start), this.#restLength);
      this.#restLength += tail;
    }
  }

  /** Ends the body; returns every key, sorted by name. */
  finish(): ExportedKey[] {
    if (this.#restLength > 0) {
      this.#line(this.#rest.slice(0, this.#restLength));
      this.#restLength = 0;
    }
    const others = new Map<string, StoredSeries>();
    const all: ExportedKey[] = [];
    const parts = new Map<string, StoredSeries[]>();
    for (const [key, lines] of this.#keys) {
      if (this.#whole.has(key)) continue;
      const scanned = lines.map(scanExportLine);
      parts.set(
        key,
        scanned.flatMap((line) =>
          line === undefined ? [] : scannedSeries(line)
        ),
      );
      // A line scanned only in part: JSON reads it, or says what is wrong.
      lines.forEach((line, i) => {
        if (scanned[i] === undefined) {
          this.#others.push(`${decoder.decode(line)}\n`);
        }
      });
    }
    for (const series of this.#others.finish()) {
      others.set(series.key, series);
    }
    for (const key of this.#keys.keys()) {
      const other = others.get(key);
      others.delete(key);
      const series = parts.get(key);
      all.push({
        key,
        series: series === undefined ? undefined : combineSeries(
          key,
          other === undefined ? series : [...series, other],
        ),
      });
    }
    for (const [key, series] of others) all.push({ key, series });
    return all.sort((a, b) => compareKeys(a.key, b.key));
  }

  #line(bytes: Uint8Array): void {
    const layout = layoutOf(bytes);
    if (layout === undefined) {
      if (bytes.length > 0) this.#others.push(`${decoder.decode(bytes)}\n`);
      return;
    }
    const { key } = layout;
    const lines = this.#keys.get(key);
    if (lines === undefined) this.#keys.set(key, [bytes]);
    else lines.push(bytes);
    if (lines !== undefined || this.#otherKeys.has(key)) {
      this.#notWhole(key);
    } else if (this.#handOver(key, bytes, layout)) {
      this.#whole.add(key);
    }
  }

  /** `key` has another line: kept for the end. */
  #notWhole(key: string): void {
    this.#whole.delete(key);
    this.#handOver(key);
  }
}
