import { assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { ClientError, type ClientErrorKind } from "../../src/client/errors.ts";

/** Asserts that `fn` throws a `ClientError` of `kind`, and returns it. */
export function assertKind(
  fn: () => unknown,
  kind: ClientErrorKind,
): ClientError {
  const error = assertThrows(fn);
  assertInstanceOf(error, ClientError);
  assertEquals(error.kind, kind, error.message);
  assertEquals(error.name, "ClientError");
  return error;
}
