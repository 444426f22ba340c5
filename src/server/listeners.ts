/**
 * The server's sockets: one listener on the configured address, speaking
 * TLS when a certificate is given, and optionally a plain-TCP one kept on
 * 127.0.0.1 for local clients.
 *
 * @module
 */

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
  const { hostname, port, tls, plainPort } = options;
  if (!tls) {
    if (plainPort !== undefined) {
      throw new RangeError(
        "plainPort only applies with tls: without it the main port is plain already",
      );
    }
    return [Deno.listen({ hostname, port })];
  }
  let secure: Deno.Listener;
  try {
    secure = Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key });
  } catch (error) {
    throw certificateError(error);
  }
  if (plainPort === undefined) return [secure];
  try {
    return [secure, Deno.listen({ hostname: PLAIN_HOSTNAME, port: plainPort })];
  } catch (error) {
    secure.close();
    throw error;
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
