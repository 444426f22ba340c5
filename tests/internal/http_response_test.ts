/**
 * An HTTP/1.1 response read from bytes: the head, bodies framed by
 * content-length, chunked or the connection's end, the same whether the
 * bytes come whole, byte by byte or split at any position, and bad input
 * refused with a message saying what is wrong. Pure: no sockets.
 */

import { assertEquals, assertThrows } from "@std/assert";
import {
  HttpResponseError,
  type ResponseHead,
  ResponseParser,
} from "../../src/internal/http_response.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LIMITS = { maxHeadBytes: 1024, maxBodyBytes: 1 << 20 };

interface Read {
  head: ResponseHead | undefined;
  body: string;
  done: boolean;
}

/** Feeds `pieces` (copies, as a socket gives fresh bytes), then the end if `closed`. */
function read(pieces: Uint8Array[], closed = false, limits = LIMITS): Read {
  const parser = new ResponseParser(limits);
  let body = "";
  const bodyDecoder = new TextDecoder();
  for (const piece of pieces) {
    body += bodyDecoder.decode(parser.push(piece.slice()), { stream: true });
  }
  if (closed) parser.end();
  return {
    head: parser.head,
    body: body + bodyDecoder.decode(),
    done: parser.done,
  };
}

/** `bytes` split at every position, and byte by byte: each must read as whole. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [[bytes]];
  for (let at = 0; at <= bytes.length; at++) {
    all.push([bytes.subarray(0, at), bytes.subarray(at)]);
  }
  all.push(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  return all;
}

const CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" +
  "Content-Type: application/json\r\n\r\n" +
  "5\r\nhello\r\n1;name=value\r\n,\r\nA\r\n world!!!!\r\n0\r\nX-Trailer: 1\r\n\r\n";
const LENGTH = "HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\nhello world!";
const CLOSE =
  "HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end";

Deno.test("a chunked body reads the same split at every position and byte by byte", () => {
  for (const pieces of splits(encoder.encode(CHUNKED))) {
    const { head, body, done } = read(pieces);
    assertEquals(body, "hello, world!!!!");
    assertEquals(done, true);
    assertEquals(head?.status, 200);
    assertEquals(head?.keepAlive, true);
    assertEquals(head?.headers.get("content-type"), "application/json");
  }
});

Deno.test("a content-length body reads the same split at every position and byte by byte", () => {
  for (const pieces of splits(encoder.encode(LENGTH))) {
    const { head, body, done } = read(pieces);
    assertEquals([head?.status, body, done], [201, "hello world!", true]);
  }
});

Deno.test("a body without length lasts until the connection closes, and the connection is not kept", () => {
  for (const pieces of splits(encoder.encode(CLOSE))) {
    const { head, body, done } = read(pieces, true);
    assertEquals([head?.status, head?.keepAlive, body, done], [
      200,
      false,
      "until the end",
      true,
    ]);
  }
});

Deno.test("a chunked body is decoded in place, into the bytes it came in", () => {
  const bytes = encoder.encode(CHUNKED);
  const body = new ResponseParser(LIMITS).push(bytes);
  assertEquals(body.buffer, bytes.buffer);
  assertEquals(decoder.decode(body), "hello, world!!!!");
});

Deno.test("204, 304 and answers to HEAD have no body; Connection: close is not kept", () => {
  for (const status of [204, 304]) {
    const { head, body, done } = read([
      encoder.encode(`HTTP/1.1 ${status} X\r\nConnection: close\r\n\r\n`),
    ]);
    assertEquals([head?.status, head?.keepAlive, body, done], [
      status,
      false,
      "",
      true,
    ]);
  }
  const parser = new ResponseParser(LIMITS, "HEAD");
  parser.push(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
  assertEquals(parser.done, true);
});

Deno.test("a response cut short is an error that says where", () => {
  const cases: [string, RegExp][] = [
    ["", /closed before a response/],
    ["HTTP/1.1 200 OK\r\nContent-", /middle of the response head/],
    [LENGTH.slice(0, -3), /middle of the body \(9 of 12 bytes\)/],
    [CHUNKED.slice(0, -20), /middle of the chunked body/],
  ];
  for (const [text, message] of cases) {
    const error = assertThrows(
      () => read([encoder.encode(text)], true),
      HttpResponseError,
    );
    assertEquals(message.test(error.message), true, error.message);
  }
});

Deno.test("malformed responses are refused with a message saying what is wrong", () => {
  const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const cases: [string, RegExp][] = [
    ["HTTP/2 200\r\n\r\n", /status line/],
    ["SSH-2.0-OpenSSH\r\n\r\n", /status line/],
    ["HTTP/1.1 200 OK\r\nbad header\r\n\r\n", /header field is malformed/],
    ["HTTP/1.1 100 Continue\r\n\r\n", /informational/],
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      /unsupported transfer-encoding/,
    ],
    ["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", /not a number/],
    [`${head}zz\r\n`, /not a hexadecimal size/],
    [`${head}\r\n`, /has no size/],
    [`${head}5\nhello\r\n`, /not a hexadecimal size/],
    [`${head}5\r\nhelloXY`, /no CRLF after a chunk/],
    [`${head}${"1".repeat(14)}\r\n`, /not a hexadecimal size/],
    [`${head}1;${"x".repeat(2000)}\r\n`, /longer than 1024 bytes/],
    [`${head}0\r\nX: 1\n\r\n`, /trailer line does not end in CRLF/],
    [`${head}0\r\n\r\nextra`, /after the end of the response/],
    [`${LENGTH}extra`, /after the end of the response/],
  ];
  for (const [text, message] of cases) {
    const error = assertThrows(
      () => read([encoder.encode(text)]),
      HttpResponseError,
    );
    assertEquals(message.test(error.message), true, error.message);
  }
});

Deno.test("a head or body over its limit is refused", () => {
  const limits = { maxHeadBytes: 256, maxBodyBytes: 10 };
  const long = `HTTP/1.1 200 OK\r\nX: ${"a".repeat(300)}\r\n\r\n`;
  assertThrows(
    () => read([encoder.encode(long)], false, limits),
    HttpResponseError,
    "head is longer than 256 bytes",
  );
  // Known from content-length before any byte of the body...
  assertThrows(
    () => read([encoder.encode(LENGTH)], false, limits),
    HttpResponseError,
    "longer than 10 bytes (content-length 12)",
  );
  // ...or only as a chunked body or one without length grows.
  for (const text of [CHUNKED, CLOSE]) {
    for (const pieces of splits(encoder.encode(text))) {
      assertThrows(
        () => read(pieces, true, limits),
        HttpResponseError,
        "body is longer than 10 bytes",
      );
    }
  }
});
