/**
 * `get *`'s reading of `/api/v1/export`, as bytes, without I/O: the body
 * split into lines as it arrives, each line scanned (`export_scan.ts`)
 * and handed over at once when it is the first of its key, so its data
 * lines can be written while VictoriaMetrics still sends the others. A key
 * in several lines, or a line of another shape (read by `ExportParser`),
 * is kept for the end, as numbers.
 *
 * @module
 */

import { slide } from "../../../internal/grow.ts";
import { combineSeries, compareKeys, ExportParser } from "./export.ts";
import type { StoredSeries } from "./export.ts";
import {
  scanExportLine,
  type ScannedLine,
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

/** Reads an export body; see the module documentation. */
export class ExportLines {
  readonly #handOver: (key: string, line?: ScannedLine) => void;
  /** Each key's scanned lines; those of other shapes go to #others. */
  readonly #keys = new Map<string, ScannedLine[]>();
  /** Keys handed over whole, as long as no other line of them came. */
  readonly #whole = new Set<string>();
  /** Keys with a line of another shape. */
  readonly #otherKeys = new Set<string>();
  readonly #others: ExportParser;
  /** The start of a line the last chunk ended in. */
  #rest = new Uint8Array(0);
  #restLength = 0;

  /**
   * @param handOver Told of each key's first line, with it when it is all
   * of the key so far (in time order); told again, without a line, once
   * {@link ExportLines.finish} will have to give the key's points.
   */
  constructor(handOver: (key: string, line?: ScannedLine) => void) {
    this.#handOver = handOver;
    this.#others = new ExportParser((key) => {
      this.#otherKeys.add(key);
      this.#notWhole(key);
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
    for (const series of this.#others.finish()) {
      others.set(series.key, series);
    }
    const all: ExportedKey[] = [];
    for (const [key, lines] of this.#keys) {
      const other = others.get(key);
      others.delete(key);
      all.push({
        key,
        series: this.#whole.has(key) ? undefined : combineSeries(key, [
          ...lines.map(scannedSeries),
          ...(other === undefined ? [] : [other]),
        ]),
      });
    }
    for (const [key, series] of others) all.push({ key, series });
    return all.sort((a, b) => compareKeys(a.key, b.key));
  }

  #line(bytes: Uint8Array): void {
    const line = scanExportLine(bytes);
    if (line === undefined) {
      if (bytes.length > 0) this.#others.push(`${decoder.decode(bytes)}\n`);
      return;
    }
    const lines = this.#keys.get(line.key);
    if (lines === undefined) this.#keys.set(line.key, [line]);
    else lines.push(line);
    if (
      lines === undefined && line.ascending && !this.#otherKeys.has(line.key)
    ) {
      this.#whole.add(line.key);
      this.#handOver(line.key, line);
    } else {
      this.#notWhole(line.key);
    }
  }

  /** `key` has another line, or one unordered: kept for the end. */
  #notWhole(key: string): void {
    this.#whole.delete(key);
    this.#handOver(key);
  }
}
