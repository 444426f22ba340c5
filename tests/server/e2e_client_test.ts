import { assertEquals } from "@std/assert";
import { Client } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { tempDir } from "../helpers/server.ts";

Deno.test("the project's Client puts and gets through the server", async () => {
  await using server = await serve({ port: 0 });
  await using client = new Client(server.hostname, server.port, { timeout: 5 });
  await client.put("palm.cpu", 0.5, { timestamp: 1150864247 });
  await client.put("palm.cpu", 2.0, { timestamp: 1150864248 });
  await client.put("palm.cpu", 0.5, { timestamp: 1150864248 });
  await client.put("eardrum.cpu", 3, { timestamp: 1150864250 });
  assertEquals(await client.get("palm.cpu"), {
    "palm.cpu": [[1150864247, 0.5], [1150864248, 0.5]],
  });
  assertEquals(await client.get("*"), {
    "palm.cpu": [[1150864247, 0.5], [1150864248, 0.5]],
    "eardrum.cpu": [[1150864250, 3]],
  });
  assertEquals(await client.get("unknown"), {});
});

Deno.test("the project's Client pipelines 10,000 puts into the server", async () => {
  await using server = await serve({ port: 0 });
  await using client = new Client(server.hostname, server.port, {
    timeout: 20,
    maxInFlight: 256,
  });
  const count = 10_000;
  await Promise.all(
    Array.from(
      { length: count },
      (_, i) => client.put(`load.${i % 10}`, i / 8, { timestamp: i }),
    ),
  );
  const expected: Record<string, [number, number][]> = {};
  for (let i = 0; i < count; i++) {
    (expected[`load.${i % 10}`] ??= []).push([i, i / 8]);
  }
  assertEquals({ ...await client.get("*") }, expected);
});

Deno.test("the project's Client gets the points a durable server kept across a restart", async () => {
  await using tmp = await tempDir();
  const dataDir = tmp.path;
  // 5,000 one-point keys and 3 keys of 1,000 points.
  const points = Array.from(
    { length: 8000 },
    (_, i) =>
      i < 5000
        ? { key: `one.${i}`, value: -i, timestamp: 1_700_000_000 + i }
        : { key: `many.${i % 3}`, value: i / 4, timestamp: i },
  );
  {
    await using server = await serve({ port: 0, dataDir, log: () => {} });
    // Pipelined: each batch the server reads waits for one fsync.
    await using client = new Client(server.hostname, server.port, {
      timeout: 20,
      maxInFlight: 256,
    });
    await client.put("kept", 4200000, { timestamp: 1503320872 });
    await client.putMany(points);
  }
  await using server = await serve({ port: 0, dataDir, log: () => {} });
  await using client = new Client(server.hostname, server.port, {
    timeout: 5,
  });
  const expected: Record<string, [number, number][]> = {
    kept: [[1503320872, 4200000]],
  };
  for (const { key, value, timestamp } of points) {
    (expected[key] ??= []).push([timestamp, value]);
  }
  assertEquals({ ...await client.get("*") }, expected);
});
