import { assertEquals } from "@std/assert";
import { ROOT } from "../helpers/server.ts";

/** README.md and every page in docs/. */
async function pages(): Promise<string[]> {
  const found = ["README.md"];
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      found.push(`docs/${entry.name}`);
    }
  }
  return found.sort();
}

/** The text of a page outside its fenced code blocks. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every heading anchor of a page, numbered like GitHub for duplicates. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = anchorOf(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Inline links `[text](target)` and reference definitions `[x]: target`. */
function links(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, "");
  return [
    ...[...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\[[^\]]+\]:\s+(\S+)/gm)].map((m) => m[1]),
  ];
}

Deno.test("anchors follow GitHub's rules", () => {
  assertEquals(
    [...anchors(
      "# The `metrics` command\n## Last write wins\n## Limits\n## Limits\n",
    )],
    ["the-metrics-command", "last-write-wins", "limits", "limits-1"],
  );
});

Deno.test("every relative link in README.md and docs/ resolves, anchors included", async () => {
  const broken: string[] = [];
  for (const page of await pages()) {
    const markdown = await Deno.readTextFile(`${ROOT}${page}`);
    for (const target of links(markdown)) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split("#", 2);
      const file = path === ""
        ? page
        : new URL(path, `file://${ROOT}${page}`).pathname.slice(ROOT.length);
      let text: string;
      try {
        text = await Deno.readTextFile(`${ROOT}${file}`);
      } catch {
        broken.push(`${page}: ${target} (no such file)`);
        continue;
      }
      if (anchor !== undefined && !anchors(text).has(anchor)) {
        broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`);
      }
    }
  }
  assertEquals(broken, []);
});
