/**
 * Address classes: the IPv4 addresses that every block a stack names (VPCs, subnets, rules, routes, fixed addresses) treats alike.
 * One address of a class stands for all of it, so judging one address per class is exact.
 */
import * as ipaddr from "ipaddr.js";

/** Addresses from `start` to `end`, both included, as numbers. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Some addresses of a range that no block tells apart. */
export interface AddressClass {
  /** The range itself when the class is all of it; else the class's first address as a /32, which stands for the rest. */
  readonly range: string;
  /** The addresses it stands for, in words ("10.0.0.0-10.0.0.9, 10.0.0.11-10.0.0.127"). */
  readonly span: string;
}

const toNumber = (ip: ipaddr.IPv4) => ip.toByteArray().reduce((n, byte) => n * 256 + byte, 0);
const toText = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** The addresses of a block. */
function spanOf(cidr: string): Span {
  const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  const start = toNumber(address) - (toNumber(address) % 2 ** (32 - prefix));
  return { start, end: start + 2 ** (32 - prefix) - 1 };
}

const spanText = (s: Span) => (s.start === s.end ? toText(s.start) : `${toText(s.start)}-${toText(s.end)}`);

/** The blocks of a stack, and the classes they cut a range into. */
export class AddressClasses {
  private readonly blocks: Span[];

  /** `cidrs`: every block the stack names; texts that are not IPv4 blocks (prefix lists, ids) are left out. */
  constructor(cidrs: Iterable<string>) {
    const unique = new Set([...cidrs].filter((c) => ipaddr.IPv4.isValidCIDR(c)));
    this.blocks = [...unique].map(spanOf);
  }

  /**
   * The classes of `range`'s addresses, without those `skip` leaves out (an address another place holds, a block that is not
   * outside), in the order of their first address.
   */
  within(range: string, skip: (span: Span) => boolean = () => false): AddressClass[] {
    const outer = spanOf(range);
    const cuts = new Set([outer.start, outer.end + 1]);
    for (const b of this.blocks) {
      if (b.start > outer.start && b.start <= outer.end) cuts.add(b.start);
      if (b.end >= outer.start && b.end < outer.end) cuts.add(b.end + 1);
    }
    const sorted = [...cuts].sort((a, b) => a - b);
    const groups = new Map<string, Span[]>();
    for (let i = 0; i + 1 < sorted.length; i++) {
      const piece = { start: sorted[i], end: sorted[i + 1] - 1 };
      if (skip(piece)) continue;
      const signature = this.blocks.map((b) => (b.start <= piece.start && piece.end <= b.end ? "1" : "0")).join("");
      if (!groups.has(signature)) groups.set(signature, []);
      groups.get(signature)!.push(piece);
    }
    return [...groups.values()].map((spans) => {
      const whole = spans.length === 1 && spans[0].start === outer.start && spans[0].end === outer.end;
      return { range: whole ? range : `${toText(spans[0].start)}/32`, span: spans.map(spanText).join(", ") };
    });
  }
}

/** True when `span` lies in `cidr`. */
export function spanIn(span: Span, cidr: string): boolean {
  const block = spanOf(cidr);
  return block.start <= span.start && span.end <= block.end;
}

/** True when `span` is the single address of the /32 `cidr`. */
export function spanIs(span: Span, cidr: string): boolean {
  const block = spanOf(cidr);
  return block.start === span.start && block.end === span.end;
}
