/**
 * The request head, read strictly: what parses, and the status each bad
 * head gets (400, 413, 414, 431, 505). Pure: no sockets.
 */

import { assertEquals, assertThrows } from "@std/assert";
import {
  bodyFraming,
  headEnd,
  HttpError,
  MAX_HEADERS,
  parseHead,
  requestUrl,
  wantsKeepAlive,
} from "../../../src/server/http/head.ts";

const encoder = new TextEncoder();

function head(text: string) {
  return parseHead(encoder.encode(text));
}

/** The status `run` throws with. */
function statusOf(run: () => unknown): number {
  const error = assertThrows(run, HttpError);
  return error.status;
}

Deno.test("a head ends at its blank line, with CRLF or bare LF", () => {
  const bytes = encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /a");
  assertEquals(headEnd(bytes, 0, bytes.length), 27);
  const lf = encoder.encode("GET / HTTP/1.1\nHost: x\n\nrest");
  assertEquals(headEnd(lf, 0, lf.length), 24);
  // Not yet whole: the blank line lies past what was read.
  assertEquals(headEnd(bytes, 0, 26), -1);
  assertEquals(headEnd(encoder.encode("GET / HTTP/1.1\r\n"), 0, 16), -1);
});

Deno.test("the request line and headers parse, names in lower case, repeats joined", () => {
  const parsed = head(
    "\r\nGET /api/keys?limit=5 HTTP/1.1\r\nHost: example\r\nAccept:  a \r\naccept: b\r\n\r\n",
  );
  assertEquals(parsed.method, "GET");
  assertEquals(parsed.target, "/api/keys?limit=5");
  assertEquals(parsed.minor, 1);
  assertEquals(parsed.headers.get("host"), "example");
  assertEquals(parsed.headers.get("accept"), "a, b");
  assertEquals(head("GET / HTTP/1.0\r\n\r\n").minor, 0);
});

Deno.test("a malformed head is a 400", () => {
  for (
    const text of [
      "GET / HTTP/1.1 extra\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET /\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",
      "GET / FTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nNo-colon\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "\r\n\r\n",
    ]
  ) {
    assertEquals(statusOf(() => head(text)), 400, JSON.stringify(text));
  }
});

Deno.test("a version other than HTTP/1.0 and 1.1 is a 505; too many fields a 431", () => {
  assertEquals(statusOf(() => head("GET / HTTP/2.0\r\n\r\n")), 505);
  assertEquals(statusOf(() => head("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), 505);
  const many = Array.from({ length: MAX_HEADERS + 1 }, (_, i) => `X-${i}: 1`);
  assertEquals(
    statusOf(() => head(`GET / HTTP/1.1\r\n${many.join("\r\n")}\r\n\r\n`)),
    431,
  );
});

Deno.test("a bad Host header is a 400, never an exception", () => {
  for (
    const host of [
      "a b",
      "x:99999",
      "[::1",
      "x:abc",
      "999.999.999.999",
      "x%00",
      "xn--",
      "a/b",
      "a@b",
      "",
    ]
  ) {
    const parsed = head(`GET /api/keys HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assertEquals(statusOf(() => requestUrl(parsed)), 400, host);
  }
  assertEquals(statusOf(() => requestUrl(head("GET / HTTP/1.1\r\n\r\n"))), 400);
});

Deno.test("the URL comes from the Host header and an origin or absolute target", () => {
  const url = (text: string) => requestUrl(head(text)).href;
  assertEquals(
    url("GET /api/keys?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"),
    "http://127.0.0.1:8080/api/keys?a=1",
  );
  assertEquals(
    url("GET /x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
    "http://[::1]/x",
  );
  assertEquals(
    url("GET /../deno.json HTTP/1.1\r\nHost: x\r\n\r\n"),
    "http://x/deno.json",
  );
  assertEquals(
    url("GET http://y/metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
    "http://y/metrics",
  );
  // HTTP/1.0 may leave Host out.
  assertEquals(url("GET / HTTP/1.0\r\n\r\n"), "http://localhost/");
  assertEquals(statusOf(() => url("GET * HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
  assertEquals(
    statusOf(() => url(`GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`)),
    414,
  );
});

Deno.test("a body is framed by its length, up to 64 KiB; chunked is told apart; both at once is a 400", () => {
  const framing = (headers: string) =>
    bodyFraming(head(`POST / HTTP/1.1\r\nHost: x\r\n${headers}\r\n`));
  assertEquals(framing(""), { kind: "length", length: 0 });
  assertEquals(framing("Content-Length: 9\r\n"), { kind: "length", length: 9 });
  assertEquals(framing("Transfer-Encoding: chunked\r\n"), { kind: "chunked" });
  assertEquals(statusOf(() => framing("Content-Length: 65537\r\n")), 413);
  assertEquals(statusOf(() => framing("Content-Length: -1\r\n")), 400);
  assertEquals(
    statusOf(() =>
      framing("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n")
    ),
    400,
  );
});

Deno.test("HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told to keep it", () => {
  const keep = (text: string) => wantsKeepAlive(head(text));
  assertEquals(keep("GET / HTTP/1.1\r\n\r\n"), true);
  assertEquals(keep("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"), false);
  assertEquals(keep("GET / HTTP/1.0\r\n\r\n"), false);
  assertEquals(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), true);
});
