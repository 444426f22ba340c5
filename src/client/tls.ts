/**
 * TLS on the client's TCP connection: the handshake under the connect
 * deadline, and certificate failures said in words.
 *
 * @module
 */

/** TLS settings of a client; `caCerts` adds trusted roots. */
export interface TlsOptions {
  /**
   * PEM certificates of CAs to trust besides the system's roots, e.g. a
   * private CA that signed the server's certificate.
   * @default {undefined} the system's roots only
   */
  caCerts?: string[];
}

/** A TLS handshake failed: the message names the problem and the fix. */
export class TlsHandshakeError extends Error {
  /** The certificate was refused: trying again cannot help. */
  readonly permanent: boolean;

  /**
   * @param message What failed and what to do.
   * @param options `cause`: Deno's error; `permanent`: a refused
   * certificate, which no retry mends.
   */
  constructor(
    message: string,
    options?: ErrorOptions & { permanent?: boolean },
  ) {
    super(message, options);
    this.name = "TlsHandshakeError";
    this.permanent = options?.permanent ?? false;
  }
}

/**
 * Whether `error` says the host name could not be resolved: no retry
 * mends a misspelt name.
 */
export function isUnknownHost(error: unknown): boolean {
  return error instanceof Error &&
    /failed to lookup address|Name or service not known/.test(error.message);
}

/**
 * Wraps `conn` in TLS for `hostname` and completes the handshake; aborting
 * `signal` closes the connection and rejects with its reason.
 *
 * @throws {TlsHandshakeError} when the server's certificate is refused or
 * the server does not speak TLS.
 */
export async function startTls(
  conn: Deno.TcpConn,
  hostname: string,
  options: TlsOptions,
  signal: AbortSignal,
): Promise<Deno.TlsConn> {
  let tls: Deno.TlsConn;
  try {
    tls = await Deno.startTls(conn, { hostname, caCerts: options.caCerts });
  } catch (error) {
    conn.close();
    throw new TlsHandshakeError(`TLS: cannot start: ${error}`, {
      cause: error,
    });
  }
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    tls.close();
  };
  signal.addEventListener("abort", close);
  try {
    await tls.handshake();
    return tls;
  } catch (error) {
    close();
    throw signal.aborted ? signal.reason : handshakeError(hostname, error);
  } finally {
    signal.removeEventListener("abort", close);
  }
}

/** Deno's (rustls') handshake errors, in words a user can act on. */
function handshakeError(hostname: string, error: unknown): Error {
  const detail = error instanceof Error ? error.message : String(error);
  const certificate = /invalid peer certificate/.test(detail);
  const words = /CaUsedAsEndEntity/.test(detail)
    ? "the server's certificate is a CA certificate (CA:TRUE), which cannot serve as a server's own: sign a server certificate with that CA (docs/server.md#making-a-certificate shows the openssl commands)"
    : /UnknownIssuer/.test(detail)
    ? "the server's certificate is signed by an unknown CA: trust that CA with the tls.caCerts option (--ca FILE on the command line)"
    : /NotValidForName|not valid for name/.test(detail)
    ? `the server's certificate is not valid for the host name "${hostname}": connect by a name or address the certificate lists`
    : /Expired/.test(detail)
    ? "the server's certificate has expired: the server needs a new one"
    : /NotValidYet/.test(detail)
    ? "the server's certificate is not valid yet: check the clocks"
    : /InvalidContentType|corrupt message/.test(detail)
    ? "the server did not answer in TLS: is this a plain-TCP port? connect without tls"
    : "the TLS handshake failed";
  return new TlsHandshakeError(`TLS: ${words} (${detail})`, {
    cause: error,
    permanent: certificate,
  });
}

/**
 * Whether the first bytes from a server are a TLS record (an alert or a
 * handshake): a plain-TCP client reached a TLS port. No answer of the
 * protocol starts with these bytes.
 */
export function looksLikeTls(chunk: Uint8Array): boolean {
  return chunk.length >= 2 && (chunk[0] === 0x15 || chunk[0] === 0x16) &&
    chunk[1] === 0x03;
}

/** The error a plain connection ends with when the server speaks TLS. */
export function tlsPortError(): Error {
  return new Deno.errors.InvalidData(
    "the server answered in TLS: connect with the tls option (--tls, or METRICS_SERVER=tls://host:port)",
  );
}
