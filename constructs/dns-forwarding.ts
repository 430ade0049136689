import { Route53ResolverEndpoint } from "@cdktf/provider-aws/lib/route53-resolver-endpoint";
import { Route53ResolverRule } from "@cdktf/provider-aws/lib/route53-resolver-rule";
import { Route53ResolverRuleAssociation } from "@cdktf/provider-aws/lib/route53-resolver-rule-association";
import { Construct } from "constructs";
import { isIpv4Address } from "../lib/cidr";
import { repeatedForwardProblem, resolverZonesProblem } from "../lib/config/rules";
import { resolverNames } from "../lib/naming";
import type { Network, SubnetSpec } from "./network";
import { Peer, SecurityGroup } from "./security-group";

/** The port DNS servers listen on, over UDP and TCP. */
export const DNS_PORT = 53;

/** A forwarding rule: a domain and the provider's DNS servers that answer it. */
export interface ForwardingRule {
  /** The domain; the rule covers every name under it. */
  readonly domain: string;
  /** The provider's DNS servers. */
  readonly servers: readonly string[];
}

/** Props of {@link DnsForwarding}. */
export interface DnsForwardingProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /** The proxy VPC: the endpoint's addresses lie in its block, the rules are associated with it. */
  readonly network: Network;
  /**
   * Subnets of their own for the endpoint's addresses, with the VPC's route table.
   * @default the network's subnets
   */
  readonly endpointSubnets?: readonly SubnetSpec[];
  /** The domains to forward, each to its servers. */
  readonly rules: readonly ForwardingRule[];
}

/**
 * Names from the provider's side: a Route 53 Resolver outbound endpoint in the proxy subnets and a FORWARD rule per domain on the proxy VPC.
 * The endpoint's addresses are in the dictated block, the only source the provider's DNS accepts; its group lets out DNS to the rules' servers only.
 */
export class DnsForwarding extends Construct {
  /** The outbound endpoint. */
  public readonly endpoint: Route53ResolverEndpoint;
  /** The endpoint's security group. */
  public readonly securityGroup: SecurityGroup;
  /** The rules, by domain. */
  public readonly rules: ReadonlyMap<string, Route53ResolverRule>;

  constructor(scope: Construct, id: string, props: DnsForwardingProps) {
    super(scope, id);
    const { network } = props;
    if (props.rules.length === 0) throw new Error(`DnsForwarding ${id}: rules is empty; give at least one domain to forward`);
    const domains = props.rules.map((r) => r.domain);
    const repeated = domains
      .map((d, i) => ({ domain: d, problem: repeatedForwardProblem(domains, i, (earlier) => `rules[${earlier}]`) }))
      .find((r) => r.problem);
    if (repeated) throw new Error(`DnsForwarding ${id}: domain ${repeated.domain} ${repeated.problem}`);
    const servers = [...new Set(props.rules.flatMap((r) => r.servers))];
    const notAddress = servers.find((s) => !isIpv4Address(s));
    if (notAddress) throw new Error(`DnsForwarding ${id}: server "${notAddress}" is not an IPv4 address`);

    const subnetIds = props.endpointSubnets
      ? props.endpointSubnets.map(
          (spec) =>
            network.addSubnet(this, `Subnet-${spec.availabilityZone}`, spec, resolverNames.subnet(props.environment, spec.availabilityZone))
              .id,
        )
      : network.subnetIds;
    const zones = props.endpointSubnets?.map((s) => s.availabilityZone) ?? network.subnets.map((s) => s.availabilityZoneInput);
    const oneZone = resolverZonesProblem(zones);
    if (oneZone) throw new Error(`DnsForwarding ${id}: the endpoint ${oneZone}`);

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      network,
      name: resolverNames.endpoint(props.environment),
      description: `Route 53 Resolver outbound endpoint of ${props.environment}: DNS to the provider's servers only`,
    });
    for (const server of servers) {
      this.securityGroup.allowUdpOut(Peer.cidr(`${server}/32`), DNS_PORT, `DNS (UDP) to the provider's server ${server}`);
      this.securityGroup.allowTcpOut(Peer.cidr(`${server}/32`), DNS_PORT, `DNS (TCP, large answers) to the provider's server ${server}`);
    }
    this.endpoint = new Route53ResolverEndpoint(this, "Endpoint", {
      name: resolverNames.endpoint(props.environment),
      direction: "OUTBOUND",
      securityGroupIds: [this.securityGroup.securityGroupId],
      ipAddress: subnetIds.map((subnetId) => ({ subnetId })),
      tags: { Name: resolverNames.endpoint(props.environment) },
    });
    const rules = new Map<string, Route53ResolverRule>();
    for (const rule of props.rules) {
      const ruleScope = new Construct(this, `Rule-${rule.domain.replace(/\./g, "_")}`);
      const resource = new Route53ResolverRule(ruleScope, "Rule", {
        name: resolverNames.rule(props.environment, rule.domain),
        domainName: rule.domain,
        ruleType: "FORWARD",
        resolverEndpointId: this.endpoint.id,
        targetIp: rule.servers.map((ip) => ({ ip, port: DNS_PORT })),
        tags: { Name: resolverNames.rule(props.environment, rule.domain) },
      });
      new Route53ResolverRuleAssociation(ruleScope, "Association", {
        resolverRuleId: resource.id,
        vpcId: network.vpcId,
        name: resolverNames.rule(props.environment, rule.domain),
      });
      rules.set(rule.domain, resource);
    }
    this.rules = rules;
  }
}
