import { assertEquals, assertThrows } from "@std/assert";
import {
  AllowList,
  contains,
  parseAddress,
  parseCidr,
} from "../../src/server/allow_list.ts";
import { LogThrottle } from "../../src/server/log_throttle.ts";

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

Deno.test("allow-list: IPv4 addresses parse to their 4 bytes", () => {
  assertEquals(parseAddress("10.1.2.255"), bytes(10, 1, 2, 255));
  assertEquals(parseAddress("0.0.0.0"), bytes(0, 0, 0, 0));
  for (
    const bad of [
      "10.1.2",
      "10.1.2.3.4",
      "256.0.0.1",
      "01.2.3.4",
      "a.b.c.d",
      "",
      "1..2.3",
    ]
  ) {
    assertEquals(parseAddress(bad), undefined, bad);
  }
});

Deno.test("allow-list: IPv6 addresses parse to their 16 bytes, :: and zones included", () => {
  assertEquals(parseAddress("::1"), bytes(...new Array(15).fill(0), 1));
  assertEquals(parseAddress("::"), new Uint8Array(16));
  assertEquals(
    parseAddress("2001:db8::8:800:200c:417a"),
    bytes(
      0x20,
      0x01,
      0x0d,
      0xb8,
      0,
      0,
      0,
      0,
      0,
      8,
      8,
      0,
      0x20,
      0x0c,
      0x41,
      0x7a,
    ),
  );
  assertEquals(
    parseAddress("fe80::1%eth0"),
    bytes(0xfe, 0x80, ...new Array(13).fill(0), 1),
  );
  for (
    const bad of [
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::",
      ":::",
      "1:2:3:4:5:6:7",
      "g::1",
    ]
  ) {
    assertEquals(parseAddress(bad), undefined, bad);
  }
});

Deno.test("allow-list: an IPv4-mapped IPv6 address is the IPv4 address", () => {
  assertEquals(parseAddress("::ffff:10.1.2.3"), bytes(10, 1, 2, 3));
  assertEquals(parseAddress("::ffff:a01:203"), bytes(10, 1, 2, 3));
  // Not mapped: ::fffe:... stays IPv6.
  assertEquals(parseAddress("::fffe:10.1.2.3")?.length, 16);
});

Deno.test("allow-list: a CIDR block keeps its network bytes and prefix", () => {
  assertEquals(parseCidr("10.0.0.0/8"), {
    bytes: bytes(10, 0, 0, 0),
    prefix: 8,
  });
  assertEquals(parseCidr("192.0.2.7"), {
    bytes: bytes(192, 0, 2, 7),
    prefix: 32,
  });
  assertEquals(parseCidr("::1").prefix, 128);
  assertEquals(
    parseCidr("2001:db8::/32").bytes.subarray(0, 4),
    bytes(0x20, 1, 0x0d, 0xb8),
  );
  // A mapped block is the IPv4 block.
  assertEquals(parseCidr("::ffff:10.0.0.0/104"), {
    bytes: bytes(10, 0, 0, 0),
    prefix: 8,
  });
});

Deno.test("allow-list: an invalid block is a RangeError that shows the form", () => {
  for (
    const bad of [
      "10.0.0.0/33",
      "10.0.0.0/",
      "10.0.0.0/-1",
      "::/129",
      "10.0.0/8",
      "x/8",
      "10.0.0.0/08",
      "::ffff:10.0.0.0/95",
    ]
  ) {
    assertThrows(() => parseCidr(bad), RangeError, "ADDRESS/PREFIX", bad);
  }
});

Deno.test("allow-list: host bits past the prefix are refused, naming the block meant", () => {
  assertThrows(
    () => parseCidr("10.1.2.3/8"),
    RangeError,
    "did you mean 10.0.0.0/8?",
  );
  assertThrows(
    () => parseCidr("2001:db8::1/32"),
    RangeError,
    "did you mean 2001:db8::/32?",
  );
  assertEquals(parseCidr("10.0.0.128/25").prefix, 25);
  assertThrows(() => parseCidr("10.0.0.192/25"), RangeError, "10.0.0.128/25");
});

Deno.test("allow-list: containment is decided bit by bit, at byte and mid-byte prefixes", () => {
  const block = parseCidr("10.0.0.128/25");
  assertEquals(contains(block, bytes(10, 0, 0, 128)), true);
  assertEquals(contains(block, bytes(10, 0, 0, 255)), true);
  assertEquals(contains(block, bytes(10, 0, 0, 127)), false);
  assertEquals(contains(block, bytes(10, 0, 1, 128)), false);
  const all = parseCidr("0.0.0.0/0");
  assertEquals(contains(all, bytes(255, 255, 255, 255)), true);
  // No family matches the other's block.
  assertEquals(contains(all, new Uint8Array(16)), false);
  const v6 = parseCidr("2001:db8:8000::/33");
  assertEquals(contains(v6, parseAddress("2001:db8:8000::1")!), true);
  assertEquals(contains(v6, parseAddress("2001:db8:7fff::1")!), false);
});

Deno.test("allow-list: a peer is allowed when any block holds it, IPv4 peers on a dual-stack socket included", () => {
  const list = new AllowList(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]);
  assertEquals(list.allows("10.255.0.1"), true);
  assertEquals(list.allows("::ffff:10.255.0.1"), true);
  assertEquals(list.allows("192.0.2.7"), true);
  assertEquals(list.allows("192.0.2.8"), false);
  assertEquals(list.allows("2001:db8:1::5"), true);
  assertEquals(list.allows("2001:db9::5"), false);
  assertEquals(list.allows("11.0.0.1"), false);
  assertEquals(list.allows("not an address"), false);
  assertEquals(list.text, "10.0.0.0/8,192.0.2.7,2001:db8::/32");
});

Deno.test("allow-list: an empty list is refused instead of locking everyone out", () => {
  assertThrows(() => new AllowList([]), RangeError, "at least one CIDR block");
});

Deno.test("log throttle: an address is logged once per period, each address on its own", () => {
  const throttle = new LogThrottle(60_000);
  assertEquals(throttle.shouldLog("10.0.0.1", 0), true);
  assertEquals(throttle.shouldLog("10.0.0.1", 59_999), false);
  assertEquals(throttle.shouldLog("10.0.0.2", 59_999), true);
  assertEquals(throttle.shouldLog("10.0.0.1", 60_000), true);
  assertEquals(throttle.shouldLog("10.0.0.1", 60_001), false);
});

Deno.test("log throttle: it remembers a bounded number of addresses, forgetting expired ones first", () => {
  const throttle = new LogThrottle(1000, 2);
  assertEquals(throttle.shouldLog("a", 0), true);
  assertEquals(throttle.shouldLog("b", 500), true);
  // Full of fresh addresses: a new one is not logged.
  assertEquals(throttle.shouldLog("c", 900), false);
  // "a" expired: it is forgotten, "c" takes its place.
  assertEquals(throttle.shouldLog("c", 1000), true);
  assertEquals(throttle.shouldLog("b", 1000), false);
});
