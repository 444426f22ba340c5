import { assertEquals } from "@std/assert";
import { ClientError } from "../../mod.ts";
import { Outbox, type PointSink } from "../../src/cli/outbox.ts";

/** A sink that fails every put while `down`, and records what it stored. */
class FlakySink implements PointSink {
  down = false;
  stored: string[] = [];
  put(
    key: string,
    value: number,
    { timestamp }: { timestamp: number },
  ): Promise<void> {
    if (this.down) return Promise.reject(new ClientError("connection", "down"));
    if (key === "bad") {
      return Promise.reject(new ClientError("server_error", "wrong command"));
    }
    this.stored.push(`${key} ${value} ${timestamp}`);
    return Promise.resolve();
  }
}

const point = (i: number) => ({ key: "k", value: i, timestamp: i });

Deno.test("outbox keeps unacknowledged points, in order, until the sink is back", async () => {
  const sink = new FlakySink();
  const outbox = new Outbox(sink, 100);
  sink.down = true;
  outbox.add([point(1), point(2)]);
  assertEquals((await outbox.flush())?.kind, "connection");
  outbox.add([point(3)]);
  assertEquals(outbox.counts.waiting, 3);
  sink.down = false;
  assertEquals(await outbox.flush(), undefined);
  assertEquals(sink.stored, ["k 1 1", "k 2 2", "k 3 3"]);
  assertEquals(outbox.counts, {
    acknowledged: 3,
    rejected: 0,
    dropped: 0,
    waiting: 0,
  });
});

Deno.test("outbox drops the oldest beyond capacity and counts them", async () => {
  const sink = new FlakySink();
  const outbox = new Outbox(sink, 3);
  sink.down = true;
  outbox.add([point(1), point(2)]);
  await outbox.flush();
  outbox.add([point(3), point(4)]);
  assertEquals(outbox.counts.dropped, 1);
  sink.down = false;
  await outbox.flush();
  assertEquals(sink.stored, ["k 2 2", "k 3 3", "k 4 4"]);
});

Deno.test("outbox does not retry points the server rejected", async () => {
  const sink = new FlakySink();
  const outbox = new Outbox(sink, 10);
  outbox.add([{ key: "bad", value: 1, timestamp: 1 }, point(2)]);
  assertEquals(await outbox.flush(), undefined);
  assertEquals(outbox.counts, {
    acknowledged: 1,
    rejected: 1,
    dropped: 0,
    waiting: 0,
  });
});
