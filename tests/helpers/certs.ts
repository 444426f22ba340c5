/**
 * Throwaway certificates for TLS tests, made with `openssl` at test time
 * and never written into the repository: a CA and a server certificate
 * for 127.0.0.1 and localhost, a second CA nobody trusts, an expired
 * server certificate and one for another host name.
 *
 * When `openssl` is missing, {@link OPENSSL_MISSING} says why and TLS
 * tests are skipped with that reason printed.
 *
 * @module
 */

import { skipped } from "./skip.ts";

/** A PEM certificate and its key. */
export interface Pair {
  cert: string;
  key: string;
}

/** Every certificate the TLS tests use, as PEM text. */
export interface Certs {
  /** The CA that signed `server`, `expired` and `otherHost`. */
  ca: string;
  /** A CA that signed nothing here. */
  otherCa: string;
  /** Valid for IP 127.0.0.1 and DNS localhost, signed by `ca`. */
  server: Pair;
  /** Like `server`, but expired a day ago. */
  expired: Pair;
  /** Valid only for `other.example`. */
  otherHost: Pair;
  /**
   * Self-signed the usual way (`openssl req -x509 ... -addext
   * subjectAltName=...`), so a CA certificate (CA:TRUE) used as a server's.
   */
  selfSigned: Pair;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `openssl ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
}

/** Why TLS tests cannot run here, or undefined when they can. */
export const OPENSSL_MISSING: string | undefined = await (async () => {
  try {
    await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
      .output();
    return undefined;
  } catch (error) {
    return `openssl is not installed (${
      (error as Error).message
    }): TLS tests skipped; install it with "apt-get install openssl"`;
  }
})();

skipped("TLS tests", OPENSSL_MISSING);

/** `Deno.test` options that skip a TLS test when openssl is missing. */
export const needsOpenssl = { ignore: OPENSSL_MISSING !== undefined } as const;

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=metrics test ${name}`,
  ], dir);
}

async function makeLeaf(
  dir: string,
  name: string,
  san: string,
  days: number,
): Promise<Pair> {
  await openssl([
    "req",
    "-new",
    ...EC_KEY,
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  ], dir);
  await Deno.writeTextFile(`${dir}/${name}.ext`, `subjectAltName=${san}\n`);
  // `-days -1`: valid from now, expired since yesterday.
  await openssl([
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    String(days),
    "-extfile",
    `${name}.ext`,
  ], dir);
  return {
    cert: await Deno.readTextFile(`${dir}/${name}.pem`),
    key: await Deno.readTextFile(`${dir}/${name}.key`),
  };
}

async function makeSelfSigned(dir: string, san: string): Promise<Pair> {
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-nodes",
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    `subjectAltName=${san}`,
  ], dir);
  return {
    cert: await Deno.readTextFile(`${dir}/self.pem`),
    key: await Deno.readTextFile(`${dir}/self.key`),
  };
}

async function generate(): Promise<Certs> {
  const dir = await Deno.makeTempDir({ prefix: "metrics-certs-" });
  try {
    await makeCa(dir, "ca");
    await makeCa(dir, "other-ca");
    const loopback = "IP:127.0.0.1,DNS:localhost";
    return {
      ca: await Deno.readTextFile(`${dir}/ca.pem`),
      otherCa: await Deno.readTextFile(`${dir}/other-ca.pem`),
      server: await makeLeaf(dir, "server", loopback, 2),
      expired: await makeLeaf(dir, "expired", loopback, -1),
      otherHost: await makeLeaf(dir, "other-host", "DNS:other.example", 2),
      selfSigned: await makeSelfSigned(dir, loopback),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

let made: Promise<Certs> | undefined;

/** The certificates, generated once per test process. */
export function certs(): Promise<Certs> {
  return made ??= generate();
}

/** Files holding PEM text, removed on dispose. */
export interface CertFiles extends AsyncDisposable {
  /** The directory they are in. */
  readonly dir: string;
  /** The path of the file named `name`. */
  path(name: string): string;
}

/** Writes each `name: pem` into a fresh temporary directory. */
export async function certFiles(
  files: Record<string, string>,
): Promise<CertFiles> {
  const dir = await Deno.makeTempDir({ prefix: "metrics-certs-" });
  for (const [name, pem] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, pem);
  }
  return {
    dir,
    path: (name) => `${dir}/${name}`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
