import { serve, VictoriaMetricsStore } from "../../../../src/server/mod.ts";
import { assertEquals } from "@std/assert";
import { RawSocket } from "../../../helpers/server.ts";
import {
  byKeyName,
  play,
  PROTOCOL_CASES,
} from "../../../helpers/protocol_cases.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../../../helpers/victoriametrics.ts";

Deno.test({
  name:
    "protocol cases: a front-end on VictoriaMetrics, same answers with no flush",
  ignore: VM_SKIP_REASON !== undefined,
  async fn(t) {
    for (const protocolCase of PROTOCOL_CASES) {
      await t.step(protocolCase.name, async () => {
        await using vm = await VictoriaMetricsProcess.start();
        await using server = await serve({
          port: 0,
          log: () => {},
          storage: await VictoriaMetricsStore.open({ urls: [vm.url] }),
        });
        await play(server.port, protocolCase, "by-name");
      });
    }
  },
});

Deno.test({
  name:
    "protocol cases: read back through a second front-end after force_flush",
  ignore: VM_SKIP_REASON !== undefined,
  async fn(t) {
    for (const protocolCase of PROTOCOL_CASES) {
      await t.step(protocolCase.name, async () => {
        await using vm = await VictoriaMetricsProcess.start();
        await using a = await serve({
          port: 0,
          log: () => {},
          storage: await VictoriaMetricsStore.open({ urls: [vm.url] }),
        });
        await using b = await serve({
          port: 0,
          log: () => {},
          storage: await VictoriaMetricsStore.open({ urls: [vm.url] }),
        });
        // Writes through A; every get of the case is asked of B too, after
        // a flush, and must match the answer A gave.
        await using viaA = await RawSocket.connect(a.port);
        await using viaB = await RawSocket.connect(b.port);
        for (const step of protocolCase.steps) {
          await viaA.send(step.send);
          const expected = step.anyKeyOrder
            ? step.expect.map(byKeyName)
            : step.expect;
          assertEquals(await viaA.responses(expected.length), expected);
        }
        await vm.forceFlush();
        const gets = protocolCase.steps.flatMap((step) => {
          const text = typeof step.send === "string"
            ? step.send
            : new TextDecoder().decode(step.send);
          return text.split("\n").map((line) => line.trim()).filter((line) =>
            /^get\s+\S+$/.test(line)
          );
        });
        if (gets.length === 0) return;
        const requests = gets.map((line) => `${line}\n`).join("");
        await viaA.send(requests);
        await viaB.send(requests);
        assertEquals(
          await viaB.responses(gets.length),
          await viaA.responses(gets.length),
        );
      });
    }
  },
});
