import { assert, assertEquals } from "@std/assert";
import { wholeLines } from "../../src/cli/import_text.ts";

/** A stream of `bytes` cut into chunks of `size`; `cancelled` once cancelled. */
function chunked(bytes: Uint8Array, size: number) {
  const state = { cancelled: false };
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function pieces(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of wholeLines(stream, new AbortController().signal)) {
    out.push(piece);
  }
  return out;
}

Deno.test("import text comes in pieces of whole lines, however reads cut lines and characters", async () => {
  // The last line is one character, without its "\n".
  const text = "température.é 1 2\r\nk 2 3\n\uFEFFbom.key 1 1\n\nz";
  const bytes = new TextEncoder().encode("\uFEFF" + text);
  for (let size = 1; size <= bytes.length; size++) {
    const got = await pieces(chunked(bytes, size).stream);
    // The BOM at the start is dropped; one inside the text stays.
    assertEquals(got.join(""), text, `reads of ${size} bytes`);
    for (const piece of got.slice(0, -1)) {
      assert(piece.endsWith("\n"), `reads of ${size}: ${JSON.stringify(got)}`);
    }
  }
});

Deno.test("import text stops after the piece it was reading when aborted, and cancels the stream", async () => {
  const lines = "a 1 1\n".repeat(1000);
  // 601 bytes a read: a piece of 100 lines, and one byte of the next left.
  const { stream, state } = chunked(new TextEncoder().encode(lines), 601);
  const abort = new AbortController();
  let read = "";
  for await (const piece of wholeLines(stream, abort.signal)) {
    read += piece;
    abort.abort();
  }
  assertEquals(read, "a 1 1\n".repeat(100));
  assert(state.cancelled);
});

Deno.test("import text ends when aborted while a read waits, however long the input takes", async () => {
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      // One line, then nothing more: the next read waits for good.
      if (pulls++ === 0) {
        controller.enqueue(new TextEncoder().encode("a 1 1\n"));
      }
      return new Promise(() => {});
    },
  });
  const abort = new AbortController();
  const read: string[] = [];
  for await (const piece of wholeLines(stream, abort.signal)) {
    read.push(piece);
    setTimeout(() => abort.abort(), 10);
  }
  assertEquals(read, ["a 1 1\n"]);
});

Deno.test("import text cancels the stream when its reader stops early", async () => {
  const { stream, state } = chunked(
    new TextEncoder().encode("a 1 1\n".repeat(1000)),
    600,
  );
  for await (const _ of wholeLines(stream, new AbortController().signal)) {
    break;
  }
  assert(state.cancelled);
});
