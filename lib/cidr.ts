/**
 * IPv4 CIDR helpers on top of ipaddr.js. Everything here is pure and works on strings, so that the
 * config schema, the constructs and the reachability analysis share one implementation.
 */
import * as ipaddr from "ipaddr.js";

/** A parsed IPv4 CIDR block. */
export interface Cidr {
  /** The address part as written. */
  readonly address: ipaddr.IPv4;
  /** The prefix length. */
  readonly prefix: number;
}

/**
 * Why `text` is not a usable IPv4 CIDR block, or undefined when it is one. A block with host bits
 * set is refused with the corrected block in the message.
 */
export function cidrProblem(text: string): string | undefined {
  if (!ipaddr.IPv4.isValidCIDR(text) || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text)) {
    return "is not an IPv4 CIDR block; write it as a.b.c.d/n, for example 10.0.0.0/24";
  }
  const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
  const [address] = text.split("/");
  if (network !== address) {
    return `has host bits set; write ${network}/${text.split("/")[1]}`;
  }
  return undefined;
}

/** Parses a CIDR block that is known to be valid (see {@link cidrProblem}). */
export function parseCidr(text: string): Cidr {
  const [address, prefix] = ipaddr.IPv4.parseCIDR(text);
  return { address, prefix };
}

/** The number of addresses in a block. */
export function cidrSize(text: string): number {
  return 2 ** (32 - parseCidr(text).prefix);
}

/** True when `outer` contains every address of `inner`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return i.prefix >= o.prefix && i.address.match(o.address, o.prefix);
}

/** True when two blocks share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** True when `ip` (a dotted address) lies in `cidr`. */
export function addressInCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  return ipaddr.IPv4.parse(ip).match(c.address, c.prefix);
}

/** True when `text` is a dotted IPv4 address. */
export function isIpv4Address(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

/** The address at `offset` from the start of `cidr` (0 is the network address). */
export function addressAt(cidr: string, offset: number): string {
  const size = cidrSize(cidr);
  if (!Number.isInteger(offset) || offset < 0 || offset >= size) {
    throw new RangeError(`offset ${offset} is outside ${cidr} (${size} addresses)`);
  }
  const base = ipaddr.IPv4.networkAddressFromCIDR(cidr).toByteArray();
  const value = ((base[0] << 24) >>> 0) + (base[1] << 16) + (base[2] << 8) + base[3] + offset;
  return ipaddr.fromByteArray([(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]).toString();
}

/**
 * Why `ip` cannot be a host address in the AWS subnet `cidr`, or undefined when it can. AWS keeps
 * the first four addresses and the last one of every subnet.
 */
export function subnetHostProblem(ip: string, cidr: string): string | undefined {
  if (!addressInCidr(ip, cidr)) {
    return `is outside the subnet ${cidr}`;
  }
  const reserved = [0, 1, 2, 3, cidrSize(cidr) - 1].map((n) => addressAt(cidr, n));
  if (reserved.includes(ip)) {
    return `is one of the addresses AWS reserves in ${cidr} (${reserved.join(", ")}); pick another host address`;
  }
  return undefined;
}

/** The blocks of `cidrs` that no other block of the list contains, without repeats, in order. */
export function outermostBlocks(cidrs: readonly string[]): string[] {
  const unique = [...new Set(cidrs)];
  return unique.filter((c) => !unique.some((other) => other !== c && cidrContains(other, c)));
}
