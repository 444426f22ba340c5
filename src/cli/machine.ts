/**
 * Samples this machine for `metrics collect`: CPU busy percent, load
 * average, memory, disk and network throughput, each name ending in its
 * unit (`_percent`, `_bytes`, `_bytes_per_second`) as Prometheus names do. The `/proc` parsers are pure;
 * {@link MachineSampler} reads the files.
 *
 * @module
 */

import { statfsSync } from "node:fs";
import { cpus } from "node:os";
import type { ImportPoint } from "./import_lines.ts";

/** Cumulative CPU time, from `node:os` `cpus()`. */
export interface CpuTimes {
  /** Milliseconds not idle, all cores. */
  busy: number;
  /** All milliseconds, all cores. */
  total: number;
}

/** Sums the per-core times of `node:os` `cpus()` into busy and total. */
export function cpuTimes(
  cores: readonly { times: Record<string, number> }[],
): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cores) {
    const all = Object.values(times).reduce((a, b) => a + b, 0);
    total += all;
    busy += all - (times.idle ?? 0);
  }
  return { busy, total };
}

/** Total bytes received and sent, from `/proc/net/dev`, loopback excluded. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (rest === undefined || name.trim() === "lo") continue;
    const fields = rest.trim().split(/\s+/).map(Number);
    rx += fields[0];
    tx += fields[8];
  }
  return { rx, tx };
}

/** A metric-name prefix made from a host name: safe characters only. */
export function hostPrefix(hostname: string): string {
  return hostname.replace(/[^\w.-]/g, "_") || "localhost";
}

/**
 * `/proc/net/dev`, or why it cannot be read: Deno 2.9 lets a program read
 * `/proc` and `/sys` files only with `--allow-all`.
 */
async function readNetDev(): Promise<string | Error> {
  try {
    return await Deno.readTextFile("/proc/net/dev");
  } catch (error) {
    return error as Error;
  }
}

/**
 * Takes samples of this machine. CPU percent and network rates are deltas
 * since the previous sample (the first one since {@link MachineSampler.start}).
 */
export class MachineSampler {
  readonly #prefix: string;
  #cpu: CpuTimes | undefined;
  #net: { rx: number; tx: number; at: number } | undefined;
  readonly #notes = new Set<string>();
  readonly #onNote: (note: string) => void;

  private constructor(prefix: string, onNote: (note: string) => void) {
    this.#prefix = prefix;
    this.#onNote = onNote;
  }

  /**
   * Creates a sampler and takes the baseline for the first deltas.
   * `onNote` hears, once each, why a metric cannot be sampled.
   */
  static async start(
    prefix: string,
    onNote: (note: string) => void,
  ): Promise<MachineSampler> {
    const sampler = new MachineSampler(prefix, onNote);
    await sampler.sample(Math.floor(Date.now() / 1000));
    return sampler;
  }

  #note(note: string): void {
    if (this.#notes.has(note)) return;
    this.#notes.add(note);
    this.#onNote(note);
  }

  /** One point per metric, all stamped `timestamp` (Unix seconds). */
  async sample(timestamp: number): Promise<ImportPoint[]> {
    const points: ImportPoint[] = [];
    const add = (name: string, value: number): void => {
      if (Number.isFinite(value)) {
        points.push({
          key: `${this.#prefix}.${name}`,
          value: round(value),
          timestamp,
        });
      }
    };
    const cpu = cpuTimes(cpus());
    if (this.#cpu && cpu.total > this.#cpu.total) {
      add(
        "cpu_percent",
        100 * (cpu.busy - this.#cpu.busy) / (cpu.total - this.#cpu.total),
      );
    }
    this.#cpu = cpu;
    add("load1", Deno.loadavg()[0]);
    const memory = Deno.systemMemoryInfo();
    add("memory_bytes", memory.total - memory.available);
    add(
      "memory_percent",
      100 * (memory.total - memory.available) / memory.total,
    );
    const disk = statfsSync("/");
    add("disk_percent", 100 * (disk.blocks - disk.bfree) / disk.blocks);
    const netText = await readNetDev();
    if (netText instanceof Error) {
      this.#note(
        netText instanceof Deno.errors.NotCapable
          ? "network bytes per second are not sampled: Deno reads /proc/net/dev only with all permissions; to include them, run deno run -A cli.ts demo (or collect)"
          : `network bytes per second are not sampled: ${netText.message}`,
      );
    } else {
      const net = { ...parseNetDev(netText), at: performance.now() };
      if (this.#net && net.at > this.#net.at) {
        const seconds = (net.at - this.#net.at) / 1000;
        add("net.rx_bytes_per_second", (net.rx - this.#net.rx) / seconds);
        add("net.tx_bytes_per_second", (net.tx - this.#net.tx) / seconds);
      }
      this.#net = net;
    }
    return points;
  }
}

/** Three decimals: more is noise and makes long wire lines. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
