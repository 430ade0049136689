/**
 * The checks every list of subnets in an environment file gets (a VPC's subnets, the Transit
 * Gateway's attachment subnets, the resolver endpoint's subnets), written once: each list says
 * only what its messages call things.
 */
import { cidrsOverlap } from "../cidr";
import { Issue } from "./path-text";
import { repeatedZoneProblem } from "./rules";

/** A list of subnets to check, and the words its messages use. */
export interface SubnetList {
  /** Where the list sits in the environment file, such as ["proxyVpc", "subnets"]. */
  readonly path: readonly (string | number)[];
  readonly subnets: readonly { readonly availabilityZone: string; readonly cidr: string }[];
  /** What is wrong with a subnet's block against the block it must lie in, or undefined. */
  readonly outside: (cidr: string) => string | undefined;
  /** How a message names earlier subnet `j` of the list, whose block is `cidr`. */
  readonly earlier: (j: number, cidr: string) => string;
  /** Blocks of other lists the subnets must keep apart from, and whose subnets need blocks of their own. */
  readonly apart?: { readonly whose: string; readonly blocks: readonly { readonly name: string; readonly cidr: string }[] };
  /**
   * One subnet per zone: "perVpc" says so once per subnet (the VPC rule of lib/config/rules.ts), a
   * function says so for each earlier subnet in the same zone, with its message.
   * @default a zone may hold several subnets of the list
   */
  readonly zones?: "perVpc" | ((j: number) => string);
}

/** Each subnet in the region, inside its block, apart from other lists' blocks, in a zone of its own if asked, disjoint from the earlier ones. */
export function subnetListIssues(region: string, list: SubnetList): Issue[] {
  const issues: Issue[] = [];
  const { subnets, zones, apart } = list;
  subnets.forEach((s, i) => {
    const at = (key: "availabilityZone" | "cidr") => [...list.path, i, key];
    if (!s.availabilityZone.startsWith(region))
      issues.push({ path: at("availabilityZone"), message: `is not in the environment's region ${region}; use a zone such as ${region}a` });
    const outside = list.outside(s.cidr);
    if (outside) issues.push({ path: at("cidr"), message: outside });
    const repeated =
      zones === "perVpc"
        ? repeatedZoneProblem(
            subnets.map((o) => o.availabilityZone),
            i,
          )
        : undefined;
    if (repeated) issues.push({ path: at("availabilityZone"), message: repeated });
    for (const o of apart?.blocks ?? []) {
      if (cidrsOverlap(o.cidr, s.cidr))
        issues.push({ path: at("cidr"), message: `overlaps \`${o.name}\` ${o.cidr}; ${apart!.whose} need blocks of their own` });
    }
    subnets.slice(0, i).forEach((o, j) => {
      if (typeof zones === "function" && o.availabilityZone === s.availabilityZone)
        issues.push({ path: at("availabilityZone"), message: zones(j) });
      if (cidrsOverlap(o.cidr, s.cidr))
        issues.push({ path: at("cidr"), message: `overlaps ${list.earlier(j, o.cidr)}; subnets need disjoint blocks` });
    });
  });
  return issues;
}
