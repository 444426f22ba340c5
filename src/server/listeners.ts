/**
 * The server's sockets: one listener on the configured address, speaking
 * TLS when a certificate is given, and optionally a plain-TCP one kept on
 * 127.0.0.1 for local clients.
 *
 * @module
 */

import { formatAddress } from "../internal/address.ts";

/** A certificate chain and its private key, both PEM text. */
export interface TlsCertificate {
  /** Certificate chain in PEM, the server's own certificate first. */
  cert: string;
  /** The certificate's private key in PEM (PKCS#8, RSA or EC). */
  key: string;
}

/** Where and how to listen. */
export interface ListenerOptions {
  readonly hostname: string;
  readonly port: number;
  readonly tls?: TlsCertificate;
  readonly plainPort?: number;
  /** The option that chose `port`, named when it is in use. */
  readonly option?: string;
}

/** The address a plain port is kept on when TLS guards the main one. */
export const PLAIN_HOSTNAME = "127.0.0.1";

/**
 * Opens the listeners: the main one first, then the plain port if asked.
 *
 * @throws {RangeError} for `plainPort` without `tls`.
 * @throws {Error} naming the problem when the certificate or key cannot be
 * used (not PEM, or not a pair), or an address is in use.
 */
export function openListeners(options: ListenerOptions): Deno.Listener[] {
  const { hostname, port, tls, plainPort, option = "port" } = options;
  if (!tls) {
    if (plainPort !== undefined) {
      throw new RangeError(
        "plainPort only applies with tls: without it the main port is plain already",
      );
    }
    return [listenFor(option, hostname, port, (a) => Deno.listen(a))];
  }
  let secure: Deno.Listener;
  try {
    secure = listenFor(
      option,
      hostname,
      port,
      (address) => Deno.listenTls({ ...address, cert: tls.cert, key: tls.key }),
    );
  } catch (error) {
    throw certificateError(error);
  }
  if (plainPort === undefined) return [secure];
  try {
    return [
      secure,
      listenFor("plainPort", PLAIN_HOSTNAME, plainPort, (a) => Deno.listen(a)),
    ];
  } catch (error) {
    secure.close();
    throw error;
  }
}

/**
 * An address the server was asked to listen on is taken by another socket.
 * It names the option that chose the address, so a caller can say which of
 * its own settings to change. Still a `Deno.errors.AddrInUse`.
 */
export class AddressInUseError extends Deno.errors.AddrInUse {
  /** The option that chose the address: `port`, `plainPort`, `http`. */
  readonly option: string;
  /** The address asked for. */
  readonly hostname: string;
  /** The port asked for. */
  readonly port: number;

  /** The address `hostname:port`, chosen by `option`, is in use. */
  constructor(option: string, hostname: string, port: number, cause: Error) {
    super(
      `cannot listen on ${
        formatAddress(hostname, port)
      } (${option}): the address is in use`,
      { cause },
    );
    this.name = "AddressInUseError";
    this.option = option;
    this.hostname = hostname;
    this.port = port;
  }
}

/**
 * Opens a listener on `hostname:port` with `open`; an address in use
 * becomes an {@link AddressInUseError} naming `option`.
 */
export function listenFor<T>(
  option: string,
  hostname: string,
  port: number,
  open: (address: { hostname: string; port: number }) => T,
): T {
  try {
    return open({ hostname, port });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new AddressInUseError(option, hostname, port, error);
  }
}

/** Deno's certificate errors, said in words. */
function certificateError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  if (error instanceof Deno.errors.AddrInUse) return error;
  const message = error.message;
  const words = /KeyMismatch|not be consistent/.test(message)
    ? "the TLS key does not belong to the certificate"
    : /No certificates found/.test(message)
    ? "the TLS certificate holds no PEM certificate"
    : /No keys found/.test(message)
    ? "the TLS key holds no PEM private key"
    : "the TLS certificate or key cannot be used";
  return new Error(`${words} (${message})`, { cause: error });
}
