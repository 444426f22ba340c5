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

/** Awaits `promise`, asserting it rejects with a ClientError of `kind`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  kind: ClientErrorKind,
): Promise<ClientError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${kind} ClientError, but the call resolved`);
    },
    (e) => e,
  );
  assertInstanceOf(error, ClientError);
  assertEquals(error.name, "ClientError");
  assertEquals(error.kind, kind, error.message);
  return error;
}
