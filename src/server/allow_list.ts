/**
 * Which peers may connect: a list of CIDR blocks (`10.0.0.0/8`,
 * `2001:db8::/32`, `192.0.2.7`) matched byte by byte against a peer's
 * address. IPv4 peers seen through a dual-stack socket (`::ffff:10.1.2.3`)
 * match IPv4 blocks. Pure: no I/O.
 *
 * @module
 */

/** One CIDR block: the network's bytes (4 or 16) and its prefix length. */
export interface Cidr {
  /** The network address, host bits zero: 4 bytes (IPv4) or 16 (IPv6). */
  readonly bytes: Uint8Array;
  /** How many leading bits a peer must share with `bytes`. */
  readonly prefix: number;
}

/** `0`..`255` in decimal, without leading zeros (which some read as octal). */
const OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEXTET = /^[0-9a-f]{1,4}$/i;

function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!OCTET.test(parts[i]) || Number(parts[i]) > 255) return undefined;
    bytes[i] = Number(parts[i]);
  }
  return bytes;
}

/** Eight groups, one `::` run of zero groups, an IPv4 tail allowed. */
function parseIPv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIPv4(part);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (HEXTET.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** `::ffff:a.b.c.d` is the IPv4 address `a.b.c.d` on a dual-stack socket. */
function isMappedIPv4(bytes: Uint8Array): boolean {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) {
    return false;
  }
  return bytes.subarray(0, 10).every((byte) => byte === 0);
}

/**
 * An address's bytes, and whether it was an IPv4-mapped IPv6 one (then
 * only its last 4 bytes are kept).
 */
function parseIp(
  text: string,
): { bytes: Uint8Array; mapped: boolean } | undefined {
  if (!text.includes(":")) {
    const bytes = parseIPv4(text);
    return bytes && { bytes, mapped: false };
  }
  const bytes = parseIPv6(text);
  if (!bytes) return undefined;
  return isMappedIPv4(bytes)
    ? { bytes: bytes.slice(12), mapped: true }
    : { bytes, mapped: false };
}

/**
 * The bytes of an IP address: 4 for IPv4 (also for an IPv4-mapped IPv6
 * address), 16 for IPv6; `undefined` when `text` is not an address. A zone
 * (`fe80::1%eth0`) is ignored.
 */
export function parseAddress(text: string): Uint8Array | undefined {
  return parseIp(text.replace(/%[^%]*$/, ""))?.bytes;
}

/**
 * Parses `ADDRESS/PREFIX`, or `ADDRESS` alone for that one host.
 *
 * @throws {RangeError} when it is not a CIDR block, or has host bits set
 * (`10.1.2.3/8`: the message names the block meant, `10.0.0.0/8`).
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const bits = slash === -1 ? undefined : text.slice(slash + 1);
  const parsed = address.includes("%") ? undefined : parseIp(address);
  const invalid = (): RangeError =>
    new RangeError(
      `invalid CIDR block "${text}": use ADDRESS/PREFIX, e.g. 10.0.0.0/8 or 2001:db8::/32, or one address`,
    );
  if (!parsed) throw invalid();
  const { bytes, mapped } = parsed;
  const max = bytes.length * 8;
  if (bits !== undefined && !OCTET.test(bits)) throw invalid();
  // A mapped block (`::ffff:10.0.0.0/104`) is the IPv4 block `10.0.0.0/8`.
  const prefix = bits === undefined ? max : Number(bits) - (mapped ? 96 : 0);
  if (prefix < 0 || prefix > max) throw invalid();
  const network = bytes.map((byte, i) => byte & maskByte(prefix, i));
  if (network.some((byte, i) => byte !== bytes[i])) {
    throw new RangeError(
      `invalid CIDR block "${text}": the address has bits set past the prefix; did you mean ${
        format(network, prefix)
      }?`,
    );
  }
  return { bytes: network, prefix };
}

/** The mask of byte `i` under a `prefix`-bit prefix. */
function maskByte(prefix: number, i: number): number {
  const bits = Math.max(0, Math.min(8, prefix - 8 * i));
  return (0xff00 >> bits) & 0xff;
}

function format(bytes: Uint8Array, prefix: number): string {
  if (bytes.length === 4) return `${bytes.join(".")}/${prefix}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return `${groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::")}/${prefix}`;
}

/** Whether `address` (4 or 16 bytes) lies in `cidr`. */
export function contains(cidr: Cidr, address: Uint8Array): boolean {
  if (address.length !== cidr.bytes.length) return false;
  for (let i = 0; i * 8 < cidr.prefix; i++) {
    const mask = maskByte(cidr.prefix, i);
    if ((address[i] & mask) !== cidr.bytes[i]) return false;
  }
  return true;
}

/** The peers a server accepts: those in any of its CIDR blocks. */
export class AllowList {
  readonly #blocks: readonly Cidr[];
  /** The blocks as given, for messages. */
  readonly text: string;

  /**
   * @param blocks CIDR blocks; see {@link parseCidr}.
   * @throws {RangeError} for an invalid block, or none at all.
   */
  constructor(blocks: readonly string[]) {
    if (blocks.length === 0) {
      throw new RangeError(
        "an empty allow-list would refuse every peer: give at least one CIDR block",
      );
    }
    this.#blocks = blocks.map(parseCidr);
    this.text = blocks.join(",");
  }

  /** Whether the peer at `address` (as `remoteAddr.hostname`) may connect. */
  allows(address: string): boolean {
    const bytes = parseAddress(address);
    return bytes !== undefined &&
      this.#blocks.some((block) => contains(block, bytes));
  }
}
