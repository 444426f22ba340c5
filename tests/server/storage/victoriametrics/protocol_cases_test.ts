import { serve, VictoriaMetricsStore } from "../../../../src/server/mod.ts";
import { assertEquals } from "@std/assert";
import { RawSocket } from "../../../helpers/server.ts";
import {
  byKeyName,
  getsOf,
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
        const { requests, count } = getsOf(protocolCase);
        if (count === 0) return;
        await viaA.send(requests);
        await viaB.send(requests);
        assertEquals(
          await viaB.responses(count),
          await viaA.responses(count),
        );
      });
    }
  },
});
