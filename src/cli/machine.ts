/**
 * Samples this machine for `metrics collect`: CPU busy percent, load
 * average, memory, disk and network throughput. The `/proc` parsers are pure;
 * {@link MachineSampler} reads the files.
 *
 * @module
 */

import { statfsSync } from "node:fs";
import type { ImportPoint } from "./import_lines.ts";

/** Cumulative CPU jiffies from `/proc/stat`. */
export interface CpuTimes {
  /** Jiffies not idle. */
  busy: number;
  /** All jiffies. */
  total: number;
}

/** Parses the aggregate `cpu` line of `/proc/stat`. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  // Fields 4 and 5 are idle and iowait.
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
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

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined; // not Linux, or no permission: skip that metric
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

  private constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Creates a sampler and takes the baseline for the first deltas. */
  static async start(prefix: string): Promise<MachineSampler> {
    const sampler = new MachineSampler(prefix);
    await sampler.sample(Math.floor(Date.now() / 1000));
    return sampler;
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
    const cpu = parseProcStat(await readOptional("/proc/stat") ?? "");
    if (cpu && this.#cpu && cpu.total > this.#cpu.total) {
      add(
        "cpu",
        100 * (cpu.busy - this.#cpu.busy) / (cpu.total - this.#cpu.total),
      );
    }
    this.#cpu = cpu;
    add("load1", Deno.loadavg()[0]);
    const memory = Deno.systemMemoryInfo();
    add("memory", memory.total - memory.available);
    add(
      "memory_percent",
      100 * (memory.total - memory.available) / memory.total,
    );
    const disk = statfsSync("/");
    add("disk", 100 * (disk.blocks - disk.bfree) / disk.blocks);
    const netText = await readOptional("/proc/net/dev");
    if (netText !== undefined) {
      const net = { ...parseNetDev(netText), at: performance.now() };
      if (this.#net && net.at > this.#net.at) {
        const seconds = (net.at - this.#net.at) / 1000;
        add("net.rx", (net.rx - this.#net.rx) / seconds);
        add("net.tx", (net.tx - this.#net.tx) / seconds);
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
