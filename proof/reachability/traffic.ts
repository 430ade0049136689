/**
 * Traffic classes: each protocol, and for TCP and UDP the port ranges that no security group rule, network ACL rule or load
 * balancer listener tells apart. One port of a class stands for all of it, so judging one port per class is exact.
 */
import { Protocol, protocolName } from "./analysis";
import { Model } from "./model";

/** A protocol, and for TCP and UDP a range of ports that every rule treats alike. */
export interface TrafficClass {
  readonly protocol: Protocol;
  readonly fromPort: number;
  readonly toPort: number;
  /** "tcp 80", "tcp 1024-3127", "icmp", "any other protocol". */
  readonly label: string;
}

/** The highest port. */
const LAST_PORT = 65535;

/** The protocol and port ranges the model's rules and listeners name, with the protocol field each gives. */
function namedRanges(model: Model): { protocol: unknown; fromPort: number; toPort: number }[] {
  const rules = [...model.groups.values()].flatMap((g) => [...g.ingress, ...g.egress]);
  const acls = [...new Set(model.naclOfSubnet.values())].flatMap((a) => a.rules);
  const listeners = [...model.frontends.values()].flatMap((f) =>
    [...f.listeners].flatMap(([port, l]) => [
      { protocol: "tcp", fromPort: port, toPort: port },
      { protocol: "tcp", fromPort: l.targetPort, toPort: l.targetPort },
    ]),
  );
  return [...rules, ...acls, ...listeners];
}

/** The port ranges of `protocol` (tcp or udp) that the named ranges cut 0-65535 into. */
function portClasses(ranges: ReturnType<typeof namedRanges>, protocol: "tcp" | "udp"): TrafficClass[] {
  const cuts = new Set([0, LAST_PORT + 1]);
  for (const r of ranges) {
    if (protocolName(r.protocol) !== protocol) continue;
    for (const cut of [r.fromPort, r.toPort + 1]) if (cut > 0 && cut <= LAST_PORT) cuts.add(cut);
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  return sorted.slice(0, -1).map((fromPort, i) => {
    const toPort = sorted[i + 1] - 1;
    return { protocol, fromPort, toPort, label: `${protocol} ${fromPort === toPort ? fromPort : `${fromPort}-${toPort}`}` };
  });
}

/**
 * Every traffic class of the model: TCP and UDP port classes, each other protocol a rule names, and "other" (a protocol no rule
 * names, which only an all-traffic rule carries).
 */
export function trafficClasses(model: Model): TrafficClass[] {
  const ranges = namedRanges(model);
  const others = [...new Set(ranges.map((r) => protocolName(r.protocol)))].filter((p) => !["tcp", "udp", "all"].includes(p)).sort();
  return [
    ...portClasses(ranges, "tcp"),
    ...portClasses(ranges, "udp"),
    ...others.map((protocol) => ({ protocol, fromPort: 0, toPort: 0, label: protocol })),
    { protocol: "other", fromPort: 0, toPort: 0, label: "any other protocol" },
  ];
}

/** True when every port of `traffic` is in `ports` over `protocol`. */
export function onlyPorts(traffic: TrafficClass, protocol: Protocol, ports: readonly number[]): boolean {
  if (traffic.protocol !== protocol) return false;
  for (let p = traffic.fromPort; p <= traffic.toPort; p++) if (!ports.includes(p)) return false;
  return true;
}

/** The class of `protocol` `port` among `classes`. */
export function classOf(classes: readonly TrafficClass[], protocol: Protocol, port: number): TrafficClass | undefined {
  return classes.find((c) => c.protocol === protocol && c.fromPort <= port && port <= c.toPort);
}
