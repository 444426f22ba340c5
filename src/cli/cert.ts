/**
 * `metrics cert`: makes a private CA and a server certificate signed by it
 * with `openssl`, the commands docs/server.md gives, so `serve --tls-cert`
 * works at once and clients trust it with `--ca`.
 *
 * @module
 */

import { join } from "node:path";
import { type Command, numberFlag, parseFlags, UsageError } from "./command.ts";
import { requirePermission } from "./permissions.ts";

const FILES = ["ca.pem", "ca.key", "cert.pem", "key.pem"] as const;

const HELP = `Usage: metrics cert [options]

Makes a private CA and a certificate for the server signed by it, with
openssl (needs deno run --allow-run=openssl, as deno task install gives):
  ca.pem     the CA's certificate: give it to clients (--ca ca.pem)
  ca.key     the CA's key: keep it private, it signs more certificates
  cert.pem   the server's certificate (serve --tls-cert cert.pem)
  key.pem    the server's key (serve --tls-key key.pem)
A self-signed certificate alone will not do: clients refuse a CA's
certificate as a server's own. Existing files are never overwritten.

Options:
  --dir DIR           where to write the files (default: .)
  --name NAME[,NAME]  host names and IP addresses clients connect by
                      (default localhost,127.0.0.1)
  --days N            days the server's certificate is valid (default 825)
  -h, --help          show this help

Examples:
  metrics cert
  metrics cert --dir tls --name metrics.example,10.0.0.5
`;

/** `subjectAltName` entries: IP addresses as `IP:`, the rest as `DNS:`. */
export function subjectAltNames(names: readonly string[]): string {
  return names.map((name) =>
    /^[\d.]+$/.test(name) || name.includes(":") ? `IP:${name}` : `DNS:${name}`
  ).join(",");
}

/** Runs `openssl args` in `dir`; its own message when it fails. */
async function openssl(args: string[], dir: string): Promise<void> {
  let output;
  try {
    output = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        'openssl is not installed: install it (e.g. "apt-get install openssl"), or see docs/server.md',
      );
    }
    throw error;
  }
  if (output.code !== 0) {
    const why = new TextDecoder().decode(output.stderr).trim().split("\n")[0];
    throw new Error(`openssl ${args[0]} failed: ${why}`);
  }
}

/** Files of {@link FILES} already in `dir`. */
async function existing(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of FILES) {
    try {
      await Deno.lstat(join(dir, name));
      found.push(name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return found;
}

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, { string: ["dir", "name", "days"] });
  if (flags._.length > 0) {
    throw new UsageError(`unexpected argument "${flags._[0]}"`);
  }
  const dir = flags.dir ?? ".";
  const names = (flags.name ?? "localhost,127.0.0.1").split(",")
    .filter((name) => name !== "");
  if (names.length === 0 || names.some((name) => !/^[\w.:-]+$/.test(name))) {
    throw new UsageError(
      `--name expects host names or IP addresses, comma-separated, got "${flags.name}"`,
    );
  }
  const days = numberFlag("days", flags.days) ?? 825;
  if (!Number.isInteger(days) || days < 1) {
    throw new UsageError(`--days expects a whole number above 0, got ${days}`);
  }
  requirePermission(
    { name: "run", command: "openssl" },
    "run openssl",
    "--allow-run=openssl (the command deno task install makes has it)",
  );
  const taken = await existing(dir);
  if (taken.length > 0) {
    throw new Error(
      `${
        taken.join(", ")
      } already in ${dir}: not overwritten; pick another --dir`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  // Made aside, then moved in: a failure leaves no half-made set in `dir`.
  const work = await Deno.makeTempDir({ dir, prefix: ".metrics-cert-" });
  try {
    const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
    await openssl([
      "req",
      "-x509",
      ...key,
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "3650",
      "-subj",
      "/CN=metrics CA",
    ], work);
    await openssl([
      "req",
      "-new",
      ...key,
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "server.csr",
      "-subj",
      `/CN=${names[0]}`,
    ], work);
    await Deno.writeTextFile(
      join(work, "san.ext"),
      `subjectAltName=${subjectAltNames(names)}\n`,
    );
    await openssl([
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "cert.pem",
      "-days",
      String(days),
      "-extfile",
      "san.ext",
    ], work);
    for (const name of FILES) {
      await Deno.rename(join(work, name), join(dir, name));
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  console.log(
    `wrote ${FILES.map((name) => join(dir, name)).join(", ")}\n` +
      `for ${names.join(", ")}, valid ${days} days:\n` +
      `  metrics serve --tls-cert ${join(dir, "cert.pem")} --tls-key ${
        join(dir, "key.pem")
      }\n` +
      `  clients: --ca ${join(dir, "ca.pem")}`,
  );
  return 0;
}

/** `metrics cert`. */
export const certCommand: Command = {
  name: "cert",
  summary: "make a CA and a server certificate for --tls-cert (openssl)",
  help: HELP,
  run,
};
