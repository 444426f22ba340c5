/**
 * `host:port` as people write it: an IPv6 address in brackets
 * (`[::1]:8888`), so the port cannot be read as part of the address.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 *
 * formatAddress("::1", 8888); // "[::1]:8888"
 * formatAddress("127.0.0.1", 8888); // "127.0.0.1:8888"
 * ```
 *
 * @module
 */

/** `hostname:port`, with an IPv6 address in brackets. */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") && !hostname.startsWith("[")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}
