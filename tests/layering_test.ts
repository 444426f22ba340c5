/**
 * The tree's layering, as README's project layout draws it: imports only
 * point down, and none form a cycle.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s*"(\.[^"]+)"/g;

/** Every `.ts` file under `dir`, relative to the root. */
async function sources(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await sources(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** Each file of `src/` (and the two entry points) and what it imports. */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of ["mod.ts", "cli.ts", ...await sources("src")]) {
    const text = await Deno.readTextFile(join(ROOT, file));
    graph.set(
      file,
      [...text.matchAll(IMPORT)].map((m) =>
        relative(ROOT, join(ROOT, dirname(file), m[1]))
      ),
    );
  }
  return graph;
}

/** What each part of the tree may import, besides itself. */
const MAY_IMPORT: [part: RegExp, allowed: RegExp][] = [
  [/^src\/internal\//, /^src\/internal\//],
  [/^src\/protocol\//, /^src\/protocol\//],
  [/^src\/client\//, /^src\/(client|protocol|internal)\//],
  [/^src\/server\/storage\//, /^src\/(server\/storage|protocol|internal)\//],
  [/^src\/server\//, /^src\/(server|protocol|internal)\//],
  [/^mod\.ts$/, /^src\/(client|protocol)\//],
];

Deno.test("imports point only down the layers README draws", async () => {
  const wrong: string[] = [];
  for (const [file, imports] of await importGraph()) {
    const rule = MAY_IMPORT.find(([part]) => part.test(file));
    if (!rule) continue; // src/cli and cli.ts sit on top of everything
    for (const target of imports) {
      if (!rule[1].test(target)) wrong.push(`${file} -> ${target}`);
    }
  }
  assertEquals(wrong, []);
});

Deno.test("imports form no cycle", async () => {
  const graph = await importGraph();
  const done = new Set<string>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (path.includes(file)) {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  assertEquals(cycles, []);
});

Deno.test("no file under src/ is longer than 450 lines", async () => {
  const long: string[] = [];
  for (const file of await sources("src")) {
    const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n");
    if (lines.length > 451) long.push(`${file}: ${lines.length - 1} lines`);
  }
  assertEquals(long, []);
});
